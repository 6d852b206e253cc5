"""Navigation-safety rules: cpa, anchor_drag, speeding, drifting. Hand-made tracks through a real Core."""

from __future__ import annotations

import math

import numpy as np

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    path,
    position,
    run,
    set_rule,
    static,
    stationary,
)
from vts.rules.cpa import candidate_pairs, compute_cpa

A = 725000301
B = 725000302
NM = 1852.0


# -- cpa ------------------------------------------------------------------------------------------------


def test_compute_cpa_vectorised() -> None:
    x = np.array([0.0, 1000.0, 0.0])
    y = np.array([0.0, 0.0, 500.0])
    vx = np.array([5.0, -5.0, 5.0])
    vy = np.zeros(3)
    rng, cpa, tcpa = compute_cpa(x, y, vx, vy, np.array([0, 0]), np.array([1, 2]), 0.25)
    assert np.allclose(rng, [1000.0, 500.0])
    assert math.isclose(cpa[0], 0.0, abs_tol=1e-9) and math.isclose(tcpa[0], 100.0)
    assert math.isinf(tcpa[1]) and math.isclose(cpa[1], 500.0)  # same velocity: no CPA


def test_candidate_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-8_400_000, -8_380_000, 400)
    y = rng.uniform(-1_340_000, -1_320_000, 400)
    i, j = candidate_pairs(x, y, 1500.0)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    want = {(a, b) for a, b in zip(*np.nonzero(d <= 1500.0), strict=True) if a < b}
    assert got == want and len(want) > 100
    assert candidate_pairs(x[:1], y[:1], 1500.0)[0].size == 0


def _head_on(offset_m: float, start_gap_m: float = 3000.0, sog: float = 10.0, minutes: float = 10.0) -> list:
    west = OPEN_WATER
    east = offset(OPEN_WATER, north_m=offset_m, east_m=start_gap_m)
    return merge(
        moving(A, T0, minutes=minutes, start=west, cog=90, sog=sog),
        moving(B, T0, minutes=minutes, start=east, cog=270, sog=sog),
    )


def test_head_on_is_an_alarm_then_cleared_after_passing() -> None:
    alerts = of_type(run(make_core(), _head_on(50)), "cpa")
    assert alerts[0].state == "raised" and alerts[0].severity == "alarm"
    assert (alerts[0].mmsi, alerts[0].other_mmsi) == (A, B)
    assert alerts[0].details["cpa_nm"] < 0.1 and 0 < alerts[0].details["tcpa_min"] <= 5
    assert alerts[-1].state == "cleared"
    assert len([a for a in alerts if a.state == "raised"]) == 1


def test_passing_at_a_quarter_mile_is_a_warning_not_an_alarm() -> None:
    alerts = of_type(run(make_core(), _head_on(0.25 * NM)), "cpa")
    assert alerts and {a.severity for a in alerts if a.state != "cleared"} == {"warning"}


def test_a_situation_is_raised_from_fresh_fixes_only() -> None:
    """Head-on at 10 kn each from 7 km: within the 3 NM range, and the warning's 10 minutes, about
    140 s in. B is not heard from 60 s to 200 s; its fix is dead-reckoned (under the 3-minute
    `max_fix_age_s`), but a Class A ship at 10 kn reports every 10 s, so a fix 80 s old raises
    nothing (recorded SAR.log: raised on a fix 177 s old, cleared 20 s later when the next one
    showed that the ships had passed). It is raised once B is heard again and it still holds."""
    track = _head_on(30, start_gap_m=7000.0, minutes=10)
    gap = [r for r in track if not (r.mmsi == B and T0 + 60 < r.time < T0 + 200)]
    raised = [a for a in of_type(run(make_core(), gap), "cpa") if a.state == "raised"]
    assert raised and raised[0].time >= T0 + 200
    # with B heard throughout, the same situation is raised as soon as it is confirmed
    steady = [a for a in of_type(run(make_core(), track), "cpa") if a.state == "raised"]
    assert steady and T0 + 140 <= steady[0].time < T0 + 200


