"""`vts simulate`: write simulated, labelled Callao traffic (traffic.nmea + truth.json [+ a map])."""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from vts.cli import positive_float, positive_int
from vts.config import ConfigError, load_config
from vts.simulate.incidents import expand_types
from vts.simulate.scenario import DEFAULT_START, simulate
from vts.simulate.truth import write_truth

log = logging.getLogger(__name__)


MAX_HOURS = 168.0
"""A week: the whole run is built in memory before it is written (24 h take ~140 MB)."""


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--hours",
        type=positive_float,
        default=6.0,
        help=f"length of the simulated log (default 6, at most {MAX_HOURS:g}; for longer, several seeds)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same bytes")
    p.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    p.add_argument(
        "--incidents",
        default="all",
        help="incident types to inject: 'all' (default), 'none', or a comma list "
        "(alongside,rendezvous,...,course_anomaly or course_anomaly:wrong_way,...)",
    )
    p.add_argument(
        "--vessels", type=positive_int, default=None, help="about how many vessels at once (default ~55)"
    )
    p.add_argument(
        "--start",
        default=None,
        help="start time, ISO 8601, UTC unless it gives an offset (default 2026-03-02T12:00:00Z)",
    )
    p.add_argument("--config", type=Path, default=None, help="configuration file (default: Callao)")
    p.add_argument("--map", type=Path, default=None, help="also write a static HTML map of the run here")
    p.add_argument("--gzip", action="store_true", help="write traffic.nmea.gz instead of traffic.nmea")


def parse_start(text: str | None) -> float:
    """UNIX seconds of an ISO 8601 time; one without an offset is UTC (not the machine's time zone)."""
    if text is None:
        return DEFAULT_START
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--start {text!r}: not an ISO 8601 time (e.g. 2026-03-02T12:00:00Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _check_outputs(args: argparse.Namespace) -> str | None:
    """What is wrong with --out / --map (None: nothing), found before the simulation runs."""
    out: Path = args.out
    if out.exists() and not out.is_dir():
        return f"--out {out}: exists and is not a directory"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"--out {out}: cannot create the directory: {e.strerror or e}"
    if not os.access(out, os.W_OK):
        return f"--out {out}: the directory cannot be written"
    if args.map is not None and (args.map.is_dir() or not args.map.parent.is_dir()):
        what = "is a directory" if args.map.is_dir() else f"no such directory: {args.map.parent}"
        return f"--map {args.map}: {what}"
    return None


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        types = expand_types(args.incidents)
        start = parse_start(args.start)
    except (ConfigError, ValueError) as e:
        print(f"vts simulate: {e}", file=sys.stderr)
        return 2
    if args.hours > MAX_HOURS:
        print(
            f"vts simulate: --hours {args.hours:g}: at most {MAX_HOURS:g} (a week; the run is built in"
            " memory): simulate several seeds for longer",
            file=sys.stderr,
        )
        return 2
    problem = _check_outputs(args)
    if problem is not None:
        print(f"vts simulate: {problem}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    sim = simulate(
        config, seed=args.seed, hours=args.hours, start=start, incident_types=types, vessels=args.vessels
    )
    if sim.left_out:
        log.warning(
            "no time and place free of other traffic found for %s in %g h (no incident starts in the"
            " first or last 10 minutes): left out",
            ", ".join(sim.left_out),
            args.hours,
        )
    out: Path = args.out
    name = "traffic.nmea.gz" if args.gzip else "traffic.nmea"
    lines = 0
    try:
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
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        print(f"vts simulate: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        return 1
    log.info(
        "wrote %s (%d lines, %d vessels, %d incidents) and truth.json in %.1f s",
        out / name,
        lines,
        len({v.mmsi for v in sim.vessels}),
        len(sim.incidents),
        time.perf_counter() - t,
    )
    return 0
