"""A second ship transmitting under a vessel's MMSI (the tracker's shadow track) is not where the
vessel is: its fixes move neither the vessel's zone memberships nor its place in the spatial grid
(docs/architecture.md, "Tracker"), so the vessel's port visit is not cut and its neighbours still
find it where it lies."""

from __future__ import annotations

from tests.rule_helpers import ANCHORAGE, T0, make_core, merge, of_type, offset, run, static, stationary

SHIP = 636012345


def test_a_shadow_track_moves_neither_zone_memberships_nor_the_grid() -> None:
    ship = merge(
        static(SHIP, T0 - 5, name="REAL SHIP", ship_type=70, length=180),
        stationary(SHIP, T0, minutes=20, at=ANCHORAGE, every_s=10, nav_status=1),
    )
    far = offset(ANCHORAGE, north_m=-40_000, east_m=-40_000)  # open ocean, out of every zone
    other = stationary(SHIP, T0 + 305, minutes=10, at=far, every_s=10, sog=8.0)
    core = make_core()
    alerts = run(core, merge(ship, other))
    shadow = core.tracker.shadow(SHIP)
    assert shadow is not None and shadow.lat is not None and shadow.lat < ANCHORAGE[0] - 0.3
    inside = core.zones.zones_of(SHIP)
    assert inside  # still in the anchorage (and the port's areas), as its own fixes say
    assert SHIP in core.grid.near(ANCHORAGE[0], ANCHORAGE[1], 100.0)
    assert SHIP not in core.grid.near(far[0], far[1], 1000.0)
    entries = [a.zone for a in of_type(alerts, "zone_entry")]
    assert entries and len(entries) == len(set(entries))  # one visit per zone, not cut and re-entered
    assert of_type(alerts, "zone_exit") == []
