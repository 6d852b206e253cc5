"""Alerts per 1,000 vessel-hours on real recorded traffic, per alert type.

    .venv/bin/python bench/alert_rates.py [LOG ...] [--config PATH] [--types a,b,...] [--json OUT]

Each log runs through one `Core` (the daemon's pipeline: ingest, tracker, zones, every enabled rule)
with the default configuration and an in-memory alert store. Without arguments it uses the real
recordings in ../shared/data/ais (Danish, Australian, US and Greek traffic).

Event time: lines with a time of their own (tag blocks, $PGHP, trailing epochs) keep it. Most of these
public logs carry none; for those, the ingest itself takes the UTC that base stations broadcast
(`vts.station_clock`, as `vts replay` does), the same clock a receiver would see. Logs with neither
(their reports before 1971) are reported with 0 vessel-hours and left out of the rates.

Vessel-hours: for every tracked vessel, the time between its consecutive messages, each gap counted
up to 10 minutes (a vessel that falls silent is not counted as present). An alert counts once, when
raised (updates and clears are not new alerts).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vts.config import load_config  # noqa: E402
from vts.core import Core  # noqa: E402
from vts.replay import UNTIMED_BEFORE  # noqa: E402
from vts.reports import Report  # noqa: E402
from vts.tracker import VesselState  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ais"
DEFAULT_LOGS = [
    "aisparser/SAR.log",
    "aisparser/unknown.log",
    "aisparser/seattle.log",
    "amsa-risky/ais.txt.gz",
    "amsa-risky/exact-earth-augmented.txt",
    "amsa-risky/exact-earth-augmented-2.txt",
    "amsa-risky/exact-earth-augmented-3.txt",
    "dma-aislib/stream_example.txt",
    "dma-aislib/decode_encode_messages.txt",
    "dma-aislib/ais250.txt",
    "gpsd/ais-raw-messages.log",
    "gpsd/ais-nmea.log",
]
MAX_GAP_S = 600.0
MY_TYPES = [
    "course_anomaly",
    "drifting",
    "cpa",
    "anchor_drag",
    "speeding",
    "position_jump",
    "duplicate_mmsi",
    "invalid_mmsi",
    "identity_change",
    "distress",
]


def read_lines(path: Path) -> list[bytes]:
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as f:  # type: ignore[operator]
        return f.read().splitlines()  # type: ignore[no-any-return]


def run_log(path: Path, config_path: str | None) -> dict:
    lines = read_lines(path)
    config = load_config(config_path)
    config.alerts = config.alerts.model_copy(update={"store": None})
    core = Core(config)
    last_seen: dict[int, float] = {}
    presence = [0.0]

    def on_report(report: Report, vessel: VesselState | None) -> None:
        if vessel is None or vessel.is_shadow:
            return
        prev = last_seen.get(vessel.mmsi)
        if report.time < UNTIMED_BEFORE:
            return  # no time at all: no presence to count
        if prev is not None and report.time > prev:
            presence[0] += min(report.time - prev, MAX_GAP_S)
        if prev is None or report.time > prev:
            last_seen[vessel.mmsi] = report.time

    raised: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    core.add_report_listener(on_report)
    core.add_alert_listener(
        lambda a: (
            raised.update([a.type]) if a.state == "raised" else None,
            kinds.update([f"{a.type}/{a.details.get('kind')}/{a.severity}"]) if a.state == "raised" else None,
        )
    )
    started = time.perf_counter()
    for line in lines:
        core.feed_line(line, source=path.name, received=None)
    core.finish()
    elapsed = time.perf_counter() - started
    span = core.ingest.stats.as_dict()
    return {
        "log": str(path.relative_to(DATA)) if path.is_relative_to(DATA) else str(path),
        "lines": len(lines),
        "vessels": len(last_seen),
        "vessel_hours": presence[0] / 3600.0,
        "first_time": span.get("first_time"),
        "last_time": span.get("last_time"),
        "raised": dict(raised),
        "kinds": dict(kinds),
        "seconds": elapsed,
        "rule_errors": dict(core.engine.stats.rule_errors),
    }


def _is_satellite(log: str) -> bool:
    return "exact-earth" in log


def main() -> int:
    logging.getLogger("vts.alerts.engine").setLevel(logging.CRITICAL)  # rule errors are counted below
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="*")
    ap.add_argument("--config")
    ap.add_argument(
        "--types", default=",".join(MY_TYPES), help="alert types to tabulate ('all' for every type)"
    )
    ap.add_argument("--json", help="write the per-log results here")
    args = ap.parse_args()
    paths = [Path(p) for p in args.logs] or [DATA / p for p in DEFAULT_LOGS]
    results = [run_log(p, args.config) for p in paths if p.is_file()]
    seen_types = sorted({t for r in results for t in r["raised"]})
    types = seen_types if args.types == "all" else [t for t in args.types.split(",") if t]
    print(f"{'log':42} {'vessels':>7} {'v-hours':>8}  alerts raised")
    for r in results:
        shown = {t: n for t, n in sorted(r["raised"].items()) if t in types or args.types == "all"}
        print(f"{r['log']:42} {r['vessels']:7d} {r['vessel_hours']:8.1f}  {shown}")
    groups = {
        "terrestrial receivers": [r for r in results if not _is_satellite(r["log"])],
        "satellite (exactEarth)": [r for r in results if _is_satellite(r["log"])],
        "all": results,
    }
    for title, group in groups.items():
        if not group:
            continue
        hours = sum(r["vessel_hours"] for r in group)
        total: Counter[str] = Counter()
        for r in group:
            total.update(r["raised"])
        print(f"\n{title}: {sum(r['vessels'] for r in group)} vessel tracks, {hours:.1f} vessel-hours")
        print(f"{'type':18} {'raised':>6} {'per 1,000 vessel-hours':>24}")
        for t in types:
            rate = 1000.0 * total[t] / hours if hours > 0 else float("nan")
            print(f"{t:18} {total[t]:6d} {rate:24.1f}")
        mine = sum(total[t] for t in types)
        print(f"{'(these types)':18} {mine:6d} {1000.0 * mine / hours if hours else float('nan'):24.1f}")
    kinds: Counter[str] = Counter()
    for r in results:
        kinds.update(r["kinds"])
    print("\nall logs, by type/kind/severity:")
    for k, v in sorted(kinds.items()):
        if k.split("/")[0] in types:
            print(f"  {k:48} {v:5d}")
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["rule_errors"])
    if errors:
        print("rule errors (exceptions counted by the engine):", dict(errors))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
