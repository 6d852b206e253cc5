"""restricted_area: vessels not allowed inside restricted, protected and security zones."""

from __future__ import annotations

import dataclasses

from tests.rule_helpers import (
    BERTH_DPWORLD,
    NIGHT,
    SAN_LORENZO_WATERS,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    set_rule,
    states,
    static,
    stationary,
)
from vts.batch import ReportBatch
from vts.core import Core

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
    # a target that never identifies itself is judged once the grace is over: 13 minutes for a
    # Class B boat, 19 for a Class A one (whose transponder sends its static data by itself)
    for ais_class, grace_min in (("B", 13), ("A", 19)):
        anonymous = stationary(BOAT, T0, minutes=25, at=CAMOTAL, every_s=20, sog=1.0, ais_class=ais_class)
        steps = of_type(run(make_core(), anonymous), "restricted_area")
        assert steps and steps[0].zone == "restricted_el_camotal"
        assert steps[0].details["category"] == "unknown"
        assert grace_min * 60 <= steps[0].time - T0 <= grace_min * 60 + 20
    # its static data after 11 minutes (the first one lost to reception): still in time, no alert
    late_static = merge(
        stationary(BOAT, T0, minutes=15, at=CAMOTAL, every_s=20, sog=1.0),
        [static(BOAT, T0 + 660, name="PESCADOR", ship_type=30, length=14)],
    )
    assert of_type(run(make_core(), late_static), "restricted_area") == []


def test_an_unknown_vessel_in_a_zone_for_service_craft_only_is_an_intruder_at_once() -> None:
    """Found by an independent check: a Class A boat sending no static data sat inside San
    Lorenzo (law enforcement and SAR only) for 5 minutes with no alert, waiting out the 19-minute
    static-data grace. No ordinary ship is allowed there, so there is nothing to wait for; the
    grace still applies where ordinary ships may be (El Camotal above, the terminals' zones)."""
    for ais_class in ("A", "B"):
        anonymous = visit(BOAT, SAN_LORENZO_WATERS, ship_type=None, minutes=6)
        anonymous = [dataclasses.replace(r, ais_class=ais_class) for r in anonymous]
        entry = next(r.time for r in anonymous if r.time > T0 + 13.4 * 60)
        steps = of_type(run(make_core(), anonymous), "restricted_area")
        assert [a.state for a in steps][:1] == ["raised"] and steps[-1].state == "cleared"
        assert steps[0].zone == "restricted_san_lorenzo" and steps[0].details["category"] == "unknown"
        assert steps[0].time - entry <= 120  # its entry confirmed and 5 messages heard: no grace


# -- batched processing: the rule's interest mask (tests.rule_helpers.run checks batch equivalence) --


def _band_point(core: Core, zone_id: str, inside: tuple[float, float]) -> tuple[float, float]:
    """A point east of `inside`, 20-30 m outside the zone: in its exit band (50 m), so a vessel
    confirmed inside stays confirmed there although the point is not in the zone."""
    zone = core.zones.zone(zone_id)
    p = inside
    while zone.distance_m(p[1], p[0]) < 20.0:
        p = offset(p, east_m=5.0)
    assert zone.distance_m(p[1], p[0]) <= 30.0
    assert not {z.id for z in core.zones.zones_at(p[1], p[0])} & {"restricted_el_camotal"}
    return p


def test_condition_starting_in_the_exit_band_is_seen() -> None:
    """The static-data grace ends while the anonymous boat lies just outside the zone, still
    confirmed inside (exit band): the alert is raised there, on a report outside the zone's polygon,
    which the batch mask must therefore include."""
    core = make_core(set_rule(make_config(), "restricted_area", static_grace_minutes_class_a=6.0))
    band = _band_point(core, "restricted_el_camotal", CAMOTAL)
    reports = merge(
        stationary(BOAT, T0, minutes=2, at=CAMOTAL, every_s=20, sog=1.0),
        stationary(BOAT, T0 + 140, minutes=8, at=band, every_s=20, sog=0.5),
        moving(BOAT, T0 + 640, minutes=5, start=band, cog=90, sog=8.0, every_s=20),
    )
    steps = of_type(run(core, reports), "restricted_area")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    raised = steps[0]
    assert 6 * 60 <= raised.time - T0 <= 6 * 60 + 20  # at the end of the grace, in the band
    assert (raised.lat, raised.lon) == band


