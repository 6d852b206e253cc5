"""Review A of tonight's zone-engine changes: the GNSS outlier hold (`ZoneEngine.update`, `held_back`,
`reloaded`) and its users (restricted_area, speeding, course_anomaly's wrong_way), and
zone_visits' `seen_entering` for entries found by a reload.

Adversarial tracks: an outlier with a duplicate of itself, two outliers in a row, an outlier landing
in another zone, an outlier then a reception gap, a late fix after a held one, fast and slow
outliers in a speeding run, an outlier in a wrong-way run, an outlier in the static-data grace, a
second ship under the MMSI, and reloads around a held fix. Every core-level track goes through
`run` (one by one and batched must agree), several also through odd chunk sizes.

A held-back outlier should be as if it had not been received, for the rules that skip it: most
tests compare the alerts with those of the same track without the outlier fix."""

from __future__ import annotations

import math

from tests.rule_helpers import (
    BERTH_DPWORLD,
    OPEN_WATER,
    SAN_LORENZO_WATERS,
    T0,
    legs,
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
    states,
    static,
    stationary,
)
from tests.test_rule_restricted_area import BOAT, visit
from vts.alerts.model import Alert
from vts.config import Config, ZoneSettings
from vts.core import Core
from vts.reports import PositionReport, Report
from vts.zones import ZoneEngine

SHIP = 725000777
NORTH_800 = offset(SAN_LORENZO_WATERS, north_m=800)
"""800 m north of the boat's spot in restricted_san_lorenzo: outside it (and its exit band)."""
EAST_900 = offset(SAN_LORENZO_WATERS, east_m=900)
"""900 m east of it: outside too, in another direction."""


def _stay_index(reports: list[Report], minutes_in: int) -> int:
    """Index of the boat's fix `minutes_in` minutes into its stay in the zone (fixes every 20 s)."""
    first = next(i for i, r in enumerate(reports) if getattr(r, "sog", None) == 0.5)
    return first + 3 * minutes_in


def _ra(alerts: list[Alert]) -> list[tuple[str, float, float, float]]:
    return [(a.state, a.time, a.lat, a.lon) for a in of_type(alerts, "restricted_area")]


def _without(reports: list[Report], drop: Report) -> list[Report]:
    return [r for r in reports if r is not drop]


# -- the zone engine alone ---------------------------------------------------------------------------

LAT0, LON0 = -12.0, -77.20


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lon, lat) of the point east/north of the engine tests' origin."""
    return LON0 + east_m / (111_195.0 * math.cos(math.radians(LAT0))), LAT0 + north_m / 111_195.0


def _box_engine() -> ZoneEngine:
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    box = ZoneSettings(
        id="box",
        name="Box",
        kind="restricted",
        polygon=[_at(sx * 1000, sy * 1000) for sx, sy in corners],
    )
    return ZoneEngine([box])


def test_a_burst_of_duplicates_of_the_outlier_within_5_s_is_still_held() -> None:
    """The outlier and two copies of it heard by other stations 2 and 4 s later: all held back
    (the 5 s count from the first held fix), and the next real fix inside ends the hold."""
    engine = _box_engine()
    for t in (0.0, 10.0):
        engine.update(SHIP, t, *_at(0, 500))
    for t in (20.0, 22.0, 24.0):
        assert engine.update(SHIP, t, *_at(-4000, 500)) == []
        assert engine.held_back(SHIP, t) and engine.zones_of(SHIP) == {"box"}
    assert engine.update(SHIP, 30.0, *_at(0, 510)) == []
    assert not engine.held_back(SHIP, 30.0) and engine.zones_of(SHIP) == {"box"}
    # then a real, plausible exit is taken at once, its crossing that fix
    events = engine.update(SHIP, 200.0, *_at(0, 1200))
    assert [(e.kind, e.time) for e in events] == [("exit", 200.0)]


