"""duplicate_mmsi: while a vessel's fixes form one track, its single track head is the tracker's
previous fix and the rule keeps (and watches) nothing; only a split into two heads is state. Its
interest mask skips every fix that cannot split the track, add a dead-reckoning conflict or act on
one. These scenarios split and merge the heads around skipped fixes, across batches, a forget and a
reload; `run` and `same_in_chunks` require batched processing to give the alerts of report-by-report
processing."""

from __future__ import annotations

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
from vts.config import Config
from vts.reports import Report
from vts.rules.duplicate_mmsi import DuplicateMmsiRule

SHIP = 725000701
OTHER = 725000702
FAR = offset(OPEN_WATER, north_m=30_000)


def _rule(core: object) -> DuplicateMmsiRule:
    rule = core.engine.rule("duplicate_mmsi")  # type: ignore[attr-defined]
    assert isinstance(rule, DuplicateMmsiRule)
    return rule


def test_interleaved_ships_raise_clear_and_raise_again_and_the_watch_ends() -> None:
    """A fisher 4 km away transmits as the same MMSI for 10 minutes, stops, comes back 50 minutes
    later: raised, cleared, raised again. Once the fisher is silent, the ship's fixes all go to
    the first head, which is then the track's previous fix: the rule watches the vessel no more."""
    ship = moving(SHIP, T0, minutes=100, start=OPEN_WATER, cog=90, sog=6, every_s=10)
    first = moving(
        SHIP, T0 + 305, minutes=10, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=4, every_s=30
    )
    there = next(r for r in ship if r.time == T0 + 65 * 60)
    assert there.lat is not None and there.lon is not None
    fisher_at = offset((there.lat, there.lon), north_m=4000)
    second = moving(SHIP, T0 + 65 * 60 + 5, minutes=10, start=fisher_at, cog=0, sog=4, every_s=30)
    reports = merge(ship, first, second)
    core = make_core()
    alerts = of_type(run(core, reports, until=T0 + 110 * 60), "duplicate_mmsi")
    states = [a.state for a in alerts]
    assert states[0] == "raised" and "cleared" in states
    assert states[states.index("cleared") + 1] == "raised"
    assert all(a.details.get("kind") == "interleaved" for a in alerts if a.state == "raised")
    rule = _rule(core)
    assert rule._heads[SHIP].a_is_last and not rule.watches(core.engine.ctx, SHIP)
    same_in_chunks(reports, sizes=(1, 13, 200), until=T0 + 110 * 60)


def test_the_mask_keeps_only_the_fix_that_splits_the_track() -> None:
    """A steady track is skipped entirely; the first fix the previous one cannot reach is kept."""
    ship = moving(SHIP, T0, minutes=3, start=OPEN_WATER, cog=90, sog=6, every_s=10)
    core = make_core()
    core.process_many(ship[:5])
    other = moving(SHIP, ship[-1].time + 5, minutes=0, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=4)
    batch = ReportBatch([*ship[5:], *other])
    mask = _rule(core).interest(batch, core.engine.ctx)
    assert np.flatnonzero(mask).tolist() == [len(batch) - 1]


def test_conflicts_from_an_earlier_batch_still_raise_and_update_the_alert() -> None:
    """Two ships 16 NM apart: the dead-reckoning conflicts pile up on the primary; in chunks, the
    conflicts that decide come from earlier batches."""
    first = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=8, every_s=20)
    second = moving(SHIP, T0 + 310, minutes=10, start=FAR, cog=180, sog=8, every_s=30)
    reports = merge(first, second)
    alerts = of_type(run(make_core(), reports, until=T0 + 3600), "duplicate_mmsi")
    assert alerts[0].state == "raised" and alerts[-1].state == "cleared"
    same_in_chunks(reports, sizes=(1, 3, 17, 100), until=T0 + 3600)


