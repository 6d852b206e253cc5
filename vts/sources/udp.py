"""UDP listener: the usual way receivers (AIS-catcher, rtl-ais, OpenCPN, ShipPlotter) forward NMEA.

Each datagram holds one or more whole lines (an unterminated last line is taken as a line: UDP
does not split lines across datagrams). The default address is 127.0.0.1; give ``host: 0.0.0.0``
to receive from other machines. A bind that fails (port in use) is logged once and retried with
back-off, so the other sources keep running.
"""

from __future__ import annotations

import asyncio
import logging
import time

from vts.sources.base import OVERLONG_LINE, Backoff, LineSink, LineSplitter, Source
from vts.sources.settings import SourceSettings
from vts.sources.tcp import describe_error

DEFAULT_HOST = "127.0.0.1"


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, source: UdpSource, sink: LineSink) -> None:
        self.source = source
        self.sink = sink
        self.splitter = LineSplitter()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        received = time.time()
        source = self.source
        splitter = self.splitter
        lines = splitter.feed(data)
        tail = splitter.partial
        if splitter.reset():  # the datagram's last line had no line end: it is a line all the same
            lines.append(tail)
        overlong = self.splitter.take_overlong()
        if overlong:
            source.status.drops[OVERLONG_LINE] += overlong
        for line in lines:
            source.emit(self.sink, line, received)

    def error_received(self, exc: Exception) -> None:
        source = self.source
        source.log.debug("%s: %s", source.describe(), exc)


class UdpSource(Source):
    kind = "udp"

    def __init__(self, settings: SourceSettings, *, backoff: Backoff | None = None) -> None:
        super().__init__(settings)
        assert settings.port is not None
        self.host = settings.host or DEFAULT_HOST
        self.port = settings.port
        self.bound_port: int | None = None
        """The port actually bound (differs from `port` when it is 0)."""
        self.backoff = backoff or Backoff(settings.reconnect_initial_s, settings.reconnect_max_s)

    def describe(self) -> str:
        return f"udp source {self.name!r} ({self.host}:{self.bound_port or self.port})"

    async def run(self, sink: LineSink) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self, sink), local_addr=(self.host, self.port)
                )
            except (OSError, UnicodeError) as e:  # (UnicodeError: a name IDNA refuses)
                self.status.failures += 1
                message, key = describe_error(e)
                delay = self.backoff.next_delay()
                self.set_state("failed", f"cannot listen: {message}; retrying in {delay:.1f} s",
                               level=logging.ERROR, key=key)  # fmt: skip
                await asyncio.sleep(delay)
                continue
            break
        self.backoff.reset()
        sockname = transport.get_extra_info("sockname")
        self.bound_port = int(sockname[1]) if sockname else self.port
        self.set_state("listening")
        try:
            await asyncio.Event().wait()  # datagrams arrive through the protocol until cancelled
        finally:
            transport.close()
