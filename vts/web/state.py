"""What the web server knows: the core it shows, recent alert steps, acknowledgements, feed rates.

The core runs in the same event loop as the server, so everything here is read and written from
one thread: no locks. Listeners registered on the core keep the alert history and the per-source
message counts; a one-second task turns counts into messages per second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vts.alerts.model import Alert, iso_time, parse_iso_time
from vts.reports import Report
from vts.tracker import VesselState
from vts.web.hub import AlertHub
from vts.web.settings import WebSettings

if TYPE_CHECKING:
    from vts.config import Config
    from vts.core import Core

log = logging.getLogger(__name__)

HISTORY = 10_000
RATE_WINDOW_S = 5.0


@dataclass(slots=True)
class Acknowledgement:
    who: str
    note: str
    time: float
    """Event time of the acknowledgement (the core's clock)."""
    wall: float | None
    """Wall-clock time it was made here (None when learnt from the engine or the store)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "note": self.note,
            "time": iso_time(self.time),
            "wall": None if self.wall is None else iso_time(self.wall),
        }


@dataclass(slots=True)
class SourceRates:
    """Messages per second per source over the last few seconds of wall time."""

    counts: dict[str, int] = field(default_factory=dict)
    last_time: dict[str, float] = field(default_factory=dict)
    """Event time of the latest report per source."""
    samples: deque[tuple[float, dict[str, int]]] = field(default_factory=lambda: deque(maxlen=16))

    def count(self, source: str, t: float) -> None:
        self.counts[source] = self.counts.get(source, 0) + 1
        self.last_time[source] = t

    def sample(self, wall: float) -> None:
        self.samples.append((wall, dict(self.counts)))
        while len(self.samples) > 2 and wall - self.samples[1][0] >= RATE_WINDOW_S:
            self.samples.popleft()

    def rates(self) -> dict[str, float]:
        if len(self.samples) < 2:
            return dict.fromkeys(self.counts, 0.0)
        (t0, c0), (t1, c1) = self.samples[0], self.samples[-1]
        span = max(t1 - t0, 1e-6)
        return {s: round((c1.get(s, 0) - c0.get(s, 0)) / span, 2) for s in c1}


ClockInfo = Callable[[], Any] | Any


class WebState:
    def __init__(
        self,
        config: Config,
        core: Core,
        store: Any = None,
        clock_info: ClockInfo = None,
        settings: WebSettings | None = None,
    ) -> None:
        self.core = core
        self.store = store
        self.clock_info = clock_info
        self.settings = settings or config.web
        self.hub = AlertHub()
        self.history: OrderedDict[str, Alert] = OrderedDict()
        """Latest lifecycle step of each alert seen while serving (bounded)."""
        self.acks: dict[str, Acknowledgement] = {}
        self.rates = SourceRates()
        self.reports_seen = 0
        self.started_wall = time.time()
        self.requests: dict[str, int] = {}
        self.errors = 0
        self._ticker: asyncio.Task[None] | None = None
        self._listening = False
        self.store_acks: dict[str, Acknowledgement] = {}
        self._store_ack_seq = 0
        self._store_ack_synced = -1.0
        self.page_cache: tuple[Any, str] | None = None
        """(config the page was built for, its HTML)."""
        self.mqtt: Any = None
        """The MQTT publisher when alerts are published (`mqtt_info`), set by the daemon."""

    @property
    def config(self) -> Config:
        return self.core.config

    # -- listeners on the core ---------------------------------------------------------------------
    def attach(self) -> None:
        if self._listening:
            return
        self._listening = True
        self.core.add_alert_listener(self.on_alert)
        self.core.add_report_listener(self.on_report)
        self._seed_events_from_store()
        try:
            for alert in self.core.engine.active():
                self.history[alert.id] = alert
        except (AttributeError, NotImplementedError):
            pass

    def _seed_events_from_store(self) -> None:
        """After a restart, the one-off event alerts of the last `event_alert_minutes` before the
        store's newest step (a distress, a jump, an identity change not acknowledged yet) are on the
        panel again, as they were when the daemon stopped: the engine restores only the alerts that
        hold (a SART still transmitting is the same activation and is not raised again, so it would
        otherwise be off the screen for good)."""
        latest = getattr(self.store, "latest_time", None)
        ended = getattr(self.store, "ended_alerts", None)
        if latest is None or ended is None:
            return
        try:
            newest = latest()
            if newest is None:
                return
            events = ended(since=newest - self.settings.event_alert_minutes * 60.0)
        except Exception as e:  # the panel starts without them; the store is read again on demand
            log.warning("could not read the recent event alerts from the store: %s: %s", type(e).__name__, e)
            return
        for alert in events[-HISTORY:]:
            if _is_event(alert):
                self.history[alert.id] = alert

    def on_alert(self, alert: Alert) -> None:
        self.history[alert.id] = alert
        self.history.move_to_end(alert.id)
        while len(self.history) > HISTORY:
            self.history.popitem(last=False)
        self.hub.publish("alert", self.alert_dict(alert))

    def on_report(self, report: Report, vessel: VesselState | None) -> None:
        self.reports_seen += 1
        self.rates.count(report.source, report.time)

    async def run_ticker(self) -> None:
        while True:
            self.rates.sample(time.monotonic())
            await asyncio.sleep(1.0)

    def start(self) -> None:
        self.attach()
        self.rates.sample(time.monotonic())
        self._ticker = asyncio.get_running_loop().create_task(self.run_ticker(), name="vts-web-rates")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None

    # -- alerts ------------------------------------------------------------------------------------
    def active_alerts(self) -> list[Alert]:
        """What the operator must see: alerts holding now (from the engine) plus one-off event alerts
        (entry, distress, jump ...) not yet acknowledged and younger than `event_alert_minutes`.

        An alert seen before a restart whose time is more than `alerts.restore_grace_minutes` after
        the data now read belongs to another timeline (a log read again from its start, as the demo
        loop does): the engine sets such alerts aside (`AlertEngine._resume`), and so does the panel.
        """
        try:
            holding = list(self.core.engine.active())
        except (AttributeError, NotImplementedError):
            return [a for a in self.history.values() if a.state != "cleared"]
        ids = {a.id for a in holding}
        now = self.core.now
        keep_s = self.settings.event_alert_minutes * 60.0
        ahead_s = self.config.alerts.restore_grace_minutes * 60.0
        events = [
            a
            for a in self.history.values()
            if a.id not in ids
            and _is_event(a)
            and (now is None or -ahead_s <= now - a.time <= keep_s)
            and self.ack_of(a) is None
        ]
        return holding + events

    def alert_dict(self, alert: Alert) -> dict[str, Any]:
        """The alert's JSON form plus `ack` (who, note, when) when someone acknowledged it."""
        d = alert.to_dict()
        ack = self.ack_of(alert)
        d["ack"] = None if ack is None else ack.to_dict()
        return d

    def ack_of(self, alert: Alert) -> Acknowledgement | None:
        """Made here; else carried by the latest step the engine emitted; else kept in the store."""
        ack = self.acks.get(alert.id)
        if ack is not None:
            return ack
        for step in (alert, self.history.get(alert.id)):
            carried = None if step is None else step.details.get("acknowledged")
            if isinstance(carried, dict):
                try:
                    at = parse_iso_time(str(carried.get("time")))
                except ValueError:
                    at = step.time if step is not None else 0.0
                return Acknowledgement(str(carried.get("by", "")), str(carried.get("note", "")), at, None)
        return self._stored_ack(alert.id)

    def _stored_ack(self, alert_id: str) -> Acknowledgement | None:
        self._sync_store_acks()
        return self.store_acks.get(alert_id)

    def _sync_store_acks(self) -> None:
        """Read acknowledgements added to the store since the last look (the shell's `vts alerts
        --ack`, or this daemon's engine): one incremental query, not one per alert."""
        getter = getattr(self.store, "acks", None)
        wall = time.monotonic()
        if getter is None or wall - self._store_ack_synced < 0.5:
            return
        self._store_ack_synced = wall
        try:
            new = getter(after_seq=self._store_ack_seq)
        except Exception:
            log.debug("store.acks failed", exc_info=True)
            return
        for ack in new:
            self._store_ack_seq = max(self._store_ack_seq, int(ack.seq))
            self.store_acks[ack.alert_id] = Acknowledgement(
                str(ack.by), str(ack.note), float(ack.at), ack.wall
            )

    # -- feed health -------------------------------------------------------------------------------
    def mqtt_info(self) -> dict[str, Any] | None:
        """Alert delivery over MQTT (None when no broker is configured): connected or not, the
        alert steps waiting for the broker, those delivered, connection attempts and the last error."""
        publisher = self.mqtt
        if publisher is None:
            return None
        from vts.mqtt.outbox import pending_count

        stats = publisher.stats
        return {
            "connected": bool(stats.connected),
            "protocol": stats.protocol,
            "alerts_delivered": stats.alerts_delivered,
            "alerts_pending": pending_count(publisher.outbox),
            "alerts_set_aside": stats.alerts_set_aside,
            "connections": stats.connections,
            "failed_connections": stats.failed_connections,
            "last_error": stats.last_error,
        }

    def feed_info(self) -> dict[str, Any]:
        """The daemon's / replay's own description of its feeds and clock, made JSON-safe."""
        info = self.clock_info
        if info is None:
            return {}
        try:
            value = info() if callable(info) else info
        except Exception:
            log.warning("clock_info failed", exc_info=True)
            return {"error": "clock_info failed"}
        plain = to_plain(value)
        return plain if isinstance(plain, dict) else {"value": plain}


def _is_event(alert: Alert) -> bool:
    """A one-off event alert (entry, distress, jump ...): raised and never stepped again."""
    return alert.state == "raised" and alert.time == alert.started


def to_plain(value: Any, depth: int = 0) -> Any:
    """Dataclasses, pydantic models and mappings to JSON-safe values (bounded depth)."""
    if depth > 6:
        return None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    elif hasattr(value, "model_dump"):
        value = value.model_dump()
    elif hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): to_plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | deque):
        return [to_plain(v, depth + 1) for v in value]
    return str(value)
