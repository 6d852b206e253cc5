"""Review of position_jump and duplicate_mmsi against their definitions and real AIS behaviour: a ship
whose position jumps and stays is one ship, not two; a receiver that loses its GNSS fix now and then
(fixes at (0, 0)) is no second ship; the one GNSS-interference alert is not lost to the first
vessel's message count or cooldown, and lists the vessels of its window; a fix a few tens of metres
over the coastline is GNSS noise, not a position on land."""

from __future__ import annotations

import pytest

from tests.rule_helpers import (
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
    static,
    stationary,
)
from vts.alerts.model import Alert
from vts.reports import PositionReport, StaticReport
from vts.rules._common import is_placeholder_mmsi

SHIP = 725000901
ON_LAND = (-12.08, -77.22)  # San Lorenzo island, some 500 m inside its coastline
NEAR_COAST = offset(ON_LAND, north_m=790)  # on land, but under 40 m from the coastline north of it
INLAND = offset(ON_LAND, north_m=450)  # on land, over 150 m from the coastline
OFF_ISLAND = offset(ON_LAND, north_m=1500)  # sea


def jumps(alerts: list[Alert], kind: str = "jump") -> list[Alert]:
    return [a for a in of_type(alerts, "position_jump") if a.details["kind"] == kind]


def statics(mmsi: int, t: float, n: int = 5) -> list[StaticReport]:
    """`n` static reports (they count as messages: alerts need `min_messages`)."""
    return [StaticReport(time=t + k, mmsi=mmsi, msg_type=5, source="test", name="TEST") for k in range(n)]


# -- duplicate_mmsi: two streams must interleave ---------------------------------------------------


@pytest.mark.parametrize(
    ("every_s", "sog", "nav_status"),
    [(10.0, 10.0, None), (180.0, 0.0, 1)],  # under way (10 s reports), at anchor (3 min reports)
)
def test_a_position_that_jumps_far_and_stays_is_a_jump_not_two_ships(
    every_s: float, sog: float, nav_status: int | None
) -> None:
    """The position jumps 20 km (past the tracker's dead-reckoning allowance) and the ship goes on
    reporting from there, its old position never heard again: one ship whose position jumped (a
    GNSS fault, spoofing), not two ships under one MMSI. At anchor the jumped fixes are let back
    onto the track once its silence has grown the allowance: still one ship."""
    before = moving(
        SHIP, T0, minutes=10, start=OPEN_WATER, cog=0, sog=sog, every_s=every_s, nav_status=nav_status
    )
    last = before[-1]
    assert last.lat is not None and last.lon is not None
    away = offset((last.lat, last.lon), east_m=-20_000)  # open sea to the west
    after = moving(
        SHIP,
        last.time + every_s,
        minutes=40,
        start=away,
        cog=0,
        sog=sog,
        every_s=every_s,
        nav_status=nav_status,
    )
    reports = merge(statics(SHIP, T0 - 10), before, after)
    alerts = run(make_core(), reports, until=T0 + 4 * 3600)
    assert of_type(alerts, "duplicate_mmsi") == []
    assert len(jumps(alerts)) == 1 and jumps(alerts)[0].details["distance_m"] > 19_000
    same_in_chunks(reports, sizes=(1, 9, 60), until=T0 + 4 * 3600)


def test_two_ships_one_at_anchor_are_raised_once_the_anchored_one_is_heard_again() -> None:
    """The ship at anchor reports every 3 minutes; the other, 16 NM away, every 10 s: the
    conflicts pile up between two of the anchored ship's reports, and its next one shows both
    streams alive: two ships."""
    anchored = stationary(SHIP, T0, minutes=30, at=OPEN_WATER, every_s=180, nav_status=1)
    other = moving(SHIP, T0 + 370, minutes=10, start=offset(OPEN_WATER, north_m=30_000), cog=180, sog=8)
    alerts = of_type(run(make_core(), merge(anchored, other), until=T0 + 3600), "duplicate_mmsi")
    assert alerts and alerts[0].state == "raised" and alerts[0].time == T0 + 540  # the anchored ship's
    assert alerts[0].details["separation_m"] > 25_000


def test_a_receiver_losing_its_gnss_fix_is_null_island_not_a_second_ship() -> None:
    """A Class B unit whose fixes are now and then (0, 0): the tracker puts those on a shadow track
    (thousands of miles away), the two interleave, but it is one boat with a GNSS fault: reported
    as position (0, 0), also after its first such fix came before it had five messages."""
    boat = stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=30, ais_class="B")
    zeros = [position(SHIP, T0 + 15 + 60 * k, (0.0, 0.0), ais_class="B") for k in range(6)]
    reports = merge(boat, zeros)
    alerts = run(make_core(), reports, until=T0 + 3600)
    assert of_type(alerts, "duplicate_mmsi") == []
    assert jumps(alerts, "null_island")
    same_in_chunks(reports, until=T0 + 3600)


