"""course_anomaly: courses a normal transit does not sail. One alert type, four kinds (details.kind):

* ``wrong_way`` (state, `warning`, zone = the lane): inside a traffic lane, course over ground more
  than `wrong_way_angle_deg` (90) off the lane's direction on every fix for `wrong_way_minutes` (2),
  at `wrong_way_min_sog_kn` (2 kn) or more (below that the course over ground is GPS noise). Where
  lanes overlap, a course that suits any one of them is not wrong; nor is a course that suits a lane
  within `wrong_way_edge_m` (50 m): a ship running along the line between two lanes in the
  direction of the one beside it (where a TSS's lanes meet a channel, or with GNSS noise and its
  antenna off the centreline) keeps to its own lane's edge. Cleared when the vessel leaves the lane
  or steers within the angle again (for two fixes).
* ``erratic`` (event, `warning`): `erratic_turns` (3) turns of `erratic_turn_deg` (60) or more
  within `erratic_minutes` (10) while under way (`erratic_min_sog_kn`, 3 kn). A turn is counted when
  the course differs that much from any course held since the previous turn in the last 3 minutes,
  on two fixes in a row (one bad course over ground is not a turn); the new leg is then the
  reference. One continuous turn is one turn, however far it goes: a turn in the same direction as
  the previous one, within 3 minutes of it and before the course has settled on a new leg (held
  within `SETTLE_DEG` for `SETTLE_S`), carries that turn on and is not counted again. So a U-turn,
  or turning round in the harbour, is one turn; zig-zags (turns alternating in direction) and turns
  on separate legs count each. Circling is loitering's (its circling flag), not this kind's.
  Tugs, pilots, SAR, law enforcement, fishing and sailing vessels turn for a living and are left out
  (`exempt_categories`, every kind); so, of this kind only, are the ship types whose work is turning
  where they are: dredging (33), diving (34), pleasure craft (37), port tenders (53)
  (`erratic_exempt_ship_types`).
* ``stop_after_departure`` (event, `warning`, zone = the berth or anchorage left): a large vessel
  that left a berth, terminal or anchorage where it had lain (status at anchor or moored, a fix
  under `departure_stopped_kn` (1 kn) inside it, or a stay longer than the tracker's 30-minute
  trail: a ship that only crossed a large anchorage under way did not depart from it) and got under
  way (`departure_sog_kn`, 4 kn) within
  `departure_under_way_minutes` (30) of leaving, or was already under way in the
  `departure_exit_lookback_minutes` (10) before it crossed out (a ship that weighs anchor and sails
  across a large anchorage slows as it leaves it), then, before it is `departure_watch_nm` (10 NM) from
  where it left, before it leaves the VTS area and within `departure_watch_minutes` (60) of getting
  under way, slows under `stop_sog_kn` (2 kn) for `stop_minutes` (3) outside port, berth and
  anchorage zones, or turns back (comes `turn_back_m` (1 km) closer to where it left than it had
  been): the pick-up pattern. A vessel that drifts out of an anchorage and lies outside it is not
  departing; one still inside 10 NM an hour after getting under way is not on its way out.
* ``off_route`` (state, `caution`): a large vessel under way that, having first been seen on the
  usual routes, for `off_route_minutes` (10, the anchors' "low-likelihood runs of 10 minutes") goes
  where the learned traffic model (`vts.normalcy`, written by ``vts learn``, loaded from
  `model_path`) says ships do not go: mean anomaly over the window at or above
  `off_route_threshold` (`vts.normalcy.OffRouteWatch`); not raised for a vessel already reported
  erratic or stopping after departure in the last `off_route_after_event_minutes` (30), nor for a
  ship going to anchor: inside an anchorage or waiting area (`off_route_anchor_zone_kinds`), or
  with its course leading into one within the distance it covers in `off_route_minutes` at its
  speed, when the window reaches the threshold (the ways into a wide anchorage, to wherever a berth
  is free, are many, and the model learned from a few weeks of traffic does not hold them all).
  Every fix still goes into the window: leaving out those that point at an anchorage would keep
  the others, of a ship zig-zagging at its edge, and raise it sooner. An alert up ends once the
  ship is inside such a zone. Raised only for a ship leaving the usual approach (the definition's
  ship "bound for Callao" that "leaves the usual approach (the lanes and the channel)"): within
  `off_route_approach_m` (3 km) of a zone of `off_route_approach_kinds` (lane, channel, entrance),
  heading for the port (its course within 90 degrees of the bearing to the harbour: a ship leaving
  by the outbound lane and turning north for Chancay is not bound for Callao), in the last
  `off_route_approach_minutes` (30); with no such zone configured, any ship. Ships passing
  by or arriving elsewhere, on courses a model learned from a few weeks (or from simulated traffic)
  does not hold, are not raised. Only
  judged inside the VTS area (zones of kind ``area_of_interest``, or anywhere when the
  configuration has none), at `off_route_min_sog_kn` (3 kn) or more. A fix not judged (slower, no
  speed, outside the area) leaves the vessel's window and its "seen on the routes" alone: slowing
  down on the way does not wipe them. The alert holds through such fixes, except outside the VTS
  area (cleared there; the memory stays); the memory ends after `OFF_ROUTE_FORGET_S` (30 min)
  without a judged fix (the vessel left the area for good, or lay still), the alert with it. A
  Class A vessel whose static data has not come yet (one lost to reception delays it 6 minutes) is
  judged as if large, so that it has been seen on the routes by then, and raised once its static
  data shows it is.

Nothing is judged on a fix the tracker did not apply (older than the vessel's latest: a fix
delivered late is history, not the vessel's present course or position), nor while a duplicate_mmsi
alert is active for the vessel, nor on a fix out of reach of the previous one: two ships' fixes
interleaved on one track, or a position jump, make turns and turn-backs that no ship sailed. A
vessel that becomes exempt (its type changes, or an allow-list reload names it) has its wrong-way
run and its off-route alert ended at its next fix.

Batched (`CourseAnomalyRule.interest`), a fix is skipped only when judging it would change nothing,
or nothing but the erratic kind's course history, in a way the rule can apply later from the
vessel's trail. Every fix under way enters that history, so a fix that cannot be a turn still cannot
simply be skipped; instead the fixes skipped since the rule last saw a vessel are taken from its
trail when it next sees it (`_catch_up`), which is exact when each of them would have gone into the
history: on the vessel's own track (no second ship, no late or jumping fix), no duplicate_mmsi alert,
not exempt. The mask holds every fix for which that, or "not a turn", cannot be shown from the batch
columns and what the rule kept of earlier batches (`_Table`); the exemption, which changes only with
static data, is followed through `on_static`. See `interest` for the details.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from vts.batch import NO_FIX, STATIC, zone_union
from vts.categories import is_anchored_or_moored
from vts.geo import (
    EARTH_RADIUS_M,
    KNOTS_TO_MS,
    METRES_PER_NM,
    angle_diff_deg,
    bearing_deg,
    destination,
    distance_m,
)
from vts.normalcy import NormalcyModel, OffRouteWatch
from vts.reports import PositionReport, StaticReport
from vts.rules._common import LYING_STILL_KINDS, allowlisted_mmsis
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import CourseAnomalyParams
from vts.tracker import DR_BUFFER_S, DR_MAX_SPEED_KN
from vts.vessel_class import awaits_type, is_large_vessel

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from vts.batch import ReportBatch
    from vts.config import Allowlists
    from vts.tracker import Fix, Tracker, VesselState
    from vts.zones import Zone, ZoneEngine, ZoneEvent

log = logging.getLogger(__name__)

DEPARTURE_ZONE_KINDS = frozenset({"berth", "terminal", "anchorage"})
QUIET_ZONE_KINDS = frozenset(LYING_STILL_KINDS)
VTS_AREA_KINDS = frozenset({"area_of_interest"})
TURN_WINDOW_S = 180.0
"""A turn is a course change of erratic_turn_deg against any course held in the last 3 minutes
(ships turn at 10-30 degrees a minute, so a 60-degree turn completes within that)."""
SETTLE_DEG = 15.0
SETTLE_S = 60.0
"""A turn has ended when the course settles on a new leg: the fixes under way of the last minute
(or more) all within 15 degrees of each other, i.e. turning at less than 15 degrees a minute, which
no turn counted (60 degrees within the 3 minutes, 20 degrees a minute or more) is."""
KNOT_MS = 1852.0 / 3600.0
EXEMPT_ROLES = ("coastguard", "pilot", "tug")
OFF_ROUTE_FORGET_S = 1800.0
"""An off-route watch ends after this long without a judged fix (under way, inside the VTS area)."""

# The batch masks (see `CourseAnomalyRule.interest`)
JUMP_MIN_M = 300.0
JUMP_MIN_KN = 40.0
"""`_jumped`'s limits: a fix nearer than this, or reachable at this speed, is never a jump."""
JUMP_SOG_FACTOR = 2.0
JUMP_SOG_MARGIN_KN = 10.0
"""... nor one reachable at twice the larger reported speed plus 10 kn (the position_jump limits)."""
JUMP_TIME_SLACK_S = 2.0
"""... allowing this much more time than the fixes' times say (their rounding to the second)."""
SURELY_ON_TRACK_M = 0.98 * DR_BUFFER_S * DR_MAX_SPEED_KN * KNOT_MS
"""The tracker puts a fix on the vessel's own track when it lies within (10 min + elapsed) x 25 kn of
the dead-reckoned position; from a track going 25 kn or slower (or of unknown speed), any fix this
near the last one does (2 % spare for the projections and float rounding)."""
TROUBLE_S = 600.0
"""After a fix that may not be on the vessel's track (late, jumped, another ship's), every fix of the
vessel is judged one by one this long (at least duplicate_mmsi's window): whether the duplicate_mmsi
alert is raised in that time depends on what the tracker and that rule made of it."""
DUP_TICK_SLACK_S = 300.0
"""duplicate_mmsi clears on its ticks (every minute of event time): a few minutes' spare."""
SLACK = 1e-6
"""Thresholds of the masks are loosened this much (relative, or in degrees): rounding can only add rows."""


