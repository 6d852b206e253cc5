"""restricted_area: a vessel not allowed by the zone's rules is inside a restricted, protected or
security zone.

State alert per vessel and zone: raised on the zone engine's confirmed entry (two fixes inside at
least 10 s apart), updated while the vessel stays inside, cleared on the confirmed exit (50 m
outside). A vessel is allowed in when it is on an allow-list (`exempt_roles`) or its category is in
the zone's ``allowed_categories`` (or was, within the hour, before its static data changed type:
a second transmitter under its MMSI, which duplicate_mmsi and identity_change report, must not turn
the ship itself into an intruder); a zone marked ``night_only`` is watched only during its night
hours. A vessel heard for less than `static_grace_minutes` (13; `static_grace_minutes_class_a`, 19,
for a Class A vessel) that has sent no static data yet (or, Class B, its name in message 24A but not
yet its type in 24B) is not judged on its unknown category until then, in a zone that admits
ordinary ships (cargo, tankers, fishing ...); in one that admits only service craft (`SERVICE_ONLY`:
law enforcement, SAR, tugs, pilots, who are on the allow-lists: San Lorenzo, the naval base) an
unknown vessel is an intruder at once (at start-up every target is
in that state; static data comes every 6 minutes, and one of them lost to reception, as happens,
makes the wait 12; a Class A transponder sends it by itself, and two lost in a row at a berth are
more likely than a ship whose transponder sends none).
Severity comes from the zone (``severity``), else `default_severity`. Conditions that
start while a vessel is already inside (night falls, its static data shows it is not allowed, it
reaches the minimum message count) are picked up on its next position; a vessel that becomes
allowed is cleared.

Cost: `on_position` has work only for a vessel confirmed inside a watched zone or holding one of
this rule's alerts. Confirmed membership needs a fix inside the zone's exit band (the zone grown by
the zone engine's exit margin) or a fix the zone engine ignores (not newer than the vessel's last,
or invalid), so the rule's `interest` is the reports near its zones plus those; a vessel holding an
alert is watched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from vts.alerts.model import iso_time
from vts.batch import zone_union
from vts.rules._common import is_allowlisted, is_vessel_mmsi, label, zone_ids_of_kinds
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import RestrictedAreaParams
from vts.vessel_class import awaits_type, declared_categories

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from vts.batch import ReportBatch
    from vts.reports import PositionReport
    from vts.tracker import VesselState
    from vts.zones import Zone, ZoneEngine, ZoneEvent

SERVICE_ONLY: frozenset[str] = frozenset({"law_enforcement", "sar", "tug", "pilot"})
"""Zones whose allowed categories are all among these admit no unknown vessel while its static data
is awaited (see the module docstring)."""

TYPE = "restricted_area"
Bounds = tuple[float, float, float, float]
BAND_FACTOR = 1.5
BAND_SLACK_M = 10.0
"""The mask's band around the zones: this times the zone engine's exit margin, plus this slack (the
exit band and the mask's band are both polygons approximating a buffer, in different projections)."""


class RestrictedAreaRule(Rule):
    id = TYPE
    Params = RestrictedAreaParams
    outlier_fixes = False  # judged by the zones the vessel is in, where it is now

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: RestrictedAreaParams = params  # type: ignore[assignment]
        self._inside: dict[int, set[str]] = {}
        """Zones in which each vessel has an alert held by this rule (each such vessel is watched)."""
        self._band_cache: tuple[ZoneEngine, BaseGeometry | None, Bounds] | None = None
        """The mask's band for one zone engine (a reload builds a new engine) and its bounds."""

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Position reports that can leave their vessel confirmed inside a watched zone.

        After the zone engine has taken a fix, a vessel is confirmed in a zone only while the fix lies
        within the zone's exit band (further out, the same fix confirms the exit), bar a fix it holds
        back as an outlier, which the engine does not hand this rule (`outlier_fixes`). A fix the engine
        ignores leaves the membership as it was, wherever it lies: one with invalid coordinates or
        time, or one not newer than the vessel's latest. Those are taken when their time is not past
        every earlier time (of the batch, or the engine's clock at its start) and the vessel may be in
        a zone: confirmed in one at the start of the batch, or with a fix near one in the batch (the
        shadow track of an MMSI shares its zone state, and its entries reach no rule). Vessels holding
        an alert of this rule are watched, so their reports come whatever the mask says."""
        n = len(batch)
        watched = zone_ids_of_kinds(ctx.zones, self.p.zone_kinds)
        if not watched:
            return np.zeros(n, dtype=bool)
        pos = batch.is_position
        lat, lon = batch.lat, batch.lon
        band, (x0, y0, x1, y1) = self._band(ctx)
        mask = np.zeros(n, dtype=bool)
        if band is not None:
            # a bounding-box test first: most reports are nowhere near the zones
            rows = np.flatnonzero((lat >= y0) & (lat <= y1) & (lon >= x0) & (lon <= x1))
            if len(rows):
                mask[rows] = shapely.intersects_xy(band, lon[rows], lat[rows])
        # NaN (no position) fails every comparison; an invalid position is ignored by the zone engine
        mask |= pos & ~((lat >= -90.0) & (lat <= 90.0) & (lon >= -180.0) & (lon <= 180.0))
        # and so are the fixes not newer than their vessel's latest (a superset of them)
        rows = np.flatnonzero(batch.ignored_by_zones(ctx.now) & ~mask)
        if len(rows):
            mmsi = batch.mmsi
            near_vessels = set(mmsi[mask].tolist())  # (taken before any row below is added)
            zones_of = ctx.zones.zones_of
            mask[
                [
                    i
                    for i, m in zip(rows.tolist(), mmsi[rows].tolist(), strict=True)
                    if m in near_vessels or zones_of(m) & watched
                ]
            ] = True
        return mask

    def _band(self, ctx: RuleContext) -> tuple[BaseGeometry | None, Bounds]:
        """The watched zones grown into the mask's band, and its bounds (kept per zone engine)."""
        cached = self._band_cache
        if cached is not None and cached[0] is ctx.zones:
            return cached[1], cached[2]
        margin = ctx.zones.exit_margin_m * BAND_FACTOR + BAND_SLACK_M
        band = zone_union(ctx.zones, self.p.zone_kinds, margin)
        bounds = band.bounds if band is not None else (0.0, 0.0, 0.0, 0.0)
        self._band_cache = (ctx.zones, band, bounds)
        return band, bounds

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if event.zone_id not in zone_ids_of_kinds(ctx.zones, self.p.zone_kinds) or not is_vessel_mmsi(
            vessel.mmsi
        ):
            return
        if event.kind == "exit":
            self._clear(vessel.mmsi, event.zone_id, ctx, "left the zone")
        else:
            self._check(vessel, event.zone_id, ctx)

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if not is_vessel_mmsi(vessel.mmsi):
            return
        watched = zone_ids_of_kinds(ctx.zones, self.p.zone_kinds)
        inside = ctx.zones.zones_of(vessel.mmsi) & watched if watched else set()
        held = self._inside.get(vessel.mmsi)
        if held:
            for zid in sorted(held - inside):
                self._clear(vessel.mmsi, zid, ctx, "left the zone")
        for zid in sorted(inside):
            self._check(vessel, zid, ctx)

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        if self._inside.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)

    # -- internals -------------------------------------------------------------------------------
    def _allowed(self, vessel: VesselState, zone: Zone, ctx: RuleContext) -> str | None:
        """Why the vessel may be there (None: it may not)."""
        if is_allowlisted(ctx.allowlists, vessel.mmsi, self.p.exempt_roles):
            return "allow-listed"
        allowed = zone.settings.allowed_categories
        if allowed is not None:
            if vessel.category in allowed:
                return f"category {vessel.category} allowed"
            doubt = sorted(c for c in declared_categories(vessel, ctx.now) if c in allowed)
            if doubt:  # its static data changed type within the hour: which ship is this?
                return f"category {doubt[0]} declared under this MMSI within the hour (identity in doubt)"
        if zone.settings.night_only and not zone.settings.is_night(ctx.now, ctx.config.utc_offset_hours):
            return "zone watched at night only"
        return None

    def _check(self, vessel: VesselState, zone_id: str, ctx: RuleContext) -> None:
        try:
            zone = ctx.zones.zone(zone_id)
        except KeyError:
            return
        why = self._allowed(vessel, zone, ctx)
        if why is not None:
            self._clear(vessel.mmsi, zone_id, ctx, why)
            return
        grace = (
            self.p.static_grace_minutes_class_a if vessel.ais_class == "A" else self.p.static_grace_minutes
        )
        allowed = zone.settings.allowed_categories
        if (
            awaits_type(vessel)
            and allowed
            and not set(allowed) <= SERVICE_ONLY
            and ctx.now - vessel.first_seen < grace * 60.0
            and not ctx.alerts.is_active(TYPE, vessel.mmsi, None, zone_id)
        ):
            return  # newly heard, type not known yet: its static data may show it is allowed
        entered = ctx.zones.entered_at(vessel.mmsi, zone_id)
        details: dict[str, object] = {
            "zone_kind": zone.kind,
            "category": vessel.category,
            "ais_class": vessel.ais_class,
            "allowed_categories": list(zone.settings.allowed_categories or []),
            "entered": None if entered is None else iso_time(entered),
            "dwell_s": None if entered is None else round(ctx.now - entered, 1),
            "sog": vessel.sog,
            "night_only": zone.settings.night_only,
        }
        ctx.alerts.hold(
            type=TYPE,
            mmsi=vessel.mmsi,
            severity=zone.settings.severity or self.p.default_severity,
            message=f"{label(vessel, vessel.mmsi)} ({vessel.category}) inside {zone.name}",
            lat=vessel.lat,
            lon=vessel.lon,
            details=details,
            zone=zone_id,
        )
        if ctx.alerts.is_active(TYPE, vessel.mmsi, None, zone_id):
            self._inside.setdefault(vessel.mmsi, set()).add(zone_id)
            self.watch(ctx, vessel.mmsi)

    def _clear(self, mmsi: int, zone_id: str, ctx: RuleContext, reason: str) -> None:
        held = self._inside.get(mmsi)
        if held is not None:
            held.discard(zone_id)
            if not held:
                del self._inside[mmsi]
                self.unwatch(ctx, mmsi)
        if ctx.alerts.is_active(TYPE, mmsi, None, zone_id):
            ctx.alerts.clear(type=TYPE, mmsi=mmsi, zone=zone_id, details={"reason": reason})


RULE = RestrictedAreaRule