def test_a_vessel_forgotten_with_split_heads_is_no_longer_watched() -> None:
    """The track splits (a second head 4 km away), then the MMSI falls silent for longer than the
    tracker keeps it: the heads and the watch go with it; back later, one track again."""
    ship = moving(SHIP, T0, minutes=6, start=OPEN_WATER, cog=90, sog=6, every_s=10)
    other = moving(SHIP, T0 + 305, minutes=1, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=4)
    back = moving(SHIP, T0 + 80 * 60, minutes=5, start=FAR, cog=90, sog=6, every_s=10)
    keep_clock = stationary(OTHER, T0, minutes=100, at=offset(OPEN_WATER, east_m=-3000), every_s=60)
    reports = merge(ship, other, back, keep_clock)
    core = make_core()
    alerts = run(core, reports, until=T0 + 100 * 60)
    assert [a.state for a in of_type(alerts, "duplicate_mmsi")] == ["raised", "cleared"]
    rule = _rule(core)
    assert SHIP not in rule._heads and not rule.watches(core.engine.ctx, SHIP)
    same_in_chunks(reports, sizes=(1, 9, 60), until=T0 + 100 * 60)


def test_conflicts_acted_on_after_their_shadow_is_gone() -> None:
    """Three outliers, each far from the others, leave three conflicts on the track and single-fix
    shadows that are forgotten once the clock (another ship) has moved 10 minutes on. The ship's
    own reports come in late (in order for it, behind the clock): within 10 minutes of the
    conflicts by their own time, they make it two ships. Batched, the conflicts come from an
    earlier batch and no shadow is left: only the conflict count brings the ship's fixes in."""
    track = stationary(SHIP, T0, minutes=1, at=OPEN_WATER, every_s=10)
    outliers = [position(SHIP, T0 + 61 + k, offset(FAR, east_m=20_000 * k)) for k in range(3)]
    clock = stationary(OTHER, T0, minutes=15, at=offset(OPEN_WATER, east_m=-3000), every_s=30)
    late = stationary(SHIP, T0 + 70, minutes=2, at=OPEN_WATER, every_s=10)
    early: list[Report] = merge(track, outliers, clock)
    reports = [*early, *late]
    one_by_one = make_core()
    expected = [a for r in reports for a in one_by_one.process(r)]
    assert one_by_one.tracker.shadow(SHIP) is None
    dup = [a for a in expected if a.type == "duplicate_mmsi"]
    assert dup and dup[0].state == "raised" and dup[0].details["conflicts"] == 3
    batched = make_core()
    got = [*batched.process_many(early), *batched.process_many(late)]
    assert [a.to_dict() for a in got] == [a.to_dict() for a in expected]


def test_a_rule_made_by_a_reload_starts_with_the_next_fix_as_its_head() -> None:
    """A reload with new parameters makes a new rule: it never saw the fix before the reload, so
    the first fix after it is its first head whatever its distance (as a fresh rule always did).
    Here that is the fisher's: the alert is then about the ship as the other head."""
    config = make_config()
    changed = set_rule(make_config(), "duplicate_mmsi", clear_minutes=29.0)
    ship = moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=6, every_s=10)
    fisher = moving(
        SHIP, T0 + 365, minutes=10, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=4, every_s=30
    )
    before: list[Report] = [r for r in ship if r.time <= T0 + 360]
    after: list[Report] = merge([r for r in ship if r.time > T0 + 360], fisher)
    assert after[0] is fisher[0]
    one_by_one = reload_run(None, config, changed, before, after)
    raised = [a for a in one_by_one if a["type"] == "duplicate_mmsi" and a["state"] == "raised"]
    assert raised and abs(raised[0]["details"]["other_lat"] - OPEN_WATER[0]) < 0.01  # type: ignore[index]
    for chunk in (1, 7, 1000):
        assert reload_run(chunk, config, changed, before, after) == one_by_one


def _same_split(parts: list[list[Report]], config: Config | None = None) -> list[Alert]:
    """Each part as one batch must give the alerts of one report at a time; returns those."""
    one_by_one = make_core(config)
    expected = [a for part in parts for r in part for a in one_by_one.process(r)]
    batched = make_core(config)
    got = [a for part in parts for a in batched.process_many(part)]
    assert not batched.engine.stats.rule_errors
    assert [a.to_dict() for a in got] == [a.to_dict() for a in expected]
    return expected


