"""cpa: the incremental mover table. Vessels become movers, or stop being movers, through reports
that come in the middle of a batch, between ticks, without a fix, or not at all (a stale fix); the
run helper replays every scenario one by one and as one batch and requires the same alerts."""

from __future__ import annotations

import numpy as np
from pytest import MonkeyPatch

import vts.rules.cpa as cpa_module
from tests.rule_helpers import (
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    run,
    static,
    stationary,
)
from vts.alerts.model import parse_iso_time
from vts.reports import PositionReport
from vts.rules.cpa import CpaParams, CpaRule, candidate_pairs, compute_cpa, cpa_of_pairs, pairs_within

A = 725000501
B = 725000502
C = 725000503


def no_fix(mmsi: int, t: float, sog: float, cog: float = 270.0) -> PositionReport:
    """A position report without a position: it still sets the speed and course."""
    return PositionReport(time=t, mmsi=mmsi, msg_type=1, source="test", sog=sog, cog=cog)


def test_a_no_fix_report_makes_a_drifting_ship_a_mover() -> None:
    """B lies still (0 kn) in A's path; a report without a fix then gives it 6 kn towards A: B is
    a mover from the next tick on, though no fix with that speed ever came."""
    east = offset(OPEN_WATER, north_m=40, east_m=2500)
    reports = merge(
        moving(A, T0, minutes=8, start=OPEN_WATER, cog=90, sog=10),
        [r for r in moving(B, T0, minutes=8, start=east, cog=270, sog=0.0) if r.time <= T0 + 60],
        [no_fix(B, T0 + 65, 6.0)] + [no_fix(B, T0 + 65 + 10 * k, 6.0) for k in range(1, 3)],
    )
    alerts = of_type(run(make_core(), reports), "cpa")
    assert alerts and alerts[0].state == "raised" and {alerts[0].mmsi, alerts[0].other_mmsi} == {A, B}
    assert alerts[0].time >= T0 + 70


def test_movers_that_stop_or_fall_silent_leave_the_table() -> None:
    """Head-on pairs: one ship stops mid-way (a no-fix report at 0 kn), another falls silent (its
    fix grows older than max_fix_age_s): their alerts clear, in the same steps batched or not."""
    east = offset(OPEN_WATER, north_m=30, east_m=3000)
    north = offset(OPEN_WATER, north_m=3000, east_m=1500)
    reports = merge(
        moving(A, T0, minutes=10, start=OPEN_WATER, cog=90, sog=9),
        [r for r in moving(B, T0, minutes=10, start=east, cog=270, sog=9) if r.time < T0 + 95],
        [no_fix(B, T0 + 95, 0.0)],
        [r for r in moving(C, T0, minutes=10, start=north, cog=180, sog=9) if r.time < T0 + 100],
    )
    alerts = of_type(run(make_core(), reports, until=T0 + 900), "cpa")
    cleared = {(a.mmsi, a.other_mmsi) for a in alerts if a.state == "cleared"}
    raised = {(a.mmsi, a.other_mmsi) for a in alerts if a.state == "raised"}
    assert raised and raised == cleared


def test_a_forgotten_vessel_comes_back_under_the_same_mmsi() -> None:
    """B is forgotten (an hour silent) and a new B appears on a collision course: the table must
    hold the new vessel, not the old one."""
    far = offset(OPEN_WATER, north_m=20_000)
    later = T0 + 4000
    reports = merge(
        moving(B, T0, minutes=2, start=far, cog=0, sog=8),
        stationary(A, T0, minutes=1, at=offset(OPEN_WATER, east_m=-9000)),
        moving(A, later, minutes=8, start=OPEN_WATER, cog=90, sog=10),
        moving(B, later, minutes=8, start=offset(OPEN_WATER, north_m=20, east_m=2600), cog=270, sog=10),
    )
    alerts = of_type(run(make_core(), reports), "cpa")
    assert alerts and alerts[0].state == "raised" and alerts[0].time >= later


def test_candidate_pairs_on_a_dense_crowd_and_at_the_radius() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate((rng.uniform(0, 5000, 300), [100_000.0, 101_500.0, 100_000.0]))
    y = np.concatenate((rng.uniform(0, 5000, 300), [0.0, 0.0, 1500.0 + 1e-7]))
    i, j = candidate_pairs(x, y, 1500.0)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    want = {(a, b) for a, b in zip(*np.nonzero(d <= 1500.0), strict=True) if a < b}
    assert got == want and (300, 301) in got and (300, 302) not in got


