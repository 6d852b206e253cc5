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
(mean SOG over the last `resume_minutes` at least `resume_kn`) or is inside an allowed zone.

Batched processing (`Rule.interest`). A fix at or above `resume_kn` without the at-anchor status
("under way") of a vessel with no active alert only forgets the vessel's re-check time. So the rule
must see every other fix (the slow or anchored ones: each may start or advance the re-check rhythm),
every fix of a vessel with an active alert (at the start of a batch: alerts restored from the store
have no re-check time), and the under-way fixes of a vessel that has a re-check time on record: those
vessels are watched (`Rule.watch`) from the moment the time is recorded until it is forgotten.

Why every slow fix, even far outside the watched area: the re-check rhythm (`check_every_s`) runs on
for as long as slow fixes keep coming, wherever they are, and decides on which fix a vessel drifting
or steaming in with a stale anchored status is first checked inside the area, hence when the alert
is raised. A checked slow fix of a vessel with nothing pending, outside the watched area (or on
land), does little more: it may leave its position in the nearest-zone cache (see `_out_of_scope`),
which is all that is worked out for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vts.rules._common import (
    AREA_KINDS,
    ZoneKinds,
    declares_service_type,
    is_allowlisted,
    is_vessel_mmsi,
    label,
    rows_of,
    zone_ids_of_kinds,
)
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import UnauthorisedAnchoringParams
from vts.vessel_class import AT_ANCHOR, is_small_craft, mean_speed_kn

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import PositionReport
    from vts.tracker import VesselState

TYPE = "unauthorised_anchoring"
CELL_MEMO_MAX = 50_000
"""Positions whose cell key `UnauthorisedAnchoringRule._cell` remembers (then it starts afresh)."""