def _boats(track: list, *, types: tuple[int, int] = (30, 30)) -> list:
    """`track` (A and B) with static data: fishing boats of 12 m (Class B) unless `types` says."""
    out = list(track)
    for mmsi, ship_type in zip((A, B), types, strict=True):
        small = ship_type in range(30, 38)
        out.append(
            static(
                mmsi,
                T0 - 60,
                name=f"V{mmsi}",
                ship_type=ship_type,
                length=12 if small else 180,
                ais_class="B" if small else "A",
            )
        )
    return merge(out)


def test_two_small_craft_are_raised_only_at_the_alarm_limits() -> None:
    """Found with an independent generator's busy traffic: at the warning limits (0.3 NM within 10
    min), fishing boats in company and launches leaving port together made most of the alerts of a
    busy port (about 240 an hour). Two craft that declare themselves small (Class B, a small type, or
    under 20 m) are raised only when it is a near-collision (the alarm limits); a small craft and a
    ship keep both limits; with `small_craft_pairs_alarm_only` off, so do two small craft."""
    quarter_mile = _head_on(0.2 * NM, sog=6.0)
    assert of_type(run(make_core(), _boats(quarter_mile)), "cpa") == []
    steps = of_type(run(make_core(), _boats(_head_on(50, sog=6.0))), "cpa")
    assert steps and steps[0].state == "raised" and steps[0].severity == "alarm"
    with_a_ship = of_type(run(make_core(), _boats(quarter_mile, types=(30, 70))), "cpa")
    assert with_a_ship and with_a_ship[0].severity == "warning"
    config = set_rule(make_config(), "cpa", small_craft_pairs_alarm_only=False)
    both_limits = of_type(run(make_core(config), _boats(quarter_mile)), "cpa")
    assert both_limits and both_limits[0].severity == "warning"


def test_cpa_near_misses_stay_silent() -> None:
    # passing 0.35 NM apart
    assert of_type(run(make_core(), _head_on(0.35 * NM)), "cpa") == []
    # one of them under 1 kn
    slow = merge(
        moving(A, T0, minutes=10, start=OPEN_WATER, cog=90, sog=10),
        moving(B, T0, minutes=10, start=offset(OPEN_WATER, east_m=2000), cog=270, sog=0.9),
    )
    assert of_type(run(make_core(), slow), "cpa") == []
    # in company: same course and speed, 150 m apart (no relative motion, no CPA)
    company = merge(
        moving(A, T0, minutes=10, start=OPEN_WATER, cog=45, sog=8),
        moving(B, T0, minutes=10, start=offset(OPEN_WATER, north_m=150), cog=45, sog=8),
    )
    assert of_type(run(make_core(), company), "cpa") == []


def test_cpa_only_within_range_and_time_horizon() -> None:
    # 5 NM apart closing at 40 kn: TCPA 7.5 min, but the pair is beyond 3 NM at first
    alerts = of_type(run(make_core(), _head_on(0, start_gap_m=5 * NM, sog=20, minutes=8)), "cpa")
    assert alerts and alerts[0].details["range_nm"] <= 3.0
    # 3 NM apart closing at 12 kn: CPA 0 but TCPA 15 min: first alert only once TCPA <= 10 min
    alerts = of_type(run(make_core(), _head_on(0.2 * NM, start_gap_m=3 * NM - 100, sog=6, minutes=14)), "cpa")
    assert alerts and alerts[0].details["tcpa_min"] <= 10.0
    assert alerts[0].time >= T0 + 4 * 60


