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
