"""position_jump: the rule keeps no per-fix state (its reference is the tracker's previous fix on the
track) and its interest mask skips every fix that cannot be a jump, a land fix or a (0, 0) fix. These
scenarios put the interesting fix right after skipped ones, in the middle of a batch, after a late
fix, a shadow, a forget or a reload; `run` (and `same_in_chunks`, with several batch sizes) require
the alerts of batched processing to be those of report-by-report processing."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

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
    reload_run,
    run,
    same_in_chunks,
    set_rule,
    stationary,
)
from vts.alerts.model import Alert
from vts.batch import ReportBatch
from vts.reports import PositionReport, Report, StaticReport
from vts.rules._fix_stream import fix_stream

SHIP = 725000601
OTHER = 725000602
ON_LAND = (-12.08, -77.22)  # San Lorenzo island
OFF_ISLAND = offset(ON_LAND, north_m=1500)  # sea, 1.5 km north of it
FAR = offset(OPEN_WATER, north_m=30_000)


def jumps(alerts: list[Alert]) -> list[Alert]:
    return [a for a in of_type(alerts, "position_jump") if a.details["kind"] == "jump"]


def statics(mmsi: int, t: float, n: int = 5) -> list[StaticReport]:
    """`n` static reports (they count as messages: alerts need `min_messages`)."""
    return [StaticReport(time=t + k, mmsi=mmsi, msg_type=5, source="test", name="TEST") for k in range(n)]


def test_a_jump_right_after_many_skipped_fixes_is_judged_from_the_fix_before_it() -> None:
    track = moving(SHIP, T0, minutes=5, start=OPEN_WATER, cog=90, sog=8)
    last = track[-1]
    assert last.lat is not None and last.lon is not None
    aside = offset((last.lat, last.lon), north_m=1200)
    after = moving(SHIP, last.time + 10, minutes=3, start=aside, cog=90, sog=8)
    reports = merge(track, after)
    alerts = jumps(run(make_core(), reports, until=T0 + 900))
    assert len(alerts) == 1
    d = alerts[0].details
    assert (d["from_lat"], d["from_lon"]) == (round(last.lat, 6), round(last.lon, 6))
    assert d["elapsed_s"] == 10.0
    same_in_chunks(reports, until=T0 + 900)


def test_the_mask_skips_steady_fixes_and_keeps_the_jump() -> None:
    """What makes the rule cheap: of a steady track, only the jump is handed to the rule."""
    track = moving(SHIP, T0, minutes=5, start=OPEN_WATER, cog=90, sog=8)
    jump = position(SHIP, track[-1].time + 10, offset(OPEN_WATER, north_m=1500), sog=8, cog=90)
    core = make_core()
    core.process_many(track[:10])  # the tracker knows the ship: its first fix has a predecessor
    batch = ReportBatch([*track[10:], jump])
    rule = core.engine.rule("position_jump")
    assert rule is not None
    mask = rule.interest(batch, core.engine.ctx)
    assert np.flatnonzero(mask).tolist() == [len(batch) - 1]


def test_a_shadow_appearing_mid_batch_and_a_later_jump_of_the_primary() -> None:
    """The outlier goes to a shadow track: reported as a jump from the primary's last fix, and the
    primary's own next jump (15 minutes later, past the cooldown) is judged from its own fixes."""
    track = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=20)
    outlier = position(SHIP, T0 + 305, FAR, sog=8, cog=90)
    before_outlier = [r for r in track if r.time < outlier.time][-1]
    end = track[-1]
    assert end.lat is not None and end.lon is not None
    later = moving(
        SHIP, end.time + 20, minutes=3, start=offset((end.lat, end.lon), north_m=1500), cog=90, sog=8
    )
    reports = merge(track, outlier, later)
    alerts = jumps(run(make_core(), reports, until=T0 + 2400))
    assert len(alerts) == 2
    assert alerts[0].details["from_lat"] == round(before_outlier.lat or 0.0, 6)
    assert alerts[1].details["from_lat"] == round(end.lat, 6) and alerts[1].details["elapsed_s"] == 20.0
    same_in_chunks(reports, until=T0 + 2400)


def test_a_late_fix_is_the_reference_of_the_next_one() -> None:
    """A fix that arrives late (older than the track) is not compared (it is older), but it is the
    reference of the next fix, as on the track: a jump back from it is a jump."""
    track = stationary(SHIP, T0, minutes=5, at=OPEN_WATER, every_s=10, sog=0.0)
    late_at = offset(OPEN_WATER, east_m=4000)
    late = position(SHIP, T0 + 200, late_at, sog=0.0)  # arrives after the fix of T0 + 300
    back = stationary(SHIP, T0 + 310, minutes=2, at=OPEN_WATER, every_s=10, sog=0.0)
    reports = [*track, late, *back]
    alerts = jumps(run(make_core(), reports, until=T0 + 900))
    assert len(alerts) == 1
    d = alerts[0].details
    assert d["from_lon"] == round(late_at[1], 6) and d["elapsed_s"] == 110.0
    same_in_chunks(reports, until=T0 + 900)


