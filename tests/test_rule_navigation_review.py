"""Review of speeding, drifting and anchor_drag: the cases real traffic brings that the first tests
left out. Hand-made tracks through a real Core (`run` also replays each one batched)."""

from __future__ import annotations

import math

import shapely

from tests.rule_helpers import (
    ANCHORAGE,
    BERTH_DPWORLD,
    OPEN_WATER,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    static,
    stationary,
)
from vts.alerts.model import Alert
from vts.geo import distance_m
from vts.reports import PositionReport

A = 725000401


def _steps(alerts: list[Alert]) -> list[tuple[str, str | None]]:
    """(state, zone) of each step, updates left out."""
    return [(a.state, a.zone) for a in alerts if a.state != "updated"]


def _at(fix: PositionReport) -> tuple[float, float]:
    assert fix.lat is not None and fix.lon is not None
    return fix.lat, fix.lon


# -- speeding -----------------------------------------------------------------------------------------


def test_a_speeding_run_goes_on_into_a_stricter_zone() -> None:
    """15 kn through the 12 kn approach and on into the 8 kn anchorage: the alert moves to the
    anchorage at once (the vessel was never under either limit), and the approach's alert does not
    say the vessel left a zone it is still in."""
    start = offset(ANCHORAGE, north_m=-5000)
    reports = merge(
        static(A, T0, name="FAST", ship_type=70, length=90),
        moving(A, T0, minutes=8, start=start, cog=0, sog=15),
    )
    got = of_type(run(make_core(), reports), "speeding")
    assert _steps(got)[:3] == [
        ("raised", "vts_area"),
        ("cleared", "vts_area"),
        ("raised", "anchorage_main"),
    ]
    cleared = next(a for a in got if a.state == "cleared")
    moved = next(a for a in got if a.zone == "anchorage_main")
    assert moved.time == cleared.time
    assert "left the zone" not in cleared.message and "anchorage_main" in cleared.message
    assert moved.details["limit_kn"] == 8.0 and moved.details["duration_s"] > 60.0


def test_a_speeding_alert_stays_in_its_zone_where_an_equal_limit_overlaps() -> None:
    """10 kn west out of the inner harbour (8 kn) through the bocana (8 kn, half of it inside the
    harbour): the alert stays the harbour's while the vessel is in the harbour."""
    start = (-12.0480, -77.1500)
    core = make_core()
    port = core.zones.zone("port_area").geometry
    reports = merge(
        static(A, T0, name="LAUNCH", ship_type=70, length=40),
        moving(A, T0, minutes=4, start=start, cog=270, sog=10),
    )
    got = of_type(run(core, reports), "speeding")
    assert got and got[0].zone == "port_area"
    left = next(a for a in got if a.state == "cleared" and a.zone == "port_area")
    assert left.lat is not None and left.lon is not None
    assert not shapely.intersects_xy(port, left.lon, left.lat)  # out of the harbour by then
    assert "entrance" in left.message


PORT_START = (-12.052, -77.150)


def _in_port(sogs: list[float], every_s: float = 10.0) -> list[PositionReport]:
    out = []
    lat, lon = PORT_START
    for k, sog in enumerate(sogs):
        out.append(position(A, T0 + k * every_s, (lat, lon), sog=sog, cog=0.0))
        lat += sog * 1852 / 3600 * every_s / 111_195.0
    return out


def test_one_slow_speed_report_does_not_end_a_speeding_alert() -> None:
    """A single bad speed report under the limit in the middle of a run: the alert goes on (ended,
    the engine's cooldown would have kept it from coming back for ten minutes). Two in a row end it."""
    got = of_type(run(make_core(), _in_port([7.0] * 3 + [9.5] * 12 + [5.0] + [9.5] * 12)), "speeding")
    assert [a.state for a in got if a.state != "updated"] == ["raised"]
    got = of_type(run(make_core(), _in_port([7.0] * 3 + [9.5] * 12 + [5.0, 5.0] + [9.5] * 3)), "speeding")
    assert [a.state for a in got if a.state != "updated"] == ["raised", "cleared"]
    assert got[-1].time == T0 + 16 * 10.0  # the second slow report


# -- drifting -----------------------------------------------------------------------------------------


