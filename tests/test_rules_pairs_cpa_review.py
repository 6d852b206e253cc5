"""Review of the pair rules' grace under way (alongside, rendezvous), cpa's confirmation and warning
floor, and alongside's hull placement for ships that report no heading (`ZoneEngine.shore_axis_deg`,
the anchorage neighbours' heading). Adversarial scenarios; every replay also checks batch
equivalence (`run`, and `same_in_chunks` with odd chunk sizes). The review found seven faults, each
pinned here by the test that exposed it: a warning confirmed a tick late on irregular report times,
the confirmation and the 30-s floor bypassed after the engine held a raise back or after a reload,
an exempt craft kept through the grace, the coast's bearing taken across a corner or the seam of
its outline, and the anchorage heading switched off with the quay placement."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Polygon

from tests.rule_helpers import (
    ANCHORAGE,
    BERTH_DPWORLD,
    OPEN_WATER,
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
    same_in_chunks,
    set_rule,
    states,
    static,
    stationary,
)
from vts.alerts.model import Alert, parse_iso_time
from vts.config import Config
from vts.reports import PositionReport, Report
from vts.rules.alongside import AlongsideRule
from vts.rules.cpa import CpaParams, CpaRule
from vts.zones import ZoneEngine

SHIP = 760000501
SHIP2 = 760000502
CRAFT = 760000601
A = 760000511
B = 760000522
CHUNKS = (1, 3, 7, 13, (2, 5, 11))


# -- helpers --------------------------------------------------------------------------------------
def anchored(
    mmsi: int, t0: float, at: tuple[float, float], *, minutes: float = 60, **kw: object
) -> list[Report]:
    """A 200 m cargo ship at anchor heading east, antenna amidships, reporting every 3 minutes."""
    return merge(
        static(mmsi, t0, name=f"SHIP {mmsi % 1000}", ship_type=70, length=200, beam=30),
        stationary(mmsi, t0, minutes=minutes, at=at, every_s=180, nav_status=1, heading=90, **kw),  # type: ignore[arg-type]
    )


def lying(
    t0: float, minutes: float, at: tuple[float, float], mmsi: int = CRAFT, ais_class: str = "B"
) -> list[Report]:
    """A craft (Class B unless said) lying still at `at` (0.4 kn), reporting every 30 s."""
    return stationary(mmsi, t0, minutes=minutes, at=at, every_s=30, sog=0.4, ais_class=ais_class)


def jiggling(
    t0: float, n: int, at: tuple[float, float], sog: float = 5.0, mmsi: int = CRAFT, ais_class: str = "B"
) -> list[Report]:
    """`n` fast reports 30 s apart from `t0` + 30, 20 m either side of `at` (under way, going nowhere)."""
    return [
        position(mmsi, t0 + 30 * i, offset(at, east_m=(-20 if i % 2 else 20)), sog=sog, ais_class=ais_class)
        for i in range(1, n + 1)
    ]


def steps_of(alerts: list[Alert], type_: str, key: tuple[int, int] | None = None) -> list[Alert]:
    return [a for a in of_type(alerts, type_) if key is None or (a.mmsi, a.other_mmsi) == key]


def dict_steps(steps: list[dict[str, object]], type_: str, key: tuple[int, int] | None = None) -> list[tuple]:
    return [
        (a["state"], a["time"], a["details"].get("reason"))  # type: ignore[union-attr]
        for a in steps
        if a["type"] == type_ and (key is None or (a["mmsi"], a["other_mmsi"]) == key)
    ]


# == 1. alongside / rendezvous: the grace under way ===============================================
def two_ships_and_a_craft_between() -> tuple[list[Report], float]:
    """Two ships at anchor 120 m apart (north-south); a craft lies between them for 8 minutes (one
    alert with each), then jiggles there under way at 5 kn for 4 minutes."""
    spot = offset(ANCHORAGE, north_m=60)
    start = T0 + 480
    reports = merge(
        anchored(SHIP, T0 - 900, ANCHORAGE),
        anchored(SHIP2, T0 - 900, offset(ANCHORAGE, north_m=120)),
        lying(T0, 8, spot),
        jiggling(start, 8, spot),
    )
    return reports, start


def test_a_craft_in_two_pairs_under_way_ends_both_after_the_grace() -> None:
    reports, start = two_ships_and_a_craft_between()
    alerts = run(make_core(), reports)
    for ship in (SHIP, SHIP2):
        steps = steps_of(alerts, "alongside", (CRAFT, ship))
        assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
        assert states(steps).count("raised") == 1
        # the first fast report is at start + 30: the grace ends at the report 120 s on
        assert steps[-1].time == start + 30 + 120
        assert "under way" in steps[-1].details["reason"]
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in alerts]


def test_a_pair_with_no_alert_up_ends_at_the_first_fast_report_while_the_other_is_graced() -> None:
    """The craft has been alongside SHIP for 8 minutes (alert up) and near SHIP2, which anchored
    two minutes ago (a spell, no alert): its first fast report ends the spell with SHIP2 at once
    (a spell needs both slow throughout) but not the alert with SHIP. Settling again, it starts a
    new spell with SHIP2, raised 3 minutes later."""
    spot = offset(ANCHORAGE, north_m=60)
    start = T0 + 480
    reports = merge(
        anchored(SHIP, T0 - 900, ANCHORAGE),
        anchored(SHIP2, T0 + 360, offset(ANCHORAGE, north_m=120), minutes=30),
        lying(T0, 8, spot),
        jiggling(start, 2, spot),
        lying(start + 90, 10, spot),
    )
    core = make_core()
    rule = core.engine.rule("alongside")
    assert isinstance(rule, AlongsideRule)
    alerts = run(core, reports)
    first = steps_of(alerts, "alongside", (CRAFT, SHIP))
    assert states(first).count("raised") == 1 and first[0].time < start
    assert states(first).count("cleared") == 1 and first[-1].time > start + 90 + 600  # lost after the stay
    assert "not observed" in first[-1].details["reason"]
    second = steps_of(alerts, "alongside", (CRAFT, SHIP2))
    assert second and second[0].state == "raised"
    # the spell restarted when the craft settled (start + 90), not when SHIP2 anchored (T0 + 360);
    # (SHIP2, reporting every 3 minutes, has its 5 messages only at start + 420)
    assert second[0].time >= start + 90 + 180
    assert second[0].details["duration_s"] <= 420 - 90
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in alerts]


def test_the_ship_getting_under_way_during_the_craft_grace() -> None:
    """The craft shifts under way (alert up); 40 s later the ship weighs anchor and makes 4 kn east
    with the craft keeping close: the pair ends two minutes after the craft's first fast report
    (its run of fast reports), whichever vessel reports it."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    start = T0 + 480
    ship = merge(
        static(SHIP, T0 - 900, name="PACIFIC TRADER", ship_type=70, length=200, beam=30),
        stationary(SHIP, T0 - 900, minutes=23, at=ANCHORAGE, every_s=180, nav_status=1, heading=90),
        moving(SHIP, start + 40, minutes=5, start=ANCHORAGE, cog=90, sog=4.0, every_s=10, heading=90),
    )
    craft = lying(T0, 8, spot)
    craft += moving(CRAFT, start + 30, minutes=5, start=spot, cog=90, sog=4.2, every_s=30, ais_class="B")
    reports = merge(ship, craft)
    alerts = run(make_core(), reports)
    steps = steps_of(alerts, "alongside", (CRAFT, SHIP))
    assert states(steps).count("raised") == 1 and states(steps)[-1] == "cleared"
    assert "under way" in steps[-1].details["reason"]
    # the craft's grace ends at start + 150; the ship's (from start + 40) would end at start + 160
    assert steps[-1].time == start + 150
    assert steps[-1].details["reason"].startswith(str(CRAFT))
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in alerts]


