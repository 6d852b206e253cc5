"""course_anomaly, each kind: wrong_way, erratic, stop_after_departure, off_route."""

from __future__ import annotations

from pathlib import Path

from tests.rule_helpers import (
    ANCHORAGE,
    LANE_START,
    OPEN_WATER,
    T0,
    lane_model,
    legs,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    set_rule,
    static,
    stationary,
)

SHIP = 725000401


def kinds(alerts: list, kind: str) -> list:
    return [a for a in of_type(alerts, "course_anomaly") if a.details.get("kind") == kind]


# -- wrong_way -----------------------------------------------------------------------------------------

IN_LANE_EAST = (-12.0441, -77.1870)  # tss_inbound, direction 99
IN_LANE_WEST = (-12.0437, -77.1930)


def test_wrong_way_in_the_inbound_lane() -> None:
    track = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 240), (189.0, 150)], sog=5)
    alerts = kinds(run(make_core(), track), "wrong_way")
    assert alerts and alerts[0].zone == "tss_inbound" and alerts[0].severity == "warning"
    assert alerts[0].details["angle_off_deg"] > 90 and alerts[0].details["duration_s"] >= 120
    assert alerts[-1].state == "cleared"  # it turned out of the lane
    assert alerts[0].time >= T0 + 120


def test_wrong_way_near_misses() -> None:
    right = legs(SHIP, T0, IN_LANE_WEST, [(99.0, 240)], sog=5)
    assert kinds(run(make_core(), right), "wrong_way") == []
    brief = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 90), (99.0, 150)], sog=5)
    assert kinds(run(make_core(), brief), "wrong_way") == []
    crossing = legs(SHIP, T0, (-12.0450, -77.1900), [(9.0, 240)], sog=2.5)  # exactly 90 degrees off
    assert kinds(run(make_core(), crossing), "wrong_way") == []
    drifting_back = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 240)], sog=1.5)  # too slow for a course
    assert kinds(run(make_core(), drifting_back), "wrong_way") == []


def _on_the_line_between_the_lanes(lon: float, south_m: float) -> tuple[float, float]:
    """A point `south_m` metres south of the line where tss_inbound (099) meets tss_outbound (279),
    from the Callao configuration's shared vertices (-77.168808, -12.045759), (-77.185475, -12.043120)."""
    f = (lon - -77.168808) / (-77.185475 - -77.168808)
    lat = -12.045759 + f * (-12.043120 - -12.045759)
    return lat - south_m / 111_320.0, lon


def test_a_ship_running_along_the_line_between_the_lanes_is_not_wrong_way() -> None:
    """Outbound along the line between the lanes (as a ship leaving the access channel on its axis
    does), a few metres on the inbound side: it keeps to the edge of its own lane."""
    for south_m in (3.0, 30.0):
        track = legs(SHIP, T0, _on_the_line_between_the_lanes(-77.1780, south_m), [(279.2, 300)], sog=7)
        assert kinds(run(make_core(), track), "wrong_way") == [], south_m
    # well inside the inbound lane, the same course is wrong way
    deep = legs(SHIP, T0, _on_the_line_between_the_lanes(-77.1780, 120.0), [(279.2, 300)], sog=7)
    alerts = kinds(run(make_core(), deep), "wrong_way")
    assert alerts and alerts[0].zone == "tss_inbound"


# -- erratic -------------------------------------------------------------------------------------------


def test_zigzag_is_erratic() -> None:
    track = legs(SHIP, T0, OPEN_WATER, [(0.0, 90), (90.0, 90), (0.0, 90), (90.0, 90), (0.0, 90)], sog=8)
    alerts = kinds(run(make_core(), track), "erratic")
    assert len(alerts) == 1 and alerts[0].severity == "warning" and alerts[0].details["turns"] == 3


def test_zigzag_about_a_base_course_is_erratic() -> None:
    """Legs alternating 50 degrees either side of the mean course: no leg is 60 degrees off the mean,
    but every change of leg is a 100-degree turn."""
    plan = [(87.0, 120)] + [(35.0 if k % 2 == 0 else 138.0, 120) for k in range(6)]
    alerts = kinds(run(make_core(), legs(SHIP, T0, OPEN_WATER, plan, sog=7)), "erratic")
    assert len(alerts) == 1


