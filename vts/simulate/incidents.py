"""Labelled incidents: one maker per alert type, each placing a realistic episode at a time and
place that makes sense, with the vessels it needs, and recording the truth an evaluation scores.

Definitions follow ../shared/research/alert-anchors.md and the alert issues; each incident's
`related` lists the other alert types the same episode may legitimately raise (a boat alongside
an anchored ship for 15 minutes is also a rendezvous), which an evaluation neither credits nor
counts as false alarms.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import LineString, Point

from vts.evaluate import COURSE_KINDS, SCORED_TYPES
from vts.simulate.identities import Identities
from vts.simulate.motion import (
    STATUS_AT_ANCHOR,
    STATUS_NOT_UNDER_COMMAND,
    STATUS_SART_ACTIVE,
    STATUS_UNDER_WAY,
    Drift,
    Follow,
    Hold,
    Plan,
    Transit,
    make_transit,
)
from vts.simulate.places import Places
from vts.simulate.routes import XY, angle_diff, bearing, distance, offset, round_corners
from vts.simulate.traffic import Traffic
from vts.simulate.vessels import Emission, SimVessel, StaticData, renamed
from vts.simulate.world import World

INCIDENT_TYPES: tuple[str, ...] = tuple(
    kind_type
    for t in SCORED_TYPES
    for kind_type in ([f"{t}:{k}" for k in COURSE_KINDS] if t == "course_anomaly" else [t])
)
"""Every type the simulator can inject (course_anomaly with its kind)."""

INVALID_MMSIS = (123456789, 111111111, 999999999, 100000001, 12345678)
TRIES = 45
MIN_LEAD_S = 600.0
"""No incident starts later than this before the end of the run (nor earlier after its start): a
run shorter than about 20 minutes holds none (`IncidentMaker.left_out` names the types)."""


def expand_types(spec: str | None) -> list[str]:
    """'all', 'none' or a comma list; 'course_anomaly' stands for its four kinds. An empty text is
    refused (it could mean either)."""
    if spec is None or spec.strip().lower() == "all":
        return list(INCIDENT_TYPES)
    if not spec.replace(",", "").strip():
        raise ValueError("no incident type given: 'all', 'none' or a comma list (alongside,rendezvous,...)")
    if spec.strip().lower() == "none":
        return []
    out: list[str] = []
    for raw in spec.split(","):
        name = raw.strip()
        if not name:
            continue
        if name == "course_anomaly":
            out += [t for t in INCIDENT_TYPES if t.startswith("course_anomaly:")]
        elif name in INCIDENT_TYPES:
            out.append(name)
        else:
            known = ", ".join(sorted({t.split(":")[0] for t in INCIDENT_TYPES} | set(INCIDENT_TYPES)))
            raise ValueError(f"unknown incident type {name!r}; known: {known}")
    return out


@dataclass(slots=True)
class Incident:
    id: str
    type: str
    kind: str | None
    mmsi: int
    other_mmsi: int | None
    start: float
    end: float
    lat: float
    lon: float
    notes: str
    related: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from vts.alerts.model import iso_time

        return {
            "id": self.id,
            "type": self.type,
            "kind": self.kind,
            "mmsi": self.mmsi,
            "other_mmsi": self.other_mmsi,
            "start": iso_time(self.start),
            "end": iso_time(self.end),
            "position": {"lat": round(self.lat, 6), "lon": round(self.lon, 6)},
            "notes": self.notes,
            "related": self.related,
        }


class IncidentMaker:
    def __init__(
        self,
        world: World,
        places: Places,
        traffic: Traffic,
        rng: random.Random,
        ids: Identities,
        t0: float,
        t1: float,
    ) -> None:
        self.world = world
        self.places = places
        self.traffic = traffic
        self.rng = rng
        self.ids = ids
        self.t0 = t0
        self.t1 = t1
        self.vessels: list[SimVessel] = []
        self.incidents: list[Incident] = []
        self.left_out: list[str] = []
        """Incident types asked for that found no time and place (a run too short for them)."""
        self._makers: dict[str, Callable[[float], Incident | None]] = {
            "alongside": self.alongside,
            "rendezvous": self.rendezvous,
            "loitering": self.loitering,
            "ais_gap": self.ais_gap,
            "restricted_area": self.restricted_area,
            "unauthorised_anchoring": self.unauthorised_anchoring,
            "course_anomaly:wrong_way": self.wrong_way,
            "course_anomaly:erratic": self.erratic,
            "course_anomaly:stop_after_departure": self.stop_after_departure,
            "course_anomaly:off_route": self.off_route,
            "drifting": self.drifting,
            "cpa": self.cpa,
            "anchor_drag": self.anchor_drag,
            "speeding": self.speeding,
            "position_jump": self.position_jump,
            "duplicate_mmsi": self.duplicate_mmsi,
            "invalid_mmsi": self.invalid_mmsi,
            "identity_change": self.identity_change,
            "distress": self.distress,
        }

    # -- driver ----------------------------------------------------------------------------------
    def make(self, types: list[str]) -> list[Incident]:
        """Place one incident of each type, spread over the window; a type that finds no time and
        place free of conflicts on the first pass gets a second pass at other times."""
        order = list(types)
        self.rng.shuffle(order)
        span = self.t1 - self.t0
        failed: list[str] = []
        for i, name in enumerate(order):
            base = self.t0 + span * (i + self.rng.uniform(0.15, 0.85)) / max(1, len(order))
            if not self._place(name, base, 17 * 60.0):
                failed.append(name)
        for name in failed:
            if not self._place(name, self.t0 + self.rng.uniform(0.0, span), 11 * 60.0):
                self.left_out.append(name)
        self.incidents.sort(key=lambda inc: inc.start)
        for n, inc in enumerate(self.incidents, start=1):
            inc.id = f"{n:03d}-{inc.type}" + (f"-{inc.kind}" if inc.kind else "")
        return self.incidents

    def _place(self, name: str, base: float, step_s: float) -> bool:
        span = self.t1 - self.t0
        maker = self._makers[name]
        for attempt in range(TRIES):
            t = self.t0 + 600.0 + ((base - self.t0 - 600.0) + attempt * step_s) % max(600.0, span - 1200.0)
            if t > self.t1 - MIN_LEAD_S:
                continue  # (a run under 20 minutes: after its end)
            made = maker(t)
            if made is not None:
                self.incidents.append(made)
                return True
        return False

    def _accept(self, group: list[SimVessel], pairs: list[tuple[int, int]] | None = None) -> bool:
        exempt = {frozenset(p) for p in pairs or []}
        if any(self._touches_land(v) for v in group) or self.traffic.dc.conflicts(group, exempt):
            return False
        self.traffic.dc.accept(group)
        self.vessels.extend(group)
        return True

    def _touches_land(self, v: SimVessel) -> bool:
        """Incident vessels never cross land either (only a reported position may jump onto it)."""
        t = max(v.start, self.t0)
        end = min(v.end, self.t1)
        while t <= end:
            k = v.kin(t)
            if k is not None and self.world.on_land(k.x, k.y):
                return True
            t += 10.0
        return False

    def _incident(
        self,
        type_: str,
        mmsi: int,
        start: float,
        end: float,
        where: XY,
        notes: str,
        *,
        other: int | None = None,
        related: list[str] | None = None,
    ) -> Incident:
        kind = None
        if ":" in type_:
            type_, kind = type_.split(":", 1)
        lon, lat = self.world.to_lonlat(*where)
        return Incident(
            "", type_, kind, mmsi, other, start, min(end, self.t1), lat, lon, notes, related or []
        )

    def _smooth(self, path: list[XY], radius: float, max_step_deg: float = 12.0) -> list[XY]:
        return round_corners(path, radius, max_step_deg, obstacle=self.traffic.smoothing_obstacle)

    # -- places ----------------------------------------------------------------------------------
    def _open_water(self, near: XY | None = None, within: float = 6000.0, clear: float = 900.0) -> XY | None:
        """A point inside the VTS area, in no other zone (by `clear` metres) and off land."""
        area = self.world.zone("vts_area").geometry
        minx, miny, maxx, maxy = area.bounds
        others = [
            z.geometry
            for z in self.world.zones.values()
            if z.id != "vts_area" and z.kind != "area_of_interest"
        ]
        for _ in range(300):
            if near is not None:
                p = offset(near, self.rng.uniform(0, 360), self.rng.uniform(300.0, within))
            else:
                p = (self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))
            pt = Point(p)
            if not area.contains(pt) or area.exterior.distance(pt) < 2500.0:
                continue
            if self.world.distance_to_land(*p) < 1200.0:
                continue
            if any(g.distance(pt) < clear for g in others):
                continue
            return p
        return None

    def _gate(self, *names: str) -> XY:
        for n in names:
            if n in self.places.gates:
                return self.places.gates[n]
        return next(iter(self.places.gates.values()))

    def _through(
        self,
        a: XY,
        b: XY,
        t: float,
        speed: float,
        *,
        end_kn: float | None = None,
        small: bool = False,
        radius: float = 200.0,
    ) -> Transit | None:
        router = self.traffic.small if small else self.traffic.large
        r = router.route(a, b)
        if r is None:
            return None
        cap = self.traffic.cap_small if small else self.traffic.cap_large
        return make_transit(
            self._smooth(r, radius),
            t,
            speed,
            cap,
            start_kn=speed,
            end_kn=speed if end_kn is None else end_kn,
            accel=0.05 if small else 0.015,
        )

    def _arrive_at(self, a: XY, b: XY, t_at_b: float, speed: float, *, small: bool = True) -> Transit | None:
        """A transit from a to b (stopping there is not implied) that reaches b at `t_at_b`."""
        probe = self._through(a, b, 0.0, speed, small=small)
        if probe is None:
            return None
        return self._through(a, b, t_at_b - probe.end, speed, small=small)

    def _small_static(self, no_static: bool = False) -> StaticData | None:
        if no_static:
            return None
        return StaticData(
            self.rng.choice(("", "LANCHA", "SIN NOMBRE", "BOTE 7", "PANGA")) or "LANCHA", 0, 8, 2
        )

    def _anchored_targets(self) -> list[SimVessel]:
        return [
            v
            for v in self.traffic.vessels
            if v.role.endswith("_at_anchor")
            and v.static is not None
            and v.static.length_m >= 100
            and isinstance(v.plan, Plan)
            and len(v.plan.legs) == 1
        ]

    def _time_in_zone(self, v: SimVessel, zone_id: str, t_a: float, t_b: float) -> tuple[float, float] | None:
        z = self.world.zone(zone_id)
        first = last = None
        t = t_a
        while t <= t_b:
            k = v.kin(t)
            if k is not None and z.contains(k.x, k.y):
                first = t if first is None else first
                last = t
            t += 10.0
        return None if first is None or last is None else (first, last)

    # -- security ----------------------------------------------------------------------------------
    def alongside(self, t: float) -> Incident | None:
        targets = self._anchored_targets()
        if not targets:
            return None
        ship = self.rng.choice(targets)
        assert ship.static is not None
        stay = self.rng.uniform(6.0, 18.0) * 60.0
        length = ship.static.length_m
        follow = Follow(
            ship.plan,
            t,
            t + stay,
            self.rng.uniform(-0.3, 0.3) * length,
            self.rng.choice((-1, 1)) * self.rng.uniform(55.0, 100.0),
        )
        k0 = follow.at(t)
        k1 = follow.at(t + stay)
        origin = self._open_water((k0.x, k0.y), 5000.0, clear=200.0) or self.places.small_craft_moorings[0]
        go = self._arrive_at(origin, (k0.x, k0.y), t, self.rng.uniform(5.0, 7.0))
        back = self._through((k1.x, k1.y), self._gate("NW", "W"), t + stay, 7.0, small=True)
        if go is None or back is None or go.start < self.t0:
            return None
        no_static = self.rng.random() < 0.5
        craft = SimVessel(
            self.ids.mmsi(peru=True),
            "B",
            "small_craft_alongside",
            "unknown",
            self._small_static(no_static),
            Plan([go, follow, back]),
            go.start,
            back.end,
            sends_heading=False,
            incident="alongside",
        )
        if not self._accept([craft], [(craft.mmsi, ship.mmsi)]):
            return None
        night = "at night" if self.world.is_night(t) else "by day"
        static = "no static data" if no_static else "Class B, no ship type"
        return self._incident(
            "alongside",
            craft.mmsi,
            t,
            t + stay,
            (k0.x, k0.y),
            f"small craft ({static}) alongside {ship.static.name} at anchor {night}, "
            f"{abs(follow.starboard_m):.0f} m off, {stay / 60:.0f} min",
            other=ship.mmsi,
            related=["rendezvous", "loitering", "cpa"],
        )

    def rendezvous(self, t: float) -> Incident | None:
        meet = self._open_water()
        if meet is None:
            return None
        stay = self.rng.uniform(14.0, 24.0) * 60.0
        set_deg = self.rng.uniform(0, 360)
        drift_kn = self.rng.uniform(0.3, 0.8)
        b_point = offset(meet, self.rng.uniform(0, 360), self.rng.uniform(50.0, 120.0))
        vs: list[SimVessel] = []
        exits = sorted(self.places.gates.values(), key=lambda g: distance(g, meet))
        for i, p in enumerate((meet, b_point)):
            # each boat switches its transponder on a few kilometres out, and leaves by a different gate
            origin = self._open_water(p, 6000.0, clear=300.0)
            if origin is None or distance(origin, p) < 2000.0:
                return None
            go = self._arrive_at(origin, p, t, self.rng.uniform(6.0, 8.0))
            if go is None or go.start < self.t0 - 3600.0:
                return None
            drift = Drift(p, t, t + stay, drift_kn, set_deg, self.rng.uniform(0, 360), STATUS_UNDER_WAY)
            leave = t + stay + i * 240.0
            drift = Drift(p, t, leave, drift_kn, set_deg, drift.heading, STATUS_UNDER_WAY)
            end_p = drift.at(leave)
            back = self._through((end_p.x, end_p.y), exits[min(i, len(exits) - 1)], leave, 7.0, small=True)
            if back is None:
                return None
            data = self.ids.fishing() if i == 0 else self._small_static(False)
            v = SimVessel(
                self.ids.mmsi(peru=True),
                "B",
                "rendezvous_boat",
                "fishing" if i == 0 else "unknown",
                data,
                Plan([go, drift, back]),
                go.start,
                back.end,
                sends_heading=False,
                incident="rendezvous",
            )
            vs.append(v)
        if not self._accept(vs, [(vs[0].mmsi, vs[1].mmsi)]):
            return None
        return self._incident(
            "rendezvous",
            vs[0].mmsi,
            t,
            t + stay,
            meet,
            f"fishing boat and unidentified craft meet at sea for {stay / 60:.0f} min",
            other=vs[1].mmsi,
            related=["loitering", "alongside", "cpa"],
        )

    def loitering(self, t: float) -> Incident | None:
        near = self.places.entrance if self.rng.random() < 0.5 else None
        spot = self._open_water(near, 7000.0, clear=500.0)
        if spot is None:
            return None
        dur = self.rng.uniform(45.0, 65.0) * 60.0
        if t + dur > self.t1:
            return None
        radius = self.rng.uniform(120.0, 200.0)
        speed = self.rng.uniform(0.8, 1.4)
        circle = [offset(spot, a, radius) for a in range(0, 361, 15)]
        laps = max(1, int(dur * speed * 0.5144 / (2 * math.pi * radius)) + 1)
        path = [p for _ in range(laps) for p in circle]
        origin = self._open_water(spot, 5000.0, clear=300.0)
        if origin is None or distance(origin, spot) < 2000.0:
            return None
        go = self._arrive_at(origin, path[0], t, 6.0)
        if go is None or go.start < self.t0 - 3600.0:
            return None
        slow = Transit(path, [speed] * len(path), t)
        exit_gate = min(self.places.gates.values(), key=lambda g: distance(g, spot))
        back = self._through(path[-1], exit_gate, slow.end, 6.0, small=True)
        if back is None:
            return None
        v = SimVessel(
            self.ids.mmsi(peru=True),
            "B",
            "loitering_craft",
            "unknown",
            self._small_static(False),
            Plan([go, slow, back]),
            go.start,
            back.end,
            sends_heading=False,
            incident="loitering",
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "loitering",
            v.mmsi,
            t,
            slow.end,
            spot,
            f"small craft circling at {speed:.1f} kn for {(slow.end - t) / 60:.0f} min",
            related=["course_anomaly"],
        )

    def ais_gap(self, t: float) -> Incident | None:
        spot = self._pick_anchor_spot()
        if spot is None:
            return None
        gate = self._gate("NW", "W", "N")
        tr = self._through(gate, spot, 0.0, 11.0, end_kn=0.0)
        if tr is None:
            return None
        # go dark at time t, well into the approach (heard for half an hour before)
        shift = t - tr.end * 0.7
        tr = self._through(gate, spot, shift, 11.0, end_kn=0.0)
        assert tr is not None
        if tr.start < self.t0 - 3600.0 or t - max(tr.start, self.t0) < 25 * 60.0:
            return None
        gap = min(self.rng.uniform(16.0, 26.0) * 60.0, max(0.0, tr.end - t - 120.0))
        if gap < 14 * 60.0:
            return None
        hold = self.traffic._anchor_hold(spot, tr.end, self.t1 + 3600.0, 190)
        data = self.ids.merchant("bulk", "CALLAO", self.traffic.eta)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "bulk_going_dark",
            "cargo",
            data,
            Plan([tr, hold]),
            tr.start,
            hold.end,
            incident="ais_gap",
            silences=[(t, t + gap)],
        )
        k = v.kin(t)
        if k is None or not self.world.zone("vts_area").contains(k.x, k.y):
            return None
        if not self._accept([v]):
            return None
        return self._incident(
            "ais_gap",
            v.mmsi,
            t,
            t + gap,
            (k.x, k.y),
            f"{data.name} stops transmitting under way for {gap / 60:.0f} min, then reappears",
        )

    def _pick_anchor_spot(self) -> XY | None:
        if self.traffic.anchor_spots:
            return self.traffic.anchor_spots.pop()
        spots = self.places.anchor_spots("anchorage_main", self.rng, 1, spacing=600.0, margin=500.0)
        return spots[0] if spots else None

    def restricted_area(self, t: float) -> Incident | None:
        zid = self.rng.choice(("restricted_san_lorenzo", "restricted_san_lorenzo", "restricted_el_fronton"))
        if not self.world.has_zone(zid):
            return None
        zone = self.world.zone(zid).geometry
        band = zone.difference(self.world.land_buffer(120.0))
        if band.is_empty:
            return None
        from vts.simulate.places import _sample_points

        pts = _sample_points(band.buffer(-40.0) if not band.buffer(-40.0).is_empty else band, 60.0)
        if not pts:
            return None
        inside = self.rng.choice(pts)
        # a point outside the zone to approach from, then straight in
        nearest = zone.exterior.interpolate(zone.exterior.project(Point(inside)))
        out_dir = bearing(inside, (nearest.x, nearest.y))
        outside = offset((nearest.x, nearest.y), out_dir, 500.0)
        if self.world.on_land(*outside):
            return None
        stay = self.rng.uniform(10.0, 20.0) * 60.0
        along = offset(inside, out_dir + 90.0, 2.2 * 0.5144 * stay * 0.3)
        if self.world.land_buffer(60.0).intersects(Point(along)) or not zone.contains(Point(along)):
            along = inside
        go = self._arrive_at(self.places.fishing_dock, outside, t - 200.0, 7.0)
        if go is None or go.start < self.t0 - 3600.0:
            return None
        inner = Transit([outside, inside, along, outside], [7.0, 2.0, 2.0, 6.0], go.end)
        back = self._through(outside, self._gate("W", "SW"), inner.end, 7.0, small=True)
        if back is None:
            return None
        data = self.ids.fishing()
        v = SimVessel(
            self.ids.mmsi(peru=True),
            "B",
            "fishing_boat_in_restricted_zone",
            "fishing",
            data,
            Plan([go, inner, back]),
            go.start,
            back.end,
            sends_heading=False,
            incident="restricted_area",
        )
        window = self._time_in_zone(v, zid, inner.start, inner.end)
        if window is None or not self._accept([v]):
            return None
        return self._incident(
            "restricted_area",
            v.mmsi,
            window[0],
            window[1] + 60.0,
            inside,
            f"fishing boat {data.name} inside {zid} for {(window[1] - window[0]) / 60:.0f} min",
            related=["loitering"],
        )

    def unauthorised_anchoring(self, t: float) -> Incident | None:
        spot = self._open_water(clear=900.0)
        if spot is None:
            return None
        gate = self._gate("NW", "W", "N")
        probe = self._through(gate, spot, 0.0, 11.0, end_kn=0.0)
        if probe is None:
            return None
        tr = self._through(gate, spot, t - probe.end, 11.0, end_kn=0.0)
        assert tr is not None
        if tr.start < self.t0 - 3600.0:
            return None
        data = self.ids.merchant(self.rng.choice(("bulk", "general", "tanker")), "CALLAO", self.traffic.eta)
        hold = self.traffic._anchor_hold(spot, t, self.t1 + 3600.0, data.length_m)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "ship_anchoring_outside_anchorage",
            "cargo",
            data,
            Plan([tr, hold]),
            tr.start,
            hold.end,
            incident="unauthorised_anchoring",
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "unauthorised_anchoring",
            v.mmsi,
            t,
            self.t1,
            spot,
            f"{data.name} anchors outside the designated anchorages",
        )

    # -- course anomalies --------------------------------------------------------------------------
    def wrong_way(self, t: float) -> Incident | None:
        lane = self.world.zone("tss_inbound")
        a, b = self.places.lane_in
        start_pt = offset(b, bearing(a, b), 300.0)
        # she weighs anchor at a free spot of the inner anchorage (well clear of the ships there)
        occupied = [(k.x, k.y) for v in self.traffic.vessels if (k := v.kin(self.t0)) is not None]
        spots = self.places.anchor_spots("anchorage_inner", self.rng, 12, spacing=100.0, margin=150.0)
        origin = [p for p in spots if all(distance(p, q) > 500.0 for q in occupied)][:1]
        if not origin:
            return None
        head = self.traffic.service.route(origin[0], start_pt)
        tail = self.traffic.large.route(self.places.approach_in, self._gate("W"))
        if head is None or tail is None:
            return None
        path = self._smooth([*head, a, self.places.approach_in, *tail[1:]], 150.0)
        probe = make_transit(path, 0.0, 9.0, self.traffic.cap_large, start_kn=0.0, end_kn=9.0, accel=0.03)
        data = self.ids.merchant("general", "MATARANI", self.traffic.eta)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "coaster_wrong_way",
            "cargo",
            data,
            Plan([probe]),
            probe.start,
            probe.end,
            incident="course_anomaly",
        )
        window = self._time_in_zone(v, lane.id, probe.start, probe.end)
        if window is None:
            return None
        shift = t - window[0]
        tr = make_transit(path, shift, 9.0, self.traffic.cap_large, start_kn=0.0, end_kn=9.0, accel=0.03)
        if tr.start < self.t0:
            return None
        hold = Hold(origin[0], self.t0 - 3600.0, tr.start, STATUS_AT_ANCHOR, heading=190.0)
        v = SimVessel(
            v.mmsi,
            "A",
            v.role,
            v.category,
            data,
            Plan([hold, tr]),
            hold.start,
            tr.end,
            incident="course_anomaly",
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "course_anomaly:wrong_way",
            v.mmsi,
            window[0] + shift,
            window[1] + shift,
            a,
            f"{data.name} leaves westbound through the inbound lane (direction {lane.direction_deg:.0f}°)",
            related=["speeding"],
        )

    def erratic(self, t: float) -> Incident | None:
        """A ship on the usual way in from the west (bound for the anchorage) starts zig-zagging on
        the approach (steering failure, or a ship trying to shake off surveillance), then carries on."""
        spot_anchor = self._pick_anchor_spot()
        gate = self._gate("W", "NW")
        usual = self.traffic.large.route(gate, spot_anchor) if spot_anchor is not None else None
        if usual is None or spot_anchor is None:
            return None
        line = LineString(usual)
        area = self.world.zone("vts_area").geometry
        inside = line.intersection(area)
        if inside.is_empty or inside.length < 4000.0:
            return None
        along = self.rng.uniform(0.3, 0.6)
        mid = inside.interpolate(along, normalized=True)
        spot = (mid.x, mid.y)
        brg = bearing(usual[0], usual[-1]) + self.rng.choice((-1, 1)) * 45.0
        zig = [spot]
        p = spot
        turns = self.rng.randint(5, 7)
        for i in range(turns):
            brg += (1 if i % 2 == 0 else -1) * self.rng.uniform(75.0, 110.0)
            p = offset(p, brg, self.rng.uniform(350.0, 550.0))
            zig.append(p)
        if any(self.world.on_land(*q) or not self.world.zone("vts_area").contains(*q) for q in zig):
            return None
        zig_path = self._smooth(zig, 25.0, max_step_deg=30.0)
        go = self._arrive_at(gate, zig[0], t, 8.0, small=False)
        if go is None or go.start < self.t0 - 3600.0:
            return None
        zz = Transit(zig_path, [7.0] * len(zig_path), t)
        back = self._through(zig[-1], spot_anchor, zz.end, 8.0, end_kn=0.0)
        if back is None:
            return None
        rest = self.traffic._anchor_hold(spot_anchor, back.end, self.t1 + 3600.0, 120)
        data = self.ids.merchant("general", "CALLAO", self.traffic.eta)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "erratic_steering",
            "cargo",
            data,
            Plan([go, zz, back, rest]),
            go.start,
            rest.end,
            incident="course_anomaly",
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "course_anomaly:erratic",
            v.mmsi,
            t,
            zz.end,
            spot,
            f"{data.name} zig-zags: {turns} turns of 75-110° in {(zz.end - t) / 60:.0f} min",
        )

    def stop_after_departure(self, t: float) -> Incident | None:
        spots = self.places.anchor_spots("anchorage_main", self.rng, 1, spacing=600.0, margin=500.0)
        if not spots:
            return None
        anchor = spots[0]
        gate = self._gate("W", "NW")
        route = self.traffic.large.route(anchor, gate)
        if route is None:
            return None
        path = self._smooth(route, 250.0)
        full = make_transit(path, 0.0, 11.0, self.traffic.cap_large, start_kn=0.0, end_kn=11.0, accel=0.015)
        # stop after about 4-7 km, inside the VTS area
        dist_out = self.rng.uniform(4000.0, 7000.0)
        travelled, stop_idx = 0.0, None
        for i in range(1, len(full.points)):
            travelled += distance(full.points[i - 1], full.points[i])
            if travelled >= dist_out:
                stop_idx = i
                break
        if stop_idx is None:
            return None
        stop_pt = full.points[stop_idx]
        if not self.world.zone("vts_area").contains(*stop_pt) or any(
            z.contains(*stop_pt)
            for z in self.world.zones.values()
            if z.kind not in ("area_of_interest",) and z.id != "vts_area"
        ):
            return None
        first = make_transit(
            full.points[: stop_idx + 1],
            0.0,
            11.0,
            self.traffic.cap_large,
            start_kn=0.0,
            end_kn=1.0,
            accel=0.015,
        )
        leave = t - first.end
        if leave < self.t0 + 900.0:
            return None
        first = make_transit(
            full.points[: stop_idx + 1],
            leave,
            11.0,
            self.traffic.cap_large,
            start_kn=0.0,
            end_kn=1.0,
            accel=0.015,
        )
        stop = self.rng.uniform(9.0, 16.0) * 60.0
        crawl_dir = bearing(full.points[stop_idx - 1], stop_pt)
        crawl = Drift(stop_pt, first.end, first.end + stop, 0.9, crawl_dir, crawl_dir, STATUS_UNDER_WAY)
        c_end = crawl.at(crawl.end)
        rest = make_transit(
            [(c_end.x, c_end.y), *full.points[stop_idx + 1 :]],
            crawl.end,
            11.0,
            self.traffic.cap_large,
            start_kn=1.0,
            end_kn=11.0,
            accel=0.015,
        )
        data = self.ids.merchant(self.rng.choice(("bulk", "container")), "BALBOA", self.traffic.eta)
        hold = self.traffic._anchor_hold(anchor, self.t0 - 3600.0, leave, data.length_m)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "departure_then_stop",
            "cargo",
            data,
            Plan([hold, first, crawl, rest]),
            hold.start,
            rest.end,
            incident="course_anomaly",
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "course_anomaly:stop_after_departure",
            v.mmsi,
            first.end - 120.0,
            crawl.end,
            stop_pt,
            f"{data.name} weighs anchor, leaves and stops at {dist_out / 1852:.1f} NM "
            f"for {stop / 60:.0f} min",
            related=["loitering", "unauthorised_anchoring"],
        )

    def off_route(self, t: float) -> Incident | None:
        """A ship bound for Callao comes in by the usual approach, then at the lane entrance heads off
        for waters between the lanes and the islands where no ship goes, wanders there and goes
        back out to sea the same unusual way."""
        gate = self._gate("W")
        approach = self.places.inbound_lane_points()[0]
        first = self._south_of_lanes()
        second = self._south_of_lanes()
        if first is None or second is None or distance(first, second) < 2000.0:
            return None
        legs = [
            self.traffic.large.route(gate, approach),
            self.traffic.small.route(approach, first),
            self.traffic.small.route(first, second),
            self.traffic.small.route(second, gate),
        ]
        if any(leg is None for leg in legs):
            return None
        path: list[XY] = [gate]
        for leg in legs:
            path += leg[1:]  # type: ignore[index]
        path = self._smooth(path, 300.0)
        probe = make_transit(path, 0.0, 10.0, self.traffic.cap_large, start_kn=10.0, end_kn=10.0, accel=0.015)
        t_dev = _time_near(probe, approach)
        tr = make_transit(
            path, t - t_dev, 10.0, self.traffic.cap_large, start_kn=10.0, end_kn=10.0, accel=0.015
        )
        if tr.start < self.t0 - 3600.0 or _time_near(tr, second) > self.t1:
            return None
        data = self.ids.merchant(self.rng.choice(("container", "bulk")), "CALLAO", self.traffic.eta)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "off_route",
            "cargo",
            data,
            Plan([tr]),
            tr.start,
            tr.end,
            incident="course_anomaly",
        )
        if not self._accept([v]):
            return None
        # the anomaly lasts until she is back out west of the lane entrance
        back_west = next(
            (tt for tt in range(int(_time_near(tr, second)), int(tr.end), 10) if tr.at(tt).x < approach[0]),
            int(tr.end),
        )
        return self._incident(
            "course_anomaly:off_route",
            v.mmsi,
            t,
            float(back_west),
            first,
            f"{data.name}, bound for Callao, turns off the approach at the lane entrance for waters no "
            "traffic uses, and goes back out to sea",
        )

    def _south_of_lanes(self) -> XY | None:
        """Open water between the lanes and the islands, where no traffic of the port goes."""
        lane_y = min(self.places.lane_in[0][1], self.places.lane_in[1][1])
        area = self.world.zone("vts_area").geometry
        others = [z.geometry for z in self.world.zones.values() if z.kind != "area_of_interest"]
        x0, x1 = self.places.approach_in[0] - 3000.0, self.places.lane_in[1][0]
        for _ in range(300):
            p = (self.rng.uniform(x0, x1), lane_y - self.rng.uniform(1000.0, 4500.0))
            pt = Point(p)
            if not area.contains(pt) or self.world.distance_to_land(*p) < 700.0:
                continue
            if any(g.distance(pt) < 300.0 for g in others):
                continue
            return p
        return None

    # -- navigation safety ---------------------------------------------------------------------------
    def drifting(self, t: float) -> Incident | None:
        spot = self._open_water(clear=1200.0)
        if spot is None:
            return None
        gate = self._gate("NW", "W", "N")
        go = self._arrive_at(gate, spot, t, 9.0, small=False)
        if go is None or go.start < self.t0 - 3600.0:
            return None
        dur = self.rng.uniform(20.0, 35.0) * 60.0
        set_deg = self.rng.uniform(0, 360)
        heading = (set_deg + self.rng.choice((-1, 1)) * self.rng.uniform(70.0, 120.0)) % 360.0
        drift = Drift(
            spot, t, t + dur, self.rng.uniform(0.7, 1.5), set_deg, heading, STATUS_NOT_UNDER_COMMAND
        )
        end = drift.at(t + dur)
        anchor = self._pick_anchor_spot()
        if anchor is None:
            return None
        rest = self._through((end.x, end.y), anchor, t + dur, 7.0, end_kn=0.0)
        if rest is None:
            return None
        data = self.ids.fishing(industrial=True)
        hold = self.traffic._anchor_hold(anchor, rest.end, self.t1 + 3600.0, data.length_m)
        v = SimVessel(
            self.ids.mmsi(peru=True),
            "A",
            "disabled_vessel",
            "fishing",
            data,
            Plan([go, drift, rest, hold]),
            go.start,
            hold.end,
            incident="drifting",
        )
        if any(self.world.on_land(*p) for p in (spot, (end.x, end.y))) or not self._accept([v]):
            return None
        return self._incident(
            "drifting",
            v.mmsi,
            t,
            t + dur,
            spot,
            f"{data.name} not under command, drifting {drift.speed_kn:.1f} kn with heading "
            f"{abs(angle_diff(set_deg, heading)):.0f}° off course",
            related=["loitering"],
        )

    def cpa(self, t: float) -> Incident | None:
        """Where two usual routes cross: a ship from the west bound for the anchorage and a coaster
        on the coastal route meet on collision courses and pass within a cable or so."""
        spot = self._pick_anchor_spot()
        northbound = self.rng.random() < 0.5
        r1 = self.traffic.large.route(self._gate("W", "NW"), spot) if spot is not None else None
        r2 = self.traffic.coastal_route(northbound)
        if r1 is None or r2 is None or spot is None:
            return None
        s1, s2 = self.rng.uniform(9.0, 10.4), self.rng.uniform(9.0, 10.4)
        probe1 = make_transit(
            self._smooth(r1, 300.0), 0.0, s1, self.traffic.cap_large, start_kn=s1, end_kn=0.0, accel=0.012
        )
        probe2 = make_transit(r2, 0.0, s2, self.traffic.cap_large, start_kn=s2, end_kn=s2)
        crossing = LineString(probe1.points).intersection(LineString(probe2.points))
        if crossing.is_empty or crossing.geom_type not in ("Point", "MultiPoint"):
            return None
        pt = crossing if crossing.geom_type == "Point" else crossing.geoms[0]
        x = (pt.x, pt.y)
        k1, k2 = probe1.at(_time_near(probe1, x)), probe2.at(_time_near(probe2, x))
        angle = abs(angle_diff(k1.cog, k2.cog))
        if not 45.0 <= angle <= 135.0 or k1.sog < 6.0 or not self.world.zone("vts_area").contains(*x):
            return None
        miss = self.rng.uniform(40.0, 110.0)
        t_lag = miss / (k2.sog * 0.5144)
        tr1 = make_transit(
            probe1.points,
            t - _time_near(probe1, x),
            s1,
            self.traffic.cap_large,
            start_kn=s1,
            end_kn=0.0,
            accel=0.012,
        )
        tr2 = make_transit(
            probe2.points,
            t + t_lag - _time_near(probe2, x),
            s2,
            self.traffic.cap_large,
            start_kn=s2,
            end_kn=s2,
        )
        if min(tr1.start, tr2.start) < self.t0 - 3600.0:
            return None
        hold = self.traffic._anchor_hold(spot, tr1.end, self.t1 + 3600.0, 190)
        b1, b2 = k1.cog, k2.cog
        d1 = self.ids.merchant("general", "CALLAO", self.traffic.eta)
        d2 = self.ids.merchant("bulk", "CHANCAY" if northbound else "PISCO", self.traffic.eta)
        v1 = SimVessel(
            self.ids.mmsi(),
            "A",
            "close_quarters",
            "cargo",
            d1,
            Plan([tr1, hold]),
            tr1.start,
            hold.end,
            incident="cpa",
        )
        v2 = SimVessel(
            self.ids.mmsi(),
            "A",
            "close_quarters",
            "cargo",
            d2,
            Plan([tr2]),
            tr2.start,
            tr2.end,
            incident="cpa",
        )
        if not self._accept([v1, v2], [(v1.mmsi, v2.mmsi)]):
            return None
        return self._incident(
            "cpa",
            v1.mmsi,
            t - 11 * 60.0,
            t + 60.0,
            x,
            f"{d1.name} and {d2.name} cross {abs(angle_diff(b1, b2)):.0f}° apart, passing about {miss:.0f} m",
            other=v2.mmsi,
        )

    def _crossing(self, pts: list[XY], speed: float, t_at_middle: float) -> Transit | None:
        """From the nearest gate along `pts` and on to another gate, passing `pts[1]` at the given time."""
        gates = sorted(self.places.gates.values(), key=lambda g: distance(g, pts[0]))
        exits = sorted(self.places.gates.values(), key=lambda g: distance(g, pts[-1]))
        head = self.traffic.large.route(gates[0], pts[0])
        tail = self.traffic.large.route(pts[-1], exits[0])
        if head is None or tail is None:
            return None
        path = self._smooth([*head[:-1], *pts, *tail[1:]], 250.0)
        probe = Transit(path, [speed] * len(path), 0.0)
        return Transit(path, [speed] * len(path), t_at_middle - _time_near(probe, pts[1]))

    def anchor_drag(self, t: float) -> Incident | None:
        spots = self.places.anchor_spots("anchorage_main", self.rng, 1, spacing=600.0, margin=900.0)
        if not spots or t < self.t0 + 25 * 60.0:
            return None
        anchor = spots[0]
        data = self.ids.merchant(self.rng.choice(("bulk", "container")), "CALLAO", self.traffic.eta)
        hold = self.traffic._anchor_hold(anchor, self.t0 - 3600.0, t, data.length_m)
        k = hold.at(t)
        dur = self.rng.uniform(12.0, 20.0) * 60.0
        speed = self.rng.uniform(1.2, 1.8)
        drag = Drift((k.x, k.y), t, t + dur, speed, (k.heading + 180.0) % 360.0, k.heading, STATUS_AT_ANCHOR)
        e = drag.at(t + dur)
        rest = Hold((e.x, e.y), t + dur, self.t1 + 3600.0, STATUS_AT_ANCHOR, heading=k.heading)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            "dragging_anchor",
            "cargo",
            data,
            Plan([hold, drag, rest]),
            hold.start,
            rest.end,
            incident="anchor_drag",
        )
        if self.world.on_land(e.x, e.y) or not self._accept([v]):
            return None
        return self._incident(
            "anchor_drag",
            v.mmsi,
            t,
            t + dur,
            anchor,
            f"{data.name} drags her anchor {speed:.1f} kn for {dur / 60:.0f} min "
            f"({distance(anchor, (e.x, e.y)):.0f} m)",
            related=["drifting", "unauthorised_anchoring"],
        )

    def speeding(self, t: float) -> Incident | None:
        start_pt = self._open_water(clear=500.0)
        if start_pt is None:
            return None
        end_pt = None
        for _ in range(12):
            end_pt = self._open_water(start_pt, 7000.0, clear=500.0)
            if end_pt is not None and distance(start_pt, end_pt) >= 3500.0:
                break
        if end_pt is None or distance(start_pt, end_pt) < 3500.0:
            return None
        r = self.traffic.small.route(start_pt, end_pt)
        if r is None:
            return None
        fast = self.rng.uniform(19.0, 26.0)
        path = self._smooth(r, 150.0)
        run = make_transit(path, t, fast, lambda p: 40.0, start_kn=7.0, end_kn=7.0, accel=0.25)
        t_over = next((t + s for s in range(0, int(run.end - t), 5) if run.at(t + s).sog > 12.5), None)
        t_under = next((t + s for s in range(int(run.end - t), 0, -5) if run.at(t + s).sog > 12.5), None)
        if t_over is None or t_under is None or t_under - t_over < 180.0:
            return None
        go = self._arrive_at(self._gate("SW", "W", "NW"), start_pt, t, 7.0)
        back = self._through(end_pt, self._gate("NW", "W", "N"), run.end, 7.0, small=True)
        if go is None or back is None or go.start < self.t0 - 3600.0:
            return None
        data = self.ids.pleasure()
        v = SimVessel(
            self.ids.mmsi(peru=True),
            "B",
            "speedboat",
            "pleasure",
            data,
            Plan([go, run, back]),
            go.start,
            back.end,
            sends_heading=False,
            incident="speeding",
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "speeding",
            v.mmsi,
            t_over,
            t_under,
            start_pt,
            f"speedboat {data.name} at {fast:.0f} kn for {(t_under - t_over) / 60:.0f} min "
            f"where the limit is 12 kn",
        )

    # -- identity and data -------------------------------------------------------------------------
    def _anchored_incident_ship(self, role: str, incident: str, **kw: Any) -> SimVessel | None:
        spot = self._pick_anchor_spot()
        if spot is None:
            return None
        data = self.ids.merchant(
            self.rng.choice(("bulk", "container", "general")), "CALLAO", self.traffic.eta
        )
        hold = self.traffic._anchor_hold(spot, self.t0 - 3600.0, self.t1 + 3600.0, data.length_m)
        v = SimVessel(
            self.ids.mmsi(),
            "A",
            role,
            "cargo",
            data,
            Plan([hold]),
            hold.start,
            hold.end,
            incident=incident,
            **kw,
        )
        return v

    def position_jump(self, t: float) -> Incident | None:
        v = self._anchored_incident_ship("position_jump", "position_jump")
        if v is None:
            return None
        k = v.kin(t)
        assert k is not None
        onto_land = self.rng.random() < 0.35
        if onto_land:
            j = offset((k.x, k.y), 90.0, 9000.0)
            while not self.world.on_land(*j):
                j = offset(j, 90.0, 1000.0)
            where = "onto land"
        else:
            j = offset((k.x, k.y), self.rng.uniform(0, 360), self.rng.uniform(8000.0, 20000.0))
            where = f"{distance((k.x, k.y), j) / 1000:.0f} km away"
        lon, lat = self.world.to_lonlat(*j)
        v.jumps.append((t, lon, lat))
        if not self._accept([v]):
            return None
        return self._incident(
            "position_jump",
            v.mmsi,
            t,
            t + 240.0,
            (k.x, k.y),
            f"one position report {where} while at anchor (GNSS glitch)",
        )

    def duplicate_mmsi(self, t: float) -> Incident | None:
        dur = self.rng.uniform(20.0, 35.0) * 60.0
        area = self.world.zone("vts_area")
        taken = {i.mmsi for i in self.incidents}

        def under_way(v: SimVessel) -> bool:
            ks = [v.kin(t + f * dur) for f in (0.0, 0.5, 1.0)]
            return all(k is not None and k.sog > 3.0 and area.contains(k.x, k.y) for k in ks)

        # the real owner of the MMSI is heard under way (frequent reports) or, failing that, at anchor
        service = (
            set(self.world.allowlists.tug)
            | set(self.world.allowlists.pilot)
            | set(self.world.allowlists.coastguard)
        )
        moving = [
            v
            for v in self.traffic.vessels
            if v.incident is None and v.mmsi not in taken and v.mmsi not in service and under_way(v)
        ]
        targets = moving or [v for v in self._anchored_targets() if v.mmsi not in taken]
        if not targets:
            return None
        real = self.rng.choice(targets)
        spot = self._open_water(clear=500.0)
        real_k = real.kin(t)
        if spot is None or real_k is None or distance(spot, (real_k.x, real_k.y)) < 4000.0:
            return None
        b = self.rng.uniform(0, 360)
        end_pt = offset(spot, b, dur * 8.0 * 0.5144)
        if self.world.land_buffer(300.0).intersects(Point(end_pt)) or not self.world.zone(
            "vts_area"
        ).contains(*end_pt):
            return None
        tr = Transit([spot, end_pt], [8.0, 8.0], t)
        data = self.ids.fishing(industrial=True)
        dup = SimVessel(
            real.mmsi,
            "A",
            "duplicate_identity",
            "fishing",
            data,
            Plan([tr]),
            tr.start,
            tr.end,
            incident="duplicate_mmsi",
        )
        if not self._accept([dup]):
            return None
        return self._incident(
            "duplicate_mmsi",
            real.mmsi,
            t,
            tr.end,
            spot,
            f"{data.name} transmits the MMSI of {real.static.name if real.static else real.mmsi}, "
            f"{distance(spot, (real_k.x, real_k.y)) / 1000:.0f} km away",
            related=["position_jump", "identity_change"],
        )

    def invalid_mmsi(self, t: float) -> Incident | None:
        mmsi = self.rng.choice(INVALID_MMSIS)
        if mmsi in self.ids.used:
            return None
        self.ids.reserve(mmsi)
        spot = self._open_water(clear=800.0)
        if spot is None:
            return None
        tr = self._through(self._gate("N", "NW"), spot, 0.0, 8.0)
        if tr is None:
            return None
        gate = self._gate("W", "SW")
        full = self._through(self._gate("N", "NW"), gate, 0.0, 8.0, small=True)
        if full is None:
            return None
        first_in = next(
            (
                tt
                for tt in range(0, int(full.end), 20)
                if self.world.zone("vts_area").contains(full.at(tt).x, full.at(tt).y)
            ),
            0,
        )
        full = self._through(self._gate("N", "NW"), gate, t - first_in, 8.0, small=True)
        assert full is not None
        data = self.ids.fishing()
        v = SimVessel(
            mmsi,
            "B",
            "invalid_mmsi",
            "fishing",
            data,
            Plan([full]),
            full.start,
            full.end,
            sends_heading=False,
            incident="invalid_mmsi",
        )
        if full.start < self.t0 - 3600.0 or not self._accept([v]):
            self.ids.used.discard(mmsi)
            return None
        first = max(full.start, self.t0)
        k = full.at(max(t, first))
        return self._incident(
            "invalid_mmsi",
            mmsi,
            first,
            first + 900.0,
            (k.x, k.y),
            f"fishing boat {data.name} transmits the invalid MMSI {mmsi:09d}",
        )

    def identity_change(self, t: float) -> Incident | None:
        v = self._anchored_incident_ship("identity_change", "identity_change")
        if v is None or v.static is None or t < self.t0 + 20 * 60.0:
            return None
        new = renamed(
            v.static,
            name=self.ids.merchant("general", "CALLAO", self.traffic.eta).name,
            callsign=self.ids.callsign(),
        )
        v.static_changes.append((t, new))
        if not self._accept([v]):
            return None
        k = v.kin(t)
        assert k is not None
        return self._incident(
            "identity_change",
            v.mmsi,
            t,
            t + 420.0,
            (k.x, k.y),
            f"{v.static.name} starts calling herself {new.name} (call sign {new.callsign})",
        )

    def distress(self, t: float) -> Incident | None:
        spot = self._open_water(clear=500.0)
        if spot is None:
            return None
        kind = self.rng.choice(((970, "AIS-SART"), (972, "MOB device"), (974, "EPIRB-AIS")))
        mmsi = kind[0] * 1_000_000 + self.rng.randrange(10000, 999999)
        self.ids.reserve(mmsi)
        dur = self.rng.uniform(30.0, 45.0) * 60.0
        # the device keeps transmitting (its battery lasts days) until the end of the run, drifting offshore
        from shapely.ops import nearest_points

        shore = nearest_points(self.world.land, Point(spot))[0]
        set_deg = bearing((shore.x, shore.y), spot)
        on_air = max(t + dur, self.t1 + 600.0)
        drift = Drift(spot, t, on_air, self.rng.uniform(0.2, 0.5), set_deg, 0.0, STATUS_SART_ACTIVE)
        extra = [
            Emission(t + 5.0 + i * 240.0, mmsi, {"type": 14, "mmsi": mmsi, "text": "SART ACTIVE"})
            for i in range(int((on_air - t) // 240.0) + 1)
        ]
        v = SimVessel(
            mmsi,
            "A",
            "distress_beacon",
            "sar",
            None,
            Plan([drift]),
            t,
            on_air,
            sends_heading=False,
            incident="distress",
            extra=extra,
            position_every_s=60.0,
        )
        if not self._accept([v]):
            return None
        return self._incident(
            "distress",
            mmsi,
            t,
            t + dur,
            spot,
            f"{kind[1]} {mmsi} activated at sea",
            related=["ais_gap", "loitering"],
        )


def _time_near(transit: Transit, p: XY) -> float:
    best = min(range(len(transit.points)), key=lambda i: distance(transit.points[i], p))
    return transit._times[best]
