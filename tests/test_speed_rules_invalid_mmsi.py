"""invalid_mmsi's one-look-up mask (`interest_rows`) is the three masks it stands for, and
`invalid_mmsi_mask` still `classify_mmsi`, on random numbers, every placeholder and its
neighbours, the edges of every range and numbers outside 0-999,999,999."""

from __future__ import annotations

import numpy as np

from vts.mid import DUMMY_MMSIS, classify_mmsi
from vts.rules._common import distress_device_rows
from vts.rules.invalid_mmsi import group_rows, interest_rows, invalid_mmsi_mask


def test_interest_rows_is_the_three_masks() -> None:
    rng = np.random.default_rng(9)
    dummies = np.array(sorted(DUMMY_MMSIS), dtype=np.int64)
    edges = np.array(
        [
            b + d
            for b in (0, 10**7, 10**8, 970 * 10**6, 972 * 10**6, 974 * 10**6, 975 * 10**6, 10**9)
            for d in (-1001, -1000, -1, 0, 1, 999, 1000)
        ],
        dtype=np.int64,
    )
    mmsi = np.concatenate(
        [
            rng.integers(0, 1_000_000_000, 20_000),
            rng.integers(9_000_000, 101_000_000, 5000),
            rng.integers(969_000_000, 976_000_000, 5000),
            rng.integers(-(2**62), 2**62, 2000),
            dummies,
            dummies - 1,
            dummies + 1,
            edges,
            np.array([-1, -(2**63), 2**63 - 1, 999_999_999, 1_000_000_000], dtype=np.int64),
        ]
    ).astype(np.int64)
    want = invalid_mmsi_mask(mmsi) | distress_device_rows(mmsi) | group_rows(mmsi)
    got = interest_rows(mmsi)
    assert got.dtype == bool and got.shape == mmsi.shape
    assert (got == want).all()
    assert interest_rows(np.zeros(0, dtype=np.int64)).shape == (0,)
    plain = np.array([classify_mmsi(int(m)).problem is not None for m in mmsi])
    assert (invalid_mmsi_mask(mmsi) == plain).all()
