"""rendezvous: two vessels together, slow, for 10 minutes, outside berths."""

from __future__ import annotations

from tests.rule_helpers import (
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
    set_rule,
    states,
    static,
    stationary,
)
from vts.reports import Report

A = 760000511
B = 760000522
PILOT_ALLOWLISTED = 760000201


def meeting(
    minutes: float, *, gap_m: float = 100.0, a: int = A, b: int = B, at: tuple[float, float] = OPEN_WATER
) -> list[Report]:
    """Two fishing vessels drifting side by side `gap_m` apart for `minutes`, then parting at 8 kn."""
    pa, pb = at, offset(at, east_m=gap_m)
    return merge(
        static(a, T0 - 120, name="ALFA", ship_type=30, length=25),
        static(b, T0 - 120, name="BRAVO", ship_type=30, length=28),
        stationary(a, T0, minutes=minutes, at=pa, every_s=10, sog=0.5),
        stationary(b, T0 + 5, minutes=minutes, at=pb, every_s=10, sog=0.6),
        moving(a, T0 + minutes * 60 + 10, minutes=3, start=pa, cog=270, sog=8.0),
        moving(b, T0 + minutes * 60 + 15, minutes=3, start=pb, cog=90, sog=8.0),
    )


def test_fires_after_ten_minutes_updates_and_clears() -> None:
    steps = of_type(run(make_core(), meeting(15)), "rendezvous")
    assert states(steps) == ["raised", "updated", "cleared"]
    raised = steps[0]
    assert (raised.mmsi, raised.other_mmsi) == (A, B)
    assert 600 <= raised.time - T0 <= 620
    assert raised.severity == "warning"
    assert 95 <= raised.details["closest_m"] <= 105
    assert "apart" in steps[-1].details["reason"] or "under way" in steps[-1].details["reason"]


def test_nine_minutes_is_silent() -> None:
    assert of_type(run(make_core(), meeting(9)), "rendezvous") == []


def test_250_m_apart_is_silent() -> None:
    assert of_type(run(make_core(), meeting(15, gap_m=250)), "rendezvous") == []


def test_allowlisted_pilot_is_silent() -> None:
    assert of_type(run(make_core(), meeting(15, b=PILOT_ALLOWLISTED)), "rendezvous") == []


def test_ships_at_the_same_berth_are_silent() -> None:
    assert of_type(run(make_core(), meeting(15, gap_m=120, at=BERTH_DPWORLD)), "rendezvous") == []


def test_gap_in_reception_restarts_the_spell() -> None:
    # 6 min together, 8 min of silence from both (over max_gap_minutes), 6 min together: no spell of 10
    first = meeting(6)
    first = [r for r in first if r.time <= T0 + 6 * 60 + 5]
    later = [
        r.__class__(
            **{
                **{
                    s: getattr(r, s)
                    for s in ("mmsi", "msg_type", "source", "lat", "lon", "sog", "cog", "ais_class")
                },
                "time": r.time + 840,
            }
        )  # type: ignore[attr-defined]
        for r in first
        if hasattr(r, "sog")
    ]
    assert of_type(run(make_core(), merge(first, later)), "rendezvous") == []


def test_boats_moored_side_by_side_in_a_mooring_field_are_silent() -> None:
    moorings = (-12.0637, -77.1646)  # moorings_la_punta (an anchorage-kind zone)
    a = stationary(A, T0, minutes=30, at=moorings, every_s=60, sog=0.0, nav_status=5)
    b = stationary(B, T0 + 5, minutes=30, at=offset(moorings, east_m=40), every_s=60, sog=0.0, nav_status=5)
    assert of_type(run(make_core(), merge(a, b)), "rendezvous") == []
    # the same pair where the exemption is switched off
    config = set_rule(make_config(), "rendezvous", anchored_zone_kinds=[])
    assert of_type(run(make_core(config), merge(a, b)), "rendezvous")


def test_tug_type_meeting_a_ship_is_silent() -> None:
    reports = merge(meeting(15), static(B, T0 - 60, name="TUG", ship_type=52, length=30))
    assert of_type(run(make_core(), reports), "rendezvous") == []


