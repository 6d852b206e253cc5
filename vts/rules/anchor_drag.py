"""anchor_drag: a ship at anchor leaves its swing circle, or makes way while at anchor.

A ship is "at anchor" while its navigational status is 1. Its anchoring position is the median of
its fixes during the first `settle_minutes` (10) after it was first seen at anchor; the swing
circle around it has radius max(`min_radius_m` 200 m, length + `radius_margin_m` 150 m).

Fires (state alert, `alarm`) when `consecutive_fixes` (3) fixes in a row lie outside the circle,
or the ship makes `drag_sog_kn` (1 kn) or more over ground for `drag_minutes` (2) while at anchor.
A ship that forgot to change its status and is plainly under way (above `underway_sog_kn`, 4 kn,
faster than any anchor drags) has weighed anchor: its anchoring is forgotten and any alert
cleared, as when its status changes. The alert clears when the ship's last `consecutive_fixes` (3) fixes
are inside its circle and under `drag_sog_kn` (one slow fix in a gust does not end a drag), or when it
leaves the anchored state.

Batched processing (`Rule.interest`): the rule only has something to do with a fix reporting status
1 at no more than `underway_sog_kn`, or with a ship it already follows (its anchoring is on record).
Any other fix of a ship it does not follow ends in the first `return` of `on_position`, so the mask
is those fixes, and a ship is watched (`Rule.watch`) exactly while its anchoring is on record.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from vts.geo import distance_m
from vts.reports import PositionReport
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState

AT_ANCHOR = 1


class AnchorDragParams(RuleParams):
    settle_minutes: float = Field(
        10.0, gt=0, description="fixes of this first period give the anchoring position"
    )
    min_radius_m: float = Field(200.0, gt=0, description="smallest swing circle radius")
    radius_margin_m: float = Field(150.0, ge=0, description="swing radius = length + this")
    consecutive_fixes: int = Field(3, ge=1, description="fixes outside the circle in a row")
    drag_sog_kn: float = Field(1.0, gt=0, description="speed over ground that counts as making way")
    drag_minutes: float = Field(2.0, ge=0, description="how long that speed must last")
    underway_sog_kn: float = Field(4.0, gt=0, description="above this the ship has weighed anchor")


@dataclass(slots=True)
class _Anchoring:
    since: float
    settle_lats: list[float] = field(default_factory=list)
    settle_lons: list[float] = field(default_factory=list)
    centre: tuple[float, float] | None = None
    outside: int = 0
    inside: int = 0
    slow: int = 0  # fixes in a row under drag_sog_kn (or with no SOG)
    fast_since: float | None = None
    active: bool = False


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
        if st is None:
            st = self._anchored[vessel.mmsi] = _Anchoring(report.time)
            self.watch(ctx, vessel.mmsi)  # its fixes matter now, whatever its status (see interest)
        if st.centre is None:
            st.settle_lats.append(report.lat)
            st.settle_lons.append(report.lon)
            if report.time - st.since < p.settle_minutes * 60.0:
                return
            st.centre = (statistics.median(st.settle_lats), statistics.median(st.settle_lons))
        radius = max(p.min_radius_m, (vessel.length or 0.0) + p.radius_margin_m)
        off = distance_m(st.centre[0], st.centre[1], report.lat, report.lon)
        if off > radius:
            st.outside += 1
            st.inside = 0
        else:
            st.inside += 1
            st.outside = 0
        if sog is not None and sog >= p.drag_sog_kn:
            st.slow = 0
            if st.fast_since is None:
                st.fast_since = report.time
        else:
            st.slow += 1
            st.fast_since = None
        making_way = st.fast_since is not None and report.time - st.fast_since >= p.drag_minutes * 60.0
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
            ctx.alerts.clear(
                type=self.id,
                mmsi=vessel.mmsi,
                message=f"{vessel.name or vessel.mmsi} back inside its swing circle",
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


RULE = AnchorDragRule
