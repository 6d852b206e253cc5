"""cpa: the incremental mover table. Vessels become movers, or stop being movers, through reports
that come in the middle of a batch, between ticks, without a fix, or not at all (a stale fix); the
run helper replays every scenario one by one and as one batch and requires the same alerts."""

from __future__ import annotations

import numpy as np

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, moving, of_type, offset, run, stationary
from vts.reports import PositionReport
from vts.rules.cpa import candidate_pairs

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
