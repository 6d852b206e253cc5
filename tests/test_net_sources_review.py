"""Network feeds after a reliability test (real sockets on 127.0.0.1, free ports).

* A TCP server that sends a line and hangs up, again and again, was reconnected every 0.75 s for
  ever (the back-off started again on every line) with a "connected"/"disconnected" pair in the log
  each time: now the back-off starts again only after a connection held ``stable_after_s``, and a
  flapping feed is said once, then in periodic summaries.
* A UDP burst was dropped by the kernel with no trace: now the socket asks for a large receive
  buffer and the kernel's drop count of the socket (/proc/net/udp) is a reader drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from vts.sources import tcp as tcp_module
from vts.sources import udp as udp_module
from vts.sources.base import KERNEL_OVERFLOW, Backoff
from vts.sources.settings import SourceSettings
from vts.sources.tcp import FLAP_AFTER, TcpSource
from vts.sources.udp import UdpSource, kernel_drops

LINE = b"!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"


class RecordingSink:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        self.lines.append(line)

    def event_time(self, source: str) -> float | None:
        return None

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        return None, None


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait (polling) until `condition()` holds; fail after `timeout` (liveness only)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def messages(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level and r.name.startswith("vts.sources")]


# -- TCP: a flapping feed ---------------------------------------------------------------------------


class FlappingServer:
    """Sends one line and hangs up; once `hold` is set, keeps the next connections open."""

    def __init__(self) -> None:
        self.hold = False
        self.held: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(LINE + b"\r\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        if self.hold:
            self.held.append(writer)
            with contextlib.suppress(ConnectionError):
                await reader.read()
        writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for writer in self.held:
            writer.close()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def flapping_source(port: int, **kw: float) -> TcpSource:
    settings = SourceSettings(name="rx", kind="tcp", host="127.0.0.1", port=port, **kw)  # type: ignore[arg-type]
    return TcpSource(settings, backoff=Backoff(0.005, 0.05))


async def test_a_server_that_sends_a_line_and_hangs_up_is_backed_off_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found live: 38 connections and 77 log lines in 30 s, a pair every 0.75 s, for ever."""
    caplog.set_level(logging.DEBUG, logger="vts.sources")
    server = FlappingServer()
    source = flapping_source(await server.start())
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.status.connects >= 12)
    finally:
        await cancel(task)
        await server.stop()
    st = source.status
    assert len(sink.lines) >= 11 and st.disconnects >= 11
    # the back-off was never started again: every delay after a drop grew from the last one
    assert source.backoff.attempts == st.disconnects
    assert source.flapping and st.state in ("retrying", "connecting", "connected")
    logged = messages(caplog)
    assert sum(m.endswith(": connected") for m in logged) <= FLAP_AFTER, logged
    assert sum(": disconnected" in m for m in logged) <= FLAP_AFTER - 1, logged
    flaps = [m for m in logged if "connection keeps dropping" in m]
    assert len(flaps) == 1, logged
    assert f"{FLAP_AFTER} connects in the last" in flaps[0] and "retrying in" in flaps[0]
    assert "none held 30 s" in flaps[0] and "closed by the server" in flaps[0]
    # every cycle is still in the debug log
    debug = messages(caplog, logging.DEBUG)
    assert sum(m.endswith(": connected") for m in debug) == st.connects


async def test_a_flapping_feed_gets_periodic_summaries_not_a_line_per_cycle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    now = [1000.0]
    server = FlappingServer()
    source = flapping_source(await server.start())
    source.clock = lambda: now[0]
    task = asyncio.create_task(source.run(RecordingSink()))

    def summaries() -> list[str]:
        return [m for m in messages(caplog, logging.WARNING) if "connection keeps dropping" in m]

    try:
        await until(lambda: source.status.disconnects >= FLAP_AFTER + 5)
        assert len(summaries()) == 1
        now[0] += tcp_module.FLAP_SUMMARY_S + 1.0  # time for the next summary
        seen = source.status.disconnects
        await until(lambda: source.status.disconnects >= seen + 5)
    finally:
        await cancel(task)
        await server.stop()
    second = summaries()
    assert len(second) == 2, second
    assert f"in the last {tcp_module.FLAP_SUMMARY_S + 1.0:.0f} s" in second[1]
    assert sum(": connected" in m for m in messages(caplog)) <= FLAP_AFTER