def test_erratic_near_misses() -> None:
    two_turns = legs(SHIP, T0, OPEN_WATER, [(0.0, 240), (90.0, 240), (0.0, 240)], sog=8)
    assert kinds(run(make_core(), two_turns), "erratic") == []
    gentle = legs(SHIP, T0, OPEN_WATER, [(0.0, 90), (50.0, 90), (0.0, 90), (50.0, 90), (0.0, 90)], sog=8)
    assert kinds(run(make_core(), gentle), "erratic") == []
    # three turns, but spread over more than 10 minutes
    slow_turns = legs(SHIP, T0, OPEN_WATER, [(0.0, 320), (90.0, 320), (0.0, 320), (90.0, 320)], sog=8)
    assert kinds(run(make_core(), slow_turns), "erratic") == []
    fisher = merge(
        static(SHIP, T0, name="PESCADOR", ship_type=30),
        legs(SHIP, T0, OPEN_WATER, [(0.0, 90), (90.0, 90), (0.0, 90), (90.0, 90), (0.0, 90)], sog=8),
    )
    assert kinds(run(make_core(), fisher), "erratic") == []
    # single bad course-over-ground values are not turns
    straight = legs(SHIP, T0, OPEN_WATER, [(0.0, 600)], sog=8)
    glitched = [
        position(SHIP, r.time, (r.lat, r.lon), sog=r.sog, cog=180.0 if k % 9 == 4 else r.cog)  # type: ignore[arg-type]
        for k, r in enumerate(straight)
    ]
    assert kinds(run(make_core(), glitched), "erratic") == []


# -- stop_after_departure --------------------------------------------------------------------------------


def _departure(after: list[tuple[float, float, float]], *, ship_type: int = 70, length: int = 190) -> list:
    """Anchored 20 min, then west at 10 kn out of the anchorage (13 min), then `after` legs
    of (course, seconds, sog)."""
    anchored = stationary(SHIP, T0, minutes=20, at=ANCHORAGE, every_s=60, nav_status=1)
    t = T0 + 21 * 60
    out = legs(SHIP, t, ANCHORAGE, [(270.0, 780)], sog=10)
    t = out[-1].time + 10
    last = out[-1]
    for cog, seconds, sog in after:
        more = legs(SHIP, t, (last.lat, last.lon), [(cog, seconds)], sog=sog)  # type: ignore[arg-type]
        out += more
        t, last = more[-1].time + 10, more[-1]
    return merge(static(SHIP, T0, name="BULK CARRIER", ship_type=ship_type, length=length), anchored, out)


def test_stop_after_leaving_the_anchorage() -> None:
    alerts = kinds(run(make_core(), _departure([(270.0, 240, 0.8)])), "stop_after_departure")
    assert len(alerts) == 1
    a = alerts[0]
    assert a.zone == "anchorage_main" and a.details["pattern"] == "stop" and a.details["slow_s"] >= 180


def test_turning_back_after_departure() -> None:
    alerts = kinds(
        run(make_core(), _departure([(270.0, 600, 10.0), (90.0, 400, 10.0)])), "stop_after_departure"
    )
    assert len(alerts) == 1 and alerts[0].details["pattern"] == "turn_back"


def test_stop_after_departure_near_misses() -> None:
    # a two-minute slow-down
    assert (
        kinds(run(make_core(), _departure([(270.0, 120, 0.8), (270.0, 300, 10)])), "stop_after_departure")
        == []
    )
    # a small vessel (fishing type, no length) doing the same
    assert (
        kinds(
            run(make_core(), _departure([(270.0, 240, 0.8)], ship_type=30, length=15)), "stop_after_departure"
        )
        == []
    )
    # beyond 10 NM from where it left
    far = [(270.0, 3600, 12.0), (270.0, 300, 0.5)]
    assert kinds(run(make_core(), _departure(far)), "stop_after_departure") == []


