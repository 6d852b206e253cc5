"""anchor_drag: a ship at anchor leaves its swing circle, or makes way while at anchor.

A ship is "at anchor" while its navigational status is 1. Its anchoring position is the median of
its fixes during the first `settle_minutes` (10) after it was first seen at anchor; the swing
circle around it has radius max(`min_radius_m` 200 m, length + `radius_margin_m` 150 m).

Fires (state alert, `alarm`) when `consecutive_fixes` (3) fixes in a row lie outside the circle,
or the ship makes `drag_sog_kn` (1 kn) or more over ground for `drag_minutes` (2) while at anchor.

What is not a drag:

* Weighing anchor with the status left on. A ship plainly under way (above `underway_sog_kn`, 4 kn,
  faster than any anchor drags), or making `drag_sog_kn` or more with its course over ground within
  `ahead_deg` (45) of its heading on two fixes in a row (moving ahead under its own power: a ship
  dragging goes astern or sideways, its bow held up to its anchor), has weighed anchor: its
  anchoring is forgotten and any alert cleared, as when its status changes; a new one starts when
  it stops (re-anchoring elsewhere). Heading not known: only the speed tells.
* Swinging round the anchor. The circle is centred where the antenna lay while settling, not on the
  anchor (ahead of the bow, out of sight), so a ship that swings far round (wind or tide turning)
  can leave it. A fix outside the circle does not count when it is where the ship would lie had it
  swung round an anchor ahead of where it settled (on the settling heading, within 1.5 swing radii)
  and its heading points at that anchor. A drag moves the ship astern or sideways,
  away from its anchor: never so explained. Headings not known: the circle alone.
  Swinging also makes way over ground: the antenna, a cable and a hull's length from the anchor,
  sweeps round it at a knot or more while the ship yaws or the tide turns, and at anchor a Class A
  ship reports every 3 minutes, so two such fixes are "2 minutes" at `drag_sog_kn`. Speed counts
  as making way only when the ship's movement since its first fast fix is more than its heading's
  sweep over those fixes (radians) times the swing radius, the farthest its antenna turns about
  the anchor (as drifting tells a ship turning about a point): a dragging ship, its bow held up to
  its anchor, moves without its heading sweeping so. Headings not known, or not turning: the
  speed alone, as before.

The alert clears when the ship's last `consecutive_fixes` (3) fixes are inside its circle and under
`drag_sog_kn` (one slow fix in a gust does not end a drag), or when it leaves the anchored state, or
when it holds again after the drag (its anchor bit again, or it re-anchored): every fix of its last
`settle_minutes` under `drag_sog_kn` and within `hold_radius_m` (50 m, GNSS jitter) of their median,
which becomes its new anchoring position.

Batched processing (`Rule.interest`): the rule only has something to do with a fix reporting status
1 at no more than `underway_sog_kn`, or with a ship it already follows (its anchoring is on record).
Any other fix of a ship it does not follow ends in the first `return` of `on_position` (and one of
those making way ahead in the second: a superset), so the mask is those fixes, and a ship is
watched (`Rule.watch`) exactly while its anchoring is on record.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vts.geo import angle_diff_deg, bearing_deg, distance_m, local_projection
from vts.reports import PositionReport
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.drifting import heading_sweep_deg
from vts.rules.params import AnchorDragParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState

AT_ANCHOR = 1
SWING_HEADING_DEG = 45.0
"""A ship swung round its anchor heads at it within this (yaw, wind and current across)."""
SWING_REACH = 1.5
"""How far (times the swing radius) the anchor may lie from where the ship settled: the settling
heading is known to a few degrees only (yaw), which moves the anchor found for a swing of 90 degrees
by a tenth or more; and a ship may ride to more chain than the radius allows for."""


@dataclass(slots=True)
class _Fix:
    time: float
    lat: float
    lon: float
    heading: int | None
    slow: bool


@dataclass(slots=True)
class _Anchoring:
    since: float
    settling: list[_Fix] = field(default_factory=list)
    centre: tuple[float, float] | None = None
    heading: float | None = None  # the ship's heading while it settled (None: not known)
    outside: int = 0
    inside: int = 0
    slow: int = 0  # fixes in a row under drag_sog_kn (or with no SOG)
    ahead: int = 0  # fixes in a row making way ahead (see `_ahead`)
    fast_since: float | None = None
    fast: list[_Fix] = field(default_factory=list)  # the fixes since fast_since
    active: bool = False
    recent: deque[_Fix] = field(default_factory=deque)  # while active: the last settle_minutes


class AnchorDragRule(Rule):
    id = "anchor_drag"
    late_fixes = False  # judged on where the vessel is now, not on a late fix
    Params = AnchorDragParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: AnchorDragParams = params  # type: ignore[assignment]
        self._anchored: dict[int, _Anchoring] = {}

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Fixes at anchor by status and not plainly under way (see the module docstring). A missing
        SOG (NaN) compares False, so such fixes stay in, as `on_position` treats them."""
        return batch.is_position & (batch.nav_status == AT_ANCHOR) & ~(batch.sog > self.p.underway_sog_kn)

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.is_shadow or report.lat is None or report.lon is None:
            return
        p = self.p
        st = self._anchored.get(vessel.mmsi)
        sog = report.sog
        if report.nav_status != AT_ANCHOR or (sog is not None and sog > p.underway_sog_kn):
            if st is not None:
                self._end(ctx, vessel, st, "weighed anchor")
            return
        ahead = self._ahead(report)
        if st is None:
            if ahead:
                return  # under way with its status left on: no anchoring to watch
            st = self._anchored[vessel.mmsi] = _Anchoring(report.time)
            self.watch(ctx, vessel.mmsi)  # its fixes matter now, whatever its status (see interest)
        if ahead:
            st.ahead += 1
            if st.ahead >= 2:
                self._end(ctx, vessel, st, "weighed anchor: under way ahead")
            return  # not evidence of a drag either way
        st.ahead = 0
        fix = _Fix(report.time, report.lat, report.lon, report.heading, sog is None or sog < p.drag_sog_kn)
        if st.centre is None:
            st.settling.append(fix)
            if report.time - st.since < p.settle_minutes * 60.0:
                return
            st.centre, st.heading = _settled(st.settling)
            st.settling = []
        radius = max(p.min_radius_m, (vessel.length or 0.0) + p.radius_margin_m)
        off = distance_m(st.centre[0], st.centre[1], report.lat, report.lon)
        if st.active:
            st.recent.append(fix)
            while len(st.recent) > 2 and report.time - st.recent[1].time >= p.settle_minutes * 60.0:
                st.recent.popleft()
            if off > radius and self._holding(st):
                self._resettle(ctx, vessel, st, off)
                return
        if off > radius and not _swung(st, report, radius):
            st.outside += 1
            st.inside = 0
        else:
            st.inside += 1
            st.outside = 0
        if sog is not None and sog >= p.drag_sog_kn:
            st.slow = 0
            if st.fast_since is None or (
                st.fast and report.time - st.fast[-1].time > p.fast_gap_minutes * 60.0
            ):
                st.fast_since = report.time  # (after a reception gap: counted again from here)
                st.fast.clear()
            st.fast.append(fix)
        else:
            st.slow += 1
            st.fast_since = None
            st.fast.clear()
        making_way = (
            st.fast_since is not None
            and report.time - st.fast_since >= p.drag_minutes * 60.0
            and not _swinging(st.fast, radius)
        )
        if st.outside >= p.consecutive_fixes or making_way:
            st.active = True
            why = f"{off:.0f} m from its anchoring position (swing radius {radius:.0f} m)"
            if making_way and st.outside < p.consecutive_fixes:
                why = f"making {sog:.1f} kn while at anchor"
            ctx.alerts.hold(
                type=self.id,
                mmsi=vessel.mmsi,
                severity="alarm",
                message=f"{vessel.name or vessel.mmsi} dragging anchor: {why}",
                lat=report.lat,
                lon=report.lon,
                details={
                    "distance_m": round(off, 1),
                    "swing_radius_m": round(radius, 1),
                    "anchor_lat": round(st.centre[0], 6),
                    "anchor_lon": round(st.centre[1], 6),
                    "sog_kn": sog,
                    "fixes_outside": st.outside,
                    "making_way_s": 0.0 if st.fast_since is None else round(report.time - st.fast_since, 1),
                },
            )
        elif st.active and st.inside >= p.consecutive_fixes and st.slow >= p.consecutive_fixes:
            st.active = False
            st.recent.clear()
            ctx.alerts.clear(
                type=self.id,
                mmsi=vessel.mmsi,
                message=f"{vessel.name or vessel.mmsi} back inside its swing circle",
            )

    def _ahead(self, report: PositionReport) -> bool:
        """Making way ahead: at `drag_sog_kn` or more, course over ground within `ahead_deg` of the
        heading (both known)."""
        return (
            report.sog is not None
            and report.sog >= self.p.drag_sog_kn
            and report.heading is not None
            and report.cog is not None
            and angle_diff_deg(report.cog, report.heading) < self.p.ahead_deg
        )

    def _holding(self, st: _Anchoring) -> bool:
        """The fixes of the last `settle_minutes` (since the alert, at least three) are all slow and
        within `hold_radius_m` of their median."""
        fixes = st.recent
        if len(fixes) < 3 or fixes[-1].time - fixes[0].time < self.p.settle_minutes * 60.0:
            return False
        if not all(f.slow for f in fixes):
            return False
        lat, lon = statistics.median(f.lat for f in fixes), statistics.median(f.lon for f in fixes)
        return all(distance_m(lat, lon, f.lat, f.lon) <= self.p.hold_radius_m for f in fixes)

    def _resettle(self, ctx: RuleContext, vessel: VesselState, st: _Anchoring, off: float) -> None:
        """Holding again after a drag: where it lies now is its new anchoring position."""
        st.centre, st.heading = _settled(list(st.recent))
        st.recent.clear()
        st.outside = st.inside = st.slow = 0
        st.fast_since = None
        st.fast.clear()
        st.active = False
        ctx.alerts.clear(
            type=self.id,
            mmsi=vessel.mmsi,
            message=f"{vessel.name or vessel.mmsi} holding again, {off:.0f} m from where it first anchored",
        )

    def _end(self, ctx: RuleContext, vessel: VesselState, st: _Anchoring, why: str) -> None:
        del self._anchored[vessel.mmsi]
        self.unwatch(ctx, vessel.mmsi)
        if st.active:
            ctx.alerts.clear(type=self.id, mmsi=vessel.mmsi, message=f"{vessel.name or vessel.mmsi} {why}")

    def adopt(self, previous: Rule) -> bool:
        """Where each ship settled (its swing circle's centre) does not depend on the thresholds:
        carried on (a new rule would settle again around where a dragged ship lies now)."""
        assert isinstance(previous, AnchorDragRule)
        self._anchored = previous._anchored
        return True

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        if self._anchored.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)

    def save_state(self, ctx: RuleContext) -> dict[str, Any] | None:
        """Where each ship at anchor settled, and how its fixes stand against that: after a restart
        a drag under way goes on (and clears when the ship holds again), and a ship that drags soon
        after is measured from where it first anchored, not from where the restart found it."""
        if not self._anchored:
            return None
        return {"anchored": [[mmsi, _anchoring_data(st)] for mmsi, st in sorted(self._anchored.items())]}

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        """The anchorings of the ships the tracker took up (the others were forgotten meanwhile)."""
        for mmsi, data in state.get("anchored", []):
            mmsi = int(mmsi)
            if ctx.tracker.get(mmsi) is None or mmsi in self._anchored:
                continue
            self._anchored[mmsi] = _anchoring_of(data)
            self.watch(ctx, mmsi)


