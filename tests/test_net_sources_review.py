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
from collections.abc import Callable

import pytest

from vts.sources import tcp as tcp_module
from vts.sources.base import Backoff
from vts.sources.settings import SourceSettings
from vts.sources.tcp import FLAP_AFTER, TcpSource

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
