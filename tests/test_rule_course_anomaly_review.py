"""course_anomaly, the review's cases: a fix delivered late is history, not the vessel's present; one
continuous turn is one turn; the off-route memory survives slow and speedless fixes; departure
watches end; a vessel that becomes exempt loses its state alerts; ship types that turn for their
work are left out of the erratic kind. Every scenario also runs in batches of several sizes
(`same_in_chunks`): the rule's interest mask must give the same alerts."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.rule_helpers import (
    ANCHORAGE,
    LANE_START,
    OPEN_WATER,
    T0,
    Point,
    lane_model,
    legs,
    make_config,
    merge,
    offset,
    reload_run,
    same_in_chunks,
    set_rule,
    static,
    stationary,
)
from vts.config import Config
from vts.reports import PositionReport, Report

SHIP = 725000401
IN_LANE_EAST = (-12.0441, -77.1870)
"""In tss_inbound (direction 99 degrees)."""
"""Start of the line the test model's traffic runs east along."""


def kinds(alerts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["type"] == "course_anomaly" and a["details"].get("kind") == kind]


def _seconds(iso: str) -> float:
    """Seconds from T0 of an alert's ISO time."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - T0


def _cargo(t: float = T0, ship_type: int = 70) -> Report:
    return static(SHIP, t, name="CARGO", ship_type=ship_type, length=180)


def _plan(t0: float, start: Point, plan: list[tuple[float, float, float]]) -> list[PositionReport]:
    """Legs of (course, seconds, sog), each from where the last one ended, fixes every 10 s."""
    out: list[PositionReport] = []
    t, at = t0, start
    for cog, seconds, sog in plan:
        more = legs(SHIP, t, at, [(cog, seconds)], sog=sog)
        out += more
        last = more[-1]
        assert last.lat is not None and last.lon is not None
        step = sog * 1852.0 / 3600.0 * 10.0
        at = offset(
            (last.lat, last.lon), step * math.cos(math.radians(cog)), step * math.sin(math.radians(cog))
        )
        t = last.time + 10.0
    return out


def _turn(total_deg: float, rate_deg_min: float, *, sog: float = 8.0) -> list[Report]:
    """A cargo ship on a steady course (5 min), one continuous turn to starboard of `total_deg` at
    `rate_deg_min`, then 5 min on the new course."""
    step = rate_deg_min / 6.0  # per 10-second fix
    plan = [(0.0, 300.0)]
    plan += [((k + 1) * step % 360.0, 10.0) for k in range(int(total_deg / step))]
    plan += [(total_deg % 360.0, 300.0)]
    return merge(_cargo(), legs(SHIP, T0, OPEN_WATER, plan, sog=sog))


# -- late fixes ----------------------------------------------------------------------------------------


def _leaving_the_anchorage() -> list[Report]:
    anchored = stationary(SHIP, T0, minutes=20, at=ANCHORAGE, every_s=60, nav_status=1)
    out = legs(SHIP, T0 + 21 * 60, ANCHORAGE, [(270.0, 1500)], sog=10)
    return merge(static(SHIP, T0, name="BULK CARRIER", ship_type=70, length=190), anchored, out)


def test_a_fix_delivered_late_is_not_a_turn_back() -> None:
    """One fix of the outbound leg arrives 5 minutes late (store and forward): nearer the anchorage
    than the ship is by then, but it is where she was, not where she goes."""
    reports = _leaving_the_anchorage()
    late = [r for r in reports if isinstance(r, PositionReport) and r.sog == 10][80]
    reports.remove(late)
    i = next(k for k, r in enumerate(reports) if r.time > late.time + 300)
    reports.insert(i, late)
    assert kinds(same_in_chunks(reports), "stop_after_departure") == []


def test_fixes_delivered_late_from_before_a_turn_are_not_turns() -> None:
    """One 90-degree turn; two fixes of the leg before it arrive after it, together: not a turn back
    to the old course and another to the new one."""
    track = legs(SHIP, T0, OPEN_WATER, [(0.0, 600), (90.0, 900)], sog=10)
    burst = track[58:60]  # T0 + 580 and 590 s, delivered at T0 + 720 s
    rest = [r for r in track if r not in burst]
    i = next(k for k, r in enumerate(rest) if r.time > T0 + 720)
    reports: list[Report] = [_cargo(), *rest[:i], *burst, *rest[i:]]
    assert kinds(same_in_chunks(reports), "erratic") == []


# -- one continuous turn is one turn -------------------------------------------------------------------


def test_a_u_turn_is_one_turn() -> None:
    for rate in (30.0, 60.0):
        assert kinds(same_in_chunks(_turn(180.0, rate)), "erratic") == [], f"U-turn at {rate}°/min"


def test_turning_round_further_is_still_one_turn() -> None:
    """270 degrees (a turn round to port made to starboard), a full circle, two circles: circling is
    loitering's business, not a zig-zag."""
    for total in (270.0, 360.0, 720.0):
        assert kinds(same_in_chunks(_turn(total, 30.0)), "erratic") == [], f"{total}° turn"


