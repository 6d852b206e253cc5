"""Standard input and followed files: what a live pipe or a growing log does to the reader.

* standard input is read on its file descriptor (no buffered-reader lock held by the reader thread,
  which aborted the interpreter at exit on SIGTERM), compressed input still unpacked;
* a live pipe that closes is said at WARNING, a line cut by its end counted ``partial_line``;
* a file source with ``follow`` reads what is appended, survives truncation and rotation, waits
  for a missing file, never feeds half a line.

Waits are liveness checks (generous timeouts, polled), never assertions on elapsed time.
"""

from __future__ import annotations

import asyncio
import bz2
import contextlib
import gzip
import json
import logging
import lzma
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vts.config import default_config_path
from vts.sources.base import PARTIAL_LINE, Source
from vts.sources.files import StdinSource
from vts.sources.settings import SourceSettings

REPO = Path(__file__).resolve().parent.parent
LIVENESS_S = 30.0

# Real sentences (replay/dma-stream-example.nmea), each with a valid checksum, each one report.
LINES = [
    b"!AIVDM,1,1,,A,33nr7t001f13KNTOahh2@QpF00vh,0*58",
    b"!AIVDM,1,1,0,,13KFI200001eRdHREjw<RanB0@50,0*55",
    b"!AIVDM,1,1,,A,13iEcL0P1iPwuvROMf@BnR@D0@7L,0*3C",
    b"!AIVDM,1,1,,B,13@nvj?P000js4DPk89sIgvJ287L,0*09",
]