def test_a_drift_that_turns_into_not_under_command_stays_one_alert() -> None:
    """Crabbing sideways, then the crew sets "not under command" and the ship drifts on: one alert,
    its kind updated; not cleared (and the new kind then held back by the cooldown)."""
    crab = moving(A, T0, minutes=5, start=OPEN_WATER, cog=90, sog=2.0, every_s=10, heading=0)
    nuc = moving(
        A, T0 + 310, minutes=4, start=_at(crab[-1]), cog=90, sog=2.0, every_s=10, heading=0, nav_status=2
    )
    got = of_type(run(make_core(), merge(crab, nuc)), "drifting")
    assert [a.state for a in got if a.state != "updated"] == ["raised"]
    assert got[0].details["kind"] == "drift" and got[-1].details["kind"] == "not_under_command"


def test_not_under_command_lying_still_at_a_berth_or_at_anchor_is_not_drifting() -> None:
    """Ships moored or at anchor for repairs report "not under command": lying still there (a few
    metres of GNSS jitter, a spurious few tenths of a knot) is not drifting. The same status moving
    through the anchorage, or lying stopped out in the approach, is."""

    def lying(at: tuple[float, float]) -> list:
        fixes = [
            position(
                A,
                T0 + 60 * k,
                offset(at, north_m=4.0 * math.sin(k), east_m=4.0 * math.cos(1.7 * k)),
                sog=0.1 * (k % 4),
                cog=(97.0 * k) % 360,
                heading=200,
                nav_status=2,
            )
            for k in range(40)
        ]
        return merge(static(A, T0, name="REPAIRS", ship_type=70, length=150), fixes)

    assert of_type(run(make_core(), lying(BERTH_DPWORLD)), "drifting") == []
    assert of_type(run(make_core(), lying(ANCHORAGE)), "drifting") == []
    out_there = of_type(run(make_core(), lying(OPEN_WATER)), "drifting")
    assert out_there and out_there[0].details["kind"] == "not_under_command"

    through = merge(
        static(A, T0, name="ADRIFT", ship_type=70, length=150),
        moving(A, T0, minutes=8, start=ANCHORAGE, cog=250, sog=1.5, every_s=10, heading=250, nav_status=2),
    )
    got = of_type(run(make_core(), through), "drifting")
    assert got and got[0].details["kind"] == "not_under_command"
    assert got[0].time >= T0 + 180  # a mean speed over the last three minutes


def test_an_allow_listed_coastguard_boat_lying_stopped_on_station_is_not_drifting() -> None:
    config = make_config()
    config.allowlists.coastguard.append(A)
    crab = moving(A, T0, minutes=6, start=OPEN_WATER, cog=90, sog=1.0, every_s=10, heading=0)
    assert of_type(run(make_core(config), crab), "drifting") == []
    assert of_type(run(make_core(), crab), "drifting") != []  # the same track by anyone else


# -- anchor_drag --------------------------------------------------------------------------------------


def _anchored(minutes: float, heading: int | None = 180) -> list:
    return merge(
        static(A, T0, name="BULKER", ship_type=70, length=200, antenna_from_bow=170),
        stationary(A, T0, minutes=minutes, at=ANCHORAGE, every_s=180, nav_status=1, heading=heading),
    )


def test_weighing_anchor_and_leaving_slowly_with_the_status_left_on_is_not_a_drag() -> None:
    """The most common false drag: the ship heaves up and leaves at 1-3.5 kn, its status still "at
    anchor" (3-minute reports while at or under 3 kn), heading and course together. Not a drag."""
    settle = _anchored(15)
    t = settle[-1].time
    slow = [
        position(A, t + 180, offset(ANCHORAGE, east_m=-80), sog=1.2, cog=300, heading=302, nav_status=1),
        position(A, t + 360, offset(ANCHORAGE, east_m=-300), sog=2.5, cog=300, heading=301, nav_status=1),
    ]
    away = moving(
        A,
        t + 540,
        minutes=5,
        start=offset(ANCHORAGE, east_m=-600),
        cog=300,
        sog=3.5,
        heading=300,
        nav_status=1,
    )
    assert of_type(run(make_core(), merge(settle, slow, away)), "anchor_drag") == []