def test_crossing_the_anchorage_under_way_is_no_departure() -> None:
    """Found by an independent check: a cargo ship first heard crossing anchorage_main (34 km²,
    on the way in) at 8 kn, never anchored, then slowing just outside it was reported as stopping
    after leaving it. It never lay there; the same ship having anchored first does depart."""
    core = make_core()

    def inside(p: tuple[float, float]) -> bool:
        return "anchorage_main" in {z.id for z in core.zones.zones_at(p[1], p[0])}

    start = offset(ANCHORAGE, east_m=1500)
    west = legs(SHIP, T0, start, [(270.0, 3600)], sog=8)
    k = next(i for i, r in enumerate(west) if not inside((r.lat, r.lon)))
    through = west[: k + 3]  # crosses out, under way all the time
    last = through[-1]
    slow = legs(SHIP, last.time + 10, (last.lat, last.lon), [(270.0, 8 * 60)], sog=1.0)
    ship = static(SHIP, T0, name="BULK CARRIER", ship_type=70, length=190)
    assert kinds(run(make_core(), merge(ship, through, slow)), "stop_after_departure") == []
    anchored = stationary(SHIP, T0 - 1800, minutes=20, at=start, every_s=60, sog=0.1)  # lay there first
    lay_then_go = merge(ship, anchored, through, slow)
    assert len(kinds(run(make_core(), lay_then_go), "stop_after_departure")) == 1


# -- off_route -----------------------------------------------------------------------------------------


def _core_with_model(model: Path, **params: object):  # type: ignore[no-untyped-def]
    """The Callao config with the learned model, judged as at a port whose approach is not
    configured (`off_route_approach_kinds` empty: every ship is judged, wherever it came from)
    unless `params` say otherwise."""
    params = {"off_route_approach_kinds": [], **params}
    return make_core(set_rule(make_config(), "course_anomaly", model_path=str(model), **params))


def _leaves_the_lane(minutes_away: float, ship_type: int = 70, ais_class: str = "A") -> list:
    """12 min east along the learned line, 6 min south away from it, then `minutes_away` east."""
    plan = [(90.0, 720), (180.0, 360), (90.0, minutes_away * 60)]
    track = legs(SHIP, T0, LANE_START, plan, sog=12)
    if ais_class == "B":
        from dataclasses import replace

        track = [replace(r, ais_class="B", msg_type=18) for r in track]
        return track
    return merge(static(SHIP, T0, name="CARGO", ship_type=ship_type, length=180), track)


def test_off_route_after_leaving_where_ships_go(tmp_path: Path) -> None:
    alerts = kinds(run(_core_with_model(lane_model(tmp_path)), _leaves_the_lane(14)), "off_route")
    assert alerts and alerts[0].state == "raised" and alerts[0].severity == "caution"
    assert alerts[0].details["anomaly"] >= 0.6 and alerts[0].details["window_s"] >= 600
    assert alerts[0].time >= T0 + 720 + 300  # some minutes after it left the line


def test_off_route_near_misses(tmp_path: Path) -> None:
    model = lane_model(tmp_path)
    on_lane = merge(
        static(SHIP, T0, name="CARGO", ship_type=70, length=180),
        moving(SHIP, T0, minutes=30, start=LANE_START, cog=90, sog=10),
    )
    assert kinds(run(_core_with_model(model), on_lane), "off_route") == []
    # a short excursion: 2 min out and 2 min back
    excursion = legs(SHIP, T0, LANE_START, [(90.0, 720), (180.0, 120), (0.0, 120), (90.0, 600)], sog=12)
    excursion = merge(static(SHIP, T0, name="CARGO", ship_type=70, length=180), excursion)
    assert kinds(run(_core_with_model(model), excursion), "off_route") == []
    # a small craft may go anywhere
    assert kinds(run(_core_with_model(model), _leaves_the_lane(14, ais_class="B")), "off_route") == []
    # first met off the routes: it never left them
    never_on = merge(
        static(SHIP, T0, name="CARGO", ship_type=70, length=180),
        moving(SHIP, T0, minutes=25, start=offset(LANE_START, north_m=-4000), cog=90, sog=10),
    )
    assert kinds(run(_core_with_model(model), never_on), "off_route") == []


