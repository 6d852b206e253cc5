"""anchor_drag under batched processing: its interest mask (fixes at anchor by status and not plainly
under way) and its watches (a ship whose anchoring is on record). `run` replays every scenario one
report at a time and as one batch and requires the same alerts; these scenarios are the ones where
the mask alone would drop a fix that matters."""

from __future__ import annotations

from tests.rule_helpers import (
    ANCHORAGE,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    run,
    static,
    stationary,
)
from vts.reports import PositionReport, Report

A = 725000311


def _dragging(t0: float) -> tuple[list[Report], PositionReport]:
    """Settles at anchor for 15 min, then drags out of its swing circle (350 m) for 22 min;
    (reports, the last fix)."""
    settle = stationary(A, t0, minutes=15, at=ANCHORAGE, every_s=60, nav_status=1)
    drift = moving(
        A, settle[-1].time + 60, minutes=22, start=ANCHORAGE, cog=120, sog=0.8, every_s=60, nav_status=1
    )
    return [static(A, t0, name="BULKER", ship_type=70, length=200), *settle, *drift], drift[-1]


def _at(fix: PositionReport) -> tuple[float, float]:
    assert fix.lat is not None and fix.lon is not None
    return fix.lat, fix.lon


def test_weighing_anchor_at_speed_with_the_status_left_on_clears_the_drag() -> None:
    """The fix that ends the anchoring (status still 1 but 6 kn, over `underway_sog_kn`) is outside
    the mask: the ship is watched, so it still reaches the rule and the alert clears."""
    reports, last = _dragging(T0)
    away = moving(A, last.time + 60, minutes=3, start=_at(last), cog=270, sog=6.0, every_s=10, nav_status=1)
    steps = of_type(run(make_core(), merge(reports, away)), "anchor_drag")
    assert steps and steps[0].state == "raised"
    assert steps[-1].state == "cleared" and "weighed anchor" in steps[-1].message
    assert steps[-1].time == away[0].time  # at the first fast fix, not later


def test_status_changed_to_moored_ends_the_anchoring_mid_batch() -> None:
    """A ship arriving under way (outside the mask), anchoring in the middle of the batch, dragging,
    then reporting status 5 while slow (outside the mask again): the drag alert clears at once."""
    arrive = moving(
        A, T0 - 600, minutes=9, start=(-12.030, -77.230), cog=45, sog=8.0, every_s=10, nav_status=0
    )
    reports, last = _dragging(T0)
    moored = stationary(A, last.time + 60, minutes=5, at=_at(last), every_s=60, sog=0.1, nav_status=5)
    steps = of_type(run(make_core(), merge(arrive, reports, moored)), "anchor_drag")
    assert steps and steps[0].state == "raised"
    assert steps[-1].state == "cleared" and steps[-1].time == moored[0].time


def test_the_ship_is_watched_exactly_while_its_anchoring_is_on_record() -> None:
    core = make_core()
    rule = core.engine.rule("anchor_drag")
    assert rule is not None
    reports, last = _dragging(T0)
    core.process_many(reports)
    assert rule.watches(core.engine.ctx, A)
    t = last.time
    core.process_many(
        moving(A, t + 60, minutes=1, start=_at(last), cog=270, sog=9.0, every_s=10, nav_status=0)
    )
    assert not rule.watches(core.engine.ctx, A)  # weighed anchor: its under-way fixes are skipped again
    core.process_many(stationary(A, t + 200, minutes=2, at=ANCHORAGE, every_s=60, nav_status=1))
    assert rule.watches(core.engine.ctx, A)
    core.advance(t + 200 + 3 * 3600)  # silent for hours: the tracker forgets it, and so does the rule
    assert not rule.watches(core.engine.ctx, A)