def _anchoring_data(st: _Anchoring) -> dict[str, Any]:
    def fixes(fs: Iterable[_Fix]) -> list[list[Any]]:
        return [[f.time, f.lat, f.lon, f.heading, f.slow] for f in fs]

    return {
        "since": st.since,
        "settling": fixes(st.settling),
        "centre": None if st.centre is None else list(st.centre),
        "heading": st.heading,
        "counts": [st.outside, st.inside, st.slow, st.ahead],
        "fast_since": st.fast_since,
        "fast": fixes(st.fast),
        "active": st.active,
        "recent": fixes(st.recent),
    }


def _anchoring_of(data: dict[str, Any]) -> _Anchoring:
    def fixes(rows: list[list[Any]]) -> list[_Fix]:
        return [
            _Fix(float(t), float(lat), float(lon), None if h is None else int(h), bool(slow))
            for t, lat, lon, h, slow in rows
        ]

    centre = data["centre"]
    outside, inside, slow, ahead = (int(n) for n in data["counts"])
    return _Anchoring(
        since=float(data["since"]),
        settling=fixes(data["settling"]),
        centre=None if centre is None else (float(centre[0]), float(centre[1])),
        heading=None if data["heading"] is None else float(data["heading"]),
        outside=outside,
        inside=inside,
        slow=slow,
        ahead=ahead,
        fast_since=None if data["fast_since"] is None else float(data["fast_since"]),
        fast=fixes(data["fast"]),
        active=bool(data["active"]),
        recent=deque(fixes(data["recent"])),
    )


