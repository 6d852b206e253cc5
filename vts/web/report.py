"""The offline replay report of `vts replay LOG --map-out report.html`.

    recorder = ReplayRecorder(core)      # before the first line is fed
    ... feed the log ...
    core.finish()
    recorder.write("report.html")

`ReplayRecorder` listens to the core: each vessel's track (thinned: a point when it moved
`min_move_m` or `max_gap_s` passed, capped per vessel and in all), its latest name and category,
when it was last heard, and every alert's lifecycle (first and last step, most severe step).
`write()` makes ONE self-contained HTML file: Leaflet, its CSS (images as data URIs), the report's
own JS/CSS and the data are inlined; no CDN, no web fonts (system font stacks), no tile server. It
shows the coastline and zones, tracks coloured by category, every alert as a marker with its
details, an alert list in time order (each alert's last step: raised, updated or cleared, and when)
with a severity filter, and a time slider (with play) that moves the vessels: a vessel is shown at a
time while the tracker would still track it (heard within the tracker's forget time).
"""

from __future__ import annotations

import base64
import bisect
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from vts.alerts.model import SEVERITIES, Alert, Severity, iso_time, severity_rank
from vts.reports import PositionReport, Report
from vts.tracker import VesselState
from vts.web.page import CATEGORIES, LAND_STYLE, add_zones, land_geojson, safe_json, walk

if TYPE_CHECKING:
    from vts.config import Config
    from vts.core import Core

STATIC = Path(__file__).resolve().parent / "static"
LEAFLET_JS = STATIC / "vendor" / "leaflet" / "leaflet.js"
LEAFLET_CSS = STATIC / "vendor" / "leaflet" / "leaflet.css"
REPORT_JS = STATIC / "report.js"
REPORT_CSS = STATIC / "report.css"
COORD_SCALE = 100_000
"""Track positions are written as integers of 1e-5 degree (about a metre)."""
MAX_POINTS = 400_000
"""Track points written in all (about 6 MB of data): a long log of many vessels is thinned evenly."""


@dataclass(slots=True)
class Track:
    mmsi: int
    name: str | None = None
    category: str = "unknown"
    times: list[float] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    heard: float | None = None
    """Event time of the vessel's latest message of any kind (its tracker `last_seen`)."""

    def add(self, t: float, lat: float, lon: float, min_move_m: float, max_gap_s: float, cap: int) -> None:
        if self.points:
            last_t = self.times[-1]
            if t < last_t:
                return
            plat, plon = self.points[-1]
            moved = _flat_distance_m(plat, plon, lat, lon)
            if moved < min_move_m and t - last_t < max_gap_s:
                return
        self.times.append(t)
        self.points.append((lat, lon))
        if len(self.points) > cap:  # keep the whole span at half the resolution
            self.times = self.times[::2]
            self.points = self.points[::2]


def _deltas(values: list[int]) -> list[int]:
    """Each value minus the one before it (the first as it is)."""
    return [v - p for v, p in zip(values, [0, *values[:-1]], strict=True)]


def _flat_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * 111_320.0
    dx = (lon2 - lon1) * 111_320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


@dataclass(slots=True)
class AlertRecord:
    first: Alert
    last: Alert
    steps: int = 1
    peak: Severity | None = None
    """The most severe of its steps (set from `first` when not given)."""

    def __post_init__(self) -> None:
        if self.peak is None:
            self.peak = self.first.severity

    def add(self, alert: Alert) -> None:
        self.last = alert
        self.steps += 1
        if self.peak is None or severity_rank(alert.severity) < severity_rank(self.peak):
            self.peak = alert.severity