def test_an_outlier_changes_no_pending_entry() -> None:
    """Confirmed in the box and pending in a second zone: the outlier (in neither) leaves both as
    they were, and the next fix confirms the pending entry from its first fix."""
    engine = _box_engine()
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    inner = ZoneSettings(
        id="inner", name="Inner", kind="berth", polygon=[_at(sx * 200, sy * 200) for sx, sy in corners]
    )
    engine = ZoneEngine([*[z.settings for z in engine.zones], inner])
    for t in (0.0, 10.0):
        engine.update(SHIP, t, *_at(0, 500))
    engine.update(SHIP, 20.0, *_at(0, 100))  # into `inner`: pending from 20 s
    assert engine.update(SHIP, 25.0, *_at(0, 3000)) == [] and engine.held_back(SHIP, 25.0)
    events = engine.update(SHIP, 30.0, *_at(0, 90))
    assert [(e.kind, e.zone_id, e.time) for e in events] == [("entry", "inner", 20.0)]


def test_two_consecutive_outliers_in_different_directions_do_not_confirm_an_exit() -> None:
    engine = _box_engine()
    for t in (0.0, 10.0):
        engine.update(SHIP, t, *_at(0, 500))
    assert engine.update(SHIP, 20.0, *_at(-4000, 500)) == []  # held back
    assert engine.update(SHIP, 30.0, *_at(0, 4500)) == []  # nowhere near the first one either
    assert engine.zones_of(SHIP) == {"box"}


def test_two_consecutive_outliers_in_the_same_place_confirm_the_exit() -> None:
    """The documented rule: the next fix beyond the margin, at least 5 s later, confirms the exit
    (a vessel that really moved, e.g. a fast craft reporting rarely). Pinned so that a fix for the
    test above keeps it."""
    engine = _box_engine()
    for t in (0.0, 10.0):
        engine.update(SHIP, t, *_at(0, 500))
    assert engine.update(SHIP, 20.0, *_at(-4000, 500)) == []
    events = engine.update(SHIP, 30.0, *_at(-4020, 500))
    assert [(e.kind, e.time, e.confirmed_time) for e in events] == [("exit", 30.0, 30.0)]


def test_a_held_fix_then_a_reception_gap() -> None:
    """After a held outlier and more than 10 minutes of silence, a fix beyond the margin is an exit
    marked as a gap (no outlier test across a gap), and a fix back inside keeps the membership."""
    for where, kinds in ((_at(-4000, 500), [("exit", True)]), (_at(0, 500), [])):
        engine = _box_engine()
        for t in (0.0, 10.0):
            engine.update(SHIP, t, *_at(0, 500))
        assert engine.update(SHIP, 20.0, *_at(-4000, 500)) == []
        events = engine.update(SHIP, 20.0 + 700.0, *where)
        assert [(e.kind, e.gap) for e in events] == kinds
        assert not engine.held_back(SHIP, 720.0)


def test_outlier_hold_off_with_a_zero_speed() -> None:
    engine = ZoneEngine([z.settings for z in _box_engine().zones], outlier_speed_kn=0)
    for t in (0.0, 10.0):
        engine.update(SHIP, t, *_at(0, 500))
    assert [e.kind for e in engine.update(SHIP, 20.0, *_at(-4000, 500))] == ["exit"]


# -- restricted_area ---------------------------------------------------------------------------------


def test_an_outlier_and_its_duplicate_then_the_boat_stays_and_leaves() -> None:
    """A fishing boat in restricted_san_lorenzo: one fix 800 m north (in 20 s: 78 kn), the same
    sentence from a second station 2 s later, then the boat carries on inside and sails out. The
    intrusion is neither cleared nor moved: the alerts are those of the track without the two."""
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30)
    k = _stay_index(reports, 5)
    outlier = position(BOAT, reports[k].time, NORTH_800, sog=0.5)
    duplicate = position(BOAT, reports[k].time + 2, NORTH_800, sog=0.5)
    glitched = [*reports[:k], outlier, duplicate, *reports[k + 1 :]]
    steps = run(make_core(), glitched)
    clean = run(make_core(), _without(reports, reports[k]))
    assert _ra(steps) == _ra(clean)
    assert states(of_type(steps, "restricted_area")) == ["raised", "updated", "updated", "cleared"]
    assert all(a.lat != NORTH_800[0] for a in of_type(steps, "restricted_area"))
    same_in_chunks(glitched, sizes=(3, (2, 9), 17))


