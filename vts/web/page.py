"""The live map page, generated with Folium, every asset served by the daemon itself.

Folium builds the page once per configuration: the coastline (OSM, attributed) on a sea-coloured
background, the zones by kind (one toggleable layer per kind, names on hover, lane directions as
arrows), optional tiles, the scale, and a `Realtime` layer polling `/api/vessels`. The live parts
(canvas ship symbols, alert panel, vessel list, details, measuring, feed health) are the project's
own `static/vts.js`. `localize()` rewrites every CDN link folium would emit to the vendored copy
(or drops it: jQuery, Bootstrap, Font Awesome are not used); an unknown URL is an error, so a new
plugin cannot silently pull a CDN back in.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, get_args

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Realtime
from folium.template import Template
from folium.utilities import JsCode

from vts.alerts.model import SEVERITIES
from vts.categories import VesselCategory
from vts.geo import destination
from vts.jsontext import dumps

if TYPE_CHECKING:
    from vts.config import Config, ZoneSettings
    from vts.web.settings import WebSettings
    from vts.web.state import WebState

log = logging.getLogger(__name__)

VENDOR = "/static/vendor"
FOLIUM_ROTATE_CSS = (
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css"
)
LOCAL_ASSETS: dict[str, str | None] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": f"{VENDOR}/leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": f"{VENDOR}/leaflet/leaflet.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-realtime/2.2.0/leaflet-realtime.js": (
        f"{VENDOR}/leaflet-realtime/leaflet-realtime.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": None,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": None,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": None,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": None,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": None,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": None,
    FOLIUM_ROTATE_CSS: None,
}

# zone kind -> (layer name, stroke colour, dash pattern, fill opacity, shown at start)
ZONE_LAYERS: dict[str, tuple[str, str, str | None, float, bool]] = {
    "anchorage": ("Anchorages", "#1f5fbf", "6 4", 0.08, True),
    "waiting_area": ("Anchorages", "#1f5fbf", "6 4", 0.08, True),
    "terminal": ("Terminals and berths", "#6a3d9a", None, 0.12, True),
    "berth": ("Terminals and berths", "#6a3d9a", None, 0.12, True),
    "fishing_dock": ("Terminals and berths", "#6a3d9a", None, 0.12, True),
    "lane": ("Lanes and channels", "#1b8a3a", "10 6", 0.06, True),
    "channel": ("Lanes and channels", "#1b8a3a", "4 4", 0.06, True),
    "entrance": ("Lanes and channels", "#1b8a3a", "2 4", 0.04, True),
    "restricted": ("Restricted and protected", "#c1121f", "8 4", 0.12, True),
    "protected": ("Restricted and protected", "#2a9d8f", "8 4", 0.10, True),
    "security_zone": ("Security zones", "#e85d04", None, 0.15, True),
    "port_area": ("Port and coverage areas", "#5c677d", "3 6", 0.0, True),
    "area_of_interest": ("Port and coverage areas", "#5c677d", "12 8", 0.0, False),
    "coverage": ("Port and coverage areas", "#5c677d", "12 8", 0.0, False),
}
LAYER_ORDER = [
    "Port and coverage areas",
    "Anchorages",
    "Lanes and channels",
    "Terminals and berths",
    "Restricted and protected",
    "Security zones",
]
CATEGORIES: list[str] = list(get_args(VesselCategory))
LAND_STYLE = {"color": "#a39a82", "weight": 1, "fillColor": "#efe9d9", "fillOpacity": 1.0}


class AssetError(RuntimeError):
    """The map would load an asset that is not vendored."""


class VtsAssets(JSCSSMixin, MacroElement):
    """The project's own JS/CSS, rendered in the header after Leaflet."""

    default_js: ClassVar[list[tuple[str, str]]] = [("vts_js", "/static/vts.js")]
    default_css: ClassVar[list[tuple[str, str]]] = [("vts_css", "/static/vts.css")]
    _template = Template("")


