"""The simulator's picture of the bay: zones and land from the config, in a local metric frame.

Everything the simulator moves is computed in metres (x east, y north) around a reference point
near the port, with an equirectangular projection: over the 40 km of the Callao VTS area the
distortion is far below the GPS noise the simulator adds. Positions are turned back into
longitude/latitude only when a report is encoded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from vts.config import Allowlists, Config, ZoneSettings, load_land_polygons

EARTH_RADIUS_M = 6_371_008.8
AVOIDED_KINDS = ("restricted", "protected", "security_zone")
"""Zone kinds normal traffic keeps out of unless its destination lies inside."""

XY = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Projection:
    """Equirectangular projection around (lon0, lat0): metres east/north of the reference point."""

    lon0: float
    lat0: float

    @property
    def _kx(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    @property
    def _ky(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    def to_xy(self, lon: float, lat: float) -> XY:
        return ((lon - self.lon0) * self._kx, (lat - self.lat0) * self._ky)

    def to_lonlat(self, x: float, y: float) -> XY:
        return (self.lon0 + x / self._kx, self.lat0 + y / self._ky)

    def geometry_to_xy(self, geom: BaseGeometry) -> BaseGeometry:
        kx, ky = self._kx, self._ky
        lon0, lat0 = self.lon0, self.lat0
        return shapely.transform(
            geom, lambda c: np.column_stack(((c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * ky))
        )


@dataclass(frozen=True, slots=True)
class ZoneShape:
    """One config zone in metres."""

    id: str
    kind: str
    geometry: BaseGeometry
    direction_deg: float | None
    speed_limit_kn: float | None
    allowed_categories: tuple[str, ...] | None

    def contains(self, x: float, y: float) -> bool:
        return bool(self.geometry.contains(Point(x, y)))


class World:
    """Zones, land and allow-lists of one configuration, in the simulator's metric frame."""

    def __init__(
        self,
        zones: list[ZoneShape],
        land: BaseGeometry,
        allowlists: Allowlists,
        projection: Projection,
        utc_offset_hours: float = -5.0,
    ) -> None:
        self.zones: dict[str, ZoneShape] = {z.id: z for z in zones}
        self.land = land
        shapely.prepare(self.land)
        for z in zones:
            shapely.prepare(z.geometry)
        self.allowlists = allowlists
        self.projection = projection
        self.utc_offset_hours = utc_offset_hours
        self._limit_zones = [z for z in zones if z.speed_limit_kn is not None]
        self._land_buffers: dict[float, BaseGeometry] = {}

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: Config) -> World:
        ref_lon, ref_lat = _reference_point(config.zones)
        projection = Projection(ref_lon, ref_lat)
        zones = [_zone_shape(z, projection) for z in config.zones]
        land = projection.geometry_to_xy(load_land(config))
        return cls(zones, land, config.allowlists, projection, config.utc_offset_hours)

    # -- queries -------------------------------------------------------------------------------
    def zone(self, zone_id: str) -> ZoneShape:
        try:
            return self.zones[zone_id]
        except KeyError:
            raise KeyError(f"the configuration has no zone {zone_id!r}, which the simulator needs") from None

    def has_zone(self, zone_id: str) -> bool:
        return zone_id in self.zones

    def zones_at(self, x: float, y: float) -> list[ZoneShape]:
        p = Point(x, y)
        return [z for z in self.zones.values() if z.geometry.contains(p)]

    def on_land(self, x: float, y: float) -> bool:
        return bool(self.land.contains(Point(x, y)))

    def land_buffer(self, clearance_m: float) -> BaseGeometry:
        """Land grown by `clearance_m` (cached, prepared)."""
        geom = self._land_buffers.get(clearance_m)
        if geom is None:
            geom = self.land.buffer(clearance_m, quad_segs=4) if clearance_m > 0 else self.land
            shapely.prepare(geom)
            self._land_buffers[clearance_m] = geom
        return geom

    def distance_to_land(self, x: float, y: float) -> float:
        return float(self.land.distance(Point(x, y)))

    def segment_crosses(self, a: XY, b: XY, obstacle: BaseGeometry) -> bool:
        return bool(obstacle.intersects(LineString([a, b])))

    def speed_limit(self, x: float, y: float) -> float | None:
        """The lowest speed limit of the zones containing the point (None: no limit)."""
        p = Point(x, y)
        limits = [z.speed_limit_kn for z in self._limit_zones if z.geometry.contains(p)]
        return min(limits) if limits else None  # type: ignore[type-var]

    def is_allowed_in(self, zone: ZoneShape, category: str, mmsi: int) -> bool:
        """Whether a vessel of this category / MMSI may be inside a restricted-type zone."""
        if self.allowlists.is_allowed(mmsi, "coastguard"):
            return True
        return zone.allowed_categories is not None and category in zone.allowed_categories

    def avoided_zones(self, category: str, mmsi: int) -> list[ZoneShape]:
        return [
            z
            for z in self.zones.values()
            if z.kind in AVOIDED_KINDS and not self.is_allowed_in(z, category, mmsi)
        ]

    def is_night(self, t: float) -> bool:
        """18:00-06:00 local time."""
        hour = ((t / 3600.0) + self.utc_offset_hours) % 24.0
        return hour >= 18.0 or hour < 6.0

    def to_lonlat(self, x: float, y: float) -> XY:
        return self.projection.to_lonlat(x, y)

    def to_xy(self, lon: float, lat: float) -> XY:
        return self.projection.to_xy(lon, lat)


def load_land(config: Config) -> BaseGeometry:
    """The land polygons named by the config (`land.file`, relative to the config file)."""
    if not config.land.file:
        return Polygon()
    path = Path(config.land.file)
    if not path.is_absolute() and config.path is not None:
        path = Path(config.path).parent / path
    polys = load_land_polygons(path)
    return unary_union([p if p.is_valid else p.buffer(0) for p in polys]) if polys else Polygon()


def _zone_shape(z: ZoneSettings, projection: Projection) -> ZoneShape:
    geom = projection.geometry_to_xy(z.geometry())
    if not geom.is_valid:
        geom = geom.buffer(0)
    return ZoneShape(
        id=z.id,
        kind=z.kind,
        geometry=geom,
        direction_deg=z.direction_deg,
        speed_limit_kn=z.speed_limit_kn,
        allowed_categories=tuple(z.allowed_categories) if z.allowed_categories is not None else None,
    )


def _reference_point(zones: list[ZoneSettings]) -> XY:
    for z in zones:
        if z.id == "entrance" or z.kind == "entrance":
            c = z.geometry().centroid
            return (c.x, c.y)
    if zones:
        c = unary_union([z.geometry() for z in zones]).centroid
        return (c.x, c.y)
    return (-77.1557, -12.0478)
