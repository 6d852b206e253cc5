"""position_jump: impossible kinematics, positions on land or at (0, 0), and GNSS interference.

Per vessel (event alerts, `caution`; `warning` once a vessel has jumped `repeat_count` (3) times in
an hour):

* **jump**: the implied speed between two consecutive fixes is over max(`min_speed_kn` 40 kn,
  2 x SOG + 10 kn). GPS jitter and receiver time-stamping cannot make a jump: the distance must be
  at least `min_distance_m`, and `time_slack_s` is added to the elapsed time. When the fixes' own
  UTC seconds (the AIS time stamp) contradict the event times, or those of the feed's recent fixes
  often do (`vts.feed_clock`), the feed stamps arrival rather than transmission
  (satellite AIS, store-and-forward, logs with a coarse clock): the elapsed time is then at least
  the difference of those seconds, plus `unreliable_time_slack_s`. A move along the
  ship's own course that its speed explains in a time agreeing with those seconds (modulo whole
  minutes) is the same ship seen late, not a jump: within 15 minutes on a feed whose times look
  right, within `max_late_minutes` (2 h) on one seen to stamp arrival (a satellite downlink may hold
  a fix for an hour or more). On such a feed, a pair of fixes without seconds gets the same wide
  allowance (details.timing ``arrival``);
* **on_land**: two fixes in a row on land (the configured land polygons), at least `land_margin_m`
  inside the coastline every way, and outside berths, terminals, fishing docks and moorings, where a
  ship alongside a quay may legitimately plot over the coastline; reported once until the vessel is
  back at sea (a fix within the margin counts as at sea: GNSS noise of tens of metres, a hull
  alongside a quay no zone lists, a boat on a beach and the coastline's own error put honest fixes
  just over it);
* **null_island**: a fix at (0, 0), the classic default of a receiver with no GNSS fix; it is
  never used as the reference for the next jump.

**GNSS interference**: when `cluster_vessels` (3) or more vessels jump to within `cluster_radius_m`
of one another within `cluster_window_s`, it is ONE alert (details.kind ``gnss_interference``,
listing the vessels), not a flood: individual jumps are held back for `cluster_window_s` of event
time so that they can join a cluster, the alert goes out `cluster_window_s` after the cluster's
first jump (with every vessel that jumped there by then), and later jumps into the same area join
it silently until it has been quiet for `cluster_quiet_minutes`. Ships at anchor report every 3
minutes, so the vessels of one area pulled to one spot jump minutes apart: jumps reported alone in
the last `cluster_reach_minutes` (7) count towards a cluster too (the first ones went out before the
event showed; the rest join its one alert), and a member's jump back out of the spot, when the
interference ends however long it lasted, is part of the same event, not a jump of its own.

A placeholder MMSI (0, 123456789 ...), shared by unrelated transmitters, is left alone: its jumps are
different ships, and invalid_mmsi reports the MMSI itself.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely

from vts.alerts.model import Severity, iso_time
from vts.batch import land_union
from vts.geo import angle_diff_deg, bearing_deg, destination, distance_m
from vts.reports import PositionReport, Report
from vts.rules._common import is_placeholder_mmsi
from vts.rules._fix_stream import NULL_DEG, UnseenFixes, drop_placeholders, fix_stream
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import PositionJumpParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState
    from vts.zones import ZoneEngine

KNOT_MS = 1852.0 / 3600.0
ALONG_TRACK_DEG = 20.0
LATE_FIX_MAX_S = 900.0
QUAY_ZONE_KINDS = frozenset({"berth", "terminal", "fishing_dock"})
MARGIN_BEARINGS = tuple(range(0, 360, 45))
"""Where a fix on land is checked to be at least `land_margin_m` from the coastline."""


@dataclass(slots=True)
class _Jump:
    time: float
    mmsi: int
    name: str | None
    lat: float
    lon: float
    details: dict[str, Any]
    to_shadow: bool = False
    """The fix went to the tracker's shadow track (it failed the dead-reckoning test: miles off)."""


@dataclass(slots=True)
class _Cluster:
    started: float
    last: float
    lat: float
    lon: float
    members: list[_Jump] = field(default_factory=list)
    """The first jump of each vessel into the cluster, in the order they joined."""
    reported: bool = False


