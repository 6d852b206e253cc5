"""rendezvous: two vessels meeting — within `distance_m` (200 m) of each other, both under
`max_speed_kn` (3 kn), for at least `min_minutes` (10), anywhere outside berths.

The spell is observed on the reports of either vessel (each report looks up its neighbours in the
spatial grid, so the cost does not grow with the size of the picture) and is not bridged across a
silence of more than `max_gap_minutes` (7: one lost 3-minute report of a slow Class B boat is not a
gap), as Global Fishing Watch does not interpolate encounters across gaps. The other vessel's latest
fix is evidence of where it is now until its next report is overdue (`FIX_STANDS_FACTOR`), as long
as its speed cannot have taken it out of range meanwhile: a lost report does not shorten a meeting.
GNSS noise of tens of metres puts a pair near 200 m on both sides of it: the alert is raised only
when most looks at the pair over the last `min_minutes` found it within `distance_m` (GFW judges an
encounter by its median distance), and one stray fix beyond `distance_m` + `clear_margin_m` does
not end the spell (the pair is apart when the previous fixes agree).

Left out: allow-listed tugs, pilots, coastguard and `other` (bunker barges, supply boats: no AIS
ship type names them) (`exempt_roles`), and the service ship types (`exempt_ship_types`: pilot, SAR,
tug, port tender, law enforcement), whose work is meeting ships; a vessel inside a berth, terminal
or fishing dock (`exempt_zone_kinds`: ships moored at the same berth are neighbours, not a
rendezvous), and two vessels both reporting moored inside the inner harbour (`moored_zone_kinds`: at
neighbouring quays, wherever the berth polygons end); two small craft both at anchor or moored
inside an anchorage or mooring field (`anchored_zone_kinds`: boats on moorings or rafted at anchor
are neighbours); a pair outside the watched area; and a pair already reported as alongside (the more
specific alert). Anchorages are not berths: a pair at anchor there with a large vessel in it (a
bunkering, a ship-to-ship transfer, ships anchored too close) is raised, at `anchored_severity`
(caution), naming the anchorage.

The alert (key: the lower MMSI, the other as `other_mmsi`) clears when the two are apart (above),
one gets under way, one turns out to be exempt (a tug's static data comes: cleared without a last
look, so a pair that never was a rendezvous is not raised as it ends), or the pair is not observed
close for `lost_minutes`. A fix older than its vessel's latest (delivered late) is not looked at: it
says where the vessel was, not that it is near anyone now.

Batched processing: a report does something only when its vessel may be slow (it may then start a
spell) or is already in a pair, so the rule asks for the slow reports and watches the vessels that
are in a pair (`vts.rules._pairs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vts.rules._common import (
    declares_service_type,
    in_kinds,
    in_watched_area,
    is_allowlisted,
    is_vessel_mmsi,
    label,
    zone_name,
)
from vts.rules._pairs import PairKey, PairRule, Proximity, apart, previous_fix
from vts.rules.base import RuleContext
from vts.rules.params import RendezvousParams
from vts.spatial import approx_distance_m
from vts.vessel_class import MOORED, MS_PER_KNOT, is_large_vessel, is_moored_or_anchored

if TYPE_CHECKING:
    from vts.reports import PositionReport
    from vts.tracker import VesselState

TYPE = "rendezvous"
FIX_STANDS_FACTOR = 1.25
"""A vessel's latest fix stands, as evidence of where it is, for this many nominal reporting
intervals (`VesselState.expected_interval`): until its next report is overdue, with some slack for
the jitter of the reporting slots."""


class RendezvousRule(PairRule[RendezvousParams]):
    id = TYPE
    Params = RendezvousParams
    tick_seconds = 30.0
    late_fixes = False  # a late fix is where the vessel was: no evidence of being close now

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        self._members.bind(ctx)
        if report.lat is None or report.lon is None:
            return
        if not self._pairs.has_pairs(vessel.mmsi) and not self._area.contains(
            ctx.zones, report.lat, report.lon
        ):
            return  # outside the watched area, a vessel in no pair starts no spell (and is not throttled)
        p = self.p
        sog = report.sog
        self._pace(vessel.mmsi, vessel.sog is not None and vessel.sog >= p.max_speed_kn, ctx.now)
        if (
            sog is not None
            and sog >= p.max_speed_kn
            and vessel.sog is not None
            and vessel.sog >= p.max_speed_kn
            and not self._pairs.has_pairs(vessel.mmsi)
        ):
            return  # under way (not eligible) and in no pair: nothing to end, the common case
        if (sog is None or sog < p.max_speed_kn) and not self._look_now(vessel.mmsi, ctx.now):
            return  # looked at this vessel's neighbourhood moments ago
        exempt = self._exempt(vessel, ctx)
        if exempt is not None:
            # never in a rendezvous (a tug, say, whose static data has just come): no last evidence
            for key in self._pairs.pairs_of(vessel.mmsi):
                self._end(key, ctx, f"{vessel.mmsi} {exempt}")
            return
        if vessel.sog is not None and vessel.sog >= p.max_speed_kn:
            for key in self._pairs.pairs_of(vessel.mmsi):
                self._last_evidence(key, vessel, ctx)  # (at its first fast fix)
                if self._ends_under_way(key, vessel.mmsi, ctx):
                    self._end(key, ctx, f"{vessel.mmsi} under way ({vessel.sog:.1f} kn)")
                # else shifting round the other, perhaps: still together for now
            return
        stale = ctx.now - p.stale_position_minutes * 60.0
        window = p.min_minutes * 60.0
        seen: set[PairKey] = set()
        for dist, other in ctx.grid.near_with_distance(
            report.lat, report.lon, p.distance_m + p.clear_margin_m
        ):
            if other == vessel.mmsi:
                continue
            key = (min(vessel.mmsi, other), max(vessel.mmsi, other))
            seen.add(key)  # still near: a silent or stale partner is not "apart"
            if dist > p.distance_m:
                self._pairs.look_beyond(key, ctx.now, window)
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
            # evidence of both being there: now when the other's latest fix still stands, else as
            # old as the older of their two fixes
            observed = ctx.now if self._fix_stands(ov, dist, ctx.now) else min(ctx.now, ov.position_time)
            since = None
            if self._pairs.starts_spell(key, observed):
                since = self._close_since(vessel, ov)
                if since is None:
                    # a new spell with no earlier evidence of the two together starts at this fix:
                    # the other's older fix says nothing of where this vessel was then (it may not
                    # even have been heard yet), so the meeting is not dated back to it
                    observed = ctx.now
            prox = self._pairs.observe_close(key, observed, dist, since=since)
            prox.look(ctx.now, True, window)
            self._judge(key, prox, vessel, ov, ctx)
        for key in self._pairs.pairs_of(vessel.mmsi):
            if key in seen:
                continue
            if self._apart(key, vessel, ctx):
                self._end(key, ctx, "vessels apart")
            else:
                self._pairs.look_beyond(key, ctx.now, window)

    # -- internals -------------------------------------------------------------------------------
    def _exempt(self, v: VesselState, ctx: RuleContext) -> str | None:
        """Why the vessel is in no rendezvous whatever its speed (None: it may be): a service ship
        type, an allow-listed MMSI, inside a berth; or not a vessel this rule watches."""
        p = self.p
        if v.own_ship or v.is_shadow or v.lat is None or v.lon is None or not is_vessel_mmsi(v.mmsi):
            return "not watched"
        if declares_service_type(v, p.exempt_ship_types):
            return f"exempt (ship type {v.ship_type})"
        if is_allowlisted(ctx.allowlists, v.mmsi, p.exempt_roles):
            return "exempt (allow-listed)"
        inside = in_kinds(ctx.zones, v.mmsi, p.exempt_zone_kinds)
        return f"exempt (in {inside[0]})" if inside else None

    def _eligible(self, v: VesselState, ctx: RuleContext) -> bool:
        return (v.sog is None or v.sog < self.p.max_speed_kn) and self._exempt(v, ctx) is None

    def _fix_stands(self, other: VesselState, dist: float, now: float) -> bool:
        """The other vessel's latest fix still says where it is `now`: its next report is not yet
        overdue (no older than `FIX_STANDS_FACTOR` times its nominal interval: a slow Class B boat
        reports every 3 minutes, and a lost report of it must not cut 3 minutes off a meeting), and
        at its reported speed (unknown: `max_speed_kn`) it cannot have drifted beyond `distance_m`
        of the reporting vessel since."""
        assert other.position_time is not None
        age = now - other.position_time
        if age <= 0.0:
            return True
        if age > FIX_STANDS_FACTOR * other.expected_interval():
            return False
        sog = self.p.max_speed_kn if other.sog is None else other.sog
        return dist + sog * MS_PER_KNOT * age <= self.p.distance_m

    def _apart(self, key: PairKey, vessel: VesselState, ctx: RuleContext) -> bool:
        """The vessel's latest fix is beyond `distance_m` + `clear_margin_m` of the other's: apart,
        unless the previous fix of either says otherwise (`vts.rules._pairs.apart`)."""
        other = ctx.tracker.get(key[0] if key[1] == vessel.mmsi else key[1])
        if other is None:
            return True
        return apart(vessel, other, self.p.distance_m + self.p.clear_margin_m, self.p.max_gap_minutes * 60.0)

    def _judge(self, key: PairKey, prox: Proximity, a: VesselState, b: VesselState, ctx: RuleContext) -> None:
        """Hold the pair's alert once its spell lasts `min_minutes`. Raised only when most recent
        looks found the pair within the distance, `a` (the vessel reporting) is in the watched
        area, and the two are not small craft at anchor or moored side by side in an anchorage
        (a mooring field, boats rafted at anchor: neighbours); a pair at anchor there with a large
        vessel in it is raised at `anchored_severity` and says so (`_hold`)."""
        p = self.p
        if prox.duration() < p.min_minutes * 60.0:
            return
        if not ctx.alerts.is_active(TYPE, *key):
            if prox.close_share() < 0.5:
                return
            if a.lat is None or a.lon is None or not in_watched_area(ctx.zones, a.lat, a.lon):
                return
            if self._moored_in_port(a, b, ctx):
                return
            anchorage = self._anchored_in(a, b, ctx)
            if anchorage is not None and not (is_large_vessel(a) or is_large_vessel(b)):
                return
            prox.extra["anchored_in"] = anchorage
        self._hold(key, prox, ctx)

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
            prox.look(ctx.now, True, p.min_minutes * 60.0)
            self._judge(key, prox, vessel, other, ctx)

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

    def _moored_in_port(self, a: VesselState, b: VesselState, ctx: RuleContext) -> bool:
        """Both report moored (status 5) inside a zone of `moored_zone_kinds` (the inner harbour):
        ships at neighbouring quays. An independent generator's two cargo ships moored 170 m apart in
        APM's basin, in water the berth polygon does not cover, were raised again and again."""
        kinds = self.p.moored_zone_kinds
        return (
            bool(kinds)
            and a.nav_status == MOORED
            and b.nav_status == MOORED
            and bool(in_kinds(ctx.zones, a.mmsi, kinds))
            and bool(in_kinds(ctx.zones, b.mmsi, kinds))
        )

    def _anchored_in(self, a: VesselState, b: VesselState, ctx: RuleContext) -> str | None:
        """The anchorage (or mooring field) `a` is in when both are at anchor or moored inside one
        (`anchored_zone_kinds`); else None."""
        kinds = self.p.anchored_zone_kinds
        if not kinds:
            return None
        zones_a = in_kinds(ctx.zones, a.mmsi, kinds)
        if not zones_a or not in_kinds(ctx.zones, b.mmsi, kinds):
            return None
        if is_moored_or_anchored(a, ctx.now) and is_moored_or_anchored(b, ctx.now):
            return zones_a[0]
        return None

    def _hold(self, key: PairKey, prox: Proximity, ctx: RuleContext) -> None:
        a = ctx.tracker.get(key[0])
        b = ctx.tracker.get(key[1])
        if a is None or b is None or a.lat is None or a.lon is None or b.lat is None or b.lon is None:
            return
        anchorage: str | None = prox.extra.get("anchored_in")
        where = f", both at anchor in {zone_name(ctx.zones, anchorage)}" if anchorage is not None else ""
        ctx.alerts.hold(
            type=TYPE,
            mmsi=key[0],
            other_mmsi=key[1],
            severity=self.p.anchored_severity if anchorage is not None else self.p.severity,
            message=(
                f"{label(a, key[0])} and {label(b, key[1])} together for {prox.duration() / 60:.0f} min, "
                f"{prox.closest_m:.0f} m apart at closest{where}"
            ),
            lat=(a.lat + b.lat) / 2.0,
            lon=(a.lon + b.lon) / 2.0,
            details={
                "closest_m": round(prox.closest_m, 1),
                "distance_m": round(approx_distance_m(a.lat, a.lon, b.lat, b.lon), 1),
                "duration_s": round(prox.duration(), 1),
                "sog_kn": [a.sog, b.sog],
                "categories": [a.category, b.category],
                "anchored_in": anchorage,
            },
        )


RULE = RendezvousRule
