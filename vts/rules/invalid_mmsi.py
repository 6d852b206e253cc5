"""invalid_mmsi: a vessel transmitting under an MMSI that cannot be a real station identity.

Flagged (event, once per MMSI): not nine digits, a known placeholder (000000000, 111111111,
123456789, 1193046 ...), a ship MMSI whose MID no country holds, or a number that matches no
ITU-R M.585 format. Special formats are recognised, not flagged: coast stations (00MID), groups
(0MID), SAR aircraft (111MID), AtoN (99MID), craft of a parent ship (98MID), handheld radios
(8MID), SART/MOB/EPIRB (970/972/974, handled by the distress rule), autonomous maritime radio
devices of group B (979: fishing-net buoys and the like). A Class B transponder (types 18, 19, 24)
under a SART/MOB/EPIRB number is flagged: no such device sends those messages (fishing-net buoys
misuse the numbers), and the distress rule does not raise an emergency for it. A vessel's position
or static report (types 1-3, 5, 18, 19, 24) under a group number is flagged too: a group call
identity addresses a group of ships and is no station's own, and as an integer it is an MMSI of
eight digits, the transponder's number entered with one digit missing (the recorded logs hold
such vessels: 31423000, 52500000 and 53365000 in the AMSA log, 24466031 and 32310738 in the Danish
one, 36994760 in aisparser's).

Judged on the reports that describe a vessel (position and static data), not on a safety text
message (types 12 and 14) alone: such a message carries no position, and one under a number no
station uses is, in practice, a corrupted reception (random MMSI, garbled text) rather than a
transmitter the operator could find. The same MMSI's first position or static report is flagged.

A vessel flagged before a restart and heard again before the tracker would have forgotten it is not
flagged again (`save_state`).

Severity `caution`; `warning` when the vessel is (or later is confirmed) inside a security,
restricted or protected zone; that later entry gives one more event.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from vts.mid import DISTRESS_KINDS, MIDS
from vts.reports import Report, SafetyReport
from vts.rules._common import (
    PLACEHOLDER_ARRAY,
    mmsi_info,
)
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import InvalidMmsiParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState
    from vts.zones import ZoneEvent

SENSITIVE_ZONE_KINDS = frozenset({"security_zone", "restricted", "protected"})

BAD_PREFIX = 1
"""Bit of `_prefix_table`: no valid MMSI starts with these six digits."""
HAS_DUMMY = 2
"""Bit of `_prefix_table`: a placeholder MMSI (`DUMMY_MMSIS`) starts with these six digits."""


@functools.cache
def _prefix_table() -> np.ndarray:
    """Per six-digit prefix (MMSI // 1000 of a nine-digit MMSI, read zero-padded): `BAD_PREFIX`
    when `classify_mmsi` finds a problem with every MMSI so starting, `HAS_DUMMY` when a placeholder
    starts so. The kind and the MID of every format are read off the first six digits, so the prefix
    decides everything but the placeholders. Built once: every prefix is bad but the ranges of the
    valid formats, cleared one assigned MID at a time (`classify_mmsi`'s formats, as slices)."""
    table = np.full(1_000_000, BAD_PREFIX, dtype=np.uint8)  # index: digits d1..d6
    for prefix in (970, 972, 974, 979):  # SART, MOB, EPIRB, AMRD group B: valid whatever follows
        table[prefix * 1000 : (prefix + 1) * 1000] = 0
    for mid in MIDS:  # 201-775
        table[mid * 1000 : (mid + 1) * 1000] = 0  # MIDxxxxxx ship
        table[mid * 10 : (mid + 1) * 10] = 0  # 00MIDxxxx coast station
        table[mid * 100 : (mid + 1) * 100] = 0  # 0MIDxxxxx group
        table[111_000 + mid] = 0  # 111MIDxxx SAR aircraft
        table[990_000 + mid * 10 : 990_000 + (mid + 1) * 10] = 0  # 99MIDxxxx AtoN
        table[980_000 + mid * 10 : 980_000 + (mid + 1) * 10] = 0  # 98MIDxxxx auxiliary craft
        table[800_000 + mid * 100 : 800_000 + (mid + 1) * 100] = 0  # 8MIDxxxxx handheld
    dummies = PLACEHOLDER_ARRAY
    table[dummies[(dummies >= 0) & (dummies <= 999_999_999)] // 1000] |= HAS_DUMMY
    return table


def invalid_mmsi_mask(mmsi: np.ndarray) -> np.ndarray:
    """`classify_mmsi(m).problem is not None` for every element (exact for any integer): one look-up
    in `_prefix_table`, and an exact placeholder test for the rare rows whose prefix holds one."""
    return _table_rows(mmsi, _packed_tables(False))


def interest_rows(mmsi: np.ndarray) -> np.ndarray:
    """`invalid_mmsi_mask(mmsi) | distress_device_rows(mmsi) | group_rows(mmsi)` (the rule's mask),
    with the same one look-up: both ranges are ranges of prefixes, marked in the table."""
    return _table_rows(mmsi, _packed_tables(True))


def _table_rows(mmsi: np.ndarray, tables: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The rows whose prefix is marked in the first table of `_packed_tables`, or that are a
    placeholder under a prefix marked in the second."""
    mmsi = np.asarray(mmsi, dtype=np.int64)
    if not len(mmsi):
        return np.zeros(0, dtype=bool)
    marked, dummy = tables
    # A number outside 0-999,999,999 reads the extra last prefix, 1,000,000 (marked): read as
    # unsigned, a negative number is over 2**63, and any number over the range divides to more.
    prefix = np.minimum(mmsi.view(np.uint64) // 1000, OUTSIDE_PREFIX)
    byte, bit = prefix >> 3, (prefix & 7).astype(np.uint8)
    out: np.ndarray = ((marked[byte] >> bit) & 1).astype(bool)
    maybe = np.flatnonzero((dummy[byte] >> bit) & 1)
    if len(maybe):
        m = mmsi[maybe]
        at = np.minimum(np.searchsorted(PLACEHOLDER_ARRAY, m), len(PLACEHOLDER_ARRAY) - 1)
        out[maybe] |= PLACEHOLDER_ARRAY[at] == m
    return out


OUTSIDE_PREFIX = 1_000_000
"""The prefix `_table_rows` reads for a number that is not a nine-digit MMSI (negative or too big)."""


@functools.cache
def _packed_tables(interest: bool) -> tuple[np.ndarray, np.ndarray]:
    """`_prefix_table`'s two bits packed eight prefixes to a byte (125 kB each instead of 1 MB: the
    look-ups of a batch stay in the CPU cache while the tracker runs between batches), with one
    more prefix at the end, `OUTSIDE_PREFIX` (marked bad). The placeholder bit is kept only where
    the prefix is not marked already (the exact test is then needed for the rare row alone). With
    `interest`, the prefixes of `distress_device_rows` and `group_rows` are marked too."""
    table = _prefix_table()
    marked = np.append((table & BAD_PREFIX) != 0, True)
    if interest:
        marked[10_000:100_000] = True  # group_rows: 10,000,000-99,999,999
        for prefix in (970, 972, 974):  # distress_device_rows
            marked[prefix * 1000 : (prefix + 1) * 1000] = True
    dummy = np.append((table & HAS_DUMMY) != 0, False) & ~marked
    return np.packbits(marked, bitorder="little"), np.packbits(dummy, bitorder="little")


class InvalidMmsiRule(Rule):
    id = "invalid_mmsi"
    Params = InvalidMmsiParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: InvalidMmsiParams = params  # type: ignore[assignment]
        self._flagged: set[int] = set()
        self._escalated: set[int] = set()
        self._restored: dict[int, tuple[float, bool]] = {}
        """Flagged before a restart (`load_state`), not heard since: MMSI -> (last heard, escalated)."""

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Only reports under an invalid MMSI: for a valid one `on_report` returns without a change
        (`_flagged` only ever holds invalid MMSIs). `invalid_mmsi_mask` is `classify_mmsi` in numpy,
        exact for every integer (tests compare them); and the reports under a distress-device or a
        group number (`_problem` looks at their message type). Safety messages in the mask are let through and
        ignored by `on_report`. One table look-up for all three (`interest_rows`)."""
        return interest_rows(batch.mmsi)

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        if (
            vessel is None
            or report.own_ship
            or vessel.is_shadow
            or vessel.mmsi in self._flagged
            or isinstance(report, SafetyReport)
        ):
            return
        if self._restored and self._was_flagged(vessel.mmsi, report.time, ctx):
            return
        problem = _problem(vessel.mmsi, report)
        if problem is None:
            return
        self._flagged.add(vessel.mmsi)
        zone = self._sensitive_zone(vessel.mmsi, ctx) if self.p.escalate_in_sensitive_zones else None
        if zone is not None:
            self._escalated.add(vessel.mmsi)
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning" if zone else "caution",
            message=f"Invalid MMSI {vessel.mmsi:09d}: {problem}",
            lat=vessel.lat,
            lon=vessel.lon,
            zone=zone,
            details={
                "problem": problem,
                "mmsi_digits": f"{vessel.mmsi:09d}",
                "msg_type": report.msg_type,
            },
        )

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if (
            not self.p.escalate_in_sensitive_zones
            or event.kind != "entry"
            or vessel.mmsi not in self._flagged
            or vessel.mmsi in self._escalated
        ):
            return
        kind = _zone_kind(event.zone_id, ctx)
        if kind not in SENSITIVE_ZONE_KINDS:
            return
        self._escalated.add(vessel.mmsi)
        problem = mmsi_info(vessel.mmsi).problem or _CLASS_B_DISTRESS
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning",
            message=f"Invalid MMSI {vessel.mmsi:09d} entered {event.zone_id}: {problem}",
            lat=event.lat,
            lon=event.lon,
            zone=event.zone_id,
            details={"problem": problem, "mmsi_digits": f"{vessel.mmsi:09d}", "zone_kind": kind},
        )

    def _sensitive_zone(self, mmsi: int, ctx: RuleContext) -> str | None:
        for zone_id in sorted(ctx.zones.zones_of(mmsi)):
            if _zone_kind(zone_id, ctx) in SENSITIVE_ZONE_KINDS:
                return zone_id
        return None

    def _was_flagged(self, mmsi: int, t: float, ctx: RuleContext) -> bool:
        """The vessel was flagged before a restart and is heard again before the tracker would have
        forgotten it, had vts kept running: it is flagged still, with no second event."""
        restored = self._restored.pop(mmsi, None)
        if restored is None or t - restored[0] > ctx.tracker.settings.forget_after_s:
            return False
        self._flagged.add(mmsi)
        if restored[1]:
            self._escalated.add(mmsi)
        return True

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._flagged.discard(mmsi)
        self._escalated.discard(mmsi)

    def save_state(self, ctx: RuleContext) -> dict[str, Any]:
        """The flagged vessels still tracked, with when they were last heard: after a restart, one
        heard again before the tracker would have forgotten it is not flagged a second time."""
        flagged: dict[int, tuple[float, bool]] = {}
        for mmsi in self._flagged:
            vessel = ctx.tracker.get(mmsi)
            if vessel is not None:
                flagged[mmsi] = (vessel.last_seen, mmsi in self._escalated)
        horizon = ctx.now - ctx.tracker.settings.forget_after_s
        for mmsi, (heard, escalated) in self._restored.items():
            if heard >= horizon and mmsi not in flagged:
                flagged[mmsi] = (heard, escalated)
        return {"flagged": [[m, heard, esc] for m, (heard, esc) in sorted(flagged.items())]}

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        horizon = ctx.now - ctx.tracker.settings.forget_after_s
        self._restored = {
            int(mmsi): (float(heard), bool(escalated))
            for mmsi, heard, escalated in state.get("flagged", [])
            if float(heard) >= horizon
        }


CLASS_B_MESSAGES = frozenset({18, 19, 24})
_CLASS_B_DISTRESS = (
    "a distress-device number (AIS-SART / MOB / EPIRB) on a Class B transponder, which no such device "
    "is (fishing-net buoys misuse these numbers)"
)


VESSEL_MESSAGES = frozenset({1, 2, 3, 5, 18, 19, 24})
"""A vessel's own position and static reports."""
_GROUP_AS_VESSEL = (
    "a group call number (0MIDxxxxx), which no station transmits as its own: "
    "an MMSI entered with eight digits"
)


def group_rows(mmsi: np.ndarray) -> np.ndarray:
    """Rows under a number of the group format's range (0 and eight digits: 10,000,000-99,999,999)."""
    mmsi = np.asarray(mmsi, dtype=np.int64)
    return (mmsi >= 10_000_000) & (mmsi < 100_000_000)


def _problem(mmsi: int, report: Report) -> str | None:
    """Why the MMSI cannot be this station's identity, or None: the number itself
    (`classify_mmsi`), a distress-device number sending what no distress device sends, or a group
    call number sending a vessel's reports."""
    info = mmsi_info(mmsi)
    if info.problem is None and info.kind in DISTRESS_KINDS:
        return _CLASS_B_DISTRESS if report.msg_type in CLASS_B_MESSAGES else None
    if info.problem is None and info.kind == "group":
        return _GROUP_AS_VESSEL if report.msg_type in VESSEL_MESSAGES else None
    return info.problem


def _zone_kind(zone_id: str, ctx: RuleContext) -> str | None:
    try:
        return str(ctx.zones.zone(zone_id).kind)
    except (KeyError, LookupError):
        return None


RULE = InvalidMmsiRule
