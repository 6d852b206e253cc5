"""alongside: a small craft lying next to a large ship at anchor or moored (possible hull
attachment by divers, or a rip-on / rip-off at the berth: the Callao and Paita cases).

Fires (state alert) when

* a small craft (Class B; fishing, pleasure and other 30-37 types; small service types; unknown
  type; no static data; or under 20 m long) and
* a large vessel (Class A with type 60-89, or at least 50 m long) that is at anchor or moored (nav
  status 1/5, or under 0.5 kn for 10 min),
* are within `distance_m` (150 m) of each other, both under `max_speed_kn` (3 kn),
* for at least `min_minutes` (3).

The distance is measured to the ship's hull when its heading and dimensions are known (the AIS
antenna of a 300 m ship may be 250 m from its bow; a report without a heading uses the latest one
of the ship's trail). A ship that reports no heading at all is placed along the coastline within
`quay_within_m` (80 m) of its antenna (moored to that quay or pier; either way round, the nearer
placement counting) or, at anchor, on the heading the ships at anchor around it agree on (head to
the same wind and current); with neither, the distance is to its antenna. A placed hull gives no
end or side ("unknown": a guess does not say which end is which). The spell is observed on
the reports of either vessel and is not bridged across a silence of more than `max_gap_minutes`.
GNSS noise of tens of metres puts a craft near 150 m on both sides of it: the alert is raised only
when most looks at the pair over the last `min_minutes` found the craft within `distance_m`.

Severity is alarm at night (`night_start_hour`-`night_end_hour` local, 18:00-06:00), when either
vessel is inside a security zone, or when the small craft has no static data; warning otherwise.
Evidence: closest and current distance, duration, and where on the ship (bow/stern,
port/starboard; "unknown" without a heading). Allow-listed craft (tugs, pilots, coastguard) and the
service ship types whose work is alongside ships (`exempt_ship_types`: pilot 50, SAR 51, tug 52,
port tender 53, law enforcement 55) declared by a Class A station are exempt; a Class B craft's
self-declared type exempts nothing (`declares_service_type`: anyone sets it). The alert clears when
the craft moves more than `distance_m` + `clear_margin_m` away (on two fixes: one stray fix of
either vessel is not a parting), either vessel gets under way (a ship in a pair no longer counts
as at anchor or moored once its mean SOG reaches `MOORED_HOLD_KN`, not as it passes 0.5 kn), the
craft turns out to be exempt, or the pair is not observed close for `lost_minutes`. A craft's fix
delivered more than `max_gap_minutes` late says nothing about now and is ignored.

Batched processing: only a slow report can start a spell, and a fast one only ends the spells of
its vessel, so the rule asks for the slow reports and watches the vessels that are in a pair
(`vts.rules._pairs`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from vts.rules._common import (
    declares_service_type,
    in_kinds,
    in_watched_area,
    is_allowlisted,
    is_vessel_mmsi,
    label,
)
from vts.rules._pairs import PairKey, PairRule, Proximity, apart, previous_fix
from vts.rules.base import RuleContext, RuleParams
from vts.rules.params import AlongsideParams
from vts.spatial import local_offset_m
from vts.vessel_class import (
    AT_ANCHOR,
    CLASS_A_STATIC_GRACE_MINUTES,
    MOORED,
    STATIONARY_WINDOW_S,
    awaits_type,
    has_no_static,
    is_large_vessel,
    is_moored_or_anchored,
    is_night,
    is_small_craft,
    mean_speed_kn,
)

if TYPE_CHECKING:
    from vts.reports import PositionReport
    from vts.tracker import VesselState

TYPE = "alongside"
MAX_SHIP_EXTENT_M = 400.0
"""Search radius margin: the farthest a hull end can be from the ship's AIS antenna."""
STATIC_WAIT_S = 7 * 60.0
"""A Class A vessel first heard less than this ago with no static data yet is not raised as a small
craft for that alone: it may be a ship whose static data (every 6 minutes) has not come yet, lying
next to another at a berth. Kept to one static interval and a minute, not two: a Class A boat that
sends no static data and lies at a ship is the very case to report, and the wait delays it. (At
start-up, ships reporting every 3 minutes at a berth are held back longer by the engine's
5-message minimum, by when their static data has come.) Class B craft are small whatever their
static data says."""
STATIC_WAIT_AT_REST_S = CLASS_A_STATIC_GRACE_MINUTES * 60.0
"""The same wait for a Class A target that itself reports "at anchor" or "moored" (nav status 1/5):
restricted_area's Class A grace (`CLASS_A_STATIC_GRACE_MINUTES`). Such a target reports
every 3 minutes, so the 5-message minimum lets it through after 12 minutes, and one lost static
report (5-25 % of messages are lost, in bursts) leaves a ship heard afresh at a berth without its
static data until then: it was raised as a craft alongside its neighbour. Its transponder sends
static data by itself; two reports lost in a row are likelier than a moored ship sending none."""
FIX_STANDS_S = 20.0
"""A craft's latest close fix still stands this long after it, for the `min_minutes` count (a look
on the rule's tick): a Class B craft lying still reports every 3 minutes, and whether its second
fix comes 2:57 or 3:03 after its first must not decide between an alert at 3 minutes and one at
6. Only a spell of at least `min_minutes` less this observed in fixes is raised so, and only while
no newer fix of the craft has come (a craft that gets under way reports again within 30 s)."""
NEIGHBOUR_RADIUS_M = 3000.0
NEIGHBOUR_HEADINGS = 3
NEIGHBOUR_AGREEMENT = 0.95
"""`AlongsideRule._anchorage_heading`: how many ships at anchor around, how near, agreeing how well."""
MOORED_HOLD_KN = 1.0
"""A ship in a pair still lies at anchor or moored while its mean SOG over the last 10 minutes
stays under this (hysteresis: a ship swinging at anchor under status 0 shows some tenths of a knot,
and its mean passing 0.5 kn now and then must not end and re-raise the alert)."""


