"""Each position fix of a batch with the fix before it on its vessel's track, for the interest masks
of position_jump and duplicate_mmsi.

Both rules compare every fix of a vessel with the one before it on its (primary) track, which the
tracker keeps (`VesselState.last_fix` / `previous_fix`). Their masks must find, before the tracker
has seen the batch, every fix where that comparison could matter; this module works out once per
batch what both need:

* the *stream predecessor* of each fix: the MMSI's previous fix in the batch or, for its first one,
  the tracker's `last_fix` at batch start;
* whether the MMSI is *complex* in this batch: some fix of it might not land on the primary track
  (then the stream predecessor need not be the track predecessor). An MMSI is simple when its
  track's last fix was applied (not late), its fixes come in non-decreasing time from there, no
  SOG of the track exceeds the tracker's dead-reckoning limit, none is at (0, 0) (position_jump
  never takes one as a reference), and each fix lies within the tracker's "always consistent" box
  (`_NEAR_DEG` in latitude and longitude) of the one before. `Tracker._position` then puts every
  fix of it on the primary track, in stream order, whether or not the MMSI has a shadow track (a
  shadow only takes fixes the primary rejects): no conflict, no new shadow, no promotion. (A vessel
  the tracker forgets in the middle of the batch starts a new track whose first fix has no
  predecessor: both rules then do less than against the stream predecessor, so a mask built on
  the stream stays a superset.)

The result is cached for the last batch seen (both rules ask for the same batch in a row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vts.geo import EARTH_RADIUS_M
from vts.reports import PositionReport
from vts.rules._common import placeholder_rows
from vts.tracker import _NEAR_DEG, DR_MAX_SPEED_KN

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import Report
    from vts.tracker import Tracker, VesselState

NEAR_SAFE_DEG = _NEAR_DEG * (1.0 - 1e-9)
"""The tracker's always-consistent box, a hair smaller (a fix inside it surely passes)."""
NULL_DEG = 1e-6
"""position_jump's (0, 0) test: |lat| and |lon| under this."""
_M_PER_DEG_BOUND = EARTH_RADIUS_M * math.pi / 180.0 * 1.001
"""Metres per degree of great circle, 0.1 % over (see `FixStream.dist`)."""


@dataclass(slots=True)
class FixStream:
    """Per position fix of a batch (entries grouped by MMSI, batch order within each MMSI).

    A fix without a stream predecessor (a vessel new to the tracker, or one with no fix yet) is
    given itself as predecessor: no distance, no time, so no jump and nothing unreachable, which
    is what both rules make of a fix with no predecessor."""

    rows: np.ndarray
    """Batch row of each entry."""
    group: np.ndarray
    """Index of the entry's MMSI in the per-MMSI arrays below."""
    dist: np.ndarray
    """An upper bound (0.1 % over) of the metres from the stream predecessor, valid wherever the
    MMSI is not complex (both fixes within a few km)."""
    dt: np.ndarray
    """Seconds since the stream predecessor."""
    sog: np.ndarray
    """The fix's SOG, 0 when not given (as the rules' ``sog or 0.0``)."""
    pred_sog: np.ndarray
    """The predecessor's SOG, 0 when not given; for an MMSI's first fix in the batch, its own
    (rather than the tracker's last fix's): a lower bound would do (the rules allow more speed
    with more SOG), and this one is close."""
    complex: np.ndarray
    """Per MMSI: complex in this batch (see the module docstring). A fix at (0, 0), or following
    one, makes its MMSI complex too (any |lat| under `NULL_DEG` does)."""
    conflicts: np.ndarray
    """Per MMSI: dead-reckoning conflicts of its primary track at batch start."""
    extra_rows: np.ndarray
    """Rows the batch does not count as fixes but the tracker does (PositionReport subclasses with
    a position; there are none so far): always handed to the rules."""


