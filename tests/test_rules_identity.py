"""Identity and data-integrity rules: invalid_mmsi, identity_change, distress, duplicate_mmsi,
position_jump. Hand-made reports through a real Core (tracker, zones, engine)."""

from __future__ import annotations

import pytest

from tests.rule_helpers import (
    BERTH_DPWORLD,
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    same_in_chunks,
    stationary,
)
from vts.alerts.model import Alert
from vts.reports import PositionReport, Report, SafetyReport, StaticReport
from vts.rules.identity_change import imo_is_valid

SHIP = 725000101
OTHER = 725000102
ON_LAND = (-12.08, -77.22)  # San Lorenzo island


def static5(mmsi: int, t: float, **kw: object) -> StaticReport:
    return StaticReport(time=t, mmsi=mmsi, msg_type=5, source="test", **kw)  # type: ignore[arg-type]


def safety(mmsi: int, t: float, text: str) -> SafetyReport:
    return SafetyReport(time=t, mmsi=mmsi, msg_type=14, source="test", text=text)


# -- invalid_mmsi -----------------------------------------------------------------------------------


def test_mmsi_zero_sentence_raises_invalid_mmsi_end_to_end() -> None:
    """A transponder sending MMSI 000000000 is decoded, tracked and reported, not silently dropped."""
    from pyais.encode import encode_dict

    core = make_core()
    lat, lon = OPEN_WATER
    alerts = []
    for i in range(3):
        (sentence,) = encode_dict(
            {"type": 1, "mmsi": 0, "lat": lat, "lon": lon, "speed": 4, "course": 90}, sentence_type="VDM"
        )
        t = int(T0) + 10 * i
        alerts += core.feed_line(sentence, "test", received=float(t))
    hits = of_type(alerts, "invalid_mmsi")
    assert len(hits) == 1 and hits[0].mmsi == 0


def test_invalid_mmsi_fires_once_on_the_first_report() -> None:
    bad = 217000001  # MID 217 belongs to no country
    alerts = of_type(
        run(make_core(), stationary(bad, T0, minutes=5, at=OPEN_WATER, every_s=10)), "invalid_mmsi"
    )
    assert len(alerts) == 1
    a = alerts[0]
    assert a.mmsi == bad and a.severity == "caution" and a.state == "raised"
    assert "217" in a.details["problem"] and a.time == T0


def test_placeholder_mmsi_is_invalid() -> None:
    alerts = of_type(run(make_core(), stationary(123456789, T0, minutes=1, at=OPEN_WATER)), "invalid_mmsi")
    assert len(alerts) == 1 and "placeholder" in alerts[0].details["problem"]


def test_special_formats_are_not_flagged() -> None:
    mmsis = [760000001, 987601234, 876012345, 111760123, 997601234, 970010001]
    reports = merge(*(stationary(m, T0, minutes=2, at=OPEN_WATER, every_s=20) for m in mmsis))
    assert of_type(run(make_core(), reports), "invalid_mmsi") == []


def test_invalid_mmsi_escalates_when_inside_a_security_zone() -> None:
    bad = 217000002
    alerts = of_type(
        run(make_core(), stationary(bad, T0, minutes=2, at=BERTH_DPWORLD, every_s=15)), "invalid_mmsi"
    )
    assert [a.severity for a in alerts] == ["caution", "warning"]
    assert alerts[1].zone is not None and alerts[1].zone.startswith("security")


# -- identity_change --------------------------------------------------------------------------------


def test_imo_check_digit() -> None:
    assert imo_is_valid(9074729) and imo_is_valid(9176187)
    assert not imo_is_valid(9074728) and not imo_is_valid(123456) and not imo_is_valid(0)


def _named(t: float, name: str, **kw: object) -> StaticReport:
    return static5(SHIP, t, name=name, callsign="OBC123", imo=9074729, ship_type=70, **kw)


def test_name_change_is_one_warning_event() -> None:
    reports = merge(stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=60), _named(T0, "SANTA ROSA"))
    reports = merge(reports, _named(T0 + 600, "OCEAN STAR"))
    alerts = of_type(run(make_core(), reports), "identity_change")
    assert len(alerts) == 1
    a = alerts[0]
    assert a.severity == "warning" and a.details["kind"] == "change"
    assert a.details["changes"] == [{"field": "name", "old": "SANTA ROSA", "new": "OCEAN STAR"}]


