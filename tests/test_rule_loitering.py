"""loitering: slow (or circling) for 30 min (small craft) / 60 min (others) where it has no business."""

from __future__ import annotations

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    circling,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    run,
    states,
    static,
)

CRAFT = 760000601
SHIP = 760000501


def drift_then_leave(
    mmsi: int, minutes: float, *, at: tuple[float, float] = OPEN_WATER, sog: float = 1.0, cls: str = "B"
):  # type: ignore[no-untyped-def]
    slow = moving(mmsi, T0, minutes=minutes, start=at, cog=200, sog=sog, every_s=30, ais_class=cls)
    last = slow[-1]
    assert last.lat is not None and last.lon is not None
    fast = moving(
        mmsi,
        last.time + 30,
        minutes=10,
        start=(last.lat, last.lon),
        cog=0,
        sog=9.0,
        every_s=30,
        ais_class=cls,
    )
    return slow + fast


def test_small_craft_slow_for_35_minutes_fires_and_clears() -> None:
    steps = of_type(run(make_core(), drift_then_leave(CRAFT, 35)), "loitering")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert states(steps).count("raised") == 1
    raised = steps[0]
    assert 30 * 60 <= raised.time - T0 <= 31 * 60
    assert raised.details["circling"] is False and raised.details["small_craft"] is True
    assert raised.details["mean_sog_kn"] < 2.0
    assert "under way" in steps[-1].details["reason"]


def test_small_craft_slow_for_25_minutes_is_silent() -> None:
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 25)), "loitering") == []


def test_at_2_5_knots_is_silent() -> None:
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 40, sog=2.5)), "loitering") == []


def test_slow_inside_the_anchorage_is_silent() -> None:
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 40, at=ANCHORAGE)), "loitering") == []


def test_large_vessel_needs_an_hour() -> None:
    def ship(minutes: float):  # type: ignore[no-untyped-def]
        return merge(
            static(SHIP, T0 - 60, name="DRIFTER", ship_type=70, length=180),
            drift_then_leave(SHIP, minutes, cls="A"),
        )

    assert of_type(run(make_core(), ship(45)), "loitering") == []
    steps = of_type(run(make_core(), ship(65)), "loitering")
    assert steps and steps[0].state == "raised" and 60 * 60 <= steps[0].time - T0 <= 61 * 60
    assert steps[0].details["small_craft"] is False


def test_circling_at_4_knots_is_flagged() -> None:
    reports = circling(
        CRAFT,
        T0,
        minutes=35,
        centre=offset(OPEN_WATER, north_m=500),
        radius_m=120,
        sog=4.0,
        every_s=30,
        ais_class="B",
    )
    steps = of_type(run(make_core(), reports), "loitering")
    assert steps and steps[0].state == "raised"
    assert steps[0].details["circling"] is True
    assert abs(steps[0].details["turn_deg"]) >= 360
    assert steps[0].details["radius_m"] <= 300


def test_straight_transit_at_4_knots_is_silent() -> None:
    reports = moving(CRAFT, T0, minutes=40, start=OPEN_WATER, cog=200, sog=4.0, every_s=30, ais_class="B")
    assert of_type(run(make_core(), reports), "loitering") == []


def test_at_anchor_by_status_is_silent() -> None:
    reports = merge(
        static(SHIP, T0 - 60, name="WAITING", ship_type=80, length=180),
        moving(SHIP, T0, minutes=70, start=OPEN_WATER, cog=0, sog=0.2, every_s=60, nav_status=1),
    )
    alerts = run(make_core(), reports)
    assert of_type(alerts, "loitering") == []
    assert of_type(alerts, "unauthorised_anchoring")  # reported as what it is


def test_tug_waiting_is_silent() -> None:
    reports = merge(
        static(CRAFT, T0 - 60, name="TUG", ship_type=52, length=28), drift_then_leave(CRAFT, 40, cls="A")
    )
    assert of_type(run(make_core(), reports), "loitering") == []


def test_distress_beacon_drifting_is_not_loitering() -> None:
    epirb = 974601234  # an EPIRB-AIS: the distress rule reports it, not loitering
    reports = moving(epirb, T0, minutes=40, start=OPEN_WATER, cog=90, sog=0.4, every_s=60)
    assert of_type(run(make_core(), reports), "loitering") == []
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 40)), "loitering")  # a boat doing the same does


def test_ship_leaving_its_berth_after_an_hour_is_silent() -> None:
    from tests.rule_helpers import BERTH_DPWORLD

    at_berth = moving(SHIP, T0, minutes=70, start=BERTH_DPWORLD, cog=0, sog=0.0, every_s=30)  # status 0
    last = at_berth[-1]
    assert last.lat is not None and last.lon is not None
    leaving = moving(
        SHIP, last.time + 30, minutes=15, start=(last.lat, last.lon), cog=300, sog=1.5, every_s=30
    )
    reports = merge(static(SHIP, T0 - 60, name="SEASPAN", ship_type=71, length=300), at_berth, leaving)
    assert of_type(run(make_core(), reports), "loitering") == []
