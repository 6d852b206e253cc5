"""loitering: a vessel dawdling where it has no business to, with a flag for circling.

Fires (state alert, `severity`) when, over a sliding window of `small_craft_minutes` (30) for small
craft or `other_minutes` (60) for other vessels, the vessel's mean speed over ground is under
`max_speed_kn` (2 kn), or it is circling: turning through `circling_turn_deg` (360 degrees) or more
within `circling_minutes` (30) at 1-6 kn while staying within `circling_radius_m` (300 m, radius of
gyration) of one spot, and going round it at `circling_min_radius_m` (20 m) or more: a vessel lying
still whose receiver reports a noisy course at about 1 kn "turns" within a few metres.

Only inside the watched area, outside anchorages, berths, terminals, fishing docks and waiting areas
(`exempt_zone_kinds`), not while at anchor or moored by status, not for allow-listed vessels or
service ship types (pilot boats waiting, tugs, coastguard patrols), and not for a vessel already
reported by unauthorised_anchoring (one stopped ship, one alert).

Mean speed is the time-weighted mean of reported SOG (GNSS receivers filter it) over fixes sampled
every `sample_s` seconds, not the sum of distances between fixes, which GPS jitter inflates at low
speed. A reception gap longer than `max_gap_minutes` restarts the window, unless it is no longer
than `bridge_gap_minutes` (30) and the vessel is heard again where it could have drifted at under
`max_speed_kn` (a Class B boat lying still reports every 3 minutes, and with 20 % of its messages
lost three in a row go missing often: an independent generator's boat circling at 1.5 kn was never
raised, its window restarted by gaps of 9 and 15 minutes); no turning is counted across a gap. The
alert clears when the
vessel makes way (mean SOG over the last `clear_minutes` at least `clear_kn`), enters an exempt
zone, sets an anchored/moored status, or has been silent for `lost_minutes`.

Batched processing: the rule has no `Rule.interest` mask, it must see every fix of every vessel.
What a fix does to a track (the window, the sampling rhythm) can matter for an alert much later and
far away: the samples are taken at least `sample_s` apart counting from the previous sample, so the
rhythm set by fixes hours before (only a `max_gap_minutes` reception gap or an exempt place restarts
it) decides which fixes are sampled when the vessel slows down inside the watched area, hence the
mean speed and the moment the alert is raised; and the samples of the last hour, taken anywhere,
count towards the window. No fix, however far or fast, can be left out without changing an alert
somewhere. What the rule does instead is cheap per fix: the common fix (not due for a sample) costs a
few attribute updates, and the zone, area and window computations are only done at samples, and
only when their answer can change something (a vessel that is under way, or is not active and is
outside the watched area, is decided without them)."""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vts.rules._common import (
    AREA_KINDS,
    ZoneKinds,
    at_kinds,
    declares_service_type,
    is_allowlisted,
    is_vessel_mmsi,
    label,
)
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import LoiteringParams
from vts.spatial import local_offset_m
from vts.vessel_class import AT_ANCHOR, MOORED, is_small_craft

if TYPE_CHECKING:
    from vts.reports import PositionReport
    from vts.tracker import VesselState

TYPE = "loitering"
EXEMPT_STATUSES = frozenset({AT_ANCHOR, MOORED, 2, 6})
"""At anchor, moored, not under command, aground: not loitering whatever the speed."""
PRUNE_EVERY_S = 600.0
MORE_SPECIFIC = ("unauthorised_anchoring", "alongside", "rendezvous", "drifting")
"""A vessel already reported by one of these is not also reported as loitering."""


_Sample = tuple[float, float, float, float, float]
"""(t, sog, lat, lon, turn): time; mean reported SOG since the previous sample; position; signed
turning (degrees, + clockwise) at 1-6 kn since the previous sample. A plain tuple: one is made per
sample of every vessel, and the garbage collector stops tracking a tuple of floats."""


