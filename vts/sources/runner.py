"""Running several sources at once into one core, and describing how the feeds are doing.

* `make_source(settings)`: the reader for a `sources:` entry (kind ``mqtt`` is imported lazily
  from `vts.sources.mqtt`, kind ``simulate`` from `vts.sources.simulated`).
* `CoreFeed(core)`: the `LineSink` in front of a `Core`; a bug further down (a rule raising) is
  logged once per kind and counted, never allowed to stop a feed.
* `SourceRunner(sources, sink)`: one task per source, each supervised: a source that crashes is
  restarted with back-off, a source that ends (a file) just ends; the others never notice.
* `FeedHealth(core, sources, ...)`: the ``clock_info`` given to the web server. Calling it returns
  a JSON-ready mapping::

      {"mode": "live" | "replay" | "demo" | "simulated", "speed": 10.0 | None,
       "event_time": 1276256798.1, "event_time_iso": "2010-06-11T11:46:38.100Z",
       "progress": 0.42 | None,                      # replay: fraction of the input read
       "sources": [{"name", "kind", "state", "detail", "lines", "messages", "drops" (sentence
                    layer, by reason), "reader_drops" (partial/overlong lines), "msgs_per_s",
                    "last_message_time", "last_message_iso", "connects", "failures",
                    "disconnects", "passes", ...}]}
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from vts.alerts.model import iso_time
from vts.ingest import DUPLICATE
from vts.sources.base import Backoff, LineSink, Source
from vts.sources.settings import SourceSettings

if TYPE_CHECKING:
    from vts.config import Config
    from vts.core import Core

log = logging.getLogger("vts.sources")

ENDED_STATES = ("finished", "failed", "damaged")
"""States a source ends in by itself; stopping it afterwards does not overwrite them."""
RATE_WINDOW_S = 10.0
"""Messages per second are measured over this much wall-clock time."""


class SourceUnavailable(Exception):
    """A source whose implementation cannot be loaded (an optional module missing)."""


def make_source(settings: SourceSettings, *, stdin_live: bool = True, config: Config | None = None) -> Source:
    """The reader for one `sources:` entry. Raises `SourceUnavailable` when its module is missing.

    With the `config`, a looped file leaves the tracker's forget time between passes."""
    kind = settings.kind
    if kind == "tcp":
        from vts.sources.tcp import TcpSource

        return TcpSource(settings)
    if kind == "udp":
        from vts.sources.udp import UdpSource

        return UdpSource(settings)
    if kind == "file":
        from vts.sources.files import LOOP_GAP_S, FileSource, loop_gap_for

        gap = LOOP_GAP_S if config is None else loop_gap_for(config.tracker.forget_after_s)
        return FileSource(settings, loop_gap_s=gap, follow=True)  # (a live log, unless it loops)
    if kind == "stdin":
        from vts.sources.files import StdinSource

        return StdinSource(settings, live=stdin_live)
    if kind == "simulate":
        from vts.sources.simulated import SimulatedSource, SimulatorUnavailable

        try:
            return SimulatedSource(settings, config)
        except SimulatorUnavailable as e:
            raise SourceUnavailable(f"source {settings.name!r}: {e}") from e
    try:
        cls = importlib.import_module("vts.sources.mqtt").MqttSource
    except (ImportError, AttributeError) as e:
        raise SourceUnavailable(f"source {settings.name!r}: kind {kind!r} is not available here ({e})") from e
    source: Source = cls(settings)
    return source


