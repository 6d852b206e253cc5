"""cpa: two vessels on course for a close-quarters situation (closest point of approach).

Candidate pairs: both vessels over `min_sog_kn` (1 kn) with a known course, within `range_nm`
(3 NM) of each other, neither at anchor or moored (by status; a vessel over 1 kn is not moored by
speed), and not an assist pair (a tug or pilot, by
allow-list or by its declared type, with the ship it serves). Candidate pairs come from a sweep
along x in numpy over the moving vessels (`candidate_pairs`: sorted by x, each vessel joined with
those at most the range further east by `searchsorted`); CPA and
TCPA are then computed with numpy for all candidate pairs at once. There is no Python loop over
vessels or pairs, only over the pairs that alert. Positions are dead-reckoned to the current
event time from each vessel's last fix (at most `max_fix_age_s` old).

Severity `warning` when CPA < 0.3 NM within 10 minutes, `alarm` when CPA < 0.1 NM within 5 minutes
(0 < TCPA). Pairs whose relative speed is under `min_relative_kn` (vessels in company, a tow) have
no meaningful CPA and are left out. State alert per pair (mmsi = the lower MMSI); it is updated
while the situation holds (severity may rise or fall) and cleared once the ships have passed (TCPA
below zero) or the predicted CPA opens beyond `clear_factor` x the warning distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from vts.alerts.model import Severity
from vts.geo import KNOTS_TO_MS, METRES_PER_NM
from vts.reports import PositionReport
from vts.rules._common import is_allowlisted
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import Report
    from vts.tracker import VesselState

ASSIST_CATEGORIES = frozenset({"tug", "pilot"})
AT_ANCHOR_OR_MOORED = (1, 5)
UNDERWAY_DESPITE_STATUS_KN = 3.0
"""A ship showing "at anchor"/"moored" above this speed forgot its status (as `vts.vessel_class`)."""
_MOVER_FIELDS = attrgetter("lat", "lon", "sog", "cog", "position_time")
_NO_ROWS = np.empty(0, dtype=np.int64)
_KEY_FACTOR = 1 << 31
"""A pair of MMSIs as one integer, a x factor + b, for vectorised look-ups (an MMSI is a 30-bit
field; larger numbers, which no AIS message carries, skip the look-up)."""


class CpaParams(RuleParams):
    range_nm: float = Field(3.0, gt=0, description="pairs further apart than this are not evaluated")
    min_sog_kn: float = Field(1.0, ge=0, description="both vessels must be faster than this")
    warning_cpa_nm: float = Field(0.3, gt=0)
    warning_tcpa_min: float = Field(10.0, gt=0)
    alarm_cpa_nm: float = Field(0.1, gt=0)
    alarm_tcpa_min: float = Field(5.0, gt=0)
    min_relative_kn: float = Field(1.0, ge=0, description="slower relative motion has no meaningful CPA")
    max_fix_age_s: float = Field(180.0, gt=0, description="vessels with an older last fix are left out")
    clear_factor: float = Field(1.2, ge=1.0, description="hysteresis on the warning CPA before clearing")
    skip_assist_categories: bool = Field(
        True, description="treat declared tugs and pilot boats as assist craft"
    )


@dataclass(slots=True)
class PairCpa:
    """CPA result for one pair (arrays of these come out of `compute_cpa`)."""

    range_m: float
    cpa_m: float
    tcpa_s: float


def compute_cpa(
    x: np.ndarray,
    y: np.ndarray,
    vx: np.ndarray,
    vy: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    min_rel_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Range, CPA (metres) and TCPA (seconds) for pairs (i[k], j[k]), all at once.

    Positions in metres, velocities in m/s. Pairs whose relative speed is under `min_rel_ms` get
    TCPA = +inf and CPA = the current range.
    """
    dx = x[j] - x[i]
    dy = y[j] - y[i]
    dvx = vx[j] - vx[i]
    dvy = vy[j] - vy[i]
    rng = np.hypot(dx, dy)
    dv2 = dvx * dvx + dvy * dvy
    moving = dv2 >= min_rel_ms * min_rel_ms
    safe = np.where(moving, dv2, 1.0)
    tcpa = np.where(moving, -(dx * dvx + dy * dvy) / safe, np.inf)
    t = np.where(moving, tcpa, 0.0)
    cpa = np.hypot(dx + dvx * t, dy + dvy * t)
    return rng, cpa, tcpa