def test_the_duplicate_evidence_does_not_name_the_other_ship_after_the_first() -> None:
    """The shadow track's static data is a copy of the primary's (the second ship's own static
    reports go to the primary too): its name is the first ship's, no evidence about the other."""
    first = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=20)
    second = moving(SHIP, T0 + 310, minutes=10, start=offset(OPEN_WATER, north_m=30_000), cog=180, sog=8)
    reports = merge(static(SHIP, T0 - 5, name="FIRST SHIP"), first, second)
    dup = of_type(run(make_core(), reports, until=T0 + 1800), "duplicate_mmsi")
    assert dup and dup[0].state == "raised"
    assert all(a.details.get("other_name") != "FIRST SHIP" for a in dup)


# -- position_jump: the GNSS-interference alert ----------------------------------------------------

SPOOFED = offset(OPEN_WATER, north_m=4000, east_m=1000)
FLEET = [725000910 + k for k in range(4)]


def _fleet_jumps(first_fixes: list[PositionReport], at: float) -> list[PositionReport]:
    """FLEET[1:] at anchor 300 m apart from T0, all jumping to SPOOFED from `at` on (one second
    apart, staying there); FLEET[0] reports `first_fixes`, then jumps first, at `at` - 1."""
    out: list[PositionReport] = list(first_fixes)
    out.append(position(FLEET[0], at - 1, SPOOFED))
    for k, m in enumerate(FLEET[1:], start=1):
        out += stationary(
            m, T0, minutes=(at - T0 - 10) / 60, at=offset(OPEN_WATER, north_m=-300 * k), every_s=10
        )
        out += stationary(m, at + k, minutes=3, at=offset(SPOOFED, east_m=20 * k), every_s=10)
    return out


def _interference(alerts: list[Alert]) -> list[Alert]:
    return jumps(alerts, "gnss_interference")


def test_interference_is_reported_when_the_first_to_jump_is_a_new_target() -> None:
    """The first vessel to jump has sent two messages in all: an alert filed under it would be
    dropped (min_messages), and with it the one alert of the whole event."""
    newcomer = [position(FLEET[0], T0 + 180, offset(OPEN_WATER, north_m=300))]
    reports = merge(_fleet_jumps(newcomer, T0 + 190))
    alerts = _interference(run(make_core(), reports, until=T0 + 900))
    assert len(alerts) == 1 and alerts[0].details["mmsis"] == FLEET and alerts[0].mmsi != FLEET[0]
    same_in_chunks(reports, until=T0 + 900)


def test_interference_is_reported_when_the_first_to_jump_had_a_jump_alert_just_before() -> None:
    """The first vessel to jump jumped alone five minutes earlier (its own jump alert, then the
    engine's cooldown for that kind): the interference alert of the event is still reported."""
    own = offset(OPEN_WATER, north_m=300)
    aside = offset(own, east_m=-3000)
    lone = merge(
        stationary(FLEET[0], T0, minutes=1, at=own, every_s=10),
        stationary(FLEET[0], T0 + 70, minutes=2, at=aside, every_s=10),  # alone: its own jump alert
        stationary(FLEET[0], T0 + 200, minutes=4, at=aside, every_s=10),
    )
    reports = merge(_fleet_jumps([r for r in lone if isinstance(r, PositionReport)], T0 + 450))
    alerts = run(make_core(), reports, until=T0 + 1200)
    assert [a.mmsi for a in jumps(alerts)] == [FLEET[0]]
    interference = _interference(alerts)
    assert len(interference) == 1 and interference[0].details["mmsis"] == FLEET
    same_in_chunks(reports, until=T0 + 1200)