def test_the_sweep_in_a_crowd_builds_the_same_pairs_without_its_grid(monkeypatch: MonkeyPatch) -> None:
    """`sweep_x` lays the pairs out in a grid as wide as the longest run in x; in a crowd it builds
    them another way. Both give exactly the pairs within the radius (brute force)."""
    rng = np.random.default_rng(11)
    x = np.concatenate((rng.uniform(0, 3000, 250), rng.uniform(50_000, 90_000, 50)))
    y = rng.uniform(0, 3000, 300)
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    want = {(a, b) for a, b in zip(*np.nonzero(d <= 1200.0), strict=True) if a < b}
    for grid_max in (1 << 20, 10):
        monkeypatch.setattr(cpa_module, "_GRID_MAX", grid_max)
        a, b, off, length = pairs_within(np.stack((x, y)), 1200.0)
        assert set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True)) == want
        assert np.array_equal(off, np.stack((x[b] - x[a], y[b] - y[a])))
        assert np.array_equal(length, np.hypot(off[0], off[1]))


def test_cpa_of_pairs_gives_the_numbers_of_compute_cpa_bit_for_bit() -> None:
    """The tick's arithmetic (`cpa_of_pairs`, pairs in either orientation) against the reference
    `compute_cpa`: the same floats, zeros, infinities and signs included."""
    rng = np.random.default_rng(12)
    n = 400
    x, y = rng.uniform(-8.4e6, -8.39e6, n), rng.uniform(-1.33e6, -1.32e6, n)
    vx, vy = rng.normal(0, 5, n), rng.normal(0, 5, n)
    vx[::5], vy[::7] = 0.0, -0.0
    vx[1::9], vy[1::9] = vx[2::9], vy[2::9]  # same velocity as the next vessel: no CPA
    x[3:390:11] = x[4:391:11]  # and the same x
    i, j = rng.integers(0, n, 3000), rng.integers(0, n, 3000)
    for min_rel in (0.0, 0.5144):  # with no minimum, equal velocities give 0 / 0 (NaN) both ways
        with np.errstate(invalid="ignore"):
            rng_ref, cpa_ref, tcpa_ref = compute_cpa(x, y, vx, vy, i, j, min_rel)
        for a, b in ((i, j), (j, i)):  # either orientation
            d = np.stack((x[b] - x[a], y[b] - y[a]))
            dv = np.stack((vx[b] - vx[a], vy[b] - vy[a]))
            with np.errstate(invalid="ignore"):
                cpa, tcpa = cpa_of_pairs(d, dv, min_rel)
            assert np.array_equal(np.hypot(d[0], d[1]), rng_ref)
            assert np.array_equal(cpa, cpa_ref, equal_nan=True)
            assert np.array_equal(tcpa, tcpa_ref, equal_nan=True)
            assert np.array_equal(np.signbit(tcpa), np.signbit(tcpa_ref))
            assert np.isinf(tcpa).any() == (min_rel > 0)  # slow relative motion: no CPA


def test_a_mover_declared_a_tug_mid_way_leaves_its_pair() -> None:
    """A head-on pair alerts; then B's static report says it is a tug (an assist craft) and A is
    a cargo ship (one it may be serving): the pair is left out from the next tick and its alert
    clears."""
    east = offset(OPEN_WATER, north_m=30, east_m=3000)
    reports = merge(
        [static(A, T0, name="CARGO", ship_type=70, length=180)],
        moving(A, T0, minutes=6, start=OPEN_WATER, cog=90, sog=9),
        moving(B, T0, minutes=6, start=east, cog=270, sog=9),
        [static(B, T0 + 150, name="TUG", ship_type=52, length=30)],
    )
    alerts = of_type(run(make_core(), reports), "cpa")
    assert [a.state for a in alerts if a.state != "updated"] == ["raised", "cleared"]
    assert alerts[0].time < T0 + 150 <= alerts[-1].time < T0 + 170


