"""VesselGrid: same answers as a brute-force scan, stable order, updates and removals."""

from __future__ import annotations

import random

from vts.spatial import VesselGrid, approx_distance_m


def test_near_matches_brute_force() -> None:
    rng = random.Random(7)
    grid = VesselGrid()
    pos: dict[int, tuple[float, float]] = {}
    for mmsi in range(1, 3001):
        lat, lon = -12.0 + rng.uniform(-0.15, 0.15), -77.2 + rng.uniform(-0.15, 0.15)
        grid.update(mmsi, lat, lon)
        pos[mmsi] = (lat, lon)
    for mmsi in range(1, 3001, 3):  # move a third of them, across cells
        lat, lon = pos[mmsi][0] + rng.uniform(-0.01, 0.01), pos[mmsi][1] + rng.uniform(-0.01, 0.01)
        grid.update(mmsi, lat, lon)
        pos[mmsi] = (lat, lon)
    for mmsi in range(1, 3001, 5):
        grid.remove(mmsi)
        del pos[mmsi]
    assert len(grid) == len(pos)
    for _ in range(50):
        qlat, qlon = -12.0 + rng.uniform(-0.1, 0.1), -77.2 + rng.uniform(-0.1, 0.1)
        for radius in (150.0, 600.0, 2500.0):
            expected = sorted(
                (approx_distance_m(qlat, qlon, la, lo), m)
                for m, (la, lo) in pos.items()
                if approx_distance_m(qlat, qlon, la, lo) <= radius
            )
            got = grid.near_with_distance(qlat, qlon, radius)
            assert [m for _, m in got] == [m for _, m in expected]
            assert grid.near(qlat, qlon, radius) == [m for _, m in expected]


def test_position_and_remove() -> None:
    grid = VesselGrid()
    grid.update(5, -12.0, -77.1)
    assert grid.position(5) == (-12.0, -77.1) and 5 in grid
    grid.remove(5)
    grid.remove(5)  # idempotent
    assert grid.position(5) is None and grid.near(-12.0, -77.1, 1000) == []


def test_approx_distance_is_close_to_haversine() -> None:
    from vts.geo import distance_m

    for dlat, dlon in ((0.001, 0.0), (0.0, 0.01), (0.05, -0.05)):
        a = approx_distance_m(-12.0, -77.2, -12.0 + dlat, -77.2 + dlon)
        b = distance_m(-12.0, -77.2, -12.0 + dlat, -77.2 + dlon)
        assert abs(a - b) / b < 0.002
