"""Adversarial review of the feed readers (vts/sources/*), how the daemon drives them, and the raw
bytes they hand to `vts.ingest`.

A failing test here shows a bug (see the review report); a passing one documents a behaviour that
holds. Everything runs on 127.0.0.1 (MQTT through the fixtures' own Mosquitto) and is bounded by
asyncio timeouts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import io
import json
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.mqtt_broker import Broker
from vts.config import default_config_path, load_config
from vts.core import Core
from vts.ingest import Ingest
from vts.sources.base import (
    MAX_LINE_BYTES,
    OVERLONG_LINE,
    PARTIAL_LINE,
    Backoff,
    LineSink,
    LineSplitter,
    Source,
)
from vts.sources.files import FileSource, StdinSource
from vts.sources.mqtt import NOT_NMEA, MqttSource, lines_of
from vts.sources.runner import CoreFeed, FeedHealth, SourceRunner, SourceUnavailable
from vts.sources.settings import SourceSettings
from vts.sources.tcp import TcpSource
from vts.sources.udp import UdpSource, _Protocol

# Real sentences (replay/dma-stream-example.nmea), each with a valid checksum, each one report.
LINES = [
    b"!AIVDM,1,1,,A,33nr7t001f13KNTOahh2@QpF00vh,0*58",
    b"!AIVDM,1,1,0,,13KFI200001eRdHREjw<RanB0@50,0*55",
    b"!AIVDM,1,1,,A,13iEcL0P1iPwuvROMf@BnR@D0@7L,0*3C",
    b"!AIVDM,1,1,,B,13@nvj?P000js4DPk89sIgvJ287L,0*09",
]
BAD_IDNA_HOST = "a" * 64 + ".example"
"""A host name whose 64-character label the IDNA codec refuses (UnicodeError, not OSError)."""


def unchecked(**fields: object) -> SourceSettings:
    """Settings the config would refuse (see `test_a_host_that_can_never_be_looked_up_is_refused`),
    as a source built some other way may still get them."""
    return SourceSettings.model_construct(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("host", [BAD_IDNA_HOST, "rx..local", "", " rx", "a b"])
@pytest.mark.parametrize("kind", ["tcp", "udp", "mqtt"])
def test_a_host_that_can_never_be_looked_up_is_refused(kind: str, host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        SourceSettings(name="rx", kind=kind, host=host, port=10110, topic="ais/#")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "ais-rx.example.org", "0.0.0.0"])
def test_a_usable_host_is_accepted(host: str) -> None:
    assert SourceSettings(name="rx", kind="tcp", host=host, port=10110).host == host


def test_an_mqtt_source_without_a_topic_is_refused_by_the_config() -> None:
    with pytest.raises(ValueError, match="topic"):
        SourceSettings(name="m", kind="mqtt", host="127.0.0.1", port=1883)


class RecordingSink:
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.ends: list[str] = []

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        self.lines.append(line)

    def end_of_input(self, source: str) -> None:
        self.ends.append(source)

    def event_time(self, source: str) -> float | None:
        return None

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        return (None, None)


async def until(condition: Callable[[], bool], timeout: float = 4.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 3)


def tcp(port: int, **kw: object) -> SourceSettings:
    return SourceSettings(name="rx", kind="tcp", host="127.0.0.1", port=port, **kw)  # type: ignore[arg-type]


# -- LineSplitter: raw bytes in arbitrary pieces ------------------------------------------------------


def test_splitter_crlf_cut_between_cr_and_lf_gives_no_empty_or_doubled_line() -> None:
    sp = LineSplitter()
    out = sp.feed(LINES[0] + b"\r") + sp.feed(b"\n" + LINES[1] + b"\r") + sp.feed(b"\n")
    assert out == [LINES[0], LINES[1]]
    assert sp.partial == b""


def test_splitter_passes_nul_and_invalid_utf8_bytes_through_unchanged() -> None:
    junk = b"\x00\xff\xfe" + LINES[0] + b"\x00"
    sp = LineSplitter()
    assert sp.feed(junk + b"\n" + b"\xc3\x28\n") == [junk, b"\xc3\x28"]


def test_splitter_long_line_without_newline_stays_bounded_and_resyncs() -> None:
    sp = LineSplitter()
    for _ in range(20):  # 20 x 8 KiB of junk, never a line end
        assert sp.feed(b"x" * 8192) == []
        assert len(sp.partial) <= MAX_LINE_BYTES
    assert sp.feed(b"tail\n" + LINES[0] + b"\n") == [LINES[0]]
    assert sp.take_overlong() == 1


def test_splitter_line_of_exactly_the_limit_across_reads_is_kept() -> None:
    sp = LineSplitter(max_line=10)
    assert sp.feed(b"12345") == []
    assert sp.feed(b"67890\n") == [b"1234567890"]
    assert sp.feed(b"12345") + sp.feed(b"678901\n") == []
    assert sp.take_overlong() == 1


# -- UDP ----------------------------------------------------------------------------------------------


def udp_protocol() -> tuple[UdpSource, RecordingSink, _Protocol]:
    source = UdpSource(SourceSettings(name="u", kind="udp", port=0))
    sink = RecordingSink()
    return source, sink, _Protocol(source, sink)


def test_udp_datagram_with_several_crlf_sentences_gives_each_in_order() -> None:
    source, sink, proto = udp_protocol()
    proto.datagram_received(b"\r\n".join(LINES) + b"\r\n", ("127.0.0.1", 1))
    proto.datagram_received(b"\n".join(LINES[:2]), ("127.0.0.1", 1))  # last line unterminated
    assert sink.lines == [*LINES, *LINES[:2]]
    assert source.status.lines == 6


def test_udp_datagram_with_cr_only_line_ends_and_unterminated_last_line() -> None:
    """LineSplitter accepts ``\\r`` as a line end; the datagram's unterminated tail must then be the
    last line alone, not the whole datagram (which repeats the earlier lines in one junk line)."""
    _source, sink, proto = udp_protocol()
    proto.datagram_received(LINES[0] + b"\r" + LINES[1], ("127.0.0.1", 1))
    assert sink.lines == [LINES[0], LINES[1]]


def test_udp_datagram_whose_last_line_is_overlong_is_counted_not_emitted() -> None:
    source, sink, proto = udp_protocol()
    proto.datagram_received(LINES[0] + b"\n" + b"x" * (MAX_LINE_BYTES + 5), ("127.0.0.1", 1))
    proto.datagram_received(LINES[1], ("127.0.0.1", 1))
    assert sink.lines == [LINES[0], LINES[1]]
    assert source.status.drops[OVERLONG_LINE] == 1


async def test_udp_real_socket_several_sentences_per_datagram() -> None:
    source = UdpSource(SourceSettings(name="u", kind="udp", port=0))
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.bound_port is not None)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"\r\n".join(LINES) + b"\r\n", ("127.0.0.1", source.bound_port))
        await until(lambda: len(sink.lines) == len(LINES))
    finally:
        await cancel(task)
    assert sink.lines == LINES


async def test_udp_host_that_cannot_be_encoded_is_retried_not_raised() -> None:
    """A bad ``host:`` (an IDNA label over 63 characters) must give a clear state and retries, as a
    bind failure does, not an exception out of `run` (which the runner logs as a crash)."""
    source = UdpSource(unchecked(name="u", kind="udp", host=BAD_IDNA_HOST, port=0, reconnect_initial_s=30))
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: task.done() or source.status.failures >= 1)
        assert not task.done(), f"run() ended: {task.exception()!r}"
        assert source.status.state == "failed"
    finally:
        await cancel(task)


# -- TCP ----------------------------------------------------------------------------------------------


async def test_tcp_half_sent_line_then_close_is_a_partial_drop_and_reconnects() -> None:
    conns = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal conns
        conns += 1
        if conns == 1:
            writer.write(LINES[0] + b"\r\n" + LINES[1][:20])  # cut mid-line
        else:
            writer.write(LINES[2] + b"\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    source = TcpSource(tcp(port, reconnect_initial_s=0.01, reconnect_max_s=0.05))
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: LINES[2] in sink.lines)
    finally:
        await cancel(task)
        server.close()
    assert sink.lines[:2] == [LINES[0], LINES[2]]
    assert source.status.drops[PARTIAL_LINE] == 1
    assert source.status.disconnects >= 1


async def test_tcp_server_that_accepts_and_hangs_up_is_backed_off() -> None:
    accepted = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backoff = Backoff(0.005, 10.0)
    source = TcpSource(tcp(port), backoff=backoff)
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: source.status.disconnects >= 4)
    finally:
        await cancel(task)
        server.close()
    assert backoff.attempts >= 4  # never reset: no line was delivered
    assert source.status.lines == 0


async def test_tcp_binary_junk_without_line_end_is_bounded_and_then_resyncs() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(8):
            writer.write(b"\x00\xff" * 8192)
            await writer.drain()
        writer.write(b"\n" + LINES[0] + b"\n")
        await writer.drain()
        await asyncio.sleep(5)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    source = TcpSource(tcp(port))
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: sink.lines == [LINES[0]])
    finally:
        await cancel(task)
        server.close()
    assert source.status.drops[OVERLONG_LINE] == 1


async def test_tcp_host_that_cannot_be_encoded_is_retried_not_raised() -> None:
    source = TcpSource(
        unchecked(name="rx", kind="tcp", host=BAD_IDNA_HOST, port=10110, reconnect_initial_s=30)
    )
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: task.done() or source.status.failures >= 1)
        assert not task.done(), f"run() ended: {task.exception()!r}"
        assert source.status.state == "retrying"
    finally:
        await cancel(task)


async def test_runner_removes_a_tcp_source_while_it_waits_to_reconnect() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: refused
    source = TcpSource(tcp(port, reconnect_initial_s=30))
    runner = SourceRunner([source], RecordingSink())
    runner.start()
    try:
        await until(lambda: source.status.state == "retrying")
        async with asyncio.timeout(3):
            removed = await runner.remove("rx")
    finally:
        await runner.stop()
    assert removed is source and source.status.state == "stopped"
    assert runner.sources == []


# -- MQTT -----------------------------------------------------------------------------------------------


def test_mqtt_lines_of_json_with_a_lone_surrogate_is_junk_not_an_exception() -> None:
    assert lines_of(b'{"nmea": ["\\ud800"]}') == ([], 1)


def test_mqtt_lines_of_deeply_nested_json_is_junk_not_an_exception() -> None:
    assert lines_of(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}") == ([], 1)


def test_mqtt_lines_of_crlf_nul_and_invalid_utf8_payload() -> None:
    payload = LINES[0] + b"\r\n\xff\xfe" + LINES[1] + b"\r\n\r\n"
    assert lines_of(payload) == ([LINES[0], b"\xff\xfe" + LINES[1]], 0)


def test_mqtt_host_that_cannot_be_encoded_is_refused_with_a_clear_message() -> None:
    """Built past the config's check, the source refuses such a host as the runner expects
    (`SourceUnavailable`: logged, the other sources run), never an exception from `run`."""
    with pytest.raises(SourceUnavailable, match="not a valid host name"):
        MqttSource(unchecked(name="m", kind="mqtt", host=BAD_IDNA_HOST, port=1883, topic="ais/#"))


@pytest.mark.mqtt
async def test_mqtt_source_survives_a_junk_json_message(mosquitto: Broker) -> None:
    import aiomqtt

    source = MqttSource(
        SourceSettings(name="m", kind="mqtt", host=mosquitto.host, port=mosquitto.port, topic="ais/#")
    )
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.status.state == "connected", 8)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as pub:
            await pub.publish("ais/x", b'{"nmea": ["\\ud800"]}', qos=1)
            await pub.publish("ais/x", LINES[0], qos=1)
        await until(lambda: task.done() or sink.lines == [LINES[0]], 8)
        assert not task.done(), f"run() ended: {task.exception()!r}"
        assert source.status.drops[NOT_NMEA] == 1
        assert source.status.disconnects == 0
    finally:
        await cancel(task)


# -- files ----------------------------------------------------------------------------------------------


async def read_file(path: Path, **kw: object) -> tuple[FileSource, RecordingSink]:
    source = FileSource(SourceSettings(name="f", kind="file", path=str(path), **kw))  # type: ignore[arg-type]
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 4)
    return source, sink


async def test_file_with_cr_only_line_ends_gives_every_line(tmp_path: Path) -> None:
    """The stream readers (TCP, stdin, UDP) take ``\\r`` as a line end (`LineSplitter`); the same
    bytes from a file must give the same lines, not one line holding them all."""
    path = tmp_path / "cr.nmea"
    path.write_bytes(b"\r".join(LINES) + b"\r")
    _source, sink = await read_file(path)
    splitter = LineSplitter()
    assert splitter.feed(path.read_bytes()) == LINES
    assert sink.lines == LINES


async def test_file_with_cr_only_line_ends_into_the_core_loses_nothing(tmp_path: Path) -> None:
    """A real-sized log with ``\r`` line ends (a few hundred lines) is one 'line' over the limit:
    the reader drops the whole file as a single overlong line."""
    path = tmp_path / "cr.nmea"
    path.write_bytes(b"\r".join(LINES * 100) + b"\r")
    core = Core(load_config())
    source = FileSource(SourceSettings(name="f", kind="file", path=str(path)))
    await asyncio.wait_for(source.run(CoreFeed(core)), 4)
    stats = core.ingest.stats.by_source.get("f")
    assert stats is not None and stats.messages == 4 * 100, (source.status, stats)


async def test_file_with_nul_padding_and_crlf_decodes_every_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.nmea"
    path.write_bytes(b"".join(b"\x00\x00" + line + b"\x00\r\n" for line in LINES) + b"\r\n")
    core = Core(load_config())
    source = FileSource(SourceSettings(name="f", kind="file", path=str(path)))
    await asyncio.wait_for(source.run(CoreFeed(core)), 4)
    stats = core.ingest.stats.by_source["f"]
    assert stats.messages == len(LINES)
    assert stats.accounted() == stats.lines + stats.extra_pieces


async def test_gzip_with_corrupt_deflate_data_is_damaged_not_raised(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"\n".join(LINES * 50) + b"\n"))
    for i in range(20, 60):
        data[i] ^= 0xA5
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    source, sink = await read_file(path)
    assert source.status.state == "damaged"
    assert all(line in LINES for line in sink.lines)


async def test_gzip_header_only_is_damaged_with_nothing_read(tmp_path: Path) -> None:
    path = tmp_path / "stub.gz"
    path.write_bytes(b"\x1f\x8b")
    source, sink = await read_file(path)
    assert source.status.state == "damaged" and sink.lines == []


async def test_truncated_gzip_counts_the_line_cut_in_the_middle(tmp_path: Path) -> None:
    """A TCP stream cut mid-line counts a ``partial_line`` drop; a gzip log cut mid-line loses its
    unterminated tail without counting it anywhere."""
    body = b"\n".join(LINES * 400) + b"\n"
    data = gzip.compress(body)
    cut = data[: len(data) // 2]
    import zlib

    readable = zlib.decompressobj(31).decompress(cut)
    assert not readable.endswith(b"\n")  # the cut falls inside a line
    path = tmp_path / "cut.gz"
    path.write_bytes(cut)
    source, sink = await read_file(path)
    assert source.status.state == "damaged"
    assert len(sink.lines) == readable.count(b"\n")  # every complete line is kept
    assert source.status.drops[PARTIAL_LINE] == 1


async def test_damaged_gzip_in_loop_mode_logs_its_error_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each change of state is logged once: a looped log that is damaged must not log an ERROR on
    every pass (a small file loops many times a second)."""
    data = gzip.compress(b"\n".join(LINES * 20) + b"\n")
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    source = FileSource(SourceSettings(name="f", kind="file", path=str(path), loop=True))
    caplog.set_level(logging.DEBUG, logger="vts.sources")
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: source.status.passes >= 5)
    finally:
        await cancel(task)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and "damaged" in r.getMessage()]
    assert len(errors) == 1, [r.getMessage() for r in errors]


