"""What every feed reader shares: the sink it feeds, its status, line splitting and back-off.

A source is an object with a `status` (`SourceStatus`) and ``async run(sink)``; `run` reads lines
until its input ends (a file) or forever (TCP, UDP, MQTT), handing every line to
``sink.feed_line(line, source, received, time_offset)``. It never raises for anything its feed
does (refusal, disconnect, junk): it counts, logs each change of state once, and carries on.
`vts.sources.runner.SourceRunner` supervises several sources so that one that fails (even from a
bug) never stops the others.

A new kind of source (for instance `vts.sources.mqtt.MqttSource`) subclasses `Source`, takes a
`SourceSettings` and implements `run`; `vts.sources.runner.make_source` imports it lazily.
"""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from vts.sources.settings import SourceSettings

log = logging.getLogger("vts.sources")

MAX_LINE_BYTES = 16_384
"""A longer line is junk (a real NMEA line is under 100 bytes; tag blocks add some): dropped, counted."""
PARTIAL_LINE = "partial_line"
"""Drop reason: the unterminated tail of a stream cut by a disconnect."""
OVERLONG_LINE = "overlong_line"
"""Drop reason: a line longer than `MAX_LINE_BYTES`."""
KERNEL_OVERFLOW = "kernel_overflow"
"""Drop reason: datagrams the kernel dropped because the socket's receive buffer was full (UDP,
read from /proc/net/udp on Linux): each may have held one or more lines."""


class LineSink(Protocol):
    """Where sources put their lines (the core, through `vts.sources.runner.CoreFeed`).

    A sink may also offer ``feed_lines(lines, source, received, time_offset)``, the same as
    `feed_line` on each line but cheaper per line (`Source.emit_many` uses it when it is there), and
    ``end_of_input(source)``, told when a file has been read through or standard input closed
    (`Source.emit_end`)."""

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        """One raw line; `received` is the wall-clock receive time (None: the line's own time)."""

    def event_time(self, source: str) -> float | None:
        """The latest event time (time offset included) of the reports from `source`."""

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        """First and last event times of the reports from `source`."""


