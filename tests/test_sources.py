"""Feed readers against real sockets on 127.0.0.1, real files and pipes."""

from __future__ import annotations

import asyncio
import bz2
import contextlib
import gzip
import io
import logging
import lzma
import random
import re
import socket
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vts.sources.base import PARTIAL_LINE, Backoff, LineSink, LineSplitter, Source
from vts.sources.files import LOOP_GAP_S, FileSource, Pacer, StdinSource, open_log
from vts.sources.runner import CoreFeed, FeedHealth, SourceRunner, SourceUnavailable, make_source
from vts.sources.settings import SourceSettings
from vts.sources.tcp import TcpSource
from vts.sources.udp import UdpSource

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "replay" / "dma-stream-example.nmea"

# Real sentences (gpsd sample.aivdm), each with a valid checksum.
LINES = [
    b"!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C",
    b"!AIVDM,1,1,,B,15Mj23P000G?q7fE`DP4tbsd0P0N,0*29",
    b"!AIVDM,1,1,,B,15MqvC0Oh9G?qinE`K8<DRS00@31,0*1C",
    b"!AIVDM,1,1,,A,15Mv5v?P00IS0J`A86KTROvN0<5k,0*12",
    b"!AIVDM,1,1,,B,16:=?;0P00`SstvFnFbeGH6L088h,0*44",
    b"!AIVDM,1,1,,A,35MsUdPOh8JwI:0HUwquiIFH21>i,0*09",
]


class RecordingSink:
    """A `LineSink` that keeps what it is given."""

    def __init__(self, span: tuple[float | None, float | None] = (None, None)) -> None:
        self.lines: list[tuple[bytes, str, float | None, float]] = []
        self.span = span
        self.arrived = asyncio.Event()

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        self.lines.append((line, source, received, time_offset))
        self.arrived.set()

    def event_time(self, source: str) -> float | None:
        return self.span[1]

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        return self.span

    def texts(self) -> list[bytes]:
        return [line for line, *_ in self.lines]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (polling) until `condition()` holds; fail the test after `timeout` (liveness only)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def running(source: Source, sink: LineSink) -> asyncio.Task[None]:
    task = asyncio.create_task(source.run(sink))
    await asyncio.sleep(0)
    return task


async def cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- line splitting and back-off ---------------------------------------------------------------------


def test_splitter_reassembles_lines_cut_at_every_possible_place() -> None:
    stream = b"\r\n".join(LINES[:3]) + b"\r\n"
    for cut in range(1, len(stream)):
        splitter = LineSplitter()
        out = splitter.feed(stream[:cut]) + splitter.feed(stream[cut:])
        assert out == LINES[:3], cut
        assert not splitter.reset()


def test_splitter_random_pieces_bare_lf_and_cr() -> None:
    stream = LINES[0] + b"\n" + LINES[1] + b"\r" + LINES[2] + b"\r\n\r\n" + LINES[3] + b"\n"
    rng = random.Random(7)
    for _ in range(200):
        splitter = LineSplitter()
        out: list[bytes] = []
        i = 0
        while i < len(stream):
            n = rng.randint(1, 9)
            out += splitter.feed(stream[i : i + n])
            i += n
        assert out == LINES[:4]


def test_splitter_keeps_the_tail_and_reports_it_on_reset() -> None:
    splitter = LineSplitter()
    assert splitter.feed(LINES[0] + b"\n" + LINES[1][:10]) == [LINES[0]]
    assert splitter.partial == LINES[1][:10]
    assert splitter.reset() is True
    assert splitter.feed(LINES[2] + b"\n") == [LINES[2]]  # the cut line does not pollute the next


def test_splitter_drops_overlong_lines_and_resynchronises() -> None:
    splitter = LineSplitter(max_line=100)
    junk = b"x" * 250
    out = splitter.feed(junk[:120]) + splitter.feed(junk[120:] + b"\n" + LINES[0] + b"\n")
    assert out == [LINES[0]]
    assert splitter.take_overlong() == 1
    assert splitter.feed(b"y" * 300 + b"\n" + LINES[1] + b"\n") == [LINES[1]]
    assert splitter.take_overlong() == 1


def test_backoff_doubles_with_jitter_up_to_the_maximum_and_resets() -> None:
    b = Backoff(1.0, 8.0, rng=random.Random(3))
    delays = [b.next_delay() for _ in range(8)]
    nominal = [1, 2, 4, 8, 8, 8, 8, 8]
    for d, n in zip(delays, nominal, strict=True):
        assert n / 2 <= d <= n
    assert len({round(d, 6) for d in delays[3:]}) > 1  # jitter: not lock-step
    b.reset()
    assert 0.5 <= b.next_delay() <= 1.0