def test_assist_pairs_and_anchored_ships_are_left_out() -> None:
    """A tug or pilot boat with a ship it may be serving (a large one), and a ship at anchor."""
    cargo = static(A, T0, name="CARGO", ship_type=70, length=180)
    tug = merge(cargo, static(B, T0, name="TUG", ship_type=52, length=30), _head_on(30))
    assert of_type(run(make_core(), tug), "cpa") == []
    config = make_config()
    config.allowlists.pilot.append(B)
    assert of_type(run(make_core(config), merge(cargo, _head_on(30))), "cpa") == []
    anchored = merge(
        moving(A, T0, minutes=10, start=OPEN_WATER, cog=90, sog=10),
        moving(B, T0, minutes=10, start=offset(OPEN_WATER, east_m=3000), cog=270, sog=1.5, nav_status=1),
    )
    assert of_type(run(make_core(), anchored), "cpa") == []


def test_a_pilot_with_a_ship_whose_mmsi_another_transmitter_uses_is_still_an_assist_pair() -> None:
    """Another boat sends its own static data (a 14 m fishing boat) under the ship's MMSI: for the
    hour after, the ship may still be the large one the pilot boat serves."""
    config = make_config()
    config.allowlists.pilot.append(B)
    cargo = static(A, T0 - 600, name="CARGO", ship_type=70, length=180)
    imposter = static(A, T0 - 60, name="PESCADOR", ship_type=30, length=14)
    assert of_type(run(make_core(config), merge(cargo, imposter, _head_on(30))), "cpa") == []
    # a fishing boat all along is no ship the pilot serves: close quarters
    assert of_type(run(make_core(config), merge(imposter, _head_on(30))), "cpa") != []


# -- anchor_drag ----------------------------------------------------------------------------------------


def _anchored(minutes: float, at: tuple[float, float] = ANCHORAGE, **kw: object) -> list:
    return stationary(A, T0, minutes=minutes, at=at, every_s=60, nav_status=1, **kw)


def test_drag_beyond_the_swing_circle_for_three_fixes() -> None:
    settle = _anchored(15)
    t = settle[-1].time
    drift = moving(A, t + 60, minutes=20, start=ANCHORAGE, cog=120, sog=0.8, every_s=60, nav_status=1)
    reports = merge(static(A, T0, name="BULKER", ship_type=70, length=200), settle, drift)
    alerts = of_type(run(make_core(), reports), "anchor_drag")
    assert alerts and alerts[0].severity == "alarm" and alerts[0].state == "raised"
    d = alerts[0].details
    assert d["swing_radius_m"] == 350.0 and d["distance_m"] > 350.0 and d["fixes_outside"] >= 3


def test_swinging_inside_the_circle_is_silent() -> None:
    settle = _anchored(15)
    t = settle[-1].time
    points = [
        offset(ANCHORAGE, north_m=300 * math.sin(k / 5), east_m=300 * math.cos(k / 5)) for k in range(40)
    ]
    swing = path(A, t + 60, points, every_s=60, sog=0.4, nav_status=1)
    reports = merge(static(A, T0, name="BULKER", ship_type=70, length=200), settle, swing)
    assert of_type(run(make_core(), reports), "anchor_drag") == []


def test_making_way_at_anchor_for_two_minutes() -> None:
    settle = _anchored(15)
    t = settle[-1].time + 60
    fast = stationary(A, t, minutes=3, at=ANCHORAGE, every_s=20, sog=1.3, nav_status=1)
    alerts = of_type(run(make_core(), merge(settle, fast)), "anchor_drag")
    assert alerts and alerts[0].details["making_way_s"] >= 120
    brief = stationary(A, t, minutes=1.5, at=ANCHORAGE, every_s=20, sog=1.3, nav_status=1)
    rest = stationary(A, t + 100, minutes=5, at=ANCHORAGE, every_s=60, sog=0.2, nav_status=1)
    assert of_type(run(make_core(), merge(settle, brief, rest)), "anchor_drag") == []


