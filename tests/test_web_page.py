"""The map page: Folium output with every asset local, zones by kind, tiles options."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import pytest
from folium.plugins import MeasureControl

from vts.config import load_config
from vts.web.page import AssetError, build_map, localize, render_map_page, zone_feature

STATIC = Path(__file__).resolve().parent.parent / "vts" / "web" / "static"
ASSET_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def page_options(html: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r"VTS\.init\([^,]+, [^,]+, (\{.*?\}),\s*\w+\);", html, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_default_page_references_nothing_outside() -> None:
    config = load_config()
    html = render_map_page(config, config.web)
    refs = ASSET_REF.findall(html)
    assert refs, "the page should load its (local) assets"
    assert [r for r in refs if not r.startswith("/static/")] == []
    assert not re.search(r"""["'(]\s*(https?:)?//""", html), (
        "an absolute or protocol-relative URL in the page"
    )
    for ref in refs:
        assert (STATIC / ref.removeprefix("/static/")).is_file(), ref
    for needed in (
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet-realtime/leaflet-realtime.js",
    ):
        assert needed in refs
    assert html.index("/static/vendor/leaflet/leaflet.js") < html.index("/static/vts.js")


def test_vendored_css_and_js_pull_nothing_from_the_net() -> None:
    for css in STATIC.rglob("*.css"):
        for url in re.findall(r"url\(([^)]*)\)", css.read_text(encoding="utf-8")):
            url = url.strip("'\"")
            assert not url.startswith(("http:", "https:", "//")), f"{css}: {url}"
            if not url.startswith(("data:", "#")):
                assert (css.parent / url).is_file(), f"{css}: {url} is not vendored"
        assert "@import" not in css.read_text(encoding="utf-8")
    for js in STATIC.rglob("*.js"):
        text = js.read_text(encoding="utf-8")
        # the only absolute URLs allowed in vendored JS: the SVG namespace and Leaflet's attribution link
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text)) - {
            "http://www.w3.org/2000/svg",
            "https://leafletjs.com",
        }
        assert urls == set(), f"{js}: {urls}"
    for licence in ("vendor/leaflet/LICENSE", "vendor/leaflet-realtime/LICENSE.md"):
        assert (STATIC / licence).is_file()


def test_unvendored_plugin_is_refused() -> None:
    config = load_config()
    m = build_map(config, config.web)
    MeasureControl().add_to(m)
    with pytest.raises(AssetError, match="no vendored copy"):
        localize(m)


def test_localize_does_not_touch_folium_classes() -> None:
    config = load_config()
    build_map(config, config.web)
    assert folium.Map.default_js[0][1].startswith("https://")  # instances changed, classes untouched


def test_zones_by_kind_with_names_and_lane_arrows() -> None:
    config = load_config()
    html = render_map_page(config, config.web)
    for zone in config.zones:
        assert zone.name.replace("&", "&amp;").replace("<", "&lt;") in html or zone.name in html
    kinds = {z.kind for z in config.zones}
    if kinds & {"anchorage"}:
        assert '"Anchorages"' in html or "Anchorages" in html
    if kinds & {"security_zone"}:
        assert "Security zones" in html
    lanes = [z for z in config.zones if z.direction_deg is not None]
    assert html.count("L.polyline(") >= 2 * len(lanes)
    feature = zone_feature(config.zones[0])
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]


def test_page_options_and_land() -> None:
    config = load_config()
    config.web.token = "s3cr3t-operator-token"
    html = render_map_page(config, config.web)
    opts = page_options(html)
    assert opts["tokenRequired"] is True
    assert opts["updateMs"] == config.web.update_ms
    assert opts["landAttribution"] == config.land.attribution
    assert [z["id"] for z in opts["zones"]] == [z.id for z in config.zones]
    assert "s3cr3t-operator-token" not in html  # the page only says a token is needed
    assert "Coastline (OSM)" in html


def test_optional_tiles() -> None:
    config = load_config()
    config.web.tiles_url = "http://tiles.ops.local/{z}/{x}/{y}.png"
    config.web.tiles_attribution = "DHN chart <test>"
    html = render_map_page(config, config.web)
    assert "http://tiles.ops.local/{z}/{x}/{y}.png" in html
    assert "DHN chart" in html and "<test>" not in html  # attribution is HTML in Leaflet: escaped
    config.web.tiles_url = None
    config.web.mbtiles = "chart.mbtiles"
    assert "/tiles/{z}/{x}/{y}.png" in render_map_page(config, config.web)


def test_vts_js_never_writes_html_from_data() -> None:
    for name in ("vts.js", "report.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"\.innerHTML\s*=", text), name
        assert "insertAdjacentHTML" not in text and "document.write" not in text, name
        assert not re.search(r"bindTooltip\(\s*['\"`]|bindPopup\(\s*['\"`]|setContent\(\s*['\"`]", text), name


def test_the_layer_control_names_no_internal_layer() -> None:
    """Found in a browser test: the layer control listed `macro_element_647d568b...`, the live
    vessel layer (`Realtime`) under its internal name; its ships are the "Vessels" layer."""
    config = load_config()
    html = render_map_page(config, config.web)
    control = re.search(r"var layer_control_\w+_layers = \{(.*?)\n\s*\};", html, re.S)
    assert control is not None, "no layer control in the page"
    assert "macro_element" not in control.group(1) and '"Vessels"' in control.group(1)
