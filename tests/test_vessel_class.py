"""Vessel classes (alert-anchors.md §c.1) and local night."""

from __future__ import annotations

from collections import deque

from tests.rule_helpers import NIGHT, T0
from vts.tracker import Fix, VesselState
from vts.vessel_class import is_large_vessel, is_moored_or_anchored, is_night, is_small_craft, mean_speed_kn


def vessel(**kw: object) -> VesselState:
    v = VesselState(mmsi=760000001, first_seen=0.0, last_seen=0.0)
    for k, val in kw.items():
        setattr(v, k, val)
    return v


def test_large_and_small() -> None:
    cargo = vessel(ais_class="A", ship_type=70, static_time=1.0, to_bow=10, to_stern=10)
    assert is_large_vessel(cargo) and not is_small_craft(cargo)
    long_other = vessel(ais_class="A", ship_type=90, static_time=1.0, to_bow=40, to_stern=20)
    assert is_large_vessel(long_other)
    assert is_small_craft(vessel(ais_class="A"))  # no static data at all
    assert is_small_craft(vessel(ais_class="B", ship_type=70, static_time=1.0, to_bow=50, to_stern=50))
    assert is_small_craft(vessel(ais_class="A", ship_type=30, static_time=1.0, to_bow=20, to_stern=10))
    assert is_small_craft(vessel(ais_class="A", ship_type=0, static_time=1.0))  # unknown type
    tug = vessel(ais_class="A", ship_type=52, static_time=1.0, to_bow=15, to_stern=15)
    assert not is_small_craft(tug) and not is_large_vessel(tug)
    assert is_small_craft(vessel(ais_class="A", ship_type=52, static_time=1.0, to_bow=8, to_stern=8))  # 16 m


def trail(sogs: list[float], every: float, end: float) -> deque[Fix]:
    n = len(sogs)
    return deque(Fix(end - (n - 1 - i) * every, -12.0, -77.2, s, 0.0, None) for i, s in enumerate(sogs))


def test_moored_by_status_or_by_ten_slow_minutes() -> None:
    assert is_moored_or_anchored(vessel(nav_status=1, sog=0.1))
    assert not is_moored_or_anchored(vessel(nav_status=1, sog=9.0))  # status left on, under way
    slow = vessel(nav_status=0, trail=trail([0.2] * 12, 60.0, T0), last_seen=T0)
    assert is_moored_or_anchored(slow, T0)
    short = vessel(nav_status=0, trail=trail([0.2] * 8, 60.0, T0), last_seen=T0)  # only 7 minutes
    assert not is_moored_or_anchored(short, T0)
    moving = vessel(nav_status=0, trail=trail([0.2] * 6 + [2.0] * 6, 60.0, T0), last_seen=T0)
    assert not is_moored_or_anchored(moving, T0)


def test_mean_speed_is_time_weighted() -> None:
    v = vessel(trail=trail([1.0] * 5 + [3.0] * 6, 60.0, T0))  # 10 minutes: 1 kn then 3 kn for 5 min each
    speed = mean_speed_kn(v, T0, 600.0)
    assert speed is not None and abs(speed - 2.0) < 0.01
    assert mean_speed_kn(v, T0, 1200.0) is None  # the trail does not reach back 20 minutes


def test_night_in_callao() -> None:
    assert not is_night(T0, -5.0)  # 12:00 local
    assert is_night(NIGHT, -5.0)  # 21:00 local
    assert is_night(T0 + 17 * 3600 + 30 * 60, -5.0)  # 05:30 local
    assert not is_night(T0 + 18 * 3600 + 30 * 60, -5.0)  # 06:30 local


def test_a_changed_identity_leaves_the_former_one_in_doubt_for_an_hour() -> None:
    from vts.reports import StaticReport
    from vts.tracker import Tracker, TrackerSettings
    from vts.vessel_class import declared_categories, may_be_large

    tracker = Tracker(TrackerSettings())

    def declare(t: float, ship_type: int, bow: int) -> VesselState:
        v = tracker.update(
            StaticReport(
                time=t, source="t", mmsi=725000900, msg_type=5, ship_type=ship_type, to_bow=bow, to_stern=10
            )
        )
        assert v is not None
        return v

    v = declare(T0, 70, 170)  # a cargo ship, 180 m
    assert declared_categories(v, T0) == {"cargo"} and not v.former_identities
    v = declare(T0 + 600, 30, 5)  # a fishing boat's static data under the same MMSI
    assert not is_large_vessel(v) and v.category == "fishing"
    assert may_be_large(v, T0 + 600 + 3600) and declared_categories(v, T0 + 4000) == {"fishing", "cargo"}
    assert not may_be_large(v, T0 + 600 + 3601) and declared_categories(v, T0 + 4201) == {"fishing"}
    declare(T0 + 700, 30, 5)  # the same again: no new doubt
    assert len(v.former_identities) == 1