def test_a_making_way_alarm_ends_only_after_three_slow_fixes() -> None:
    """Inside its circle all along: one slow fix between fast ones (a gust, a yaw) does not clear it;
    three slow fixes in a row do."""
    settle = _anchored(15)
    t = settle[-1].time + 60
    fast = stationary(A, t, minutes=3, at=ANCHORAGE, every_s=20, sog=1.3, nav_status=1)
    lull = stationary(A, t + 200, minutes=0.1, at=ANCHORAGE, every_s=20, sog=0.3, nav_status=1)
    again = stationary(A, t + 220, minutes=1, at=ANCHORAGE, every_s=20, sog=1.3, nav_status=1)
    calm = stationary(A, t + 300, minutes=2, at=ANCHORAGE, every_s=20, sog=0.3, nav_status=1)
    assert len(lull) == 1 and len(calm) >= 3
    alerts = of_type(run(make_core(), merge(settle, fast, lull, again)), "anchor_drag")
    assert alerts and alerts[0].state == "raised" and all(a.state != "cleared" for a in alerts)
    alerts = of_type(run(make_core(), merge(settle, fast, lull, again, calm)), "anchor_drag")
    assert alerts[-1].state == "cleared"
    assert alerts[-1].time == calm[2].time  # the third slow fix in a row


def test_leaving_with_a_stale_at_anchor_status_is_not_a_drag() -> None:
    settle = _anchored(15)
    leave = moving(
        A, settle[-1].time + 60, minutes=10, start=ANCHORAGE, cog=250, sog=9, every_s=10, nav_status=1
    )
    assert of_type(run(make_core(), merge(settle, leave)), "anchor_drag") == []


# -- speeding -----------------------------------------------------------------------------------------

PORT_START = (-12.052, -77.150)


def _in_port(sogs: list[float], every_s: float = 10.0) -> list:
    out = []
    lat, lon = PORT_START
    for k, sog in enumerate(sogs):
        out.append(position(A, T0 + k * every_s, (lat, lon), sog=sog, cog=0.0))
        lat += sog * 1852 / 3600 * every_s / 111_195.0
    return out


def test_speeding_in_the_port_area() -> None:
    core = make_core()
    assert "port_area" in {z.id for z in core.zones.zones_at(PORT_START[1], PORT_START[0])}
    reports = _in_port([7.0] * 3 + [9.5] * 12 + [6.0] * 3)
    alerts = of_type(run(core, reports), "speeding")
    assert alerts[0].state == "raised" and alerts[-1].state == "cleared"
    raised = alerts[0]
    assert raised.zone == "port_area" and raised.details["limit_kn"] == 8.0
    assert raised.details["duration_s"] >= 60 and raised.details["reports"] >= 2


def test_speeding_near_misses() -> None:
    assert of_type(run(make_core(), _in_port([7.0] * 3 + [9.5] * 6 + [6.0] * 6)), "speeding") == []  # 50 s
    assert of_type(run(make_core(), _in_port([8.0] * 20)), "speeding") == []  # at the limit
    # one report over the limit and the next one 70 s later already under it
    assert of_type(run(make_core(), _in_port([7.0] * 3 + [9.5, 7.5, 7.5], every_s=70)), "speeding") == []
    # open water outside any limited zone other than the 12 kn VTS area
    fast = moving(A, T0, minutes=5, start=OPEN_WATER, cog=200, sog=11.5)
    assert of_type(run(make_core(), fast), "speeding") == []


# -- drifting -----------------------------------------------------------------------------------------


def _crabbing(minutes: float, heading: int, cog: float, sog: float = 2.0, **kw: object) -> list:
    return moving(
        A, T0, minutes=minutes, start=OPEN_WATER, cog=cog, sog=sog, every_s=10, heading=heading, **kw
    )


def test_drifting_sideways_for_three_minutes() -> None:
    alerts = of_type(run(make_core(), _crabbing(5, heading=0, cog=90)), "drifting")
    assert alerts and alerts[0].state == "raised" and alerts[0].severity == "warning"
    assert alerts[0].details["kind"] == "drift" and alerts[0].details["duration_s"] >= 180
    assert alerts[0].time >= T0 + 180


