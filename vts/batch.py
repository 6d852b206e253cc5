"""A batch of decoded reports as numpy columns, for the rules' vectorised interest tests.

`Core.process_many` hands the alert engine a run of reports at once. Before they go through the
tracker one by one, each rule that defines `Rule.interest` says, with a few numpy operations over
the whole batch, which rows it must see; every other rule hook call is skipped for the rows outside
its mask (unless the rule watches that vessel: `Rule.watch`). A report in open sea at 14 kn then
costs the loitering, alongside or anchoring rules nothing at all, which per-report Python hooks
never could.

Columns are built once per batch from the report objects (`None` becomes NaN, or -1 for the
navigational status); zone and land tests are vectorised with shapely and cached per zone engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import shapely

from vts.reports import PositionReport, Report, SafetyReport, StaticReport

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from vts.zones import ZoneEngine

T = TypeVar("T")
_MISSING = object()
_POSITION_FIELDS = attrgetter("time", "lat", "lon", "sog", "cog", "heading", "nav_status")
_MMSI = attrgetter("mmsi")
KNOT_MPS = 1852.0 / 3600.0
M_PER_DEG_LAT = 111_195.0


class ReportBatch:
    """Column view of a run of reports (row i = reports[i]).

    Columns (numpy, one value per row): ``mmsi``, ``is_position`` (a position report with a valid
    position), ``time``, ``lat``, ``lon``, ``sog``, ``cog``, ``heading`` (NaN when not given or not
    a position report) and ``nav_status`` (-1 when not given).
    """

    __slots__ = (
        "_cache",
        "cog",
        "heading",
        "is_position",
        "lat",
        "lon",
        "mmsi",
        "nav_status",
        "reports",
        "sog",
        "time",
    )

    def __init__(self, reports: Sequence[Report]) -> None:
        self.reports = reports
        n = len(reports)
        self.mmsi = np.fromiter(map(_MMSI, reports), dtype=np.int64, count=n)
        position = PositionReport
        is_position = np.fromiter(
            [type(r) is position and r.lat is not None and r.lon is not None for r in reports], bool, n
        )
        self.is_position = is_position
        cols = np.full((n, 7), np.nan)
        fixes = list(compress(reports, is_position.tolist()))
        if fixes:
            # (one flat run of floats, None as NaN: cheaper than numpy converting tuples with None)
            nan = math.nan
            fields = chain.from_iterable(map(_POSITION_FIELDS, fixes))
            flat = np.fromiter([nan if v is None else v for v in fields], float, 7 * len(fixes))
            cols[is_position] = flat.reshape(-1, 7)
        self.time = cols[:, 0]
        self.lat = cols[:, 1]
        self.lon = cols[:, 2]
        self.sog = cols[:, 3]
        self.cog = cols[:, 4]
        self.heading = cols[:, 5]
        status = cols[:, 6]
        self.nav_status = np.where(np.isnan(status), -1, status).astype(np.int64)
        self._cache: dict[object, Any] = {}

    def __len__(self) -> int:
        return len(self.reports)

    def memo(self, key: object, build: Callable[[], T]) -> T:
        """`build()`, computed once per batch and key: what several rules' masks ask of the same
        batch (the key names what it depends on besides the batch)."""
        hit = self._cache.get(key, _MISSING)
        if hit is _MISSING:
            hit = self._cache[key] = build()
        return hit  # type: ignore[no-any-return]

    def rows(self, now: float) -> BatchRows:
        """Event time, clock and kind of every row, for the batch processed from event time `now`."""
        return self.memo(("rows", now), lambda: _batch_rows(self, now))

    def ignored_by_zones(self, now: float) -> np.ndarray:
        """Fixes the zone engine may ignore, keeping the vessel's memberships of an earlier fix: an
        invalid position or time, or a time not newer than the vessel's latest fix taken. That latest fix
        is never newer than the clock, so a superset is every fix not newer than the clock before it
        (`now` before the batch, then the newest fix of the batch so far): with the receive times of a
        feed or a replay, the fixes that repeat or go back in time."""
        return self.memo(("ignored_by_zones", now), lambda: _ignored_by_zones(self, now))

    # -- geometry ------------------------------------------------------------------------------------
    def within(self, geometry: BaseGeometry | None) -> np.ndarray:
        """Rows whose position lies in `geometry` (boundary included); False for non-position rows."""
        out = np.zeros(len(self.reports), dtype=bool)
        if geometry is not None and not geometry.is_empty:
            rows = np.flatnonzero(self.is_position)
            if len(rows):
                out[rows] = shapely.intersects_xy(geometry, self.lon[rows], self.lat[rows])
        return out

    def in_zone_kinds(self, zones: ZoneEngine, kinds: Sequence[str]) -> np.ndarray:
        """Rows inside any configured zone of these kinds (instantaneous, no hysteresis)."""
        return self.memo(("kinds", id(zones), tuple(kinds)), lambda: self.within(zone_union(zones, kinds)))

    def near_zone_kinds(self, zones: ZoneEngine, kinds: Sequence[str], margin_m: float) -> np.ndarray:
        """Rows within `margin_m` metres of any zone of these kinds (inside included)."""
        key = ("near", id(zones), tuple(kinds), margin_m)
        return self.memo(key, lambda: self.within(zone_union(zones, kinds, margin_m)))

    def in_any_zone(self, zones: ZoneEngine, margin_m: float = 0.0) -> np.ndarray:
        """Rows within `margin_m` metres of any configured zone."""
        return self.memo(("any", id(zones), margin_m), lambda: self.within(zone_union(zones, None, margin_m)))

    def on_land(self, zones: ZoneEngine) -> np.ndarray:
        return self.memo(("land", id(zones)), lambda: self.within(land_union(zones)))


_union_cache: dict[tuple[object, ...], tuple[object, BaseGeometry | None]] = {}


def zone_union(zones: ZoneEngine, kinds: Sequence[str] | None, margin_m: float = 0.0) -> BaseGeometry | None:
    """Union of the zones of these kinds (None: all zones), grown by `margin_m`; None when empty.
    Cached per zone engine (a reload builds a new engine)."""
    key = (id(zones), None if kinds is None else tuple(kinds), margin_m)
    hit = _union_cache.get(key)
    if hit is not None and hit[0] is zones:
        return hit[1]
    wanted = None if kinds is None else set(kinds)
    parts = [z.geometry for z in zones.zones if wanted is None or z.kind in wanted]
    geometry: BaseGeometry | None = None
    if parts:
        geometry = shapely.union_all(parts)
        if margin_m > 0:
            # degrees of latitude and (at this latitude) longitude: grown in both by the larger
            lat = geometry.centroid.y
            deg = margin_m / (M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.05))
            geometry = geometry.buffer(deg, quad_segs=4)
        shapely.prepare(geometry)
    if len(_union_cache) > 256:
        _union_cache.clear()
    _union_cache[key] = (zones, geometry)
    return geometry


def land_union(zones: ZoneEngine) -> BaseGeometry | None:
    key = (id(zones), "land")
    hit = _union_cache.get(key)
    if hit is not None and hit[0] is zones:
        return hit[1]
    parts = list(zones.land_geometries())
    geometry = shapely.union_all(parts) if parts else None
    if geometry is not None:
        shapely.prepare(geometry)
    _union_cache[key] = (zones, geometry)
    return geometry


NO_FIX, STATIC, SAFETY = 1, 2, 3
"""`BatchRows.kind` of a position report without a valid position, a static report, a safety
report (0: a position fix, or any other report)."""
_KIND_OF: dict[type, int] = {PositionReport: NO_FIX, StaticReport: STATIC, SafetyReport: SAFETY}
_TIME_OF = attrgetter("time")


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
    rows, shared by the rules that need it (`ReportBatch.rows`)."""

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


