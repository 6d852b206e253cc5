"""The zone engine on the real Callao configuration: lookups, hysteresis, gaps, dwell, reload."""

from __future__ import annotations

import itertools
import math
import random

import pytest
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from vts.config import Config, ZoneSettings, load_config
from vts.geo import destination, distance_m
from vts.zones import ZoneEngine, ZoneEvent

MMSI = 760123456
Track = list[tuple[float, tuple[float, float]]]

# (lon, lat) of well-known places
DPWORLD_BERTH_POCKET = (-77.1500, -12.0526)  # alongside the Muelle Sur quay face
ANCHORAGE_ICC_POSITION = (-77.205, -12.030)  # ICC/IMB "Callao Anchorage" incident position
SAN_LORENZO_MIDDLE = (-77.223889, -12.089722)  # Wikipedia reference coordinate of the island
OPEN_SEA_WEST = (-77.35, -12.05)  # 20 km west of the bay, outside the VTS area
NAVAL_OUTSIDE = (-77.149, -12.043)  # port water ~300 m from the naval base zone
NAVAL_INSIDE = (-77.14375, -12.03911)  # water inside the naval base zone


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture
def engine(config: Config) -> ZoneEngine:
    return ZoneEngine.from_config(config)


def ids_at(engine: ZoneEngine, point: tuple[float, float]) -> set[str]:
    return {z.id for z in engine.zones_at(*point)}