def _drag_then(after: list[PositionReport]) -> list:
    """Settled 15 min heading south; drags north (astern) at 0.8 kn for 20 min; then `after`."""
    settle = _anchored(15)
    drag = moving(
        A,
        settle[-1].time + 60,
        minutes=20,
        start=ANCHORAGE,
        cog=0,
        sog=0.8,
        every_s=60,
        heading=180,
        nav_status=1,
    )
    return merge(settle, drag, after)


def _dragged_to() -> tuple[float, float]:
    return offset(ANCHORAGE, north_m=0.8 * 1852 / 3600 * 20 * 60)


def test_a_ship_that_drags_and_then_holds_again_has_its_alarm_cleared() -> None:
    """Dragged 500 m astern, then its anchor bites again and it lies still: once it has held for
    ten minutes the alarm ends, and that is where it is watched from now on."""
    t = T0 + 15 * 60 + 60 + 20 * 60  # the last fix of the drag, where it now holds
    held = [
        position(
            A,
            t + 180 * k,
            offset(_dragged_to(), north_m=5.0 * math.sin(k), east_m=5.0 * math.cos(k)),
            sog=0.1 * (k % 3),
            cog=(77.0 * k) % 360,
            heading=180,
            nav_status=1,
        )
        for k in range(1, 20)
    ]
    reports = _drag_then(held)
    got = of_type(run(make_core(), reports), "anchor_drag")
    assert [a.state for a in got if a.state != "updated"] == ["raised", "cleared"]
    assert "holding again" in got[-1].message
    spot = _dragged_to()
    moving_fixes = [r for r in reports if isinstance(r, PositionReport) and distance_m(*_at(r), *spot) > 50]
    assert got[-1].time >= moving_fixes[-1].time + 600  # ten minutes within 50 m of where it holds


def test_a_drag_going_on_slowly_is_not_taken_for_holding() -> None:
    t = T0 + 15 * 60 + 60 + 20 * 60
    on = moving(
        A, t + 60, minutes=40, start=_dragged_to(), cog=0, sog=0.5, every_s=180, heading=180, nav_status=1
    )
    got = of_type(run(make_core(), _drag_then(on)), "anchor_drag")
    assert got and [a.state for a in got if a.state != "updated"] == ["raised"]


def test_swinging_round_the_anchor_is_not_a_drag() -> None:
    """A 200 m ship, antenna 170 m from the bow, on 170 m of chain: its antenna lies 340 m from the
    anchor. Settled heading south, it swings 120 degrees round as the wind veers over an hour: its
    antenna ends 590 m from where it settled, beyond the 350 m circle, but exactly where a ship
    lying to that anchor would be. Dragging astern with the same headings is still a drag."""
    r = 340.0
    anchor = offset(ANCHORAGE, north_m=-r)  # the ship settled (antenna at ANCHORAGE) heading south

    def lying(heading: float) -> tuple[float, float]:
        back = math.radians(heading + 180.0)
        return offset(anchor, north_m=r * math.cos(back), east_m=r * math.sin(back))

    settle = _anchored(15)
    t = settle[-1].time
    swing = [  # the antenna goes round the anchor clockwise, 90 degrees right of the heading
        position(
            A,
            t + 180 * k,
            lying(180.0 + 6 * k),
            sog=0.4,
            cog=(90.0 + 6 * k) % 360,
            heading=180 + 6 * k,
            nav_status=1,
        )
        for k in range(1, 21)
    ]
    assert math.dist(_m(swing[-1], ANCHORAGE), (0.0, 0.0)) > 550.0
    assert of_type(run(make_core(), merge(settle, swing)), "anchor_drag") == []

    drag = moving(
        A, t + 60, minutes=40, start=ANCHORAGE, cog=0, sog=0.6, every_s=180, heading=180, nav_status=1
    )
    got = of_type(run(make_core(), merge(settle, drag)), "anchor_drag")
    assert got and got[0].state == "raised" and got[0].details["fixes_outside"] >= 3


def _m(fix: PositionReport, origin: tuple[float, float]) -> tuple[float, float]:
    """The fix in metres (north, east) from `origin`."""
    lat, lon = _at(fix)
    return (
        (lat - origin[0]) * 111_195.0,
        (lon - origin[1]) * 111_195.0 * math.cos(math.radians(origin[0])),
    )
