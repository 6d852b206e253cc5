"""unauthorised_anchoring: a ship at anchor, or stopped, outside the anchorages and berths.

Fires (state alert) when a vessel inside the watched area

* reports navigational status 1 "at anchor" while making less than `resume_kn` (a status left
  on while plainly under way is ignored), or
* has a mean speed over ground under `stationary_kn` (0.5 kn) for `stationary_minutes` (15),

and is neither inside nor within `zone_margin_m` of a zone of `allowed_zone_kinds` (anchorages,
berths, terminals, fishing docks, waiting areas). The margin allows for the AIS antenna of a long
ship lying off the edge of a polygon drawn around the berth line.

The condition must still hold `confirm_s` (60 s) after it is first seen, and fixes on land are
ignored, so one GNSS glitch that throws an anchored ship's position out of the anchorage is not an
anchoring.

Small craft (Class B, fishing, pleasure, no static data, under 20 m) are left to the loitering rule
unless `include_small_craft` is set: an idle small boat is loitering, not anchoring. Allow-listed
vessels (`exempt_roles`) and service ship types (`exempt_ship_types`: pilot, SAR, tug, port tender,
law enforcement: waiting is their work) are exempt. The alert clears when the vessel makes way again
(mean SOG over the last `resume_minutes` at least `resume_kn`) or is inside an allowed zone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from vts.rules._common import (
    ALL_ROLES,
    SERVICE_SHIP_TYPES,
    at_kinds,
    in_watched_area,
    is_allowlisted,
    is_vessel_mmsi,
    label,
    zone_ids_of_kinds,
)
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.vessel_class import AT_ANCHOR, is_small_craft, mean_speed_kn

if TYPE_CHECKING:
    from vts.reports import PositionReport
    from vts.tracker import VesselState

TYPE = "unauthorised_anchoring"


class UnauthorisedAnchoringParams(RuleParams):
    stationary_kn: float = Field(0.5, gt=0, description="mean SOG under this counts as stopped")
    stationary_minutes: float = Field(15.0, gt=0, le=30, description="for at least this long")
    resume_kn: float = Field(1.0, gt=0, description="mean SOG at or above this means under way again")
    resume_minutes: float = Field(3.0, gt=0, description="window for the resume test")
    allowed_zone_kinds: list[str] = Field(
        default_factory=lambda: ["anchorage", "berth", "terminal", "fishing_dock", "waiting_area"],
        description="zone kinds where anchoring or stopping is normal",
    )
    zone_margin_m: float = Field(
        100.0, ge=0, description="a vessel this close to an allowed zone counts as in it"
    )
    include_small_craft: bool = Field(False, description="also watch small craft (otherwise: loitering)")
    exempt_roles: list[str] = Field(default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt")
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose work includes waiting about (pilot, SAR, tug, port tender, police)",
    )
    severity: Literal["alarm", "warning", "caution"] = Field("warning", description="alert severity")
    check_every_s: float = Field(60.0, gt=0, description="re-evaluate a vessel at most this often")
    confirm_s: float = Field(
        60.0, ge=0, description="the condition must still hold this much later (ignores one-fix glitches)"
    )


class UnauthorisedAnchoringRule(Rule):
    id = TYPE
    Params = UnauthorisedAnchoringParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: UnauthorisedAnchoringParams = params  # type: ignore[assignment]
        self._next_check: dict[int, float] = {}
        self._since: dict[int, float] = {}
        """When each vessel was first seen meeting the condition (not yet raised)."""
        self._nearest_cache: dict[tuple[float, float], tuple[str | None, float | None]] = {}
        self._cache_zones: object = None

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.own_ship or report.lat is None or report.lon is None or not is_vessel_mmsi(vessel.mmsi):
            return
        p = self.p
        mmsi = vessel.mmsi
        active = ctx.alerts.is_active(TYPE, mmsi)
        sog = report.sog
        if not active and sog is not None and sog >= p.resume_kn and report.nav_status != AT_ANCHOR:
            self._next_check.pop(mmsi, None)
            return  # the common case: a vessel under way
        now = ctx.now
        due = self._next_check.get(mmsi)
        if due is not None and now < due and not active:
            return
        self._next_check[mmsi] = now + p.check_every_s
        lat, lon = report.lat, report.lon
        if active:
            reason = self._ended(vessel, report, ctx)
            if reason is not None:
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": reason})
            else:
                self._hold(vessel, ctx, lat, lon)
            return
        if is_allowlisted(ctx.allowlists, mmsi, p.exempt_roles):
            return
        if vessel.ship_type is not None and vessel.ship_type in p.exempt_ship_types:
            return
        if not p.include_small_craft and is_small_craft(vessel):
            return
        at_anchor = report.nav_status == AT_ANCHOR and (sog is None or sog < p.resume_kn)
        speed = mean_speed_kn(vessel, now, p.stationary_minutes * 60.0)
        stopped = speed is not None and speed < p.stationary_kn
        if not (at_anchor or stopped) or self._in_allowed_zone(ctx, lat, lon):
            self._since.pop(mmsi, None)
            return
        if not in_watched_area(ctx.zones, lat, lon) or ctx.zones.is_on_land(lon, lat):
            return  # not ours to watch, or a GNSS glitch (a fix on land)
        since = self._since.setdefault(mmsi, now)
        if now - since < p.confirm_s:
            return  # a single odd fix (a jump out of the anchorage) is not an anchoring
        self._since.pop(mmsi, None)
        self._hold(vessel, ctx, lat, lon)

    def on_forget(self, mmsi: int) -> None:
        self._next_check.pop(mmsi, None)
        self._since.pop(mmsi, None)

    # -- internals -------------------------------------------------------------------------------
    def _in_allowed_zone(self, ctx: RuleContext, lat: float, lon: float) -> bool:
        if at_kinds(ctx.zones, lat, lon, self.p.allowed_zone_kinds):
            return True
        margin = self.p.zone_margin_m
        if margin <= 0:
            return False
        zid, d = self._nearest_allowed(ctx, lat, lon)
        return zid is not None and d is not None and d <= margin

    def _ended(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> str | None:
        lat, lon = report.lat, report.lon
        assert lat is not None and lon is not None
        if at_kinds(ctx.zones, lat, lon, self.p.allowed_zone_kinds):
            return "inside an anchorage or berth"
        if report.nav_status == AT_ANCHOR and (report.sog is None or report.sog < self.p.resume_kn):
            return None
        speed = mean_speed_kn(vessel, ctx.now, self.p.resume_minutes * 60.0)
        if speed is None:
            speed = report.sog
        if speed is not None and speed >= self.p.resume_kn:
            return f"under way again ({speed:.1f} kn)"
        return None

    def _hold(self, vessel: VesselState, ctx: RuleContext, lat: float, lon: float) -> None:
        p = self.p
        speed = mean_speed_kn(vessel, ctx.now, p.stationary_minutes * 60.0)
        status = "at anchor" if vessel.nav_status == AT_ANCHOR else "stopped"
        nearest = self._nearest_allowed(ctx, lat, lon)
        ctx.alerts.hold(
            type=TYPE,
            mmsi=vessel.mmsi,
            severity=p.severity,
            message=f"{label(vessel, vessel.mmsi)} {status} outside the anchorages and berths",
            lat=lat,
            lon=lon,
            details={
                "status": status,
                "nav_status": vessel.nav_status,
                "mean_sog_kn": None if speed is None else round(speed, 2),
                "window_min": p.stationary_minutes,
                "category": vessel.category,
                "nearest_allowed_zone": nearest[0],
                "nearest_allowed_m": nearest[1],
            },
        )

    def _nearest_allowed(self, ctx: RuleContext, lat: float, lon: float) -> tuple[str | None, float | None]:
        """The nearest anchorage/berth and its distance (m), cached on a ~10 m grid of positions."""
        if self._cache_zones is not ctx.zones:  # zones reloaded: start afresh
            self._cache_zones = ctx.zones
            self._nearest_cache.clear()
        key = (round(lat, 4), round(lon, 4))
        hit = self._nearest_cache.get(key)
        if hit is not None:
            return hit
        best: tuple[str | None, float | None] = (None, None)
        for zid in sorted(zone_ids_of_kinds(ctx.zones, self.p.allowed_zone_kinds)):
            d = ctx.zones.distance_to(zid, lon, lat)
            if best[1] is None or d < best[1]:
                best = (zid, round(d, 0))
        if len(self._nearest_cache) > 20_000:
            self._nearest_cache.clear()
        self._nearest_cache[key] = best
        return best


RULE = UnauthorisedAnchoringRule
