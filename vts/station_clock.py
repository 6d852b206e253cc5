"""Event time for a log that carries none: the UTC that AIS base stations broadcast.

Many raw receiver dumps are bare sentences: no tag block ``c:``, no ``$PGHP``, no timestamp prefix,
and a replay has no receive time to give them. Base stations (types 4 and 11) broadcast their own
UTC every few seconds (10 s nominal), the same clock every receiver in range hears, so the event
time of such a line is the UTC the base stations had announced by then.

One report alone is not trusted: logs hold stray base-station reports with any date at all (test
messages, a station with no time fix). A UTC becomes the time once another of the last `WINDOW`
announced is within `AGREE_S` of it (another station, or the same one's previous report), and the
clock never goes backwards. Once running, it moves forward by at most `MAX_STEP_S` at a time unless
a majority of the last `WINDOW` reports agree on the new time (the receiver really was off for a
while): a station whose clock is an hour out does not drag the log's time with it. Its resolution is
the base stations' reporting interval; a station whose clock is consistently wrong, alone in a log,
cannot be told from a right one.

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
EARLIEST_UTC = 946_684_800.0
"""2000-01-01: a base station announcing an earlier UTC has no valid clock."""


class StationClock:
    """The latest base-station UTC another recent one agrees with; never going backwards."""

    __slots__ = ("_recent", "now")

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=WINDOW)
        self.now: float | None = None
        """The event time by the base stations heard so far; None before two agree."""

    def observe(self, utc: float | None) -> None:
        """A base station announced `utc` (UNIX seconds; None when it said "not available")."""
        if utc is None or not utc >= EARLIEST_UTC:  # NaN and times before 2000 fail the test
            return
        agree = sum(1 for other in self._recent if abs(utc - other) <= AGREE_S)
        self._recent.append(utc)
        if not agree:
            return
        now = self.now
        if now is None:
            self.now = utc
        elif utc > now and (utc - now <= MAX_STEP_S or 2 * (agree + 1) > len(self._recent)):
            self.now = utc
