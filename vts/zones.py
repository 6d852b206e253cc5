"""The zone engine: which zones each vessel is in, with hysteresis, driven by event time only.

    engine = ZoneEngine.from_config(config)
    for event in engine.update(mmsi, t, lon, lat):   # confirmed entries and exits
        ...
    engine.zones_of(mmsi)             # ids of the zones the vessel is confirmed in
    engine.dwell(mmsi, "anchorage_main", now)
    engine.zones_at(lon, lat)         # instant lookup, no hysteresis
    engine.is_on_land(lon, lat); engine.distance_to("restricted_san_lorenzo", lon, lat)

Lookups go through a Shapely 2 STRtree over prepared geometries, whose answers are cached per
small grid cell (`GeometryIndex`), so a check costs about the same with 20 or 500 zones; distances
are in metres, in a local equirectangular projection centred on each zone. Land uses the same index.

Hysteresis, per vessel and zone:

* **Entry**: confirmed by two fixes inside the zone at least ``entry_confirm_s`` (10 s) apart, with
  no fix outside in between. The event carries the first fix inside (the crossing as observed)
  and the confirming fix.
* **Exit**: only once the vessel is more than ``exit_margin_m`` (50 m) outside the zone, so GPS
  noise on a border never flaps. The event carries the first fix seen outside the zone (the crossing)
  and the fix that confirmed it.
* **Outlier**: a fix that would confirm an exit, but lies more than ``OUTLIER_MIN_M`` (300 m) from
  the vessel's fix before at an implied speed over ``outlier_speed_kn`` (50 kn), is held back: it
  changes no membership, pending entry or latest fix (`held_back` tells the rules). A lone GNSS
  outlier then ends nothing; the next fix confirms the exit only if it too lies beyond the margin,
  comes at least ``OUTLIER_REPEAT_S`` after the held one (the same sentence heard by a second
  station is not a second fix) and is a plausible move from it (another outlier elsewhere is held
  in its place). A fix older than a held one is late, as the tracker has it: ignored. The tracker
  splits off far jumps (a shadow track, which never reaches the zone engine); this catches the
  nearer ones.
* **Reception gap** longer than ``gap_reset_s`` (10 min): pending entries and exits are dropped
  (two fixes either side of a gap never confirm anything, and no crossing time is interpolated).
  A zone the vessel is still in after the gap stays confirmed; a zone it is now well outside
  gives an exit marked ``gap=True`` at the first fix after the gap, with ``last_inside_time`` the
  last fix seen inside (the real crossing happened somewhere between the two).

An entry whose first fix inside was the vessel's first fix (or its first after a gap) is marked
``initial=True``: the vessel was found inside, not seen crossing in (ships at anchor when the daemon
starts). Fixes older than (or as old as) the vessel's latest fix are ignored; invalid coordinates too.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from vts.config import Config, ZoneSettings
from vts.geo import KNOTS_TO_MS, LocalProjection, distance_m
from vts.spatial import M_PER_DEG_LAT

ENTRY_CONFIRM_S = 10.0
EXIT_MARGIN_M = 50.0
GAP_RESET_S = 600.0
OUTLIER_SPEED_KN = 50.0
OUTLIER_MIN_M = 300.0
"""A held-back exit fix lies at least this far from the fix before: GNSS noise and receive-time
jitter on close fixes imply high speeds over short distances."""
OUTLIER_REPEAT_S = 5.0
"""A fix beyond the margin confirms a held-back exit only this long after the held fix."""


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """A confirmed zone entry or exit.

    ``time``, ``lat``, ``lon``: the crossing as observed (entry: the first fix inside; exit: the
    first fix outside). ``confirmed_time`` / ``confirmed_lat`` / ``confirmed_lon``: the fix that
    confirmed it (the current fix when the event is emitted).
    """

    kind: Literal["entry", "exit"]
    mmsi: int
    zone_id: str
    time: float
    lat: float
    lon: float
    confirmed_time: float | None = None
    confirmed_lat: float | None = None
    confirmed_lon: float | None = None
    gap: bool = False
    """Exit only: noticed after a reception gap; it happened between `last_inside_time` and `time`."""
    last_inside_time: float | None = None
    """Exit only: the last fix seen inside the zone."""
    entered_time: float | None = None
    """Exit only: when the vessel had entered (so dwell = time - entered_time)."""
    initial: bool = False
    """Entry only: the vessel was already inside at its first fix (or first after a reception gap,
    or when a reload added the zone), so it was found there rather than seen crossing in (e.g.
    ships at anchor when the daemon starts)."""
    found_by_reload: bool = False
    """Entry only: found inside a zone that a reload added (`initial` too)."""


@dataclass(eq=False, slots=True)
class Zone:
    """One configured zone. ``geometry`` is in (lon, lat); ``geometry_xy`` in metres around ``projection``."""

    id: str
    name: str
    kind: str
    settings: ZoneSettings
    geometry: Polygon | MultiPolygon
    projection: LocalProjection
    geometry_xy: BaseGeometry
    exit_geometry: BaseGeometry
    """The zone grown by the exit margin, (lon, lat): a member vessel stays in while inside this."""
    box: tuple[float, float, float, float] = field(init=False)
    """The bounds of `geometry` (min lon, min lat, max lon, max lat)."""

    def __post_init__(self) -> None:
        self.box = tuple(self.geometry.bounds)  # type: ignore[assignment]

    @property
    def area_m2(self) -> float:
        return float(self.geometry_xy.area)

    def contains(self, lon: float, lat: float) -> bool:
        """Instant test, boundary included (a point outside the bounds is outside, with no
        point-in-polygon test)."""
        x0, y0, x1, y1 = self.box
        return x0 <= lon <= x1 and y0 <= lat <= y1 and bool(shapely.intersects_xy(self.geometry, lon, lat))

    def distance_m(self, lon: float, lat: float) -> float:
        """Metres from the point to the zone (0 inside)."""
        if self.contains(lon, lat):
            return 0.0
        x, y = self.projection.to_xy(lat, lon)
        return float(self.geometry_xy.distance(Point(x, y)))

    def depth_m(self, lon: float, lat: float) -> float:
        """Metres from a point inside the zone to its nearest edge, holes and every part included
        (0 outside)."""
        if not self.contains(lon, lat):
            return 0.0
        x, y = self.projection.to_xy(lat, lon)
        return float(self.geometry_xy.boundary.distance(Point(x, y)))


@dataclass(slots=True, init=False)
class _Fix:
    time: float
    lon: float
    lat: float
    initial: bool = False
    """The vessel's first fix seen, or its first after a reception gap."""
    reload: bool = False
    """The vessel's last fix when a reload added a zone around it (see `ZoneEngine.reloaded`)."""

    def __init__(
        self, time: float, lon: float, lat: float, initial: bool = False, reload: bool = False
    ) -> None:
        # (one per fix: native, see `vts.tracker.Fix`)
        self.time = time
        self.lon = lon
        self.lat = lat
        self.initial = initial
        self.reload = reload


