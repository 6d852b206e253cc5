"""The map server's JSON API, SSE, guards and metrics, through aiohttp's test client."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.fixtures.web_client import Factory, feed
from tests.web_scenario import MARKUP_NAME, SART_MMSI, START, sart_position, tagged
from vts.config import load_config
from vts.core import Core
from vts.web.geojson import AlertIndex, vessel_feature, vessels_collection
from vts.web.server import WebServer
from vts.web.state import WebState

MOVER = 636_019_825


async def get_json(client: TestClient, path: str, status: int = 200) -> Any:
    resp = await client.get(path)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_vessels_geojson_is_compact_and_complete(make_client: Factory) -> None:
    client, state = await make_client()
    body = await get_json(client, "/api/vessels")
    assert body["type"] == "FeatureCollection"
    positioned = {v.mmsi: v for v in state.core.tracker.vessels() if v.lat is not None}
    features = {f["properties"]["m"]: f for f in body["features"]}
    assert set(features) == set(positioned)
    mover = features[MOVER]
    vessel = positioned[MOVER]
    lon, lat = mover["geometry"]["coordinates"]
    assert (lon, lat) == (round(vessel.lon, 5), round(vessel.lat, 5))
    assert set(mover["properties"]) <= {"m", "n", "c", "g", "h", "s", "x", "a"}
    assert mover["properties"]["n"] == "PACIFIC TRADER"
    assert mover["properties"]["c"] == vessel.category
    # a vessel with an active alert carries its worst severity
    worst = {a.mmsi: a.severity for a in state.active_alerts()}
    assert features[SART_MMSI]["properties"]["a"] == "emergency" == worst[SART_MMSI]
    assert all("a" not in f["properties"] for m, f in features.items() if m not in worst)


async def test_vessel_filters(make_client: Factory) -> None:
    client, state = await make_client()

    async def mmsis(query: str) -> set[int]:
        body = await get_json(client, "/api/vessels?" + query)
        return {f["properties"]["m"] for f in body["features"]}

    assert await mmsis("q=pacific") == {MOVER}
    assert await mmsis(f"q={MOVER}") == {MOVER}
    assert await mmsis("q=V7AB3") == {538_007_123}
    tugs = {v.mmsi for v in state.core.tracker.vessels() if v.category == "tug"}
    assert tugs and await mmsis("category=tug") == tugs
    assert await mmsis("alerting=1") == {a.mmsi for a in state.active_alerts()}
    zone = next(z for v in state.core.tracker.vessels() for z in state.core.zones.zones_of(v.mmsi))
    inside = {v.mmsi for v in state.core.tracker.vessels() if zone in state.core.zones.zones_of(v.mmsi)}
    assert await mmsis(f"zone={zone}") == inside
    assert len(await mmsis("limit=2")) == 2


async def test_vessel_details_with_trail(make_client: Factory) -> None:
    client, state = await make_client()
    d = await get_json(client, f"/api/vessels/{MOVER}")
    vessel = state.core.tracker.get(MOVER)
    assert vessel is not None
    assert d["name"] == "PACIFIC TRADER" and d["callsign"] == "OA1234" and d["imo"] == vessel.imo
    assert d["flag"] == "Liberia"  # MID 636
    assert d["length_m"] == 160 and d["beam_m"] == 26 and d["draught_m"] == 9.5
    assert d["nav_status_text"] == "under way using engine"
    assert d["trail"]["type"] == "LineString"
    assert len(d["trail"]["coordinates"]) == len(vessel.trail) >= 2
    assert [z["id"] for z in d["zones"]] == sorted(state.core.zones.zones_of(MOVER))
    assert d["last_seen"].endswith("Z")
    await get_json(client, "/api/vessels/123456789", status=404)
    await get_json(client, "/api/vessels/abc", status=400)


async def test_alerts_filters_and_order(make_client: Factory) -> None:
    client, state = await make_client()
    body = await get_json(client, "/api/alerts")
    active = state.active_alerts()
    assert {a["id"] for a in body["alerts"]} == {a.id for a in active}
    started = [a["started"] for a in body["alerts"]]
    assert started == sorted(started, reverse=True)
    assert body["counts"]["emergency"] == sum(1 for a in active if a.severity == "emergency") == 1
    emerg = await get_json(client, "/api/alerts?severity=emergency")
    assert [a["mmsi"] for a in emerg["alerts"]] == [SART_MMSI]
    warn_up = await get_json(client, "/api/alerts?min_severity=warning")
    assert all(a["severity"] in ("emergency", "alarm", "warning") for a in warn_up["alerts"])
    by_mmsi = await get_json(client, f"/api/alerts?state=all&mmsi={MOVER}")
    assert by_mmsi["alerts"] and all(MOVER in (a["mmsi"], a["other_mmsi"]) for a in by_mmsi["alerts"])
    everything = await get_json(client, "/api/alerts?state=all")
    assert len(everything["alerts"]) >= len(body["alerts"])
    assert any(a["state"] == "cleared" for a in everything["alerts"]) == any(
        a.state == "cleared" for a in state.history.values()
    )
    await get_json(client, "/api/alerts?severity=loud", status=400)
    await get_json(client, "/api/alerts?state=some", status=400)


def _sart_id(state: WebState) -> str:
    return next(a.id for a in state.active_alerts() if a.mmsi == SART_MMSI)


async def test_acknowledge_is_stored_and_pushed(make_client: Factory) -> None:
    client, state = await make_client()
    alert_id = _sart_id(state)
    resp = await client.post(
        f"/api/alerts/{alert_id}/ack", json={"note": "called on VHF 16", "who": "op <1>"}
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["alert"]["ack"]["note"] == "called on VHF 16"
    assert [(a.by, a.note) for a in state.store.acks(alert_id)] == [("op <1>", "called on VHF 16")]
    assert state.hub.since(0)[-1].kind == "ack"
    # an acknowledged one-off event leaves the list of what needs attention
    remaining = await get_json(client, "/api/alerts")
    assert alert_id not in {a["id"] for a in remaining["alerts"]}
    resp = await client.post("/api/alerts/0000000000000000/ack", json={"note": ""})
    assert resp.status == 404


async def test_acknowledgement_from_the_shell_is_shown(make_client: Factory) -> None:
    client, state = await make_client()
    holding = next(a for a in state.core.engine.active())
    state.store.acknowledge(holding.id, "shift lead", "known, tug assisting", START + 1000.0, origin="shell")
    await asyncio.sleep(0.6)  # the server looks at the store at most twice a second
    body = await get_json(client, f"/api/alerts?state=all&mmsi={holding.mmsi}")
    shown = next(a for a in body["alerts"] if a["id"] == holding.id)
    assert shown["ack"]["who"] == "shift lead" and shown["ack"]["note"] == "known, tug assisting"


async def test_static_files_and_no_escape(make_client: Factory) -> None:
    client, _ = await make_client(fed=False)
    js = await client.get("/static/vts.js")
    assert js.status == 200 and "javascript" in js.content_type
    assert (await client.get("/static/../api.py")).status in (403, 404)
    assert (await client.get("/static/%2e%2e/api.py")).status in (403, 404)
    assert (await client.get("/static/")).status in (403, 404)


async def test_write_guards(make_client: Factory) -> None:
    config = load_config()
    config.web.token = "s3cret"
    client, state = await make_client(config)
    alert_id = _sart_id(state)
    url = f"/api/alerts/{alert_id}/ack"
    assert (await client.post(url, json={"note": "x"})).status == 401
    assert (await client.post(url, json={"note": "x"}, headers={"X-VTS-Token": "wrong"})).status == 401
    cross = await client.post(
        url, json={"note": "x"}, headers={"X-VTS-Token": "s3cret", "Origin": "http://evil.example"}
    )
    assert cross.status == 403
    fetch_site = await client.post(
        url, json={"note": "x"}, headers={"X-VTS-Token": "s3cret", "Sec-Fetch-Site": "cross-site"}
    )
    assert fetch_site.status == 403
    form = await client.post(url, data={"note": "x"}, headers={"X-VTS-Token": "s3cret"})
    assert form.status == 415
    assert state.store.acks(alert_id) == []
    ok = await client.post(
        url,
        json={"note": "ok"},
        headers={"Authorization": "Bearer s3cret", "Origin": str(client.make_url("")).rstrip("/")},
    )
    assert ok.status == 200, await ok.text()
    assert [a.note for a in state.store.acks(alert_id)] == ["ok"]


async def test_host_guard_and_security_headers(make_client: Factory) -> None:
    client, _ = await make_client(fed=False)
    rebound = await client.get("/api/vessels", headers={"Host": "attacker.example:8080"})
    assert rebound.status == 421
    page = await client.get("/")
    assert page.status == 200
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/", headers={"Host": "localhost:1"})).status == 200


async def test_zones_stats_health(make_client: Factory) -> None:
    clock = {"mode": "replay", "speed": 20.0, "replay_clock": START}
    client, state = await make_client(clock_info=lambda: clock)
    zones = await get_json(client, "/api/zones")
    assert [f["properties"]["id"] for f in zones["features"]] == [z.id for z in state.config.zones]
    assert all(f["geometry"]["type"] == "Polygon" for f in zones["features"])
    stats = await get_json(client, "/api/stats")
    assert stats["vessels"] == len(state.core.tracker.vessels())
    assert stats["sources"]["replay"]["reports"] == state.reports_seen > 0
    assert stats["feed"] == clock
    assert stats["feed_clocks"] == state.core.feeds.describe() and stats["feed_clocks"]
    assert stats["alerts"]["emergency"] == 1
    assert stats["event_time"].startswith("2026-01-01T00:15")
    assert stats["token_required"] is False
    health = await get_json(client, "/healthz")
    assert health["status"] == "ok"


PROM_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$'
)


async def test_metrics_prometheus_text(make_client: Factory) -> None:
    client, state = await make_client()
    await client.get("/api/vessels")
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) \w+ .+$", line), line
            continue
        assert PROM_LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples["vts_vessels_tracked"] == len(state.core.tracker.vessels())
    assert samples['vts_alerts_active{severity="emergency"}'] == 1
    assert samples['vts_reports_total{source="replay"}'] == state.reports_seen
    assert samples['vts_web_requests_total{route="/api/vessels"}'] >= 1


async def test_metrics_count_the_copies_of_one_transmission(make_client: Factory) -> None:
    client, state = await make_client()
    line = "\\c:1767226500*5D\\!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
    for receiver in ("north", "south", "south"):
        state.core.feed_line(line, receiver)
    text = await (await client.get("/metrics")).text()
    assert 'vts_ingest_ignored_total{reason="duplicate"} 2' in text.splitlines()
    assert 'vts_reports_total{source="north"} 1' in text.splitlines() and 'source="south"' not in text


async def test_alert_delivery_and_feeds_are_visible_to_monitoring(make_client: Factory) -> None:
    """Found in a live test: with the broker down and alerts waiting, /api/stats, /metrics and
    /healthz said nothing of it, and /metrics had no gauge to tell a dead feed by."""
    from types import SimpleNamespace

    from tests.test_mqtt_publisher import make_alert
    from vts.mqtt.outbox import MemoryOutbox
    from vts.mqtt.publisher import PublisherStats

    feeds = {"sources": [{"name": "rx-north", "state": "retrying", "silent_s": 95.0},
                         {"name": "rx-south", "state": "connected", "silent_s": 0.4}]}  # fmt: skip
    client, state = await make_client(fed=False, clock_info=feeds)
    assert (await (await client.get("/api/stats")).json())["mqtt"] is None  # no broker configured
    assert "vts_mqtt_" not in await (await client.get("/metrics")).text()

    outbox = MemoryOutbox()
    outbox.add(make_alert(1, "raised"))
    outbox.add(make_alert(2, "raised"))
    stats = PublisherStats(connected=False, alerts_delivered=7, failed_connections=3, last_error="refused")
    state.mqtt = SimpleNamespace(stats=stats, outbox=outbox)
    mqtt = (await (await client.get("/api/stats")).json())["mqtt"]
    assert mqtt["connected"] is False and mqtt["alerts_pending"] == 2 and mqtt["alerts_delivered"] == 7
    assert mqtt["last_error"] == "refused"
    assert (await (await client.get("/healthz")).json())["mqtt"] == "disconnected"
    lines = (await (await client.get("/metrics")).text()).splitlines()
    for sample in (
        "vts_mqtt_connected 0",
        "vts_mqtt_alerts_pending 2",
        "vts_mqtt_alerts_delivered_total 7",
        "vts_mqtt_failed_connections_total 3",
        'vts_source_up{source="rx-north"} 0',
        'vts_source_up{source="rx-south"} 1',
        'vts_source_silent_seconds{source="rx-north"} 95.0',
    ):
        assert sample in lines, sample
    stats.connected = True
    assert (await (await client.get("/healthz")).json())["mqtt"] == "connected"


async def test_server_sent_events_push_alerts(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    core = state.core
    feed(core, seconds=200.0, sart_from=10_000.0)
    resp = await client.get("/api/events")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    t = START + 210.0
    for line in tagged(t, sart_position(t, active=True)):
        core.feed_line(line, source="replay")

    async def next_event() -> tuple[str, dict[str, Any]]:
        kind = ""
        while True:
            raw = (await resp.content.readline()).decode().rstrip("\n")
            if raw.startswith("event: "):
                kind = raw[7:]
            elif raw.startswith("data: ") and kind:
                return kind, json.loads(raw[6:])

    kind, data = await asyncio.wait_for(next_event(), timeout=5.0)
    assert kind == "alert" and data["type"] == "distress" and data["mmsi"] == SART_MMSI
    assert data["ack"] is None
    resp.close()


async def test_markup_in_names_is_plain_json(make_client: Factory) -> None:
    client, _ = await make_client()
    text = await (await client.get("/api/vessels?q=BOLD")).text()
    body = json.loads(text)
    assert [f["properties"]["n"] for f in body["features"]] == [MARKUP_NAME]


def test_stale_and_shadow_vessels_in_geojson() -> None:
    core = Core(load_config())
    feed(core, seconds=300.0)
    vessel = core.tracker.get(MOVER)
    assert vessel is not None and vessel.lat is not None
    index = AlertIndex.of([])
    fresh = vessel_feature(vessel, core.now, index)
    assert fresh is not None and "x" not in fresh["properties"]
    later = core.now + 3600.0
    assert vessel.is_stale(later)
    stale = vessel_feature(vessel, later, index)
    assert stale is not None and stale["properties"]["x"] == 1
    vessel.is_shadow = True
    collection = vessels_collection(core.tracker.vessels(), core.now, index)
    assert MOVER not in {f["properties"]["m"] for f in collection["features"]}


def make_mbtiles(path: Path) -> bytes:
    tile = b"\x89PNG\r\n\x1a\n" + b"tile-2-1-1"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
    )
    db.execute("INSERT INTO metadata VALUES ('format', 'png')")
    db.execute("INSERT INTO tiles VALUES (2, 1, 2, ?)", (tile,))  # XYZ y=1 at z=2 is TMS row 2
    db.commit()
    db.close()
    return tile


async def test_mbtiles_served(make_client: Factory, tmp_path: Path) -> None:
    tile = make_mbtiles(tmp_path / "chart.mbtiles")
    config = load_config()
    config.web.mbtiles = str(tmp_path / "chart.mbtiles")
    client, _ = await make_client(config, fed=False)
    resp = await client.get("/tiles/2/1/1.png")
    assert resp.status == 200 and await resp.read() == tile
    assert (await client.get("/tiles/2/1/2.png")).status == 404
    assert (await client.get("/tiles/2/9/1.png")).status == 404
    page = await (await client.get("/")).text()
    assert "/tiles/{z}/{x}/{y}.png" in page


async def test_webserver_binds_loopback_and_shuts_down_with_open_stream() -> None:
    config = load_config()
    core = Core(config)
    async with WebServer(config, core, None, None, port=0) as web:
        assert web.host == "127.0.0.1" and web.port > 0
        reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5.0)
        assert b"200" in head.split(b"\r\n")[0]
    # leaving the context closed the stream: the server ended it
    rest = await asyncio.wait_for(reader.read(), timeout=5.0)
    assert isinstance(rest, bytes)
    writer.close()


async def test_an_unknown_api_path_answers_in_json(make_client: Factory) -> None:
    """Found in a live test: /api/... misses were the router's text/plain 404 among JSON answers."""
    client, _ = await make_client(fed=False)
    resp = await client.get("/api/nowhere")
    assert resp.status == 404 and resp.content_type == "application/json"
    assert (await resp.json())["error"] == "Not Found: GET /api/nowhere"
    resp = await client.delete("/api/stats", headers={"Content-Type": "application/json"})
    assert resp.status == 405 and resp.content_type == "application/json" and "GET" in resp.headers["Allow"]
    assert (await client.get("/nowhere.html")).status == 404  # the rest of the site as before