@dataclass
class SourceStatus:
    """What a source did so far; shown in the daemon's health, the map and the replay summary."""

    name: str
    kind: str
    state: str = "starting"
    """starting, connecting, connected, retrying, listening, reading, waiting, finished, failed, stopped."""
    detail: str = ""
    lines: int = 0
    bytes: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    """Lines lost before the sentence layer (partial lines at a disconnect, overlong lines), and
    datagrams the kernel dropped before the reader saw them (`KERNEL_OVERFLOW`)."""
    connects: int = 0
    failures: int = 0
    """Connection attempts that failed (refused, unreachable, timed out) or binds that failed."""
    disconnects: int = 0
    passes: int = 0
    """Files: completed passes over the input (loop mode)."""
    last_line_wall: float | None = None
    state_since: float = field(default_factory=time.time)
    created: float = field(default_factory=time.time)
    """When the source was made: a source that has never sent a line has been silent since then
    (not since its latest state: a feed retrying for an hour is an hour silent)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "detail": self.detail,
            "lines": self.lines,
            "bytes": self.bytes,
            "reader_drops": dict(sorted(self.drops.items())),
            "connects": self.connects,
            "failures": self.failures,
            "disconnects": self.disconnects,
            "passes": self.passes,
            "last_line_wall": self.last_line_wall,
            "state_since": self.state_since,
        }


class Source(ABC):
    """A named feed of raw lines."""

    kind: str = "?"
    routine_level: int = logging.INFO
    """Log level of routine changes (a file started or finished); `vts replay` lowers it to debug."""

    def __init__(self, settings: SourceSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.status = SourceStatus(name=settings.name, kind=settings.kind)
        self.log = logging.getLogger(f"vts.sources.{settings.kind}")
        self._logged: tuple[str, str] | None = None

    @property
    def live(self) -> bool:
        """True when the lines arrive in real time (TCP, UDP, stdin, MQTT), False for recorded files."""
        return True

    @abstractmethod
    async def run(self, sink: LineSink) -> None:
        """Read until the input ends (files) or for ever (network feeds)."""

    def describe(self) -> str:
        return f"{self.kind} source {self.name!r}"

    def set_state(
        self,
        state: str,
        detail: str = "",
        *,
        level: int = logging.INFO,
        key: str | None = None,
        repeat: bool = False,
    ) -> None:
        """Record a change of state and log it once: the same (state, key) again, with nothing logged
        in between, goes to debug level. `key` (default: `detail`) says what makes two states the
        same, e.g. the kind of error but not the retry delay. Debug-level states do not count.
        `repeat` logs it at `level` even when it is the same again (a periodic summary)."""
        if state != self.status.state:
            self.status.state_since = time.time()
        self.status.state = state
        self.status.detail = detail
        message = f"{self.describe()}: {state}" + (f" ({detail})" if detail else "")
        ident = (state, key if key is not None else detail)
        if level <= logging.DEBUG or (ident == self._logged and not repeat):
            self.log.debug("%s", message)
            return
        self._logged = ident
        self.log.log(level, "%s", message)

    def emit(self, sink: LineSink, line: bytes, received: float | None, time_offset: float = 0.0) -> None:
        """Count one line and hand it to the sink."""
        st = self.status
        st.lines += 1
        st.bytes += len(line) + 1
        st.last_line_wall = time.time()
        sink.feed_line(line, self.name, received, time_offset)

    def emit_end(self, sink: LineSink) -> None:
        """This source's input ended (a file's pass, EOF): tell the sink, if it listens."""
        end = getattr(sink, "end_of_input", None)
        if end is not None:
            end(self.name)

    def emit_many(
        self, sink: LineSink, lines: list[bytes], received: float | None, time_offset: float = 0.0
    ) -> None:
        """Count a chunk of lines and hand them to the sink at once (a replay's fast path)."""
        st = self.status
        st.lines += len(lines)
        st.bytes += sum(map(len, lines)) + len(lines)
        st.last_line_wall = time.time()
        feed_lines = getattr(sink, "feed_lines", None)
        if feed_lines is not None:
            feed_lines(lines, self.name, received, time_offset)
        else:
            for line in lines:
                sink.feed_line(line, self.name, received, time_offset)


class LineSplitter:
    """Bytes arriving in arbitrary pieces -> complete, non-empty lines (``\\n``, ``\\r\\n`` or ``\\r`` ended).

    The unterminated tail is kept for the next piece; `reset` discards it (a disconnect) and says
    whether there was one. A line longer than `max_line` is dropped up to its end and counted.
    """

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding = False
        self.overlong = 0

    @property
    def partial(self) -> bytes:
        return bytes(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        if b"\r" in data:
            data = data.replace(b"\r", b"\n")  # "\r\n" gives an empty line, skipped below
        parts = data.split(b"\n")
        tail = parts.pop()  # after the last line end (empty when the data ends with one)
        if parts:  # the held line ends in this piece
            if self._discarding:  # the rest of an overlong line: dropped (it was counted)
                self._discarding = False
                parts[0] = b""
            elif self._buf:
                self._buf += parts[0]
                parts[0] = bytes(self._buf)
                self._buf.clear()
            max_line = self.max_line
            lines = [line for line in parts if line and len(line) <= max_line]
            if len(lines) < len(parts):
                self.overlong += sum(1 for line in parts if len(line) > max_line)
        else:
            lines = []
        if not self._discarding:
            self._buf += tail
            if len(self._buf) > self.max_line:
                self.overlong += 1
                self._buf.clear()
                self._discarding = True
        return lines

    def reset(self) -> bool:
        """Forget the unterminated tail; True when there was one (a line cut in the middle)."""
        had = bool(self._buf) and not self._discarding
        self._buf.clear()
        self._discarding = False
        return had

    def take_overlong(self) -> int:
        n, self.overlong = self.overlong, 0
        return n


class Backoff:
    """Exponential back-off with jitter: ``initial``, doubling up to ``maximum``; each delay is drawn
    uniformly from [d/2, d] ("equal jitter"), so many clients do not reconnect in lock-step."""

    def __init__(
        self, initial: float = 1.0, maximum: float = 60.0, *, rng: random.Random | None = None
    ) -> None:
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.attempts = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        d = min(self.maximum, self.initial * (2.0**self.attempts))
        self.attempts += 1
        return d / 2.0 + self._rng.uniform(0.0, d / 2.0)

    def reset(self) -> None:
        self.attempts = 0
