"""drifting: a vessel moving sideways or backwards through the water, or not under command.

Fires (state alert, `warning`) when

* speed over ground is between 0.25 and 20 kn and heading and course over ground differ by 45
  degrees or more on every fix for at least 3 minutes (heading known, at least 3 fixes), and the
  vessel really moved that way: its net displacement over the run (its last `max_run_minutes`, 10,
  at most) is at least `min_displacement_m` (30 m) and its bearing is also 45 degrees or more off
  the mean heading (so the random course over ground of GPS noise at very low speed never counts;
  a drift at the 0.25 kn floor shows after about 4 minutes). Two slow movements that put the
  course over ground across the heading are not drifts, and are left out while the run's net speed
  is under `nuc_moving_kn` (1 kn):
  - a ship turning about a point: swinging round its anchor, or turning on the spot in a basin.
    Its antenna moves sideways as the hull rotates. The run's net displacement is no more than the
    heading's sweep over it (radians) times the ship's length plus `swing_cable_m` (300 m, the most
    cable a ship at anchor lies to: the farthest its antenna can be from the point it turns about).
    In recorded traffic, ships lying at anchor with status 0 (GLOBAL DREAM off Townsville, its
    heading sweeping 25 degrees in 6 minutes) and a container ship turning in Botany Bay were raised
    as drifting;
  - a ship lying in a berth, terminal, fishing dock, anchorage, waiting area or the inner harbour
    (`nuc_quiet_zone_kinds`, as for status 2 below): sheering at anchor, wandering GNSS. Ships at
    anchor forget status 1, and anchor_drag watches those that set it.

  In such a zone, a ship turning about a point is left out at any net speed (never farther than
  across its swing circle): at anchor, its antenna lies a cable and a hull's length from the
  anchor and sweeps round it at a knot or more as the ship yaws in wind or the tide turns (an
  independent check's ships at anchor with status 0, swinging 50 degrees either way, were raised
  every half hour). A drift across a steady heading is still raised there above 1 kn.

  A drift of a ship dead in the water keeps its heading, or turns slowly: none of the recorded true
  drifts (steady heading, set sideways or astern) is left out; or
* navigational status is 2 ("not under command"), except where ships lie still: in a berth,
  terminal, fishing dock, anchorage, waiting area or the inner harbour (`nuc_quiet_zone_kinds`,
  confirmed membership), ships moored or at anchor for repairs report it, rightly or not, and a
  ship lying there is not drifting. There it counts only while the ship moves: a mean speed over
  ground of `nuc_moving_kn` (1 kn, above the GNSS jitter of a ship lying still) over the last
  `min_minutes`; otherwise its fixes are judged like any other (the heading/course condition above).

Left out: ships at anchor or moored by status (swinging at anchor is anchor_drag's business), tugs
(they push and tow sideways) and allow-listed tugs, pilots and coastguard. Cleared when two
consecutive fixes no longer meet the condition, or the status leaves "not under command". A drift
that turns into "not under command" (or back) stays one alert, its `kind` updated.

Batched (`interest`): a vessel with no run of crabbing fixes and no active alert is "clean", and a
fix can only change that when it is crabbing by the report's own fields or reports status 2; every
other fix of a clean vessel leaves it clean (the miss count only matters once a run or an alert
exists, and both reset it). So the mask is those fixes, computed on the batch columns (exemption,
which needs the tracker's category, is left to `on_position`: a superset), and a vessel is watched
exactly while its state is not clean.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vts.geo import angle_diff_deg, bearing_deg, distance_m
from vts.reports import PositionReport
from vts.rules._common import ZoneKinds, is_allowlisted
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import DriftingParams
from vts.vessel_class import mean_speed_kn

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState

NOT_UNDER_COMMAND = 2
AT_ANCHOR_OR_MOORED = (1, 5)
ANGLE_SLACK_DEG = 1e-6
"""The mask takes fixes this much under the angle too: float rounding can only add rows to it."""


MS_PER_KNOT = 1852.0 / 3600.0


@dataclass(slots=True)
class _Fix:
    time: float
    lat: float
    lon: float
    heading: float


@dataclass(slots=True)
class _Drift:
    run: deque[_Fix] = field(default_factory=deque)
    misses: int = 0
    kind: str | None = None


class DriftingRule(Rule):
    id = "drifting"
    late_fixes = False  # judged on where the vessel is now, not on a late fix
    Params = DriftingParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: DriftingParams = params  # type: ignore[assignment]
        self._state: dict[int, _Drift] = {}
        self._quiet = ZoneKinds(self.p.nuc_quiet_zone_kinds)

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Fixes that are crabbing by their own fields (speed, course, heading, status), or report
        "not under command": the only ones that can change a clean vessel's state (see the module
        docstring). Vessels with a run or an alert are watched."""
        p = self.p
        sog, cog, heading, status = batch.sog, batch.cog, batch.heading, batch.nav_status
        with np.errstate(invalid="ignore"):
            d = cog - heading
        # The angle only for the rows that can pass the other tests, and not NaN (no heading or
        # course: the angle compares False there): numpy's % on a NaN takes a slow path, ~0.5 us
        # each, and most rows of a batch have no heading or course.
        rows = np.flatnonzero(
            (sog >= p.min_sog_kn)
            & (sog <= p.max_sog_kn)
            & (status != AT_ANCHOR_OR_MOORED[0])
            & (status != AT_ANCHOR_OR_MOORED[1])
            & (d == d)
        )  # NaN (no speed) compares False
        mask = np.zeros(len(batch), dtype=bool)
        if len(rows):
            with np.errstate(invalid="ignore"):
                d = np.abs(d[rows]) % 360.0
                d = np.where(d > 180.0, 360.0 - d, d)
                mask[rows[d >= p.min_angle_deg - ANGLE_SLACK_DEG]] = True
        if p.not_under_command:
            mask |= status == NOT_UNDER_COMMAND
        mask &= batch.is_position
        return mask

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.is_shadow or report.lat is None or report.lon is None:
            return
        p = self.p
        st = self._state.get(vessel.mmsi)
        if st is None:
            st = self._state[vessel.mmsi] = _Drift()
            self.watch(ctx, vessel.mmsi)
        exempt = vessel.category in p.exempt_categories or is_allowlisted(
            ctx.allowlists, vessel.mmsi, ("tug", "pilot", "coastguard")
        )
        nuc = p.not_under_command and report.nav_status == NOT_UNDER_COMMAND and not exempt
        if nuc and self._quiet.member(ctx.zones, vessel.mmsi):
            speed = mean_speed_kn(vessel, report.time, p.min_minutes * 60.0)
            nuc = speed is not None and speed >= p.nuc_moving_kn  # lying still at a berth or anchor
        if nuc:
            st.run.clear()
            st.misses = 0
            details = {"nav_status": NOT_UNDER_COMMAND, "sog_kn": report.sog}
            self._hold(ctx, vessel, report, "not_under_command", details)
            return
        crabbing = (
            not exempt
            and report.nav_status not in AT_ANCHOR_OR_MOORED
            and report.heading is not None
            and report.cog is not None
            and report.sog is not None
            and p.min_sog_kn <= report.sog <= p.max_sog_kn
            and angle_diff_deg(report.cog, report.heading) >= p.min_angle_deg
        )
        if not crabbing:
            st.run.clear()
            st.misses += 1
            status_ended = st.kind == "not_under_command" and report.nav_status != NOT_UNDER_COMMAND
            if st.kind is not None and (status_ended or st.misses >= 2):
                self._clear(ctx, vessel, st)
            if st.kind is None:  # clean again (no run, no alert): forget it, as if never seen
                del self._state[vessel.mmsi]
                self.unwatch(ctx, vessel.mmsi)
            return
        assert report.heading is not None and report.cog is not None
        st.misses = 0
        st.run.append(_Fix(report.time, report.lat, report.lon, float(report.heading)))
        keep = max(p.min_minutes, p.max_run_minutes) * 60.0
        while len(st.run) > 2 and report.time - st.run[1].time >= keep:
            st.run.popleft()  # the run, up to max_run_minutes: a 0.25 kn drift needs 4 min for 30 m
        first = st.run[0]
        span = report.time - first.time
        if span < p.min_minutes * 60.0 or len(st.run) < p.min_fixes:
            return
        moved = distance_m(first.lat, first.lon, report.lat, report.lon)
        if moved < p.min_displacement_m:
            return
        track = bearing_deg(first.lat, first.lon, report.lat, report.lon)
        heading = _mean_direction([f.heading for f in st.run])
        off = angle_diff_deg(track, heading)
        if off < p.min_angle_deg:
            return
        slow = moved / span < p.nuc_moving_kn * MS_PER_KNOT
        if self._lying_or_turning(vessel, st.run, moved, slow, ctx):
            return
        details = {
            "sog_kn": report.sog,
            "cog_deg": report.cog,
            "heading_deg": report.heading,
            "cog_heading_diff_deg": round(angle_diff_deg(report.cog, report.heading), 1),
            "track_heading_diff_deg": round(off, 1),
            "duration_s": round(span, 1),
            "displacement_m": round(moved, 1),
        }
        self._hold(ctx, vessel, report, "drift", details)

    def _lying_or_turning(
        self, vessel: VesselState, run: deque[_Fix], moved: float, slow: bool, ctx: RuleContext
    ) -> bool:
        """A run whose sideways movement is no drift. Slow (net speed under `nuc_moving_kn`): the
        ship turns about a point within its swing radius (at anchor, or on the spot), or lies in a
        zone where ships lie still. Faster: only a ship turning about a point in such a zone, never
        farther than across its swing circle (a ship swinging at anchor, its antenna a cable and a
        hull's length from the anchor, sweeps round it at a knot or more). See the module docstring."""
        p = self.p
        radius = (vessel.length or 0.0) + p.swing_cable_m
        turning = moved <= radius * math.radians(heading_sweep_deg([f.heading for f in run]))
        if slow:
            return turning or bool(self._quiet.member(ctx.zones, vessel.mmsi))
        return turning and moved <= 2.0 * radius and bool(self._quiet.member(ctx.zones, vessel.mmsi))

    def _hold(
        self, ctx: RuleContext, vessel: VesselState, report: PositionReport, kind: str, details: dict
    ) -> None:
        # a change of kind updates the one alert (clearing it would start the engine's cooldown,
        # and the other kind would then be suppressed while the ship drifts on)
        self._state[vessel.mmsi].kind = kind
        what = "not under command" if kind == "not_under_command" else "drifting (heading and course differ)"
        ctx.alerts.hold(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning",
            message=f"{vessel.name or vessel.mmsi} {what}",
            lat=report.lat,
            lon=report.lon,
            details={"kind": kind, **details},
        )

    def _clear(self, ctx: RuleContext, vessel: VesselState, st: _Drift) -> None:
        st.kind = None
        ctx.alerts.clear(
            type=self.id, mmsi=vessel.mmsi, message=f"{vessel.name or vessel.mmsi} no longer drifting"
        )

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        if self._state.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)


def heading_sweep_deg(degrees: list[float]) -> float:
    """How far the headings range, in degrees, followed fix to fix (each step the shorter way).
    Also anchor_drag's test of a ship swinging round its anchor."""
    at = lo = hi = 0.0
    for a, b in itertools.pairwise(degrees):
        d = (b - a + 180.0) % 360.0 - 180.0
        at += d
        lo, hi = min(lo, at), max(hi, at)
    return hi - lo


def _mean_direction(degrees: list[float]) -> float:
    s = sum(math.sin(math.radians(d)) for d in degrees)
    c = sum(math.cos(math.radians(d)) for d in degrees)
    return math.degrees(math.atan2(s, c)) % 360.0


RULE = DriftingRule