def test_two_outliers_in_different_directions_do_not_end_the_intrusion() -> None:
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30)
    k = _stay_index(reports, 5)
    glitched = list(reports)
    glitched[k] = position(BOAT, reports[k].time, offset(SAN_LORENZO_WATERS, north_m=2000), sog=0.5)
    glitched[k + 1] = position(BOAT, reports[k + 1].time, offset(SAN_LORENZO_WATERS, east_m=2000), sog=0.5)
    steps = of_type(run(make_core(), glitched), "restricted_area")
    cleared = [a for a in steps if a.state == "cleared"]
    assert len(cleared) == 1 and cleared[0].time > reports[_stay_index(reports, 11)].time


def test_a_late_fix_after_a_held_outlier_does_not_move_the_alert_there() -> None:
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30)
    k = _stay_index(reports, 5)
    outlier = position(BOAT, reports[k].time, NORTH_800, sog=0.5)
    late = position(BOAT, reports[k].time - 5, SAN_LORENZO_WATERS, sog=0.5)  # after the outlier
    steps = of_type(run(make_core(), [*reports[:k], outlier, late, *reports[k + 1 :]]), "restricted_area")
    assert all(a.lat != NORTH_800[0] for a in steps)


def test_a_late_fix_after_a_held_outlier_keeps_the_intrusion() -> None:
    """The same track: whatever position the alert shows, it is not cleared before the boat leaves,
    and batched processing agrees (`run`)."""
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30)
    k = _stay_index(reports, 5)
    outlier = position(BOAT, reports[k].time, NORTH_800, sog=0.5)
    late = position(BOAT, reports[k].time - 5, SAN_LORENZO_WATERS, sog=0.5)
    track = [*reports[:k], outlier, late, *reports[k + 1 :]]
    steps = of_type(run(make_core(), track), "restricted_area")
    assert states(steps).count("cleared") == 1 and steps[-1].state == "cleared"
    assert steps[-1].time > reports[_stay_index(reports, 11)].time
    same_in_chunks(track, sizes=(2, 5, (1, 4, 11)))


def test_an_outlier_landing_in_another_zone() -> None:
    """A fishing boat at the DP World berth (security_dpworld, berth, port area); one fix 800 m
    south in fishing_docks, 20 s after the last: no entry there, no exit from the berth or the port,
    the intrusion goes on; alerts as without that fix."""
    fishing_docks = offset(BERTH_DPWORLD, north_m=-800)
    core = make_core()
    assert "fishing_docks" in {z.id for z in core.zones.zones_at(fishing_docks[1], fishing_docks[0])}
    reports = merge(
        static(SHIP, T0 - 60, name="PESCA", ship_type=30, length=14),
        stationary(SHIP, T0, minutes=20, at=BERTH_DPWORLD, every_s=20),
    )
    k = next(i for i, r in enumerate(reports) if r.time == T0 + 600)
    glitched = list(reports)
    glitched[k] = position(SHIP, reports[k].time, fishing_docks)
    steps = run(core, glitched, until=T0 + 1500)
    clean = run(make_core(), _without(reports, reports[k]), until=T0 + 1500)

    def zonal(alerts: list[Alert]) -> list[dict]:
        return [a.to_dict() for a in alerts if a.type in ("restricted_area", "zone_entry", "zone_exit")]

    assert zonal(steps) == zonal(clean)
    assert not [a for a in steps if a.zone == "fishing_docks" or a.type == "zone_exit"]
    assert states(of_type(steps, "restricted_area"))[0] == "raised"