def ship_heading(ship: VesselState) -> float | None:
    """The ship's heading: as reported; else, when the latest report had none (511, "not
    available", which some ships send on some reports only), the latest one its trail holds (a ship
    lying at anchor or moored barely turns); else its COG when making way; else None."""
    if ship.heading is not None:
        return ship.heading
    for fix in reversed(ship.trail):
        if fix.heading is not None:
            return fix.heading
    if ship.cog is not None and ship.sog is not None and ship.sog >= 1.0:
        return ship.cog
    return None


def hull_geometry(
    ship: VesselState,
    lat: float,
    lon: float,
    at: tuple[float, float] | None = None,
    placement: tuple[float, bool] | None = None,
) -> tuple[float, str | None, str | None]:
    """(distance in m from the point to the ship's hull, end "bow"/"stern", side "port"/"starboard").
    `at`: the ship's antenna position to place the hull at (its latest position when None).

    Without a heading (`ship_heading`) the hull is placed on `placement`, (a bearing, either way
    round: the quay the ship lies along, the nearer of its two placements counting), with end and
    side None (a guess does not say which end is which); with no placement either, it cannot be
    placed: the distance is to the antenna. Without dimensions the hull is the antenna point itself.
    """
    if at is None:
        assert ship.lat is not None and ship.lon is not None
        at = (ship.lat, ship.lon)
    east, north = local_offset_m(at[0], at[1], lat, lon)
    heading = ship_heading(ship)
    if heading is not None:
        return _hull_distance(ship, heading, east, north)
    if placement is not None:
        bearing, either_way = placement
        d = _hull_distance(ship, bearing, east, north)[0]
        if either_way:
            d = min(d, _hull_distance(ship, bearing + 180.0, east, north)[0])
        return d, None, None
    return math.hypot(east, north), None, None


def _hull_distance(
    ship: VesselState, heading: float, east: float, north: float
) -> tuple[float, str | None, str | None]:
    h = math.radians(heading)
    along = north * math.cos(h) + east * math.sin(h)  # + towards the bow
    across = east * math.cos(h) - north * math.sin(h)  # + to starboard
    bow, stern = float(ship.to_bow or 0), float(ship.to_stern or 0)
    port, stbd = float(ship.to_port or 0), float(ship.to_starboard or 0)
    dx = max(-stern - along, 0.0, along - bow)
    dy = max(-port - across, 0.0, across - stbd)
    end = "bow" if along >= (bow - stern) / 2.0 else "stern"
    side = "starboard" if across >= (stbd - port) / 2.0 else "port"
    return math.hypot(dx, dy), end, side