def test_a_drift_at_the_quarter_knot_floor_shows_once_it_has_moved_30_m() -> None:
    """0.3 kn sideways: 28 m in 3 minutes, too little to tell from GPS noise; the run keeps going
    and the drift is raised when it has moved 30 m (about 3.25 minutes at 0.3 kn)."""
    alerts = of_type(run(make_core(), _crabbing(8, heading=0, cog=90, sog=0.3)), "drifting")
    assert alerts and alerts[0].details["kind"] == "drift"
    assert alerts[0].details["displacement_m"] >= 30.0 and alerts[0].details["duration_s"] > 180


def test_drifting_near_misses() -> None:
    assert of_type(run(make_core(), _crabbing(6, heading=0, cog=40)), "drifting") == []  # 40 degrees off
    assert of_type(run(make_core(), _crabbing(2.5, heading=0, cog=90)), "drifting") == []  # 2.5 minutes
    assert of_type(run(make_core(), _crabbing(6, heading=0, cog=90, sog=0.2)), "drifting") == []  # < 0.25 kn
    assert (
        of_type(run(make_core(), _crabbing(6, heading=0, cog=90, nav_status=1)), "drifting") == []
    )  # at anchor
    tug = merge(static(A, T0, name="TUG", ship_type=52), _crabbing(6, heading=0, cog=90))
    assert of_type(run(make_core(), tug), "drifting") == []


def _swinging(
    degrees_per_min: float, at: tuple[float, float] = OPEN_WATER, cable_m: float = 250.0, minutes: float = 6
) -> list:
    """A 150 m ship at anchor with status 0 (under way), swinging: the anchor lies `cable_m` ahead of
    its bow, and its antenna (at the stern) turns about it at `degrees_per_min`. Its reported course
    over ground is the antenna's motion, across the heading; at 2 degrees a minute the antenna moves
    at 0.3 kn, as GLOBAL DREAM's off Townsville (recorded AMSA traffic)."""
    radius = 150.0 + cable_m
    anchor = offset(at, north_m=radius)
    out = [static(A, T0, name="SWINGER", ship_type=70, length=150, beam=24, antenna_from_bow=140)]
    for k in range(int(minutes * 6) + 1):
        t = T0 + 10.0 * k
        heading = 340.0 + degrees_per_min * k / 6.0  # turning clockwise
        back = math.radians(heading + 180.0)  # from the anchor to the antenna: astern
        spot = offset(anchor, north_m=radius * math.cos(back), east_m=radius * math.sin(back))
        speed_kn = radius * math.radians(degrees_per_min) / 60.0 * 3600.0 / 1852.0
        out.append(
            position(
                A, t, spot, sog=round(speed_kn, 1), cog=(heading + 90.0) % 360.0, heading=round(heading) % 360
            )
        )
    return out


def test_a_ship_swinging_at_anchor_without_its_status_is_not_drifting() -> None:
    """Recorded AMSA traffic: GLOBAL DREAM, lying at anchor off Townsville with status 0, swung at
    2-4 degrees a minute; its antenna moved across the heading at 0.3 kn and it was raised as drifting."""
    for rate in (2.0, 4.0):
        assert of_type(run(make_core(), _swinging(rate)), "drifting") == []


def test_the_same_slow_sideways_movement_with_a_steady_heading_is_a_drift() -> None:
    """The near miss of the test above: 0.3 kn across a heading that does not turn (a ship dead in
    the water, set by wind or current) is what the definition asks for."""
    steady = merge(
        [static(A, T0, name="SWINGER", ship_type=70, length=150, beam=24, antenna_from_bow=140)],
        _crabbing(6, heading=340, cog=70, sog=0.3),
    )
    alerts = of_type(run(make_core(), steady), "drifting")
    assert alerts and alerts[0].details["kind"] == "drift"


