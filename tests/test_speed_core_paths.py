"""The per-report fast paths of the tracker and the zone engine agree with their plain paths.

`Tracker._position` writes out, for a known vessel's consistent fix, what `_touch`, `_count`,
`_consistent` and `_kinematics` do; `ZoneEngine.update` tests validity and looks up the cell of the
zone index inline. Each is compared here with the plain path on random inputs."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from vts.config import load_config
from vts.reports import PositionReport, StaticReport
from vts.tracker import Tracker, TrackerSettings, VesselState
from vts.zones import ZoneEngine

T0 = 1_700_000_000.0
CALLAO = (-12.05, -77.15)


class PlainTracker(Tracker):
    """Every position report through `_touch`, `_count`, `_consistent` and `_kinematics`."""

    def _position(self, r: PositionReport) -> VesselState:
        return self._position_slow(r)


def random_reports(rng: random.Random, n: int) -> list[Any]:
    """Position reports of a few vessels: noise, far jumps (a second ship), no position, late and
    repeated times, long-range and Class B messages, the own ship, some static reports."""
    mmsis = [760000000 + i for i in range(6)]
    t = T0
    out: list[Any] = []
    for _ in range(n):
        t += rng.choice([0.0, 0.5, 3.0, 10.0, 60.0, 900.0]) * rng.random()
        mmsi = rng.choice(mmsis)
        if rng.random() < 0.05:
            out.append(StaticReport(time=t, mmsi=mmsi, msg_type=5, source="s", name="X", ship_type=70))
            continue
        lat = CALLAO[0] + rng.gauss(0, 0.01)
        lon = CALLAO[1] + rng.gauss(0, 0.01)
        if rng.random() < 0.08:  # a fix far away: another ship under the MMSI, or an outlier
            lat += rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 2.0)
        has_position = rng.random() > 0.05
        msg_type = rng.choice([1, 1, 1, 3, 18, 27])
        out.append(
            PositionReport(
                time=t - (rng.uniform(0, 120) if rng.random() < 0.05 else 0.0),
                mmsi=mmsi,
                msg_type=msg_type,
                source="s",
                own_ship=rng.random() < 0.02,
                ais_class="B" if msg_type == 18 else "A",
                lat=lat if has_position else None,
                lon=lon if has_position else None,
                sog=rng.choice([None, 0.1, 8.0, 30.0]),
                cog=rng.choice([None, 0.0, 135.0, 359.9]),
                heading=rng.choice([None, 0, 90]),
                nav_status=rng.choice([None, 0, 1, 5]),
                rot=rng.choice([None, 0.0, 5.0]),
                second=rng.randrange(60),
                class_b_cs=rng.choice([None, True, False]) if msg_type == 18 else None,
            )
        )
    return out


@pytest.mark.parametrize("seed", range(6))
def test_tracker_fast_path_agrees_with_the_plain_one(seed: int) -> None:
    rng = random.Random(seed)
    settings = TrackerSettings(trail_minutes=2.0, trail_max_points=20)
    fast, plain = Tracker(settings), PlainTracker(settings)
    for report in random_reports(rng, 3000):
        a, b = fast.update(report), plain.update(report)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert (a.mmsi, a.is_shadow) == (b.mmsi, b.is_shadow)
            assert a == b
        if rng.random() < 0.01:
            assert fast.prune(report.time) == plain.prune(report.time)
    assert fast.vessels() == plain.vessels()
    assert fast.shadows() == plain.shadows()


class _NoCache(dict):  # type: ignore[type-arg]
    """A cell cache that never holds anything: every lookup fills its cell afresh (`_fill`)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@pytest.mark.parametrize("seed", range(4))
