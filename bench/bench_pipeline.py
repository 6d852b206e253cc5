"""Benchmark: the whole pipeline against bare `pyais.decode` over the same real sentences.

    .venv/bin/python bench/bench_pipeline.py                 # >= 200,000 lines, prints figures
    .venv/bin/python bench/bench_pipeline.py --breakdown     # + CPU cost per stage and per rule
    .venv/bin/python bench/bench_pipeline.py --variants real --min-lines 50000 --rounds 1 --profile

Input: the AMSA recording ``../shared/data/ais/amsa-risky/ais.txt.gz`` (44,687 lines of real
Australian terrestrial/satellite AIS, with its non-AIS NMEA and broken sentences), repeated until
at least ``--min-lines`` lines. So that the Callao zones and rules have work to do, every vessel's
track is moved, rigidly, to the bay of Callao: per MMSI, the first fix lands on a point drawn from
the MMSI in the VTS area or its offshore approaches (about 90 x 55 km of sea) and later fixes keep
their offsets from it, so speeds and courses stay the real ones. On each repetition the vessels get
new MMSIs (same MID, other last three digits) and new places: the picture holds a few thousand
vessels at once. The position and static messages are re-encoded with pyais for that (prepared
before timing); other lines are kept as they are. Lines carry no time of their own, so each gets a
receive time 50 ms after the previous one (20 lines/s, ~37 minutes of event time per pass).

That moved input ("moved") is a stress case: after a few repeats a few thousand vessels share the
bay at once, far more than Callao ever holds (a busy day has a few hundred), and most of them are
near one another. The same sentences are also timed unmoved ("real": original positions off
Australia and original MMSIs, each repeat replaying them later in event time), where the Callao
zones see little but the tracker and every rule still run on each report. Both figures are printed,
each with every rule and with no rule, so the cost of the rules shows on its own.

Timed, in the same run over the same lines:

* baseline: ``pyais.decode`` of every AIS sentence (multi-sentence messages grouped), nothing else;
* pipeline: `vts.core.Core.feed_lines` on chunks of 1,000 lines, as `vts replay` reads a file
  (sentence layer, decode, tracker, zones, every enabled rule, alert engine) with a SQLite alert
  store in a temporary file, then ``finish()``. Chunks give exactly the alerts of line-by-line
  feeding (tests/test_batch_equivalence.py); they are cheaper because checksums, zone cells and the
  rules' interest masks are computed with numpy for the whole chunk.

Both are timed in CPU seconds of this process (`time.process_time`), in alternation: ``--rounds``
(default 3) rounds of one baseline then one pipeline run (a fresh core and store each time), and
each side's best round is taken, the same statistic on both sides. The machine these figures come
from is a shared VM whose speed drifts by a factor of up to two within minutes: a single pipeline
run against a best-of-three baseline (before the seventh session of 2026-12-01) compared a typical
run of one side with a lucky one of the other; alternating the rounds puts both sides through the
same drift. Each variant runs in a fresh interpreter of its own (a second variant timed in the
process of the first ran up to a third slower, on the heap the first left behind). The garbage
collector is set as `vts` sets it (`vts.gc_tuning`), for both sides. Ratio = best baseline CPU time
/ best pipeline CPU time over the same lines = pipeline throughput / baseline throughput (target
>= 0.5). Every round is printed, so the spread shows.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import hashlib
import logging
import math
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyais
from pyais.encode import encode_dict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vts import gc_tuning  # noqa: E402
from vts.alerts.store import AlertStore  # noqa: E402
from vts.config import load_config  # noqa: E402
from vts.core import Core  # noqa: E402
from vts.sources.files import CHUNK_LINES  # noqa: E402  (as `vts replay` reads a file)

DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "ais" / "amsa-risky" / "ais.txt.gz"
LINE_INTERVAL_S = 0.05
CHUNK_REPORTS = 750
"""About the reports of CHUNK_LINES lines (for the per-stage breakdown)."""
ROUNDS = 3
"""Rounds of (baseline, pipeline) per configuration; each side's best is taken."""
T_START = 1_768_496_400.0  # 2026-01-15 17:00 UTC
# where moved tracks start: the Callao VTS area and its offshore approaches (~90 x 55 km of sea)
BOX_LAT = (-12.40, -11.60)
BOX_LON = (-77.70, -77.16)
POSITION_TYPES = {1, 2, 3, 18, 19, 27}
STATIC_TYPES = {5, 24}


def _unit(key: str) -> float:
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2**64


def read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="ascii", errors="replace") as f:  # type: ignore[operator]
        return [line.rstrip("\r\n") for line in f]