def fix_stream(batch: ReportBatch, tracker: Tracker) -> FixStream:
    """The fix stream of `batch` against `tracker` as it stands. Computed once per batch: ask for
    it only before the tracker has seen the batch (from `Rule.interest`)."""
    return batch.memo(("fix_stream", id(tracker)), lambda: _build(batch, tracker))


def _build(batch: ReportBatch, tracker: Tracker) -> FixStream:
    pos = np.flatnonzero(batch.is_position)
    mm = batch.mmsi[pos]
    order = np.argsort(mm, kind="stable")
    rows = pos[order]
    ms = mm[order]
    n = len(rows)
    first = np.ones(n, dtype=bool)
    np.not_equal(ms[1:], ms[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    uniq = ms[starts]
    g = len(starts)

    # Fixes (time, lat, lon) as rows of one array, and their stream predecessors.
    fix = np.stack((batch.time[rows], batch.lat[rows], batch.lon[rows]))
    pred = np.empty_like(fix)
    pred[:, 1:] = fix[:, :-1]
    sog = np.fmax(batch.sog[rows], 0.0)  # NaN (not given) -> 0, as the rules' `sog or 0.0`
    pred_sog = np.empty_like(sog)
    pred_sog[1:] = sog[:-1]
    pred_sog[starts] = sog[starts]  # the last fix's SOG is not looked up: 0 would do as well

    # The primary track of each MMSI at batch start: its last fix, and whether its SOG is over the
    # dead-reckoning limit or its last fix came late (not its applied position). One plain loop:
    # cheaper than a numpy conversion per attribute.
    flat: list[float] = []
    extend = flat.extend
    odd: list[int] = []
    conflicted: list[tuple[int, int]] = []
    nan = math.nan
    limit = DR_MAX_SPEED_KN
    for k, v in enumerate(map(tracker.get, uniq.tolist())):
        if v is None or (f := v.last_fix) is None:
            extend((0.0, nan, nan))
            continue
        extend((f.time, f.lat, f.lon))  # type: ignore[arg-type]
        s = v.sog
        if v.position_time != f.time or (s is not None and s > limit):
            odd.append(k)
        if v.dr_conflicts:
            conflicted.append((k, len(v.dr_conflicts)))
    last = np.fromiter(flat, float, 3 * g).reshape(g, 3).T
    head = np.where(np.isnan(last[1]), fix[:, starts], last)  # untracked: its own predecessor
    pred[:, starts] = head
    bad_g = np.abs(last[1]) < NULL_DEG
    bad_g[odd] = True
    conflicts = np.zeros(g, dtype=np.int64)
    if conflicted:
        conflict_at, conflict_count = zip(*conflicted, strict=True)
        conflicts[list(conflict_at)] = conflict_count

    delta = fix - pred
    dt = delta[0]
    step = np.abs(delta[1:])
    bad = (dt < 0) | (sog > DR_MAX_SPEED_KN) | (np.abs(fix[1]) < NULL_DEG)
    bad |= (step >= NEAR_SAFE_DEG).any(axis=0)  # (before `step` is scaled below)
    if n:
        bad_g |= np.logical_or.reduceat(bad, starts)
    # Position reports the batch does not count as fixes: without a position, their SOG still
    # becomes the track's (only for the MMSIs with fixes here does that matter); with one (a
    # subclass: none exists so far), they are fixes to the tracker.
    extra: list[int] = []
    troubled: list[int] = []
    reports = batch.reports
    other = np.flatnonzero(~batch.is_position)
    if g and len(other):
        mine = batch.mmsi[other]
        at = np.minimum(np.searchsorted(uniq, mine), g - 1)
        for i in other[uniq[at] == mine].tolist():
            r = reports[i]
            if isinstance(r, PositionReport) and r.sog is not None and r.sog > limit:
                troubled.append(r.mmsi)
    if PositionReport.__subclasses__():
        for i in other.tolist():
            r = reports[i]
            if isinstance(r, PositionReport) and r.lat is not None and r.lon is not None:
                extra.append(i)
                troubled.append(r.mmsi)
    _mark(bad_g, uniq, troubled)

    # Haversine distance <= R x sqrt(dlat^2 + (c x dlon)^2) (radians; sin x <= x, the product of
    # the two cosines of latitude <= c^2 with c that of the batch's smallest |latitude|, and
    # asin x <= 1.0001 x for the x < 0.01 of fixes a few km apart, as in every simple MMSI).
    if n:
        lats = np.abs(fix[1])
        heads = np.abs(head[1])  # (with `lats`, every predecessor's latitude)
        if max(lats.max(), heads.max()) <= 90.0:
            c = math.cos(math.radians(min(lats.min(), heads.min())))
            step[1] *= min(1.0, c * (1.0 + 1e-9))
    return FixStream(
        rows=rows,
        group=np.cumsum(first) - 1,
        dist=np.sqrt((step * step).sum(axis=0)) * _M_PER_DEG_BOUND,
        dt=dt,
        sog=sog,
        pred_sog=pred_sog,
        complex=bad_g,
        conflicts=conflicts,
        extra_rows=np.asarray(extra, dtype=np.int64),
    )


def _mark(flags: np.ndarray, uniq: np.ndarray, mmsis: list[int]) -> None:
    """Set `flags` (per MMSI of the sorted `uniq`) for these MMSIs, where present."""
    if not mmsis or not len(uniq):
        return
    wanted = np.asarray(mmsis, dtype=uniq.dtype)
    at = np.minimum(np.searchsorted(uniq, wanted), len(uniq) - 1)
    flags[at[uniq[at] == wanted]] = True


def drop_placeholders(batch: ReportBatch, mask: np.ndarray) -> None:
    """Clears the rows of placeholder MMSIs (`vts.rules._common.placeholder_rows`) in `mask`, testing
    only the rows it holds (a few per batch), not the whole batch."""
    rows = mask.nonzero()[0]
    if len(rows):
        mask[rows[placeholder_rows(batch.mmsi[rows])]] = False


class UnseenFixes:
    """The last fix of each vessel the tracker knew when a rule first saw the engine. A rule made
    later (a reload) never saw those fixes, so none of them is a reference for the vessel's next
    fix. Recorded by the rule's first hook to run: `interest` comes before the tracker merges the
    batch, `on_report` and `on_position` after the current report (`report`, merged into `vessel`)
    has been merged."""

    __slots__ = ("_fixes", "recorded")

    def __init__(self) -> None:
        self._fixes: dict[int, PositionReport] = {}
        self.recorded = False

    def record(
        self, tracker: Tracker, vessel: VesselState | None = None, report: Report | None = None
    ) -> None:
        self._fixes = last_fixes(tracker, vessel, report)
        self.recorded = True

    def is_unseen(self, mmsi: int, fix: PositionReport, *, keep: bool) -> bool:
        """`fix` is the vessel's last fix from before the rule. Unless `keep`, the vessel's entry
        goes: its track has moved past that fix for good."""
        fixes = self._fixes
        if not fixes:
            return False
        before = fixes.get(mmsi) if keep else fixes.pop(mmsi, None)
        return before is fix

    def forget(self, mmsi: int) -> None:
        if self._fixes:
            self._fixes.pop(mmsi, None)


def last_fixes(
    tracker: Tracker, vessel: VesselState | None = None, report: Report | None = None
) -> dict[int, PositionReport]:
    """The latest fix on each primary track, as it stood before `report` (already merged into
    `vessel`, when given) was: the fixes a rule made now has never seen (after a reload, the
    tracker knows vessels the new rule does not)."""
    out: dict[int, PositionReport] = {}
    for v in tracker:
        if v.last_fix is not None:
            out[v.mmsi] = v.last_fix
    if vessel is not None and not vessel.is_shadow and report is not None and report is vessel.last_fix:
        if vessel.previous_fix is None:
            out.pop(vessel.mmsi, None)
        else:
            out[vessel.mmsi] = vessel.previous_fix
    return out