def _static_comes_late(ship_type: int, length: int) -> list:
    """`_leaves_the_lane(14)`, but the ship's static data gets through only at the 13th minute, as it
    turns off the line (two static reports lost): until then a Class A target of unknown size."""
    plan = [(90.0, 720), (180.0, 360), (90.0, 14 * 60)]
    return merge(
        legs(SHIP, T0, LANE_START, plan, sog=12),
        static(SHIP, T0 + 780, name="CARGO", ship_type=ship_type, length=length),
    )


def test_off_route_for_a_ship_whose_static_data_came_late(tmp_path: Path) -> None:
    """Its fixes on the line count as "seen on the routes" before its size is known; it is raised
    once its static data shows a large ship, not before."""
    alerts = kinds(run(_core_with_model(lane_model(tmp_path)), _static_comes_late(70, 180)), "off_route")
    assert alerts and alerts[0].state == "raised" and alerts[0].time >= T0 + 780


def test_no_off_route_when_the_late_static_data_shows_a_small_craft(tmp_path: Path) -> None:
    assert kinds(run(_core_with_model(lane_model(tmp_path)), _static_comes_late(30, 15)), "off_route") == []


def _with_anchorage(model: Path, centre: tuple[float, float], kind: str = "anchorage"):  # type: ignore[no-untyped-def]
    """The Callao config with the learned model and one more zone, 2 km square around `centre`."""
    from vts.config import ZoneSettings

    config = set_rule(make_config(), "course_anomaly", model_path=str(model), off_route_approach_kinds=[])
    corners = [
        offset(centre, north_m=n, east_m=e)
        for n, e in ((-1000, -1000), (-1000, 1000), (1000, 1000), (1000, -1000))
    ]
    ring = [(lon, lat) for lat, lon in [*corners, corners[0]]]
    config.zones.append(ZoneSettings(id="test_anchorage", name="Test anchorage", kind=kind, polygon=ring))  # type: ignore[arg-type]
    return make_core(config)


def _to_anchor(minutes_south: float) -> list:
    """12 min east along the learned line, then south, off every route, for `minutes_south`."""
    track = legs(SHIP, T0, LANE_START, [(90.0, 720), (180.0, minutes_south * 60)], sog=12)
    return merge(static(SHIP, T0, name="CARGO", ship_type=70, length=180), track)


# where `_to_anchor` turns south (12 min at 12 kn east of LANE_START), and 5 km south of it
TURN = offset(LANE_START, east_m=12 * 60 * 12 * 1852 / 3600)
ANCHOR_AHEAD = offset(TURN, north_m=-5000)


def test_off_route_not_for_a_ship_making_for_an_anchorage_by_an_unusual_way(tmp_path: Path) -> None:
    """Ships go to anchor wherever a berth in the anchorage is free, by ways the learned model may not
    hold: one sailing into an anchorage is going where ships go."""
    model = lane_model(tmp_path)
    # control: the same track with no anchorage ahead is off the routes
    assert kinds(run(_core_with_model(model), _to_anchor(14)), "off_route")
    # with the anchorage 5 km ahead (inside 10 min at 12 kn from the turn): silent, all the way in
    assert kinds(run(_with_anchorage(model, ANCHOR_AHEAD), _to_anchor(14)), "off_route") == []
    # a waiting area counts as well; a zone of another kind does not
    assert kinds(run(_with_anchorage(model, ANCHOR_AHEAD, "waiting_area"), _to_anchor(14)), "off_route") == []
    assert kinds(run(_with_anchorage(model, ANCHOR_AHEAD, "fishing_dock"), _to_anchor(14)), "off_route")


def test_off_route_still_raised_when_the_anchorage_is_beyond_the_window_or_off_the_course(
    tmp_path: Path,
) -> None:
    model = lane_model(tmp_path)
    # 9 km ahead: more than 10 min away at 12 kn (3.7 km) for the first fixes of the leg
    far = offset(TURN, north_m=-9000)
    assert kinds(run(_with_anchorage(model, far), _to_anchor(10)), "off_route")
    # beside the course (3 km east of it): the course does not lead into it
    beside = offset(TURN, north_m=-5000, east_m=3000)
    assert kinds(run(_with_anchorage(model, beside), _to_anchor(14)), "off_route")