@pytest.mark.parametrize("grace", [120.0, 60.0, 300.0])
def test_a_reload_in_the_middle_of_the_grace(grace: float) -> None:
    """A reload 40 s into the craft's run of fast reports: the run is carried on (its start is not
    reset), judged by the new `underway_grace_s` from the next report; one by one and in chunks of
    any size give the same."""
    reports, start = two_ships_and_a_craft_between()
    cut = next(i for i, r in enumerate(reports) if r.time >= start + 70)
    before, after = reports[:cut], reports[cut:]
    config = make_config()
    changed = set_rule(make_config(), "alongside", underway_grace_s=grace, lost_minutes=11)
    reference = reload_run(None, config, changed, before, after)
    for chunk in (1, 4, 9):
        assert reload_run(chunk, config, changed, before, after) == reference
    for ship in (SHIP, SHIP2):
        steps = dict_steps(reference, "alongside", (CRAFT, ship))
        assert [s for s, _, _ in steps if s != "updated"] == ["raised", "cleared"]
        # the run began at start + 30: it ends at the first fast report at least `grace` later
        # (the last fast report is at start + 240; beyond, the craft is lost after 11 minutes)
        due = start + 30 + grace
        cleared_at = parse_iso_time(steps[-1][1])
        if due <= start + 240:
            assert cleared_at == min(t for t in range(int(start) + 60, int(start) + 241, 30) if t >= due)
        else:  # no fast report comes after it: the rule's tick ends it once the grace is over
            assert due <= cleared_at <= due + 180
        assert "under way" in steps[-1][2]