def test_interest_mask_near_zones_and_ignored_fixes() -> None:
    """Far reports are left out; reports near a watched zone are in; a fix the zone engine ignores
    (not newer than the vessel's latest) is in only for a vessel that may be confirmed inside."""
    core = make_core()
    other = BOAT + 1
    core.process_many(stationary(BOAT, T0, minutes=1, at=SAN_LORENZO_WATERS, every_s=20))  # confirmed
    rule = core.engine.rule("restricted_area")
    assert rule is not None and "restricted_san_lorenzo" in core.zones.zones_of(BOAT)
    far = (-11.80, -77.60)
    t = T0 + 100
    batch = ReportBatch(
        [
            position(other, t, far),  # far, new: out
            position(other, t + 1, SAN_LORENZO_WATERS),  # in the zone: in
            position(BOAT, T0 + 30, far),  # older than BOAT's latest fix, BOAT is inside: in
            position(other, t - 50, far),  # older, but `other` was never near a zone before: ...
            position(BOAT + 2, T0 + 10, far),  # older, a vessel never near a zone: out
        ]
    )
    mask = rule.interest(batch, core.engine.ctx)
    # `other` has a report near a zone in this batch, so its ignored fix is kept too (conservative)
    assert mask.tolist() == [False, True, True, True, False]


PAMPILLA_BERTH = (-11.92379, -77.155592)  # inside the La Pampilla terminals' safety zone (tankers only)


def test_a_second_transmitter_declaring_fishing_does_not_turn_the_tanker_into_an_intruder() -> None:
    """A tanker lies in the tankers-only zone; another boat uses its MMSI and sends its own static
    data (a fishing boat). For the hour after, the MMSI's identity is in doubt and the tanker is not
    an intruder (duplicate_mmsi and identity_change report the conflict); a fishing declaration
    that stands for over an hour is judged."""
    tanker = static(BOAT, T0 - 60, name="TANKER", ship_type=80, length=180)
    stay = stationary(BOAT, T0, minutes=100, at=PAMPILLA_BERTH, every_s=60, sog=0.0)
    imposter = static(BOAT, T0 + 20 * 60, name="PESCADOR", ship_type=30, length=14)
    core = make_core()
    assert "security_pampilla_terminals" in {
        z.id for z in core.zones.zones_at(PAMPILLA_BERTH[1], PAMPILLA_BERTH[0])
    }
    steps = of_type(run(core, merge(tanker, stay, [imposter])), "restricted_area")
    assert steps and steps[0].state == "raised" and steps[0].details["category"] == "fishing"
    assert steps[0].time >= T0 + 80 * 60  # only once the tanker's declaration is an hour old
    # without the earlier tanker declaration the fishing boat is an intruder at once
    alone = of_type(run(make_core(), merge(stay, [imposter])), "restricted_area")
    assert alone and alone[0].time < T0 + 25 * 60


def test_a_lone_gnss_outlier_does_not_end_the_intrusion() -> None:
    """One fix 2.5 km away in 20 s (a GNSS glitch, near enough for the tracker to keep it on the
    track) is held back by the zone engine: the alert is neither cleared nor moved there, and the
    boat's next fix, back in the zone, carries on with it."""
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30)
    first_inside = next(i for i, r in enumerate(reports) if getattr(r, "sog", None) == 0.5)
    k = first_inside + 15  # five minutes into the stay
    glitch = reports[k]
    outlier = reports[1]  # where the boat started, 2.5 km north of the zone
    reports[k] = position(BOAT, glitch.time, (outlier.lat, outlier.lon), sog=0.5, cog=0.0)
    steps = of_type(run(make_core(), reports), "restricted_area")
    assert states(steps).count("raised") == 1 and states(steps).count("cleared") == 1
    assert states(steps)[-1] == "cleared" and steps[-1].details["reason"] == "left the zone"
    assert steps[-1].time > reports[k + 5].time  # not before the boat sailed out
    assert all(a.lat != outlier.lat for a in steps)
