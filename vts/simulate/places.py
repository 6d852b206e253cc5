"""Where things happen, derived from the config's zones and land: berths along the quays, anchor
spots, tanker moorings, bases for tugs, pilots and the coastguard, the fishing dock, lane and
channel axes, the pilot boarding points and the sea gates where traffic enters and leaves.

Nothing here is a hard-coded coordinate of Callao except the names of the zones (fixed in
docs/architecture.md): a different port configuration with the same zone ids gets its own places.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from vts.simulate.routes import XY, bearing, distance, monotonic, offset, zone_axis
from vts.simulate.world import World

BERTH_ZONES = ("berth_dpworld_south", "berth_apm_north", "berth_mineral_pier")


@dataclass(frozen=True, slots=True)
class BerthSlot:
    zone: str
    point: XY
    heading: float
    approach: XY
    """A point off the berth from which the ship makes its final approach."""


@dataclass(slots=True)
class Places:
    world: World
    berths: list[BerthSlot]
    tanker_moorings: list[tuple[str, XY]]
    tug_base: XY
    pilot_base: XY
    coastguard_base: XY
    fishing_dock: XY
    entrance: XY
    channel_in: list[XY]
    """Channel axis points, seaward end first."""
    lane_in: tuple[XY, XY]
    lane_out: tuple[XY, XY]
    lane_d: tuple[XY, XY] | None
    approach_in: XY
    approach_out: XY
    boarding_in: XY
    boarding_out: XY
    gates: dict[str, XY]
    small_craft_moorings: list[XY] = field(default_factory=list)

    @classmethod
    def build(cls, world: World, rng: random.Random) -> Places:
        entrance = _centroid(world, "entrance")
        lane_in = zone_axis(world.zone("tss_inbound"))
        out_dir = world.zone("tss_outbound").direction_deg or 279.0
        lane_out = zone_axis(world.zone("tss_outbound"))
        in_dir = world.zone("tss_inbound").direction_deg or 99.0
        ch_a, ch_b = zone_axis(world.zone("access_channel"), in_dir, trim=0.0)
        channel_in = [ch_a, ch_b]
        lane_d = zone_axis(world.zone("tss_lane_d")) if world.has_zone("tss_lane_d") else None
        approach_in = offset(lane_in[0], in_dir + 180.0, 1500.0)
        approach_out = offset(lane_out[1], out_dir, 1500.0)
        boarding_in = _along(ch_a, ch_b, 0.2)
        boarding_out = _along(ch_a, ch_b, 0.8)
        berths = _berth_slots(world, entrance)
        tug_base, pilot_base, cg_base = _bases(world, berths)
        gates = _gates(world, approach_in, in_dir)
        return cls(
            world=world,
            berths=berths,
            tanker_moorings=_tanker_moorings(world, rng),
            tug_base=tug_base,
            pilot_base=pilot_base,
            coastguard_base=cg_base,
            fishing_dock=_fishing_dock(world),
            entrance=entrance,
            channel_in=channel_in,
            lane_in=lane_in,
            lane_out=lane_out,
            lane_d=lane_d,
            approach_in=approach_in,
            approach_out=approach_out,
            boarding_in=boarding_in,
            boarding_out=boarding_out,
            gates=gates,
            small_craft_moorings=_spots_in(world, "moorings_la_punta", rng, 4, spacing=230.0, margin=60.0),
        )

    def inbound_lane_points(self) -> list[XY]:
        """From the lane approach, along the inbound lane and the channel, to the entrance."""
        d = self.world.zone("tss_inbound").direction_deg or 99.0
        pts = [self.approach_in, self.lane_in[0], *self.channel_in, self.entrance]
        return monotonic(pts, d)

    def outbound_lane_points(self) -> list[XY]:
        d = self.world.zone("tss_outbound").direction_deg or 279.0
        pts = [
            self.entrance,
            *reversed(self.channel_in),
            self.lane_out[0],
            self.lane_out[1],
            self.approach_out,
        ]
        return monotonic(pts, d)

    def lane_d_points(self) -> list[XY]:
        """From the anchorages down lane (d) and the channel to the entrance."""
        if self.lane_d is None:
            return self.inbound_lane_points()
        a, b = self.lane_d
        in_dir = self.world.zone("tss_inbound").direction_deg or 99.0
        rest = monotonic([b, *self.channel_in, self.entrance], in_dir)
        return [a, *rest]

    def anchor_spots(
        self, zone_id: str, rng: random.Random, n: int, spacing: float, margin: float
    ) -> list[XY]:
        return _spots_in(self.world, zone_id, rng, n, spacing=spacing, margin=margin)


def _centroid(world: World, zone_id: str) -> XY:
    c = world.zone(zone_id).geometry.centroid
    return (c.x, c.y)


def _along(a: XY, b: XY, f: float) -> XY:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def _water_band(world: World, area: BaseGeometry, lo: float, hi: float) -> BaseGeometry:
    """Water inside `area` between `lo` and `hi` metres from land."""
    return area.intersection(world.land_buffer(hi)).difference(world.land_buffer(lo))


def _berth_slots(world: World, entrance: XY) -> list[BerthSlot]:
    avoid = [z.geometry for z in world.avoided_zones("cargo", 0)]
    slots: list[BerthSlot] = []
    for zid in BERTH_ZONES:
        if not world.has_zone(zid):
            continue
        band = _water_band(world, world.zone(zid).geometry, 30.0, 45.0)
        for g in avoid:
            band = band.difference(g.buffer(60.0))
        if band.is_empty:
            continue
        pts = _sample_points(band, 25.0)
        # the ship must lie parallel to the quay: several points of her length must be clear of land
        pts.sort(key=lambda p: distance(p, entrance))
        chosen: list[XY] = []
        for p in pts:
            if any(distance(p, q) < 260.0 for q in chosen) or any(
                distance(p, s.point) < 260.0 for s in slots
            ):
                continue
            chosen.append(p)
        for p in chosen:
            near_land = nearest_points(world.land, Point(p))[0]
            away = bearing((near_land.x, near_land.y), p)
            heading = (away + 90.0) % 360.0
            approach = _berth_approach(world, p, heading, away, entrance)
            slots.append(BerthSlot(zid, p, heading, approach))
    return slots


def _berth_approach(world: World, p: XY, heading: float, away: float, entrance: XY) -> XY:
    """Where a ship starts her final approach: off the berth and astern of it, so that she comes
    in nearly parallel to the quay (as ships do) rather than head-on at it."""
    hard = world.land_buffer(25.0)
    avoid = [z.geometry for z in world.avoided_zones("cargo", 0)]
    options: list[XY] = []
    for along in (320.0, 240.0, 160.0):
        for direction in (heading + 180.0, heading):
            q = offset(offset(p, direction, along), away, 70.0)
            line = LineString([p, q])
            if hard.intersects(line) or any(g.intersects(Point(q)) for g in avoid):
                continue
            options.append(q)
        if options:
            break
    if not options:
        return offset(p, away, 120.0)
    return min(options, key=lambda q: distance(q, entrance))


def _sample_points(geom: BaseGeometry, step: float) -> list[XY]:
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, step), np.arange(miny, maxy, step))
    xs, ys = xs.ravel(), ys.ravel()
    inside = shapely.contains_xy(geom, xs, ys)
    return [(float(x), float(y)) for x, y in zip(xs[inside], ys[inside], strict=True)]


def _bases(world: World, berths: list[BerthSlot]) -> tuple[XY, XY, XY]:
    """Quiet corners of the harbour for tugs, pilot boats and the coastguard, away from the berths."""
    area = world.zone("port_area").geometry
    band = _water_band(world, area, 25.0, 50.0)
    for z in world.avoided_zones("tug", 0):
        band = band.difference(z.geometry.buffer(30.0))
    pts = _sample_points(band, 20.0)
    pts = [p for p in pts if all(distance(p, b.point) > 230.0 for b in berths)] or pts
    pts.sort(key=lambda p: -min((distance(p, b.point) for b in berths), default=0.0))
    chosen: list[XY] = []
    for p in pts:
        if all(distance(p, q) > 120.0 for q in chosen) and (not chosen or distance(p, chosen[0]) < 500.0):
            chosen.append(p)
        if len(chosen) == 3:
            break
    while len(chosen) < 3:
        chosen.append(chosen[-1] if chosen else _centroid(world, "port_area"))
    return chosen[0], chosen[1], chosen[2]


def _fishing_dock(world: World) -> XY:
    if not world.has_zone("fishing_docks"):
        return _centroid(world, "port_area")
    geom = world.zone("fishing_docks").geometry
    band = _water_band(world, geom, 15.0, 60.0)
    if band.is_empty:
        band = geom.difference(world.land_buffer(10.0))
    c = band.representative_point()
    return (c.x, c.y)


def _tanker_moorings(world: World, rng: random.Random) -> list[tuple[str, XY]]:
    out: list[tuple[str, XY]] = []
    for zid, security in (
        ("terminal_la_pampilla", "security_pampilla_terminals"),
        ("terminal_ventanilla", None),
    ):
        if not world.has_zone(zid):
            continue
        if security and world.has_zone(security):
            g = world.zone(security).geometry
            for part in getattr(g, "geoms", [g]):
                c = part.centroid
                if not world.on_land(c.x, c.y) and world.distance_to_land(c.x, c.y) > 250.0:
                    out.append((zid, (c.x, c.y)))
        else:
            out.extend((zid, p) for p in _spots_in(world, zid, rng, 3, spacing=900.0, margin=250.0))
    return out


def _spots_in(
    world: World, zone_id: str, rng: random.Random, n: int, *, spacing: float, margin: float
) -> list[XY]:
    """Up to `n` random points in a zone, `margin` inside its edge and off land, `spacing` apart."""
    if not world.has_zone(zone_id):
        return []
    geom = world.zone(zone_id).geometry
    inner = geom.buffer(-margin).difference(world.land_buffer(margin))
    if inner.is_empty:
        return []
    pts = _sample_points(inner, max(30.0, spacing / 6.0))
    rng.shuffle(pts)
    chosen: list[XY] = []
    for p in pts:
        if all(distance(p, q) >= spacing for q in chosen):
            chosen.append(p)
            if len(chosen) >= n:
                break
    return chosen


def _gates(world: World, approach_in: XY, in_dir: float) -> dict[str, XY]:
    """Points outside the VTS area where traffic enters and leaves: W, NW, N, SW."""
    area = (
        world.zone("vts_area").geometry if world.has_zone("vts_area") else Point(approach_in).buffer(15000.0)
    )
    centre = area.centroid

    def centroid_of(zone_id: str) -> XY:
        if world.has_zone(zone_id):
            c = world.zone(zone_id).geometry.centroid
            return (c.x, c.y)
        return (centre.x, centre.y)

    out: dict[str, XY] = {}
    for name, origin, brg in (
        ("W", approach_in, in_dir + 180.0),
        ("NW", centroid_of("anchorage_main"), 312.0),
        ("N", centroid_of("terminal_la_pampilla"), 338.0),
        ("SW", (centre.x, centre.y), 228.0),
        ("WSW", (centre.x, centre.y), 258.0),
    ):
        p = origin
        for _ in range(200):
            if not area.contains(Point(p)) and area.distance(Point(p)) > 2500.0 and not world.on_land(*p):
                break
            p = offset(p, brg, 250.0)
        if world.distance_to_land(*p) > 1000.0:
            out[name] = p
    return out


def heading_to(a: XY, b: XY) -> float:
    return bearing(a, b)


def clamp_angle(a: float) -> float:
    return a % 360.0 if not math.isnan(a) else 0.0