def test_padding_case_and_missing_fields_are_not_changes() -> None:
    reports = merge(
        stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=60),
        _named(T0, "SANTA ROSA"),
        _named(T0 + 300, "santa  rosa@@@"),
        static5(SHIP, T0 + 400, name="SANTA ROSA"),  # a report without call sign, IMO or type
        static5(SHIP, T0 + 500, name="SANTA ROSA", ship_type=0, imo=0),  # "not available"
    )
    assert of_type(run(make_core(), reports), "identity_change") == []


def test_two_names_alternating_report_once() -> None:
    statics = [_named(T0 + i * 900, "ALFA" if i % 2 == 0 else "BRAVO") for i in range(6)]
    reports = merge(stationary(SHIP, T0, minutes=90, at=OPEN_WATER, every_s=120), *statics)
    assert len(of_type(run(make_core(), reports), "identity_change")) == 1


def test_dimensions_change_beyond_tolerance() -> None:
    def dims(t: float, length: int) -> StaticReport:
        return static5(
            SHIP, t, name="X", to_bow=length // 2, to_stern=length - length // 2, to_port=10, to_starboard=10
        )

    small = merge(
        stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=60), dims(T0, 180), dims(T0 + 60, 181)
    )
    assert of_type(run(make_core(), small), "identity_change") == []
    big = merge(
        stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=60), dims(T0, 180), dims(T0 + 60, 120)
    )
    alerts = of_type(run(make_core(), big), "identity_change")
    assert len(alerts) == 1 and alerts[0].severity == "caution"
    assert alerts[0].details["changes"][0]["field"] == "length_m"


def test_imo_failing_check_digit_and_shared_imo() -> None:
    reports = merge(
        stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=60),
        stationary(OTHER, T0, minutes=10, at=offset(OPEN_WATER, 2000), every_s=60),
        static5(SHIP, T0 + 5, name="A", imo=9074728),
        static5(SHIP, T0 + 65, name="A", imo=9074728),
        static5(OTHER, T0 + 10, name="B", imo=9176187),
        static5(SHIP, T0 + 400, name="A", imo=9176187),
    )
    alerts = of_type(run(make_core(), reports), "identity_change")
    kinds = [(a.mmsi, a.details["kind"]) for a in alerts]
    assert (SHIP, "invalid_imo") in kinds and kinds.count((SHIP, "invalid_imo")) == 1
    shared = [a for a in alerts if a.details["kind"] == "shared_imo"]
    assert len(shared) == 1 and shared[0].other_mmsi == OTHER


# -- distress -----------------------------------------------------------------------------------------


def test_active_sart_is_an_emergency_at_once_and_only_once() -> None:
    sart = 970010001
    reports = merge(
        stationary(sart, T0, minutes=10, at=OPEN_WATER, every_s=60, nav_status=14),
        [safety(sart, T0 + 1, "SART ACTIVE")],
    )
    alerts = of_type(run(make_core(), reports), "distress")
    assert len(alerts) == 1
    assert (
        alerts[0].severity == "emergency" and alerts[0].time == T0 and alerts[0].details["device"] == "sart"
    )


def test_sart_in_test_mode_is_caution_and_escalates_when_activated() -> None:
    sart = 970010002
    reports = merge(
        stationary(sart, T0, minutes=3, at=OPEN_WATER, every_s=60),  # nav status 15 -> None
        [safety(sart, T0 + 1, "SART TEST")],
        stationary(sart, T0 + 240, minutes=3, at=OPEN_WATER, every_s=60, nav_status=14),
    )
    alerts = of_type(run(make_core(), reports), "distress")
    assert [a.severity for a in alerts] == ["caution", "emergency"]
    assert alerts[0].details["mode"] == "test"


def test_mob_and_epirb_and_not_ordinary_ships() -> None:
    reports = merge(
        [safety(972010003, T0, "MOB ACTIVE")],
        stationary(974010004, T0, minutes=1, at=OPEN_WATER, nav_status=14),
        stationary(SHIP, T0, minutes=5, at=OPEN_WATER, nav_status=14),
    )
    alerts = of_type(run(make_core(), reports), "distress")
    assert sorted((a.mmsi, a.details["device"]) for a in alerts) == [(972010003, "mob"), (974010004, "epirb")]
    assert all(a.severity == "emergency" for a in alerts)