# -- stdin ----------------------------------------------------------------------------------------------


async def test_stdin_eof_mid_line_emits_the_tail_and_ends() -> None:
    data = LINES[0] + b"\r\n" + LINES[1]
    source = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=io.BytesIO(data))
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 4)
    assert sink.lines == [LINES[0], LINES[1]]
    assert sink.ends == ["in"] and source.status.state == "finished"


async def test_stdin_overlong_tail_at_eof_is_counted_not_emitted() -> None:
    data = LINES[0] + b"\n" + b"z" * (MAX_LINE_BYTES + 10)
    source = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=io.BytesIO(data))
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 4)
    assert sink.lines == [LINES[0]]
    assert source.status.drops[OVERLONG_LINE] == 1


async def test_stdin_read_error_is_reported_not_taken_for_a_normal_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A read error on standard input (EIO: the terminal or pipe went away) loses the rest of the
    input: it must say so, not finish as if the input had ended normally."""
    import errno

    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read1(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls == 1:
                return LINES[0] + b"\n"
            raise OSError(errno.EIO, "Input/output error")

    caplog.set_level(logging.DEBUG, logger="vts.sources")
    source = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=Failing())  # type: ignore[arg-type]
    sink = RecordingSink()
    await asyncio.wait_for(source.run(sink), 4)
    assert sink.lines == [LINES[0]]
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("Input/output error" in m for m in said) or source.status.state != "finished", (
        source.status.state,
        said,
    )


async def test_removing_a_stdin_source_stops_its_reader_taking_the_input() -> None:
    """After a stdin source is stopped (a reload that changes it: removed, then started anew on the
    same input), its reader thread must not go on taking input away from its successor."""
    r, w = os.pipe()
    first_stream = os.fdopen(r, "rb", buffering=0, closefd=False)
    second_stream = os.fdopen(r, "rb", buffering=0, closefd=False)
    first = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=first_stream)
    runner = SourceRunner([first], RecordingSink())
    runner.start()
    try:
        await until(lambda: first.status.state == "reading")
        await asyncio.sleep(0.05)  # its thread is now blocked reading the pipe
        async with asyncio.timeout(3):
            await runner.remove("in")
        second = StdinSource(SourceSettings(name="in", kind="stdin"), live=False, stream=second_stream)
        sink = RecordingSink()
        task = asyncio.create_task(second.run(sink))
        os.write(w, b"\n".join(LINES) + b"\n")
        os.close(w)
        w = -1
        await asyncio.wait_for(task, 4)
    finally:
        if w >= 0:
            os.close(w)
        await runner.stop()
        await asyncio.sleep(0.05)
        os.close(r)
    assert sink.lines == LINES


# -- the runner and the daemon -----------------------------------------------------------------------


async def test_runner_keeps_the_others_when_one_source_crashes_on_junk(tmp_path: Path) -> None:
    class Crashy(Source):
        kind = "file"
        runs = 0

        async def run(self, sink: LineSink) -> None:
            Crashy.runs += 1
            raise UnicodeError("junk")

    path = tmp_path / "ok.nmea"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    good = FileSource(SourceSettings(name="good", kind="file", path=str(path)))
    bad = Crashy(SourceSettings(name="bad", kind="file", path=str(path)))
    sink = RecordingSink()
    runner = SourceRunner([bad, good], sink, restart_initial_s=0.01, restart_max_s=0.02)
    runner.start()
    try:
        await until(lambda: good.status.state == "finished" and Crashy.runs >= 2)
    finally:
        await runner.stop()
    assert sink.lines == LINES
    assert bad.status.state == "failed" and runner.crashes["bad"] >= 2


def write_config(path: Path, sources: list[dict[str, object]], store: Path) -> None:
    path.write_text(
        f"include: [{json.dumps(str(default_config_path()))}]\n"
        f"sources: {json.dumps(sources)}\n"
        f"alerts: {{store: {json.dumps(str(store))}}}\n",
        encoding="utf-8",
    )


async def test_reload_to_a_source_that_cannot_start_keeps_the_running_one(tmp_path: Path) -> None:
    """The daemon says a reload that would leave no source keeps the running ones. Replacing the
    only source by one that cannot be made (an mqtt source with no topic passes the config check
    but `make_source` refuses it) must not leave the daemon with no source and a stale health."""
    from vts.daemon import Daemon

    quiet = socket.create_server(("127.0.0.1", 0))
    port = int(quiet.getsockname()[1])
    cfg = tmp_path / "vts.yaml"
    store = tmp_path / "alerts.sqlite3"
    write_config(cfg, [{"name": "rx", "kind": "tcp", "host": "127.0.0.1", "port": port}], store)
    config = load_config(cfg)
    daemon = Daemon(config, argparse.Namespace(config=str(cfg), simulate=False, speed=None))
    sources = daemon._sources()
    core = Core(config)
    runner = SourceRunner(sources, CoreFeed(core))
    health = FeedHealth(core, sources, mode=daemon.mode)
    daemon._runner, daemon._health = runner, health
    runner.start()
    try:
        await until(lambda: sources[0].status.state == "connected")
        write_config(cfg, [{"name": "north", "kind": "mqtt", "host": "127.0.0.1", "port": 1}], store)
        await asyncio.wait_for(daemon.reload(core), 4)
        assert [s.name for s in health.sources] == [s.name for s in runner.sources]
        assert runner.sources, "the reload stopped the only source and started none"
        assert sources[0].status.state != "stopped"
    finally:
        await runner.stop()
        quiet.close()


async def test_reload_changing_a_udp_source_rebinds_its_port_at_once(tmp_path: Path) -> None:
    """A changed source is stopped before its successor starts: the port is free for it."""
    from vts.daemon import Daemon

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cfg = tmp_path / "vts.yaml"
    store = tmp_path / "alerts.sqlite3"
    udp = {"name": "u", "kind": "udp", "port": port}
    write_config(cfg, [udp], store)
    config = load_config(cfg)
    daemon = Daemon(config, argparse.Namespace(config=str(cfg), simulate=False, speed=None))
    sources = daemon._sources()
    core = Core(config)
    runner = SourceRunner(sources, CoreFeed(core))
    daemon._runner, daemon._health = runner, FeedHealth(core, sources, mode=daemon.mode)
    runner.start()
    try:
        await until(lambda: sources[0].status.state == "listening")
        write_config(cfg, [{**udp, "reconnect_initial_s": 5.0}], store)
        assert await asyncio.wait_for(daemon.reload(core), 4)
        new = runner.sources[0]
        assert new is not sources[0]
        await until(lambda: new.status.state in ("listening", "failed"))
        assert new.status.state == "listening" and new.status.failures == 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(LINES[0] + b"\n", ("127.0.0.1", port))
        await until(lambda: new.status.lines == 1)
    finally:
        await runner.stop()


# -- ingest: raw bytes as the sources hand them over ------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"\xff\xfe" + LINES[0],  # junk bytes (a BOM) before the sentence
        b"\x00\x00" + LINES[0] + b"\x00",  # NUL padding
        LINES[0] + b"\r\n",  # the line end left on
        b"\xef\xbb\xbf" + LINES[0],  # a UTF-8 BOM
    ],
)
def test_ingest_decodes_a_sentence_wrapped_in_raw_junk(line: bytes) -> None:
    for feed_many in (False, True):
        ing = Ingest()
        reports = ing.feed_many([line], "s", [1.0]) if feed_many else ing.feed(line, "s", 1.0)
        assert len(reports) == 1 and reports[0].mmsi == 258902000
        assert ing.stats.accounted() == ing.stats.lines + ing.stats.extra_pieces


@pytest.mark.parametrize(
    "line", [b"", b"\x00" * 50, b"\r", b"\xff" * 5000, b"\x80abc\xc3\x28", b"!" * 20000, b"\\" * 3]
)
def test_ingest_accounts_for_every_junk_line_and_never_raises(line: bytes) -> None:
    ing = Ingest()
    assert ing.feed(line, "s", None) == []
    assert ing.feed_many([line, line], "s", None) == []
    st = ing.stats
    assert st.lines == 3 and st.messages == 0
    assert st.accounted() == st.lines + st.extra_pieces
