"""TCP client to an AIS feed (AIS-catcher, rtl-ais, a receiver or an aggregator).

Lines may arrive split across reads in any way. On a refusal, a disconnect or a silent feed
(``idle_timeout_s``, 5 minutes by default; TCP keep-alive is on too) it reconnects for ever with
exponential back-off and jitter (`Backoff`, reset once a connection delivers a line, so
a server that accepts and hangs up at once is not hammered). Each change of state is logged once;
the unterminated tail of a stream cut by a disconnect is counted as a ``partial_line`` drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time

from vts.sources.base import OVERLONG_LINE, PARTIAL_LINE, Backoff, LineSink, LineSplitter, Source
from vts.sources.settings import SourceSettings

READ_SIZE = 65_536


def describe_error(e: BaseException) -> tuple[str, str]:
    """(message for the log, key that says which kind of failure it is)."""
    if isinstance(e, TimeoutError):
        return "timed out", "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused", "refused"
    if isinstance(e, OSError):
        name = errno.errorcode.get(e.errno or 0, type(e).__name__)
        return (e.strerror or str(e) or name), name
    return str(e) or type(e).__name__, type(e).__name__


class TcpSource(Source):
    kind = "tcp"

    def __init__(self, settings: SourceSettings, *, backoff: Backoff | None = None) -> None:
        super().__init__(settings)
        assert settings.host is not None and settings.port is not None
        self.host = settings.host
        self.port = settings.port
        self.backoff = backoff or Backoff(settings.reconnect_initial_s, settings.reconnect_max_s)
        self._last_brought_lines = True

    def describe(self) -> str:
        return f"tcp source {self.name!r} ({self.host}:{self.port})"

    async def run(self, sink: LineSink) -> None:
        while True:
            self.set_state("connecting", level=logging.DEBUG)
            try:
                # (asyncio.timeout, not wait_for: in Python 3.11 wait_for can lose a cancellation
                # that arrives as the connection attempt ends, and the source would never stop)
                async with asyncio.timeout(self.settings.connect_timeout_s):
                    reader, writer = await asyncio.open_connection(self.host, self.port)
            except (OSError, TimeoutError, UnicodeError) as e:  # (UnicodeError: a name IDNA refuses)
                self.status.failures += 1
                message, key = describe_error(e)
                delay = self.backoff.next_delay()
                self.set_state(
                    "retrying", f"{message}; retrying with back-off, next in {delay:.1f} s",
                    level=logging.WARNING, key=key,
                )  # fmt: skip
                await asyncio.sleep(delay)
                continue
            sock = writer.get_extra_info("socket")
            if sock is not None:  # notice a receiver that vanished without closing the connection
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            self.status.connects += 1
            # a server that accepts and hangs up at once, again and again (a proxy whose back end is
            # down), is logged once: "connected" again only after a connection that brought lines
            self.set_state("connected", level=logging.INFO if self._last_brought_lines else logging.DEBUG)
            try:
                reason, self._last_brought_lines = await self._read(reader, sink)
            finally:  # also when cancelled: the server sees the connection end
                writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            self.status.disconnects += 1
            delay = self.backoff.next_delay()
            self.set_state("disconnected", f"{reason}; reconnecting in {delay:.1f} s", level=logging.WARNING,
                           key=reason)  # fmt: skip
            await asyncio.sleep(delay)

    async def _read(self, reader: asyncio.StreamReader, sink: LineSink) -> tuple[str, bool]:
        """Read lines until the connection ends; returns why it ended, and whether it brought lines."""
        splitter = LineSplitter()
        idle = self.settings.idle_timeout_s
        got_line = False
        reason = "closed by the server"
        try:
            while True:
                if idle is None:
                    data = await reader.read(READ_SIZE)
                else:
                    try:
                        async with asyncio.timeout(idle):
                            data = await reader.read(READ_SIZE)
                    except TimeoutError:
                        reason = f"nothing received for {idle:g} s"
                        break
                if not data:
                    break
                received = time.time()
                lines = splitter.feed(data)
                for line in lines:
                    self.emit(sink, line, received)
                overlong = splitter.take_overlong()
                if overlong:
                    self.status.drops[OVERLONG_LINE] += overlong
                if lines and not got_line:
                    got_line = True
                    self.backoff.reset()
                await asyncio.sleep(0)  # a busy feed must not starve the other sources
        except OSError as e:
            reason = describe_error(e)[0]
        if splitter.reset():
            self.status.drops[PARTIAL_LINE] += 1
        return reason, got_line
