"""`vts learn LOG... --out model.npz [--config PATH] [--cell-m 500]`: learn normal traffic from logs.

Every log goes through the same ingest and tracker as live feeds (event time, the same decoding and
duplicate-MMSI split); each fix under way is added to a `vts.normalcy.NormalcyBuilder`, and vessels
that are large by `vts.vessel_class.is_large_vessel` (once their static data is known) make up
the model's ``large`` layer. The model is written as ``.npz``; point the course_anomaly rule's
``model_path`` at it to judge ``off_route``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from vts.ais_tables import table_sentences
from vts.cli import non_negative_float, positive_float
from vts.config import ConfigError, load_config
from vts.ingest import Ingest
from vts.normalcy import NormalcyBuilder, NormalcyModel
from vts.reports import PositionReport, Report
from vts.sources.files import READ_ERRORS, open_log
from vts.tracker import Tracker
from vts.vessel_class import is_large_vessel

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 600.0


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="recorded AIS logs (NMEA, plain, gzip, bzip2, xz or zip), decoded AIS tables (CSV), or folders"
        " of them, as vts replay reads them",
    )
    p.add_argument("--out", required=True, metavar="MODEL.npz", help="where to write the model")
    p.add_argument("--config", metavar="PATH", help="configuration (tracker settings); default Callao")
    p.add_argument("--cell-m", type=positive_float, default=500.0, help="cell size in metres (default 500)")
    p.add_argument(
        "--min-sog", type=non_negative_float, default=1.0, help="fixes slower than this (kn) are not learned"
    )


def _lines(path: Path) -> Iterator[bytes]:
    """The lines of a log, plain or compressed as `vts replay` reads it (`open_log`), streamed (a
    month of traffic need not fit in memory); a decoded AIS table's rows as their sentences, as
    `vts replay` reads it (`vts.ais_tables`: one table is held in memory to be put in time order)."""
    reader, raw = open_log(path)
    with reader, raw:
        yield from table_sentences(reader, Counter())


def _reports(path: Path, ingest: Ingest) -> Iterator[Report]:
    """The decoded reports of a log, then those the ingest held back for want of a time."""
    for line in _lines(path):
        yield from ingest.feed(line, path.name, None)
    yield from ingest.flush()


def learn(
    paths: list[Path], cell_m: float = 500.0, min_sog_kn: float = 1.0, config_path: str | None = None
) -> tuple[NormalcyModel, dict[str, int]]:
    """Build a `NormalcyModel` from logs. Returns (model, summary dict)."""
    config = load_config(config_path)
    builder = NormalcyBuilder(cell_m=cell_m, min_sog_kn=min_sog_kn)
    lines = used = 0
    learned: set[int] = set()  # vessels with at least one fix learned
    for path in paths:
        ingest = Ingest()
        tracker = Tracker(config.tracker)
        next_prune: float | None = None
        for report in _reports(path, ingest):
            vessel = tracker.update(report)
            if next_prune is None:
                next_prune = report.time + PRUNE_EVERY_S
            elif report.time >= next_prune:
                next_prune = report.time + PRUNE_EVERY_S
                tracker.prune(report.time)
            if vessel is None or report.own_ship or not isinstance(report, PositionReport):
                if vessel is not None and not vessel.is_shadow and is_large_vessel(vessel):
                    builder.mark_large(vessel.mmsi)
                continue
            if vessel.is_shadow or report.lat is None or report.lon is None:
                continue
            if builder.add(vessel.mmsi, report.lat, report.lon, report.sog, report.cog):
                used += 1
                learned.add(vessel.mmsi)
            if is_large_vessel(vessel):
                builder.mark_large(vessel.mmsi)
        lines += ingest.stats.lines
    model = builder.build(logs=[p.name for p in paths])
    summary = {
        "lines": lines,
        "fixes_used": used,
        "vessels": builder.vessels,
        "large_vessels": len(builder.large & learned),  # not the large ships that never moved
        "cells_all": model.vessels_in_layer("all"),
        "cells_large": model.vessels_in_layer("large"),
    }
    return model, summary


def main(args: argparse.Namespace) -> int:
    from vts.sources.files import log_files

    paths = [Path(p) for given in args.logs for p in log_files(given)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"vts learn: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not paths:
        print("vts learn: no log in the folder(s) given", file=sys.stderr)
        return 2
    try:
        model, summary = learn(paths, args.cell_m, args.min_sog, args.config)
    except ConfigError as exc:
        print(f"vts learn: {exc}", file=sys.stderr)
        return 2
    except READ_ERRORS as exc:
        print(f"vts learn: cannot read the logs: {exc}", file=sys.stderr)
        return 1
    if summary["fixes_used"] == 0:
        print("vts learn: no fix under way in the logs; nothing to learn", file=sys.stderr)
        return 1
    out = Path(args.out)
    try:
        model.save(out)
    except OSError as exc:
        print(f"vts learn: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"learned {summary['fixes_used']} fixes of {summary['vessels']} vessels "
        f"({summary['large_vessels']} large) from {summary['lines']} lines: "
        f"{summary['cells_all']} cells ({summary['cells_large']} with large vessels) "
        f"of {args.cell_m:g} m -> {out}"
    )
    return 0
