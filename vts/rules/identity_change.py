"""identity_change: the identity a vessel broadcasts changes under one MMSI, or its IMO number is false.

Watched fields: name, call sign, IMO number, ship type, and dimensions (overall length and beam:
the antenna offsets alone may move when a ship switches GPS source, so only the hull size counts).
A field is compared only when the new report carries it (type 24 part A has only the name, part B
only the rest), "not available" values (None, IMO 0, type 0, dimensions 0) never count, and names
are compared after trimming and collapsing spaces. Of a ship type whose second digit is the
hazardous-cargo category (2x WIG, 4x HSC, 6x passenger, 7x cargo, 8x tanker, 9x other) only the
first digit counts: the category is voyage data, set per cargo (IMO Res. A.1106(29)); and a tug
declares towing (31, 32) while it tows, tug (52) otherwise. One event per static report, listing
every changed field; a change back to an earlier value (two ships alternating under one MMSI) is
not reported again for the same pair of values. What an MMSI declared is remembered `memory_days`
after its last static report, beyond the tracker forgetting the vessel: a ship that leaves
coverage and comes back under another name is a change too, and so is one that does so while vts
is restarted (what was declared is kept over a restart, `save_state`).

The IMO number field (ITU-R M.1371-5, message 5) holds 0 (not available), 1-999999 (not used), an
IMO number (1000000-9999999) or, for a ship without one, an official flag state number
(10000000-1073741823, no check digit). An IMO number whose check digit fails is reported once per
value (within the change event when the same report changes the identity), and so is an unused
value on a large vessel (which must have an IMO number; small craft put a registration number or a
made-up one there); a flag state number is not an IMO number and is never reported. The same valid
IMO number claimed by a second MMSI while the first is still known is reported too. Placeholder
MMSIs (000000000, 1193046 ...) are left alone: unrelated transmitters share them, and invalid_mmsi
reports them.

Severity: `warning` for name, call sign and IMO changes and for a shared IMO; `caution` for ship
type or dimension changes alone and for a large vessel's IMO number that fails its check digit;
`info` for the same on other craft (fishing boats and small domestic craft often carry a made-up
IMO number, which the IMO scheme does not require of them).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from vts.alerts.model import Severity
from vts.batch import STATIC
from vts.reports import StaticReport
from vts.rules._common import is_placeholder_mmsi, most_severe
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import IdentityChangeParams
from vts.vessel_class import is_large_vessel

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState

STRONG_FIELDS = ("name", "callsign", "imo")
_RAW_FIELDS = attrgetter(
    "name", "callsign", "imo", "ship_type", "to_bow", "to_stern", "to_port", "to_starboard"
)
"""The report fields `IdentityChangeRule._observed` reads: equal tuples give equal observations."""
MEMO_MAX = 100_000
IMO_MIN = 1_000_000
"""The smallest IMO number; M.1371-5 leaves 1-999999 unused."""
FLAG_STATE_NUMBER_MIN = 10_000_000
"""From here up the IMO field holds an official flag state number (M.1371-5 Table 50): no check digit."""
HAZARD_DIGIT_TYPES = frozenset({2, 4, 6, 7, 8, 9})
"""First digits of the AIS ship types whose second digit is the hazardous-cargo category."""
TUG = 52
TOWING_TYPES = frozenset({31, 32})
"""Towing, and towing a tow over 200 m long or 25 m wide: what a tug declares while it tows."""


def imo_is_valid(imo: int) -> bool:
    """True for a seven-digit IMO number whose last digit is its check digit.

    The check digit is the sum of the first six digits weighted 7, 6, 5, 4, 3, 2, modulo 10
    (IMO 9074729: 9*7 + 0*6 + 7*5 + 4*4 + 7*3 + 2*2 = 139 -> 9).
    """
    if not 1_000_000 <= imo <= 9_999_999:
        return False
    digits = [int(c) for c in str(imo)]
    return sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == digits[6]


_imo_valid = functools.lru_cache(maxsize=MEMO_MAX)(imo_is_valid)
"""`imo_is_valid`, remembered per number (a ship repeats its IMO number in every static report)."""


def imo_problem(imo: int) -> str | None:
    """What is wrong with a (non-zero) value of the IMO number field, or None: an IMO number whose
    check digit holds, or an official flag state number (10000000 and up, which has no check digit;
    ships without an IMO number put their national registration there, or their MMSI)."""
    if imo >= FLAG_STATE_NUMBER_MIN:
        return None
    if imo < IMO_MIN:
        return "is not a seven-digit IMO number"
    return None if _imo_valid(imo) else "fails its check digit"


def ship_kind(ship_type: int) -> int:
    """The part of an AIS ship type that identifies the ship: the type without its hazardous-cargo
    digit (70-79 are all cargo ships: 71 carries category X, 79 says nothing), a tug whether it tows
    (31, 32) or not (52), other types whole."""
    if ship_type in TOWING_TYPES:
        return TUG
    tens = ship_type // 10
    return tens * 10 if ship_type < 100 and tens in HAZARD_DIGIT_TYPES else ship_type


def normalise_text(value: str | None) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", value.replace("@", " ")).strip().upper()
    return text or None


@dataclass(slots=True)
class _Identity:
    values: dict[str, Any] = field(default_factory=dict)
    reported_pairs: set[tuple[str, Any, Any]] = field(default_factory=set)
    bad_imos: set[int] = field(default_factory=set)
    last_seen: float = -float("inf")
    """Event time of the latest static report (`memory_days` counts from it)."""


@dataclass(slots=True)
class _ImoClaim:
    mmsi: int
    time: float


class IdentityChangeRule(Rule):
    id = "identity_change"
    Params = IdentityChangeParams
    tick_seconds = 3600.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: IdentityChangeParams = params  # type: ignore[assignment]
        self._known: dict[int, _Identity] = {}
        self._imo_claims: dict[int, _ImoClaim] = {}
        self._shared_reported: set[tuple[int, int, int]] = set()
        self._observed_memo: dict[tuple[Any, ...], dict[str, Any]] = {}
        """`_observed` per raw field tuple: a vessel repeats its static data all day long."""

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Static reports only: the rule has no other per-report hook. The kinds of the rows come
        from the batch's shared pass over the rows that are not fixes (`ReportBatch.rows`, which
        the gap and CPA masks ask for too); the own ship's static reports are in, and `on_static`
        returns at once for them."""
        mask: np.ndarray = batch.rows(ctx.now).kind == STATIC
        return mask

    def on_static(self, vessel: VesselState, report: StaticReport, ctx: RuleContext) -> None:
        if vessel.is_shadow or report.own_ship or is_placeholder_mmsi(vessel.mmsi):
            return
        ident = self._known.get(vessel.mmsi)
        if ident is None:
            ident = self._known[vessel.mmsi] = _Identity()
        if report.time > ident.last_seen:
            ident.last_seen = report.time
        raw = _RAW_FIELDS(report)
        new = self._observed_memo.get(raw)
        if new is None:
            if len(self._observed_memo) >= MEMO_MAX:
                self._observed_memo.clear()
            new = self._observed_memo[raw] = self._observed(report)
        # The usual static report repeats what is known: every field equal to the known value
        # (a subset test of the dicts' items, in C). The comparison loop would then store the same
        # values again and report nothing, so it is skipped; the IMO checks below still run.
        changes = [] if new.items() <= ident.values.items() else self._changes(ident, new)
        imo = new.get("imo")
        problem = None
        imo_severity: Severity = "info"
        if isinstance(imo, int) and self.p.check_imo and imo not in ident.bad_imos:
            problem = imo_problem(imo)
            large = problem is not None and is_large_vessel(vessel)
            if problem is not None and (imo >= IMO_MIN or large):
                ident.bad_imos.add(imo)
                imo_severity = "caution" if large else "info"
            else:
                problem = None  # an unused value on a craft that needs no IMO number: no claim to one
        if changes:
            # One event: a second one for the IMO number would fall in the engine's cooldown.
            strong = any(c["field"] in STRONG_FIELDS for c in changes)
            fields = ", ".join(f"{c['field']} {c['old']!r} -> {c['new']!r}" for c in changes)
            details: dict[str, Any] = {"kind": "change", "changes": changes}
            message = f"Identity change for MMSI {vessel.mmsi}: {fields}"
            severity: Severity = "warning" if strong else "caution"
            if problem is not None:
                details.update(invalid_imo=imo, imo_problem=problem)
                message += f"; IMO number {imo} {problem}"
                severity = most_severe(severity, imo_severity)
            self._emit(ctx, vessel, severity, message, details)
        elif problem is not None:
            self._emit(
                ctx,
                vessel,
                imo_severity,
                f"IMO number {imo} of MMSI {vessel.mmsi} {problem}",
                {"kind": "invalid_imo", "imo": imo, "problem": problem},
            )
        if isinstance(imo, int) and self.p.shared_imo and _imo_valid(imo):
            self._check_shared_imo(ctx, vessel, imo, report.time)

    def _changes(self, ident: _Identity, new: dict[str, Any]) -> list[dict[str, Any]]:
        """Store the observed values; the changes not reported before for the same pair of values."""
        changes: list[dict[str, Any]] = []
        for name, value in new.items():
            old = ident.values.get(name)
            ident.values[name] = value
            if old is None or self._same(name, old, value):
                continue
            pair = (name, *sorted((old, value), key=repr))
            if pair in ident.reported_pairs:
                continue
            ident.reported_pairs.add(pair)  # type: ignore[arg-type]
            changes.append({"field": name, "old": old, "new": value})
        return changes

    def _check_shared_imo(self, ctx: RuleContext, vessel: VesselState, imo: int, t: float) -> None:
        claim = self._imo_claims.get(imo)
        if claim is not None and claim.mmsi == vessel.mmsi:
            claim.time = t  # the same ship repeating its claim (nothing else holds the record)
            return
        self._imo_claims[imo] = _ImoClaim(vessel.mmsi, t)
        if claim is None or t - claim.time > self.p.shared_imo_days * 86400:
            return
        key = (imo, *sorted((claim.mmsi, vessel.mmsi)))
        if key in self._shared_reported:
            return
        self._shared_reported.add(key)  # type: ignore[arg-type]
        self._emit(
            ctx,
            vessel,
            "warning",
            f"IMO {imo} is broadcast by MMSI {vessel.mmsi} and by MMSI {claim.mmsi}",
            {"kind": "shared_imo", "imo": imo, "other_mmsi": claim.mmsi, "other_seen": claim.time},
            other_mmsi=claim.mmsi,
        )

    def _emit(
        self,
        ctx: RuleContext,
        vessel: VesselState,
        severity: Severity,
        message: str,
        details: dict[str, Any],
        other_mmsi: int | None = None,
    ) -> None:
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            severity=severity,
            message=message,
            lat=vessel.lat,
            lon=vessel.lon,
            details=details,
            other_mmsi=other_mmsi,
        )

    def _observed(self, report: StaticReport) -> dict[str, Any]:
        """The identity fields this report carries, "not available" values left out."""
        values: dict[str, Any] = {}
        name = normalise_text(report.name)
        if name:
            values["name"] = name
        callsign = normalise_text(report.callsign)
        if callsign:
            values["callsign"] = callsign
        if report.imo:
            values["imo"] = int(report.imo)
        if report.ship_type:
            values["ship_type"] = int(report.ship_type)
        if report.to_bow is not None and report.to_stern is not None and report.to_bow + report.to_stern > 0:
            values["length_m"] = float(report.to_bow + report.to_stern)
        if (
            report.to_port is not None
            and report.to_starboard is not None
            and report.to_port + report.to_starboard > 0
        ):
            values["beam_m"] = float(report.to_port + report.to_starboard)
        return values

    def _same(self, name: str, old: Any, new: Any) -> bool:
        if name in ("length_m", "beam_m"):
            return abs(float(old) - float(new)) <= self.p.dimension_tolerance_m
        if name == "ship_type":
            return ship_kind(int(old)) == ship_kind(int(new))
        return bool(old == new)

    def on_tick(self, ctx: RuleContext) -> None:
        horizon = ctx.now - self.p.shared_imo_days * 86400
        for imo in [i for i, c in self._imo_claims.items() if c.time < horizon]:
            del self._imo_claims[imo]
        if self._shared_reported:
            self._shared_reported = {k for k in self._shared_reported if k[0] in self._imo_claims}
        forget = ctx.now - self.p.memory_days * 86400
        for mmsi in [m for m, ident in self._known.items() if ident.last_seen < forget]:
            del self._known[mmsi]

    def save_state(self, ctx: RuleContext) -> dict[str, Any]:
        """What every MMSI declared, the changes and IMO numbers already reported, the IMO claims:
        after a restart, a vessel that comes back under another name is still a change, and what was
        reported before is not reported again."""
        return {
            "known": [
                [
                    mmsi,
                    ident.values,
                    sorted((list(p) for p in ident.reported_pairs), key=repr),
                    sorted(ident.bad_imos),
                    ident.last_seen,
                ]
                for mmsi, ident in sorted(self._known.items())
                if math.isfinite(ident.last_seen)
            ],
            "imo_claims": [[imo, c.mmsi, c.time] for imo, c in sorted(self._imo_claims.items())],
            "shared_reported": sorted(list(k) for k in self._shared_reported),
        }

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        forget = ctx.now - self.p.memory_days * 86400
        known = {
            int(mmsi): _Identity(
                values=dict(values),
                reported_pairs={tuple(p) for p in pairs},
                bad_imos={int(i) for i in bad_imos},
                last_seen=float(last_seen),
            )
            for mmsi, values, pairs, bad_imos, last_seen in state.get("known", [])
            if float(last_seen) >= forget
        }
        horizon = ctx.now - self.p.shared_imo_days * 86400
        claims = {
            int(imo): _ImoClaim(int(mmsi), float(t))
            for imo, mmsi, t in state.get("imo_claims", [])
            if float(t) >= horizon
        }
        shared = {
            (int(i), int(a), int(b)) for i, a, b in state.get("shared_reported", []) if int(i) in claims
        }
        self._known, self._imo_claims, self._shared_reported = known, claims, shared

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        """Nothing: what the MMSI declared outlives the tracker's memory (a silence of an hour) by
        `memory_days`, so that a ship coming back under another identity is seen; `on_tick` drops it."""


RULE = IdentityChangeRule
