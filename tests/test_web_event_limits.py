"""Limits of the map server's event stream (`/api/events`): how many streams it serves at once, what
one more gets (503, Retry-After, one log line per burst, a count in /api/stats), what the page does
then, and that stopping the server ends every stream at once, a browser that takes no data included.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fixtures.browser import BrowserSession
from tests.fixtures.web_client import Factory
from vts.config import Config, load_config
from vts.core import Core
from vts.web import api as api_mod
from vts.web import server as server_mod
from vts.web.hub import MAX_CLIENTS, REFUSAL_LOG_S, AlertHub, StreamsFull
from vts.web.server import WebServer
from vts.web.settings import WebSettings

HUB_LOG = "vts.web.hub"
START = 1_700_000_000  # the page's fake clock (UNIX s)


def limited_config(streams: int) -> Config:
    config = load_config()
    config.web.max_event_streams = streams
    return config


async def open_stream(
    port: int, small_buffers: bool = False
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw HTTP client on /api/events, past the stream's first lines; it reads only when told to.
    With `small_buffers`, its socket and reader hold only a few KB it has not read."""
    if small_buffers:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2048)
    else:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    await asyncio.wait_for(reader.readuntil(b"retry: 2000"), 5.0)
    return reader, writer


async def until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait (polling) until `condition()` holds; the timeout only keeps a broken build from hanging."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        pytest.fail(f"never happened: {what}")


async def stall(server: WebServer, pad: int) -> None:
    """Offer events of `pad` bytes until the hub drops some: the non-reading client's socket
    buffers are full and its stream is blocked (or was dropped for it)."""
    hub = server.state.hub
    body = "x" * pad
    for _ in range(5000):
        if hub.dropped or not hub.clients:
            return
        for i in range(20):
            hub.publish("alert", {"i": i, "pad": body})
        await asyncio.sleep(0.005)
    pytest.fail("the non-reading client never fell behind")


@pytest.fixture
async def server() -> AsyncIterator[WebServer]:
    config = load_config()
    web = WebServer(config, Core(config), None, None, port=0)
    await web.start()
    try:
        yield web
    finally:
        await web.stop()


# -- how many streams ----------------------------------------------------------------------------------
def test_the_limit_is_a_web_setting_of_64_by_default() -> None:
    assert load_config().web.max_event_streams == MAX_CLIENTS == 64
    assert AlertHub().max_clients == MAX_CLIENTS
    with pytest.raises(ValidationError, match="max_event_streams"):
        WebSettings(max_event_streams=0)


async def test_a_stream_beyond_the_limit_gets_503_with_retry_after(make_client: Factory) -> None:
    client, state = await make_client(limited_config(2), fed=False)
    assert state.hub.max_clients == 2
    open_streams = [await client.get("/api/events") for _ in range(2)]
    assert [s.status for s in open_streams] == [200, 200]
    assert state.hub.clients == 2

    refused = await client.get("/api/events")
    assert refused.status == 503
    assert refused.headers["Retry-After"] == str(api_mod.STREAM_RETRY_AFTER_S)
    assert refused.content_type == "application/json"
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["X-Content-Type-Options"] == "nosniff"  # the guard's headers, as on any error
    message = (await refused.json())["error"]
    assert "too many event streams" in message and "2" in message and "web.max_event_streams" in message
    assert state.hub.clients == 2 and state.hub.refused == 1
    stats = await (await client.get("/api/stats")).json()
    assert stats["sse_clients"] == 2 and stats["sse_refused"] == 1
    assert (await client.head("/api/events")).status == 200  # a probe holds no place: never refused

    # a place that frees up is given to the next browser
    open_streams.pop().close()
    await until(
        lambda: state.hub.publish("alert", {"id": "ping"}) and state.hub.clients == 1,
        "the closed stream left",
    )
    again = await client.get("/api/events")
    assert again.status == 200 and state.hub.clients == 2
    again.close()
    for s in open_streams:
        s.close()
    assert state.errors == 0


