"""Routes that never cross land, built from the config's zones and land polygons.

A `Router` is a visibility graph over a grid of water points (coarse in the open bay, fine around
the port), with edges only where the straight segment clears the obstacles of a vessel profile
(land grown by a clearance, plus the zones that profile keeps out of). Routes are shortest paths,
string-pulled to straight legs, with corners rounded to the vessel's turning radius.

Lane routes (`inbound_path`, `outbound_path`) follow the axes of the traffic-separation lanes and
the access channel, as real arrivals and departures do.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from vts.simulate.world import XY, World, ZoneShape

ENDPOINT_SLACK_M = 300.0
"""Near its own endpoints a leg only has to clear land itself, not the clearance margin."""
HARBOUR_ZONES = ("port_area", "entrance", "access_channel", "fishing_docks", "moorings_la_punta")
"""Zones around which vessels may pass close to land (quays, breakwaters)."""


def bearing(a: XY, b: XY) -> float:
    """Bearing in degrees [0, 360) from a to b in the metric frame."""
    return math.degrees(math.atan2(b[0] - a[0], b[1] - a[1])) % 360.0


def distance(a: XY, b: XY) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def offset(p: XY, bearing_deg: float, dist_m: float) -> XY:
    r = math.radians(bearing_deg)
    return (p[0] + dist_m * math.sin(r), p[1] + dist_m * math.cos(r))


def angle_diff(a: float, b: float) -> float:
    """Smallest signed difference b - a in degrees, in (-180, 180]."""
    d = (b - a + 180.0) % 360.0 - 180.0
    return 180.0 if d == -180.0 else d


def path_length(path: Sequence[XY]) -> float:
    return sum(distance(path[i], path[i + 1]) for i in range(len(path) - 1))


@dataclass(frozen=True, slots=True)
class Profile:
    """How a kind of vessel may move: distance kept from land and zones it keeps out of."""

    name: str
    clearance_m: float
    avoid: tuple[str, ...]
    """Ids of zones this profile never crosses (unless the route starts or ends inside one)."""


class Router:
    def __init__(
        self, world: World, profile: Profile, *, spacing_m: float = 700.0, fine_spacing_m: float = 90.0
    ):
        self.world = world
        self.profile = profile
        harbour_parts = [world.zone(z).geometry for z in HARBOUR_ZONES if world.has_zone(z)]
        harbour = unary_union(harbour_parts).buffer(300.0) if harbour_parts else Point(0, 0).buffer(1.0)
        self._avoid_zones: list[ZoneShape] = [world.zone(z) for z in profile.avoid if world.has_zone(z)]
        avoid_geom = unary_union([z.geometry for z in self._avoid_zones]) if self._avoid_zones else None
        far = world.land_buffer(profile.clearance_m).difference(harbour)
        near = world.land_buffer(min(profile.clearance_m, 30.0))
        self._land_obstacle: BaseGeometry = unary_union([far, near])
        shapely.prepare(self._land_obstacle)
        parts = [self._land_obstacle] + ([avoid_geom] if avoid_geom is not None else [])
        self.obstacle: BaseGeometry = unary_union(parts)
        shapely.prepare(self.obstacle)
        self._hard = world.land_buffer(8.0)
        self._nodes, self._adj = self._build_graph(harbour, spacing_m, fine_spacing_m)
        self._cache: dict[tuple[XY, XY], list[XY] | None] = {}

    # -- graph ---------------------------------------------------------------------------------
    def _build_graph(
        self, harbour: BaseGeometry, spacing: float, fine: float
    ) -> tuple[np.ndarray, list[list[tuple[int, float]]]]:
        area = self.world.zone("vts_area").geometry if self.world.has_zone("vts_area") else harbour
        minx, miny, maxx, maxy = area.buffer(12_000.0).bounds
        xs = np.arange(minx, maxx, spacing)
        ys = np.arange(miny, maxy, spacing)
        gx, gy = np.meshgrid(xs, ys)
        coarse = np.column_stack((gx.ravel(), gy.ravel()))
        hminx, hminy, hmaxx, hmaxy = harbour.bounds
        fx, fy = np.meshgrid(np.arange(hminx, hmaxx, fine), np.arange(hminy, hmaxy, fine))
        fine_pts = np.column_stack((fx.ravel(), fy.ravel()))
        fine_pts = fine_pts[shapely.contains_xy(harbour, fine_pts[:, 0], fine_pts[:, 1])]
        coarse = coarse[~shapely.contains_xy(harbour, coarse[:, 0], coarse[:, 1])]
        pts = np.vstack((coarse, fine_pts))
        free = ~shapely.intersects_xy(self.obstacle, pts[:, 0], pts[:, 1])
        pts = pts[free]
        is_fine = np.zeros(len(pts), dtype=bool)
        is_fine[len(pts) - int(free[len(coarse) :].sum()) :] = True
        # candidate pairs by cell bucketing
        radius = np.where(is_fine, fine * 2.3, spacing * 1.5)
        cell = spacing * 1.5
        buckets: dict[tuple[int, int], list[int]] = {}
        keys = np.floor(pts / cell).astype(int)
        for i, (kx, ky) in enumerate(keys):
            buckets.setdefault((int(kx), int(ky)), []).append(i)
        pairs_a: list[int] = []
        pairs_b: list[int] = []
        for i, (kx, ky) in enumerate(keys):
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for j in buckets.get((int(kx) + dx, int(ky) + dy), ()):
                        if j <= i:
                            continue
                        d = math.hypot(pts[i, 0] - pts[j, 0], pts[i, 1] - pts[j, 1])
                        if d <= max(radius[i], radius[j]) and (is_fine[i] == is_fine[j] or d <= spacing):
                            pairs_a.append(i)
                            pairs_b.append(j)
        a = np.array(pairs_a, dtype=int)
        b = np.array(pairs_b, dtype=int)
        adj: list[list[tuple[int, float]]] = [[] for _ in range(len(pts))]
        if len(a):
            lines = shapely.linestrings(np.stack((pts[a], pts[b]), axis=1))
            clear = ~shapely.intersects(self.obstacle, lines)
            for i, j in zip(a[clear], b[clear], strict=True):
                d = float(math.hypot(pts[i, 0] - pts[j, 0], pts[i, 1] - pts[j, 1]))
                adj[i].append((int(j), d))
                adj[j].append((int(i), d))
        return pts, adj

    # -- queries ---------------------------------------------------------------------------------
    def leg_ok(self, a: XY, b: XY, a_is_end: bool = False, b_is_end: bool = False) -> bool:
        """Whether the straight leg a->b is allowed. Near a route's own endpoint (a quay, a dock, a
        zone the vessel is bound for) the leg may come close to land and cross the zone it ends in."""
        line = LineString([a, b])
        if self._hard.intersects(line):
            return False
        if not a_is_end and not b_is_end:
            return not self.obstacle.intersects(line)
        ends = [p for p, e in ((a, a_is_end), (b, b_is_end)) if e]
        for z in self._avoid_zones:
            if z.geometry.intersects(line) and not any(z.geometry.contains(Point(p)) for p in ends):
                return False
        length = line.length
        lo = ENDPOINT_SLACK_M if a_is_end else 0.0
        hi = length - ENDPOINT_SLACK_M if b_is_end else length
        if hi - lo < 1.0:
            return True
        core = shapely.line_interpolate_point(line, [lo, hi])
        seg = LineString([(core[0].x, core[0].y), (core[1].x, core[1].y)])
        return not self._land_obstacle.intersects(seg)

    def route(self, a: XY, b: XY) -> list[XY] | None:
        """Shortest clear route from a to b (None when there is none)."""
        key = (a, b)
        if key not in self._cache:
            self._cache[key] = self._route(a, b)
        path = self._cache[key]
        return None if path is None else list(path)

    def _route(self, a: XY, b: XY) -> list[XY] | None:
        if self.leg_ok(a, b, True, True):
            return [a, b]
        starts = self._links(a, as_start=True)
        goals = dict(self._links(b, as_start=False))
        if not starts or not goals:
            return None
        n = len(self._nodes)
        dist = [math.inf] * n
        prev = [-1] * n
        heap: list[tuple[float, int]] = []
        for i, d in starts:
            dist[i] = d
            heapq.heappush(heap, (d + self._h(i, b), i))
        best_goal, best_cost = -1, math.inf
        while heap:
            f, i = heapq.heappop(heap)
            if f >= best_cost:
                break
            if f > dist[i] + self._h(i, b) + 1e-6:
                continue
            if i in goals and dist[i] + goals[i] < best_cost:
                best_cost = dist[i] + goals[i]
                best_goal = i
            for j, w in self._adj[i]:
                nd = dist[i] + w
                if nd < dist[j]:
                    dist[j] = nd
                    prev[j] = i
                    heapq.heappush(heap, (nd + self._h(j, b), j))
        if best_goal < 0:
            return None
        chain: list[int] = []
        i = best_goal
        while i >= 0:
            chain.append(i)
            i = prev[i]
        chain.reverse()
        path = [a] + [(float(self._nodes[i, 0]), float(self._nodes[i, 1])) for i in chain] + [b]
        return self._pull(path)

    def _h(self, i: int, b: XY) -> float:
        return math.hypot(self._nodes[i, 0] - b[0], self._nodes[i, 1] - b[1])

    def _links(self, p: XY, *, as_start: bool, max_links: int = 16) -> list[tuple[int, float]]:
        d = np.hypot(self._nodes[:, 0] - p[0], self._nodes[:, 1] - p[1])
        order = np.argsort(d)[: max_links * 6]
        out: list[tuple[int, float]] = []
        for i in order:
            q = (float(self._nodes[i, 0]), float(self._nodes[i, 1]))
            ok = self.leg_ok(p, q, True, False) if as_start else self.leg_ok(q, p, False, True)
            if ok:
                out.append((int(i), float(d[i])))
                if len(out) >= max_links:
                    break
        return out

    def _pull(self, path: list[XY]) -> list[XY]:
        """String-pulling: skip intermediate points while the direct leg stays clear."""
        out = [path[0]]
        i = 0
        last = len(path) - 1
        while i < last:
            j = last
            while j > i + 1 and not self.leg_ok(path[i], path[j], i == 0, j == last):
                j -= 1
            out.append(path[j])
            i = j
        return out


# -- lane axes -----------------------------------------------------------------------------------
def zone_axis(zone: ZoneShape, direction_deg: float | None = None, trim: float = 0.06) -> tuple[XY, XY]:
    """The centre line of an elongated zone, oriented along `direction_deg` (default: the zone's)."""
    geom = zone.geometry
    d = direction_deg if direction_deg is not None else zone.direction_deg
    if d is None:
        rect = geom.minimum_rotated_rectangle
        cs = list(rect.exterior.coords)
        e1 = (cs[0], cs[1])
        e2 = (cs[1], cs[2])
        long_edge = e1 if distance(*e1) >= distance(*e2) else e2
        d = bearing(long_edge[0], long_edge[1])
    c = geom.centroid
    r = math.radians(d)
    ux, uy = math.sin(r), math.cos(r)
    span = 4.0 * max(geom.bounds[2] - geom.bounds[0], geom.bounds[3] - geom.bounds[1])
    line = LineString([(c.x - ux * span, c.y - uy * span), (c.x + ux * span, c.y + uy * span)])
    inter = geom.intersection(line)
    if inter.is_empty:
        return ((c.x, c.y), (c.x, c.y))
    coords = [pt for g in getattr(inter, "geoms", [inter]) for pt in g.coords]
    proj = [(p[0] * ux + p[1] * uy, p) for p in coords]
    lo = min(proj)[1]
    hi = max(proj)[1]
    length = distance(lo, hi)
    start = offset(lo, d, length * trim)
    end = offset(hi, d + 180.0, length * trim)
    return ((start[0], start[1]), (end[0], end[1]))


def monotonic(points: Iterable[XY], direction_deg: float) -> list[XY]:
    """Drop points that would make a path step backwards along `direction_deg`."""
    r = math.radians(direction_deg)
    ux, uy = math.sin(r), math.cos(r)
    out: list[XY] = []
    last = -math.inf
    for p in points:
        s = p[0] * ux + p[1] * uy
        if s > last + 1.0:
            out.append(p)
            last = s
    return out


# -- smoothing -------------------------------------------------------------------------------------
def round_corners(
    path: Sequence[XY], radius_m: float, max_step_deg: float = 12.0, obstacle: BaseGeometry | None = None
) -> list[XY]:
    """Replace sharp corners with arcs of about `radius_m` so the course changes gradually.

    With an `obstacle`, a corner whose arc would touch it is left sharp (an arc must not cut a pier)."""
    if len(path) < 3 or radius_m <= 0:
        return list(path)
    out: list[XY] = [path[0]]
    for i in range(1, len(path) - 1):
        a, v, b = out[-1], path[i], path[i + 1]
        b_in, b_out = bearing(a, v), bearing(v, b)
        turn = angle_diff(b_in, b_out)
        if abs(turn) < 3.0:
            out.append(v)
            continue
        cut = min(
            radius_m * math.tan(math.radians(min(abs(turn), 150.0)) / 2.0),
            0.45 * distance(a, v),
            0.45 * distance(v, b),
        )
        p0 = offset(v, b_in + 180.0, cut)
        p2 = offset(v, b_out, cut)
        steps = max(2, int(abs(turn) / max_step_deg) + 1)
        arc: list[XY] = []
        for k in range(steps + 1):
            t = k / steps
            x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * v[0] + t**2 * p2[0]
            y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * v[1] + t**2 * p2[1]
            arc.append((x, y))
        if obstacle is not None and obstacle.intersects(LineString([a, *arc, b])):
            out.append(v)
        else:
            out.extend(arc)
    out.append(path[-1])
    return _dedupe(out)


def densify(path: Sequence[XY], step_m: float) -> list[XY]:
    out: list[XY] = [path[0]]
    for i in range(len(path) - 1):
        a, b = path[i], path[i + 1]
        n = max(1, int(distance(a, b) // step_m))
        for k in range(1, n + 1):
            t = k / n
            out.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
    return _dedupe(out)


def _dedupe(path: Sequence[XY]) -> list[XY]:
    out: list[XY] = []
    for p in path:
        if not out or distance(out[-1], p) > 0.5:
            out.append(p)
    return out
