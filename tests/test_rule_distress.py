"""distress: its interest mask (only SART/MOB/EPIRB MMSIs) against the MMSI classification, and a
device that first shows up in the middle of a batch of ordinary traffic."""

from __future__ import annotations

import numpy as np

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, moving, of_type, run, stationary
from vts.batch import ReportBatch
from vts.mid import DISTRESS_KINDS, classify_mmsi
from vts.reports import PositionReport
from vts.rules.distress import DistressParams, DistressRule

SHIP = 725000201


def _row(mmsi: int) -> PositionReport:
    return PositionReport(time=T0, mmsi=mmsi, msg_type=1, source="test", lat=-12.0, lon=-77.2)


def test_mask_is_exactly_the_distress_kinds() -> None:
    rng = np.random.default_rng(7)
    edges = [969_999_999, 970_000_000, 970_999_999, 971_000_000, 972_123_456, 973_000_000, 974_999_999]
    edges += [975_000_000, 0, 97_000_000, 9_700_000_000, -970_000_000, 111_111_111, 999_999_999]
    mmsis = (
        edges + rng.integers(960_000_000, 980_000_000, 3000).tolist() + rng.integers(0, 10**9, 2000).tolist()
    )
    batch = ReportBatch([_row(m) for m in mmsis])
    mask = DistressRule(DistressParams()).interest(batch, make_core().engine.ctx)
    want = [classify_mmsi(m).kind in DISTRESS_KINDS for m in mmsis]
    assert mask.tolist() == want and sum(want) > 300


def test_device_first_seen_mid_batch_among_ships() -> None:
    """The run helper also replays this as one batch, where only the SART's rows reach the rule."""
    sart = 970010009
    reports = merge(
        moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=12),
        stationary(sart, T0 + 305, minutes=3, at=OPEN_WATER, every_s=60),  # test mode (status None)
        stationary(sart, T0 + 545, minutes=3, at=OPEN_WATER, every_s=60, nav_status=14),
    )
    alerts = of_type(run(make_core(), reports, until=T0 + 3600), "distress")
    assert [(a.mmsi, a.severity, a.details["mode"]) for a in alerts] == [
        (sart, "caution", "test"),
        (sart, "emergency", "active"),
    ]
