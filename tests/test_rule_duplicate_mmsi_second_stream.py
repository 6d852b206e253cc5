"""duplicate_mmsi: two boats under one MMSI, 4.9 NM apart, both heard every 30 s. Both of the rule's
tests (the tracker's dead-reckoning conflicts and the interleaved track heads) see them; the one alert
must not flip between the two tests' forms at every report (each flip was a published update)."""

from __future__ import annotations

from tests.rule_helpers import (
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    static,
)
from vts.alerts.model import iso_time

M = 760100021


def _two_boats(south_m: float = 9000.0, cog: float = 90.0) -> list:
    """Two Class B boats under M: one from T0, the other from 10 minutes on, `south_m` south of it."""
    first = moving(M, T0, minutes=30, start=OPEN_WATER, cog=90, sog=5, every_s=30, ais_class="B")
    second = moving(
        M,
        T0 + 600 + 15,
        minutes=20,
        start=offset(OPEN_WATER, north_m=-south_m),
        cog=cog,
        sog=5,
        every_s=30,
        ais_class="B",
    )
    return merge(static(M, T0 - 60, name="DOS HERMANOS", ship_type=30, length=12), first, second)


def test_one_duplicate_alert_does_not_flip_between_the_two_tests() -> None:
    alerts = of_type(run(make_core(), _two_boats(south_m=8400, cog=60)), "duplicate_mmsi")
    assert alerts and alerts[0].state == "raised"
    kinds = {a.details.get("kind") for a in alerts if a.state != "cleared"}
    assert len(kinds) == 1, kinds
    # updates only as the engine's update interval (or a change of severity) asks, not every report
    updates = [a for a in alerts if a.state == "updated"]
    assert len(updates) <= 4, [(a.time - T0, a.details.get("kind")) for a in updates]


def test_two_boats_under_one_mmsi_are_one_duplicate_alert_not_a_position_jump_first() -> None:
    """The second boat's first fix is a jump of 9 km from the first boat's track; its fixes keep
    coming while the first boat's do too: duplicate_mmsi confirms it a minute later, and the jump is
    not reported on its own (the issue: the operator got a position_jump for what is a duplicate)."""
    alerts = run(make_core(), _two_boats())
    assert of_type(alerts, "duplicate_mmsi")
    assert of_type(alerts, "position_jump") == []


def test_a_lone_far_fix_is_still_a_position_jump_after_the_cluster_window() -> None:
    track = moving(M, T0, minutes=10, start=OPEN_WATER, cog=90, sog=5, every_s=30, ais_class="B")
    glitch = position(M, track[10].time + 15, offset(OPEN_WATER, north_m=-9000), sog=5, cog=90, ais_class="B")
    alerts = of_type(run(make_core(), merge(track, glitch)), "position_jump")
    assert len(alerts) == 1 and alerts[0].details["kind"] == "jump"
    assert alerts[0].time - glitch.time <= 90.0  # the cluster window (60 s) and the 10-s tick, as before


def test_a_second_ship_at_anchor_under_the_mmsi_is_not_reported_as_a_jump_first() -> None:
    """The second ship lies at anchor 12 km off and reports every 3 minutes, the first is under way
    (every 10 s): duplicate_mmsi needs three of the anchored ship's reports (6 minutes and more);
    its first one is not reported as a position_jump meanwhile."""
    ship = 760100011
    under_way = moving(ship, T0, minutes=30, start=OPEN_WATER, cog=270, sog=10, every_s=10)
    anchored = [
        position(
            ship, T0 + 600 + 5 + 180 * k, offset(OPEN_WATER, north_m=12000), sog=0.1, cog=0, nav_status=1
        )
        for k in range(8)
    ]
    alerts = run(
        make_core(), merge(static(ship, T0 - 60, name="RIMAC", ship_type=70, length=180), under_way, anchored)
    )
    assert of_type(alerts, "duplicate_mmsi")
    assert of_type(alerts, "position_jump") == []


def test_a_lone_far_fix_of_a_ship_at_anchor_is_reported_once_its_next_report_was_due() -> None:
    ship = 760100035
    lying = [position(ship, T0 + 180 * k, OPEN_WATER, sog=0.1, cog=0, nav_status=1) for k in range(12)]
    glitch = position(ship, lying[5].time + 2, offset(OPEN_WATER, north_m=6000), sog=0.1, cog=0, nav_status=1)
    alerts = of_type(run(make_core(), merge(lying, glitch)), "position_jump")
    assert len(alerts) == 1 and alerts[0].details["kind"] == "jump"
    assert alerts[0].time - glitch.time <= 2 * 180 + 30
    assert alerts[0].details["fix_time"] == iso_time(glitch.time)  # when it jumped, said in the alert


def _boat_and_anchored_ship(ship: int, lost: set[int], reports: int = 10, jitter_s: float = 1.0) -> list:
    """A boat under way at 3 kn (every 10 s) and, 5 km off, a ship at anchor under the same MMSI
    reporting every 3 minutes (plus `jitter_s`), minus the reports `lost` to reception: within the
    dead-reckoning test's reach, so only the interleave test can tell the two apart."""
    boat = moving(ship, T0, minutes=40, start=OPEN_WATER, cog=90, sog=3, every_s=10)
    anchored = [
        position(
            ship,
            T0 + 300 + 5 + (180 + jitter_s) * k,
            offset(OPEN_WATER, north_m=5000),
            sog=0.0,
            cog=80,
            nav_status=1,
        )
        for k in range(reports)
        if k not in lost
    ]
    return merge(static(ship, T0 - 60, name="NAVIOS", ship_type=70, length=190), boat, anchored)


def test_a_ship_at_anchor_under_a_boats_mmsi_is_told_despite_a_lost_report_and_jitter() -> None:
    """Seen in `vts evaluate --loss 0.2`: of the anchored ship's reports (181 s apart) two in a row
    were lost, and it was heard three times more: three alternations with a 3-minute reporter, one of
    them before the lost reports, span 12 minutes, more than the 10-minute window."""
    ship = 760100044
    traffic = _boat_and_anchored_ship(ship, lost={2, 3}, reports=6)
    alerts = of_type(run(make_core(), traffic), "duplicate_mmsi")
    assert alerts and alerts[0].state == "raised"
    assert alerts[0].details["kind"] == "interleaved"
    assert alerts[0].details["separation_m"] > 4000


def test_a_ship_at_anchor_heard_twice_is_not_an_interleaved_second_ship() -> None:
    """Near miss: the anchored stream is heard only twice among the boat's fixes (one alternation
    each way): not three alternations, whatever the window."""
    ship = 760100045
    alerts = run(make_core(), _boat_and_anchored_ship(ship, lost={2, 3, 4, 5, 6, 7, 8, 9}))
    assert of_type(alerts, "duplicate_mmsi") == []
