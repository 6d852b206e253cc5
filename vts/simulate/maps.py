"""`vts simulate --map`: a static, self-contained HTML map of a simulated run.

Tracks coloured by vessel category (incident vessels in red, dashed), the config's zones and
land, and a marker at every incident's position with its label. Built with folium, then made to
work offline: every CDN asset folium would load is dropped and the vendored Leaflet of
`vts/web/static/vendor/leaflet` is inlined into the page, so the file opens with no network.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin

from vts.alerts.model import iso_time
from vts.simulate.scenario import Simulation
from vts.simulate.world import load_land

VENDOR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "leaflet"
SAMPLE_S = 60.0
CATEGORY_COLOURS = {
    "cargo": "#1f5fbf",
    "tanker": "#7b3fa0",
    "fishing": "#e08a00",
    "tug": "#2a9d2a",
    "pilot": "#00a0a0",
    "law_enforcement": "#000000",
    "pleasure": "#d94fb0",
    "sar": "#ff0000",
    "unknown": "#666666",
}
ZONE_COLOURS = {
    "anchorage": "#2e8b57",
    "lane": "#1f5fbf",
    "channel": "#1f5fbf",
    "entrance": "#1f5fbf",
    "berth": "#008080",
    "terminal": "#777777",
    "security_zone": "#ff8800",
    "restricted": "#cc0000",
    "protected": "#aa33aa",
    "fishing_dock": "#00aaaa",
    "port_area": "#333333",
    "area_of_interest": "#000000",
}


def write_map(sim: Simulation, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_map(sim), encoding="utf-8")
    return path


def render_map(sim: Simulation, *, centre: tuple[float, float] | None = None, zoom: int = 12) -> str:
    """The map as an HTML page; `centre` (lat, lon) and `zoom` set the initial view."""
    world = sim.world
    lon0, lat0 = world.projection.lon0, world.projection.lat0
    location = list(centre) if centre else [lat0 + 0.02, lon0 - 0.06]
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, prefer_canvas=True, control_scale=True)
    _land_layer(sim).add_to(m)
    zones = folium.FeatureGroup(name="Zones")
    for z in world.zones.values():
        colour = ZONE_COLOURS.get(z.kind, "#999999")
        geo = _to_lonlat_geojson(world, z.geometry)
        folium.GeoJson(
            geo,
            style_function=lambda _f, c=colour, k=z.kind: {
                "color": c,
                "weight": 1,
                "fillOpacity": 0.0 if k == "area_of_interest" else 0.04,
                "fillColor": c,
            },
            tooltip=f"{z.id} ({z.kind})",
        ).add_to(zones)
    zones.add_to(m)
    layers: dict[str, folium.FeatureGroup] = {}
    for v in sim.vessels:
        points = _track(sim, v)
        if len(points) < 2:
            continue
        key = "incident vessels" if v.incident else v.category
        group = layers.get(key)
        if group is None:
            group = layers[key] = folium.FeatureGroup(name=f"Tracks: {key}")
        colour = "#e00000" if v.incident else CATEGORY_COLOURS.get(v.category, "#666666")
        name = v.static.name if v.static else "(no name)"
        folium.PolyLine(
            points,
            color=colour,
            weight=2 if v.incident else 1.3,
            opacity=0.85,
            dash_array="6 4" if v.incident else None,
            tooltip=f"{v.mmsi} {name} - {v.role}",
        ).add_to(group)
        folium.CircleMarker(
            points[-1],
            radius=2.5,
            color=colour,
            fill=True,
            fill_opacity=1.0,
            tooltip=f"{v.mmsi} {name} - {v.role}",
        ).add_to(group)
    for key in sorted(layers):
        layers[key].add_to(m)
    incidents = folium.FeatureGroup(name="Incidents")
    for inc in sim.incidents:
        label = inc.type + (f"/{inc.kind}" if inc.kind else "")
        folium.CircleMarker(
            [inc.lat, inc.lon],
            radius=9,
            color="#e00000",
            weight=3,
            fill=True,
            fill_color="#ffee00",
            fill_opacity=0.9,
            tooltip=f"<b>{label}</b><br>{iso_time(inc.start)} - {iso_time(inc.end)}<br>MMSI {inc.mmsi}"
            + (f", other {inc.other_mmsi}" if inc.other_mmsi else "")
            + f"<br>{html.escape(inc.notes)}",
        ).add_to(incidents)
        folium.Marker(
            [inc.lat, inc.lon],
            icon=folium.DivIcon(
                html=f'<div style="font:bold 11px sans-serif;color:#a00;white-space:nowrap;'
                f'text-shadow:0 0 3px #fff">{label}</div>',
                icon_anchor=(-10, 6),
            ),
        ).add_to(incidents)
    incidents.add_to(m)
    title = (
        f"vts simulate - seed {sim.seed}, {iso_time(sim.start)} to {iso_time(sim.end)}, "
        f"{len({v.mmsi for v in sim.vessels})} vessels, {len(sim.incidents)} incidents"
    )
    m.get_root().html.add_child(
        Element(
            f'<div style="position:fixed;top:8px;left:50px;z-index:1000;background:#fff;padding:4px 8px;'
            f'font:13px sans-serif;border:1px solid #999">{title}<br>{_legend()}</div>'
        )
    )
    m.get_root().header.add_child(
        Element("<style>.leaflet-container.leaflet-container{background:#cfe3f3}</style>")
    )
    folium.LayerControl(collapsed=False).add_to(m)
    _offline(m)
    return m.get_root().render()


def _legend() -> str:
    items = [f'<span style="color:{c}">&#9644; {k}</span>' for k, c in CATEGORY_COLOURS.items()]
    items.append('<span style="color:#e00000">&#9644; incident vessel (dashed)</span>')
    return " ".join(items)


def _land_layer(sim: Simulation) -> folium.FeatureGroup:
    from shapely.geometry import mapping

    group = folium.FeatureGroup(name="Land (© OpenStreetMap contributors, ODbL)")
    land = load_land(_config_of(sim))
    if not land.is_empty:
        folium.GeoJson(
            {"type": "Feature", "properties": {}, "geometry": mapping(land)},
            style_function=lambda _f: {
                "color": "#9c8a5a",
                "weight": 0.8,
                "fillColor": "#dccb98",
                "fillOpacity": 1.0,
            },
        ).add_to(group)
    return group


def _config_of(sim: Simulation) -> Any:
    cfg = sim.options.get("config")
    if cfg is None:
        from vts.config import load_config

        cfg = load_config()
    return cfg


def _track(sim: Simulation, v: Any) -> list[list[float]]:
    pts: list[list[float]] = []
    t = max(sim.start, v.start)
    end = min(sim.end, v.end)
    while t <= end:
        k = v.kin(t)
        if k is not None:
            lon, lat = sim.world.to_lonlat(k.x, k.y)
            pts.append([round(lat, 6), round(lon, 6)])
        t += SAMPLE_S
    return pts


def _to_lonlat_geojson(world: Any, geom: Any) -> dict[str, Any]:
    import shapely
    from shapely.geometry import mapping

    lon0, lat0 = world.projection.lon0, world.projection.lat0
    kx = world.projection._kx
    ky = world.projection._ky
    g = shapely.transform(geom, lambda c: c / [kx, ky] + [lon0, lat0])
    return {"type": "Feature", "properties": {}, "geometry": mapping(g)}


class _InlineLeaflet(MacroElement):
    """Leaflet's CSS and JS, inlined in the page header (no network needed)."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "InlineLeaflet"

    def render(self, **kwargs: Any) -> None:
        css = _inline_images((VENDOR / "leaflet.css").read_text(encoding="utf-8"), VENDOR)
        js = (VENDOR / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
        figure = self.get_root()
        figure.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css_inline")
        figure.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline")
        super().render(**kwargs)


def _offline(m: folium.Map) -> None:
    def walk(el: Any) -> Any:
        yield el
        for c in list(el._children.values()):
            yield from walk(c)

    for el in walk(m):
        if isinstance(el, JSCSSMixin):
            el.default_js = []
            el.default_css = []
    m.add_child(_InlineLeaflet())


def _inline_images(css: str, base: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        f = base / ref
        if not f.is_file():
            return "url()"
        data = base64.b64encode(f.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(([^)]+)\)", repl, css)
