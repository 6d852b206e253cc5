"""Adversarial review of vts/web/: hostile HTTP input, streams, tiles, XSS, the offline report.

A passing test documents a behaviour that holds; a failing one shows a bug (see the report).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.web_client import Factory, feed
from tests.web_scenario import SART_MMSI, XSS_NAME, scene
from vts.alerts.model import SEVERITIES
from vts.alerts.store import AlertStore
from vts.config import load_config
from vts.core import Core
from vts.web import page as page_mod
from vts.web.api import build_app
from vts.web.hub import CLIENT_QUEUE, AlertHub
from vts.web.report import ReplayRecorder
from vts.web.server import WebServer
from vts.web.state import WebState

MOVER = 636_019_825


def sart_id(state: WebState) -> str:
    return next(a.id for a in state.active_alerts() if a.mmsi == SART_MMSI)


# -- query strings -----------------------------------------------------------------------------------
async def test_vessels_limit_with_unicode_digit_is_not_an_internal_error(make_client: Factory) -> None:
    """'²'.isdigit() is True but int('²') raises: a query string must not make a 500."""
    client, state = await make_client()
    resp = await client.get("/api/vessels?limit=%C2%B2")
    assert resp.status in (200, 400), await resp.text()
    assert state.errors == 0


async def test_alerts_limit_with_unicode_digit_is_not_an_internal_error(make_client: Factory) -> None:
    client, state = await make_client()
    resp = await client.get("/api/alerts?limit=%C2%B2")
    assert resp.status in (200, 400), await resp.text()
    assert state.errors == 0


async def test_vessels_limit_zero_returns_no_features(make_client: Factory) -> None:
    """`limit=0` returns nothing on /api/alerts; /api/vessels must agree (it returns one)."""
    client, _ = await make_client()
    alerts = await (await client.get("/api/alerts?state=all&limit=0")).json()
    assert alerts["alerts"] == []
    body = await (await client.get("/api/vessels?limit=0")).json()
    assert body["features"] == []


async def test_vessels_limit_is_honoured(make_client: Factory) -> None:
    client, _ = await make_client()
    body = await (await client.get("/api/vessels?limit=3")).json()
    assert len(body["features"]) == 3


async def test_alert_filters_with_hostile_values_are_400_not_500(make_client: Factory) -> None:
    client, state = await make_client()
    for query in (
        "mmsi=abc",
        "mmsi=" + "9" * 5000,
        "since=yesterday",
        "since=2026-13-01T00:00:00Z",
        "min_severity=loud",
        "severity=,,,",
    ):
        resp = await client.get("/api/alerts?" + query)
        assert resp.status in (200, 400), (query, resp.status)
    assert state.errors == 0
    # said in words, not in Python's ("Invalid isoformat string")
    resp = await client.get("/api/alerts?since=yesterday")
    assert resp.status == 400 and (await resp.json())["error"].startswith("since: not an ISO time (e.g.")
    resp = await client.get("/api/alerts?mmsi=abc")
    assert resp.status == 400 and (await resp.json())["error"] == "mmsi: not an MMSI (nine digits): 'abc'"


async def test_alerts_since_without_zone_is_utc_not_local_time(
    make_client: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every time in vts is UTC; a `since` without a zone must not be read in the machine's time zone."""
    import time as _time

    monkeypatch.setenv("TZ", "America/Lima")  # UTC-5, Callao's own
    _time.tzset()
    try:
        client, _state = await make_client()
        everything = await (await client.get("/api/alerts?state=all")).json()
        assert everything["alerts"]
        # every alert of the scene started after START (2026-01-01T00:00:00Z)
        naive = await (await client.get("/api/alerts?state=all&since=2026-01-01T00:00:00")).json()
        zoned = await (await client.get("/api/alerts?state=all&since=2026-01-01T00:00:00Z")).json()
        assert len(zoned["alerts"]) == len(everything["alerts"])
        assert len(naive["alerts"]) == len(zoned["alerts"])
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()


async def test_vessel_id_variants(make_client: Factory) -> None:
    client, state = await make_client()
    assert (await client.get("/api/vessels/" + "9" * 5000)).status in (400, 404)
    assert (await client.get("/api/vessels/-1")).status == 404
    assert (await client.get("/api/vessels/1e3")).status == 400
    assert state.errors == 0


