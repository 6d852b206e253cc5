"""restricted_area: vessels not allowed inside restricted, protected and security zones."""

from __future__ import annotations

from tests.rule_helpers import (
    BERTH_DPWORLD,
    NIGHT,
    SAN_LORENZO_WATERS,
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

BOAT = 760000551
COASTGUARD_ALLOWLISTED = 760000101
PALOMINO = (-12.14, -77.22)


def visit(
    mmsi: int,
    at: tuple[float, float],
    *,
    ship_type: int | None,
    t0: float = T0,
    minutes: float = 12,
    length: int = 15,
):  # type: ignore[no-untyped-def]
    """Sails in from 2.5 km north at 6 kn, stays `minutes`, sails out north again."""
    start = (at[0] + 0.0225, at[1])
    inbound = moving(mmsi, t0, minutes=13.4, start=start, cog=180, sog=6.0, every_s=20)
    last = inbound[-1]
    stay = stationary(mmsi, last.time + 20, minutes=minutes, at=at, every_s=20, sog=0.5)
    out = moving(mmsi, stay[-1].time + 20, minutes=15, start=at, cog=0, sog=6.0, every_s=20)
    reports = inbound + stay + out
    if ship_type is not None:
        reports.insert(0, static(mmsi, t0 - 60, name="INTRUSO", ship_type=ship_type, length=length))
    return merge(reports)


def test_fishing_boat_in_san_lorenzo_raised_updated_cleared() -> None:
    steps = of_type(run(make_core(), visit(BOAT, SAN_LORENZO_WATERS, ship_type=30)), "restricted_area")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert states(steps).count("raised") == 1 and "updated" in states(steps)
    assert {a.zone for a in steps} == {"restricted_san_lorenzo"}
    assert steps[0].severity == "alarm"  # the zone's severity
    assert steps[0].details["category"] == "fishing"
    assert steps[-1].details["reason"] == "left the zone"


def test_law_enforcement_and_allowlisted_are_silent() -> None:
    assert of_type(run(make_core(), visit(BOAT, SAN_LORENZO_WATERS, ship_type=55)), "restricted_area") == []
    assert (
        of_type(
            run(make_core(), visit(COASTGUARD_ALLOWLISTED, SAN_LORENZO_WATERS, ship_type=None)),
            "restricted_area",
        )
        == []
    )


def test_night_only_zone_watched_only_at_night() -> None:
    assert of_type(run(make_core(), visit(BOAT, PALOMINO, ship_type=37)), "restricted_area") == []
    steps = of_type(run(make_core(), visit(BOAT, PALOMINO, ship_type=37, t0=NIGHT)), "restricted_area")
    assert steps and steps[0].zone == "protected_palomino" and steps[0].severity == "caution"


def test_security_zone_allows_cargo_not_pleasure_craft() -> None:
    cargo = merge(
        static(BOAT, T0 - 60, name="CARGO", ship_type=70, length=190),
        stationary(BOAT, T0, minutes=10, at=BERTH_DPWORLD, every_s=30, nav_status=5),
    )
    assert of_type(run(make_core(), cargo), "restricted_area") == []
    boat = merge(
        static(BOAT, T0 - 60, name="LANCHA", ship_type=37, length=8, ais_class="B"),
        stationary(BOAT, T0, minutes=10, at=BERTH_DPWORLD, every_s=30, ais_class="B"),
    )
    steps = of_type(run(make_core(), boat), "restricted_area")
    assert steps and steps[0].zone == "security_dpworld" and steps[0].severity == "warning"


CAMOTAL = (-12.09, -77.17)  # restricted_el_camotal: fishing and pleasure craft allowed


def test_newly_heard_vessel_gets_time_for_its_static_data() -> None:
    # first heard inside; its static data (a fishing boat, allowed) comes 3 minutes later
    fishing = merge(
        stationary(BOAT, T0, minutes=15, at=CAMOTAL, every_s=20, sog=1.0),
        [static(BOAT, T0 + 180, name="PESCADOR", ship_type=30, length=14)],
    )
    assert of_type(run(make_core(), fishing), "restricted_area") == []
    # a target that never identifies itself is judged once the grace is over
    anonymous = stationary(BOAT, T0, minutes=15, at=CAMOTAL, every_s=20, sog=1.0)
    steps = of_type(run(make_core(), anonymous), "restricted_area")
    assert steps and steps[0].zone == "restricted_el_camotal" and steps[0].details["category"] == "unknown"
    assert steps[0].time - T0 >= 6 * 60