# -- TCP ---------------------------------------------------------------------------------------------


def tcp_settings(port: int, **kw: float) -> SourceSettings:
    return SourceSettings(
        name="rx",
        kind="tcp",
        host="127.0.0.1",
        port=port,
        reconnect_initial_s=0.02,
        reconnect_max_s=0.1,
        **kw,
    )


async def test_tcp_lines_split_across_many_small_writes() -> None:
    stream = b"\r\n".join(LINES) + b"\r\n"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i in range(0, len(stream), 7):
            writer.write(stream[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0.001)
        await reader.read()  # keep the connection open until the client goes

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink = RecordingSink()
    source = TcpSource(tcp_settings(port))
    task = await running(source, sink)
    try:
        await until(lambda: len(sink.lines) == len(LINES))
        assert sink.texts() == LINES
        assert all(src == "rx" and received is not None for _, src, received, _ in sink.lines)
        assert source.status.state == "connected"
        assert source.status.lines == len(LINES)
    finally:
        await cancel(task)
        server.close()
        await server.wait_closed()


async def test_tcp_server_drops_mid_line_and_comes_back(caplog: pytest.LogCaptureFixture) -> None:
    """No line lost or corrupted across the reconnection except the cut one, which is counted."""
    caplog.set_level(logging.DEBUG, logger="vts.sources")
    port = free_port()
    first_done = asyncio.Event()

    async def first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(LINES[0] + b"\r\n" + LINES[1] + b"\r\n" + LINES[2][:17])  # cut in the middle
        await writer.drain()
        writer.close()
        first_done.set()

    async def second(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\r\n".join(LINES[3:]) + b"\r\n")
        await writer.drain()
        await reader.read()

    server = await asyncio.start_server(first, "127.0.0.1", port, reuse_address=True)
    sink = RecordingSink()
    source = TcpSource(tcp_settings(port))
    task = await running(source, sink)
    try:
        await first_done.wait()
        server.close()
        await server.wait_closed()
        await until(lambda: source.status.failures >= 2)  # the server is away: refused, backing off
        server = await asyncio.start_server(second, "127.0.0.1", port, reuse_address=True)
        await until(lambda: len(sink.lines) == 2 + len(LINES[3:]))
        assert sink.texts() == LINES[:2] + LINES[3:]
        st = source.status
        assert st.drops[PARTIAL_LINE] == 1
        assert st.connects == 2 and st.disconnects == 1
        assert st.state == "connected"
        messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        assert sum("disconnected" in m for m in messages) == 1
        assert sum("retrying" in m for m in messages) == 1  # many refusals, one warning
        assert sum(m.endswith(": connected") for m in messages) == 2
    finally:
        await cancel(task)
        server.close()
        await server.wait_closed()


async def test_tcp_silent_feed_is_dropped_and_reconnected() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(LINES[0] + b"\r\n")
        await writer.drain()
        await reader.read()  # then silence until the client gives up

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    source = TcpSource(tcp_settings(server.sockets[0].getsockname()[1], idle_timeout_s=0.1))
    sink = RecordingSink()
    task = await running(source, sink)
    try:
        await until(lambda: source.status.connects >= 2)
        assert source.status.disconnects >= 1
        assert sink.texts()[:2] == [LINES[0], LINES[0]]
    finally:
        await cancel(task)
        server.close()
        await server.wait_closed()


async def test_tcp_server_that_hangs_up_at_once_again_and_again_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server that accepts and closes at once (a proxy whose back end is down): one "connected"
    and one "disconnected" in the log, not a pair on every attempt."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    source = TcpSource(
        tcp_settings(server.sockets[0].getsockname()[1]), backoff=Backoff(0.01, 0.02, rng=random.Random(1))
    )
    caplog.set_level(logging.INFO, logger="vts.sources")
    task = await running(source, RecordingSink())
    try:
        await until(lambda: source.status.connects >= 6)
    finally:
        await cancel(task)
        server.close()
        await server.wait_closed()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert sum(": connected" in m for m in logged) == 1
    assert sum(": disconnected" in m for m in logged) == 1


class CountingBackoff(Backoff):
    def __init__(self) -> None:
        super().__init__(0.01, 0.05, rng=random.Random(1))
        self.delays: list[float] = []

    def next_delay(self) -> float:
        d = super().next_delay()
        self.delays.append(d)
        return d


async def test_tcp_refused_backs_off_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="vts.sources")
    port = free_port()  # nobody listens there
    backoff = CountingBackoff()
    source = TcpSource(tcp_settings(port), backoff=backoff)
    task = await running(source, RecordingSink())
    try:
        await until(lambda: source.status.failures >= 5)
    finally:
        await cancel(task)
    assert source.status.state == "retrying"
    assert "connection refused" in source.status.detail
    assert len(backoff.delays) >= 5
    assert backoff.attempts == len(backoff.delays)  # never reset: no connection ever delivered a line
    assert backoff.delays[0] <= 0.01 and max(backoff.delays[3:]) > 0.01  # grows from the initial delay
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "connection refused" in warnings[0].getMessage()