def test_zone_update_fast_path_agrees_with_fresh_lookups(seed: int) -> None:
    """Random walks over the bay: the inline cell lookup (cached) gives the events and memberships
    of an engine that looks every cell up afresh."""
    config = load_config()
    cached, fresh = ZoneEngine.from_config(config), ZoneEngine.from_config(config)
    fresh._index._cells = _NoCache()
    rng = random.Random(seed)
    zones = cached.zones
    walkers = {}
    for mmsi in range(20):
        zone = rng.choice(zones)
        c = zone.geometry.centroid
        walkers[mmsi] = [c.x, c.y]
    t = T0
    for step in range(4000):
        mmsi = rng.randrange(20)
        w = walkers[mmsi]
        w[0] += rng.gauss(0, 0.002)
        w[1] += rng.gauss(0, 0.002)
        if step % 500 == 0:  # a jump to another zone
            c = rng.choice(zones).geometry.centroid
            w[0], w[1] = c.x, c.y
        t += rng.uniform(0, 5)
        assert cached.update(mmsi, t, w[0], w[1]) == fresh.update(mmsi, t, w[0], w[1])
    for mmsi in walkers:
        assert cached.zones_of(mmsi) == fresh.zones_of(mmsi)
    assert cached.saved_state() == fresh.saved_state()


@pytest.mark.parametrize(
    ("t", "lon", "lat"),
    [
        (math.nan, CALLAO[1], CALLAO[0]),
        (math.inf, CALLAO[1], CALLAO[0]),
        (T0, math.nan, CALLAO[0]),
        (T0, CALLAO[1], math.nan),
        (T0, -math.inf, CALLAO[0]),
        (T0, CALLAO[1], math.inf),
        (T0, 180.5, 0.0),
        (T0, 0.0, -90.5),
    ],
)
def test_zone_update_ignores_invalid_fixes(t: float, lon: float, lat: float) -> None:
    engine = ZoneEngine.from_config(load_config())
    assert engine.update(1, t, lon, lat) == []
    assert engine.vessels() == []


@pytest.mark.parametrize(
    ("received", "lon", "lat"),
    [
        (None, CALLAO[1], CALLAO[0]),  # no time: the untimed fix waits for one (`vts.ingest`)
        (T0, 181.0, CALLAO[0]),  # longitude "not available"
        (T0, CALLAO[1], 91.0),  # latitude "not available"
        (T0, CALLAO[1], -95.0),  # a latitude that is none
    ],
)
def test_a_fix_without_time_or_position_never_reaches_the_zones(
    received: float | None, lon: float, lat: float
) -> None:
    """What `ZoneEngine.update` (typed floats) is never given: a fix with no time, or whose
    position is missing or no position, is kept from it on the way production takes, from the
    sentence through `Core` (the fixes the zone engine itself rejects are above)."""
    import pyais

    from vts.core import Core

    (line,) = pyais.encode_dict(
        {"msg_type": 1, "mmsi": 760000001, "lon": lon, "lat": lat, "speed": 5.0, "course": 90.0},
        talker_id="AI",
        sentence_type="VDM",
        radio_channel="B",
    )
    core = Core(load_config())
    assert core.feed_line(line.encode(), "feed", received) == []
    assert core.zones.vessels() == []
    known = [v.mmsi for v in core.tracker.vessels()]
    assert known == ([] if received is None else [760000001])  # (the fix did reach the core)


def test_zone_update_takes_the_extreme_valid_fixes() -> None:
    engine = ZoneEngine.from_config(load_config())
    for i, (lon, lat) in enumerate([(180.0, 90.0), (-180.0, -90.0), (0.0, 0.0)]):
        assert engine.update(i, T0, lon, lat) == []
    assert sorted(engine.vessels()) == [0, 1, 2]


def test_prefill_in_batches_answers_as_cells_filled_one_by_one() -> None:
    """Batches of positions (some invalid, some in cells filled one by one before, the cache
    emptied when full) cache exactly the answers of the lazy per-cell fill."""
    import numpy as np

    config = load_config()
    engine, lazy = ZoneEngine.from_config(config), ZoneEngine.from_config(config)
    engine._index.MAX_CELLS = engine._land.MAX_CELLS = 300  # (emptied a few times below)
    rng = np.random.default_rng(3)
    for batch in range(30):
        lon = rng.uniform(-77.4, -77.0, 400)
        lat = rng.uniform(-12.3, -11.9, 400)
        lon[:5] = [np.nan, 200.0, -180.0, 180.0, 0.0]
        lat[:5] = [0.0, 0.0, -90.0, 90.0, np.nan]
        engine.prefill(lon, lat)
        for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
            assert [z.id for z in engine.zones_at(x, y)] == [z.id for z in lazy.zones_at(x, y)]
            assert engine.is_on_land(x, y) == lazy.is_on_land(x, y)
            if batch % 3 == 0 and math.isfinite(x) and math.isfinite(y) and abs(x) <= 180:
                full, partial, _ = engine._index._cell(x, y)
                lazy_full, lazy_partial, _ = lazy._index._cell(x, y)
                assert (full, partial.tolist()) == (lazy_full, lazy_partial.tolist())
        assert len(engine._index._known) <= len(engine._index._cells)