def test_distress_rearms_after_silence() -> None:
    sart = 970010005
    reports = merge(
        stationary(sart, T0, minutes=2, at=OPEN_WATER, every_s=60, nav_status=14),
        stationary(sart, T0 + 3600, minutes=2, at=OPEN_WATER, every_s=60, nav_status=14),
    )
    assert len(of_type(run(make_core(), reports), "distress")) == 2


# -- duplicate_mmsi -----------------------------------------------------------------------------------

FAR = offset(OPEN_WATER, north_m=30_000)  # 16 NM away: no ship covers that between two reports


def test_two_ships_under_one_mmsi() -> None:
    first = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=20)
    second = moving(SHIP, T0 + 310, minutes=10, start=FAR, cog=180, sog=8, every_s=30)
    alerts = run(make_core(), merge(first, second))
    dup = of_type(alerts, "duplicate_mmsi")
    assert dup and dup[0].state == "raised" and dup[0].severity == "warning"
    assert dup[0].details["conflicts"] >= 3 and dup[0].details["separation_m"] > 20_000
    assert all(a.mmsi == SHIP for a in dup)
    jumps = of_type(alerts, "position_jump")
    assert len(jumps) <= 1  # the shadow's appearance at most, never a flood


def test_two_ships_a_few_km_apart_interleave_on_one_track() -> None:
    """4 km apart: inside the (10 min + dt) x 25 kn allowance, so the tracker keeps one track; the
    alternation between two places is still two ships."""
    first = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=10)
    fisher = moving(
        SHIP, T0 + 305, minutes=10, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=5, every_s=30
    )
    alerts = run(make_core(), merge(first, fisher), until=T0 + 1800)
    dup = of_type(alerts, "duplicate_mmsi")
    assert dup and dup[0].state == "raised" and dup[0].details["kind"] == "interleaved"
    assert 3500 < dup[0].details["separation_m"] < 5000
    assert len(of_type(alerts, "position_jump")) <= 1


@pytest.mark.parametrize("mmsi", [0, 123456789, 1193046])
def test_a_placeholder_mmsi_shared_by_ships_is_invalid_not_a_duplicate_or_a_jump(mmsi: int) -> None:
    """Unrelated transmitters under a placeholder MMSI jump and interleave as a matter of course:
    invalid_mmsi says what is wrong; the same tracks under a real MMSI are a duplicate and jumps."""

    def two_ships(m: int) -> list[Report]:
        first = moving(m, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=20)
        return merge(first, moving(m, T0 + 310, minutes=10, start=FAR, cog=180, sog=8, every_s=30))

    def outlier(m: int) -> list[Report]:
        track = moving(m, T0, minutes=15, start=OPEN_WATER, cog=90, sog=8, every_s=20)
        return merge(track, [position(m, T0 + 305, FAR, sog=8, cog=90)])

    assert of_type(run(make_core(), two_ships(SHIP), until=T0 + 1800), "duplicate_mmsi")
    assert of_type(run(make_core(), outlier(SHIP), until=T0 + 1800), "position_jump")
    for shared in (two_ships(mmsi), outlier(mmsi)):
        alerts = run(make_core(), shared, until=T0 + 1800)
        assert of_type(alerts, "duplicate_mmsi") == [] and of_type(alerts, "position_jump") == []
        assert [a.state for a in of_type(alerts, "invalid_mmsi")] == ["raised"]
        same_in_chunks(shared, until=T0 + 1800)


def test_a_position_that_jumps_once_and_stays_is_no_duplicate() -> None:
    before = moving(SHIP, T0, minutes=6, start=OPEN_WATER, cog=90, sog=8, every_s=10)
    after = moving(
        SHIP, T0 + 370, minutes=10, start=offset(OPEN_WATER, north_m=3000), cog=90, sog=8, every_s=10
    )
    alerts = run(make_core(), merge(before, after), until=T0 + 1800)
    assert of_type(alerts, "duplicate_mmsi") == []
    assert len(of_type(alerts, "position_jump")) == 1


def test_single_outlier_is_no_duplicate_but_a_jump() -> None:
    track = moving(SHIP, T0, minutes=15, start=OPEN_WATER, cog=90, sog=8, every_s=20)
    outlier = position(SHIP, T0 + 305, FAR, sog=8, cog=90)
    alerts = run(make_core(), merge(track, outlier))
    assert of_type(alerts, "duplicate_mmsi") == []
    jumps = of_type(alerts, "position_jump")
    assert len(jumps) == 1 and jumps[0].details["kind"] == "jump"


