"""duplicate_mmsi: two ships transmitting under one MMSI.

The tracker applies Global Fishing Watch's dead-reckoning test (gpsdio-segment): a fix further from
the track's dead-reckoned position than (10 min + elapsed) x 25 kn cannot belong to it, is counted
in ``VesselState.dr_conflicts`` and goes to a separate shadow track (``Tracker.shadow(mmsi)``).
This rule raises a state alert (`warning`) once `min_conflicts` (3) such conflicts fall within
`window_minutes` (10): a single outlier never does. It carries both positions (the primary track and
the shadow) and the distance between them, is updated as conflicts keep coming, and is cleared once
no conflict has been seen for `clear_minutes`. A "second ship" that sails on the first one's course
line, on a similar course and speed, is the same ship seen at another time (satellite AIS stamps the
downlink; late-delivered fixes) and raises nothing (`ignore_same_track`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import Field

from vts.geo import angle_diff_deg, bearing_deg, distance_m
from vts.reports import PositionReport, Report
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.tracker import VesselState


SAME_TRACK_COURSE_DEG = 30.0
SAME_TRACK_CROSS_M = 1000.0


class DuplicateMmsiParams(RuleParams):
    min_conflicts: int = Field(3, ge=1, description="dead-reckoning conflicts needed ...")
    window_minutes: float = Field(10.0, gt=0, description="... within this window")
    clear_minutes: float = Field(30.0, gt=0, description="clear after this long without a conflict")
    ignore_same_track: bool = Field(
        True, description="no alert when the 'second ship' sails the first one's course line (late fixes)"
    )


class DuplicateMmsiRule(Rule):
    id = "duplicate_mmsi"
    Params = DuplicateMmsiParams
    tick_seconds = 60.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: DuplicateMmsiParams = params  # type: ignore[assignment]
        self._last_conflict: dict[int, float] = {}

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        if vessel is None or not isinstance(report, PositionReport) or not report.has_position:
            return
        primary = ctx.tracker.get(vessel.mmsi) if vessel.is_shadow else vessel
        if primary is None:
            return
        conflicts = [t for t in primary.dr_conflicts if report.time - t <= self.p.window_minutes * 60.0]
        if len(conflicts) < self.p.min_conflicts:
            return
        shadow = _shadow_of(ctx, primary.mmsi)
        if shadow is not None and self.p.ignore_same_track and _same_track(primary, shadow):
            return
        self._last_conflict[primary.mmsi] = max(conflicts)
        details: dict[str, object] = {
            "conflicts": len(conflicts),
            "window_min": self.p.window_minutes,
            "first_conflict": min(conflicts),
        }
        if shadow is not None and shadow.lat is not None and shadow.lon is not None:
            details.update(
                other_lat=round(shadow.lat, 6),
                other_lon=round(shadow.lon, 6),
                other_name=shadow.name,
            )
            if primary.lat is not None and primary.lon is not None:
                details["separation_m"] = round(
                    distance_m(primary.lat, primary.lon, shadow.lat, shadow.lon), 1
                )
        ctx.alerts.hold(
            type=self.id,
            mmsi=primary.mmsi,
            severity="warning",
            message=f"Two ships transmit as MMSI {primary.mmsi}"
            + (f" ({details['separation_m'] / 1852.0:.1f} NM apart)" if "separation_m" in details else ""),
            lat=primary.lat,
            lon=primary.lon,
            details=details,
        )

    def on_tick(self, ctx: RuleContext) -> None:
        horizon = ctx.now - self.p.clear_minutes * 60.0
        for mmsi in sorted(m for m, t in self._last_conflict.items() if t < horizon):
            del self._last_conflict[mmsi]
            ctx.alerts.clear(
                type=self.id,
                mmsi=mmsi,
                message=f"No second ship seen as MMSI {mmsi} for {self.p.clear_minutes:g} min",
            )

    def on_forget(self, mmsi: int) -> None:
        self._last_conflict.pop(mmsi, None)


def _same_track(primary: VesselState, shadow: VesselState) -> bool:
    """The "second ship" is the first one seen at another time: it lies on the first one's course
    line, ahead or astern, on a similar course at a similar speed. That is what satellite AIS (which
    stamps the downlink, not the transmission) and late-delivered fixes look like; two real ships
    under one MMSI practically never line up like that."""
    if None in (
        primary.lat,
        primary.lon,
        primary.cog,
        primary.sog,
        shadow.lat,
        shadow.lon,
        shadow.cog,
        shadow.sog,
    ):
        return False
    assert primary.lat is not None and primary.lon is not None and primary.cog is not None
    assert shadow.lat is not None and shadow.lon is not None and shadow.cog is not None
    assert primary.sog is not None and shadow.sog is not None
    if min(primary.sog, shadow.sog) < 1.0 or angle_diff_deg(primary.cog, shadow.cog) > SAME_TRACK_COURSE_DEG:
        return False
    if abs(primary.sog - shadow.sog) > max(2.0, 0.25 * primary.sog):
        return False
    dist = distance_m(primary.lat, primary.lon, shadow.lat, shadow.lon)
    off_axis = min(
        angle_diff_deg(bearing_deg(primary.lat, primary.lon, shadow.lat, shadow.lon), primary.cog),
        angle_diff_deg(bearing_deg(shadow.lat, shadow.lon, primary.lat, primary.lon), primary.cog),
    )
    return dist * math.sin(math.radians(off_axis)) <= SAME_TRACK_CROSS_M


def _shadow_of(ctx: RuleContext, mmsi: int) -> VesselState | None:
    shadow = getattr(ctx.tracker, "shadow", None)
    if shadow is None:
        return None
    try:
        result = shadow(mmsi)
    except KeyError:
        return None
    return result  # type: ignore[no-any-return]


RULE = DuplicateMmsiRule