_ZoneGeometry = tuple[
    "ZoneEngine", list[tuple[float, "BaseGeometry"]], tuple[float, float, float, float], "BaseGeometry | None"
]
"""The zone engine, its directed lanes (direction, grown geometry), their bounds, the VTS area."""


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
    """Times of the turns counted, within erratic_minutes."""
    turning: int = 0
    """Direction of the last turn (1 starboard, -1 port) while the course has not settled since (0)."""
    turn_time: float = -math.inf
    """Time of the last turn (counted or carried on)."""
    lo: float = math.inf
    hi: float = -math.inf
    """Every course in `history` lies within [lo, hi] (raw degrees; NaN: unknown). The bounds may be
    wider than the history (fixes leaving it do not narrow them): `_check_erratic`'s quick test."""


@dataclass(slots=True)
class _Departure:
    zone: str
    time: float
    lat: float
    lon: float
    armed: bool = False
    armed_at: float = 0.0
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
        self._entered: dict[int, dict[str, float]] = {}
        """When each vessel entered each berth, terminal or anchorage it is in (its departure needs
        it to have lain there: `_lay_in`)."""
        self._off: dict[int, OffRouteWatch] = {}
        self._on_approach: dict[int, float] = {}
        """Large vessels -> the time of their latest judged fix on the usual approach."""
        self._last_event: dict[int, float] = {}
        """Time of each vessel's last erratic / stop_after_departure event."""
        self._model: NormalcyModel | None = None
        self._model_tried = False
        # batching (see `interest`)
        self._table: _Table | None = None
        self._seen: dict[int, tuple[deque[Fix], Fix | None]] = {}
        """Per vessel, its trail and the last fix of it the erratic history has taken (None: none)."""
        self._status: dict[int, bool] = {}
        """Per vessel, whether it was exempt when the rule last looked (exemption follows static data)."""
        self._allowlists: Allowlists | None = None
        self._gone: list[int] = []
        """Vessels forgotten since the last batch (their `_Table` rows start afresh)."""
        self._newcomers: list[int] = []
        """Vessels new in the last batch whose trail the rule has not learnt yet."""
        self._geometry: _ZoneGeometry | None = None
        self._area_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
        """The bounds of the VTS area of `_geometry` (`_within`)."""
        self._areas: tuple[ZoneEngine, list[Zone]] | None = None
        self._anchor_zones: tuple[ZoneEngine, list[Zone]] | None = None
        self._harbour: tuple[ZoneEngine, float, float] | None = None
        """(zone engine, lat, lon) of the harbour's centre, for `_inbound`."""
        self._approach_box: tuple[BaseGeometry, float, float, float, float] | None = None
        """The approach geometry (`_approach_of`) and its bounds."""
        # (the parameters' lists as sets, for the exemption tests of every fix judged)
        self._exempt_categories = frozenset(self.p.exempt_categories)
        self._erratic_exempt_types = frozenset(self.p.erratic_exempt_ship_types)
        self._exempt_listed: tuple[Allowlists, frozenset[int]] | None = None
        """The allow-lists last seen and the MMSIs on their EXEMPT_ROLES lists."""

    # -- hooks -------------------------------------------------------------------------------------
    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.is_shadow or report.lat is None or report.lon is None:
            return
        mmsi = vessel.mmsi
        exempt = self._exempt(vessel, ctx.allowlists)
        applied = vessel.position_time == report.time  # else late: the tracker kept its newer fix
        erratic_exempt = exempt or vessel.ship_type in self._erratic_exempt_types  # = _erratic_exempt
        if self.p.erratic:
            self._status[mmsi] = erratic_exempt
            self._catch_up(vessel, erratic_exempt, applied=applied)
        if exempt:  # exempt now (static data, or an allow-list reload): no wrong way, no off route
            wrong = self._wrong.get(mmsi)
            if wrong is not None:
                self._end_wrong_way(vessel, wrong, ctx)
            if self.p.off_route:
                self._off_route_unjudged(vessel, report, ctx, subject=False)
            self._settle(ctx, mmsi)
        if not applied:
            return  # a late fix: what the vessel did before its latest fix, not what it does now
        if ctx.alerts.is_active("duplicate_mmsi", mmsi) or _jumped(vessel, report):
            return  # two ships' fixes interleaved, or a position jump: no manoeuvre to judge
        if self.p.wrong_way and not exempt and not ctx.zones.held_back(mmsi, report.time):
            self._check_wrong_way(vessel, report, ctx)  # (a held-back fix: its lanes are the last fix's)
        if self.p.erratic and not erratic_exempt:
            self._check_erratic(vessel, report, ctx)
        if self.p.stop_after_departure and mmsi in self._departures:
            self._check_departure(vessel, report, ctx)
        if self.p.off_route and not exempt:
            self._check_off_route(vessel, report, ctx)
        self._settle(ctx, mmsi)

    def on_static(self, vessel: VesselState, report: StaticReport, ctx: RuleContext) -> None:
        """Follows the exemption (it depends on the ship type): when static data changes it, the fixes
        skipped before are first caught up with the exemption they had."""
        if not self.p.erratic or vessel.is_shadow:
            return
        now = self._erratic_exempt(vessel, ctx.allowlists)
        before = self._status.get(vessel.mmsi, now)
        if before != now:
            self._catch_up(vessel, before, applied=False)
        self._status[vessel.mmsi] = now

    # -- batches -------------------------------------------------------------------------------------
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """The rows that must be judged one by one (see the module docstring):

        * every fix not surely on the vessel's own track and in order ("odd"): not newer than the
          track's last fix, out of the tracker's dead-reckoning reach or `_jumped`'s reach of it,
          after a position report without a position (the track's speed is then unknown), or with an
          invalid position or time; then every later fix of the vessel in the batch (the reference
          is lost) and every fix of it for `_trouble_span` (duplicate_mmsi may raise); and every fix
          of a vessel whose duplicate_mmsi alert may be active (`_dup_span` after an odd fix). A fix
          is judged against the previous fix of the vessel in the batch or, for the first, the track
          as the tracker has it (asked for new vessels, and after odd fixes, only);
        * erratic: every fix under way that may be a turn (`_possible_turns`); the first fix of a new
          vessel when an odd fix follows it (its trail is learnt then, as odd fixes may swap it);
          the fixes that keep the skipped ones in the trail until the catch-up (`_keep_trail`);
          static reports (`on_static` follows the exemption);
        * wrong_way: a fix fast enough with a course more than the angle off a directed lane whose
          zone, grown by the exit margin, holds it (zone memberships hold only there, except for
          the fixes the zone engine ignores: not newer than the vessel's latest, or invalid: odd;
          and those it holds back as outliers, which the check skips);
        * off_route (with a model): a fix fast enough inside the VTS area.

        Departures, wrong-way runs, off-route alerts and pending turns are watched (`_settle`)."""
        p = self.p
        mask = np.zeros(len(batch), dtype=bool)
        if self._table is None:
            self._start(ctx)
        table = self._table
        assert table is not None
        if ctx.allowlists is not self._allowlists:
            self._allowlists_changed(ctx)
        if self._gone:
            self._renew(ctx)
        tracker = ctx.tracker
        if self._newcomers:
            for m in self._newcomers:
                v = tracker.get(m)
                if v is not None and m not in self._seen:
                    self._seen[m] = (v.trail, None)  # all its fixes so far were skipped
            self._newcomers = []
        erratic = p.erratic
        pos = batch.is_position
        if erratic or p.wrong_way:
            with np.errstate(invalid="ignore"):
                self._track_rows(batch, ctx, table, pos, mask)
        return self._zone_rows(batch, ctx, pos, mask)

    def _track_rows(
        self, batch: ReportBatch, ctx: RuleContext, table: _Table, pos: np.ndarray, mask: np.ndarray
    ) -> None:
        """Marks in `mask` the fixes judged for what they say about the vessel's track, and the
        erratic kind's (see `interest`); keeps the table up to date."""
        erratic = self.p.erratic
        tracker = ctx.tracker
        blind = self._scan_others(batch, ctx, mask)
        rows = pos.nonzero()[0]
        if len(rows) == 0:
            return
        if blind:
            rows = np.concatenate((rows, np.array(blind, dtype=rows.dtype)))
            rows.sort()
        # -- each vessel's rows in order (grouped by MMSI)
        mmsi = batch.mmsi[rows]
        order = mmsi.argsort(kind="stable")
        rows, mmsi = rows[order], mmsi[order]
        k = len(rows)
        first = np.empty(k, dtype=bool)
        first[0] = True
        np.not_equal(mmsi[1:], mmsi[:-1], out=first[1:])
        starts = first.nonzero()[0]
        n_groups = len(starts)
        ends = np.empty(n_groups, dtype=np.intp)
        ends[:-1] = starts[1:]
        ends[-1] = k
        ends -= 1
        group = np.add.accumulate(first, dtype=np.intp)
        group -= 1
        uniq = mmsi[starts]
        t, lat, lon, sog = batch.time[rows], batch.lat[rows], batch.lon[rows], batch.sog[rows]
        # -- what is known of each vessel: the table, or the tracker
        idx, found, rec = table.lookup(uniq)
        fresh = rec[_KNOWN] < 0  # new to the masks, or forgotten since: a new track
        ask = (rec[_KNOWN] < 1).nonzero()[0]
        if len(ask):
            self._ask_tracker(tracker, rec, ask, uniq[ask].tolist(), lat[starts[ask]], lon[starts[ask]])
        # -- each fix against the previous one (NaN after a positionless report: odd)
        prev_t = np.empty(k)
        prev_t[1:] = t[:-1]
        prev_t[starts] = rec[_T]
        dy = np.empty(k)
        dy[1:] = lat[:-1]
        dy[starts] = rec[_LAT]
        dy -= lat
        dx = np.empty(k)
        dx[1:] = lon[:-1]
        dx[starts] = rec[_LON]
        dx -= lon
        d2 = dy * dy
        dx *= dx
        d2 += dx  # squared degrees: the cosine of the latitude left out makes it a bound
        dt = t - prev_t
        jump_m, jump_kn = self._jump_limits(ctx)
        limit = np.abs(dt)
        limit += JUMP_TIME_SLACK_S
        limit *= _SURE * jump_kn * KNOT_MS / _M_PER_DEG
        limit *= limit
        np.maximum(limit, (_SURE * jump_m / _M_PER_DEG) ** 2, out=limit)
        np.minimum(limit, (_SURE * SURELY_ON_TRACK_M / _M_PER_DEG) ** 2, out=limit)
        sure = d2 <= limit
        sure &= (dt > 0.0) | ((dt == 0.0) & (d2 == 0.0))  # an exact repeat changes nothing
        prev_sog = np.empty(k)
        prev_sog[1:] = sog[:-1]
        prev_sog[starts] = rec[_SOG]
        fast_track = (prev_sog > DR_MAX_SPEED_KN).nonzero()[0]
        if len(fast_track):  # the tracker dead-reckons a fast track: allow for its run
            run = (prev_sog[fast_track] - DR_MAX_SPEED_KN) * KNOT_MS * dt[fast_track]
            near = np.sqrt(d2[fast_track]) * _M_PER_DEG + np.abs(run) <= _SURE * SURELY_ON_TRACK_M
            sure[fast_track] &= near
        if not (t.max() < np.inf and -90.0 <= lat.min() and lat.max() <= 90.0):
            sure &= (t < np.inf) & (np.abs(lat) <= 90.0)
        if not (-180.0 <= lon.min() and lon.max() <= 180.0):
            sure &= np.abs(lon) <= 180.0
        odd = ~sure
        any_odd = np.zeros(n_groups, dtype=bool)
        if odd.any():
            odd = _carry(odd, group, n_groups)
            any_odd[group[odd]] = True
        troubled = t <= rec[_TROUBLE][group]
        troubled |= odd
        dup_check = (rec[_DUPW] >= t[starts]).nonzero()[0]
        if len(dup_check):
            is_active = ctx.alerts.is_active
            for g, m, until in zip(
                dup_check.tolist(), uniq[dup_check].tolist(), rec[_DUPW, dup_check].tolist(), strict=True
            ):
                if is_active("duplicate_mmsi", m):
                    troubled[starts[g] : ends[g] + 1] = True
                elif until == math.inf:
                    rec[_DUPW, g] = -np.inf  # restored at start, cleared since
        chosen = troubled
        if erratic:
            cog = batch.cog[rows]
            under_way = sog >= self.p.erratic_min_sog_kn  # as `_catch_up` and `_check_erratic` take fixes
            under_way &= cog == cog
            chosen = chosen | self._possible_turns(rec, group, starts, ends, odd, t, under_way, cog)
            early = fresh & any_odd
            chosen[starts[early]] = True  # (a positionless first row makes its fixes odd anyway)
            self._newcomers = uniq[fresh & ~early].tolist()
            is_fix = pos[rows] if blind else None
            self._keep_trail(ctx, rec, uniq, starts, ends, t, chosen, odd, under_way, is_fix)
        if blind:
            chosen &= pos[rows]
        mask[rows[chosen]] = True
        # -- what the next batch must know
        rec[_T], rec[_LAT], rec[_LON], rec[_SOG] = t[ends], lat[ends], lon[ends], sog[ends]
        rec[_KNOWN] = 1.0
        if any_odd.any():
            rec[_KNOWN, any_odd] = 0.0
            newest = np.fmax.reduceat(t, starts)[any_odd]
            rec[_TROUBLE, any_odd] = np.fmax(rec[_TROUBLE, any_odd], newest + self._trouble_span(ctx))
            rec[_DUPW, any_odd] = np.fmax(rec[_DUPW, any_odd], newest + self._dup_span(ctx))
        rec[_COUNT] += ends
        rec[_COUNT] -= starts - 1
        table.store(uniq, idx, found, rec)

    def _scan_others(self, batch: ReportBatch, ctx: RuleContext, mask: np.ndarray) -> list[int]:
        """Rows that are not fixes: static reports reach `on_static` (the exemption), and their
        vessel's exemption before them is noted; returns the positionless position reports that set
        a fast track speed (only those matter, see SURELY_ON_TRACK_M: the vessel's next fix is odd).

        Only the rows a hook of this rule can see go into the mask: static reports (`on_static`),
        and reports of a subclass of the static or position report (the engine's `isinstance`
        tests may hand those to `on_static` or `on_position`); the rule has no `on_report`, and a
        position report without a position reaches no hook. (The batch's row kinds, shared with other
        rules, leave out the reports of neither class, base station reports the most, unread.)"""
        kind = batch.rows(ctx.now).kind
        other = ((kind == NO_FIX) | (kind == STATIC)).nonzero()[0]  # (a subclass: its base's kind)
        if len(other) == 0:
            return []
        erratic = self.p.erratic
        reports = batch.reports
        blind: list[int] = []
        statics: list[int] = []
        hooked: list[int] = []
        limit = DR_MAX_SPEED_KN
        for i in other.tolist():
            r = reports[i]
            cls = r.__class__
            if cls is PositionReport:
                if (r.sog or 0.0) > limit:
                    blind.append(i)
            elif cls is StaticReport:
                statics.append(i)
            elif isinstance(r, (StaticReport, PositionReport)):
                hooked.append(i)
        if erratic:
            if statics or hooked:
                mask[statics + hooked] = True
            status, allowlists, tracker = self._status, ctx.allowlists, ctx.tracker
            for i in statics:
                m = reports[i].mmsi
                if m not in status:
                    v = tracker.get(m)
                    if v is not None:  # the exemption before this static report
                        status[m] = self._erratic_exempt(v, allowlists)
        return blind

    @staticmethod
    def _ask_tracker(
        tracker: Tracker, rec: np.ndarray, ask: np.ndarray, mmsi: list[int], lat: np.ndarray, lon: np.ndarray
    ) -> None:
        """The table's track columns of these vessels (`ask`: their columns, `mmsi`: their MMSIs),
        from the tracker (`lat`, `lon`: each one's first fix in the batch, the reference of a vessel
        with no fix yet, whose first fix goes on its track)."""
        t_out: list[float] = []
        lat_out: list[float] = []
        lon_out: list[float] = []
        sog_out: list[float] = []
        nan = math.nan
        for m, la, lo in zip(mmsi, lat.tolist(), lon.tolist(), strict=True):
            v = tracker.get(m)
            if v is None or v.lat is None or v.lon is None or v.position_time is None:
                t_out.append(-math.inf)
                lat_out.append(la)
                lon_out.append(lo)
                sog_out.append(nan)
            else:
                t_out.append(v.position_time)
                lat_out.append(v.lat)
                lon_out.append(v.lon)
                sog_out.append(nan if v.sog is None else v.sog)
        rec[_T, ask], rec[_LAT, ask], rec[_LON, ask], rec[_SOG, ask] = t_out, lat_out, lon_out, sog_out

    def _possible_turns(
        self,
        rec: np.ndarray,
        group: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        odd: np.ndarray,
        t: np.ndarray,
        under_way: np.ndarray,
        cog: np.ndarray,
    ) -> np.ndarray:
        """The fixes under way (`under_way`: fast enough, with a course) that may be turns (see
        `interest`); brings the table's course buckets up to date.

        Per vessel the table keeps the span [lo, hi] of its courses under way, in degrees from a
        reference course (not wrapped: |r1 - r2| is never less than the angle between the courses),
        in two buckets labelled with a slot of `TURN_WINDOW_S` (the older merged into the newer when
        a later slot starts, and a batch labelled with the slot of its newest fix: wider, longer-lived
        spans, a superset). A fix under way whose course is less than the turn angle from both ends
        of the span made of the buckets alive at the vessel's first fix of the batch and of all its
        fixes under way in the batch is less than the turn angle from every course in the erratic
        history, which only holds courses of the last three minutes' fixes: no turn, whatever the
        history holds. Odd fixes are judged anyway, and every fix under way up to three minutes past
        the vessel's newest fix after one that may be a turn (`_HOT`; a margin kept from when late
        fixes entered the history, which they no longer do: a superset either way)."""
        p = self.p
        n_groups = len(starts)
        if not under_way.any():
            return under_way
        # (only the courses under way matter below; fmin/fmax skip the NaN of fixes with none, and
        # the remainder, slow, is taken only when some course is out of range)
        if not (np.fmin.reduce(cog) >= 0.0 and np.fmax.reduce(cog) < 360.0):
            cog = np.where(under_way, cog % 360.0, 0.0)  # as angle_diff_deg sees it
        ref = rec[_REF]
        unset = np.isnan(ref)
        if unset.any():  # a vessel's first course under way is its reference
            first_uw = _first_in_group(under_way, group, n_groups)
            unset &= first_uw >= 0
            ref[unset] = cog[first_uw[unset]]
        r = cog - ref[group]
        r[~under_way] = np.nan
        if not np.fmax.reduce(np.abs(r)) < 180.0:  # (fmax skips the NaN of fixes not under way)
            r[r >= 180.0] -= 360.0
            r[r < -180.0] += 360.0
        # this batch's span per vessel (fmin/fmax skip the NaN of fixes not under way)
        if int((ends - starts).max()) <= 1:
            b_lo = np.fmin(r[starts], r[ends])
            b_hi = np.fmax(r[starts], r[ends])
        else:
            b_lo = np.fmin.reduceat(r, starts)
            b_hi = np.fmax.reduceat(r, starts)
        # with the buckets alive at each vessel's first fix of the batch
        q_min = np.floor((t[starts] - TURN_WINDOW_S) * (1.0 / TURN_WINDOW_S))
        dead0, dead1 = rec[_Q0] < q_min, rec[_Q1] < q_min
        lo = np.fmin(b_lo, np.fmin(np.where(dead0, np.nan, rec[_LO0]), np.where(dead1, np.nan, rec[_LO1])))
        hi = np.fmax(b_hi, np.fmax(np.where(dead0, np.nan, rec[_HI0]), np.where(dead1, np.nan, rec[_HI1])))
        turn = odd & under_way
        wide = hi - lo >= p.erratic_turn_deg - SLACK  # some fix of the vessel may be that far off a course
        hot = rec[_HOT]
        if wide.any() or (hot >= t[starts]).any():
            far = r - lo[group]
            np.fmax(far, hi[group] - r, out=far)
            turn |= far >= p.erratic_turn_deg - SLACK  # NaN (not under way) compares False
            turn |= (t <= hot[group]) & under_way
        # the table: this batch's span in a bucket of its newest fix's slot (at the latest), and every
        # span in degrees from the middle of this batch's span
        has = b_lo <= b_hi
        move = np.where(has, (b_lo + b_hi) * -0.5, 0.0)
        q = math.floor(float(np.fmax.reduce(t)) / TURN_WINDOW_S)
        roll = has & (rec[_Q1] < q)  # a later slot: the two old buckets merge under the newer label
        if roll.any():  # (in place: the rows of `rec` are views)
            np.fmin(rec[_LO0], rec[_LO1], out=rec[_LO0], where=roll)
            np.fmax(rec[_HI0], rec[_HI1], out=rec[_HI0], where=roll)
            np.fmax(rec[_Q0], rec[_Q1], out=rec[_Q0], where=roll)
            np.copyto(rec[_LO1], np.inf, where=roll)
            np.copyto(rec[_HI1], -np.inf, where=roll)
            np.copyto(rec[_Q1], float(q), where=roll)
        rec[_LO1] = np.fmin(rec[_LO1], b_lo)
        rec[_HI1] = np.fmax(rec[_HI1], b_hi)
        rec[_LO0 : _HI1 + 1] += move
        ref -= move
        ref %= 360.0
        rec[_REF] = ref
        late = turn & odd
        if late.any():
            marked = np.zeros(n_groups, dtype=bool)
            marked[group[late]] = True
            newest = np.fmax(np.fmax.reduceat(t, starts)[marked], rec[_T, marked])
            rec[_HOT, marked] = np.fmax(rec[_HOT, marked], newest + TURN_WINDOW_S + 1.0)
        return turn

    def _keep_trail(
        self,
        ctx: RuleContext,
        rec: np.ndarray,
        uniq: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        t: np.ndarray,
        chosen: np.ndarray,
        odd: np.ndarray,
        under_way: np.ndarray,
        is_fix: np.ndarray | None,
    ) -> None:
        """Marks the fixes that keep the fixes the rule skips inside the vessel's trail until it
        catches up (see `interest`): one fix per `_refresh_count` fixes, as the trail holds that many
        points; and, as it drops fixes older than its span, before a fix that would push out the
        oldest fix under way skipped since the vessel's last judged one (`_OLDEST`) the last fix
        surely on the vessel's track is judged, or, when that came in an earlier batch, the catch-up
        runs now. (Only the skipped fixes under way matter: the catch-up takes no other, so a vessel
        that lies still or goes slowly loses nothing when its skipped fixes leave the trail.)"""
        count = self._refresh_count(ctx)
        c0 = rec[_COUNT].astype(np.int64)  # (whole numbers: integer division, cheaper than float's)
        c1 = c0 + (ends - starts + 1)
        for g in (c1 // count > c0 // count).nonzero()[0].tolist():  # every fix making a multiple
            chosen[int(starts[g]) + int(count - 1 - c0[g] % count) : int(ends[g]) + 1 : count] = True
        span = ctx.tracker.settings.trail_s * (1.0 - SLACK) - 1.0
        oldest = rec[_OLDEST].copy()
        first_t = t[starts]
        # the oldest fix under way skipped after the last one judged surely on its track: none when
        # the last fix is; else, as a bound, no later than the batch's first fix under way (exact
        # below where it matters)
        bound = oldest
        if under_way.any():
            bound = np.fmin(oldest, np.fmin.reduceat(np.where(under_way, t, np.nan), starts))
        rec[_OLDEST] = bound
        rec[_OLDEST, chosen[ends] & ~odd[ends]] = np.nan
        with np.errstate(invalid="ignore"):
            near_span = (np.fmax.reduce(t) - span > bound).nonzero()[0]
        if not len(near_span):
            return
        # (as Python values: a few fixes each, of these vessels only, `at[j]` the row of `times[j]`.
        # `chosen` is only set below at a fix before the one read, so its values as they stand now
        # are those read)
        group_starts: list[int] = starts[near_span].tolist()
        group_ends: list[int] = ends[near_span].tolist()
        at: list[int] = []
        for a, b in zip(group_starts, group_ends, strict=True):
            at.extend(range(a, b + 1))
        sel = np.array(at, dtype=np.intp)
        times, odds, chosen_now, moving = (
            t[sel].tolist(),
            odd[sel].tolist(),
            chosen[sel].tolist(),
            under_way[sel].tolist(),
        )
        fixes = None if is_fix is None else is_fix[sel].tolist()
        nan = math.nan
        j0 = 0
        for g, m, o, t0, a, b in zip(
            near_span.tolist(),
            uniq[near_span].tolist(),
            oldest[near_span].tolist(),
            first_t[near_span].tolist(),
            group_starts,
            group_ends,
            strict=True,
        ):  # fix by fix, as the trail would drop them
            caught = False
            if t0 - span > o:  # its previous fix came in an earlier batch: catch up now
                self._catch_up_now(ctx, m)
                o, caught = nan, True
            sure = -1  # the vessel's last fix in the batch surely on its track
            j1 = j0 + (b - a + 1)
            for j in range(j0, j1):
                if fixes is not None and not fixes[j]:
                    continue
                ti = times[j]
                if ti - span > o:
                    if sure >= 0:
                        chosen[sure] = True  # judged: what was skipped is taken before fix j comes
                    elif not caught:
                        self._catch_up_now(ctx, m)  # all skipped fixes came before the batch
                        caught = True
                    o = nan
                if not odds[j]:
                    sure = at[j]
                    if chosen_now[j]:
                        o = nan
                    elif moving[j] and not o <= ti:
                        o = ti
            j0 = j1
            rec[_OLDEST, g] = o

    def _catch_up_now(self, ctx: RuleContext, mmsi: int) -> None:
        """The catch-up of `_catch_up`, from `interest`, before the batch's fixes enter the trail."""
        v = ctx.tracker.get(mmsi)
        if v is not None:
            self._catch_up(v, self._erratic_exempt(v, ctx.allowlists), applied=False)

    def _zone_rows(
        self, batch: ReportBatch, ctx: RuleContext, pos: np.ndarray, mask: np.ndarray
    ) -> np.ndarray:
        """Adds the wrong_way and off_route rows to the mask (see `interest`)."""
        p = self.p
        wrong_way = p.wrong_way
        off_route = p.off_route and self._model_for(ctx) is not None
        if not (wrong_way or off_route):
            return mask
        lanes, box, area = self._zone_geometry(ctx.zones)
        sog, lat, lon = batch.sog, batch.lat, batch.lon
        with np.errstate(invalid="ignore"):
            if wrong_way and lanes:
                near = (lat >= box[1]) & (lat <= box[3]) & (lon >= box[0]) & (lon <= box[2])
                near &= sog >= p.wrong_way_min_sog_kn
                near &= ~mask
                rows = near.nonzero()[0]
                if len(rows):
                    cog = batch.cog[rows]
                    for direction, geometry in lanes:
                        d = np.abs(cog - direction) % 360.0
                        d = np.minimum(d, 360.0 - d)
                        wrong = rows[d > p.wrong_way_angle_deg - SLACK]  # NaN (no course) compares False
                        if len(wrong):
                            mask[wrong] |= shapely.intersects_xy(geometry, lon[wrong], lat[wrong])
            if off_route:
                rows = (pos & (sog >= p.off_route_min_sog_kn) & ~mask).nonzero()[0]
                if len(rows):
                    if area is None:
                        mask[rows] = True
                    else:
                        mask[rows] = _within(area, self._area_box, lon[rows], lat[rows])
        return mask

    def _zone_geometry(
        self, zones: ZoneEngine
    ) -> tuple[list[tuple[float, BaseGeometry]], tuple[float, float, float, float], BaseGeometry | None]:
        """The directed lanes, each grown by the exit margin (a vessel stays confirmed in a zone only
        within that), their bounds, and the VTS area (None: none configured, judged anywhere); a
        little larger for float rounding. Cached per zone engine (a reload builds a new one)."""
        if self._geometry is not None and self._geometry[0] is zones:
            return self._geometry[1], self._geometry[2], self._geometry[3]
        lanes: list[tuple[float, BaseGeometry]] = []
        for z in zones.zones:
            direction = _lane_direction(z)
            if direction is not None:
                grown = z.exit_geometry.buffer(SLACK, quad_segs=2)
                shapely.prepare(grown)
                lanes.append((direction, grown))
        box = (0.0, 0.0, 0.0, 0.0)
        if lanes:
            b = shapely.total_bounds([g for _, g in lanes])
            box = (float(b[0]) - SLACK, float(b[1]) - SLACK, float(b[2]) + SLACK, float(b[3]) + SLACK)
        areas = [z.geometry for z in zones.zones if z.kind in VTS_AREA_KINDS]
        area: BaseGeometry | None = None
        if areas:
            area = shapely.union_all(areas).buffer(SLACK, quad_segs=2)
            shapely.prepare(area)
            self._area_box = area.bounds
        self._geometry = (zones, lanes, box, area)
        return lanes, box, area

    def _start(self, ctx: RuleContext) -> None:
        """First batch of this rule instance: the vessels' trails so far are not its history, and the
        duplicate_mmsi alerts already active (restored, or kept over a reload) are checked."""
        self._table = _Table()
        self._allowlists = ctx.allowlists
        if self.p.erratic:
            for v in ctx.tracker.vessels():
                self._seen[v.mmsi] = (v.trail, v.trail[-1] if v.trail else None)
        active = np.array(sorted({k[0] for k in ctx.alerts.active_keys("duplicate_mmsi")}), dtype=np.int64)
        if len(active):
            idx, found, rec = self._table.lookup(active)
            rec[_DUPW] = np.inf
            self._table.store(active, idx, found, rec)

    def _allowlists_changed(self, ctx: RuleContext) -> None:
        """A reload changed the allow-lists: the skipped fixes are caught up under the old ones."""
        old = self._allowlists
        self._allowlists = ctx.allowlists
        if old is None or not self.p.erratic:
            return
        for mmsi in list(self._seen):
            v = ctx.tracker.get(mmsi)
            if v is not None:
                self._catch_up(v, self._erratic_exempt(v, old), applied=False)
        self._status.clear()

    def _renew(self, ctx: RuleContext) -> None:
        """The vessels forgotten since the last batch: a new track. Those the rule has judged since
        (their first fix came after the forgetting, in the same batch) have their track asked for;
        the others start afresh (their first fix is judged, or their trail learnt). The watch set
        when they were forgotten ends, unless state came back."""
        table = self._table
        assert table is not None
        gone = np.array(sorted(set(self._gone)), dtype=np.int64)
        self._gone.clear()
        seen = self._seen
        table.renew(gone, np.array([0.0 if m in seen else -1.0 for m in gone.tolist()]))
        watching = ctx.watching
        for m in gone.tolist():
            if m in watching:
                self._settle(ctx, m)

    @staticmethod
    def _jump_limits(ctx: RuleContext) -> tuple[float, float]:
        """Distance and speed under which a fix is surely neither `_jumped` nor, for duplicate_mmsi's
        interleave test, out of reach."""
        dup: Any = ctx.config.rules.get("duplicate_mmsi")
        metres, knots = JUMP_MIN_M, JUMP_MIN_KN
        if dup is not None and getattr(dup, "interleave", False):
            metres = min(metres, float(dup.interleave_min_distance_m))
            knots = min(knots, float(dup.interleave_min_speed_kn))
        return metres, knots

    @staticmethod
    def _trouble_span(ctx: RuleContext) -> float:
        """How long after an odd fix every fix of the vessel is judged: `TROUBLE_S`, at least
        duplicate_mmsi's window (its conflicts and alternations stop counting then)."""
        dup: Any = ctx.config.rules.get("duplicate_mmsi")
        window = 0.0 if dup is None else float(getattr(dup, "window_minutes", 0.0)) * 60.0
        return max(TROUBLE_S, window) + 1.0

    @staticmethod
    def _dup_span(ctx: RuleContext) -> float:
        """How long after an odd fix a duplicate_mmsi alert may be active: raised within its window of
        the conflicts, cleared at the first of its ticks (a minute apart) `clear_minutes` after."""
        dup: Any = ctx.config.rules.get("duplicate_mmsi")
        if dup is None:
            return 0.0
        minutes = float(getattr(dup, "window_minutes", 0.0)) + float(getattr(dup, "clear_minutes", 0.0))
        return minutes * 60.0 + DUP_TICK_SLACK_S

    @staticmethod
    def _refresh_count(ctx: RuleContext) -> int:
        return max(1, int(ctx.tracker.settings.trail_max_points) // 4)

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if not self.p.stop_after_departure:
            return
        kind = _zone_kind(event.zone_id, ctx)
        entered = None
        if kind in DEPARTURE_ZONE_KINDS:
            zones = self._entered.setdefault(vessel.mmsi, {})
            if event.kind == "entry":
                zones[event.zone_id] = event.time
            else:
                entered = zones.pop(event.zone_id, None)
                if not zones:
                    del self._entered[vessel.mmsi]
        if (
            event.kind == "exit"
            and kind in DEPARTURE_ZONE_KINDS
            and is_large_vessel(vessel)
            and self._lay_in(vessel, entered, event.time, ctx)
        ):
            dep = self._departures[vessel.mmsi] = _Departure(event.zone_id, event.time, event.lat, event.lon)
            since = event.time - self.p.departure_exit_lookback_minutes * 60.0
            fast = self.p.departure_sog_kn
            for fix in reversed(vessel.trail):  # already under way as it crossed out: armed now
                if fix.time < since:
                    break
                if fix.time <= event.time and fix.sog is not None and fix.sog >= fast:
                    dep.armed = True
                    dep.armed_at = fix.time
                    break
        elif event.kind == "entry" and kind in DEPARTURE_ZONE_KINDS:
            self._departures.pop(vessel.mmsi, None)  # arrived somewhere: a shift, not a departure
        elif event.kind == "exit" and kind in VTS_AREA_KINDS:
            self._departures.pop(vessel.mmsi, None)
        self._settle(ctx, vessel.mmsi)

    def _lay_in(self, vessel: VesselState, entered: float | None, left: float, ctx: RuleContext) -> bool:
        """Whether the vessel lay in the berth or anchorage it left at `left` (entered at `entered`,
        None when its entry was not seen: taken as lain there): its status says at anchor or moored,
        a fix since the entry was under `departure_stopped_kn`, or it stayed longer than the trail
        reaches back (`TrackerSettings.trail_minutes`: no transit across an anchorage takes that)."""
        if entered is None or is_anchored_or_moored(vessel.nav_status):
            return True
        trail = vessel.trail
        if not trail or trail[0].time > entered:
            return left - entered >= ctx.tracker.settings.trail_s
        slow = self.p.departure_stopped_kn
        for fix in reversed(trail):
            if fix.time < entered:
                return False
            if fix.time <= left and fix.sog is not None and fix.sog < slow:
                return True
        return False

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._entered.pop(mmsi, None)
        self._wrong.pop(mmsi, None)
        self._turns.pop(mmsi, None)
        self._departures.pop(mmsi, None)
        self._off.pop(mmsi, None)
        self._on_approach.pop(mmsi, None)
        self._last_event.pop(mmsi, None)
        self._seen.pop(mmsi, None)
        self._status.pop(mmsi, None)
        if self._table is not None:
            # a fix of the vessel later in this batch starts a new track: judge it (and so learn its
            # trail before anything can replace it); the next batches see it as a new vessel
            self.watch(ctx, mmsi)
            self._gone.append(mmsi)

    def save_state(self, ctx: RuleContext) -> dict[str, Any] | None:
        """What off_route, the one state kind, needs to go on after a restart: each large vessel's
        watch (its window of anomaly scores, whether it was seen on the routes, whether it is off
        them), when it was last on the approach, and its last erratic / stop_after_departure event.
        Without them a ship off route at the restart was expired as unconfirmed 15 min on (its
        window had to be seen on the routes again), and one that had just left the approach was
        never raised."""
        if not (self._off or self._on_approach or self._last_event):
            return None
        return {
            "off": [[mmsi, w.saved()] for mmsi, w in sorted(self._off.items())],
            "on_approach": sorted(self._on_approach.items()),
            "last_event": sorted(self._last_event.items()),
        }

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        """The saved watches of the vessels the tracker took up, with today's thresholds; an active
        one is watched (its fixes matter whatever the batch mask says, see `_settle`)."""
        p = self.p
        known = ctx.tracker.get
        for mmsi, data in state.get("off", []):
            mmsi = int(mmsi)
            if known(mmsi) is None or mmsi in self._off:
                continue
            watch = OffRouteWatch.restored(
                data, p.off_route_minutes * 60.0, p.off_route_threshold, p.off_route_normal_below
            )
            self._off[mmsi] = watch
            if watch.active:
                self.watch(ctx, mmsi)
        for mmsi, t in state.get("on_approach", []):
            if known(int(mmsi)) is not None:
                self._on_approach.setdefault(int(mmsi), float(t))
        for mmsi, t in state.get("last_event", []):
            if known(int(mmsi)) is not None:
                self._last_event.setdefault(int(mmsi), float(t))

    def _settle(self, ctx: RuleContext, mmsi: int) -> None:
        """Watch the vessel exactly while a fix the mask leaves out could change its state: a wrong-way
        run, a departure, an off-route alert (an inactive watch changes only on fixes in the mask:
        `_off_route_unjudged`), or the first fix of a possible turn."""
        turns = self._turns.get(mmsi)
        off = self._off.get(mmsi)
        if (
            mmsi in self._wrong
            or mmsi in self._departures
            or (off is not None and off.active)
            or (turns is not None and turns.pending is not None)
        ):
            self.watch(ctx, mmsi)
        else:
            self.unwatch(ctx, mmsi)

    def _exempt(self, vessel: VesselState, allowlists: Allowlists) -> bool:
        """Left out of every kind (`exempt_categories`, allow-listed tugs, pilots, coastguard)."""
        if vessel.category in self._exempt_categories:
            return True
        listed = self._exempt_listed  # (`is_allowlisted` of EXEMPT_ROLES, its set kept per Allowlists)
        if listed is None or listed[0] is not allowlists:
            listed = self._exempt_listed = (allowlists, allowlisted_mmsis(allowlists, EXEMPT_ROLES))
        return vessel.mmsi in listed[1]

    def _erratic_exempt(self, vessel: VesselState, allowlists: Allowlists) -> bool:
        """Left out of the erratic kind: as `_exempt`, and the `erratic_exempt_ship_types`."""
        return vessel.ship_type in self._erratic_exempt_types or self._exempt(vessel, allowlists)

    def _catch_up(self, vessel: VesselState, exempt: bool, *, applied: bool) -> None:
        """Put into the erratic history the fixes of the vessel's trail the rule skipped since it last
        took one (`applied`: the newest fix of the trail is the report being judged, not one of them).

        Each of them would have been judged not a turn (the mask guarantees it) with no turn pending
        (the vessel is watched while one is): the history drops what is more than three minutes older
        than the fix and takes it. They are newer than anything in the history, so the ones more than
        three minutes older than the last of them under way would be dropped by it again, along with
        all that came before: only the others are taken, unless a turn is still in progress (each
        fix taken may show that the course has settled, `_take`): then every one of them is."""
        trail = vessel.trail
        seen = self._seen.get(vessel.mmsi)
        source, last = (trail, None) if seen is None else seen
        self._seen[vessel.mmsi] = (trail, trail[-1] if trail else None)
        if exempt or not source or source[-1] is last:
            return
        if applied and source is trail and len(trail) > 1 and trail[-2] is last:
            return  # the report's fix follows the last one taken: none skipped (as the loop finds)
        st = self._turns.get(vessel.mmsi)
        turning = st is not None and st.turning != 0
        min_sog = self.p.erratic_min_sog_kn
        taken: list[tuple[float, float]] = []  # newest first
        horizon = -math.inf
        skip = applied and source is trail  # after a track swap the report's fix is in the new trail
        for fix in reversed(source):  # in time order: skipped fixes are never late
            if skip:
                skip = False
                continue
            if fix is last or fix.time < horizon:
                break
            if fix.cog is not None and fix.sog is not None and fix.sog >= min_sog:
                if not taken and not turning:
                    horizon = fix.time - TURN_WINDOW_S
                taken.append((fix.time, fix.cog))
        if not taken:
            return
        if st is None:
            st = self._turns[vessel.mmsi] = _Turns()
        for t, cog in reversed(taken):
            _take(st, t, cog)

    # -- wrong way -----------------------------------------------------------------------------------
    def _check_wrong_way(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        p = self.p
        zones = ctx.zones.zones_of(vessel.mmsi)
        if not zones and vessel.mmsi not in self._wrong:
            return  # in no lane, and no wrong-way run to end: as below, nothing to do
        lanes: list[tuple[str, float]] = []
        for zone_id in sorted(zones):
            direction = _lane_direction(_zone(zone_id, ctx))
            if direction is not None:
                lanes.append((zone_id, direction))
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
            if all(dd > p.wrong_way_angle_deg for dd, _, _ in diffs) and not self._beside_a_lane_it_suits(
                report, ctx
            ):
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

    def _beside_a_lane_it_suits(self, report: PositionReport, ctx: RuleContext) -> bool:
        """Whether a directed lane whose direction the course suits lies within `wrong_way_edge_m`."""
        edge = self.p.wrong_way_edge_m
        assert report.cog is not None and report.lat is not None and report.lon is not None
        for z in ctx.zones.zones:
            direction = _lane_direction(z)
            if (
                direction is not None
                and angle_diff_deg(report.cog, direction) <= self.p.wrong_way_angle_deg
                and z.distance_m(report.lon, report.lat) <= edge
            ):
                return True
        return False

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
        st = self._turns.get(vessel.mmsi)
        if st is None:
            st = self._turns[vessel.mmsi] = _Turns()
        if report.cog is None or report.sog is None or report.sog < p.erratic_min_sog_kn:
            st.pending = None
            return
        t, cog = report.time, report.cog
        history = st.history
        while history and t - history[0][0] > TURN_WINDOW_S:
            history.popleft()
        turn_deg = p.erratic_turn_deg
        if abs(cog - st.lo) < turn_deg and abs(cog - st.hi) < turn_deg:
            # every course of the history lies in [lo, hi], so less than the turn angle off: as below
            st.pending = None
            _take(st, t, cog)
            return
        deviation = 0.0  # the largest angle_diff_deg(cog, c) over the history (as max(), inlined)
        far = cog  # the course of the history that far off
        first = True
        for _, c in history:
            d = abs(cog - c) % 360.0
            if d > 180.0:
                d = 360.0 - d
            if first or d > deviation:
                deviation = d
                far = c
                first = False
        if deviation < turn_deg:
            st.pending = None
            _bound(st)  # (the quick test above may hold again at the next fix)
            _take(st, t, cog)  # (trims the history as above: nothing more)
            return
        if st.pending is None or angle_diff_deg(cog, st.pending[1]) >= p.erratic_turn_deg:
            st.pending = (t, cog)  # first fix of a possible turn (one bad course is not a turn)
            return
        # a turn: confirmed by two fixes in a row; the new leg is the reference from now on
        direction = 1 if (cog - far) % 360.0 <= 180.0 else -1  # 1: to starboard (clockwise)
        carried = st.turning == direction and t - st.turn_time <= TURN_WINDOW_S
        history.clear()
        history.extend((st.pending, (t, cog)))
        _bound(st)
        st.pending = None
        st.turning = 0 if _settled(history) else direction
        st.turn_time = t
        if carried:
            return  # the turn in progress goes on (a U-turn, turning round): already counted
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
            if report.time - dep.time > p.departure_under_way_minutes * 60.0:
                del self._departures[vessel.mmsi]  # drifted or shifted out, and lies there: no departure
            elif sog is not None and sog >= p.departure_sog_kn:
                dep.armed = True
                dep.armed_at = report.time
                dep.max_distance = dist
            return
        if report.time - dep.armed_at > p.departure_watch_minutes * 60.0:
            del self._departures[vessel.mmsi]  # under way that long and still near: not leaving
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
        path = ctx.config.resolve_path(self.p.model_path)
        assert path is not None
        try:
            self._model = NormalcyModel.load(path)
        except (ValueError, OSError) as exc:  # (the config's check catches these first)
            log.warning("course_anomaly: off_route disabled: %s", exc)
            self._model = None
        return self._model

    def _check_off_route(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        assert report.lat is not None and report.lon is not None
        p = self.p
        model = self._model_for(ctx)
        if model is None:
            return
        judgeable = self._off_route_judgeable(report, ctx)
        if not judgeable and vessel.mmsi not in self._off:
            return  # (`_off_route_unjudged` does nothing to a vessel with no watch)
        large = is_large_vessel(vessel)
        # a Class A vessel whose static data has not come yet may be a large one: its fixes go into
        # the window (so that it has been seen on the routes by the time its static data comes), but
        # it is raised only once known to be large
        subject = large or (vessel.ais_class == "A" and awaits_type(vessel))
        if not (subject and judgeable):
            self._off_route_unjudged(vessel, report, ctx, subject=subject)
            return
        st = self._off.get(vessel.mmsi)
        if st is not None and report.time - _last_judged(st) > OFF_ROUTE_FORGET_S:
            self._end_off_route(vessel, st, ctx, "off-route watch lapsed (no fix under way in the area)")
            st = None
        if st is None:
            st = self._off[vessel.mmsi] = OffRouteWatch(
                p.off_route_minutes * 60.0, p.off_route_threshold, p.off_route_normal_below
            )
        approach = self._approach_of(ctx.zones)
        if (
            approach is not None
            and self._on_approach_zone(approach, report.lat, report.lon)
            and self._inbound(report, ctx, approach)
        ):
            self._on_approach[vessel.mmsi] = report.time
        layer = model.layer_for(p.model_layer)
        score = model.anomaly(report.lat, report.lon, report.cog, layer)
        step = st.feed(report.time, score)
        if step == "raise" and approach is not None:
            was_on = self._on_approach.get(vessel.mmsi)
            if was_on is None or report.time - was_on > p.off_route_approach_minutes * 60.0:
                st.active = False  # not a ship leaving the approach: passing, or arriving elsewhere
                return
        if step == "raise" and not large:
            st.active = False  # its size still unknown: raised at a fix once it is known to be large
            return
        recent = self._last_event.get(vessel.mmsi)
        if (
            step == "raise"
            and recent is not None
            and report.time - recent < p.off_route_after_event_minutes * 60
        ):
            st.active = False  # already reported as erratic / stop after departure: one story, one alert
            return
        if step == "raise" and self._making_for_anchorage(report, ctx) is not None:
            st.active = False  # going to anchor where ships anchor, by whatever way it came
            return
        if step == "hold" and (anchorage := self._anchorage_at(report, ctx)) is not None:
            self._end_off_route(vessel, st, ctx, f"in {anchorage.name}")
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

    def _off_route_judgeable(self, report: PositionReport, ctx: RuleContext) -> bool:
        """A fix of a large vessel judged for off_route: fast enough, inside the VTS area (every such
        fix is in the batch mask)."""
        sog = report.sog
        return sog is not None and sog >= self.p.off_route_min_sog_kn and self._in_vts_area(report, ctx)

    def _off_route_unjudged(
        self, vessel: VesselState, report: PositionReport, ctx: RuleContext, *, subject: bool
    ) -> None:
        """A fix not judged for off_route (`subject`: the vessel is a large one, not exempt). The window
        and "seen on the routes" stay as they are; an alert holds, except that it ends when the vessel
        is no longer subject or the watch has lapsed (`OFF_ROUTE_FORGET_S`), and clears outside the VTS
        area (the watch stays). Batched, only an active watch is watched: an inactive one changes
        only on fixes in the mask (an unsubject vessel's is dropped on a fix fast in the area)."""
        st = self._off.get(vessel.mmsi)
        if st is None:
            return
        if not st.active:
            if not subject and self._off_route_judgeable(report, ctx):
                del self._off[vessel.mmsi]
            return
        if not subject:
            self._end_off_route(vessel, st, ctx, "no longer judged (exempt, or not a large vessel)")
        elif report.time - _last_judged(st) > OFF_ROUTE_FORGET_S:
            self._end_off_route(vessel, st, ctx, "off-route watch lapsed (no fix under way in the area)")
        elif not self._in_vts_area(report, ctx):
            st.active = False
            ctx.alerts.clear(
                type=self.id, mmsi=vessel.mmsi, message=f"{vessel.name or vessel.mmsi} left the VTS area"
            )

    def _end_off_route(self, vessel: VesselState, st: OffRouteWatch, ctx: RuleContext, why: str) -> None:
        self._off.pop(vessel.mmsi, None)
        if st.active:
            ctx.alerts.clear(type=self.id, mmsi=vessel.mmsi, message=f"{vessel.name or vessel.mmsi} {why}")

    def _making_for_anchorage(self, report: PositionReport, ctx: RuleContext) -> Zone | None:
        """The anchorage (`off_route_anchor_zone_kinds`) the fix lies in, or that its course over
        ground leads into within the distance it covers in `off_route_minutes` at its speed: a ship
        going to anchor there, by whatever way it came, is going where ships go. (The learned model
        knows the usual approaches; the ways into a wide anchorage, to wherever a berth is free, are
        many, and a few weeks of traffic do not cover them all.)"""
        assert report.lat is not None and report.lon is not None
        inside = self._anchorage_at(report, ctx)
        if inside is not None or report.cog is None or report.sog is None:
            return inside
        zones = self._anchor_zones_of(ctx.zones)
        reach = report.sog * KNOTS_TO_MS * self.p.off_route_minutes * 60.0
        lat, lon = destination(report.lat, report.lon, report.cog, reach)
        ahead = shapely.LineString([(report.lon, report.lat), (lon, lat)])
        for zone in zones:
            if zone.geometry.intersects(ahead):
                return zone
        return None

    def _anchorage_at(self, report: PositionReport, ctx: RuleContext) -> Zone | None:
        """The anchorage (`off_route_anchor_zone_kinds`) the fix lies in."""
        assert report.lat is not None and report.lon is not None
        for zone in self._anchor_zones_of(ctx.zones):
            if zone.contains(report.lon, report.lat):
                return zone
        return None

    def _inbound(self, report: PositionReport, ctx: RuleContext, approach: BaseGeometry) -> bool:
        """The fix heads for the port: its course within 90 degrees of the bearing to the harbour
        (the centre of the zones of kind entrance and port_area; without them, of the approach). A
        ship leaving by the outbound lane is on the approach too, but not bound for the port."""
        assert report.lat is not None and report.lon is not None
        if report.cog is None:
            return False
        cached = self._harbour
        if cached is None or cached[0] is not ctx.zones:
            harbour = zone_union(ctx.zones, ("entrance", "port_area"))
            centre = (harbour if harbour is not None else approach).centroid
            cached = self._harbour = (ctx.zones, centre.y, centre.x)
        to_port = bearing_deg(report.lat, report.lon, cached[1], cached[2])
        return angle_diff_deg(report.cog, to_port) <= 90.0

    def _on_approach_zone(self, approach: BaseGeometry, lat: float, lon: float) -> bool:
        """`shapely.intersects_xy(approach, lon, lat)`, with a bounding-box test first (a point
        outside the box is outside the geometry)."""
        box = self._approach_box
        if box is None or box[0] is not approach:
            box = self._approach_box = (approach, *approach.bounds)
        _, x0, y0, x1, y1 = box
        return x0 <= lon <= x1 and y0 <= lat <= y1 and bool(shapely.intersects_xy(approach, lon, lat))

    def _approach_of(self, zones: ZoneEngine) -> BaseGeometry | None:
        """The usual approach (`off_route_approach_kinds`) grown by `off_route_approach_m`, prepared;
        None when the configuration has no such zone (then every ship is judged)."""
        return zone_union(zones, self.p.off_route_approach_kinds, self.p.off_route_approach_m)

    def _anchor_zones_of(self, zones: ZoneEngine) -> list[Zone]:
        """The zones of `off_route_anchor_zone_kinds`, cached per zone engine."""
        cached = self._anchor_zones
        if cached is None or cached[0] is not zones:
            kinds = set(self.p.off_route_anchor_zone_kinds)
            cached = self._anchor_zones = (zones, [z for z in zones.zones if z.kind in kinds])
        return cached[1]

    def _in_vts_area(self, report: PositionReport, ctx: RuleContext) -> bool:
        assert report.lat is not None and report.lon is not None
        areas = self._vts_areas(ctx.zones)
        for z in areas:  # (a loop, not any() over a generator: this runs on most fixes judged)
            if z.contains(report.lon, report.lat):
                return True
        return not areas

    def _vts_areas(self, zones: ZoneEngine) -> list[Zone]:
        """The zones of the VTS area (none: judged anywhere), cached per zone engine."""
        cached = self._areas
        if cached is None or cached[0] is not zones:
            cached = self._areas = (zones, [z for z in zones.zones if z.kind in VTS_AREA_KINDS])
        return cached[1]


def _within(
    area: BaseGeometry, box: tuple[float, float, float, float], lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """`shapely.intersects_xy(area, lon, lat)`, the geometry asked only about the points within its
    bounds `box` (minx, miny, maxx, maxy; edges included): none outside them intersects it."""
    x0, y0, x1, y1 = box
    near = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)  # (NaN: outside, as shapely has it)
    idx = near.nonzero()[0]
    if len(idx) == 0:
        return near
    if len(idx) < len(near):
        near[idx] = shapely.intersects_xy(area, lon[idx], lat[idx])
        return near
    return shapely.intersects_xy(area, lon, lat)  # type: ignore[no-any-return]


def _carry(flags: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group of consecutive rows, True from the group's first True row on."""
    first = _first_in_group(flags, group, n_groups)
    first[first < 0] = len(flags)
    return np.arange(len(flags)) >= first[group]


def _first_in_group(flags: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group (rows grouped consecutively), the index of its first True row, -1 when none."""
    out = np.empty(n_groups, dtype=np.intp)
    out.fill(-1)
    idx = flags.nonzero()[0]
    if len(idx):
        g = group[idx]
        head = np.empty(len(idx), dtype=bool)
        head[0] = True
        np.not_equal(g[1:], g[:-1], out=head[1:])
        out[g[head]] = idx[head]
    return out


_T, _LAT, _LON, _SOG, _KNOWN, _TROUBLE, _DUPW, _COUNT, _OLDEST, _REF, _HOT = range(11)
_Q0, _Q1, _LO0, _HI0, _LO1, _HI1 = range(11, 17)
_FIELDS = 17
_DEFAULT = np.array(
    [
        *(np.nan, np.nan, np.nan, np.nan),  # _T, _LAT, _LON, _SOG
        *(-1.0, -np.inf, -np.inf, 0.0, np.nan),  # _KNOWN, _TROUBLE, _DUPW, _COUNT, _OLDEST
        *(np.nan, -np.inf),  # _REF, _HOT
        *(-np.inf, -np.inf, np.inf, -np.inf, np.inf, -np.inf),  # _Q0, _Q1, _LO0, _HI0, _LO1, _HI1
    ]
)[:, None]
_M_PER_DEG = 111_320.0
_SURE = 0.97
"""The masks' distance tests (equirectangular, against haversine limits) keep this much spare."""


class _Table:
    """Per-MMSI columns of floats, kept on the batch columns between batches: `cols` grows by whole
    columns (a new vessel's goes at the end), `keys` (sorted MMSIs) and `slots` find them.

    Rows of `cols`: ``_T``, ``_LAT``, ``_LON`` the vessel's latest fix applied to its track (NaN:
    none); ``_SOG`` the track's speed (NaN: none); ``_KNOWN`` 1 when those are the tracker's, 0 when
    the tracker must be asked, -1 for a new vessel (or one forgotten since); ``_TROUBLE`` every fix
    up to this time is judged; ``_DUPW`` up to this time a duplicate_mmsi alert may be active;
    ``_COUNT`` fixes so far; ``_OLDEST`` the oldest fix under way skipped since the last judged
    one (NaN: none); ``_REF`` a reference course (NaN: none yet); ``_HOT`` up to this time every fix under way
    is judged; ``_Q0`` ... ``_HI1`` two course buckets (`CourseAnomalyRule._possible_turns`)."""

    MAX_FRESH = 4096
    """Forgotten vessels' columns are dropped once this many (and a quarter of all) gather."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.slots = np.zeros(0, dtype=np.intp)
        self.cols = np.zeros((_FIELDS, 64))
        self.used = 0

    def lookup(self, uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(where each sorted MMSI is or goes in `keys`, found, its columns: a copy, defaults where
        not found)."""
        at = np.searchsorted(self.keys, uniq)
        if len(self.keys) == 0:
            return at, np.zeros(len(uniq), dtype=bool), np.repeat(_DEFAULT, len(uniq), axis=1)
        np.minimum(at, len(self.keys) - 1, out=at)
        found = self.keys[at] == uniq
        rec = self.cols[:, self.slots[at]]
        if not found.all():
            rec[:, ~found] = _DEFAULT
        return at, found, rec

    def store(self, uniq: np.ndarray, at: np.ndarray, found: np.ndarray, rec: np.ndarray) -> None:
        if found.all():
            self.cols[:, self.slots[at]] = rec
            return
        self.cols[:, self.slots[at[found]]] = rec[:, found]
        new = ~found
        keys = uniq[new]
        n = len(keys)
        if self.used + n > self.cols.shape[1]:
            grown = np.empty((_FIELDS, max(2 * self.cols.shape[1], self.used + n)))
            grown[:, : self.used] = self.cols[:, : self.used]
            self.cols = grown
        slots = np.arange(self.used, self.used + n)
        self.cols[:, slots] = rec[:, new]
        self.used += n
        where = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, where, keys)
        self.slots = np.insert(self.slots, where, slots)

    def renew(self, mmsis: np.ndarray, known: np.ndarray) -> None:
        """These vessels (sorted MMSIs) were forgotten by the tracker: their track must be asked for
        (`known`: 0), or they start afresh (-1). The rest of their columns stays: a superset."""
        if len(self.keys) == 0:
            return
        at = np.minimum(np.searchsorted(self.keys, mmsis), len(self.keys) - 1)
        hit = self.keys[at] == mmsis
        self.cols[_KNOWN, self.slots[at[hit]]] = known[hit]
        if len(self.keys) > self.MAX_FRESH:
            # (the columns in use are those of the keys, one each: counted without the gather; the
            # fresh ones are dropped: a missing column means the same)
            if np.count_nonzero(self.cols[_KNOWN, : self.used] < 0) > len(self.keys) // 4:
                keep = ~(self.cols[_KNOWN, self.slots] < 0)
                self.keys = self.keys[keep]
                old = self.slots[keep]
                self.cols = np.ascontiguousarray(self.cols[:, old])
                self.used = len(old)
                self.slots = np.arange(self.used)


def _last_judged(st: OffRouteWatch) -> float:
    """Time of the last fix an off-route watch was fed."""
    return st.window[-1][0] if st.window else -math.inf


def _take(st: _Turns, t: float, cog: float) -> None:
    """A fix under way that is not a turn into the erratic history (which keeps `TURN_WINDOW_S`); a
    turn in progress ends once the course has settled."""
    history = st.history
    while history and t - history[0][0] > TURN_WINDOW_S:
        history.popleft()
    if not history:
        st.lo, st.hi = math.inf, -math.inf
    history.append((t, cog))
    if cog < st.lo:
        st.lo = cog
    if cog > st.hi:
        st.hi = cog
    if cog != cog:
        st.lo = st.hi = math.nan  # (no course is within bounds of NaN: the quick test never holds)
    if st.turning and _settled(history):
        st.turning = 0


def _bound(st: _Turns) -> None:
    """Sets `_Turns.lo` and `hi` to the exact bounds of the courses in the history."""
    courses = [c for _, c in st.history]
    if not courses:
        st.lo, st.hi = math.inf, -math.inf
    elif math.isnan(sum(courses)):  # a NaN course (or infinite ones): no bounds
        st.lo = st.hi = math.nan
    else:
        st.lo, st.hi = min(courses), max(courses)


def _settled(history: deque[tuple[float, float]]) -> bool:
    """The newest courses of the history (in time order) have held within `SETTLE_DEG` of each other
    for `SETTLE_S` or more: the vessel is on a new leg."""
    t_new, c_new = history[-1]
    lo = hi = 0.0
    for t, c in reversed(history):
        d = (c - c_new + 180.0) % 360.0 - 180.0
        if d < lo:
            lo = d
        elif d > hi:
            hi = d
        if hi - lo > SETTLE_DEG:
            return False
        if t_new - t >= SETTLE_S:
            return True
    return False


_SURELY_NEAR_DEG2 = (JUMP_MIN_M / (EARTH_RADIUS_M * math.pi / 180.0) / 1.001) ** 2
"""Squared degrees (of latitude and longitude, unscaled) under which two fixes are surely no more
than `JUMP_MIN_M` apart by `distance_m`: the haversine distance is at most R x sqrt(dlat^2 + dlon^2)
(radians; sin x <= x, cosines of latitude <= 1), times asin's excess over its argument (under
1e-8 for these few hundred metres); 0.1 % spare for that and float rounding."""


def _jumped(vessel: VesselState, report: PositionReport) -> bool:
    """The fix is out of reach of the previous one (the position_jump limits): a glitch, a spoof or a
    second ship under the MMSI, not a manoeuvre."""
    trail = vessel.trail
    if len(trail) < 2 or report.lat is None or report.lon is None:
        return False
    prev = trail[-2]
    dlat = report.lat - prev.lat
    dlon = report.lon - prev.lon
    if dlat * dlat + dlon * dlon <= _SURELY_NEAR_DEG2:
        return False  # (as `dist <= JUMP_MIN_M` below)
    dist = distance_m(prev.lat, prev.lon, report.lat, report.lon)
    if dist <= JUMP_MIN_M:
        return False
    sog = max(prev.sog or 0.0, report.sog or 0.0)
    allowed_kn = max(JUMP_MIN_KN, JUMP_SOG_FACTOR * sog + JUMP_SOG_MARGIN_KN)
    return dist > allowed_kn * KNOT_MS * (abs(report.time - prev.time) + JUMP_TIME_SLACK_S)


def _zone(zone_id: str, ctx: RuleContext) -> Any:
    try:
        return ctx.zones.zone(zone_id)
    except KeyError:
        return None


def _lane_direction(z: Any) -> float | None:
    """The direction of a directed traffic lane (a zone of kind lane with `direction_deg`), else None."""
    if z is None or z.kind != "lane" or z.settings.direction_deg is None:
        return None
    return float(z.settings.direction_deg)


def _zone_kind(zone_id: str, ctx: RuleContext) -> str | None:
    z = _zone(zone_id, ctx)
    return None if z is None else str(z.kind)


RULE = CourseAnomalyRule