async def test_tcp_failure_of_one_source_does_not_stop_another() -> None:
    stream = b"\n".join(LINES) + b"\n"
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        writer.write(stream)
        await writer.drain()
        await reader.read()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    good = TcpSource(tcp_settings(server.sockets[0].getsockname()[1]))
    bad = TcpSource(
        SourceSettings(name="bad", kind="tcp", host="127.0.0.1", port=free_port(), reconnect_initial_s=0.01)
    )
    sink = RecordingSink()
    runner = SourceRunner([bad, good], sink)
    runner.start()
    try:
        await until(lambda: len(sink.lines) == len(LINES))
        assert {src for _, src, *_ in sink.lines} == {"rx"}
        assert bad.status.failures >= 1 and bad.status.state in ("connecting", "retrying")
    finally:
        await runner.stop()
        for writer in writers:  # the handler waits on the connection; wait_closed would wait on it
            writer.close()
        server.close()
        await server.wait_closed()
    assert good.status.state == "stopped" and bad.status.state == "stopped"


async def test_stopping_never_hangs_on_a_source_that_lost_its_cancellation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source that swallows a cancellation (as `asyncio.wait_for` can in Python 3.11, when it
    arrives just as the inner call ends) is cancelled again: stop and remove always return."""
    import vts.sources.runner as runner_module

    monkeypatch.setattr(runner_module, "CANCEL_AGAIN_S", 0.05)

    class Stubborn(Source):
        kind = "stubborn"
        swallowed = 0

        async def run(self, sink: LineSink) -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.swallowed += 1  # lost, as wait_for may lose it
            await asyncio.sleep(3600)

    first = Stubborn(SourceSettings(name="first", kind="tcp", host="127.0.0.1", port=9))
    second = Stubborn(SourceSettings(name="second", kind="tcp", host="127.0.0.1", port=9))
    runner = SourceRunner([first, second], RecordingSink())
    runner.start()
    await asyncio.sleep(0.01)
    async with asyncio.timeout(10.0):
        assert await runner.remove("first") is first
        await runner.stop()
    assert first.swallowed == 1 and second.swallowed == 1
    assert [s.name for s in runner.sources] == ["second"] and second.status.state == "stopped"


# -- UDP ---------------------------------------------------------------------------------------------


async def test_udp_listener_receives_datagrams_of_one_or_several_lines() -> None:
    source = UdpSource(SourceSettings(name="udp", kind="udp", host="127.0.0.1", port=0))
    sink = RecordingSink()
    task = await running(source, sink)
    try:
        await until(lambda: source.bound_port is not None)
        assert source.status.state == "listening"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            addr = ("127.0.0.1", source.bound_port)
            s.sendto(LINES[0] + b"\r\n", addr)
            s.sendto(LINES[1] + b"\r\n" + LINES[2] + b"\r\n", addr)
            s.sendto(LINES[3], addr)  # no line end: still a whole line in UDP
        await until(lambda: len(sink.lines) == 4)
        assert sink.texts() == LINES[:4]
        assert all(received is not None for _, _, received, _ in sink.lines)
        assert source.status.lines == 4
    finally:
        await cancel(task)


async def test_udp_port_in_use_is_reported_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="vts.sources")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        source = UdpSource(
            SourceSettings(name="udp", kind="udp", host="127.0.0.1", port=port, reconnect_initial_s=0.01)
        )
        task = await running(source, RecordingSink())
        try:
            await until(lambda: source.status.failures >= 3)
            assert source.status.state == "failed"
        finally:
            await cancel(task)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot listen" in errors[0].getMessage()


# -- files and stdin ---------------------------------------------------------------------------------


@pytest.fixture
def sample_lines() -> list[bytes]:
    return SAMPLE.read_bytes().splitlines()[:400]


async def read_file(path: Path, **kw: object) -> tuple[FileSource, RecordingSink]:
    source = FileSource(SourceSettings(name="log", kind="file", path=str(path), **kw))  # type: ignore[arg-type]
    sink = RecordingSink()
    await source.run(sink)
    return source, sink


async def test_plain_and_gzip_files_give_the_same_lines(tmp_path: Path, sample_lines: list[bytes]) -> None:
    plain = tmp_path / "log.nmea"
    plain.write_bytes(b"\r\n".join(sample_lines) + b"\r\n")
    gz = tmp_path / "log.nmea.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    disguised = tmp_path / "log-without-extension"
    disguised.write_bytes(gz.read_bytes())
    for path in (plain, gz, disguised):
        source, sink = await read_file(path)
        assert sink.texts() == sample_lines, path
        assert all(received is None and offset == 0.0 for _, _, received, offset in sink.lines)
        assert source.status.state == "finished"
        assert source.status.lines == len(sample_lines)
        assert source.progress() == 1.0


async def test_bzip2_xz_and_zip_logs_give_the_same_lines(tmp_path: Path, sample_lines: list[bytes]) -> None:
    """Recordings come compressed every way: each is told by its content, whatever its name; a zip
    archive of several logs is read member after member, in name order, lines never joined."""
    text = b"\r\n".join(sample_lines) + b"\r\n"
    bz = tmp_path / "log.nmea.bz2"
    bz.write_bytes(bz2.compress(text))
    xz = tmp_path / "log.data"  # an xz log under a name that does not say so
    xz.write_bytes(lzma.compress(text))
    zipped = tmp_path / "day.zip"
    half = len(sample_lines) // 2
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("b-afternoon.nmea", b"\n".join(sample_lines[half:]) + b"\n")
        z.writestr("a-morning.nmea", b"\n".join(sample_lines[:half]))  # its last line has no line end
        z.writestr("empty/", b"")  # a folder entry
    for path in (bz, xz, zipped):
        source, sink = await read_file(path)
        assert sink.texts() == sample_lines, path
        assert source.status.state == "finished" and source.status.lines == len(sample_lines)
        assert source.progress() == 1.0
    # damaged: what was read counts, and the source says so
    cut = tmp_path / "cut.xz"
    cut.write_bytes(xz.read_bytes()[: len(xz.read_bytes()) // 2])
    source, sink = await read_file(cut)
    assert source.status.state == "damaged"
    assert 0 < len(sink.lines) < len(sample_lines) and sink.texts() == sample_lines[: len(sink.lines)]
    broken_zip = tmp_path / "broken.zip"
    broken_zip.write_bytes(zipped.read_bytes()[:30])
    source, sink = await read_file(broken_zip)
    assert source.status.state == "failed" and "cannot open" in source.status.detail and sink.lines == []


async def test_overlong_file_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    from vts.sources.base import MAX_LINE_BYTES, OVERLONG_LINE

    path = tmp_path / "junk.nmea"
    path.write_bytes(
        LINES[0] + b"\n" + b"x" * (3 * MAX_LINE_BYTES) + b"\n" + LINES[1] + b"\n" + b"y" * MAX_LINE_BYTES
    )
    source, sink = await read_file(path)
    assert sink.texts() == [LINES[0], LINES[1], b"y" * MAX_LINE_BYTES]  # at the limit is still a line
    assert source.status.drops[OVERLONG_LINE] == 1


async def test_damaged_gzip_keeps_what_was_read(tmp_path: Path, sample_lines: list[bytes]) -> None:
    data = gzip.compress(b"\n".join(sample_lines) + b"\n")
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    source, sink = await read_file(cut)
    assert source.status.state == "damaged"
    assert 0 < len(sink.lines) < len(sample_lines)
    assert sink.texts() == sample_lines[: len(sink.lines)]


async def test_missing_file_fails_cleanly(tmp_path: Path) -> None:
    source, sink = await read_file(tmp_path / "nope.nmea")
    assert source.status.state == "failed" and "cannot open" in source.status.detail
    assert sink.lines == []


def test_open_log_detects_gzip_by_content(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(gzip.compress(b"hello\n"))
    reader, raw = open_log(p)
    with reader, raw:
        assert reader.read() == b"hello\n"


async def test_loop_mode_shifts_event_time_by_the_span_on_every_pass(tmp_path: Path) -> None:
    path = tmp_path / "short.nmea"
    path.write_bytes(b"\n".join(LINES[:3]) + b"\n")
    source = FileSource(SourceSettings(name="demo", kind="file", path=str(path), loop=True))
    sink = RecordingSink(span=(1000.0, 1029.5))  # the log's own span, as the core measured it
    task = await running(source, sink)
    try:
        await until(lambda: len(sink.lines) >= 9)
    finally:
        await cancel(task)
    offsets = [offset for *_, offset in sink.lines[:9]]
    step = 29.5 + LOOP_GAP_S
    assert offsets == [0.0] * 3 + [step] * 3 + [2 * step] * 3
    assert sink.texts()[:9] == LINES[:3] * 3
    assert source.status.passes >= 2


async def test_loop_mode_on_an_empty_file_stops(tmp_path: Path) -> None:
    path = tmp_path / "empty.nmea"
    path.write_bytes(b"")
    source = FileSource(SourceSettings(name="demo", kind="file", path=str(path), loop=True))
    await asyncio.wait_for(source.run(RecordingSink()), 10)
    assert source.status.state == "finished" and "empty" in source.status.detail


async def test_loop_mode_moves_the_real_core_forward(tmp_path: Path) -> None:
    from vts.config import load_config
    from vts.core import Core

    path = tmp_path / "head.nmea"
    path.write_bytes(b"\n".join(SAMPLE.read_bytes().splitlines()[:600]) + b"\n")
    once = Core(load_config())  # the log's own event-time span, from one plain pass
    once.feed_lines(path.read_bytes().splitlines(), "demo")
    first, last = once.ingest.stats.first_time, once.ingest.stats.last_time
    assert first is not None and last is not None and last > first
    core = Core(load_config())
    feed = CoreFeed(core)
    source = FileSource(SourceSettings(name="demo", kind="file", path=str(path), loop=True))
    task = await running(source, feed)
    times: list[float] = []
    try:
        await until(lambda: source.status.passes >= 3)
    finally:
        await cancel(task)
    times.append(core.now or 0.0)
    span = last - first
    # three passes or more: event time went on past the end of the log by at least two spans
    assert times[0] >= last + 2 * (span + LOOP_GAP_S) - 1e-6
    assert not feed.errors


async def test_an_untimed_log_with_no_base_station_is_processed_at_its_end(tmp_path: Path) -> None:
    """Its reports wait for a time that never comes (`vts.ingest`); the end of the file (or of
    standard input) lets them through, without waiting for the daemon to stop."""
    from tests.test_station_clock import position
    from vts.config import load_config
    from vts.core import Core

    lines = [position(760000001).encode(), position(760000002, -12.06).encode()]
    path = tmp_path / "bare.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for source in (
        FileSource(SourceSettings(name="bare", kind="file", path=str(path))),
        StdinSource(
            SourceSettings(name="pipe", kind="stdin"), live=False, stream=io.BytesIO(path.read_bytes())
        ),
    ):
        core = Core(load_config())
        await asyncio.wait_for(source.run(CoreFeed(core)), 10)
        assert {v.mmsi for v in core.tracker.vessels()} == {760000001, 760000002}, source.name


async def test_a_failure_at_the_end_of_input_is_counted_and_the_source_finishes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug reached from `Core.end_of_input`: an alert listener that raises, on the alert that
    only the end of the input lets out (an untimed fix from an invalid MMSI, held back for want of
    a time until then)."""
    from tests.test_station_clock import position
    from vts.alerts.model import Alert
    from vts.config import load_config
    from vts.core import Core

    core = Core(load_config())
    heard: list[str] = []

    def broken(alert: Alert) -> None:
        heard.append(alert.type)
        raise RuntimeError("a bug")

    core.add_alert_listener(broken)
    feed = CoreFeed(core)
    path = tmp_path / "one.nmea"
    path.write_bytes(position(123).encode() + b"\n")
    source = FileSource(SourceSettings(name="one", kind="file", path=str(path)))
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(source.run(feed), 10)
    assert heard == ["invalid_mmsi"]
    assert source.status.state == "finished" and feed.errors["RuntimeError"] == 1
    assert "the end of 'one' failed" in caplog.text


