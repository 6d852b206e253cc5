"""cpa: the mover table kept from tick to tick holds what a table built from scratch holds.

A mover's flags (assist, large, service, small craft) are judged again only when the fields they
are judged from change (`vts.rules.cpa._flags_basis`): after every tick, each row of the table must
equal the row a new rule reads from the tracker at that moment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, moving, offset, static
from vts.core import Core
from vts.geo import KNOTS_TO_MS, METRES_PER_NM
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.cpa import _COG, _LAT, _LON, _M_PER_DEG, _MIN_COS, _SOG, _TIME, CpaRule, _wrap

A = 725000601
B = 725000602
C = 725000603
D = 725000604


class _TableCheck(Rule):
    """Runs right after cpa on each of its ticks (same `tick_seconds`, after it in the engine's
    list) and compares cpa's kept table, as its `_sync` of that tick left it (the rest of the tick
    only reads it), with the table a new rule reads from the tracker at that moment."""

    id = "cpa_table_check"
    tick_seconds = CpaRule.tick_seconds

    def __init__(self, cpa: CpaRule) -> None:
        super().__init__(RuleParams())
        self.cpa = cpa
        self.checked: list[int] = []
        self.differ: list[float] = []

    def on_tick(self, ctx: RuleContext) -> None:
        rule = self.cpa
        fresh = CpaRule(rule.p)
        fresh._sync(ctx)
        kept = {m: rule._table[:, s].tolist() for m, s in rule._slot_of.items()}
        if kept != {m: fresh._table[:, s].tolist() for m, s in fresh._slot_of.items()}:
            # (not an assert: the engine keeps a failing rule's tick to itself)
            self.differ.append(ctx.now - T0)
        self.checked.append(len(kept))


def _with_check(core: Core, check: _TableCheck) -> None:
    """Appends the check to the running rules (before any report, or straight after a reload: the
    engine's tick schedule, which `set_rules` starts afresh, is then that of the reload alone)."""
    assert core.engine.rule("cpa") is check.cpa
    core.engine.set_rules([*core.engine.rules, check])


def test_the_kept_table_equals_one_read_from_scratch_through_static_changes() -> None:
    """B goes from no static data to a tug, to a long dredger (a former identity, which counts for
    an hour), to a Class B yacht; C declares a length only, then a type; D, a cargo ship, sends
    Class B reports (a second transmitter under its MMSI); an allow-list reload puts C on the tug
    list. The flags follow each change."""
    minutes = 75
    reports = merge(
        [static(A, T0, name="CARGO", ship_type=70, length=180)],
        moving(A, T0, minutes=minutes, start=OPEN_WATER, cog=0, sog=9),
        moving(B, T0, minutes=20, start=offset(OPEN_WATER, east_m=800), cog=0, sog=9),
        moving(
            B,
            T0 + 1210,
            minutes=minutes - 21,
            start=offset(OPEN_WATER, east_m=800),
            cog=0,
            sog=9,
            ais_class="B",
        ),
        moving(C, T0, minutes=minutes, start=offset(OPEN_WATER, east_m=-800), cog=0, sog=9),
        static(B, T0 + 60, name="TUG", ship_type=52, length=30),
        static(B, T0 + 300, name="DREDGER", ship_type=33, length=90),
        static(B, T0 + 1200, name="YACHT", ship_type=37, length=12, ais_class="B"),
        [static(D, T0, name="CARGO 2", ship_type=70, length=120)],
        moving(D, T0, minutes=10, start=offset(OPEN_WATER, east_m=1600), cog=0, sog=9),
        moving(D, T0 + 610, minutes=10, start=offset(OPEN_WATER, east_m=1600), cog=0, sog=9, ais_class="B"),
        static(C, T0 + 100, length=15),
        static(C, T0 + 400, name="LAUNCH", ship_type=31, length=15),
    )
    core = make_core()
    cpa = core.engine.rule("cpa")
    assert isinstance(cpa, CpaRule)
    check = _TableCheck(cpa)
    _with_check(core, check)
    reload_at = T0 + 2000
    core.process_many([r for r in reports if r.time < reload_at])
    config = core.config.model_copy(deep=True)
    config.allowlists.tug.append(C)
    core.reload(config)
    _with_check(core, check)  # (the reload kept cpa: same parameters)
    core.process_many([r for r in reports if r.time >= reload_at])
    assert check.differ == []
    assert len(check.checked) > 400 and max(check.checked) == 4
    vessel = core.tracker.get(B)
    assert vessel is not None and vessel.former_identities  # the dredger's hour: flags judged each time


def plain_geometry(table: np.ndarray, now: float) -> tuple[np.ndarray, ...]:
    """Each mover dead-reckoned with the formulas written out (as `_dead_reckoned` documents
    them): east, north, velocities and half the latitudes."""
    sog_ms = table[_SOG] * KNOTS_TO_MS
    course = np.radians(table[_COG])
    vx, vy = sog_ms * np.sin(course), sog_ms * np.cos(course)
    age = np.maximum(now - table[_TIME], 0.0)
    north = table[_LAT] * _M_PER_DEG + vy * age
    half_lat = north * (math.pi / 360.0 / _M_PER_DEG)
    cos_lat = np.cos(half_lat + half_lat)
    east = _wrap(table[_LON] * _M_PER_DEG + vx * age / np.maximum(cos_lat, _MIN_COS))
    return east, north, vx, vy, half_lat


@pytest.mark.parametrize(
    ("n", "spread_deg", "lon0"),
    [(2, 0.01, 0.0), (12, 0.05, -77.2), (200, 0.5, -77.2), (300, 0.08, 12.0), (150, 0.3, 179.95)],
)
def test_the_pairs_in_range_are_those_of_the_plain_formulas_bit_for_bit(
    n: int, spread_deg: float, lon0: float
) -> None:
    """`CpaRule._in_range` (state rows gathered at once, a crowd filtered north-south first,
    movers near the antimeridian swept twice) against the formulas pair by pair: the same pairs
    and, for each in the orientation returned, the same relative position, velocity and range."""
    rng = np.random.default_rng(n)
    now = T0
    table = np.zeros((10, n))
    table[_LON] = (lon0 + rng.uniform(-spread_deg, spread_deg, n) + 180.0) % 360.0 - 180.0
    table[_LAT] = -12.0 + rng.uniform(-spread_deg, spread_deg, n)
    table[_SOG], table[_COG] = rng.uniform(1.5, 25, n), rng.uniform(0, 360, n)
    table[_TIME] = now - rng.uniform(-5, 300, n)  # (a fix a little in the future is not moved back)
    radius = 3 * METRES_PER_NM
    east, north, vx, vy, half_lat = plain_geometry(table, now)
    i, j = np.triu_indices(n, 1)
    dx = _wrap(east[j] - east[i]) * np.cos(half_lat[i] + half_lat[j])
    want = {
        (int(p), int(q))
        for p, q, r in zip(i, j, np.hypot(dx, north[j] - north[i]), strict=True)
        if r <= radius
    }
    found = CpaRule._in_range(table, now, radius)
    if not want:
        assert found is None
        return
    assert found is not None
    a, b, diff, rng_m = found
    assert set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True)) == want
    assert len(a) == len(want)
    dx = _wrap(east[b] - east[a]) * np.cos(half_lat[a] + half_lat[b])
    dy = north[b] - north[a]
    expected = np.stack((dx, dy, vx[b] - vx[a], vy[b] - vy[a]))
    assert diff.tobytes() == np.ascontiguousarray(expected).tobytes()
    assert rng_m.tobytes() == np.hypot(dx, dy).tobytes()
