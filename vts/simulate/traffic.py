"""The normal traffic of the bay, which must raise no alert.

* container and bulk ships arriving from the west and north-west at 10-14 kn, along the inbound
  lane and the channel, slowing through the entrance, berthing for hours and leaving the same way;
* ships waiting inside the anchorages (at anchor, swinging gently), some of which weigh anchor
  and come in by lane (d) and the channel;
* tankers at the La Pampilla and Ventanilla moorings; industrial fishing vessels at the inner
  anchorage;
* tugs and pilot boats (MMSIs from the config's allow-lists) meeting the ships, working alongside
  and returning to their base;
* artisanal fishing boats leaving the fishing docks for the open sea; a coastguard patrol; pleasure
  craft off La Punta.

Port movements are scheduled one at a time through the channel and every movement is checked by
the `Deconflictor` before it is accepted.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import shapely
from shapely.geometry import Point
from shapely.ops import unary_union

from vts.simulate.deconflict import Deconflictor
from vts.simulate.identities import Identities
from vts.simulate.motion import (
    STATUS_AT_ANCHOR,
    STATUS_MOORED,
    STATUS_UNDER_WAY,
    Follow,
    Hold,
    Kin,
    Plan,
    Transit,
    make_transit,
)
from vts.simulate.places import BerthSlot, Places
from vts.simulate.routes import XY, Profile, Router, bearing, distance, round_corners
from vts.simulate.vessels import SimVessel, StaticData
from vts.simulate.world import AVOIDED_KINDS, World

TRAFFIC_ZONES = (
    "tss_inbound",
    "tss_outbound",
    "tss_lane_d",
    "access_channel",
    "entrance",
    "port_area",
    "anchorage_main",
    "anchorage_inner",
    "moorings_la_punta",
    "terminal_la_pampilla",
    "terminal_ventanilla",
    "fishing_docks",
    "el_boqueron",
)
"""Zones a through route keeps out of (it may start or end inside one)."""
CHANNEL_GAP_S = 12 * 60.0
MAX_TRIES = 14


@dataclass(slots=True)
class Job:
    """A piece of work for a tug or pilot boat: its legs, between leaving and regaining its base."""

    legs: list[Transit | Follow]
    served: int

    @property
    def start(self) -> float:
        return self.legs[0].start

    @property
    def end(self) -> float:
        return self.legs[-1].end


@dataclass(slots=True)
class ServiceBoat:
    vessel: SimVessel
    base: XY
    jobs: list[Job] = field(default_factory=list)

    def free(self, t0: float, t1: float) -> bool:
        return all(j.end + 120.0 < t0 or j.start - 120.0 > t1 for j in self.jobs)


class Traffic:
    def __init__(
        self,
        world: World,
        places: Places,
        rng: random.Random,
        ids: Identities,
        t0: float,
        t1: float,
        deconflictor: Deconflictor,
    ) -> None:
        self.world = world
        self.places = places
        self.rng = rng
        self.ids = ids
        self.t0 = t0
        self.t1 = t1
        self.dc = deconflictor
        self.vessels: list[SimVessel] = []
        self.channel_busy: list[tuple[float, float]] = []
        traffic = tuple(z for z in TRAFFIC_ZONES if world.has_zone(z))
        cargo_avoid = tuple(z.id for z in world.avoided_zones("cargo", 0))
        small_avoid = tuple(z.id for z in world.avoided_zones("fishing", 0))
        service_avoid = tuple(
            z.id for z in world.zones.values() if z.kind in ("restricted", "protected") or z.kind == "lane"
        )
        self.large = Router(world, Profile("large", 400.0, cargo_avoid + traffic))
        self.harbour = Router(world, Profile("harbour", 35.0, cargo_avoid))
        self.small = Router(world, Profile("small", 120.0, small_avoid + traffic))
        self.service = Router(world, Profile("service", 60.0, service_avoid))
        keep_out = [
            z.geometry for z in world.zones.values() if z.kind in ("anchorage", "restricted", "protected")
        ]
        self.smoothing_obstacle = unary_union([world.land_buffer(5.0), *keep_out])
        shapely.prepare(self.smoothing_obstacle)
        self.tugs = [
            ServiceBoat(self._service_vessel("tug", m, i), places.tug_base)
            for i, m in enumerate(world.allowlists.tug)
        ]
        self.pilots = [
            ServiceBoat(self._service_vessel("pilot", m, i), places.pilot_base)
            for i, m in enumerate(world.allowlists.pilot)
        ]
        self.anchor_spots: list[XY] = []
        self.eta = _eta(t0)

    def _smooth(self, path: list[XY], radius: float, max_step_deg: float = 12.0) -> list[XY]:
        """Round a route's corners, except where an arc would touch land or cut into an anchorage
        or a restricted / protected zone the straight legs kept out of."""
        return round_corners(path, radius, max_step_deg, obstacle=self.smoothing_obstacle)

    # -- speed caps ------------------------------------------------------------------------------
    def cap_large(self, p: XY) -> float:
        limit = self.world.speed_limit(*p)
        cap = 14.0 if limit is None else 0.88 * limit
        for z in self.world.zones_at(*p):
            if z.kind == "channel":
                cap = min(cap, 7.5)
            elif z.kind == "entrance":
                cap = min(cap, 5.0)
            elif z.kind == "port_area":
                cap = min(cap, 4.5)
            elif z.kind == "berth":
                cap = min(cap, 3.0)
            elif z.kind == "anchorage":
                cap = min(cap, 6.5)
        return cap

    def cap_small(self, p: XY) -> float:
        limit = self.world.speed_limit(*p)
        cap = 16.0 if limit is None else 0.85 * limit
        for z in self.world.zones_at(*p):
            if z.kind in ("port_area", "entrance", "fishing_dock", "berth"):
                cap = min(cap, 5.0)
        return cap

    # -- the whole picture --------------------------------------------------------------------------
    def build(self, scale: float = 1.0) -> list[SimVessel]:
        rng = self.rng
        hours = (self.t1 - self.t0) / 3600.0
        self._tankers()
        self._inner_anchorage(max(1, round(4 * scale)))
        anchored = self._main_anchorage(max(2, round(rng.randint(11, 15) * scale)))
        self._coastguard()
        self._berthed_and_movements(anchored, hours, scale)
        self._sea_to_anchor(max(0, round(hours / 2.0 * scale)))
        self._coastal(max(1, round(hours / 1.5 * scale)))
        self._fishing(max(1, round(rng.uniform(2.0, 3.0) * hours * scale)))
        self._pleasure()
        self._finish_service_boats()
        return self.vessels

    # -- stationary ships -------------------------------------------------------------------------
    def _tankers(self) -> None:
        for zid, p in self.places.tanker_moorings:
            if self.rng.random() < 0.2:
                continue
            data = self.ids.merchant("tanker", "LA PAMPILLA" if "pampilla" in zid else "VENTANILLA", self.eta)
            hold = Hold(
                p, self.t0 - 3600.0, self.t1 + 3600.0, STATUS_MOORED, heading=self.rng.uniform(0, 360)
            )
            self._add(self._merchant(data, "tanker_at_mooring", "tanker", Plan([hold])))

    def _inner_anchorage(self, n: int) -> None:
        for p in self.places.anchor_spots("anchorage_inner", self.rng, n, spacing=450.0, margin=220.0):
            data = self.ids.fishing(industrial=True)
            hold = self._anchor_hold(p, self.t0 - 3600.0, self.t1 + 3600.0, data.length_m)
            v = SimVessel(
                self.ids.mmsi(peru=True),
                "A",
                "fishing_vessel_at_anchor",
                "fishing",
                data,
                Plan([hold]),
                hold.start,
                hold.end,
            )
            self._add(v)

    def _main_anchorage(self, n: int) -> list[SimVessel]:
        spots = self.places.anchor_spots("anchorage_main", self.rng, n + 8, spacing=650.0, margin=450.0)
        self.anchor_spots = spots[n:]
        out: list[SimVessel] = []
        for p in spots[:n]:
            kind = self.rng.choice(("container", "bulk", "bulk", "general", "tanker"))
            data = self.ids.merchant(kind, "CALLAO", self.eta)
            hold = self._anchor_hold(p, self.t0 - 3600.0, self.t1 + 3600.0, data.length_m)
            v = self._merchant(
                data, f"{kind}_at_anchor", "tanker" if kind == "tanker" else "cargo", Plan([hold])
            )
            self._add(v)
            out.append(v)
        return out

    def _anchor_hold(self, p: XY, start: float, end: float, length: int) -> Hold:
        rng = self.rng
        return Hold(
            p,
            start,
            end,
            STATUS_AT_ANCHOR,
            heading=rng.gauss(190.0, 15.0) % 360.0,
            swing_radius_m=min(90.0, 30.0 + length * 0.2),
            swing_amplitude_deg=rng.uniform(8.0, 18.0),
            swing_period_s=rng.uniform(2400.0, 4800.0),
            phase=rng.uniform(0, 2 * math.pi),
        )

    # -- berths and port movements ---------------------------------------------------------------
    def _berthed_and_movements(self, anchored: list[SimVessel], hours: float, scale: float) -> None:
        rng = self.rng
        movements: list[tuple[float, str, BerthSlot, SimVessel | None]] = []
        for slot in self.places.berths:
            if rng.random() < 0.75:
                dep = self.t0 + rng.uniform(0.2, 14.0) * 3600.0
                kind = (
                    "bulk"
                    if slot.zone == "berth_mineral_pier"
                    else rng.choice(("container", "container", "general"))
                )
                data = self.ids.merchant(kind, "CALLAO", self.eta)
                hold = Hold(
                    slot.point, self.t0 - 3600.0, self.t1 + 3600.0, STATUS_MOORED, heading=slot.heading
                )
                v = self._merchant(data, f"{kind}_at_berth", "cargo", Plan([hold]))
                self._add(v)
                if dep < self.t1 - 1800.0:
                    movements.append((dep, "depart", slot, v))
                    nxt = dep + rng.uniform(0.7, 2.5) * 3600.0
                    if nxt < self.t1 - 1800.0:
                        movements.append((nxt, "arrive", slot, None))
            else:
                movements.append(
                    (self.t0 + rng.uniform(0.0, max(0.5, hours - 0.7)) * 3600.0, "arrive", slot, None)
                )
        movements.sort(key=lambda m: m[0])
        anchored_pool = [v for v in anchored if v.category == "cargo"]
        rng.shuffle(anchored_pool)
        for t, what, slot, v in movements:
            if what == "depart" and v is not None:
                self._departure(v, slot, t)
            elif anchored_pool and rng.random() < 0.45:
                self._anchor_to_berth(anchored_pool.pop(), slot, t)
            else:
                self._arrival(slot, t)

    def _channel_free(self, a: float, b: float) -> bool:
        return all(b + CHANNEL_GAP_S < s or a - CHANNEL_GAP_S > e for s, e in self.channel_busy)

    def _arrival(self, slot: BerthSlot, t_wanted: float) -> None:
        rng = self.rng
        kind = (
            "bulk"
            if slot.zone == "berth_mineral_pier"
            else rng.choice(("container", "container", "bulk", "general"))
        )
        gate = self.places.gates.get(rng.choice(("W", "NW", "W"))) or next(iter(self.places.gates.values()))
        lane = self.places.inbound_lane_points()
        head = self.large.route(gate, lane[0])
        harbour = self.harbour.route(lane[-1], slot.approach)
        if head is None or harbour is None:
            return
        path = self._smooth(head[:-1] + lane + harbour[1:] + [slot.point], 220.0)
        data = self.ids.merchant(kind, "CALLAO", self.eta)
        cruise = rng.uniform(12.0, 14.0)
        probe = make_transit(path, 0.0, cruise, self.cap_large, start_kn=cruise, end_kn=0.0, accel=0.012)
        t_ent = _time_near(probe, self.places.entrance)
        for attempt in range(MAX_TRIES):
            # arrive at the entrance near the wanted time; the trip starts that much earlier
            start = t_wanted - t_ent + attempt * 9 * 60.0
            transit = make_transit(
                path, start, cruise, self.cap_large, start_kn=cruise, end_kn=0.0, accel=0.012
            )
            t_in = _time_near(transit, self.places.boarding_in)
            t_berth = transit.end
            if not self._channel_free(t_in, t_berth):
                continue
            if transit.start < self.t0 - 600.0:
                continue
            hold = Hold(slot.point, t_berth, self.t1 + 3600.0, STATUS_MOORED, heading=slot.heading)
            ship = self._merchant(data, f"{kind}_arriving", "cargo", Plan([transit, hold]))
            helpers = self._assist(ship, t_in, t_berth, inbound=True, slot=slot)
            if helpers is None:
                continue
            if self._try_accept([ship], helpers, ship.mmsi):
                self.channel_busy.append((t_in, t_berth))
                return

    def _anchor_to_berth(self, ship: SimVessel, slot: BerthSlot, t_wanted: float) -> None:
        hold = ship.plan.legs[0]  # type: ignore[attr-defined]
        lane = self.places.lane_d_points()
        head = self.large.route(hold.point, lane[0])
        harbour = self.harbour.route(lane[-1], slot.approach)
        if head is None or harbour is None:
            return
        path = self._smooth(head[:-1] + lane + harbour[1:] + [slot.point], 200.0)
        probe = make_transit(path, 0.0, 8.0, self.cap_large, start_kn=0.0, end_kn=0.0, accel=0.012)
        t_ent = _time_near(probe, self.places.entrance)
        for attempt in range(MAX_TRIES):
            start = t_wanted - t_ent + attempt * 9 * 60.0
            if start < self.t0 + 300.0:
                continue
            k = hold.at(start)
            path[0] = (k.x, k.y)
            transit = make_transit(path, start, 8.0, self.cap_large, start_kn=0.0, end_kn=0.0, accel=0.012)
            t_in = _time_near(transit, self.places.lane_d_points()[-2])
            if not self._channel_free(t_in, transit.end):
                continue
            new_hold = Hold(
                hold.point,
                hold.start,
                start,
                STATUS_AT_ANCHOR,
                hold.heading,
                hold.swing_radius_m,
                hold.swing_amplitude_deg,
                hold.swing_period_s,
                hold.phase,
            )
            berth = Hold(slot.point, transit.end, self.t1 + 3600.0, STATUS_MOORED, heading=slot.heading)
            plan = Plan([new_hold, transit, berth])
            moving = SimVessel(
                ship.mmsi,
                "A",
                ship.role.replace("_at_anchor", "_anchor_to_berth"),
                ship.category,
                ship.static,
                plan,
                ship.start,
                ship.end,
            )
            helpers = self._assist(moving, t_in, transit.end, inbound=True, slot=slot)
            if helpers is None:
                continue
            self._remove_track(ship.mmsi)
            if self._try_accept([moving], helpers, moving.mmsi, add=False):
                self.vessels = [moving if v is ship else v for v in self.vessels]
                self.channel_busy.append((t_in, transit.end))
                return
            self.dc.accept([ship])

    def _departure(self, ship: SimVessel, slot: BerthSlot, t_wanted: float) -> None:
        rng = self.rng
        gate = self.places.gates.get(rng.choice(("W", "NW", "W"))) or next(iter(self.places.gates.values()))
        lane = self.places.outbound_lane_points()
        harbour = self.harbour.route(slot.point, lane[0])
        tail = self.large.route(lane[-1], gate)
        if harbour is None or tail is None:
            return
        path = self._smooth(harbour[:-1] + lane + tail[1:], 220.0)
        cruise = rng.uniform(12.0, 14.0)
        for attempt in range(MAX_TRIES):
            start = t_wanted + attempt * 9 * 60.0
            transit = make_transit(
                path, start, cruise, self.cap_large, start_kn=0.0, end_kn=cruise, accel=0.012
            )
            t_out = _time_near(transit, self.places.boarding_out)
            if not self._channel_free(start, t_out + 300.0):
                continue
            hold = Hold(slot.point, self.t0 - 3600.0, start, STATUS_MOORED, heading=slot.heading)
            plan = Plan([hold, transit])
            moving = SimVessel(
                ship.mmsi,
                "A",
                ship.role.replace("_at_berth", "_departing"),
                ship.category,
                ship.static,
                plan,
                ship.start,
                transit.end,
            )
            helpers = self._assist(moving, start, t_out, inbound=False, slot=slot)
            if helpers is None:
                continue
            self._remove_track(ship.mmsi)
            if self._try_accept([moving], helpers, moving.mmsi, add=False):
                self.vessels = [moving if v is ship else v for v in self.vessels]
                self.channel_busy.append((start, t_out + 300.0))
                return
            self.dc.accept([ship])

    def coastal_route(self, northbound: bool) -> list[XY] | None:
        """The coastal route past Callao (ships between Chancay and the south), outside the port's zones."""
        a, b = self.places.gates.get("N"), self.places.gates.get("SW")
        if a is None or b is None:
            return None
        route = self.large.route(b, a) if northbound else self.large.route(a, b)
        return None if route is None else self._smooth(route, 400.0)

    def _coastal(self, n: int) -> None:
        """Coastal traffic passing the bay offshore, north- and southbound."""
        rng = self.rng
        for _ in range(n):
            northbound = rng.random() < 0.5
            path = self.coastal_route(northbound)
            if path is None:
                return
            kind = rng.choice(("bulk", "container", "general", "tanker"))
            data = self.ids.merchant(kind, "CHANCAY" if northbound else "PISCO", self.eta)
            speed = rng.uniform(10.0, 13.0)
            t_wanted = self.t0 + rng.uniform(-1.5, (self.t1 - self.t0) / 3600.0 - 0.5) * 3600.0
            for attempt in range(MAX_TRIES):
                tr = make_transit(
                    path, t_wanted + attempt * 6 * 60.0, speed, self.cap_large, start_kn=speed, end_kn=speed
                )
                v = self._merchant(
                    data, f"{kind}_passing", "tanker" if kind == "tanker" else "cargo", Plan([tr])
                )
                if self._try_accept([v], [], v.mmsi):
                    break

    def _sea_to_anchor(self, n: int) -> None:
        rng = self.rng
        for _ in range(n):
            if not self.anchor_spots:
                return
            spot = self.anchor_spots.pop()
            gate = self.places.gates.get(rng.choice(("W", "NW", "N"))) or next(
                iter(self.places.gates.values())
            )
            route = self.large.route(gate, spot)
            if route is None:
                continue
            path = self._smooth(route, 300.0)
            kind = rng.choice(("container", "bulk", "general", "tanker"))
            data = self.ids.merchant(kind, "CALLAO", self.eta)
            cruise = rng.uniform(11.0, 13.5)
            t_wanted = self.t0 + rng.uniform(-0.5, (self.t1 - self.t0) / 3600.0 - 1.5) * 3600.0
            for attempt in range(MAX_TRIES):
                transit = make_transit(
                    path,
                    t_wanted + attempt * 7 * 60.0,
                    cruise,
                    self.cap_large,
                    start_kn=cruise,
                    end_kn=0.0,
                    accel=0.012,
                )
                hold = self._anchor_hold(spot, transit.end, self.t1 + 3600.0, data.length_m)
                v = self._merchant(
                    data,
                    f"{kind}_arriving_to_anchor",
                    "tanker" if kind == "tanker" else "cargo",
                    Plan([transit, hold]),
                )
                if self._try_accept([v], [], v.mmsi):
                    break

    # -- tugs and pilots -------------------------------------------------------------------------
    def _assist(
        self, ship: SimVessel, t_a: float, t_b: float, *, inbound: bool, slot: BerthSlot
    ) -> list[tuple[ServiceBoat, Job]] | None:
        """Two tugs from the channel to the berth (or from the berth out); a pilot boat at boarding."""
        out: list[tuple[ServiceBoat, Job]] = []
        length = ship.static.length_m if ship.static else 150
        if inbound:
            t_tug0 = _time_near_plan(ship.plan, self.places.entrance, t_a, t_b) - 240.0
            t_tug1 = t_b + 600.0
            t_pilot = t_a
        else:
            t_tug0 = t_a - 120.0
            t_tug1 = _time_near_plan(ship.plan, self.places.entrance, t_a, t_b) + 180.0
            t_pilot = t_b - 240.0
        free_tugs = [b for b in self.tugs if b.free(t_tug0 - 1800.0, t_tug1 + 1800.0)]
        seaward = bearing(slot.point, slot.approach)
        for i, boat in enumerate(free_tugs[:2]):
            sign = 1.0 if i == 0 else -1.0
            for turn, dist in ((35.0, 45.0 + 0.15 * length), (20.0, 60.0), (10.0, 45.0), (0.0, 40.0)):
                job = self._follow_job(
                    boat, ship, t_tug0, t_tug1, 0.0, dist, fixed_bearing=seaward + sign * turn
                )
                if job is not None and self._clear_of_land(job):
                    out.append((boat, job))
                    break
        free_pilots = [b for b in self.pilots if b.free(t_pilot - 1800.0, t_pilot + 1800.0)]
        if free_pilots:
            job = self._follow_job(free_pilots[0], ship, t_pilot, t_pilot + 240.0, 0.0, 18.0)
            if job is not None:
                out.append((free_pilots[0], job))
        return out

    def _follow_job(
        self,
        boat: ServiceBoat,
        ship: SimVessel,
        t0: float,
        t1: float,
        ahead: float,
        side: float,
        fixed_bearing: float | None = None,
    ) -> Job | None:
        if ship.plan.at(t0) is None or ship.plan.at(t1) is None:
            return None
        follow = Follow(ship.plan, t0, t1, ahead, side, fixed_bearing=fixed_bearing)
        k0 = follow.at(t0)
        k1 = follow.at(t1)
        out_route = self.service.route(boat.base, (k0.x, k0.y))
        back_route = self.service.route((k1.x, k1.y), boat.base)
        if out_route is None or back_route is None:
            return None
        speed = 9.0
        probe = make_transit(
            self._smooth(out_route, 60.0),
            0.0,
            speed,
            self.cap_small,
            start_kn=0.0,
            end_kn=max(1.0, k0.sog),
            accel=0.1,
        )
        go = make_transit(
            self._smooth(out_route, 60.0),
            t0 - probe.end,
            speed,
            self.cap_small,
            start_kn=0.0,
            end_kn=max(1.0, k0.sog),
            accel=0.1,
        )
        back = make_transit(
            self._smooth(back_route, 60.0),
            t1,
            speed,
            self.cap_small,
            start_kn=max(1.0, k1.sog),
            end_kn=0.0,
            accel=0.1,
        )
        return Job([go, follow, back], ship.mmsi)

    def _clear_of_land(self, job: Job) -> bool:
        """Whether a job's station-keeping stays on the water (a tug off a quay, not on it)."""
        near_land = self.world.land_buffer(5.0)
        for leg in job.legs:
            if isinstance(leg, Follow):
                t = leg.start
                while t <= leg.end:
                    k = leg.at(t)
                    if near_land.contains(Point(k.x, k.y)):
                        return False
                    t += 4.0
        return True

    def _finish_service_boats(self) -> None:
        for boat in self.tugs + self.pilots:
            boat.jobs.sort(key=lambda j: j.start)
            legs: list[Transit | Follow | Hold] = []
            t = self.t0 - 3600.0
            for job in boat.jobs:
                legs.append(Hold(boat.base, t, job.start, STATUS_MOORED, heading=0.0))
                legs.extend(job.legs)
                t = job.end
            legs.append(Hold(boat.base, t, self.t1 + 3600.0, STATUS_MOORED, heading=0.0))
            boat.vessel.plan = Plan(legs)  # type: ignore[arg-type]
            self.vessels.append(boat.vessel)

    def _service_vessel(self, kind: str, mmsi: int, n: int) -> SimVessel:
        self.ids.reserve(mmsi)
        data = self.ids.service(kind, n + 1)
        return SimVessel(mmsi, "A", kind, kind, data, Plan([]), self.t0 - 3600.0, self.t1 + 3600.0)

    # -- small craft ------------------------------------------------------------------------------
    def _fishing(self, n: int) -> None:
        rng = self.rng
        gates = [g for g in ("W", "WSW", "SW", "NW") if g in self.places.gates]
        dock = self.places.fishing_dock
        for _ in range(n):
            data = self.ids.fishing()
            mmsi = self.ids.mmsi(peru=True)
            gate = self.places.gates[rng.choice(gates)]
            route = self.small.route(dock, gate)
            if route is None:
                continue
            path = self._smooth(route, 80.0)
            cruise = rng.uniform(6.5, 9.5)
            t_wanted = self.t0 + rng.uniform(0.0, (self.t1 - self.t0) - 1800.0)
            for attempt in range(MAX_TRIES):
                t = t_wanted + attempt * 4 * 60.0
                hold = Hold(dock, t - 150.0, t, STATUS_MOORED)
                transit = make_transit(
                    path, t, cruise, self.cap_small, start_kn=0.0, end_kn=cruise, accel=0.15
                )
                v = SimVessel(
                    mmsi,
                    "B",
                    "fishing_boat_leaving",
                    "fishing",
                    data,
                    Plan([hold, transit]),
                    hold.start,
                    transit.end,
                    sends_heading=False,
                )
                if self._try_accept([v], [], mmsi):
                    break

    def _pleasure(self) -> None:
        rng = self.rng
        for spot in self.places.small_craft_moorings[: rng.randint(3, 4)]:
            data = self.ids.pleasure()
            mmsi = self.ids.mmsi(peru=True)
            legs: list[Hold | Transit] = []
            t = self.t0 - 3600.0
            trip_start = self._daytime_after(self.t0 + rng.uniform(0.0, 3.0) * 3600.0)
            placed = False
            if trip_start is not None and trip_start < self.t1 - 3600.0:
                loop = self._pleasure_loop(spot)
                if loop is not None:
                    for attempt in range(MAX_TRIES):
                        ts = trip_start + attempt * 5 * 60.0
                        transit = make_transit(
                            loop,
                            ts,
                            rng.uniform(5.0, 7.0),
                            self.cap_small,
                            start_kn=0.0,
                            end_kn=0.0,
                            accel=0.1,
                        )
                        plan = Plan(
                            [
                                Hold(spot, t, ts, STATUS_MOORED),
                                transit,
                                Hold(spot, transit.end, self.t1 + 3600.0, STATUS_MOORED),
                            ]
                        )
                        v = SimVessel(
                            mmsi,
                            "B",
                            "pleasure_craft",
                            "pleasure",
                            data,
                            plan,
                            self.t0 - 3600.0,
                            self.t1 + 3600.0,
                            sends_heading=False,
                        )
                        if self._try_accept([v], [], mmsi):
                            placed = True
                            break
            if not placed:
                legs = [Hold(spot, t, self.t1 + 3600.0, STATUS_MOORED)]
                v = SimVessel(
                    mmsi,
                    "B",
                    "pleasure_craft_moored",
                    "pleasure",
                    data,
                    Plan(legs),
                    self.t0 - 3600.0,
                    self.t1 + 3600.0,
                    sends_heading=False,
                )
                self._add(v)

    def _pleasure_loop(self, spot: XY) -> list[XY] | None:
        """A tour of a few kilometres off La Punta and back, with gentle turns."""
        rng = self.rng
        for _ in range(30):
            pts = [spot]
            brg = rng.uniform(200.0, 330.0)
            p = spot
            for _leg in range(3):
                p = _offset(p, brg, rng.uniform(1300.0, 2200.0))
                pts.append(p)
                brg += rng.choice((-1, 1)) * rng.uniform(40.0, 70.0)
            full: list[XY] = [spot]
            ok = True
            for a, b in zip([*pts, spot][:-1], [*pts, spot][1:], strict=True):
                r = self.small.route(a, b)
                if r is None or self._in_avoided(b):
                    ok = False
                    break
                full += r[1:]
            if ok:
                return self._smooth(full, 250.0)
        return None

    def _in_avoided(self, p: XY) -> bool:
        return any(z.kind in AVOIDED_KINDS and z.contains(*p) for z in self.world.zones.values())

    def _daytime_after(self, t: float) -> float | None:
        """The first time from t that is between 08:00 and 16:00 local, within the window."""
        for _ in range(48):
            hour = ((t / 3600.0) + self.world.utc_offset_hours) % 24.0
            if 8.0 <= hour < 16.0:
                return t
            t += 1800.0
            if t > self.t1:
                return None
        return None

    def _coastguard(self) -> None:
        cg = self.world.allowlists.coastguard
        if not cg:
            return
        mmsi = self.ids.reserve(cg[0])
        data = self.ids.service("coastguard", 1)
        w = self.world
        base = self.places.coastguard_base
        waypoints = [base, self.places.entrance, self.places.channel_in[0]]
        for zid in ("anchorage_inner", "terminal_ventanilla", "terminal_la_pampilla", "anchorage_main"):
            if w.has_zone(zid):
                c = w.zone(zid).geometry.centroid
                waypoints.append(_offset((c.x, c.y), 270.0, 900.0))
        waypoints += [self.places.approach_out, self.places.channel_in[0], self.places.entrance, base]
        path: list[XY] = [base]
        for a, b in itertools.pairwise(waypoints):
            r = self.service.route(a, b)
            if r is None:
                continue
            path += r[1:]
        path = self._smooth(path, 250.0)
        legs: list[Hold | Transit] = []
        t = self.t0 - 3600.0
        start = self.t0 + self.rng.uniform(0.0, 1800.0)
        while start < self.t1:
            for _ in range(MAX_TRIES):
                tr = make_transit(path, start, 9.5, self.cap_small, start_kn=0.0, end_kn=0.0, accel=0.1)
                probe = SimVessel(
                    mmsi, "A", "coastguard_patrol", "law_enforcement", data, Plan([tr]), tr.start, tr.end
                )
                if not self.dc.conflicts([probe]):
                    break
                start += 600.0
            legs.append(Hold(base, t, start, STATUS_MOORED))
            legs.append(tr)
            t = tr.end
            start = t + self.rng.uniform(1800.0, 3600.0)
        legs.append(Hold(base, t, max(t, self.t1) + 3600.0, STATUS_MOORED))
        v = SimVessel(
            mmsi,
            "A",
            "coastguard_patrol",
            "law_enforcement",
            data,
            Plan(legs),
            self.t0 - 3600.0,
            max(t, self.t1) + 3600.0,
        )
        self.dc.accept([v])
        self.vessels.append(v)

    def through_traffic(self, n: int) -> list[SimVessel]:
        """Load-test traffic: about `n` more vessels at once, crossing the offshore waters between gates.

        Not deconflicted (a load test measures throughput, not alert quality)."""
        rng = self.rng
        gates = list(self.places.gates.values())
        routes: list[list[XY]] = []
        for a in gates:
            for b in gates:
                if a != b:
                    r = self.large.route(a, b)
                    if r is not None:
                        routes.append(self._smooth(r, 300.0))
        if not routes:
            return []
        span = self.t1 - self.t0
        trip_s = 5400.0
        out: list[SimVessel] = []
        for _ in range(max(1, int(n * (span + trip_s) / trip_s))):
            path = rng.choice(routes)
            dx, dy = rng.uniform(-250.0, 250.0), rng.uniform(-250.0, 250.0)
            path = [(x + dx, y + dy) for x, y in path]
            speed = rng.uniform(8.0, 11.0)
            start = self.t0 + rng.uniform(-trip_s, span)
            tr = make_transit(path, start, speed, self.cap_large, start_kn=speed, end_kn=speed)
            small = rng.random() < 0.5
            data = (
                self.ids.fishing()
                if small
                else self.ids.merchant(rng.choice(("bulk", "container")), "", self.eta)
            )
            v = SimVessel(
                self.ids.mmsi(peru=small),
                "B" if small else "A",
                "through_traffic",
                "fishing" if small else "cargo",
                data,
                Plan([tr]),
                tr.start,
                tr.end,
                sends_heading=not small,
            )
            out.append(v)
        self.vessels.extend(out)
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _merchant(self, data: StaticData, role: str, category: str, plan: Plan) -> SimVessel:
        mmsi = self.ids.mmsi()
        return SimVessel(mmsi, "A", role, category, data, plan, plan.start, plan.end)

    def _add(self, v: SimVessel) -> None:
        self.dc.accept([v])
        self.vessels.append(v)

    def _remove_track(self, mmsi: int) -> None:
        self.dc.tracks = [t for t in self.dc.tracks if t.mmsi != mmsi]

    def _try_accept(
        self, group: list[SimVessel], helpers: list[tuple[ServiceBoat, Job]], served: int, *, add: bool = True
    ) -> bool:
        helper_vessels = [_job_vessel(boat, job) for boat, job in helpers]
        exempt = {frozenset((served, boat.vessel.mmsi)) for boat, _ in helpers}
        if self.dc.conflicts(group + helper_vessels, exempt):
            return False
        self.dc.accept(group + helper_vessels)
        if add:
            self.vessels.extend(group)
        for boat, job in helpers:
            boat.jobs.append(job)
        return True