class PositionJumpRule(Rule):
    id = "position_jump"
    Params = PositionJumpParams
    tick_seconds = 10.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: PositionJumpParams = params  # type: ignore[assignment]
        self._history: dict[int, deque[float]] = {}
        self._on_land: dict[int, int] = {}
        """Consecutive fixes on land per vessel; -1 once reported (the vessel is watched meanwhile)."""
        self._null_ref: dict[int, PositionReport | None] = {}
        """Per vessel, the reference fix that stood when its latest (0, 0) fix on its track came
        (a (0, 0) fix is never the reference of the next jump test: see `_reference`)."""
        self._unseen = UnseenFixes()
        self._pending: list[_Jump] = []
        self._clusters: list[_Cluster] = []
        self._pulled_to: dict[int, tuple[float, float]] = {}
        """Vessels in a cluster -> its spot: their jump back out of it, when the interference ends
        (however long it lasted), is part of the same event, not a jump of their own."""
        self._reported: deque[_Jump] = deque()
        """Jumps reported on their own in the last `cluster_reach_minutes` (a later one may show
        they were the start of a cluster)."""

    # -- per fix -----------------------------------------------------------------------------------
    # The reference of a fix's jump test is the fix before it on the vessel's track, which the
    # tracker keeps (`VesselState.previous_fix`), bar (0, 0) fixes and fixes from before this rule
    # existed (`_reference`). The rule keeps no per-fix state of its own, so it may skip every fix
    # where nothing can happen, which `interest` finds for a whole batch at once.
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """The fixes where this rule could do anything: on land (the land test), every fix of an
        MMSI whose fixes might not all land on its primary track in stream order (a late, far or
        fast fix, a fix at (0, 0) or after one: see `vts.rules._fix_stream`), and every fix that
        could be a jump from the one before it on the stream: a superset of the jump test (an upper
        bound of the distance; the elapsed time the test uses can only grow, by the fix-seconds
        logic and the slack, and the same-ship-seen-late test only holds a jump back). Vessels with
        a land count are watched (a fix at sea resets it)."""
        if not self._unseen.recorded:
            self._unseen.record(ctx.tracker)
        p = self.p
        s = fix_stream(batch, ctx.tracker)
        sog = np.minimum(np.maximum(s.sog, s.pred_sog), p.max_sog_kn)
        allowed = np.maximum(p.min_speed_kn, p.sog_factor * sog + p.sog_offset_kn)
        span = s.dt + min(p.time_slack_s, p.unreliable_time_slack_s)
        dist = s.dist
        keep = (
            (s.dt >= 0.0)
            & (s.dt <= p.max_gap_minutes * 60.0)
            & (dist >= p.min_distance_m)
            & ((dist > allowed * KNOT_MS * span) | (span <= 0.0))
        )
        keep |= s.complex[s.group]
        mask = np.zeros(len(batch), dtype=bool)
        mask[s.rows[keep]] = True
        mask[s.extra_rows] = True
        if p.on_land:
            mask |= _on_land_rows(batch, ctx.zones)
        drop_placeholders(batch, mask)
        return mask

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        """A fix the tracker put on a shadow track (it failed the dead-reckoning test): a jump of
        several miles from the vessel's own track. Reported once when the shadow appears; a second
        ship that keeps transmitting is the duplicate_mmsi rule's business. A fix at (0, 0) is
        reported whenever it comes, as on the track: a receiver that loses its GNSS fix now and
        then keeps its (0, 0) fixes on one shadow, and the first of them may have come before the
        vessel had the messages an alert needs."""
        if not self._unseen.recorded:
            self._unseen.record(ctx.tracker, vessel, report)
        if vessel is None or not vessel.is_shadow or not isinstance(report, PositionReport):
            return
        if is_placeholder_mmsi(vessel.mmsi):
            return
        if report.lat is None or report.lon is None:
            return
        if vessel.position_count > 1 and not (abs(report.lat) < NULL_DEG and abs(report.lon) < NULL_DEG):
            return
        primary = ctx.tracker.get(vessel.mmsi)
        last = None if primary is None else self._reference(vessel.mmsi, primary.last_fix, keep=True)
        self._check_fix(ctx, vessel, report, last, update_last=False)

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if not self._unseen.recorded:
            self._unseen.record(ctx.tracker, vessel, report)
        if vessel.is_shadow or report.lat is None or report.lon is None or is_placeholder_mmsi(vessel.mmsi):
            return
        last = self._reference(vessel.mmsi, vessel.previous_fix, keep=False)
        self._check_fix(ctx, vessel, report, last, update_last=True)

    def _reference(self, mmsi: int, fix: PositionReport | None, keep: bool) -> PositionReport | None:
        """The fix a new fix of the vessel is compared with, given the latest fix on its track
        before it: that fix, unless it is at (0, 0) (then the reference that stood before it) or
        from before this rule existed (then none). `keep=False` once the vessel's track has moved
        past `fix` for good (its next fix is being checked)."""
        if fix is None:
            return None
        if self._unseen.is_unseen(mmsi, fix, keep=keep):
            return None
        assert fix.lat is not None and fix.lon is not None
        if abs(fix.lat) < NULL_DEG and abs(fix.lon) < NULL_DEG:
            return self._null_ref.get(mmsi)
        return fix

    def _check_fix(
        self,
        ctx: RuleContext,
        vessel: VesselState,
        report: PositionReport,
        last: PositionReport | None,
        update_last: bool,
    ) -> None:
        assert report.lat is not None and report.lon is not None
        p = self.p
        lat, lon = report.lat, report.lon
        if abs(lat) < NULL_DEG and abs(lon) < NULL_DEG:
            if update_last:
                self._null_ref[vessel.mmsi] = last  # the reference stays what it was
            if p.null_island:
                self._emit(ctx, vessel.mmsi, vessel.name, lat, lon, {"kind": "null_island"}, report.time)
            return
        if update_last and p.on_land:
            self._check_land(ctx, vessel, report)
        if last is None or report.time < last.time or report.time - last.time > p.max_gap_minutes * 60.0:
            return
        assert last.lat is not None and last.lon is not None
        dist = distance_m(last.lat, last.lon, lat, lon)
        if dist < p.min_distance_m:
            return
        dt = report.time - last.time
        slack = p.time_slack_s
        timing = "event_time"
        arrival = ctx.feeds.stamps_arrival(report.source)
        if last.second is not None and report.second is not None:
            ds = (report.second - last.second) % 60
            if arrival or _circular_diff(dt % 60.0, ds) > p.time_slack_s + 1.0:
                # The fixes' own UTC seconds disagree with the event times, or the feed is known to
                # stamp arrival, not transmission (satellite, store-and-forward, a coarse clock):
                # their seconds agreeing is then chance. Judge by the fixes' seconds, with a wide
                # allowance for the whole minutes they cannot show.
                dt = max(dt, float(ds))
                slack = p.unreliable_time_slack_s
                timing = "fix_seconds"
        elif arrival:  # no seconds to go by: only the wide allowance
            slack = p.unreliable_time_slack_s
            timing = "arrival"
        implied = dist / (dt + slack) / KNOT_MS
        # With times of the fixes, a late fix is bounded by LATE_FIX_MAX_S; on a feed that stamps
        # arrival (a satellite downlink may hold a fix for an hour or more), by max_late_minutes.
        late_s = LATE_FIX_MAX_S if timing == "event_time" else p.max_late_minutes * 60.0
        if _same_ship_seen_late(last, report, dist, late_s):
            return
        sog = min(max(report.sog or 0.0, last.sog or 0.0), p.max_sog_kn)
        allowed = max(p.min_speed_kn, p.sog_factor * sog + p.sog_offset_kn)
        if implied <= allowed:
            return
        details = {
            "kind": "jump",
            "fix_time": iso_time(report.time),  # (the alert may come minutes later: see `_second_stream`)
            "distance_m": round(dist, 1),
            "elapsed_s": round(dt, 3),
            "timing": timing,
            "implied_speed_kn": round(implied, 1),
            "allowed_speed_kn": round(allowed, 1),
            "sog_kn": report.sog,
            "from_lat": round(last.lat, 6),
            "from_lon": round(last.lon, 6),
        }
        jump = _Jump(report.time, vessel.mmsi, vessel.name, lat, lon, details, to_shadow=vessel.is_shadow)
        spot = self._pulled_to.get(vessel.mmsi)
        if spot is not None and distance_m(spot[0], spot[1], last.lat, last.lon) <= p.cluster_radius_m:
            del self._pulled_to[vessel.mmsi]  # back from where the interference pulled it: its end
            return
        cluster = self._cluster_for(jump)
        if cluster is not None:
            if all(m.mmsi != jump.mmsi for m in cluster.members):
                cluster.members.append(jump)
            self._pulled_to[jump.mmsi] = (cluster.lat, cluster.lon)
            cluster.last = jump.time
            return
        self._pending.append(jump)
        self._try_form_cluster(ctx, jump)

    def _check_land(self, ctx: RuleContext, vessel: VesselState, report: PositionReport) -> None:
        """Two fixes in a row on land (one is a glitch), reported once until the vessel is at sea again."""
        assert report.lat is not None and report.lon is not None
        lat, lon = report.lat, report.lon
        if not _inland(ctx.zones, lat, lon, self.p.land_margin_m) or any(
            z.kind in QUAY_ZONE_KINDS or z.id.startswith("moorings") for z in ctx.zones.zones_at(lon, lat)
        ):
            if self._on_land.pop(vessel.mmsi, None) is not None:
                self.unwatch(ctx, vessel.mmsi)
            return
        count = self._on_land.get(vessel.mmsi, 0)
        if count < 0:
            return  # already reported
        if count == 0:
            self.watch(ctx, vessel.mmsi)  # its next fix at sea ends the count: the mask cannot tell
        count += 1
        self._on_land[vessel.mmsi] = count
        if count < 2 or vessel.message_count < ctx.config.alerts.min_messages:
            return
        self._on_land[vessel.mmsi] = -1
        self._emit(
            ctx, vessel.mmsi, vessel.name, lat, lon, {"kind": "on_land", "sog_kn": report.sog}, report.time
        )

    # -- GNSS interference -------------------------------------------------------------------------
    def _cluster_for(self, jump: _Jump) -> _Cluster | None:
        for c in self._clusters:
            if distance_m(c.lat, c.lon, jump.lat, jump.lon) <= self.p.cluster_radius_m:
                return c
        return None

    def _try_form_cluster(self, ctx: RuleContext, jump: _Jump) -> None:
        # every jump still held counts (a jump is held `cluster_window_s`, one to a second track longer:
        # `_second_stream`), and those reported on their own lately: ships at anchor report every 3
        # minutes, so the vessels of an area pulled to one spot jump minutes apart; the first ones
        # have gone out alone by the time the cluster shows, the rest join its one alert
        reach = self.p.cluster_reach_minutes * 60.0
        radius = self.p.cluster_radius_m
        held = [j for j in self._pending if distance_m(j.lat, j.lon, jump.lat, jump.lon) <= radius]
        alone = [
            j
            for j in self._reported
            if jump.time - j.time <= reach and distance_m(j.lat, j.lon, jump.lat, jump.lon) <= radius
        ]
        near = alone + held
        mmsis = sorted({j.mmsi for j in near})
        if len(mmsis) < self.p.cluster_vessels:
            return
        members = {id(j) for j in held}
        self._pending = [j for j in self._pending if id(j) not in members]
        firsts: dict[int, _Jump] = {}
        for j in sorted(near, key=lambda j: (j.time, j.mmsi)):
            firsts.setdefault(j.mmsi, j)
        first = next(iter(firsts.values()))
        self._clusters.append(_Cluster(first.time, jump.time, jump.lat, jump.lon, list(firsts.values())))
        for m in firsts:
            self._pulled_to[m] = (jump.lat, jump.lon)

    def _report_cluster(self, ctx: RuleContext, cluster: _Cluster) -> None:
        mmsis = sorted(m.mmsi for m in cluster.members)
        ctx.alerts.event(
            type=self.id,
            mmsi=self._cluster_lead(ctx, cluster.members),
            severity="warning",
            message=f"Possible GNSS interference: {len(mmsis)} vessels jumped to the same place at once",
            lat=cluster.lat,
            lon=cluster.lon,
            details={
                "kind": "gnss_interference",
                "mmsis": mmsis,
                "vessels": len(mmsis),
                "radius_m": self.p.cluster_radius_m,
                "window_s": self.p.cluster_window_s,
            },
        )

    def _cluster_lead(self, ctx: RuleContext, near: list[_Jump]) -> int:
        """The vessel the interference alert is filed under (the others are in details.mmsis): the
        first to jump that has the messages an alert needs (`alerts.min_messages`; the engine would
        drop the one alert of the whole event otherwise), or the first to jump when none has. (A
        vessel's own jump alert does not hold it back: the engine's cooldown is per kind.)"""
        ordered = sorted(near, key=lambda j: (j.time, j.mmsi))
        need = ctx.config.alerts.min_messages
        for j in ordered:
            vessel = ctx.tracker.get(j.mmsi)
            if vessel is not None and vessel.message_count >= need:
                return j.mmsi
        return ordered[0].mmsi

    def on_tick(self, ctx: RuleContext) -> None:
        for cluster in self._clusters:
            if not cluster.reported and ctx.now - cluster.started >= self.p.cluster_window_s:
                cluster.reported = True
                self._report_cluster(ctx, cluster)
        due = [
            j
            for j in self._pending
            if ctx.now - j.time >= self.p.cluster_window_s and not self._second_stream(ctx, j)
        ]
        if due:
            done = {id(j) for j in due}
            self._pending = [j for j in self._pending if id(j) not in done]
            for j in sorted(due, key=lambda j: (j.time, j.mmsi)):
                self._emit(ctx, j.mmsi, j.name, j.lat, j.lon, j.details, j.time)
        quiet = self.p.cluster_quiet_minutes * 60.0
        self._clusters = [c for c in self._clusters if ctx.now - c.last < quiet]

    def _second_stream(self, ctx: RuleContext, jump: _Jump) -> bool:
        """Whether a jump to a shadow track (a fix miles off) waits for duplicate_mmsi rather than
        being reported after `cluster_window_s`. The first fix of a second ship under the MMSI looks
        like a lone GNSS glitch; they differ by what follows. It waits:

        * until the shadow track's next report is due (two of its nominal reporting intervals, by
          the shadow fix's class, status and speed: 3 minutes for a ship at anchor), for the second
          stream to show itself;
        * then, once both the shadow and the vessel's own track have been heard since the jump (two
          streams interleave), up to `duplicate_wait_minutes` (duplicate_mmsi's window, in which it
          confirms a second ship with three conflicts).

        A jump still waiting when duplicate_mmsi is raised is not reported (`_emit`): the operator
        gets one alert for the second ship. A lone far fix (the shadow not heard again) is reported
        once the shadow's next report was due, and a ship that jumped and stays there (the tracker
        makes the shadow its track) at once."""
        if not jump.to_shadow:
            return False
        age = ctx.now - jump.time
        if age >= self.p.duplicate_wait_minutes * 60.0 or ctx.alerts.is_active("duplicate_mmsi", jump.mmsi):
            return False  # (_emit drops it while duplicate_mmsi is up)
        shadow = ctx.tracker.shadow(jump.mmsi)
        primary = ctx.tracker.get(jump.mmsi)
        if shadow is None or primary is None or shadow.position_time is None or primary.position_time is None:
            return False
        if shadow.position_count >= 2 and shadow.position_time > jump.time:
            return primary.position_time > jump.time
        return age < 2.0 * shadow.expected_interval() + self.p.time_slack_s

    # -- output -------------------------------------------------------------------------------------
    def _emit(
        self, ctx: RuleContext, mmsi: int, name: str | None, lat: float, lon: float, details: dict, t: float
    ) -> None:
        if details["kind"] == "jump" and ctx.alerts.is_active("duplicate_mmsi", mmsi):
            return  # two ships under one MMSI: their alternation is the duplicate_mmsi alert
        if details["kind"] == "jump":  # (a jump reported alone may still turn out part of a cluster)
            reported = self._reported
            reported.append(_Jump(t, mmsi, name, lat, lon, details))
            reach = self.p.cluster_reach_minutes * 60.0
            while reported and t - reported[0].time > reach:
                reported.popleft()
        history = self._history.setdefault(mmsi, deque())
        history.append(t)
        while history and t - history[0] > 3600.0:
            history.popleft()
        severity: Severity = "warning" if len(history) >= self.p.repeat_count else "caution"
        kind = details["kind"]
        what = {
            "jump": f"jumped {details.get('distance_m', 0):.0f} m"
            f" (implied {details.get('implied_speed_kn', 0):.0f} kn)",
            "on_land": "reports a position on land",
            "null_island": "reports position (0, 0)",
        }[kind]
        ctx.alerts.event(
            type=self.id,
            mmsi=mmsi,
            severity=severity,
            message=f"{name or mmsi} {what}",
            lat=lat,
            lon=lon,
            details={**details, "jumps_last_hour": len(history)},
        )

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._history.pop(mmsi, None)
        self._pulled_to.pop(mmsi, None)
        self._null_ref.pop(mmsi, None)
        self._unseen.forget(mmsi)
        if self._on_land.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)


