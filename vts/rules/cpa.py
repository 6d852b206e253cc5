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
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from vts.alerts.model import Severity
from vts.geo import KNOTS_TO_MS, METRES_PER_NM
from vts.reports import PositionReport, SafetyReport, StaticReport
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import Report
    from vts.tracker import VesselState

ASSIST_CATEGORIES = frozenset({"tug", "pilot"})
AT_ANCHOR_OR_MOORED = (1, 5)
UNDERWAY_DESPITE_STATUS_KN = 3.0
"""A ship showing "at anchor"/"moored" above this speed forgot its status (as `vts.vessel_class`)."""
_NO_ROWS = np.empty(0, dtype=np.int64)


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


_GRID_MAX = 1 << 20
"""`pairs_within` lays the candidate pairs out in a grid up to this size."""
_RANGE = np.arange(1024)
"""0, 1, 2 ... (sliced rather than built on every tick)."""


def _arange(stop: int) -> np.ndarray:
    global _RANGE
    if stop > len(_RANGE):
        _RANGE = np.arange(2 * stop)
    return _RANGE[:stop]


def sweep_x(x: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b) of points whose x are at most `radius` apart (a hair more): a superset
    of the pairs within `radius`, each pair once, in no particular orientation.

    A sweep along x: the points sorted by x, each one is paired with the points after it whose x is
    at most `radius` further (one `searchsorted`; the pairs laid out in a grid as wide as the
    longest such run). A dozen numpy calls whatever the number of points."""
    n = len(x)
    if n < 2:
        return _NO_ROWS, _NO_ROWS
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # a hair wider than the radius: x_i + r rounds differently from x_j - x_i (the last test is exact)
    hi = np.searchsorted(xs, xs + (radius * (1.0 + 1e-9) + 1e-6), side="right")
    counts = hi - _arange(n + 1)[1:]  # the points after each one, within radius in x
    width = int(counts.max())
    if width <= 0:
        return _NO_ROWS, _NO_ROWS
    first = np.repeat(_arange(n), counts)
    if n * width <= _GRID_MAX:  # the points k + 1 ... k + width after each, those in range
        after = _arange(n)[:, None] + _arange(width + 1)[1:]
        second = after[after < hi[:, None]]
    else:  # a crowd: the same pairs, built without the grid
        starts = np.cumsum(counts) - counts
        second = first + 1 + (_arange(len(first)) - np.repeat(starts, counts))
    return order[first], order[second]


def pairs_within(xy: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of points (rows x and y of `xy`) at most `radius` apart (``hypot <= radius``):
    index arrays `a` and `b`, the offsets ``xy[:, b] - xy[:, a]`` and their lengths. Each pair
    comes once, in no particular orientation: swapped, the offsets are exactly the negatives and
    the lengths the same."""
    a, b = sweep_x(xy[0], radius)
    d = xy[:, b] - xy[:, a]
    rng = np.hypot(d[0], d[1])
    near = np.flatnonzero(rng <= radius)
    return a[near], b[near], d[:, near], rng[near]