class RecordingSink:
    """A `LineSink` that keeps what it is given."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.received: list[float | None] = []
        self.ends: list[str] = []

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        self.lines.append(line)
        self.received.append(received)

    def end_of_input(self, source: str) -> None:
        self.ends.append(source)

    def event_time(self, source: str) -> float | None:
        return None

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        return (None, None)


async def until(condition: Callable[[], bool], timeout: float = LIVENESS_S) -> None:
    """Wait (polling) until `condition()` holds; fail the test after `timeout` (liveness only)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(source: Source, sink: RecordingSink) -> Any:
    task = asyncio.create_task(source.run(sink))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def said(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


# -- standard input: the descriptor, not the buffered reader -----------------------------------------


class VtsRun:
    """`vts run --no-web` in a subprocess with standard input a pipe we hold; its log collected."""

    def __init__(self, config: Path, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("VTS_MQTT_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vts", "run", "--config", str(config), "--no-web"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = LIVENESS_S) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no log line with {text!r}:\n" + "\n".join(self.lines[-40:]))
                self._cond.wait(min(left, 0.2))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=LIVENESS_S)
        self._reader.join(timeout=LIVENESS_S)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


@pytest.fixture
def stdin_config(tmp_path: Path) -> Path:
    path = tmp_path / "stdin.yaml"
    path.write_text(
        f"include: [{json.dumps(str(default_config_path()))}]\n"
        "sources: [{name: pipe, kind: stdin}]\n"
        f"alerts: {{store: {json.dumps(str(tmp_path / 'alerts.db'))}}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def vts_runs() -> Iterator[list[VtsRun]]:
    started: list[VtsRun] = []
    yield started
    for run in started:
        run.kill()


@pytest.mark.parametrize("first", [b"", gzip.compress(LINES[0] + b"\n")], ids=["idle", "gzip-then-idle"])
def test_sigterm_with_an_open_idle_stdin_pipe_exits_cleanly(
    first: bytes, stdin_config: Path, tmp_path: Path, vts_runs: list[VtsRun]
) -> None:
    """Found by a reliability test: the reader thread, blocked in ``sys.stdin.buffer.read1``, held
    the buffer's lock, and the interpreter aborted closing standard input at exit (status 134,
    "Fatal Python error: _enter_buffered_busy")."""
    run = VtsRun(stdin_config, tmp_path)
    vts_runs.append(run)
    assert run.proc.stdin is not None
    if first:  # a gzip header: the reader then waits inside the decompressor
        run.proc.stdin.buffer.write(first)  # type: ignore[attr-defined]
        run.proc.stdin.flush()
    run.wait_for("stdin source 'pipe': reading")
    time.sleep(1.0)  # (not a timing assertion: lets the reader thread settle into its blocking read)
    code = run.stop()
    log = "\n".join(run.lines)
    assert "Fatal Python error" not in log
    assert code == 0, log
    assert "stopped" in run.lines[-1]


def test_a_live_stdin_pipe_that_closes_is_said_at_warning_and_the_daemon_runs_on(
    stdin_config: Path, tmp_path: Path, vts_runs: list[VtsRun]
) -> None:
    run = VtsRun(stdin_config, tmp_path)
    vts_runs.append(run)
    assert run.proc.stdin is not None
    run.wait_for("stdin source 'pipe': reading")
    run.proc.stdin.write(LINES[0].decode() + "\n")
    run.proc.stdin.close()
    line = run.wait_for("stdin source 'pipe': finished")
    assert "WARNING" in line and "nothing more will come" in line, line
    assert run.proc.poll() is None  # the daemon carries on
    assert run.stop() == 0


def pipe_streams() -> tuple[Any, int]:
    """(the read end as a file object over its descriptor, as ``sys.stdin.buffer`` is; write end)."""
    r, w = os.pipe()
    return os.fdopen(r, "rb"), w


@pytest.mark.parametrize("pack", [gzip.compress, bz2.compress, lzma.compress, lambda b: b])
async def test_stdin_on_a_descriptor_unpacks_compressed_input(pack: Callable[[bytes], bytes]) -> None:
    stream, w = pipe_streams()
    data = pack(b"\n".join(LINES * 30) + b"\n")
    try:
        source = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=stream)
        sink = RecordingSink()
        async with running(source, sink) as task:
            for i in range(0, len(data), 7):  # in small pieces, the magic itself cut in two
                os.write(w, data[i : i + 7])
            os.close(w)
            w = -1
            await asyncio.wait_for(asyncio.shield(task), LIVENESS_S)
    finally:
        if w >= 0:
            os.close(w)
        stream.close()
    assert sink.lines == LINES * 30
    assert source.status.state == "finished" and sink.ends == ["in"]


async def test_a_live_feed_on_a_descriptor_is_not_held_up_by_the_magic_check() -> None:
    """The first bytes are looked at for a compressed stream's magic; a feed whose first piece
    cannot be one is handed over at once, whatever its length."""
    stream, w = pipe_streams()
    try:
        source = StdinSource(SourceSettings(name="in", kind="stdin"), live=True, stream=stream)
        sink = RecordingSink()
        async with running(source, sink):
            os.write(w, LINES[0][:3])  # "!AI": three bytes, and then nothing for a while
            await asyncio.sleep(0.2)
            os.write(w, LINES[0][3:] + b"\n")  # the pipe stays open
            await until(lambda: len(sink.lines) == 1)
            assert sink.lines == [LINES[0]] and sink.received[0] is not None
    finally:
        os.close(w)
        stream.close()


async def test_a_live_pipe_that_closes_mid_line_counts_a_partial_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream, w = pipe_streams()
    caplog.set_level(logging.INFO, logger="vts.sources")
    try:
        source = StdinSource(SourceSettings(name="in", kind="stdin"), live=True, stream=stream)
        sink = RecordingSink()
        async with running(source, sink) as task:
            os.write(w, LINES[0] + b"\n" + LINES[1][:20])
            os.close(w)
            w = -1
            await asyncio.wait_for(asyncio.shield(task), LIVENESS_S)
    finally:
        if w >= 0:
            os.close(w)
        stream.close()
    assert sink.lines == [LINES[0]]
    assert source.status.drops[PARTIAL_LINE] == 1
    assert source.status.state == "finished"
    assert said(caplog, logging.WARNING, "nothing more will come from it")


async def test_a_live_pipe_whose_last_line_is_whole_but_unterminated_loses_nothing() -> None:
    stream, w = pipe_streams()
    try:
        source = StdinSource(SourceSettings(name="in", kind="stdin"), live=True, stream=stream)
        sink = RecordingSink()
        async with running(source, sink) as task:
            os.write(w, LINES[0] + b"\n" + LINES[1])
            os.close(w)
            w = -1
            await asyncio.wait_for(asyncio.shield(task), LIVENESS_S)
    finally:
        if w >= 0:
            os.close(w)
        stream.close()
    assert sink.lines == LINES[:2] and not source.status.drops


async def test_a_recorded_log_on_stdin_ends_at_the_routine_level(caplog: pytest.LogCaptureFixture) -> None:
    """`vts replay -`: the end of the input is the end of the log, nothing to warn about."""
    import io

    caplog.set_level(logging.INFO, logger="vts.sources")
    data = b"\n".join(LINES) + b"\n" + LINES[0][:20]
    source = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=io.BytesIO(data))
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), LIVENESS_S)
    assert sink.lines == [*LINES, LINES[0][:20]]  # (a log's last line is fed as it is, as before)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_stdin_closed_at_start_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``vts run <&-``: Python has no ``sys.stdin`` at all; the source says so, it does not crash."""
    monkeypatch.setattr(sys, "stdin", None)
    source = StdinSource(SourceSettings(name="in", kind="stdin"), live=True)
    await asyncio.wait_for(source.run(RecordingSink()), LIVENESS_S)
    assert source.status.state == "failed" and "closed" in source.status.detail
    assert said(caplog, logging.ERROR, "standard input is closed")
