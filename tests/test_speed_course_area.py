"""course_anomaly's VTS-area test of the off_route mask rows (`_within`) asks the geometry only about
the points within its bounds: the same answers as `shapely.intersects_xy` on every point, inside,
outside, on the edges of the bounds and the geometry, and without a position (NaN)."""

from __future__ import annotations

import random

import numpy as np
import shapely

from vts.rules.course_anomaly import _within


def _check(area: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> None:
    shapely.prepare(area)
    expected = shapely.intersects_xy(area, lon, lat)
    got = _within(area, area.bounds, lon.copy(), lat.copy())
    assert got.dtype == bool and got.shape == expected.shape
    assert got.tolist() == expected.tolist()


def test_within_answers_as_intersects_xy() -> None:
    rnd = random.Random(7)
    ring = shapely.Polygon([(-77.3, -12.2), (-77.0, -12.0), (-77.1, -11.8), (-77.4, -11.9)])
    holed = shapely.Polygon(
        [(-77.3, -12.2), (-76.9, -12.2), (-76.9, -11.8), (-77.3, -11.8)],
        [[(-77.2, -12.1), (-77.0, -12.1), (-77.0, -11.9), (-77.2, -11.9)]],
    )
    areas = [
        ring,
        holed,
        shapely.union_all([ring, shapely.box(-76.0, -13.0, -75.9, -12.9)]),
        ring.buffer(1e-6),
    ]
    for area in areas:
        x0, y0, x1, y1 = area.bounds
        lon = [rnd.uniform(x0 - 0.3, x1 + 0.3) for _ in range(300)]
        lat = [rnd.uniform(y0 - 0.3, y1 + 0.3) for _ in range(300)]
        lon += [x0, x1, x0, x1, x0 - 1e-12, float("nan"), -77.3, -77.0]
        lat += [y0, y1, y1, y0, y0, -12.0, -12.2, float("nan")]
        _check(area, np.array(lon), np.array(lat))
        far_lon, far_lat = np.array(lon) + 10.0, np.array(lat)  # none within the bounds
        _check(area, far_lon, far_lat)
        inside = area.representative_point()
        _check(area, np.full(5, inside.x), np.full(5, inside.y))  # all within the bounds
        _check(area, np.zeros(0), np.zeros(0))