_land_cover: list[object] = [None, None]


def _on_land_rows(batch: ReportBatch, zones: ZoneEngine) -> np.ndarray:
    """Rows on land by `ReportBatch.on_land` (the union of the land polygons), plus rows in any land
    polygon the union does not cover: checked once per zone engine, so that the mask is a proven
    superset of `ZoneEngine.is_on_land` (any land polygon) whatever the union's noding did."""
    rows = batch.on_land(zones)
    if _land_cover[0] is not zones:
        union = land_union(zones)
        parts = zones.land_geometries()
        loose = [g for g in parts if union is None or not union.covers(g)]
        _land_cover[:] = [zones, loose]
    loose = cast("list[Any]", _land_cover[1])
    if loose:
        rows = rows.copy()
        sel = np.flatnonzero(batch.is_position)
        for g in loose:  # type: ignore[attr-defined]
            rows[sel] |= shapely.intersects_xy(g, batch.lon[sel], batch.lat[sel])
    return rows


def _inland(zones: ZoneEngine, lat: float, lon: float, margin_m: float) -> bool:
    """On land at least `margin_m` inside the coastline: so are the points that far off in eight
    directions. (Only a fix on land can be: `_on_land_rows` stays a superset.)"""
    if not zones.is_on_land(lon, lat):
        return False
    if margin_m <= 0.0:
        return True
    for b in MARGIN_BEARINGS:
        la, lo = destination(lat, lon, float(b), margin_m)
        if not zones.is_on_land(lo, la):
            return False
    return True


