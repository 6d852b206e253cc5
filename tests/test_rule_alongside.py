"""alongside: small craft next to a large ship at anchor or moored."""

from __future__ import annotations

import math

import pytest

from tests.rule_helpers import (
    ANCHORAGE,
    BERTH_DPWORLD,
    NIGHT,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    reload_run,
    run,
    set_rule,
    states,
    static,
    stationary,
)
from vts.reports import Report
from vts.rules.alongside import hull_geometry
from vts.tracker import VesselState

SHIP = 760000501
CRAFT = 760000601
TUG_ALLOWLISTED = 760000301  # on the Callao config's tug allow-list


def anchored_ship(
    t0: float, *, at: tuple[float, float] = ANCHORAGE, minutes: float = 60, **kw: object
) -> list[Report]:
    """A 200 m cargo ship at anchor, heading east, antenna amidships, reporting every 3 min."""
    return merge(
        static(SHIP, t0, name="PACIFIC TRADER", ship_type=70, length=200, beam=30),
        stationary(SHIP, t0, minutes=minutes, at=at, every_s=180, nav_status=1, heading=90, **kw),  # type: ignore[arg-type]
    )


def craft_visit(
    t0: float,
    *,
    minutes: float,
    at: tuple[float, float],
    mmsi: int = CRAFT,
    with_static: bool = False,
    ais_class: str = "B",
    **kw: object,
) -> list[Report]:
    """A craft (Class B unless said) that comes to `at`, stays `minutes` (reporting every 30 s),
    then leaves at 8 kn."""
    out: list[Report] = []
    if with_static:
        out.append(static(mmsi, t0 - 60, name="DON LUCHO", ship_type=37, length=9, ais_class="B"))
    out += stationary(mmsi, t0, minutes=minutes, at=at, every_s=30, sog=0.4, ais_class=ais_class, **kw)  # type: ignore[arg-type]
    # leaving: the first fix after the stay is already 30 s (120 m) under way
    out += moving(
        mmsi, t0 + minutes * 60, minutes=3, start=at, cog=0, sog=8.0, every_s=30, ais_class=ais_class
    )[1:]
    return out


def test_fires_once_updates_and_clears() -> None:
    core = make_core()
    spot = offset(ANCHORAGE, north_m=40, east_m=60)  # off the port bow (ship heads east)
    alerts = run(core, merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=12, at=spot)))
    steps = of_type(alerts, "alongside")
    assert states(steps) == ["raised", "updated", "cleared"]
    raised = steps[0]
    assert raised.mmsi == CRAFT and raised.other_mmsi == SHIP
    assert raised.time - T0 >= 180  # at least 3 minutes alongside
    assert raised.severity == "alarm"  # the craft sent no static data
    assert raised.details["end"] == "bow" and raised.details["side"] == "port"
    assert raised.details["closest_m"] < 30  # to the hull, not to the antenna 72 m away
    assert steps[-1].details["reason"].startswith(f"{CRAFT} under way")
    assert len({a.id for a in steps}) == 1


def test_warning_by_day_alarm_at_night_for_identified_craft() -> None:
    spot = offset(ANCHORAGE, north_m=-40, east_m=-60)  # starboard quarter
    day = of_type(
        run(
            make_core(), merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=5, at=spot, with_static=True))
        ),
        "alongside",
    )
    assert day and day[0].severity == "warning"
    assert day[0].details["end"] == "stern" and day[0].details["side"] == "starboard"
    night = of_type(
        run(
            make_core(),
            merge(anchored_ship(NIGHT - 900), craft_visit(NIGHT, minutes=5, at=spot, with_static=True)),
        ),
        "alongside",
    )
    assert night and night[0].severity == "alarm" and night[0].details["night"] is True


def test_two_and_a_half_minutes_alongside_is_silent() -> None:
    spot = offset(ANCHORAGE, north_m=40, east_m=0)
    alerts = run(make_core(), merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=2.5, at=spot)))
    assert of_type(alerts, "alongside") == []