def _job_vessel(boat: ServiceBoat, job: Job) -> SimVessel:
    return SimVessel(
        boat.vessel.mmsi,
        "A",
        boat.vessel.role,
        boat.vessel.category,
        boat.vessel.static,
        Plan(list(job.legs)),
        job.start,
        job.end,
    )  # type: ignore[arg-type]


def _time_near(transit: Transit, p: XY) -> float:
    best = min(range(len(transit.points)), key=lambda i: distance(transit.points[i], p))
    return transit._times[best]


def _time_near_plan(plan: object, p: XY, t_a: float, t_b: float) -> float:
    best_t, best_d = t_a, math.inf
    t = t_a
    at: Callable[[float], Kin | None] = plan.at  # type: ignore[attr-defined]
    while t <= t_b:
        k = at(t)
        if k is not None:
            d = distance((k.x, k.y), p)
            if d < best_d:
                best_t, best_d = t, d
        t += 10.0
    return best_t


def _offset(p: XY, brg: float, d: float) -> XY:
    r = math.radians(brg)
    return (p[0] + d * math.sin(r), p[1] + d * math.cos(r))


def _eta(t0: float) -> tuple[int, int, int, int]:
    d = datetime.fromtimestamp(t0 + 6 * 3600.0, UTC)
    return (d.month, d.day, d.hour, 0)


__all__ = ["STATUS_UNDER_WAY", "Traffic"]
