"""cpa: two vessels on course for a close-quarters situation (closest point of approach).

Candidate pairs: both vessels over `min_sog_kn` (1 kn) with a known course, within `range_nm`
(3 NM) of each other, neither at anchor or moored (by status; a vessel over 1 kn is not moored by
speed), and not an assist pair. An assist pair is an assist craft (a tug or pilot boat: on the
allow-list, or by its declared type with `skip_assist_categories`) with a ship it could be serving
(`vts.vessel_class.may_be_large`: large, or declared large within the hour before its static
data changed, as when a second transmitter uses its MMSI; not itself an assist craft), or two
service craft (each on an allow-list, or, with `skip_assist_categories`, declaring a pilot, SAR,
tug, port tender or law enforcement type), which work together all day (two tugs and a pilot boat
meet the ship they will berth; in recorded Australian traffic, pairs of tugs at 1-7 kn were most of
the close quarters).
Any other pair is a pair like any other: a tug and a fishing boat or a yacht, a tug and a vessel
that sent no static data.

A vessel counts until its last fix is older than `max_fix_age_s` (3 min) or than its own
lost-target time (`VesselState.stale_after`, IEC 62388: six nominal reporting intervals), whichever
is longer: a Class B ship under 2 kn reports every 3 min and is lost only after 18, so neither its
normal interval nor a missed report or two clears its alert (the engine's cooldown would then keep
the alert from coming back). Positions are dead-reckoned to the current event time from each
vessel's last fix. A situation is raised only while both last fixes are at most
`raise_fix_intervals` (3) nominal reporting intervals old: in recorded traffic (SAR.log) a pair was
raised on a ship's fix dead-reckoned 177 s, and its next fix showed the two had already passed;
the alert cleared 20 s later.

Geometry: each vessel's position is dead-reckoned in degrees (its own east-west scale), and each
pair's relative position is taken on a local plane at the pair's own mid-latitude, with the
longitude difference wrapped to [-180, 180): no other vessel changes a pair's CPA, and pairs
across the antimeridian are pairs. Candidate pairs come from a sweep along longitude in numpy over
the moving vessels (`sweep_x`: sorted, each vessel joined with those at most the range further
east by `searchsorted`), scaled by the smallest cosine of the movers' latitudes, so that no pair
within range is missed (a pair's mid-latitude cosine is never smaller; the scale is never taken
below the one that makes the range 90 degrees of longitude, which only matters within a few
hundredths of a degree of a pole); the vessels closer to +180 than twice the range (in that scale)
are swept a second time, 360 degrees further west, to meet those just east of -180. CPA and TCPA
are then computed with numpy for all candidate pairs at once. There is no Python loop over
vessels or pairs, only over the pairs that alert.

Severity `warning` when CPA < 0.3 NM within 10 minutes, `alarm` when CPA < 0.1 NM within 5 minutes
(0 < TCPA); the alarm limits may not be wider than the warning ones (the parameters are refused).
Pairs whose relative speed is under `min_relative_kn` (vessels in company, a tow) have no
meaningful CPA and are left out. A situation is raised once it has held on every evaluation (each
tick, 10 s) for `confirm_s` (10 s): ARPA smooths a target over several scans, and a CPA from one
course report in a turn, or from a noisy course, comes and goes. A warning is not raised with the
closest point under `min_warning_tcpa_s` (30 s) away: the vessels are passing then (harbour boats
crossing at 400 m in recorded Danish traffic), and it would clear before anyone read it; an alarm
is. State alert per pair (mmsi = the lower MMSI); it is updated while
the situation holds (severity may rise or fall) and cleared once the ships have passed (TCPA below
zero) or the predicted CPA opens beyond `clear_factor` x the warning distance.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vts.alerts.model import Severity
from vts.batch import STATIC
from vts.geo import EARTH_RADIUS_M, KNOTS_TO_MS, METRES_PER_NM
from vts.rules._common import SERVICE_SHIP_TYPES, allowlisted_mmsis
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import CpaParams
from vts.tracker import STALE_FACTOR, nominal_interval
from vts.vessel_class import declares_small_craft, may_be_large

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import Report
    from vts.tracker import VesselState

ASSIST_CATEGORIES = frozenset({"tug", "pilot"})
AT_ANCHOR_OR_MOORED = (1, 5)
UNDERWAY_DESPITE_STATUS_KN = 3.0
"""A ship showing "at anchor"/"moored" above this speed forgot its status (as `vts.vessel_class`)."""
_NO_ROWS = np.empty(0, dtype=np.int64)


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
    TCPA = +inf and CPA = the current range (with `min_rel_ms` 0, equal velocities give NaN).
    """
    dx = x[j] - x[i]
    dy = y[j] - y[i]
    dvx = vx[j] - vx[i]
    dvy = vy[j] - vy[i]
    rng = np.hypot(dx, dy)
    dv2 = dvx * dvx + dvy * dvy
    moving = dv2 >= min_rel_ms * min_rel_ms
    safe = np.where(moving, dv2, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # no minimum: equal velocities give NaN
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
    longest such run). A dozen numpy calls whatever the number of points (the arrays' own methods
    and `ufunc.reduce`: the `np.` functions of the same names go through a layer of Python first)."""
    n = len(x)
    if n < 2:
        return _NO_ROWS, _NO_ROWS
    order = x.argsort(kind="stable")
    xs = x[order]
    # a hair wider than the radius: x_i + r rounds differently from x_j - x_i (the last test is exact)
    hi = xs.searchsorted(xs + (radius * (1.0 + 1e-9) + 1e-6), side="right")
    counts = hi - _arange(n + 1)[1:]  # the points after each one, within radius in x
    width = int(np.maximum.reduce(counts))
    if width <= 0:
        return _NO_ROWS, _NO_ROWS
    if n * width <= _GRID_MAX:  # the points k + 1 ... k + width after each, those in range
        after = _arange(n)[:, None] + _arange(width + 1)[1:]
        second = after[after < hi[:, None]]
    else:  # a crowd: the same pairs, built without the grid
        first = _arange(n).repeat(counts)
        starts = counts.cumsum() - counts
        second = first + 1 + (_arange(len(first)) - starts.repeat(counts))
    # (each point once per point after it in range: `order[_arange(n).repeat(counts)]`, in one call)
    return order.repeat(counts), order[second]


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
    in half the numpy calls. (With `min_rel_ms` 0, equal velocities give NaN, which no
    comparison selects.)"""
    # dvx * dvx + dvy * dvy: the sum of two rows is their one addition (squares are never -0.0)
    dv2 = (dv * dv).sum(axis=0)
    moving = dv2 >= min_rel_ms * min_rel_ms
    dot = d[0] * dv[0] + d[1] * dv[1]  # written out: a sum would turn -0.0 + -0.0 into 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        tcpa = np.where(moving, -dot / np.where(moving, dv2, 1.0), np.inf)
    closest = d + dv * np.where(moving, tcpa, 0.0)
    return np.hypot(closest[0], closest[1]), tcpa