def test_allowlisted_tug_and_tug_type_are_silent() -> None:
    spot = offset(ANCHORAGE, north_m=30, east_m=0)
    alerts = run(
        make_core(),
        merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=10, at=spot, mmsi=TUG_ALLOWLISTED)),
    )
    assert of_type(alerts, "alongside") == []
    tug = 760000777
    reports = merge(
        anchored_ship(T0 - 900),
        static(tug, T0 - 60, name="TUG", ship_type=52, length=18, ais_class="A"),
        craft_visit(T0, minutes=10, at=spot, mmsi=tug, ais_class="A"),
    )
    assert of_type(run(make_core(), reports), "alongside") == []


def test_a_class_b_craft_calling_itself_a_tug_is_not_exempt() -> None:
    """Found by an independent check: a Class B craft whose type 24 says tug (52) or law
    enforcement (55), on no allow-list, lay 8 minutes off an anchored ship's hull and raised
    nothing. Anyone sets a Class B transponder's type; the anchors exempt service types "on
    allow-list" only, and a Class A station declaring one (as above)."""
    spot = offset(ANCHORAGE, north_m=30, east_m=0)
    for ship_type in (52, 55):
        craft = 760000778
        reports = merge(
            anchored_ship(T0 - 900),
            static(craft, T0 - 60, name="HELPER", ship_type=ship_type, length=9, ais_class="B"),
            craft_visit(T0, minutes=10, at=spot, mmsi=craft),
        )
        assert states(run(make_core(), reports), "alongside")[:1] == ["raised"], ship_type


def test_a_placeholder_mmsi_is_no_large_ship_but_may_be_the_craft() -> None:
    """Recorded satellite AIS (exact-earth-augmented-3): a yacht in Auckland transmitting under the
    placeholder MMSI 1193046 (0x123456) was taken for a large ship, with the static data a ferry in
    Noumea had sent under the same number, and a yacht beside it raised alongside. Under a
    placeholder, what the number declares is no one's in particular: it is not a large ship. A craft
    under one, beside a real ship at anchor, is still an unidentified craft alongside."""
    placeholder = 1193046
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    ship = merge(
        static(placeholder, T0 - 900, name="NYIE DJEU", ship_type=60, length=200, beam=30),
        stationary(placeholder, T0 - 900, minutes=30, at=ANCHORAGE, every_s=180, nav_status=1, heading=90),
    )
    assert of_type(run(make_core(), merge(ship, craft_visit(T0, minutes=10, at=spot))), "alongside") == []
    unknown_craft = craft_visit(T0, minutes=10, at=spot, mmsi=placeholder)
    steps = of_type(run(make_core(), merge(anchored_ship(T0 - 900), unknown_craft)), "alongside")
    assert steps and steps[0].state == "raised" and steps[0].mmsi == placeholder


def test_craft_200_m_off_the_hull_is_silent() -> None:
    spot = offset(ANCHORAGE, north_m=215, east_m=0)  # beam 30 m: 200 m from the port side
    alerts = run(make_core(), merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=10, at=spot)))
    assert of_type(alerts, "alongside") == []


def test_ship_under_way_is_not_a_target() -> None:
    reports = merge(
        static(SHIP, T0 - 900, name="PACIFIC TRADER", ship_type=70, length=200, beam=30),
        moving(
            SHIP, T0 - 900, minutes=25, start=offset(ANCHORAGE, east_m=-3000), cog=90, sog=4.0, heading=90
        ),
    )
    # a craft keeping station 50 m off a ship making 4 kn is escorting, not alongside a moored ship
    escort = moving(
        CRAFT,
        T0 - 900,
        minutes=25,
        start=offset(ANCHORAGE, north_m=50, east_m=-3000),
        cog=90,
        sog=4.0,
        ais_class="B",
    )
    alerts = run(make_core(), merge(reports, escort))
    assert of_type(alerts, "alongside") == []


