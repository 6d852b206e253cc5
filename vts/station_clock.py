"""Event time for a log that carries none: the UTC that AIS base stations broadcast.

Many raw receiver dumps are bare sentences: no tag block ``c:``, no ``$PGHP``, no timestamp prefix,
and a replay has no receive time to give them. Base stations (types 4 and 11) broadcast their own
UTC every few seconds (10 s nominal), the same clock every receiver in range hears, so the event
time of such a line is the UTC the base stations had announced by then.

One report alone is not trusted: logs hold stray base-station reports with any date at all (test
messages, a station with no time fix, a station whose clock is an hour out). The clock first takes a
UTC once another station's report among the last `WINDOW` announced is within `AGREE_S` of it, or,
for a station heard alone, once `SELF_AGREE` of its reports agree: a station with a wrong clock heard
twice before any other does not pin the log's time (the clock never goes backwards). Once running,
it moves forward by at most `MAX_STEP_S` at a time unless a majority of the last `WINDOW` reports
agree on the new time (the receiver really was off for a while), and they are not all one station's
while another disagrees: a station whose clock is an hour out does not drag the log's time with it.
Its resolution is the base stations' reporting interval; a station whose clock is consistently
wrong, alone in a log (or heard `SELF_AGREE` times before any other), cannot be told from a right
one.

`StationClock` is that clock for one source; `vts.ingest` uses it for a source none of whose lines
so far had a time of its own.
"""

from __future__ import annotations

from collections import deque

WINDOW = 5
"""Recent base-station UTC reports a new one is compared with."""
AGREE_S = 60.0
"""Two announced times this close vouch for each other."""
MAX_STEP_S = 900.0
"""A running clock jumps further ahead than this only when most recent reports agree on it."""
SELF_AGREE = 3
"""Agreeing reports a station heard alone (or stations not named) needs before the clock first takes
its time; two different stations that agree need only one report each."""
EARLIEST_UTC = 946_684_800.0
"""2000-01-01: a base station announcing an earlier UTC has no valid clock."""
BEHIND_S = 3 * 3600.0
"""Base stations agreeing on a UTC this far behind the clock: the log went back (two logs joined
out of order). The clock stays (it never goes backwards); `StationClock.went_back` counts it."""


class StationClock:
    """The latest base-station UTC another recent one agrees with; never going backwards."""

    __slots__ = ("_behind", "_recent", "behind_s", "now", "went_back")

    def __init__(self) -> None:
        self._recent: deque[tuple[float, int | None]] = deque(maxlen=WINDOW)
        """(announced UTC, station) of the last `WINDOW` valid reports."""
        self.now: float | None = None
        """The event time by the base stations heard so far; None before it is trusted."""
        self.went_back = 0
        """Times the base stations came to agree on a UTC more than `BEHIND_S` behind the clock."""
        self.behind_s = 0.0
        """How far behind they were the last time."""
        self._behind = False

    def observe(self, utc: float | None, station: int | None = None) -> None:
        """Base station `station` (its MMSI, None when not known) announced `utc` (UNIX seconds;
        None when it said "not available")."""
        if utc is None or not utc >= EARLIEST_UTC:  # NaN and times before 2000 fail the test
            return
        recent = self._recent
        agree = sum(1 for other, _ in recent if abs(utc - other) <= AGREE_S)
        first = self.now is None and agree and self._trusted_first(utc, station, agree)
        recent.append((utc, station))
        if not agree:
            return
        now = self.now
        if now is not None and utc < now - BEHIND_S:
            if not self._behind and 2 * (agree + 1) > len(recent) and self._corroborated(utc, station):
                self._behind = True  # (counted once until they agree with the clock again)
                self.went_back += 1
                self.behind_s = now - utc
            return
        self._behind = False
        if now is None:
            if first:
                self.now = utc
        elif utc > now and (
            utc - now <= MAX_STEP_S or (2 * (agree + 1) > len(recent) and self._corroborated(utc, station))
        ):
            self.now = utc

    def _corroborated(self, utc: float, station: int | None) -> bool:
        """A jump to `utc` that most recent reports agree on: unless they all come from one station
        while another station in the window disagrees (a stray clock heard a few times running)."""
        if station is None:
            return True
        agreeing = {other for t, other in self._recent if abs(utc - t) <= AGREE_S}
        if len(agreeing - {station, None}) > 0:
            return True
        return all(other in (station, None) for _, other in self._recent)

    def _trusted_first(self, utc: float, station: int | None, agree: int) -> bool:
        """Whether `agree` recent reports within `AGREE_S` of `utc` are enough for a first time:
        one from another named station, or `SELF_AGREE` reports in all."""
        if agree + 1 >= SELF_AGREE:
            return True
        if station is None:
            return False
        return any(
            other is not None and other != station and abs(utc - t) <= AGREE_S for t, other in self._recent
        )
