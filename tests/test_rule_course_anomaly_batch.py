"""course_anomaly's batch mask (`CourseAnomalyRule.interest`): what it skips must change nothing.

The erratic kind keeps a course history of every fix under way, so the mask cannot simply drop the
fixes that are no turn: the rule takes the fixes it skipped from the vessel's trail when it next
judges one (`_catch_up`). These tests feed the same reports one by one and in batches of many sizes
(`Core.process_many`, the cut falling anywhere) and require the same alert stream, on the cases that
catch-up depends on: a turn whose reference course was only seen in skipped fixes, late and
repeated fixes, two ships on one MMSI, the exemption changing with static data, a gap longer than
the trail, a vessel forgotten and coming back, the trail's point cap. They also check that the mask
does skip: a ship on a steady course is judged on a few of its fixes only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tests.rule_helpers import (
    ANCHORAGE,
    M_PER_DEG,
    OPEN_WATER,
    T0,
    legs,
    make_config,
    offset,
    position,
    process_in_chunks,
    same_in_chunks,
    set_rule,
    static,
)
from vts.config import Config
from vts.core import Core
from vts.reports import Report
from vts.rules.course_anomaly import CourseAnomalyRule

SHIP = 725000701
OTHER = 725000702
IN_LANE_EAST = (-12.0441, -77.1870)
"""In tss_inbound (direction 99 degrees)."""
SIZES: tuple[tuple[int, ...], ...] = ((1_000_000,), (1,), (7,), (50,), (3, 11, 29, 2, 64))


def _config(**course: Any) -> Config:
    """The Callao configuration with the rules these tests are about (and duplicate_mmsi, whose alert
    stops course_anomaly)."""
    config = make_config()
    for rid in list(config.rules):
        if rid not in ("course_anomaly", "duplicate_mmsi", "drifting", "speeding"):
            config.rules[rid] = config.rules[rid].model_copy(update={"enabled": False})
    if course:
        set_rule(config, "course_anomaly", **course)
    return config


def _one_by_one(config: Config, reports: Sequence[Report]) -> list[dict[str, Any]]:
    core = Core(config)
    out = [a for r in reports for a in core.process(r)]
    out += core.finish()
    return [a.to_dict() for a in out]


def _batched(
    config: Config, reports: Sequence[Report], sizes: Sequence[int]
) -> tuple[list[dict[str, Any]], Core]:
    core = Core(config)
    out = process_in_chunks(core, reports, sizes)
    out += core.finish()
    return [a.to_dict() for a in out], core


def same_alerts(
    config: Config, reports: Sequence[Report], sizes: Sequence[Sequence[int]] = SIZES
) -> list[dict[str, Any]]:
    """The alert steps of the reports one by one; asserts every batching gives the same."""
    return same_in_chunks(reports, sizes, config=config)


def _histories(core: Core) -> dict[int, tuple[list[tuple[float, float]], Any, list[float], int, float]]:
    """Each vessel's erratic state (course history, pending fix, turns, turn in progress and its
    time), after the rule has caught up with the fixes it skipped; empty ones left out."""
    rule = core.engine.rule("course_anomaly")
    assert isinstance(rule, CourseAnomalyRule)
    for v in core.tracker.vessels():
        rule._catch_up(v, rule._erratic_exempt(v, core.config.allowlists), applied=False)
    return {
        m: (list(st.history), st.pending, list(st.turns), st.turning, st.turn_time)
        for m, st in rule._turns.items()
        if st.history or st.pending is not None or st.turns
    }


def same_history(config: Config, reports: Sequence[Report], sizes: Sequence[Sequence[int]] = SIZES) -> None:
    """Asserts that every batching leaves the erratic history as judging every fix does (a stronger
    test than the alerts: a course missing from the history may only show at a later turn)."""
    one = Core(config)
    for r in reports:
        one.process(r)
    reference = _histories(one)
    assert reference, "the scenario leaves no erratic history to compare"
    for s in sizes:
        _, core = _batched(config, reports, s)
        assert _histories(core) == reference, f"batches of {s} changed the erratic history"


def kinds(alerts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["type"] == "course_anomaly" and a["details"].get("kind") == kind]


ZIGZAG = [(0.0, 600), (90.0, 90), (0.0, 90), (90.0, 90), (0.0, 300)]
"""Ten minutes on a steady course, then three turns in four and a half minutes."""


# -- erratic -------------------------------------------------------------------------------------------


def test_turns_after_a_steady_leg_are_caught_in_every_batching() -> None:
    alerts = same_alerts(_config(), legs(SHIP, T0, OPEN_WATER, ZIGZAG, sog=8))
    assert len(kinds(alerts, "erratic")) == 1


def test_a_turn_judged_against_courses_only_seen_in_skipped_fixes() -> None:
    """The first turn is a turn only against the course history of the fixes before it, which the
    mask skipped (another batch): cut right before each turn, and right after."""
    track = legs(SHIP, T0, OPEN_WATER, ZIGZAG, sog=8)
    turns = [i for i in range(1, len(track)) if track[i].cog != track[i - 1].cog]
    sizes = [(turns[0],), (turns[0] + 1,), (turns[0] - 5, 5, 1, 1, 1000)]
    alerts = same_alerts(_config(), track, sizes)
    assert len(kinds(alerts, "erratic")) == 1


def test_a_steady_ship_is_judged_on_few_of_its_fixes() -> None:
    """The point of the mask: on a straight leg, only the first fix and the trail's refreshes.
    (off_route, with a model, judges every fix under way in the VTS area: left out here.)"""
    config = _config(model_path=None)
    track = legs(SHIP, T0, OPEN_WATER, [(45.0, 3600)], sog=10)
    _, core = _batched(config, track, (50,))
    rule = core.engine.rule("course_anomaly")
    assert isinstance(rule, CourseAnomalyRule)
    calls = 0
    original = CourseAnomalyRule.on_position

    def counting(self: CourseAnomalyRule, *args: Any) -> None:
        nonlocal calls
        calls += 1
        original(self, *args)

    CourseAnomalyRule.on_position = counting  # type: ignore[method-assign]
    try:
        _batched(config, track, (50,))
    finally:
        CourseAnomalyRule.on_position = original  # type: ignore[method-assign]
    assert calls < len(track) // 10


def test_late_and_repeated_fixes_while_turning() -> None:
    track = legs(SHIP, T0, OPEN_WATER, ZIGZAG, sog=8)
    mixed: list[Report] = []
    for k, r in enumerate(track):
        mixed.append(r)
        if k % 23 == 5:
            mixed.append(r)  # an exact repeat (two receivers)
        if k % 31 == 7 and k > 3:
            mixed.append(track[k - 3])  # a late fix, three fixes old
    assert kinds(same_alerts(_config(), mixed), "erratic") == kinds(_one_by_one(_config(), track), "erratic")


def test_exemption_ends_just_before_a_turn() -> None:
    """A fishing vessel on a steady course (exempt: its fixes stay out of the history) that turns out
    to be a cargo ship, then turns twice: two turns, no erratic alert. Had the fixes skipped while it
    was exempt entered its history, its first leg after the static report would be a third turn."""
    steady = legs(SHIP, T0, OPEN_WATER, [(0.0, 600)], sog=8)
    last = steady[-1]
    after = legs(SHIP, last.time + 10, (last.lat, last.lon), [(90.0, 90), (0.0, 90), (90.0, 300)], sog=8)  # type: ignore[arg-type]
    reports = [
        static(SHIP, T0 - 5, name="PESCADOR", ship_type=30),
        *steady,
        static(SHIP, last.time + 5, name="CARGO", ship_type=70),
        *after,
    ]
    assert kinds(same_alerts(_config(), reports), "erratic") == []
    same_history(_config(), reports)


def test_exemption_changing_with_static_data() -> None:
    """A fishing vessel (exempt) that turns out to be a cargo ship: the fixes skipped while it was
    exempt must not enter its history, those after must."""
    track = legs(SHIP, T0, OPEN_WATER, [*ZIGZAG, (90.0, 90), (0.0, 90), (90.0, 90)], sog=8)
    middle = track[len(track) // 2].time
    reports = sorted(
        [
            static(SHIP, T0 - 5, name="PESCADOR", ship_type=30),
            static(SHIP, middle - 85, name="CARGO", ship_type=70),
            *track,
        ],
        key=lambda r: r.time,
    )
    same_alerts(_config(), reports)
    back = sorted(
        [
            static(SHIP, T0 - 5, name="CARGO", ship_type=70),
            static(SHIP, middle, name="X", ship_type=30),
            *track,
        ],
        key=lambda r: r.time,
    )
    same_alerts(_config(), back)


def test_a_duplicate_mmsi_alert_raised_between_conflicts() -> None:
    """duplicate_mmsi can raise at a fix on the track, minutes after the conflicting fixes (here once
    its cooldown ends): from then on course_anomaly judges nothing of the vessel, so the fixes the
    mask skipped after it must not enter the history."""
    track = legs(SHIP, T0, OPEN_WATER, [(0.0, 3600)], sog=6)
    far = offset(OPEN_WATER, north_m=25_000)
    other = [position(SHIP, T0 + 35 + 60 * k, far, sog=0.0) for k in range(4)]  # raised, then quiet
    other += [position(SHIP, T0 + 2405 + 60 * k, far, sog=0.0) for k in range(8)]  # cleared; again
    reports = sorted(track + other, key=lambda r: r.time)
    alerts = _one_by_one(_config(), reports)
    steps = [a["state"] for a in alerts if a["type"] == "duplicate_mmsi" and a["state"] != "updated"]
    assert steps == ["raised", "cleared", "raised"]
    same_history(_config(), reports, ((1,), (2,), (5,), (13,)))


def test_two_ships_on_one_mmsi() -> None:
    """Fixes of a second ship, 15 km off, interleaved: shadow tracks, jumps, a duplicate_mmsi alert."""
    first = legs(SHIP, T0, OPEN_WATER, ZIGZAG, sog=8)
    second = legs(
        SHIP, T0 + 5, offset(OPEN_WATER, north_m=15_000), [(180.0, 900), (270.0, 600)], sog=12, every_s=30
    )
    alerts = same_alerts(_config(), sorted(first + second, key=lambda r: r.time))
    assert any(a["type"] == "duplicate_mmsi" for a in alerts)


def test_a_gap_longer_than_the_trail_then_a_very_late_fix() -> None:
    """Fixes skipped before a gap longer than the trail would leave it before the rule judged the next
    one: caught up in time, as a fix 40 minutes late then still finds them in the history."""
    before = legs(SHIP, T0, OPEN_WATER, [(0.0, 300)], sog=8)
    after = legs(SHIP, T0 + 3000, OPEN_WATER, [(90.0, 60), (0.0, 90), (90.0, 90), (0.0, 90)], sog=8)
    late = replace(before[-3], time=before[-3].time + 1.0, cog=120.0)
    reports: list[Report] = [*before, *after[:3], late, late, *after[3:]]
    same_alerts(_config(), reports)


def test_the_trails_point_cap() -> None:
    """A trail of 12 points: the skipped fixes must be taken before they leave it."""
    config = _config()
    config.tracker = config.tracker.model_copy(update={"trail_max_points": 12})
    track = legs(SHIP, T0, OPEN_WATER, ZIGZAG, sog=8, every_s=2.0)
    assert len(kinds(same_alerts(config, track), "erratic")) == 1
    same_history(config, legs(SHIP, T0, OPEN_WATER, [(0.0, 600), (20.0, 120)], sog=8, every_s=2.0))


def test_the_trails_time_span() -> None:
    """A trail of one minute: the fixes skipped for longer must be taken before they leave it."""
    config = _config()
    config.tracker = config.tracker.model_copy(update={"trail_minutes": 1.0})
    same_history(config, legs(SHIP, T0, OPEN_WATER, [(0.0, 600), (20.0, 120)], sog=8, every_s=5.0))
    sparse = legs(SHIP, T0, OPEN_WATER, [(0.0, 1200), (20.0, 600)], sog=8, every_s=25.0)
    same_history(config, sparse)


def test_a_forgotten_vessel_comes_back() -> None:
    """Silent for more than an hour: forgotten, a new track when it comes back. Cut so the batch
    that forgets it also holds its first fixes back (judged: its trail is learnt), and the next one
    its turns, judged against the course of those fixes."""
    first = legs(SHIP, T0, OPEN_WATER, [(0.0, 300), (90.0, 60)], sog=8)
    clock = [position(OTHER, T0 + 60 * k, ANCHORAGE, sog=0.0) for k in range(1, 80)]
    back = legs(SHIP, T0 + 4400, OPEN_WATER, [(0.0, 120), (90.0, 90), (0.0, 90), (90.0, 90)], sog=8)
    reports = sorted(first + clock + back, key=lambda r: r.time)
    turn = next(i for i, r in enumerate(reports) if r.mmsi == SHIP and r.time > T0 + 4400 and r.cog == 90.0)
    forgotten = next(i for i, r in enumerate(reports) if r.time > T0 + 350 + 3600)  # its last fix + 1 h
    sizes = [
        *SIZES,
        (turn,),
        (forgotten, turn - forgotten, 3, 1000),
        (forgotten + 1, turn - forgotten - 1, 2, 1000),
    ]
    assert len(kinds(same_alerts(_config(), reports, sizes), "erratic")) == 1
    same_history(_config(), reports, sizes)


def test_course_parameters_and_no_erratic() -> None:
    track = legs(SHIP, T0, OPEN_WATER, [(0.0, 300), (40.0, 60), (0.0, 60), (40.0, 60), (80.0, 300)], sog=8)
    assert len(kinds(same_alerts(_config(erratic_turn_deg=35.0), track), "erratic")) == 1
    assert kinds(same_alerts(_config(erratic=False), track), "erratic") == []


# -- wrong_way, stop_after_departure -------------------------------------------------------------------


def test_wrong_way_with_late_fixes_outside_the_lane() -> None:
    """A fix as old as the vessel's latest is ignored by the zone engine: the vessel keeps the lane's
    membership wherever that fix lies, so the fix is judged."""
    track = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 240), (189.0, 150)], sog=5)
    late = replace(track[20], lat=OPEN_WATER[0], lon=OPEN_WATER[1])  # same time as fix 20, far away
    reports: list[Report] = [*track[:25], late, *track[25:]]
    assert kinds(same_alerts(_config(), reports), "wrong_way")


def test_stop_after_departure_in_batches() -> None:
    anchored = [position(SHIP, T0 + 60 * k, ANCHORAGE, sog=0.0, cog=0.0, nav_status=1) for k in range(20)]
    out = legs(SHIP, T0 + 1260, ANCHORAGE, [(270.0, 780)], sog=10)
    out += legs(SHIP, out[-1].time + 10, (out[-1].lat, out[-1].lon), [(270.0, 240)], sog=0.8)  # type: ignore[arg-type]
    reports = [static(SHIP, T0, name="BULK", ship_type=70, length=190), *anchored, *out]
    assert len(kinds(same_alerts(_config(), reports), "stop_after_departure")) == 1


# -- randomised -----------------------------------------------------------------------------------------


def _random_traffic(seed: int) -> list[Report]:
    """A few vessels with straight legs, turns, glitches, late and repeated fixes, jumps, gaps, a
    positionless report, static data changing: whatever the masks must get right."""
    rng = random.Random(seed)
    reports: list[Report] = []
    for v in range(4):
        mmsi = SHIP + v if v < 3 else SHIP  # the fourth shares the first one's MMSI
        lat, lon = rng.choice([OPEN_WATER, IN_LANE_EAST, offset(OPEN_WATER, 2000, -3000)])
        t = T0 + rng.uniform(0, 60)
        cog, sog, every = (
            rng.uniform(0, 360),
            rng.choice([2.5, 4.0, 8.0, 30.0]),
            rng.choice([2.0, 10.0, 30.0]),
        )
        if rng.random() < 0.5:
            reports.append(static(mmsi, t - 1, name="V", ship_type=rng.choice([30, 52, 70]), length=200))
        for _ in range(rng.randint(60, 160)):
            r = rng.random()
            if r < 0.04:
                cog = (cog + rng.choice([70.0, 90.0, 180.0, -90.0])) % 360
            elif r < 0.15:
                cog = (cog + rng.uniform(-25, 25)) % 360
            step = sog * 1852 / 3600 * every
            lat += step * math.cos(math.radians(cog)) / M_PER_DEG
            lon += step * math.sin(math.radians(cog)) / (M_PER_DEG * math.cos(math.radians(lat)))
            fix_t = t - rng.uniform(0, 300) if rng.random() < 0.03 else t
            at = (lat, lon) if rng.random() > 0.02 else offset((lat, lon), rng.uniform(-9e3, 9e3), 5e3)
            fix = position(mmsi, fix_t, at, sog=sog, cog=cog if rng.random() > 0.05 else rng.uniform(0, 360))
            reports.append(fix)
            if rng.random() < 0.02:
                reports.append(fix)
            if rng.random() < 0.01:
                reports.append(replace(fix, lat=None, lon=None, sog=40.0))
            if rng.random() < 0.01:
                reports.append(static(mmsi, fix_t, name="V", ship_type=rng.choice([30, 70]), length=200))
            if rng.random() < 0.01:
                t += rng.choice([900.0, 2400.0])
            t += every * rng.uniform(0.8, 1.2)
    return sorted(reports, key=lambda r: r.time)


def test_random_traffic_in_every_batching() -> None:
    erratic = 0
    for seed in (3, 11, 29):
        alerts = same_alerts(_config(), _random_traffic(seed), ((1_000_000,), (5,), (37,)))
        erratic += len(kinds(alerts, "erratic"))
    assert erratic > 0  # the traffic does turn