@dataclass(slots=True)
class _Membership:
    entered: _Fix
    confirmed: _Fix
    last_inside: _Fix
    outside_since: _Fix | None = None


@dataclass(slots=True)
class _VesselZones:
    last: _Fix | None = None
    inside: dict[str, _Membership] = field(default_factory=dict)
    pending: dict[str, _Fix] = field(default_factory=dict)
    held: _Fix | None = None
    """The first of the fixes held back since the last one taken (see the module docstring)."""
    held_at: float | None = None
    """Time of the latest fix, when it was held back."""


_CODE_ROW = 1 << 32
_NO_CODES = np.zeros(0, dtype=np.int64)


def cell_codes(lon: np.ndarray, lat: np.ndarray, cell_deg: float) -> np.ndarray:
    """The grid cells (of `cell_deg` degrees, as `GeometryIndex` keys them) of the valid positions
    among these, each once, as sorted int64 codes: (lon cell) * 2**32 + (lat cell + 2**31)."""
    ok = (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)  # (a NaN fails)
    kx = np.floor(lon[ok] / cell_deg).astype(np.int64)
    ky = np.floor(lat[ok] / cell_deg).astype(np.int64)
    return np.unique(kx * _CODE_ROW + (ky + _CODE_ROW // 2))


def _cell_keys(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (lon cell, lat cell) of `cell_codes`, as two arrays."""
    return codes >> 32, (codes & (_CODE_ROW - 1)) - _CODE_ROW // 2


def _codes_of(keys: Sequence[tuple[int, int]]) -> np.ndarray:
    """`cell_codes` of cell keys, sorted."""
    k = np.array(keys, dtype=np.int64).reshape(-1, 2)
    return np.unique(k[:, 0] * _CODE_ROW + (k[:, 1] + _CODE_ROW // 2))


class GeometryIndex:
    """Which of a set of (prepared, lon/lat) geometries contain a point.

    An STRtree finds the geometries whose boxes meet a small grid cell around the point; that
    answer is cached per cell, split into geometries that cover the whole cell (no further test)
    and those that only meet it (exact point-in-polygon on the prepared geometry). A lookup is then
    a dict access and a few exact tests, whatever the number of geometries.
    """

    CELL_DEG = 0.005
    """About 550 m: small enough that most cells are inside or outside every zone."""
    MAX_CELLS = 50_000
    """Cache bound (the Callao VTS area is about 1,500 cells); the cache restarts empty when full."""

    def __init__(self, geometries: Sequence[BaseGeometry]) -> None:
        self.geometries = np.array(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)
        x0, y0, x1, y1 = (
            (float(v) for v in shapely.total_bounds(self.geometries))
            if len(geometries)
            else (math.inf, math.inf, -math.inf, -math.inf)
        )
        self.box: tuple[float, float, float, float] = (x0, y0, x1, y1)
        """The bounds of every geometry together: no geometry contains a point outside them, which
        is told so with no cell lookup (on the open sea, far from every zone: most of a feed's fixes
        in some places). Empty index: a box nothing is inside."""
        self._cells: dict[tuple[int, int], tuple[list[int], np.ndarray, np.ndarray]] = {}
        self._known: np.ndarray = _NO_CODES
        """Sorted `cell_codes` of cells `prefill` put in `_cells` (emptied with it)."""

    def __len__(self) -> int:
        return len(self.geometries)

    def indices_at(self, lon: float, lat: float) -> list[int]:
        """Indices of the geometries containing the point (boundary included), ascending."""
        x0, y0, x1, y1 = self.box
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return []
        cell = self._cell(lon, lat)
        full, partial, partial_geoms = cell
        if len(partial) == 0:
            return full
        hits = partial[shapely.intersects_xy(partial_geoms, lon, lat)]
        if not full:
            return [int(i) for i in hits]
        return sorted(full + [int(i) for i in hits])

    def any_at(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.box
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        full, partial, partial_geoms = self._cell(lon, lat)
        return bool(full) or (len(partial) > 0 and bool(shapely.intersects_xy(partial_geoms, lon, lat).any()))

    def prefill(self, lon: np.ndarray, lat: np.ndarray) -> None:
        """Fill the cache for the cells of many points at once (a batch of reports): one vectorised
        STRtree query and one vectorised cover test instead of one of each per new cell."""
        if len(self.geometries) and len(lon):
            self.prefill_cells(cell_codes(*self.within_box(lon, lat), self.CELL_DEG))

    def within_box(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The points inside `box` (the only ones whose cells are ever looked up)."""
        x0, y0, x1, y1 = self.box
        ok = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)  # (a NaN fails)
        return lon[ok], lat[ok]

    def prefill_cells(self, codes: np.ndarray) -> None:
        """`prefill` for the cells of these `cell_codes` (of this index's `CELL_DEG`). The cells
        filled before are told apart with numpy (`_known`): a batch whose cells are all cached costs
        no Python work per point or per cell."""
        if len(self.geometries) == 0 or len(codes) == 0:
            return
        known = self._known
        if len(known):
            at = np.searchsorted(known, codes)
            at[at == len(known)] = 0
            codes = codes[known[at] != codes]
            if len(codes) == 0:
                return
        cells = self._cells
        kx, ky = _cell_keys(codes)
        keys = [k for k in zip(kx.tolist(), ky.tolist(), strict=True) if k not in cells]
        if keys and len(cells) + len(keys) > self.MAX_CELLS:
            cells.clear()
            known = self._known = _NO_CODES
            codes = _codes_of(keys)
        self._known = np.union1d(known, codes)
        if not keys:
            return
        x0 = np.array([k[0] for k in keys], dtype=float) * self.CELL_DEG
        y0 = np.array([k[1] for k in keys], dtype=float) * self.CELL_DEG
        pad = 1e-9  # as in `_fill`
        boxes = shapely.box(x0 - pad, y0 - pad, x0 + self.CELL_DEG + pad, y0 + self.CELL_DEG + pad)
        box_i, geom_i = self.tree.query(boxes)
        covers = shapely.contains_properly(self.geometries[geom_i], boxes[box_i]) if len(box_i) else box_i
        found: dict[int, list[tuple[int, bool]]] = {}
        for b, g, c in zip(
            box_i.tolist(), geom_i.tolist(), np.asarray(covers, dtype=bool).tolist(), strict=True
        ):
            found.setdefault(b, []).append((g, c))
        empty = np.zeros(0, dtype=np.int64)
        for b, key in enumerate(keys):
            hits = found.get(b)
            if hits is None:
                cells[key] = ([], empty, self.geometries[empty])
                continue
            hits.sort()
            partial = np.array([g for g, c in hits if not c], dtype=np.int64)
            cells[key] = ([g for g, c in hits if c], partial, self.geometries[partial])

    def _cell(self, lon: float, lat: float) -> tuple[list[int], np.ndarray, np.ndarray]:
        key = (math.floor(lon / self.CELL_DEG), math.floor(lat / self.CELL_DEG))
        cell = self._cells.get(key)
        if cell is None:
            if len(self._cells) >= self.MAX_CELLS:
                self._cells.clear()
                self._known = _NO_CODES
            cell = self._cells[key] = self._fill(key)
        return cell

    def _fill(self, key: tuple[int, int]) -> tuple[list[int], np.ndarray, np.ndarray]:
        x0, y0 = key[0] * self.CELL_DEG, key[1] * self.CELL_DEG
        pad = 1e-9  # float rounding of the cell key must never leave a point outside its cell's box
        box = shapely.box(x0 - pad, y0 - pad, x0 + self.CELL_DEG + pad, y0 + self.CELL_DEG + pad)
        candidates = np.sort(self.tree.query(box))
        if len(candidates) == 0:
            return [], candidates, self.geometries[candidates]
        covers = shapely.contains_properly(self.geometries[candidates], box)
        full = [int(i) for i in candidates[covers]]
        partial = candidates[~covers]
        return full, partial, self.geometries[partial]


def build_zone(settings: ZoneSettings, exit_margin_m: float = EXIT_MARGIN_M) -> Zone:
    """A `Zone` from its settings: lon/lat geometry, metric geometry and exit (grown) geometry."""
    geometry = settings.geometry()
    c = geometry.centroid
    projection = LocalProjection(c.y, c.x)
    geometry_xy = shapely.transform(geometry, projection.lonlat_to_xy_coords)
    grown_xy = geometry_xy.buffer(exit_margin_m, quad_segs=4) if exit_margin_m > 0 else geometry_xy
    exit_geometry = shapely.transform(grown_xy, projection.xy_to_lonlat_coords)
    shapely.prepare(geometry)
    shapely.prepare(exit_geometry)
    return Zone(
        id=settings.id,
        name=settings.name,
        kind=settings.kind,
        settings=settings,
        geometry=geometry,
        projection=projection,
        geometry_xy=geometry_xy,
        exit_geometry=exit_geometry,
    )


class ZoneEngine:
    """Zones of one configuration and every vessel's confirmed memberships."""

    def __init__(
        self,
        zones: Sequence[ZoneSettings],
        land: Iterable[Polygon] = (),
        *,
        entry_confirm_s: float = ENTRY_CONFIRM_S,
        exit_margin_m: float = EXIT_MARGIN_M,
        gap_reset_s: float = GAP_RESET_S,
        outlier_speed_kn: float = OUTLIER_SPEED_KN,
    ) -> None:
        self.entry_confirm_s = entry_confirm_s
        self.exit_margin_m = exit_margin_m
        self.gap_reset_s = gap_reset_s
        self.outlier_speed_kn = outlier_speed_kn
        self._zones: list[Zone] = [build_zone(z, exit_margin_m) for z in zones]
        self._by_id: dict[str, Zone] = {}
        for z in self._zones:
            if z.id in self._by_id:
                raise ValueError(f"duplicate zone id {z.id!r}")
            self._by_id[z.id] = z
        self._index = GeometryIndex([z.geometry for z in self._zones])
        land_parts: list[Polygon] = []
        for g in land:
            land_parts.extend(p for p in getattr(g, "geoms", [g]) if not p.is_empty)
        self._land = GeometryIndex(land_parts)
        self._vessels: dict[int, _VesselZones] = {}

    @classmethod
    def from_config(cls, config: Config) -> ZoneEngine:
        h = config.zone_engine
        return cls(
            config.zones,
            config.land_polygons(),
            entry_confirm_s=h.entry_confirm_s,
            exit_margin_m=h.exit_margin_m,
            gap_reset_s=h.gap_reset_s,
            outlier_speed_kn=h.outlier_speed_kn,
        )

    # -- zones -------------------------------------------------------------------------------------
    @property
    def zones(self) -> list[Zone]:
        """Every zone, in configuration order."""
        return list(self._zones)

    def zone(self, zone_id: str) -> Zone:
        try:
            return self._by_id[zone_id]
        except KeyError:
            raise KeyError(f"no zone {zone_id!r} in the configuration") from None

    def has_zone(self, zone_id: str) -> bool:
        return zone_id in self._by_id

    def zones_at(self, lon: float, lat: float) -> list[Zone]:
        """Zones containing the point now (boundary included), in configuration order; no hysteresis."""
        return [self._zones[i] for i in self._indices_at(lon, lat)]

    def _indices_at(self, lon: float, lat: float) -> list[int]:
        if not _valid(lon, lat) or not self._zones:
            return []
        return self._index.indices_at(lon, lat)

    def is_on_land(self, lon: float, lat: float) -> bool:
        """Whether the position falls on a land polygon of the configuration."""
        if not _valid(lon, lat) or len(self._land) == 0:
            return False
        return self._land.any_at(lon, lat)

    def shore_axis_deg(self, lon: float, lat: float, within_m: float) -> float | None:
        """Bearing in [0, 180) of the coastline edge nearest the point (a quay, a pier: a ship moored
        there lies along it), when a land polygon's edge lies within `within_m` metres; else None.
        Nearest to a corner, the longer of the two edges meeting there (a ship overhanging a pier
        head lies along the pier)."""
        if not _valid(lon, lat) or len(self._land) == 0:
            return None
        m_per_deg_lon = M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6)
        dlat, dlon = within_m / M_PER_DEG_LAT, within_m / m_per_deg_lon
        near = self._land.tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        best: tuple[float, float, float] | None = None
        for i in sorted(int(k) for k in near):
            geom = self._land.geometries[i]
            for ring in [geom.exterior, *geom.interiors]:
                c = np.asarray(ring.coords)
                if len(c) < 3:
                    continue
                # a local plane in metres around the point: true distances and bearings
                x = (c[:, 0] - lon) * m_per_deg_lon
                y = (c[:, 1] - lat) * M_PER_DEG_LAT
                ax, ay, dx, dy = x[:-1], y[:-1], np.diff(x), np.diff(y)
                length2 = dx * dx + dy * dy
                t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0.0, length2, 1.0), 0.0, 1.0)
                dist = np.hypot(ax + t * dx, ay + t * dy)
                k = int(np.argmin(dist))
                if dist[k] > within_m or (best is not None and dist[k] >= best[0]):
                    continue
                n = len(dx)  # the ring is closed: edge n - 1 ends where edge 0 starts
                other = (k - 1) % n if t[k] <= 0.0 else (k + 1) % n if t[k] >= 1.0 else k
                edge = k if length2[k] >= length2[other] else other
                best = (float(dist[k]), float(dx[edge]), float(dy[edge]))
        if best is None or (best[1] == 0.0 and best[2] == 0.0):
            return None
        return math.degrees(math.atan2(best[1], best[2])) % 180.0

    def prefill(self, lon: np.ndarray, lat: np.ndarray) -> None:
        """Prepare the zone and land lookups of many positions at once (`GeometryIndex.prefill`)."""
        index, land = self._index, self._land
        if len(lon) == 0 or (len(index) == 0 and len(land) == 0):
            return
        if land.CELL_DEG != index.CELL_DEG:
            index.prefill(lon, lat)
            land.prefill(lon, lat)
            return
        # both indexes' cells at once: those of the points inside either's box
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = index.box, land.box
        x0, y0, x1, y1 = min(ax0, bx0), min(ay0, by0), max(ax1, bx1), max(ay1, by1)
        ok = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)  # (a NaN fails)
        codes = cell_codes(lon[ok], lat[ok], index.CELL_DEG)
        index.prefill_cells(codes)
        land.prefill_cells(codes)

    def land_geometries(self) -> list[BaseGeometry]:
        """The land polygons of the configuration (lon/lat)."""
        return list(self._land.geometries)

    def distance_to(self, zone_id: str, lon: float, lat: float) -> float:
        """Metres from the position to the zone (0 inside)."""
        return self.zone(zone_id).distance_m(lon, lat)

    # -- vessels -----------------------------------------------------------------------------------
    def update(self, mmsi: int, t: float, lon: float, lat: float) -> list[ZoneEvent]:
        """One position fix of a vessel: the zone entries and exits it confirms (exits first)."""
        # (called for every fix: the tests of `_valid` and `_finite` inline, where a NaN or an
        # infinity fails the range test)
        try:
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0 and math.isfinite(t)):
                return []
        except TypeError:
            return []
        state = self._vessels.get(mmsi)
        if state is None:
            state = self._vessels[mmsi] = _VesselZones()
        prev = state.last
        if prev is not None and t <= prev.time:
            return []
        if state.held_at is not None and t < state.held_at:
            return []  # older than a held-back fix: the tracker takes it as late, so do we
        gap = prev is not None and t - prev.time > self.gap_reset_s
        fix = _Fix(t, lon, lat, prev is None or gap)
        inside = state.inside
        pending = state.pending
        if gap:
            pending.clear()
            for m in inside.values():
                m.outside_since = None
        held = state.held
        state.held = None
        state.held_at = None
        state.last = fix
        if not pending:
            index = self._index
            if not inside:
                x0, y0, x1, y1 = index.box  # (no zone, or none near: nothing to enter or leave)
                if not (x0 <= lon <= x1 and y0 <= lat <= y1):
                    return []
            zones = self._zones
            if not zones:
                return []
            step = index.CELL_DEG
            cell = index._cells.get((math.floor(lon / step), math.floor(lat / step)))
            full, partial, _ = index._cell(lon, lat) if cell is None else cell  # (`_cell`, inline)
            if len(partial) == 0:  # the cell is wholly inside or outside each zone
                if not full and not inside:
                    return []  # the common case: no zone near, none to leave, none pending
                if len(full) == len(inside) and all(zones[i].id in inside for i in full):
                    for m in inside.values():  # still inside the same zones, and only those
                        m.last_inside = fix
                        m.outside_since = None
                    return []
        here_ordered = [self._zones[i].id for i in self._indices_at(lon, lat)]
        here = set(here_ordered)
        leaving: list[str] = []
        for zone_id in inside:
            if zone_id in here:
                continue
            zone = self._by_id.get(zone_id)
            if zone is None or not shapely.intersects_xy(zone.exit_geometry, lon, lat):
                leaving.append(zone_id)
        if leaving and prev is not None and not gap and self._implausible(prev, fix):
            keep: _Fix | None
            if held is None or t - held.time < OUTLIER_REPEAT_S:
                keep = held or fix  # a first outlier, or the same one heard again
            elif self._implausible(held, fix):
                keep = fix  # another outlier, nowhere near the first: held in its place
            else:
                keep = None  # a second fix where the first was: the vessel did move
            if keep is not None:
                state.last = prev  # held back: nothing changes but the note of it
                state.held = keep
                state.held_at = t
                return []
        exits: list[ZoneEvent] = []
        for zone_id in list(inside):
            m = inside[zone_id]
            if zone_id in here:
                m.last_inside = fix
                m.outside_since = None
                continue
            if zone_id not in leaving:
                if m.outside_since is None:
                    m.outside_since = fix
                continue
            crossing = m.outside_since or fix
            del inside[zone_id]
            exits.append(
                ZoneEvent(
                    "exit",
                    mmsi,
                    zone_id,
                    crossing.time,
                    crossing.lat,
                    crossing.lon,
                    confirmed_time=t,
                    confirmed_lat=lat,
                    confirmed_lon=lon,
                    gap=crossing.time - m.last_inside.time > self.gap_reset_s,
                    last_inside_time=m.last_inside.time,
                    entered_time=m.entered.time,
                )
            )
        for zone_id in list(state.pending):
            if zone_id not in here:
                del state.pending[zone_id]
        entries: list[ZoneEvent] = []
        for zone_id in [z for z in here_ordered if z not in state.inside]:
            first = state.pending.get(zone_id)
            if first is None:
                if self.entry_confirm_s > 0:
                    state.pending[zone_id] = fix
                    continue
                first = fix
            elif t - first.time < self.entry_confirm_s:
                continue
            state.pending.pop(zone_id, None)
            state.inside[zone_id] = _Membership(entered=first, confirmed=fix, last_inside=fix)
            entries.append(
                ZoneEvent(
                    "entry",
                    mmsi,
                    zone_id,
                    first.time,
                    first.lat,
                    first.lon,
                    confirmed_time=t,
                    confirmed_lat=lat,
                    confirmed_lon=lon,
                    initial=first.initial,
                    found_by_reload=first.reload,
                )
            )
        return exits + entries

    def _implausible(self, prev: _Fix, fix: _Fix) -> bool:
        """Whether the move from `prev` is too far and too fast to be the vessel's (an outlier)."""
        if self.outlier_speed_kn <= 0:
            return False
        d = distance_m(prev.lat, prev.lon, fix.lat, fix.lon)
        return d > OUTLIER_MIN_M and d > self.outlier_speed_kn * KNOTS_TO_MS * (fix.time - prev.time)

    def held_back(self, mmsi: int, t: float | None) -> bool:
        """Whether the vessel's fix of time `t` was held back as an outlier: its memberships are
        those of the fix before (see the module docstring). Rules that judge a vessel by its zones
        at a fix skip such a fix."""
        state = self._vessels.get(mmsi)
        return t is not None and state is not None and state.held_at == t

    def zones_of(self, mmsi: int) -> set[str]:
        """Ids of the zones the vessel is confirmed in."""
        state = self._vessels.get(mmsi)
        return set(state.inside) if state is not None else set()

    def entered_at(self, mmsi: int, zone_id: str) -> float | None:
        """Event time of the vessel's (confirmed) entry into the zone, None when not inside."""
        state = self._vessels.get(mmsi)
        m = state.inside.get(zone_id) if state is not None else None
        return None if m is None else m.entered.time

    def dwell(self, mmsi: int, zone_id: str, now: float) -> float | None:
        """Seconds since the vessel entered the zone (from the first fix inside); None when not inside."""
        entered = self.entered_at(mmsi, zone_id)
        return None if entered is None else max(0.0, now - entered)

    def last_inside(self, mmsi: int, zone_id: str) -> tuple[float, float, float] | None:
        """(time, lat, lon) of the vessel's last fix inside the zone it is confirmed in; None when
        it is not inside."""
        state = self._vessels.get(mmsi)
        m = state.inside.get(zone_id) if state is not None else None
        return None if m is None else (m.last_inside.time, m.last_inside.lat, m.last_inside.lon)

    def forget(self, mmsi: int) -> None:
        self._vessels.pop(mmsi, None)

    def saved_state(self) -> dict[str, Any]:
        """What a restart needs (`restore`): each vessel's last fix, the zones it is in (entered,
        confirmed, last inside, outside since) and its pending entries, as JSON data. A fix held
        back as a possible outlier is not kept (the next fix decides again)."""
        vessels = []
        for mmsi, state in sorted(self._vessels.items()):
            if state.last is None:
                continue
            inside = [
                [z, _fix_data(m.entered), _fix_data(m.confirmed), _fix_data(m.last_inside)]
                + ([_fix_data(m.outside_since)] if m.outside_since is not None else [])
                for z, m in sorted(state.inside.items())
            ]
            pending = [[z, _fix_data(f)] for z, f in sorted(state.pending.items())]
            vessels.append([mmsi, _fix_data(state.last), inside, pending])
        return {"vessels": vessels}

    def restore(self, state: dict[str, Any], mmsis: Collection[int]) -> None:
        """After a restart: the memberships `saved_state` saved, for the vessels in `mmsis` (those
        the tracker took up), in zones that still exist. A vessel back after more than
        `gap_reset_s` is then judged as after any reception gap: still inside until a fix outside
        confirms its exit (with no crossing time invented). Vessels already known are left alone;
        a record that cannot be read raises `ValueError` after the others are taken up."""
        damaged = 0
        for saved in state.get("vessels", []):
            try:
                mmsi, last, inside, pending = int(saved[0]), _fix_of(saved[1]), saved[2], saved[3]
                if mmsi not in mmsis or mmsi in self._vessels:
                    continue
                members = {
                    str(m[0]): _Membership(
                        _fix_of(m[1]), _fix_of(m[2]), _fix_of(m[3]), _fix_of(m[4]) if len(m) > 4 else None
                    )
                    for m in inside
                    if str(m[0]) in self._by_id
                }
                waiting = {str(z): _fix_of(f) for z, f in pending if str(z) in self._by_id}
            except (TypeError, ValueError, IndexError, KeyError):
                damaged += 1
                continue
            self._vessels[mmsi] = _VesselZones(last=last, inside=members, pending=waiting)
        if damaged:
            raise ValueError(f"{damaged} saved vessel zone state(s) could not be read and were skipped")

    def vessels(self) -> list[int]:
        """MMSIs with zone state."""
        return list(self._vessels)

    def reloaded(self, config: Config) -> ZoneEngine:
        """A new engine for the new configuration, keeping every vessel's memberships (and pending
        entries) in zones whose id still exists. Their geometry is re-checked at the next fix. A
        vessel whose latest fix lies in a zone that is new gets a pending entry from that fix, marked
        `initial`: confirmed by its next fix inside, the entry says it was found there (it did not
        cross in at the reload)."""
        new = type(self).from_config(config)
        added = {z.id for z in new._zones if z.id not in self._by_id}
        for mmsi, state in self._vessels.items():
            pending = {z: f for z, f in state.pending.items() if z in new._by_id}
            last = state.last
            if added and last is not None:
                for zone in new.zones_at(last.lon, last.lat):
                    if zone.id in added:
                        pending[zone.id] = _Fix(last.time, last.lon, last.lat, initial=True, reload=True)
            new._vessels[mmsi] = _VesselZones(
                last=last,
                inside={z: m for z, m in state.inside.items() if z in new._by_id},
                pending=pending,
                held=state.held,
                held_at=state.held_at,
            )
        return new


def _fix_data(fix: _Fix) -> list[Any]:
    return [fix.time, fix.lon, fix.lat, fix.initial, fix.reload]


def _fix_of(data: Sequence[Any]) -> _Fix:
    t, lon, lat = float(data[0]), float(data[1]), float(data[2])
    return _Fix(t, lon, lat, initial=bool(data[3]), reload=bool(data[4]))


def _finite(t: float) -> bool:
    try:
        return math.isfinite(t)
    except TypeError:
        return False


def _valid(lon: float, lat: float) -> bool:
    try:
        return math.isfinite(lon) and math.isfinite(lat) and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
    except TypeError:
        return False