class UnauthorisedAnchoringRule(Rule):
    id = TYPE
    late_fixes = False  # judged on where the vessel is now, not on a late fix
    Params = UnauthorisedAnchoringParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: UnauthorisedAnchoringParams = params  # type: ignore[assignment]
        self._next_check: dict[int, float] = {}
        self._since: dict[int, float] = {}
        """When each vessel was first seen meeting the condition (not yet raised)."""
        self._nearest_cache: dict[tuple[float, float], _Nearest] = {}
        """Nearest allowed zone per ~10 m cell: the answer for the first position looked up in the
        cell (since the cache last started afresh), worked out when first read (see `_nearest_entry`)."""
        self._cache_zones: object = None
        self._cells: dict[tuple[float, float], tuple[float, float]] = {}
        """`_cell` per position looked up: ships lying still repeat theirs (in the benchmark's real
        traffic, one position in nine is new), and rounding costs more than a dict look-up."""
        self._area = ZoneKinds(AREA_KINDS)
        self._allowed = ZoneKinds(self.p.allowed_zone_kinds)

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Every fix but the under-way ones (see the module docstring), plus every fix of a vessel
        that has an active alert. A missing SOG (NaN) compares False: not under way."""
        under_way = (batch.sog >= self.p.resume_kn) & (batch.nav_status != AT_ANCHOR)
        mask = batch.is_position & ~under_way
        held = ctx.alerts.active_mmsis(TYPE)
        if held:
            mask |= rows_of(batch.mmsi, held)
        return mask

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.own_ship or report.lat is None or report.lon is None:
            return
        mmsi = vessel.mmsi
        next_check = self._next_check
        due = next_check.get(mmsi)
        if due is None and not is_vessel_mmsi(mmsi):  # (a vessel with a `due` is a vessel MMSI)
            return
        p = self.p
        active = ctx.alerts.is_active(TYPE, mmsi)
        sog = report.sog
        if not active and sog is not None and sog >= p.resume_kn and report.nav_status != AT_ANCHOR:
            if due is not None:
                del next_check[mmsi]
                self._since.pop(mmsi, None)  # (a stop later starts its confirmation afresh)
                self.unwatch(ctx, mmsi)
            return  # the common case: a vessel under way
        now = ctx.now
        if due is not None and now < due and not active:
            return
        if due is None:
            self.watch(ctx, mmsi)  # its under-way fixes must now reach the rule (they forget `due`)
        next_check[mmsi] = now + p.check_every_s
        lat, lon = report.lat, report.lon
        if active:
            reason = self._ended(vessel, report, ctx)
            if reason is not None:
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": reason})
            else:
                self._hold(vessel, ctx, lat, lon)
            return
        if mmsi not in self._since and not self._in_scope(ctx, lat, lon):
            self._out_of_scope(vessel, report, ctx, lat, lon)
            return
        if is_allowlisted(ctx.allowlists, mmsi, p.exempt_roles):
            return
        if declares_service_type(vessel, p.exempt_ship_types):
            return
        if not p.include_small_craft and is_small_craft(vessel):
            return
        at_anchor = report.nav_status == AT_ANCHOR and (sog is None or sog < p.resume_kn)
        if self._allowed.at(ctx.zones, lat, lon):
            self._since.pop(mmsi, None)  # what the test below decides for it, without the speed
            return
        speed = mean_speed_kn(vessel, now, p.stationary_minutes * 60.0)
        stopped = speed is not None and speed < p.stationary_kn
        if not (at_anchor or stopped) or self._in_allowed_zone(ctx, lat, lon):
            self._since.pop(mmsi, None)
            return
        if not self._in_scope(ctx, lat, lon):
            return  # not ours to watch, or a GNSS glitch (a fix on land)
        since = self._since.setdefault(mmsi, now)
        if now - since < p.confirm_s:
            return  # a single odd fix (a jump out of the anchorage) is not an anchoring
        self._since.pop(mmsi, None)
        self._hold(vessel, ctx, lat, lon)

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        if self._next_check.pop(mmsi, None) is not None:
            self.unwatch(ctx, mmsi)
        self._since.pop(mmsi, None)

    # -- internals -------------------------------------------------------------------------------
    def _out_of_scope(
        self, vessel: VesselState, report: PositionReport, ctx: RuleContext, lat: float, lon: float
    ) -> None:
        """The rest of `on_position` for a checked fix outside the watched area or on land, of a
        vessel with nothing pending: the common case for slow fixes, and one that changes nothing
        but the nearest-zone cache. The full path below would end in a `return` whatever it found
        (the `_since.pop` being a no-op), after looking up the nearest allowed zone when the vessel
        is at anchor or stopped and not inside an allowed zone. That lookup leaves the position in
        the cache, which matters (a later lookup in the same cell gets this position's answer, and
        the cache starts afresh after 20,000 cells), so it is made exactly when the full path makes
        it; its answer is not needed, so no distance is computed now. When the cell is already in
        the cache the lookup would change nothing, and nothing else need be worked out."""
        p = self.p
        # the same tests as the full path (all without side effects), the most frequent first
        # (small craft: most of the slow fixes of dense traffic; the cell's rounding costs more)
        if declares_service_type(vessel, p.exempt_ship_types):
            return
        if not p.include_small_craft and is_small_craft(vessel):
            return
        if self._cache_zones is ctx.zones and self._cell(lat, lon) in self._nearest_cache:
            return
        if is_allowlisted(ctx.allowlists, vessel.mmsi, p.exempt_roles):
            return
        if self._allowed.at(ctx.zones, lat, lon):
            return
        sog = report.sog
        if not (report.nav_status == AT_ANCHOR and (sog is None or sog < p.resume_kn)):
            speed = mean_speed_kn(vessel, ctx.now, p.stationary_minutes * 60.0)
            if not (speed is not None and speed < p.stationary_kn):
                return
        if p.zone_margin_m > 0:
            self._nearest_entry(ctx, lat, lon)

    def _in_scope(self, ctx: RuleContext, lat: float, lon: float) -> bool:
        """Inside the watched area (`in_watched_area`, a box test first) and not on land."""
        return self._area.contains(ctx.zones, lat, lon) and not ctx.zones.is_on_land(lon, lat)

    def _in_allowed_zone(self, ctx: RuleContext, lat: float, lon: float) -> bool:
        if self._allowed.at(ctx.zones, lat, lon):
            return True
        margin = self.p.zone_margin_m
        if margin <= 0:
            return False
        zid, d = self._nearest_allowed(ctx, lat, lon)
        return zid is not None and d is not None and d <= margin

    def _ended(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> str | None:
        lat, lon = report.lat, report.lon
        assert lat is not None and lon is not None
        if self._allowed.at(ctx.zones, lat, lon):
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
        entry = self._nearest_entry(ctx, lat, lon)
        if entry.answer is None:
            entry.answer = self._nearest_from(ctx, entry.lat, entry.lon)
        return entry.answer

    def _nearest_entry(self, ctx: RuleContext, lat: float, lon: float) -> _Nearest:
        """The cache entry of the position's cell, made (with this position) when missing."""
        if self._cache_zones is not ctx.zones:  # zones reloaded: start afresh
            self._cache_zones = ctx.zones
            self._nearest_cache.clear()
        key = self._cell(lat, lon)
        hit = self._nearest_cache.get(key)
        if hit is not None:
            return hit
        if len(self._nearest_cache) > 20_000:
            self._nearest_cache.clear()
        entry = self._nearest_cache[key] = _Nearest(lat, lon)
        return entry

    def _cell(self, lat: float, lon: float) -> tuple[float, float]:
        """The key of the position's cell in the nearest-zone cache: (round(lat, 4), round(lon, 4))."""
        cells = self._cells
        cell = cells.get((lat, lon))
        if cell is None:
            if len(cells) >= CELL_MEMO_MAX:
                cells.clear()
            cell = cells[(lat, lon)] = (round(lat, 4), round(lon, 4))
        return cell

    def _nearest_from(self, ctx: RuleContext, lat: float, lon: float) -> tuple[str | None, float | None]:
        best: tuple[str | None, float | None] = (None, None)
        for zid in sorted(zone_ids_of_kinds(ctx.zones, self.p.allowed_zone_kinds)):
            d = ctx.zones.distance_to(zid, lon, lat)
            if best[1] is None or d < best[1]:
                best = (zid, round(d, 0))
        return best


@dataclass(slots=True)
class _Nearest:
    """A cell of the nearest-zone cache: the position it was first looked up at, and the answer
    for that position once asked for."""

    lat: float
    lon: float
    answer: tuple[str | None, float | None] | None = None


RULE = UnauthorisedAnchoringRule