def test_separate_turns_alternating_in_direction_are_still_erratic() -> None:
    """Three turns of 70 degrees at 30 degrees a minute, alternately to starboard and to port, with a
    minute on each new leg, or each turn straight into the next (a weave): three turns."""
    for leg_s in (60.0, 0.0):
        plan = [(0.0, 300.0)]
        course = 0.0
        for turn in (70.0, -70.0, 70.0):
            for _ in range(14):  # 70 degrees in 140 s
                course = (course + turn / 14.0) % 360.0
                plan.append((course, 10.0))
            plan.append((course, leg_s))
        plan.append((course, 240.0))
        track = merge(_cargo(), legs(SHIP, T0, OPEN_WATER, plan, sog=8))
        alerts = kinds(same_in_chunks(track), "erratic")
        assert len(alerts) == 1 and alerts[0]["details"]["turns"] == 3, f"{leg_s:g} s between turns"


def test_turns_the_same_way_on_separate_legs_still_count() -> None:
    """Three turns of 90 degrees to starboard with 90 s on each leg between them: the course settles
    between the turns, so they are three turns, not one."""
    plan = [(0.0, 300.0), (90.0, 90.0), (180.0, 90.0), (270.0, 300.0)]
    alerts = kinds(same_in_chunks(merge(_cargo(), legs(SHIP, T0, OPEN_WATER, plan, sog=8))), "erratic")
    assert len(alerts) == 1


# -- off route -----------------------------------------------------------------------------------------


def _model_config(tmp_path: Path) -> Config:
    return set_rule(
        make_config(), "course_anomaly", model_path=str(lane_model(tmp_path)), off_route_approach_kinds=[]
    )


LEAVES_THE_LINE = [(90.0, 720.0, 12.0), (180.0, 360.0, 12.0)]
"""12 min east along the learned line, then 6 min south away from it (off route raised at ~18 min)."""


def test_off_route_memory_survives_a_slow_or_speedless_fix(tmp_path: Path) -> None:
    config = _model_config(tmp_path)
    track = _plan(T0, LANE_START, [*LEAVES_THE_LINE, (90.0, 1200.0, 12.0)])
    reference = kinds(same_in_chunks(merge(_cargo(), track), config=config), "off_route")
    assert reference and reference[0]["state"] == "raised"
    for sog in (2.9, None):
        changed = list(track)
        changed[73] = replace(changed[73], sog=sog)  # just as it leaves the line
        alerts = kinds(same_in_chunks(merge(_cargo(), changed), config=config), "off_route")
        assert [a["state"] for a in alerts] == [a["state"] for a in reference], f"one fix at sog {sog}"


