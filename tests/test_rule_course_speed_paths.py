"""course_anomaly's fast paths give the answers of the slow ones: the erratic kind's quick test by
the bounds of the course history, the mask rows of reports that are not fixes, the VTS area's
bounding-box test of a zone, and `_jumped`'s short-distance shortcut."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import fields, replace
from typing import Any

import shapely

from tests.rule_helpers import OPEN_WATER, T0, legs, make_core, of_type, offset, position, run, static
from vts.geo import angle_diff_deg, distance_m
from vts.reports import PositionReport, Report, StaticReport
from vts.rules.base import RuleContext
from vts.rules.course_anomaly import (
    JUMP_MIN_M,
    TURN_WINDOW_S,
    CourseAnomalyParams,
    CourseAnomalyRule,
    _jumped,
    _settled,
    _take,
    _Turns,
)
from vts.tracker import Fix, VesselState

SHIP = 725000402


class _Events:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def event(self, **kw: Any) -> None:
        self.events.append(kw)


def _context(ctx: RuleContext, alerts: _Events) -> RuleContext:
    """`ctx` (a core's) with `alerts` for its alert sink: the events raised, recorded."""
    return RuleContext(
        config=ctx.config,
        tracker=ctx.tracker,
        zones=ctx.zones,
        grid=ctx.grid,
        allowlists=ctx.allowlists,
        alerts=alerts,
        now=ctx.now,
    )


def _reference_check_erratic(rule: CourseAnomalyRule, vessel: Any, report: Any, ctx: Any) -> None:
    """`CourseAnomalyRule._check_erratic` as it was before the quick test: the full loop always."""
    p = rule.p
    st = rule._turns.setdefault(vessel.mmsi, _Turns())
    if report.cog is None or report.sog is None or report.sog < p.erratic_min_sog_kn:
        st.pending = None
        return
    t, cog = report.time, report.cog
    history = st.history
    while history and t - history[0][0] > TURN_WINDOW_S:
        history.popleft()
    deviation = 0.0
    far = cog
    first = True
    for _, c in history:
        d = abs(cog - c) % 360.0
        if d > 180.0:
            d = 360.0 - d
        if first or d > deviation:
            deviation = d
            far = c
            first = False
    if deviation < p.erratic_turn_deg:
        st.pending = None
        _take(st, t, cog)
        return
    if st.pending is None or angle_diff_deg(cog, st.pending[1]) >= p.erratic_turn_deg:
        st.pending = (t, cog)
        return
    direction = 1 if (cog - far) % 360.0 <= 180.0 else -1
    carried = st.turning == direction and t - st.turn_time <= TURN_WINDOW_S
    history.clear()
    history.extend((st.pending, (t, cog)))
    st.pending = None
    st.turning = 0 if _settled(history) else direction
    st.turn_time = t
    if carried:
        return
    st.turns.append(t)
    while st.turns and t - st.turns[0] > p.erratic_minutes * 60.0:
        st.turns.popleft()
    if len(st.turns) < p.erratic_turns:
        return
    span = t - st.turns[0]
    st.turns.clear()
    ctx.alerts.event(details={"span_s": round(span, 1)}, lat=report.lat, lon=report.lon)


def _state(st: _Turns) -> tuple[Any, ...]:
    return (list(st.history), st.pending, list(st.turns), st.turning, st.turn_time)


def _courses(rng: random.Random, n: int) -> list[tuple[float, float | None, float]]:
    """(time, course, speed) of a wandering ship: drift, sharp turns, courses about north (the
    0/360 seam), now and then no course, a slow fix, or a NaN course."""
    out: list[tuple[float, float | None, float]] = []
    t = T0
    cog = rng.uniform(0.0, 360.0)
    for _ in range(n):
        t += rng.choice((2.0, 5.0, 10.0, 10.0, 30.0, 200.0))
        r = rng.random()
        if r < 0.15:
            cog = (cog + rng.choice((-1, 1)) * rng.uniform(55.0, 180.0)) % 360.0
        elif r < 0.2:
            cog = rng.choice((0.0, 359.9, 0.1, 359.0, 1.0))
        else:
            cog = (cog + rng.gauss(0.0, 8.0)) % 360.0
        course: float | None = cog
        sog = 8.0
        r = rng.random()
        if r < 0.03:
            course = None
        elif r < 0.05:
            sog = 1.0
        elif r < 0.06:
            course = math.nan
        out.append((t, course, sog))
    return out


def test_erratic_quick_test_gives_the_full_loops_answers() -> None:
    """Random wandering courses through the erratic check and through the old full loop: the same
    history, pending turn, turns and events after every fix; and the bounds always hold the
    history's courses."""
    rng = random.Random(20261130)
    core_ctx = make_core().engine.ctx
    for trial in range(60):
        fast = CourseAnomalyRule(CourseAnomalyParams())
        slow = CourseAnomalyRule(CourseAnomalyParams())
        fast_events, slow_events = _Events(), _Events()
        fast_ctx = _context(core_ctx, fast_events)
        slow_ctx = _context(core_ctx, slow_events)
        vessel = VesselState(mmsi=SHIP + trial, first_seen=T0, last_seen=T0)
        for t, cog, sog in _courses(rng, 400):
            report = position(vessel.mmsi, t, OPEN_WATER, sog=sog, cog=cog)
            fast._check_erratic(vessel, report, fast_ctx)
            _reference_check_erratic(slow, vessel, report, slow_ctx)
            a, b = fast._turns[vessel.mmsi], slow._turns[vessel.mmsi]
            assert repr(_state(a)) == repr(_state(b))  # (repr: NaN courses compare equal)
            if not (math.isnan(a.lo) or math.isnan(a.hi)):
                assert all(a.lo <= c <= a.hi for _, c in a.history)
        assert [e["details"]["span_s"] for e in fast_events.events] == [
            e["details"]["span_s"] for e in slow_events.events
        ]


def test_take_keeps_the_bounds_and_poisons_them_with_nan() -> None:
    st = _Turns()
    _take(st, T0, 10.0)
    _take(st, T0 + 10, 30.0)
    assert (st.lo, st.hi) == (10.0, 30.0)
    _take(st, T0 + 20, math.nan)
    assert math.isnan(st.lo) and math.isnan(st.hi)
    _take(st, T0 + 1000, 50.0)  # the history emptied: exact bounds again
    assert (st.lo, st.hi) == (50.0, 50.0) and list(st.history) == [(T0 + 1000, 50.0)]


def test_zigzag_with_relayed_fixes_statics_and_positionless_reports() -> None:
    """Position and static reports of subclasses reach the hooks whatever the mask; positionless
    position reports (fast ones too) and safety-like rows reach none: batched = one by one."""

    class Relayed(PositionReport):
        """A position report of some other origin (only in this test)."""

    class RelayedStatic(StaticReport):
        """Static data of some other origin (only in this test)."""

    track = legs(SHIP, T0, OPEN_WATER, [(0.0, 90), (90.0, 90), (0.0, 90), (90.0, 90), (0.0, 90)], sog=8)
    reports: list[Report] = []
    for k, r in enumerate(track):
        if k % 4 == 1:
            reports.append(Relayed(**{f.name: getattr(r, f.name) for f in fields(r)}))
        else:
            reports.append(r)
        if k % 7 == 3:
            reports.append(replace(r, time=r.time + 1, lat=None, lon=None, sog=30.0 if k % 2 else 3.0))
    st = static(SHIP, T0 + 5, name="ZIG", ship_type=70, length=120)
    st2 = RelayedStatic(**{f.name: getattr(st, f.name) for f in fields(st)})
    reports.insert(3, st)
    reports.insert(40, replace(st2, time=reports[39].time))
    alerts = [
        a for a in of_type(run(make_core(), reports), "course_anomaly") if a.details["kind"] == "erratic"
    ]
    assert len(alerts) == 1


def test_jumped_shortcut_agrees_with_the_distance() -> None:
    """`_jumped` answers without the haversine only for fixes surely within JUMP_MIN_M."""
    rng = random.Random(7)
    for _ in range(2000):
        lat = rng.uniform(-80.0, 80.0)
        lon = rng.uniform(-179.0, 179.0)
        d = JUMP_MIN_M * rng.uniform(0.95, 1.05)
        brg = rng.uniform(0.0, 360.0)
        north = d * math.cos(math.radians(brg))
        east = d * math.sin(math.radians(brg))
        a = position(SHIP, T0, (lat, lon), sog=0.0)
        b = position(SHIP, T0 + 0.1, offset((lat, lon), north_m=north, east_m=east), sog=0.0)
        assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
        fix = Fix(time=a.time, lat=a.lat, lon=a.lon, sog=a.sog, cog=a.cog, heading=a.heading)
        vessel = VesselState(mmsi=SHIP, first_seen=a.time, last_seen=a.time, trail=deque([fix, fix]))
        exact = distance_m(a.lat, a.lon, b.lat, b.lon)
        jumped = _jumped(vessel, b)
        assert jumped == (exact > JUMP_MIN_M)  # (40 kn allow 43 m in the 0.1 s + 2 s slack)


def test_vts_area_box_test_agrees_with_the_zones() -> None:
    """Points in, near and far from the VTS area: `Zone.contains` (a bounding-box test first) and
    `_in_vts_area` as the plain point-in-polygon test."""
    core = make_core()
    ctx = core.engine.ctx
    rule = CourseAnomalyRule(CourseAnomalyParams())
    areas = [z for z in ctx.zones.zones if z.kind == "area_of_interest"]
    assert areas
    x0, y0, x1, y1 = areas[0].geometry.bounds
    rng = random.Random(11)
    inside = 0
    for k in range(3000):
        if k % 3 == 0:  # anywhere, off Callao too
            lat, lon = rng.uniform(-60.0, 60.0), rng.uniform(-179.0, 179.0)
        else:  # around the area's box, and on its edges
            lat = rng.uniform(y0 - 0.05, y1 + 0.05) if k % 5 else rng.choice((y0, y1))
            lon = rng.uniform(x0 - 0.05, x1 + 0.05) if k % 7 else rng.choice((x0, x1))
        report = position(SHIP, T0, (lat, lon))
        expected = any(bool(shapely.intersects_xy(z.geometry, lon, lat)) for z in areas)
        assert any(z.contains(lon, lat) for z in areas) == expected
        assert rule._in_vts_area(report, ctx) == expected
        inside += expected
    assert inside > 100
