"""The engine's fast paths answer as the plain formulas: `is_active` from the index by vessel,
`_position_bits` asking only for the rules concerned, hooks dispatched only to rules among a report's
bits, `forget` reaching the rules that define `on_forget`."""

from __future__ import annotations

import random
from itertools import product
from typing import ClassVar

import numpy as np

from tests.rule_helpers import OPEN_WATER, T0, make_core, offset, position
from vts.alerts.engine import AlertEngine, Key
from vts.batch import ReportBatch
from vts.reports import PositionReport, Report
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.tracker import VesselState

V, W, X = 760000581, 760000582, 760000583


def test_is_active_agrees_with_the_table_of_active_alerts() -> None:
    core = make_core(min_messages=1, cooldown_minutes=0)
    e = core.engine
    for i, m in enumerate((V, W, X)):  # known to the tracker (min_messages)
        core.process(position(m, T0 + i, offset(OPEN_WATER, north_m=100 * i), sog=5.0, cog=0))
    rnd = random.Random(7)
    keys: list[Key] = [
        (t, m, o, z)
        for t in ("loitering", "alongside")
        for m in (V, W, X)
        for o in (None, V, W)
        for z in (None, "zone_a")
        if o != m
    ]
    now = T0 + 10
    seen = 0
    for _ in range(400):
        now += 1
        e.tick(now)
        t, m, o, z = rnd.choice(keys)
        what = rnd.random()
        if what < 0.5:
            e.hold(
                type=t,
                mmsi=m,
                other_mmsi=o,
                zone=z,
                severity="warning",
                message="m",
                lat=None,
                lon=None,
                details={},
            )
        elif what < 0.9:
            e.clear(type=t, mmsi=m, other_mmsi=o, zone=z)
        else:
            e.forget(rnd.choice((V, W, X)))
        for k in keys:
            assert e.is_active(*k) == (k in e._active), k
        seen = max(seen, len(e._active))
    assert seen > 3


class _Fixes(Rule):
    calls: ClassVar[list[str]] = []

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        self.calls.append(self.id)


class LateBlind(_Fixes):
    id = "late_blind"
    late_fixes = False


class OutlierBlind(_Fixes):
    id = "outlier_blind"
    outlier_fixes = False


class TakesAll(_Fixes):
    id = "takes_all"


def _plain_position_bits(e: AlertEngine, vessel: VesselState, report: PositionReport, bits: int) -> int:
    """`_position_bits` as it was: both questions asked whatever the bits."""
    t = vessel.position_time
    if e._late_blind and t is not None and report.time < t:
        bits &= ~e._late_blind
    if e._outlier_blind and e.zones.held_back(vessel.mmsi, t):
        bits &= ~e._outlier_blind
    return bits


class _NotedKey(int):
    """A vessel's key in the zone engine's table of vessels that notes each lookup of it in
    `asked` (a lookup of an equal int compares it with this key). The zone engine is a native
    class whose `held_back` cannot be replaced; on `_position_bits`' path that method is the only
    reader of the table, so a lookup there is the question asked."""

    asked: ClassVar[list[int]] = []

    def __eq__(self, other: object) -> bool:
        self.asked.append(int(self))
        return int(self) == other

    __hash__ = int.__hash__


def test_position_bits_agree_with_the_plain_formula_and_ask_only_when_concerned() -> None:
    core = make_core()
    e = core.engine
    e.set_rules([LateBlind(RuleParams()), OutlierBlind(RuleParams()), TakesAll(RuleParams())])
    core.process(position(V, T0 + 100, OPEN_WATER, sog=5.0, cog=0))
    vessel = core.tracker.get(V)
    assert vessel is not None
    rule_bits = [r.bit for r in e.rules]
    table = e.zones._vessels
    state = table.pop(V)  # (the zone state the fix above made)
    table[_NotedKey(V)] = state
    asked = _NotedKey.asked
    for held, late in product((False, True), (False, True)):
        state.held_at = vessel.position_time if held else None  # (the fix held back as an outlier, or not)
        assert e.zones.held_back(V, vessel.position_time) is held
        report = position(V, T0 + (50 if late else 100), OPEN_WATER, sog=5.0, cog=0)
        assert isinstance(report, PositionReport)
        for chosen in product((0, 1), repeat=len(rule_bits)):
            bits = sum(b for b, c in zip(rule_bits, chosen, strict=True) if c)
            for b in (bits, -1):  # (-1: every rule, reports fed one by one)
                asked.clear()
                got = e._position_bits(vessel, report, b)
                assert asked == ([V] if (b & ~(e._late_blind if late else 0)) & e._outlier_blind else [])
                assert got == _plain_position_bits(e, vessel, report, b)


class Listens(Rule):
    """on_report on the rows its interest takes (fast ones) and on every report of a watched vessel;
    a rule defining `on_forget`."""

    id = "listens"
    calls: ClassVar[list[tuple[str, int]]] = []

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        return batch.sog > 5.0

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        self.calls.append(("report", report.mmsi))
        if report.mmsi == W:
            self.watch(ctx, W)

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self.calls.append(("forget", mmsi))


class Forgets(Rule):
    id = "forgets"

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        Listens.calls.append(("forgets", mmsi))
        raise ValueError("bug in a rule")


class Quiet(_Fixes):
    id = "quiet"


def test_hooks_reach_only_the_rules_among_the_bits_and_forget_the_rules_defining_it() -> None:
    core = make_core()
    e = core.engine
    Listens.calls = []
    _Fixes.calls = []
    e.set_rules([Forgets(RuleParams()), Quiet(RuleParams()), Listens(RuleParams())])
    reports = [
        position(V, T0, OPEN_WATER, sog=1.0, cog=0),
        position(W, T0 + 1, offset(OPEN_WATER, north_m=500), sog=6.0, cog=0),  # taken: W watched
        position(V, T0 + 2, OPEN_WATER, sog=7.0, cog=0),
        position(W, T0 + 3, offset(OPEN_WATER, north_m=500), sog=1.0, cog=0),  # by the watch
        position(V, T0 + 4, OPEN_WATER, sog=1.0, cog=0),
    ]
    core.process_many(reports)
    assert Listens.calls == [("report", W), ("report", V), ("report", W)]
    assert Quiet.calls.count("quiet") >= len(reports)  # a rule without interest sees every fix
    Listens.calls = []
    e.forget(V)
    assert Listens.calls == [("forgets", V), ("forget", V)]  # in rule order, past the failing one
    assert e.stats.rule_errors["forgets"] == 1
