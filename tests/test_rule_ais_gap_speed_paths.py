"""ais_gap's bookkeeping paths that the scenario tests rarely reach: a waiting vessel is parked
out of the heard order (in a heap by retry time); a shadow track's report drops its waiting entry
while it keeps its number, which makes it loose (looked at on every tick); and the structures can
be rebuilt from scratch at any tick. Each scenario runs one by one and as one batch
(`tests/rule_helpers.run`), and the rebuild must not change a single alert step."""

from __future__ import annotations

from typing import Any

from tests.rule_helpers import (
    OPEN_WATER,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
)
from vts.core import Core
from vts.reports import Report
from vts.rules.ais_gap import AisGapRule
from vts.rules.base import RuleContext

A = 760000711
B = 760000722
NEIGHBOUR = 760000733
FAR = offset(OPEN_WATER, north_m=40_000)
"""40 km off: a fix there is inconsistent with a track near OPEN_WATER (a second ship)."""

_seen: dict[str, int] = {}


class _Spy(AisGapRule):
    """Counts the vessels made loose and the ticks that had loose ones."""

    def _unwait(self, mmsi: int) -> None:
        super()._unwait(mmsi)
        if mmsi in self._loose:
            _seen["loose"] = _seen.get("loose", 0) + 1

    def on_tick(self, ctx: RuleContext) -> None:
        if self._loose:
            _seen["loose_ticks"] = _seen.get("loose_ticks", 0) + 1
        super().on_tick(ctx)


class _Rebuilt(_Spy):
    """Rebuilds its heard order, out-of-order heap and retry heap after every tick."""

    def on_tick(self, ctx: RuleContext) -> None:
        super().on_tick(ctx)
        self._rebuild()


def _core(rule: type[AisGapRule]) -> Core:
    core = make_core()
    core.engine.set_rules([rule(r.params) if isinstance(r, AisGapRule) else r for r in core.engine.rules])
    return core


def _steps(rule: type[AisGapRule], reports: list[Report]) -> list[dict[str, Any]]:
    return [a.to_dict() for a in of_type(run(_core(rule), reports), "ais_gap")]


def _raised(rule: type[AisGapRule], reports: list[Report]) -> list[tuple[int, float]]:
    return [(a.mmsi, a.time) for a in of_type(run(_core(rule), reports), "ais_gap") if a.state == "raised"]


def neighbour(minutes: float) -> list[Report]:
    """A vessel 2 km away heard every 10 s (so a silent vessel near it is not a receiver outage)."""
    track = moving(
        NEIGHBOUR, T0 + 3, minutes=minutes, start=offset(OPEN_WATER, north_m=2000), cog=90, sog=0.5
    )
    return list(track)


def moored(mmsi: int, until: float, *, east_m: float = 0.0) -> list[Report]:
    """Moored (nav status 5, still) and heard every minute from T0 until `until`: 30 min to go dark."""
    at = offset(OPEN_WATER, east_m=east_m)
    n = int((until - T0) // 60)
    return [position(mmsi, T0 + k * 60, at, sog=0.0, nav_status=5) for k in range(n + 1)]


def _loose_scenario() -> list[Report]:
    """A and B moored, silent from T0 + 1200 and T0 + 1230, waiting (30 min); a fix under A's MMSI
    from 40 km away (a second ship: a shadow track) 20 minutes into A's silence drops A's waiting
    entry while A keeps its number."""
    shadow = position(A, T0 + 2400 + 7, FAR, sog=12.0, cog=0.0)
    return merge(moored(A, T0 + 1200), moored(B, T0 + 1230, east_m=800), [shadow], neighbour(90))


def test_a_parked_vessel_a_shadow_report_touched_goes_dark_as_before() -> None:
    """A goes dark 30 minutes after it was last heard (the shadow fix does not count as heard),
    then B; both still in heard order, once each."""
    _seen.clear()
    got = _raised(_Spy, _loose_scenario())
    assert [m for m, _ in got] == [A, B]
    assert T0 + 1200 + 1800 <= got[0][1] <= T0 + 1200 + 1800 + 90
    assert got[1][1] >= got[0][1]
    assert _seen.get("loose", 0) >= 1 and _seen.get("loose_ticks", 0) >= 1


def test_rebuilding_at_every_tick_changes_nothing() -> None:
    """The same alert steps with the structures rebuilt after every tick (the rebuild that drops
    stale heap entries, or makes examined vessels undecided again), loose vessels included."""
    reports = _loose_scenario()
    assert _steps(_Rebuilt, reports) == _steps(_Spy, reports)


def test_rebuilding_at_every_tick_changes_nothing_for_vessels_heard_again() -> None:
    """A waits, is heard again (its parked entry goes stale), waits again and goes dark; B goes dark
    and reappears: the same alert steps with the structures rebuilt after every tick."""
    again = [position(A, T0 + 2400 + k * 60, OPEN_WATER, sog=0.0, nav_status=5) for k in range(5)]
    back = moving(B, T0 + 3600, minutes=5, start=offset(OPEN_WATER, east_m=800), cog=0, sog=2.0)
    reports = merge(moored(A, T0 + 1200), again, moored(B, T0 + 1230, east_m=800), back, neighbour(120))
    steps = _steps(_Spy, reports)
    assert _steps(_Rebuilt, reports) == steps
    assert {s["mmsi"] for s in steps if s["state"] == "raised"} == {A, B}
