"""`vts simulate`: write simulated, labelled Callao traffic (traffic.nmea + truth.json [+ a map])."""

from __future__ import annotations

import argparse
import gzip
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

from vts.config import ConfigError, load_config
from vts.simulate.incidents import expand_types
from vts.simulate.scenario import DEFAULT_START, simulate
from vts.simulate.truth import write_truth

log = logging.getLogger(__name__)


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hours", type=float, default=6.0, help="length of the simulated log (default 6)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same bytes")
    p.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    p.add_argument(
        "--incidents",
        default="all",
        help="incident types to inject: 'all' (default), 'none', or a comma list "
        "(alongside,rendezvous,...,course_anomaly or course_anomaly:wrong_way,...)",
    )
    p.add_argument("--vessels", type=int, default=None, help="about how many vessels at once (default ~55)")
    p.add_argument("--start", default=None, help="start time, ISO 8601 UTC (default 2026-03-02T12:00:00Z)")
    p.add_argument("--config", type=Path, default=None, help="configuration file (default: Callao)")
    p.add_argument("--map", type=Path, default=None, help="also write a static HTML map of the run here")
    p.add_argument("--gzip", action="store_true", help="write traffic.nmea.gz instead of traffic.nmea")


def parse_start(text: str | None) -> float:
    if text is None:
        return DEFAULT_START
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        types = expand_types(args.incidents)
        start = parse_start(args.start)
    except (ConfigError, ValueError) as e:
        print(f"vts simulate: {e}", file=sys.stderr)
        return 2
    if args.hours <= 0:
        print("vts simulate: --hours must be positive", file=sys.stderr)
        return 2
    t = time.perf_counter()
    sim = simulate(
        config, seed=args.seed, hours=args.hours, start=start, incident_types=types, vessels=args.vessels
    )
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    name = "traffic.nmea.gz" if args.gzip else "traffic.nmea"
    lines = 0
    opener = (
        gzip.open(out / name, "wt", encoding="ascii", newline="\n")
        if args.gzip
        else open(out / name, "w", encoding="ascii", newline="\n")
    )
    with opener as f:
        for line in sim.nmea_lines():
            f.write(line + "\n")
            lines += 1
    write_truth(sim, out / "truth.json")
    if args.map is not None:
        from vts.simulate.maps import write_map

        write_map(sim, args.map)
    log.info(
        "wrote %s (%d lines, %d vessels, %d incidents) and truth.json in %.1f s",
        out / name,
        lines,
        len({v.mmsi for v in sim.vessels}),
        len(sim.incidents),
        time.perf_counter() - t,
    )
    return 0