def test_moored_ship_with_antenna_aft_distance_is_to_the_bow() -> None:
    # 300 m ship moored at DP World (status 5) heading 315, antenna 250 m from the bow;
    # a craft 30 m off its bow is 270+ m from the antenna
    ship_at = BERTH_DPWORLD
    bow_tip = offset(ship_at, north_m=250 * 0.7071, east_m=-250 * 0.7071)
    spot = offset(bow_tip, north_m=20, east_m=20)  # ~28 m to starboard of the bow tip
    reports = merge(
        static(
            SHIP, T0 - 900, name="SANTOS EXPRESS", ship_type=71, length=300, beam=40, antenna_from_bow=250
        ),
        stationary(SHIP, T0 - 900, minutes=40, at=ship_at, every_s=180, nav_status=5, heading=315),
        craft_visit(T0, minutes=6, at=spot, with_static=True),
    )
    steps = of_type(run(make_core(), reports), "alongside")
    assert steps and steps[0].state == "raised"
    assert steps[0].details["end"] == "bow"
    assert steps[0].details["closest_m"] < 60
    assert steps[0].details["security_zone"] == "security_dpworld"
    assert steps[0].severity == "alarm"  # inside a port security zone


def test_hull_geometry_without_heading_uses_the_antenna() -> None:
    ship = VesselState(
        mmsi=SHIP, first_seen=0, last_seen=0, lat=ANCHORAGE[0], lon=ANCHORAGE[1], to_bow=100, to_stern=100
    )
    p = offset(ANCHORAGE, north_m=120)
    d, end, side = hull_geometry(ship, *p)
    assert abs(d - 120) < 1 and end is None and side is None
    ship.heading = 0
    d, end, side = hull_geometry(ship, *p)
    assert abs(d - 20) < 1 and end == "bow" and side == "starboard"


def test_rule_can_be_switched_off() -> None:
    config = make_config()
    config.rules["alongside"] = config.rules["alongside"].model_copy(update={"enabled": False})
    spot = offset(ANCHORAGE, north_m=40, east_m=0)
    alerts = run(make_core(config), merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=10, at=spot)))
    assert of_type(alerts, "alongside") == []


def test_slow_class_b_reporting_every_3_minutes_is_bridged() -> None:
    # a slow Class B craft reports every 3 minutes: it arrives (fix at 0 s, still at 5 kn, 80 m off),
    # lies alongside (fixes at 212 s and 390 s), leaves at 570 s; alongside for ~8 minutes in truth
    spot = offset(ANCHORAGE, north_m=80)
    craft = [
        position(CRAFT, T0, spot, sog=5.0, ais_class="B"),
        position(CRAFT, T0 + 212, offset(spot, east_m=3), sog=0.0, ais_class="B"),
        position(CRAFT, T0 + 390, offset(spot, east_m=5), sog=0.0, ais_class="B"),
        position(CRAFT, T0 + 570, offset(spot, north_m=400), sog=6.7, ais_class="B"),
    ]
    history = moving(
        CRAFT,
        T0 - 600,
        minutes=9,
        start=offset(spot, north_m=-2800),
        cog=0,
        sog=5.0,
        every_s=30,
        ais_class="B",
    )
    steps = of_type(run(make_core(), merge(anchored_ship(T0 - 900), history, craft)), "alongside")
    assert (
        states(steps)[0] == "raised" and states(steps)[-1] == "cleared" and states(steps).count("raised") == 1
    )
    assert steps[0].time == T0 + 212 and steps[0].details["duration_s"] == 212.0