async def test_a_connection_that_holds_ends_the_flapping_and_starts_the_back_off_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    server = FlappingServer()
    source = flapping_source(await server.start(), stable_after_s=1.0)
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: source.flapping)
        assert source.backoff.attempts >= FLAP_AFTER
        server.hold = True
        await until(lambda: not source.flapping)
        assert source.backoff.attempts == 0 and source.status.state == "connected"
        assert "steady again: held 1 s" in source.status.detail
        # a normal drop afterwards keeps its plain message, retried at the first delay
        disconnects = source.status.disconnects
        server.hold = False
        for writer in server.held:
            writer.close()
        await until(lambda: source.status.disconnects > disconnects)
    finally:
        await cancel(task)
        await server.stop()
    logged = messages(caplog)
    steady = next(i for i, m in enumerate(logged) if "steady again" in m)
    assert any(": disconnected (closed by the server; reconnecting in" in m for m in logged[steady:]), logged
    assert source.backoff.attempts >= 1


async def test_a_refused_connection_while_flapping_is_still_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    server = FlappingServer()
    port = await server.start()
    source = flapping_source(port)
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: source.flapping)
        await server.stop()  # now nobody listens: refused, again and again
        failures = source.status.failures
        await until(lambda: source.status.failures >= failures + 4)
    finally:
        await cancel(task)
    refused = [m for m in messages(caplog, logging.WARNING) if "connection refused" in m]
    assert len(refused) == 1 and source.status.state == "retrying"


# -- UDP: bursts the kernel drops ---------------------------------------------------------------------

PROC_UDP = Path("/proc/net/udp")
RMEM_MAX = Path("/proc/sys/net/core/rmem_max")
linux_proc = pytest.mark.skipif(not PROC_UDP.is_file(), reason="needs Linux's /proc/net/udp")


def udp_source(**kw: object) -> UdpSource:
    return UdpSource(SourceSettings(name="udp", kind="udp", host="127.0.0.1", port=0, **kw))  # type: ignore[arg-type]


def burst(port: int, count: int) -> None:
    """`count` datagrams back to back, sent without giving the event loop a turn."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(count):
            s.sendto(LINE + b"\r\n", ("127.0.0.1", port))


def test_kernel_drops_are_read_from_the_socket_s_row_by_inode(tmp_path: Path) -> None:
    header = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
        "inode ref pointer drops\n"
    )
    v4, v6 = tmp_path / "udp", tmp_path / "udp6"
    v4.write_text(
        header + "  1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   0  0 "
        "4321 2 0000000000000000 5\n"
    )
    v6.write_text(
        header + "  7: 00000000000000000000000001000000:2710 00000000000000000000000000000000:0000 07 "
        "00000000:00000000 00:00000000 00000000  1000  0 98765 2 0000000000000000 1234\n"
    )
    assert kernel_drops(4321, (v4, v6)) == 5
    assert kernel_drops(98765, (v4, v6)) == 1234
    assert kernel_drops(1, (v4, v6)) is None
    assert kernel_drops(4321, (tmp_path / "missing",)) is None


@linux_proc
async def test_a_burst_beyond_the_receive_buffer_is_counted_and_warned_of_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found live: 10,000 datagrams back to back, 577 received, nothing said anywhere."""
    caplog.set_level(logging.INFO, logger="vts.sources")
    monkeypatch.setattr(udp_module, "DROP_CHECK_S", 0.05)
    source = udp_source(receive_buffer_bytes=4096)  # a small buffer: the kernel must drop
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.bound_port is not None and source.status.state == "listening")
        assert source.port == 0 and source.bound_port is not None
        assert (
            source.status.drops[KERNEL_OVERFLOW] == 0
            and KERNEL_OVERFLOW in source.status.as_dict()["reader_drops"]
        )
        burst(source.bound_port, 2000)
        # every datagram is either read or counted as dropped: none is lost without a trace
        await until(lambda: len(sink.lines) + source.status.drops[KERNEL_OVERFLOW] == 2000)
        first = source.status.drops[KERNEL_OVERFLOW]
        assert first > 0
        burst(source.bound_port, 2000)
        await until(lambda: len(sink.lines) + source.status.drops[KERNEL_OVERFLOW] == 4000)
        assert source.status.drops[KERNEL_OVERFLOW] > first
    finally:
        await cancel(task)
    warnings = [m for m in messages(caplog, logging.WARNING) if "the kernel dropped" in m]
    assert len(warnings) == 1, warnings  # rate-limited: the second burst waits for the next minute
    assert f"the kernel dropped {first} datagrams" in warnings[0] and "receive buffer of 4 KiB" in warnings[0]


