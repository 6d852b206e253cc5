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
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_daemon import Daemon
from vts.config import default_config_path
from vts.sources.base import PARTIAL_LINE, Source
from vts.sources.files import FileSource, StdinSource
from vts.sources.runner import make_source
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
def vts_runs() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for run in started:
        run.kill()


@pytest.mark.parametrize("first", [b"", gzip.compress(LINES[0] + b"\n")], ids=["idle", "gzip-then-idle"])
def test_sigterm_with_an_open_idle_stdin_pipe_exits_cleanly(
    first: bytes, stdin_config: Path, tmp_path: Path, vts_runs: list[Daemon]
) -> None:
    """Found by a reliability test: the reader thread, blocked in ``sys.stdin.buffer.read1``, held
    the buffer's lock, and the interpreter aborted closing standard input at exit (status 134,
    "Fatal Python error: _enter_buffered_busy")."""
    run = Daemon("--config", str(stdin_config), "--no-web", cwd=tmp_path, stdin=True)
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
    stdin_config: Path, tmp_path: Path, vts_runs: list[Daemon]
) -> None:
    run = Daemon("--config", str(stdin_config), "--no-web", cwd=tmp_path, stdin=True)
    vts_runs.append(run)
    assert run.proc.stdin is not None
    run.wait_for("stdin source 'pipe': reading")
    run.proc.stdin.write(LINES[0].decode() + "\n")
    run.proc.stdin.close()
    line = run.wait_for("stdin source 'pipe': finished").string
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
            os.write(w, b"#\n")  # a first line shorter than any magic, and then nothing
            await until(lambda: sink.lines == [b"#"])  # (the pipe stays open)
            os.write(w, LINES[0][:3])  # "!AI"
            await asyncio.sleep(0.1)
            os.write(w, LINES[0][3:] + b"\n")
            await until(lambda: len(sink.lines) == 2)
            assert sink.lines == [b"#", LINES[0]] and sink.received[1] is not None
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


# -- following a growing file ------------------------------------------------------------------------

POLL_S = 0.05


def followed(path: Path, **kw: Any) -> FileSource:
    settings = SourceSettings(name="log", kind="file", path=str(path), follow=True, poll_s=POLL_S, **kw)
    return FileSource(settings)


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)


def caught_up(source: FileSource, path: Path) -> Callable[[], bool]:
    """The reader has read `path` to its current end (and so held back what is not a whole line)."""
    return lambda: path.exists() and source.position == path.stat().st_size


