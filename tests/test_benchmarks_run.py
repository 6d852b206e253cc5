"""Every benchmark the README cites still runs, on a small input, and prints its figures.

Nothing here times anything (speed is measured by the benchmarks themselves, never asserted in a
test): this only keeps the scripts from rotting as the code they drive changes (bench_cpa.py once
went on failing unnoticed, its stub tracker missing a method the rule had started to call).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.browser import browser_missing_reason
from tests.fixtures.mqtt_broker import mosquitto_binary

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SMALL = ["--variants", "real", "--skip-no-rule"]

CASES = [
    pytest.param(["bench_cpa.py", "--sizes", "50,200"], "alerting pairs", id="cpa"),
    pytest.param(["bench_zones.py", "--fixes", "300"], "random 500", id="zones"),
    pytest.param(
        ["bench_ingest.py", "--repeat", "1", "--rounds", "1", "--worst-vessels", "5"],
        "KiB per vessel",
        id="ingest",
    ),
    pytest.param(
        ["bench_pipeline.py", "--input", str(DATA / "amsa" / "ais.txt.gz"), "--min-lines", "3000", *SMALL],
        "ratio pipeline/baseline throughput",
        id="pipeline",
    ),
    pytest.param(["bench_shell.py", "--lines", "2000", "--runs", "1"], "SIGTERM to process exit", id="shell"),
    pytest.param(["bench_tables.py", "--rows", "2000", "--vessels", "20"], "whole replay", id="tables"),
    pytest.param(
        ["alert_rates.py", str(DATA / "dma" / "stream_example.txt")],
        "per 1,000 vessel-hours",
        id="alert_rates",
    ),
    pytest.param(
        ["bench_mqtt.py", "--alerts", "50", "--ships", "3"],
        "latency, NMEA line -> subscriber",
        id="mqtt",
        marks=pytest.mark.mqtt,
    ),
    pytest.param(
        ["bench_map.py", "--vessels", "200", "--rounds", "1"],
        "requests that tried to leave loopback: 0",
        id="map",
        marks=pytest.mark.browser,
    ),
]


@pytest.mark.parametrize(("argv", "expected"), CASES)
def test_the_benchmark_runs_on_a_small_input(
    argv: list[str], expected: str, request: pytest.FixtureRequest
) -> None:
    if request.node.get_closest_marker("mqtt") and mosquitto_binary() is None:
        pytest.skip("no mosquitto binary (apt-get install mosquitto)")
    if request.node.get_closest_marker("browser") and (reason := browser_missing_reason()):
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / argv[0]), *argv[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout, done.stdout[-3000:]


def test_the_pipeline_benchmark_takes_the_best_of_alternating_rounds_on_both_sides() -> None:
    """Both sides are timed `--rounds` times and each side's best round is the one compared: a single
    pipeline run set against a best-of-several baseline would favour the baseline."""
    import re

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_pipeline.py"),
            "--input",
            str(DATA / "amsa" / "ais.txt.gz"),
            "--min-lines",
            "3000",
            "--rounds",
            "2",
            *SMALL,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sides = re.findall(r"^(baseline|pipeline).*? best +([\d.]+) s .*; rounds ([\d., ]+)$", done.stdout, re.M)
    assert [side for side, _, _ in sides] == ["baseline", "pipeline"], done.stdout[-3000:]
    for _, best, rounds in sides:
        times = [float(t) for t in rounds.split(", ")]
        assert len(times) == 2 and float(best) == min(times)
