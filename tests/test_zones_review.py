"""The zone engine's hysteresis on the awkward cases of real AIS, reviewed line by line: zones with
holes and several parts, fixes repeating a time or coming late, a vessel exactly on the border, a
vessel forgotten and heard again, a reload with vessels inside, and a lone GNSS outlier (held back
until a second fix confirms the exit)."""

from __future__ import annotations

import math

import pytest

from vts.config import PolygonPart, ZoneSettings
from vts.zones import ZoneEngine, ZoneEvent

MMSI = 760123456
LAT0, LON0 = -12.0, -77.20
M_PER_DEG = 111_195.0


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lon, lat) of the point `east_m` east and `north_m` north of the test origin."""
    return LON0 + east_m / (M_PER_DEG * math.cos(math.radians(LAT0))), LAT0 + north_m / M_PER_DEG


def square(cx: float, cy: float, half: float) -> list[tuple[float, float]]:
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    return [at(cx + sx * half, cy + sy * half) for sx, sy in corners]


def ring_zone() -> ZoneSettings:
    """A 2 km square with a 600 m square hole in the middle, and a second part 1 km square whose
    west side lies 1 km east of the first part's east side."""
    return ZoneSettings(
        id="ring",
        name="Ring",
        kind="restricted",
        polygon=square(0, 0, 1000),
        holes=[square(0, 0, 300)],
        parts=[PolygonPart(polygon=square(2500, 0, 500))],
    )


@pytest.fixture
def engine() -> ZoneEngine:
    return ZoneEngine([ring_zone()])


def feed(engine: ZoneEngine, track: list[tuple[float, tuple[float, float]]]) -> list[ZoneEvent]:
    out: list[ZoneEvent] = []
    for t, (lon, lat) in track:
        out += engine.update(MMSI, t, lon, lat)
    return out


def test_the_hole_is_outside_and_its_edge_keeps_the_exit_margin(engine: ZoneEngine) -> None:
    assert engine.zones_at(*at(0, 0)) == []  # the middle of the hole
    assert engine.distance_to("ring", *at(0, 0)) == pytest.approx(300, abs=2)
    # in the ring, then 30 m into the hole (within the 50 m margin): still a member
    events = feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500)), (20.0, at(0, 270))])
    assert [e.kind for e in events] == ["entry"] and engine.zones_of(MMSI) == {"ring"}
    # 100 m into the hole: out, the crossing being the first fix outside
    events = feed(engine, [(30.0, at(0, 200))])
    assert [(e.kind, e.time) for e in events] == [("exit", 20.0)]


def test_moving_between_the_parts_of_one_zone(engine: ZoneEngine) -> None:
    track = [(0.0, at(900, 0)), (10.0, at(900, 0))]  # east edge of the first part
    track.append((20.0, at(1020, 0)))  # 20 m out: within the margin
    track += [(20.0 + 10 * i, at(1000 + 100 * i, 0)) for i in range(1, 11)]  # 1 km of open water
    track += [(130.0, at(2050, 0)), (140.0, at(2100, 0))]  # into the second part
    events = feed(engine, track)
    assert [(e.kind, e.time) for e in events] == [("entry", 0.0), ("exit", 20.0), ("entry", 120.0)]
    assert not events[2].initial


def test_exactly_on_the_border_counts_as_inside(engine: ZoneEngine) -> None:
    lon, lat = square(0, 0, 1000)[1]  # a vertex of the outer ring
    feed(engine, [(0.0, (lon, lat)), (10.0, (lon, lat))])
    assert engine.zones_of(MMSI) == {"ring"}


def test_repeated_and_late_fixes_move_nothing(engine: ZoneEngine) -> None:
    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500))])
    # the same time again from another receiver, and a late fix, both far outside
    assert engine.update(MMSI, 10.0, *at(-5000, 0)) == []
    assert engine.update(MMSI, 5.0, *at(-5000, 0)) == []
    assert engine.zones_of(MMSI) == {"ring"} and engine.entered_at(MMSI, "ring") == 0.0
    # a pending entry is not confirmed by a fix repeating its time either
    engine.update(MMSI + 1, 0.0, *at(0, 500))
    assert engine.update(MMSI + 1, 0.0, *at(0, 500)) == []
    assert engine.zones_of(MMSI + 1) == set()


def test_forgotten_then_heard_again_inside_is_found_there(engine: ZoneEngine) -> None:
    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500))])
    engine.forget(MMSI)
    assert MMSI not in engine.vessels() and engine.zones_of(MMSI) == set()
    events = feed(engine, [(4000.0, at(0, 500)), (4010.0, at(0, 500))])
    assert [(e.kind, e.time, e.initial) for e in events] == [("entry", 4000.0, True)]