async def test_a_burst_of_refusals_is_logged_once(
    make_client: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    client, state = await make_client(limited_config(1), fed=False)
    held = await client.get("/api/events")
    caplog.set_level(logging.INFO, logger=HUB_LOG)
    statuses = [(await client.get("/api/events")).status for _ in range(25)]
    assert statuses == [503] * 25
    warnings = [r for r in caplog.records if r.name == HUB_LOG and r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "web.max_event_streams" in warnings[0].getMessage()
    assert state.hub.refused == 25
    assert (await (await client.get("/api/stats")).json())["sse_refused"] == 25
    held.close()


def test_refusals_are_logged_at_most_once_a_minute_with_their_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    hub = AlertHub(max_clients=1, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger=HUB_LOG)

    def refuse(times: int) -> None:
        for _ in range(times):
            with pytest.raises(StreamsFull), hub.subscribe():
                pass

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == HUB_LOG]

    async def run() -> None:
        with hub.subscribe():
            refuse(11)
            assert len(logged()) == 1
            now[0] += REFUSAL_LOG_S / 2
            refuse(1)  # the same burst: counted, not logged
            assert len(logged()) == 1
            now[0] += REFUSAL_LOG_S / 2 + 1
            refuse(1)  # a minute on: one line with what was refused meanwhile
            assert len(logged()) == 2
            assert "refused 12 event streams" in logged()[1] and "13 refused in all" in logged()[1]
            now[0] += 10 * REFUSAL_LOG_S
            refuse(1)  # a new burst, long after: logged at once
            assert len(logged()) == 3
        assert hub.refused == 14 and hub.clients == 0

    asyncio.run(run())


# -- a browser that takes no data ------------------------------------------------------------------
async def fill_socket_of_an_idle_stream(web: WebServer) -> None:
    """Shrink the only stream's socket buffers and offer alert-sized events one at a time until the
    server's transport pauses writing. The stream's handler waits for the socket only every 64 KB it
    writes (aiohttp), so it is left idle, not in a write: at stop, the stream's last chunk is what
    would wait on the full socket."""
    assert web._runner is not None and web._runner.server is not None  # private: no other way to the socket
    (conn,) = web._runner.server.connections
    assert conn.transport is not None
    conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    body = "x" * 1000
    for i in range(5000):
        if conn.writing_paused:
            return
        web.state.hub.publish("alert", {"i": i, "pad": body})
        await asyncio.sleep(0.002)
    pytest.fail("the server never paused writing to the non-reading client")


@pytest.mark.parametrize("how", ["blocked-mid-write", "alert-sized-events", "idle-on-a-full-socket"])
async def test_stop_ends_every_stream_at_once_even_one_that_never_reads(
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Stopping must not depend on aiohttp's shutdown timeout: with it raised to 10 minutes (the old
    code waited it out twice for a client that does not read: 2 x 2 s before, 2 x 600 s here), the
    stop still completes well inside a minute, and a reading client still gets the stream's end."""
    monkeypatch.setattr(server_mod, "SHUTDOWN_TIMEOUT_S", 600.0)
    config = load_config()
    web = WebServer(config, Core(config), None, None, port=0)
    await web.start()
    _, stuck = await open_stream(web.port, small_buffers=how == "idle-on-a-full-socket")
    got = bytearray()

    async def read_to_the_end(reader: asyncio.StreamReader) -> None:  # the well-behaved browser
        while chunk := await reader.read(65536):
            got.extend(chunk)

    reading: asyncio.Task[None] | None = None
    try:
        if how == "idle-on-a-full-socket":
            await fill_socket_of_an_idle_stream(web)
        else:  # the non-reading client alone, so that the events dropped are its own
            await stall(web, 200_000 if how == "blocked-mid-write" else 1_000)
            assert web.state.hub.dropped > 0
        assert web.state.hub.clients == 1
        reader, writer = await open_stream(web.port)
        reading = asyncio.create_task(read_to_the_end(reader))
        web.state.hub.publish("alert", {"id": "last"})
        await until(lambda: b'"last"' in got, "the reading client got the event")
        await asyncio.wait_for(web.stop(), 60.0)
        assert web.state.hub.clients == 0
        await asyncio.wait_for(reading, 10.0)
        assert bytes(got).endswith(
            b"\r\n0\r\n\r\n"
        )  # the last chunk: a graceful end, not a dropped connection
        assert web.state.errors == 0
        writer.close()
    finally:
        if reading is not None:
            reading.cancel()
        stuck.close()
        await web.stop()  # (idempotent) nothing left behind when an assertion failed


async def test_a_stream_that_takes_no_data_is_dropped_and_frees_its_place(
    server: WebServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(api_mod, "STREAM_STALL_S", 0.3)
    caplog.set_level(logging.INFO, logger="vts.web.api")
    _, stuck = await open_stream(server.port)
    try:
        assert server.state.hub.clients == 1
        await stall(server, 200_000)
        await until(lambda: server.state.hub.clients == 0, "the stalled stream was dropped")
        assert any("took no data" in r.getMessage() for r in caplog.records if r.name == "vts.web.api")
        reader, writer = await open_stream(server.port)  # the server goes on serving streams
        assert server.state.hub.clients == 1
        server.state.hub.publish("alert", {"id": "after"})
        await asyncio.wait_for(reader.readuntil(b'"after"'), 5.0)
        writer.close()
        assert server.state.errors == 0
    finally:
        stuck.close()


# -- the page ------------------------------------------------------------------------------------------
async def page_until(page: Any, expression: str, what: str, timeout: float = 15.0) -> None:
    """Poll `expression` in the page from here (the page's own timers are frozen by its fake clock)."""

    async def poll() -> None:
        while not await page.evaluate(expression):
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        pytest.fail(f"never happened in the page: {what}")


@pytest.mark.browser
async def test_the_page_tries_a_refused_stream_again_later(chromium_page: BrowserSession) -> None:
    """Chromium's EventSource gives up for good on a 503 (one request, then CLOSED, no retry): the
    page must try again later on its own, neither never nor in a tight loop. The page's clock is
    stopped, so only `run_for` moves its timers, however long the machine takes to load the page."""
    page = chromium_page.page
    config = limited_config(1)
    web = WebServer(config, Core(config), None, None, port=0)
    await web.start()
    try:
        _, held = await open_stream(web.port)  # the only place is taken
        await page.clock.install(time=START)
        await page.clock.pause_at(START + 1)
        await page.goto(web.url)
        closed = "() => !!VTS.events && VTS.events.readyState === EventSource.CLOSED"
        await page_until(page, closed, "the refused stream is closed")
        assert web.state.hub.refused == 1
        await page.clock.run_for(20_000)
        await asyncio.sleep(0.5)  # (a request the page would make now has time to arrive)
        assert web.state.hub.refused == 1  # no tight loop: nothing asked again within 20 s
        assert await page.evaluate(closed)

        held.close()
        await until(
            lambda: web.state.hub.publish("alert", {"id": "ping"}) and web.state.hub.clients == 0,
            "the held stream left",
        )
        await page.clock.run_for(45_000)  # past the page's 30-60 s delay
        await page_until(
            page, "() => VTS.events.readyState === EventSource.OPEN", "the page's stream is open"
        )
        await until(lambda: web.state.hub.clients == 1, "the page's stream is served")
        assert web.state.hub.refused == 1
    finally:
        await web.stop()