def test_a_zig_zag_beside_an_anchorage_neither_flaps_nor_is_raised_sooner(tmp_path: Path) -> None:
    """A ship zig-zagging off the routes beside an anchorage, every other leg pointing into it: every
    fix goes into the window (leaving out those that point at the anchorage would keep only the
    others and raise it sooner), and the alert, once up, is not ended by a leg pointing in (it
    would flap with each leg); it ends inside the anchorage only."""
    model = lane_model(tmp_path)
    plan = [(90.0, 720), (180.0, 360)] + [(135.0, 60), (45.0, 60)] * 10
    track = merge(
        static(SHIP, T0, name="CARGO", ship_type=70, length=180), legs(SHIP, T0, LANE_START, plan, sog=12)
    )
    without = kinds(run(_core_with_model(model), track), "off_route")
    assert without and without[0].state == "raised"
    beside = offset(LANE_START, north_m=-4000, east_m=8000)  # the 135-degree legs lead into it
    alerts = kinds(run(_with_anchorage(model, beside), track), "off_route")
    assert alerts and alerts[0].time >= without[0].time
    assert [a.state for a in alerts if a.state != "updated"] == ["raised"]  # up to the end


def test_an_off_route_alert_ends_when_the_ship_is_in_an_anchorage(tmp_path: Path) -> None:
    model = lane_model(tmp_path)
    # off the line (south 6 min, east 14 min: raised, see above), then south into an anchorage 3-5 km
    # south of where it turns again (its edge some 8 min away at 12 kn)
    end = offset(LANE_START, north_m=-6 * 60 * 12 * 1852 / 3600, east_m=(12 + 14) * 60 * 12 * 1852 / 3600)
    plan = [(90.0, 720), (180.0, 360), (90.0, 14 * 60), (180.0, 600)]
    track = merge(
        static(SHIP, T0, name="CARGO", ship_type=70, length=180), legs(SHIP, T0, LANE_START, plan, sog=12)
    )
    alerts = kinds(run(_with_anchorage(model, offset(end, north_m=-4000)), track), "off_route")
    assert alerts[0].state == "raised" and alerts[-1].state == "cleared"
    assert "in Test anchorage" in alerts[-1].message
    inside = T0 + (12 + 6 + 14) * 60 + 3000 / (12 * 1852 / 3600)  # at its edge
    assert inside <= alerts[-1].time <= inside + 30


def test_off_route_is_off_without_a_model_or_with_a_broken_one(tmp_path: Path) -> None:
    away = merge(
        static(SHIP, T0, name="CARGO", ship_type=70, length=180),
        moving(SHIP, T0, minutes=10, start=offset(LANE_START, north_m=-4000), cog=90, sog=10),
    )
    assert kinds(run(make_core(), away), "off_route") == []
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a model")
    assert kinds(run(_core_with_model(broken), away), "off_route") == []


def test_stop_just_outside_after_sailing_across_the_anchorage() -> None:
    """Under way inside a large anchorage, slowing as it crosses out and lying just outside: the
    departure counts from the speed it had before the exit (it never makes 4 kn outside)."""
    core = make_core()

    def inside(p: tuple[float, float]) -> bool:
        return "anchorage_main" in {z.id for z in core.zones.zones_at(p[1], p[0])}

    anchored = stationary(SHIP, T0, minutes=20, at=ANCHORAGE, every_s=60, nav_status=1)
    west = legs(SHIP, T0 + 21 * 60, ANCHORAGE, [(270.0, 3600)], sog=10)
    k = next(i for i, r in enumerate(west) if not inside((r.lat, r.lon)))  # first fix outside
    fast = west[: max(1, k - 6)]  # at 10 kn until a minute before the edge
    last = fast[-1]
    slow = legs(SHIP, last.time + 10, (last.lat, last.lon), [(270.0, 20 * 60)], sog=1.5)
    assert inside((last.lat, last.lon)) and not inside((slow[-1].lat, slow[-1].lon))
    assert all(r.sog is not None and r.sog < 4 for r in slow)
    reports = merge(static(SHIP, T0, name="BULK CARRIER", ship_type=70, length=190), anchored, fast, slow)
    alerts = kinds(run(core, reports), "stop_after_departure")
    assert len(alerts) == 1 and alerts[0].zone == "anchorage_main" and alerts[0].details["pattern"] == "stop"
    # the same slow crossing by a ship that was never under way (it dragged out at 1.5 kn): nothing
    near_edge = (last.lat, last.lon)
    settled = stationary(SHIP, T0, minutes=20, at=near_edge, every_s=60, nav_status=1)
    crept = legs(SHIP, T0 + 21 * 60, near_edge, [(270.0, 20 * 60)], sog=1.5)
    assert not inside((crept[-1].lat, crept[-1].lon))
    quiet = merge(static(SHIP, T0, name="BULK CARRIER", ship_type=70, length=190), settled, crept)
    assert kinds(run(make_core(), quiet), "stop_after_departure") == []