class AlongsideRule(PairRule[AlongsideParams]):
    id = TYPE
    Params = AlongsideParams
    tick_seconds = 30.0
    late_fixes = False  # a late fix says neither close nor under way now

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self._moored_cache: dict[int, tuple[float, bool]] = {}
        self._placements: dict[int, tuple[tuple[float | None, object], tuple[float, bool] | None]] = {}
        """Per ship without a heading: ((fix time, zone engine), its `_placement`)."""

    # -- hooks -----------------------------------------------------------------------------------
    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        self._members.bind(ctx)
        if vessel.own_ship or report.lat is None or report.lon is None or not is_vessel_mmsi(vessel.mmsi):
            return
        if not self._pairs.has_pairs(vessel.mmsi) and not self._area.contains(
            ctx.zones, report.lat, report.lon
        ):
            return  # outside the watched area, a vessel in no pair starts no spell (and is not throttled)
        p = self.p
        sog = report.sog
        slow = sog is None or sog < p.max_speed_kn
        self._pace(vessel.mmsi, not slow, ctx.now)
        if not slow:
            keys = self._pairs.pairs_of(vessel.mmsi)
            exempt = self._exempt(vessel, ctx) if keys else None  # (an exempt craft has no last say)
            for key in keys:
                if key[0] == vessel.mmsi and exempt is not None:
                    self._end(key, ctx, f"{vessel.mmsi} exempt ({exempt})")  # never alongside
                    continue
                if key[0] == vessel.mmsi:
                    self._last_evidence(key, vessel, ctx)  # (at its first fast fix)
                if self._ends_under_way(key, vessel.mmsi, ctx):
                    self._end(key, ctx, f"{vessel.mmsi} under way ({sog:.1f} kn)")
                # else shifting along the hull, perhaps: still with the ship for now
            return
        if not self._look_now(vessel.mmsi, ctx.now):
            return  # looked at this vessel's neighbourhood moments ago
        if is_large_vessel(vessel):
            for key in self._pairs.pairs_of(vessel.mmsi):
                if key[0] == vessel.mmsi:  # taken for a small craft until its static data came
                    self._end(key, ctx, f"{vessel.mmsi} is a large vessel")
            if not self._moored(vessel, held=self._pairs.has_pairs(vessel.mmsi)):
                for key in self._pairs.pairs_of(vessel.mmsi):
                    self._end(key, ctx, f"{vessel.mmsi} no longer at anchor or moored")
                return
            radius = p.distance_m + p.clear_margin_m + (vessel.length or 0.0)
            for other in ctx.grid.near(report.lat, report.lon, radius):
                ov = ctx.tracker.get(other)
                if ov is not None and other != vessel.mmsi and self._craft_ok(ov, ctx):
                    self._observe(ov, vessel, ctx)
        elif is_small_craft(vessel):
            if not self._craft_ok(vessel, ctx):
                exempt = self._exempt(vessel, ctx)
                if exempt is not None:  # (else a fix delivered late: it says nothing about now)
                    for key in self._pairs.pairs_of(vessel.mmsi):
                        self._end(key, ctx, f"{vessel.mmsi} exempt ({exempt})")
                return
            radius = p.distance_m + p.clear_margin_m + MAX_SHIP_EXTENT_M
            for other in ctx.grid.near(report.lat, report.lon, radius):
                ov = ctx.tracker.get(other)
                if ov is None or other == vessel.mmsi or not is_large_vessel(ov):
                    continue
                held = self._pairs.get((vessel.mmsi, other)) is not None
                if (ov.sog is None or ov.sog < p.max_speed_kn) and self._moored(ov, held=held):
                    self._observe(vessel, ov, ctx)

    def on_tick(self, ctx: RuleContext) -> None:
        super().on_tick(ctx)
        self._judge_between_fixes(ctx)
        if len(self._moored_cache) > 10_000:
            self._moored_cache.clear()

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        self._moored_cache.pop(mmsi, None)
        self._placements.pop(mmsi, None)
        super().on_forget(mmsi, ctx)

    # -- internals -------------------------------------------------------------------------------
    def _moored(self, ship: VesselState, *, held: bool = False) -> bool:
        """At anchor or moored (`is_moored_or_anchored`); `held`: the ship is in a pair already, and
        still counts while its mean SOG stays under `MOORED_HOLD_KN`."""
        cached = self._moored_cache.get(ship.mmsi)
        if cached is not None and cached[0] == ship.last_seen:
            result = cached[1]
        else:
            result = is_moored_or_anchored(ship, ship.last_seen)
            self._moored_cache[ship.mmsi] = (ship.last_seen, result)
        if result or not held:
            return result
        speed = mean_speed_kn(ship, ship.last_seen, STATIONARY_WINDOW_S)
        return speed is not None and speed < MOORED_HOLD_KN

    def _craft_ok(self, craft: VesselState, ctx: RuleContext) -> bool:
        """A small craft this rule watches, slow enough, with a position no older than
        `max_gap_minutes` (a craft gone silent is not seen lying alongside any more)."""
        p = self.p
        if craft.lat is None or craft.lon is None or craft.own_ship or craft.is_shadow:
            return False
        if craft.position_time is None or ctx.now - craft.position_time > p.max_gap_minutes * 60.0:
            return False
        if not is_vessel_mmsi(craft.mmsi):
            return False
        if craft.sog is not None and craft.sog >= p.max_speed_kn:
            return False
        if not is_small_craft(craft):
            return False
        return self._exempt(craft, ctx) is None

    def _exempt(self, craft: VesselState, ctx: RuleContext) -> str | None:
        """Why the craft is never alongside, whatever it does (None: it may be): a service ship
        type, an allow-listed MMSI, or inside an exempt zone (a fishing dock)."""
        p = self.p
        if declares_service_type(craft, p.exempt_ship_types):
            return f"ship type {craft.ship_type}"
        if is_allowlisted(ctx.allowlists, craft.mmsi, p.exempt_roles):
            return "allow-listed"
        inside = in_kinds(ctx.zones, craft.mmsi, p.exempt_zone_kinds)
        return f"in {inside[0]}" if inside else None

    def _gap_m(self, key: PairKey, ctx: RuleContext) -> float | None:
        """From the craft's latest fix to the ship's hull at its latest fix."""
        craft, ship = ctx.tracker.get(key[0]), ctx.tracker.get(key[1])
        if craft is None or ship is None or craft.lat is None or craft.lon is None or ship.lat is None:
            return None
        return hull_geometry(ship, craft.lat, craft.lon, placement=self._placement(ship, ctx))[0]

    def _placement(self, ship: VesselState, ctx: RuleContext) -> tuple[float, bool] | None:
        """For a ship that reports no heading, where its hull lies: along the quay it is moored to
        (`ZoneEngine.shore_axis_deg` within `quay_within_m` of its antenna; either way round) or, at
        anchor, on the heading the ships at anchor around it agree on (`_anchorage_heading`). None
        when its heading is known, or neither tells. Kept per ship and fix."""
        if ship_heading(ship) is not None or ship.lat is None or ship.lon is None:
            return None
        cached = self._placements.get(ship.mmsi)
        if cached is not None and cached[0] == (ship.position_time, ctx.zones):
            return cached[1]
        placement: tuple[float, bool] | None = None
        if self.p.quay_within_m > 0:
            axis = ctx.zones.shore_axis_deg(ship.lon, ship.lat, self.p.quay_within_m)
            if axis is not None:
                placement = (axis, True)
        if placement is None and ship.nav_status == AT_ANCHOR:
            heading = self._anchorage_heading(ship, ctx)
            if heading is not None:
                placement = (heading, False)
        self._placements[ship.mmsi] = ((ship.position_time, ctx.zones), placement)
        return placement

    def _anchorage_heading(self, ship: VesselState, ctx: RuleContext) -> float | None:
        """The heading of the ships at anchor around a ship at anchor that reports none: they lie
        head to the same wind and current. Only when at least `NEIGHBOUR_HEADINGS` of them within
        `NEIGHBOUR_RADIUS_M` report one and all agree (mean resultant length at least
        `NEIGHBOUR_AGREEMENT`, a spread of some 20 degrees); else None."""
        assert ship.lat is not None and ship.lon is not None
        sx = sy = 0.0
        n = 0
        for other in ctx.grid.near(ship.lat, ship.lon, NEIGHBOUR_RADIUS_M):
            v = ctx.tracker.get(other)
            if v is None or other == ship.mmsi or v.nav_status != AT_ANCHOR or v.heading is None:
                continue
            if not is_large_vessel(v):
                continue
            h = math.radians(v.heading)
            sx, sy, n = sx + math.sin(h), sy + math.cos(h), n + 1
        if n < NEIGHBOUR_HEADINGS or math.hypot(sx, sy) / n < NEIGHBOUR_AGREEMENT:
            return None
        return math.degrees(math.atan2(sx, sy)) % 360.0

    def _observe(self, craft: VesselState, ship: VesselState, ctx: RuleContext) -> None:
        """A look at the craft (its latest fix) and the ship (its hull at its latest fix)."""
        p = self.p
        assert craft.lat is not None and craft.lon is not None
        key: PairKey = (craft.mmsi, ship.mmsi)
        placement = self._placement(ship, ctx)
        dist, end, side = hull_geometry(ship, craft.lat, craft.lon, placement=placement)
        prox = self._pairs.get(key)
        window = p.min_minutes * 60.0
        if dist > p.distance_m:
            if prox is None:
                return
            limit = p.distance_m + p.clear_margin_m
            if dist > limit and apart(
                craft,
                ship,
                limit,
                p.max_gap_minutes * 60.0,
                lambda clat, clon, slat, slon: hull_geometry(
                    ship, clat, clon, at=(slat, slon), placement=placement
                )[0],
            ):
                self._end(key, ctx, f"craft {dist:.0f} m away")
            else:  # a fix beyond the distance, perhaps a stray one or GNSS noise
                prox.look(ctx.now, False, window)
            return
        # the ship lies still: the evidence of the craft being close dates from the craft's own fix
        seen = craft.position_time if craft.position_time is not None else ctx.now
        since = None
        if self._pairs.starts_spell(key, seen):
            prev = previous_fix(craft, p.max_speed_kn, p.max_gap_minutes * 60.0)
            close = prev is not None and (
                hull_geometry(ship, prev.lat, prev.lon, placement=placement)[0] <= p.distance_m
            )
            if prev is not None and close:
                since = prev.time  # already close at its previous fix, and slow since
        prox = self._pairs.observe_close(key, seen, dist, since=since)
        prox.look(ctx.now, True, window)
        if end is not None:
            prox.extra["end"], prox.extra["side"] = end, side
        self._judge(craft, ship, prox, ctx)

    def _judge(
        self,
        craft: VesselState,
        ship: VesselState,
        prox: Proximity,
        ctx: RuleContext,
        covered: float | None = None,
    ) -> None:
        """Hold the pair's alert once its spell lasts `min_minutes` (`covered`: how long it lasts
        counting the time the latest fix stands; its duration in fixes when None). Raised only when
        most looks at the pair over the last `min_minutes` found the craft within `distance_m` (GNSS
        noise of a craft hovering just beyond it puts a fix inside now and then), the craft is in
        the watched area, and it is not a newly heard Class A vessel still to send its static data."""
        p = self.p
        if (prox.duration() if covered is None else covered) < p.min_minutes * 60.0:
            return
        if not ctx.alerts.is_active(TYPE, craft.mmsi, ship.mmsi):
            if prox.close_share() < 0.5:
                return
            if (
                craft.ais_class == "A"
                and awaits_type(craft)
                and ctx.now - craft.first_seen < self._static_wait(craft)
            ):
                return  # its static data, still to come, may show a ship (the spell goes on meanwhile)
            if craft.lat is None or craft.lon is None or not in_watched_area(ctx.zones, craft.lat, craft.lon):
                return
        self._hold(craft, ship, prox, ctx)

    @staticmethod
    def _static_wait(craft: VesselState) -> float:
        """How long a newly heard Class A target may go without static data before it is taken
        for a small craft: longer when it reports itself at anchor or moored (`STATIC_WAIT_AT_REST_S`)."""
        return STATIC_WAIT_AT_REST_S if craft.nav_status in (AT_ANCHOR, MOORED) else STATIC_WAIT_S

    def _judge_between_fixes(self, ctx: RuleContext) -> None:
        """Raise a spell just short of `min_minutes` in fixes once `min_minutes` have passed, while
        the craft's latest fix (a close one) still stands (`FIX_STANDS_S`) and nothing has changed
        since: same checks as at a fix."""
        window = self.p.min_minutes * 60.0
        for key, prox in self._pairs.spells():
            if prox.duration() >= window or prox.last + FIX_STANDS_S - prox.first < window:
                continue  # judged at its fixes, or too short even so
            if ctx.now - prox.first < window or ctx.alerts.is_active(TYPE, key[0], key[1]):
                continue
            craft, ship = ctx.tracker.get(key[0]), ctx.tracker.get(key[1])
            if craft is None or ship is None or ship.lat is None or craft.position_time != prox.last:
                continue  # gone, or a newer fix of the craft was not a close one
            if not self._craft_ok(craft, ctx) or not is_large_vessel(ship):
                continue
            ship_slow = ship.sog is None or ship.sog < self.p.max_speed_kn
            if not ship_slow or not self._moored(ship, held=True):
                continue
            self._judge(craft, ship, prox, ctx, covered=min(ctx.now, prox.last + FIX_STANDS_S) - prox.first)

    def _last_evidence(self, key: PairKey, craft: VesselState, ctx: RuleContext) -> None:
        """The craft reports speed again: if it is still close and has hardly moved since its
        previous fix, it lay alongside until this fix (it is only now getting under way)."""
        p = self.p
        ship = ctx.tracker.get(key[1])
        if ship is None or ship.lat is None or craft.lat is None or craft.lon is None:
            return
        if previous_fix(craft, p.max_speed_kn, p.max_gap_minutes * 60.0) is None:
            return
        dist = hull_geometry(ship, craft.lat, craft.lon, placement=self._placement(ship, ctx))[0]
        if dist <= p.distance_m and craft.position_time is not None:
            prox = self._pairs.observe_close(key, craft.position_time, dist)
            prox.look(ctx.now, True, p.min_minutes * 60.0)
            self._judge(craft, ship, prox, ctx)

    def _hold(self, craft: VesselState, ship: VesselState, prox: Proximity, ctx: RuleContext) -> None:
        p = self.p
        night = is_night(ctx.now, ctx.config.utc_offset_hours, p.night_start_hour, p.night_end_hour)
        secure = in_kinds(ctx.zones, craft.mmsi, p.security_zone_kinds) or in_kinds(
            ctx.zones, ship.mmsi, p.security_zone_kinds
        )
        anonymous = has_no_static(craft)
        reasons = [
            r
            for r, on in (("night", night), ("security zone", bool(secure)), ("no static data", anonymous))
            if on
        ]
        end = prox.extra.get("end")
        side = prox.extra.get("side")
        where = f" at the {side} {end}" if end is not None else ""
        ctx.alerts.hold(
            type=TYPE,
            mmsi=craft.mmsi,
            other_mmsi=ship.mmsi,
            severity="alarm" if reasons else "warning",
            message=(
                f"small craft {label(craft, craft.mmsi)} alongside {label(ship, ship.mmsi)}{where}, "
                f"{prox.closest_m:.0f} m, {prox.duration() / 60:.0f} min"
            ),
            lat=craft.lat,
            lon=craft.lon,
            details={
                "closest_m": round(prox.closest_m, 1),
                "distance_m": round(prox.last_m, 1),
                "duration_s": round(prox.duration(), 1),
                "end": end or "unknown",
                "side": side or "unknown",
                "ship_status": "at anchor"
                if ship.nav_status == 1
                else "moored"
                if ship.nav_status == 5
                else "stopped",
                "security_zone": secure[0] if secure else None,
                "night": night,
                "craft_has_static": not anonymous,
                "craft_class": craft.ais_class,
                "craft_category": craft.category,
                "alarm_because": ", ".join(reasons) if reasons else None,
            },
        )


RULE = AlongsideRule
