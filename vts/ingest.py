"""Ingest: raw lines in, decoded reports out, every line accounted for. Pure, event time only.

    ingest = Ingest()
    for line in open("log.nmea", "rb"):
        for report in ingest.feed(line, source="log", received=None):
            ...
    ingest.flush()
    print(ingest.stats.summary())

Time of a line, the first found of: its tag block `c:`, a preceding `$PGHP`, the USCG/exactEarth
epoch after the checksum, a log-line timestamp prefix; else `received`, else the last event time
seen on that source. `time_offset` is then added (a looped demo log moves forward on every pass).

A source none of whose lines so far had a time (a bare receiver dump replayed from a file) is timed
by the UTC its base stations broadcast (`vts.station_clock`). Its reports from before the first base
station are held back, not given a made-up time, and come out with the first time the source
gets (a base station's, or the first line with a time of its own); if none comes within
`HOLD_MAX_REPORTS` reports, or by `flush`, they come out as before, at the source's last time (0.0:
1970, for a log with no time at all). Held reports are counted as assembled when decoded.

Duplicates: one transmission heard by several receivers (the feeds of a network, `vts replay
--merge` of their logs, an aggregator's stream) comes in once per receiver. A message whose payload
(the six-bit string, every sentence of it) equals that of a message taken within `DUPLICATE_WINDOW_S`
before or after it, from any source, is the same transmission: counted (ignored, ``duplicate``) and
not decoded again, as the Danish Maritime Authority's AisLib doublet filter does (10-second window).
Two transmissions never share a payload that close together: a vessel's reports differ in position,
time stamp second or radio slot state, and identical static or aid-to-navigation messages are
minutes apart. Own-ship (VDO) sentences and lines of a source that has no time yet are not filtered.

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

from vts.decode import class_a_rows, decode_message
from vts.nmea import (
    BAD_CHECKSUM,
    CHANNEL_NAMES,
    EXPIRED_FRAGMENT,
    INTERNAL_ERROR,
    MALFORMED,
    ORPHAN_FRAGMENT,
    OTHER_NMEA,
    OTHER_NMEA_LINE,
    PLAIN,
    FragmentAssembler,
    ParsedLine,
    channel_name,
    line_bounds,
    line_kinds,
    lines_bytes,
    parse_line,
    parse_plain,
    plain_payloads,
)
from vts.reports import BaseStationReport, PositionReport, Report
from vts.station_clock import BEHIND_S, StationClock

log = logging.getLogger(__name__)

HOLD_MAX_REPORTS = 50_000
"""Reports of an untimed source held back waiting for its first time, at most (then released)."""
TIME_JUMP_S = 86_400.0
"""A line whose own time is more than this ahead of its source's is held back until
`TIME_CONFIRM_LINES` lines in a row agree with it (a feed back after a long outage, the next log of
a set); a line after it that does not agree gives it the source's time (`retimed`): one receiver
with a wrong clock (the GPS week-number rollover puts it 19.6 years out) or one corrupted tag block
must not carry the whole feed's event time decades ahead, where every vessel is forgotten."""
TIME_CONFIRM_LINES = 3
GPS_ROLLOVER_S = 1024 * 7 * 86_400.0
"""A GPS week-number rollover (19.6 years). A receiver whose firmware predates the last one (April
2019) stamps its lines that much (or twice that) in the past: where a live line's own time is a
whole number of rollovers behind its receive time (within `TIME_JUMP_S`), the rollover is undone
(`SourceStats.rollover`). Any other own time more than `TIME_JUMP_S` behind the receive time is
said once per source and kept (its reports are late data); one as far ahead, see `Ingest._ahead`."""
WENT_BACK_S = BEHIND_S  # (3 hours: a log timed by its base stations goes back by the same measure)
"""A source's line time going back more than this is said (`SourceStats.went_back`): more than a
satellite or store-and-forward feed delivers late, the mark of logs joined out of order. Event time
does not go back: the reports after it are taken as delivered late."""
DUPLICATE_WINDOW_S = 10.0
"""Messages with one payload less than this apart (event time) are one transmission heard twice."""
TAKEN_MIN_LIMIT = 4096
"""Messages noted for the duplicate test before the first sweep of the table."""
DUPLICATE = "duplicate"
"""`SourceStats.ignored` reason of a sentence of such a second copy."""
RETIMED_LOGGED = 5
"""Unconfirmed time jumps, and times going back, logged per source (then counted only)."""
_LAST_SAID = " (said no more for this feed: counted in its statistics, /api/stats and the replay summary)"


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
    retimed: int = 0
    """Reports whose line time jumped ahead of the source and was not confirmed (`TIME_JUMP_S`):
    given the source's time instead."""
    ahead: int = 0
    """Live lines whose own time was more than `TIME_JUMP_S` ahead of their receive time while the
    event time the feeds had reached agreed with it (this receiver's clock is wrong): given their
    receive time."""
    rollover: int = 0
    """Lines whose own time was a whole number of GPS week-number rollovers behind their receive time
    (`GPS_ROLLOVER_S`): corrected."""
    took_last_time: int = 0
    """Sentences with no time of their own and no receive time, from a source timed by its lines:
    they took its last time (a log with times on only some lines, logs joined with and without
    times), so event time stood still through them."""
    went_back: int = 0
    """Times the source's line time went back more than `WENT_BACK_S` (logs joined out of order, a
    receiver's clock set back): the reports after it are older than the event time reached, so they
    are taken as delivered late."""
    clock: str | None = None
    """Where the source's event time came from: "lines" (its lines' own times, or receive times),
    "base_stations" (`vts.station_clock`: its lines carry none), None while it has had none."""

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
            "clock": self.clock,
            "retimed": self.retimed,
            "went_back": self.went_back,
            "took_last_time": self.took_last_time,
            "rollover": self.rollover,
            "ahead": self.ahead,
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
    __slots__ = (
        "ahead_said",
        "assembler",
        "behind_said",
        "clock",
        "gatehouse_time",
        "held",
        "last_time",
        "retimed_said",
        "stats",
        "suspect",
        "suspect_lines",
        "suspect_time",
        "timed",
    )

    def __init__(self, drop_copies: bool) -> None:
        self.assembler = FragmentAssembler(drop_copies=drop_copies)
        """Its copied fragments are counted as duplicates too (`drop_copies`: the duplicate test is on)."""
        self.ahead_said = False
        """The source's own line times were said to be far ahead of their receive times (`_say_off_clock`)."""
        self.behind_said = False
        """The source's own line times were said to be far behind their receive times (`_say_off_clock`)."""
        self.last_time = 0.0
        self.gatehouse_time: float | None = None
        self.stats = SourceStats()
        self.timed = False
        """A line of this source had a time of its own (or a receive time): no base-station clock."""
        self.clock = StationClock()
        self.held: list[Report] | None = []
        """Reports waiting for the source's first time; None once given up (see the module doc)."""
        self.suspect: list[Report] | None = None
        """Reports of lines whose time jumped ahead (`TIME_JUMP_S`), waiting for confirmation."""
        self.suspect_time = 0.0
        self.suspect_lines = 0
        self.retimed_said = 0
        """Unconfirmed time jumps logged so far (`RETIMED_LOGGED`)."""


