"""The core: sentences -> decoded reports -> vessel tracks -> zones -> rules -> alerts.

Pure and synchronous, driven by event time only. The asyncio shell (feed readers, the MQTT
publisher, the web server) and `vts replay` both drive one `Core`, so anything seen live can be
reproduced exactly from its log.

    core = Core(load_config())
    core.add_alert_listener(print)
    for line in open("replay/callao_day.nmea"):
        core.feed_line(line, source="file")
    core.finish()
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import TYPE_CHECKING

from vts.alerts.engine import AlertEngine
from vts.alerts.model import Alert
from vts.batch import ReportBatch
from vts.config import Config
from vts.feed_clock import FeedClocks
from vts.ingest import Ingest
from vts.reports import PositionReport, Report
from vts.spatial import VesselGrid
from vts.tracker import Tracker, VesselState
from vts.zones import ZoneEngine, ZoneEvent

if TYPE_CHECKING:
    from vts.alerts.store import AlertStore

log = logging.getLogger(__name__)
AlertListener = Callable[[Alert], None]
PRUNE_EVERY_S = 60.0


class Core:
    def __init__(self, config: Config, *, store: AlertStore | None = None) -> None:
        self.config = config
        self.ingest = Ingest()
        self.tracker = Tracker(config.tracker)
        self.zones = ZoneEngine.from_config(config)
        self.grid = VesselGrid()
        self.feeds = FeedClocks()
        """Which feeds stamp arrival rather than the fix (read by the rules that judge elapsed time)."""
        self.engine = AlertEngine(config, self.tracker, self.zones, self.grid, store=store, feeds=self.feeds)
        self.now: float | None = None
        """Event time: the latest time seen in the data."""
        self._next_prune: float | None = None
        self._alert_listeners: list[AlertListener] = []
        self._report_listeners: list[Callable[[Report, VesselState | None], None]] = []
        self.errors: Counter[str] = Counter()
        """Reports or lines whose processing raised, by exception type (a bug: logged once per type)."""

    # -- listeners -------------------------------------------------------------------------------
    def add_alert_listener(self, listener: AlertListener) -> None:
        """Called with every alert step (raised, updated, cleared), in order."""
        self._alert_listeners.append(listener)

    def add_report_listener(self, listener: Callable[[Report, VesselState | None], None]) -> None:
        """Called after each report has been merged (for vessel-state fan-out)."""
        self._report_listeners.append(listener)

    # -- input -----------------------------------------------------------------------------------
    def feed_line(
        self,
        line: str | bytes,
        source: str = "input",
        received: float | None = None,
        time_offset: float = 0.0,
    ) -> list[Alert]:
        """One raw line from a feed. `received` is the receive time for lines that carry none;
        `time_offset` shifts event time (a demo log replayed in a loop)."""
        alerts: list[Alert] = []
        for report in self.ingest.feed(line, source, received, time_offset):
            alerts.extend(self.process(report))
        return alerts

    def feed_lines(
        self,
        lines: Iterable[str | bytes],
        source: str = "input",
        received: Iterable[float | None] | None = None,
        time_offset: float = 0.0,
    ) -> list[Alert]:
        """Many raw lines at once (a chunk of a file or a feed): decoded, then processed as one batch
        (`process_many`). `received` gives each line's receive time (lines that carry none). Same
        alerts, in the same order, as `feed_line` on each line."""
        lines = lines if isinstance(lines, list) else list(lines)
        times = None if received is None else received if isinstance(received, list) else list(received)
        reports = self.ingest.feed_many(lines, source, times, time_offset)
        return self.process_many(reports)

    def process_many(self, reports: Sequence[Report]) -> list[Alert]:
        """A run of decoded reports, in order, through tracker, zones and rules.

        The result is exactly that of `process` on each report in turn (the batch-equivalence tests
        hold it to that); what differs is the cost: each rule first says, vectorised over the whole
        batch, which reports it must see (`Rule.interest`), and the others skip it."""
        if not reports:
            return self._emit()
        batch = ReportBatch(reports)
        rows = batch.is_position
        self.zones.prefill(batch.lon[rows], batch.lat[rows])
        bits = self.engine.interest_bits(batch)
        row_bits: Iterable[int | None] = repeat(None) if bits is None else bits
        process = self._process
        for report, b in zip(reports, row_bits, strict=False):
            try:  # (`_guarded`, inline: one call less per report)
                process(report, b)
            except Exception as e:
                self._failed(e)
        return self._emit()

    def process(self, report: Report) -> list[Alert]:
        """One decoded report through tracker, zones and rules."""
        self._guarded(report, None)
        return self._emit()

    def _guarded(self, report: Report, bits: int | None) -> None:
        """`_process`, with a bug past the rules' own guard counted (and logged once per kind): the
        other reports of the line or batch go on, one by one as in batches."""
        try:
            self._process(report, bits)
        except Exception as e:
            self._failed(e)

    def _failed(self, e: Exception) -> None:
        """A report's processing raised `e` (inside an `except` block: logged with its traceback)."""
        key = type(e).__name__
        if not self.errors[key]:
            log.exception("processing a report failed (further %s errors counted, not logged)", key)
        self.errors[key] += 1

    def _process(self, report: Report, bits: int | None) -> None:
        t = report.time
        now = self.now
        if now is None or t > now:
            # (`_advance_clock`, inline: nearly every report moves the clock)
            self.now = now = t
            self.engine.tick(t)
            next_prune = self._next_prune
            if next_prune is None or t >= next_prune:
                self._prune(t)
        vessel = self.tracker.update(report)
        zone_events: list[ZoneEvent] = []
        if vessel is not None and isinstance(report, PositionReport):
            lat = report.lat
            lon = report.lon
            if lat is not None and lon is not None:
                if not vessel.is_shadow:  # a second ship under the MMSI: not where the vessel is
                    mmsi = vessel.mmsi
                    self.grid.update(mmsi, lat, lon)
                    zone_events = self.zones.update(mmsi, t, lon, lat)
                second = report.second
                if second is not None:
                    self.feeds.observe(report.source, t, second)
        self.engine.on_report(vessel, report, zone_events, now, bits)
        if self._report_listeners:
            for listener in self._report_listeners:
                listener(report, vessel)

    def advance(self, now: float) -> list[Alert]:
        """Move event time forward with no report (a quiet feed): time-outs, gaps, pruning."""
        self._advance_clock(now)
        return self._emit()

    def end_of_input(self, source: str) -> list[Alert]:
        """`source` reached its end (a file read through, EOF on standard input): what its ingest
        still held back (an untimed log with no base station heard, see `vts.ingest`) is processed."""
        held = self.ingest.end_of_input(source)
        return self.process_many(held) if held else self._emit()

    def finish(self) -> list[Alert]:
        """End of input (end of a replay): flush what the time-outs have decided so far."""
        held = self.ingest.flush()  # reports still waiting for a time (an untimed log)
        alerts = self.process_many(held) if held else self._emit()
        self.checkpoint()
        return alerts

    def checkpoint(self) -> None:
        """Save the vessel tracks and what the rules must remember across a restart to the alert
        database: `finish` does at the end of input; the daemon every `vts.daemon.CHECKPOINT_S` of
        its running time and when it stops. Nothing without a database file."""
        self.engine.checkpoint()

    def reload(self, config: Config) -> None:
        """Swap zones and rules (SIGHUP) without losing vessel state or active alerts."""
        self.config = config
        self.zones = self.zones.reloaded(config)
        self.engine.reload(config, self.zones)

    # -- internals -------------------------------------------------------------------------------
    def _advance_clock(self, t: float) -> None:
        if self.now is not None and t <= self.now:
            return
        self.now = t
        self.engine.tick(t)
        next_prune = self._next_prune
        if next_prune is None or t >= next_prune:
            self._prune(t)

    def _prune(self, t: float) -> None:
        """The clock reached `t`, the time of the next pruning (None: the first time ever, which
        only sets it): forget the vessels silent too long, every `PRUNE_EVERY_S` of event time."""
        if self._next_prune is None:
            self._next_prune = t + PRUNE_EVERY_S
        else:
            self._next_prune = t + PRUNE_EVERY_S
            for mmsi in self.tracker.prune(t):
                self.grid.remove(mmsi)
                self.engine.forget(mmsi)  # rules may still ask the zones where it was
                self.zones.forget(mmsi)

    def _emit(self) -> list[Alert]:
        alerts = self.engine.drain()
        for alert in alerts:
            for listener in self._alert_listeners:
                listener(alert)
        return alerts