async def test_lines_appended_after_opening_are_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a reliability test: a live day log was read to its end once ("finished" at INFO),
    and what the logger appended afterwards was lost."""
    caplog.set_level(logging.DEBUG, logger="vts.sources")
    path = tmp_path / "today.nmea"
    path.write_bytes(LINES[0] + b"\n")
    source, sink = followed(path), RecordingSink()
    async with running(source, sink) as task:
        await until(lambda: sink.lines == LINES[:1])
        for line in LINES[1:]:
            append(path, line + b"\r\n")
        await until(lambda: sink.lines == LINES)
        append(path, b"\n".join(LINES) + b"\n")
        await until(lambda: sink.lines == LINES * 2)
        assert not task.done() and source.status.state == "reading"
    assert sink.ends == []  # the input has not ended: held reports are not let out early
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert source.progress() == 1.0


async def test_a_last_line_still_being_written_is_held_until_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "today.nmea"
    path.write_bytes(LINES[0] + b"\n" + LINES[1][:17])
    source, sink = followed(path), RecordingSink()
    async with running(source, sink):
        await until(lambda: sink.lines == LINES[:1] and caught_up(source, path)())
        await until(lambda: source.status.detail.startswith("at the end"))  # polled, still held
        assert sink.lines == LINES[:1]
        append(path, LINES[1][17:30])
        await until(caught_up(source, path))
        append(path, LINES[1][30:] + b"\n")
        await until(lambda: len(sink.lines) == 2)
    assert sink.lines == LINES[:2]  # never half of it
    assert not source.status.drops


async def test_a_missing_file_is_waited_for_said_once_and_when_it_appears(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "later.nmea"
    source, sink = followed(path), RecordingSink()
    async with running(source, sink) as task:
        await until(lambda: source.status.state == "waiting")
        await asyncio.sleep(10 * POLL_S)  # looked for again and again: said once all the same
        assert not task.done()
        path.write_bytes(b"\n".join(LINES) + b"\n")
        await until(lambda: sink.lines == LINES)
        assert source.status.state == "reading"
    warnings = said(caplog, logging.WARNING, "No such file or directory")
    assert len(warnings) == 1 and "looking for it again every" in warnings[0], warnings
    assert said(caplog, logging.INFO, "appeared")


async def test_a_truncated_file_is_said_and_read_again_from_its_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "today.nmea"
    path.write_bytes(b"\n".join(LINES) + b"\n" + LINES[0][:10])  # a line being written as it is cut
    source, sink = followed(path), RecordingSink()
    async with running(source, sink):
        await until(lambda: sink.lines == LINES and caught_up(source, path)())
        with path.open("r+b") as f:  # copytruncate, or a logger starting its file again
            f.truncate(0)
        await until(lambda: bool(said(caplog, logging.WARNING, "truncated")))
        append(path, LINES[2] + b"\n" + LINES[3] + b"\n")
        await until(lambda: len(sink.lines) == len(LINES) + 2)
    assert sink.lines == [*LINES, LINES[2], LINES[3]]
    assert source.status.drops[PARTIAL_LINE] == 1  # the line cut by the truncation, not decoded half


async def test_a_rotated_file_is_read_to_its_end_then_the_new_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "today.nmea"
    writer = path.open("ab", buffering=0)  # the logger, holding its file open
    try:
        writer.write(LINES[0] + b"\n")
        source, sink = followed(path), RecordingSink()
        async with running(source, sink):
            await until(lambda: sink.lines == LINES[:1])
            path.rename(tmp_path / "today.nmea.1")  # logrotate: renamed ...
            writer.write(LINES[1] + b"\n")  # ... the logger still writing the old file ...
            path.write_bytes(LINES[2] + b"\n" + LINES[3] + b"\n")  # ... and a new file made
            await until(lambda: len(sink.lines) == 4)
            append(path, LINES[0] + b"\n")  # the new file is followed in its turn
            await until(lambda: len(sink.lines) == 5)
    finally:
        writer.close()
    assert sink.lines == [*LINES, LINES[0]]
    assert said(caplog, logging.INFO, "was rotated")


async def test_a_deleted_followed_file_is_waited_for_and_its_successor_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "today.nmea"
    path.write_bytes(LINES[0] + b"\n")
    source, sink = followed(path), RecordingSink()
    async with running(source, sink) as task:
        await until(lambda: sink.lines == LINES[:1])
        path.unlink()
        await until(lambda: source.status.state == "waiting")
        assert not task.done()
        path.write_bytes(LINES[1] + b"\n")
        await until(lambda: sink.lines == LINES[:2])
        assert source.status.state == "reading"
    assert said(caplog, logging.WARNING, "deleted or moved")


async def test_a_compressed_file_cannot_be_followed_and_is_read_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "day.nmea.gz"
    path.write_bytes(gzip.compress(b"\n".join(LINES) + b"\n"))
    source, sink = followed(path), RecordingSink()
    await asyncio.wait_for(source.run(sink), LIVENESS_S)
    assert sink.lines == LINES and source.status.state == "finished" and sink.ends == ["log"]
    assert said(caplog, logging.WARNING, "cannot be followed")


async def test_a_paced_followed_file_reads_what_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "today.nmea"
    path.write_bytes(LINES[0] + b"\n")
    source, sink = followed(path, speed=1000.0), RecordingSink()
    async with running(source, sink):
        await until(lambda: sink.lines == LINES[:1])
        append(path, b"\n".join(LINES[1:]) + b"\n")
        await until(lambda: sink.lines == LINES)


# -- not followed: read once, or looped ----------------------------------------------------------------


class TruncatingSink(RecordingSink):
    """Truncates the log being read when it is given its first line (a logger starting again)."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__()
        self.path, self.size = path, size

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        if not self.lines:
            with self.path.open("r+b") as f:
                f.truncate(self.size)
        super().feed_line(line, source, received, time_offset)


