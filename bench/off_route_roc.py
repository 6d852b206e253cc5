"""How well the learned traffic model separates off-route ships from normal traffic (ROC-AUC).

    .venv/bin/python bench/off_route_roc.py --model MODEL.npz [--seeds 1-5] [--hours 6] [--keep DIR]

Train the model first on normal simulated traffic (no incidents), e.g.

    for s in 101 102 103 104; do vts simulate --hours 24 --seed $s --incidents none --out train$s; done
    vts learn train10*/traffic.nmea --out model.npz

Then, for each test seed, `vts simulate` writes traffic with off_route incidents; every large vessel's
track (fixes under way, at least 3 kn, inside the VTS area) is scored with `vts.normalcy.track_score`
(worst 5-minute mean anomaly, the statistic the course_anomaly rule thresholds). Tracks of the
off_route incident vessels are the positives, every other large vessel a negative. Prints the ROC-AUC
and, at the rule's threshold, how many tracks of each kind would alert.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vts.config import load_config  # noqa: E402
from vts.ingest import Ingest  # noqa: E402
from vts.normalcy import NormalcyModel, OffRouteWatch, roc_auc, track_score  # noqa: E402
from vts.reports import PositionReport  # noqa: E402
from vts.tracker import Tracker  # noqa: E402
from vts.vessel_class import is_large_vessel  # noqa: E402

MIN_SOG_KN = 3.0


def seeds_of(spec: str) -> list[int]:
    if "-" in spec:
        a, b = spec.split("-", 1)
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in spec.split(",") if s]


def tracks_of(log: Path) -> tuple[dict[int, list[tuple[float, float, float, float | None]]], set[int]]:
    config = load_config()
    areas = [z for z in config.zones if z.kind == "area_of_interest"]
    area_geoms = [z.geometry() for z in areas]
    import shapely

    ingest = Ingest()
    tracker = Tracker(config.tracker)
    fixes: dict[int, list[tuple[float, float, float, float | None]]] = defaultdict(list)
    large: set[int] = set()
    with open(log, "rb") as f:
        for line in f:
            for r in ingest.feed(line, log.name, None):
                v = tracker.update(r)
                if v is None or v.is_shadow:
                    continue
                if is_large_vessel(v):
                    large.add(v.mmsi)
                if not isinstance(r, PositionReport) or r.lat is None or r.lon is None:
                    continue
                if r.sog is None or r.sog < MIN_SOG_KN:
                    continue
                if area_geoms and not any(shapely.intersects_xy(g, r.lon, r.lat) for g in area_geoms):
                    continue
                fixes[v.mmsi].append((r.time, r.lat, r.lon, r.cog))
    return fixes, large


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--seeds", default="1-5")
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--keep", help="keep the simulated logs here")
    ap.add_argument("--window-s", type=float, default=600.0)
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--layer", default="large", choices=["large", "all"])
    args = ap.parse_args()
    model = NormalcyModel.load(args.model)
    layer = model.layer_for(args.layer)  # type: ignore[arg-type]
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vts-roc-"))
    normal: list[float] = []
    anomalous: list[float] = []
    rule_pos: list[bool] = []
    rule_neg: list[bool] = []
    for seed in seeds_of(args.seeds):
        out = workdir / f"seed{seed}"
        done = subprocess.run(
            [sys.executable, "-m", "vts", "-q", "simulate", "--hours", str(args.hours), "--seed", str(seed),
             "--incidents", "course_anomaly:off_route", "--out", str(out)],
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"seed {seed}: vts simulate failed (exit {done.returncode}); skipped")
            continue
        truth = json.loads((out / "truth.json").read_text())
        positives = {i["mmsi"] for i in truth["incidents"] if i.get("kind") == "off_route"}
        fixes, large = tracks_of(out / "traffic.nmea")
        for mmsi, track in fixes.items():
            if mmsi not in large or len(track) < 10:
                continue
            score = track_score(model, track, args.window_s, layer)
            (anomalous if mmsi in positives else normal).append(score)
            watch = OffRouteWatch(args.window_s, args.threshold)
            alerted = any(
                watch.feed(t, model.anomaly(lat, lon, cog, layer)) == "raise" for t, lat, lon, cog in track
            )
            (rule_pos if mmsi in positives else rule_neg).append(alerted)
        n_large = sum(1 for m in fixes if m in large)
        print(f"seed {seed}: {len(positives)} off_route incidents, {n_large} large tracks")
    auc = roc_auc(normal, anomalous)
    print(f"\nlayer {layer}, window {args.window_s:g} s: ", end="")
    print(f"{len(anomalous)} off-route tracks, {len(normal)} normal tracks")
    print(f"ROC-AUC: {auc if auc is None else round(auc, 3)}")
    tp = sum(s >= args.threshold for s in anomalous)
    fp = sum(s >= args.threshold for s in normal)
    print(f"at threshold {args.threshold}: {tp}/{len(anomalous)} off-route tracks alert, ", end="")
    print(f"{fp}/{len(normal)} normal tracks")
    print(
        f"the rule (on the routes first, then {args.window_s:g} s mean >= {args.threshold}): "
        f"{sum(rule_pos)}/{len(rule_pos)} off-route tracks alert, "
        f"{sum(rule_neg)}/{len(rule_neg)} normal tracks"
    )
    if normal:
        print(f"normal track scores: max {max(normal):.3f}, median {sorted(normal)[len(normal) // 2]:.3f}")
    if anomalous:
        print(f"off-route track scores: min {min(anomalous):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