@dataclass(slots=True)
class _Track:
    seq: int
    """Tells this track from an earlier one of the same vessel (see `LoiteringRule._expiry`)."""
    samples: deque[_Sample] = field(default_factory=deque)
    last_t: float = -math.inf
    last_cog: float | None = None
    acc_sog: float = 0.0
    acc_n: int = 0
    acc_turn: float = 0.0
    circled: bool = False
    """It circled during the alert now up (the flag stays until the alert ends: a circle drawn does
    not come and go with each sample of the window, which made an update every 30 s)."""
    last_lat: float = math.nan
    last_lon: float = math.nan
    """Where the latest fix was (a reception gap is bridged when the vessel is heard again near it)."""
    sample_t: float = -math.inf
    """Time of the newest sample (`samples[-1][0]`), -inf when there is none; and ..."""
    second_t: float = math.inf
    """... of the second oldest (`samples[1][0]`), inf when there is none: both read on the track
    itself, so that the per-fix tests touch no old sample (a window of an hour of samples of
    thousands of vessels is far out of the CPU cache). `on_position` and `_clear_samples` keep them."""


class LoiteringRule(Rule):
    id = TYPE
    Params = LoiteringParams
    tick_seconds = 60.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: LoiteringParams = params  # type: ignore[assignment]
        self._tracks: dict[int, _Track] = {}
        self._next_prune = -math.inf
        self._keep_s = max(self.p.small_craft_minutes, self.p.other_minutes, self.p.circling_minutes) * 60.0
        # the parameters read on every fix, as plain floats (the same values the expressions give)
        self._gap_s = self.p.max_gap_minutes * 60.0
        self._sample_s = self.p.sample_s
        self._circ_min = self.p.circling_min_kn
        self._circ_max = self.p.circling_max_kn
        self._area = ZoneKinds(AREA_KINDS)
        self._exempt = ZoneKinds(self.p.exempt_zone_kinds)
        self._seq = itertools.count()
        self._expiry: list[tuple[float, int, int]] = []
        """Heap of (lower bound of a track's last_t, its seq, MMSI): the pruning looks at the tracks
        that may have gone silent, not at every track."""

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        """Every fix: track upkeep (kept short: it runs for every vessel), then a sample when due."""
        mmsi = vessel.mmsi
        tr = self._tracks.get(mmsi)
        lat, lon = report.lat, report.lon
        if tr is None:
            if vessel.own_ship or lat is None or lon is None or not is_vessel_mmsi(mmsi):
                return
            seq = next(self._seq)
            tr = self._tracks[mmsi] = _Track(seq)
            t = report.time  # the track's last_t once this fix is taken just below (NaN aside)
            heapq.heappush(self._expiry, (t if t == t else -math.inf, seq, mmsi))
        elif vessel.own_ship or lat is None or lon is None:
            return  # (a track exists only for a vessel MMSI: no need to ask again)
        t = report.time
        last = tr.last_t
        if t <= last:
            return
        if t - last > self._gap_s:
            if self._bridged(tr, t - last, lat, lon):
                tr.last_cog = None  # (no turning counted across the gap)
            else:
                _clear_samples(tr)
                tr.last_cog, tr.acc_sog, tr.acc_n, tr.acc_turn = None, 0.0, 0, 0.0
        tr.last_t = t
        tr.last_lat = lat
        tr.last_lon = lon
        sog = report.sog
        if sog is not None:
            cog = report.cog
            if cog is not None and self._circ_min <= sog <= self._circ_max:
                last_cog = tr.last_cog
                if last_cog is not None:  # the signed smallest turn, in (-180, 180]
                    d = (cog - last_cog) % 360.0
                    tr.acc_turn += d - 360.0 if d > 180.0 else d
                tr.last_cog = cog
            else:
                tr.last_cog = None
            tr.acc_sog += sog
            tr.acc_n += 1
        else:
            tr.last_cog = None
        if t - tr.sample_t < self._sample_s:  # (no sample yet: t - -inf is never under it)
            return
        # A fix due for a sample: the window restarts at an exempt place, else the sample is taken
        # and the vessel evaluated. About half the fixes of real traffic come here (many vessels
        # report less often than `sample_s`), so the common outcomes are decided inline.
        samples = tr.samples
        acc_n = tr.acc_n
        circ_max = self._circ_max
        mean = tr.acc_sog / acc_n if acc_n else 0.0  # (no SOG at all: implied speed, below)
        if not mean > circ_max and self._may_be_exempt(mmsi, report.nav_status, lat, lon, ctx):
            place = self._exempt_place(vessel, report, ctx)
            if place is not None:
                # time at a berth, in an anchorage or at anchor does not count: the window restarts
                _clear_samples(tr)
                tr.acc_sog, tr.acc_n, tr.acc_turn = 0.0, 0, 0.0
                if ctx.alerts.is_active(TYPE, mmsi):
                    ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": place})
                return
        if not acc_n and samples:  # no SOG at all: implied speed since the previous sample
            prev_t, _, prev_lat, prev_lon, _ = samples[-1]
            e, n = local_offset_m(prev_lat, prev_lon, lat, lon)
            mean = math.hypot(e, n) / (t - prev_t) * 3600.0 / 1852.0
        samples.append((t, mean, lat, lon, tr.acc_turn))
        tr.sample_t = t
        tr.acc_sog, tr.acc_n, tr.acc_turn = 0.0, 0, 0.0
        n_samples = len(samples)
        if n_samples == 2:
            tr.second_t = t
        elif n_samples > 2:
            # the samples before the one at or before `keep_s` ago are dropped (that one is kept:
            # the window's mean reaches back to it); `second_t` says whether any is due
            limit = t - self._keep_s
            second = tr.second_t
            if second <= limit:
                while len(samples) > 2 and second <= limit:
                    samples.popleft()
                    second = samples[1][0]
                tr.second_t = second
        active = ctx.alerts.is_active(TYPE, mmsi)
        if not active:
            if mean > circ_max:
                return  # under way: the common case, decided cheaply
            if not self._area.contains(ctx.zones, lat, lon):  # (`in_watched_area`, box first)
                return  # `_excluded` would say so whatever the window holds: skip the window
        self._evaluate(vessel, report, tr, ctx, active)

    def _bridged(self, tr: _Track, gap_s: float, lat: float, lon: float) -> bool:
        """Whether a reception gap longer than `max_gap_minutes` keeps the window: no longer than
        `bridge_gap_minutes`, and the vessel heard again within what it could have drifted in it at
        under `max_speed_kn` (a slow boat's lost reports, not a boat that went away)."""
        if gap_s > self.p.bridge_gap_minutes * 60.0 or tr.last_lat != tr.last_lat or not tr.samples:
            return False
        e, n = local_offset_m(tr.last_lat, tr.last_lon, lat, lon)
        return math.hypot(e, n) < self.p.max_speed_kn * 1852.0 / 3600.0 * gap_s

    def adopt(self, previous: Rule) -> bool:
        """The tracks (samples and turning) do not depend on the thresholds: carried on."""
        assert isinstance(previous, LoiteringRule)
        self._tracks, self._expiry, self._seq = previous._tracks, previous._expiry, previous._seq
        self._next_prune = previous._next_prune
        return True

    def on_tick(self, ctx: RuleContext) -> None:
        """Clears the alerts of silent vessels and drops long-silent tracks, touching only the
        vessels with an alert and the tracks that may be silent (`_expiry`)."""
        lost = self.p.lost_minutes * 60.0
        now = ctx.now
        for mmsi, _, _ in ctx.alerts.active_keys(TYPE):
            tr = self._tracks.get(mmsi)
            if tr is None:
                continue  # an alert restored at a restart without its track: its next fix decides
            if now - tr.last_t >= lost:
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": "target silent"})
        if now >= self._next_prune:  # drop the state of vessels long silent (bounded memory)
            self._next_prune = now + PRUNE_EVERY_S
            keep = self._keep_s
            expiry = self._expiry
            tracks = self._tracks
            # a key never exceeds its track's last_t: once `now - key <= keep`, no later one is due
            due: list[tuple[float, int, int]] = []
            while expiry and now - expiry[0][0] > keep:
                due.append(heapq.heappop(expiry))
            for _, seq, mmsi in due:
                tr = tracks.get(mmsi)
                if tr is None or tr.seq != seq:
                    continue  # the track was forgotten (or replaced) meanwhile
                if now - tr.last_t > keep:
                    del tracks[mmsi]
                else:  # still reporting: due again one `keep` after its last fix
                    last = tr.last_t
                    heapq.heappush(expiry, (last if last == last else -math.inf, seq, mmsi))

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._tracks.pop(mmsi, None)

    def save_state(self, ctx: RuleContext) -> dict[str, Any] | None:
        """The windows of the vessels reported loitering: after a restart their alerts go on with
        the same mean speed and turning, and clear when they would have ("target silent" only for
        a vessel that is silent, not for one whose window was lost)."""
        tracks = []
        for mmsi, _, _ in sorted(ctx.alerts.active_keys(TYPE)):
            tr = self._tracks.get(mmsi)
            if tr is not None and tr.samples:
                tracks.append(
                    [
                        mmsi,
                        tr.last_t,
                        tr.last_cog,
                        tr.acc_sog,
                        tr.acc_n,
                        tr.acc_turn,
                        tr.circled,
                        list(tr.samples),
                        [tr.last_lat, tr.last_lon] if tr.last_lat == tr.last_lat else None,
                    ]
                )
        return {"tracks": tracks} if tracks else None

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        """The saved windows, unless the restart took longer than any reception gap the window
        survives (`bridge_gap_minutes`; a shorter one is judged at the vessel's next fix, as any
        gap): then the vessel's next fixes start a new one."""
        if ctx.now - saved_at > max(self._gap_s, self.p.bridge_gap_minutes * 60.0):
            return
        for mmsi, last_t, last_cog, acc_sog, acc_n, acc_turn, circled, samples, *rest in state.get(
            "tracks", []
        ):
            seq = next(self._seq)
            tr = _Track(
                seq,
                deque(tuple(float(x) for x in sample) for sample in samples),  # type: ignore[misc]
                float(last_t),
                None if last_cog is None else float(last_cog),
                float(acc_sog),
                int(acc_n),
                float(acc_turn),
                bool(circled),
            )
            if rest and rest[0] is not None:
                tr.last_lat, tr.last_lon = float(rest[0][0]), float(rest[0][1])
            if tr.samples:
                tr.sample_t = tr.samples[-1][0]
            if len(tr.samples) > 1:
                tr.second_t = tr.samples[1][0]
            self._tracks[int(mmsi)] = tr
            heapq.heappush(self._expiry, (tr.last_t, seq, int(mmsi)))

    # -- internals -------------------------------------------------------------------------------
    @staticmethod
    def _mean_sog(samples: deque[_Sample], start: float) -> float | None:
        """Time-weighted mean SOG after `start`; None when the samples do not reach back to it."""
        if not samples or samples[0][0] > start:
            return None
        total = 0.0
        weight = 0.0
        prev_t: float | None = None
        for t, sog, _, _, _ in samples:
            if prev_t is not None and t > start:
                span = t - max(prev_t, start)
                total += sog * span
                weight += span
            prev_t = t
        return total / weight if weight > 0 else None

    def _circling(self, samples: deque[_Sample], start: float) -> tuple[float, float | None]:
        """(net turning in degrees, radius of gyration in metres) of the samples after `start`."""
        if not samples or samples[0][0] > start:
            return 0.0, None
        pts = [s for s in samples if s[0] > start]
        turn = sum(s[4] for s in pts)
        if abs(turn) < self.p.circling_turn_deg or not pts:
            return turn, None  # not turning enough: the radius does not matter
        lat0 = sum(s[2] for s in pts) / len(pts)
        lon0 = sum(s[3] for s in pts) / len(pts)
        r2 = 0.0
        for _, _, lat, lon, _ in pts:
            e, n = local_offset_m(lat0, lon0, lat, lon)
            r2 += e * e + n * n
        return turn, math.sqrt(r2 / len(pts))

    def _evaluate(
        self, vessel: VesselState, report: PositionReport, tr: _Track, ctx: RuleContext, active: bool
    ) -> None:
        """The window of a vessel with an alert, or slow (or turning) in the watched area."""
        p = self.p
        now = report.time
        mmsi = vessel.mmsi
        current = tr.samples[-1][1]
        assert report.lat is not None and report.lon is not None
        lat, lon = report.lat, report.lon
        if not active and (
            is_allowlisted(ctx.allowlists, mmsi, p.exempt_roles)
            or declares_service_type(vessel, p.exempt_ship_types)
        ):
            return  # `_excluded` would say so below whatever the window holds: skip the window
        small = is_small_craft(vessel)
        window = (p.small_craft_minutes if small else p.other_minutes) * 60.0
        mean = self._mean_sog(tr.samples, now - window)
        turn, radius = self._circling(tr.samples, now - p.circling_minutes * 60.0)
        circling = (
            abs(turn) >= p.circling_turn_deg
            and radius is not None
            and p.circling_min_radius_m <= radius <= p.circling_radius_m
        )
        if active:
            reason = self._excluded(vessel, report, ctx, lat, lon)
            if reason is None and not circling:
                recent = self._mean_sog(tr.samples, now - p.clear_minutes * 60.0)
                if recent is not None and recent >= p.clear_kn:
                    reason = f"under way again ({recent:.1f} kn)"
            if reason is not None:
                tr.circled = False
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": reason})
                return
        else:
            tr.circled = False
            slow = mean is not None and mean < p.max_speed_kn and current < p.clear_kn
            if not (slow or circling):
                return
            if self._excluded(vessel, report, ctx, lat, lon) is not None:
                return
        tr.circled = tr.circled or circling
        if circling:
            what = "circling"
        elif mean is None:
            what = "loitering"
        elif mean < p.max_speed_kn:
            what = f"loitering at {mean:.1f} kn mean"
        else:  # held until it is under way again (`clear_kn`), or after circling
            what = f"loitering ({mean:.1f} kn mean; ends above {p.clear_kn:g} kn)"
        ctx.alerts.hold(
            type=TYPE,
            mmsi=mmsi,
            severity=p.severity,
            message=f"{label(vessel, mmsi)} {what} over {window / 60:.0f} min",
            lat=lat,
            lon=lon,
            # (measures given only when known: a value coming and going as None would count as a
            # change of the evidence's kind and publish an update at every sample)
            details={
                **({} if mean is None else {"mean_sog_kn": round(mean, 2)}),
                "window_min": window / 60.0,
                "circling": tr.circled,
                "turn_deg": round(turn, 0),
                **({} if radius is None else {"radius_m": round(radius, 0)}),
                "small_craft": small,
                "category": vessel.category,
            },
        )

    def _may_be_exempt(
        self, mmsi: int, nav_status: int | None, lat: float, lon: float, ctx: RuleContext
    ) -> bool:
        """False when `_exempt_place` would say None for certain (the usual answer, found with
        neither the zone index nor the sorted ids): no exempt status, not confirmed in an exempt
        zone, and outside the box of the exempt zones."""
        if nav_status in EXEMPT_STATUSES:
            return True
        zones = ctx.zones
        exempt = self._exempt
        if zones is not exempt.zones:
            exempt.load(zones)
        ids = exempt.ids
        if not ids:
            return False
        box = exempt.box
        if box is not None and box[0] <= lon <= box[2] and box[1] <= lat <= box[3]:
            return True  # (`exempt.near`, inline)
        return not ids.isdisjoint(zones.zones_of(mmsi))

    def _exempt_place(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> str | None:
        """Why this fix does not count towards loitering (None: it does): an exempt status, or in
        an exempt zone, the vessel being confirmed in one (`in_kinds`) or the fix inside one
        (`at_kinds`, after the box test)."""
        if report.nav_status in EXEMPT_STATUSES:
            return f"navigational status {report.nav_status}"
        lat, lon = report.lat, report.lon
        assert lat is not None and lon is not None
        zones = ctx.zones
        exempt = self._exempt
        if zones is not exempt.zones:
            exempt.load(zones)
        if not exempt.ids:
            return None
        member = zones.zones_of(vessel.mmsi)
        if member:
            inside = member & exempt.ids
            if inside:
                return f"inside {min(inside)}"  # the first of them sorted, as `in_kinds` gives them
        if exempt.near(lat, lon):
            at = at_kinds(zones, lat, lon, exempt.kinds)
            if at:
                return f"inside {at[0]}"
        return None

    def _excluded(
        self, vessel: VesselState, report: PositionReport, ctx: RuleContext, lat: float, lon: float
    ) -> str | None:
        p = self.p
        if is_allowlisted(ctx.allowlists, vessel.mmsi, p.exempt_roles):
            return "allow-listed"
        if declares_service_type(vessel, p.exempt_ship_types):
            return f"service vessel (type {vessel.ship_type})"
        for other in MORE_SPECIFIC:
            if _involved(ctx, other, vessel.mmsi):
                return f"reported as {other}"
        if not self._area.contains(ctx.zones, lat, lon):
            return "outside the watched area"
        return None


def _clear_samples(tr: _Track) -> None:
    """Restart the track's window: no samples (and `sample_t`, `second_t` saying so)."""
    tr.samples.clear()
    tr.sample_t = -math.inf
    tr.second_t = math.inf


def _involved(ctx: RuleContext, type_: str, mmsi: int) -> bool:
    """Whether the vessel has an active alert of this type (either side of a pair)."""
    if ctx.alerts.is_active(type_, mmsi):
        return True
    return any(mmsi in (m, o) for m, o, _ in ctx.alerts.active_keys(type_))


RULE = LoiteringRule