async def test_a_file_truncated_while_read_once_ends_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a reliability test: "finished (1969 lines)" at INFO for a file of 3000 lines cut
    while it was read."""
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "log.nmea"
    path.write_bytes(b"".join(line + b"\n" for line in LINES * 750))  # 3000 lines, over 64 KiB
    size = path.stat().st_size
    source = FileSource(SourceSettings(name="log", kind="file", path=str(path)))
    sink = TruncatingSink(path, size // 2)
    await asyncio.wait_for(source.run(sink), LIVENESS_S)
    assert 0 < len(sink.lines) < 3000
    assert source.status.state == "finished" and "truncated" in source.status.detail
    assert said(caplog, logging.WARNING, "shrank")
    assert not said(caplog, logging.INFO, "finished")


async def test_a_file_read_once_whole_still_finishes_at_the_routine_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "log.nmea"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    source, sink = FileSource(SourceSettings(name="log", kind="file", path=str(path))), RecordingSink()
    await asyncio.wait_for(source.run(sink), LIVENESS_S)
    assert sink.lines == LINES and sink.ends == ["log"]
    assert said(caplog, logging.INFO, f"finished ({len(LINES)} lines)")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_looped_file_deleted_between_passes_is_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a reliability test: a looped file deleted failed for good."""
    caplog.set_level(logging.INFO, logger="vts.sources")
    path = tmp_path / "demo.nmea"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    source = FileSource(SourceSettings(name="demo", kind="file", path=str(path), loop=True, poll_s=POLL_S))
    sink = RecordingSink()
    async with running(source, sink) as task:
        await until(lambda: source.status.passes >= 2)
        path.unlink()
        await until(lambda: source.status.state == "waiting")
        assert not task.done()
        passes = source.status.passes
        path.write_bytes(b"\n".join(LINES) + b"\n")
        await until(lambda: source.status.passes >= passes + 2)
    assert said(caplog, logging.WARNING, "No such file or directory")
    assert said(caplog, logging.INFO, "can be read again")


# -- the setting -----------------------------------------------------------------------------------


def test_vts_run_follows_a_file_source_unless_it_loops_and_replay_never_does(tmp_path: Path) -> None:
    def made(**kw: Any) -> FileSource:
        source = make_source(SourceSettings(name="f", kind="file", path="x.nmea", **kw))
        assert isinstance(source, FileSource)
        return source

    assert made().follow  # `vts run`: a file source is most often a live log
    assert not made(loop=True).follow  # the demo, a looped recording
    assert not made(follow=False).follow
    assert made(follow=True, poll_s=2.0).poll_s == 2.0
    # `vts replay` (and the tests) build the source itself: read once
    assert not FileSource(SourceSettings(name="f", kind="file", path="x.nmea")).follow


def test_loop_and_follow_together_are_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="either loops"):
        SourceSettings(name="f", kind="file", path="x", loop=True, follow=True)
    with pytest.raises(ValidationError):
        SourceSettings(name="f", kind="file", path="x", poll_s=0)


def test_the_daemon_config_can_say_follow(tmp_path: Path) -> None:
    from vts.config import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"include: [{json.dumps(str(default_config_path()))}]\n"
        "sources: [{name: log, kind: file, path: today.nmea, follow: false, poll_s: 1}]\n",
        encoding="utf-8",
    )
    (source,) = load_config(cfg).sources
    assert source.follow is False and source.poll_s == 1.0