def test_pair_members_are_watched_while_the_pair_lasts() -> None:
    """Batched processing asks only for slow reports; the craft's first fast report, which ends the
    spell ("under way"), still reaches the rule because both vessels of a pair are watched from the
    moment the pair forms (here in the middle of a batch) until it ends."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    reports = merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=12, at=spot))
    core = make_core()
    rule = core.engine.rule("alongside")
    assert rule is not None
    ctx = core.engine.ctx
    stay_end = T0 + 12 * 60
    first = core.process_many([r for r in reports if r.time < stay_end])
    assert states(of_type(first, "alongside"))[0] == "raised"
    assert rule.watches(ctx, CRAFT) and rule.watches(ctx, SHIP)
    rest = core.process_many([r for r in reports if r.time >= stay_end])
    cleared = of_type(rest, "alongside")[-1]
    assert cleared.state == "cleared" and cleared.details["reason"].startswith(f"{CRAFT} under way")
    # the first fast fix (120 m on, 145 m off the hull) is still near: a boat shifting along the
    # hull is still alongside; the second (265 m off) ends it, not a later time-out
    assert cleared.time == stay_end + 60
    assert not rule.watches(ctx, CRAFT) and not rule.watches(ctx, SHIP)
    run(make_core(), reports)  # and one by one vs one batch: the same alerts


def test_alongside_outside_the_watched_area_is_silent() -> None:
    outside = (-12.05, -77.9)  # at sea, some 40 km west of the VTS area
    spot = offset(outside, north_m=40, east_m=60)
    visit = merge(anchored_ship(T0 - 900, at=outside), craft_visit(T0, minutes=12, at=spot))
    assert of_type(run(make_core(), visit), "alongside") == []
    inside = merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=12, at=offset(ANCHORAGE, 40, 60)))
    assert of_type(run(make_core(), inside), "alongside")  # the same visit inside does fire


def test_a_reload_with_new_parameters_carries_the_spell_on() -> None:
    """New alongside parameters replace the rule: the new one takes over the close spells
    (`Rule.adopt`). The alert goes on and ends when the craft leaves, as without the reload: not
    15 minutes later as 'not confirmed', and its duration does not restart."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    for minutes in (11, 20):  # the craft leaves one minute after the reload, or ten
        reports = merge(anchored_ship(T0 - 900), craft_visit(T0, minutes=minutes, at=spot))
        cut = next(i for i, r in enumerate(reports) if r.time >= T0 + 600)
        before, after = reports[:cut], reports[cut:]
        config = make_config()
        kept = [
            (a["state"], a["time"], a["details"].get("duration_s"))
            for a in reload_run(None, config, config, before, after)
            if a["type"] == "alongside"
        ]
        assert [s for s, _, _ in kept if s != "updated"] == ["raised", "cleared"]
        changed = set_rule(make_config(), "alongside", lost_minutes=12)
        for chunk in (None, 7):
            got = reload_run(chunk, config, changed, before, after)
            assert [
                (a["state"], a["time"], a["details"].get("duration_s"))
                for a in got
                if a["type"] == "alongside"
            ] == kept


def test_a_craft_shifting_along_the_hull_stays_alongside() -> None:
    """With the alert up, the craft moves from the port bow to the port quarter at 4 kn (a minute,
    two fast reports, never more than 150 m off the hull) and lies still there: one alert, updated
    throughout, not cleared and then held back by the cooldown when it settles again."""
    bow = offset(ANCHORAGE, north_m=40, east_m=60)
    quarter = offset(ANCHORAGE, north_m=40, east_m=-64)
    shift_at = T0 + 8 * 60
    craft = stationary(CRAFT, T0, minutes=8, at=bow, every_s=30, sog=0.4, ais_class="B")
    craft += moving(CRAFT, shift_at, minutes=1, start=bow, cog=270, sog=4.0, every_s=30, ais_class="B")[1:]
    craft += craft_visit(shift_at + 90, minutes=10, at=quarter)
    steps = of_type(run(make_core(), merge(anchored_ship(T0 - 900), craft)), "alongside")
    assert states(steps).count("raised") == 1 and states(steps).count("cleared") == 1
    assert steps[0].time < shift_at
    cleared = steps[-1]
    assert cleared.time > shift_at + 90 + 10 * 60  # when it left, not when it shifted
    assert cleared.details["duration_s"] > 18 * 60