def test_an_off_route_alert_holds_while_the_vessel_slows_down(tmp_path: Path) -> None:
    """Off the routes, she slows to 1.5 kn for 3 minutes, then carries on: one alert throughout."""
    plan = [*LEAVES_THE_LINE, (90.0, 420.0, 12.0), (90.0, 180.0, 1.5), (90.0, 600.0, 12.0)]
    alerts = kinds(
        same_in_chunks(merge(_cargo(), _plan(T0, LANE_START, plan)), config=_model_config(tmp_path)),
        "off_route",
    )
    states = [a["state"] for a in alerts]
    assert states[0] == "raised" and "cleared" not in states and "raised" not in states[1:]


def test_an_off_route_alert_lapses_after_half_an_hour_without_a_fix_under_way(tmp_path: Path) -> None:
    track = _plan(T0, LANE_START, [*LEAVES_THE_LINE, (90.0, 420.0, 12.0)])
    last = track[-1]
    stopped = stationary(SHIP, last.time + 10, minutes=45, at=(last.lat, last.lon), every_s=60, sog=0.3)  # type: ignore[arg-type]
    alerts = kinds(
        same_in_chunks(merge(_cargo(), track, stopped), config=_model_config(tmp_path)), "off_route"
    )
    assert [a["state"] for a in alerts if a["state"] != "updated"] == ["raised", "cleared"]
    assert alerts[-1]["message"].endswith("lapsed (no fix under way in the area)")
    assert last.time + 1800 <= T0 + _seconds(alerts[-1]["time"]) <= last.time + 1800 + 60


def test_off_route_cleared_outside_the_vts_area_and_raised_again_back_inside(tmp_path: Path) -> None:
    """Off the routes she heads west out of the VTS area (cleared there) and comes back in, still off
    the routes: raised again, as she was seen on the routes before."""
    plan = [*LEAVES_THE_LINE, (270.0, 1500.0, 12.0), (90.0, 600.0, 12.0)]
    alerts = kinds(
        same_in_chunks(merge(_cargo(), _plan(T0, LANE_START, plan)), config=_model_config(tmp_path)),
        "off_route",
    )
    steps = [(a["state"], a["message"]) for a in alerts if a["state"] != "updated"]
    assert [s for s, _ in steps] == ["raised", "cleared", "raised"]
    assert steps[1][1].endswith("left the VTS area")


# -- departure watches end ----------------------------------------------------------------------------


def test_drifting_out_of_the_anchorage_is_no_departure() -> None:
    """Dragged out of the anchorage at 1 kn, she lies outside it for three hours, then gets under way
    and slows down: no departure from the anchorage four hours before."""
    at = (-12.01, -77.228)
    anchored = stationary(SHIP, T0, minutes=20, at=at, every_s=60, sog=0.1, nav_status=1)
    drift = legs(SHIP, T0 + 1260, at, [(270.0, 4800)], sog=1.0, every_s=30)
    spot = (drift[-1].lat, drift[-1].lon)
    waiting = stationary(SHIP, drift[-1].time + 30, minutes=180, at=spot, every_s=60, sog=0.1, nav_status=1)  # type: ignore[arg-type]
    go = _plan(waiting[-1].time + 60, spot, [(180.0, 600.0, 10.0), (180.0, 300.0, 1.0)])  # type: ignore[arg-type]
    reports = merge(static(SHIP, T0, name="BULK", ship_type=70, length=190), anchored, drift, waiting, go)
    alerts = same_in_chunks(reports)
    assert any(a["type"] == "zone_exit" and a["zone"] == "anchorage_main" for a in alerts)
    assert kinds(alerts, "stop_after_departure") == []