def test_grid_updates_keep_every_vessel_in_its_cell_alone() -> None:
    """`VesselGrid.update` (a vessel staying in its cell touches no cell set) against a brute-force
    picture: each vessel in the cell of its latest position and no other, `near` exact."""
    from vts.spatial import CELL_DEG, VesselGrid, approx_distance_m

    rng = random.Random(5)
    grid = VesselGrid()
    where: dict[int, tuple[float, float]] = {}
    for step in range(5000):
        mmsi = rng.randrange(40)
        if rng.random() < 0.03:
            grid.remove(mmsi)
            where.pop(mmsi, None)
            continue
        old = where.get(mmsi, (CALLAO[0] + rng.gauss(0, 0.02), CALLAO[1] + rng.gauss(0, 0.02)))
        step_deg = rng.choice([0.00001, 0.0005, 0.003, 0.02])
        lat, lon = old[0] + rng.gauss(0, step_deg), old[1] + rng.gauss(0, step_deg)
        grid.update(mmsi, lat, lon)
        where[mmsi] = (lat, lon)
        if step % 250 == 0:
            cells: dict[tuple[int, int], set[int]] = {}
            for m, (y, x) in where.items():
                cells.setdefault((math.floor(y / CELL_DEG), math.floor(x / CELL_DEG)), set()).add(m)
            assert grid._cells == cells and len(grid) == len(where)
            expected = sorted(
                (approx_distance_m(lat, lon, y, x), m)
                for m, (y, x) in where.items()
                if approx_distance_m(lat, lon, y, x) <= 1500.0
            )
            assert [m for _, m in grid.near_with_distance(lat, lon, 1500.0)] == [m for _, m in expected]


def test_prune_forgets_as_a_scan_of_every_vessel_would() -> None:
    """`Tracker.prune` looks only at the vessels queued as silent: it forgets, in the tracker's
    order, exactly the vessels a scan of all of them finds silent too long."""
    rng = random.Random(11)
    settings = TrackerSettings(forget_after_minutes=2.0)
    tracker = Tracker(settings)
    reports = random_reports(rng, 4000)
    for i, report in enumerate(reports):
        tracker.update(report)
        if i % 37 == 0:
            now = report.time + rng.uniform(0, 200)
            limit = now - settings.forget_after_s
            expected = [m for m, v in tracker._vessels.items() if v.last_seen < limit]
            assert tracker.prune(now) == expected
            assert all(v.last_seen >= limit for v in tracker.vessels())
    assert sorted(entry[2] for entry in tracker._by_seen) == sorted(tracker._vessels)


def test_batch_columns_are_the_reports_fields() -> None:
    """`ReportBatch` builds its columns from one flat run of floats: each row is still its report's
    fields (NaN for None and for rows that are not fixes, -1 for no status)."""
    import numpy as np

    from vts.batch import ReportBatch

    rng = random.Random(2)
    reports = random_reports(rng, 2000)
    batch = ReportBatch(reports)
    for i, r in enumerate(reports):
        fix = type(r) is PositionReport and r.lat is not None and r.lon is not None
        assert batch.mmsi[i] == r.mmsi and batch.is_position[i] == fix
        for name in ("time", "lat", "lon", "sog", "cog", "heading"):
            value = getattr(r, name) if fix else None
            got = getattr(batch, name)[i]
            assert (math.isnan(got) and value is None) or got == value
        status = r.nav_status if fix and r.nav_status is not None else -1
        assert batch.nav_status[i] == status
    assert batch.nav_status.dtype == np.int64 and batch.mmsi.dtype == np.int64