def test_a_craft_silent_in_the_middle_of_the_grace() -> None:
    """One fast report near the ship (alert up), then silence: the alert ends when the grace is over
    (the rule's tick: no fast report comes to end it), as under way. When the craft comes back and
    lies there again, a new spell starts (its old run of fast reports was dropped with the pair)
    and, once the cooldown is over, a new alert."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    start = T0 + 480
    back = start + 20 * 60
    reports = merge(
        anchored(SHIP, T0 - 900, ANCHORAGE, minutes=70),
        lying(T0, 8, spot),
        jiggling(start, 1, spot),
        lying(back, 8, spot),
        jiggling(back + 480, 6, spot),
    )
    core = make_core()
    rule = core.engine.rule("alongside")
    assert isinstance(rule, AlongsideRule)
    alerts = run(core, reports)
    steps = steps_of(alerts, "alongside")
    assert [s for s in states(steps) if s != "updated"] == ["raised", "cleared", "raised", "cleared"]
    lost = steps[[a.state for a in steps].index("cleared")]
    assert "under way" in lost.details["reason"]
    # (its fast report is at start + 30; event time moves with the ship's 3-minute reports)
    assert start + 30 + 120 <= lost.time <= start + 30 + 120 + 180
    again = [a for a in steps if a.state == "raised"][1]
    assert again.time >= back + 180
    # the second stay's run: its own grace, from back + 510
    assert steps[-1].time == back + 480 + 30 + 120 and "under way" in steps[-1].details["reason"]
    assert CRAFT not in rule._fast_since  # dropped with the last pair
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in alerts]


def test_a_craft_forgotten_in_the_middle_of_the_grace() -> None:
    """The tracker forgets vessels after 2 minutes of silence here (and the grace is 10 minutes):
    the craft, silent after its first fast report, is forgotten in its grace (the alert ends as the
    target is lost), and its run goes with it: heard again (a new track), it starts afresh."""
    config = set_rule(make_config(), "alongside", underway_grace_s=600.0)
    config.tracker.forget_after_minutes = 2.0
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    start = T0 + 480
    back = start + 300
    ship = merge(
        static(SHIP, T0 - 900, name="PACIFIC TRADER", ship_type=70, length=200, beam=30),
        stationary(SHIP, T0 - 900, minutes=40, at=ANCHORAGE, every_s=30, nav_status=1, heading=90),
    )
    reports = merge(ship, lying(T0, 8, spot), jiggling(start, 1, spot), lying(back, 5, spot))
    core = make_core(config)
    rule = core.engine.rule("alongside")
    assert isinstance(rule, AlongsideRule)
    seen: list[Alert] = []
    for r in reports:
        seen.extend(core.process(r))
        if r.time == start + 200:
            assert CRAFT not in rule._fast_since and not rule._pairs.has_pairs(CRAFT)
    steps = steps_of(seen, "alongside")
    assert [s for s in states(steps) if s != "updated"][:2] == ["raised", "cleared"]
    lost = next(a for a in steps if a.state == "cleared")
    assert "target lost" in lost.details["reason"] and start + 120 < lost.time < back
    assert same_in_chunks(reports, CHUNKS, config=config) == [
        a.to_dict() for a in run(make_core(config), reports)
    ]


def test_a_pair_whose_alert_the_engine_held_back_gets_no_grace() -> None:
    """The craft was alongside (alert raised and cleared when it left); it comes back within the
    cooldown and lies there 5 minutes: the rule holds the alert, the engine keeps it back, so no
    alert is up and a shift under way ends the spell at once (a spell needs both slow
    throughout). One by one and batched agree."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    away = offset(ANCHORAGE, north_m=900)
    back = T0 + 8 * 60
    reports = merge(
        anchored(SHIP, T0 - 900, ANCHORAGE),
        lying(T0, 4, spot),
        [position(CRAFT, T0 + 270, away, sog=8.0, ais_class="B")],
        lying(back, 5, spot),
        jiggling(back + 300, 1, spot),
        lying(back + 360, 3, spot),
    )
    core = make_core()
    rule = core.engine.rule("alongside")
    assert isinstance(rule, AlongsideRule)
    seen: list[Alert] = []
    spell_after_shift = None
    for r in reports:
        seen.extend(core.process(r))
        if r.time == back + 330:
            spell_after_shift = rule._pairs.get((CRAFT, SHIP))
    assert spell_after_shift is None  # ended by the fast report, no grace
    assert core.engine.stats.suppressed.get("cooldown", 0) > 0
    steps = steps_of(seen + core.finish(), "alongside")
    assert [s for s in states(steps) if s != "updated"] == ["raised", "cleared", "raised", "cleared"]
    # the cooldown ended at back + 390, but the spell restarted at the shift (back + 330): raised
    # three minutes on, not at the end of the cooldown
    again = [a for a in steps if a.state == "raised"][1]
    assert again.time == back + 330 + 180 and again.details["duration_s"] == 180.0
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in run(make_core(), reports)]


def test_an_acknowledged_alert_still_has_its_grace() -> None:
    """An operator acknowledges the alert (the craft and type are snoozed): the alert is still up,
    so the craft shifting along the hull does not end it."""
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    start = T0 + 480
    reports = merge(anchored(SHIP, T0 - 900, ANCHORAGE), lying(T0, 8, spot), jiggling(start, 2, spot))
    reports += lying(start + 90, 5, spot)
    reports = merge(reports)
    core = make_core()
    seen: list[Alert] = []
    acked = False
    for r in reports:
        seen.extend(core.process(r))
        raised = [a for a in seen if a.type == "alongside" and a.state == "raised"]
        if raised and not acked:
            assert core.engine.acknowledge(raised[0].id, "op", "seen", r.time)
            acked = True
    seen.extend(core.finish())
    steps = steps_of(seen, "alongside")
    assert acked and states(steps).count("raised") == 1 and states(steps).count("cleared") == 1
    assert steps[1].details["acknowledged"]["by"] == "op"
    # not ended by the shift: lost once the craft has gone quiet after its second stay
    assert steps[-1].time > start + 90 + 300 and "not observed" in steps[-1].details["reason"]


def test_a_rendezvous_where_both_go_under_way_together() -> None:
    """Twelve minutes together (alert up), then both make 4 kn side by side for 5 minutes (in
    company, 100 m apart): the meeting ends two minutes after the first one's first fast report,
    whichever reports first after that."""
    pa, pb = OPEN_WATER, offset(OPEN_WATER, east_m=100)
    go = T0 + 720
    reports = merge(
        static(A, T0 - 120, name="ALFA", ship_type=30, length=25),
        static(B, T0 - 120, name="BRAVO", ship_type=30, length=28),
        stationary(A, T0, minutes=12, at=pa, every_s=10, sog=0.5),
        stationary(B, T0 + 5, minutes=12, at=pb, every_s=10, sog=0.6),
        moving(A, go + 10, minutes=5, start=pa, cog=0, sog=4.0),
        moving(B, go + 15, minutes=5, start=pb, cog=0, sog=4.0),
    )
    alerts = run(make_core(), reports)
    steps = steps_of(alerts, "rendezvous")
    assert states(steps).count("raised") == 1 and states(steps)[-1] == "cleared"
    assert steps[-1].time == go + 10 + 120  # A's grace (from go + 10) runs out first
    assert steps[-1].details["reason"] == f"{A} under way (4.0 kn)"
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in alerts]


