"""`/metrics` in the Prometheus text exposition format (version 0.0.4).

Per source (label ``source``), from the feed health: ``vts_source_up`` (connected, listening or
being read), ``vts_source_silent_seconds``, ``vts_source_receiving`` (up and a line within
`SILENT_AFTER_S`), and the counters ``vts_source_lines_total``, ``vts_source_reader_drops_total``
(label ``reason``: partial_line, overlong_line, kernel_overflow), ``vts_source_connects_total``,
``vts_source_connect_failures_total``, ``vts_source_disconnects_total``. From the daemon:
``vts_config_reloads_total`` and ``vts_config_reload_failures_total``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vts.alerts.model import SEVERITIES

if TYPE_CHECKING:
    from vts.web.state import WebState

UP_STATES = frozenset({"connected", "listening", "reading"})
"""Source states (`vts.sources.base.SourceStatus.state`) in which a feed can deliver."""
SILENT_AFTER_S = 60.0
"""A feed up but with no line for this long is not receiving (a stalled or half-open connection,
a receiver that died behind a UDP listener); the map flags it SILENT after the same time."""
STARTING_STATES = frozenset({"starting", "connecting"})
"""States of a source that has not tried yet (no connection and no failure so far): not down."""
READER_DROP_REASONS = ("overlong_line", "partial_line")
"""Reader drops every source shows (0 until one happens); `kernel_overflow` where it is watched."""


def source_problem(src: dict[str, Any]) -> str | None:
    """What keeps a feed (an entry of the feed health's ``sources``) from delivering, or None: a live
    feed down, failed, retrying or ended, or up but silent for `SILENT_AFTER_S`. A recorded file,
    a source stopped by the daemon and one still making its first attempt are not problems."""
    if src.get("live") is False:
        return None
    state = src.get("state")
    silent = src.get("silent_s")
    if state in UP_STATES:
        if isinstance(silent, int | float) and silent >= SILENT_AFTER_S:
            return f"silent for {silent:.0f} s"
        return None
    if state == "stopped":
        return None
    if state in STARTING_STATES and not src.get("connects") and not src.get("failures"):
        return None
    return str(state)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
    ) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if labels:
                inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
                self.lines.append(f"{name}{{{inner}}} {_fmt(value)}")
            else:
                self.lines.append(f"{name} {_fmt(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _ingest_numbers(stats: Any) -> tuple[int | None, int | None, dict[str, int], dict[str, int]]:
    """Lines, messages, drops by reason and ignored pieces by reason of the ingest's statistics."""
    if stats is None:
        return None, None, {}, {}
    lines = getattr(stats, "lines", None)
    messages = getattr(stats, "messages", None)
    return (
        lines if isinstance(lines, int) else None,
        messages if isinstance(messages, int) else None,
        _counts(getattr(stats, "drops", None)),
        _counts(getattr(stats, "ignored", None)),
    )


def _counts(by_reason: Any) -> dict[str, int]:
    flat: dict[str, int] = {}
    if isinstance(by_reason, dict):
        for reason, count in by_reason.items():
            if isinstance(count, int | float):
                flat[str(reason)] = int(count)
    return flat


def _source_counters(out: Exposition, named: list[dict[str, Any]]) -> None:
    """Per source: lines read, lines lost before the sentence layer, connections made, failed, lost."""
    with_lines = [src for src in named if _int(src.get("lines")) is not None]
    if with_lines:
        out.metric(
            "vts_source_lines_total",
            "counter",
            "Raw lines a feed delivered, by source.",
            [({"source": src["name"]}, src["lines"]) for src in with_lines],
        )
    drops: list[tuple[dict[str, str], float]] = []
    for src in named:
        by_reason = _counts(src.get("reader_drops"))
        if not by_reason and not isinstance(src.get("reader_drops"), dict):
            continue
        for reason in sorted(set(READER_DROP_REASONS) | set(by_reason)):
            drops.append(({"source": src["name"], "reason": reason}, by_reason.get(reason, 0)))
    if drops:
        out.metric(
            "vts_source_reader_drops_total",
            "counter",
            "Lines lost by a feed's reader before the sentence layer, by source and reason: partial_line "
            "(cut by a disconnect), overlong_line, kernel_overflow (UDP datagrams the kernel dropped, "
            "its receive buffer full; Linux).",
            drops,
        )
    for key, name, help_text in (
        ("connects", "vts_source_connects_total", "Connections a feed made (TCP, MQTT), by source."),
        (
            "failures",
            "vts_source_connect_failures_total",
            "Connection attempts or binds of a feed that failed (refused, unreachable, timed out, the "
            "name not found, the port in use), by source.",
        ),
        ("disconnects", "vts_source_disconnects_total", "Connections of a feed that ended, by source."),
    ):
        samples = [({"source": src["name"]}, n) for src in named if (n := _int(src.get(key))) is not None]
        if samples:
            out.metric(name, "counter", help_text, samples)


def render(state: WebState) -> str:
    core = state.core
    out = Exposition()
    vessels = core.tracker.vessels()
    out.metric("vts_vessels_tracked", "gauge", "Vessels the tracker holds.", [({}, len(vessels))])
    out.metric(
        "vts_reports_total",
        "counter",
        "Decoded reports processed since the web server started, by source.",
        [({"source": s}, n) for s, n in sorted(state.rates.counts.items())],
    )
    out.metric(
        "vts_source_messages_per_second",
        "gauge",
        "Reports per second over the last few seconds, by source.",
        [({"source": s}, r) for s, r in sorted(state.rates.rates().items())],
    )
    lines, messages, drops, ignored = _ingest_numbers(getattr(core.ingest, "stats", None))
    if lines is not None:
        out.metric("vts_ingest_lines_total", "counter", "Raw lines read.", [({}, lines)])
    if messages is not None:
        out.metric("vts_ingest_messages_total", "counter", "AIS messages decoded.", [({}, messages)])
    if drops:
        out.metric(
            "vts_ingest_drops_total",
            "counter",
            "Lines or messages dropped, by reason.",
            [({"reason": r}, n) for r, n in sorted(drops.items())],
        )
    if ignored:
        out.metric(
            "vts_ingest_ignored_total",
            "counter",
            "Lines or sentences ignored, by reason (other NMEA, metadata, a duplicate: one "
            "transmission heard by another receiver).",
            [({"reason": r}, n) for r, n in sorted(ignored.items())],
        )
    active = state.active_alerts()
    by_sev = dict.fromkeys(SEVERITIES, 0)
    for alert in active:
        by_sev[alert.severity] += 1
    out.metric(
        "vts_alerts_active",
        "gauge",
        "Active alerts by severity.",
        [({"severity": s}, n) for s, n in by_sev.items()],
    )
    unacked = dict.fromkeys(SEVERITIES, 0)
    for alert in active:
        if state.ack_of(alert) is None:
            unacked[alert.severity] += 1
    out.metric(
        "vts_alerts_unacknowledged",
        "gauge",
        "Active alerts nobody has acknowledged, by severity.",
        [({"severity": s}, n) for s, n in unacked.items()],
    )
    out.metric(
        "vts_alert_events_total",
        "counter",
        "Alert lifecycle steps and acks pushed.",
        [({}, state.hub.published)],
    )
    out.metric(
        "vts_acknowledgements_total", "counter", "Acknowledgements made here.", [({}, len(state.acks))]
    )
    if core.now is not None:
        out.metric(
            "vts_event_time_seconds",
            "gauge",
            "Latest event time seen in the data (UNIX s).",
            [({}, core.now)],
        )
    feed = state.feed_info()
    sources = feed.get("sources")
    if isinstance(sources, list) and sources:
        named = [src for src in sources if isinstance(src, dict) and isinstance(src.get("name"), str)]
        out.metric(
            "vts_source_up",
            "gauge",
            "Whether a feed is connected, listening or being read (1), or down, retrying or finished (0).",
            [({"source": src["name"]}, src.get("state") in UP_STATES) for src in named],
        )
        out.metric(
            "vts_source_silent_seconds",
            "gauge",
            "Wall-clock seconds since a feed's last line (since its state began, before any line).",
            [({"source": src["name"]}, float(src.get("silent_s") or 0.0)) for src in named],
        )
        out.metric(
            "vts_source_receiving",
            "gauge",
            f"Whether a feed is up and sent a line within the last {SILENT_AFTER_S:g} s (1), or is down "
            "or silent (0): a stalled or half-open connection, a dead receiver behind a UDP listener.",
            [
                ({"source": src["name"]}, src.get("state") in UP_STATES and source_problem(src) is None)
                for src in named
            ],
        )
        _source_counters(out, named)
    reloads, failed = _int(feed.get("reloads")), _int(feed.get("failed_reloads"))
    if reloads is not None:
        out.metric(
            "vts_config_reloads_total", "counter", "Configuration reloads (SIGHUP) applied.", [({}, reloads)]
        )
    if failed is not None:
        out.metric(
            "vts_config_reload_failures_total",
            "counter",
            "Configuration reloads (SIGHUP) refused (a broken file): the running configuration stayed.",
            [({}, failed)],
        )
    mqtt = state.mqtt_info()
    if mqtt is not None:
        out.metric(
            "vts_mqtt_connected",
            "gauge",
            "Whether the alert publisher is connected.",
            [({}, mqtt["connected"])],
        )
        if mqtt["alerts_pending"] is not None:
            out.metric(
                "vts_mqtt_alerts_pending",
                "gauge",
                "Alert steps waiting for the broker (kept in the alert database).",
                [({}, mqtt["alerts_pending"])],
            )
        out.metric(
            "vts_mqtt_alerts_delivered_total",
            "counter",
            "Alert steps the broker acknowledged.",
            [({}, mqtt["alerts_delivered"])],
        )
        out.metric(
            "vts_mqtt_failed_connections_total",
            "counter",
            "Connection attempts to the broker that failed.",
            [({}, mqtt["failed_connections"])],
        )
    out.metric(
        "vts_web_sse_clients", "gauge", "Browsers connected to /api/events.", [({}, state.hub.clients)]
    )
    out.metric(
        "vts_web_sse_dropped_total", "counter", "Events dropped for slow browsers.", [({}, state.hub.dropped)]
    )
    out.metric(
        "vts_web_sse_refused_total",
        "counter",
        "Event streams refused (503) because web.max_event_streams were open.",
        [({}, state.hub.refused)],
    )
    out.metric(
        "vts_web_requests_total",
        "counter",
        "HTTP requests by route.",
        [({"route": r}, n) for r, n in sorted(state.requests.items())],
    )
    out.metric(
        "vts_web_errors_total",
        "counter",
        "Requests that failed with an internal error.",
        [({}, state.errors)],
    )
    return out.text()
