"""identity_change's mask (the batch's row kinds) is every static report of the batch, the own
ship's too (which `on_static` ignores), and nothing else: checked against isinstance on a batch
of every kind of report."""

from __future__ import annotations

import numpy as np

from tests.rule_helpers import T0
from vts.batch import ReportBatch
from vts.config import load_config
from vts.core import Core
from vts.reports import (
    AidToNavReport,
    BaseStationReport,
    PositionReport,
    Report,
    SafetyReport,
    StaticReport,
)


def test_interest_is_the_static_reports() -> None:
    core = Core(load_config())
    rule = core.engine.rule("identity_change")
    assert rule is not None
    rng = np.random.default_rng(2)
    reports: list[Report] = []
    for i in range(2000):
        base = {"time": T0 + i, "mmsi": int(rng.integers(200_000_000, 800_000_000)), "source": "t"}
        kind = int(rng.integers(7))
        if kind == 0:
            reports.append(PositionReport(msg_type=1, lat=-12.0, lon=-77.2, sog=3.0, **base))
        elif kind == 1:
            reports.append(PositionReport(msg_type=1, sog=3.0, **base))  # no position
        elif kind == 2:
            reports.append(StaticReport(msg_type=5, name="A SHIP", ship_type=70, **base))
        elif kind == 3:
            reports.append(StaticReport(msg_type=24, name="OWN", own_ship=True, **base))
        elif kind == 4:
            reports.append(SafetyReport(msg_type=14, **base))
        elif kind == 5:
            reports.append(BaseStationReport(msg_type=4, **base))
        else:
            reports.append(AidToNavReport(msg_type=21, **base))
    batch = ReportBatch(reports)
    got = rule.interest(batch, core.engine.ctx)
    want = np.array([isinstance(r, StaticReport) for r in reports])
    assert got.dtype == bool and got.sum() > 200
    assert (got == want).all()