class CoreFeed:
    """`LineSink` feeding a `Core`."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.errors: Counter[str] = core.errors
        """Lines whose processing raised, by exception type (a bug: logged once per type); the
        core's own counter, which also counts the reports of a batch that raised."""

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        try:
            self.core.feed_line(line, source, received, time_offset)
        except Exception as e:  # a bug past the sentence layer (which never raises): the feed goes on
            key = type(e).__name__
            if not self.errors[key]:
                log.exception(
                    "processing a line from %r failed (further %s errors counted, not logged)", source, key
                )
            self.errors[key] += 1

    def feed_lines(
        self, lines: list[bytes], source: str, received: float | None, time_offset: float = 0.0
    ) -> None:
        times = None if received is None else [received] * len(lines)
        try:
            self.core.feed_lines(lines, source, times, time_offset)
        except Exception as e:  # the core counts a failing report and goes on: this is a bug before it
            key = type(e).__name__
            if not self.errors[key]:
                log.exception("lines from %r failed (further %s errors counted, not logged)", source, key)
            self.errors[key] += 1

    def end_of_input(self, source: str) -> None:
        try:
            self.core.end_of_input(source)
        except Exception as e:  # as in feed_lines: a bug, counted, the feed goes on
            key = type(e).__name__
            if not self.errors[key]:
                log.exception("the end of %r failed (further %s errors counted, not logged)", source, key)
            self.errors[key] += 1

    def event_time(self, source: str) -> float | None:
        stats = self.core.ingest.stats.by_source.get(source)
        return None if stats is None else stats.last_time

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        stats = self.core.ingest.stats.by_source.get(source)
        return (None, None) if stats is None else (stats.first_time, stats.last_time)


CANCEL_AGAIN_S = 1.0
"""A source task still running this long after its cancellation is cancelled again."""


async def _stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel source tasks (all at once) and wait for their ends, cancelling again one that lost
    its cancellation (in Python 3.11 `asyncio.wait_for` can swallow one that arrives as its inner
    call ends): stopping sources must never hang."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        while not (await asyncio.wait({task}, timeout=CANCEL_AGAIN_S))[0]:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            task.result()


class SourceRunner:
    """Runs sources concurrently, each supervised so that one failing never stops the others."""

    def __init__(
        self,
        sources: Sequence[Source],
        sink: LineSink,
        *,
        restart_initial_s: float = 1.0,
        restart_max_s: float = 60.0,
    ) -> None:
        self.sources = list(sources)
        self.sink = sink
        self.restart_initial_s = restart_initial_s
        self.restart_max_s = restart_max_s
        self.crashes: Counter[str] = Counter()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started = False

    def start(self) -> None:
        self._started = True
        for source in self.sources:
            self._start(source)

    def _start(self, source: Source) -> None:
        self._tasks[source.name] = asyncio.create_task(self._supervise(source), name=f"source-{source.name}")

    def add(self, source: Source) -> None:
        """One more source (a configuration reload); it starts at once if the runner runs."""
        if any(s.name == source.name for s in self.sources):
            raise ValueError(f"a source named {source.name!r} is already running")
        self.sources.append(source)
        if self._started:
            self._start(source)

    async def remove(self, name: str) -> Source | None:
        """Stop one source and drop it (a configuration reload); the others go on."""
        source = next((s for s in self.sources if s.name == name), None)
        if source is None:
            return None
        task = self._tasks.pop(name, None)
        if task is not None:
            await _stop_tasks([task])
        self.sources.remove(source)
        if source.status.state not in ENDED_STATES:
            source.status.state = "stopped"
        return source

    async def wait(self) -> None:
        """Until every source has ended (files); network sources never end by themselves."""
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def run(self) -> None:
        self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        await _stop_tasks(list(self._tasks.values()))
        for source in self.sources:
            if source.status.state not in ENDED_STATES:
                source.status.state = "stopped"

    async def _supervise(self, source: Source) -> None:
        backoff = Backoff(self.restart_initial_s, self.restart_max_s)
        while True:
            started = time.monotonic()
            try:
                await source.run(self.sink)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.crashes[source.name] += 1
                if time.monotonic() - started >= self.restart_max_s:
                    backoff.reset()  # it ran well for a while: a new failure, not the same one again
                delay = backoff.next_delay()
                log.exception("%s crashed (%s); restarting in %.1f s", source.describe(), e, delay)
                source.status.state = "failed"
                source.status.detail = f"crashed: {e}"
                await asyncio.sleep(delay)


