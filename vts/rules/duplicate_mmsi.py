"""duplicate_mmsi: two ships transmitting under one MMSI.

The tracker applies Global Fishing Watch's dead-reckoning test (gpsdio-segment): a fix further from
the track's dead-reckoned position than (10 min + elapsed) x 25 kn cannot belong to it, is counted
in ``VesselState.dr_conflicts`` and goes to a separate shadow track (``Tracker.shadow(mmsi)``).
This rule raises a state alert (`warning`) once `min_conflicts` (3) such conflicts fall within
`window_minutes` (10): a single outlier never does. It carries both positions (the primary track and
the shadow) and the distance between them, is updated as conflicts keep coming, and is cleared once
no conflict has been seen for `clear_minutes`. A "second ship" that sails on the first one's course
line, on a similar course and speed, is the same ship seen at another time (satellite AIS stamps the
downlink; late-delivered fixes) and raises nothing (`ignore_same_track`); so, on a feed seen to
stamp arrival (`vts.feed_clock`), is a "second ship" no farther away than the ship could have sailed
in `arrival_delay_hours` (3): its own fixes of then, delivered again after it turned (recorded
exactEarth AIS re-sent a cruise ship's fixes of 1-2 hours before). The two streams must
interleave: the primary track has to be heard again after the first conflict of the window (or its
latest fix is a late one from out of its reach, a fix of the other stream the tracker's allowance for
late fixes let onto it). Until then it is one ship whose position jumped and stays there (a GNSS
fault, spoofing: position_jump's business), and the tracker makes that the track once the primary is
stale. Fixes at (0, 0), a receiver without a GNSS fix, are no second ship either (position_jump
reports them): an MMSI whose primary or shadow track is at (0, 0) raises nothing.

That test allows (10 min + elapsed) x 25 kn, over 4 NM: two ships a few kilometres apart in one
harbour pass it, and their fixes interleave on one track. With a terrestrial receiver's timing a
tighter test applies (`interleave`): the rule keeps two track heads per MMSI; a fix that one head
cannot reach (implied speed over max(40 kn, 2 x SOG + 10 kn) and more than 300 m away, the
position_jump limits, with its allowance for feeds whose time stamps contradict the fixes' own UTC
seconds, `vts.feed_clock`) but the other can, while the first head keeps receiving fixes too, is an
alternation. `min_conflicts` alternations within `window_minutes` raise the same alert
(details.kind ``interleaved``). A single outlier, or a ship whose position jumps once and stays
there, never alternates.

Both tests see the same two ships, and one alert stands for them: the test that raised it
updates it, and the other only keeps it up (an independent check's two boats 4 NM apart had the
alert's kind and message flip between the two tests at every report, each flip a published update).

A placeholder MMSI (0, 123456789 ...), shared by unrelated transmitters, is left alone: many ships
under it are its normal state, and invalid_mmsi reports the MMSI itself.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vts.geo import angle_diff_deg, bearing_deg, distance_m
from vts.reports import PositionReport, Report
from vts.rules._common import is_placeholder_mmsi
from vts.rules._fix_stream import NULL_DEG, UnseenFixes, drop_placeholders, fix_stream
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import DuplicateMmsiParams
from vts.tracker import nominal_interval

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState


KNOT_MS = 1852.0 / 3600.0
UNRELIABLE_TIME_SLACK_S = 300.0
"""As position_jump: when the fixes' UTC seconds contradict the event times, allow this much more."""
STALE_HEAD_S = 180.0
STALE_HEAD_INTERVALS = 3.0
"""A head with no fix for the longer of `STALE_HEAD_S` and this many of its nominal reporting
intervals (`vts.tracker.nominal_interval`: 180 s for a ship at anchor) while the other keeps getting
them: the ship is at the other. Two reports in a row lost to reception are not silence."""
ALTERNATION_INTERVALS = 2.0
"""Alternations are counted over `window_minutes`, or over `min_conflicts` + this many nominal
reporting intervals of the slower head when that is longer: a ship at anchor reports every 3
minutes, so three alternations with it take at least 6-9 minutes, and one report lost to reception
would otherwise push them out of a 10-minute window."""
DEAD_RECKONING = "dead_reckoning"
INTERLEAVED = "interleaved"
"""The two tests, as `_raised_by` names the one that raised an alert (its details.kind)."""
ARRIVAL_MIN_SPEED_KN = 25.0
"""The speed the tracker's dead-reckoning test allows (Global Fishing Watch's), as a floor."""
SAME_TRACK_COURSE_DEG = 30.0
SAME_TRACK_CROSS_M = 1000.0