class ReplayRecorder:
    """Collects what the report shows while a replay runs through `core`."""

    def __init__(
        self,
        core: Core | None = None,
        *,
        min_move_m: float = 40.0,
        max_gap_s: float = 120.0,
        max_points_per_vessel: int = 4000,
        max_points: int = MAX_POINTS,
    ) -> None:
        self.core = core
        self.config: Config | None = None if core is None else core.config
        self.min_move_m = min_move_m
        self.max_gap_s = max_gap_s
        self.cap = max_points_per_vessel
        self.max_points = max_points
        self.tracks: dict[int, Track] = {}
        self.alerts: dict[str, AlertRecord] = {}
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.reports = 0
        if core is not None:
            core.add_report_listener(self.on_report)
            core.add_alert_listener(self.on_alert)

    def on_report(self, report: Report, vessel: VesselState | None) -> None:
        self.reports += 1
        t = report.time
        self.first_time = t if self.first_time is None else min(self.first_time, t)
        self.last_time = t if self.last_time is None else max(self.last_time, t)
        if vessel is None or vessel.is_shadow:
            return
        track = self.tracks.get(vessel.mmsi)
        if track is None:
            track = self.tracks[vessel.mmsi] = Track(vessel.mmsi)
        if vessel.name:
            track.name = vessel.name
        track.category = vessel.category
        track.heard = vessel.last_seen if track.heard is None else max(track.heard, vessel.last_seen)
        if isinstance(report, PositionReport) and report.lat is not None and report.lon is not None:
            track.add(t, report.lat, report.lon, self.min_move_m, self.max_gap_s, self.cap)

    def on_alert(self, alert: Alert) -> None:
        record = self.alerts.get(alert.id)
        if record is None:
            self.alerts[alert.id] = AlertRecord(first=alert, last=alert)
        else:
            record.add(alert)

    # -- output --------------------------------------------------------------------------------------
    def data(self) -> dict[str, Any]:
        """The report's data (what the page's JS reads).

        Vessels: `m` MMSI, `n` name, `c` category, `t` times and `p` positions, both delta-encoded
        (`t`: whole seconds, the first from `t0`; `p`: [lat, lon] in 1e-5 degree, the first from 0),
        `e` when last heard (seconds from `t0`). Alerts, in the order they were raised: the last
        step's fields (`state`, `time`, `message`, `severity`, ...) with `raised_message`, `peak`
        (the most severe step), `started_t`, `last_t`, `end_t` (cleared), `steps`, `active_at_end`
        (still held when the log ended; false for a one-off event; None: not known) and `located`:
        where its position comes from (`alert`; the vessel's `track` when it was raised; None).
        """
        base = self.first_time or 0.0
        tracks = [tr for tr in sorted(self.tracks.values(), key=lambda tr: tr.mmsi) if tr.points]
        total = sum(len(tr.points) for tr in tracks)
        stride = math.ceil(total / self.max_points) if total > self.max_points else 1
        vessels = []
        for track in tracks:
            keep = list(range(0, len(track.points), stride))
            if keep[-1] != len(track.points) - 1:
                keep.append(len(track.points) - 1)  # (its latest position stays)
            times = [round(track.times[i] - base) for i in keep]
            points = [
                (round(track.points[i][0] * COORD_SCALE), round(track.points[i][1] * COORD_SCALE))
                for i in keep
            ]
            heard = track.heard if track.heard is not None else track.times[-1]
            vessels.append(
                {
                    "m": track.mmsi,
                    "n": track.name,
                    "c": track.category,
                    "t": _deltas(times),
                    "p": [
                        list(d)
                        for d in zip(
                            _deltas([p[0] for p in points]), _deltas([p[1] for p in points]), strict=True
                        )
                    ],
                    "e": round(heard - base),
                }
            )
        holding = None if self.core is None else {a.id for a in self.core.engine.active()}
        alerts = []
        for record in sorted(self.alerts.values(), key=lambda r: (r.first.started, r.first.id)):
            first, last = record.first, record.last
            d = last.to_dict()
            position, located = self._alert_position(record)
            d["lat"], d["lon"] = position
            d["located"] = located
            d["raised_message"] = first.message
            d["peak"] = record.peak
            d["started_t"] = first.started
            d["last_t"] = last.time
            d["end_t"] = last.time if last.state == "cleared" else None
            d["steps"] = record.steps
            d["active_at_end"] = None if holding is None else first.id in holding
            alerts.append(d)
        return {
            "t0": self.first_time,
            "t1": self.last_time,
            "t0_iso": None if self.first_time is None else iso_time(self.first_time),
            "t1_iso": None if self.last_time is None else iso_time(self.last_time),
            "reports": self.reports,
            "vessels": vessels,
            "vessel_counts": {
                "heard": len(self.tracks),
                "positioned": len(vessels),
                "tracked_at_end": None if self.core is None else len(self.core.tracker),
            },
            "forget_s": None if self.config is None else self.config.tracker.forget_after_s,
            "thinned": stride > 1,
            "alerts": alerts,
            "categories": CATEGORIES,
            "severities": list(SEVERITIES),
        }

    def _alert_position(self, record: AlertRecord) -> tuple[tuple[float | None, float | None], str | None]:
        """Where to draw an alert: where it was raised (else its last step), else the vessel's
        recorded position at the time it was raised (or its first one after)."""
        for step in (record.first, record.last):
            if step.lat is not None and step.lon is not None:
                return (round(step.lat, 6), round(step.lon, 6)), "alert"
        track = self.tracks.get(record.first.mmsi)
        if track is None or not track.points:
            return (None, None), None
        i = max(0, bisect.bisect_right(track.times, record.first.started) - 1)
        lat, lon = track.points[i]
        return (round(lat, 6), round(lon, 6)), "track"

    def render(self, title: str = "VTS Callao replay report", source: str | None = None) -> str:
        if self.config is None:
            raise ValueError("ReplayRecorder needs the core (or set .config) to draw zones and coastline")
        return render_report(self.config, self.data(), title=title, source=source)

    def write(self, path: str | Path, *, title: str | None = None, source: str | None = None) -> Path:
        """Write the self-contained HTML report; returns the path."""
        out = Path(path)
        if out.parent and not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        text = self.render(title or "VTS Callao replay report", source=source)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        return out