def _settled(fixes: list[_Fix]) -> tuple[tuple[float, float], float | None]:
    """Anchoring position (median of the fixes) and heading (their mean heading, None if none)."""
    centre = (statistics.median(f.lat for f in fixes), statistics.median(f.lon for f in fixes))
    headings = [math.radians(f.heading) for f in fixes if f.heading is not None]
    if not headings:
        return centre, None
    s, c = sum(math.sin(h) for h in headings), sum(math.cos(h) for h in headings)
    if math.hypot(s, c) < 1e-9:
        return centre, None
    return centre, math.degrees(math.atan2(s, c)) % 360.0


def _swinging(fixes: list[_Fix], radius: float) -> bool:
    """Whether the fixes' movement (first to last) is no more than their headings' sweep times the
    swing radius: the antenna turning about the anchor, not making way (see the module docstring).
    False when a heading is not known or the heading did not turn."""
    headings = [f.heading for f in fixes]
    if len(fixes) < 2 or any(h is None for h in headings):
        return False
    sweep = heading_sweep_deg([float(h) for h in headings if h is not None])
    if sweep <= 0.0:
        return False
    moved = distance_m(fixes[0].lat, fixes[0].lon, fixes[-1].lat, fixes[-1].lon)
    return moved <= radius * math.radians(sweep)


def _swung(st: _Anchoring, report: PositionReport, radius: float) -> bool:
    """Whether the fix is where the ship lies after swinging round an anchor ahead of where it
    settled: an anchor on the settling heading, at the distance d from the settling position that
    puts the fix at that same distance from it (d <= `SWING_REACH` x radius), with the ship's
    heading now pointing at it (within 45 degrees). A drag astern or sideways, its heading held,
    finds no such anchor."""
    if st.centre is None or st.heading is None or report.heading is None:
        return False
    assert report.lat is not None and report.lon is not None
    proj = local_projection(st.centre[0], st.centre[1])
    x, y = proj.to_xy(report.lat, report.lon)
    ux, uy = math.sin(math.radians(st.heading)), math.cos(math.radians(st.heading))
    along = x * ux + y * uy  # how far ahead of where it settled, along the settling heading
    if along <= 0.0:
        return False
    d = (x * x + y * y) / (2.0 * along)
    if d > SWING_REACH * radius:
        return False
    anchor = proj.to_latlon(d * ux, d * uy)
    towards = bearing_deg(report.lat, report.lon, anchor[0], anchor[1])
    return angle_diff_deg(towards, report.heading) < SWING_HEADING_DEG


RULE = AnchorDragRule
