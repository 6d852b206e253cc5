"""The zone and land lookups answer a point outside the bounds of every geometry (`GeometryIndex.box`)
with no cell lookup, and `ZoneEngine.update` returns early for a vessel there that is in no zone and
entering none. Compared here with the same lookups made with no box at all."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import shapely

from vts.config import load_config
from vts.zones import GeometryIndex, ZoneEngine

T0 = 1_700_000_000.0
EVERYWHERE = (-math.inf, -math.inf, math.inf, math.inf)


def brute_indices(index: GeometryIndex, lon: float, lat: float) -> list[int]:
    return [i for i, g in enumerate(index.geometries) if shapely.intersects_xy(g, lon, lat)]


def edge_points(box: tuple[float, float, float, float], rng: random.Random) -> list[tuple[float, float]]:
    """Points on, just inside and just outside the box's edges and corners, and the extreme
    vertices of the geometries themselves (on the box)."""
    x0, y0, x1, y1 = box
    xs = [x0, x1, math.nextafter(x0, -math.inf), math.nextafter(x1, math.inf), (x0 + x1) / 2]
    ys = [y0, y1, math.nextafter(y0, -math.inf), math.nextafter(y1, math.inf), (y0 + y1) / 2]
    points = [(x, y) for x in xs for y in ys]
    points += [(rng.uniform(x0 - 0.2, x1 + 0.2), rng.uniform(y0 - 0.2, y1 + 0.2)) for _ in range(3000)]
    return points


@pytest.mark.parametrize("which", ["zones", "land"])
def test_lookups_outside_the_box_answer_as_every_geometry_would(which: str) -> None:
    engine = ZoneEngine.from_config(load_config())
    index = engine._index if which == "zones" else engine._land
    assert len(index) > 0
    rng = random.Random(1)
    points = edge_points(index.box, rng)
    for g in index.geometries:  # the vertices that make the box
        c = shapely.get_coordinates(g)
        for k in (c[:, 0].argmin(), c[:, 0].argmax(), c[:, 1].argmin(), c[:, 1].argmax()):
            points.append((float(c[k, 0]), float(c[k, 1])))
    for lon, lat in points:
        expected = brute_indices(index, lon, lat)
        assert index.indices_at(lon, lat) == expected
        assert index.any_at(lon, lat) == bool(expected)


def test_an_empty_index_has_a_box_nothing_is_inside() -> None:
    index = GeometryIndex([])
    assert index.indices_at(-77.1, -12.0) == [] and not index.any_at(0.0, 0.0)
    index.prefill(np.array([-77.1, 0.0]), np.array([-12.0, 0.0]))
    engine = ZoneEngine([], [])
    engine.prefill(np.array([-77.1]), np.array([-12.0]))
    assert engine.update(1, T0, -77.1, -12.0) == [] and engine.vessels() == [1]


@pytest.mark.parametrize("seed", range(4))
def test_zone_update_outside_the_box_agrees_with_lookups_everywhere(seed: int) -> None:
    """Random walks across the zones' box edges (and far off, and back): the events, memberships and
    saved state of an engine whose box covers everything, with batches prefilled or not."""
    config = load_config()
    boxed, plain = ZoneEngine.from_config(config), ZoneEngine.from_config(config)
    plain._index.box = plain._land.box = EVERYWHERE
    rng = random.Random(seed)
    x0, y0, x1, y1 = boxed._index.box
    corners = [(x0, y0), (x0, y1), (x1, y0), (x1, y1), ((x0 + x1) / 2, y0), (x1, (y0 + y1) / 2)]
    zones = boxed.zones
    walkers: dict[int, list[float]] = {}
    for mmsi in range(24):
        if mmsi % 2:
            c = rng.choice(zones).geometry.centroid
            walkers[mmsi] = [c.x, c.y]
        else:
            walkers[mmsi] = list(rng.choice(corners))
    t = T0
    for step in range(6000):
        if step % 200 == 0:
            lon = np.array([w[0] + rng.gauss(0, 0.01) for w in walkers.values()])
            lat = np.array([w[1] + rng.gauss(0, 0.01) for w in walkers.values()])
            boxed.prefill(lon, lat)
            plain.prefill(lon, lat)
        mmsi = rng.randrange(24)
        w = walkers[mmsi]
        w[0] += rng.gauss(0, 0.003)
        w[1] += rng.gauss(0, 0.003)
        r = rng.random()
        if r < 0.01:  # a jump to a zone, to the box's edge, or far off
            c = rng.choice(zones).geometry.centroid
            w[0], w[1] = c.x, c.y
        elif r < 0.02:
            w[0], w[1] = rng.choice(corners)
        elif r < 0.025:
            w[0], w[1] = w[0] + rng.choice([-1.0, 1.0]), w[1] + rng.choice([-1.0, 1.0])
        t += rng.choice([0.0, 1.0, 5.0, 30.0, 700.0]) * rng.random()
        assert boxed.update(mmsi, t, w[0], w[1]) == plain.update(mmsi, t, w[0], w[1])
        assert boxed.held_back(mmsi, t) == plain.held_back(mmsi, t)
    for mmsi in walkers:
        assert boxed.zones_of(mmsi) == plain.zones_of(mmsi)
    assert boxed.saved_state() == plain.saved_state()