def test_a_rendezvous_with_reports_without_sog_in_the_run() -> None:
    """ALFA leaves at 5 kn but every other report has no SOG (counted as slow, as everywhere in the
    pair rules): its run of fast reports restarts at each, so the grace never runs out; the meeting
    still ends as soon as a fast report finds it beyond the distance and margin (250 m), not
    later."""
    pa, pb = OPEN_WATER, offset(OPEN_WATER, east_m=100)
    go = T0 + 720
    leave = moving(A, go + 10, minutes=4, start=pa, cog=270, sog=5.0)
    leave = [
        r
        if i % 2 == 0
        else PositionReport(time=r.time, mmsi=A, msg_type=1, source="test", lat=r.lat, lon=r.lon)
        for i, r in enumerate(leave)
    ]
    reports = merge(
        static(A, T0 - 120, name="ALFA", ship_type=30, length=25),
        static(B, T0 - 120, name="BRAVO", ship_type=30, length=28),
        stationary(A, T0, minutes=12, at=pa, every_s=10, sog=0.5),
        stationary(B, T0 + 5, minutes=20, at=pb, every_s=10, sog=0.6),
        leave,
    )
    alerts = run(make_core(), reports)
    steps = steps_of(alerts, "rendezvous")
    assert states(steps).count("raised") == 1 and states(steps)[-1] == "cleared"
    # 250 m from B is 150 m west of A's start: 60 s at 2.57 m/s; the report at go + 70 is a fast one
    assert steps[-1].time == go + 70 and steps[-1].details["reason"] == f"{A} under way (5.0 kn)"
    assert same_in_chunks(reports, CHUNKS) == [a.to_dict() for a in alerts]


# == 2. cpa: the confirmation and the warning floor ===============================================
KN = 1852.0 / 3600.0
V1 = 725000501
V2 = 725000502


def at_m(east_m: float, north_m: float) -> tuple[float, float]:
    return offset(OPEN_WATER, north_m=north_m, east_m=east_m)


def track(
    mmsi: int, t0: float, start: tuple[float, float], plan: list[tuple[float, float, float]]
) -> list[Report]:
    """Reports every 10 s from `t0`, from `start` (east, north metres from OPEN_WATER), along legs of
    (seconds, course, knots)."""
    out: list[Report] = []
    t, (x, y) = t0, start
    for seconds, cog, sog in plan:
        for _ in range(round(seconds / 10.0)):
            out.append(position(mmsi, t, at_m(x, y), sog=sog, cog=cog))
            x += sog * KN * 10.0 * math.sin(math.radians(cog))
            y += sog * KN * 10.0 * math.cos(math.radians(cog))
            t += 10.0
    return out


def course_to_meet(
    p: tuple[float, float], sog: float, q: tuple[float, float], cog_q: float, sog_q: float
) -> float:
    """The course (0.1 degree) from `p` at `sog` that brings the CPA with a vessel at `q` (course
    `cog_q`, `sog_q`) nearest to zero, ahead in time (flat metres)."""

    def cpa(c: float) -> tuple[float, float]:
        dx, dy = q[0] - p[0], q[1] - p[1]
        dvx = sog_q * KN * math.sin(math.radians(cog_q)) - sog * KN * math.sin(math.radians(c))
        dvy = sog_q * KN * math.cos(math.radians(cog_q)) - sog * KN * math.cos(math.radians(c))
        dv2 = dvx * dvx + dvy * dvy or 1e-12
        t = -(dx * dvx + dy * dvy) / dv2
        return math.hypot(dx + dvx * t, dy + dvy * t), t

    return min((c / 10.0 for c in range(3600) if cpa(c / 10.0)[1] > 0), key=lambda c: cpa(c)[0])


def cpa_core(**params: float) -> object:
    core = make_core()
    if params:
        core.engine.set_rules([CpaRule(CpaParams(**params))])
    return core


def cpa_steps(reports: list[Report], core: object | None = None, **params: float) -> list[Alert]:
    return of_type(run(core if core is not None else cpa_core(**params), reports), "cpa")  # type: ignore[arg-type]


def passing_1km() -> tuple[list[Report], list[Report]]:
    """V1 east at 10 kn; V2 west at 10 kn, 1 km north of V1's line and 3 km east: they pass 1 km
    apart (no situation)."""
    return (
        track(V1, T0, (0.0, 0.0), [(600, 90, 10)]),
        track(V2, T0 + 5, (3000.0, 1000.0), [(600, 270, 10)]),
    )


