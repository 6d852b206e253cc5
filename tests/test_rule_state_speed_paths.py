"""The fast paths of the rules' helpers give the answers of the plain code they stand in for."""

from __future__ import annotations

import numpy as np

from vts.mid import DUMMY_MMSIS
from vts.rules._common import PLACEHOLDER_ARRAY, is_placeholder_mmsi, placeholder_rows


def test_placeholder_rows_is_isin() -> None:
    rng = np.random.default_rng(7)
    mmsi = np.concatenate(
        [
            rng.integers(-5, 2**40, 2000),
            rng.integers(0, 1_000_000_000, 2000),
            np.array(sorted(DUMMY_MMSIS), dtype=np.int64),
            np.array(sorted(DUMMY_MMSIS), dtype=np.int64) + 1,
            np.array([-1, 0, 999_999_999, 1_000_000_000, 2**62], dtype=np.int64),
        ]
    ).astype(np.int64)
    got = placeholder_rows(mmsi)
    assert got.dtype == bool
    assert (got == np.isin(mmsi, PLACEHOLDER_ARRAY)).all()
    assert got.tolist() == [is_placeholder_mmsi(int(m)) for m in mmsi]
    assert placeholder_rows(np.zeros(0, dtype=np.int64)).shape == (0,)


def test_pair_interest_is_slow_rows_in_the_watched_band() -> None:
    """The pair rules' mask (box first, geometry only for slow rows in the box) is the plain one:
    `slow_rows & in_watched_rows`, over fixes in, near, around and far from the Callao area."""
    from vts.batch import ReportBatch
    from vts.config import load_config
    from vts.core import Core
    from vts.reports import PositionReport
    from vts.rules._pairs import PairRule, in_watched_rows, slow_rows

    core = Core(load_config())
    ctx = core.engine.ctx
    rng = np.random.default_rng(3)
    reports = [
        PositionReport(
            mmsi=int(rng.integers(200_000_000, 800_000_000)),
            time=1_768_496_400.0 + i,
            msg_type=1,
            source="test",
            lat=float(rng.uniform(-13.5, -10.5)) if i % 5 else float(rng.uniform(-40.0, 40.0)),
            lon=float(rng.uniform(-78.5, -76.5)) if i % 5 else float(rng.uniform(-170.0, 170.0)),
            sog=None if i % 7 == 0 else float(rng.uniform(0.0, 12.0)),
        )
        for i in range(3000)
    ]
    batch = ReportBatch(reports)
    rules = [r for r in core.engine.rules if isinstance(r, PairRule)]
    assert rules
    for rule in rules:
        want = slow_rows(batch, rule.p.max_speed_kn) & in_watched_rows(batch, ctx)
        got = rule.interest(batch, ctx)
        assert got.sum() > 0 and (~got).sum() > 0
        assert (got == want).all()


def test_drifting_mask_is_the_plain_formula() -> None:
    """drifting's mask (the angle only for rows that can pass, NaN left out first) is the formula
    over every row, with missing values, odd angles and every status."""
    from vts.batch import ReportBatch
    from vts.config import load_config
    from vts.core import Core
    from vts.reports import PositionReport, StaticReport
    from vts.rules.drifting import ANGLE_SLACK_DEG, AT_ANCHOR_OR_MOORED, NOT_UNDER_COMMAND, DriftingRule

    core = Core(load_config())
    rule = next(r for r in core.engine.rules if isinstance(r, DriftingRule))
    rng = np.random.default_rng(5)

    def maybe(value: float, i: int, k: int) -> float | None:
        return None if i % k == 0 else value

    def maybe_int(value: int, i: int, k: int) -> int | None:
        return None if i % k == 0 else value

    reports: list = []
    for i in range(4000):
        if i % 50 == 0:
            reports.append(StaticReport(mmsi=1000 + i, time=1.0 * i, msg_type=5, source="test"))
            continue
        reports.append(
            PositionReport(
                mmsi=1000 + i,
                time=1.0 * i,
                msg_type=1,
                source="test",
                lat=-12.0,
                lon=-77.2,
                sog=maybe(float(rng.choice([0.0, 0.25, 3.0, 20.0, 25.0, rng.uniform(0, 30)])), i, 7),
                cog=maybe(float(rng.choice([0.0, 45.0, 359.9, 720.0, rng.uniform(0, 360)])), i, 3),
                # (a whole number of degrees, 0 to 359, as the decoder gives it)
                heading=maybe_int(int(rng.choice([0, 45, 90, 315, rng.integers(0, 360)])), i, 2),
                nav_status=int(rng.choice([-1, 0, 1, 2, 5, 8])) if i % 11 else None,
            )
        )
    batch = ReportBatch(reports)
    p = rule.p
    sog, cog, heading, status = batch.sog, batch.cog, batch.heading, batch.nav_status
    with np.errstate(invalid="ignore"):
        d = np.abs(cog - heading) % 360.0
        d = np.where(d > 180.0, 360.0 - d, d)
        want = (
            (sog >= p.min_sog_kn)
            & (sog <= p.max_sog_kn)
            & (d >= p.min_angle_deg - ANGLE_SLACK_DEG)
            & (status != AT_ANCHOR_OR_MOORED[0])
            & (status != AT_ANCHOR_OR_MOORED[1])
        )
    want |= status == NOT_UNDER_COMMAND
    want &= batch.is_position
    got = rule.interest(batch, core.engine.ctx)
    assert want.sum() > 100 and (~want).sum() > 100
    assert (got == want).all()


def test_rows_of_is_isin() -> None:
    from vts.rules._common import rows_of

    rng = np.random.default_rng(11)
    mmsi = rng.integers(0, 1000, 3000).astype(np.int64)
    for held in [set(), {5}, {0, 999}, set(rng.integers(0, 1000, 50).tolist()), {-3, 10**12}]:
        want = np.isin(mmsi, np.fromiter(held, dtype=np.int64, count=len(held)))
        assert (rows_of(mmsi, held) == want).all()
    assert rows_of(np.zeros(0, dtype=np.int64), {1, 2}).shape == (0,)
