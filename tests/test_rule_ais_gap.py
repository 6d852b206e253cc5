"""ais_gap: going dark inside coverage while the neighbours are still heard."""

from __future__ import annotations

from tests.rule_helpers import (
    BERTH_DPWORLD,
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    run,
    states,
    static,
    stationary,
)

DARK = 760000531
NEIGHBOUR = 760000542


def neighbour(minutes: float):  # type: ignore[no-untyped-def]
    """A vessel 2 km away heard every 10 s throughout."""
    return stationary(
        NEIGHBOUR, T0 + 3, minutes=minutes, at=offset(OPEN_WATER, north_m=2000), every_s=10, sog=0.1
    )


def goes_quiet(
    silent_minutes: float, *, every_s: float = 10.0, nav_status: int | None = None, sog: float = 2.0
):  # type: ignore[no-untyped-def]
    """20 min of reports, silence, then one report 1.2 km further on."""
    before = moving(
        DARK, T0, minutes=20, start=OPEN_WATER, cog=0, sog=sog, every_s=every_s, nav_status=nav_status
    )
    last = before[-1]
    assert last.lat is not None and last.lon is not None
    back_at = last.time + silent_minutes * 60
    after = moving(
        DARK,
        back_at,
        minutes=1,
        start=offset((last.lat, last.lon), north_m=1200),
        cog=0,
        sog=sog,
        nav_status=nav_status,
    )
    return merge(static(DARK, T0 - 60, name="SOMBRA", ship_type=30, length=24), before, after)


def test_silent_12_minutes_fires_and_clears_on_reappearance() -> None:
    steps = of_type(run(make_core(), merge(goes_quiet(12), neighbour(34))), "ais_gap")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert states(steps).count("raised") == 1
    raised, cleared = steps[0], steps[-1]
    assert 600 <= raised.time - (T0 + 1200) <= 660
    assert raised.severity == "warning"
    d = cleared.details
    assert d["reason"] == "reappeared"
    assert 715 <= d["gap_s"] <= 725
    assert 1150 <= d["distance_m"] <= 1250
    assert 3.0 <= d["implied_speed_kn"] <= 3.5
    assert d["implied_speed_flag"] is False and d["far_flag"] is False


def test_silent_9_minutes_is_silent() -> None:
    assert of_type(run(make_core(), merge(goes_quiet(9), neighbour(31))), "ais_gap") == []


def test_no_alert_when_the_neighbours_fall_silent_too() -> None:
    # the receiver went quiet: nobody is heard during the gap
    assert of_type(run(make_core(), merge(goes_quiet(12), neighbour(19))), "ais_gap") == []


def test_sparse_reporter_is_not_going_dark() -> None:
    # one report every 4 minutes: fewer than 10 messages in 30 minutes
    assert of_type(run(make_core(), merge(goes_quiet(15, every_s=240), neighbour(37))), "ais_gap") == []


def test_moored_vessel_has_30_minutes() -> None:
    quiet20 = goes_quiet(20, every_s=60, nav_status=5, sog=0.0)
    assert of_type(run(make_core(), merge(quiet20, neighbour(42))), "ais_gap") == []
    quiet35 = goes_quiet(35, every_s=60, nav_status=5, sog=0.0)
    steps = of_type(run(make_core(), merge(quiet35, neighbour(57))), "ais_gap")
    assert steps and steps[0].state == "raised"
    assert steps[0].time - (T0 + 1200) >= 30 * 60


def berthing(silent_minutes: float, **kind: object):  # type: ignore[no-untyped-def]
    """A vessel creeping at 1.5 kn in DP World's berth (status 0: it has not set "moored" yet) for
    20 min, silent, then heard again there; a neighbour 2 km off is heard throughout."""
    before = stationary(DARK, T0, minutes=20, at=BERTH_DPWORLD, every_s=10, sog=1.5, nav_status=0)
    back = stationary(DARK, T0 + 1200 + silent_minutes * 60, minutes=1, at=BERTH_DPWORLD, every_s=10, sog=0.0)
    near = stationary(
        NEIGHBOUR, T0 + 3, minutes=22 + silent_minutes, at=offset(BERTH_DPWORLD, north_m=2000), every_s=10
    )
    return merge(static(DARK, T0 - 60, name="BERTHING", **kind), before, back, near)  # type: ignore[arg-type]


def test_a_ship_coming_alongside_its_berth_has_the_moored_time() -> None:
    """Recorded US West Coast traffic (SAR.log): ferries arriving at their terminals, shadowed from
    the receiver, were raised as going dark 10 minutes after their last report, still at 5 kn or less
    with status 0. A ship (not a small craft) last heard slow in a berth or terminal is coming alongside: 30
    minutes, as moored. A small boat going dark in the same berth keeps the 10 minutes."""
    ship = {"ship_type": 70, "length": 200, "beam": 30}
    assert of_type(run(make_core(), berthing(15, **ship)), "ais_gap") == []
    steps = of_type(run(make_core(), berthing(35, **ship)), "ais_gap")
    assert steps and steps[0].state == "raised" and steps[0].time - (T0 + 1200) >= 30 * 60
    boat = of_type(run(make_core(), berthing(15, ship_type=37, length=8, ais_class="B")), "ais_gap")
    assert boat and boat[0].state == "raised" and boat[0].severity == "alarm"  # in the berth's security zone
