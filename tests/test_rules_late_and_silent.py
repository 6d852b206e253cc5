"""The rules against late fixes, silent craft, glitches, noisy receivers and reloads (found by a
line-by-line review): alongside, unauthorised_anchoring, loitering, speeding, anchor_drag,
drifting, zone_visits. Every `run` also checks that
batched processing gives the same alerts."""

from __future__ import annotations

import random

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    path,
    position,
    reload_run,
    run,
    set_rule,
    static,
    stationary,
)
from tests.test_rule_alongside import CRAFT, anchored_ship, craft_visit
from vts.alerts.model import Alert
from vts.reports import Report

SHIP = 760000561


def steps(alerts: list[Alert], type_: str) -> list[tuple[str, float, object]]:
    return [(a.state, round(a.time - T0), a.details.get("reason")) for a in of_type(alerts, type_)]


def with_late(reports: list[Report], late: Report, after: float) -> list[Report]:
    """`late` delivered just after event time `after` (it carries its own, older time)."""
    k = next(i for i, r in enumerate(reports) if r.time > after)
    return [*reports[:k], late, *reports[k:]]


def test_alongside_a_late_fast_fix_of_the_craft_does_not_end_the_alert() -> None:
    """A copy of the craft's 8-kn approach fix arrives while it lies alongside: still alongside."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    base = merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=12, at=spot))
    late = position(CRAFT, T0 - 60, offset(spot, north_m=-120), sog=8.0, cog=0, ais_class="B")
    expected = steps(run(make_core(), base), "alongside")
    assert expected[-1][0] == "cleared" and expected[-1][1] >= 720  # when it really leaves
    assert steps(run(make_core(), with_late(base, late, T0 + 360)), "alongside") == expected


def test_alongside_a_craft_gone_silent_is_not_seen_alongside_again() -> None:
    """A Class B craft reports every 3 minutes for 12 minutes, then is silent while the ship keeps
    reporting: one alert, cleared once the pair is not observed, and no ghost alerts after it."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    craft = stationary(CRAFT, T0, minutes=12, at=spot, every_s=180, sog=0.2, ais_class="B")
    alerts = run(make_core(), merge(anchored_ship(T0 - 900, minutes=120), craft))
    assert [s[0] for s in steps(alerts, "alongside") if s[0] != "updated"] == ["raised", "cleared"]


def test_unauthorised_anchoring_a_late_fix_from_the_anchorage_does_not_clear_the_alert() -> None:
    """A ship leaves the anchorage and anchors in open water; a delayed fix from its time in the
    anchorage arrives while the alert is up: the alert holds (no clear, no second alert)."""
    st = static(SHIP, T0 - 60, name="ANCLA", ship_type=70, length=180)
    anchored = stationary(SHIP, T0, minutes=10, at=ANCHORAGE, every_s=60, nav_status=1)
    n = 80
    lane = [
        (
            ANCHORAGE[0] + (OPEN_WATER[0] - ANCHORAGE[0]) * i / n,
            ANCHORAGE[1] + (OPEN_WATER[1] - ANCHORAGE[1]) * i / n,
        )
        for i in range(1, n + 1)
    ]
    transit = path(SHIP, T0 + 610, lane, every_s=10, nav_status=0)
    t1 = transit[-1].time
    outside = stationary(SHIP, t1 + 60, minutes=30, at=OPEN_WATER, every_s=60, nav_status=1)
    reports = merge(st, anchored, transit, outside)
    expected = steps(run(make_core(), reports), "unauthorised_anchoring")
    assert [s[0] for s in expected if s[0] != "updated"] == ["raised"]
    late = position(SHIP, T0 + 300, ANCHORAGE, sog=0.0, nav_status=1)
    got = steps(run(make_core(), with_late(reports, late, t1 + 660)), "unauthorised_anchoring")
    assert got == expected


def test_unauthorised_anchoring_an_old_stop_does_not_skip_the_confirmation_of_a_new_one() -> None:
    """One at-anchor fix, 40 minutes under way, then a single glitch fix (status 1, 0.3 kn) and on
    its way again: the glitch is one fix, not an anchoring."""
    st = static(SHIP, T0 - 60, name="ANCLA", ship_type=70, length=180)
    first = [position(SHIP, T0, OPEN_WATER, sog=0.2, nav_status=1)]
    go = moving(SHIP, T0 + 10, minutes=40, start=OPEN_WATER, cog=0, sog=8.0, every_s=10, nav_status=0)
    last = go[-1]
    assert last.lat is not None and last.lon is not None
    blip = [position(SHIP, last.time + 10, (last.lat, last.lon), sog=0.3, cog=0, nav_status=1)]
    on = moving(SHIP, last.time + 20, minutes=5, start=(last.lat, last.lon), cog=0, sog=8.0, nav_status=0)
    assert steps(run(make_core(), merge(st, first, go, blip, on)), "unauthorised_anchoring") == []


def test_loitering_a_ship_lying_still_with_a_noisy_course_is_not_circling() -> None:
    """A 180 m ship lying still: 5 m of position noise, a course over ground at random and a speed
    of about 1 kn from its receiver. It 'turns' through thousands of degrees within a few metres:
    not circling (it would be loitering after its 60-minute window, not circling after 30)."""
    rnd = random.Random(1)
    fixes = [
        position(
            SHIP,
            T0 + 10 * i,
            offset(OPEN_WATER, rnd.gauss(0, 5), rnd.gauss(0, 5)),
            sog=round(rnd.uniform(0.9, 1.4), 1),
            cog=round(rnd.uniform(0, 359.9), 1),
        )
        for i in range(50 * 6)
    ]
    st = static(SHIP, T0 - 60, name="BIG", ship_type=70, length=180)
    assert of_type(run(make_core(), merge(st, fixes)), "loitering") == []


