"""Recorded logs (plain, gzip, bzip2, xz or zip, detected by content) and standard input.

Lines of a file carry their own time (tag block, $PGHP, trailing epoch...): they are fed with
``received=None``. With ``speed`` set, the reader paces itself by that event time (``speed: 10`` is
ten times real time); without it, it reads as fast as the core takes the lines, yielding to the
event loop every few thousand lines so the other sources, the map and MQTT keep running.

Loop mode (the demo) reads the file again and again; every pass adds the log's event-time span
plus a gap (`loop_gap_s`) to the time of its lines, so event time keeps moving forward.
"""

from __future__ import annotations

import asyncio
import bz2
import concurrent.futures
import contextlib
import gzip
import heapq
import io
import logging
import lzma
import math
import os
import select
import sys
import threading
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import IO, BinaryIO, ClassVar

from vts.ais_tables import TableLayout, earliest_time, table_layout, table_sentences
from vts.sources.base import OVERLONG_LINE, PARTIAL_LINE, LineSink, LineSplitter, Source
from vts.sources.settings import SourceSettings

YIELD_EVERY = 2_000
"""Lines between two yields to the event loop when reading as fast as possible."""
READ_BYTES = 65_536
"""Bytes read from a file at a time (split into lines by `LineSplitter`)."""
CHUNK_LINES = 1_000
"""Lines handed to the core at once when a log is read as fast as possible."""
MIN_SLEEP_S = 0.005
"""Pacing sleeps shorter than this are saved up (lines are fed in small bursts instead)."""
MAX_PACED_WAIT_S = 30.0
"""A gap in the data that would take longer than this (wall clock) to wait out is skipped."""
MAX_BUSY_S = 0.02
"""A paced reader that has not slept for this long (wall clock: it is behind its schedule, the core
cannot keep up) yields to the event loop anyway, so the map, MQTT and the signals are served."""
LOOP_GAP_S = 1.0
"""Event time between the end of one pass over a looped log and the start of the next (default).
The daemon uses the tracker's forget time plus a minute instead (see `loop_gap_for`), so the
vessels of one pass are forgotten before the next begins, rather than seen jumping back to where
they started."""
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
HEAD_BYTES = 4096
"""What a followed file's start is read for: a compression magic, or a decoded table's header line."""
ZIP_MAGIC = b"PK\x03\x04"
_MAGICS = (GZIP_MAGIC, BZIP2_MAGIC, XZ_MAGIC, ZIP_MAGIC)
AT_THE_END = "at the end of the file: following it"
"""A followed file's state detail while it waits for more."""
READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError, zipfile.BadZipFile)
"""What reading a damaged, truncated or unreadable log raises (`OSError` covers bzip2's errors)."""

log = logging.getLogger("vts.sources.file")