async def test_stdin_source_reads_a_pipe_to_its_end() -> None:
    data = b"\n".join(LINES) + b"\n" + LINES[0]  # the last line lacks its line end
    source = StdinSource(SourceSettings(name="stdin", kind="stdin"), live=False, stream=io.BytesIO(data))
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 10)
    assert sink.texts() == [*LINES, LINES[0]]
    assert all(received is None for _, _, received, _ in sink.lines)
    assert source.status.state == "finished"


@pytest.mark.parametrize("pack", [gzip.compress, bz2.compress, lzma.compress])
async def test_stdin_reads_a_compressed_log_as_a_file_is_read(pack: Any) -> None:
    """Found by a user: `vts replay - < feed.log.gz` read the gzip bytes as junk (messages 0)."""
    data = b"\n".join(LINES) + b"\n"
    stream = io.BufferedReader(io.BytesIO(pack(data)))  # as sys.stdin.buffer
    source = StdinSource(SourceSettings(name="stdin", kind="stdin"), live=False, stream=stream)
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 10)
    assert sink.texts() == LINES and source.status.state == "finished"


async def test_a_truncated_archive_on_stdin_is_damaged_with_what_was_read() -> None:
    data = b"\n".join(LINES * 50) + b"\n"
    packed = gzip.compress(data)
    stream = io.BufferedReader(io.BytesIO(packed[: len(packed) // 2]))
    source = StdinSource(SourceSettings(name="stdin", kind="stdin"), live=False, stream=stream)
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 10)
    assert source.status.state == "damaged" and 0 < len(sink.lines) < len(LINES) * 50


async def test_live_stdin_stamps_the_receive_time() -> None:
    source = StdinSource(
        SourceSettings(name="pipe", kind="stdin"), live=True, stream=io.BytesIO(LINES[0] + b"\n")
    )
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 10)
    assert len(sink.lines) == 1 and sink.lines[0][2] is not None


# -- pacing ------------------------------------------------------------------------------------------


async def test_pacer_sleeps_by_event_time_over_speed_and_skips_long_gaps() -> None:
    wall = [100.0]
    slept: list[float] = []

    async def fake_sleep(d: float) -> None:
        slept.append(round(d, 6))
        wall[0] += d

    pacer = Pacer(10.0, clock=lambda: wall[0], sleep=fake_sleep)
    await pacer.wait_for(5000.0)  # anchors
    await pacer.wait_for(5001.0)  # 1 s of event time at 10x: 0.1 s
    await pacer.wait_for(5001.01)  # 1 ms: too short to sleep, saved up
    await pacer.wait_for(5003.0)  # 2 s later than 5001: 0.2 s after the previous sleep
    await pacer.wait_for(5003.0 + 3600)  # an hour's gap would be 6 min: skipped
    await pacer.wait_for(5003.0 + 3600 + 5)
    assert slept == [0.1, 0.2, 0.5]
    assert pacer.skipped_gaps == 1


async def test_a_paced_reader_behind_schedule_still_gives_the_event_loop_turns() -> None:
    """Found in a browser test: a 2,000-vessel log replayed at --speed 200 with the map served
    fell behind its schedule; the paced reader then never slept, and the map, /healthz and even
    SIGTERM went unanswered for minutes. Behind or not, it yields every `MAX_BUSY_S` of wall time."""
    from vts.sources.files import MAX_BUSY_S

    wall = [100.0]
    slept: list[float] = []

    async def fake_sleep(d: float) -> None:
        slept.append(d)
        wall[0] += d

    pacer = Pacer(200.0, clock=lambda: wall[0], sleep=fake_sleep)
    t = 5000.0
    for _ in range(400):  # a line a second, each taking 10 ms to process: behind a 200x schedule
        await pacer.wait_for(t)
        t += 1.0
        wall[0] += 0.01
    assert slept.count(0) >= int(4.0 / MAX_BUSY_S) - 2 and all(d == 0 for d in slept)
    assert pacer.lag_s > 0


# -- runner, health, factory -------------------------------------------------------------------------


class CrashingSource(Source):
    kind = "file"

    def __init__(self) -> None:
        super().__init__(SourceSettings(name="crashy", kind="file", path="/dev/null"))
        self.runs = 0

    async def run(self, sink: LineSink) -> None:
        self.runs += 1
        raise RuntimeError("boom")


async def test_a_crashing_source_is_restarted_and_the_others_go_on(tmp_path: Path) -> None:
    path = tmp_path / "ok.nmea"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    crashy = CrashingSource()
    good = FileSource(SourceSettings(name="ok", kind="file", path=str(path)))
    sink = RecordingSink()
    runner = SourceRunner([crashy, good], sink, restart_initial_s=0.01, restart_max_s=0.02)
    runner.start()
    try:
        await until(lambda: crashy.runs >= 3 and good.status.state == "finished")
    finally:
        await runner.stop()
    assert sink.texts() == LINES
    assert runner.crashes["crashy"] >= 3


class SometimesCrashingSource(Source):
    """Crashes at once `quick` times, then runs `healthy_s` before crashing once more, then ends."""

    kind = "file"

    def __init__(self, quick: int, healthy_s: float) -> None:
        super().__init__(SourceSettings(name="flaky", kind="file", path="/dev/null"))
        self.quick = quick
        self.healthy_s = healthy_s
        self.runs = 0

    async def run(self, sink: LineSink) -> None:
        self.runs += 1
        if self.runs <= self.quick:
            raise RuntimeError("boom")
        if self.runs == self.quick + 1:
            await asyncio.sleep(self.healthy_s)
            raise RuntimeError("boom after a healthy run")


async def test_a_source_that_ran_well_for_a_while_restarts_at_the_first_delay_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The restart back-off grows while a source keeps crashing at once, and starts again from the
    first delay after a run that lasted (a source that fails now and then is not kept waiting the
    longest delay every time)."""
    flaky = SometimesCrashingSource(quick=5, healthy_s=0.25)
    runner = SourceRunner([flaky], RecordingSink(), restart_initial_s=0.01, restart_max_s=0.2)
    with caplog.at_level(logging.ERROR, logger="vts.sources"):
        runner.start()
        try:
            await until(lambda: flaky.runs >= 7)
            await runner.wait()
        finally:
            await runner.stop()
    delays = [float(m) for m in re.findall(r"restarting in ([0-9.]+) s", caplog.text)]
    assert len(delays) == 6
    assert delays[4] >= 0.05  # grown: 0.01 doubled four times (jitter takes at most half)
    assert delays[5] <= 0.01  # after the healthy run: the first delay again


async def test_stopping_keeps_the_damaged_state_of_a_source(tmp_path: Path) -> None:
    path = tmp_path / "cut.nmea.gz"
    path.write_bytes(gzip.compress(b"\n".join(LINES) + b"\n")[:-12])  # cut short: a read error at the end
    source = FileSource(SourceSettings(name="cut", kind="file", path=str(path)))
    runner = SourceRunner([source], RecordingSink())
    runner.start()
    await runner.wait()
    await runner.stop()
    assert source.status.state == "damaged"


async def test_feed_health_reports_each_source_from_the_core(tmp_path: Path) -> None:
    from vts.config import load_config
    from vts.core import Core

    core = Core(load_config())
    path = tmp_path / "head.nmea"
    path.write_bytes(b"\n".join(SAMPLE.read_bytes().splitlines()[:1000]) + b"\n")
    source = FileSource(SourceSettings(name="f", kind="file", path=str(path)))
    health = FeedHealth(core, [source], mode="replay", speed=None)
    await source.run(CoreFeed(core))
    info = health()
    assert info["mode"] == "replay" and info["event_time"] == core.now
    (entry,) = info["sources"]
    stats = core.ingest.stats.by_source["f"]
    assert entry["name"] == "f" and entry["state"] == "finished"
    assert entry["lines"] == 1000 and entry["messages"] == stats.messages > 0
    assert entry["last_message_time"] == stats.last_time
    assert entry["drops"] == dict(stats.drops)
    assert entry["live"] is False
    assert entry["stamps_arrival"] is False  # the sample log's times are those of the fixes
    for k in range(200):  # then fixes arriving late by a scattered lag, as from a satellite
        core.feeds.observe("f", 1e9 + 10 * k + (k * 1237) % 3000, (10 * k) % 60)
    assert health()["sources"][0]["stamps_arrival"] is True


def test_feed_health_rate_is_messages_over_the_window() -> None:
    class FakeStats:
        messages = 0
        ignored: dict[str, int] = {}  # noqa: RUF012

    class FakeIngestStats:
        def __init__(self) -> None:
            self.by_source = {"a": FakeStats()}

    class FakeIngest:
        def __init__(self) -> None:
            self.stats = FakeIngestStats()

    class FakeCore:
        def __init__(self) -> None:
            self.ingest = FakeIngest()
            self.now = None

    src = CrashingSource()
    src.name = "a"
    health = FeedHealth(FakeCore(), [src])  # type: ignore[arg-type]
    health.sample(now=0.0)
    FakeStats.messages = 50
    FakeStats.ignored = {"duplicate": 40}
    assert health.sample(now=5.0) == {"a": 10.0}
    assert health.duplicate_rates() == {"a": 8.0}


def test_feed_health_shows_what_a_second_receiver_hears_first_elsewhere() -> None:
    """Two receivers of the same waters: the second's copies of what the first delivered are counted
    once, as the first's; its health says it hears them (it is not a dead feed at 0 messages/s)."""
    import time

    from vts.config import load_config
    from vts.core import Core

    core = Core(load_config())
    north = UdpSource(SourceSettings(name="north", kind="udp", port=0))
    south = UdpSource(SourceSettings(name="south", kind="udp", port=0))
    health = FeedHealth(core, [north, south])
    health.sample(now=time.monotonic() - 2.0)  # (the health report samples again, now)
    lines = SAMPLE.read_bytes().splitlines()[:300]
    for line in lines:
        core.feed_line(line, "north")
        core.feed_line(line, "south")
    info = {s["name"]: s for s in health()["sources"]}
    copies = core.ingest.stats.by_source["south"].ignored["duplicate"]
    # every sentence that made a message on the north feed came again from the south one; only the
    # own ship's (VDO: each receiver's own) are not taken as copies
    own_ship = sum(1 for line in lines if b"VDO" in line)
    south = core.ingest.stats.by_source["south"]
    assert copies + own_ship == core.ingest.stats.by_source["north"].assembled > 100
    assert info["south"]["duplicates"] == copies and info["south"]["messages"] == south.messages == own_ship
    assert info["north"]["duplicates"] == 0 and info["north"]["messages"] > 100
    assert info["south"]["duplicates_per_s"] > 0 and info["north"]["duplicates_per_s"] == 0


def test_feed_health_counts_each_source_s_silence_by_this_machine_s_clock() -> None:
    """`silent_s`: wall seconds since the source's last line, or since it was made when it has had
    none, whatever its state did since (the map flags a live feed silent for a minute)."""
    import time

    from vts.config import load_config
    from vts.core import Core

    heard = UdpSource(SourceSettings(name="rx", kind="udp", port=0))
    never = TcpSource(SourceSettings(name="tcp", kind="tcp", host="127.0.0.1", port=1))
    now = time.time()
    heard.status.last_line_wall = now - 90.0
    never.status.created = now - 30.0
    never.status.state_since = now - 1.0  # (it has just tried again: its silence goes on)
    info = {s["name"]: s for s in FeedHealth(Core(load_config()), [heard, never])()["sources"]}
    assert 90.0 <= info["rx"]["silent_s"] < 150.0
    assert 30.0 <= info["tcp"]["silent_s"] < 90.0
    heard.status.last_line_wall = time.time()
    assert FeedHealth(Core(load_config()), [heard])()["sources"][0]["silent_s"] < 30.0


def test_make_source_kinds() -> None:
    assert isinstance(make_source(SourceSettings(name="t", kind="tcp", host="h", port=1)), TcpSource)
    assert isinstance(make_source(SourceSettings(name="u", kind="udp", port=0)), UdpSource)
    assert isinstance(make_source(SourceSettings(name="f", kind="file", path="x")), FileSource)
    assert isinstance(make_source(SourceSettings(name="s", kind="stdin")), StdinSource)
    mqtt = make_source(SourceSettings(name="m", kind="mqtt", host="127.0.0.1", topic="ais/nmea"))
    assert mqtt.kind == "mqtt" and mqtt.name == "m"


def test_looped_file_from_the_config_leaves_the_forget_time_between_passes() -> None:
    from vts.config import load_config

    config = load_config()
    source = make_source(SourceSettings(name="f", kind="file", path="x", loop=True), config=config)
    assert isinstance(source, FileSource)
    assert source.loop_gap_s > config.tracker.forget_after_s


def test_make_source_missing_simulator_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def fake_import(name: str, *a: object) -> object:
        if name == "vts.simulate.live":
            raise ImportError("No module named 'vts.simulate.live'")
        return real(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", fake_import)
    with pytest.raises(SourceUnavailable, match="simulator"):
        make_source(SourceSettings(name="sim", kind="simulate"))


def test_settings_name_what_a_source_needs() -> None:
    with pytest.raises(ValueError, match="needs host and port"):
        SourceSettings(name="t", kind="tcp")
    with pytest.raises(ValueError, match="needs path"):
        SourceSettings(name="f", kind="file")


async def test_simulated_source_feeds_the_simulator_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    import vts.sources.simulated as simulated
    from vts.config import load_config

    calls: list[tuple[object, int, float]] = []

    def fake_function() -> object:
        async def lines(config: object, seed: int, speed: float) -> object:
            calls.append((config, seed, speed))
            for line in LINES:
                yield line.decode() + "\r\n"

        return lines

    monkeypatch.setattr(simulated, "simulated_lines_function", fake_function)
    config = load_config()
    source = make_source(SourceSettings(name="sim", kind="simulate", speed=5, seed=42), config=config)
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 10)
    assert calls == [(config, 42, 5.0)]
    assert sink.texts() == LINES and source.status.state == "finished"