def candidate_pairs(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of points within `radius` metres of each other (``hypot <= radius``)."""
    a, b, _, _ = pairs_within(np.stack((np.asarray(x, dtype=float), np.asarray(y, dtype=float))), radius)
    return np.minimum(a, b), np.maximum(a, b)


def cpa_of_pairs(d: np.ndarray, dv: np.ndarray, min_rel_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """CPA (metres) and TCPA (seconds) of pairs with relative positions `d` and velocities `dv`
    (2 x pairs): the arithmetic of `compute_cpa`, operation for operation (the same numbers),
    in half the numpy calls."""
    # dvx * dvx + dvy * dvy: the sum of two rows is their one addition (squares are never -0.0)
    dv2 = (dv * dv).sum(axis=0)
    moving = dv2 >= min_rel_ms * min_rel_ms
    dot = d[0] * dv[0] + d[1] * dv[1]  # written out: a sum would turn -0.0 + -0.0 into 0.0
    tcpa = np.where(moving, -dot / np.where(moving, dv2, 1.0), np.inf)
    closest = d + dv * np.where(moving, tcpa, 0.0)
    return np.hypot(closest[0], closest[1]), tcpa


NO_FIX, STATIC, SAFETY = 1, 2, 3
"""`BatchRows.kind` of a position report without a valid position, a static report, a safety
report (0: a position fix, or any other report)."""
_KIND_OF: dict[type, int] = {PositionReport: NO_FIX, StaticReport: STATIC, SafetyReport: SAFETY}


def _kind_of(cls: type) -> int:
    """The kind of a report class (its first match, as the tracker's `isinstance` tests)."""
    kind = _KIND_OF.get(cls)
    if kind is None:
        kind = next((k for c, k in list(_KIND_OF.items()) if k and issubclass(cls, c)), 0)
        _KIND_OF[cls] = kind
    return kind


@dataclass(slots=True)
class BatchRows:
    """What the batch columns leave out, for the rows that are not position fixes: their event
    time (every report moves the clock) and their kind (a position report without a valid
    position still sets the vessel's speed, course and status). One Python pass over the non-fix
    rows, shared by the rules that need it (`batch_rows`)."""

    time: np.ndarray
    """Event time of every row."""
    kind: np.ndarray
    """`NO_FIX`, `STATIC`, `SAFETY` or 0, per row."""
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


_last_rows: list[tuple[ReportBatch, float, BatchRows]] = []
"""The last `batch_rows` answer (the rules' masks ask for the same batch one after another)."""


def batch_rows(batch: ReportBatch, now: float) -> BatchRows:
    """The `BatchRows` of a batch about to be processed from event time `now`."""
    if _last_rows:
        last_batch, last_now, rows = _last_rows[0]
        if last_batch is batch and last_now == now:
            return rows
    times = batch.time.copy()
    kind = np.zeros(len(batch), dtype=np.int8)
    reports = batch.reports
    at = np.flatnonzero(~batch.is_position).tolist()
    if at:
        others = [reports[i] for i in at]
        times[at] = [r.time for r in others]
        kind_of = _KIND_OF.get
        kinds = [kind_of(r.__class__, -1) for r in others]
        if -1 in kinds:  # a report class not met yet
            kinds = [_kind_of(r.__class__) for r in others]
        kind[at] = kinds
    no_fix = kind == NO_FIX
    if not len(times):
        rows = BatchRows(times, kind, no_fix, now, times, no_fix)
    else:
        clock = np.fmax.accumulate(np.fmax(times, now))
        before = np.concatenate(([now], clock[:-1]))
        rows = BatchRows(times, kind, no_fix, now, clock, ~(times >= before))
    _last_rows[:] = [(batch, now, rows)]
    return rows


@dataclass(slots=True)
class _Pending:
    """A batch whose rows have not all been looked at by the mover table yet."""

    mmsi: np.ndarray
    clock: np.ndarray
    """As `BatchRows.clock`."""
    maybe: np.ndarray
    """Rows that may make their vessel a mover: a position report over `min_sog_kn`, a position
    report without a fix, a report older than the clock."""
    start: int = 0
    """Rows before this one have been looked at."""
    final: bool = False
    """A later batch has begun: every row has been processed."""


# rows of the mover table (`CpaRule._table`)
_LON, _LAT, _VX, _VY, _SOG, _COG, _TIME, _ASSIST = range(8)


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

    The table also holds each mover's velocity (computed when its row is read) and its assist
    flag. The sweep (`pairs_within`) and the CPA arithmetic (`cpa_of_pairs`) are the computations of
    `candidate_pairs` and `compute_cpa`, number for number, in fewer numpy calls (a tick's cost is
    the number of its numpy calls, not their size); the few pairs that may alert (within range,
    CPA inside the clearing distance, ahead in time) are then looked at in Python.
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
        self._table = np.empty((8, 0))
        """Per mover (columns, in MMSI order): lon, lat, vx, vy (m/s), sog, cog, position_time as
        the tracker had them when last read, and 1.0 for an assist craft."""
        self._vessels: list[VesselState] = []
        self._in_table: set[int] = set()
        self._assist_of: object = None
        """The allow-lists the assist flags were computed with (a reload brings new ones)."""
        self._assist_mmsi: frozenset[int] = frozenset()

    # -- the mover table -------------------------------------------------------------------------------
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """No row (the rule has no per-report work); the batch is kept for the ticks to read."""
        for pend in self._pending:
            pend.final = True
        if len(batch):
            rows = batch_rows(batch, ctx.now)
            maybe = (batch.sog > self.p.min_sog_kn) | rows.no_fix | rows.late
            self._pending.append(_Pending(batch.mmsi, rows.clock, maybe))
        return np.zeros(len(batch), dtype=bool)

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        """Reached only by reports processed one by one (in a batch no row reaches the rule)."""
        self._touched.add(report.mmsi)

    def _to_read(self, now: float) -> set[int]:
        """MMSIs of the vessels whose mover status may have changed since the last tick."""
        read = self._touched
        self._touched = set()
        in_table = self._in_table
        for pend in self._pending:
            end = len(pend.mmsi) if pend.final else int(np.searchsorted(pend.clock, now, side="left"))
            if end > pend.start:
                mmsi = pend.mmsi[pend.start : end]
                read.update(mmsi[pend.maybe[pend.start : end]].tolist())
                if in_table:
                    read.update(in_table.intersection(mmsi.tolist()))
                pend.start = end
        if self._pending and self._pending[0].start >= len(self._pending[0].mmsi):
            self._pending = [pend for pend in self._pending if pend.start < len(pend.mmsi)]
        return read

    def _sync(self, ctx: RuleContext) -> None:
        """Bring the mover table to the state of the tracker now (see the class docstring)."""
        p = self.p
        now = ctx.now
        read = self._to_read(now)
        if not self._synced:  # first tick of this rule: every tracked vessel
            self._synced = True
            read.update(v.mmsi for v in ctx.tracker.vessels())
        in_table = self._in_table
        if ctx.allowlists is not self._assist_of:  # new allow-lists: every flag again
            self._assist_of = ctx.allowlists
            self._assist_mmsi = frozenset(
                m for role in ("tug", "pilot") for m in getattr(ctx.allowlists, role, ())
            )
            read.update(in_table)
        table = self._table
        max_age = p.max_fix_age_s
        keep = now - table[_TIME] <= max_age
        if not read:
            if not keep.all():
                self._set_table(self._mmsi[keep], table[:, keep], self._vessels, keep)
            return
        # the movers among them (a mover: see `_is_mover`)
        get = ctx.tracker.get
        min_sog = p.min_sog_kn
        assist_mmsi = self._assist_mmsi
        by_category = p.skip_assist_categories
        movers: list[VesselState] = []
        rows: list[float] = []
        for mmsi in read:
            v = get(mmsi)
            t = None if v is None or v.is_shadow else v.position_time
            if (
                v is None
                or t is None
                or now - t > max_age
                or v.lat is None
                or v.lon is None
                or v.sog is None
                or v.cog is None
                or v.sog <= min_sog
                or (v.nav_status in AT_ANCHOR_OR_MOORED and v.sog < UNDERWAY_DESPITE_STATUS_KN)
            ):
                continue
            movers.append(v)
            assist = mmsi in assist_mmsi or (by_category and v.category in ASSIST_CATEGORIES)
            rows += (v.lon, v.lat, v.sog, v.cog, t, 1.0 if assist else 0.0)
        again = in_table.intersection(read)  # read again: their old rows go, movers come back
        if again:
            keep[np.searchsorted(self._mmsi, np.fromiter(again, np.int64, len(again)))] = False
        if not movers:
            if not keep.all():
                self._set_table(self._mmsi[keep], table[:, keep], self._vessels, keep)
            return
        cols = np.fromiter(rows, float, len(rows)).reshape(len(movers), 6).T
        fresh = np.empty((8, len(movers)))
        fresh[[_LON, _LAT, _SOG, _COG, _TIME, _ASSIST]] = cols
        # velocities as `compute_cpa` was given them: sog (m/s) x sine and cosine of the course
        sog_ms = cols[2] * KNOTS_TO_MS
        course = np.radians(cols[3])
        fresh[_VX] = sog_ms * np.sin(course)
        fresh[_VY] = sog_ms * np.cos(course)
        mmsi = np.concatenate(
            (self._mmsi[keep], np.fromiter((v.mmsi for v in movers), np.int64, len(movers)))
        )
        order = np.argsort(mmsi, kind="stable")
        kept = [v for v, k in zip(self._vessels, keep.tolist(), strict=True) if k]
        vessels = kept + movers
        self._set_table(
            mmsi[order],
            np.concatenate((table[:, keep], fresh), axis=1)[:, order],
            [vessels[i] for i in order.tolist()],
        )

    def _set_table(
        self, mmsi: np.ndarray, table: np.ndarray, vessels: list[VesselState], keep: np.ndarray | None = None
    ) -> None:
        """The new table (`vessels` filtered by `keep` when given)."""
        self._mmsi = mmsi
        self._table = table
        if keep is not None:
            vessels = [v for v, k in zip(vessels, keep.tolist(), strict=True) if k]
        self._vessels = vessels
        self._in_table = set(mmsi.tolist())

    def _is_mover(self, v: VesselState | None, now: float) -> bool:
        """Moving, with a fresh fix (under `max_fix_age_s`), a course, and not at anchor or moored
        (what `_sync` tests, inline, for every vessel it reads)."""
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

    # -- the tick ---------------------------------------------------------------------------------------
    def on_tick(self, ctx: RuleContext) -> None:
        self._sync(ctx)
        seen: dict[tuple[int, int], tuple[Severity, dict[str, Any], VesselState, VesselState]] = {}
        if len(self._mmsi) >= 2:
            self._pairs(ctx.now, seen)
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

    def _pairs(
        self,
        now: float,
        seen: dict[tuple[int, int], tuple[Severity, dict[str, Any], VesselState, VesselState]],
    ) -> None:
        """The pairs at warning or alarm level now (or held inside the hysteresis band), into `seen`."""
        p = self.p
        table = self._table
        # Positions dead-reckoned to now, in metres, and velocities: rows x, y, vx, vy. The numbers of
        # the per-column code (x = lon * kx + vx * age), with the mean latitude of all movers.
        age = np.clip(now - table[_TIME], 0.0, None)
        lat0 = float(np.mean(table[_LAT]))
        ky = 6_371_008.8 * math.pi / 180.0
        kx = ky * math.cos(math.radians(lat0))
        state = table[: _VY + 1] * np.array([[kx], [ky], [1.0], [1.0]])
        state[:2] += table[_VX : _VY + 1] * age
        radius = p.range_nm * METRES_PER_NM
        a, b = sweep_x(state[0], radius)
        if not len(a):
            return
        diff = state[:, b] - state[:, a]
        d, dv = diff[:2], diff[2:]
        rng = np.hypot(d[0], d[1])
        cpa, tcpa = cpa_of_pairs(d, dv, p.min_relative_kn * KNOTS_TO_MS)
        # A pair reaches `seen` only if it is within range, its CPA inside the clearing distance and
        # ahead in time (and finite); then it must be at warning or alarm level (the loosest of
        # `_severity`'s thresholds) or already active. Few pairs pass the first tests: the rest is
        # done in Python.
        clear_cpa = p.warning_cpa_nm * p.clear_factor * METRES_PER_NM
        ahead = np.flatnonzero((rng <= radius) & (cpa < clear_cpa) & (tcpa > 0))
        if not len(ahead):
            return
        f = max(p.clear_factor, 1.0)
        close_cpa = max(p.alarm_cpa_nm * f, p.warning_cpa_nm) * METRES_PER_NM
        close_tcpa = max(p.alarm_tcpa_min * f, p.warning_tcpa_min) * 60
        assist = table[_ASSIST]
        mmsi = self._mmsi
        movers = self._vessels
        active = self._active
        for k in ahead.tolist():
            tc = tcpa.item(k)
            ia, ib = a.item(k), b.item(k)
            if tc == math.inf or assist.item(ia) or assist.item(ib):
                continue
            if ia > ib:
                ia, ib = ib, ia  # the lower MMSI first
            c = cpa.item(k)
            key = (mmsi.item(ia), mmsi.item(ib))
            if not ((c < close_cpa and tc <= close_tcpa) or key in active):
                continue
            severity = self._severity(c, tc, key in self._alarms)
            if severity is None and key not in active:
                continue
            if severity is None:
                if tc > p.warning_tcpa_min * 60 * p.clear_factor:
                    continue  # situation opened up in time: let it clear
                severity = "warning"  # inside the hysteresis band: keep the alert
            va, vb = movers[ia], movers[ib]
            seen[key] = (
                severity,
                {
                    "cpa_nm": round(c / METRES_PER_NM, 3),
                    "tcpa_min": round(tc / 60.0, 2),
                    "range_nm": round(rng.item(k) / METRES_PER_NM, 3),
                    "sog_kn": va.sog,
                    "other_sog_kn": vb.sog,
                    "cog_deg": va.cog,
                    "other_cog_deg": vb.cog,
                },
                va,
                vb,
            )

    def _severity(self, cpa_m: float, tcpa_s: float, was_alarm: bool = False) -> Severity | None:
        p = self.p
        f = p.clear_factor if was_alarm else 1.0
        if cpa_m < p.alarm_cpa_nm * METRES_PER_NM * f and 0 < tcpa_s <= p.alarm_tcpa_min * 60 * f:
            return "alarm"
        if cpa_m < p.warning_cpa_nm * METRES_PER_NM and 0 < tcpa_s <= p.warning_tcpa_min * 60:
            return "warning"
        return None

    def on_forget(self, mmsi: int) -> None:
        self._touched.add(mmsi)  # read again at the next tick (gone, or a new vessel by then)
        self._active = {k for k in self._active if mmsi not in k}
        self._alarms = {k for k in self._alarms if mmsi not in k}


RULE = CpaRule
