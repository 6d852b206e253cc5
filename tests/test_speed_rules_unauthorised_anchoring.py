"""unauthorised_anchoring's nearest-zone cache keys, remembered per position (`_cell`), are the
rounded positions the cache was keyed with: on random positions, repeated ones, ties of the
rounding, signed zeros, and across the memo starting afresh."""

from __future__ import annotations

import numpy as np

from vts.config import load_config
from vts.rules import unauthorised_anchoring as ua


def test_cell_is_the_rounded_position(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ua, "CELL_MEMO_MAX", 500)
    params = load_config().rules["unauthorised_anchoring"]
    rule = ua.UnauthorisedAnchoringRule(ua.UnauthorisedAnchoringParams.model_validate(params.model_dump()))
    rng = np.random.default_rng(5)
    lats = rng.uniform(-90.0, 90.0, 3000).tolist()
    lons = rng.uniform(-180.0, 180.0, 3000).tolist()
    # AIS positions (1/600000 degree), rounding ties (x.xxxx5) and their neighbours, zeros
    lats += [round(float(x)) / 600_000 for x in rng.integers(-54_000_000, 54_000_000, 2000)]
    lons += [round(float(x)) / 600_000 for x in rng.integers(-108_000_000, 108_000_000, 2000)]
    ties = [(-12.03125 + k * 0.0001) for k in range(200)] + [0.00005, -0.00005, 2.675, 1.00005]
    lats += ties + [np.nextafter(x, 1.0) for x in ties] + [0.0, -0.0]
    lons += [np.nextafter(x, -1.0) for x in ties] + ties + [-0.0, 0.0]
    points = list(zip(lats, lons, strict=True))
    points += [points[int(i)] for i in rng.integers(0, len(points), 4000)]  # repeated positions
    for lat, lon in points:
        cell = rule._cell(float(lat), float(lon))
        assert cell == (round(float(lat), 4), round(float(lon), 4))
    assert len(rule._cells) <= 500
