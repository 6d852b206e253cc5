"""Geodesy helpers: distances, bearings, destinations and the local metric projection."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from vts.geo import (
    EARTH_RADIUS_M,
    LocalProjection,
    angle_diff_deg,
    bearing_deg,
    bearing_deg_np,
    destination,
    distance_m,
    distance_m_np,
    velocity_ms_np,
)

CALLAO = (-12.05, -77.15)  # (lat, lon)


def test_distance_of_one_degree_of_latitude() -> None:
    assert distance_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M / 180, rel=1e-9)
    assert distance_m(*CALLAO, *CALLAO) == 0.0


def test_distance_one_nautical_mile() -> None:
    # one minute of latitude is about one nautical mile (1852 m) on the sphere
    assert distance_m(-12.0, -77.2, -12.0 - 1 / 60, -77.2) == pytest.approx(1852, rel=0.002)


def test_distance_callao_to_san_lorenzo_reference_point() -> None:
    # Torre Reloj light to the Wikipedia reference point of Isla San Lorenzo: about 8.4 km
    d = distance_m(-12.058056, -77.148889, -12.089722, -77.223889)
    assert 8000 < d < 9000


def test_bearings_of_the_cardinal_directions() -> None:
    lat, lon = CALLAO
    assert bearing_deg(lat, lon, lat + 0.01, lon) == pytest.approx(0.0, abs=1e-6)
    assert bearing_deg(lat, lon, lat, lon + 0.01) == pytest.approx(90.0, abs=0.01)
    assert bearing_deg(lat, lon, lat - 0.01, lon) == pytest.approx(180.0, abs=1e-6)
    assert bearing_deg(lat, lon, lat, lon - 0.01) == pytest.approx(270.0, abs=0.01)


def test_destination_round_trip() -> None:
    rng = random.Random(1)
    for _ in range(200):
        b, d = rng.uniform(0, 360), rng.uniform(1, 50_000)
        lat2, lon2 = destination(*CALLAO, b, d)
        assert distance_m(*CALLAO, lat2, lon2) == pytest.approx(d, rel=1e-9)
        assert angle_diff_deg(bearing_deg(*CALLAO, lat2, lon2), b) < 1e-6


def test_destination_wraps_the_antimeridian() -> None:
    _, lon = destination(0.0, 179.999, 90.0, 1000.0)
    assert -180 <= lon < -179.99


def test_angle_diff() -> None:
    assert angle_diff_deg(350, 10) == 20
    assert angle_diff_deg(10, 350) == 20
    assert angle_diff_deg(99, 279) == 180


def test_numpy_versions_match_the_scalar_ones() -> None:
    rng = np.random.default_rng(2)
    lat1, lon1 = rng.uniform(-12.2, -11.9, 50), rng.uniform(-77.3, -77.1, 50)
    lat2, lon2 = rng.uniform(-12.2, -11.9, 50), rng.uniform(-77.3, -77.1, 50)
    d = distance_m_np(lat1, lon1, lat2, lon2)
    b = bearing_deg_np(lat1, lon1, lat2, lon2)
    for i in range(50):
        assert d[i] == pytest.approx(distance_m(lat1[i], lon1[i], lat2[i], lon2[i]), rel=1e-12)
        assert b[i] == pytest.approx(bearing_deg(lat1[i], lon1[i], lat2[i], lon2[i]), abs=1e-9)


def test_velocity_components() -> None:
    vx, vy = velocity_ms_np([10.0, 10.0], [90.0, 180.0])
    assert vx[0] == pytest.approx(10 * 1852 / 3600) and vy[0] == pytest.approx(0, abs=1e-12)
    assert vx[1] == pytest.approx(0, abs=1e-12) and vy[1] == pytest.approx(-10 * 1852 / 3600)


def test_local_projection_is_metric_and_round_trips() -> None:
    proj = LocalProjection(*CALLAO)
    assert proj.to_xy(*CALLAO) == (0.0, 0.0)
    rng = random.Random(4)
    for _ in range(200):
        lat, lon = destination(*CALLAO, rng.uniform(0, 360), rng.uniform(0, 20_000))
        x, y = proj.to_xy(lat, lon)
        assert math.hypot(x, y) == pytest.approx(distance_m(*CALLAO, lat, lon), rel=1e-3)
        lat2, lon2 = proj.to_latlon(x, y)
        assert (lat2, lon2) == pytest.approx((lat, lon), abs=1e-12)


def test_local_projection_numpy_and_coordinate_arrays() -> None:
    proj = LocalProjection(*CALLAO)
    lats = np.array([-12.0, -12.1])
    lons = np.array([-77.2, -77.1])
    xs, ys = proj.to_xy_np(lats, lons)
    assert (xs[0], ys[0]) == pytest.approx(proj.to_xy(-12.0, -77.2))
    back_lat, back_lon = proj.to_latlon_np(xs, ys)
    assert np.allclose(back_lat, lats) and np.allclose(back_lon, lons)
    xy = proj.lonlat_to_xy_coords(np.column_stack((lons, lats)))
    assert np.allclose(xy[:, 0], xs) and np.allclose(xy[:, 1], ys)
    assert np.allclose(proj.xy_to_lonlat_coords(xy), np.column_stack((lons, lats)))