def _san_lorenzo_admitting_cargo() -> Config:
    """The Callao configuration with restricted_san_lorenzo admitting cargo ships too: a zone where
    a vessel with no static data yet is given the static-data grace (`restricted_area`)."""
    config = make_config()
    zones = [
        z.model_copy(update={"allowed_categories": [*(z.allowed_categories or []), "cargo"]})
        if z.id == "restricted_san_lorenzo"
        else z
        for z in config.zones
    ]
    return config.model_copy(update={"zones": zones})


def test_an_outlier_in_the_static_data_grace() -> None:
    """A boat with no static data lying in restricted_san_lorenzo from its first fix, then sailing
    out north. Where the zone admits ordinary ships (here: cargo too) it is judged only after the
    13-minute static-data grace, and an outlier during the grace, just before its end or on the
    first fix after it changes the intrusion by no more than the fix it replaces. As configured
    (law enforcement and SAR only) it is an intruder at once, outlier or not."""
    stay = stationary(BOAT, T0, minutes=20, at=SAN_LORENZO_WATERS, every_s=20, sog=0.5)
    out = moving(BOAT, stay[-1].time + 20, minutes=10, start=SAN_LORENZO_WATERS, cog=0, sog=6.0, every_s=20)
    reports: list[Report] = [*stay, *out]
    for config, first_by in ((_san_lorenzo_admitting_cargo(), None), (make_config(), T0 + 120)):
        for t in (T0 + 300, T0 + 760, T0 + 780, T0 + 800):
            k = next(i for i, r in enumerate(reports) if r.time == t)
            glitched = list(reports)
            glitched[k] = position(BOAT, t, NORTH_800, sog=0.5)
            steps = _ra(run(make_core(config), glitched))
            assert steps == _ra(run(make_core(config), _without(reports, reports[k])))
            assert steps[0][0] == "raised" and steps[-1][0] == "cleared"
            if first_by is None:
                assert steps[0][1] >= T0 + 780  # not before the grace ends
            else:
                assert steps[0][1] <= first_by  # no grace in a zone for service craft only (5 messages)
            assert all(s[2] != NORTH_800[0] for s in steps)


def test_a_second_ship_under_the_mmsi_interleaved_with_an_outlier() -> None:
    """Another ship 9 km east transmits under the boat's MMSI every minute (a shadow track, never
    seen by the zone engine); the boat has one outlier 900 m towards it, and the other ship's next
    fix comes 10 s after the outlier. The intrusion is as without the outlier."""
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30, minutes=20)
    other = stationary(BOAT, T0 + 5, minutes=40, at=offset(SAN_LORENZO_WATERS, east_m=9000), every_s=60)
    k = _stay_index(reports, 7)
    outlier = position(BOAT, reports[k].time, EAST_900, sog=0.5)
    right_after = position(BOAT, reports[k].time + 10, offset(SAN_LORENZO_WATERS, east_m=9000), sog=0.0)
    glitched = merge([*reports[:k], outlier, *reports[k + 1 :]], other, [right_after])
    clean = merge(reports, other, [right_after])
    assert _ra(run(make_core(), glitched)) == _ra(run(make_core(), clean))
    same_in_chunks(glitched, sizes=(3, (5, 1, 8)))


# -- speeding -----------------------------------------------------------------------------------------

PORT_START = (-12.052, -77.150)
"""In port_area (8 kn limit): tests.test_rules_navigation's speeding start."""


def _in_port(sogs: list[float], every_s: float = 10.0) -> list[PositionReport]:
    out = []
    lat, lon = PORT_START
    for k, sog in enumerate(sogs):
        out.append(position(SHIP, T0 + k * every_s, (lat, lon), sog=sog, cog=0.0))
        lat += sog * 1852 / 3600 * every_s / 111_195.0
    return out


def _speeding(alerts: list[Alert]) -> list[dict]:
    return [a.to_dict() for a in of_type(alerts, "speeding")]