def test_reload_with_a_vessel_inside_a_zone_that_changes_shape(engine: ZoneEngine) -> None:
    from vts.config import Config

    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500))])
    smaller = ring_zone().model_copy(update={"polygon": square(0, 0, 200), "holes": [], "parts": []})
    new = engine.reloaded(Config(zones=[smaller]))
    assert new.zones_of(MMSI) == {"ring"}  # carried over: no event at the reload itself
    events = new.update(MMSI, 20.0, *at(0, 500))  # 300 m outside the new shape
    assert [(e.kind, e.entered_time) for e in events] == [("exit", 0.0)]


def test_a_lone_gnss_outlier_does_not_end_a_membership(engine: ZoneEngine) -> None:
    track = [(0.0, at(0, 500)), (10.0, at(0, 500)), (20.0, at(-4000, 500))]
    events = feed(engine, track)  # 4 km in 10 s (over 770 kn)
    assert [e.kind for e in events] == ["entry"]
    assert engine.zones_of(MMSI) == {"ring"} and engine.held_back(MMSI, 20.0)
    assert engine.update(MMSI, 30.0, *at(0, 500)) == []  # back where it was: nothing happened
    assert engine.zones_of(MMSI) == {"ring"} and not engine.held_back(MMSI, 30.0)
    assert engine.last_inside(MMSI, "ring")[0] == 30.0  # type: ignore[index]


def test_a_second_fix_beyond_the_margin_confirms_a_held_back_exit(engine: ZoneEngine) -> None:
    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500))])
    assert engine.update(MMSI, 20.0, *at(-4000, 500)) == []  # held back
    # the same sentence heard by a second station a second later is not a second fix
    assert engine.update(MMSI, 21.0, *at(-4000, 500)) == [] and engine.held_back(MMSI, 21.0)
    events = engine.update(MMSI, 30.0, *at(-4050, 500))
    assert [(e.kind, e.time, e.confirmed_time) for e in events] == [("exit", 30.0, 30.0)]
    assert engine.zones_of(MMSI) == set() and not engine.held_back(MMSI, 30.0)


def test_a_plausible_exit_is_taken_at_once(engine: ZoneEngine) -> None:
    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500)), (60.0, at(0, 950))])
    # 1.2 km in 60 s (39 kn, a fast craft): under the 50 kn limit
    events = engine.update(MMSI, 120.0, *at(-1200, 950))
    assert [e.kind for e in events] == ["exit"]
    # a short hop over the margin is never an outlier, however short the interval
    feed(engine, [(200.0, at(900, 500)), (210.0, at(900, 500))])
    events = engine.update(MMSI, 210.5, *at(1160, 500))  # 260 m in half a second
    assert [e.kind for e in events] == ["exit"]


def test_after_a_reception_gap_a_far_fix_is_an_exit(engine: ZoneEngine) -> None:
    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500))])
    events = engine.update(MMSI, 1000.0, *at(-40000, 500))  # 40 km in 16 min: a gap, not an outlier
    assert [(e.kind, e.gap) for e in events] == [("exit", True)]


def test_a_reload_keeps_a_held_back_fix(engine: ZoneEngine) -> None:
    from vts.config import Config

    feed(engine, [(0.0, at(0, 500)), (10.0, at(0, 500)), (20.0, at(-4000, 500))])
    new = engine.reloaded(Config(zones=[ring_zone()]))
    assert new.held_back(MMSI, 20.0)
    assert [e.kind for e in new.update(MMSI, 30.0, *at(-4000, 400))] == ["exit"]


def test_a_zone_added_by_a_reload_finds_the_vessels_already_in_it(engine: ZoneEngine) -> None:
    """A vessel lying where an operator draws a new zone was found there, not seen crossing in: its
    entry is `initial`, dated from its last fix before the reload, confirmed by the next one."""
    from vts.config import Config

    feed(engine, [(0.0, at(5000, 0)), (10.0, at(5000, 0))])  # well outside the ring
    added = ZoneSettings(id="new_box", name="New box", kind="restricted", polygon=square(5000, 0, 300))
    new = engine.reloaded(Config(zones=[ring_zone(), added]))
    events = new.update(MMSI, 20.0, *at(5000, 0))
    assert [(e.kind, e.zone_id, e.initial, e.time) for e in events] == [("entry", "new_box", True, 10.0)]
    # a vessel that sails in after the reload crosses in as usual
    other = MMSI + 1
    new.update(other, 30.0, *at(5000, 1000))
    new.update(other, 40.0, *at(5000, 100))
    assert [(e.kind, e.initial) for e in new.update(other, 50.0, *at(5000, 100))] == [("entry", False)]
