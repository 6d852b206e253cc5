"""Tracker: static merge, categories, stale thresholds, event-time pruning, bounded memory,
dead-reckoning split of two ships under one MMSI."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from vts.categories import ais_class_of, category_of
from vts.reports import (
    AidToNavReport,
    BaseStationReport,
    PositionReport,
    SafetyReport,
    SarAircraftReport,
    StaticReport,
)
from vts.tracker import MAX_MESSAGE_TIMES, Tracker, TrackerSettings, VesselState

MMSI = 760000123
T0 = 1_700_000_000.0
CALLAO = (-12.05, -77.15)


def pos(t: float, lat: float = CALLAO[0], lon: float = CALLAO[1], **kw: Any) -> PositionReport:
    fields: dict[str, Any] = {"mmsi": MMSI, "msg_type": 1, "source": "t", "sog": 10.0, "cog": 0.0}
    fields.update(kw)
    return PositionReport(time=t, lat=lat, lon=lon, **fields)


def static(t: float, msg_type: int = 5, **kw: Any) -> StaticReport:
    return StaticReport(time=t, mmsi=kw.pop("mmsi", MMSI), msg_type=msg_type, source="t", **kw)


def north(lat: float, metres: float) -> float:
    return lat + metres / 111_320.0


def test_position_creates_and_updates_vessel() -> None:
    tracker = Tracker()
    v = tracker.update(pos(T0, heading=5, nav_status=0, rot=1.0))
    assert isinstance(v, VesselState)
    assert (v.mmsi, v.first_seen, v.last_seen, v.lat, v.lon, v.sog, v.heading) == (
        MMSI,
        T0,
        T0,
        *CALLAO,
        10.0,
        5,
    )
    assert v.ais_class == "A" and v.message_count == 1 and v.position_count == 1
    tracker.update(pos(T0 + 10, lat=north(CALLAO[0], 50)))
    assert v.last_seen == T0 + 10 and v.first_seen == T0 and v.message_count == 2
    assert len(tracker) == 1 and tracker.get(MMSI) is v and list(tracker) == [v] and tracker.vessels() == [v]


def test_position_without_coordinates_updates_kinematics_only() -> None:
    tracker = Tracker()
    tracker.update(pos(T0))
    v = tracker.update(pos(T0 + 5, lat=None, lon=None, sog=3.0))
    assert v is not None and v.lat == CALLAO[0] and v.sog == 3.0 and v.position_count == 1


def test_static_parts_merge() -> None:
    tracker = Tracker()
    tracker.update(static(T0, msg_type=24, ais_class="B", part="A", name="PELICANO"))
    tracker.update(
        static(
            T0 + 1,
            msg_type=24,
            ais_class="B",
            part="B",
            ship_type=30,
            callsign="OA9",
            to_bow=8,
            to_stern=4,
            to_port=2,
            to_starboard=2,
        )
    )
    v = tracker.get(MMSI)
    assert v is not None
    assert (v.name, v.callsign, v.ship_type, v.category, v.ais_class) == (
        "PELICANO",
        "OA9",
        30,
        "fishing",
        "B",
    )
    assert v.length == 12.0 and v.beam == 4.0 and v.has_static and v.static_time == T0 + 1
    # a later part A does not erase part B's fields
    tracker.update(static(T0 + 2, msg_type=24, ais_class="B", part="A", name="PELICANO II"))
    assert (v.name, v.callsign, v.ship_type) == ("PELICANO II", "OA9", 30)


def test_type5_and_type19_merge_and_class() -> None:
    tracker = Tracker()
    tracker.update(
        static(
            T0,
            name="CALLAO EXPRESS",
            ship_type=71,
            imo=9123456,
            destination="PECLL",
            draught=11.3,
            eta="03-09T14:30",
            ais_class="A",
        )
    )
    v = tracker.get(MMSI)
    assert v is not None and v.category == "cargo" and v.imo == 9123456 and v.ais_class == "A"
    tracker.update(static(T0 + 60, name="CALLAO EXPRESS", ship_type=71, ais_class="A"))
    assert v.destination is None and v.eta is None and v.draught is None  # type 5 is the whole record
    tracker.update(static(T0, mmsi=760000999, msg_type=19, ais_class="B", name="SAILOR", ship_type=36))
    b = tracker.get(760000999)
    assert b is not None and b.category == "sailing" and b.ais_class == "B"


@pytest.mark.parametrize(
    ("ship_type", "category"),
    [
        (None, "unknown"),
        (0, "unknown"),
        (15, "unknown"),
        (20, "other"),
        (30, "fishing"),
        (31, "tug"),
        (32, "tug"),
        (33, "other"),
        (35, "law_enforcement"),
        (36, "sailing"),
        (37, "pleasure"),
        (40, "other"),
        (50, "pilot"),
        (51, "sar"),
        (52, "tug"),
        (53, "other"),
        (55, "law_enforcement"),
        (60, "passenger"),
        (69, "passenger"),
        (70, "cargo"),
        (79, "cargo"),
        (80, "tanker"),
        (89, "tanker"),
        (90, "other"),
        (99, "other"),
        (100, "unknown"),
        (255, "unknown"),
    ],
)
def test_categories(ship_type: int | None, category: str) -> None:
    assert category_of(ship_type) == category


def test_ais_class_of() -> None:
    assert [ais_class_of(t) for t in (1, 3, 5, 18, 19, 24, 4, 21)] == [
        "A",
        "A",
        "A",
        "B",
        "B",
        "B",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("ais_class", "sog", "status", "stale_after"),
    [
        ("A", 0.0, 1, 1080.0),  # at anchor: 18 min
        ("A", 0.2, 5, 1080.0),  # moored
        ("A", 5.0, 1, 60.0),  # "at anchor" but moving faster than 3 kn
        ("A", 0.0, 0, 60.0),  # under way, 0-14 kn
        ("A", 14.0, 0, 60.0),
        ("A", 18.0, 0, 36.0),  # 14-23 kn
        ("A", 30.0, 0, 30.0),  # > 23 kn
        ("A", None, None, 60.0),
        ("B", 1.0, None, 1080.0),  # Class B up to 2 kn: 3-min reports
        ("B", 8.0, None, 180.0),
        ("B", 18.0, None, 90.0),  # kind unknown: judged as SO
        ("B", 30.0, None, 30.0),
        ("B-SO", 18.0, None, 90.0),  # self-organising: 15 s at 14-23 kn
        ("B-SO", 30.0, None, 30.0),
        ("B-CS", 1.0, None, 1080.0),  # carrier-sense: 3 min up to 2 kn ...
        ("B-CS", 8.0, None, 180.0),
        ("B-CS", 18.0, None, 180.0),  # ... then 30 s at any speed
        ("B-CS", 30.0, None, 180.0),
    ],
)
def test_stale_thresholds(ais_class: str, sog: float | None, status: int | None, stale_after: float) -> None:
    cs = {"B-CS": True, "B-SO": False}.get(ais_class)
    v = VesselState(
        mmsi=MMSI,
        first_seen=T0,
        last_seen=T0,
        ais_class=ais_class[0],  # type: ignore[arg-type]
        class_b_cs=cs,
        sog=sog,
        nav_status=status,
    )
    v.position_time = T0
    assert v.stale_after() == stale_after
    assert v.expected_interval() * 6 == stale_after
    assert not v.is_stale(T0 + stale_after - 1)
    assert v.is_stale(T0 + stale_after + 1)


def test_stale_is_judged_on_the_last_position() -> None:
    tracker = Tracker()
    tracker.update(pos(T0, nav_status=0))
    v = tracker.update(static(T0 + 100, name="X"))  # static data does not refresh the position
    assert v is not None and v.last_seen == T0 + 100 and v.is_stale(T0 + 100)


def test_prune_by_event_time() -> None:
    tracker = Tracker(TrackerSettings(forget_after_minutes=10))
    tracker.update(pos(T0))
    tracker.update(pos(T0 + 300, lat=north(CALLAO[0], 0), lon=CALLAO[1]))
    tracker.update(static(T0, mmsi=760000999, name="OLD"))
    tracker.update(BaseStationReport(time=T0, mmsi=7601234, msg_type=4, source="t", lat=-12.0, lon=-77.1))
    assert tracker.prune(T0 + 600) == []  # exactly forget_after: kept
    assert sorted(tracker.prune(T0 + 601)) == [760000999]
    assert tracker.get(MMSI) is not None and 7601234 not in tracker.stations
    assert tracker.prune(T0 + 901) == [MMSI] and len(tracker) == 0


def test_a_forgotten_vessel_back_within_a_day_is_known_from_its_first_report() -> None:
    tracker = Tracker(TrackerSettings(forget_after_minutes=60))
    tracker.update(static(T0, name="ALPHA", callsign="OA1234", ship_type=70, to_bow=100, to_stern=50))
    tracker.update(pos(T0 + 10))
    assert tracker.prune(T0 + 3700) == [MMSI] and tracker.get(MMSI) is None
    back = tracker.update(pos(T0 + 5 * 3600))
    assert back is not None and back.first_seen == T0 + 5 * 3600  # a new track ...
    # ... with what the vessel declared before: no waiting for its next static report
    assert (back.name, back.callsign, back.ship_type, back.length) == ("ALPHA", "OA1234", 70, 150.0)
    assert back.category == "cargo" and back.has_static and back.static_time == T0
    renamed = tracker.update(static(T0 + 5 * 3600 + 60, name="BRAVO"))
    assert renamed is not None and renamed.name == "BRAVO" and renamed.static_time == T0 + 5 * 3600 + 60


def test_static_memory_ends_after_static_memory_hours() -> None:
    tracker = Tracker(TrackerSettings(forget_after_minutes=60, static_memory_hours=2))
    tracker.update(static(T0, name="ALPHA", ship_type=70))
    tracker.update(static(T0, mmsi=760000999, name="OTHER", ship_type=30))
    assert sorted(tracker.prune(T0 + 3700)) == [MMSI, 760000999]
    tracker.update(pos(T0 + 2 * 3600 - 10, mmsi=760000999))  # within two hours of last heard
    late = tracker.update(pos(T0 + 2 * 3600 + 10))  # beyond
    known = tracker.get(760000999)
    assert known is not None and known.name == "OTHER"
    assert late is not None and late.name is None and not late.has_static and late.category == "unknown"
    # what is remembered is dropped in time (memory stays bounded on a feed running for weeks)
    tracker.update(static(T0 + 3 * 3600, mmsi=760000777, name="THIRD", ship_type=30))
    # at 4.5 h every vessel is forgotten: THIRD (heard at 3 h) is remembered; OTHER, heard last
    # 2.5 h before, is not any more; MMSI's track since had no static data
    tracker.prune(T0 + 4.5 * 3600)
    assert [v[0] for v in tracker.saved_state()["vessels"]] == [760000777]
    tracker.prune(T0 + 30 * 3600)
    assert tracker.saved_state()["vessels"] == []


def test_static_data_saved_and_recalled_after_a_restart() -> None:
    before = Tracker()
    before.update(static(T0, name="ALPHA", ship_type=70, to_bow=100, to_stern=50, destination="CALLAO"))
    before.update(pos(T0 + 30))
    before.update(static(T0, mmsi=760000999, name="GONE", ship_type=30))
    before.prune(T0 + 3700)  # MMSI was heard at T0 + 30: forgotten too; both remembered
    state = json.loads(json.dumps(before.saved_state()))  # as the alert database keeps it
    after = Tracker()
    after.restore(state, now=T0 + 4000)
    v = after.update(pos(T0 + 4000))
    assert v is not None and (v.name, v.ship_type, v.length, v.destination) == ("ALPHA", 70, 150.0, "CALLAO")
    # recalled long after (more than static_memory_hours since last heard): nothing
    later = Tracker()
    later.restore(state, now=T0 + 30 * 3600)
    w = later.update(pos(T0 + 30 * 3600))
    assert w is not None and not w.has_static


def test_bounded_trail_by_time_and_points() -> None:
    tracker = Tracker(TrackerSettings(trail_minutes=10, trail_max_points=50))
    lat = CALLAO[0]
    for i in range(200):  # 2 s apart, 10 kn north
        lat = north(lat, 10.3)
        tracker.update(pos(T0 + 2 * i, lat=lat))
    v = tracker.get(MMSI)
    assert v is not None and len(v.trail) == 50 and v.trail[-1].time == T0 + 398 and v.trail[-1].lat == lat
    tracker = Tracker(TrackerSettings(trail_minutes=1, trail_max_points=1000))
    for i in range(200):
        tracker.update(pos(T0 + 10 * i))
    v = tracker.get(MMSI)
    assert v is not None and all(f.time >= T0 + 1990 - 60 for f in v.trail) and len(v.trail) == 7


def test_message_times_window_and_cap() -> None:
    tracker = Tracker()
    for i in range(MAX_MESSAGE_TIMES + 500):
        tracker.update(pos(T0 + 0.1 * i))
    v = tracker.get(MMSI)
    assert (
        v is not None
        and len(v.message_times) == MAX_MESSAGE_TIMES
        and v.message_count == MAX_MESSAGE_TIMES + 500
    )
    tracker.update(pos(T0 + 10_000))
    assert list(v.message_times) == [T0 + 10_000]  # older than 30 minutes: gone
    assert v.recent_message_count(T0 + 10_000) == 1


def test_late_report_counts_but_does_not_move_the_vessel() -> None:
    tracker = Tracker()
    tracker.update(pos(T0 + 10, lat=north(CALLAO[0], 100)))
    v = tracker.update(pos(T0, lat=CALLAO[0]))
    assert (
        v is not None
        and v.lat == north(CALLAO[0], 100)
        and v.message_count == 2
        and v.position_time == T0 + 10
    )


def test_stations_aids_aircraft_are_kept_apart() -> None:
    tracker = Tracker()
    assert tracker.update(BaseStationReport(time=T0, mmsi=7601234, msg_type=4, source="t")) is None
    assert tracker.update(AidToNavReport(time=T0, mmsi=997601234, msg_type=21, source="t", name="B1")) is None
    assert tracker.update(SarAircraftReport(time=T0, mmsi=111760001, msg_type=9, source="t")) is None
    assert len(tracker) == 0
    assert (
        set(tracker.stations) == {7601234}
        and set(tracker.aids) == {997601234}
        and set(tracker.aircraft) == {111760001}
    )
    sart = tracker.update(SafetyReport(time=T0, mmsi=970012345, msg_type=14, source="t", text="SART ACTIVE"))
    assert sart is not None and sart.message_count == 1


def test_own_ship_flag() -> None:
    tracker = Tracker()
    v = tracker.update(pos(T0, own_ship=True))
    assert v is not None and v.own_ship


# -- two ships under one MMSI --------------------------------------------------------------------
FAR = (-11.80, -77.20)  # ~28 km north of CALLAO


def test_two_interleaved_ships_are_split_into_primary_and_shadow() -> None:
    tracker = Tracker()
    primary = tracker.update(pos(T0, *CALLAO, sog=0.0))
    results = []
    for i in range(1, 8):
        results.append(tracker.update(pos(T0 + 20 * i, *FAR, sog=0.0)))
        results.append(tracker.update(pos(T0 + 20 * i + 10, *CALLAO, sog=0.0)))
    shadow = tracker.shadow(MMSI)
    assert primary is not None and shadow is not None and shadow.is_shadow and not primary.is_shadow
    assert results[0::2] == [shadow] * 7 and results[1::2] == [primary] * 7
    assert (primary.lat, primary.lon) == CALLAO and (shadow.lat, shadow.lon) == FAR
    assert primary.position_count == 8 and shadow.position_count == 7
    assert len(primary.dr_conflicts) == 7 and primary.recent_dr_conflicts(T0 + 150) == 7
    # each ship's messages are counted on its own track: the other ship does not keep it alive
    assert primary.message_count == 8 and shadow.message_count == 7
    assert primary.last_seen == T0 + 150 and shadow.last_seen == T0 + 140
    tracker.update(pos(T0 + 160, *FAR, sog=0.0))
    assert primary.last_seen == T0 + 150 and shadow.last_seen == T0 + 160
    assert len(tracker) == 1 and tracker.shadows() == [shadow]


def test_single_outlier_does_not_split_the_track() -> None:
    tracker = Tracker()
    lat = CALLAO[0]
    for i in range(5):
        lat = north(lat, 51.4)  # 10 kn north, 10 s apart
        primary = tracker.update(pos(T0 + 10 * i, lat=lat))
    outlier = tracker.update(pos(T0 + 50, *FAR))
    assert outlier is not None and outlier.is_shadow  # the jump does not move the primary
    for i in range(6, 12):
        lat = north(lat, 51.4)
        assert tracker.update(pos(T0 + 10 * i, lat=lat)) is primary
    assert primary is not None and primary.lat == lat and primary.position_count == 11
    assert len(primary.dr_conflicts) == 1
    tracker.prune(T0 + 10 * 12 + 601)  # the lone outlier shadow is forgotten
    assert tracker.shadow(MMSI) is None and tracker.get(MMSI) is primary


def test_first_fix_was_the_outlier_then_the_real_track_takes_over() -> None:
    tracker = Tracker()
    tracker.update(pos(T0, *FAR))
    lat = CALLAO[0]
    for i in range(1, 4):
        lat = north(lat, 51.4)
        v = tracker.update(pos(T0 + 10 * i, lat=lat))
    assert v is not None and not v.is_shadow and v.lat == lat and tracker.shadow(MMSI) is None


def test_dead_reckoning_allows_a_fast_ship_far_from_its_last_fix() -> None:
    """Consistency is judged from the dead-reckoned position, (10 min + dt) x 25 kn."""
    tracker = Tracker()
    tracker.update(pos(T0, *CALLAO, sog=20.0, cog=0.0))
    hour_later = north(CALLAO[0], 20 * 1852)  # 20 nm north after 1 h at 20 kn
    v = tracker.update(pos(T0 + 3600, lat=hour_later, sog=20.0, cog=0.0))
    assert v is not None and not v.is_shadow and not v.dr_conflicts
    too_far = north(hour_later, 10 * 1852)  # 10 nm in 60 s is not a ship
    assert tracker.update(pos(T0 + 3660, lat=too_far)) is tracker.shadow(MMSI)


def test_memory_per_vessel_is_bounded() -> None:
    tracker = Tracker(TrackerSettings(trail_max_points=100))
    for i in range(20_000):
        tracker.update(pos(T0 + i, lat=CALLAO[0] + 1e-6 * math.sin(i)))
    v = tracker.get(MMSI)
    assert v is not None and len(v.trail) <= 100 and len(v.message_times) <= MAX_MESSAGE_TIMES


def test_ship_back_from_a_long_gap_far_away_keeps_its_identity() -> None:
    """After hours out of coverage the ship reappears where dead reckoning cannot follow: the
    first fix waits in the shadow, the second (consistent with it) moves the primary there."""
    tracker = Tracker()
    for i in range(5):
        primary = tracker.update(pos(T0 + 10 * i, lat=north(CALLAO[0], 51.4 * i), sog=10.0, cog=180.0))
    back = T0 + 3600  # dead reckoning: 10 nm south; the ship is ~55 nm north-west (> 29 nm allowed)
    elsewhere = (-11.30, -77.60)
    first = tracker.update(pos(back, *elsewhere, sog=10.0, cog=0.0))
    assert first is tracker.shadow(MMSI) and first is not None and first.is_shadow
    second = tracker.update(
        pos(back + 10, lat=north(elsewhere[0], 51.4), lon=elsewhere[1], sog=10.0, cog=0.0)
    )
    assert second is primary and primary is not None and tracker.shadow(MMSI) is None
    assert primary.lat == north(elsewhere[0], 51.4) and primary.position_time == back + 10
    assert primary.last_seen == back + 10 and primary.message_count == 7
    assert list(primary.message_times) == [back, back + 10]  # the 30-minute window


def test_long_range_report_keeps_heading_and_rate_of_turn() -> None:
    tracker = Tracker()
    tracker.update(pos(T0, heading=90, rot=2.0, nav_status=0))
    v = tracker.update(pos(T0 + 60, msg_type=27, sog=11.0, heading=None, rot=None, nav_status=None))
    assert v is not None and (v.heading, v.rot, v.nav_status, v.sog) == (90, 2.0, 0, 11.0)


def test_last_and_previous_fix_follow_each_track_late_reports_included() -> None:
    tracker = Tracker()
    first, second = pos(T0, *CALLAO, sog=0.0), pos(T0 + 20, *CALLAO, sog=0.0)
    late = pos(T0 + 10, *CALLAO, sog=0.0)  # arrives after T0 + 20: not applied, but the last one seen
    far = pos(T0 + 30, *FAR, sog=0.0)  # another ship under this MMSI: the shadow's
    primary = tracker.update(first)
    assert primary is not None and primary.last_fix is first and primary.previous_fix is None
    tracker.update(second)
    tracker.update(late)
    assert primary.last_fix is late and primary.previous_fix is second
    assert (primary.lat, primary.position_time) == (CALLAO[0], T0 + 20)
    shadow = tracker.update(far)
    assert shadow is not None and shadow.is_shadow and shadow.last_fix is far
    assert primary.last_fix is late  # the primary's own track is untouched
    no_fix = pos(T0 + 40, lat=None, lon=None)
    tracker.update(no_fix)
    assert primary.last_fix is late


@pytest.mark.parametrize(("cs", "stale_after"), [(True, 180.0), (False, 90.0)])
def test_class_b_kind_comes_from_type_18_and_sets_the_stale_time(cs: bool, stale_after: float) -> None:
    tracker = Tracker()
    v = tracker.update(pos(T0, msg_type=18, ais_class="B", class_b_cs=cs, sog=18.0))
    assert v is not None and v.class_b_cs is cs and v.stale_after() == stale_after
    # a type 19 does not say, and does not undo what type 18 said
    v = tracker.update(pos(T0 + 10, msg_type=19, ais_class="B", sog=18.0))
    assert v is not None and v.class_b_cs is cs


# -- tracks taken up after a restart -------------------------------------------------------------
def _saved(tracker: Tracker) -> dict[str, Any]:
    """`saved_state` as the alert database keeps it (JSON)."""
    return json.loads(json.dumps(tracker.saved_state()))  # type: ignore[no-any-return]


def test_tracks_are_taken_up_after_a_restart_as_they_were() -> None:
    before = Tracker()
    before.update(static(T0 - 60, name="ALPHA", ship_type=70, to_bow=100, to_stern=50, imo=9074729))
    before.update(static(T0 - 30, name="ALPHA", ship_type=70, to_bow=120, to_stern=60))  # resized
    for i in range(90):  # 15 min every 10 s, heading north
        before.update(pos(T0 + 10 * i, lat=north(CALLAO[0], 51.4 * i), heading=2, nav_status=0, rot=0.5))
    v = before.get(MMSI)
    assert v is not None and v.position_count == 90
    after = Tracker()
    now = T0 + 890 + 300  # five minutes after the last report
    after.restore(_saved(before), now)
    w = after.get(MMSI)
    assert w is not None and w is not v and after.resumed_at == now
    for name in ("first_seen", "last_seen", "message_count", "position_count", "position_time", "lat", "lon"):
        assert getattr(w, name) == getattr(v, name), name
    assert (w.sog, w.cog, w.heading, w.nav_status, w.rot, w.ais_class) == (10.0, 0.0, 2, 0, 0.5, "A")
    assert (w.name, w.ship_type, w.length, w.imo, w.category) == ("ALPHA", 70, 180.0, 9074729, "cargo")
    assert list(w.former_identities) == list(v.former_identities) and len(w.former_identities) == 1
    # the most recent trail points and message times (bounded, whatever the trail length)
    assert [(f.time, f.lat, f.lon) for f in w.trail] == [(f.time, f.lat, f.lon) for f in list(v.trail)[-60:]]
    assert list(w.message_times) == list(v.message_times)[-60:]
    assert w.recent_message_count(w.last_seen) >= 10 and w.is_stale(now)
    # it carries on: the next fix goes to the same track
    back = after.update(pos(now + 10, lat=north(CALLAO[0], 51.4 * 89 + 1500)))
    assert back is w and w.position_count == 91 and w.last_seen == now + 10


def test_tracks_silent_longer_than_the_forget_time_are_not_taken_up() -> None:
    before = Tracker()
    before.update(static(T0, name="ALPHA", ship_type=70))
    before.update(pos(T0 + 10))
    after = Tracker()
    after.restore(_saved(before), T0 + 10 + 3601)
    assert len(after) == 0
    v = after.update(pos(T0 + 3700))  # a new track, but its static data is still known
    assert v is not None and v.position_count == 1 and v.name == "ALPHA"


def test_a_shadow_track_is_taken_up_with_its_vessel() -> None:
    before = Tracker()
    before.update(pos(T0, *CALLAO, sog=0.0))
    for i in range(1, 4):
        before.update(pos(T0 + 20 * i, *FAR, sog=0.0))
        before.update(pos(T0 + 20 * i + 10, *CALLAO, sog=0.0))
    after = Tracker()
    after.restore(_saved(before), T0 + 200)
    primary, shadow = after.get(MMSI), after.shadow(MMSI)
    assert primary is not None and shadow is not None and shadow.is_shadow and not primary.is_shadow
    assert (primary.lat, primary.lon, shadow.lat, shadow.lon) == (*CALLAO, *FAR)
    # each ship's next fix goes to its own track
    assert after.update(pos(T0 + 210, *FAR, sog=0.0)) is shadow
    assert after.update(pos(T0 + 220, *CALLAO, sog=0.0)) is primary


def test_a_track_that_cannot_be_read_is_skipped_and_said() -> None:
    before = Tracker()
    before.update(pos(T0))
    before.update(pos(T0, mmsi=760000999))
    state = _saved(before)
    state["tracks"][0]["lat"] = "north"  # damaged: not a number
    after = Tracker()
    with pytest.raises(ValueError, match="1 saved vessel track"):
        after.restore(state, T0 + 60)
    assert [v.mmsi for v in after.vessels()] == [760000999]


def test_a_value_that_is_not_a_number_is_saved_and_taken_up_as_it_was() -> None:
    tracker = Tracker()
    tracker.update(pos(T0, sog=math.nan, cog=math.inf))
    after = Tracker()
    after.restore(json.loads(json.dumps(tracker.saved_state())), T0 + 60)  # as the alert database
    v = after.get(MMSI)
    assert v is not None and math.isnan(v.sog) and v.cog == math.inf  # type: ignore[arg-type]
    assert math.isnan(v.trail[0].sog) and v.trail[0].cog == math.inf  # type: ignore[arg-type]