def _with_approach(model: Path, centre: tuple[float, float], **params: object):  # type: ignore[no-untyped-def]
    """The Callao config with the learned model, its approach (lanes, channel, entrance) replaced
    by one channel zone, 1 km square around `centre`."""
    from vts.config import ZoneSettings

    config = set_rule(make_config(), "course_anomaly", model_path=str(model), **params)
    config.zones = [z for z in config.zones if z.kind not in ("lane", "channel", "entrance")]
    corners = [
        offset(centre, north_m=n, east_m=e) for n, e in ((-500, -500), (-500, 500), (500, 500), (500, -500))
    ]
    ring = [(lon, lat) for lat, lon in [*corners, corners[0]]]
    config.zones.append(ZoneSettings(id="test_channel", name="Test channel", kind="channel", polygon=ring))  # type: ignore[arg-type]
    return make_core(config)


def test_off_route_is_for_a_ship_leaving_the_approach(tmp_path: Path) -> None:
    """The definition's ship is "bound for Callao" and "leaves the usual approach (the lanes and the
    channel)". An independent check with traffic from another generator raised off_route on three
    ordinary ships that never came near the approach (northbound to Chancay 6 km west of it, arriving
    from the north round the anchorage) where the model, learned from simulated traffic, knew no such
    courses. The same track turning off the learned line is raised when the turn is within 3 km
    (`off_route_approach_m`) of the approach, within the last 30 minutes; not when the approach lies
    10 km away, nor when the ship passed it too long before the alert."""
    model = lane_model(tmp_path)
    near = kinds(run(_with_approach(model, TURN), _leaves_the_lane(14)), "off_route")
    assert near and near[0].state == "raised"
    elsewhere = _with_approach(model, offset(LANE_START, north_m=10_000))
    assert kinds(run(elsewhere, _leaves_the_lane(14)), "off_route") == []
    passed_at_start = kinds(run(_with_approach(model, LANE_START), _leaves_the_lane(14)), "off_route")
    assert passed_at_start and passed_at_start[0].state == "raised"  # some 9 minutes after leaving it
    long_ago = _with_approach(model, LANE_START, off_route_approach_minutes=5)
    assert kinds(run(long_ago, _leaves_the_lane(14)), "off_route") == []


def test_off_route_is_not_for_a_ship_leaving_the_port(tmp_path: Path) -> None:
    """Found with an independent traffic generator: departures that left the outbound lane and turned
    north for Chancay, or south round San Lorenzo, by ways the model did not hold, were raised: they
    had been on the approach, outbound. A fix counts as on the approach only heading for the port (its
    course within 90 degrees of the bearing to the harbour). Mirror image of the arrival above: the
    learned line runs west, the ship sails it west past the channel zone and turns off south."""
    end = offset(LANE_START, east_m=9000)  # the line runs west from here to LANE_START
    model = lane_model(tmp_path, start=end, cog=270.0, name="westbound")
    departing = merge(
        static(SHIP, T0, name="CARGO", ship_type=70, length=180),
        legs(SHIP, T0, end, [(270.0, 720), (180.0, 360), (270.0, 14 * 60)], sog=12),
    )
    turn = offset(end, east_m=-12 * 60 * 12 * 1852 / 3600)
    assert kinds(run(_with_approach(model, turn), departing), "off_route") == []
    # the same departure judged at a port with no approach configured: it is off the routes
    assert kinds(run(_core_with_model(model), departing), "off_route")