@dataclass(slots=True)
class _Head:
    time: float
    lat: float
    lon: float
    sog: float | None
    cog: float | None
    second: int | None = None
    interval: float = 10.0
    """The nominal reporting interval of the transponder at this fix (`nominal_interval`)."""

    @classmethod
    def of(cls, fix: PositionReport) -> _Head:
        """The head at a fix (with a position)."""
        assert fix.lat is not None and fix.lon is not None
        return cls(
            fix.time,
            fix.lat,
            fix.lon,
            fix.sog,
            fix.cog,
            fix.second,
            nominal_interval(fix.ais_class, fix.class_b_cs, fix.sog, fix.nav_status),
        )

    def stale_at(self, t: float) -> bool:
        """No fix at this head since long enough before `t` that the ship is no longer there
        (`STALE_HEAD_S`, `STALE_HEAD_INTERVALS`)."""
        return t - self.time > max(STALE_HEAD_S, STALE_HEAD_INTERVALS * self.interval)


@dataclass(slots=True)
class _Heads:
    """The two track heads of an MMSI whose fixes have split (`b` is never None here).

    While there is a single head it is always the latest fix on the vessel's track, which the
    tracker keeps (`VesselState.previous_fix` when the next fix comes): a fix that head can reach,
    or one that comes after the head has been silent too long (`_Head.stale_at`), simply becomes
    the head, and the count of fixes at it only matters once a second head exists (it restarts at 0 then).
    So no state is kept for those vessels: only a split creates a `_Heads`.

    Likewise, once a fix has gone to head `a` (`a_is_last`), every following fix that `a` can reach
    just becomes `a` (the count is then over 0 and only its sign matters): `a` is then the track's
    previous fix, taken from the tracker when the next fix that matters comes. The vessel is
    watched only while the last fix went to `b` (`a_is_last` false)."""

    a: _Head
    b: _Head
    a_fixes_since_b: int = 0
    alternations: deque[float] = field(default_factory=deque)
    a_is_last: bool = False