def _glitch(reports: list[PositionReport], k: int, sog: float) -> list[PositionReport]:
    """The k-th fix thrown 900 m west (out of the port area, over 250 m beyond its exit band; 175 kn
    in 10 s) with this SOG."""
    out = list(reports)
    r = reports[k]
    out[k] = position(SHIP, r.time, offset((r.lat, r.lon), east_m=-900), sog=sog, cog=0.0)  # type: ignore[arg-type]
    return out


def test_a_fast_outlier_neither_starts_nor_feeds_a_speeding_run() -> None:
    """A ship at 7 kn in the port (limit 8 kn) with one outlier at 30 kn: no alert. In a real run at
    9.5 kn, a fast outlier adds no report to it (nor its 30 kn to the alert's max_sog_kn).
    Alerts as without the outlier fix, one by one, batched and in odd chunks."""
    slow = _in_port([7.0] * 20)
    for k in (5, 12):
        glitched = _glitch(slow, k, 30.0)
        assert _speeding(run(make_core(), glitched)) == []
    run_ = _in_port([7.0] * 3 + [9.5] * 12 + [6.0] * 3)
    for k in (3, 4, 8, 14):
        glitched = _glitch(run_, k, 30.0)
        assert _speeding(run(make_core(), glitched)) == _speeding(run(make_core(), _without(run_, run_[k])))
    same_in_chunks(_glitch(run_, 8, 30.0), sizes=(2, 7))


def test_a_slow_outlier_does_not_count_towards_clearing_an_active_speeding_alert() -> None:
    """Active alert; two slow fixes clear it. The second of them is an outlier: the alert is not
    cleared there, and the next fast fix carries it on (as if the outlier had not come)."""
    sogs = [7.0] * 3 + [9.5] * 12 + [6.0, 6.0, 9.5, 9.5, 9.5, 6.0, 6.0]
    track = _in_port(sogs)
    clean_cut = _speeding(run(make_core(), _without(track, track[16])))
    glitched = _glitch(track, 16, 6.0)
    steps = _speeding(run(make_core(), glitched))
    assert steps == clean_cut
    assert [s["state"] for s in steps][-1] == "cleared"
    cleared = [s for s in steps if s["state"] == "cleared"]
    assert len(cleared) == 1 and cleared[0]["details"]["max_sog_kn"] == 9.5
    # with the outlier taken as a slow fix in the port, the alert would have cleared at it
    assert _speeding(run(make_core(), track))[-1]["time"] != steps[-1]["time"]
    same_in_chunks(glitched, sizes=(3, (4, 9)))


# -- course_anomaly: wrong_way ------------------------------------------------------------------------

LANE_START = (-12.0450, -77.1800)
"""In tss_inbound (direction 99), far enough east for 5 minutes westbound at 8 kn inside it."""


def _wrong_way(alerts: list[Alert]) -> list[dict]:
    return [a.to_dict() for a in of_type(alerts, "course_anomaly") if a.details.get("kind") == "wrong_way"]


def _lane_glitch(track: list[PositionReport], k: int, cog: float) -> list[PositionReport]:
    """The k-th fix thrown 350 m south, out of the lane (held: 68 kn over 10 s), with a 30 kn SOG
    (so course_anomaly's own jump test does not already skip it)."""
    out = list(track)
    r = track[k]
    out[k] = position(SHIP, r.time, offset((r.lat, r.lon), north_m=-350), sog=30.0, cog=cog)  # type: ignore[arg-type]
    return out


def test_an_outlier_in_the_middle_of_a_wrong_way_run() -> None:
    track = legs(SHIP, T0, LANE_START, [(279.0, 300)], sog=8, every_s=10)
    clean = _wrong_way(run(make_core(), track))
    assert clean and clean[0]["state"] == "raised"
    for k in (3, 8, 12, 15):
        core = make_core()
        glitched = _lane_glitch(track, k, cog=99.0)  # the right course, out of the lane
        assert _wrong_way(run(core, glitched)) == _wrong_way(run(make_core(), _without(track, track[k])))
        assert core.zones.zones_of(SHIP) >= {"tss_inbound"}
    same_in_chunks(_lane_glitch(track, 8, cog=99.0), sizes=(3, (2, 11)))