@dataclass(slots=True)
class _Pending:
    """A batch whose rows have not all been looked at by the mover table yet (as Python lists:
    a tick takes slices of them, which costs no numpy call)."""

    mmsi: list[int]
    clock: list[float]
    """As `BatchRows.clock`."""
    maybe_at: list[int]
    """Rows that may make their vessel a mover: a position report over `min_sog_kn`, a position
    report without a fix, a report older than the clock, a static report (it may make the vessel
    Class B, whose longer lost-target time brings an older fix back)."""
    maybe_mmsi: list[int]
    """Their MMSIs."""
    start: int = 0
    """Rows before this one have been looked at."""
    final: bool = False
    """A later batch has begun: every row has been processed."""


# rows of the mover table (`CpaRule._table`): first those written each time a mover is read (its
# kinematics and fix-age limit), then its flags (written when what they are judged from changed)
_LON, _LAT, _SOG, _COG, _TIME, _LIMIT, _ASSIST, _LARGE, _SERVICE, _CRAFT = range(10)
_COLUMNS = 10
_KINEMATIC = _LIMIT + 1
"""Rows `_LON` ... `_LIMIT`."""
_FLAGS = _COLUMNS - _KINEMATIC
"""Rows `_ASSIST` ... `_CRAFT`."""
_SMALL = 64
"""Up to this many pairs in range, their CPA is worked out in Python (one numpy call instead of a
dozen); beyond, in numpy."""
_CROWD = 1024
"""Beyond this many pairs close in x, those far apart in y are left out before any square root."""
_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
"""Metres per degree of latitude (and of longitude on the equator)."""
_WORLD_M = 360.0 * _M_PER_DEG
"""360 degrees of longitude in equatorial metres."""
_MIN_COS = 1e-9
"""Dead reckoning east-west divides by the cosine of the latitude: never by zero."""


# rows of the movers' state dead-reckoned to a tick (`_dead_reckoned`): a pair's differences of
# the first four are its relative position and velocity
_EAST, _NORTH, _VX, _VY, _HALF_LAT = range(5)
_STATE_ROWS = 5