def _per_second(now: dict[str, int], then: dict[str, int], span_s: float) -> dict[str, float]:
    """Per source, how much a count grew per second from `then` to `now`, `span_s` apart."""
    return {name: max(0.0, (n - then.get(name, 0)) / span_s) for name, n in now.items()}


class FeedHealth:
    """The feeds' health and the replay clock, as the web server's ``clock_info`` (call it)."""

    def __init__(
        self,
        core: Core,
        sources: Sequence[Source],
        *,
        mode: str = "live",
        speed: float | None = None,
        progress: Callable[[], float | None] | None = None,
    ) -> None:
        self.core = core
        self.sources = list(sources)
        self.mode = mode
        self.speed = speed
        self.progress = progress
        self._samples: deque[tuple[float, dict[str, int], dict[str, int]]] = deque()
        self._rates: dict[str, float] = {}
        self._duplicate_rates: dict[str, float] = {}

    def _counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Per source: messages decoded, and copies of messages another feed delivered first."""
        by_source = self.core.ingest.stats.by_source
        messages: dict[str, int] = {}
        copies: dict[str, int] = {}
        for source in self.sources:
            stats = by_source.get(source.name)
            messages[source.name] = 0 if stats is None else stats.messages
            copies[source.name] = 0 if stats is None else stats.ignored.get(DUPLICATE, 0)
        return messages, copies

    def sample(self, now: float | None = None) -> dict[str, float]:
        """Take a sample of message counts (call about once a second); returns messages/s per source
        (the copies of messages heard first on another feed per second go to `duplicate_rates`)."""
        now = time.monotonic() if now is None else now
        counts, copies = self._counts()
        if not self._samples or now - self._samples[-1][0] >= 0.5:
            self._samples.append((now, counts, copies))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW_S:
            self._samples.popleft()
        t0, c0, d0 = self._samples[0]
        if now - t0 >= 0.5:
            self._rates = _per_second(counts, c0, now - t0)
            self._duplicate_rates = _per_second(copies, d0, now - t0)
        return dict(self._rates)

    def duplicate_rates(self) -> dict[str, float]:
        """Per source, copies per second of messages another feed delivered first (as of `sample`)."""
        return dict(self._duplicate_rates)

    def __call__(self) -> dict[str, Any]:
        rates = self.sample()
        by_source = self.core.ingest.stats.by_source
        sources: list[dict[str, Any]] = []
        wall = time.time()
        for source in self.sources:
            entry = source.status.as_dict()
            stats = by_source.get(source.name)
            last = None if stats is None else stats.last_time
            heard = source.status.last_line_wall
            since = heard if heard is not None else source.status.created
            entry.update(
                # wall seconds since the source's last line (since it was made, if none yet),
                # by this machine's clock: the map flags a live feed silent for long (a dead receiver)
                silent_s=round(max(0.0, wall - since), 1),
                messages=0 if stats is None else stats.messages,
                drops={} if stats is None else dict(sorted(stats.drops.items())),
                msgs_per_s=round(rates.get(source.name, 0.0), 2),
                # a second receiver of the same waters hears mostly what the first one delivered
                duplicates=0 if stats is None else stats.ignored.get(DUPLICATE, 0),
                duplicates_per_s=round(self._duplicate_rates.get(source.name, 0.0), 2),
                last_message_time=last,
                last_message_iso=None if last is None else iso_time(last),
                live=source.live,
                stamps_arrival=self.core.feeds.stamps_arrival(source.name),
            )
            sources.append(entry)
        now = self.core.now
        progress = self.progress() if self.progress is not None else None
        return {
            "mode": self.mode,
            "speed": self.speed,
            "event_time": now,
            "event_time_iso": None if now is None else iso_time(now),
            "progress": None if progress is None else round(progress, 4),
            "sources": sources,
        }