def candidate_pairs(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of points within `radius` metres of each other (``hypot <= radius``).

    A sweep along x in numpy, with no loop over points: the points sorted by x, each one is paired
    with the points after it whose x is at most `radius` further (one `searchsorted`), those pairs
    are kept when |dy| <= radius too, and then only those truly within `radius`. A dozen numpy
    calls whatever the number of points (a grid of cells took nine times as many)."""
    n = len(x)
    empty = np.empty(0, dtype=np.intp)
    if n < 2:
        return empty, empty
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # a hair wider than the radius: x_i + r rounds differently from x_j - x_i (the last test is exact)
    hi = np.searchsorted(xs, xs + (radius * (1.0 + 1e-9) + 1e-6), side="right")
    counts = hi - np.arange(1, n + 1)  # the points after each one, within radius in x
    total = int(counts.sum())
    if total <= 0:
        return empty, empty
    a = np.repeat(np.arange(n), counts)
    b = a + 1 + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
    a, b = order[a], order[b]
    near = np.abs(y[b] - y[a]) <= radius
    a, b = a[near], b[near]
    i, j = np.minimum(a, b), np.maximum(a, b)
    close = np.hypot(x[j] - x[i], y[j] - y[i]) <= radius
    return i[close], j[close]


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """`np.isin` for a sorted, non-empty `sorted_set` (one `searchsorted`, no sort)."""
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values  # type: ignore[no-any-return]


@dataclass(slots=True)
class BatchRows:
    """What the batch columns leave out, for the rows that are not position fixes: their event
    time (every report moves the clock) and which of them are position reports without a valid
    position (they still set the vessel's speed, course and status). One Python pass over the
    non-fix rows."""

    time: np.ndarray
    """Event time of every row."""
    no_fix: np.ndarray
    """Position reports without a valid position."""
    start_now: float
    """The core's event time when the batch began (`RuleContext.now` at mask time)."""
    clock: np.ndarray
    """Event time after each row: the running maximum of `time`, from `start_now`."""
    late: np.ndarray
    """Rows older than the clock before them (a late or out-of-order report)."""

    def processed(self, now: float) -> int:
        """How many rows the core had processed when its clock reached `now`: a time step to `now`
        happens just before the first row that brings the clock there, so every row before the
        first one whose running maximum reaches `now` (all rows, for a later time)."""
        return int(np.searchsorted(self.clock, now, side="left"))


def batch_rows(batch: ReportBatch, now: float) -> BatchRows:
    """The `BatchRows` of a batch about to be processed from event time `now`."""
    times = batch.time.copy()
    no_fix = np.zeros(len(batch), dtype=bool)
    reports = batch.reports
    rows = np.flatnonzero(~batch.is_position).tolist()
    if rows:
        times[rows] = [reports[i].time for i in rows]
        no_fix[[i for i in rows if isinstance(reports[i], PositionReport)]] = True
    if not len(times):
        return BatchRows(times, no_fix, now, times, no_fix)
    clock = np.fmax.accumulate(np.fmax(times, now))
    before = np.concatenate(([now], clock[:-1]))
    return BatchRows(times, no_fix, now, clock, ~(times >= before))


@dataclass(slots=True)
class _Pending:
    """A batch whose rows have not all been looked at by the mover table yet."""

    batch: ReportBatch
    rows: BatchRows
    start: int = 0
    """Rows before this one have been looked at."""
    final: bool = False
    """A later batch has begun: every row has been processed."""


class CpaRule(Rule):
    """Close quarters between moving vessels.

    The tick needs every mover (`_is_mover`) with its kinematics. Rather than go over every
    tracked vessel on each tick (a Python loop over thousands of vessels), the rule keeps a table
    of the movers, as numpy columns sorted by MMSI, and on each tick reads from the tracker only the
    vessels that sent a report since the previous tick and may have changed: those in the table,
    and those whose report could make them movers (a position report over `min_sog_kn`, a position
    report without a fix, a report older than the clock). A vessel's kinematics change only with
    its own reports, so one that sent nothing stays a mover until its fix is too old (checked in
    numpy), and a non-mover stays one. The reports are read off the batches (`interest` keeps no
    row: there is no per-report work); reports processed one by one reach `on_report` instead.
    """

    id = "cpa"
    Params = CpaParams
    tick_seconds = 10.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: CpaParams = params  # type: ignore[assignment]
        self._active: set[tuple[int, int]] = set()
        self._alarms: set[tuple[int, int]] = set()
        """Pairs at alarm level: they stay there inside the hysteresis band (no flapping at 5 min)."""
        self._synced = False
        """False until the table has been filled from every tracked vessel once."""
        self._pending: list[_Pending] = []
        self._touched: set[int] = set()
        """Vessels with a report outside any batch, or forgotten, since the last tick."""
        self._mmsi = np.empty(0, dtype=np.int64)
        self._cols = np.empty((0, 5))
        """Per mover: lat, lon, sog, cog, position_time, as the tracker had them when last read."""
        self._assist = np.empty(0, dtype=bool)
        self._vessels = np.empty(0, dtype=object)
        self._assist_of: object = None
        """The allow-lists the assist flags were computed with (a reload brings new ones)."""

    # -- the mover table -------------------------------------------------------------------------------
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """No row (the rule has no per-report work); the batch is kept for the ticks to read."""
        for pend in self._pending:
            pend.final = True
        if len(batch):
            self._pending.append(_Pending(batch, batch_rows(batch, ctx.now)))
        return np.zeros(len(batch), dtype=bool)

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        """Reached only by reports processed one by one (in a batch no row reaches the rule)."""
        self._touched.add(report.mmsi)

    def _to_read(self, now: float) -> np.ndarray:
        """Sorted MMSIs of the vessels whose mover status may have changed since the last tick."""
        parts: list[np.ndarray] = []
        table = self._mmsi
        for pend in self._pending:
            b, rows = pend.batch, pend.rows
            end = len(b) if pend.final else rows.processed(now)
            if end > pend.start:
                sl = slice(pend.start, end)
                mmsi = b.mmsi[sl]
                maybe = (b.sog[sl] > self.p.min_sog_kn) | rows.no_fix[sl] | rows.late[sl]
                if len(table):
                    maybe |= _member(mmsi, table)
                parts.append(mmsi[maybe])
                pend.start = end
        self._pending = [pend for pend in self._pending if pend.start < len(pend.batch)]
        if self._touched:
            parts.append(np.fromiter(self._touched, dtype=np.int64, count=len(self._touched)))
            self._touched.clear()
        if not parts:
            return _NO_ROWS
        return np.unique(np.concatenate(parts))

    def _is_mover(self, v: VesselState | None, now: float) -> bool:
        """Moving, with a fresh fix (under `max_fix_age_s`), a course, and not at anchor or moored."""
        p = self.p
        if v is None or v.position_time is None or now - v.position_time > p.max_fix_age_s:
            return False
        return not (
            v.is_shadow
            or v.lat is None
            or v.lon is None
            or v.sog is None
            or v.cog is None
            or v.sog <= p.min_sog_kn
            or (v.nav_status in AT_ANCHOR_OR_MOORED and v.sog < UNDERWAY_DESPITE_STATUS_KN)
        )

    def _sync(self, ctx: RuleContext) -> None:
        """Bring the mover table to the state of the tracker now (see the class docstring)."""
        now = ctx.now
        read = self._to_read(now)
        if not self._synced:  # first tick of this rule: every tracked vessel
            self._synced = True
            every = np.array([v.mmsi for v in ctx.tracker.vessels()], dtype=np.int64)
            read = np.unique(np.concatenate((read, every)))
        tracker = ctx.tracker
        new: list[VesselState] = []
        if len(read):
            for v in map(tracker.get, read.tolist()):
                if self._is_mover(v, now):
                    new.append(v)  # type: ignore[arg-type]
        keep = now - self._cols[:, 4] <= self.p.max_fix_age_s
        if len(read) and len(self._mmsi):
            keep &= ~_member(self._mmsi, read)
        if ctx.allowlists is not self._assist_of:  # new allow-lists: every flag again
            self._assist_of = ctx.allowlists
            self._assist = np.array([self._is_assist(v, ctx) for v in self._vessels], dtype=bool)
        if not new and keep.all():
            return
        mmsi = np.array([v.mmsi for v in new], dtype=np.int64)
        cols = np.array([_MOVER_FIELDS(v) for v in new], dtype=float).reshape(len(new), 5)
        assist = np.array([self._is_assist(v, ctx) for v in new], dtype=bool)
        vessels = np.empty(len(new), dtype=object)
        vessels[:] = new
        mmsi = np.concatenate((self._mmsi[keep], mmsi))
        order = np.argsort(mmsi, kind="stable")
        self._mmsi = mmsi[order]
        self._cols = np.concatenate((self._cols[keep], cols))[order]
        self._assist = np.concatenate((self._assist[keep], assist))[order]
        self._vessels = np.concatenate((self._vessels[keep], vessels))[order]

    def _is_assist(self, v: VesselState, ctx: RuleContext) -> bool:
        if is_allowlisted(ctx.allowlists, v.mmsi, ("tug", "pilot")):
            return True
        return self.p.skip_assist_categories and v.category in ASSIST_CATEGORIES

    def on_tick(self, ctx: RuleContext) -> None:
        p = self.p
        self._sync(ctx)
        movers = self._vessels
        assist = self._assist
        pi: np.ndarray = np.empty(0, dtype=np.intp)
        pj: np.ndarray = np.empty(0, dtype=np.intp)
        if len(movers) >= 2:
            x, y, vx, vy = self._kinematics(self._cols, ctx.now)
            pi, pj = candidate_pairs(x, y, p.range_nm * METRES_PER_NM)
        seen: dict[tuple[int, int], tuple[Severity, dict[str, Any], VesselState, VesselState]] = {}
        if len(pi):
            keep = ~(assist[pi] | assist[pj])
            i, j = pi[keep], pj[keep]
            rng, cpa, tcpa = compute_cpa(x, y, vx, vy, i, j, p.min_relative_kn * KNOTS_TO_MS)
            clear_cpa = p.warning_cpa_nm * p.clear_factor * METRES_PER_NM
            candidate = (
                (rng <= p.range_nm * METRES_PER_NM) & (tcpa > 0) & np.isfinite(tcpa) & (cpa < clear_cpa)
            )
            # Only pairs that may be at warning or alarm level (the loosest of `_severity`'s
            # thresholds), or already active, can reach `seen`: the others are left out in numpy.
            f = max(p.clear_factor, 1.0)
            close = (cpa < max(p.alarm_cpa_nm * f, p.warning_cpa_nm) * METRES_PER_NM) & (
                tcpa <= max(p.alarm_tcpa_min * f, p.warning_tcpa_min) * 60
            )
            if self._active and (self._mmsi[-1] >= _KEY_FACTOR or self._mmsi[0] < 0):
                close[:] = True
            elif self._active:
                pair_key = self._mmsi[i] * _KEY_FACTOR + self._mmsi[j]
                active = np.array(sorted(a * _KEY_FACTOR + b for a, b in self._active), dtype=np.int64)
                close |= _member(pair_key, active)
            for k in np.nonzero(candidate & close)[0]:
                a, b = movers[int(i[k])], movers[int(j[k])]
                key = (a.mmsi, b.mmsi)
                severity = self._severity(float(cpa[k]), float(tcpa[k]), key in self._alarms)
                if severity is None and key not in self._active:
                    continue
                if severity is None:
                    if float(tcpa[k]) > p.warning_tcpa_min * 60 * p.clear_factor:
                        continue  # situation opened up in time: let it clear
                    severity = "warning"  # inside the hysteresis band: keep the alert
                seen[key] = (
                    severity,
                    {
                        "cpa_nm": round(float(cpa[k]) / METRES_PER_NM, 3),
                        "tcpa_min": round(float(tcpa[k]) / 60.0, 2),
                        "range_nm": round(float(rng[k]) / METRES_PER_NM, 3),
                        "sog_kn": a.sog,
                        "other_sog_kn": b.sog,
                        "cog_deg": a.cog,
                        "other_cog_deg": b.cog,
                    },
                    a,
                    b,
                )
        for key, (severity, details, a, b) in sorted(seen.items()):
            self._active.add(key)
            if severity == "alarm":
                self._alarms.add(key)
            else:
                self._alarms.discard(key)
            ctx.alerts.hold(
                type=self.id,
                mmsi=key[0],
                other_mmsi=key[1],
                severity=severity,
                message=f"Close quarters: {a.name or a.mmsi} and {b.name or b.mmsi}, "
                f"CPA {details['cpa_nm']:.2f} NM in {details['tcpa_min']:.1f} min",
                lat=a.lat,
                lon=a.lon,
                details=details,
            )
        for key in sorted(self._active - set(seen)):
            self._active.discard(key)
            self._alarms.discard(key)
            ctx.alerts.clear(
                type=self.id, mmsi=key[0], other_mmsi=key[1], message="Close-quarters situation over"
            )

    def _severity(self, cpa_m: float, tcpa_s: float, was_alarm: bool = False) -> Severity | None:
        p = self.p
        f = p.clear_factor if was_alarm else 1.0
        if cpa_m < p.alarm_cpa_nm * METRES_PER_NM * f and 0 < tcpa_s <= p.alarm_tcpa_min * 60 * f:
            return "alarm"
        if cpa_m < p.warning_cpa_nm * METRES_PER_NM and 0 < tcpa_s <= p.warning_tcpa_min * 60:
            return "warning"
        return None

    @staticmethod
    def _kinematics(table: np.ndarray, now: float) -> tuple[np.ndarray, ...]:
        # each column copied out contiguous (same sums as separate arrays)
        cols = table.T.copy()
        lat, lon = cols[0], cols[1]
        sog = cols[2] * KNOTS_TO_MS
        cog = np.radians(cols[3])
        age = np.clip(now - cols[4], 0.0, None)
        lat0 = float(np.mean(lat))
        ky = 6_371_008.8 * math.pi / 180.0
        kx = ky * math.cos(math.radians(lat0))
        vx, vy = sog * np.sin(cog), sog * np.cos(cog)
        x = lon * kx + vx * age
        y = lat * ky + vy * age
        return x, y, vx, vy

    def on_forget(self, mmsi: int) -> None:
        self._touched.add(mmsi)  # read again at the next tick (gone, or a new vessel by then)
        self._active = {k for k in self._active if mmsi not in k}
        self._alarms = {k for k in self._alarms if mmsi not in k}


RULE = CpaRule