def _same_ship_seen_late(
    last: PositionReport, report: PositionReport, dist: float, max_s: float = LATE_FIX_MAX_S
) -> bool:
    """True when the "jump" is the ship's own track seen at another time: the move is along its
    course (either way: a late fix, or one arriving out of order), as long as its speed needs, and
    that time agrees with the fixes' UTC seconds modulo a whole number of minutes. Satellite AIS
    stamps the downlink, so fixes minutes apart arrive seconds apart; a displaced position
    (spoofing, a GNSS fault) practically never lines up on all three counts."""
    if last.second is None or report.second is None or report.lat is None or report.lon is None:
        return False
    if last.lat is None or last.lon is None:
        return False
    sogs = [s for s in (last.sog, report.sog) if s is not None]
    cog = report.cog if report.cog is not None else last.cog
    if not sogs or cog is None or min(sogs) < 1.0:
        return False
    heading = bearing_deg(last.lat, last.lon, report.lat, report.lon)
    if angle_diff_deg(heading, cog) <= ALONG_TRACK_DEG:
        ds = (report.second - last.second) % 60
    elif angle_diff_deg(heading, (cog + 180.0) % 360.0) <= ALONG_TRACK_DEG:
        ds = (last.second - report.second) % 60
    else:
        return False
    needed = dist / (sum(sogs) / len(sogs) * KNOT_MS)
    if needed > max_s:
        return False
    minutes = round((needed - ds) / 60.0)
    return minutes >= 0 and abs(needed - (ds + 60 * minutes)) <= max(8.0, 0.1 * needed)


def _circular_diff(a: float, b: float) -> float:
    """Difference of two second-of-minute values, modulo 60."""
    d = abs(a - b) % 60.0
    return min(d, 60.0 - d)


RULE = PositionJumpRule
