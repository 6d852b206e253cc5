"""UDP listener: the usual way receivers (AIS-catcher, rtl-ais, OpenCPN, ShipPlotter) forward NMEA.

Each datagram holds one or more whole lines (an unterminated last line is taken as a line: UDP
does not split lines across datagrams). The default address is 127.0.0.1; give ``host: 0.0.0.0``
to receive from other machines. A bind that fails (port in use) is logged once and retried with
back-off, so the other sources keep running.

A burst of datagrams faster than the event loop reads them is dropped by the kernel when the
socket's receive buffer is full. The socket asks for ``receive_buffer_bytes`` (4 MiB by default;
Linux caps it at ``net.core.rmem_max``, and a smaller buffer than asked is logged once with the
sysctl to raise it). On Linux the kernel's count of the datagrams it dropped for this socket (the
``drops`` column of /proc/net/udp and /proc/net/udp6, the socket found by its inode) is read every
`DROP_CHECK_S` and counted as ``kernel_overflow`` reader drops; a growth is logged as a warning at
most every `DROP_WARN_S`. Where /proc is not there, nothing of this is tried again, silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from pathlib import Path

from vts.sources.base import KERNEL_OVERFLOW, OVERLONG_LINE, Backoff, LineSink, LineSplitter, Source
from vts.sources.settings import SourceSettings
from vts.sources.tcp import describe_error

DEFAULT_HOST = "127.0.0.1"
PROC_NET_UDP = (Path("/proc/net/udp"), Path("/proc/net/udp6"))
"""Linux's table of UDP sockets (IPv4, IPv6), each with the datagrams the kernel dropped for it."""
DROP_CHECK_S = 5.0
"""How often the kernel's drop count of the socket is read."""
DROP_WARN_S = 60.0
"""A growing kernel drop count is logged at most this often (with the count since the last warning)."""


def kernel_drops(inode: int, tables: tuple[Path, ...] = PROC_NET_UDP) -> int | None:
    """The datagrams the kernel dropped for the UDP socket with this inode (its receive buffer was
    full), from /proc/net/udp{,6}; None when the tables cannot be read or do not hold it."""
    wanted = str(inode)
    for table in tables:
        try:
            text = table.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        for row in text.splitlines()[1:]:
            fields = row.split()
            # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if len(fields) >= 13 and fields[9] == wanted:
                try:
                    return int(fields[12])
                except ValueError:
                    return None
    return None


def _kib(n: int) -> str:
    return f"{n // 1024} KiB"


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
        self.receive_buffer: int | None = None
        """The socket's receive buffer as the kernel granted it (bytes; None: not known)."""
        self.tables = PROC_NET_UDP
        self._inode: int | None = None
        self._kernel_seen = 0
        """The socket's kernel drop count at the last look."""
        self._unwarned = 0
        self._warned_at: float | None = None

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
        sock = transport.get_extra_info("socket")
        self._size_buffer(sock)
        self._watch_drops(sock)
        self.set_state("listening")
        try:
            # datagrams arrive through the protocol until cancelled; meanwhile, the kernel's drops
            while self._inode is not None:
                await asyncio.sleep(DROP_CHECK_S)
                self.check_drops()
            await asyncio.Event().wait()
        finally:
            self.check_drops()  # what the socket lost before it closes
            self._inode = None
            transport.close()

    def _size_buffer(self, sock: socket.socket | None) -> None:
        """Ask for ``receive_buffer_bytes``; log once when the kernel grants less."""
        asked = self.settings.receive_buffer_bytes
        if sock is None:
            return
        with contextlib.suppress(OSError):
            if asked is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, asked)
            got = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
            # Linux reports twice the size set (it counts its bookkeeping, man 7 socket)
            self.receive_buffer = got // 2 if sys.platform.startswith("linux") else got
        if asked is not None and self.receive_buffer is not None and self.receive_buffer < asked:
            self.log.warning(
                "%s: receive buffer %s, not the %s asked (receive_buffer_bytes): a burst beyond it is "
                "dropped by the kernel. The system caps it%s",
                self.describe(),
                _kib(self.receive_buffer),
                _kib(asked),
                f"; raise the cap with: sysctl -w net.core.rmem_max={asked}"
                if sys.platform.startswith("linux")
                else "",
            )

    def _watch_drops(self, sock: socket.socket | None) -> None:
        """Find the socket in /proc/net/udp{,6}; not there (no /proc, another system): no watch."""
        self._inode = None
        if sock is None:
            return
        try:
            inode = os.fstat(sock.fileno()).st_ino
        except OSError:
            return
        seen = kernel_drops(inode, self.tables)
        if seen is None:
            self.log.debug("%s: the kernel's drop count is not available here", self.describe())
            return
        self._inode, self._kernel_seen = inode, seen
        self.status.drops[KERNEL_OVERFLOW] += 0  # shown (0) where it is watched

    def check_drops(self) -> None:
        """Read the socket's kernel drop count; count and (at most every `DROP_WARN_S`) log a growth."""
        if self._inode is None:
            return
        seen = kernel_drops(self._inode, self.tables)
        if seen is None or seen <= self._kernel_seen:
            if seen is None:  # the table went away (it does not, on Linux): stop looking
                self._inode = None
            return
        grown, self._kernel_seen = seen - self._kernel_seen, seen
        self.status.drops[KERNEL_OVERFLOW] += grown
        self._unwarned += grown
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < DROP_WARN_S:
            return
        self._warned_at = now
        size = "" if self.receive_buffer is None else f" of {_kib(self.receive_buffer)}"
        self.log.warning(
            "%s: the kernel dropped %d datagrams (%d in all): they came faster than they were read and "
            "the receive buffer%s was full (receive_buffer_bytes, net.core.rmem_max)",
            self.describe(),
            self._unwarned,
            self.status.drops[KERNEL_OVERFLOW],
            size,
        )
        self._unwarned = 0