def test_a_situation_flickering_every_other_evaluation_is_never_raised() -> None:
    """From 120 s on, every other report of V2 gives a course straight at V1 (a swinging compass):
    each evaluation sees an alarm, the next none, and so on. The confirmation restarts each time:
    nothing is raised. Taken at once, the first one is raised and cleared ten seconds later."""
    v1, v2 = passing_1km()
    flicker: list[Report] = []
    for i, r in enumerate(v2):
        assert isinstance(r, PositionReport)
        t = r.time - T0
        if 120 <= t < 200 and i % 2 == 0:
            c = course_to_meet((3000 - 10 * KN * (t - 5), 1000), 10, (10 * KN * t, 0.0), 90, 10)
            r = position(V2, r.time, (r.lat, r.lon), sog=10.0, cog=c)  # type: ignore[arg-type]
        flicker.append(r)
    reports = merge(v1, flicker)
    assert cpa_steps(reports) == []
    at_once = cpa_steps(reports, confirm_s=0.0)
    assert [a.state for a in at_once] == ["raised", "cleared"] and at_once[0].severity == "alarm"
    assert at_once[1].time - at_once[0].time == 10.0
    assert [a for a in same_in_chunks(reports, CHUNKS) if a["type"] == "cpa"] == []


def test_a_situation_that_is_an_alarm_at_once_is_raised_at_the_next_evaluation_as_an_alarm() -> None:
    v1, v2 = passing_1km()
    turn = 205.0
    c = course_to_meet((3000 - 10 * KN * (turn - 5), 1000), 10, (10 * KN * turn, 0.0), 90, 10)
    v2 = [r for r in v2 if r.time < T0 + turn] + track(
        V2, T0 + turn, (3000 - 10 * KN * (turn - 5), 1000), [(300, c, 10)]
    )
    reports = merge(v1, v2)
    steps = cpa_steps(reports)
    at_once = cpa_steps(reports, confirm_s=0.0)
    assert at_once[0].state == "raised" and at_once[0].severity == "alarm"
    assert steps[0].state == "raised" and steps[0].severity == "alarm"
    assert steps[0].time == at_once[0].time + 10.0
    assert [a.severity for a in steps] == ["alarm"] * len(steps)  # never a warning on the way


def test_the_warning_floor_holds_a_pair_until_its_closest_point_moves_away_again() -> None:
    """V2 lies still 300 m north of V1's line, 167 m ahead; it gets under way west at 3 kn as V1
    (10 kn east) comes up: a warning (CPA 0.16 NM) with the closest point some 20 s away, held back.
    V1 then slows to 2 kn: ten seconds on the closest point is 40 s away, and the situation, seen on
    both evaluations, is raised then (its confirmation counts from the first)."""
    tb = 300.0
    bx = 10 * KN * (tb + 5) + 167
    v2 = merge(
        track(V2, T0 + 5, (bx, 300.0), [(tb, 0, 0.0)]),
        track(V2, T0 + tb + 5, (bx, 300.0), [(120, 270, 3.0)]),
    )
    v1 = track(V1, T0, (0.0, 0.0), [(310, 90, 10), (200, 90, 2.0)])
    reports = merge(v1, v2)
    no_floor = cpa_steps(reports, confirm_s=0.0, min_warning_tcpa_s=0.0)
    assert no_floor[0].time == T0 + 310 and no_floor[0].details["tcpa_min"] * 60 < 30
    steps = cpa_steps(reports)
    assert steps[0].state == "raised" and steps[0].severity == "warning"
    assert steps[0].time == T0 + 320 and steps[0].details["tcpa_min"] * 60 >= 30
    # V1 keeping its 10 kn: the closest point only comes nearer, nothing is raised
    v1_on = track(V1, T0, (0.0, 0.0), [(600, 90, 10)])
    assert cpa_steps(merge(v1_on, v2)) == []
    assert next(a for a in same_in_chunks(reports, CHUNKS) if a["type"] == "cpa")["state"] == "raised"


def test_a_vessel_forgotten_while_its_situation_is_confirmed_is_not_raised() -> None:
    """V2 goes silent (dead-reckoned on, still a mover); V1 turns onto a collision course. The
    situation is first seen at the evaluation at T0 + 240, where the tracker also forgets V2 (30 s
    of silence here): no alert, and no pair left emerging. Kept, it is raised at T0 + 250 on V2's
    fix of 45 s before, dead-reckoned, when fixes that old may raise one (`raise_fix_intervals` 5;
    with the default 3, 30 s for a Class A ship at 10 kn, it is not raised at all)."""
    v1, v2 = passing_1km()
    v2 = [r for r in v2 if r.time <= T0 + 205]
    turn = 230.0
    here = (10 * KN * turn, 0.0)
    c = course_to_meet(here, 10, (3000 - 10 * KN * (turn - 5), 1000), 270, 10)
    v1 = [r for r in v1 if r.time < T0 + turn] + track(V1, T0 + turn, here, [(300, c, 10)])
    reports = merge(v1, v2)
    assert cpa_steps(reports) == []
    kept = cpa_steps(reports, raise_fix_intervals=5)
    assert kept[0].state == "raised" and kept[0].time == T0 + 250
    config = set_rule(make_config(), "cpa", raise_fix_intervals=5)
    config.tracker.forget_after_minutes = 0.5
    core = make_core(config)
    rule = core.engine.rule("cpa")
    assert isinstance(rule, CpaRule)
    assert cpa_steps(reports, core) == []
    assert rule._emerging == {}
    assert [a for a in same_in_chunks(reports, CHUNKS, config=config) if a["type"] == "cpa"] == []


def jittered(reports: list[Report], pattern: tuple[float, ...]) -> list[Report]:
    out: list[Report] = []
    for i, r in enumerate(reports):
        assert isinstance(r, PositionReport) and r.lat is not None and r.lon is not None
        out.append(position(r.mmsi, r.time + pattern[i % len(pattern)], (r.lat, r.lon), sog=r.sog, cog=r.cog))
    return out


