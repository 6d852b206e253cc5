"""speeding: over a zone's speed limit for at least 60 seconds and at least 2 reports.

Limits are per zone in the configuration (``speed_limit_kn``; the Callao defaults, stated as
operator policy, are 12 kn in the approach and port area and 8 kn in the anchorages and the inner
harbour). Where zones overlap the lowest limit applies. Only confirmed zone memberships count (the
zone engine's hysteresis), so a ship on a zone border does not flap.

State alert (`warning`, zone = the limiting zone) while the vessel stays over the limit; cleared
once `clear_reports` (2) fixes are at or under the limit minus `clear_margin_kn` with none over
the limit between them (one bad speed report does not end it), or the vessel leaves the zone. A
vessel that passes into another limited zone still over its limit (from the 12 kn approach into an
8 kn anchorage at 15 kn) carries its run over: the alert moves to the new zone at once, with no
new minute to wait. Of zones with the same lowest limit, the one the run is in keeps it.
Allow-listed vessels (coastguard, pilots, tugs: answering a call is their work) and law-enforcement,
SAR and pilot vessels by type are exempt (pilot boats run out to meet ships at 12-16 kn across the
anchorage: in an independent check with busy traffic, 71 speeding alerts in 11.5 hours were pilot
boats on their way to work).

Batched (`interest`): a vessel with no over-the-limit record is only acted on by a fix faster than
the limit of a zone it is confirmed in. The zone engine keeps a vessel in a zone only while its
fixes stay within the zone grown by the exit margin, so the mask is, per limit, the fixes faster
than it inside the grown zones with that limit. A fix the zone engine ignores (as old as the
vessel's latest, or an invalid position) keeps the memberships of an earlier fix wherever it lies:
those count too when fast (`ReportBatch.ignored_by_zones`). A fix the zone engine holds back as an
outlier (`ZoneEngine.held_back`) keeps them too: the engine does not hand it to this rule
(`outlier_fixes`), whether the mask takes it or not (its position is not the vessel's, so neither
is the zone it would be judged in). A vessel is watched
while it has a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from vts.reports import PositionReport
from vts.rules._common import ALL_ROLES, is_allowlisted
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import SpeedingParams

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from vts.batch import ReportBatch
    from vts.tracker import VesselState
    from vts.zones import ZoneEngine

GROWN_SLACK_DEG = 1e-6
"""The grown zones are grown this much more (about 0.1 m): float rounding can only add rows."""


@dataclass(slots=True)
class _Over:
    zone: str
    since: float
    reports: int
    max_sog: float
    active: bool = False
    under: int = 0  # fixes at or under the limit minus clear_margin_kn since the last one over it


class SpeedingRule(Rule):
    id = "speeding"
    late_fixes = False  # judged on where the vessel is now, not on a late fix
    outlier_fixes = False  # nor on a fix the zone engine held back as an outlier
    Params = SpeedingParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: SpeedingParams = params  # type: ignore[assignment]
        self._over: dict[int, _Over] = {}
        self._limits: tuple[ZoneEngine, list[tuple[float, BaseGeometry]]] | None = None

    # -- batches -------------------------------------------------------------------------------------
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Fixes faster than the limit of a grown zone they lie in; and the fast fixes the zone engine
        may ignore (see the module docstring). Vessels with a record are watched."""
        limits = self._limit_geometries(ctx.zones)
        mask = np.zeros(len(batch), dtype=bool)
        if not limits:
            return mask
        sog, lat, lon = batch.sog, batch.lat, batch.lon
        tol = self.p.tolerance_kn
        with np.errstate(invalid="ignore"):
            fast = sog > limits[0][0] + tol  # NaN (no speed, or not a fix) compares False
            if not fast.any():
                return mask
            for limit, geometry in limits:  # lowest limit first: each one's candidates are fewer
                rows = np.flatnonzero(sog > limit + tol)
                if len(rows) == 0:
                    break
                mask[rows] |= shapely.intersects_xy(geometry, lon[rows], lat[rows])
            mask |= fast & batch.ignored_by_zones(ctx.now)
        return mask

    def _limit_geometries(self, zones: ZoneEngine) -> list[tuple[float, BaseGeometry]]:
        """Per speed limit (ascending), the union of the zones with that limit grown by the exit
        margin (the zone engine's exit geometry, a little more for float rounding). Cached per zone
        engine (a reload builds a new one)."""
        if self._limits is not None and self._limits[0] is zones:
            return self._limits[1]
        by_limit: dict[float, list[BaseGeometry]] = {}
        for z in zones.zones:
            if z.settings.speed_limit_kn is not None:
                by_limit.setdefault(float(z.settings.speed_limit_kn), []).append(z.exit_geometry)
        out: list[tuple[float, BaseGeometry]] = []
        for limit in sorted(by_limit):
            geometry = shapely.union_all(by_limit[limit]).buffer(GROWN_SLACK_DEG, quad_segs=2)
            shapely.prepare(geometry)
            out.append((limit, geometry))
        self._limits = (zones, out)
        return out

    # -- reports -------------------------------------------------------------------------------------
    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.is_shadow:
            return
        if vessel.category in self.p.exempt_categories or is_allowlisted(
            ctx.allowlists, vessel.mmsi, ALL_ROLES
        ):
            over = self._over.get(vessel.mmsi)
            if over is not None:  # it became exempt (its static data, an allow-list reload)
                self._end(ctx, vessel, over, "exempt")
            return
        over = self._over.get(vessel.mmsi)
        limit_zone = self._limiting_zone(vessel.mmsi, ctx, None if over is None else over.zone)
        sog = report.sog
        if over is not None and (limit_zone is None or limit_zone[0] != over.zone):
            if limit_zone is not None and sog is not None and sog > limit_zone[1] + self.p.tolerance_kn:
                # still over the limit where it is now: the run goes on there
                zone_id, limit = limit_zone
                self._end(ctx, vessel, over, f"now in {zone_id} (limit {limit:g} kn)")
                over = self._over[vessel.mmsi] = _Over(zone_id, over.since, over.reports, over.max_sog)
                self.watch(ctx, vessel.mmsi)
            else:
                self._end(ctx, vessel, over, "left the zone")
                over = None
        if limit_zone is None or sog is None:
            return
        zone_id, limit = limit_zone
        if sog > limit + self.p.tolerance_kn:
            if over is None:
                over = self._over[vessel.mmsi] = _Over(zone_id, report.time, 0, sog)
                self.watch(ctx, vessel.mmsi)
            over.reports += 1
            over.under = 0
            over.max_sog = max(over.max_sog, sog)
            duration = report.time - over.since
            if duration >= self.p.min_seconds and over.reports >= self.p.min_reports:
                over.active = True
                ctx.alerts.hold(
                    type=self.id,
                    mmsi=vessel.mmsi,
                    zone=zone_id,
                    severity="warning",
                    message=f"{vessel.name or vessel.mmsi} at {sog:.1f} kn in {zone_id} (limit {limit:g} kn)",
                    lat=report.lat,
                    lon=report.lon,
                    details={
                        "sog_kn": sog,
                        "limit_kn": limit,
                        "max_sog_kn": over.max_sog,
                        "duration_s": round(duration, 1),
                        "reports": over.reports,
                    },
                )
        elif over is not None:
            if not over.active:
                self._end(ctx, vessel, over, f"back to {sog:.1f} kn")  # not over for the whole minute
            elif sog <= limit - self.p.clear_margin_kn:  # (a fix between that and the limit: neither)
                over.under += 1
                if over.under >= self.p.clear_reports:
                    self._end(ctx, vessel, over, f"back to {sog:.1f} kn")

    def _end(self, ctx: RuleContext, vessel: VesselState, over: _Over, why: str) -> None:
        del self._over[vessel.mmsi]
        self.unwatch(ctx, vessel.mmsi)
        if over.active:
            ctx.alerts.clear(
                type=self.id,
                mmsi=vessel.mmsi,
                zone=over.zone,
                message=f"{vessel.name or vessel.mmsi} no longer speeding in {over.zone}: {why}",
                details={"max_sog_kn": over.max_sog},
            )

    @staticmethod
    def _limiting_zone(mmsi: int, ctx: RuleContext, current: str | None) -> tuple[str, float] | None:
        """The confirmed zone with the lowest limit: `current` (the zone of the vessel's run) when
        it is one of them, else the first by id."""
        best: tuple[str, float] | None = None
        for zone_id in sorted(ctx.zones.zones_of(mmsi)):
            try:
                limit = ctx.zones.zone(zone_id).settings.speed_limit_kn
            except KeyError:
                continue
            if limit is not None and (
                best is None or limit < best[1] or (limit == best[1] and zone_id == current)
            ):
                best = (zone_id, float(limit))
        return best

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        if self._over.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)


RULE = SpeedingRule