class Pacer:
    """Waits so that event time advances at `speed` times the wall clock."""

    def __init__(
        self,
        speed: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.speed = speed
        self._clock = clock
        self._sleep = sleep
        self._anchor: tuple[float, float] | None = None
        """(event time, monotonic wall time) the schedule is counted from."""
        self.skipped_gaps = 0
        self.lag_s = 0.0
        """How far behind the schedule the reader is (it cannot keep up), seconds of wall time."""
        self._awake_since: float | None = None
        """Wall time of the last wait that gave the event loop a turn (`MAX_BUSY_S`)."""

    def reset(self) -> None:
        self._anchor = None

    async def wait_for(self, event_time: float | None) -> None:
        """Wait until `event_time` is due at `speed` (nothing for a gap over `MAX_PACED_WAIT_S`, or
        far behind schedule); in any case give the event loop a turn every `MAX_BUSY_S`."""
        now = self._clock()
        if self._awake_since is None:
            self._awake_since = now
        elif now - self._awake_since >= MAX_BUSY_S:
            self._awake_since = now
            await self._sleep(0)
        if event_time is None:
            return
        if self._anchor is None or event_time < self._anchor[0]:
            self._anchor = (event_time, now)
            return
        t0, w0 = self._anchor
        delay = w0 + (event_time - t0) / self.speed - now
        if delay > MAX_PACED_WAIT_S:
            self.skipped_gaps += 1
            log.info("skipping a gap of %.0f s in the data (pacing at %gx)", delay * self.speed, self.speed)
            self._anchor = (event_time, now)
        elif delay >= MIN_SLEEP_S:
            self.lag_s = 0.0
            await self._sleep(delay)
            self._awake_since = self._clock()
        elif delay < -1.0:  # far behind schedule: start counting again rather than rush to catch up
            self.lag_s = -delay
            self._anchor = (event_time, now)


def loop_gap_for(forget_after_s: float) -> float:
    """The gap between passes of a looped log for a tracker that forgets vessels after `forget_after_s`."""
    return forget_after_s + 60.0


def log_files(given: str) -> list[str]:
    """The logs a command-line argument names: a folder's files (not hidden ones, not subfolders),
    by name; anything else as given (a file, ``-``, a path that does not exist)."""
    path = Path(given)
    if given == "-" or not path.is_dir():
        return [given]
    return sorted(str(p) for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def _compressed(head: bytes) -> bool:
    """Whether `head`, the first bytes of a log, is the magic of gzip, bzip2, xz or zip."""
    return head.startswith(_MAGICS)


def _unpacked(head: bytes, stream: IO[bytes]) -> BinaryIO | None:
    """`stream` decompressed when `head`, its first bytes, is the magic of gzip, bzip2 or xz; None
    otherwise (plain, or a zip archive: read differently from a file and from a pipe)."""
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if head.startswith(BZIP2_MAGIC):
        return bz2.BZ2File(stream, mode="rb")  # type: ignore[return-value]
    if head == XZ_MAGIC:
        return lzma.LZMAFile(stream, mode="rb")  # type: ignore[return-value]
    return None


def open_log(path: str | Path) -> tuple[BinaryIO, IO[bytes]]:
    """(line reader, raw file) of a log, plain or compressed (gzip, bzip2, xz, zip: told by its
    content, not its name); the raw file's position gives the progress. A zip archive is read member
    after member, in the order of their names (a day's logs, one file per hour)."""
    raw = open(path, "rb")
    try:
        magic = raw.read(6)
        raw.seek(0)
        unpacked = _unpacked(magic, raw)
        if unpacked is not None:
            return unpacked, raw
        if magic.startswith(ZIP_MAGIC):
            return io.BufferedReader(_ZipMembers(zipfile.ZipFile(raw)), READ_BYTES), raw  # type: ignore[return-value]
    except BaseException:
        raw.close()
        raise
    return raw, raw


FIRST_TIME_LINES = 2_000
"""Lines `first_event_time` looks through for a time."""


def line_event_time(line: bytes) -> float | None:
    """The event time a log line carries (tag block ``c:``, a ``$PGHP`` line, metadata after the
    checksum, a log-line time prefix), None when it carries none."""
    from vts.nmea import parse_line

    parsed = parse_line(line)
    if parsed.gatehouse_time is not None:
        return parsed.gatehouse_time
    for sentence in parsed.sentences:
        t = sentence.time if sentence.time is not None else sentence.late_time
        if t is not None:
            return t
    return None


def first_event_time(path: str | Path, max_lines: int = FIRST_TIME_LINES) -> float | None:
    """The event time of the first line, among the first `max_lines` of a log, that carries one
    (`line_event_time`); None when none does (an untimed log) or the log cannot be read."""
    try:
        reader, raw = open_log(path)
        with reader, raw:
            first = next(reader, b"")
            layout = table_layout(first.decode("utf-8", "replace"))
            if layout is not None:  # a decoded AIS table: the earliest of its first rows
                return earliest_time(layout, islice(reader, max_lines))
            for line in chain([first], islice(reader, max_lines - 1)):
                t = line_event_time(line)
                if t is not None:
                    return t
    except READ_ERRORS:
        return None
    return None


def whole_line(line: bytes) -> bool:
    """Whether an unterminated last line is whole all the same (every piece of it a checked sentence,
    or something harmless: no drop), rather than a line cut in the middle."""
    from vts.nmea import parse_line

    return not parse_line(line).drops


class _ZipMembers(io.RawIOBase):
    """The files of a zip archive read one after the other, in name order, as one stream; a member
    that does not end its last line is given a line end, so two members' lines never join."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        super().__init__()
        self._archive = archive
        self._names = sorted(i.filename for i in archive.infolist() if not i.is_dir())
        self._member: IO[bytes] | None = None
        self._last = b"\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        while True:
            if self._member is None:
                if not self._names:
                    return 0
                self._member = self._archive.open(self._names.pop(0))
            data = self._member.read(len(view))
            if data:
                view[: len(data)] = data
                self._last = data[-1:]
                return len(data)
            self._member.close()
            self._member = None
            if self._last not in (b"\n", b"\r"):
                self._last = b"\n"
                view[:1] = b"\n"
                return 1

    def close(self) -> None:
        if self._member is not None:
            self._member.close()
            self._member = None
        self._archive.close()
        super().close()


class FileSource(Source):
    """One log: read once, in a loop (a recording, the demo), or followed as it grows (a live log).

    Followed (`follow`, like ``tail -F``): after the end of the file it is looked at every `poll_s`
    for lines appended (a last line still being written is held until its line end comes); a file
    that shrinks was truncated (said at WARNING, read again from its start); a path that now names
    another file was rotated (the old file is read to its end, then the new one from its start,
    said at INFO); a missing file is waited for (said once at WARNING, and when it appears). The
    input never ends, so the sink is not told of an end (`Source.emit_end`) while following. Only a
    plain file can be followed: a compressed one is read once. Read once, a file that shrank while
    it was read ends early: said at WARNING. Looped, a file that goes missing is waited for."""

    kind = "file"

    def __init__(
        self, settings: SourceSettings, *, loop_gap_s: float = LOOP_GAP_S, follow: bool = False
    ) -> None:
        """`follow`: whether the file is followed when its settings do not say (`vts run` follows
        unless it loops, `vts replay` does not)."""
        super().__init__(settings)
        assert settings.path is not None
        self.path = Path(settings.path).expanduser()
        self.loop_gap_s = loop_gap_s
        self.follow = settings.follows(follow)
        self.poll_s = settings.poll_s
        self.pacer = Pacer(settings.speed) if settings.speed else None
        self.time_offset = 0.0
        self.size = 0
        self.position = 0
        """Bytes of the (compressed) file read in the current pass, for progress bars."""
        self._shrank: tuple[int, int] | None = None
        """(size at open, size at the end) of a pass over a file that shrank while it was read."""

    @property
    def live(self) -> bool:
        return False

    def describe(self) -> str:
        return f"file source {self.name!r} ({self.path})"

    def progress(self) -> float:
        """Fraction of the current pass read, 0..1."""
        return min(1.0, self.position / self.size) if self.size else 0.0

    async def run(self, sink: LineSink) -> None:
        if self.follow:
            await self._follow(sink)
            return
        step: float | None = None
        while True:
            lines_before = self.status.lines
            opened = await self._open_waiting() if self.settings.loop else self._open_pass()
            if opened is None or not await self._read_opened(sink, opened):
                return
            self._end_pass(sink)
            if self.settings.loop and self.status.lines == lines_before:
                self.set_state("finished", "empty file: nothing to loop over", level=logging.WARNING)
                return
            if not self.settings.loop:
                self._finished()
                return
            if self._shrank is not None:
                self.set_state("reading", self._shrank_detail(), level=logging.WARNING)
            if step is None:
                first, last = sink.event_span(self.name)
                step = (last - first if first is not None and last is not None else 0.0) + self.loop_gap_s
            self.time_offset += step
            if self.pacer is not None:
                self.pacer.reset()
            self.set_state("reading", f"looping: pass {self.status.passes + 1}", level=logging.DEBUG)
            await asyncio.sleep(0)

    def _open(self) -> tuple[BinaryIO, IO[bytes]]:
        """The log opened (`open_log`), its size noted; raises what `open_log` raises."""
        reader, raw = open_log(self.path)
        try:
            self.size = os.fstat(raw.fileno()).st_size
        except OSError:
            reader.close()
            raw.close()
            raise
        self.position = 0
        return reader, raw

    def _cannot_open(self, e: BaseException) -> str:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        return f"cannot open: {reason}"

    def _open_pass(self) -> tuple[BinaryIO, IO[bytes]] | None:
        """Open the log for a pass (state "reading"); None when it cannot be opened (state "failed")."""
        try:
            opened = self._open()
        except READ_ERRORS as e:
            self.set_state("failed", self._cannot_open(e), level=logging.ERROR)
            return None
        self.set_state("reading", level=self.routine_level if self.status.passes == 0 else logging.DEBUG)
        return opened

    async def _open_waiting(self) -> tuple[BinaryIO, IO[bytes]] | None:
        """`_open_pass`, but a file that cannot be opened (missing, not readable) is waited for:
        said once at WARNING, looked for again every `poll_s`, said at INFO when it can be read. A
        file whose content cannot be read (a broken zip archive) fails, as in `_open_pass`."""
        waited = False
        while True:
            try:
                opened = self._open()
            except OSError as e:
                self._waiting(self._cannot_open(e))
                waited = True
                await asyncio.sleep(self.poll_s)
                continue
            except READ_ERRORS as e:
                self.set_state("failed", self._cannot_open(e), level=logging.ERROR)
                return None
            if waited:
                self.set_state("reading", f"{self.path} can be read again", level=logging.INFO)
            else:
                level = self.routine_level if self.status.passes == 0 else logging.DEBUG
                self.set_state("reading", level=level)
            return opened

    def _waiting(self, why: str) -> None:
        """Waiting for the file (said once for the same reason)."""
        self.set_state(
            "waiting", f"{why}; looking for it again every {self.poll_s:g} s", level=logging.WARNING, key=why
        )

    def _end_pass(self, sink: LineSink) -> None:
        """A pass read through (or broken off): the sink is told, the pass counted."""
        self.emit_end(sink)
        self.status.passes += 1

    def _finished(self) -> None:
        """The last pass is over: "finished", unless it broke off ("damaged" stays: the error was
        logged, and what was read counts); at WARNING when the file shrank while it was read."""
        if self.status.state == "damaged":
            return
        if self._shrank is not None:
            self.set_state("finished", self._shrank_detail(), level=logging.WARNING)
            return
        self.set_state("finished", f"{self.status.lines} lines", level=self.routine_level)

    def _shrank_detail(self) -> str:
        assert self._shrank is not None
        before, after = self._shrank
        return (
            f"{self.status.lines} lines; the file shrank from {before} to {after} bytes while it was"
            " read (truncated): what it held beyond was not read"
        )

    def _damaged(self, e: BaseException) -> None:
        """A truncated or damaged archive, or a read error: what was read counts, the rest is lost."""
        self.set_state(
            "damaged", f"read error after {self.status.lines} lines: {e}", level=logging.ERROR, key="damaged"
        )

    async def _read_pass(self, sink: LineSink) -> bool:
        """One pass over the file; False when it could not be read at all."""
        opened = self._open_pass()
        return opened is not None and await self._read_opened(sink, opened)

    async def _read_opened(self, sink: LineSink, opened: tuple[BinaryIO, IO[bytes]]) -> bool:
        """One pass over the opened file; False when it could not be read at all."""
        reader, raw = opened
        self._shrank = None
        try:
            with reader, raw:
                await self._feed(sink, self._sentences(reader), raw)
                with contextlib.suppress(OSError):
                    size = os.fstat(raw.fileno()).st_size
                    if size < self.size:  # truncated while read: the reader met its new end
                        self._shrank = (self.size, size)
        except READ_ERRORS as e:
            self._damaged(e)
            return self.status.lines > 0
        return True

    # -- following a live log ----------------------------------------------------------------------
    async def _follow(self, sink: LineSink) -> None:
        raw = await self._open_followed(sink, rotated=False)
        if raw is None:
            return
        splitter = LineSplitter()
        gone = False
        try:
            while True:
                await self._read_appended(sink, raw, splitter)
                at = raw.tell()
                size = os.fstat(raw.fileno()).st_size
                self.size, self.position = max(size, at), at
                if size < at:  # truncated (or rewritten shorter): read again from its start
                    self._cut(sink, splitter)
                    self.set_state(
                        "reading",
                        f"the file shrank to {size} bytes, {at} had been read (truncated): reading it"
                        " again from its start",
                        level=logging.WARNING,
                    )
                    raw.seek(0)
                    continue
                try:
                    now = os.stat(self.path)
                except OSError as e:  # deleted, or renamed and not made again yet
                    if not gone:
                        gone = True
                        reason = e.strerror or e
                        self._waiting(
                            f"{reason}: the file was deleted or moved; what is added to it is still read"
                        )
                    await asyncio.sleep(self.poll_s)
                    continue
                mine = os.fstat(raw.fileno())
                if (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):  # rotated: a new file
                    await self._read_appended(sink, raw, splitter)  # what the writer added meanwhile
                    self._cut(sink, splitter)
                    raw.close()
                    lines = self.status.lines
                    new = await self._open_followed(sink, rotated=True, lines=lines)
                    if new is None:
                        return
                    raw, gone = new, False
                    continue
                if gone:  # the same file is back under its name (moved back)
                    gone = False
                    self.set_state("reading", f"{self.path} is back", level=logging.INFO)
                if self.status.detail != AT_THE_END:  # (said once, not at every look)
                    self.set_state("reading", AT_THE_END, level=logging.DEBUG)
                await asyncio.sleep(self.poll_s)
        except READ_ERRORS as e:
            self._damaged(e)
        finally:
            raw.close()

    async def _open_followed(self, sink: LineSink, *, rotated: bool, lines: int = 0) -> IO[bytes] | None:
        """The file at `path` opened to be followed (waited for while it cannot be opened). A
        compressed file cannot be followed: it is read once (said), and None returned."""
        waited = False
        while True:
            try:
                raw = open(self.path, "rb", buffering=0)  # (`_follow` closes it)
            except OSError as e:
                self._waiting(self._cannot_open(e))
                waited = True
                await asyncio.sleep(self.poll_s)
                continue
            try:
                head = raw.read(HEAD_BYTES)
                raw.seek(0)
                self.size, self.position = os.fstat(raw.fileno()).st_size, 0
            except OSError as e:
                raw.close()
                self._waiting(f"cannot read: {e.strerror or e}")
                waited = True
                await asyncio.sleep(self.poll_s)
                continue
            break
        if rotated:
            self.set_state(
                "reading",
                f"{self.path} was rotated: the old file read to its end ({lines} lines so far), reading"
                " the new one from its start",
                level=logging.INFO,
            )
        elif waited:
            self.set_state("reading", f"{self.path} appeared", level=logging.INFO)
        else:
            self.set_state("reading", "following it", level=self.routine_level)
        if _compressed(head):
            what = "compressed"
        elif table_layout(head.split(b"\n", 1)[0].decode("utf-8", "replace")) is not None:
            what = "a decoded AIS table"
        else:
            return raw
        raw.close()
        self.log.warning("%s: %s, it cannot be followed: read once, to its end", self.describe(), what)
        if await self._read_pass(sink):
            self._end_pass(sink)
            self._finished()
        return None

    async def _read_appended(self, sink: LineSink, raw: IO[bytes], splitter: LineSplitter) -> None:
        """What is in the file from the current position to its end, fed line by line; a last line
        without its line end is held by `splitter` until the rest comes."""
        drops = self.status.drops
        while True:
            chunk = raw.read(READ_BYTES)
            if not chunk:
                return
            lines = splitter.feed(chunk)
            overlong = splitter.take_overlong()
            if overlong:
                drops[OVERLONG_LINE] += overlong
            self.position = raw.tell()
            if self.pacer is None:
                if lines:
                    self.emit_many(sink, lines, None)
                await asyncio.sleep(0)
                continue
            for line in lines:
                self.emit(sink, line, None)
                await self.pacer.wait_for(sink.event_time(self.name))

    def _cut(self, sink: LineSink, splitter: LineSplitter) -> None:
        """The file the held last line belongs to ends here (truncated, rotated): the line is fed
        if it is whole all the same, else counted as a `PARTIAL_LINE` (never decoded half)."""
        tail = splitter.partial
        if splitter.reset():
            if whole_line(tail):
                self.emit(sink, tail, None)
            else:
                self.status.drops[PARTIAL_LINE] += 1

    def _lines(self, reader: BinaryIO) -> Iterator[bytes]:
        """The file's lines, ended by ``\n``, ``\r\n`` or ``\r`` as on the network feeds (the same
        `LineSplitter`); the last may lack its line end. A line longer than `MAX_LINE_BYTES` (binary
        junk) is skipped and counted, never held in memory whole. A read error (a truncated gzip)
        counts the line it cut (`PARTIAL_LINE`) and is raised to the caller."""
        splitter = LineSplitter()
        read = getattr(reader, "read1", reader.read)
        drops = self.status.drops
        try:
            while True:
                chunk = read(READ_BYTES)
                if not chunk:
                    break
                yield from splitter.feed(chunk)
                overlong = splitter.take_overlong()
                if overlong:
                    drops[OVERLONG_LINE] += overlong
        except READ_ERRORS:
            if splitter.reset():
                drops[PARTIAL_LINE] += 1
            raise
        tail = splitter.partial
        if splitter.reset():
            yield tail

    def _sentences(self, reader: BinaryIO) -> Iterator[bytes]:
        """The file's lines (`_lines`); a decoded AIS table's rows as the sentences they came from
        (`vts.ais_tables`)."""
        return table_sentences(self._lines(reader), self.status.drops, self._reading_table)

    def _reading_table(self, layout: TableLayout) -> None:
        self.set_state(
            "reading",
            f"a {layout.name}: its rows are put in time order and re-encoded as AIS sentences",
            level=logging.INFO,
        )

    async def _feed(self, sink: LineSink, lines: Iterator[bytes], raw: IO[bytes]) -> None:
        pacer = self.pacer
        offset = self.time_offset
        if pacer is None:  # as fast as possible: whole chunks to the core (`Core.feed_lines`)
            while True:
                chunk: list[bytes] = []
                try:
                    chunk.extend(islice(lines, CHUNK_LINES))
                finally:  # a read error mid-chunk: the lines read before it still count
                    if chunk:
                        self.emit_many(sink, chunk, None, offset)
                if not chunk:
                    break
                self.position = raw.tell()
                await asyncio.sleep(0)
            self.position = self.size
            return
        n = 0
        for line in lines:
            self.emit(sink, line, None, offset)
            n += 1
            if pacer is not None:
                await pacer.wait_for(sink.event_time(self.name))
                if n % 256 == 0:
                    self.position = raw.tell()
            elif n % YIELD_EVERY == 0:
                self.position = raw.tell()
                await asyncio.sleep(0)
        self.position = self.size


async def feed_merged(sources: Sequence[FileSource], sink: LineSink, pacer: Pacer | None = None) -> None:
    """Several logs of the same hours (receivers of one area) read as one: their lines interleaved
    by the timestamps they carry, each fed under its own log's name (`vts replay --merge`).

    A log's own order is kept: a line is placed by the latest timestamp its log has shown so far
    (a line without one, or a little out of order, stays after the lines before it in its log), so
    the sentences of a multi-sentence message stay together. With `pacer`, paced by event time;
    without, fed in chunks of lines of one log. A log that cannot be opened fails, one that breaks
    off is damaged (what was read counts); the others go on."""
    opened: list[tuple[FileSource, BinaryIO, IO[bytes]]] = []
    for source in sources:
        log_files = source._open_pass()
        if log_files is not None:
            opened.append((source, *log_files))
    try:
        streams = [_keyed_lines(i, source, reader) for i, (source, reader, _) in enumerate(opened)]
        chunk: list[bytes] = []
        at = -1  # the log `chunk` belongs to
        n = 0
        for _key, i, _seq, line in heapq.merge(*streams):
            source = opened[i][0]
            if pacer is not None:
                source.emit(sink, line, None, 0.0)
                await pacer.wait_for(sink.event_time(source.name))
                n += 1
                if n % 256 == 0:
                    source.position = opened[i][2].tell()
                continue
            if i != at or len(chunk) >= CHUNK_LINES:
                if chunk:
                    _emit_run(opened[at][0], sink, chunk)
                    opened[at][0].position = opened[at][2].tell()
                    n += len(chunk)
                    chunk = []
                    if n >= YIELD_EVERY:
                        n = 0
                        await asyncio.sleep(0)
                at = i
            chunk.append(line)
        if chunk:
            _emit_run(opened[at][0], sink, chunk)
    finally:
        for _source, reader, raw in opened:
            with contextlib.suppress(*READ_ERRORS):
                reader.close()
                raw.close()
    for source, _, _ in opened:
        source.position = source.size
        source._end_pass(sink)
        source._finished()


MIN_CHUNK_LINES = 64
"""A run of lines of one log shorter than this is fed line by line: a chunk's set-up costs more
than it saves on a few lines (logs of the same hours alternate every line or two)."""


def _emit_run(source: FileSource, sink: LineSink, lines: list[bytes]) -> None:
    if len(lines) >= MIN_CHUNK_LINES:
        source.emit_many(sink, lines, None, 0.0)
        return
    for line in lines:
        source.emit(sink, line, None, 0.0)


def _keyed_lines(i: int, source: FileSource, reader: BinaryIO) -> Iterator[tuple[float, int, int, bytes]]:
    """(latest timestamp of the log so far, log index, line number, line) for `heapq.merge`: the keys
    never decrease within a log. A read error ends the log's lines (it is marked damaged)."""
    key = -math.inf
    try:
        for seq, line in enumerate(source._sentences(reader)):
            t = line_event_time(line)
            if t is not None and t > key:
                key = t
            yield key, i, seq, line
    except READ_ERRORS as e:
        source._damaged(e)


class StdinSource(Source):
    """Standard input (``vts replay -`` or a pipe into ``vts run``).

    `live` decides the time of lines without their own: the receive time (a live pipe such as
    ``nc receiver 10110 | vts run``) or the last event time seen (a recorded log piped in).
    A thread does the blocking reads, so the event loop never waits on the pipe. A live pipe that
    closes is a feed that ended: said at WARNING (the daemon runs on), a line it cut in the middle
    counted as a `PARTIAL_LINE`; a recorded log's end is routine.
    """

    kind = "stdin"

    def __init__(
        self, settings: SourceSettings, *, live: bool = True, stream: BinaryIO | None = None
    ) -> None:
        super().__init__(settings)
        self._live = live
        self.stream = stream
        self.pacer = Pacer(settings.speed) if settings.speed else None

    @property
    def live(self) -> bool:
        return self._live

    def describe(self) -> str:
        return f"stdin source {self.name!r}"

    async def run(self, sink: LineSink) -> None:
        stream = self.stream
        if stream is None:
            if sys.stdin is None:  # started with standard input closed (``vts run <&-``)
                self.set_state("failed", "standard input is closed: nothing to read", level=logging.ERROR)
                return
            stream = sys.stdin.buffer
        reader = _StreamReader.of(stream, asyncio.get_running_loop())
        self.set_state("reading", level=self.routine_level)
        pending = reader.pending
        while True:
            while pending:  # taken one at a time: a source stopped here leaves the rest to its successor
                line = pending.popleft()
                self.emit(sink, line, time.time() if self._live else None)
                if self.pacer is not None:
                    await self.pacer.wait_for(sink.event_time(self.name))
            item = await reader.queue.get()
            if item is None or isinstance(item, Exception):
                break
            pending.extend(reader.splitter.feed(item))
            overlong = reader.splitter.take_overlong()
            if overlong:
                self.status.drops[OVERLONG_LINE] += overlong
            await asyncio.sleep(0)
        reader.close()
        tail = reader.splitter.partial
        if reader.splitter.reset():  # the last line may lack its line end
            # a recorded log's last line is a line all the same; a live feed cut off in the middle
            # of a line loses its rest, as a TCP feed cut by a disconnect (a whole sentence is fed)
            if isinstance(item, Exception) or (self._live and not whole_line(tail)):
                self.status.drops[PARTIAL_LINE] += 1
            else:
                self.emit(sink, tail, time.time() if self._live else None)
        self.emit_end(sink)
        if isinstance(item, Exception):
            self.set_state(
                "damaged", f"read error after {self.status.lines} lines: {item}", level=logging.ERROR
            )
            return
        if self._live:  # the feed is gone: nothing more will come from it (the daemon runs on)
            self.set_state(
                "finished",
                f"standard input closed after {self.status.lines} lines: the feed ended, nothing more"
                " will come from it",
                level=logging.WARNING,
            )
            return
        self.set_state("finished", f"{self.status.lines} lines", level=self.routine_level)


class _StreamReader:
    """The one thread that reads a stream (standard input) for the `StdinSource`s that read it in turn.

    Reads block, so a thread does them and hands the chunks over through an asyncio queue (at most
    `QUEUE_CHUNKS` waiting: back-pressure on the pipe). A source stopped by a reload cannot stop a
    read already under way; so the thread, the queue, the split lines not yet fed and the line cut
    between two chunks belong to the stream, not to the source, and the next source on the same
    stream takes up where the last one stopped: nothing is lost, and never do two threads read one
    stream. A read error ends the stream like its end, and is passed on (the source reports it)."""

    QUEUE_CHUNKS = 64
    _open: ClassVar[dict[tuple[str, int], _StreamReader]] = {}
    """Readers by file descriptor (two file objects over one descriptor read the same input), or by
    object for a stream with none (a test's BytesIO)."""

    def __init__(self, stream: IO[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.stream = stream
        self.loop = loop
        self.queue: asyncio.Queue[bytes | Exception | None] = asyncio.Queue(maxsize=self.QUEUE_CHUNKS)
        self.splitter = LineSplitter()
        self.pending: deque[bytes] = deque()
        self.thread = threading.Thread(target=self._pump, name="stdin-reader", daemon=True)

    @classmethod
    def of(cls, stream: IO[bytes], loop: asyncio.AbstractEventLoop) -> _StreamReader:
        """The reader of `stream` on this event loop (started now if it has none)."""
        key = _stream_key(stream)
        reader = cls._open.get(key)
        if reader is None or reader.loop is not loop or (key[0] == "object" and reader.stream is not stream):
            reader = cls._open[key] = cls(stream, loop)
            reader.thread.start()
        return reader

    def close(self) -> None:
        """The stream has ended (or failed): a later source on it starts a new reader."""
        key = _stream_key(self.stream)
        if self._open.get(key) is self:
            del self._open[key]

    def _pump(self) -> None:
        """Thread: blocking reads into the queue; then None at the end, or the read error."""
        end: Exception | None = None
        try:
            try:
                read = _chunk_reader(self.stream)
            except (*READ_ERRORS, ValueError) as e:  # reading the first bytes failed
                read, end = None, e
            while read is not None:
                try:
                    chunk = read(READ_BYTES)
                except (*READ_ERRORS, ValueError) as e:  # an I/O error, a truncated archive, or closed
                    end = e
                    break
                if not chunk:
                    break
                self._put(chunk).result()
        except RuntimeError:  # the loop closed while we were blocked in read
            return
        with contextlib.suppress(RuntimeError):
            self._put(end)

    def _put(self, item: bytes | Exception | None) -> concurrent.futures.Future[None]:
        """Thread: `item` into the queue on the event loop (a full queue holds the thread back
        through the future). Raises RuntimeError when the loop is closed, the put not left behind
        as a coroutine never awaited."""
        put = self.queue.put(item)
        try:
            return asyncio.run_coroutine_threadsafe(put, self.loop)
        except RuntimeError:
            put.close()
            raise


def _chunk_reader(stream: IO[bytes]) -> Callable[[int], bytes]:
    """Thread: how the reader thread takes chunks of `stream`, decompressed when it is gzip, bzip2
    or xz (`_decompressed`).

    A stream over a file descriptor (standard input) is read with `os.read` on the descriptor, not
    through its buffered file object: a thread blocked in ``sys.stdin.buffer.read1`` holds the
    buffer's lock, and the interpreter, closing standard input as it exits (SIGTERM while the pipe
    is open but idle), aborts on that lock ("Fatal Python error: _enter_buffered_busy"). Nothing
    else reads the descriptor, so nothing is lost by going round the buffer."""
    fd = _descriptor(stream)
    if fd is None:
        unpacked = _decompressed(stream)
        return getattr(unpacked, "read1", unpacked.read)  # type: ignore[no-any-return]
    raw = _DescriptorReader(fd)
    head = raw.head(len(XZ_MAGIC))
    decompressed = _unpacked(head, raw)  # type: ignore[arg-type]
    if decompressed is not None:
        return decompressed.read1  # type: ignore[attr-defined,no-any-return]
    if head.startswith(ZIP_MAGIC):
        log.error("standard input is a zip archive, which cannot be read from a pipe: give its path instead")
    return raw.read  # type: ignore[return-value]


def _descriptor(stream: IO[bytes]) -> int | None:
    """The file descriptor `stream` reads, None when it has none (a test's BytesIO)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation: no descriptor
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


class _DescriptorReader(io.RawIOBase):
    """A file descriptor read with `os.read` (no buffer, no lock), the first bytes looked at first
    (`head`) and then given again. Blocking reads; a descriptor left non-blocking is waited on."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._given = b""
        """Bytes read by `head`, not yet handed out."""

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def _read(self, n: int) -> bytes:
        while True:
            try:
                return os.read(self._fd, n)
            except BlockingIOError:  # O_NONBLOCK set by whoever shares the pipe: wait for data
                select.select([self._fd], [], [])

    def head(self, n: int) -> bytes:
        """At least `n` first bytes (fewer at the end of the input), read on only while they may
        still be the start of a compressed stream's magic: a plain feed that sends a short first
        piece and then waits is not held up."""
        while len(self._given) < n:
            if not any(m.startswith(self._given[: len(m)]) for m in _MAGICS):
                break
            chunk = self._read(n - len(self._given) if self._given else READ_BYTES)
            if not chunk:
                break
            self._given += chunk
        return self._given[:n]

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._given:
            data, self._given = self._given[: len(view)], self._given[len(view) :]
        else:
            data = self._read(len(view))
        view[: len(data)] = data
        return len(data)


def _decompressed(stream: IO[bytes]) -> IO[bytes]:
    """`stream`, decompressed when its first bytes say it is gzip, bzip2 or xz (as `open_log` tells
    a file: ``vts replay - < feed.log.gz`` reads the log, not its compressed bytes). A zip archive
    cannot be read from a pipe (its index is at the end): said, and read as it is."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        return stream
    try:
        head = peek(6)[:6]
    except (OSError, ValueError):
        return stream
    unpacked = _unpacked(head, stream)
    if unpacked is not None:
        return unpacked
    if head.startswith(ZIP_MAGIC):
        log.error("standard input is a zip archive, which cannot be read from a pipe: give its path instead")
    return stream


def _stream_key(stream: IO[bytes]) -> tuple[str, int]:
    try:
        return ("fd", stream.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation: no descriptor
        return ("object", id(stream))