def test_duplicate_clears_when_the_second_ship_is_gone() -> None:
    first = moving(SHIP, T0, minutes=60, start=OPEN_WATER, cog=90, sog=5, every_s=30)
    second = moving(SHIP, T0 + 310, minutes=6, start=FAR, cog=180, sog=8, every_s=30)
    states = [a.state for a in of_type(run(make_core(), merge(first, second)), "duplicate_mmsi")]
    assert states[0] == "raised" and states[-1] == "cleared"


# -- position_jump -------------------------------------------------------------------------------------


def _jump_track(distance_m: float, dt: float, sog: float) -> list:
    before = stationary(SHIP, T0, minutes=3, at=OPEN_WATER, every_s=dt, sog=sog, cog=90)
    t1 = before[-1].time + dt
    after = stationary(
        SHIP, t1, minutes=3, at=offset(OPEN_WATER, east_m=distance_m), every_s=dt, sog=sog, cog=90
    )
    return merge(before, after)


def test_jump_over_the_implied_speed_limit_fires_once() -> None:
    alerts = of_type(run(make_core(), _jump_track(700, 30, 10), until=T0 + 900), "position_jump")
    assert len(alerts) == 1
    d = alerts[0].details
    assert d["kind"] == "jump" and d["implied_speed_kn"] > 40 and alerts[0].severity == "caution"


def test_jump_near_misses_stay_silent() -> None:
    # 600 m in 30 s = 36 kn implied: under 40 kn
    assert of_type(run(make_core(), _jump_track(600, 30, 10), until=T0 + 900), "position_jump") == []
    # 1,000 m in 30 s at SOG 25 kn: 60 kn allowed (2 x 25 + 10), 61 kn implied with slack ... just under
    assert of_type(run(make_core(), _jump_track(900, 30, 25), until=T0 + 900), "position_jump") == []
    # GPS jitter: 250 m in 10 s (49 kn implied) is under the minimum jump distance
    assert of_type(run(make_core(), _jump_track(250, 10, 0), until=T0 + 900), "position_jump") == []
    # an honest 30 kn ship
    fast = moving(SHIP, T0, minutes=10, start=OPEN_WATER, cog=45, sog=30, every_s=2)
    assert of_type(run(make_core(), fast, until=T0 + 900), "position_jump") == []


def test_position_at_zero_zero_and_on_land() -> None:
    reports = merge(
        stationary(SHIP, T0, minutes=5, at=OPEN_WATER, every_s=30),
        position(SHIP, T0 + 305, (0.0, 0.0)),
        stationary(SHIP, T0 + 320, minutes=2, at=OPEN_WATER, every_s=30),
        stationary(OTHER, T0, minutes=3, at=offset(ON_LAND, north_m=0), every_s=30),
    )
    alerts = of_type(run(make_core(), reports, until=T0 + 900), "position_jump")
    kinds = sorted((a.mmsi, a.details["kind"]) for a in alerts)
    assert kinds == [(SHIP, "null_island"), (OTHER, "on_land")]


def test_many_vessels_jumping_to_one_place_is_one_interference_alert() -> None:
    fleet = [725000200 + k for k in range(6)]
    spoofed = offset(OPEN_WATER, north_m=4000, east_m=1000)
    streams = []
    for k, m in enumerate(fleet):
        start = offset(OPEN_WATER, north_m=-300 * k)
        streams.append(stationary(m, T0, minutes=3, at=start, every_s=10, sog=0.2))
        streams.append(stationary(m, T0 + 190 + k, minutes=3, at=offset(spoofed, east_m=20 * k), every_s=10))
    alerts = of_type(run(make_core(), merge(*streams), until=T0 + 900), "position_jump")
    assert len(alerts) == 1
    assert alerts[0].details["kind"] == "gnss_interference"
    assert sorted(alerts[0].details["mmsis"]) == fleet