def head_on(pattern_a: tuple[float, ...], pattern_b: tuple[float, ...]) -> list[Report]:
    """Head-on from 8 km (as test_rule_cpa's second-evaluation test), the report times shifted."""
    return merge(
        jittered(track(V1, T0, (0.0, 40.0), [(600, 90, 10)]), pattern_a),
        jittered(track(V2, T0, (8000.0, 80.0), [(600, 270, 10)]), pattern_b),
    )


def test_a_situation_is_raised_at_the_next_evaluation_with_regular_reports() -> None:
    for pa, pb in (((0.0,), (5.0,)), ((0.7,), (5.3,)), ((3.3,), (7.7,))):
        reports = head_on(pa, pb)
        first = cpa_steps(reports, confirm_s=0.0)[0]
        raised = cpa_steps(reports)[0]
        assert raised.time - first.time == pytest.approx(10.0, abs=1e-3)


def test_a_situation_is_raised_at_the_next_evaluation_with_irregular_report_times() -> None:
    reports = head_on((2.0, 0.5), (6.0,))
    first = cpa_steps(reports, confirm_s=0.0)[0]
    assert first.time == T0 + 242.0  # the evaluation after it is the tick at T0 + 250.5
    raised = cpa_steps(reports)[0]
    assert raised.time == T0 + 250.5


def newly_heard_on_a_close_course() -> list[Report]:
    """V1 east at 10 kn since T0; V2, first heard at T0 + 300 (out of a radio shadow), heads west
    at 10 kn 300 m north of V1's line, 720 m ahead: a warning (CPA 0.16 NM) with the closest point
    70 s away."""
    v1 = track(V1, T0, (0.0, 0.0), [(600, 90, 10)])
    v2 = track(V2, T0 + 300, (10 * KN * 300 + 720, 300.0), [(240, 270, 10)])
    return merge(v1, v2)


def test_no_warning_with_the_closest_point_under_30_s_even_after_the_engine_held_it_back() -> None:
    core = cpa_core()
    steps = cpa_steps(newly_heard_on_a_close_course(), core)
    assert core.engine.stats.suppressed.get("min_messages", 0) > 0  # type: ignore[attr-defined]
    raised = [a for a in steps if a.state == "raised"]
    assert all(a.severity == "alarm" or a.details["tcpa_min"] * 60 >= 30 for a in raised)


# == 3. alongside: the hull of a ship that reports no heading =====================================
LAT0, LON0 = -12.09, -77.29


def ll(east_m: float, north_m: float) -> tuple[float, float]:
    """(lon, lat) of a point `east_m`, `north_m` metres from a test origin at sea."""
    c = math.cos(math.radians(LAT0))
    return LON0 + east_m / (111_195.0 * c), LAT0 + north_m / 111_195.0


def land(outline: list[tuple[float, float]], holes: tuple[list[tuple[float, float]], ...] = ()) -> Polygon:
    return Polygon([ll(*p) for p in outline], [[ll(*q) for q in h] for h in holes])


def axis_at(engine: ZoneEngine, east_m: float, north_m: float, within_m: float = 80.0) -> float | None:
    return engine.shore_axis_deg(*ll(east_m, north_m), within_m)


def off_axis(axis: float | None, bearing: float) -> float:
    """Degrees between an axis (either way round) and a bearing (inf without an axis)."""
    if axis is None:
        return math.inf
    d = abs(axis - bearing) % 180.0
    return min(d, 180.0 - d)


SQUARE = [(0.0, 0.0), (500.0, 0.0), (500.0, 500.0), (0.0, 500.0)]
PIER = [
    (-1000.0, -500.0),
    (1000.0, -500.0),
    (1000.0, 0.0),
    (10.0, 0.0),
    (10.0, 300.0),
    (-10.0, 300.0),
    (-10.0, 0.0),
    (-1000.0, 0.0),
]
"""A straight coast (y = 0) with a pier 20 m wide and 300 m long going north from it."""


def test_shore_axis_along_straight_quays_and_in_a_basin() -> None:
    pier = ZoneEngine([], land=[land(PIER)])
    assert axis_at(pier, 30, 150) == pytest.approx(0.0, abs=0.5)  # along the pier's east face
    assert axis_at(pier, -40, 200) == pytest.approx(0.0, abs=0.5)  # its west face
    assert axis_at(pier, 300, 30) == pytest.approx(90.0, abs=0.5)  # the coast
    assert axis_at(pier, 300, 100) is None  # 100 m off
    assert axis_at(pier, 300, -30) == pytest.approx(90.0, abs=0.5)  # on land, 30 m in
    assert axis_at(pier, 300, -200) is None  # well inland
    # a basin cut into the land (a hole): its quays
    basin = ZoneEngine(
        [],
        land=[
            land(
                [(-1000, -1000), (1000, -1000), (1000, 1000), (-1000, 1000)],
                ([(0, 0), (400, 0), (400, 100), (0, 100)],),
            )
        ],
    )
    assert axis_at(basin, 200, 30) == pytest.approx(90.0, abs=0.5)
    assert axis_at(basin, 380, 50) == pytest.approx(0.0, abs=0.5)  # the basin's head
    assert axis_at(basin, 200, 500) is None  # inside the land, far from any water
    # two land polygons, the nearer quay counts; no land within the distance
    two = ZoneEngine([], land=[land(SQUARE), land([(600, 0), (700, 0), (700, 500), (600, 500)])])
    assert axis_at(two, 530, 250) == pytest.approx(0.0, abs=0.5)
    assert axis_at(two, 250, 530) == pytest.approx(90.0, abs=0.5)
    assert axis_at(two, 250, 600) is None