def _dead_reckoned(table: np.ndarray, now: float) -> tuple[np.ndarray, np.ndarray]:
    """The movers (columns of `table`) dead-reckoned to `now`: their state (rows `_EAST`, `_NORTH`:
    positions in metres, longitude on the equator's scale, the shift east on the vessel's own;
    `_VX`, `_VY`: velocities east and north, m/s; `_HALF_LAT`: half their latitudes, radians) and
    the cosines of their latitudes.

    Written row by row into one array (``out=``), in as few numpy calls as the formulas allow: a
    tick costs about a microsecond a call, whatever the number of movers. The numbers are those of
    ``sog * KNOTS_TO_MS * (sin, cos)(radians(cog))``, ``lat * _M_PER_DEG + shift_north`` and
    ``lon * _M_PER_DEG + shift_east / max(cos(lat), _MIN_COS)``: a product or a sum taken the
    other way round is the same float."""
    state = np.empty((_STATE_ROWS, table.shape[1]))
    course = np.radians(table[_COG])
    velocity = state[_VX : _VY + 1]
    np.sin(course, out=velocity[0])
    np.cos(course, out=velocity[1])
    velocity *= table[_SOG] * KNOTS_TO_MS
    age = now - table[_TIME]
    shift = velocity * np.maximum(age, 0.0, out=age)  # dead reckoning, metres
    # (east and north on the scales of a degree at once: both pairs of rows are adjacent)
    position = np.multiply(table[_LON : _LAT + 1], _M_PER_DEG, out=state[_EAST : _NORTH + 1])
    north = position[1]
    north += shift[1]
    half_lat = np.multiply(north, math.pi / 360.0 / _M_PER_DEG, out=state[_HALF_LAT])
    cos_lat = half_lat + half_lat
    np.cos(cos_lat, out=cos_lat)
    east_shift = np.maximum(cos_lat, _MIN_COS)
    np.divide(shift[0], east_shift, out=east_shift)
    position[0] += east_shift
    return state, cos_lat


def _flags_basis(vessel: VesselState) -> tuple[object, ...] | None:
    """What a mover's flags (`CpaRule._table` rows `_ASSIST` ... `_CRAFT`) are judged from besides
    its MMSI and the allow-lists: the fields `vts.vessel_class.may_be_large` and
    `declares_small_craft` read, and the category; None when they also depend on the time (a
    former identity, which counts for an hour). A reading with the same basis as the last one
    keeps the flags of its slot."""
    if vessel.former_identities:
        return None
    return (vessel.category, vessel.ais_class, vessel.ship_type, vessel.to_bow, vessel.to_stern)


def _wrap(east_m: np.ndarray) -> np.ndarray:
    """Longitudes (or their differences) in equatorial metres, wrapped to [-180, 180) degrees; a
    value already inside comes back unchanged, bit for bit."""
    return east_m - _WORLD_M * np.floor((east_m + _WORLD_M / 2) / _WORLD_M)


