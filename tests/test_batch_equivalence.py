"""Batched processing gives exactly the alerts of report-by-report processing.

`Core.process_many` (used by `vts replay`, the daemon and the pipeline benchmark) lets each rule skip
the reports its `Rule.interest` mask leaves out. That is only allowed when it changes nothing: these
tests replay whole logs both ways, with every rule on, and compare the alert streams field by field.
Every rule unit test does the same on its own scenario (`tests/rule_helpers.run`).
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import pytest

from vts.alerts.model import Alert
from vts.config import load_config
from vts.core import Core

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def _alerts(lines: list[str], received: list[float] | None, chunk: int | None) -> list[dict[str, object]]:
    core = Core(load_config())
    out: list[Alert] = []
    core.add_alert_listener(out.append)
    if chunk is None:
        for i, line in enumerate(lines):
            core.feed_line(line, "log", None if received is None else received[i])
    else:
        for i in range(0, len(lines), chunk):
            part = lines[i : i + chunk]
            core.feed_lines(part, "log", None if received is None else received[i : i + chunk])
    core.finish()
    return [a.to_dict() for a in out]


def _same(lines: list[str], received: list[float] | None = None, chunks: tuple[int, ...] = (1000,)) -> int:
    reference = _alerts(lines, received, None)
    for chunk in chunks:
        batched = _alerts(lines, received, chunk)
        if batched != reference:
            first = next(
                (i for i, (a, b) in enumerate(zip(reference, batched, strict=False)) if a != b),
                min(len(reference), len(batched)),
            )
            pytest.fail(
                f"chunk {chunk}: {len(batched)} alert steps batched vs {len(reference)} one by one; "
                f"first difference at step {first}:\n"
                f"  one by one: {reference[first] if first < len(reference) else None}\n"
                f"  batched:    {batched[first] if first < len(batched) else None}"
            )
    return len(reference)


@pytest.mark.parametrize(
    "log", ["callao_day.nmea", "callao_night_security.nmea", "callao_night.nmea", "dma-stream-example.nmea"]
)
def test_replay_logs_give_the_same_alerts_batched(log: str) -> None:
    lines = (ROOT / "replay" / log).read_text().splitlines()
    chunks = (1000, 37) if log == "callao_night_security.nmea" else (1000,)
    steps = _same(lines, chunks=chunks)
    if log.startswith("callao"):
        assert steps > 50  # the Callao logs are full of incidents: the comparison means something


def _bench_module() -> object:
    spec = importlib.util.spec_from_file_location("bench_pipeline", ROOT / "bench" / "bench_pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_pipeline", module)
    spec.loader.exec_module(module)
    return module


def test_dense_real_traffic_moved_into_callao_gives_the_same_alerts_batched() -> None:
    """Real Australian tracks moved rigidly into the bay (the pipeline benchmark's stress input):
    thousands of real vessels crowding Callao's zones, with real reporting gaps and glitches."""
    bench = _bench_module()
    with gzip.open(DATA / "amsa" / "ais.txt.gz", "rt", encoding="ascii", errors="replace") as f:
        raw = [line.rstrip("\r\n") for line in f][:30_000]
    lines = bench.prepare(raw, 45_000, shift=True)  # type: ignore[attr-defined]
    received = [bench.T_START + i * bench.LINE_INTERVAL_S for i in range(len(lines))]  # type: ignore[attr-defined]
    steps = _same(lines, received)
    assert steps > 50