def test_arrival_stamped_feeds_are_judged_by_the_fixes_own_seconds() -> None:
    """Satellite AIS stamps the downlink, not the transmission: two fixes three minutes apart may
    arrive one second apart. Their UTC-second fields tell; a jump is then judged on those."""
    from dataclasses import replace

    base = stationary(SHIP, T0, minutes=2, at=OPEN_WATER, every_s=10, sog=12, cog=90)
    base = [replace(r, second=int(r.time) % 60) for r in base]
    t = base[-1].time + 1
    far = offset(OPEN_WATER, east_m=1100)  # 3 min at 12 kn, 1 s later by the feed's clock
    late = [
        replace(position(SHIP, t + k, far, sog=12, cog=90), second=(int(t) + 170 + k) % 60) for k in range(3)
    ]
    assert of_type(run(make_core(), merge(base, late), until=T0 + 900), "position_jump") == []
    # the same distance sideways, seconds agreeing with the feed's clock: a real jump
    aside = offset(OPEN_WATER, north_m=1100)
    honest = [
        replace(position(SHIP, t + k, aside, sog=12, cog=90), second=(int(t) + k) % 60) for k in range(3)
    ]
    alerts = of_type(run(make_core(), merge(base, honest), until=T0 + 900), "position_jump")
    assert len(alerts) == 1 and alerts[0].details["timing"] == "event_time"


def test_a_satellite_fix_held_back_for_forty_minutes_is_the_same_ship_not_a_jump() -> None:
    """A satellite downlink can deliver a fix taken forty minutes after the previous one a few
    minutes later: the seconds disagree with the feed's clock (timing "fix_seconds"), and a move
    along the ship's course that its speed explains within the longest gap compared is the same ship
    seen late. Off its course, a move the feed's clock cannot explain is still a jump."""
    from dataclasses import replace

    base = stationary(SHIP, T0, minutes=2, at=OPEN_WATER, every_s=10, sog=12, cog=270)
    base = [replace(r, second=int(r.time) % 60) for r in base]
    t = base[-1].time + 300  # five minutes by the feed's clock ...
    far = offset(OPEN_WATER, east_m=-15_000)  # ... forty minutes at 12 kn along course 270 (seaward)
    late = [
        replace(position(SHIP, t + k, far, sog=12, cog=270), second=(int(t) + 27 + k) % 60) for k in range(3)
    ]
    assert of_type(run(make_core(), merge(base, late), until=T0 + 1800), "position_jump") == []
    aside = offset(OPEN_WATER, north_m=-25_000)  # off its course, and too far for the feed's clock
    off_course = [
        replace(position(SHIP, t + k, aside, sog=12, cog=270), second=(int(t) + 27 + k) % 60)
        for k in range(3)
    ]
    alerts = of_type(run(make_core(), merge(base, off_course), until=T0 + 1800), "position_jump")
    assert len(alerts) == 1 and alerts[0].details["timing"] == "fix_seconds"


def _fixes_from(source: str, reports: list[PositionReport], lags: list[int]) -> list[PositionReport]:
    """The reports as `source` delivers them: each stamped `lag` seconds after the fix it carries."""
    from dataclasses import replace

    return [
        replace(r, source=source, second=int(r.time - lag) % 60) for r, lag in zip(reports, lags, strict=True)
    ]


def test_on_a_feed_seen_to_stamp_arrival_a_fix_seventy_minutes_late_along_course_is_no_jump() -> None:
    """Most of a satellite feed's fixes arrive late by a scattered amount (`vts.feed_clock`). A fix
    held back for seventy minutes whose seconds happen to agree with the feed's clock is then still
    the same ship seen late; on a terrestrial feed the same pair is a jump."""
    from dataclasses import replace

    def scenario(source: str, background_lags: list[int]) -> list[Alert]:
        other = stationary(OTHER, T0 - 600, minutes=10, at=offset(OPEN_WATER, north_m=20_000), every_s=10)
        background = _fixes_from(source, other, background_lags)
        base = stationary(SHIP, T0, minutes=2, at=OPEN_WATER, every_s=10, sog=12, cog=270)
        base = [replace(r, source=source, second=int(r.time) % 60) for r in base]
        t = base[-1].time + 300  # five minutes by the feed's clock ...
        far = offset(OPEN_WATER, east_m=-25_900)  # ... seventy minutes at 12 kn along course 270
        late = [
            replace(position(SHIP, t + k, far, sog=12, cog=270), source=source, second=(int(t) + k) % 60)
            for k in range(3)
        ]  # seconds agree with the feed's clock: by chance
        reports = merge(background, base, late)
        same_in_chunks(reports, until=T0 + 1800)
        return of_type(run(make_core(), reports, until=T0 + 1800), "position_jump")

    assert scenario("satellite", [(k * 1237) % 3000 for k in range(61)]) == []
    alerts = scenario("terrestrial", [1] * 61)
    assert len(alerts) == 1 and alerts[0].details["timing"] == "event_time"


