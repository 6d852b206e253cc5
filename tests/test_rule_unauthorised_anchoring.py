"""unauthorised_anchoring: at anchor or stopped 15 min outside anchorages and berths."""

from __future__ import annotations

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    run,
    states,
    static,
    stationary,
)

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
