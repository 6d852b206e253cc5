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

M = 760100021


def test_one_duplicate_alert_does_not_flip_between_the_two_tests() -> None:
    first = moving(M, T0, minutes=30, start=OPEN_WATER, cog=90, sog=5, every_s=30, ais_class="B")
    second = moving(
        M,
        T0 + 600 + 15,
        minutes=20,
        start=offset(OPEN_WATER, north_m=-8400),
        cog=60,
        sog=5,
        every_s=30,
        ais_class="B",
    )
    reports = merge(static(M, T0 - 60, name="DOS HERMANOS", ship_type=30, length=12), first, second)
    alerts = of_type(run(make_core(), reports), "duplicate_mmsi")
    assert alerts and alerts[0].state == "raised"
    kinds = {a.details.get("kind") for a in alerts if a.state != "cleared"}
    assert len(kinds) == 1, kinds
    # updates only as the engine's update interval (or a change of severity) asks, not every report
    updates = [a for a in alerts if a.state == "updated"]
    assert len(updates) <= 4, [(a.time - T0, a.details.get("kind")) for a in updates]


def _two_boats() -> list:
    first = moving(M, T0, minutes=30, start=OPEN_WATER, cog=90, sog=5, every_s=30, ais_class="B")
    second = moving(
        M,
        T0 + 600 + 15,
        minutes=20,
        start=offset(OPEN_WATER, north_m=-9000),
        cog=90,
        sog=5,
        every_s=30,
        ais_class="B",
    )
    return merge(static(M, T0 - 60, name="DOS HERMANOS", ship_type=30, length=12), first, second)


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