def test_ships_at_anchor_pulled_to_the_same_spot_minutes_later_join_the_one_alert() -> None:
    """Found with an independent generator: two ships under way (a fix every 10 s) and two at anchor
    (every 3 minutes) pulled to one spot within 2 minutes made four jump alerts: the first two had
    gone out alone before the ships at anchor next reported. Those reported alone in the last
    `cluster_reach_minutes` still count: one interference alert for the rest, and jumping back
    when the interference ends is part of the same event, not four more jumps."""
    fleet = [725000940 + k for k in range(4)]
    t_jump, t_end = T0 + 600, T0 + 1500
    streams: list[PositionReport] = []
    for k, m in enumerate(fleet):
        own = offset(OPEN_WATER, north_m=-400 * k)
        every = 10 if k < 2 else 180
        start = t_jump + k * 40  # the ships at anchor next report 80 and 120 s after the first jump
        streams += stationary(m, T0, minutes=(start - T0 - 1) / 60, at=own, every_s=every, sog=0.1)
        streams += stationary(
            m, start, minutes=(t_end - start) / 60, at=offset(SPOOFED, east_m=30 * k), every_s=every
        )
        streams += stationary(m, t_end + k, minutes=6, at=own, every_s=every, sog=0.1)
    reports = merge(*streams)
    alerts = run(make_core(), reports, until=t_end + 1200)
    alone = jumps(alerts)
    interference = _interference(alerts)
    assert len(interference) == 1 and len(alone) <= 2
    assert {a.mmsi for a in alone} <= set(fleet[:2])  # only those reported before the event showed
    assert set(interference[0].details["mmsis"]) >= {fleet[0], fleet[1], fleet[2]}
    same_in_chunks(reports, until=t_end + 1200)


def test_the_interference_alert_lists_the_vessels_of_its_window_and_stays_as_sent() -> None:
    """Three vessels jump together, a fourth 30 s later (within the window): all four are in the
    one alert, its count and its list agree; a fifth jumping there minutes later joins silently
    and does not change the alert already sent."""
    fleet = [725000920 + k for k in range(5)]
    delays = [0, 1, 2, 30, 300]
    streams: list[PositionReport] = []
    for k, (m, d) in enumerate(zip(fleet, delays, strict=True)):
        start = offset(OPEN_WATER, north_m=-300 * k)
        streams += stationary(m, T0, minutes=(180 + d) / 60, at=start, every_s=10)
        streams += stationary(m, T0 + 190 + d, minutes=3, at=offset(SPOOFED, east_m=20 * k), every_s=10)
    reports = merge(streams)
    core = make_core()
    alerts = _interference(run(core, reports, until=T0 + 1800))
    assert len(alerts) == 1
    d = alerts[0].details
    assert d["mmsis"] == fleet[:4] and d["vessels"] == 4 and "4 vessels" in alerts[0].message
    assert jumps(run(make_core(), reports, until=T0 + 1800)) == []  # the fifth: silently
    same_in_chunks(reports, until=T0 + 1800)


# -- position_jump: on land -----------------------------------------------------------------------


def test_fixes_just_over_the_coastline_are_not_on_land_but_further_in_they_are() -> None:
    """Two fixes in a row some 30 m over the coastline (GNSS noise, a boat on the beach, the
    coastline's own error): not a position on land. The same 150 m and more inside: on land."""
    core = make_core()
    for p in (NEAR_COAST, INLAND):
        assert core.zones.is_on_land(p[1], p[0])

    def track(at: tuple[float, float]) -> list:
        return merge(
            statics(SHIP, T0 - 10),
            stationary(SHIP, T0, minutes=8, at=OFF_ISLAND, every_s=120),
            stationary(SHIP, T0 + 600, minutes=6, at=at, every_s=120),
        )

    assert of_type(run(make_core(), track(NEAR_COAST), until=T0 + 1800), "position_jump") == []
    alerts = of_type(run(make_core(), track(INLAND), until=T0 + 1800), "position_jump")
    assert [(a.details["kind"], a.time) for a in alerts] == [("on_land", T0 + 720)]
    same_in_chunks(track(NEAR_COAST), until=T0 + 1800)


def test_a_mid_and_six_zeros_is_a_shared_placeholder_not_one_ship_jumping() -> None:
    """412000000 heard off Malaysia and 380 km away minutes later (the AMSA satellite recording):
    two boats set up with only their flag's MID, not one ship jumping; invalid_mmsi says so."""
    mmsi = 412000000
    assert is_placeholder_mmsi(mmsi) and not is_placeholder_mmsi(412000001)
    here = stationary(mmsi, T0, minutes=10, at=OPEN_WATER, every_s=10, sog=5.0)
    far = stationary(mmsi, T0 + 5, minutes=10, at=offset(OPEN_WATER, north_m=60_000), every_s=10, sog=5.0)
    alerts = run(make_core(), merge(here, far), until=T0 + 1800)
    assert of_type(alerts, "position_jump") == [] and of_type(alerts, "duplicate_mmsi") == []
    assert [a.details["problem"] for a in of_type(alerts, "invalid_mmsi")] == ["known placeholder MMSI"]