def along(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


def border_point(engine: ZoneEngine, zone_id: str, outside: tuple[float, float], inside: tuple[float, float]):
    """The point where the straight line outside -> inside crosses the zone boundary (bisection)."""
    zone = engine.zone(zone_id)
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if zone.contains(*along(outside, inside, mid)):
            hi = mid
        else:
            lo = mid
    return along(outside, inside, hi)


def jitter(point: tuple[float, float], radius_m: float, rng: random.Random) -> tuple[float, float]:
    lat, lon = destination(point[1], point[0], rng.uniform(0, 360), radius_m * math.sqrt(rng.random()))
    return lon, lat


# -- instant lookups on the real geography -------------------------------------------------------


def test_berth_at_the_south_pier(engine: ZoneEngine) -> None:
    here = ids_at(engine, DPWORLD_BERTH_POCKET)
    assert {"vts_area", "port_area", "berth_dpworld_south", "security_dpworld"} <= here
    assert not here & {"berth_apm_north", "anchorage_main", "restricted_san_lorenzo"}
    assert not engine.is_on_land(*DPWORLD_BERTH_POCKET)


def test_main_anchorage(engine: ZoneEngine) -> None:
    assert ids_at(engine, ANCHORAGE_ICC_POSITION) == {"vts_area", "anchorage_main"}
    assert not engine.is_on_land(*ANCHORAGE_ICC_POSITION)


def test_middle_of_san_lorenzo_is_land_in_the_restricted_zone(engine: ZoneEngine) -> None:
    assert engine.is_on_land(*SAN_LORENZO_MIDDLE)
    assert "restricted_san_lorenzo" in ids_at(engine, SAN_LORENZO_MIDDLE)
    assert engine.distance_to("restricted_san_lorenzo", *SAN_LORENZO_MIDDLE) == 0.0
    assert "anchorage_main" not in ids_at(engine, SAN_LORENZO_MIDDLE)


def test_san_lorenzo_keep_off_ring_is_300_m_wide(engine: ZoneEngine, config: Config) -> None:
    island = next(p for p in config.land_polygons() if p.contains(Point(*SAN_LORENZO_MIDDLE)))
    west_lon, west_lat = min(island.exterior.coords)  # the westernmost point of the island
    for offshore_m, inside in ((150, True), (250, True), (450, False), (1000, False)):
        lat, lon = destination(west_lat, west_lon, 270.0, offshore_m)
        assert not engine.is_on_land(lon, lat)
        assert ("restricted_san_lorenzo" in ids_at(engine, (lon, lat))) is inside, offshore_m
    lat, lon = destination(west_lat, west_lon, 270.0, 1000)
    assert engine.distance_to("restricted_san_lorenzo", lon, lat) == pytest.approx(700, abs=80)


def test_open_sea_west_of_the_bay(engine: ZoneEngine) -> None:
    assert ids_at(engine, OPEN_SEA_WEST) == set()
    assert not engine.is_on_land(*OPEN_SEA_WEST)
    assert engine.distance_to("vts_area", *OPEN_SEA_WEST) > 5000


def test_lima_is_land_and_invalid_positions_are_not(engine: ZoneEngine) -> None:
    assert engine.is_on_land(-77.05, -12.05)
    assert not engine.is_on_land(181.0, 91.0)
    assert engine.zones_at(math.nan, -12.0) == []


def test_distance_is_in_metres(engine: ZoneEngine) -> None:
    zone = engine.zone("restricted_san_lorenzo")
    for lon, lat in (ANCHORAGE_ICC_POSITION, OPEN_SEA_WEST, (-77.17, -12.13)):
        _, nearest = nearest_points(Point(lon, lat), zone.geometry.boundary)
        expected = distance_m(lat, lon, nearest.y, nearest.x)
        got = engine.distance_to("restricted_san_lorenzo", lon, lat)
        assert got == pytest.approx(expected, rel=0.01), (lon, lat)
    assert engine.distance_to("security_naval_base", *NAVAL_OUTSIDE) == pytest.approx(300, abs=60)


def test_zone_objects(engine: ZoneEngine, config: Config) -> None:
    zone = engine.zone("tss_inbound")
    assert zone.kind == "lane" and zone.settings.direction_deg == 99.0
    assert zone.name == config.zone("tss_inbound").name
    assert 0.5e6 < zone.area_m2 < 1.0e6
    with pytest.raises(KeyError):
        engine.zone("no_such_zone")
    assert [z.id for z in engine.zones] == [z.id for z in config.zones]


def test_tree_lookup_agrees_with_brute_force(engine: ZoneEngine) -> None:
    rng = random.Random(3)
    for _ in range(400):
        lon, lat = rng.uniform(-77.30, -77.12), rng.uniform(-12.20, -11.88)
        brute = [z.id for z in engine.zones if z.geometry.intersects(Point(lon, lat))]
        assert [z.id for z in engine.zones_at(lon, lat)] == brute


# -- hysteresis -----------------------------------------------------------------------------------


def events_of(engine: ZoneEngine, track: Track, zone_id: str) -> list[ZoneEvent]:
    out: list[ZoneEvent] = []
    for t, (lon, lat) in track:
        out += [e for e in engine.update(MMSI, t, lon, lat) if e.zone_id == zone_id]
    return out


def test_naval_base_crossing_with_gps_noise_on_the_border(engine: ZoneEngine) -> None:
    zone = engine.zone("security_naval_base")
    border = border_point(engine, "security_naval_base", NAVAL_OUTSIDE, NAVAL_INSIDE)
    rng = random.Random(11)
    track: Track = []
    t = 1_000_000.0
    for i in range(20):  # approach, every 5 s
        track.append((t, along(NAVAL_OUTSIDE, border, i / 20)))
        t += 5
    for _ in range(120):  # ten minutes sitting on the border, GPS noise up to 20 m
        track.append((t, jitter(border, 20.0, rng)))
        t += 5
    for i in range(1, 21):  # into the zone
        track.append((t, along(border, NAVAL_INSIDE, i / 20)))
        t += 5
    for _ in range(24):  # two minutes inside
        track.append((t, jitter(NAVAL_INSIDE, 10.0, rng)))
        t += 5
    for i in range(1, 31):  # and back out, all the way
        track.append((t, along(NAVAL_INSIDE, NAVAL_OUTSIDE, i / 30)))
        t += 5
    flips = sum(1 for (_, a), (_, b) in itertools.pairwise(track) if zone.contains(*a) != zone.contains(*b))
    assert flips >= 10, "the noise must really cross the border back and forth"

    events = events_of(engine, track, "security_naval_base")
    assert [e.kind for e in events] == ["entry", "exit"]
    entry, exit_ = events
    assert entry.confirmed_time is not None and entry.confirmed_time - entry.time >= 10
    assert not entry.initial  # seen crossing in, not found inside
    assert zone.contains(entry.lon, entry.lat)
    assert not zone.contains(exit_.lon, exit_.lat)
    assert exit_.confirmed_lon is not None and exit_.confirmed_lat is not None
    assert engine.distance_to("security_naval_base", exit_.confirmed_lon, exit_.confirmed_lat) > 50
    assert exit_.entered_time == entry.time and exit_.time > entry.time
    assert "security_naval_base" not in engine.zones_of(MMSI)


def test_entry_needs_two_fixes_ten_seconds_apart(engine: ZoneEngine) -> None:
    t = 5000.0
    assert engine.update(MMSI, t, *NAVAL_INSIDE) == []  # first fix: nothing confirmed yet
    assert engine.update(MMSI, t + 5, *NAVAL_INSIDE) == []  # only 5 s later
    assert "security_naval_base" not in engine.zones_of(MMSI)
    events = engine.update(MMSI, t + 10, *NAVAL_INSIDE)
    naval = [e for e in events if e.zone_id == "security_naval_base"]
    assert (
        len(naval) == 1
        and naval[0].kind == "entry"
        and naval[0].time == t
        and naval[0].confirmed_time == t + 10
    )
    assert "security_naval_base" in engine.zones_of(MMSI)


def test_a_fix_outside_cancels_a_pending_entry(engine: ZoneEngine) -> None:
    engine.update(MMSI, 0.0, *NAVAL_INSIDE)
    engine.update(MMSI, 8.0, *NAVAL_OUTSIDE)
    engine.update(MMSI, 12.0, *NAVAL_INSIDE)
    assert "security_naval_base" not in engine.zones_of(MMSI)
    events = engine.update(MMSI, 22.0, *NAVAL_INSIDE)
    assert [(e.kind, e.time) for e in events if e.zone_id == "security_naval_base"] == [("entry", 12.0)]


def test_exit_only_beyond_fifty_metres(engine: ZoneEngine) -> None:
    border = border_point(engine, "security_naval_base", NAVAL_OUTSIDE, NAVAL_INSIDE)
    lat0, lon0 = border[1], border[0]
    bearing_out = _bearing(NAVAL_INSIDE, NAVAL_OUTSIDE)
    engine.update(MMSI, 0.0, *NAVAL_INSIDE)
    engine.update(MMSI, 10.0, *NAVAL_INSIDE)
    assert "security_naval_base" in engine.zones_of(MMSI)
    lat, lon = destination(lat0, lon0, bearing_out, 30)
    assert 0 < engine.distance_to("security_naval_base", lon, lat) < 50
    assert not [e for e in engine.update(MMSI, 20.0, lon, lat) if e.zone_id == "security_naval_base"]
    assert "security_naval_base" in engine.zones_of(MMSI)
    lat2, lon2 = destination(lat0, lon0, bearing_out, 40)
    engine.update(MMSI, 30.0, lon2, lat2)
    lat3, lon3 = destination(lat0, lon0, bearing_out, 150)
    assert engine.distance_to("security_naval_base", lon3, lat3) > 50
    exits = [e for e in engine.update(MMSI, 40.0, lon3, lat3) if e.zone_id == "security_naval_base"]
    assert len(exits) == 1 and exits[0].kind == "exit"
    assert exits[0].time == 20.0 and (exits[0].lon, exits[0].lat) == (lon, lat)  # the first fix outside
    assert exits[0].confirmed_time == 40.0 and not exits[0].gap


def test_reception_gap_resets_pending_entries(engine: ZoneEngine) -> None:
    engine.update(MMSI, 0.0, *NAVAL_INSIDE)
    # 15 minutes of silence: the fix before and the fix after the gap do not confirm an entry
    assert not [e for e in engine.update(MMSI, 900.0, *NAVAL_INSIDE) if e.zone_id == "security_naval_base"]
    assert "security_naval_base" not in engine.zones_of(MMSI)
    events = [e for e in engine.update(MMSI, 910.0, *NAVAL_INSIDE) if e.zone_id == "security_naval_base"]
    assert [(e.kind, e.time) for e in events] == [("entry", 900.0)]  # no crossing time invented
    assert events[0].initial  # found inside after the gap


def test_reception_gap_exit_is_marked_and_not_interpolated(engine: ZoneEngine) -> None:
    engine.update(MMSI, 0.0, *NAVAL_INSIDE)
    engine.update(MMSI, 10.0, *NAVAL_INSIDE)
    events = [
        e for e in engine.update(MMSI, 2000.0, *ANCHORAGE_ICC_POSITION) if e.zone_id == "security_naval_base"
    ]
    assert len(events) == 1
    exit_ = events[0]
    assert exit_.kind == "exit" and exit_.gap
    assert exit_.time == 2000.0 and exit_.last_inside_time == 10.0
    # still inside after a gap: the membership holds, no events
    engine.update(MMSI, 2010.0, *ANCHORAGE_ICC_POSITION)
    assert "anchorage_main" in engine.zones_of(MMSI)
    assert engine.update(MMSI, 4000.0, *ANCHORAGE_ICC_POSITION) == []
    assert "anchorage_main" in engine.zones_of(MMSI)


def test_old_and_invalid_fixes_are_ignored(engine: ZoneEngine) -> None:
    engine.update(MMSI, 100.0, *NAVAL_INSIDE)
    engine.update(MMSI, 110.0, *NAVAL_INSIDE)
    assert engine.update(MMSI, 50.0, *OPEN_SEA_WEST) == []
    assert engine.update(MMSI, 120.0, math.nan, -12.0) == []
    assert engine.update(MMSI, 130.0, -77.0, 91.0) == []
    assert "security_naval_base" in engine.zones_of(MMSI)


def test_dwell(engine: ZoneEngine) -> None:
    engine.update(MMSI, 1000.0, *ANCHORAGE_ICC_POSITION)
    assert engine.dwell(MMSI, "anchorage_main", 1005.0) is None
    engine.update(MMSI, 1012.0, *ANCHORAGE_ICC_POSITION)
    assert engine.dwell(MMSI, "anchorage_main", 4600.0) == 3600.0
    assert engine.dwell(MMSI, "port_area", 4600.0) is None
    assert engine.dwell(999999999, "anchorage_main", 4600.0) is None
    engine.forget(MMSI)
    assert engine.zones_of(MMSI) == set()


def test_reload_keeps_memberships_of_zones_that_still_exist(engine: ZoneEngine, config: Config) -> None:
    engine.update(MMSI, 0.0, *DPWORLD_BERTH_POCKET)
    engine.update(MMSI, 10.0, *DPWORLD_BERTH_POCKET)
    engine.update(MMSI + 1, 0.0, *ANCHORAGE_ICC_POSITION)  # pending only
    before = engine.zones_of(MMSI)
    assert {"port_area", "berth_dpworld_south", "security_dpworld"} <= before
    changed = config.model_copy(
        update={"zones": [z for z in config.zones if z.id != "security_dpworld"] + [_extra_zone()]}
    )
    new = engine.reloaded(changed)
    assert new is not engine and new.has_zone("operator_box") and not new.has_zone("security_dpworld")
    assert new.zones_of(MMSI) == before - {"security_dpworld"}
    assert new.dwell(MMSI, "berth_dpworld_south", 70.0) == 70.0
    assert new.update(MMSI, 20.0, *DPWORLD_BERTH_POCKET) == []  # no re-entry after the reload
    entries = [e.zone_id for e in new.update(MMSI + 1, 10.0, *ANCHORAGE_ICC_POSITION)]
    assert "anchorage_main" in entries  # the pending entry survived the reload too


def test_hysteresis_settings_come_from_the_config(config: Config) -> None:
    from vts.config import ZoneEngineSettings

    immediate = config.model_copy(
        update={
            "zone_engine": ZoneEngineSettings(
                entry_confirm_s=0, exit_margin_m=0, gap_reset_s=60, outlier_speed_kn=0
            )
        }
    )
    engine = ZoneEngine.from_config(immediate)
    assert [
        e.kind for e in engine.update(MMSI, 0.0, *NAVAL_INSIDE) if e.zone_id == "security_naval_base"
    ] == ["entry"]
    border = border_point(engine, "security_naval_base", NAVAL_OUTSIDE, NAVAL_INSIDE)
    lat, lon = destination(border[1], border[0], _bearing(NAVAL_INSIDE, NAVAL_OUTSIDE), 5)
    assert [e.kind for e in engine.update(MMSI, 1.0, lon, lat) if e.zone_id == "security_naval_base"] == [
        "exit"
    ]
    assert engine.reloaded(immediate).exit_margin_m == 0
    assert engine.outlier_speed_kn == 0  # the jump above (1 s) was taken at once


def test_lookup_on_cell_edges_and_corners(engine: ZoneEngine, config: Config) -> None:
    """Points exactly on the cache's cell edges agree with a brute-force test of every zone."""
    step = engine._index.CELL_DEG  # (on the instance: a native class gives a descriptor)
    assert engine._land.CELL_DEG == step  # (the land's cells are the zones' cells)
    land = shapely.union_all(config.land_polygons())
    for i in range(-15460, -15420, 3):
        for j in range(-2440, -2376, 3):
            x, y = i * step, j * step
            for lon, lat in ((x, y), (x + step / 2, y), (x, y + 1e-12)):
                brute = [z.id for z in engine.zones if z.geometry.intersects(Point(lon, lat))]
                assert [z.id for z in engine.zones_at(lon, lat)] == brute, (lon, lat)
                assert engine.is_on_land(lon, lat) == land.intersects(Point(lon, lat)), (lon, lat)


def test_random_zones_consistency() -> None:
    rng = random.Random(5)
    zones = []
    for i in range(200):
        lon, lat = rng.uniform(-77.3, -77.1), rng.uniform(-12.2, -11.9)
        ring = shapely.Point(lon, lat).buffer(rng.uniform(0.002, 0.02), quad_segs=3).exterior.coords
        zones.append(ZoneSettings(id=f"z{i}", name=f"z{i}", kind="waiting_area", polygon=list(ring)))
    engine = ZoneEngine(zones)
    for _ in range(300):
        lon, lat = rng.uniform(-77.3, -77.1), rng.uniform(-12.2, -11.9)
        assert {z.id for z in engine.zones_at(lon, lat)} == {
            z.id for z in engine.zones if z.geometry.intersects(Point(lon, lat))
        }


def _extra_zone() -> ZoneSettings:
    ring = [(-77.25, -12.00), (-77.24, -12.00), (-77.24, -12.01), (-77.25, -12.01), (-77.25, -12.00)]
    return ZoneSettings(id="operator_box", name="Operator box", kind="waiting_area", polygon=ring)


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    from vts.geo import bearing_deg

    return bearing_deg(a[1], a[0], b[1], b[0])


def test_core_feeds_the_zone_engine_and_reload_keeps_memberships(config: Config) -> None:
    """The pipeline glue: positions processed by `Core` reach the zones; `Core.reload` keeps them."""
    from vts.core import Core
    from vts.reports import PositionReport

    core = Core(config)
    for k in range(5):
        lon, lat = NAVAL_INSIDE
        report = PositionReport(
            time=1_767_225_600.0 + 10 * k, mmsi=MMSI, msg_type=1, source="test", lat=lat, lon=lon
        )
        core.process(report)
    assert "security_naval_base" in core.zones.zones_of(MMSI)
    reduced = config.model_copy(update={"zones": [z for z in config.zones if z.id != "port_area"]})
    core.reload(reduced)
    assert core.zones.zones_of(MMSI) == {"vts_area", "security_naval_base"}
    assert core.zones.dwell(MMSI, "security_naval_base", 1_767_225_700.0) == 100.0


def test_prefilled_cells_answer_exactly_as_cells_filled_one_by_one(engine: ZoneEngine) -> None:
    """`prefill` (one vectorised query for a batch of positions) must cache the same answers as the
    lazy per-cell fill, for zones and for land, including cells on zone and coast edges."""
    import numpy as np

    rng = np.random.default_rng(7)
    lon = rng.uniform(-77.75, -77.10, 5000)
    lat = rng.uniform(-12.45, -11.55, 5000)
    lazy = ZoneEngine([z.settings for z in engine.zones], engine.land_geometries())
    engine.prefill(lon, lat)
    edge_cells = 0
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        assert [z.id for z in engine.zones_at(x, y)] == [z.id for z in lazy.zones_at(x, y)]
        assert engine.is_on_land(x, y) == lazy.is_on_land(x, y)
        full, partial, _ = engine._index._cell(x, y)
        lazy_full, lazy_partial, _ = lazy._index._cell(x, y)
        assert (full, partial.tolist()) == (lazy_full, lazy_partial.tolist())
        edge_cells += len(partial) > 0
    assert edge_cells > 100  # the sample does cross zone edges