class VtsInit(MacroElement):
    """`VTS.init(map, vessels, options)`, rendered after the map and the Realtime layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            VTS.init({{ this._parent.get_name() }}, {{ this.realtime.get_name() }}, {{ this.options_json }},
                     {{ this.land_name }});
        {% endmacro %}
        """
    )

    def __init__(self, realtime: Realtime, options: dict[str, Any], land: folium.GeoJson | None) -> None:
        super().__init__()
        self._name = "VtsInit"
        self.realtime = realtime
        self.options_json = safe_json(options)
        self.land_name = land.get_name() if land is not None else "null"


def safe_json(value: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from walk(child)


def localize(m: folium.Map) -> None:
    """Point every JS/CSS asset at the vendored copy (instance attributes, no global mutation)."""
    for element in walk(m):
        if not isinstance(element, JSCSSMixin):
            continue
        for attr in ("default_js", "default_css"):
            local: list[tuple[str, str]] = []
            for name, url in getattr(element, attr):
                if url.startswith("/"):
                    local.append((name, url))
                    continue
                if url not in LOCAL_ASSETS:
                    raise AssetError(f"no vendored copy of {url} ({type(element).__name__})")
                target = LOCAL_ASSETS[url]
                if target is not None:
                    local.append((name, target))
            setattr(element, attr, local)


# -- geography -------------------------------------------------------------------------------------
def resolve(config: Config, name: str) -> Path:
    path = Path(name)
    if not path.is_absolute() and config.path is not None:
        path = Path(config.path).parent / path
    return path


def land_geojson(config: Config) -> dict[str, Any] | None:
    """The land polygons of `land.file`, or None (logged) when there are none."""
    if not config.land.file:
        return None
    path = resolve(config, config.land.file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("land file %s not usable (%s): map without coastline", path, exc)
        return None
    features = [
        f
        for f in data.get("features", [])
        if isinstance(f, dict) and (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")
    ]
    return {"type": "FeatureCollection", "features": features}


def zone_feature(zone: ZoneSettings) -> dict[str, Any]:
    ring = [[lon, lat] for lon, lat in zone.polygon]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "id": zone.id,
            "name": zone.name,
            "kind": zone.kind,
            "direction_deg": zone.direction_deg,
            "speed_limit_kn": zone.speed_limit_kn,
            "severity": zone.severity,
        },
    }


def zones_geojson(config: Config) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [zone_feature(z) for z in config.zones]}


def lane_arrow(zone: ZoneSettings) -> list[list[tuple[float, float]]] | None:
    """An arrow (shaft + head, as (lat, lon) polylines) through the lane's centre along its direction."""
    if zone.direction_deg is None or len(zone.polygon) < 3:
        return None
    lons = [p[0] for p in zone.polygon]
    lats = [p[1] for p in zone.polygon]
    clat, clon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    span_m = min(
        (max(lats) - min(lats)) * 111_320.0,
        (max(lons) - min(lons)) * 111_320.0 * math.cos(math.radians(clat)),
    )
    half = max(300.0, min(1500.0, 0.35 * max(span_m, 1.0) * 2))
    d = zone.direction_deg
    tail = destination(clat, clon, (d + 180.0) % 360.0, half)
    tip = destination(clat, clon, d, half)
    left = destination(tip[0], tip[1], (d + 150.0) % 360.0, half * 0.35)
    right = destination(tip[0], tip[1], (d + 210.0) % 360.0, half * 0.35)
    return [[tail, tip], [left, tip, right]]


