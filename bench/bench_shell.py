"""Benchmarks of the asyncio shell: feed-reader throughput and daemon shutdown time.

    .venv/bin/python bench/bench_shell.py [--lines 200000] [--runs 5]

1. File reader: N lines from a plain file into a sink that only counts.
   TCP reader: a local server sends N real lines (the sample log repeated) in 64 KiB writes;
   `TcpSource` splits them into lines and hands them to a sink that only counts (so this measures
   the reader, not the core). Also the same with the real `Core` behind it (`CoreFeed`).
2. `vts run` (demo mode, map on a free port): time from SIGTERM to process exit, several runs.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vts.samples import SAMPLE_LOG  # noqa: E402
from vts.sources.settings import SourceSettings  # noqa: E402
from vts.sources.tcp import TcpSource  # noqa: E402


class CountingSink:
    def __init__(self) -> None:
        self.n = 0

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        self.n += 1

    def event_time(self, source: str) -> float | None:
        return None

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        return (None, None)


async def tcp_throughput(n_lines: int, with_core: bool) -> tuple[float, int]:
    base = SAMPLE_LOG.read_bytes().splitlines()
    lines = (base * (n_lines // len(base) + 1))[:n_lines]
    payload = b"\r\n".join(lines) + b"\r\n"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for i in range(0, len(payload), 65536):
                writer.write(payload[i : i + 65536])
                await writer.drain()
            await reader.read()
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    if with_core:
        from vts.config import load_config
        from vts.core import Core
        from vts.sources.runner import CoreFeed

        core = Core(load_config())
        sink: object = CoreFeed(core)

        def count() -> int:
            return core.ingest.stats.lines
    else:
        counting = CountingSink()
        sink = counting

        def count() -> int:
            return counting.n

    source = TcpSource(SourceSettings(name="bench", kind="tcp", host="127.0.0.1", port=port))
    t0 = time.perf_counter()
    task = asyncio.create_task(source.run(sink))  # type: ignore[arg-type]
    while count() < n_lines:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - t0
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    server.close()
    await server.wait_closed()
    return elapsed, count()


async def file_throughput(n_lines: int) -> tuple[float, int]:
    import tempfile

    from vts.sources.files import FileSource

    base = SAMPLE_LOG.read_bytes().splitlines()
    lines = (base * (n_lines // len(base) + 1))[:n_lines]
    with tempfile.NamedTemporaryFile(suffix=".nmea") as f:
        f.write(b"\n".join(lines) + b"\n")
        f.flush()
        sink = CountingSink()
        source = FileSource(SourceSettings(name="bench", kind="file", path=f.name))
        t0 = time.perf_counter()
        await source.run(sink)  # type: ignore[arg-type]
        return time.perf_counter() - t0, sink.n


def shutdown_times(runs: int) -> list[tuple[float, float]]:
    """(SIGTERM to the "stopped" log line, SIGTERM to process exit) per run, seconds."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for i in range(runs):
        store = Path(f"/tmp/vts-bench-shutdown-{os.getpid()}-{i}.sqlite3")
        proc = subprocess.Popen(
            [sys.executable, "-m", "vts", "run", "--port", "0", "--store", str(store)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            if "vts running" in line:
                break
        time.sleep(2.0)  # let the demo feed run
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        stopped = None
        for line in proc.stderr:
            if "vts.daemon: stopped" in line:
                stopped = time.perf_counter() - t0
        proc.wait(timeout=30)
        times.append((stopped if stopped is not None else float("nan"), time.perf_counter() - t0))
        for p in store.parent.glob(store.name + "*"):
            p.unlink()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    elapsed, n = asyncio.run(file_throughput(args.lines))
    print(f"file reader, counting sink: {n:,} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s")
    elapsed, n = asyncio.run(tcp_throughput(args.lines, with_core=False))
    print(f"TCP reader, counting sink: {n:,} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s")
    elapsed, n = asyncio.run(tcp_throughput(args.lines, with_core=True))
    print(f"TCP reader into the core:  {n:,} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s")
    pairs = shutdown_times(args.runs)
    for label, values in (
        ("'stopped' logged", [p[0] for p in pairs]),
        ("process exit", [p[1] for p in pairs]),
    ):
        print(
            f"vts run (demo) SIGTERM to {label} over {len(values)} runs: min {min(values) * 1000:.0f} ms, "
            f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