def test_slow_class_b_pair_reporting_every_3_minutes_is_bridged() -> None:
    # two slow Class B boats (a report every 3 min each) lie 60-100 m apart from 0 s to ~12 min;
    # the fixes that show them both slow and close span only 9 minutes, the meeting 12
    here = offset(OPEN_WATER, north_m=1000)
    a = [position(A, T0 + i * 180, offset(here, east_m=i), sog=0.7, ais_class="B") for i in range(4)]
    b = [position(B, T0 + 2 + i * 180, offset(here, east_m=80 + i), sog=0.6, ais_class="B") for i in range(4)]
    arrive_a = moving(
        A, T0 - 600, minutes=9.5, start=offset(here, north_m=-2200), cog=0, sog=7.0, every_s=30, ais_class="B"
    )
    arrive_b = moving(
        B,
        T0 - 598,
        minutes=9.5,
        start=offset(here, north_m=2200, east_m=80),
        cog=180,
        sog=7.0,
        every_s=30,
        ais_class="B",
    )
    leave_a = moving(
        A, T0 + 720, minutes=4, start=offset(here, east_m=4), cog=270, sog=7.0, every_s=30, ais_class="B"
    )
    steps = of_type(run(make_core(), merge(arrive_a, arrive_b, a, b, leave_a)), "rendezvous")
    assert steps and steps[0].state == "raised"
    assert steps[0].details["duration_s"] >= 600


def test_one_lost_report_does_not_break_the_spell() -> None:
    # two slow Class B boats reporting every 3 min for 15 min, each losing one report
    here = offset(OPEN_WATER, north_m=1000)
    a = [
        position(A, T0 + i * 180, offset(here, east_m=i), sog=0.5, ais_class="B") for i in range(6) if i != 2
    ]
    b = [
        position(B, T0 + 9 + i * 180, offset(here, east_m=60 + i), sog=0.6, ais_class="B")
        for i in range(6)
        if i != 3
    ]
    steps = of_type(run(make_core(), merge(a, b)), "rendezvous")
    assert steps and steps[0].state == "raised" and steps[0].details["duration_s"] >= 600


def test_late_fixes_are_no_evidence_of_a_meeting_now() -> None:
    """A fix older than its vessel's latest says where the vessel was, not that it is near anyone
    now (the rule sets `late_fixes` False). Here B's latest fix is already stale when A arrives, and
    B's only other fixes, at the same spot, are late copies from before it: no meeting is observed.
    Delivered in time instead (the same fixes, B's history first), they do not meet A either; B
    heard again beside A, at the same place, starts the spell."""
    b_fix = T0 + 1000
    a_start = b_fix + 500  # B's fix is 7 min old by then: stale for A's checks
    pa, pb = OPEN_WATER, offset(OPEN_WATER, east_m=100)
    reports: list[Report] = [
        static(A, T0, name="ALFA", ship_type=30, length=25),
        static(B, T0, name="BRAVO", ship_type=30, length=28),
        position(B, b_fix, pb, sog=0.5),  # B's latest fix: every later one of B is older
    ]
    for k in range(80):
        reports.append(position(A, a_start + 10 * k, pa, sog=0.5))
        reports.append(position(B, T0 + 10 * k, pb, sog=0.5))  # late copies of B's history
    assert of_type(run(make_core(), reports), "rendezvous") == []
    heard = reports + [position(B, a_start + 10 * k + 5, pb, sog=0.5) for k in range(80)]
    heard.sort(key=lambda r: r.time)
    steps = of_type(run(make_core(), heard), "rendezvous")
    assert steps and steps[0].state == "raised" and steps[0].time >= a_start + 600


OUTSIDE_THE_WATCHED_AREA = (-12.05, -77.9)
"""At sea, some 40 km west of the VTS area."""


def test_a_meeting_outside_the_watched_area_is_silent() -> None:
    assert of_type(run(make_core(), meeting(15, at=OUTSIDE_THE_WATCHED_AREA)), "rendezvous") == []


def test_a_reload_with_new_parameters_carries_the_spell_on() -> None:
    """New rendezvous parameters replace the rule: the new one takes over the close spells
    (`Rule.adopt`), so the alert is confirmed at once and its duration does not restart."""
    reports = meeting(40)
    cut = next(i for i, r in enumerate(reports) if r.time >= T0 + 1200)
    before, after = reports[:cut], reports[cut:]
    config = make_config()
    kept = [
        (a["state"], a["time"], a["details"].get("duration_s"))
        for a in reload_run(None, config, config, before, after)
        if a["type"] == "rendezvous"
    ]
    assert [s for s, _, _ in kept if s != "updated"] == ["raised", "cleared"]
    changed = set_rule(make_config(), "rendezvous", lost_minutes=12)
    for chunk in (None, 7):
        got = reload_run(chunk, config, changed, before, after)
        assert [
            (a["state"], a["time"], a["details"].get("duration_s")) for a in got if a["type"] == "rendezvous"
        ] == kept


