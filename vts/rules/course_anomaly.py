"""course_anomaly: courses a normal transit does not sail. One alert type, four kinds (details.kind):

* ``wrong_way`` (state, `warning`, zone = the lane): inside a traffic lane, course over ground more
  than `wrong_way_angle_deg` (90) off the lane's direction on every fix for `wrong_way_minutes` (2),
  at `wrong_way_min_sog_kn` (2 kn) or more (below that the course over ground is GPS noise). Where
  lanes overlap, a course that suits any one of them is not wrong. Cleared when the vessel leaves
  the lane or steers within the angle again (for two fixes).
* ``erratic`` (event, `warning`): `erratic_turns` (3) turns of `erratic_turn_deg` (60) or more
  within `erratic_minutes` (10) while under way (`erratic_min_sog_kn`, 3 kn). A turn is counted when
  the course differs that much from any course held since the previous turn in the last 3 minutes,
  on two fixes in a row (one bad course over ground is not a turn); the new leg is then the
  reference. Tugs, pilots, SAR, law enforcement, fishing and
  sailing vessels turn for a living and are left out (`exempt_categories`).
* ``stop_after_departure`` (event, `warning`, zone = the berth or anchorage left): a large vessel
  that left a berth, terminal or anchorage and got under way (`departure_sog_kn`, 4 kn) then, before
  it is `departure_watch_nm` (10 NM) from where it left and before it leaves the VTS area, slows under
  `stop_sog_kn` (2 kn) for `stop_minutes` (3) outside port, berth and anchorage zones, or turns back
  (comes `turn_back_m` (1 km) closer to where it left than it had been): the pick-up pattern.
* ``off_route`` (state, `caution`): a large vessel under way that, having first been seen on the
  usual routes, for `off_route_minutes` (10, the anchors' "low-likelihood runs of 10 minutes") goes
  where the learned traffic model (`vts.normalcy`, written by ``vts learn``, loaded from
  `model_path`) says ships do not go: mean anomaly over the window at or above
  `off_route_threshold` (`vts.normalcy.OffRouteWatch`); not raised for a vessel already reported
  erratic or stopping after departure in the last `off_route_after_event_minutes` (30). Only
  judged inside the VTS area (zones of kind ``area_of_interest``, or anywhere when the
  configuration has none). Without a model this kind is off.

Nothing is judged while a duplicate_mmsi alert is active for the vessel, nor on a fix out of reach
of the previous one: two ships' fixes interleaved on one track, or a position jump, make turns and
turn-backs that no ship sailed.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from vts.geo import METRES_PER_NM, angle_diff_deg, distance_m
from vts.normalcy import NormalcyModel, OffRouteWatch
from vts.reports import PositionReport
from vts.rules._common import is_allowlisted
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.vessel_class import is_large_vessel

if TYPE_CHECKING:
    from vts.tracker import VesselState
    from vts.zones import ZoneEvent

log = logging.getLogger(__name__)

DEPARTURE_ZONE_KINDS = frozenset({"berth", "terminal", "anchorage"})
QUIET_ZONE_KINDS = frozenset({"berth", "terminal", "anchorage", "waiting_area", "fishing_dock", "port_area"})
VTS_AREA_KINDS = frozenset({"area_of_interest"})
TURN_WINDOW_S = 180.0
"""A turn is a course change of erratic_turn_deg against any course held in the last 3 minutes
(ships turn at 10-30 degrees a minute, so a 60-degree turn completes within that)."""
KNOT_MS = 1852.0 / 3600.0


class CourseAnomalyParams(RuleParams):
    wrong_way: bool = True
    wrong_way_angle_deg: float = Field(90.0, gt=0, lt=180)
    wrong_way_minutes: float = Field(2.0, gt=0)
    wrong_way_min_sog_kn: float = Field(2.0, ge=0)
    erratic: bool = True
    erratic_turn_deg: float = Field(60.0, gt=0, lt=180)
    erratic_turns: int = Field(3, ge=2)
    erratic_minutes: float = Field(10.0, gt=0)
    erratic_min_sog_kn: float = Field(3.0, ge=0)
    stop_after_departure: bool = True
    departure_sog_kn: float = Field(4.0, gt=0, description="speed that counts as having got under way")
    departure_watch_nm: float = Field(10.0, gt=0)
    stop_sog_kn: float = Field(2.0, gt=0)
    stop_minutes: float = Field(3.0, ge=0)
    turn_back_m: float = Field(1000.0, gt=0)
    off_route: bool = True
    model_path: str | None = Field(
        None, description="normalcy model (.npz from `vts learn`), relative to the config"
    )
    model_layer: str = Field(
        "large", pattern="^(large|all)$", description="which layer of the model to judge by"
    )
    off_route_minutes: float = Field(10.0, gt=0, description="window of the mean anomaly")
    off_route_threshold: float = Field(0.6, gt=0, le=1)
    off_route_normal_below: float = Field(0.2, ge=0, le=1, description="mean that counts as on the routes")
    off_route_min_sog_kn: float = Field(3.0, ge=0)
    off_route_after_event_minutes: float = Field(
        30.0, ge=0, description="no off_route for a vessel reported erratic or stopping this recently"
    )
    exempt_categories: list[str] = Field(
        default_factory=lambda: ["tug", "pilot", "sar", "law_enforcement", "fishing", "sailing"]
    )


@dataclass(slots=True)
class _WrongWay:
    lane: str
    since: float
    fixes: int = 1
    active: bool = False
    good: int = 0


@dataclass(slots=True)
class _Turns:
    history: deque[tuple[float, float]] = field(default_factory=deque)
    """(time, course) of the fixes since the last turn, within TURN_WINDOW_S."""
    pending: tuple[float, float] | None = None
    turns: deque[float] = field(default_factory=deque)


@dataclass(slots=True)
class _Departure:
    zone: str
    time: float
    lat: float
    lon: float
    armed: bool = False
    max_distance: float = 0.0
    slow_since: float | None = None


class CourseAnomalyRule(Rule):
    id = "course_anomaly"
    Params = CourseAnomalyParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: CourseAnomalyParams = params  # type: ignore[assignment]
        self._wrong: dict[int, _WrongWay] = {}
        self._turns: dict[int, _Turns] = {}
        self._departures: dict[int, _Departure] = {}
        self._off: dict[int, OffRouteWatch] = {}
        self._last_event: dict[int, float] = {}
        """Time of each vessel's last erratic / stop_after_departure event."""
        self._model: NormalcyModel | None = None
        self._model_tried = False

    # -- hooks -------------------------------------------------------------------------------------
    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.is_shadow or report.lat is None or report.lon is None:
            return
        if ctx.alerts.is_active("duplicate_mmsi", vessel.mmsi) or _jumped(vessel, report):
            return  # two ships' fixes interleaved, or a position jump: no manoeuvre to judge
        exempt = vessel.category in self.p.exempt_categories or is_allowlisted(
            ctx.allowlists, vessel.mmsi, ("coastguard", "pilot", "tug")
        )
        if self.p.wrong_way and not exempt:
            self._check_wrong_way(vessel, report, ctx)
        if self.p.erratic and not exempt:
            self._check_erratic(vessel, report, ctx)
        if self.p.stop_after_departure and vessel.mmsi in self._departures:
            self._check_departure(vessel, report, ctx)
        if self.p.off_route and not exempt:
            self._check_off_route(vessel, report, ctx)

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if not self.p.stop_after_departure:
            return
        kind = _zone_kind(event.zone_id, ctx)
        if event.kind == "exit" and kind in DEPARTURE_ZONE_KINDS and is_large_vessel(vessel):
            self._departures[vessel.mmsi] = _Departure(event.zone_id, event.time, event.lat, event.lon)
        elif event.kind == "entry" and kind in DEPARTURE_ZONE_KINDS:
            self._departures.pop(vessel.mmsi, None)  # arrived somewhere: a shift, not a departure
        elif event.kind == "exit" and kind in VTS_AREA_KINDS:
            self._departures.pop(vessel.mmsi, None)

    def on_forget(self, mmsi: int) -> None:
        self._wrong.pop(mmsi, None)
        self._turns.pop(mmsi, None)
        self._departures.pop(mmsi, None)
        self._off.pop(mmsi, None)
        self._last_event.pop(mmsi, None)

    # -- wrong way -----------------------------------------------------------------------------------
    def _check_wrong_way(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        p = self.p
        lanes: list[tuple[str, float]] = []
        for zone_id in sorted(ctx.zones.zones_of(vessel.mmsi)):
            z = _zone(zone_id, ctx)
            if z is not None and z.kind == "lane" and z.settings.direction_deg is not None:
                lanes.append((zone_id, float(z.settings.direction_deg)))
        st = self._wrong.get(vessel.mmsi)
        wrong_lane: str | None = None
        diff = 0.0
        if (
            lanes
            and report.cog is not None
            and report.sog is not None
            and report.sog >= p.wrong_way_min_sog_kn
        ):
            diffs = [(angle_diff_deg(report.cog, d), lid, d) for lid, d in lanes]
            if all(dd > p.wrong_way_angle_deg for dd, _, _ in diffs):
                diff, wrong_lane, _ = max(diffs)
        if st is not None:
            if wrong_lane == st.lane:
                st.good = 0
            else:
                st.good += 1
                left = st.lane not in ctx.zones.zones_of(vessel.mmsi)
                if wrong_lane is not None or not st.active or st.good >= 2 or left:
                    self._end_wrong_way(vessel, st, ctx)
                    st = None
        if wrong_lane is None:
            return
        if st is None:
            self._wrong[vessel.mmsi] = _WrongWay(wrong_lane, report.time)
            return
        st.fixes += 1
        if report.time - st.since < p.wrong_way_minutes * 60.0 or st.fixes < 2:
            return
        st.active = True
        lane_dir = dict(lanes)[wrong_lane]
        ctx.alerts.hold(
            type=self.id,
            mmsi=vessel.mmsi,
            zone=wrong_lane,
            severity="warning",
            message=f"{vessel.name or vessel.mmsi} going the wrong way in {wrong_lane} "
            f"(course {report.cog:.0f}°, lane {lane_dir:.0f}°)",
            lat=report.lat,
            lon=report.lon,
            details={
                "kind": "wrong_way",
                "cog_deg": report.cog,
                "lane_direction_deg": lane_dir,
                "angle_off_deg": round(diff, 1),
                "sog_kn": report.sog,
                "duration_s": round(report.time - st.since, 1),
            },
        )

    def _end_wrong_way(self, vessel: VesselState, st: _WrongWay, ctx: RuleContext) -> None:
        self._wrong.pop(vessel.mmsi, None)
        if st.active:
            ctx.alerts.clear(
                type=self.id,
                mmsi=vessel.mmsi,
                zone=st.lane,
                message=f"{vessel.name or vessel.mmsi} no longer against the flow of {st.lane}",
            )

    # -- erratic -------------------------------------------------------------------------------------
    def _check_erratic(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        p = self.p
        st = self._turns.setdefault(vessel.mmsi, _Turns())
        if report.cog is None or report.sog is None or report.sog < p.erratic_min_sog_kn:
            st.pending = None
            return
        t, cog = report.time, report.cog
        while st.history and t - st.history[0][0] > TURN_WINDOW_S:
            st.history.popleft()
        deviation = 0.0  # the largest angle_diff_deg(cog, c) over the history (as max(), inlined)
        first = True
        for _, c in st.history:
            d = abs(cog - c) % 360.0
            if d > 180.0:
                d = 360.0 - d
            if first or d > deviation:
                deviation = d
                first = False
        if deviation < p.erratic_turn_deg:
            st.pending = None
            st.history.append((t, cog))
            return
        if st.pending is None or angle_diff_deg(cog, st.pending[1]) >= p.erratic_turn_deg:
            st.pending = (t, cog)  # first fix of a possible turn (one bad course is not a turn)
            return
        # a turn: confirmed by two fixes in a row; the new leg is the reference from now on
        st.history.clear()
        st.history.extend((st.pending, (t, cog)))
        st.pending = None
        st.turns.append(t)
        while st.turns and t - st.turns[0] > p.erratic_minutes * 60.0:
            st.turns.popleft()
        if len(st.turns) < p.erratic_turns:
            return
        span = t - st.turns[0]
        st.turns.clear()
        self._last_event[vessel.mmsi] = t
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning",
            message=f"{vessel.name or vessel.mmsi} manoeuvring erratically: "
            f"{p.erratic_turns} turns of {p.erratic_turn_deg:g}° or more in {span / 60:.1f} min",
            lat=report.lat,
            lon=report.lon,
            details={
                "kind": "erratic",
                "turns": p.erratic_turns,
                "span_s": round(span, 1),
                "sog_kn": report.sog,
                "cog_deg": report.cog,
            },
        )

    # -- stop after departure ------------------------------------------------------------------------
    def _check_departure(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        assert report.lat is not None and report.lon is not None
        p = self.p
        dep = self._departures[vessel.mmsi]
        dist = distance_m(dep.lat, dep.lon, report.lat, report.lon)
        if dist > p.departure_watch_nm * METRES_PER_NM:
            del self._departures[vessel.mmsi]
            return
        sog = report.sog
        if not dep.armed:
            if sog is not None and sog >= p.departure_sog_kn:
                dep.armed = True
                dep.max_distance = dist
            return
        dep.max_distance = max(dep.max_distance, dist)
        quiet = any(z.kind in QUIET_ZONE_KINDS for z in ctx.zones.zones_at(report.lon, report.lat))
        what: str | None = None
        details: dict[str, Any] = {}
        if sog is not None and sog < p.stop_sog_kn and not quiet:
            if dep.slow_since is None:
                dep.slow_since = report.time
            if report.time - dep.slow_since >= p.stop_minutes * 60.0:
                what = f"slowed to {sog:.1f} kn"
                details = {"pattern": "stop", "slow_s": round(report.time - dep.slow_since, 1)}
        else:
            dep.slow_since = None
        if what is None and dep.max_distance - dist >= p.turn_back_m and not quiet:
            what = "turned back"
            details = {"pattern": "turn_back", "max_distance_nm": round(dep.max_distance / METRES_PER_NM, 2)}
        if what is None:
            return
        del self._departures[vessel.mmsi]
        self._last_event[vessel.mmsi] = report.time
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            zone=dep.zone,
            severity="warning",
            message=f"{vessel.name or vessel.mmsi} {what} {dist / METRES_PER_NM:.1f} NM "
            f"after leaving {dep.zone}",
            lat=report.lat,
            lon=report.lon,
            details={
                "kind": "stop_after_departure",
                **details,
                "departed_zone": dep.zone,
                "departed_at": dep.time,
                "distance_nm": round(dist / METRES_PER_NM, 2),
                "sog_kn": sog,
            },
        )

    # -- off route -------------------------------------------------------------------------------------
    def _model_for(self, ctx: RuleContext) -> NormalcyModel | None:
        if self._model_tried:
            return self._model
        self._model_tried = True
        if not self.p.model_path:
            return None
        path = Path(self.p.model_path)
        if not path.is_absolute() and ctx.config.path is not None:
            path = Path(ctx.config.path).parent / path
        try:
            self._model = NormalcyModel.load(path)
        except ValueError as exc:
            log.warning("course_anomaly: off_route disabled: %s", exc)
            self._model = None
        return self._model

    def _check_off_route(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        assert report.lat is not None and report.lon is not None
        p = self.p
        model = self._model_for(ctx)
        if model is None:
            return
        st = self._off.get(vessel.mmsi)
        judged = (
            is_large_vessel(vessel)
            and report.sog is not None
            and report.sog >= p.off_route_min_sog_kn
            and self._in_vts_area(report, ctx)
        )
        if not judged:
            if st is not None:
                self._end_off_route(vessel, st, ctx, "no longer judged (slow, or outside the VTS area)")
            return
        if st is None:
            st = self._off[vessel.mmsi] = OffRouteWatch(
                p.off_route_minutes * 60.0, p.off_route_threshold, p.off_route_normal_below
            )
        layer = model.layer_for("large" if p.model_layer == "large" else "all")
        score = model.anomaly(report.lat, report.lon, report.cog, layer)
        step = st.feed(report.time, score)
        recent = self._last_event.get(vessel.mmsi)
        if (
            step == "raise"
            and recent is not None
            and report.time - recent < p.off_route_after_event_minutes * 60
        ):
            st.active = False  # already reported as erratic / stop after departure: one story, one alert
            return
        if step in ("raise", "hold"):
            stats = model.stats(report.lat, report.lon, report.cog, layer)
            mean = st.mean()
            ctx.alerts.hold(
                type=self.id,
                mmsi=vessel.mmsi,
                severity="caution",
                message=f"{vessel.name or vessel.mmsi} off the usual routes (anomaly {mean:.2f})",
                lat=report.lat,
                lon=report.lon,
                details={
                    "kind": "off_route",
                    "anomaly": round(mean, 3),
                    "window_s": round(st.span(), 1),
                    "vessels_seen_here": stats.vessels,
                    **(
                        {}
                        if stats.course_share is None
                        else {"course_share_here": round(stats.course_share, 3)}
                    ),
                },
            )
        elif step == "clear":
            ctx.alerts.clear(
                type=self.id,
                mmsi=vessel.mmsi,
                message=f"{vessel.name or vessel.mmsi} back on the usual routes",
            )

    def _end_off_route(self, vessel: VesselState, st: OffRouteWatch, ctx: RuleContext, why: str) -> None:
        self._off.pop(vessel.mmsi, None)
        if st.active:
            ctx.alerts.clear(type=self.id, mmsi=vessel.mmsi, message=f"{vessel.name or vessel.mmsi} {why}")

    @staticmethod
    def _in_vts_area(report: PositionReport, ctx: RuleContext) -> bool:
        assert report.lat is not None and report.lon is not None
        areas = [z for z in ctx.zones.zones if z.kind in VTS_AREA_KINDS]
        return not areas or any(z.contains(report.lon, report.lat) for z in areas)


def _jumped(vessel: VesselState, report: PositionReport) -> bool:
    """The fix is out of reach of the previous one (the position_jump limits): a glitch, a spoof or a
    second ship under the MMSI, not a manoeuvre."""
    trail = vessel.trail
    if len(trail) < 2 or report.lat is None or report.lon is None:
        return False
    prev = trail[-2]
    dist = distance_m(prev.lat, prev.lon, report.lat, report.lon)
    if dist <= 300.0:
        return False
    sog = max(prev.sog or 0.0, report.sog or 0.0)
    allowed_kn = max(40.0, 2.0 * sog + 10.0)
    return dist > allowed_kn * KNOT_MS * (abs(report.time - prev.time) + 2.0)


def _zone(zone_id: str, ctx: RuleContext) -> Any:
    try:
        return ctx.zones.zone(zone_id)
    except KeyError:
        return None


def _zone_kind(zone_id: str, ctx: RuleContext) -> str | None:
    z = _zone(zone_id, ctx)
    return None if z is None else str(z.kind)


RULE = CourseAnomalyRule
