"""Ingest: raw lines in, decoded reports out, every line accounted for. Pure, event time only.

    ingest = Ingest()
    for line in open("log.nmea", "rb"):
        for report in ingest.feed(line, source="log", received=None):
            ...
    ingest.flush()
    print(ingest.stats.summary())

Time of a line, the first found of: its tag block `c:`, a preceding `$PGHP`, the USCG/exactEarth
epoch after the checksum, a log-line timestamp prefix; else `received`, else the last event time
seen on that source (0.0 before any). `time_offset` is then added (a looped demo log moves
forward on every pass).

Accounting: every line ends in exactly one outcome per piece it holds (a sentence, or the line
itself when it holds none): a sentence that became part of a report (`assembled`), an ignored
line (blank, comment, other NMEA, metadata only), or a drop with its reason. A line with two
concatenated sentences counts two pieces (`extra_pieces` says how many such extras there were),
so ``lines + extra_pieces == assembled + sum(ignored) + sum(drops) + pending`` always holds, and
``pending`` (fragments waiting for the rest of their message) is 0 after `flush`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from vts.decode import decode_message
from vts.nmea import (
    EXPIRED_FRAGMENT,
    INTERNAL_ERROR,
    ORPHAN_FRAGMENT,
    FragmentAssembler,
    ParsedLine,
    line_bytes,
    parse_line,
    parse_plain,
    plain_checksums,
    plain_fields,
)
from vts.reports import Report

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SourceStats:
    """Counters of one source (and, in `IngestStats`, of all sources together)."""

    lines: int = 0
    messages: int = 0
    """Decoded reports produced (type 19 gives two)."""
    assembled: int = 0
    """Sentences that went into a decoded message."""
    extra_pieces: int = 0
    pending: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    first_time: float | None = None
    last_time: float | None = None
    """Event-time span of the reports produced."""

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())

    def accounted(self) -> int:
        """Outcomes so far; equals ``lines + extra_pieces`` at all times."""
        return self.assembled + sum(self.ignored.values()) + self.dropped + self.pending

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "messages": self.messages,
            "assembled_sentences": self.assembled,
            "pending_sentences": self.pending,
            "extra_pieces": self.extra_pieces,
            "drops": dict(sorted(self.drops.items())),
            "ignored": dict(sorted(self.ignored.items())),
            "first_time": self.first_time,
            "last_time": self.last_time,
        }


@dataclass(slots=True)
class IngestStats(SourceStats):
    by_source: dict[str, SourceStats] = field(default_factory=dict)

    def summary(self) -> str:
        drops = ", ".join(f"{k}={v}" for k, v in sorted(self.drops.items())) or "none"
        ignored = ", ".join(f"{k}={v}" for k, v in sorted(self.ignored.items())) or "none"
        return (
            f"lines={self.lines} messages={self.messages} dropped={self.dropped} ({drops}) "
            f"ignored={sum(self.ignored.values())} ({ignored})"
        )

    def as_dict(self) -> dict[str, object]:
        d = SourceStats.as_dict(self)
        d["by_source"] = {name: s.as_dict() for name, s in sorted(self.by_source.items())}
        return d


class _SourceState:
    __slots__ = ("assembler", "gatehouse_time", "last_time", "stats")

    def __init__(self) -> None:
        self.assembler = FragmentAssembler()
        self.last_time = 0.0
        self.gatehouse_time: float | None = None
        self.stats = SourceStats()


class Ingest:
    """Sentence layer + decoder for any number of named sources. Never raises on any input."""

    def __init__(self) -> None:
        self.stats = IngestStats()
        self._sources: dict[str, _SourceState] = {}

    def _state(self, source: str) -> _SourceState:
        state = _SourceState()
        self._sources[source] = state
        self.stats.by_source[source] = state.stats
        return state

    def feed(
        self, line: str | bytes, source: str, received: float | None, time_offset: float = 0.0
    ) -> list[Report]:
        """One raw line from `source`; returns the reports it completed (often one, maybe none)."""
        state = self._sources.get(source) or self._state(source)
        total = self.stats
        sstats = state.stats
        total.lines += 1
        sstats.lines += 1
        if state.gatehouse_time is None and not state.assembler.groups:
            plain = parse_plain(line)
            if plain is not None:
                return self._single(plain, None, None, state, source, received, time_offset)
        parsed = parse_line(line)
        sentences = parsed.sentences
        if (
            len(sentences) == 1
            and not parsed.drops
            and parsed.ignored is None
            and parsed.gatehouse_time is None
            and state.gatehouse_time is None
            and sentences[0].count == 1
            and not state.assembler.groups
        ):
            s = sentences[0]
            return self._single(
                (s.own_ship, s.payload, s.fill, s.channel),
                s.time if s.time is not None else s.late_time,
                s.station,
                state,
                source,
                received,
                time_offset,
            )
        extra = len(sentences) + len(parsed.drops) + (1 if parsed.ignored else 0) - 1
        if extra > 0:
            total.extra_pieces += extra
            sstats.extra_pieces += extra
        if parsed.ignored is not None:
            total.ignored[parsed.ignored] += 1
            sstats.ignored[parsed.ignored] += 1
        for reason in parsed.drops:
            self._drop(sstats, reason, 1)
        if parsed.gatehouse_time is not None:
            state.gatehouse_time = parsed.gatehouse_time + time_offset
        if not parsed.sentences:
            return []
        try:
            return self._sentences(parsed, state, source, received, time_offset)
        except Exception:  # a bug must not stop a feed: log it, count the line's sentences
            log.exception("ingest failed on %r from %s", line[:300], source)
            self._drop(sstats, INTERNAL_ERROR, len(parsed.sentences))
            return []

    def feed_many(
        self,
        lines: Sequence[str | bytes],
        source: str,
        received: Sequence[float | None] | None = None,
        time_offset: float = 0.0,
    ) -> list[Report]:
        """Many lines from one source at once: the reports of `feed` on each line in turn, with
        identical statistics, at a lower cost per line. The common line (one plain single-sentence
        message, nothing pending on the source) has its checksum verified for the whole chunk at once
        (`plain_checksums`) and is decoded here inline; any other line goes through `feed`."""
        raws = [line_bytes(line) or b"" for line in lines]
        checked = plain_checksums(raws)
        state = self._sources.get(source) or self._state(source)
        total = self.stats
        sstats = state.stats
        out: list[Report] = []
        for i, raw in enumerate(raws):
            at = None if received is None else received[i]
            if checked[i] and state.gatehouse_time is None and not state.assembler.groups:
                plain = plain_fields(raw, checksum_verified=True)
                if plain is not None:  # `feed`, its checksum test done for the chunk
                    total.lines += 1
                    sstats.lines += 1
                    out.extend(self._single(plain, None, None, state, source, at, time_offset))
                    continue
            out.extend(self.feed(lines[i], source, at, time_offset))
        return out

    def _single(
        self,
        plain: tuple[bool, bytes, int, str],
        time: float | None,
        station: str | None,
        state: _SourceState,
        source: str,
        received: float | None,
        offset: float,
    ) -> list[Report]:
        """The common case, kept short: one single-sentence message, nothing pending."""
        if time is not None:
            t = time + offset
        elif received is not None:
            t = received + offset
        else:
            t = state.last_time
        state.last_time = t
        own_ship, payload, fill, channel = plain
        result = decode_message(payload, fill, t, source, own_ship, station, channel)
        sstats = state.stats
        if result.__class__ is str:
            self._drop(sstats, result, 1)  # type: ignore[arg-type]
            return []
        total = self.stats
        total.assembled += 1
        sstats.assembled += 1
        n = len(result)
        total.messages += n
        sstats.messages += n
        if sstats.last_time is None or t > sstats.last_time:
            sstats.last_time = t
            if total.last_time is None or t > total.last_time:
                total.last_time = t
        if sstats.first_time is None or t < sstats.first_time:
            sstats.first_time = t
            if total.first_time is None or t < total.first_time:
                total.first_time = t
        return result  # type: ignore[return-value]

    def _sentences(
        self, parsed: ParsedLine, state: _SourceState, source: str, received: float | None, offset: float
    ) -> list[Report]:
        reports: list[Report] = []
        sstats = state.stats
        total = self.stats
        for s in parsed.sentences:
            if s.time is not None:
                t = s.time + offset
                explicit = True
            elif state.gatehouse_time is not None:
                t = state.gatehouse_time
                explicit = True
            elif s.late_time is not None:
                t = s.late_time + offset
                explicit = True
            elif received is not None:
                t = received + offset
                explicit = False
            else:
                t = state.last_time
                explicit = False
            state.last_time = t
            assembler = state.assembler
            if assembler.groups:
                expired = assembler.expire(t)
                if expired:
                    self._drop(sstats, EXPIRED_FRAGMENT, expired)
                    self._pending(sstats, -expired)
            if s.count == 1:
                state.gatehouse_time = None
                result = decode_message(s.payload, s.fill, t, source, s.own_ship, s.station, s.channel)
                pieces = 1
            else:
                message, drops = assembler.add(s, t, explicit)
                self._pending(sstats, 1)
                for reason, n in drops:
                    self._drop(sstats, reason, n)
                    self._pending(sstats, -n)
                if message is None:
                    continue
                state.gatehouse_time = None
                pieces = message.sentences
                self._pending(sstats, -pieces)
                result = decode_message(
                    message.payload,
                    message.fill,
                    message.time,
                    source,
                    message.own_ship,
                    message.station,
                    message.channel,
                )
            if isinstance(result, str):
                self._drop(sstats, result, pieces)
                continue
            total.assembled += pieces
            sstats.assembled += pieces
            n = len(result)
            total.messages += n
            sstats.messages += n
            rt = result[0].time
            for st in (total, sstats):
                if st.first_time is None or rt < st.first_time:
                    st.first_time = rt
                if st.last_time is None or rt > st.last_time:
                    st.last_time = rt
            reports.extend(result)
        return reports

    def flush(self) -> list[Report]:
        """End of input: incomplete multi-sentence groups are dropped as orphans."""
        for state in self._sources.values():
            n = state.assembler.flush()
            if n:
                self._drop(state.stats, ORPHAN_FRAGMENT, n)
                self._pending(state.stats, -n)
        return []

    def _drop(self, sstats: SourceStats, reason: str, n: int) -> None:
        self.stats.drops[reason] += n
        sstats.drops[reason] += n

    def _pending(self, sstats: SourceStats, n: int) -> None:
        self.stats.pending += n
        sstats.pending += n