def test_a_wrong_course_outlier_just_before_a_wrong_way_turn_does_not_start_the_run() -> None:
    """Eastbound (the lane's way) for a minute, then westbound. The last eastbound fix is an
    outlier out of the lane with a westbound course: held back, it does not start the run 10 s
    early (judged one by one it would, with the lane membership it still has, while the batch mask
    leaves it out: `run` checks both)."""
    track = legs(SHIP, T0, offset(LANE_START, east_m=-600), [(99.0, 60), (279.0, 240)], sog=8, every_s=10)
    k = 5  # the last eastbound fix
    glitched = _lane_glitch(track, k, cog=279.0)
    steps = _wrong_way(run(make_core(), glitched))
    assert steps and steps == _wrong_way(run(make_core(), _without(track, track[k])))
    assert steps[0]["state"] == "raised" and steps[0]["time"] == "2026-01-15T17:03:00.000Z"  # T0 + 60 + 120


# -- reloads ------------------------------------------------------------------------------------------


def _box(center: tuple[float, float], half_m: float, zone_id: str = "operator_box") -> ZoneSettings:
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    pts = [offset(center, north_m=sy * half_m, east_m=sx * half_m) for sx, sy in corners]
    return ZoneSettings(
        id=zone_id,
        name="Operator box",
        kind="restricted",
        polygon=[(lon, lat) for lat, lon in pts],
        allowed_categories=["law_enforcement"],
        record_visits=True,
    )


def _with_box(config: Config) -> Config:
    changed = config.model_copy(deep=True)
    changed.zones = [*changed.zones, _box(OPEN_WATER, 300)]
    return changed


def _visits(steps: list[dict], zone: str = "operator_box") -> list[dict]:
    return [
        s for s in steps if s["type"] in ("zone_entry", "zone_exit", "restricted_area") and s["zone"] == zone
    ]


def test_a_held_fix_survives_a_reload_and_the_next_fix_decides() -> None:
    """A cargo ship in a restricted box; its last fix before a reload is an outlier 1.5 km north
    (held). After the reload, back inside: nothing ends; one by one and in chunks alike."""
    config = _with_box(make_config())
    before = merge(
        static(SHIP, T0 - 60, name="CARGO", ship_type=70, length=150),
        stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=10),
    )
    before.append(position(SHIP, before[-1].time + 10, offset(OPEN_WATER, north_m=1500)))
    back = stationary(SHIP, before[-1].time + 10, minutes=5, at=OPEN_WATER, every_s=10)
    away = moving(SHIP, before[-1].time + 10, minutes=5, start=offset(OPEN_WATER, north_m=1500), cog=0, sog=8)
    same = config.model_copy(deep=True)
    results = {chunk: reload_run(chunk, config, same, before, back) for chunk in (None, 1, 4, 9)}
    assert len({repr(r) for r in results.values()}) == 1
    steps = _visits(results[None])
    assert [s["state"] for s in steps if s["type"] == "restricted_area"][-1] != "cleared"
    assert not [s for s in steps if s["type"] == "zone_exit"]
    # the ship really is 1.5 km north and sails on: the next fix (10 s later) confirms the exit
    gone = _visits(reload_run(None, config, same, before, away))
    assert [s["type"] for s in gone if s["type"] == "zone_exit"] == ["zone_exit"]
    exit_ = next(s for s in gone if s["type"] == "zone_exit")
    assert exit_["details"]["crossing_time"] == "2026-01-15T17:10:20.000Z"  # the confirming fix


