"""Which feeds stamp their reports with the time they arrived rather than the time of the fix.

Every AIS position report carries the UTC second of its fix (0-59). A terrestrial receiver that
stamps each sentence on reception sees a steady lag between that second and its own clock's: a
second or two, or a constant offset when its clock is set wrong. A satellite downlink or a
store-and-forward relay does not: a fix may arrive seconds, minutes or most of an hour after it was
taken, and the lag, modulo a minute, scatters over the whole minute. Comparing two fixes of one ship
tells this apart only when their seconds happen to disagree (a late fix agrees by chance about one
time in ten); a feed's recent record tells it for every fix.

The measure is circular: each fix's lag (event time minus fix second, modulo 60 s) is an angle, and
the feed's concentration is the length of the mean of those unit vectors over its last `WINDOW`
fixes that carry a second (1: every lag the same; near 0: lags spread evenly over the minute; a feed
where a share p of the fixes arrive late and the others at once comes out near p). Once a feed has
`MIN_FIXES` such fixes it is judged to stamp arrival when the concentration falls under
`ARRIVAL_BELOW` (lags spread wider than about +-15 s), and is trusted again only above
`TRUSTED_ABOVE` (hysteresis, so a burst of network lag does not flip a feed back and forth).

`FeedClocks.observe` is called for every position fix, in processing order (`vts.core.Core`), so
what a rule reads at a fix depends only on the fixes before it: batched and report-by-report
processing agree.
"""

from __future__ import annotations

import math

WINDOW = 200
MIN_FIXES = 30
ARRIVAL_BELOW = 0.6
TRUSTED_ABOVE = 0.75
_RAD_PER_S = 2.0 * math.pi / 60.0


class _Feed:
    __slots__ = ("arrival", "cos_lags", "cos_sum", "n", "next", "sin_lags", "sin_sum")

    def __init__(self) -> None:
        self.cos_lags: list[float] = []
        self.sin_lags: list[float] = []
        """cos and sin of the lag of each of the last `WINDOW` fixes: a ring, the oldest at `next`
        once full (two lists of floats written in place: no object made per fix)."""
        self.n = 0
        """Fixes in the ring (at most `WINDOW`)."""
        self.next = 0
        """Where the next fix goes."""
        self.cos_sum = 0.0
        self.sin_sum = 0.0
        self.arrival = False

    def concentration(self) -> float:
        n = self.n
        return math.hypot(self.cos_sum, self.sin_sum) / n if n else 1.0


class FeedClocks:
    """Per feed (a report's `source`), whether its event times are arrival times."""

    __slots__ = ("_feeds",)

    def __init__(self) -> None:
        self._feeds: dict[str, _Feed] = {}

    def observe(self, source: str, time: float, second: int) -> None:
        """A fix with UTC second `second` (0-59) reached us from `source` at event time `time`."""
        if not math.isfinite(time) or not 0 <= second < 60:
            return  # (nothing to judge the feed by; a NaN would spoil its sums for good)
        feed = self._feeds.get(source)
        if feed is None:
            feed = self._feeds[source] = _Feed()
        angle = (time - second) % 60.0 * _RAD_PER_S
        c, s = math.cos(angle), math.sin(angle)
        i = feed.next
        n = feed.n
        if n == WINDOW:  # the oldest fix leaves the window
            feed.cos_sum -= feed.cos_lags[i]
            feed.sin_sum -= feed.sin_lags[i]
            feed.cos_lags[i] = c
            feed.sin_lags[i] = s
        else:
            feed.cos_lags.append(c)
            feed.sin_lags.append(s)
            n += 1
            feed.n = n
        feed.next = i + 1 if i + 1 < WINDOW else 0
        feed.cos_sum += c
        feed.sin_sum += s
        if n < MIN_FIXES:
            return
        r = math.hypot(feed.cos_sum, feed.sin_sum) / n  # (`_Feed.concentration`, inline: every fix)
        if feed.arrival:
            if r > TRUSTED_ABOVE:
                feed.arrival = False
        elif r < ARRIVAL_BELOW:
            feed.arrival = True

    def stamps_arrival(self, source: str) -> bool:
        """True when `source` is seen to stamp reports on arrival, not at the fix."""
        feed = self._feeds.get(source)
        return feed is not None and feed.arrival

    def describe(self) -> dict[str, dict[str, float | int | bool]]:
        """Per feed: fixes judged, the concentration of their lags and the verdict."""
        return {
            name: {
                "fixes": f.n,
                "concentration": round(f.concentration(), 3),
                "stamps_arrival": f.arrival,
            }
            for name, f in sorted(self._feeds.items())
        }