def add_zones(m: folium.Map, config: Config) -> list[str]:
    groups: dict[str, folium.FeatureGroup] = {}
    for name in LAYER_ORDER:
        shown = any(v[4] for v in ZONE_LAYERS.values() if v[0] == name)
        groups[name] = folium.FeatureGroup(name=name, show=shown)
    for zone in config.zones:
        layer, colour, dash, fill, shown = ZONE_LAYERS.get(
            zone.kind, ("Port and coverage areas", "#5c677d", None, 0.0, True)
        )
        feature = zone_feature(zone)
        feature["properties"]["label"] = html.escape(zone.name)
        feature["properties"]["kind_label"] = html.escape(zone.kind.replace("_", " "))
        style = {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": fill, "dashArray": dash}
        folium.GeoJson(
            feature,
            style_function=lambda _f, s=style: s,
            highlight_function=lambda _f: {"weight": 3},
            tooltip=folium.GeoJsonTooltip(fields=["label", "kind_label"], aliases=["", ""], labels=False),
        ).add_to(groups[layer])
        arrow = lane_arrow(zone)
        if arrow is not None:
            for line in arrow:
                folium.PolyLine(line, color=colour, weight=2, opacity=0.9, interactive=False).add_to(
                    groups[layer]
                )
    used = []
    for name in LAYER_ORDER:
        if groups[name]._children:
            groups[name].add_to(m)
            used.append(name)
    return used


# -- the page --------------------------------------------------------------------------------------
def page_options(config: Config, settings: WebSettings) -> dict[str, Any]:
    return {
        "updateMs": settings.update_ms,
        "predictorMinutes": settings.predictor_minutes,
        "landAttribution": config.land.attribution,
        "tilesAttribution": settings.tiles_attribution,
        "tokenRequired": bool(settings.token),
        "categories": CATEGORIES,
        "severities": list(SEVERITIES),
        "zones": [{"id": z.id, "name": z.name, "kind": z.kind} for z in config.zones],
        "api": {
            "vessels": "/api/vessels",
            "alerts": "/api/alerts",
            "stats": "/api/stats",
            "events": "/api/events",
        },
    }


def build_map(config: Config, settings: WebSettings) -> folium.Map:
    m = folium.Map(
        location=list(settings.center),
        zoom_start=settings.zoom,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        max_zoom=19,
        min_zoom=3,
        zoom_control=True,
    )
    if settings.mbtiles:
        folium.TileLayer(
            tiles="/tiles/{z}/{x}/{y}.png",
            attr=html.escape(settings.tiles_attribution or "local MBTiles"),
            name="Chart (MBTiles)",
            max_native_zoom=settings.tiles_max_zoom,
            max_zoom=19,
            overlay=False,
        ).add_to(m)
    elif settings.tiles_url:
        folium.TileLayer(
            tiles=settings.tiles_url,
            attr=html.escape(settings.tiles_attribution or "local tiles"),
            name="Chart tiles",
            max_native_zoom=settings.tiles_max_zoom,
            max_zoom=19,
            overlay=False,
        ).add_to(m)
    land_data = land_geojson(config)
    land: folium.GeoJson | None = None
    if land_data is not None:
        land = folium.GeoJson(
            land_data,
            name="Coastline (OSM)",
            style_function=lambda _f: LAND_STYLE,
            interactive=False,
            smooth_factor=0.5,
        )
        land.add_to(m)
    add_zones(m, config)
    VtsAssets().add_to(m)
    vessels_group = folium.FeatureGroup(name="Vessels", show=True).add_to(m)
    realtime = Realtime(
        "/api/vessels",
        interval=settings.update_ms,
        remove_missing=True,
        get_feature_id=JsCode("VTS.featureId"),
        point_to_layer=JsCode("VTS.pointToLayer"),
        update_feature=JsCode("VTS.updateFeature"),
        container=vessels_group,
    )
    realtime.control = False  # its ships are the "Vessels" layer; not an entry of its own (internal name)
    realtime.add_to(m)
    VtsInit(realtime, page_options(config, settings), land).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.get_root().header.add_child(
        Element('<meta name="color-scheme" content="light"><title>VTS Callao</title>'), name="vts_title"
    )
    localize(m)
    return m


def render_map_page(config: Config, settings: WebSettings) -> str:
    return build_map(config, settings).get_root().render()


def cached_map_page(state: WebState) -> str:
    """The page for the current configuration (rebuilt after a reload swaps the config)."""
    config = state.config
    cached = state.page_cache
    if cached is not None and cached[0] is config:
        return cached[1]
    text = render_map_page(config, state.settings)
    state.page_cache = (config, text)
    return text