def test_a_zone_added_by_a_reload_finds_a_ship_heard_long_before() -> None:
    """A ship lying at a spot for 20 minutes; a reload draws a restricted, recorded box around it.
    The box's entry says found inside, not seen entering, dated from its last fix before the
    reload; restricted_area raises. Batched in any chunks the same."""
    config = make_config()
    changed = _with_box(config)
    before = merge(
        static(SHIP, T0 - 60, name="CARGO", ship_type=70, length=150),
        stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=10),
    )
    after = stationary(SHIP, before[-1].time + 10, minutes=5, at=OPEN_WATER, every_s=10)
    results = [reload_run(chunk, config, changed, before, after) for chunk in (None, 1, 6, 25)]
    assert all(r == results[0] for r in results)
    steps = _visits(results[0])
    entry = next(s for s in steps if s["type"] == "zone_entry")
    assert entry["details"]["seen_entering"] is False and entry["details"]["first_seen_inside"] is False
    assert "found inside (not seen entering)" in entry["message"]
    assert entry["details"]["crossing_time"] == "2026-01-15T17:20:00.000Z"  # the last fix before
    assert next(s["state"] for s in steps if s["type"] == "restricted_area") == "raised"


def test_a_zone_added_by_a_reload_does_not_say_first_seen_inside_of_a_ship_first_seen_elsewhere() -> None:
    config = make_config()
    changed = _with_box(config)
    inbound = moving(SHIP, T0, minutes=5.5, start=offset(OPEN_WATER, north_m=-3000), cog=0, sog=18.0)
    before = merge(
        static(SHIP, T0 - 60, name="CARGO", ship_type=70, length=150),
        inbound,
        stationary(SHIP, inbound[-1].time + 10, minutes=3, at=OPEN_WATER, every_s=10),
    )
    after = stationary(SHIP, before[-1].time + 10, minutes=5, at=OPEN_WATER, every_s=10)
    entry = next(
        s for s in _visits(reload_run(None, config, changed, before, after)) if s["type"] == "zone_entry"
    )
    assert entry["details"]["first_seen_inside"] is False
    assert "first seen inside" not in entry["message"]


def test_a_zone_removed_by_a_reload_ends_the_intrusion_at_the_next_fix() -> None:
    config = _with_box(make_config())
    removed = make_config()
    before = merge(
        static(SHIP, T0 - 60, name="CARGO", ship_type=70, length=150),
        stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=10),
    )
    after = stationary(SHIP, before[-1].time + 10, minutes=5, at=OPEN_WATER, every_s=10)
    results = [reload_run(chunk, config, removed, before, after) for chunk in (None, 3)]
    assert results[0] == results[1]
    ra = [s for s in _visits(results[0]) if s["type"] == "restricted_area"]
    assert ra[0]["state"] == "raised" and ra[-1]["state"] == "cleared"
    assert ra[-1]["time"] == "2026-01-15T17:10:10.000Z"  # the first fix after the reload


def test_held_back_is_per_fix_time_and_core_level() -> None:
    """Through the core: the outlier's report is held back, the next one is not; a shadow fix (a
    far second ship) never reaches the zone engine and leaves the note alone."""
    core = Core(make_config())
    for r in stationary(SHIP, T0, minutes=1, at=BERTH_DPWORLD, every_s=10):
        core.process(r)
    assert "security_dpworld" in core.zones.zones_of(SHIP)
    core.process(position(SHIP, T0 + 70, offset(BERTH_DPWORLD, north_m=-800)))
    assert core.zones.held_back(SHIP, T0 + 70)
    core.process(position(SHIP, T0 + 72, offset(BERTH_DPWORLD, north_m=40_000)))  # shadow track
    shadow = core.tracker.shadow(SHIP)
    assert shadow is not None and core.zones.held_back(SHIP, T0 + 70)
    core.process(position(SHIP, T0 + 80, BERTH_DPWORLD))
    assert not core.zones.held_back(SHIP, T0 + 80) and "security_dpworld" in core.zones.zones_of(SHIP)