def test_slow_sideways_movement_in_an_anchorage_is_lying_there() -> None:
    """In an anchorage (a zone where ships lie still) a ship sheering at anchor under 1 kn is not
    drifting, whatever its status says; outside, the same track is; at 1.5 kn it is, even inside."""
    at_anchorage = moving(A, T0, minutes=6, start=ANCHORAGE, cog=70, sog=0.5, every_s=10, heading=340)
    assert of_type(run(make_core(), at_anchorage), "drifting") == []
    assert of_type(run(make_core(), _crabbing(6, heading=340, cog=70, sog=0.5)), "drifting")
    faster = moving(A, T0, minutes=6, start=ANCHORAGE, cog=70, sog=1.5, every_s=10, heading=340)
    assert of_type(run(make_core(), faster), "drifting")


def test_gps_noise_at_very_low_speed_is_not_drift() -> None:
    rng = np.random.default_rng(7)
    reports = [
        position(
            A,
            T0 + 10 * k,
            offset(OPEN_WATER, north_m=float(rng.normal(0, 5)), east_m=float(rng.normal(0, 5))),
            sog=0.4,
            cog=float(rng.uniform(0, 360)),
            heading=10,
        )
        for k in range(60)
    ]
    assert of_type(run(make_core(), reports), "drifting") == []


def test_not_under_command_status_and_its_end() -> None:
    nuc = moving(A, T0, minutes=3, start=OPEN_WATER, cog=0, sog=1.0, nav_status=2)
    ok = moving(A, T0 + 190, minutes=2, start=OPEN_WATER, cog=0, sog=6.0, nav_status=0, heading=0)
    alerts = of_type(run(make_core(), merge(nuc, ok)), "drifting")
    assert alerts[0].details["kind"] == "not_under_command" and alerts[-1].state == "cleared"


def _jittery_head_on() -> list:
    """Head-on, with the reported speed of one ship jittering by 0.8 kn (GPS noise)."""
    from dataclasses import replace

    reports = _head_on(30, start_gap_m=2.5 * NM, sog=8, minutes=12)
    return [
        replace(r, sog=r.sog + (0.8 if int(r.time) % 20 else -0.8)) if r.mmsi == B else r for r in reports
    ]


def test_alarm_does_not_flap_back_to_warning_at_the_time_threshold() -> None:
    alerts = of_type(run(make_core(), _jittery_head_on()), "cpa")
    severities = [a.severity for a in alerts if a.state != "cleared"]
    assert "alarm" in severities
    first_alarm = severities.index("alarm")
    assert set(severities[first_alarm:]) == {"alarm"}
    # without the hysteresis the same track flaps
    flappy = make_core(set_rule(make_config(), "cpa", clear_factor=1.0))
    steps = [a.severity for a in of_type(run(flappy, _jittery_head_on()), "cpa") if a.state != "cleared"]
    assert "warning" in steps[steps.index("alarm") :]


def test_allow_listed_craft_are_not_speeding() -> None:
    config = make_config()
    config.allowlists.tug.append(A)
    assert of_type(run(make_core(config), _in_port([7.0] * 3 + [9.5] * 12)), "speeding") == []


def test_a_pilot_boat_by_its_declared_type_is_not_speeding() -> None:
    """Found with an independent traffic generator: pilot boats (ship type 50) running out at 10-16 kn
    to meet ships were a fifth of all speeding alerts on busy traffic; like law enforcement and SAR,
    answering a call at speed is their work. A launch at the same speed is still speeding."""
    fast = _in_port([7.0] * 3 + [9.5] * 12)
    pilot = merge(static(A, T0 - 60, name="PRACTICO 3", ship_type=50, length=15), fast)
    assert of_type(run(make_core(), pilot), "speeding") == []
    launch = merge(static(A, T0 - 60, name="LANCHA 28", ship_type=60, length=15), fast)
    assert of_type(run(make_core(), launch), "speeding")
