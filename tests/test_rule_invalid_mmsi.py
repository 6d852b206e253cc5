"""invalid_mmsi: the vectorised classification behind its interest mask is `classify_mmsi`, exactly,
and an invalid MMSI that first appears in the middle of a batch is reported once."""

from __future__ import annotations

import numpy as np

from tests.rule_helpers import (
    BERTH_DPWORLD,
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    run,
    stationary,
)
from vts.mid import DUMMY_MMSIS, classify_mmsi
from vts.rules.invalid_mmsi import invalid_mmsi_mask

SHIP = 725000301


def test_mask_matches_classify_mmsi_on_every_prefix() -> None:
    """Every six-digit prefix (the prefix decides the format and the MID) with a random tail, the
    placeholders, their neighbours and numbers outside nine digits."""
    rng = np.random.default_rng(11)
    prefixes = np.arange(1_000_000, dtype=np.int64)
    mmsis = prefixes * 1000 + rng.integers(0, 1000, len(prefixes))
    extra = [m + d for m in DUMMY_MMSIS for d in (-1, 0, 1)]
    extra += [-1, -970_000_001, 999_999_999, 1_000_000_000, 1_073_741_823, 10**12]
    mmsis = np.concatenate((mmsis, np.array(extra, dtype=np.int64)))
    got = invalid_mmsi_mask(mmsis)
    want = np.fromiter(
        (classify_mmsi(int(m)).problem is not None for m in mmsis), dtype=bool, count=len(mmsis)
    )
    assert np.array_equal(got, want)
    assert 0.3 < want.mean() < 0.9  # both kinds in plenty


def test_invalid_mmsi_first_seen_mid_batch_and_escalated_on_entry() -> None:
    bad = 217000009  # MID 217 belongs to no country
    reports = merge(
        moving(SHIP, T0, minutes=15, start=OPEN_WATER, cog=0, sog=10),
        stationary(bad, T0 + 200, minutes=3, at=OPEN_WATER, every_s=20),
        stationary(bad, T0 + 500, minutes=4, at=BERTH_DPWORLD, every_s=20),  # inside a security zone
    )
    alerts = of_type(run(make_core(), reports), "invalid_mmsi")
    assert [(a.mmsi, a.severity) for a in alerts] == [(bad, "caution"), (bad, "warning")]
    assert alerts[1].zone is not None
