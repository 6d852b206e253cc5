"""Benchmark: decoded AIS tables (CSV) replayed, rows per second.

    .venv/bin/python bench/bench_tables.py [--rows 100000] [--vessels 200]

Writes a MarineCadastre.gov-style table (its published header; made-up vessels moving in the bay of
Callao, a row every ~10 s each, grouped by vessel as those files often are) to a temporary file, then
times, in CPU seconds of this process:

1. the table turned into sentences (`vts.ais_tables.table_sentences`: read, put in time order,
   re-encoded with pyais), nothing else;
2. the whole replay: the same, fed to `vts.core.Core.feed_lines` in chunks of 1,000 lines (every
   rule on, alerts in memory), as `vts replay` does.

Prints figures and the peak memory of the process; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vts import gc_tuning  # noqa: E402
from vts.ais_tables import table_sentences  # noqa: E402
from vts.config import load_config  # noqa: E402
from vts.core import Core  # noqa: E402
from vts.sources.files import CHUNK_LINES  # noqa: E402

HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,"
    "Draft,Cargo,TransceiverClass"
)
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


def write_table(path: Path, rows: int, vessels: int) -> None:
    rng = random.Random(7)
    per_vessel = max(1, rows // vessels)
    with path.open("w") as f:
        f.write(HEADER + "\n")
        for v in range(vessels):
            lat, lon = -12.3 + rng.random() * 0.6, -77.6 + rng.random() * 0.4
            sog, cog = rng.choice([0.1, 5.0, 10.0, 12.0]), rng.random() * 360.0
            cls = "B" if v % 4 == 0 else "A"
            for i in range(per_vessel):
                t = T0 + i * 10 + rng.randint(0, 5)
                lat += sog * 10 / 3600 / 60 * math.cos(math.radians(cog))
                lon += sog * 10 / 3600 / 60 * math.sin(math.radians(cog))
                when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
                f.write(
                    f"{367000000 + v},{when},{lat:.5f},{lon:.5f},{sog},{cog:.1f},{int(cog)},SHIP {v},"
                    f"IMO{9000000 + v},W{v},70,0,150,25,8.0,70,{cls}\n"
                )


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--vessels", type=int, default=200)
    args = ap.parse_args()
    gc_tuning.tune()  # as `vts replay` runs
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "AIS_2024_01_01.csv"
        write_table(path, args.rows, args.vessels)
        raw = lines_of(path)
        rows = len(raw) - 1
        drops: Counter[str] = Counter()
        t0 = time.process_time()
        sentences = list(table_sentences(raw, drops))
        encode_s = time.process_time() - t0
        core = Core(load_config())
        it = iter(table_sentences(raw, Counter()))
        t0 = time.process_time()
        while chunk := list(islice(it, CHUNK_LINES)):
            core.feed_lines(chunk, "table", None)
        core.finish()
        whole_s = time.process_time() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"table: {rows:,} rows, {args.vessels} vessels -> {len(sentences):,} sentences")
    print(f"  reader drops: {dict(drops) or 'none'}")
    print(f"  to sentences only:  {encode_s:6.2f} s  {rows / encode_s:10,.0f} rows/s")
    print(f"  whole replay:       {whole_s:6.2f} s  {rows / whole_s:10,.0f} rows/s  (every rule on)")
    print(f"  peak memory of the process: {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
