"""Geodesy on the WGS84 sphere approximation: distances in metres, bearings, local projections.

Scalar functions take ``(lat, lon)`` in degrees (note the order); the ``*_np`` variants accept numpy
arrays (or anything broadcastable) for vectorised use, e.g. CPA over many vessel pairs.

At Callao's scale (tens of kilometres) the spherical model is within about 0.5 % of the ellipsoid,
and a local equirectangular projection centred on the area is within a few centimetres per
kilometre, which is far below AIS position noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_M = 6_371_008.8
"""Mean earth radius (IUGG)."""
METRES_PER_NM = 1852.0
KNOTS_TO_MS = METRES_PER_NM / 3600.0

FloatArray = NDArray[np.float64]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial true bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point reached from (lat, lon) after `distance_m` on the initial `bearing_deg`: (lat, lon)."""
    d = distance_m / EARTH_RADIUS_M
    b = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def angle_diff_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two directions, degrees in [0, 180]."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


# -- numpy versions ------------------------------------------------------------------------------


def distance_m_np(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Vectorised haversine distance in metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))), dtype=float)


def bearing_deg_np(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Vectorised initial bearing, degrees in [0, 360)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0, dtype=float)


def velocity_ms_np(sog_kn: ArrayLike, cog_deg: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """East and north velocity components (m/s) from speed over ground (knots) and course (degrees)."""
    speed = np.asarray(sog_kn, dtype=float) * KNOTS_TO_MS
    c = np.radians(cog_deg)
    return speed * np.sin(c), speed * np.cos(c)


# -- local projection ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular projection around an origin: x metres east, y metres north.

    Accurate to well under 0.1 % within ~50 km of the origin at low latitudes, which covers a
    port approach. Works on scalars and numpy arrays alike.
    """

    lat0: float
    lon0: float

    @property
    def _kx(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    @property
    def _ky(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self._kx, (lat - self.lat0) * self._ky

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        return self.lat0 + y / self._ky, self.lon0 + x / self._kx

    def to_xy_np(self, lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = (np.asarray(lon, dtype=float) - self.lon0) * self._kx
        y = (np.asarray(lat, dtype=float) - self.lat0) * self._ky
        return x, y

    def to_latlon_np(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        lat = self.lat0 + np.asarray(y, dtype=float) / self._ky
        lon = self.lon0 + np.asarray(x, dtype=float) / self._kx
        return lat, lon

    def lonlat_to_xy_coords(self, coords: Any) -> FloatArray:
        """(N, 2) array of (lon, lat) -> (N, 2) array of (x, y); the form `shapely.transform` wants."""
        c = np.asarray(coords, dtype=float)
        return np.column_stack(((c[:, 0] - self.lon0) * self._kx, (c[:, 1] - self.lat0) * self._ky))

    def xy_to_lonlat_coords(self, coords: Any) -> FloatArray:
        """(N, 2) array of (x, y) -> (N, 2) array of (lon, lat)."""
        c = np.asarray(coords, dtype=float)
        return np.column_stack((self.lon0 + c[:, 0] / self._kx, self.lat0 + c[:, 1] / self._ky))


def local_projection(lat: float, lon: float) -> LocalProjection:
    return LocalProjection(lat, lon)
