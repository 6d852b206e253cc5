"""unauthorised_anchoring: at anchor or stopped 15 min outside anchorages and berths."""

from __future__ import annotations

import math

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
    run,
    set_rule,
    states,
    static,
    stationary,
)
from vts.alerts.model import Alert
from vts.reports import Report
from vts.rules._common import in_watched_area, zone_ids_of_kinds
from vts.rules.unauthorised_anchoring import UnauthorisedAnchoringParams

SHIP = 760000561


def ship(*reports):  # type: ignore[no-untyped-def]
    return merge(static(SHIP, T0 - 60, name="ANCLA", ship_type=70, length=180), *reports)


def stop_then_leave(
    minutes: float, *, at: tuple[float, float] = OPEN_WATER, nav_status: int | None = 0, sog: float = 0.1
):  # type: ignore[no-untyped-def]
    still = stationary(SHIP, T0, minutes=minutes, at=at, every_s=60, sog=sog, nav_status=nav_status)
    away = moving(SHIP, still[-1].time + 10, minutes=6, start=at, cog=90, sog=8.0, nav_status=0)
    return ship(still, away)


def test_stopped_20_minutes_fires_after_15_and_clears_under_way() -> None:
    steps = of_type(run(make_core(), stop_then_leave(20)), "unauthorised_anchoring")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert states(steps).count("raised") == 1
    assert 15 * 60 <= steps[0].time - T0 <= 16 * 60
    assert steps[0].details["status"] == "stopped"
    assert steps[0].details["nearest_allowed_zone"] is not None
    assert "under way" in steps[-1].details["reason"]


def test_stopped_12_minutes_is_silent() -> None:
    assert of_type(run(make_core(), stop_then_leave(12)), "unauthorised_anchoring") == []


def test_at_anchor_by_status_fires_at_once() -> None:
    steps = of_type(run(make_core(), stop_then_leave(8, nav_status=1)), "unauthorised_anchoring")
    assert steps and steps[0].details["status"] == "at anchor"
    assert steps[0].time - T0 <= 5 * 60  # once the target has its minimum of messages


def test_at_anchor_inside_the_anchorage_is_silent() -> None:
    assert (
        of_type(run(make_core(), stop_then_leave(40, at=ANCHORAGE, nav_status=1)), "unauthorised_anchoring")
        == []
    )


def test_a_tanker_moored_at_the_pampilla_monobuoy_is_at_its_terminal() -> None:
    """Found with an independent traffic generator: a tanker moored (status 5) to La Pampilla's SPM
    monobuoy T4, 4 km offshore, was "anchored outside the anchorages and berths": the buoy had only
    its 500 m safety zone. Its mooring area is a terminal now; 1.5 km from it the same ship is still
    reported."""
    buoy = (-11.93178, -77.18123)
    for at, expected in ((offset(buoy, north_m=-150, east_m=120), 0), (offset(buoy, north_m=-1500), 1)):
        steps = of_type(run(make_core(), stop_then_leave(40, at=at, nav_status=5)), "unauthorised_anchoring")
        assert states(steps).count("raised") == expected, at


def test_slow_but_moving_is_silent() -> None:
    reports = ship(moving(SHIP, T0, minutes=30, start=OPEN_WATER, cog=0, sog=1.5, every_s=30))
    assert of_type(run(make_core(), reports), "unauthorised_anchoring") == []


def test_small_craft_left_to_loitering() -> None:
    craft = 760000562
    reports = stationary(craft, T0, minutes=25, at=OPEN_WATER, every_s=30, sog=0.1, ais_class="B")
    assert of_type(run(make_core(), reports), "unauthorised_anchoring") == []


def test_one_glitch_fix_out_of_the_anchorage_is_silent() -> None:
    anchored = stationary(SHIP, T0, minutes=20, at=ANCHORAGE, every_s=60, nav_status=1)
    glitch = stationary(SHIP, T0 + 600 + 30, minutes=0, at=OPEN_WATER, nav_status=1)  # one fix 3.5 km off
    assert of_type(run(make_core(), ship(anchored, glitch)), "unauthorised_anchoring") == []


# -- batched processing: the interest mask, the watches and the shortcut for slow fixes out of scope ---