def test_the_departure_watch_ends_an_hour_after_getting_under_way() -> None:
    """Out of the anchorage west at 10 kn, then creeping north at 2.2 kn (no stop), then back south:
    a turn back 40 minutes after getting under way is the pick-up pattern; 80 minutes after, with
    the same ship still within 10 NM, it is not."""

    def creeping(minutes: float) -> list[Report]:
        anchored = stationary(SHIP, T0, minutes=20, at=ANCHORAGE, every_s=60, nav_status=1)
        plan = [(270.0, 900.0, 10.0), (0.0, minutes * 60.0, 2.2), (180.0, 600.0, 10.0)]
        out = _plan(T0 + 1260, ANCHORAGE, plan)
        return merge(static(SHIP, T0, name="BULK", ship_type=70, length=190), anchored, out)

    early = kinds(same_in_chunks(creeping(30)), "stop_after_departure")
    assert [a["details"]["pattern"] for a in early] == ["turn_back"]
    assert kinds(same_in_chunks(creeping(70)), "stop_after_departure") == []


# -- exemption ---------------------------------------------------------------------------------------


def test_a_vessel_that_becomes_exempt_loses_its_wrong_way_alert() -> None:
    track = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 240), (189.0, 600)], sog=5)
    reports = merge(_cargo(T0 - 5, ship_type=70), track, _cargo(T0 + 200, ship_type=52))  # a tug after all
    alerts = kinds(same_in_chunks(reports), "wrong_way")
    assert [a["state"] for a in alerts] == ["raised", "cleared"]
    assert _seconds(alerts[1]["time"]) <= 210  # at its next fix


def test_a_vessel_allow_listed_by_a_reload_loses_its_wrong_way_alert() -> None:
    """A reload puts her on the tug allow-list while she goes the wrong way: cleared at her next fix,
    one by one as in batches."""
    track = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 240), (189.0, 600)], sog=5)
    before: list[Report] = [r for r in track if r.time < T0 + 200]
    after: list[Report] = [r for r in track if r.time >= T0 + 200]
    assert [a["state"] for a in kinds(same_in_chunks(track), "wrong_way")] == ["raised", "cleared"]
    config = make_config()
    changed = make_config()
    changed.allowlists = changed.allowlists.model_copy(update={"tug": [SHIP]})
    expected = reload_run(None, config, changed, before, after)
    steps = [(a["state"], _seconds(a["time"])) for a in kinds(expected, "wrong_way")]
    assert steps == [("raised", 130.0), ("cleared", 200.0)]
    for chunk in (1, 7, 40):
        assert reload_run(chunk, config, changed, before, after) == expected, f"chunks of {chunk}"


def test_a_vessel_that_becomes_exempt_loses_its_off_route_alert(tmp_path: Path) -> None:
    track = _plan(T0, LANE_START, [*LEAVES_THE_LINE, (90.0, 1200.0, 12.0)])
    reports = merge(_cargo(), track, _cargo(T0 + 1500, ship_type=52))
    alerts = kinds(same_in_chunks(reports, config=_model_config(tmp_path)), "off_route")
    assert [a["state"] for a in alerts if a["state"] != "updated"] == ["raised", "cleared"]
    assert 1500 <= _seconds(alerts[-1]["time"]) <= 1510


def test_vessels_that_turn_for_their_work_are_not_erratic() -> None:
    """Dredgers, diving vessels, pleasure craft and port tenders zig-zag at their work: no erratic.
    They are exempt from that kind only: a pleasure craft against the flow of a lane is reported."""
    zigzag = legs(SHIP, T0, OPEN_WATER, [(0.0, 90), (90.0, 90), (0.0, 90), (90.0, 90), (0.0, 90)], sog=8)
    assert len(kinds(same_in_chunks(merge(_cargo(T0 - 5, 70), zigzag)), "erratic")) == 1
    for ship_type in (33, 34, 37, 53):
        alerts = same_in_chunks(merge(_cargo(T0 - 5, ship_type), zigzag))
        assert kinds(alerts, "erratic") == [], f"ship type {ship_type}"
    wrong = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 240)], sog=5)
    assert kinds(same_in_chunks(merge(_cargo(T0 - 5, 37), wrong)), "wrong_way")