def test_shore_axis_does_not_depend_on_where_the_ring_starts() -> None:
    answers = set()
    for k in range(4):
        engine = ZoneEngine([], land=[land(SQUARE[k:] + SQUARE[:k])])
        answers.add(round(axis_at(engine, -10, -10) or -1.0, 1))  # type: ignore[arg-type]
    assert len(answers) == 1


def test_a_ship_along_a_pier_near_its_head_lies_along_the_pier() -> None:
    engine = ZoneEngine([], land=[land(PIER)])
    assert off_axis(axis_at(engine, 30, 290), 0.0) < 3.0
    assert off_axis(axis_at(engine, 30, 310), 0.0) < 3.0


def ship_without_heading(t0: float, at: tuple[float, float], nav_status: int) -> list[Report]:
    """A 300 m ship (antenna 250 m from the bow) that sends no heading, still, reporting every 3 min."""
    return merge(
        static(SHIP, t0, name="NO GYRO", ship_type=70, length=300, beam=40, antenna_from_bow=250),
        stationary(SHIP, t0, minutes=45, at=at, every_s=180, nav_status=nav_status),
    )


def neighbours(
    headings: tuple[int, ...], *, ship_type: int = 70, length: int = 180, nav_status: int = 1
) -> list[Report]:
    out: list[Report] = []
    for k, h in enumerate(headings):
        m = 760000700 + k
        out.append(static(m, T0 - 900, name=f"N{k}", ship_type=ship_type, length=length))
        out += stationary(
            m,
            T0 - 900,
            minutes=45,
            at=offset(ANCHORAGE, north_m=800 * (k + 1)),
            every_s=180,
            nav_status=nav_status,
            heading=h,
        )
    return out


def visit_off_the_north_end() -> list[Report]:
    """A craft 245 m north of the antenna, 35 m east: 15 m off the bow were the ship heading 0 (or
    180, either way round), 247 m from the antenna."""
    at = offset(ANCHORAGE, north_m=245, east_m=35)
    out = lying(T0, 10, at)
    out += moving(CRAFT, T0 + 600, minutes=3, start=at, cog=0, sog=8.0, every_s=30, ais_class="B")[1:]
    return out


@pytest.mark.parametrize("headings", [(350, 5, 10), (355, 358, 2, 6)])
def test_the_neighbours_heading_is_their_circular_mean(headings: tuple[int, ...]) -> None:
    """Headings either side of north agree: their circular mean is about north, not their
    arithmetic mean (about 120)."""
    reports = merge(
        ship_without_heading(T0 - 900, ANCHORAGE, 1), neighbours(headings), visit_off_the_north_end()
    )
    steps = of_type(run(make_core(), reports), "alongside")
    assert steps and steps[0].state == "raised" and steps[0].details["closest_m"] < 30
    assert same_in_chunks(reports, (5, 17)) == [a.to_dict() for a in run(make_core(), reports)]


def test_the_neighbours_heading_says_which_end_is_the_bow() -> None:
    """Ships at anchor lie head to the wind: with the neighbours heading about 180, the craft off
    the north end is 195 m astern of the stern, not off the bow (the hull is placed one way only)."""
    reports = merge(
        ship_without_heading(T0 - 900, ANCHORAGE, 1), neighbours((170, 185, 190)), visit_off_the_north_end()
    )
    assert of_type(run(make_core(), reports), "alongside") == []


@pytest.mark.parametrize(
    "kind",
    [dict(ship_type=37, length=12), dict(nav_status=5), dict(nav_status=0)],
    ids=["small", "moored", "under-way"],
)
def test_only_large_ships_at_anchor_tell_the_heading(kind: dict[str, int]) -> None:
    reports = merge(
        ship_without_heading(T0 - 900, ANCHORAGE, 1), neighbours((0, 0, 0), **kind), visit_off_the_north_end()
    )
    assert of_type(run(make_core(), reports), "alongside") == []


def test_two_agreeing_neighbours_or_a_spread_of_40_degrees_tell_nothing() -> None:
    for headings in ((0, 0), (350, 5, 40)):
        reports = merge(
            ship_without_heading(T0 - 900, ANCHORAGE, 1), neighbours(headings), visit_off_the_north_end()
        )
        assert of_type(run(make_core(), reports), "alongside") == []


def test_a_moored_ship_without_heading_uses_the_quay_not_the_neighbours() -> None:
    """Status 5 (moored) far from any coastline: no axis (the neighbours at anchor tell only a ship
    at anchor), the distance is to the antenna."""
    reports = merge(
        ship_without_heading(T0 - 900, ANCHORAGE, 5), neighbours((0, 0, 0)), visit_off_the_north_end()
    )
    assert of_type(run(make_core(), reports), "alongside") == []


def test_switching_the_quay_placement_off_keeps_the_anchorage_heading() -> None:
    config = set_rule(make_config(), "alongside", quay_within_m=0.0)
    reports = merge(
        ship_without_heading(T0 - 900, ANCHORAGE, 1), neighbours((0, 0, 0)), visit_off_the_north_end()
    )
    steps = of_type(run(make_core(config), reports), "alongside")
    assert steps and steps[0].state == "raised"