def test_the_recheck_rhythm_started_outside_the_area_decides_when_the_alert_is_raised() -> None:
    """A ship steaming in with its at-anchor status left on (a slow fix for this rule, whatever the
    speed) is re-checked every minute from its first fix, far outside the watched area. The alert
    comes at the second check inside (the condition must hold `confirm_s`), on that rhythm: so no
    slow fix outside the area may be skipped, however far (and `run` also replays it batched)."""
    every = 7.0
    step_m = 4.0 * 1852.0 / 3600.0 * every  # 4 kn over ground, reporting 0.6 kn and status 1
    start = (-12.040, -77.300)  # west of the VTS area
    points = [offset(start, east_m=step_m * i) for i in range(215)]
    fixes = path(SHIP, T0, points, every_s=every, sog=0.6, nav_status=1)
    config = make_config()
    core = make_core(config)
    entry = next(f for f in fixes if in_watched_area(core.zones, f.lat, f.lon))  # type: ignore[arg-type]
    assert entry.time - T0 > 10 * 60  # a long way (and many checks) outside first
    check = 9 * every  # the first fix at least `check_every_s` (60 s) after the previous check
    assert (entry.time - T0) % check != 0  # the rhythm is not the one a fresh start at entry gives
    steps = of_type(run(core, ship(fixes)), "unauthorised_anchoring")
    assert steps and steps[0].state == "raised" and steps[0].details["status"] == "at anchor"
    first_check_inside = T0 + check * math.ceil((entry.time - T0) / check)
    assert steps[0].time == first_check_inside + check


def test_an_alert_kept_over_a_rule_reload_still_sees_the_ship_leave() -> None:
    """New parameters replace the rule: the new one holds no state and watches nothing, but the
    alert stays active. Its under-way fixes (outside the mask) must still reach the rule, which
    clears the alert as the old one would have, rather than the restore grace expiring it."""
    still = stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=60, sog=0.1, nav_status=0)
    away = moving(SHIP, still[-1].time + 10, minutes=6, start=OPEN_WATER, cog=90, sog=8.0, nav_status=0)

    def replay(batched: bool) -> list[Alert]:
        core = make_core()

        def feed(reports: list[Report]) -> list[Alert]:
            if batched:
                return core.process_many(reports)
            return [a for r in reports for a in core.process(r)]

        out = feed(ship(still))
        core.reload(set_rule(make_config(), "unauthorised_anchoring", check_every_s=61.0))
        return out + feed(away) + core.finish()

    one_by_one = replay(batched=False)
    assert [a.to_dict() for a in replay(batched=True)] == [a.to_dict() for a in one_by_one]
    steps = of_type(one_by_one, "unauthorised_anchoring")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert "under way" in steps[-1].details["reason"]


def test_a_stopped_fix_outside_the_area_still_fills_the_nearest_zone_cache() -> None:
    """The nearest allowed zone is cached per ~10 m cell, with the answer for the first position
    looked up in the cell. A ship at anchor just outside the watched area makes that lookup (the
    rule checks for an allowed zone before the area), and a ship then anchored just inside, in the
    same cell, is reported with that answer. The shortcut for slow fixes outside the area must keep
    doing the lookup (not the distance computation) exactly when the full path does."""
    outside, inside = (-12.04, -77.28404), (-12.04, -77.28396)
    other = 760000563
    core = make_core()
    zones = core.zones
    assert not in_watched_area(zones, *outside) and in_watched_area(zones, *inside)
    assert (round(outside[0], 4), round(outside[1], 4)) == (round(inside[0], 4), round(inside[1], 4))

    allowed = zone_ids_of_kinds(zones, UnauthorisedAnchoringParams().allowed_zone_kinds)

    def nearest_m(p: tuple[float, float]) -> float:
        return min(round(zones.distance_to(z, p[1], p[0]), 0) for z in allowed)

    assert nearest_m(outside) != nearest_m(inside)
    reports = merge(
        static(other, T0 - 60, name="OUTSIDE", ship_type=70, length=180),
        stationary(other, T0, minutes=3, at=outside, every_s=60, nav_status=1),
        ship(stationary(SHIP, T0 + 30, minutes=8, at=inside, every_s=60, nav_status=1)),
    )
    steps = of_type(run(core, reports), "unauthorised_anchoring")
    assert [a.mmsi for a in steps if a.state == "raised"] == [SHIP]  # the one outside is not ours
    assert steps[0].details["nearest_allowed_m"] == nearest_m(outside)


def test_a_vessel_is_watched_from_its_first_slow_fix_until_it_is_under_way() -> None:
    core = make_core()
    rule = core.engine.rule("unauthorised_anchoring")
    assert rule is not None
    ctx = core.engine.ctx
    core.process_many(ship(moving(SHIP, T0, minutes=2, start=OPEN_WATER, cog=90, sog=8.0)))
    assert not rule.watches(ctx, SHIP)  # under way: its fixes are skipped
    core.process_many(stationary(SHIP, T0 + 130, minutes=2, at=OPEN_WATER, every_s=30, sog=0.2))
    assert rule.watches(ctx, SHIP)  # a re-check time on record: an under-way fix must forget it
    core.process_many(moving(SHIP, T0 + 300, minutes=1, start=OPEN_WATER, cog=90, sog=8.0))
    assert not rule.watches(ctx, SHIP)