def test_a_fast_track_is_dead_reckoned_even_for_a_near_fix() -> None:
    """Over 25 kn the tracker dead-reckons every fix: a ship reporting 102 kn north every 100 s
    but staying put, and another 4 km south of it, 99 s after each of its fixes: each of those is
    far from where the first would be by then, a conflict, though only 4 km from the fix before
    it (a slow track would take it)."""
    south = offset(OPEN_WATER, north_m=-4000)
    first = stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=100, sog=102.0, cog=0.0)
    second = stationary(SHIP, T0 + 99, minutes=8, at=south, every_s=100, sog=102.0, cog=90.0)
    dup = of_type(run(make_core(), merge(first, second)), "duplicate_mmsi")
    assert dup and dup[0].state == "raised" and dup[0].details["conflicts"] == 3


def test_a_track_left_fast_by_the_previous_batch_is_dead_reckoned() -> None:
    """As above, but the second ship reports 5 kn and each fix is a batch of its own: the fast SOG
    that makes the second ship's fix a conflict is the track's, from the batch before. (The
    interleave test is off: it might take the 4 km hop for two heads and watch the vessel.)"""
    config = set_rule(make_config(), "duplicate_mmsi", interleave=False)
    south = offset(OPEN_WATER, north_m=-4000)
    first = stationary(SHIP, T0, minutes=8, at=OPEN_WATER, every_s=100, sog=102.0, cog=0.0)
    second = stationary(SHIP, T0 + 99, minutes=6, at=south, every_s=100, sog=5.0, cog=90.0)
    parts: list[list[Report]] = [[first[0]]]
    for b, a in zip(second, first[1:], strict=False):
        parts += [[b], [a]]
    dup = of_type(_same_split(parts, config), "duplicate_mmsi")
    assert dup and dup[0].state == "raised" and dup[0].details["conflicts"] == 3


def test_a_late_last_fix_is_not_where_the_track_is() -> None:
    """The last fix of the track came late (8.5 km from the track, but its lateness widens the
    dead-reckoning allowance): the track's position is still the earlier one. The next fixes, close
    to that late fix, are 8.5 km from the track 10 s later: conflicts, not a quiet continuation.
    (The interleave test is off: it would watch the vessel from the late fix on.)"""
    config = set_rule(make_config(), "duplicate_mmsi", interleave=False)
    track = stationary(SHIP, T0, minutes=2, at=OPEN_WATER, every_s=10)
    away = offset(OPEN_WATER, north_m=8500)
    late = position(SHIP, T0 + 20, away)  # arrives after the fix of T0 + 120
    after = stationary(SHIP, T0 + 130, minutes=1, at=offset(away, east_m=100), every_s=10)
    alerts = _same_split([[*track, late], [*after]], config)
    dup = of_type(alerts, "duplicate_mmsi")
    assert dup and dup[0].state == "raised"


def test_split_heads_merge_after_a_long_silent_jump_skipped_or_not() -> None:
    """After an interleave episode the ship's fixes all go to the first head (not watched). Then,
    after 190 s of silence, it reappears 4.5 km away (near enough for the tracker to take it
    without a second thought): out of reach of the head, which has been silent for more than
    STALE_HEAD_S: the heads merge (one ship) in both modes."""
    ship = moving(SHIP, T0, minutes=15, start=OPEN_WATER, cog=90, sog=6, every_s=10)
    fisher = moving(
        SHIP, T0 + 305, minutes=3, start=offset(OPEN_WATER, north_m=4000), cog=0, sog=4, every_s=30
    )
    end = ship[-1]
    assert end.lat is not None and end.lon is not None
    hop = moving(
        SHIP, end.time + 190, minutes=2, start=offset((end.lat, end.lon), east_m=4500), cog=90, sog=6
    )
    reports = merge(ship, fisher, hop)
    core = make_core()
    core.process_many(reports[: len(reports) - len(hop)])
    rule = _rule(core)
    assert rule._heads[SHIP].a_is_last and not rule.watches(core.engine.ctx, SHIP)  # before the hop
    states = []
    for feed in ("one", "batch"):
        core = make_core()
        if feed == "one":
            for r in reports:
                core.process(r)
        else:
            core.process_many(reports)
        rule = _rule(core)
        states.append((SHIP in rule._heads, rule.watches(core.engine.ctx, SHIP)))
    assert states == [(False, False), (False, False)]