def _batch_rows(batch: ReportBatch, now: float) -> BatchRows:
    """The `BatchRows` of a batch about to be processed from event time `now`."""
    times = batch.time.copy()
    kind = np.zeros(len(batch), dtype=np.int8)
    at = np.flatnonzero(~batch.is_position)
    if len(at):
        others = list(map(batch.reports.__getitem__, at.tolist()))
        times[at] = np.fromiter(map(_TIME_OF, others), float, len(others))
        classes = list(map(type, others))
        kinds = np.fromiter(map(_KIND_OF.get, classes, repeat(-1)), np.int8, len(others))
        if (kinds < 0).any():  # a report class not met yet
            kinds = np.fromiter(map(_kind_of, classes), np.int8, len(others))
        kind[at] = kinds
    no_fix = kind == NO_FIX
    if not len(times):
        rows = BatchRows(times, kind, no_fix, now, times, no_fix)
    else:
        clock = np.fmax.accumulate(np.fmax(times, now))
        before = np.concatenate(([now], clock[:-1]))
        rows = BatchRows(times, kind, no_fix, now, clock, ~(times >= before))
    return rows


def _ignored_by_zones(batch: ReportBatch, now: float) -> np.ndarray:
    t = batch.time
    before = np.empty(len(t))
    if len(t):
        before[0] = now
        before[1:] = np.fmax.accumulate(t)[:-1]  # fixes only (others are NaN)
        np.fmax(before, now, out=before)
    with np.errstate(invalid="ignore"):
        fresh = (t > before) & (t < np.inf) & (np.abs(batch.lat) <= 90.0) & (np.abs(batch.lon) <= 180.0)
    return batch.is_position & ~fresh