class ReportInit(MacroElement):
    """`VTSReport.init(map, data, layers)`: the report's own layers are folium feature groups, so the
    map's one layer control lists them beside the coastline and the zones."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            VTSReport.init({{ this._parent.get_name() }},
                           JSON.parse(document.getElementById('vts-report-data').textContent),
                           {tracks: {{ this.tracks.get_name() }}, ships: {{ this.ships.get_name() }},
                            alerts: {{ this.alerts.get_name() }}});
        {% endmacro %}
        """
    )

    def __init__(
        self, tracks: folium.FeatureGroup, ships: folium.FeatureGroup, alerts: folium.FeatureGroup
    ) -> None:
        super().__init__()
        self._name = "ReportInit"
        self.tracks = tracks
        self.ships = ships
        self.alerts = alerts


def _inline_css(css: str, base: Path) -> str:
    """url(images/x.png) -> data: URIs, so the CSS needs no file beside it."""

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = (base / ref).resolve()
        if not target.is_file():
            return "url()"
        mime = "image/png" if target.suffix == ".png" else "image/svg+xml"
        return f"url(data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()})"

    return re.sub(r"url\(([^)]*)\)", repl, css)


def _script(text: str) -> str:
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def render_report(config: Config, data: dict[str, Any], *, title: str, source: str | None = None) -> str:
    m = folium.Map(
        location=list(config.web.center),
        zoom_start=config.web.zoom,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        max_zoom=19,
    )
    land = land_geojson(config)
    if land is not None:
        folium.GeoJson(
            land, name="Coastline (OSM)", style_function=lambda _f: LAND_STYLE, interactive=False
        ).add_to(m)
    add_zones(m, config)
    layers = [
        folium.FeatureGroup(name=name).add_to(m) for name in ("Tracks", "Vessels at slider time", "Alerts")
    ]
    ReportInit(*layers).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # the one layer control (the report's layers too)
    for element in walk(m):  # no links at all: everything is inlined below
        if hasattr(element, "default_js"):
            element.default_js = []
            element.default_css = []
    root = m.get_root()
    leaflet_css = _inline_css(LEAFLET_CSS.read_text(encoding="utf-8"), LEAFLET_CSS.parent)
    head = "\n".join(
        [
            f"<title>{html.escape(title)}</title>",
            "<style>" + leaflet_css + "</style>",
            "<style>" + REPORT_CSS.read_text(encoding="utf-8") + "</style>",
            _script(LEAFLET_JS.read_text(encoding="utf-8")),
            _script(REPORT_JS.read_text(encoding="utf-8")),
            '<script type="application/json" id="vts-report-data">' + safe_json(data) + "</script>",
            '<script type="application/json" id="vts-report-meta">'
            + safe_json(
                {
                    "title": title,
                    "source": source,
                    "attribution": config.land.attribution if land is not None else "",
                    "zones": [{"id": z.id, "name": z.name} for z in config.zones],
                }
            )
            + "</script>",
        ]
    )
    root.header.add_child(Element(head), name="vts_report_assets")
    return root.render()