# -- acknowledge -------------------------------------------------------------------------------------
async def test_ack_with_deeply_nested_json_is_a_clear_400(make_client: Factory) -> None:
    """A 64 KiB body of nested arrays makes json.loads raise RecursionError: the handler catches
    only JSONDecodeError/UnicodeDecodeError, so it becomes an internal error with a stack trace."""
    client, state = await make_client()
    alert_id = sart_id(state)
    body = "[" * 30_000 + "]" * 30_000
    resp = await client.post(
        f"/api/alerts/{alert_id}/ack", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400, await resp.text()
    assert state.errors == 0


async def test_ack_with_unknown_charset_is_a_clear_4xx(make_client: Factory) -> None:
    client, state = await make_client()
    alert_id = sart_id(state)
    resp = await client.post(
        f"/api/alerts/{alert_id}/ack",
        data=b'{"note": "x"}',
        headers={"Content-Type": "application/json; charset=no-such-codec"},
    )
    assert 400 <= resp.status < 500, (resp.status, await resp.text())
    assert state.errors == 0


async def test_ack_body_variants(make_client: Factory) -> None:
    client, state = await make_client()
    alert_id = sart_id(state)
    url = f"/api/alerts/{alert_id}/ack"
    json_ct = {"Content-Type": "application/json"}
    assert (await client.post(url, data=b"not json", headers=json_ct)).status == 400
    assert (await client.post(url, data=b"\xff\xfe", headers=json_ct)).status == 400
    assert (await client.post(url, data=b"[1,2]", headers=json_ct)).status == 400
    assert (await client.post(url, data=b'{"note": NaN}', headers=json_ct)).status == 400
    assert (await client.post(url, data=b'{"note": 5}', headers=json_ct)).status == 400
    assert (await client.post(url, data=b"", headers=json_ct)).status == 400
    huge = json.dumps({"note": "x" * 100_000})
    assert (await client.post(url, data=huge, headers=json_ct)).status == 413
    assert (await client.post(url, data=b"note=x", headers={"Content-Type": "text/plain"})).status == 415
    assert (await client.post(url)).status == 415
    assert state.store.acks(alert_id) == []
    assert state.errors == 0
    # a long note is cut, not refused
    ok = await client.post(url, json={"note": "n" * 5000, "who": "  "})
    assert ok.status == 200
    body = await ok.json()
    assert len(body["alert"]["ack"]["note"]) == 2000 and body["alert"]["ack"]["who"] == "operator"


async def test_ack_unknown_alert_ids(make_client: Factory) -> None:
    client, state = await make_client()
    for alert_id in ("0" * 16, "x" * 300, "%2e%2e", "'; DROP TABLE alerts;--"):
        resp = await client.post(f"/api/alerts/{alert_id}/ack", json={"note": ""})
        assert resp.status == 404, (alert_id, resp.status)
    assert state.errors == 0
    assert not state.acks


async def test_ack_token_is_checked_before_the_alert_exists(make_client: Factory) -> None:
    config = load_config()
    config.web.token = "s3cret"
    client, state = await make_client(config)
    # no oracle: an unknown id without a token is 401 too
    assert (await client.post("/api/alerts/" + "0" * 16 + "/ack", json={})).status == 401
    url = f"/api/alerts/{sart_id(state)}/ack"
    for headers in (
        {"X-VTS-Token": ""},
        {"X-VTS-Token": "S3CRET"},
        {"Authorization": "Basic s3cret"},
        {"Authorization": "Bearer"},
        {"X-VTS-Token": "wrong", "Authorization": "Bearer s3cret"},
    ):
        assert (await client.post(url, json={}, headers=headers)).status == 401, headers
    assert (await client.post(url, json={}, headers={"X-VTS-Token": "s3cret"})).status == 200


async def test_ack_cross_site_variants_refused(make_client: Factory) -> None:
    client, state = await make_client()
    url = f"/api/alerts/{sart_id(state)}/ack"
    for headers in (
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Origin": "http://localhost"},  # other port = other origin
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": str(client.make_url("")).rstrip("/")},
    ):
        assert (await client.post(url, json={}, headers=headers)).status == 403, headers
    assert state.store.acks(sart_id(state)) == []


async def test_ack_twice_keeps_both_in_the_store(make_client: Factory) -> None:
    client, state = await make_client()
    alert_id = sart_id(state)
    url = f"/api/alerts/{alert_id}/ack"
    assert (await client.post(url, json={"note": "first"})).status == 200
    second = await client.post(url, json={"note": "second"})
    assert second.status in (200, 409)
    assert state.errors == 0


# -- host guard / rebinding --------------------------------------------------------------------------
async def test_host_guard_variants(make_client: Factory) -> None:
    client, _state = await make_client(fed=False)
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil", "[::2]:80", "localhost:1:2"):
        resp = await client.get("/api/stats", headers={"Host": host})
        assert resp.status == 421, host
    for host in ("LOCALHOST:8080", "[::1]:8080", "127.0.0.1"):
        resp = await client.get("/api/stats", headers={"Host": host})
        assert resp.status == 200, host
    # a write through a rebound name is refused too
    resp = await client.post(
        "/api/alerts/x/ack", json={}, headers={"Host": "evil.example", "Origin": "http://evil.example"}
    )
    assert resp.status == 421


async def test_non_loopback_bind_without_token_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = load_config()
    core = Core(config)
    server = WebServer(config, core, None, None, host="0.0.0.0", port=0)
    with caplog.at_level(logging.WARNING, logger="vts.web.server"):
        await asyncio.wait_for(server.start(), 5.0)
        try:
            assert server.host == "0.0.0.0"
            assert any("0.0.0.0" in r.getMessage() for r in caplog.records)
        finally:
            await asyncio.wait_for(server.stop(), 5.0)


# -- static files ------------------------------------------------------------------------------------
async def test_static_traversal_variants(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    for path in (
        "/static/..%2fapi.py",
        "/static/%2e%2e%2fapi.py",
        "/static/vendor/../../api.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static//etc/passwd",
        "/static/vendor/",
        "/static/..\\api.py",
    ):
        resp = await client.get(path)
        text = await resp.text()
        assert resp.status in (403, 404), (path, resp.status)
        assert "import" not in text
    assert state.errors == 0


# -- tiles ---------------------------------------------------------------------------------------------
def make_mbtiles(path: Path) -> bytes:
    tile = b"\x89PNG\r\n\x1a\n" + b"tile-2-1-1"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
    )
    db.execute("INSERT INTO metadata VALUES ('format', 'png')")
    db.execute("INSERT INTO tiles VALUES (2, 1, 2, ?)", (tile,))
    db.commit()
    db.close()
    return tile


async def test_tiles_out_of_range_are_404(make_client: Factory, tmp_path: Path) -> None:
    make_mbtiles(tmp_path / "chart.mbtiles")
    config = load_config()
    config.web.mbtiles = str(tmp_path / "chart.mbtiles")
    client, state = await make_client(config, fed=False)
    for path in (
        "/tiles/-1/0/0.png",
        "/tiles/31/0/0.png",
        "/tiles/2/4/0.png",
        "/tiles/2/0/-1.png",
        "/tiles/2/1/1.5.png",
        "/tiles/9999999999999999999999/0/0.png",
        "/tiles/2/1/" + "9" * 5000 + ".png",
        "/tiles/a/b/c.png",
        "/tiles/2/1/1.jpg",
        "/tiles/../2/1/1.png",
    ):
        resp = await client.get(path)
        assert resp.status == 404, (path[:60], resp.status)
    assert state.errors == 0


async def test_mbtiles_path_with_hash_is_served(make_client: Factory, tmp_path: Path) -> None:
    """`file:{path}?mode=ro` is a URI: a '#' (or '?', '%') in the path cuts it short, and without
    its `mode=ro` sqlite creates an empty database at the truncated path."""
    folder = tmp_path / "charts#1"
    folder.mkdir()
    tile = make_mbtiles(folder / "callao.mbtiles")
    config = load_config()
    config.web.mbtiles = str(folder / "callao.mbtiles")
    client, _state = await make_client(config, fed=False)
    assert not (tmp_path / "charts").exists(), "a stray empty database was created beside the chart"
    resp = await client.get("/tiles/2/1/1.png")
    assert resp.status == 200, await resp.text()
    assert await resp.read() == tile


async def test_mbtiles_path_with_percent_is_served(make_client: Factory, tmp_path: Path) -> None:
    folder = tmp_path / "100%25"
    folder.mkdir()
    tile = make_mbtiles(folder / "c.mbtiles")
    config = load_config()
    config.web.mbtiles = str(folder / "c.mbtiles")
    client, _ = await make_client(config, fed=False)
    resp = await client.get("/tiles/2/1/1.png")
    assert resp.status == 200
    assert await resp.read() == tile


async def test_corrupt_mbtiles_is_refused_clearly_not_500_per_tile(
    make_client: Factory, tmp_path: Path
) -> None:
    """A file that is not an SQLite database: either refused when the app is built (a clear error),
    or each tile is a plain 404; not an internal error with a stack trace for every tile."""
    bad = tmp_path / "broken.mbtiles"
    bad.write_bytes(b"this is not a database" * 100)
    config = load_config()
    config.web.mbtiles = str(bad)
    try:
        client, state = await make_client(config, fed=False)
    except (ValueError, OSError, sqlite3.Error) as exc:
        assert "broken.mbtiles" in str(exc)
        return
    resp = await client.get("/tiles/2/1/1.png")
    assert resp.status == 404, resp.status
    assert state.errors == 0


async def test_mbtiles_missing_is_a_clear_error(tmp_path: Path) -> None:
    config = load_config()
    config.web.mbtiles = str(tmp_path / "nowhere.mbtiles")
    state = WebState(config, Core(config))
    with pytest.raises(FileNotFoundError, match=r"nowhere\.mbtiles"):
        build_app(state)


async def test_mbtiles_without_tiles_table_is_not_500(make_client: Factory, tmp_path: Path) -> None:
    path = tmp_path / "empty.mbtiles"
    sqlite3.connect(path).close()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.commit()
    db.close()
    config = load_config()
    config.web.mbtiles = str(path)
    try:
        client, state = await make_client(config, fed=False)
    except (ValueError, sqlite3.Error) as exc:
        assert "empty.mbtiles" in str(exc)
        return
    resp = await client.get("/tiles/2/1/1.png")
    assert resp.status == 404
    assert state.errors == 0


# -- server-sent events ------------------------------------------------------------------------------
async def _read_until(resp: Any, needle: bytes, timeout: float = 3.0) -> bytes:
    buf = b""

    async def go() -> bytes:
        nonlocal buf
        while needle not in buf:
            chunk = await resp.content.readany()
            if not chunk:
                break
            buf += chunk
        return buf

    return await asyncio.wait_for(go(), timeout)


async def test_sse_last_event_id_with_unicode_digit_is_ignored(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    state.hub.publish("alert", {"id": "a1"})
    resp = await client.get("/api/events", headers={"Last-Event-ID": "²"})
    assert resp.status == 200
    state.hub.publish("alert", {"id": "a2"})
    got = await _read_until(resp, b'"a2"')
    assert b'"a2"' in got
    assert b"HTTP/1.1" not in got
    assert state.errors == 0
    resp.close()


async def test_sse_last_event_id_replays_missed_events(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    for i in range(5):
        state.hub.publish("alert", {"id": f"a{i}"})
    resp = await client.get("/api/events", headers={"Last-Event-ID": "3"})
    got = await _read_until(resp, b'"a4"')
    assert b'"a3"' in got and b'"a4"' in got and b'"a2"' not in got
    resp.close()


async def test_sse_disconnected_client_is_unsubscribed(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    resp = await client.get("/api/events")
    await _read_until(resp, b"retry:")
    assert state.hub.clients == 1
    resp.close()

    # the server notices at its next write
    async def gone() -> None:
        while state.hub.clients:
            state.hub.publish("alert", {"id": "x"})
            await asyncio.sleep(0.05)

    await asyncio.wait_for(gone(), 3.0)
    assert state.errors == 0


async def test_sse_many_clients_and_reconnects_leave_no_subscribers(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    for _round in range(3):
        streams = [await client.get("/api/events") for _ in range(20)]
        for s in streams:
            await _read_until(s, b"retry:")
        assert state.hub.clients == 20
        state.hub.publish("alert", {"id": "r"})
        for s in streams:
            await _read_until(s, b'"r"')
            s.close()

        async def drained() -> None:
            while state.hub.clients:
                state.hub.publish("alert", {"id": "ping"})
                await asyncio.sleep(0.02)

        await asyncio.wait_for(drained(), 3.0)
    assert state.errors == 0


def test_hub_slow_client_queue_is_bounded() -> None:
    hub = AlertHub()

    async def run() -> None:
        with hub.subscribe() as queue:
            for i in range(CLIENT_QUEUE * 3):
                hub.publish("alert", {"i": i})
            assert queue.qsize() == CLIENT_QUEUE
            assert hub.dropped == CLIENT_QUEUE * 2
            assert queue.get_nowait().data == {"i": CLIENT_QUEUE * 2}
        assert hub.clients == 0

    asyncio.run(run())


async def test_shutdown_with_a_client_that_never_reads() -> None:
    """A browser that stops reading: its writes block on a full socket; stopping the server must
    still finish (the daemon's shutdown must not hang on it)."""
    config = load_config()
    core = Core(config)
    server = WebServer(config, core, None, None, port=0)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"retry: 2000"), 5.0)
        big = "x" * 200_000
        for _ in range(10):  # tens of MB offered to a socket nobody reads
            for i in range(CLIENT_QUEUE):
                server.state.hub.publish("alert", {"i": i, "pad": big})
            await asyncio.sleep(0.02)
        assert server.state.hub.dropped > 0  # the writer is stuck: the hub drops for it
        await asyncio.wait_for(server.stop(), 8.0)
    finally:
        writer.close()
        await server.stop()  # (idempotent) nothing left behind when an assertion failed


# -- XSS ---------------------------------------------------------------------------------------------
async def test_xss_name_is_json_data_only(make_client: Factory) -> None:
    client, state = await make_client()
    vessel = state.core.tracker.get(MOVER)
    assert vessel is not None
    vessel.name = XSS_NAME
    vessel.destination = "</script><script>alert(1)</script>"
    details = await client.get(f"/api/vessels/{MOVER}")
    assert details.content_type == "application/json"
    assert (await details.json())["destination"] == vessel.destination
    listing = await client.get(f"/api/vessels?q={MOVER}")
    assert listing.content_type == "application/json"
    assert listing.headers["X-Content-Type-Options"] == "nosniff"
    page = await (await client.get("/")).text()
    assert XSS_NAME not in page  # vessel data is never in the page itself


def test_zone_name_with_markup_cannot_break_out_of_the_page_script() -> None:
    """Zone names come from the config, but land/zone text reaches folium's inline <script>s."""
    config = load_config()
    zone = config.zones[0]
    evil = "</script><img src=x onerror=alert(1)>"
    config.zones[0] = zone.model_copy(update={"name": evil})
    html_text = page_mod.render_map_page(config, config.web)
    assert evil not in html_text
    assert "<img src=x" not in html_text


# -- no internet at run time --------------------------------------------------------------------------
URL_IN_ATTR = re.compile(
    r"""<(?:script|link|img|iframe|audio|video|source)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)
CSS_URL = re.compile(r"""url\(\s*["']?(?:https?:)?//""", re.IGNORECASE)
IMPORT_URL = re.compile(r"""@import\s+["']?(?:url\()?["']?(?:https?:)?//""", re.IGNORECASE)


async def test_page_and_assets_load_nothing_from_the_internet(make_client: Factory) -> None:
    client, _ = await make_client(fed=False)
    html_text = await (await client.get("/")).text()
    assert not URL_IN_ATTR.search(html_text), URL_IN_ATTR.search(html_text)
    srcs = re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']([^"']+)""", html_text)
    assert srcs and all(s.startswith("/") for s in srcs), srcs
    for s in srcs:
        resp = await client.get(s)
        assert resp.status == 200, s
        text = await resp.text()
        assert not CSS_URL.search(text), (s, CSS_URL.search(text))
        assert not IMPORT_URL.search(text), s
    for name in ("/static/vts.js", "/static/vts.css"):
        text = await (await client.get(name)).text()
        assert not re.search(r"""(?:fetch|open)\(\s*["']https?://""", text), name


def test_report_with_no_vessels_and_xss_is_self_contained(tmp_path: Path) -> None:
    core = Core(load_config())
    recorder = ReplayRecorder(core)
    core.finish()
    out = recorder.write(tmp_path / "sub" / "empty.html", title="<b>t</b>", source="</script>x")
    text = out.read_text(encoding="utf-8")
    assert "</script>x" not in text and "<b>t</b>" not in text
    assert not URL_IN_ATTR.search(text)
    data = re.search(r'id="vts-report-data">(.*?)</script>', text, re.S)
    assert data is not None
    parsed = json.loads(data.group(1))
    assert parsed["vessels"] == [] and parsed["alerts"] == [] and parsed["t0"] is None


def test_report_escapes_vessel_names(tmp_path: Path) -> None:
    core = Core(load_config())
    recorder = ReplayRecorder(core)
    feed(core, seconds=120.0, sart_from=60.0)
    core.finish()
    recorder.tracks[MOVER].name = "</script><script>alert(1)</script>"
    text = recorder.render()
    assert "<script>alert(1)" not in text
    assert json.loads(re.search(r'id="vts-report-data">(.*?)</script>', text, re.S).group(1))["vessels"]


# -- vessels with no or odd positions ----------------------------------------------------------------
async def test_vessel_without_position_is_listed_in_details_not_in_geojson(make_client: Factory) -> None:
    client, state = await make_client()
    vessel = state.core.tracker.get(MOVER)
    assert vessel is not None
    vessel.lat = None
    vessel.lon = None
    body = await (await client.get("/api/vessels?q=pacific")).json()
    assert body["features"] == []
    details = await client.get(f"/api/vessels/{MOVER}")
    assert details.status == 200
    assert (await details.json())["lat"] is None
    assert state.errors == 0


async def test_stats_metrics_health_with_nothing_fed(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    for path in ("/api/stats", "/metrics", "/healthz", "/api/vessels", "/api/alerts", "/api/zones", "/"):
        resp = await client.get(path)
        assert resp.status == 200, path
    assert state.errors == 0


# -- more guards -------------------------------------------------------------------------------------
@pytest.mark.parametrize("bound", ["0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "LOCALHOST"])
async def test_rebinding_guard_on_for_every_spelling_of_loopback(make_client: Factory, bound: str) -> None:
    """Bound to loopback under another spelling, the server is still only reachable from this machine
    and must still refuse a rebound Host (`is_loopback` compares the text only)."""
    config = load_config()
    config.web.host = bound
    client, _ = await make_client(config, fed=False)
    resp = await client.get("/api/vessels", headers={"Host": "attacker.example:8080"})
    assert resp.status == 421, (bound, resp.status)


async def test_token_is_never_sent_to_the_browser(make_client: Factory) -> None:
    config = load_config()
    config.web.token = "t0ken-xyz"
    client, _ = await make_client(config, fed=False)
    for path in ("/", "/api/stats", "/metrics", "/healthz"):
        text = await (await client.get(path)).text()
        assert "t0ken-xyz" not in text, path
    stats = await (await client.get("/api/stats")).json()
    assert stats["token_required"] is True


async def test_mbtiles_tile_with_null_data_is_404(make_client: Factory, tmp_path: Path) -> None:
    path = tmp_path / "nulls.mbtiles"
    make_mbtiles(path)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO tiles VALUES (3, 0, 7, NULL)")
    db.commit()
    db.close()
    config = load_config()
    config.web.mbtiles = str(path)
    client, state = await make_client(config, fed=False)
    resp = await client.get("/tiles/3/0/0.png")
    assert resp.status == 404, resp.status
    assert state.errors == 0


async def test_head_on_the_event_stream_does_not_hold_a_subscriber() -> None:
    """HEAD /api/events (an uptime probe) gets the SSE handler: it subscribes, writes a body a HEAD
    response must not have, and stays subscribed for as long as the connection lives."""
    config = load_config()
    core = Core(config)
    async with WebServer(config, core, None, None, port=0) as web:
        reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
        try:
            writer.write(f"HEAD /api/events HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            assert b" 200 " in head.split(b"\r\n")[0] or b" 405 " in head.split(b"\r\n")[0]
            # the connection is reusable: the next request gets its own response, no stray body
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n\r\n".encode())
            await writer.drain()
            nxt = await asyncio.wait_for(reader.read(200), 3.0)
            assert nxt.startswith(b"HTTP/1.1 200"), nxt[:60]
            assert web.state.hub.clients == 0
        finally:
            writer.close()


def test_csp_allows_every_subdomain_of_a_tile_url_template() -> None:
    """Leaflet fills `{s}` with a, b, c: the CSP must let those hosts through, not the literal 's.'."""
    from vts.web.security import content_security_policy

    config = load_config()
    settings = config.web.model_copy(update={"tiles_url": "http://{s}.tiles.local:8081/{z}/{x}/{y}.png"})
    csp = content_security_policy(settings)
    img = next(part for part in csp.split(";") if part.strip().startswith("img-src"))
    for sub in "abc":
        assert f"http://{sub}.tiles.local:8081" in img or "http://*.tiles.local:8081" in img, img


async def test_metrics_source_labels_are_escaped(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    for _, lines in scene(seconds=20.0, step=10.0, sart_from=1e9):
        for line in lines:
            state.core.feed_line(line, source='rx "north"\\a\nb')
    text = await (await client.get("/metrics")).text()
    assert 'vts_reports_total{source="rx \\"north\\"\\\\a\\nb"}' in text
    for line in text.splitlines():
        assert line.startswith("#") or re.match(r"^[a-z_]+(\{.*\})? -?[0-9.e+-]+$", line), line


async def test_ack_gzip_bomb_is_refused(make_client: Factory) -> None:
    import gzip

    client, state = await make_client()
    url = f"/api/alerts/{sart_id(state)}/ack"
    bomb = gzip.compress(b'{"note": "' + b"a" * 20_000_000 + b'"}')
    assert len(bomb) < 64 * 1024
    resp = await asyncio.wait_for(
        client.post(url, data=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}),
        5.0,
    )
    assert resp.status in (400, 413), resp.status
    assert state.store.acks(sart_id(state)) == []


# -- added with the fixes: each fails on the code before them ------------------------------------------
async def test_bad_limit_is_a_clear_400(make_client: Factory) -> None:
    """`limit` that is not a count of ASCII digits is refused saying so (it was ignored, or a 500)."""
    client, state = await make_client()
    for path in ("/api/vessels", "/api/alerts"):
        for value in ("abc", "-1", "%C2%B2", "%D9%A3", "1.5"):
            resp = await client.get(f"{path}?limit={value}")
            assert resp.status == 400, (path, value, resp.status)
            assert "limit" in (await resp.json())["error"]
        huge = await client.get(f"{path}?limit=" + "0" * 2000 + "9" * 4400)  # capped, not a 500
        assert huge.status == 200, path
    assert state.errors == 0


async def test_sse_failure_after_the_headers_ends_the_stream_without_a_second_response(
    make_client: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the event stream's headers are out, an error must end the stream (counted, logged), not
    write a 500 response into its body."""
    client, state = await make_client(fed=False)
    state.hub.publish("alert", {"id": "a1"})

    def broken(last_id: int) -> list[Any]:
        raise RuntimeError("ring broken")

    monkeypatch.setattr(state.hub, "since", broken)
    resp = await client.get("/api/events", headers={"Last-Event-ID": "0"})
    assert resp.status == 200
    body = await asyncio.wait_for(resp.content.read(), 3.0)  # the stream ends
    assert b"retry:" in body
    assert b"HTTP/1.1" not in body and b"internal error" not in body
    assert state.errors == 1
    assert state.hub.clients == 0


async def test_non_finite_floats_are_sent_as_null_not_a_500(make_client: Factory) -> None:
    """One NaN (a vessel's speed, a number in an alert's details) must not blank the whole answer."""
    client, state = await make_client()
    vessel = state.core.tracker.get(MOVER)
    assert vessel is not None
    vessel.sog = float("nan")
    vessel.cog = float("inf")
    alert = next(a for a in state.active_alerts() if a.mmsi == SART_MMSI)
    alert.details["range_nm"] = float("nan")
    resp = await client.get("/api/vessels")
    assert resp.status == 200
    feature = next(f for f in (await resp.json())["features"] if f["properties"]["m"] == MOVER)
    assert feature["properties"]["s"] is None and feature["properties"]["g"] is None
    assert (await client.get(f"/api/vessels?q={MOVER}")).status == 200
    details = await client.get(f"/api/vessels/{MOVER}")
    assert details.status == 200 and (await details.json())["sog"] is None
    alerts = await client.get("/api/alerts")
    assert alerts.status == 200
    got = next(a for a in (await alerts.json())["alerts"] if a["id"] == alert.id)
    assert got["details"]["range_nm"] is None
    event = state.hub.publish("alert", {"id": alert.id, "cpa_nm": float("-inf")})
    assert b'"cpa_nm":null' in event.encode()
    assert state.errors == 0


async def test_error_responses_carry_the_security_headers(make_client: Factory, tmp_path: Path) -> None:
    make_mbtiles(tmp_path / "chart.mbtiles")
    config = load_config()
    config.web.mbtiles = str(tmp_path / "chart.mbtiles")
    client, _ = await make_client(config, fed=False)
    for method, path, status in (
        ("GET", "/api/nowhere", 404),
        ("GET", "/api/alerts?severity=loud", 400),
        ("GET", "/api/vessels?limit=x", 400),
        ("GET", "/tiles/9/0/0.png", 404),
        ("GET", "/static/nothing.js", 404),
        ("PUT", "/api/vessels", 405),
    ):
        resp = await client.request(method, path, headers={"Content-Type": "application/json"})
        assert resp.status == status, (path, resp.status)
        assert "default-src 'self'" in resp.headers.get("Content-Security-Policy", ""), path
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
        assert resp.headers.get("X-Frame-Options") == "DENY", path


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("webp", "image/webp"), ("jpg", "image/jpeg"), ("image/jpeg", "image/jpeg"), (None, "image/png")],
)
async def test_tile_content_type_follows_the_mbtiles_format(
    make_client: Factory, tmp_path: Path, fmt: str | None, content_type: str
) -> None:
    path = tmp_path / "chart.mbtiles"
    tile = make_mbtiles(path)
    db = sqlite3.connect(path)
    if fmt is None:
        db.execute("DROP TABLE metadata")  # no metadata: png, as before
    else:
        db.execute("UPDATE metadata SET value = ? WHERE name = 'format'", (fmt,))
    db.commit()
    db.close()
    config = load_config()
    config.web.mbtiles = str(path)
    client, _ = await make_client(config, fed=False)
    resp = await client.get("/tiles/2/1/1.png")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == content_type
    assert await resp.read() == tile


async def test_vector_mbtiles_are_refused_clearly(tmp_path: Path) -> None:
    from vts.web.tiles import MbTilesError

    path = tmp_path / "vector.mbtiles"
    make_mbtiles(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE metadata SET value = 'pbf' WHERE name = 'format'")
    db.commit()
    db.close()
    config = load_config()
    config.web.mbtiles = str(path)
    with pytest.raises(MbTilesError, match=r"vector\.mbtiles.*'pbf'"):
        build_app(WebState(config, Core(config)))


@pytest.mark.parametrize("name", ["broken.mbtiles", "missing.mbtiles"])
async def test_daemon_with_an_unusable_mbtiles_runs_on_without_the_map(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """The daemon goes on without the map and says why, naming the file. Before: a file that is not a
    database was taken, and every tile was then a 500 with a stack trace; a missing one was reported
    as "cannot listen on 127.0.0.1:..."; one sqlite could not open (as a path with `%25` was) raised
    sqlite3.OperationalError, which `_enter_web` does not catch, and stopped the daemon."""
    import argparse
    import contextlib

    from vts.daemon import Daemon
    from vts.sources.runner import FeedHealth

    path = tmp_path / name
    if name == "broken.mbtiles":
        path.write_bytes(b"this is not a database" * 100)
    config = load_config()
    config.web.mbtiles = str(path)
    args = argparse.Namespace(config=None, no_web=False, host="127.0.0.1", port=0)
    store = AlertStore(None)
    core = Core(config, store=store)
    try:
        with caplog.at_level(logging.ERROR, logger="vts.daemon"):
            async with asyncio.timeout(5.0), contextlib.AsyncExitStack() as stack:
                await Daemon(config, args)._enter_web(stack, core, store, FeedHealth(core, []))
    finally:
        store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "no live map" in errors[0] and name in errors[0], errors
    assert "cannot listen" not in errors[0]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("0:0:0:0:0:0:0:1", True),
        ("::ffff:127.0.0.1", True),
        ("LocalHost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("192.168.1.20", False),
        ("127.example.org", False),
    ],
)
def test_is_loopback_reads_the_address_not_the_text(host: str, loopback: bool) -> None:
    config = load_config()
    assert config.web.model_copy(update={"host": host}).is_loopback is loopback


async def test_bound_beyond_loopback_without_allowed_hosts_refuses_rebound_names(
    make_client: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """Bound to 0.0.0.0 with no `allowed_hosts`, any Host was served: a page on a rebound name of the
    attacker's could read the picture and (with no token) acknowledge alerts. Now: IP literals, localhost,
    this machine's own name and `allowed_hosts` only."""
    import socket

    config = load_config()
    config.web.host = "0.0.0.0"
    client, _ = await make_client(config, fed=False)
    own = socket.gethostname()
    for host in ("192.168.1.20:8080", "[fe80::1]:8080", "10.0.0.1", "localhost:8080", f"{own}:8080"):
        resp = await client.get("/api/stats", headers={"Host": host})
        assert resp.status == 200, host
    for host in ("evil.example", "evil.example:8080", "192.168.1.20.evil.example", "[::1"):
        resp = await client.get("/api/stats", headers={"Host": host})
        assert resp.status == 421, host
    resp = await client.post(
        "/api/alerts/x/ack", json={}, headers={"Host": "evil.example", "Origin": "http://evil.example"}
    )
    assert resp.status == 421

    config = load_config()
    config.web.host = "0.0.0.0"
    config.web.allowed_hosts = ["vts.ops.example"]
    client, _ = await make_client(config, fed=False)
    assert (await client.get("/api/stats", headers={"Host": "VTS.ops.example:8080"})).status == 200
    assert (await client.get("/api/stats", headers={"Host": "192.168.1.20:8080"})).status == 200
    assert (await client.get("/api/stats", headers={"Host": "evil.example"})).status == 421

    server = WebServer(config, Core(config), None, None, host="0.0.0.0", port=0)
    with caplog.at_level(logging.WARNING, logger="vts.web.server"):
        await asyncio.wait_for(server.start(), 5.0)
        await asyncio.wait_for(server.stop(), 5.0)
    warning = next(r.getMessage() for r in caplog.records if "0.0.0.0" in r.getMessage())
    assert "allowed_hosts" in warning and "vts.ops.example" in warning and "web.token" in warning


async def test_head_on_the_event_stream_is_headers_only(make_client: Factory) -> None:
    client, state = await make_client(fed=False)
    resp = await asyncio.wait_for(client.head("/api/events"), 3.0)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert "Content-Security-Policy" in resp.headers
    assert state.hub.clients == 0


def test_csp_tile_sources() -> None:
    from vts.web.security import tile_sources

    assert tile_sources("https://tiles.local:8443/{z}/{x}/{y}.png") == ["https://tiles.local:8443"]
    assert tile_sources("http://tiles-{s}.local/{z}/{x}/{y}.png") == [
        "http://tiles-a.local",
        "http://tiles-b.local",
        "http://tiles-c.local",
    ]
    assert tile_sources("//tiles.local/{z}/{x}/{y}.png") == ["tiles.local"]
    assert tile_sources("http://{z}.tiles.local/{x}/{y}.png") == []
    assert tile_sources("/tiles/{z}/{x}/{y}.png") == []


def test_parse_iso_time_without_a_zone_is_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time as _time

    from vts.alerts.model import parse_iso_time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    _time.tzset()
    try:
        assert parse_iso_time("1970-01-02T00:00:00") == 86_400.0
        assert parse_iso_time("1970-01-02T00:00:00Z") == 86_400.0
        assert parse_iso_time("1970-01-02T05:00:00+05:00") == 86_400.0
        assert parse_iso_time("0001-01-01T00:00:00") < 0  # no local-time conversion to overflow
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()


def test_a_restart_keeps_the_unacknowledged_event_alerts_on_the_panel(tmp_path: Path) -> None:
    """Found in a live test: after a restart on the same database, an AIS-SART distress (emergency,
    not acknowledged, still transmitting: the same activation, never raised again) was off the map
    and out of /api/alerts, with the jumps and identity changes of the hour before. One that was
    acknowledged stays off the panel."""
    config = load_config()
    db = tmp_path / "alerts.sqlite3"
    store = AlertStore(db)
    core = Core(config, store=store)
    state = WebState(config, core, store)
    state.attach()
    feed(core)
    core.finish()
    holding = {a.id for a in core.engine.active()}
    events = {a.id: a for a in state.active_alerts() if a.id not in holding}
    sart = sart_id(state)
    assert events[sart].type == "distress" and len(events) >= 2
    acknowledged = next(i for i, a in sorted(events.items()) if i != sart)
    assert core.engine.acknowledge(acknowledged, "officer", "seen", core.now or 0.0)
    store.close()

    store = AlertStore(db)
    try:
        state = WebState(config, Core(config, store=store), store)
        state.attach()
        shown = {a.id for a in state.active_alerts()}
        assert set(events) - {acknowledged} <= shown and sart in shown
        assert acknowledged not in shown
    finally:
        store.close()


async def test_a_limited_alert_list_keeps_the_most_severe(make_client: Factory) -> None:
    """Found in a browser test: with 17,083 alerts active, /api/alerts (newest first, cut at 10,000)
    sent 1,531 of 5,324 alarms and 8,460 warnings: an older emergency could be cut for a newer
    caution. Cut, the list keeps the most severe; it is still in order, newest first."""
    client, state = await make_client()
    every = (await (await client.get("/api/alerts?state=all")).json())["alerts"]
    ranks = sorted(SEVERITIES.index(a["severity"]) for a in every)
    assert len(every) > 3 and ranks[0] < ranks[-1]  # (the scene has alerts of several severities)
    cut = (await (await client.get("/api/alerts?state=all&limit=3")).json())["alerts"]
    assert sorted(SEVERITIES.index(a["severity"]) for a in cut) == ranks[:3]
    assert [a["started"] for a in cut] == sorted((a["started"] for a in cut), reverse=True)
    assert state.errors == 0
