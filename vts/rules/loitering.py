"""loitering: a vessel dawdling where it has no business to, with a flag for circling.

Fires (state alert, `severity`) when, over a sliding window of `small_craft_minutes` (30) for small
craft or `other_minutes` (60) for other vessels, the vessel's mean speed over ground is under
`max_speed_kn` (2 kn), or it is circling: turning through `circling_turn_deg` (360 degrees) or more
within `circling_minutes` (30) at 1-6 kn while staying within `circling_radius_m` (300 m, radius of
gyration) of one spot.

Only inside the watched area, outside anchorages, berths, terminals, fishing docks and waiting areas
(`exempt_zone_kinds`), not while at anchor or moored by status, not for allow-listed vessels or
service ship types (pilot boats waiting, tugs, coastguard patrols), and not for a vessel already
reported by unauthorised_anchoring (one stopped ship, one alert).

Mean speed is the time-weighted mean of reported SOG (GNSS receivers filter it) over fixes sampled
every `sample_s` seconds, not the sum of distances between fixes, which GPS jitter inflates at low
speed. A reception gap longer than `max_gap_minutes` restarts the window. The alert clears when the
vessel makes way (mean SOG over the last `clear_minutes` at least `clear_kn`), enters an exempt
zone, sets an anchored/moored status, or has been silent for `lost_minutes`."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from vts.rules._common import (
    ALL_ROLES,
    SERVICE_SHIP_TYPES,
    at_kinds,
    in_kinds,
    in_watched_area,
    is_allowlisted,
    is_vessel_mmsi,
    label,
)
from vts.rules.base import Rule, RuleContext, RuleParams
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


class LoiteringParams(RuleParams):
    max_speed_kn: float = Field(2.0, gt=0, description="mean SOG under this over the window is loitering")
    small_craft_minutes: float = Field(30.0, gt=0, description="window for small craft")
    other_minutes: float = Field(60.0, gt=0, description="window for other vessels")
    circling_turn_deg: float = Field(360.0, gt=0, description="net turning that counts as circling")
    circling_minutes: float = Field(30.0, gt=0, description="window for the circling test")
    circling_min_kn: float = Field(1.0, ge=0, description="turns count only at or above this SOG")
    circling_max_kn: float = Field(6.0, gt=0, description="... and at or below this SOG")
    circling_radius_m: float = Field(300.0, gt=0, description="circling stays within this radius of gyration")
    clear_kn: float = Field(3.0, gt=0, description="under way again: mean SOG at least this ...")
    clear_minutes: float = Field(5.0, gt=0, description="... over the last this many minutes")
    sample_s: float = Field(30.0, gt=0, description="fixes are sampled at most this often")
    max_gap_minutes: float = Field(10.0, gt=0, description="a longer reception gap restarts the window")
    lost_minutes: float = Field(15.0, gt=0, description="an active alert clears after this much silence")
    exempt_zone_kinds: list[str] = Field(
        default_factory=lambda: ["anchorage", "berth", "terminal", "fishing_dock", "waiting_area"],
        description="zone kinds where slow movement is normal",
    )
    exempt_roles: list[str] = Field(default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt")
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose work includes waiting about (pilot, SAR, tug, port tender, police)",
    )
    severity: Literal["alarm", "warning", "caution"] = Field("warning", description="alert severity")


@dataclass(slots=True)
class _Sample:
    t: float
    sog: float
    """Mean reported SOG since the previous sample."""
    lat: float
    lon: float
    turn: float
    """Signed turning (degrees, + clockwise) at 1-6 kn since the previous sample."""


@dataclass(slots=True)
class _Track:
    samples: deque[_Sample] = field(default_factory=deque)
    last_t: float = -math.inf
    last_cog: float | None = None
    acc_sog: float = 0.0
    acc_n: int = 0
    acc_turn: float = 0.0


def _turn(a: float, b: float) -> float:
    """Signed smallest turn from course a to course b, degrees in (-180, 180]."""
    d = (b - a) % 360.0
    return d - 360.0 if d > 180.0 else d


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

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.own_ship or report.lat is None or report.lon is None or not is_vessel_mmsi(vessel.mmsi):
            return
        p = self.p
        t = report.time
        tr = self._tracks.get(vessel.mmsi)
        if tr is None:
            tr = self._tracks[vessel.mmsi] = _Track()
        if t <= tr.last_t:
            return
        if t - tr.last_t > p.max_gap_minutes * 60.0:
            tr.samples.clear()
            tr.last_cog, tr.acc_sog, tr.acc_n, tr.acc_turn = None, 0.0, 0, 0.0
        tr.last_t = t
        sog = report.sog
        cog = report.cog
        if sog is not None and cog is not None and p.circling_min_kn <= sog <= p.circling_max_kn:
            if tr.last_cog is not None:
                tr.acc_turn += _turn(tr.last_cog, cog)
            tr.last_cog = cog
        else:
            tr.last_cog = None
        if sog is not None:
            tr.acc_sog += sog
            tr.acc_n += 1
        samples = tr.samples
        if samples and t - samples[-1].t < p.sample_s:
            return
        fast = tr.acc_n > 0 and tr.acc_sog / tr.acc_n > p.circling_max_kn
        place = None if fast else self._exempt_place(vessel, report, ctx)
        if place is not None:
            # time at a berth, in an anchorage or at anchor does not count: the window restarts
            samples.clear()
            tr.acc_sog, tr.acc_n, tr.acc_turn = 0.0, 0, 0.0
            if ctx.alerts.is_active(TYPE, vessel.mmsi):
                ctx.alerts.clear(type=TYPE, mmsi=vessel.mmsi, details={"reason": place})
            return
        if tr.acc_n:
            mean = tr.acc_sog / tr.acc_n
        elif samples:  # no SOG at all: implied speed since the previous sample
            prev = samples[-1]
            e, n = local_offset_m(prev.lat, prev.lon, report.lat, report.lon)
            mean = math.hypot(e, n) / (t - prev.t) * 3600.0 / 1852.0
        else:
            mean = 0.0
        samples.append(_Sample(t, mean, report.lat, report.lon, tr.acc_turn))
        tr.acc_sog, tr.acc_n, tr.acc_turn = 0.0, 0, 0.0
        limit = t - self._keep_s
        while len(samples) > 2 and samples[1].t <= limit:
            samples.popleft()
        self._evaluate(vessel, report, tr, ctx)

    def on_tick(self, ctx: RuleContext) -> None:
        lost = self.p.lost_minutes * 60.0
        for mmsi, _, _ in list(ctx.alerts.active_keys(TYPE)):
            tr = self._tracks.get(mmsi)
            if tr is None or ctx.now - tr.last_t >= lost:
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": "target silent"})
        if ctx.now >= self._next_prune:  # drop the state of vessels long silent (bounded memory)
            self._next_prune = ctx.now + PRUNE_EVERY_S
            for mmsi in [m for m, tr in self._tracks.items() if ctx.now - tr.last_t > self._keep_s]:
                del self._tracks[mmsi]

    def on_forget(self, mmsi: int) -> None:
        self._tracks.pop(mmsi, None)

    # -- internals -------------------------------------------------------------------------------
    @staticmethod
    def _mean_sog(samples: deque[_Sample], start: float) -> float | None:
        """Time-weighted mean SOG after `start`; None when the samples do not reach back to it."""
        if not samples or samples[0].t > start:
            return None
        total = 0.0
        weight = 0.0
        prev_t: float | None = None
        for s in samples:
            if prev_t is not None and s.t > start:
                span = s.t - max(prev_t, start)
                total += s.sog * span
                weight += span
            prev_t = s.t
        return total / weight if weight > 0 else None

    def _circling(self, samples: deque[_Sample], start: float) -> tuple[float, float | None]:
        """(net turning in degrees, radius of gyration in metres) of the samples after `start`."""
        if not samples or samples[0].t > start:
            return 0.0, None
        pts = [s for s in samples if s.t > start]
        turn = sum(s.turn for s in pts)
        if abs(turn) < self.p.circling_turn_deg or not pts:
            return turn, None  # not turning enough: the radius does not matter
        lat0 = sum(s.lat for s in pts) / len(pts)
        lon0 = sum(s.lon for s in pts) / len(pts)
        r2 = 0.0
        for s in pts:
            e, n = local_offset_m(lat0, lon0, s.lat, s.lon)
            r2 += e * e + n * n
        return turn, math.sqrt(r2 / len(pts))

    def _evaluate(self, vessel: VesselState, report: PositionReport, tr: _Track, ctx: RuleContext) -> None:
        p = self.p
        now = report.time
        mmsi = vessel.mmsi
        active = ctx.alerts.is_active(TYPE, mmsi)
        current = tr.samples[-1].sog
        if not active and current > p.circling_max_kn:
            return  # under way: the common case, decided cheaply
        assert report.lat is not None and report.lon is not None
        lat, lon = report.lat, report.lon
        small = is_small_craft(vessel)
        window = (p.small_craft_minutes if small else p.other_minutes) * 60.0
        mean = self._mean_sog(tr.samples, now - window)
        turn, radius = self._circling(tr.samples, now - p.circling_minutes * 60.0)
        circling = abs(turn) >= p.circling_turn_deg and radius is not None and radius <= p.circling_radius_m
        if active:
            reason = self._excluded(vessel, report, ctx, lat, lon)
            if reason is None and not circling:
                recent = self._mean_sog(tr.samples, now - p.clear_minutes * 60.0)
                if recent is not None and recent >= p.clear_kn:
                    reason = f"under way again ({recent:.1f} kn)"
            if reason is not None:
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": reason})
                return
        else:
            slow = mean is not None and mean < p.max_speed_kn and current < p.clear_kn
            if not (slow or circling):
                return
            if self._excluded(vessel, report, ctx, lat, lon) is not None:
                return
        what = (
            "circling"
            if circling
            else f"loitering at {mean:.1f} kn mean"
            if mean is not None
            else "loitering"
        )
        ctx.alerts.hold(
            type=TYPE,
            mmsi=mmsi,
            severity=p.severity,
            message=f"{label(vessel, mmsi)} {what} over {window / 60:.0f} min",
            lat=lat,
            lon=lon,
            details={
                "mean_sog_kn": None if mean is None else round(mean, 2),
                "window_min": window / 60.0,
                "circling": circling,
                "turn_deg": round(turn, 0),
                "radius_m": None if radius is None else round(radius, 0),
                "small_craft": small,
                "category": vessel.category,
            },
        )

    def _exempt_place(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> str | None:
        """Why this fix does not count towards loitering (None: it does)."""
        if report.nav_status in EXEMPT_STATUSES:
            return f"navigational status {report.nav_status}"
        assert report.lat is not None and report.lon is not None
        kinds = self.p.exempt_zone_kinds
        zones = in_kinds(ctx.zones, vessel.mmsi, kinds) or at_kinds(ctx.zones, report.lat, report.lon, kinds)
        if zones:
            return f"inside {zones[0]}"
        return None

    def _excluded(
        self, vessel: VesselState, report: PositionReport, ctx: RuleContext, lat: float, lon: float
    ) -> str | None:
        p = self.p
        if is_allowlisted(ctx.allowlists, vessel.mmsi, p.exempt_roles):
            return "allow-listed"
        if vessel.ship_type is not None and vessel.ship_type in p.exempt_ship_types:
            return f"service vessel (type {vessel.ship_type})"
        for other in MORE_SPECIFIC:
            if _involved(ctx, other, vessel.mmsi):
                return f"reported as {other}"
        if not in_watched_area(ctx.zones, lat, lon):
            return "outside the watched area"
        return None


def _involved(ctx: RuleContext, type_: str, mmsi: int) -> bool:
    """Whether the vessel has an active alert of this type (either side of a pair)."""
    if ctx.alerts.is_active(type_, mmsi):
        return True
    return any(mmsi in (m, o) for m, o, _ in ctx.alerts.active_keys(type_))


RULE = LoiteringRule
