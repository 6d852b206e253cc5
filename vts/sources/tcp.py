"""TCP client to an AIS feed (AIS-catcher, rtl-ais, a receiver or an aggregator).

Lines may arrive split across reads in any way. On a refusal, a disconnect or a silent feed
(``idle_timeout_s``, 5 minutes by default; TCP keep-alive is on too) it reconnects for ever with
exponential back-off and jitter (`Backoff`). The back-off starts again from its first delay only
once a connection has stayed up ``stable_after_s`` (30 s by default): a server that accepts and
hangs up, with or without sending a line first, is retried with growing delays, not hammered.
Each change of state is logged once; the unterminated tail of a stream cut by a disconnect is
counted as a ``partial_line`` drop.

A normal drop is logged as "disconnected (...; reconnecting in X s)" and "connected". A flapping
feed (`FLAP_AFTER` connections in a row that did not hold) is said once, in state ``retrying``:
"connection keeps dropping: N connects in the last M s ...; retrying in X s", then at most every
`FLAP_SUMMARY_S` with the count since the last summary; each cycle in between is logged at debug
level. A connection that holds again is logged as "connected (steady again ...)".
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from collections.abc import Callable

from vts.sources.base import OVERLONG_LINE, PARTIAL_LINE, Backoff, LineSink, LineSplitter, Source
from vts.sources.settings import SourceSettings

READ_SIZE = 65_536
FLAP_AFTER = 3
"""Connections in a row that end before ``stable_after_s``: the feed is flapping (said once)."""
FLAP_SUMMARY_S = 300.0
"""While a feed flaps, a summary is logged at most this often (the cycles between go to debug)."""


def _seconds(s: float) -> str:
    return f"{s:.1f}" if s < 10.0 else f"{s:.0f}"


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
        self.clock: Callable[[], float] = time.monotonic
        """The clock of the flapping summaries (monotonic seconds; a test may replace it)."""
        self.flapping = False
        """The last `FLAP_AFTER` or more connections each ended before ``stable_after_s``."""
        self._held = False
        """The current (or last) connection stayed up ``stable_after_s``."""
        self._short = 0
        """Connections in a row that ended before ``stable_after_s``."""
        self._count = 0
        self._count_since = 0.0
        """Short connections counted for the next flapping summary, and since when."""

    def describe(self) -> str:
        return f"tcp source {self.name!r} ({self.host}:{self.port})"

    async def run(self, sink: LineSink) -> None:
        loop = asyncio.get_running_loop()
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
            connected_at = self.clock()
            # a server that accepts and hangs up at once, again and again (a proxy whose back end is
            # down), is logged once: "connected" again only after a connection that brought lines,
            # and not at all while the feed flaps (the summaries say it)
            quiet = self.flapping or not self._last_brought_lines
            self.set_state("connected", level=logging.DEBUG if quiet else logging.INFO)
            self._held = False
            holding = loop.call_later(self.settings.stable_after_s, self._connection_held)
            try:
                reason, self._last_brought_lines = await self._read(reader, sink)
            finally:  # also when cancelled: the server sees the connection end
                holding.cancel()
                writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            self.status.disconnects += 1
            if not self._held:  # it did not stay up: the back-off goes on growing
                if self._short == 0:
                    self._count, self._count_since = 0, connected_at
                self._short += 1
                self._count += 1
            delay = self.backoff.next_delay()
            if self._short >= FLAP_AFTER:
                self._flapped(reason, delay)
            else:
                self.set_state("disconnected", f"{reason}; reconnecting in {delay:.1f} s",
                               level=logging.WARNING, key=reason)  # fmt: skip
            await asyncio.sleep(delay)

    def _connection_held(self) -> None:
        """The connection has stayed up ``stable_after_s``: the next drop is a new trouble, retried
        at the first delay again; a flapping feed is steady again."""
        self._held = True
        self.backoff.reset()
        short, self._short = self._short, 0
        if self.flapping:
            self.flapping = False
            held = self.settings.stable_after_s
            self.set_state("connected", f"steady again: held {held:g} s after {short} short connections")

    def _flapped(self, reason: str, delay: float) -> None:
        """A short connection ended while the feed flaps: a summary the first time and then at most
        every `FLAP_SUMMARY_S`, debug level in between."""
        now = self.clock()
        first = not self.flapping
        due = first or now - self._count_since >= FLAP_SUMMARY_S
        self.flapping = True
        detail = (
            f"connection keeps dropping: {self._count} connects in the last "
            f"{_seconds(now - self._count_since)} s, none held {self.settings.stable_after_s:g} s, "
            f"last: {reason}; retrying in {delay:.1f} s"
        )
        if due:
            self._count, self._count_since = 0, now
        self.set_state(
            "retrying", detail, level=logging.WARNING if due else logging.DEBUG, key="flapping", repeat=True
        )

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
                if lines:
                    got_line = True
                await asyncio.sleep(0)  # a busy feed must not starve the other sources
        except OSError as e:
            reason = describe_error(e)[0]
        if splitter.reset():
            self.status.drops[PARTIAL_LINE] += 1
        return reason, got_line