def test_speeding_anchor_drag_and_drifting_take_no_late_fix_as_current() -> None:
    """`Rule.late_fixes = False`: a fix older than the vessel's latest does not reach these rules.
    A late slow fix cleared a speeding alert, a late fix from before anchoring cleared an anchor
    drag (and forgot where the ship had settled), two late fixes on course cleared a drift."""
    fast = 725000001
    speeding = merge(
        static(fast, T0, name="FAST", ship_type=70, length=100),
        moving(fast, T0, minutes=3, start=OPEN_WATER, cog=90, sog=8),
        moving(fast, T0 + 190, minutes=5, start=offset(OPEN_WATER, east_m=750), cog=90, sog=15),
    )
    late_slow = position(fast, T0 + 60, offset(OPEN_WATER, east_m=250), sog=8, cog=90)

    anchored = 725000002
    drag = merge(
        static(anchored, T0, name="ANCH", ship_type=70, length=150),
        stationary(anchored, T0, minutes=12, at=ANCHORAGE, nav_status=1, every_s=180),
        moving(anchored, T0 + 730, minutes=15, start=ANCHORAGE, cog=0, sog=1.5, nav_status=1, every_s=60),
    )
    late_under_way = position(
        anchored, T0 - 600, offset(ANCHORAGE, north_m=-3000), sog=10, cog=0, nav_status=0
    )

    crabbing = 725000003
    drift = merge(
        static(crabbing, T0, name="DRIFT", ship_type=70, length=100),
        moving(crabbing, T0, minutes=4.9, start=offset(OPEN_WATER, east_m=-500), cog=90, sog=3, heading=90),
        moving(crabbing, T0 + 300, minutes=10, start=OPEN_WATER, cog=90, sog=3, heading=0),
    )
    late_on_course = [
        position(crabbing, t, offset(OPEN_WATER, east_m=-300), sog=3, cog=90, heading=90)
        for t in (T0 + 100, T0 + 110)
    ]

    for type_, reports, late, at in (
        ("speeding", speeding, [late_slow], T0 + 400),
        ("anchor_drag", drag, [late_under_way], T0 + 1200),
        ("drifting", drift, late_on_course, T0 + 780),
    ):
        expected = steps(run(make_core(), reports), type_)
        assert expected and expected[0][0] == "raised", type_
        k = next(i for i, r in enumerate(reports) if r.time > at)
        assert steps(run(make_core(), [*reports[:k], *late, *reports[k:]]), type_) == expected, type_


def test_speeding_ends_when_the_vessel_becomes_exempt() -> None:
    """A patrol boat speeding, then its static data says law enforcement (55): the alert ends."""
    boat = 725000001
    track = moving(boat, T0, minutes=6, start=offset(OPEN_WATER, north_m=-2000), cog=200, sog=15)
    last = track[-1]
    assert last.lat is not None and last.lon is not None
    slow = moving(boat, T0 + 370, minutes=20, start=(last.lat, last.lon), cog=200, sog=5)
    reports = merge(
        static(boat, T0, name="PATROL", ship_type=70, length=40),
        track,
        static(boat, T0 + 200, name="PATROL", ship_type=55, length=40),
        slow,
    )
    got = of_type(run(make_core(), reports), "speeding")
    assert [a.state for a in got if a.state != "updated"] == ["raised", "cleared"]
    assert "exempt" in got[-1].message


def test_anchor_drag_and_zone_visits_carry_on_over_a_reload_with_new_parameters() -> None:
    """`Rule.adopt`: anchor_drag keeps where the ship settled (a new rule would settle again around
    where the dragged ship lies now, and its alarm would expire unconfirmed); zone_visits keeps an
    entry held back for want of messages (else the exit is recorded without its entry)."""
    ship = 725000002
    reports = merge(
        static(ship, T0, ship_type=70, length=150),
        stationary(ship, T0, minutes=12, at=ANCHORAGE, nav_status=1, every_s=180),
        moving(ship, T0 + 730, minutes=10, start=ANCHORAGE, cog=0, sog=1.5, nav_status=1, every_s=60),
        stationary(ship, T0 + 1380, minutes=40, at=offset(ANCHORAGE, north_m=480), nav_status=1, every_s=180),
    )
    before = [r for r in reports if r.time < T0 + 1800]
    after = [r for r in reports if r.time >= T0 + 1800]
    config = make_config()
    kept = [
        (a["state"], a["time"])
        for a in reload_run(None, config, config, before, after)
        if a["type"] == "anchor_drag"
    ]
    changed = set_rule(make_config(), "anchor_drag", drag_minutes=2.5)
    for chunk in (None, 7):
        got = reload_run(chunk, config, changed, before, after)
        assert [(a["state"], a["time"]) for a in got if a["type"] == "anchor_drag"] == kept

    visitor = 224000001
    before = merge(
        static(visitor, T0, name="CARGO", ship_type=70, length=180),
        stationary(visitor, T0, minutes=0.35, at=ANCHORAGE, every_s=10),  # entry confirmed at 4 messages
    )
    after = merge(
        stationary(visitor, T0 + 30, minutes=5, at=ANCHORAGE, every_s=30),
        moving(visitor, T0 + 330, minutes=20, start=ANCHORAGE, cog=270, sog=12, every_s=30),
    )
    changed = set_rule(make_config(), "zone_visits", kinds=["fishing_dock"])
    for chunk in (None, 7):
        got = reload_run(chunk, config, changed, before, after)
        visits = [(a["type"], a["zone"]) for a in got if a["type"] in ("zone_entry", "zone_exit")]
        assert visits == [("zone_entry", "anchorage_main"), ("zone_exit", "anchorage_main")]