def test_a_craft_under_way_near_the_ship_for_two_minutes_is_no_longer_alongside() -> None:
    """Under way but still near (circling the ship at 5 kn): the alert ends after the grace."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    craft = stationary(CRAFT, T0, minutes=8, at=spot, every_s=30, sog=0.4, ais_class="B")
    start = T0 + 8 * 60
    craft += [
        position(CRAFT, start + 30 * i, offset(spot, east_m=(-20 if i % 2 else 20)), sog=5.0, ais_class="B")
        for i in range(1, 9)
    ]
    steps = of_type(run(make_core(), merge(anchored_ship(T0 - 900), craft)), "alongside")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert steps[-1].time == start + 30 + 120  # two minutes after its first fast report
    assert "under way" in steps[-1].details["reason"]


def _moored_without_heading(t0: float) -> list[Report]:
    """A 300 m container ship moored at DP World's quay (status 5) that reports no heading, its
    antenna 250 m from the bow."""
    return merge(
        static(SHIP, t0, name="MAERSK NO GYRO", ship_type=71, length=300, beam=40, antenna_from_bow=250),
        stationary(SHIP, t0, minutes=40, at=BERTH_DPWORLD, every_s=180, nav_status=5),
    )


def test_a_ship_with_no_heading_lies_along_its_quay() -> None:
    """A diver boat 15 m off the bow of a moored ship that sends no heading is 250 m from the ship's
    antenna: measured to the antenna it is no alongside. The quay the ship lies along (the coastline
    35 m from its antenna, bearing 129/309) places the hull: it is."""
    axis = 309.4  # the bow could point either way along the quay; here it points north-west
    along = offset(
        BERTH_DPWORLD, north_m=240 * math.cos(math.radians(axis)), east_m=240 * math.sin(math.radians(axis))
    )
    spot = offset(along, north_m=35 * math.cos(math.radians(39)), east_m=35 * math.sin(math.radians(39)))
    reports = merge(_moored_without_heading(T0 - 900), craft_visit(T0, minutes=10, at=spot))
    steps = of_type(run(make_core(), reports), "alongside")
    assert steps and steps[0].state == "raised" and steps[0].details["end"] == "unknown"  # a guess
    assert steps[0].details["closest_m"] < 40
    never = set_rule(make_config(), "alongside", quay_within_m=0.0)
    assert of_type(run(make_core(never), reports), "alongside") == []  # to the antenna: 240 m off


def test_shore_axis_of_a_square_island() -> None:
    from shapely.geometry import box

    from vts.zones import ZoneEngine

    island = box(-77.30, -12.10, -77.28, -12.08)  # about 2.2 km square
    engine = ZoneEngine([], land=[island])
    assert engine.shore_axis_deg(-77.2797, -12.09, 80) == pytest.approx(0.0, abs=0.5)  # east side
    assert engine.shore_axis_deg(-77.29, -12.0797, 80) == pytest.approx(90.0, abs=0.5)  # north side
    assert engine.shore_axis_deg(-77.27, -12.09, 80) is None  # 1 km off
    assert ZoneEngine([]).shore_axis_deg(-77.2797, -12.09, 80) is None  # no land configured


def test_a_ship_at_anchor_with_no_heading_heads_as_its_neighbours_do() -> None:
    """Three ships at anchor around it head about 90 (east, into the same wind); the one that sends
    no heading is taken to lie so: a boat 15 m off its bow, 247 m from its antenna, is alongside.
    Neighbours that disagree tell nothing, and alone the distance is to the antenna."""
    reports = merge(
        static(SHIP, T0 - 900, name="NO GYRO", ship_type=70, length=300, beam=40, antenna_from_bow=250),
        stationary(SHIP, T0 - 900, minutes=40, at=ANCHORAGE, every_s=180, nav_status=1),
        craft_visit(T0, minutes=10, at=offset(ANCHORAGE, east_m=245, north_m=35)),
    )

    def neighbours(headings: tuple[int, int, int]) -> list[Report]:
        out: list[Report] = []
        for k, h in enumerate(headings):
            m = 760000700 + k
            at = offset(ANCHORAGE, north_m=800 * (k + 1))
            out += [static(m, T0 - 900, name=f"N{k}", ship_type=70, length=180)]
            out += stationary(m, T0 - 900, minutes=40, at=at, every_s=180, nav_status=1, heading=h)
        return out

    agree = of_type(run(make_core(), merge(reports, neighbours((88, 92, 95)))), "alongside")
    assert agree and agree[0].state == "raised" and agree[0].details["end"] == "unknown"
    assert agree[0].details["closest_m"] < 40
    assert of_type(run(make_core(), merge(reports, neighbours((90, 180, 300)))), "alongside") == []
    assert of_type(run(make_core(), reports), "alongside") == []  # alone: to the antenna, 247 m
