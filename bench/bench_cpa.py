"""Cost of one CPA sweep (the cpa rule's tick) against the number of vessels.

    .venv/bin/python bench/bench_cpa.py

N vessels under way at random, at a constant density of 50 vessels per 20 x 20 km (a busy port
approach: the area grows with N), and at a fixed 40 x 40 km (density grows with N: a worst case);
every vessel has reported since the previous sweep (so the rule reads them all from the tracker),
and the rule's `on_tick` runs over all of them. Prints the
milliseconds per sweep, the candidate pairs and the pairs evaluated per second. The sweep runs every
10 s of event time, so a sweep well under a second keeps up with any live feed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vts.config import Config
from vts.reports import PositionReport
from vts.rules.base import RuleContext
from vts.rules.cpa import CpaParams, CpaRule
from vts.spatial import VesselGrid
from vts.tracker import Tracker, VesselState
from vts.zones import ZoneEngine

LAT0, LON0 = -12.0, -77.3
T = 1_768_496_400.0


def _tracker(vessels: list[VesselState]) -> Tracker:
    """A tracker that holds these vessels as they are (no report merged)."""
    tracker = Tracker()
    for v in vessels:
        tracker._vessels[v.mmsi] = v
    return tracker


class _Sink:
    """The alert engine as the rule sees it: what it holds is shown, what it clears is not."""

    def __init__(self) -> None:
        self.held = 0
        self.shown: set[tuple[object, ...]] = set()

    def hold(self, **kw: object) -> None:
        self.held += 1
        self.shown.add((kw["type"], kw["mmsi"], kw.get("other_mmsi"), kw.get("zone")))

    def clear(self, **kw: object) -> None:
        self.shown.discard((kw["type"], kw["mmsi"], kw.get("other_mmsi"), kw.get("zone")))

    def is_active(self, type: str, mmsi: int, other_mmsi: int | None = None, zone: str | None = None) -> bool:
        return (type, mmsi, other_mmsi, zone) in self.shown


def sweep(n: int, side_m: float, repeats: int = 5) -> tuple[float, int, int]:
    rng = np.random.default_rng(n)
    grid = VesselGrid()
    vessels = []
    for k in range(n):
        lat = LAT0 + rng.uniform(0, side_m) / 111_195
        lon = LON0 + rng.uniform(0, side_m) / (111_195 * math.cos(math.radians(LAT0)))
        v = VesselState(mmsi=200_000_000 + k, first_seen=T, last_seen=T)
        v.lat, v.lon, v.position_time = lat, lon, T - rng.uniform(0, 30)
        v.sog, v.cog = float(rng.uniform(2, 20)), float(rng.uniform(0, 360))
        vessels.append(v)
        grid.update(v.mmsi, lat, lon)
    rule = CpaRule(CpaParams(confirm_s=0.0))  # one event time: every tick is the same evaluation
    sink = _Sink()
    config = Config()
    ctx = RuleContext(config, _tracker(vessels), ZoneEngine([]), grid, config.allowlists, sink, T)
    rule.on_tick(ctx)  # warm-up
    reports = [PositionReport(time=T, mmsi=v.mmsi, msg_type=1, source="bench") for v in vessels]
    started = time.perf_counter()
    for _ in range(repeats):
        for v, r in zip(vessels, reports, strict=True):  # every vessel reported since the last tick
            rule.on_report(v, r, ctx)
        rule.on_tick(ctx)
    per_sweep = (time.perf_counter() - started) / repeats
    pairs = sum(len(grid.near(v.lat, v.lon, 3 * 1852 + 1000)) - 1 for v in vessels) // 2  # type: ignore[arg-type]
    return per_sweep, pairs, len(rule._active)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50,500,2000,5000", help="numbers of vessels, comma-separated")
    sizes = [int(n) for n in ap.parse_args().sizes.split(",") if n.strip()]
    for title, side in (("constant density", None), ("fixed 40 x 40 km", 40_000.0)):
        print(f"\n{title}")
        print(f"{'vessels':>8} {'ms/sweep':>9} {'cand. pairs':>12} {'pairs/s':>12} {'alerting pairs':>15}")
        for n in sizes:
            per, pairs, active = sweep(n, side if side else 20_000.0 * math.sqrt(n / 50))
            print(f"{n:8d} {per * 1000:9.1f} {pairs:12d} {pairs / per:12.0f} {active:15d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