class DuplicateMmsiRule(Rule):
    id = "duplicate_mmsi"
    Params = DuplicateMmsiParams
    tick_seconds = 60.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: DuplicateMmsiParams = params  # type: ignore[assignment]
        self._last_conflict: dict[int, float] = {}
        self._raised_by: dict[int, str] = {}
        """Per MMSI with an alert up, the test that raised it (`DEAD_RECKONING` or `INTERLEAVED`)."""
        self._heads: dict[int, _Heads] = {}
        """Split track heads (see `_Heads`)."""
        self._unseen = UnseenFixes()

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """The fixes where this rule could do anything:

        * `on_report` acts only on an MMSI whose primary track has `min_conflicts` dead-reckoning
          conflicts: tracks with that many at batch start, or complex in the batch (a fix that
          might fail the dead-reckoning test: see `vts.rules._fix_stream`); only such a fix adds
          a conflict;
        * `on_position` (interleave) acts only on a fix that the fix before it on the track might
          not reach (a superset of `_reachable` against the stream predecessor: an upper bound of
          the distance, and the elapsed time it uses can only grow), or any fix of a complex MMSI,
          or while the last fix of a split track went to its second head (watched): a fix that
          the previous one reaches only moves the head it is at (see `_Heads`)."""
        if not self._unseen.recorded:
            self._unseen.record(ctx.tracker)
        p = self.p
        s = fix_stream(batch, ctx.tracker)
        keep = (s.complex | (s.conflicts >= p.min_conflicts))[s.group]
        if p.interleave:
            allowed = np.maximum(p.interleave_min_speed_kn, 2.0 * np.maximum(s.sog, s.pred_sog) + 10.0)
            dist = s.dist
            keep |= (dist > p.interleave_min_distance_m) & (dist > allowed * KNOT_MS * (np.abs(s.dt) + 2.0))
        mask = np.zeros(len(batch), dtype=bool)
        mask[s.rows[keep]] = True
        mask[s.extra_rows] = True
        drop_placeholders(batch, mask)
        return mask

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        if not self._unseen.recorded:
            self._unseen.record(ctx.tracker, vessel, report)
        if vessel is None or not isinstance(report, PositionReport) or not report.has_position:
            return
        if is_placeholder_mmsi(vessel.mmsi):
            return
        primary = ctx.tracker.get(vessel.mmsi) if vessel.is_shadow else vessel
        if primary is None or len(primary.dr_conflicts) < self.p.min_conflicts:
            return  # too few conflicts in all (the window can only hold fewer): the common case
        conflicts = [t for t in primary.dr_conflicts if report.time - t <= self.p.window_minutes * 60.0]
        if len(conflicts) < self.p.min_conflicts:
            return
        shadow = _shadow_of(ctx, primary.mmsi)
        if _at_null(primary) or (shadow is not None and _at_null(shadow)):
            return  # a receiver without a GNSS fix, not a second ship (position_jump's null_island)
        if not self._interleaved(ctx, primary, shadow, min(conflicts)):
            return  # so far one ship whose position jumped and stays there
        if shadow is not None and self.p.ignore_same_track and _same_track(primary, shadow):
            return
        if shadow is not None and self._may_be_own_fixes_late(ctx, primary, shadow):
            return
        self._last_conflict[primary.mmsi] = max(conflicts)
        if self._other_test_holds(ctx, primary.mmsi, DEAD_RECKONING):
            return
        separation_m: float | None = None
        details: dict[str, object] = {
            "conflicts": len(conflicts),
            "window_min": self.p.window_minutes,
            "first_conflict": min(conflicts),
        }
        if shadow is not None and shadow.lat is not None and shadow.lon is not None:
            # (no name: the shadow's static data is a copy of the primary's, never the other ship's)
            details.update(other_lat=round(shadow.lat, 6), other_lon=round(shadow.lon, 6))
            if primary.lat is not None and primary.lon is not None:
                separation_m = round(distance_m(primary.lat, primary.lon, shadow.lat, shadow.lon), 1)
                details["separation_m"] = separation_m
        ctx.alerts.hold(
            type=self.id,
            mmsi=primary.mmsi,
            severity="warning",
            message=f"Two ships transmit as MMSI {primary.mmsi}"
            + (f" ({separation_m / 1852.0:.1f} NM apart)" if separation_m is not None else ""),
            lat=primary.lat,
            lon=primary.lon,
            details=details,
        )

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if not self._unseen.recorded:
            self._unseen.record(ctx.tracker, vessel, report)
        if not self.p.interleave or report.lat is None or report.lon is None:
            return
        if is_placeholder_mmsi(vessel.mmsi):
            return
        mmsi = vessel.mmsi
        fix = _Head.of(report)
        arrival = ctx.feeds.stamps_arrival(report.source)
        heads = self._heads.get(mmsi)
        if heads is None:
            # One head: the previous fix on the track (see `_Heads`).
            a = self._single_head(mmsi, vessel.previous_fix)
            if a is None or self._reachable(a, fix, arrival) or a.stale_at(fix.time):
                return  # the fix is the head now
            self._heads[mmsi] = _Heads(a, fix)  # no alternation yet: nothing more to do
            self.watch(ctx, mmsi)
            return
        if heads.a_is_last:
            previous = vessel.previous_fix  # (fixes `a` could reach may have been skipped)
            assert previous is not None and previous.lat is not None and previous.lon is not None
            heads.a = _Head.of(previous)
        if self._reachable(heads.a, fix, arrival):
            heads.a = fix
            heads.a_fixes_since_b += 1
            if not heads.a_is_last:
                heads.a_is_last = True
                self.unwatch(ctx, mmsi)
            return
        if heads.a_is_last:
            heads.a_is_last = False
            self.watch(ctx, mmsi)
        if self._reachable(heads.b, fix, arrival):
            if heads.a_fixes_since_b > 0:
                heads.alternations.append(fix.time)
            heads.a_fixes_since_b = 0
            heads.b = fix
        else:
            heads.b = fix
            heads.a_fixes_since_b = 0
        window = max(
            self.p.window_minutes * 60.0,
            (self.p.min_conflicts + ALTERNATION_INTERVALS) * max(heads.a.interval, heads.b.interval),
        )
        while heads.alternations and fix.time - heads.alternations[0] > window:
            heads.alternations.popleft()
        if heads.a.stale_at(fix.time):
            # the first head fell silent: the ship moved (one ship), and this fix is its head
            del self._heads[mmsi]
            self.unwatch(ctx, mmsi)
            return
        if len(heads.alternations) < self.p.min_conflicts:
            return
        self._last_conflict[vessel.mmsi] = fix.time
        if self._other_test_holds(ctx, vessel.mmsi, INTERLEAVED):
            return
        a, b = heads.a, heads.b
        sep = distance_m(a.lat, a.lon, b.lat, b.lon)
        ctx.alerts.hold(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning",
            message=f"Two ships transmit as MMSI {vessel.mmsi} ({sep / 1852.0:.1f} NM apart, interleaved)",
            lat=a.lat,
            lon=a.lon,
            details={
                "kind": "interleaved",
                "conflicts": len(heads.alternations),
                "window_min": self.p.window_minutes,
                "other_lat": round(b.lat, 6),
                "other_lon": round(b.lon, 6),
                "separation_m": round(sep, 1),
            },
        )

    def _other_test_holds(self, ctx: RuleContext, mmsi: int, test: str) -> bool:
        """Whether the other test raised the alert up for `mmsi`: then it stands as that test
        made it (`_last_conflict`, just set, keeps it up). Otherwise `test` holds it from now on."""
        other = self._raised_by.get(mmsi)
        if other is not None and other != test and ctx.alerts.is_active(self.id, mmsi):
            return True
        self._raised_by[mmsi] = test
        return False

    def _interleaved(
        self, ctx: RuleContext, primary: VesselState, shadow: VesselState | None, since: float
    ) -> bool:
        """Do the primary's fixes and the conflicting ones interleave? The primary has a fix after
        `since` (the first conflict of the window) that the shadow's latest cannot reach (a fix
        the shadow reaches is the conflicting stream itself, let onto the primary once the
        dead-reckoning allowance had grown with its silence), or the primary's latest fix came
        late (older than its position) from a place out of reach of that position: two places at
        overlapping times either way. Otherwise the conflicting fixes all came after the primary
        fell silent: one ship, moved."""
        here = _head_of(primary)
        if here is None:
            return False
        if here.time > since:
            there = None if shadow is None else _head_of(shadow)
            if there is None:
                return True
            late_one, early_one = (here, there) if here.time >= there.time else (there, here)
            arrival = ctx.feeds.stamps_arrival(_source(primary if late_one is here else shadow))
            return not self._reachable(early_one, late_one, arrival)
        late = primary.last_fix
        if late is None or late.time >= here.time or late.lat is None or late.lon is None:
            return False
        return not self._reachable(here, _Head.of(late), ctx.feeds.stamps_arrival(late.source))

    def _may_be_own_fixes_late(self, ctx: RuleContext, primary: VesselState, shadow: VesselState) -> bool:
        """On a feed seen to stamp arrival (`vts.feed_clock`), the second track may be the ship's own
        fixes of up to `arrival_delay_hours` before, delivered again (a satellite provider re-sent a
        ship's fixes of 1-2 hours before, stamped on arrival, and its track had turned since, so they
        did not lie on its course line): two ships are told only beyond the distance the ship could
        have sailed in that time. Far apart (two ships under one MMSI in different seas) they still are."""
        feeds = ctx.feeds
        if not (feeds.stamps_arrival(_source(shadow)) or feeds.stamps_arrival(_source(primary))):
            return False
        if primary.lat is None or primary.lon is None or shadow.lat is None or shadow.lon is None:
            return False
        sog = max(primary.sog or 0.0, shadow.sog or 0.0)
        reach_m = max(ARRIVAL_MIN_SPEED_KN, 2.0 * sog + 10.0) * KNOT_MS * self.p.arrival_delay_hours * 3600.0
        return distance_m(primary.lat, primary.lon, shadow.lat, shadow.lon) <= reach_m

    def _single_head(self, mmsi: int, fix: PositionReport | None) -> _Head | None:
        """The single head of a vessel with no split heads, from the previous fix on its track (none
        when this rule has never seen that fix: it was made after)."""
        if fix is None or fix.lat is None or fix.lon is None:
            return None
        if self._unseen.is_unseen(mmsi, fix, keep=False):
            return None
        return _Head.of(fix)

    def _reachable(self, head: _Head, fix: _Head, arrival: bool) -> bool:
        """Could the ship at `head` be at `fix`? The position_jump test, with terrestrial timing
        unless the fixes' seconds contradict the event times or the feed is known to stamp arrival
        (`arrival`: `vts.feed_clock`)."""
        dist = distance_m(head.lat, head.lon, fix.lat, fix.lon)
        if dist <= self.p.interleave_min_distance_m:
            return True
        dt = abs(fix.time - head.time) + 2.0
        if head.second is not None and fix.second is not None:
            ds = (fix.second - head.second) % 60
            off = abs((fix.time - head.time) % 60.0 - ds) % 60.0
            if min(off, 60.0 - off) > 3.0 or arrival:
                dt = max(dt, float(ds)) + UNRELIABLE_TIME_SLACK_S  # the feed stamps arrival, not the fix
        sog = max(head.sog or 0.0, fix.sog or 0.0)
        allowed_kn = max(self.p.interleave_min_speed_kn, 2.0 * sog + 10.0)
        return dist <= allowed_kn * KNOT_MS * dt

    def on_tick(self, ctx: RuleContext) -> None:
        horizon = ctx.now - self.p.clear_minutes * 60.0
        for mmsi in sorted(m for m, t in self._last_conflict.items() if t < horizon):
            del self._last_conflict[mmsi]
            self._raised_by.pop(mmsi, None)
            ctx.alerts.clear(
                type=self.id,
                mmsi=mmsi,
                message=f"No second ship seen as MMSI {mmsi} for {self.p.clear_minutes:g} min",
            )

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._last_conflict.pop(mmsi, None)
        self._raised_by.pop(mmsi, None)
        self._unseen.forget(mmsi)
        if self._heads.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)


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


def _head_of(track: VesselState) -> _Head | None:
    """The track's position as a head (its fix's UTC second when its latest fix is that one)."""
    t = track.position_time
    if t is None or track.lat is None or track.lon is None:
        return None
    fix = track.last_fix
    second = fix.second if fix is not None and fix.time == t else None
    return _Head(t, track.lat, track.lon, track.sog, track.cog, second, track.expected_interval())


def _source(track: VesselState | None) -> str:
    fix = None if track is None else track.last_fix
    return "" if fix is None else fix.source


def _at_null(track: VesselState) -> bool:
    """The track's position is (0, 0)."""
    return (
        track.lat is not None
        and track.lon is not None
        and abs(track.lat) < NULL_DEG
        and abs(track.lon) < NULL_DEG
    )


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