@linux_proc
async def test_the_warning_after_the_quiet_time_counts_what_was_dropped_since(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="vts.sources")
    monkeypatch.setattr(udp_module, "DROP_CHECK_S", 0.05)
    monkeypatch.setattr(udp_module, "DROP_WARN_S", 0.0)
    source = udp_source(receive_buffer_bytes=4096)
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.bound_port is not None and source.status.state == "listening")
        assert source.bound_port is not None
        burst(source.bound_port, 2000)
        await until(lambda: len(sink.lines) + source.status.drops[KERNEL_OVERFLOW] == 2000)
        first = source.status.drops[KERNEL_OVERFLOW]
        burst(source.bound_port, 2000)
        await until(lambda: len(sink.lines) + source.status.drops[KERNEL_OVERFLOW] == 4000)
        total = source.status.drops[KERNEL_OVERFLOW]
        await until(lambda: sum("the kernel dropped" in m for m in messages(caplog, logging.WARNING)) >= 2)
    finally:
        await cancel(task)
    warnings = [m for m in messages(caplog, logging.WARNING) if "the kernel dropped" in m]
    assert f"({total} in all)" in warnings[-1] and f"dropped {total - first} datagrams" in warnings[-1]


@linux_proc
async def test_a_burst_of_ten_thousand_is_read_whole_or_accounted_for_at_the_default_buffer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(udp_module, "DROP_CHECK_S", 0.05)
    source = udp_source()
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.bound_port is not None and source.status.state == "listening")
        assert source.bound_port is not None and source.receive_buffer is not None
        if RMEM_MAX.is_file():  # 4 MiB asked; the kernel gives up to net.core.rmem_max
            cap = int(RMEM_MAX.read_text())
            assert source.receive_buffer >= min(4 * 1024 * 1024, cap)
        burst(source.bound_port, 10_000)
        await until(lambda: len(sink.lines) + source.status.drops[KERNEL_OVERFLOW] == 10_000)
    finally:
        await cancel(task)


@pytest.mark.skipif(not RMEM_MAX.is_file(), reason="needs Linux's net.core.rmem_max")
async def test_a_receive_buffer_smaller_than_asked_is_said_once_with_the_cure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    asked = 2 * int(RMEM_MAX.read_text()) + 4096  # beyond what the kernel gives without privileges
    source = udp_source(receive_buffer_bytes=asked)
    task = asyncio.create_task(source.run(RecordingSink()))
    try:
        await until(lambda: source.status.state == "listening")
    finally:
        await cancel(task)
    assert source.receive_buffer is not None and source.receive_buffer < asked
    said = [m for m in messages(caplog, logging.WARNING) if "receive buffer" in m]
    assert len(said) == 1, said
    assert f"not the {asked // 1024} KiB asked" in said[0] and f"net.core.rmem_max={asked}" in said[0]


async def test_without_the_kernel_s_table_the_drop_watch_is_skipped_silently(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="vts.sources")
    monkeypatch.setattr(udp_module, "DROP_CHECK_S", 0.01)
    monkeypatch.setattr(udp_module, "PROC_NET_UDP", (tmp_path / "no-proc" / "udp",))
    source = udp_source(receive_buffer_bytes=None)
    sink = RecordingSink()
    task = asyncio.create_task(source.run(sink))
    try:
        await until(lambda: source.bound_port is not None and source.status.state == "listening")
        assert source.bound_port is not None
        burst(source.bound_port, 3)
        await until(lambda: len(sink.lines) == 3)
    finally:
        await cancel(task)
    assert KERNEL_OVERFLOW not in source.status.drops
    assert messages(caplog, logging.WARNING) == []


# -- the settings -------------------------------------------------------------------------------------


def test_the_new_source_settings_have_sensible_defaults_and_bounds() -> None:
    from pydantic import ValidationError

    tcp = SourceSettings(name="rx", kind="tcp", host="127.0.0.1", port=10110)
    assert tcp.stable_after_s == 30.0 and tcp.receive_buffer_bytes == 4 * 1024 * 1024
    udp = SourceSettings(name="u", kind="udp", port=10110, receive_buffer_bytes=None, stable_after_s=5)
    assert udp.receive_buffer_bytes is None and udp.stable_after_s == 5.0
    for bad in ({"stable_after_s": 0}, {"receive_buffer_bytes": 10}):
        with pytest.raises(ValidationError):
            SourceSettings(name="u", kind="udp", port=10110, **bad)  # type: ignore[arg-type]
