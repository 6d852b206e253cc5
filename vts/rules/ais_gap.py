"""ais_gap ("going dark"): a vessel that was reporting well falls silent inside the coverage area
while the vessels around it are still heard.

Checked every `tick_seconds` of event time. A vessel goes dark when

* it sent at least `min_messages` (10) messages in the `history_minutes` (30) before its last one,
* it has been silent for `underway_minutes` (10) — or, if it was at anchor / moored / stopped (nav
  status 1 or 5, or SOG under 0.5 kn), `moored_minutes` (30); never less than its IEC 62388
  lost-target time (six nominal reporting intervals: a slow Class B reports only every 3 minutes),
* its last position is inside the watched area and at least `edge_margin_m` inside its edge (a
  vessel sailing out of coverage is not going dark),
* at least `min_neighbours` other vessels within `neighbour_radius_m` (5 NM) of its last position
  were heard after it fell silent (so the receiver is not the one that went quiet).

Severity is alarm when the last position was in a security or restricted zone, warning elsewhere.
The alert is updated while the silence lasts and cleared when the vessel is heard again, with the
gap's duration, the distance between the last and the new position, the implied speed, and flags
when that speed exceeds `implied_speed_flag_kn` (25 kn) or the vessel reappears more than
`far_flag_m` (2 NM) away. A vessel dark for `max_dark_hours` is given up (cleared, reason given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from shapely.geometry import Point

from vts.alerts.model import iso_time
from vts.reports import PositionReport, SafetyReport, StaticReport
from vts.rules._common import AREA_KINDS, is_vessel_mmsi, label, zone_ids_of_kinds
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.spatial import M_PER_DEG_LAT, approx_distance_m
from vts.vessel_class import AT_ANCHOR, MOORED, STATIONARY_KN

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import Report
    from vts.tracker import VesselState

TYPE = "ais_gap"
_VESSEL_REPORTS = (PositionReport, StaticReport, SafetyReport)
"""The reports the tracker can merge into a vessel (`Tracker.update`); any other gives no vessel."""
RETRY_S = 60.0
"""A vessel not yet judged dark (silent too briefly, nobody near heard yet) is looked at again after this."""


class AisGapParams(RuleParams):
    min_messages: int = Field(10, ge=1, description="messages needed in the history window before the gap")
    history_minutes: float = Field(30.0, gt=0, le=30, description="history window before the last message")
    underway_minutes: float = Field(10.0, gt=0, description="silence that counts as dark, under way")
    moored_minutes: float = Field(30.0, gt=0, description="silence that counts as dark, at anchor or moored")
    neighbour_radius_m: float = Field(9260.0, gt=0, description="radius in which other vessels must be heard")
    min_neighbours: int = Field(1, ge=0, description="vessels heard near it since it fell silent")
    edge_margin_m: float = Field(1000.0, ge=0, description="last position at least this far inside the area")
    severe_zone_kinds: list[str] = Field(
        default_factory=lambda: ["security_zone", "restricted", "protected"],
        description="last seen in these: alarm, else warning",
    )
    implied_speed_flag_kn: float = Field(25.0, gt=0, description="flag a reappearance implying this speed")
    far_flag_m: float = Field(3704.0, gt=0, description="flag a reappearance this far from the last position")
    max_dark_hours: float = Field(24.0, gt=0, description="give up on a vessel silent this long")


@dataclass(slots=True)
class _Dark:
    last_seen: float
    lat: float
    lon: float
    name: str | None
    zone: str | None


class AisGapRule(Rule):
    id = TYPE
    Params = AisGapParams
    tick_seconds = 30.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: AisGapParams = params  # type: ignore[assignment]
        self._dark: dict[int, _Dark] = {}
        self._checked: dict[int, float] = {}
        """last_seen of vessels already examined and found not dark (not re-examined until heard)."""
        self._heard: dict[int, None] = {}
        """Vessels in the order they were last heard (an insertion-ordered dict used as a queue)."""
        self._retry: dict[int, float] = {}
        self._undecided: dict[int, None] = {}
        """The vessels of `_heard`, in the same order, less those already decided for their current
        silence (dark, or examined and found not dark): the tick scans only these. A decided vessel
        is never recently heard, so the scan stops where a scan of `_heard` would."""

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Reports about a vessel: position, static and safety reports. The tracker gives no vessel
        for any other report (base stations, aids to navigation, SAR aircraft), and `on_report`
        returns at once without one. (Every vessel report still counts: it moves the vessel to the
        end of the heard order, and whether it lands on a shadow track is only known later.)"""
        mask = batch.is_position.copy()
        reports = batch.reports
        rows = np.flatnonzero(~mask).tolist()
        if rows:
            mask[[i for i in rows if isinstance(reports[i], _VESSEL_REPORTS)]] = True
        return mask

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        if vessel is None or vessel.is_shadow:
            return
        heard = self._heard
        heard.pop(vessel.mmsi, None)
        heard[vessel.mmsi] = None  # most recently heard last
        undecided = self._undecided
        undecided.pop(vessel.mmsi, None)
        undecided[vessel.mmsi] = None
        dark = self._dark.pop(report.mmsi, None)
        if dark is None:
            return
        gap = report.time - dark.last_seen
        details: dict[str, object] = {
            "reason": "reappeared",
            "last_seen": iso_time(dark.last_seen),
            "gap_s": round(gap, 1),
        }
        if isinstance(report, PositionReport) and report.lat is not None and report.lon is not None:
            dist = approx_distance_m(dark.lat, dark.lon, report.lat, report.lon)
            implied = dist / gap * 3600.0 / 1852.0 if gap > 0 else 0.0
            details.update(
                {
                    "distance_m": round(dist, 0),
                    "implied_speed_kn": round(implied, 2),
                    "implied_speed_flag": implied > self.p.implied_speed_flag_kn,
                    "far_flag": dist > self.p.far_flag_m,
                }
            )
        ctx.alerts.clear(
            type=TYPE,
            mmsi=report.mmsi,
            details=details,
            message=f"{label(vessel, report.mmsi)} heard again after {gap / 60:.0f} min silent",
        )

    def on_tick(self, ctx: RuleContext) -> None:
        p = self.p
        now = ctx.now
        given_up: set[int] = set()
        for mmsi in sorted(self._dark):
            d = self._dark[mmsi]
            if now - d.last_seen > p.max_dark_hours * 3600.0:
                del self._dark[mmsi]
                given_up.add(mmsi)
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": "not heard again"})
            else:
                self._hold(ctx, mmsi, d)
        if given_up:  # examined again if still tracked
            self._undecided = {m: None for m in self._heard if m in self._undecided or m in given_up}
        undecided = self._undecided
        shortest = min(p.underway_minutes, p.moored_minutes) * 60.0
        silent_ones: list[VesselState] = []
        gone: list[int] = []
        for mmsi in undecided:  # least recently heard first: stop at the first one heard lately
            v = ctx.tracker.get(mmsi)
            if v is None:
                gone.append(mmsi)
                continue
            if now - v.last_seen < shortest:
                break
            silent_ones.append(v)
        for mmsi in gone:
            del self._heard[mmsi]
            del undecided[mmsi]
        for vessel in silent_ones:
            if (
                vessel.mmsi in self._dark
                or vessel.is_shadow
                or vessel.own_ship
                or not is_vessel_mmsi(vessel.mmsi)
                or self._checked.get(vessel.mmsi) == vessel.last_seen
            ):
                del undecided[vessel.mmsi]  # decided until heard again
                continue
            retry = self._retry.get(vessel.mmsi)
            if retry is not None and now < retry:
                continue
            verdict = self._goes_dark(vessel, ctx)
            if verdict is None:
                self._retry[vessel.mmsi] = now + RETRY_S  # not yet: look again a little later
                continue
            self._retry.pop(vessel.mmsi, None)
            if verdict is False:
                self._checked[vessel.mmsi] = vessel.last_seen
                del undecided[vessel.mmsi]
                continue
            assert vessel.lat is not None and vessel.lon is not None
            zone = self._severe_zone(ctx, vessel.lat, vessel.lon)
            d = _Dark(vessel.last_seen, vessel.lat, vessel.lon, vessel.name, zone)
            self._dark[vessel.mmsi] = d
            del undecided[vessel.mmsi]
            self._hold(ctx, vessel.mmsi, d)
        if len(self._checked) > 4 * max(len(self._heard), 1000):
            self._checked.clear()
            self._undecided = {m: None for m in self._heard if m not in self._dark}  # examined again

    def on_forget(self, mmsi: int) -> None:
        self._checked.pop(mmsi, None)
        self._retry.pop(mmsi, None)
        self._heard.pop(mmsi, None)
        self._undecided.pop(mmsi, None)
        # a dark vessel stays in self._dark (and its alert active) until heard again or given up

    # -- internals -------------------------------------------------------------------------------
    def _goes_dark(self, vessel: VesselState, ctx: RuleContext) -> bool | None:
        """True: dark now; None: not (yet) silent long enough; False: will not be, for this silence."""
        p = self.p
        if vessel.lat is None or vessel.lon is None:
            return False
        moored = vessel.nav_status in (AT_ANCHOR, MOORED) or (
            vessel.sog is not None and vessel.sog < STATIONARY_KN
        )
        limit = (p.moored_minutes if moored else p.underway_minutes) * 60.0
        limit = max(limit, vessel.stale_after())
        silent = ctx.now - vessel.last_seen
        if silent < limit:
            return None
        if vessel.recent_message_count(vessel.last_seen, p.history_minutes * 60.0) < p.min_messages:
            return False
        if not self._well_inside(ctx, vessel.lat, vessel.lon):
            return False
        if self._neighbours_heard(ctx, vessel) < p.min_neighbours:
            return None  # maybe the receiver is down: look again later
        return True

    def _well_inside(self, ctx: RuleContext, lat: float, lon: float) -> bool:
        ids = zone_ids_of_kinds(ctx.zones, AREA_KINDS)
        if not ids:
            return True
        margin_deg = self.p.edge_margin_m / M_PER_DEG_LAT
        pt = Point(lon, lat)
        for zid in sorted(ids):
            geom = ctx.zones.zone(zid).geometry
            if geom.contains(pt) and (margin_deg <= 0 or geom.exterior.distance(pt) >= margin_deg):
                return True
        return False

    def _neighbours_heard(self, ctx: RuleContext, vessel: VesselState) -> int:
        assert vessel.lat is not None and vessel.lon is not None
        need = self.p.min_neighbours
        if need <= 0:
            return 0
        heard = 0
        recent = max(ctx.now - self.p.underway_minutes * 60.0, vessel.last_seen)
        radius = self.p.neighbour_radius_m
        # the most recently heard first; stop at the first one heard before `recent`
        for other in reversed(self._heard):
            ov = ctx.tracker.get(other)
            if ov is None or other == vessel.mmsi:
                continue
            if ov.last_seen <= recent:
                break
            if ov.lat is None or ov.lon is None or ov.is_shadow:
                continue
            if approx_distance_m(vessel.lat, vessel.lon, ov.lat, ov.lon) <= radius:
                heard += 1
                if heard >= need:
                    break
        return heard

    def _severe_zone(self, ctx: RuleContext, lat: float, lon: float) -> str | None:
        ids = zone_ids_of_kinds(ctx.zones, self.p.severe_zone_kinds)
        hits = sorted(z.id for z in ctx.zones.zones_at(lon, lat) if z.id in ids)
        return hits[0] if hits else None

    def _hold(self, ctx: RuleContext, mmsi: int, d: _Dark) -> None:
        silent = ctx.now - d.last_seen
        who = f"{d.name} ({mmsi})" if d.name else str(mmsi)
        where = f" in {d.zone}" if d.zone else ""
        ctx.alerts.hold(
            type=TYPE,
            mmsi=mmsi,
            severity="alarm" if d.zone else "warning",
            message=f"{who} silent for {silent / 60:.0f} min{where} while vessels near it are heard",
            lat=d.lat,
            lon=d.lon,
            details={"last_seen": iso_time(d.last_seen), "silent_s": round(silent, 0), "last_zone": d.zone},
        )


RULE = AisGapRule