def test_a_fix_at_sea_between_two_on_land_resets_the_count() -> None:
    """One fix on land, one at sea, one on land: never two in a row, no alert. The fix at sea is no
    jump and nothing else of interest: only the watch on the vessel's land count brings it in."""
    reports = merge(
        statics(SHIP, T0 - 10),
        stationary(SHIP, T0, minutes=8, at=OFF_ISLAND, every_s=120),
        position(SHIP, T0 + 600, ON_LAND),
        position(SHIP, T0 + 720, OFF_ISLAND),
        position(SHIP, T0 + 840, ON_LAND),
    )
    assert of_type(run(make_core(), reports, until=T0 + 1800), "position_jump") == []
    same_in_chunks(reports, until=T0 + 1800)


def test_on_land_is_reported_again_once_back_at_sea_and_the_watch_ends() -> None:
    reports = merge(
        statics(SHIP, T0 - 10),
        stationary(SHIP, T0, minutes=8, at=OFF_ISLAND, every_s=120),
        stationary(SHIP, T0 + 600, minutes=2, at=ON_LAND, every_s=120),
        stationary(SHIP, T0 + 840, minutes=16, at=OFF_ISLAND, every_s=120),
        stationary(SHIP, T0 + 1920, minutes=2, at=ON_LAND, every_s=120),
        stationary(SHIP, T0 + 2160, minutes=4, at=OFF_ISLAND, every_s=120),
    )
    core = make_core()
    alerts = of_type(run(core, reports, until=T0 + 3000), "position_jump")
    assert [(a.details["kind"], a.time) for a in alerts] == [("on_land", T0 + 720), ("on_land", T0 + 2040)]
    rule = core.engine.rule("position_jump")
    assert rule is not None and not rule.watches(core.engine.ctx, SHIP)  # back at sea: not watched
    same_in_chunks(reports, until=T0 + 3000)


def test_a_jump_across_a_fix_at_zero_zero_on_the_track() -> None:
    """A vessel whose first fixes are at (0, 0): they stay on its track (nothing to compare them
    with) and are reported; the real fixes go to a shadow track, which becomes the track once the
    (0, 0) one is stale: its first fix there is not a jump from (0, 0), which is never a reference.
    (duplicate_mmsi is off, and the cooldown: either would hide any jump of the vessel.)"""
    config = set_rule(make_config(cooldown_minutes=0.0), "duplicate_mmsi", enabled=False)
    a = OPEN_WATER
    reports = [
        *statics(SHIP, T0 - 10),
        position(SHIP, T0, (0.0, 0.0)),
        position(SHIP, T0 + 10, (0.0, 0.0)),
        *stationary(SHIP, T0 + 20, minutes=1, at=a, every_s=10),
        *stationary(SHIP, T0 + 90, minutes=1, at=offset(a, east_m=100), every_s=10),
    ]
    alerts = of_type(run(make_core(config), reports, until=T0 + 900), "position_jump")
    assert [x.details["kind"] for x in alerts] == ["null_island", "null_island"]
    same_in_chunks(reports, sizes=(1, 2, 3, 5), until=T0 + 900, config=config)


def test_a_vessel_forgotten_and_back_far_away_is_no_jump() -> None:
    """Silent for longer than the tracker keeps it: its next fix, 30 km away, has no reference.
    Its land count (one fix on land, so watched) goes with it."""
    keep_clock = stationary(OTHER, T0, minutes=100, at=offset(OPEN_WATER, east_m=-3000), every_s=60)
    reports = merge(
        statics(SHIP, T0 - 10),
        stationary(SHIP, T0, minutes=4, at=OFF_ISLAND, every_s=120),
        position(SHIP, T0 + 360, ON_LAND),
        position(SHIP, T0 + 80 * 60, ON_LAND),
        stationary(SHIP, T0 + 85 * 60, minutes=2, at=FAR, every_s=30),
        keep_clock,
    )
    core = make_core()
    assert of_type(run(core, reports, until=T0 + 110 * 60), "position_jump") == []
    same_in_chunks(reports, sizes=(1, 9, 50), until=T0 + 110 * 60)


def test_a_rule_made_by_a_reload_has_no_reference_for_known_vessels() -> None:
    """A reload with new parameters makes a new rule: it has seen no fix yet, so the first fix of a
    known vessel after it is compared with nothing (as a fresh rule always did), the next ones are."""
    config = make_config()
    changed = set_rule(make_config(), "position_jump", min_speed_kn=39.0)
    before = stationary(SHIP, T0, minutes=3, at=OPEN_WATER, every_s=10)
    hop = stationary(SHIP, T0 + 190, minutes=2, at=offset(OPEN_WATER, east_m=2000), every_s=10)
    hop2 = stationary(SHIP, T0 + 320, minutes=2, at=offset(OPEN_WATER, east_m=4000), every_s=10)
    after: list[Report] = [*hop, *hop2]
    one_by_one = reload_run(None, config, changed, list(before), after)
    found = [a for a in one_by_one if a["type"] == "position_jump"]
    assert len(found) == 1 and found[0]["details"]["elapsed_s"] == 10.0  # type: ignore[index]
    assert found[0]["details"]["from_lon"] == round(hop[-1].lon or 0.0, 6)  # type: ignore[index]
    for chunk in (1, 7, 1000):
        assert reload_run(chunk, config, changed, list(before), after) == one_by_one