class CpaRule(Rule):
    """Close quarters between moving vessels.

    The tick needs every mover (moving, with a course and a fix that is not too old, and not at
    anchor or moored: what `_sync` tests for each vessel it reads) with its kinematics. Rather than
    go over every tracked vessel on each tick (a Python loop over thousands of vessels), the rule
    keeps a table of the movers, as numpy columns sorted by MMSI, and on each tick reads from the
    tracker only the vessels that sent a report since the previous tick and may have changed: those
    in the table, and those whose report could make them movers (a position report over
    `min_sog_kn`, a position report without a fix, a report older than the clock, a static report).
    A vessel's kinematics, class and fix-age limit change only with its own reports, so one that
    sent nothing stays a mover until its fix is too old (checked in numpy against the limit kept in
    its row), and a non-mover stays one. The reports are read off the batches (`interest` keeps no
    row: there is no per-report work); reports processed one by one reach `on_report` instead.

    A tick costs about as many microseconds as it makes numpy calls, whatever their size: the table
    also holds each mover's fix-age limit (computed when its row is read) and its assist,
    large-vessel, service-craft and small-craft flags (judged again only when the fields they are
    judged from changed, `_flags_basis`), the rows a tick reads come from Python lists kept per
    batch, the sweep (`sweep_x`) and the CPA arithmetic are those of `candidate_pairs` and
    `compute_cpa`, number for number, in fewer calls, and when only a few pairs are in range (in a
    port, a few dozen) their CPA is worked out in Python with the same floating-point operations.
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
        self._emerging: dict[tuple[int, int], float] = {}
        """Pairs in a situation not raised yet: since when it has held on every evaluation."""
        self._synced = False
        """False until the table has been filled from every tracked vessel once."""
        self._pending: list[_Pending] = []
        self._touched: set[int] = set()
        """Vessels with a report outside any batch, or forgotten, since the last tick."""
        self._table = np.empty((_COLUMNS, 0))
        """Per slot (columns): lon, lat, sog, cog, position_time of a mover as the tracker had them
        when last read, the age its fix may reach (the longer of `max_fix_age_s` and its
        lost-target time), 1.0 for an assist craft, 1.0 for a large vessel that is not one (a ship
        an assist craft may be serving), 1.0 for a service craft (on any allow-list, or by its
        declared type) and 1.0 for a small craft (when `small_craft_pairs_alarm_only`). A mover
        keeps its slot while it is one."""
        self._alive = np.empty(0, dtype=bool)
        """The slots that hold a mover."""
        self._slot_mmsi = np.empty(0, dtype=np.int64)
        self._slot_of: dict[int, int] = {}
        """Mover -> its slot."""
        self._vessel_at: list[VesselState | None] = []
        self._judged_from: list[tuple[object, ...] | None] = []
        """Per slot: the vessel's fields its flags (rows `_ASSIST` ... `_CRAFT`) were judged from
        (`_flags_basis`); None: to be judged at its next reading."""
        self._free: list[int] = []
        self._order: np.ndarray | None = None
        """The movers' slots in MMSI order (None: to be sorted again)."""
        self._order_mmsi = np.empty(0, dtype=np.int64)
        self._assist_of: object = None
        """The allow-lists the assist flags were computed with (a reload brings new ones)."""
        self._assist_mmsi: frozenset[int] = frozenset()
        self._service_mmsi: frozenset[int] = frozenset()
        """Every allow-listed MMSI (the port's service craft)."""

    # -- the mover table -------------------------------------------------------------------------------
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """No row (the rule has no per-report work); the batch is kept for the ticks to read."""
        for pend in self._pending:
            pend.final = True
        if len(batch):
            rows = batch.rows(ctx.now)
            at = np.flatnonzero(
                (batch.sog > self.p.min_sog_kn) | rows.no_fix | rows.late | (rows.kind == STATIC)
            )
            self._pending.append(
                _Pending(batch.mmsi.tolist(), rows.clock.tolist(), at.tolist(), batch.mmsi[at].tolist())
            )
        return np.zeros(len(batch), dtype=bool)

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        """Reached only by reports processed one by one (in a batch no row reaches the rule)."""
        self._touched.add(report.mmsi)

    def _to_read(self, now: float) -> set[int]:
        """MMSIs of the vessels whose mover status may have changed since the last tick."""
        read = self._touched
        self._touched = set()
        in_table = self._slot_of.keys()
        for pend in self._pending:
            start = pend.start
            # the rows processed when the clock reached `now` (`BatchRows.processed`)
            end = len(pend.mmsi) if pend.final else bisect_left(pend.clock, now)
            if end > start:
                at = pend.maybe_at
                read.update(pend.maybe_mmsi[bisect_left(at, start) : bisect_left(at, end)])
                if in_table:
                    read.update(in_table & pend.mmsi[start:end])
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
        slot_of = self._slot_of
        if ctx.allowlists is not self._assist_of:  # new allow-lists: every flag again
            self._assist_of = ctx.allowlists
            self._assist_mmsi = allowlisted_mmsis(ctx.allowlists, ("tug", "pilot"))
            # (or by declared type: below)
            self._service_mmsi = allowlisted_mmsis(ctx.allowlists, ("tug", "pilot", "coastguard", "other"))
            read.update(slot_of)
            self._judged_from = [None] * len(self._judged_from)
        get = ctx.tracker.get
        max_age = p.max_fix_age_s
        lost = STALE_FACTOR
        min_sog = p.min_sog_kn
        assist_mmsi = self._assist_mmsi
        service_mmsi = self._service_mmsi
        by_category = p.skip_assist_categories
        craft_pairs_narrowed = p.small_craft_pairs_alarm_only
        vessel_at = self._vessel_at
        judged_from = self._judged_from
        free = self._free
        slots: list[int] = []
        rows: list[float] = []
        flag_slots: list[int] = []
        flag_rows: list[float] = []
        new: list[int] = []
        freed: list[int] = []
        for mmsi in read:
            v = get(mmsi)
            if v is None or v.is_shadow:
                t = lat = lon = sog = cog = status = None
            else:  # (each field read once)
                t = v.position_time
                lat = v.lat
                lon = v.lon
                sog = v.sog
                cog = v.cog
                status = v.nav_status
            if (  # not a mover
                v is None
                or t is None
                or lat is None
                or lon is None
                or sog is None
                or cog is None
                or sog <= min_sog
                or (status in AT_ANCHOR_OR_MOORED and sog < UNDERWAY_DESPITE_STATUS_KN)
                # (`VesselState.stale_after`, without its two Python calls)
                or now - t
                > (limit := max(max_age, lost * nominal_interval(v.ais_class, v.class_b_cs, sog, status)))
            ):
                slot = slot_of.pop(mmsi, None)
                if slot is not None:
                    freed.append(slot)
                continue
            slot = slot_of.get(mmsi)
            if slot is None:
                if not free:
                    self._grow()
                slot = slot_of[mmsi] = free.pop()
                judged_from[slot] = None
                new.append(slot)
            vessel_at[slot] = v
            slots.append(slot)
            rows += (lon, lat, sog, cog, t, limit)
            basis = _flags_basis(v)
            if basis is None or basis != judged_from[slot]:  # (most readings: a new fix, same flags)
                judged_from[slot] = basis
                assist = mmsi in assist_mmsi or (by_category and v.category in ASSIST_CATEGORIES)
                large = not assist and may_be_large(v, now)
                service = mmsi in service_mmsi or (
                    by_category and (assist or v.ship_type in SERVICE_SHIP_TYPES)
                )
                flag_slots.append(slot)
                flag_rows += (
                    float(assist),
                    float(large),
                    float(service),
                    float(craft_pairs_narrowed and declares_small_craft(v)),
                )
        table = self._table
        alive = self._alive
        if freed:
            alive[freed] = False
        if slots:  # (slot lists as arrays: numpy turns a list into an index several times slower)
            table[:_KINEMATIC, np.fromiter(slots, np.intp, len(slots))] = (
                np.fromiter(rows, float, len(rows)).reshape(len(slots), _KINEMATIC).T
            )
        if flag_slots:
            table[_KINEMATIC:, np.fromiter(flag_slots, np.intp, len(flag_slots))] = (
                np.fromiter(flag_rows, float, len(flag_rows)).reshape(len(flag_slots), _FLAGS).T
            )
        if new:
            alive[new] = True
            self._slot_mmsi[new] = [vessel_at[s].mmsi for s in new]  # type: ignore[union-attr]
        # fixes grown too old (the same comparison as above, with the limit of the row)
        stale = (alive & (now - table[_TIME] > table[_LIMIT])).nonzero()[0].tolist()
        if stale:
            alive[stale] = False
            mmsi_at = self._slot_mmsi
            for slot in stale:
                del slot_of[mmsi_at.item(slot)]
            freed += stale
        if freed:
            for slot in freed:
                vessel_at[slot] = None
            free += freed
        if new or freed:
            self._order = None

    def _grow(self) -> None:
        """More slots (twice as many)."""
        size = len(self._alive)
        more = max(size, 64)
        self._table = np.concatenate((self._table, np.zeros((_COLUMNS, more))), axis=1)
        self._alive = np.concatenate((self._alive, np.zeros(more, dtype=bool)))
        self._slot_mmsi = np.concatenate((self._slot_mmsi, np.zeros(more, dtype=np.int64)))
        self._vessel_at += [None] * more
        self._judged_from += [None] * more
        self._free += range(size + more - 1, size - 1, -1)

    def _movers(self) -> tuple[np.ndarray, np.ndarray]:
        """The movers' slots in MMSI order, and their MMSIs."""
        if self._order is None:
            slots = self._alive.nonzero()[0]
            slots = slots[self._slot_mmsi[slots].argsort(kind="stable")]
            self._order = slots
            self._order_mmsi = self._slot_mmsi[slots]
        return self._order, self._order_mmsi

    # -- the tick ---------------------------------------------------------------------------------------
    def on_tick(self, ctx: RuleContext) -> None:
        self._sync(ctx)
        seen: dict[tuple[int, int], tuple[Severity, dict[str, Any], VesselState, VesselState]] = {}
        if len(self._slot_of) >= 2:
            self._pairs(ctx.now, seen)
        # the evaluation's slot: the engine runs this tick at the first report in each slot, so two
        # evaluations in a row may be less than a tick apart in event time
        slot = math.floor(ctx.now / self.tick_seconds) * self.tick_seconds
        shown = ctx.alerts.is_active
        emerging = {
            k: self._emerging.get(k, slot) for k in seen if k not in self._active and not shown(self.id, *k)
        }
        self._emerging = emerging
        for key, (severity, details, a, b) in sorted(seen.items()):
            since = emerging.get(key)
            if since is not None:
                if slot - since < self.p.confirm_s:
                    continue  # confirmed (or not) at the next evaluations
                if not (self._fresh(a, ctx.now) and self._fresh(b, ctx.now)):
                    continue  # raised once both are heard again, if it still holds then
                if severity == "warning" and details["tcpa_min"] * 60.0 < self.p.min_warning_tcpa_s:
                    continue  # passing now: over before it could be acted on
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
            if since is not None:
                if not shown(self.id, *key):
                    continue  # held back by the engine (messages, cooldown, snooze): judged anew
                del emerging[key]
            self._active.add(key)
            if severity == "alarm":
                self._alarms.add(key)
            else:
                self._alarms.discard(key)
        for key in sorted(self._active - set(seen)):
            self._active.discard(key)
            self._alarms.discard(key)
            why, details = self._ended(key, ctx)
            ctx.alerts.clear(
                type=self.id,
                mmsi=key[0],
                other_mmsi=key[1],
                message=f"Close-quarters situation over: {why}",
                details=details,
            )

    def _fresh(self, vessel: VesselState, now: float) -> bool:
        """The vessel's last fix is recent enough to raise a situation on (`raise_fix_intervals`)."""
        t = vessel.position_time
        return t is not None and now - t <= vessel.expected_interval() * self.p.raise_fix_intervals

    def _ended(self, key: tuple[int, int], ctx: RuleContext) -> tuple[str, dict[str, Any]]:
        """Why the situation of pair `key` no longer holds, in words, and the evidence of now that
        says so (``reason`` and, while both still move, the range, CPA and TCPA of now): the
        cleared alert must not show the numbers of the last warning under "over"."""
        p = self.p
        vessels = [ctx.tracker.get(m) for m in key]
        for mmsi, v in zip(key, vessels, strict=True):
            if mmsi in self._slot_of:
                continue
            label = str(v.name or mmsi) if v is not None else str(mmsi)
            if v is None or v.is_shadow:
                return f"{label} no longer tracked", {"reason": "target_lost"}
            if v.sog is not None and v.sog <= p.min_sog_kn:
                return f"{label} slowed to {v.sog:.1f} kn", {"reason": "stopped", "ended_by_mmsi": mmsi}
            if v.nav_status in AT_ANCHOR_OR_MOORED:
                return f"{label} at anchor or moored", {"reason": "stopped", "ended_by_mmsi": mmsi}
            return f"no recent position of {label}", {"reason": "no_recent_fix", "ended_by_mmsi": mmsi}
        a, b = (self._vessel_at[self._slot_of[m]] for m in key)
        table = self._table[:, [self._slot_of[m] for m in key]]
        state, _ = _dead_reckoned(table, ctx.now)
        east, north, half_lat = state[_EAST], state[_NORTH], state[_HALF_LAT]
        # the pair's relative position on a plane at its mid-latitude, as `_in_range` takes it
        d = np.array(
            [_wrap(east[1:] - east[:1])[0] * math.cos(half_lat[0] + half_lat[1]), north[1] - north[0]]
        )
        dv = state[_VX : _VY + 1, 1] - state[_VX : _VY + 1, 0]
        rng = float(np.hypot(d[0], d[1]))
        cpa, tcpa = (
            float(x[0]) for x in cpa_of_pairs(d[:, None], dv[:, None], p.min_relative_kn * KNOTS_TO_MS)
        )
        details: dict[str, Any] = {
            "range_nm": round(rng / METRES_PER_NM, 3),
            "sog_kn": a.sog if a is not None else None,
            "other_sog_kn": b.sog if b is not None else None,
            "cog_deg": a.cog if a is not None else None,
            "other_cog_deg": b.cog if b is not None else None,
        }
        if rng > p.range_nm * METRES_PER_NM:
            return f"{details['range_nm']:.1f} NM apart", {"reason": "out_of_range", **details}
        if not math.isfinite(tcpa):
            rel = float(np.hypot(dv[0], dv[1])) / KNOTS_TO_MS
            return f"moving together ({rel:.1f} kn relative)", {"reason": "moving_together", **details}
        details.update(cpa_nm=round(cpa / METRES_PER_NM, 3), tcpa_min=round(tcpa / 60.0, 2))
        if tcpa <= 0:
            return f"passed, {details['range_nm']:.2f} NM apart and opening", {"reason": "passed", **details}
        if cpa >= self._clear_cpa():
            return f"CPA opened to {details['cpa_nm']:.2f} NM", {"reason": "cpa_opened", **details}
        return (
            f"CPA {details['cpa_nm']:.2f} NM now {details['tcpa_min']:.0f} min ahead",
            {"reason": "later", **details},
        )

    @staticmethod
    def _in_range(
        table: np.ndarray, now: float, radius: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """The pairs of movers (columns of `table`) at most `radius` metres apart now: indices `a`
        and `b`, the relative positions and velocities ``b - a`` (rows dx, dy, dvx, dvy, metres and
        m/s) and the ranges; None when there is none.

        Each vessel is dead-reckoned to now in degrees, east-west on the scale of its own latitude;
        a pair's relative position is then taken on a plane at the pair's mid-latitude, the
        longitude difference wrapped to [-180, 180). The sweep runs along longitude scaled by the
        smallest cosine of the movers' latitudes (see the module docstring), so it finds every pair
        within range.

        The swept pairs' states are gathered at once (`take`: indexing with an array, ``[:, a]``,
        costs several times more), the pair's rows subtracted at once; in a crowd (over `_CROWD`
        swept pairs) the pairs further apart north-south than the range are left out first."""
        state, cos_lat = _dead_reckoned(table, now)
        east = state[_EAST]
        lowest, highest = float(np.minimum.reduce(east)), float(np.maximum.reduce(east))
        if lowest < -_WORLD_M / 2 or highest >= _WORLD_M / 2:
            east[:] = _wrap(east)
            highest = float(np.maximum.reduce(east))
        # the sweep's scale: no pair's mid-latitude cosine is smaller (cos is concave), and never so
        # small that the range spans more than 90 degrees of longitude
        scale = max(float(np.minimum.reduce(cos_lat)), radius / (90.0 * _M_PER_DEG))
        x = east * scale
        near_180 = _NO_ROWS
        if highest >= _WORLD_M / 2 - 2.0 * radius / scale:
            # the vessels near +180 once more, 360 degrees west, to meet those just east of -180
            near_180 = (east >= _WORLD_M / 2 - 2.0 * radius / scale).nonzero()[0]
            x = np.concatenate((x, (east[near_180] - _WORLD_M) * scale))
        a, b = sweep_x(x, radius)
        if len(near_180):
            n = len(east)
            keep = ((a < n) | (b < n)).nonzero()[0]  # two copies: the pair of the originals
            owner = np.concatenate((_arange(n), near_180))
            a, b = owner[a[keep]], owner[b[keep]]
        if not len(a):
            return None
        if len(a) > _CROWD:  # many pairs close in x: first those not far apart north-south
            north = state[_NORTH]
            # a hair wider than the radius: the range (a square root) is never under its north
            # offset by more than a rounding (the last test is exact)
            near = (np.abs(north.take(b) - north.take(a)) <= radius * (1.0 + 1e-9)).nonzero()[0]
            a, b = a.take(near), b.take(near)
        of_a = state.take(a, axis=1)
        of_b = state.take(b, axis=1)
        mid_lat = of_a[_HALF_LAT] + of_b[_HALF_LAT]
        diff = np.subtract(of_b, of_a, out=of_b)  # rows dx, dy, dvx, dvy (b - a), and a spare one
        dx = diff[_EAST]
        if len(near_180):
            dx[:] = _wrap(dx)
        dx *= np.cos(mid_lat)  # on the scale of the pair's mid-latitude
        rng = np.hypot(dx, diff[_NORTH], out=diff[_HALF_LAT])  # (the spare row)
        near = (rng <= radius).nonzero()[0]
        if not len(near):
            return None
        diff = diff.take(near, axis=1)
        return a.take(near), b.take(near), diff[:_HALF_LAT], diff[_HALF_LAT]

    def _pairs(
        self,
        now: float,
        seen: dict[tuple[int, int], tuple[Severity, dict[str, Any], VesselState, VesselState]],
    ) -> None:
        """The pairs at warning or alarm level now (or held inside the hysteresis band), into `seen`."""
        p = self.p
        slots, mmsi = self._movers()
        table = self._table.take(slots, axis=1)  # in MMSI order (the sweep's ties follow it)
        in_range = self._in_range(table, now, p.range_nm * METRES_PER_NM)
        if in_range is None:
            return
        a, b, diff, rng = in_range
        min_rel = p.min_relative_kn * KNOTS_TO_MS
        if len(a) <= _SMALL and min_rel * min_rel > 0.0:
            found = self._few_pairs([*diff.tolist(), rng.tolist(), a.tolist(), b.tolist()], min_rel)
        else:
            found = self._many_pairs(a, b, diff, rng, min_rel)
        assist = table[_ASSIST]
        large = table[_LARGE]
        service = table[_SERVICE]
        craft = table[_CRAFT]
        vessel_at = self._vessel_at
        active = self._active
        f = p.clear_factor
        close_cpa = max(p.alarm_cpa_nm * f, p.warning_cpa_nm) * METRES_PER_NM
        close_tcpa = max(p.alarm_tcpa_min * f, p.warning_tcpa_min) * 60
        for ia, ib, c, tc, r in found:
            if (
                (assist.item(ia) and large.item(ib))  # an assist craft with a ship it may be serving
                or (assist.item(ib) and large.item(ia))
                or (service.item(ia) and service.item(ib))  # two service craft
            ):
                continue
            if ia > ib:
                ia, ib = ib, ia  # the lower MMSI first
            key = (mmsi.item(ia), mmsi.item(ib))
            if not ((c < close_cpa and tc <= close_tcpa) or key in active):
                continue
            severity = self._severity(c, tc, key in self._alarms)
            if severity is None and key not in active:
                continue
            if severity == "warning" and key not in active and craft.item(ia) and craft.item(ib):
                continue  # two small craft: only a near-collision (the alarm limits) is raised
            if severity is None:
                if tc > p.warning_tcpa_min * 60 * p.clear_factor:
                    continue  # situation opened up in time: let it clear
                severity = "warning"  # inside the hysteresis band: keep the alert
            va, vb = vessel_at[slots.item(ia)], vessel_at[slots.item(ib)]
            seen[key] = (
                severity,
                {
                    "cpa_nm": round(c / METRES_PER_NM, 3),
                    "tcpa_min": round(tc / 60.0, 2),
                    "range_nm": round(r / METRES_PER_NM, 3),
                    "sog_kn": va.sog,
                    "other_sog_kn": vb.sog,
                    "cog_deg": va.cog,
                    "other_cog_deg": vb.cog,
                },
                va,
                vb,
            )

    def _clear_cpa(self) -> float:
        """The CPA beyond which a pair is never a candidate (`_few_pairs`, `_many_pairs`): the
        warning distance with its hysteresis (the alarm distance is never wider)."""
        p = self.p
        return p.warning_cpa_nm * p.clear_factor * METRES_PER_NM

    def _few_pairs(self, cols: list[list[Any]], min_rel: float) -> list[tuple[int, int, float, float, float]]:
        """`_many_pairs` in Python, for a few pairs (columns dx, dy, dvx, dvy, range, a, b; the
        indices as ints or floats): the arithmetic of `cpa_of_pairs`, one float operation for one,
        with only the square roots in numpy. (`min_rel` > 0: a pair moving relative to the other
        never divides by zero.)"""
        min_rel2 = min_rel * min_rel
        ahead: list[tuple[int, int, float, float, float]] = []
        cx: list[float] = []
        cy: list[float] = []
        # the float columns typed (compiled: the arithmetic on C doubles, not on Python objects)
        dxs: list[float] = cols[0]
        dys: list[float] = cols[1]
        dvxs: list[float] = cols[2]
        dvys: list[float] = cols[3]
        rs: list[float] = cols[4]
        if not len(dxs) == len(dys) == len(dvxs) == len(dvys) == len(rs) == len(cols[5]) == len(cols[6]):
            raise ValueError("columns of different lengths")
        for k in range(len(dxs)):
            dvx = dvxs[k]
            dvy = dvys[k]
            dv2 = dvx * dvx + dvy * dvy
            if dv2 >= min_rel2:
                dx = dxs[k]
                dy = dys[k]
                tcpa = -(dx * dvx + dy * dvy) / dv2
                if tcpa > 0:  # (not moving: TCPA infinite, never a candidate)
                    ahead.append((int(cols[5][k]), int(cols[6][k]), 0.0, tcpa, rs[k]))
                    cx.append(dx + dvx * tcpa)
                    cy.append(dy + dvy * tcpa)
        if not ahead:
            return []
        clear_cpa = self._clear_cpa()
        cpa = np.hypot(cx, cy).tolist()
        return [(a, b, c, tc, r) for (a, b, _, tc, r), c in zip(ahead, cpa, strict=True) if c < clear_cpa]

    def _many_pairs(
        self, a: np.ndarray, b: np.ndarray, diff: np.ndarray, rng: np.ndarray, min_rel: float
    ) -> list[tuple[int, int, float, float, float]]:
        """The candidates: pairs whose CPA is inside the clearing distance, ahead in time (a finite
        TCPA over 0), as (a, b, CPA, TCPA, range); no other pair can reach `seen`."""
        cpa, tcpa = cpa_of_pairs(diff[:2], diff[2:], min_rel)
        ahead = np.flatnonzero((cpa < self._clear_cpa()) & (tcpa > 0) & (tcpa < np.inf))
        if not len(ahead):
            return []
        return list(
            zip(
                a[ahead].tolist(),
                b[ahead].tolist(),
                cpa[ahead].tolist(),
                tcpa[ahead].tolist(),
                rng[ahead].tolist(),
                strict=True,
            )
        )

    def _severity(self, cpa_m: float, tcpa_s: float, was_alarm: bool = False) -> Severity | None:
        p = self.p
        f = p.clear_factor if was_alarm else 1.0
        if cpa_m < p.alarm_cpa_nm * METRES_PER_NM * f and 0 < tcpa_s <= p.alarm_tcpa_min * 60 * f:
            return "alarm"
        if cpa_m < p.warning_cpa_nm * METRES_PER_NM and 0 < tcpa_s <= p.warning_tcpa_min * 60:
            return "warning"
        return None

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._touched.add(mmsi)  # read again at the next tick (gone, or a new vessel by then)
        self._active = {k for k in self._active if mmsi not in k}
        self._alarms = {k for k in self._alarms if mmsi not in k}
        self._emerging = {k: v for k, v in self._emerging.items() if mmsi not in k}


RULE = CpaRule
