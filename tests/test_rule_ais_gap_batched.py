"""ais_gap in batches: the heard order is applied in bulk, rows a tick falls between, and only
the rows that could change it reach the rule. Every scenario runs one by one and as one batch
(`tests/rule_helpers.run`), and the alerts must be the same; these check the cases the bulk order
must get right: a report that went to a shadow track (not heard), a late one whose shadow track
the prune already dropped, a safety report, a vessel heard again while waiting for its retry, a
vessel dark, forgotten and back."""

from __future__ import annotations

from tests.rule_helpers import (
    OPEN_WATER,
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
    static,
    stationary,
)
from vts.alerts.model import Alert
from vts.reports import Report, SafetyReport

A = 760000611
B = 760000622
NEIGHBOUR = 760000633
FAR = offset(OPEN_WATER, north_m=40_000)
"""40 km off: a fix there is inconsistent with a track near OPEN_WATER (a second ship)."""


def neighbour(minutes: float) -> list[Report]:
    """A vessel 2 km away heard every 10 s (so a silent vessel near it is not a receiver outage)."""
    return list(stationary(NEIGHBOUR, T0 + 3, minutes=minutes, at=offset(OPEN_WATER, north_m=2000), sog=0.1))


def quiet_at(mmsi: int, last: float, *, east_m: float = 0.0) -> list[Report]:
    """Reports every 10 s, 2 kn north, from T0 until `last` (then silence)."""
    track = moving(mmsi, T0, minutes=25, start=offset(OPEN_WATER, east_m=east_m), cog=0, sog=2.0)
    return [r for r in track if r.time <= last]


def raised(alerts: list[Alert]) -> list[tuple[int, float]]:
    return [(a.mmsi, a.time) for a in of_type(alerts, "ais_gap") if a.state == "raised"]


def test_two_vessels_dark_in_one_tick_come_in_heard_order() -> None:
    """A and B fall silent 5 s apart and go dark in the same tick: A first (heard first)."""
    reports = merge(quiet_at(A, T0 + 1185), quiet_at(B, T0 + 1190, east_m=1000), neighbour(40))
    got = raised(run(make_core(), reports))
    assert [m for m, _ in got] == [A, B]
    assert got[0][1] == got[1][1] and T0 + 1800 <= got[0][1] < T0 + 1830


def test_a_fix_that_goes_to_a_shadow_track_does_not_count_as_heard() -> None:
    """A's last report comes from 40 km away, after B's last: a second ship under A's MMSI (a
    shadow track). A was last heard before B, so it still goes dark first, in the same tick."""
    shadow = position(A, T0 + 1195, FAR, sog=2.0, cog=0.0)
    reports = merge(quiet_at(A, T0 + 1185), quiet_at(B, T0 + 1190, east_m=1000), [shadow], neighbour(40))
    core = make_core()
    got = raised(run(core, reports))
    assert [m for m, _ in got] == [A, B]
    assert got[0][1] == got[1][1] and T0 + 1800 <= got[0][1] < T0 + 1830


def test_a_late_fix_on_a_shadow_track_the_prune_dropped_does_not_count_as_heard() -> None:
    """A's last report is 15 minutes late and 40 km off: it makes a one-fix shadow track, which a
    prune drops (an outlier) before the next tick. A was still last heard before B. (Everything
    starts 45 s in, so that the prunes, every 60 s, fall between the ticks, every 30 s.)"""
    late = position(A, T0 + 300, FAR, sog=2.0, cog=0.0)
    rows = merge(quiet_at(A, T0 + 1185), quiet_at(B, T0 + 1190, east_m=1000), neighbour(40))
    rows = [r for r in rows if r.time >= T0 + 45]
    at = next(i for i, r in enumerate(rows) if r.time > T0 + 1186)
    reports = [*rows[:at], late, *rows[at:]]  # processed at T0 + 1187, dated T0 + 300
    core = make_core()
    got = raised(run(core, reports))
    assert [m for m, _ in got] == [A, B]
    assert got[0][1] == got[1][1] and T0 + 1800 <= got[0][1] < T0 + 1830
    assert core.tracker.shadow(A) is None


def test_a_safety_report_counts_as_heard() -> None:
    """A's last message is a safety broadcast (type 14) five minutes after its last position: its
    silence starts there."""
    text = SafetyReport(time=T0 + 1500, mmsi=A, msg_type=14, source="test", text="KEEP CLEAR")
    got = raised(run(make_core(), merge(quiet_at(A, T0 + 1200), [text], neighbour(45))))
    assert got and got[0][0] == A and got[0][1] >= T0 + 1500 + 600


def test_a_waiting_vessel_heard_again_waits_from_its_new_silence() -> None:
    """A moored vessel (30 min to go dark) is looked at again and again while silent; a static
    report 20 minutes in starts its silence over: it goes dark 30 minutes after that report."""
    moored = [
        position(A, T0 + k * 60, OPEN_WATER, sog=0.0, nav_status=5) for k in range(21)
    ]  # every minute until T0 + 1200
    name = static(A, T0 + 1200 + 1200, name="QUIET", ship_type=70, length=100)
    got = raised(run(make_core(), merge(moored, [name], neighbour(80))))
    assert got and got[0][0] == A
    assert T0 + 2400 + 1800 <= got[0][1] <= T0 + 2400 + 1800 + 90


def test_dark_forgotten_and_back_in_the_middle_of_a_batch() -> None:
    """A goes dark, is forgotten by the tracker (an hour silent; its alert stays), and is heard
    again: the alert clears on that report, and A's second silence makes a second alert."""
    back = T0 + 1200 + 4000
    again = moving(A, back, minutes=12, start=offset(OPEN_WATER, north_m=300), cog=0, sog=2.0)
    reports = merge(quiet_at(A, T0 + 1200), again, neighbour(110))
    steps = of_type(run(make_core(), reports), "ais_gap")
    assert [a.state for a in steps if a.state != "updated"] == ["raised", "cleared", "raised"]
    cleared = next(a for a in steps if a.state == "cleared")
    assert cleared.time == back and cleared.details["reason"] == "reappeared"
    assert cleared.details["gap_s"] > 3600


def test_given_up_then_heard_then_dark_again() -> None:
    """With a short give-up time (15 min), A's alert ends unheard; A is then heard for 12 minutes,
    falls silent again, goes dark again and is given up again."""
    config = set_rule(make_config(), "ais_gap", max_dark_hours=0.25)
    back = T0 + 2200
    again = moving(A, back, minutes=12, start=OPEN_WATER, cog=0, sog=2.0)
    steps = of_type(run(make_core(config), merge(quiet_at(A, T0 + 1200), again, neighbour(65))), "ais_gap")
    states = [(a.state, a.time - T0, a.details.get("reason")) for a in steps if a.state != "updated"]
    assert [s[0] for s in states] == ["raised", "cleared", "raised", "cleared"]
    assert states[1][2] == states[3][2] == "not heard again" and states[1][1] > 1200 + 900
    assert states[2][1] >= back - T0 + 720 + 600