def test_fix_stream_predecessors_and_complex_mmsis() -> None:
    """The shared per-batch analysis: the first fix of an MMSI has the tracker's last fix as its
    predecessor (an MMSI the tracker does not know: itself); a far fix, a fix back in time or a
    fast track make an MMSI complex; a shadow track alone does not (a fix the primary surely
    accepts goes to the primary)."""
    core = make_core()
    third, fourth, fifth = 725000603, 725000604, 725000605
    core.process_many(
        merge(
            stationary(SHIP, T0, minutes=1, at=OPEN_WATER, every_s=10),
            stationary(OTHER, T0, minutes=1, at=OPEN_WATER, every_s=10),
            stationary(fifth, T0, minutes=1, at=OPEN_WATER, every_s=10, sog=30.0),
        )
    )
    core.process(position(SHIP, T0 + 65, FAR))  # an outlier: a shadow track
    assert core.tracker.shadow(SHIP) is not None
    batch = ReportBatch(
        [
            position(SHIP, T0 + 70, offset(OPEN_WATER, east_m=100)),
            position(OTHER, T0 + 70, OPEN_WATER),
            position(OTHER, T0 + 80, FAR),  # far: complex
            position(third, T0 + 70, OPEN_WATER),
            position(fourth, T0 + 70, OPEN_WATER),
            position(fourth, T0 + 60, OPEN_WATER),  # back in time: complex
            position(fifth, T0 + 70, OPEN_WATER, sog=5.0),  # its track is at 30 kn: complex
        ]
    )
    s = fix_stream(batch, core.tracker)
    by_row = {int(r): k for k, r in enumerate(s.rows)}
    ship = by_row[0]
    assert s.dt[ship] == 10.0 and 100.0 <= s.dist[ship] <= 100.0 * 1.002  # an upper bound
    assert [bool(s.complex[s.group[by_row[i]]]) for i in range(len(batch))] == [
        False,
        True,
        True,
        False,
        True,
        True,
        True,
    ]
    assert s.dist[by_row[3]] == 0.0 and s.dt[by_row[3]] == 0.0  # unknown to the tracker


def test_position_report_subclasses_are_fixes_to_the_tracker_and_to_the_mask() -> None:
    """The batch counts only plain PositionReports as fixes; the tracker takes any instance. A
    subclass's fixes are then always handed to the rules (the jump below is one of them)."""

    class Relayed(PositionReport):
        """A position report of some other origin (only in this test)."""

    config = make_config()
    for rid in list(config.rules):
        if rid not in ("position_jump", "duplicate_mmsi"):
            config = set_rule(config, rid, enabled=False)
    track = stationary(SHIP, T0, minutes=3, at=OPEN_WATER, every_s=10)
    jump = position(SHIP, T0 + 190, offset(OPEN_WATER, east_m=1500))
    relayed = Relayed(**{f.name: getattr(jump, f.name) for f in fields(jump)})
    after = stationary(SHIP, T0 + 200, minutes=2, at=offset(OPEN_WATER, east_m=1500), every_s=10)
    reports: list[Report] = [*track, relayed, *after]
    alerts = jumps(run(make_core(config), reports, until=T0 + 900))
    assert len(alerts) == 1 and alerts[0].details["elapsed_s"] == 10.0
    same_in_chunks(reports, until=T0 + 900, config=config)


def test_a_faulty_sog_of_102_kn_does_not_excuse_a_jump() -> None:
    """A transponder that reports SOG 102.2 ("102 kn or more": a fault on a ship at 8 kn) would
    allow 214 kn; the allowance stops at the 50 kn a vessel may credibly report (110 kn)."""
    track = moving(SHIP, T0, minutes=5, start=OPEN_WATER, cog=90, sog=8)
    last = track[-1]
    assert last.lat is not None and last.lon is not None
    aside = offset((last.lat, last.lon), north_m=1200)  # 1.2 km in 10 s: 233 kn
    track += moving(SHIP, last.time + 10, minutes=2, start=aside, cog=90, sog=8)
    reports = merge([replace(r, sog=102.2) for r in track])
    alerts = jumps(run(make_core(), reports, until=T0 + 900))
    assert len(alerts) == 1 and alerts[0].details["sog_kn"] == 102.2
    lenient = set_rule(make_config(), "position_jump", max_sog_kn=110.0)
    assert jumps(run(make_core(lenient), reports, until=T0 + 900)) == []