def test_one_shifting_round_the_other_does_not_end_the_meeting() -> None:
    """Twelve minutes together (alert up), then ALFA moves round to BRAVO's other side at 4 kn for
    40 s, never more than 200 m off, and they lie together again: one alert, cleared only when they
    part."""
    pa, pb = OPEN_WATER, offset(OPEN_WATER, east_m=100)
    other_side = offset(OPEN_WATER, east_m=180)
    reports = merge(
        static(A, T0 - 120, name="ALFA", ship_type=30, length=25),
        static(B, T0 - 120, name="BRAVO", ship_type=30, length=28),
        stationary(A, T0, minutes=12, at=pa, every_s=10, sog=0.5),
        [position(A, T0 + 730 + 10 * i, offset(pa, east_m=20 * i, north_m=30), sog=4.0) for i in range(4)],
        stationary(A, T0 + 770, minutes=10, at=other_side, every_s=10, sog=0.5),
        stationary(B, T0 + 5, minutes=22, at=pb, every_s=10, sog=0.6),
        moving(A, T0 + 1380, minutes=3, start=other_side, cog=90, sog=8.0),
    )
    steps = of_type(run(make_core(), reports), "rendezvous")
    assert states(steps).count("raised") == 1 and states(steps).count("cleared") == 1
    assert steps[0].time < T0 + 730 and steps[-1].time >= T0 + 1380


def _lost_last_report(b_last_sog: float) -> list[Report]:
    """Two slow Class B boats 80 m apart, each reporting every 3 minutes; B's report due at 12:15 is
    lost, A reports at 12:00 and then leaves at 8 kn (its next fix already 400 m away)."""
    here = offset(OPEN_WATER, north_m=1000)
    a = [position(A, T0 + i * 180, offset(here, east_m=i), sog=0.6, ais_class="B") for i in range(5)]
    b = [
        position(
            B, T0 + 15 + i * 180, offset(here, east_m=80), sog=b_last_sog if i == 3 else 0.6, ais_class="B"
        )
        for i in range(4)  # 0:15 ... 9:15; the one due at 12:15 is lost
    ]
    leave = moving(
        A, T0 + 750, minutes=3, start=offset(here, east_m=-400), cog=270, sog=8.0, every_s=30, ais_class="B"
    )
    heard = [static(m, T0 - 60 * k, name=f"BOAT {m % 100}", ais_class="B") for m in (A, B) for k in (1, 2)]
    return merge(heard, a, b, leave)  # (5 messages each before the engine alerts on a target)


def test_a_lost_report_of_the_other_boat_does_not_cut_the_meeting_short() -> None:
    """At A's fix of 12:00, B's latest fix (9:15) is not yet overdue (its next is due at 12:15): it
    still says where B is, so the two are seen together at 12:00, not only until 9:15 (9 minutes)."""
    steps = of_type(run(make_core(), _lost_last_report(0.6)), "rendezvous")
    assert steps and steps[0].state == "raised"
    assert steps[0].time == T0 + 720 and steps[0].details["duration_s"] >= 600


def test_a_standing_fix_does_not_count_when_the_boat_may_have_drifted_out_of_range() -> None:
    """The same, but B's last fix says 2.5 kn: in 165 s it may be 212 m further on, out of range, so
    that fix says nothing of 12:00 and the meeting seen lasts 9 minutes."""
    assert of_type(run(make_core(), _lost_last_report(2.5)), "rendezvous") == []


HARBOUR_WATER = (-12.051, -77.1500)
"""Water in the inner harbour (the dársena), outside every berth and terminal polygon."""


def _two_ships(at: tuple[float, float], nav_status: int) -> list[Report]:
    pa, pb = at, offset(at, east_m=170)
    return merge(
        static(A, T0 - 120, name="ALFA", ship_type=70, length=180),
        static(B, T0 - 120, name="BRAVO", ship_type=70, length=190),
        stationary(A, T0, minutes=40, at=pa, every_s=180, sog=0.1, nav_status=nav_status),
        stationary(B, T0 + 30, minutes=40, at=pb, every_s=180, sog=0.1, nav_status=nav_status),
    )


def test_two_ships_moored_in_the_inner_harbour_are_neighbours() -> None:
    """Found with an independent generator: two cargo ships reporting moored 170 m apart in APM's
    basin, water the berth polygon does not cover, were raised as a rendezvous again and again.
    Both reporting moored inside the inner harbour: neighbouring quays. The same two lying there
    with status 0 are still raised, and so are two ships reporting moored together in open water."""
    assert of_type(run(make_core(), _two_ships(HARBOUR_WATER, nav_status=5)), "rendezvous") == []
    assert of_type(run(make_core(), _two_ships(HARBOUR_WATER, nav_status=0)), "rendezvous")
    assert of_type(run(make_core(), _two_ships(OPEN_WATER, nav_status=5)), "rendezvous")
