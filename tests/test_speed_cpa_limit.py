"""cpa: the mover test of `CpaRule._sync` and the fix-age limit it writes into the table.

`_sync` reads each field of a vessel once and computes its lost-target time with
`vts.tracker.nominal_interval` directly (not through `VesselState.stale_after`): over every
combination of class, speed and status around the bounds of the IEC 62388 table, and fix ages
around the limits, the movers must be those of the plain definition and each row's limit
``max(max_fix_age_s, stale_after())``."""

from __future__ import annotations

import itertools

import pytest

from tests.rule_helpers import make_config
from vts.config import Allowlists
from vts.core import Core
from vts.rules.base import RuleContext
from vts.rules.cpa import _COG, _LAT, _LIMIT, _LON, _SOG, _TIME, AT_ANCHOR_OR_MOORED, CpaParams, CpaRule
from vts.tracker import Tracker, VesselState

NOW = 1_768_496_400.0


def _context(vessels: list[VesselState]) -> RuleContext:
    """The context of a tick at NOW: a real tracker holding exactly these vessels (added as the
    tracker adds a new track), no allow-lists; the rest is that of a core on the Callao config."""
    tracker = Tracker()
    for v in vessels:
        tracker._add(v)
    ctx = Core(make_config()).engine.ctx
    return RuleContext(
        config=ctx.config,
        tracker=tracker,
        zones=ctx.zones,
        grid=ctx.grid,
        allowlists=Allowlists(),
        alerts=ctx.alerts,
        now=NOW,
    )


def _is_mover(v: VesselState, p: CpaParams) -> bool:
    """The class docstring's definition, written out with `VesselState.stale_after`."""
    return (
        not v.is_shadow
        and None not in (v.position_time, v.lat, v.lon, v.sog, v.cog)
        and v.sog > p.min_sog_kn  # type: ignore[operator]
        and not (v.nav_status in AT_ANCHOR_OR_MOORED and v.sog < 3.0)  # type: ignore[operator]
        and NOW - v.position_time <= max(p.max_fix_age_s, v.stale_after())  # type: ignore[operator]
    )


@pytest.mark.parametrize("max_fix_age_s", [10.0, 180.0])  # (at 10 s, the limit is the lost-target time)
def test_movers_and_their_fix_age_limits_are_those_of_stale_after(max_fix_age_s: float) -> None:
    vessels = []
    combos = itertools.product(
        (None, "A", "B"),
        (None, True, False),
        (None, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 14.0, 14.5, 23.0, 24.0),
        (None, 0, 1, 5, 8),
        (
            0.0,
            6.0,
            25.0,
            30.0,
            31.0,
            36.0,
            61.0,
            90.0,
            91.0,
            179.0,
            180.0,
            181.0,
            1079.0,
            1080.0,
            1081.0,
            5000.0,
        ),
        (False, True),
    )
    for n, (ais_class, cs, sog, status, age, shadow) in enumerate(combos):
        vessels.append(
            VesselState(
                mmsi=100_000_000 + n,
                first_seen=NOW - 6000.0,
                last_seen=NOW - age,
                ais_class=ais_class,  # type: ignore[arg-type]
                class_b_cs=cs,
                position_time=NOW - age,
                lat=-12.0 + n * 1e-5,
                lon=-77.2,
                sog=sog,
                cog=float(n % 360),
                nav_status=status,
                is_shadow=shadow,
            )
        )
    vessels.append(VesselState(mmsi=99_000_001, first_seen=NOW, last_seen=NOW, sog=5.0, cog=10.0))  # no fix
    rule = CpaRule(CpaParams(max_fix_age_s=max_fix_age_s))
    ctx = _context(vessels)
    assert ctx.tracker.vessels() == vessels
    rule._sync(ctx)
    expected = {v.mmsi: v for v in vessels if _is_mover(v, rule.p)}
    assert rule._slot_of.keys() == expected.keys()
    assert len(expected) > 100  # (and many left out)
    for mmsi, slot in rule._slot_of.items():
        v = expected[mmsi]
        row = rule._table[:, slot]
        assert (row[_LON], row[_LAT], row[_SOG], row[_COG], row[_TIME]) == (
            v.lon,
            v.lat,
            v.sog,
            v.cog,
            v.position_time,
        )
        assert row[_LIMIT] == max(rule.p.max_fix_age_s, v.stale_after())
