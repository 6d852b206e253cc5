"""alongside under realistic AIS reporting: a ship heard afresh at a berth whose first static
report (type 5, every 6 minutes) is lost to reception.

Found with the independent generator of the QA lab (a busy 3 h Callao scenario and a "two ships
moored at the same berth" near-miss): a Class A ship reporting "moored" every 3 minutes reaches the
engine's 5-message minimum after 12 minutes, when its static data, one report of it lost, has not
come yet; it was raised as a small craft with no static data alongside its neighbour (an alarm)."""

from __future__ import annotations

from tests.rule_helpers import (
    BERTH_DPWORLD,
    T0,
    make_core,
    merge,
    of_type,
    offset,
    run,
    static,
    stationary,
)

SHIP = 760000555
NEIGHBOUR = 760000556


def _berth(neighbour_static_at: float | None) -> list:
    ahead = offset(BERTH_DPWORLD, north_m=110 * 0.7071, east_m=-110 * 0.7071)  # along the quay, 110 m
    reports = merge(
        static(SHIP, T0 + 200, name="BOX ONE", ship_type=70, length=300, beam=40),
        stationary(SHIP, T0, minutes=40, at=BERTH_DPWORLD, every_s=180, nav_status=5, heading=315),
        stationary(NEIGHBOUR, T0 + 30, minutes=40, at=ahead, every_s=180, nav_status=5, heading=315),
    )
    if neighbour_static_at is not None:
        reports = merge(
            reports, static(NEIGHBOUR, neighbour_static_at, name="BOX TWO", ship_type=70, length=200)
        )
    return reports


def test_moored_ship_whose_first_static_report_is_lost_is_not_a_craft_alongside() -> None:
    # first type 5 (due at about 6 min) lost: the second comes at 12.5 min, after the 5th message
    assert of_type(run(make_core(), _berth(T0 + 30 + 750)), "alongside") == []
    # two lost in a row: 18.5 min
    assert of_type(run(make_core(), _berth(T0 + 30 + 1110)), "alongside") == []


def test_moored_class_a_target_that_never_sends_static_data_is_still_raised() -> None:
    steps = of_type(run(make_core(), _berth(None)), "alongside")
    assert steps and steps[0].state == "raised" and steps[0].mmsi == NEIGHBOUR
    assert steps[0].time - (T0 + 30) <= 19 * 60 + 180 + 10  # the first fix after the wait
