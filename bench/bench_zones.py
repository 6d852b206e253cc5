"""Zone checks per second: the Callao configuration, then 20 ... 500 random zones.

    .venv/bin/python bench/bench_zones.py [--fixes 20000]

A "check" is one `ZoneEngine.update(mmsi, t, lon, lat)` (tree lookup, exact point-in-polygon on the
candidates, hysteresis bookkeeping), for many vessels moving through the area. `zones_at` (the bare
lookup) and `is_on_land` are timed too, and, for comparison, a scan testing every zone without the
tree (``µs/scan``). The cost per check should stay nearly flat from 20 to 500
zones: the STRtree only hands over the few zones whose boxes hold the point.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not

from vts.config import ZoneSettings, load_config
from vts.geo import destination
from vts.zones import ZoneEngine

BOX = (-77.30, -12.20, -77.12, -11.88)  # lon_min, lat_min, lon_max, lat_max of the Callao bay area


def random_zones(n: int, rng: random.Random, *, fixed_size: bool = False) -> list[ZoneSettings]:
    """n random star-shaped polygons (12-24 vertices) spread over the bay.

    By default their sizes shrink as n grows so that together they cover about 30 % of the box
    (more zones = smaller zones, as in a real configuration): the number of zones around a point
    stays about the same and the table shows the cost of n itself. ``fixed_size`` uses 100 m to
    1 km radii whatever n, so the zones per fix (and the exact tests) grow with n.
    """
    box_km2 = 19.6 * 35.4
    mean_r = math.sqrt(0.30 * box_km2 * 1e6 / (n * math.pi))
    zones = []
    for i in range(n):
        lat, lon = rng.uniform(BOX[1], BOX[3]), rng.uniform(BOX[0], BOX[2])
        radius = rng.uniform(100, 1000) if fixed_size else mean_r * rng.uniform(0.6, 1.4)
        k = rng.randint(12, 24)
        ring = []
        for j in range(k):
            la, lo = destination(lat, lon, 360 * j / k, radius * rng.uniform(0.7, 1.0))
            ring.append((lo, la))
        ring.append(ring[0])
        zones.append(ZoneSettings(id=f"z{i:04d}", name=f"random {i}", kind="waiting_area", polygon=ring))
    return zones


def fixes(n: int, rng: random.Random, vessels: int = 200) -> list[tuple[int, float, float, float]]:
    """Positions of `vessels` ships moving at 5-15 kn, one fix every 10 s per ship, in time order."""
    ships = []
    for v in range(vessels):
        lat, lon = rng.uniform(BOX[1], BOX[3]), rng.uniform(BOX[0], BOX[2])
        ships.append([760_000_000 + v, lat, lon, rng.uniform(0, 360), rng.uniform(2.5, 7.5)])
    out = []
    t = 1_700_000_000.0
    while len(out) < n:
        for ship in ships:
            mmsi, lat, lon, course, speed = ship
            lat, lon = destination(lat, lon, course, speed * 10)
            if not (BOX[1] < lat < BOX[3] and BOX[0] < lon < BOX[2]):
                ship[3] = (course + 180) % 360
            ship[1], ship[2] = lat, lon
            out.append((int(mmsi), t, lon, lat))
        t += 10.0
    return out[:n]


def rate(fn: Callable[[], None], n: int, repeat: int = 5) -> float:
    """Best of `repeat` runs, in operations per second of CPU time (steadier on a busy machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return n / best


def bench(label: str, engine: ZoneEngine, track: list[tuple[int, float, float, float]]) -> None:
    def updates() -> None:
        engine._vessels = {}  # no vessel known yet: each run starts alike
        for mmsi, t, lon, lat in track:
            engine.update(mmsi, t, lon, lat)

    def lookups() -> None:
        for _, _, lon, lat in track:
            engine.zones_at(lon, lat)

    geoms = [z.geometry for z in engine.zones]

    def scan() -> None:  # no tree: every zone tested (vectorised), for comparison
        for _, _, lon, lat in track:
            shapely.intersects_xy(geoms, lon, lat)

    def land() -> None:
        for _, _, lon, lat in track:
            engine.is_on_land(lon, lat)

    n = len(track)
    u, z, g, sc = rate(updates, n), rate(lookups, n), rate(land, n), rate(scan, n)
    hits = sum(len(engine.zones_at(lon, lat)) for _, _, lon, lat in track[:2000]) / min(n, 2000)
    print(
        f"{label:<22} {len(engine.zones):>6} {hits:>9.2f} {u:>12,.0f} {1e6 / u:>9.1f} "
        f"{z:>12,.0f} {1e6 / z:>9.1f} {1e6 / sc:>9.1f} {g:>12,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=20_000, help="position fixes per measurement")
    parser.add_argument(
        "--fixed-size", action="store_true", help="random zones of 100 m-1 km whatever their number"
    )
    args = parser.parse_args()
    rng = random.Random(42)
    track = fixes(args.fixes, rng)
    config = load_config()
    land = config.land_polygons()
    geos = shapely.geos_version_string
    print(f"shapely {shapely.__version__}, GEOS {geos}; {len(track):,} fixes, 200 vessels")
    print(
        f"{'configuration':<22} {'zones':>6} {'zones/fix':>9} {'updates/s':>12} {'µs/upd':>9} "
        f"{'lookups/s':>12} {'µs/look':>9} {'µs/scan':>9} {'land/s':>12}"
    )
    bench("Callao (callao_bay)", ZoneEngine.from_config(config), track)
    for n in (20, 50, 100, 200, 500):
        zones = random_zones(n, random.Random(n), fixed_size=args.fixed_size)
        bench(f"random {n}", ZoneEngine(zones, land), track)


if __name__ == "__main__":
    main()