def test_new_allow_lists_take_the_pair_out_batched_or_not() -> None:
    """A reload with B on the pilot allow-list (the rule keeps its state), A a cargo ship: the
    pair's alert clears at the next tick, the same way whether the reports came in a batch or one
    by one."""
    east = offset(OPEN_WATER, north_m=30, east_m=3000)
    reports = merge(
        [static(A, T0, name="CARGO", ship_type=70, length=180)],
        moving(A, T0, minutes=6, start=OPEN_WATER, cog=90, sog=9),
        moving(B, T0, minutes=6, start=east, cog=270, sog=9),
    )
    first = [r for r in reports if r.time < T0 + 150]
    rest = [r for r in reports if r.time >= T0 + 150]
    streams = []
    for batched in (True, False):
        core = make_core()
        out = core.process_many(first) if batched else [a for r in first for a in core.process(r)]
        config = core.config.model_copy(deep=True)
        config.allowlists.pilot.append(B)
        core.reload(config)
        out += core.process_many(rest) if batched else [a for r in rest for a in core.process(r)]
        streams.append([a.to_dict() for a in out if a.type == "cpa"])
    assert streams[0] == streams[1]
    assert [s["state"] for s in streams[0] if s["state"] != "updated"] == ["raised", "cleared"]
    assert parse_iso_time(streams[0][-1]["time"]) < T0 + 170  # at the reload, not once the ships have passed


def test_a_few_pairs_worked_out_in_python_give_the_numbers_of_numpy() -> None:
    """A tick works out a few pairs in Python, more in numpy: the same candidates, the same floats."""
    rule = CpaRule(CpaParams(warning_cpa_nm=3.0))  # a wide clearing distance: many candidates
    rng = np.random.default_rng(13)
    for _ in range(20):
        m = int(rng.integers(1, 64))
        diff = np.stack(
            (rng.normal(0, 2000, m), rng.normal(0, 2000, m), rng.normal(0, 6, m), rng.normal(0, 6, m))
        )
        diff[2:, ::4] = 0.0  # no relative motion
        a, b = rng.integers(0, 500, m), rng.integers(0, 500, m)
        length = np.hypot(diff[0], diff[1])
        few = rule._few_pairs(np.concatenate((diff, length[None], a[None], b[None])).tolist(), 0.5144)
        many = rule._many_pairs(a, b, diff, length, 0.5144)
        assert few == many and len(many) > 0


def _swing(confirm_s: float | None = None) -> list[object]:
    """A and B pass 1 km apart on opposite courses (no close quarters), but one report of B, two
    minutes in, gives a course swung 59 degrees, straight into a collision with A (a course report
    in a swing, or GNSS course noise): one evaluation (tick) sees CPA 0 in under 4 minutes."""
    reports = merge(
        moving(A, T0, minutes=6, start=OPEN_WATER, cog=90, sog=10),
        moving(B, T0, minutes=6, start=offset(OPEN_WATER, north_m=1000, east_m=3000), cog=270, sog=10),
    )
    glitch = next(i for i, r in enumerate(reports) if r.mmsi == B and r.time == T0 + 120)
    r = reports[glitch]
    assert isinstance(r, PositionReport)
    reports[glitch] = PositionReport(
        time=r.time, mmsi=B, msg_type=1, source="test", lat=r.lat, lon=r.lon, sog=10.0, cog=211.0
    )
    core = make_core()
    if confirm_s is not None:
        rule = core.engine.rule("cpa")
        assert isinstance(rule, CpaRule)
        core.engine.set_rules([CpaRule(rule.p.model_copy(update={"confirm_s": confirm_s}))])
    return of_type(run(core, reports), "cpa")


def test_a_situation_seen_on_one_evaluation_only_is_not_raised() -> None:
    assert _swing() == []
    flicker = _swing(confirm_s=0.0)  # taken at once, it is raised and cleared ten seconds later
    assert [a.state for a in flicker] == ["raised", "cleared"] and flicker[0].severity == "alarm"
    assert flicker[1].time - flicker[0].time == 10.0


