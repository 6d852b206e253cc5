"""Bookkeeping for pairwise proximity rules (alongside, rendezvous): how long two vessels have
been close, observed on the reports of either, with no interpolation across reception gaps.

Slow Class B craft report only every 3 minutes, so a spell is seen on few fixes. When a spell
starts, the rule may date it back to the vessels' previous fixes (`previous_fix`, `since`) if they
were already close there and moved slowly in between (the interval is then bridged, as Global
Fishing Watch interpolates tracks between fixes) — never across more than `max_gap_s`. GNSS noise
and stray fixes: a rule raises a spell only when most recent looks found the pair close
(`Proximity.look`, `close_share`), and a pair whose latest fixes are far apart is apart only when
the previous fixes agree (`apart`).

Batched processing (`Rule.interest`): a vessel's report does something for a pair rule only when the
vessel is slow (it may then start a spell) or already in a pair (a fast report ends its spells). So
the rules ask for the slow reports (`slow_rows`) and watch every vessel while it is in a pair:
`PairWatch` calls its `on_member` hook when a vessel gets its first pair and when it loses its last.

`PairRule` is the base of the pair rules: the spells, the watch on their members, the mask, the
throttle on neighbourhood look-ups, and carrying all of it over a reload (`adopt`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import numpy as np
import shapely

from vts.batch import zone_union
from vts.rules._common import AREA_KINDS, ZoneKinds, zone_ids_of_kinds
from vts.rules.base import Rule, RuleParams
from vts.rules.params import PairParams
from vts.spatial import approx_distance_m

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.rules.base import RuleContext
    from vts.tracker import Fix, VesselState

KNOT_MS = 1852.0 / 3600.0

PairKey = tuple[int, int]


@dataclass(slots=True)
class Proximity:
    first: float
    """Event time the current close spell was first observed."""
    last: float
    """Latest event time the pair was observed close."""
    closest_m: float
    last_m: float
    extra: dict[str, Any] = field(default_factory=dict)
    looks: deque[tuple[float, bool]] = field(default_factory=deque)
    """Recent looks at the pair during the spell (event time, within the distance), for a rule
    that judges the spell by most of them (`look`, `close_share`)."""

    def duration(self) -> float:
        return self.last - self.first

    def look(self, now: float, close: bool, window_s: float) -> None:
        """A look at the pair at `now`: within the rule's distance or not; looks older than
        `window_s` are dropped."""
        looks = self.looks
        looks.append((now, close))
        while looks[0][0] < now - window_s:
            looks.popleft()

    def close_share(self) -> float:
        """The share of the recent looks that found the pair within the distance (1.0 with no
        look): GNSS noise next to the threshold puts some fixes on either side of it, and the
        share says on which side the pair mostly is (GFW judges an encounter by its median
        distance)."""
        looks = self.looks
        if not looks:
            return 1.0
        return sum(1 for _, close in looks if close) / len(looks)


class PairWatch:
    """Close spells of vessel pairs. `observe_close` extends (or starts) a spell; a spell whose
    last close observation is older than `max_gap_s` restarts rather than bridging the gap.

    `on_member(mmsi, True)` is called when a vessel gets its first pair, `on_member(mmsi, False)`
    when it loses its last (the rules watch the vessel in between: `PairMembers`)."""

    def __init__(self, max_gap_s: float, on_member: Callable[[int, bool], None] | None = None) -> None:
        self.max_gap_s = max_gap_s
        self.on_member = on_member
        self._pairs: dict[PairKey, Proximity] = {}
        self._by_vessel: dict[int, set[PairKey]] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def get(self, key: PairKey) -> Proximity | None:
        return self._pairs.get(key)

    def take_over(self, previous: PairWatch) -> None:
        """The spells of `previous` (a rule's reload), with this watch's gap and member callback."""
        self._pairs, self._by_vessel = previous._pairs, previous._by_vessel

    def starts_spell(self, key: PairKey, now: float) -> bool:
        """Whether a close observation at `now` would start a new spell (none, or after a gap)."""
        prox = self._pairs.get(key)
        return prox is None or now - prox.last > self.max_gap_s

    def observe_close(
        self, key: PairKey, now: float, distance_m: float, *, since: float | None = None
    ) -> Proximity:
        """A close observation at `now`. `since`: when a new spell starts, the earlier time the
        evidence shows it began (the previous fixes were already close, with slow movement between)."""
        prox = self._pairs.get(key)
        if prox is not None and now < prox.first:
            return prox  # older evidence than the spell itself: nothing new
        if prox is None or now - prox.last > self.max_gap_s:
            first = now if since is None or not 0.0 <= now - since <= self.max_gap_s else since
            prox = Proximity(first=first, last=now, closest_m=distance_m, last_m=distance_m)
            self._set(key, prox)
            return prox
        prox.last = max(prox.last, now)
        prox.last_m = distance_m
        prox.closest_m = min(prox.closest_m, distance_m)
        return prox

    def end(self, key: PairKey) -> Proximity | None:
        prox = self._pairs.pop(key, None)
        if prox is not None:
            for m in key:
                keys = self._by_vessel.get(m)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._by_vessel[m]
                        if self.on_member is not None:
                            self.on_member(m, False)
        return prox

    def end_and_clear(self, key: PairKey, alert_type: str, ctx: RuleContext, reason: str) -> None:
        """End the pair's spell and clear its alert (when one is active), with the spell's evidence."""
        prox = self.end(key)
        if prox is None or not ctx.alerts.is_active(alert_type, key[0], key[1]):
            return
        ctx.alerts.clear(
            type=alert_type,
            mmsi=key[0],
            other_mmsi=key[1],
            details={
                "reason": reason,
                "duration_s": round(prox.duration(), 1),
                "closest_m": round(prox.closest_m, 1),
            },
        )

    def has_pairs(self, mmsi: int) -> bool:
        return mmsi in self._by_vessel

    def restore(self, key: PairKey, prox: Proximity) -> None:
        """A spell saved before a restart (`PairRule.load_state`), its vessels members again."""
        self._set(key, prox)

    def _set(self, key: PairKey, prox: Proximity) -> None:
        """The pair's spell is `prox` now; a pair new to the watch makes its vessels members."""
        known = key in self._pairs
        self._pairs[key] = prox
        if known:
            return
        for m in key:
            keys = self._by_vessel.get(m)
            if keys is None:
                self._by_vessel[m] = {key}
                if self.on_member is not None:
                    self.on_member(m, True)
            else:
                keys.add(key)

    def pairs_of(self, mmsi: int) -> list[PairKey]:
        return sorted(self._by_vessel.get(mmsi, ()))

    def look_beyond(self, key: PairKey, now: float, window_s: float) -> None:
        """A look that found the pair beyond the rule's distance (`Proximity.look`), when it has a
        spell (none: nothing to judge)."""
        prox = self._pairs.get(key)
        if prox is not None:
            prox.look(now, False, window_s)

    def spells(self) -> list[tuple[PairKey, Proximity]]:
        """Every tracked pair with its spell, sorted by key (a handful, whatever the picture)."""
        return sorted(self._pairs.items())

    def stale(self, now: float, older_than_s: float) -> list[PairKey]:
        """Pairs not observed close for more than `older_than_s`, sorted (a sweep over the tracked
        pairs only: a handful, whatever the size of the picture)."""
        if not self._pairs:
            return []
        return sorted(k for k, p in self._pairs.items() if now - p.last > older_than_s)


class PairMembers:
    """Keeps a pair rule watching (`Rule.watch`) exactly the vessels that are in one of its pairs,
    as `PairWatch.on_member`. The engine's context is remembered from the rule's hooks (`bind`):
    `on_forget`, which ends a forgotten vessel's pairs, gets none."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.ctx: RuleContext | None = None

    def bind(self, ctx: RuleContext) -> None:
        self.ctx = ctx

    def __call__(self, mmsi: int, member: bool) -> None:
        ctx = self.ctx
        if ctx is None:
            return  # no hook has run yet, so no batch either: nothing to watch for
        if member:
            self.rule.watch(ctx, mmsi)
        else:
            self.rule.unwatch(ctx, mmsi)


P = TypeVar("P", bound=PairParams)
"""A pair rule's own parameters."""


class PairRule(Rule, Generic[P]):
    """The base of a pair rule: its close spells (`_pairs`), the watch on the vessels in a pair
    (`_members`), its `interest` (the slow reports in the watched area), and a per-vessel throttle
    on neighbourhood look-ups (`_look_now`). A reload with new parameters carries all of it on."""

    p: P

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        assert isinstance(params, PairParams)
        self.p = cast(P, params)
        self._members = PairMembers(self)
        self._pairs = PairWatch(params.max_gap_minutes * 60.0, self._on_member)
        self._next_check: dict[int, float] = {}
        """Event time from which each slow vessel's neighbourhood may be looked at again."""
        self._fast_since: dict[int, float] = {}
        """For a vessel in a pair that is under way, the time of the first fast report of its run
        (kept only while the vessel is in a pair, so it is watched: batched and one-by-one agree)."""
        self._area = ZoneKinds(AREA_KINDS)
        """The watched area (`_area.contains` is `in_watched_area`, a box test first)."""

    def _on_member(self, mmsi: int, member: bool) -> None:
        self._members(mmsi, member)
        if not member:
            self._fast_since.pop(mmsi, None)

    def _pace(self, mmsi: int, fast: bool, now: float) -> None:
        """A report of the vessel, under way (`fast`) or not: starts or ends its run of fast reports
        while it is in a pair (`_ends_under_way`)."""
        if not fast:
            self._fast_since.pop(mmsi, None)
        elif self._pairs.has_pairs(mmsi):
            self._fast_since.setdefault(mmsi, now)

    def _ends_under_way(self, key: PairKey, mmsi: int, ctx: RuleContext) -> bool:
        """Whether the vessel `mmsi` of the pair, under way, ends it now: at once while the pair has
        no alert up (a spell needs both slow throughout); with one up, once the vessel has been
        under way for `underway_grace_s` or is beyond the distance and margin from its partner."""
        if not ctx.alerts.is_active(self.id, key[0], key[1]):
            return True
        since = self._fast_since.get(mmsi)
        if since is None or ctx.now - since >= self.p.underway_grace_s:
            return True
        gap = self._gap_m(key, ctx)
        return gap is None or gap > self.p.distance_m + self.p.clear_margin_m

    def _gap_m(self, key: PairKey, ctx: RuleContext) -> float | None:
        """The pair's distance as the rule measures it, at the two vessels' latest fixes (None when
        one has no position)."""
        a, b = ctx.tracker.get(key[0]), ctx.tracker.get(key[1])
        if a is None or b is None or a.lat is None or a.lon is None or b.lat is None or b.lon is None:
            return None
        return approx_distance_m(a.lat, a.lon, b.lat, b.lon)

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """The slow position reports in the watched area. A report with a SOG at or above
        `max_speed_kn` of a vessel in no pair ends nothing (and a pair rule's `late_fixes` is False:
        the tracker applies every fix it is given, so the vessel is left fast); the vessels in a pair
        are watched, so their fast reports still come."""
        self._members.bind(ctx)
        slow = slow_rows(batch, self.p.max_speed_kn)
        if not zone_ids_of_kinds(ctx.zones, AREA_KINDS):
            return slow  # (`in_watched_rows` is True: watched everywhere)
        return batch.memo(
            ("pairs:slow_near_area", id(ctx.zones), self.p.max_speed_kn),
            lambda: _slow_near_area(batch, ctx, slow),
        )

    def adopt(self, previous: Rule) -> bool:
        """The close spells do not depend on the thresholds: carried on (a spell is judged by the
        new ones from its next observation)."""
        assert isinstance(previous, PairRule)
        self._pairs.take_over(previous._pairs)
        self._next_check = previous._next_check
        self._fast_since = previous._fast_since
        return True

    def save_state(self, ctx: RuleContext) -> dict[str, Any] | None:
        """The close spells and the vessels' paces, for a restart: a pair together at the restart
        goes on with the same duration and closest distance, its alert updated and cleared as
        without the restart (a new spell would have to last the rule's minimum again first)."""
        if not self._pairs:
            return None
        spells = [
            [list(key), p.first, p.last, p.closest_m, p.last_m, p.extra, [list(look) for look in p.looks]]
            for key, p in self._pairs.spells()
        ]
        members = {m for key, _ in self._pairs.spells() for m in key}
        return {
            "spells": spells,
            "fast_since": sorted(self._fast_since.items()),
            "next_check": sorted((m, t) for m, t in self._next_check.items() if m in members),
        }

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        """The spells of the pairs whose vessels the tracker took up (their members watched)."""
        self._members.bind(ctx)
        known = ctx.tracker.get
        for (a, b), first, last, closest, last_m, extra, looks in state.get("spells", []):
            key = (int(a), int(b))
            if known(key[0]) is None or known(key[1]) is None:
                continue
            prox = Proximity(float(first), float(last), float(closest), float(last_m), dict(extra))
            prox.looks.extend((float(t), bool(close)) for t, close in looks)
            self._pairs.restore(key, prox)
        for mmsi, t in state.get("fast_since", []):
            if self._pairs.has_pairs(int(mmsi)):
                self._fast_since.setdefault(int(mmsi), float(t))
        for mmsi, t in state.get("next_check", []):
            self._next_check.setdefault(int(mmsi), float(t))

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._next_check.pop(mmsi, None)
        self._fast_since.pop(mmsi, None)
        for key in self._pairs.pairs_of(mmsi):
            self._pairs.end(key)

    def on_tick(self, ctx: RuleContext) -> None:
        for key in self._pairs.stale(ctx.now, self.p.lost_minutes * 60.0):
            self._end(key, ctx, "pair not observed close any more")
        # under way for the whole grace, with no report since to say so (it left, or went dark)
        for mmsi, since in sorted(self._fast_since.items()):
            if ctx.now - since < self.p.underway_grace_s:
                continue
            vessel = ctx.tracker.get(mmsi)
            speed = "" if vessel is None or vessel.sog is None else f" ({vessel.sog:.1f} kn)"
            for key in self._pairs.pairs_of(mmsi):
                self._end(key, ctx, f"{mmsi} under way{speed}")

    def _end(self, key: PairKey, ctx: RuleContext, reason: str) -> None:
        """End the pair's spell and clear its alert, if any (`PairWatch.end_and_clear`)."""
        self._pairs.end_and_clear(key, self.id, ctx, reason)

    def _look_now(self, mmsi: int, now: float) -> bool:
        """Whether to look at the slow vessel's neighbourhood now: at most once every
        `check_every_s` of event time (a crowd of slow boats reporting every few seconds would
        otherwise search the grid on every report)."""
        due = self._next_check.get(mmsi)
        if due is not None and now < due:
            return False
        self._next_check[mmsi] = now + self.p.check_every_s
        return True


def slow_rows(batch: ReportBatch, max_speed_kn: float) -> np.ndarray:
    """Position reports whose SOG is not given or under `max_speed_kn` (NaN compares false)."""
    return batch.is_position & ~(batch.sog >= max_speed_kn)


def in_watched_rows(batch: ReportBatch, ctx: RuleContext) -> np.ndarray | bool:
    """Rows within 20 m of the watched area (a superset of `in_watched_area`, whose polygons the
    union may shift by a rounding error); True when no area is configured (watched everywhere)."""
    if not zone_ids_of_kinds(ctx.zones, AREA_KINDS):
        return True
    return batch.near_zone_kinds(ctx.zones, AREA_KINDS, 20.0)


def _slow_near_area(batch: ReportBatch, ctx: RuleContext, slow: np.ndarray) -> np.ndarray:
    """`slow & in_watched_rows(batch, ctx)` with a zone of the area kinds configured: the same
    geometry test (`ReportBatch.within` of the same union), made only for the slow rows within its
    bounds (a point outside them cannot intersect it: the usual fix is far from the area, or fast)."""
    out = np.zeros(len(batch), dtype=bool)
    geometry = zone_union(ctx.zones, AREA_KINDS, 20.0)
    if geometry is None or geometry.is_empty:
        return out
    x0, y0, x1, y1 = geometry.bounds
    lat, lon = batch.lat, batch.lon
    rows = np.flatnonzero(slow & (lat >= y0) & (lat <= y1) & (lon >= x0) & (lon <= x1))
    if len(rows):
        out[rows] = shapely.intersects_xy(geometry, lon[rows], lat[rows])
    return out


def apart(
    a: VesselState,
    b: VesselState,
    limit_m: float,
    max_gap_s: float,
    distance: Callable[[float, float, float, float], float] = approx_distance_m,
) -> bool:
    """Whether two vessels whose latest fixes are beyond `limit_m` of each other are apart: not
    when the previous fix of either (no more than `max_gap_s` before its latest) is within
    `limit_m` of the other's latest position. A single stray fix, GNSS noise or an outlier, is not
    a parting: the next fix will tell. `distance(a_lat, a_lon, b_lat, b_lon)` measures from a
    position of `a` to one of `b` (the ground distance unless the rule measures to a hull)."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return True
    ta, tb = a.trail, b.trail
    if len(ta) >= 2 and ta[-1].time - ta[-2].time <= max_gap_s:
        prev = ta[-2]
        if distance(prev.lat, prev.lon, b.lat, b.lon) <= limit_m:
            return False
    if len(tb) >= 2 and tb[-1].time - tb[-2].time <= max_gap_s:
        prev = tb[-2]
        if distance(a.lat, a.lon, prev.lat, prev.lon) <= limit_m:
            return False
    return True


def previous_fix(vessel: VesselState, max_speed_kn: float, max_gap_s: float) -> Fix | None:
    """The fix before the vessel's latest one, when the vessel moved from it to the latest at under
    `max_speed_kn` (implied speed) within `max_gap_s`; else None."""
    trail = vessel.trail
    if len(trail) < 2:
        return None
    prev, cur = trail[-2], trail[-1]
    dt = cur.time - prev.time
    if dt <= 0 or dt > max_gap_s:
        return None
    implied_kn = approx_distance_m(prev.lat, prev.lon, cur.lat, cur.lon) / dt / KNOT_MS
    return prev if implied_kn < max_speed_kn else None