class Ingest:
    """Sentence layer + decoder for any number of named sources. Never raises on any input."""

    def __init__(self, duplicate_window_s: float = DUPLICATE_WINDOW_S) -> None:
        """`duplicate_window_s`: see `DUPLICATE_WINDOW_S` (0: no duplicate test, every copy is
        decoded: for decoder conformance tests and tools that want every sentence)."""
        self.stats = IngestStats()
        self._sources: dict[str, _SourceState] = {}
        self._window = duplicate_window_s
        self._taken: dict[bytes, float] = {}
        """Payload -> event time of the messages taken lately (`_take`), from every source."""
        self._taken_limit = TAKEN_MIN_LIMIT
        """`_taken` is swept of the messages out of the window when it grows beyond this."""

    def _state(self, source: str) -> _SourceState:
        state = _SourceState(drop_copies=self._window > 0)
        self._sources[source] = state
        self.stats.by_source[source] = state.stats
        return state

    def feed(
        self, line: str | bytes, source: str, received: float | None, time_offset: float = 0.0
    ) -> list[Report]:
        """One raw line from `source`; returns the reports it completed (often one, maybe none)."""
        state = self._sources.get(source) or self._state(source)
        self.stats.lines += 1
        state.stats.lines += 1
        if state.gatehouse_time is None and not state.assembler.groups:
            plain = parse_plain(line)
            if plain is not None:
                return self._single(plain, None, None, state, source, received, time_offset)
        return self._parsed(line, state, source, received, time_offset)

    def _parsed(
        self, line: str | bytes, state: _SourceState, source: str, received: float | None, time_offset: float
    ) -> list[Report]:
        """`feed` of a line (counted) that is not a plain sentence taken by `_single` as it is."""
        total = self.stats
        sstats = state.stats
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
        elif (
            state.gatehouse_time is not None
            and not parsed.sentences
            and (BAD_CHECKSUM in parsed.drops or MALFORMED in parsed.drops)
        ):
            # the sentence a $PGHP line timed came broken (dropped): that time was its, not the next's
            state.gatehouse_time = None
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
        identical statistics, at a lower cost per line. What `feed` finds out line by line is found
        for the whole chunk at once (`line_kinds`): the common line (one plain single-sentence
        message, nothing pending on the source) is decoded here inline, with no parse (the Class
        A position reports among them, most of the input, all at once beforehand: `class_a_rows`);
        a line that holds another NMEA sentence is only counted; any other line is parsed
        (`_parsed`)."""
        lines = lines if isinstance(lines, list) else list(lines)
        raws, joined = lines_bytes(lines)  # type: ignore[arg-type]
        m = len(raws)
        bounds = line_bounds(raws, joined)
        kinds = line_kinds(raws, joined, bounds)
        # the Class A position reports among the plain lines, decoded for the chunk at once
        # (`class_a_rows`): by line, (mmsi, type, the rest of the report's fields) or None
        class_a: list[tuple[int, int, tuple[object, ...]] | None] = [None] * m
        try:
            at_lines, payloads = plain_payloads(bounds, kinds, 28)
            if len(at_lines):
                is_class_a, rows = class_a_rows(payloads)
                for i, row in zip(at_lines[is_class_a].tolist(), rows, strict=True):
                    class_a[i] = row  # type: ignore[assignment]
        except Exception:  # a bug must not stop a feed: the lines are decoded one by one instead
            log.exception("chunk decode failed on %d lines from %s", m, source)
            class_a = [None] * m
        state = self._sources.get(source) or self._state(source)
        total = self.stats
        sstats = state.stats
        # the lines, and those ignored as other NMEA, counted for the chunk (`feed` counts each)
        total.lines += m
        sstats.lines += m
        others = kinds.count(OTHER_NMEA_LINE)
        if others:
            total.ignored[OTHER_NMEA] += others
            sstats.ignored[OTHER_NMEA] += others
        out: list[Report] = []
        window = self._window
        # counted for the chunk, at its end, on the usual line's path below (only this source's
        # statistics, which nothing reads while its chunk is fed)
        assembled = messages = 0
        earliest = latest = None
        try:
            for i, kind in enumerate(kinds):
                if kind == OTHER_NMEA_LINE:
                    continue
                at = None if received is None else received[i]
                if kind == PLAIN and state.gatehouse_time is None and not state.assembler.groups:
                    # `plain_fields`, its other tests made for the chunk (`line_kinds`)
                    raw = raws[i]
                    fields = raw[11:-3].split(b",")
                    if len(fields) == 4:
                        own_ship = raw[5] == 79
                        payload = fields[2]
                        fill = raw[-4] - 48
                        channel = CHANNEL_NAMES.get(fields[1]) or channel_name(fields[1])
                        if at is None or not state.timed or state.suspect is not None:
                            plain = (own_ship, payload, fill, channel)
                            out.extend(self._single(plain, None, None, state, source, at, time_offset))
                            continue
                        # `_single` inlined for the usual line: it has no time of its own but a
                        # receive time, from a source timed by its lines, with no time jump pending
                        t = at + time_offset
                        state.last_time = t
                        filtered = window > 0 and not own_ship
                        if filtered and self._seen_lately(payload, t):
                            self._duplicate(sstats, 1)
                            continue
                        decoded = class_a[i]
                        if decoded is not None:  # `decode_message`'s report, decoded above
                            mmsi, msg_type, rest = decoded
                            out.append(
                                PositionReport(
                                    t,
                                    mmsi,
                                    msg_type,
                                    source,
                                    own_ship,
                                    None,
                                    channel or None,
                                    "A",
                                    *rest,  # type: ignore[arg-type]
                                )
                            )
                            messages += 1
                        else:
                            result = decode_message(payload, fill, t, source, own_ship, None, channel)
                            if result.__class__ is str:
                                self._drop(sstats, result, 1)  # type: ignore[arg-type]
                                continue
                            messages += len(result)
                            out += result  # type: ignore[arg-type]
                        if filtered:
                            self._take(payload, t)
                        assembled += 1
                        if latest is None:
                            earliest = latest = t
                        elif t > latest:
                            latest = t
                        elif t < earliest:  # type: ignore[operator]
                            earliest = t
                        continue
                out.extend(self._parsed(lines[i], state, source, at, time_offset))
        finally:
            total.assembled += assembled
            sstats.assembled += assembled
            total.messages += messages
            sstats.messages += messages
            if latest is not None:
                self._span(sstats, earliest)  # type: ignore[arg-type]
                self._span(sstats, latest)
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
        untimed = False
        if time is not None:
            if received is not None and abs(received - time) > TIME_JUMP_S:
                time = self._off_clock(state, time, received, source)
            t = time + offset
        elif received is not None:
            t = received + offset
        elif state.timed:
            t = state.last_time
            state.stats.took_last_time += 1  # (the hot path of a log timed on some lines only)
            self.stats.took_last_time += 1
        else:
            t = self._untimed_time(state, offset)
            untimed = True
        if not untimed and (
            state.suspect is not None
            or (time is not None and state.timed and t - state.last_time > TIME_JUMP_S)
        ):
            hold, vetted = self._vet_time(state, t, time is not None, source)
            if hold:
                own_ship, payload, fill, channel = plain
                self._park(state, decode_message(payload, fill, t, source, own_ship, station, channel), 1)
                return vetted
            if vetted:
                return vetted + self._single(plain, time, station, state, source, received, offset)
        if not untimed and not state.timed and (released := self._first_time(state, t)):
            return released + self._single(plain, time, station, state, source, received, offset)
        if time is not None and state.last_time - t > WENT_BACK_S and state.timed:
            self._went_back(state, source, state.last_time - t)
        state.last_time = t
        own_ship, payload, fill, channel = plain
        sstats = state.stats
        filtered = not (untimed or own_ship or self._window <= 0)
        if filtered and self._seen_lately(payload, t):
            self._duplicate(sstats, 1)
            return []
        result = decode_message(payload, fill, t, source, own_ship, station, channel)
        if result.__class__ is str:
            self._drop(sstats, result, 1)  # type: ignore[arg-type]
            return []
        if filtered:
            self._take(payload, t)
        total = self.stats
        total.assembled += 1
        sstats.assembled += 1
        if untimed:
            return self._untimed_out(state, result, offset, source)  # type: ignore[arg-type]
        n = len(result)
        total.messages += n
        sstats.messages += n
        self._span(sstats, t)
        return result  # type: ignore[return-value]

    @staticmethod
    def _untimed_time(state: _SourceState, offset: float) -> float:
        """The time of a line of a source that never had one: its base-station clock's, else its
        last time (its reports are then held back, `_untimed_out`)."""
        now = state.clock.now
        return state.last_time if now is None else now + offset

    def _first_time(self, state: _SourceState, t: float) -> list[Report]:
        """A line of a source that never had a time has one (`t`): the source is timed by its lines
        from now on, and what it held back for want of a time comes out at `t`."""
        state.timed = True
        state.stats.clock = "lines"
        state.last_time = t  # (not a jump from the 0.0 it had before, `TIME_JUMP_S`)
        return self._release(state, t)

    def _untimed_out(
        self, state: _SourceState, result: list[Report], offset: float, source: str
    ) -> list[Report]:
        """Reports decoded from an untimed line of a source that never had a time: they feed its
        base-station clock, then go out at its time, or are held back while it has none."""
        total = self.stats
        sstats = state.stats
        n = len(result)
        total.messages += n
        sstats.messages += n
        clock = state.clock
        before = clock.now
        went_back = clock.went_back
        for r in result:
            if r.__class__ is BaseStationReport:
                clock.observe(r.utc, r.mmsi)  # type: ignore[attr-defined]
        if clock.went_back != went_back:  # an older log after this one: its reports keep the clock's time
            self._went_back(state, source, clock.behind_s, by_stations=True)
        held = state.held
        if clock.now is None:
            if held is None:  # given up waiting: out at the source's last time
                self._span(sstats, result[0].time)
                return result
            held.extend(result)
            if len(held) <= HOLD_MAX_REPORTS:
                return []
            log.warning(
                "%s: no time of its own and no base station heard in %d reports: released untimed",
                source,
                len(held),
            )
            out = self._release(state, state.last_time)
            state.held = None
            return out
        t = clock.now + offset
        if clock.now != before:  # a base station moved the clock: its own report is at the new time
            sstats.clock = "base_stations"
            state.last_time = t
            for r in result:
                r.time = t
            if held:
                return self._release(state, t) + result
        self._span(sstats, t)
        return result

    def _release(self, state: _SourceState, t: float) -> list[Report]:
        """The reports held back for want of a time, now at `t` (the source's first time)."""
        held = state.held
        if not held:
            return []
        state.held = []
        for r in held:
            r.time = t
        self._span(state.stats, t)
        return held

    def _span(self, sstats: SourceStats, t: float) -> None:
        """Widen the event-time span of the source (and so, where it grows, of all sources) to `t`."""
        total = self.stats
        if sstats.last_time is None or t > sstats.last_time:
            sstats.last_time = t
            if total.last_time is None or t > total.last_time:
                total.last_time = t
        if sstats.first_time is None or t < sstats.first_time:
            sstats.first_time = t
            if total.first_time is None or t < total.first_time:
                total.first_time = t

    def _sentences(
        self, parsed: ParsedLine, state: _SourceState, source: str, received: float | None, offset: float
    ) -> list[Report]:
        reports: list[Report] = []
        sstats = state.stats
        total = self.stats
        for s in parsed.sentences:
            untimed = False
            gatehouse = s.time is None and state.gatehouse_time is not None
            own = None if gatehouse else s.time if s.time is not None else s.late_time
            if own is not None and received is not None and abs(received - own) > TIME_JUMP_S:
                own = self._off_clock(state, own, received, source)
            if own is not None:  # the line's tag block time, else its trailing (USCG) epoch
                t = own + offset
                explicit = True
            elif state.gatehouse_time is not None:
                t = state.gatehouse_time
                explicit = True
            elif received is not None:
                t = received + offset
                explicit = False
            elif state.timed:
                t = state.last_time
                explicit = False
                state.stats.took_last_time += 1
                self.stats.took_last_time += 1
            else:
                t = self._untimed_time(state, offset)
                explicit = False
                untimed = True
            hold = False
            if not untimed and (
                state.suspect is not None or (explicit and state.timed and t - state.last_time > TIME_JUMP_S)
            ):
                hold, vetted = self._vet_time(state, t, explicit, source)
                reports.extend(vetted)
            if not untimed and not state.timed:
                reports.extend(self._first_time(state, t))
            if not hold:
                if explicit and state.last_time - t > WENT_BACK_S:
                    self._went_back(state, source, state.last_time - t)
                state.last_time = t
            assembler = state.assembler
            if assembler.groups:
                expired = assembler.expire(t, s.channel)
                if expired:
                    self._drop(sstats, EXPIRED_FRAGMENT, expired)
                    self._pending(sstats, -expired)
            filtered = not (hold or untimed or self._window <= 0)
            if s.count == 1:
                state.gatehouse_time = None
                key, at = s.payload, t
                filtered = filtered and not s.own_ship
                if filtered and self._seen_lately(key, at):
                    self._duplicate(sstats, 1)
                    continue
                result = decode_message(s.payload, s.fill, t, source, s.own_ship, s.station, s.channel)
                pieces = 1
            else:
                message, drops, copies = assembler.add(s, t, explicit)
                self._pending(sstats, 1)
                for reason, n in drops:
                    self._drop(sstats, reason, n)
                    self._pending(sstats, -n)
                if copies:
                    self._duplicate(sstats, copies)
                    self._pending(sstats, -copies)
                if message is None:
                    continue
                state.gatehouse_time = None
                pieces = message.sentences
                self._pending(sstats, -pieces)
                key, at = message.payload, message.time
                filtered = filtered and not message.own_ship
                if filtered and self._seen_lately(key, at):
                    self._duplicate(sstats, pieces)
                    continue
                result = decode_message(
                    message.payload,
                    message.fill,
                    message.time,
                    source,
                    message.own_ship,
                    message.station,
                    message.channel,
                )
            if hold:
                self._park(state, result, pieces)
                continue
            if isinstance(result, str):
                self._drop(sstats, result, pieces)
                continue
            if filtered:
                self._take(key, at)
            total.assembled += pieces
            sstats.assembled += pieces
            if untimed:
                reports.extend(self._untimed_out(state, result, offset, source))
                continue
            n = len(result)
            total.messages += n
            sstats.messages += n
            self._span(sstats, result[0].time)
            reports.extend(result)
        return reports

    def end_of_input(self, source: str) -> list[Report]:
        """`source` reached its end (a file's pass, standard input's EOF): the reports it still
        held back for want of a time come out, at its last time."""
        state = self._sources.get(source)
        if state is None:
            return []
        return self._refute_jump(state, source) + self._release(state, state.last_time)

    def flush(self) -> list[Report]:
        """End of input: incomplete multi-sentence groups are dropped as orphans; reports still held
        back for want of a time are returned, at their source's last time."""
        out: list[Report] = []
        for name, state in self._sources.items():
            n = state.assembler.flush()
            if n:
                self._drop(state.stats, ORPHAN_FRAGMENT, n)
                self._pending(state.stats, -n)
            out.extend(self._refute_jump(state, name))
            out.extend(self._release(state, state.last_time))
        return out

    # -- lines whose time jumps ahead of their source (`TIME_JUMP_S`) ---------------------------------
    def _vet_time(
        self, state: _SourceState, t: float, explicit: bool, source: str
    ) -> tuple[bool, list[Report]]:
        """For a line at `t` (`explicit`: its own time, not a receive or carried-over one) while a
        jump is pending or when it makes one: (hold this line back, reports released now)."""
        released: list[Report] = []
        if state.suspect is not None:
            if explicit and abs(t - state.suspect_time) <= TIME_JUMP_S:
                state.suspect_lines += 1
                if state.suspect_lines < TIME_CONFIRM_LINES:
                    return True, released
                return False, self._accept_jump(state)  # confirmed: this line goes on at its time
            released = self._refute_jump(state, source)
        if explicit and state.timed and t - state.last_time > TIME_JUMP_S:
            state.suspect = []
            state.suspect_time = t
            state.suspect_lines = 1
            return True, released
        return False, released

    def _park(self, state: _SourceState, result: list[Report] | str, pieces: int) -> None:
        """The decoded reports of a line held back as a time jump (counted as assembled now)."""
        sstats = state.stats
        if isinstance(result, str):
            self._drop(sstats, result, pieces)
            return
        assert state.suspect is not None
        self.stats.assembled += pieces
        sstats.assembled += pieces
        self.stats.messages += len(result)
        sstats.messages += len(result)
        state.suspect.extend(result)

    def _accept_jump(self, state: _SourceState) -> list[Report]:
        """Enough lines in a row agree with the jump: it is the source's time from now on."""
        held, state.suspect = state.suspect or [], None
        state.last_time = max([state.last_time, state.suspect_time, *(r.time for r in held)])
        for r in held:
            self._span(state.stats, r.time)
        return held

    def _refute_jump(self, state: _SourceState, source: str) -> list[Report]:
        """The lines after a jump do not agree with it (or the input ended): its reports take the
        source's time."""
        held, state.suspect = state.suspect, None
        if not held:
            return []
        t = state.last_time
        state.stats.retimed += len(held)
        self.stats.retimed += len(held)
        said = state.retimed_said
        if said < RETIMED_LOGGED:
            state.retimed_said = said + 1
            log.warning(
                "%s: a line time %.0f s ahead of the feed was not confirmed by the lines after it; "
                "its %d report(s) take the feed's time%s",
                source,
                state.suspect_time - t,
                len(held),
                _LAST_SAID if said + 1 == RETIMED_LOGGED else "",
            )
        for r in held:
            r.time = t
        self._span(state.stats, t)
        return held

    def _off_clock(self, state: _SourceState, time: float, received: float, source: str) -> float:
        """A live line's own `time` is more than `TIME_JUMP_S` away from its receive time: the time
        it takes (see `GPS_ROLLOVER_S` and `SourceStats.ahead`)."""
        if time > received:
            return self._ahead(state, time, received, source)
        for k in (1, 2):
            fixed = time + k * GPS_ROLLOVER_S
            if abs(fixed - received) <= TIME_JUMP_S:
                self._corrected(
                    state,
                    "rollover",
                    "%s: its line times are %d GPS week-number rollover(s) (19.6 years each) behind "
                    "this machine's clock: a receiver with old firmware; corrected",
                    source,
                    k,
                )
                return fixed
        self._say_off_clock(state, source, (time - received) / 86_400.0)
        return time

    def _ahead(self, state: _SourceState, time: float, received: float, source: str) -> float:
        """A live line's own `time` is more than `TIME_JUMP_S` ahead of its receive time. When the
        event time the other feeds have reached agrees with this machine's clock (within
        `TIME_JUMP_S`), this receiver's clock is the wrong one: the line takes its receive time.
        Otherwise (no other feed, or this machine's clock is the one that is off) it keeps its own,
        and is said once."""
        others = [
            other.stats.last_time
            for other in self._sources.values()
            if other is not state and other.stats.last_time is not None
        ]
        shared = max(others, default=None)
        if shared is not None and abs(shared - received) <= TIME_JUMP_S:
            self._corrected(
                state,
                "ahead",
                "%s: its line times are %.1f days ahead of this machine's clock and of the other "
                "feeds: a receiver's clock set wrong; its lines take their receive time",
                source,
                (time - received) / 86_400.0,
            )
            return received
        self._say_off_clock(state, source, (time - received) / 86_400.0)
        return time

    def _corrected(self, state: _SourceState, counter: str, message: str, *args: object) -> None:
        """A live line's time was corrected: counted (`counter`), and said the first time for the feed."""
        if self._count(state, counter) == 1:
            log.warning(message, *args)

    def _count(self, state: _SourceState, counter: str) -> int:
        """One more of `counter` (a `SourceStats` field) for the source and in all; the source's count."""
        n = getattr(state.stats, counter) + 1
        setattr(state.stats, counter, n)
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        return n

    @staticmethod
    def _say_off_clock(state: _SourceState, source: str, days: float) -> None:
        """Its own line times, kept, are `days` off this machine's clock (negative: behind): said
        once per feed and direction."""
        ahead = days > 0
        if state.ahead_said if ahead else state.behind_said:
            return
        if ahead:
            state.ahead_said = True
            why = "is this machine's clock right?"
        else:
            state.behind_said = True
            why = "a receiver's clock set wrong, or old data relayed? its reports are late data"
        where = "ahead of" if ahead else "behind"
        log.warning(
            "%s: its line times are %.1f days %s this machine's clock (%s): taken as they are",
            source,
            abs(days),
            where,
            why,
        )

    def _went_back(self, state: _SourceState, source: str, back_s: float, by_stations: bool = False) -> None:
        """The source's line time goes back `back_s`, more than `WENT_BACK_S`: counted, and said
        the first times (event time does not go back: what follows is taken as delivered late; in a
        log timed by its base stations, it keeps the time reached, `vts.station_clock`)."""
        n = self._count(state, "went_back")
        if n <= RETIMED_LOGGED:
            what = "the base stations' time" if by_stations else "the line time"
            then = (
                "what follows keeps the time reached (the clock does not go back)"
                if by_stations
                else "its reports older than the event time reached are taken as delivered late"
            )
            log.warning(
                "%s: %s goes back %.1f h (logs joined out of order, a feed delivering old data, a clock"
                " set back?): %s%s",
                source,
                what,
                back_s / 3600.0,
                then,
                _LAST_SAID if n == RETIMED_LOGGED else "",
            )

    # -- one transmission heard twice (`DUPLICATE_WINDOW_S`) -----------------------------------------
    def _seen_lately(self, payload: bytes, t: float) -> bool:
        """Whether a message with this payload was taken (`_take`) within the window of `t`."""
        at = self._taken.get(payload)
        return at is not None and -self._window < t - at < self._window

    def _take(self, payload: bytes, t: float) -> None:
        """A message with this payload was decoded at `t`: a copy within the window is a duplicate.
        (A payload that does not decode is not noted: each copy of it is dropped as what it is.)"""
        taken = self._taken
        taken[payload] = t
        if len(taken) > self._taken_limit:
            # forget the messages out of the window (amortised: the table at least halves in size
            # or its limit doubles)
            window = self._window
            self._taken = {p: at for p, at in taken.items() if -window < t - at < window}
            self._taken_limit = max(2 * len(self._taken), TAKEN_MIN_LIMIT)

    def _duplicate(self, sstats: SourceStats, pieces: int) -> None:
        self.stats.ignored[DUPLICATE] += pieces
        sstats.ignored[DUPLICATE] += pieces

    def _drop(self, sstats: SourceStats, reason: str, n: int) -> None:
        self.stats.drops[reason] += n
        sstats.drops[reason] += n

    def _pending(self, sstats: SourceStats, n: int) -> None:
        self.stats.pending += n
        sstats.pending += n