def group_sentences(lines: list[str]) -> list[list[str]]:
    """Lines grouped into messages: a multi-sentence AIS message is one group, any other line too."""
    groups: list[list[str]] = []
    pending: dict[tuple[str, str], list[str]] = {}
    for line in lines:
        parts = line.split(",")
        if not line.startswith("!") or len(parts) < 7 or not parts[1].isdigit() or not parts[2].isdigit():
            groups.append([line])
            continue
        count, num = int(parts[1]), int(parts[2])
        if count <= 1:
            groups.append([line])
            continue
        key = (parts[3], parts[4])
        if num == 1:
            if key in pending:
                groups.append(pending.pop(key))
            pending[key] = [line]
        elif key in pending:
            pending[key].append(line)
            if num == count:
                groups.append(pending.pop(key))
        else:
            groups.append([line])
    groups.extend(pending.values())
    return groups


class Mover:
    """Moves real tracks into the bay of Callao, one rigid shift per (pass, MMSI)."""

    def __init__(self) -> None:
        self.origin: dict[int, tuple[float, float, float, float]] = {}

    @staticmethod
    def new_mmsi(mmsi: int, rep: int) -> int:
        if rep == 0:
            return mmsi
        return mmsi - mmsi % 1000 + (mmsi % 1000 + 137 * rep) % 1000

    def move(self, mmsi: int, lat: float, lon: float) -> tuple[float, float]:
        o = self.origin.get(mmsi)
        if o is None:
            tlat = BOX_LAT[0] + (BOX_LAT[1] - BOX_LAT[0]) * _unit(f"lat{mmsi}")
            tlon = BOX_LON[0] + (BOX_LON[1] - BOX_LON[0]) * _unit(f"lon{mmsi}")
            o = self.origin[mmsi] = (lat, lon, tlat, tlon)
        lat0, lon0, tlat, tlon = o
        new_lat = tlat + (lat - lat0)
        # keep east-west metres: scale the longitude difference by the ratio of the cosines
        dlon = (lon - lon0 + 540.0) % 360.0 - 180.0
        scale = math.cos(math.radians(lat)) / max(math.cos(math.radians(new_lat)), 1e-6)
        return new_lat, tlon + dlon * scale


def prepare(lines: list[str], min_lines: int, shift: bool) -> list[str]:
    groups = group_sentences(lines)
    out: list[str] = []
    rep = 0
    while len(out) < min_lines:
        mover = Mover()
        for group in groups:
            if not shift or not group[0].startswith("!") or "VDM" not in group[0][:6]:
                out.extend(group)
                continue
            try:
                msg = pyais.decode(*group)
                d = msg.asdict()
            except Exception:
                out.extend(group)
                continue
            mt = d.get("msg_type")
            if mt not in POSITION_TYPES and mt not in STATIC_TYPES:
                out.extend(group)
                continue
            mmsi = Mover.new_mmsi(int(d["mmsi"]), rep)
            d["mmsi"] = mmsi
            if mt in POSITION_TYPES:
                lat, lon = d.get("lat"), d.get("lon")
                if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
                    out.extend(group)
                    continue
                d["lat"], d["lon"] = mover.move(mmsi, lat, lon)
            try:
                channel = group[0].split(",")[4] or "A"
                out.extend(encode_dict(d, talker_id="AI", sentence_type="VDM", radio_channel=channel))
            except Exception:
                out.extend(group)
        rep += 1
    return out