def test_a_situation_that_holds_is_raised_at_the_second_evaluation() -> None:
    """Head-on from 8 km: the pair comes within the 3 NM range (and under 10 minutes to CPA) some
    four minutes in, long after both have the messages an alert needs."""
    east = offset(OPEN_WATER, north_m=40, east_m=8000)
    reports = merge(
        moving(A, T0, minutes=10, start=OPEN_WATER, cog=90, sog=10),
        moving(B, T0, minutes=10, start=east, cog=270, sog=10),
    )
    at_once = CpaRule(CpaParams(confirm_s=0.0))
    core = make_core()
    core.engine.set_rules([at_once])
    first = of_type(run(core, reports), "cpa")[0]
    raised = of_type(run(make_core(), reports), "cpa")[0]
    assert first.time > T0 + 200 and first.severity == "warning"
    assert raised.state == "raised" and raised.time == first.time + 10.0


def _late_pass(min_warning_tcpa_s: float | None = None) -> list[object]:
    """A and B on opposite courses 650 m apart (CPA 0.35 NM: no warning); 30 s before they are
    abeam, B alters 35 degrees towards A: CPA 0.29 NM, with the closest point 29 s away when the
    situation is confirmed."""
    b_start = offset(OPEN_WATER, north_m=650, east_m=4000)
    turn_at = T0 + 360
    b_before = [r for r in moving(B, T0, minutes=8, start=b_start, cog=270, sog=10) if r.time < turn_at]
    last = b_before[-1]
    assert last.lat is not None and last.lon is not None
    b_after = moving(B, turn_at, minutes=3, start=offset((last.lat, last.lon), east_m=-51.4), cog=235, sog=10)
    reports = merge(moving(A, T0, minutes=9, start=OPEN_WATER, cog=90, sog=10), b_before, b_after)
    core = make_core()
    if min_warning_tcpa_s is not None:
        core.engine.set_rules([CpaRule(CpaParams(min_warning_tcpa_s=min_warning_tcpa_s))])
    return of_type(run(core, reports), "cpa")


def test_a_warning_with_the_closest_point_seconds_away_is_not_raised() -> None:
    assert _late_pass() == []
    passing = _late_pass(min_warning_tcpa_s=0.0)
    assert [a.state for a in passing] == ["raised", "cleared"] and passing[0].severity == "warning"
    assert passing[0].details["tcpa_min"] * 60 < 30 and 0.1 < passing[0].details["cpa_nm"] < 0.3
    assert passing[1].time - passing[0].time == 30.0  # cleared as the ships passed


def test_a_cleared_situation_says_why_it_ended_with_the_numbers_of_now() -> None:
    """Found on the AMSA log: "Close-quarters situation over" under a CPA of 0.004 NM in 1 min
    (the numbers of the last warning; a ferry had slowed to its berth). The clear says why: one ship
    stopped, or one fell silent (its last fix grew too old to judge it by)."""
    east = offset(OPEN_WATER, north_m=30, east_m=3000)
    for ending, reason in (([no_fix(B, T0 + 95, 0.0)], "stopped"), ([], "no_recent_fix")):
        reports = merge(
            moving(A, T0, minutes=10, start=OPEN_WATER, cog=90, sog=9),
            [r for r in moving(B, T0, minutes=10, start=east, cog=270, sog=9) if r.time < T0 + 95],
            ending,
        )
        alerts = of_type(run(make_core(), reports, until=T0 + 900), "cpa")
        assert [a.state for a in alerts] == ["raised", "cleared"]
        over = alerts[-1]
        assert over.details["reason"] == reason and over.details["ended_by_mmsi"] == B
        if reason == "stopped":
            assert over.message == f"Close-quarters situation over: {B} slowed to 0.0 kn"
        else:
            assert over.message == f"Close-quarters situation over: no recent position of {B}"


def test_a_pair_that_passed_clears_as_passed_and_opening() -> None:
    """Head-on, 150 m apart abeam: a warning, then they pass; the clear shows the TCPA of now (past)."""
    reports = merge(
        moving(A, T0, minutes=12, start=OPEN_WATER, cog=90, sog=8),
        moving(B, T0, minutes=12, start=offset(OPEN_WATER, north_m=150, east_m=4000), cog=270, sog=8),
    )
    alerts = of_type(run(make_core(), reports), "cpa")
    assert [a.state for a in alerts][:1] == ["raised"] and alerts[-1].state == "cleared"
    over = alerts[-1]
    assert over.details["reason"] == "passed" and over.details["tcpa_min"] <= 0
    assert over.details["range_nm"] >= over.details["cpa_nm"]
    assert over.message.startswith("Close-quarters situation over: passed, ")
    assert over.message.endswith(" NM apart and opening")