def test_the_quay_axis_is_looked_up_again_after_a_reload_without_land() -> None:
    """The axis is kept per ship, fix and zone engine: a reload (new zone engine) whose
    configuration has no coastline any more places the hull nowhere (distance to the antenna, 240 m):
    the craft 15 m off the bow is no longer alongside (ends at once, in one by one and in chunks)."""
    axis = 309.4  # DP World's quay, as test_rule_alongside
    bow = offset(
        BERTH_DPWORLD, north_m=240 * math.cos(math.radians(axis)), east_m=240 * math.sin(math.radians(axis))
    )
    spot = offset(bow, north_m=35 * math.cos(math.radians(39)), east_m=35 * math.sin(math.radians(39)))
    reports = merge(ship_without_heading(T0 - 900, BERTH_DPWORLD, 5), lying(T0, 12, spot))
    cut = next(i for i, r in enumerate(reports) if r.time >= T0 + 360)
    config: Config = make_config()
    same = reload_run(None, config, make_config(), reports[:cut], reports[cut:])
    kept = dict_steps(same, "alongside")
    assert [s for s, _, _ in kept if s != "updated"] == ["raised", "cleared"]
    assert "not observed" in kept[-1][2]  # lost after the stay, as without a reload
    bare = make_config()
    bare.land.file = None
    bare._land = None
    got = reload_run(None, config, bare, reports[:cut], reports[cut:])
    assert reload_run(7, config, bare, reports[:cut], reports[cut:]) == got
    steps = dict_steps(got, "alongside")
    assert [s for s, _, _ in steps if s != "updated"] == ["raised", "cleared"]
    assert "m away" in steps[-1][2]  # to the antenna now
    assert parse_iso_time(steps[-1][1]) < T0 + 12 * 60


# == 4. more: a craft found to be exempt while under way; cpa across a reload ======================
def test_a_craft_found_to_be_a_tug_while_under_way_ends_its_alert_at_once() -> None:
    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    start = T0 + 480
    craft = lying(T0, 8, spot, ais_class="A")  # (a Class B craft's own word "tug" exempts nothing)
    craft.append(static(CRAFT, start + 10, name="TUG", ship_type=52, length=18, ais_class="A"))
    craft += jiggling(start, 8, spot, ais_class="A")
    steps = of_type(run(make_core(), merge(anchored(SHIP, T0 - 900, ANCHORAGE), craft)), "alongside")
    assert steps[-1].state == "cleared"
    assert steps[-1].time == start + 30 and "exempt" in steps[-1].details["reason"]


def test_a_rendezvous_vessel_found_to_be_a_tug_while_under_way_ends_it_at_once() -> None:
    pa, pb = OPEN_WATER, offset(OPEN_WATER, east_m=100)
    go = T0 + 720
    reports = merge(
        static(A, T0 - 120, name="ALFA", ship_type=30, length=25),
        static(B, T0 - 120, name="BRAVO", ship_type=30, length=28),
        stationary(A, T0, minutes=12, at=pa, every_s=10, sog=0.5),
        stationary(B, T0 + 5, minutes=20, at=pb, every_s=10, sog=0.6),
        jiggling(go, 12, pa, mmsi=A, ais_class="A"),
        [static(A, go + 45, name="ALFA", ship_type=52, length=25)],
    )
    steps = steps_of(run(make_core(), reports), "rendezvous")
    assert steps[-1].state == "cleared" and steps[-1].time == go + 60
    assert "exempt" in steps[-1].details["reason"]


def test_a_reload_just_before_the_closest_point_does_not_leave_the_warning_up() -> None:
    v1 = track(V1, T0, (0.0, 0.0), [(900, 90, 10)])
    v2 = track(V2, T0 + 5, (5000.0, 300.0), [(900, 270, 10)])  # CPA 0.16 NM at about T0 + 486
    reports = merge(v1, v2)
    cut = next(i for i, r in enumerate(reports) if r.time >= T0 + 470)
    config = make_config()
    kept = dict_steps(reload_run(None, config, config, reports[:cut], reports[cut:]), "cpa")
    assert [s for s, _, _ in kept if s != "updated"] == ["raised", "cleared"]
    assert parse_iso_time(kept[-1][1]) == T0 + 490  # type: ignore[arg-type]
    changed = set_rule(make_config(), "cpa", range_nm=4.0)
    for chunk in (None, 7):
        got = dict_steps(reload_run(chunk, config, changed, reports[:cut], reports[cut:]), "cpa")
        assert [s for s, _, _ in got if s != "updated"] == ["raised", "cleared"]
        assert parse_iso_time(got[-1][1]) <= T0 + 500  # type: ignore[arg-type]


def test_a_craft_that_goes_dark_under_way_ends_its_alert_when_the_grace_is_over() -> None:
    """One fast report next to the ship, then nothing (it left out of reception, or switched its
    AIS off): the alert ends two minutes after that report, as under way, not ten minutes later as
    a pair no longer observed."""
    from tests.test_rule_alongside import anchored_ship

    spot = offset(ANCHORAGE, north_m=40, east_m=60)
    craft = stationary(CRAFT, T0, minutes=8, at=spot, every_s=30, sog=0.4, ais_class="B")
    gone = T0 + 8 * 60 + 30
    craft.append(position(CRAFT, gone, offset(spot, north_m=40), sog=6.0, ais_class="B"))
    steps = of_type(run(make_core(), merge(anchored_ship(T0 - 900), craft), until=T0 + 1800), "alongside")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    # event time moves on with the ship's 3-minute reports: the first after the grace is T0 + 720
    assert steps[-1].time == T0 + 720 and steps[-1].time - gone < 600
    assert "under way" in steps[-1].details["reason"]