class Baseline:
    """Bare pyais.decode of every AIS message (multi-sentence messages grouped across chunks)."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], list[str]] = {}
        self.decoded = 0

    def feed(self, lines: list[str]) -> None:
        decode = pyais.decode
        pending = self.pending
        ok = 0
        for line in lines:
            if not line.startswith("!"):
                continue
            parts = line.split(",", 5)
            if len(parts) < 6:
                continue
            if parts[1] not in ("", "1"):
                key = (parts[3], parts[4])
                if parts[2] == "1":
                    pending[key] = [line]
                    continue
                buf = pending.get(key)
                if buf is None:
                    continue
                buf.append(line)
                if parts[2] != parts[1]:
                    continue
                del pending[key]
                try:
                    decode(*buf)
                    ok += 1
                except Exception:
                    pass
                continue
            try:
                decode(line)
                ok += 1
            except Exception:
                pass
        self.decoded += ok


def baseline(lines: list[str]) -> tuple[float, int]:
    """Bare pyais.decode of every AIS message in the lines, on its own; (seconds, messages decoded)."""
    base = Baseline()
    t0 = time.process_time()
    base.feed(lines)
    return time.process_time() - t0, base.decoded


def pipeline(
    lines: list[str], store_path: Path, profile: bool, only: set[str] | None = None
) -> tuple[float, Core, int]:
    """The pipeline over `lines` (a fresh core, with a SQLite alert store at `store_path`), as
    `vts replay` feeds a file, then ``finish()``. Returns (CPU seconds, core, alert steps)."""
    config = load_config()
    if only is not None:
        for rid in list(config.rules):
            config.rules[rid] = config.rules[rid].model_copy(update={"enabled": rid in only})
    store = AlertStore(store_path)
    core = Core(config, store=store)
    n_alerts = 0

    def count(_alert: object) -> None:
        nonlocal n_alerts
        n_alerts += 1

    core.add_alert_listener(count)
    feed = core.feed_lines
    received = [T_START + i * LINE_INTERVAL_S for i in range(len(lines))]
    prof = cProfile.Profile() if profile else None
    t0 = time.process_time()
    if prof is not None:
        prof.enable()
    for i in range(0, len(lines), CHUNK_LINES):
        feed(lines[i : i + CHUNK_LINES], "bench", received[i : i + CHUNK_LINES])
    core.finish()
    elapsed = time.process_time() - t0
    if prof is not None:
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    store.close()
    return elapsed, core, n_alerts


def breakdown(lines: list[str], only: set[str] | None = None, repeats: int = 3) -> None:
    """CPU cost per report of each stage: ingest, the core with no rule, then each rule alone."""
    from vts.ingest import Ingest
    from vts.rules.registry import rule_classes

    ingest = Ingest()
    reports = []
    t = T_START
    t0 = time.process_time()
    for line in lines:
        reports.extend(ingest.feed(line, "bench", t))
        t += LINE_INTERVAL_S
    ingest_s = time.process_time() - t0
    n = max(len(reports), 1)
    print(f"breakdown over {len(reports):,} reports (CPU, best of {repeats}):")
    print(f"  ingest (sentences + decode)     {ingest_s / len(lines) * 1e6:6.1f} us/line")
    base = load_config()

    def run_with(enabled: set[str]) -> float:
        best = math.inf
        for _ in range(repeats):
            cfg = base.model_copy(deep=True)
            for rid in list(cfg.rules):
                cfg.rules[rid] = cfg.rules[rid].model_copy(update={"enabled": rid in enabled})
            core = Core(cfg)
            t0 = time.process_time()
            for i in range(0, len(reports), CHUNK_REPORTS):
                core.process_many(reports[i : i + CHUNK_REPORTS])
            best = min(best, time.process_time() - t0)
        return best

    none = run_with(set())
    print(f"  core, no rule (tracker, zones)  {none / n * 1e6:6.1f} us/report")
    for rid in rule_classes():
        if only is not None and rid not in only:
            continue
        extra = run_with({rid}) - none
        print(f"  + {rid:<28} {extra / n * 1e6:6.1f} us/report")
    every = set(rule_classes()) if only is None else only
    print(f"  + all of them together         {(run_with(every) - none) / n * 1e6:6.1f} us/report")


VARIANTS = {
    "moved": "real tracks moved rigidly into Callao, new MMSIs per repeat (dense stress case)",
    "real": "the same real sentences unmoved (original positions and MMSIs, each repeat replays them)",
}


def run_variant(
    name: str, lines: list[str], only: set[str] | None, args: argparse.Namespace
) -> tuple[float, float]:
    """Baseline and pipeline over `lines`; prints the figures; returns (ratio all rules, ratio no rule)."""
    if args.breakdown_only:
        print(f"\n== {name}: {VARIANTS[name]}")
        breakdown(lines, only)
        return math.nan, math.nan
    print(f"\n== {name}: {VARIANTS[name]}")
    ratios: list[float] = []
    for label, rule_set in (("rules as chosen", only), ("no rule", set())):
        if label == "no rule" and args.skip_no_rule:
            ratios.append(math.nan)
            continue
        base_times: list[float] = []
        pipe_times: list[float] = []
        for _ in range(args.rounds):  # alternated: both sides see the same drift of the machine
            base_s, decoded = baseline(lines)
            base_times.append(base_s)
            with tempfile.TemporaryDirectory() as tmp:
                pipe_s, core, n_alerts = pipeline(
                    lines, Path(tmp) / "bench-alerts.sqlite3", args.profile, rule_set
                )
            pipe_times.append(pipe_s)
        base_s, pipe_s = min(base_times), min(pipe_times)
        ratio = base_s / pipe_s
        ratios.append(ratio)
        stats = core.ingest.stats
        print(
            f"baseline pyais.decode              best {base_s:6.3f} s  "
            f"{len(lines) / base_s:10,.0f} lines/s  ({decoded:,} messages decoded); "
            f"rounds {', '.join(f'{t:.3f}' for t in base_times)}"
        )
        print(
            f"pipeline, {label:<15}           best {pipe_s:6.3f} s  "
            f"{len(lines) / pipe_s:10,.0f} lines/s  ({stats.messages:,} reports, "
            f"{len(core.tracker):,} vessels tracked at the end, {n_alerts:,} alert steps); "
            f"rounds {', '.join(f'{t:.3f}' for t in pipe_times)}"
        )
        print(f"  ratio pipeline/baseline throughput: {ratio:.2f}  (target >= 0.5)")
        if label == "no rule":
            continue
        event_span = (core.now or T_START) - T_START
        print(
            f"  event time covered: {event_span / 3600:.2f} h; rules: "
            f"{', '.join(r.id for r in core.engine.rules) or 'none'}"
        )
        by_type = Counter(f"{a.type}" for a in core.engine.active())
        e = core.engine.stats
        print(f"  alerts: raised {e.raised}, updated {e.updated}, cleared {e.cleared}, events {e.events}")
        print(f"  rule errors: {e.rule_errors or 'none'}")
        print(f"  active at the end: {dict(sorted(by_type.items()))}")
    if args.breakdown:
        breakdown(lines, only)
    return ratios[0], ratios[1]


def main() -> int:
    gc_tuning.tune()  # as `vts` does at its start: the baseline runs under the same settings
    # the recording is repeated on purpose: each repeat's time going back is not worth a warning
    logging.getLogger("vts.ingest").setLevel(logging.ERROR)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--min-lines", type=int, default=200_000)
    ap.add_argument(
        "--variants",
        default="moved,real",
        help="which inputs to time: moved (stress case), real (unmoved), or both (default)",
    )
    ap.add_argument("--no-shift", action="store_true", help="same as --variants real")
    ap.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help=f"rounds of (baseline, pipeline), the best of each side taken (default {ROUNDS})",
    )
    ap.add_argument("--rules", metavar="ID,ID", help="enable only these rules (default: every rule)")
    ap.add_argument("--skip-no-rule", action="store_true", help="do not also time the pipeline with no rule")
    ap.add_argument("--breakdown", action="store_true", help="also the CPU cost of each stage and each rule")
    ap.add_argument("--breakdown-only", action="store_true", help="only the breakdown (no pipeline run)")
    ap.add_argument(
        "--profile", action="store_true", help="cProfile the pipeline (slower; ratio not meaningful)"
    )
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    variants = ["real"] if args.no_shift else [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    only = set(args.rules.split(",")) if args.rules else None

    summary: list[tuple[str, float, float]] = []
    if len(variants) > 1:  # each variant in a fresh interpreter of its own
        for name in variants:
            argv = [a for a in sys.argv[1:] if a != "--no-shift"]
            argv = [*_without_option(argv, "--variants"), "--variants", name]
            child = subprocess.run(
                [sys.executable, __file__, *argv],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
                env={**os.environ, CHILD_ENV: "1"},
            )
            for line in child.stdout.splitlines():
                if line.startswith(RESULT_TAG):
                    _, vname, r1, r2 = line.split()
                    summary.append((vname, float(r1), float(r2)))
                else:
                    print(line)
            sys.stdout.flush()
        _print_summary(summary, only)
        return 0
    raw = read_lines(args.input)
    for name in variants:
        t0 = time.perf_counter()
        lines = prepare(raw, args.min_lines, shift=name == "moved")
        prep_s = time.perf_counter() - t0
        print(
            f"\ninput ({name}): {args.input} ({len(raw):,} lines) -> {len(lines):,} lines "
            f"prepared in {prep_s:.1f} s"
        )
        ratio_rules, ratio_none = run_variant(name, lines, only, args)
        summary.append((name, ratio_rules, ratio_none))
        if os.environ.get(CHILD_ENV):
            print(f"{RESULT_TAG} {name} {ratio_rules} {ratio_none}", flush=True)
    if not os.environ.get(CHILD_ENV):
        _print_summary(summary, only)
    return 0


CHILD_ENV = "VTS_BENCH_VARIANT_PROCESS"
RESULT_TAG = "#ratios"
"""The line a variant's own process prints for the summary of the parent."""


def _without_option(argv: list[str], name: str) -> list[str]:
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out


def _print_summary(summary: list[tuple[str, float, float]], only: set[str] | None) -> None:
    print("\nsummary (ratio pipeline/baseline throughput, target >= 0.5):")
    rules_label = "every rule" if only is None else f"rules {','.join(sorted(only))}"
    for name, ratio_rules, ratio_none in summary:
        print(f"  {name:<6} {rules_label}: {ratio_rules:.2f}   no rule: {ratio_none:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
