"""A uniform lat/lon grid of vessel positions, for pairwise rules that must not be quadratic.

`VesselGrid.near(lat, lon, radius_m)` looks only at the cells the radius touches, so its cost
depends on how crowded the neighbourhood is, not on how many vessels the whole picture holds
(5,000 vessels cost about the same per query as 50).

Distances use a local equirectangular approximation (`approx_distance_m`): better than 0.1 % at
harbour scale (a few nautical miles), and much cheaper than a geodesic.
"""

from __future__ import annotations

import math

from vts.geo import EARTH_RADIUS_M

M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0
CELL_DEG = 0.005
"""Cell size in degrees of latitude and longitude (about 550 m north-south)."""


def approx_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres, equirectangular approximation (fine up to a few tens of km)."""
    dy = (lat2 - lat1) * M_PER_DEG_LAT
    dx = (lon2 - lon1) * M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) * 0.5))
    return math.hypot(dx, dy)


def local_offset_m(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres of (lat, lon) from (lat0, lon0)."""
    north = (lat - lat0) * M_PER_DEG_LAT
    east = (lon - lon0) * M_PER_DEG_LAT * math.cos(math.radians((lat0 + lat) * 0.5))
    return east, north


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return (math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG))


class _Spot:
    """Where a vessel is in the grid: its latest position and its cell (row, column). Updated in
    place: a fix that stays in its cell (most of them) makes no new object."""

    __slots__ = ("col", "lat", "lon", "row")

    def __init__(self, lat: float, lon: float, row: int, col: int) -> None:
        self.lat = lat
        self.lon = lon
        self.row = row
        self.col = col


class VesselGrid:
    """Latest position of every vessel, bucketed in cells of `CELL_DEG` degrees."""

    __slots__ = ("_cells", "_where")

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], set[int]] = {}
        self._where: dict[int, _Spot] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, mmsi: object) -> bool:
        return mmsi in self._where

    def update(self, mmsi: int, lat: float, lon: float) -> None:
        # (called for every fix: `_cell` inline, and most fixes stay in their vessel's cell)
        row = math.floor(lat / CELL_DEG)
        col = math.floor(lon / CELL_DEG)
        spot = self._where.get(mmsi)
        if spot is None:
            self._where[mmsi] = _Spot(lat, lon, row, col)
        else:
            spot.lat = lat
            spot.lon = lon
            if spot.row == row and spot.col == col:
                return
            old_cell = (spot.row, spot.col)
            members = self._cells.get(old_cell)
            if members is not None:
                members.discard(mmsi)
                if not members:
                    del self._cells[old_cell]
            spot.row = row
            spot.col = col
        self._cells.setdefault((row, col), set()).add(mmsi)

    def remove(self, mmsi: int) -> None:
        spot = self._where.pop(mmsi, None)
        if spot is None:
            return
        cell = (spot.row, spot.col)
        members = self._cells.get(cell)
        if members is not None:
            members.discard(mmsi)
            if not members:
                del self._cells[cell]

    def position(self, mmsi: int) -> tuple[float, float] | None:
        """(lat, lon) last stored for this vessel, or None."""
        spot = self._where.get(mmsi)
        return None if spot is None else (spot.lat, spot.lon)

    def near(self, lat: float, lon: float, radius_m: float) -> list[int]:
        """MMSIs within `radius_m` of (lat, lon), nearest first (ties by MMSI): a stable order."""
        return [m for _, m in self.near_with_distance(lat, lon, radius_m)]

    def near_with_distance(self, lat: float, lon: float, radius_m: float) -> list[tuple[float, int]]:
        """(distance_m, mmsi) within `radius_m` of (lat, lon), sorted by distance then MMSI."""
        dlat = radius_m / M_PER_DEG_LAT
        coslat = max(math.cos(math.radians(lat)), 0.01)
        dlon = dlat / coslat
        r0, c0 = _cell(lat - dlat, lon - dlon)
        r1, c1 = _cell(lat + dlat, lon + dlon)
        cells = self._cells
        where = self._where
        kx = M_PER_DEG_LAT * coslat
        out: list[tuple[float, int]] = []
        r2 = radius_m * radius_m
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                members = cells.get((r, c))
                if not members:
                    continue
                for m in members:
                    spot = where[m]
                    dy = (spot.lat - lat) * M_PER_DEG_LAT
                    dx = (spot.lon - lon) * kx
                    d2 = dx * dx + dy * dy
                    if d2 <= r2:
                        out.append((math.sqrt(d2), m))
        out.sort()
        return out
