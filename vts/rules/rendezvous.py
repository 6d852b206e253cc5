"""rendezvous: two vessels meeting — within `distance_m` (200 m) of each other, both under
`max_speed_kn` (3 kn), for at least `min_minutes` (10), anywhere outside berths.

The spell is observed on the reports of either vessel (each report looks up its neighbours in the
spatial grid, so the cost does not grow with the size of the picture) and is not bridged across a
silence of more than `max_gap_minutes` (7: one lost 3-minute report of a slow Class B boat is not a
gap), as Global Fishing Watch does not interpolate encounters across gaps. Left out: allow-listed
tugs, pilots and coastguard (`exempt_roles`) and the service ship types (`exempt_ship_types`: pilot,
SAR, tug, port tender, law enforcement), whose work is meeting ships; a vessel inside a berth,
terminal or fishing dock (`exempt_zone_kinds`: ships moored at the same berth are neighbours, not a
rendezvous); two vessels both at anchor or moored inside an anchorage or mooring field
(`anchored_zone_kinds`); a pair outside the watched area; and a pair already reported as alongside
(the more specific alert). The alert (key: the lower MMSI, the other as `other_mmsi`) clears when
the two are more than `distance_m` + `clear_margin_m` apart, one gets under way, or the pair is not
observed close for `lost_minutes`. A fix older than its vessel's latest (delivered late) is not
looked at: it says where the vessel was, not that it is near anyone now.

Batched processing: a report does something only when its vessel may be slow (it may then start a
spell) or is already in a pair, so the rule asks for the slow reports and watches the vessels that
are in a pair (`vts.rules._pairs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from vts.rules._common import (
    SERVICE_SHIP_TYPES,
    in_kinds,
    in_watched_area,
    is_allowlisted,
    is_vessel_mmsi,
    label,
)
from vts.rules._pairs import (
    PairKey,
    PairMembers,
    PairParams,
    PairWatch,
    Proximity,
    in_watched_rows,
    previous_fix,
    slow_rows,
)
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.spatial import approx_distance_m
from vts.vessel_class import is_moored_or_anchored

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import PositionReport
    from vts.tracker import VesselState

TYPE = "rendezvous"


class RendezvousParams(PairParams):
    distance_m: float = Field(200.0, gt=0, description="the two vessels within this distance")
    min_minutes: float = Field(10.0, ge=0, description="for at least this long")
    stale_position_minutes: float = Field(7.0, gt=0, description="ignore a neighbour whose last fix is older")
    exempt_roles: list[str] = Field(
        default_factory=lambda: ["tug", "pilot", "coastguard"], description="allow-lists exempt"
    )
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose work is meeting ships (pilot, SAR, tug, port tender, police)",
    )
    anchored_zone_kinds: list[str] = Field(
        default_factory=lambda: ["anchorage", "waiting_area"],
        description="two vessels both at anchor or moored inside these are neighbours, not a rendezvous",
    )
    exempt_zone_kinds: list[str] = Field(
        default_factory=lambda: ["berth", "terminal", "fishing_dock"],
        description="a vessel inside one of these is not in a rendezvous",
    )
    severity: Literal["alarm", "warning", "caution"] = Field("warning", description="alert severity")


class RendezvousRule(Rule):
    id = TYPE
    Params = RendezvousParams
    tick_seconds = 30.0
    late_fixes = False  # a late fix is where the vessel was: no evidence of being close now

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: RendezvousParams = params  # type: ignore[assignment]
        self._members = PairMembers(self)
        self._pairs = PairWatch(self.p.max_gap_minutes * 60.0, self._members)
        self._next_check: dict[int, float] = {}

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """The slow position reports. A report with a SOG at or above `max_speed_kn` leaves its
        vessel with that SOG (so `on_position` returns at once when the vessel is in no pair): the
        tracker applies every fix this rule is given (`late_fixes` is False). The vessels in a pair
        are watched."""
        self._members.bind(ctx)
        return slow_rows(batch, self.p.max_speed_kn) & in_watched_rows(batch, ctx)

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        self._members.bind(ctx)
        if report.lat is None or report.lon is None:
            return
        if not self._pairs.has_pairs(vessel.mmsi) and not in_watched_area(ctx.zones, report.lat, report.lon):
            return  # outside the watched area, a vessel in no pair starts no spell (and is not throttled)
        p = self.p
        sog = report.sog
        if (
            sog is not None
            and sog >= p.max_speed_kn
            and vessel.sog is not None
            and vessel.sog >= p.max_speed_kn
            and not self._pairs.has_pairs(vessel.mmsi)
        ):
            return  # under way (not eligible) and in no pair: nothing to end, the common case
        if sog is None or sog < p.max_speed_kn:
            due = self._next_check.get(vessel.mmsi)
            if due is not None and ctx.now < due:
                return  # looked at this vessel's neighbourhood moments ago
            self._next_check[vessel.mmsi] = ctx.now + p.check_every_s
        if not self._eligible(vessel, ctx):
            for key in self._pairs.pairs_of(vessel.mmsi):
                self._last_evidence(key, vessel, ctx)
                self._end(
                    key, ctx, "under way or exempt" if sog is None or sog >= p.max_speed_kn else "exempt"
                )
            return
        stale = ctx.now - p.stale_position_minutes * 60.0
        report_pos = (report.lat, report.lon)
        seen: set[PairKey] = set()
        for dist, other in ctx.grid.near_with_distance(
            report.lat, report.lon, p.distance_m + p.clear_margin_m
        ):
            if other == vessel.mmsi:
                continue
            key: PairKey = (min(vessel.mmsi, other), max(vessel.mmsi, other))
            seen.add(key)  # still near: a silent or stale partner is not "apart"
            if dist > p.distance_m:
                continue  # (before the partner checks, which have no side effects: cheaper)
            ov = ctx.tracker.get(other)
            if (
                ov is None
                or ov.position_time is None
                or ov.position_time < stale
                or not self._eligible(ov, ctx)
            ):
                continue
            if ctx.alerts.is_active("alongside", vessel.mmsi, other) or ctx.alerts.is_active(
                "alongside", other, vessel.mmsi
            ):
                self._end(key, ctx, "reported as alongside")
                continue
            # evidence of both being there: as old as the older of their two fixes
            observed = min(ctx.now, ov.position_time)
            since = None
            if self._pairs.starts_spell(key, observed):
                since = self._close_since(vessel, ov)
            prox = self._pairs.observe_close(key, observed, dist, since=since)
            if prox.duration() >= p.min_minutes * 60.0 and not ctx.alerts.is_active(TYPE, *key):
                if self._neighbours_at_anchor(vessel, ov, ctx) or not in_watched_area(ctx.zones, *report_pos):
                    continue
            if prox.duration() >= p.min_minutes * 60.0:
                self._hold(key, prox, ctx)
        for key in self._pairs.pairs_of(vessel.mmsi):
            if key not in seen:
                self._end(key, ctx, "vessels apart")

    def adopt(self, previous: Rule) -> bool:
        """The close spells do not depend on the thresholds: carried on (a spell is judged by the
        new ones from its next observation)."""
        assert isinstance(previous, RendezvousRule)
        self._pairs.take_over(previous._pairs)
        self._next_check = previous._next_check
        return True

    def on_tick(self, ctx: RuleContext) -> None:
        for key in self._pairs.stale(ctx.now, self.p.lost_minutes * 60.0):
            self._end(key, ctx, "pair not observed close any more")

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._next_check.pop(mmsi, None)
        for key in self._pairs.pairs_of(mmsi):
            self._pairs.end(key)

    # -- internals -------------------------------------------------------------------------------
    def _eligible(self, v: VesselState, ctx: RuleContext) -> bool:
        p = self.p
        if v.own_ship or v.is_shadow or v.lat is None or v.lon is None or not is_vessel_mmsi(v.mmsi):
            return False
        if v.sog is not None and v.sog >= p.max_speed_kn:
            return False
        if v.ship_type is not None and v.ship_type in p.exempt_ship_types:
            return False
        if is_allowlisted(ctx.allowlists, v.mmsi, p.exempt_roles):
            return False
        return not in_kinds(ctx.zones, v.mmsi, p.exempt_zone_kinds)

    def _last_evidence(self, key: PairKey, vessel: VesselState, ctx: RuleContext) -> None:
        """The vessel reports speed again: if it is still close to the other and has hardly moved
        since its previous fix, the meeting lasted until this fix (it is only now getting under way)."""
        p = self.p
        other = ctx.tracker.get(key[0] if key[1] == vessel.mmsi else key[1])
        if (
            other is None
            or other.lat is None
            or other.lon is None
            or vessel.lat is None
            or vessel.lon is None
        ):
            return
        if (
            vessel.position_time is None
            or previous_fix(vessel, p.max_speed_kn, p.max_gap_minutes * 60.0) is None
        ):
            return
        dist = approx_distance_m(vessel.lat, vessel.lon, other.lat, other.lon)
        if dist <= p.distance_m:
            prox = self._pairs.observe_close(key, vessel.position_time, dist)
            if prox.duration() >= p.min_minutes * 60.0:
                self._hold(key, prox, ctx)

    def _close_since(self, a: VesselState, b: VesselState) -> float | None:
        """When both were already close at their previous fixes, moving slowly since: the later of
        those two fix times (the spell is dated back to it); else None."""
        gap = self.p.max_gap_minutes * 60.0
        pa = previous_fix(a, self.p.max_speed_kn, gap)
        pb = previous_fix(b, self.p.max_speed_kn, gap)
        if pa is None or pb is None:
            return None
        if approx_distance_m(pa.lat, pa.lon, pb.lat, pb.lon) > self.p.distance_m:
            return None
        return max(pa.time, pb.time)

    def _neighbours_at_anchor(self, a: VesselState, b: VesselState, ctx: RuleContext) -> bool:
        """Both at anchor or moored inside an anchorage (a mooring field, ships swinging at anchor)."""
        kinds = self.p.anchored_zone_kinds
        if not kinds or not in_kinds(ctx.zones, a.mmsi, kinds) or not in_kinds(ctx.zones, b.mmsi, kinds):
            return False
        return is_moored_or_anchored(a, ctx.now) and is_moored_or_anchored(b, ctx.now)

    def _hold(self, key: PairKey, prox: Proximity, ctx: RuleContext) -> None:
        a = ctx.tracker.get(key[0])
        b = ctx.tracker.get(key[1])
        if a is None or b is None or a.lat is None or a.lon is None or b.lat is None or b.lon is None:
            return
        ctx.alerts.hold(
            type=TYPE,
            mmsi=key[0],
            other_mmsi=key[1],
            severity=self.p.severity,
            message=(
                f"{label(a, key[0])} and {label(b, key[1])} together for {prox.duration() / 60:.0f} min, "
                f"{prox.closest_m:.0f} m apart at closest"
            ),
            lat=(a.lat + b.lat) / 2.0,
            lon=(a.lon + b.lon) / 2.0,
            details={
                "closest_m": round(prox.closest_m, 1),
                "distance_m": round(approx_distance_m(a.lat, a.lon, b.lat, b.lon), 1),
                "duration_s": round(prox.duration(), 1),
                "sog_kn": [a.sog, b.sog],
                "categories": [a.category, b.category],
            },
        )

    def _end(self, key: PairKey, ctx: RuleContext, reason: str) -> None:
        self._pairs.end_and_clear(key, TYPE, ctx, reason)


RULE = RendezvousRule