def test_on_a_feed_seen_to_stamp_arrival_fixes_without_seconds_get_the_wide_allowance() -> None:
    from dataclasses import replace

    other = stationary(OTHER, T0 - 600, minutes=10, at=offset(OPEN_WATER, north_m=20_000), every_s=10)
    background = _fixes_from("satellite", other, [(k * 1237) % 3000 for k in range(61)])
    base = [replace(r, source="satellite") for r in stationary(SHIP, T0, minutes=2, at=OPEN_WATER, sog=12)]
    t = base[-1].time
    near = [replace(position(SHIP, t + 5, offset(OPEN_WATER, north_m=1500), sog=12), source="satellite")]
    assert of_type(run(make_core(), merge(background, base, near), until=T0 + 900), "position_jump") == []
    far = [replace(position(SHIP, t + 5, offset(OPEN_WATER, north_m=30_000), sog=12), source="satellite")]
    alerts = of_type(run(make_core(), merge(background, base, far), until=T0 + 900), "position_jump")
    assert len(alerts) == 1 and alerts[0].details["timing"] == "arrival"


def test_a_ships_own_fixes_delivered_again_by_a_satellite_feed_are_no_second_ship() -> None:
    """Recorded exactEarth AIS (exact-earth-augmented-3): a cruise ship's fixes of 1-2 hours before
    came again, stamped on arrival; its track had turned since, so they lay off its course line, 33
    km away, and duplicate_mmsi was raised. On a feed seen to stamp arrival, a second track within
    what the ship could sail in `arrival_delay_hours` (3) is no second ship; on a terrestrial feed the
    same fixes are one (fixes cannot come that late), and so are fixes beyond that reach."""
    from dataclasses import replace

    def scenario(source: str, lags: list[int], shift_m: float = 0.0) -> list[Alert]:
        north = moving(SHIP, T0, minutes=60, start=OPEN_WATER, cog=0, sog=12, every_s=10)
        turn = north[-1]
        assert turn.lat is not None and turn.lon is not None
        east = moving(SHIP, T0 + 3610, minutes=60, start=(turn.lat, turn.lon), cog=90, sog=12, every_s=10)
        ship = _fixes_from(
            source, merge(north, east), [lags[k % len(lags)] for k in range(len(north) + len(east))]
        )
        again = []  # the fixes of minutes 20-25 of the northbound leg, delivered again 90 minutes later
        for k, r in enumerate(f for f in north if T0 + 1200 <= f.time < T0 + 1500):
            if k % 3 == 0:
                assert r.lat is not None and r.lon is not None
                lat, lon = offset((r.lat, r.lon), north_m=shift_m)
                again.append(replace(r, time=r.time + 5400 + 1, lat=lat, lon=lon, source=source))
        reports = merge(ship, again)
        same_in_chunks(reports, until=T0 + 7500)
        return of_type(run(make_core(), reports, until=T0 + 7500), "duplicate_mmsi")

    scattered = [(k * 1237) % 3000 for k in range(97)]
    assert scenario("satellite", scattered) == []
    assert [a.state for a in scenario("terrestrial", [1])][:1] == ["raised"]
    far = scenario("satellite", scattered, shift_m=-250_000.0)  # 250 km away: out of any ship's reach
    assert [a.state for a in far][:1] == ["raised"]


def test_two_ships_interleaving_on_a_feed_that_stamps_arrival_are_left_to_the_tracker() -> None:
    """The interleave test needs a terrestrial receiver's timing: on a feed seen to stamp arrival, a
    fix 4 km from the other head may be the same ship minutes earlier (and the tracker's own, wider
    dead-reckoning test still splits ships further apart)."""
    from dataclasses import replace

    def scenario(source: str, background_lags: list[int]) -> list[Alert]:
        other = stationary(OTHER, T0 - 600, minutes=10, at=offset(OPEN_WATER, north_m=20_000), every_s=10)
        first = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=10)
        fisher = moving(
            SHIP, T0 + 305, minutes=10, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=5, every_s=30
        )
        ships = [replace(r, source=source, second=int(r.time) % 60) for r in merge(first, fisher)]
        reports = merge(_fixes_from(source, other, background_lags), ships)
        same_in_chunks(reports, until=T0 + 1800)
        return of_type(run(make_core(), reports, until=T0 + 1800), "duplicate_mmsi")

    assert scenario("satellite", [(k * 1237) % 3000 for k in range(61)]) == []
    dup = scenario("terrestrial", [1] * 61)
    assert dup and dup[0].details["kind"] == "interleaved"
