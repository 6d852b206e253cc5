"""The live map in real headless Chromium, during a replay, with every non-loopback request blocked.

A Core is driven in-process by a synthetic log (tests/web_scenario.py) while the WebServer serves
it: the page must show the vessels, see them move between polls, get the AIS-SART emergency the
replay raises, acknowledge it (stored in the alert store), show markup in AIS names as text, and
never try to leave loopback. A screenshot is written to tests/artifacts/map_replay.png.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web_scenario import MARKUP_NAME, SART_MMSI, XSS_NAME, scene
from vts.alerts.store import AlertStore
from vts.config import load_config
from vts.core import Core
from vts.web.server import WebServer

if TYPE_CHECKING:
    from playwright.async_api import Route

pytestmark = pytest.mark.browser

MOVER = 636_019_825
MARKUP_MMSI = 760_000_111
XSS_MMSI = 760_000_222


class Replay:
    """Feeds the scene into the core: a first part before the page opens, the rest while it watches."""

    def __init__(self, core: Core, wall_step: float = 0.25) -> None:
        self.core = core
        self.wall_step = wall_step
        self.chunks = list(scene(seconds=1200.0, step=10.0, sart_from=300.0))
        self.done = asyncio.Event()

    def feed(self, lines: list[str]) -> None:
        for line in lines:
            self.core.feed_line(line, source="replay")

    def prime(self, n: int) -> None:
        for _, lines in self.chunks[:n]:
            self.feed(lines)
        self.chunks = self.chunks[n:]

    async def run(self) -> None:
        for _, lines in self.chunks:
            self.feed(lines)
            await asyncio.sleep(self.wall_step)
        self.core.finish()
        self.done.set()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[WebServer, Core, AlertStore, Replay]]:
    config = load_config()
    config.web.update_ms = 500
    store = AlertStore(tmp_path / "alerts.sqlite3")
    core = Core(config, store=store)
    replay = Replay(core)
    replay.prime(6)
    clock = {
        "mode": "replay",
        "speed": 40,
        "event_time_iso": None,
        "sources": [],  # shape of vts.sources.runner.FeedHealth; per-source rates then come from the server
    }
    async with WebServer(config, core, store, lambda: clock, port=0) as web:
        task = asyncio.create_task(replay.run())
        try:
            yield web, core, store, replay
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    store.close()


async def vessel_position(page, mmsi: int) -> list[float] | None:  # type: ignore[no-untyped-def]
    return await page.evaluate(
        "(m) => { const l = VTS.layer && VTS.layer.getLayer(m); if (!l) return null;"
        " const p = l.getLatLng(); return [p.lat, p.lng]; }",
        mmsi,
    )


async def test_live_map_during_replay(served, chromium_page) -> None:  # type: ignore[no-untyped-def]
    web, core, store, _replay = served
    session = chromium_page
    page = session.page
    await page.goto(web.url)

    # the vessels are drawn (canvas layers in the Realtime layer) and listed
    await page.wait_for_function("() => Number(document.body.dataset.vessels || 0) >= 4", timeout=15000)
    tracked = {v.mmsi for v in core.tracker.vessels() if v.lat is not None}
    on_map = set(await page.evaluate("() => Object.keys(VTS.layer._features).map(Number)"))
    assert on_map == tracked
    assert await page.locator("#vts-list .vts-row").count() >= 4

    # they move between polls
    first = await vessel_position(page, MOVER)
    updates = await page.evaluate("() => VTS.updates")
    await page.wait_for_function("(n) => VTS.updates >= n + 2", arg=updates, timeout=10000)
    second = await vessel_position(page, MOVER)
    assert first is not None and second is not None and first != second
    vessel = core.tracker.get(MOVER)
    assert vessel is not None

    # the replay raises the AIS-SART emergency while the page is open: it arrives in the panel
    alert_box = page.locator(".vts-alert.sev-emergency").first
    await alert_box.wait_for(timeout=20000)
    assert str(SART_MMSI) in await alert_box.inner_text()
    assert "EMERG" in await page.title()
    assert await page.evaluate("() => VTS.beeps || 0") >= 1
    alert_id = await alert_box.get_attribute("data-alert-id")
    assert alert_id

    # acknowledge it with a note: shown as acknowledged, and stored with the alert
    await page.fill(".vts-operator, #vts-operator", "watch officer")
    await page.dispatch_event("#vts-operator", "change")
    await alert_box.locator("input").fill("SART seen, calling the vessel")
    await alert_box.locator("button.vts-ack-btn").click()
    acked = page.locator(f'.vts-alert[data-alert-id="{alert_id}"] .ackd')
    await acked.wait_for(timeout=15000)
    assert "SART seen, calling the vessel" in await acked.inner_text()
    acks = store.acks(alert_id)
    assert [(a.by, a.note) for a in acks] == [("watch officer", "SART seen, calling the vessel")]

    # markup in AIS names is text: in the list, in the details, and in the tooltip
    target = core.tracker.get(XSS_MMSI)
    assert target is not None
    target.name = XSS_NAME  # longer than AIS allows: as if a decoder had let it through

    def keep_hostile_name(_report: object, v: object) -> None:
        # the replay goes on sending the ship's static data (its real name) every minute of event
        # time, 1.5 s of wall time: on a busy machine that came before the checks below
        if v is target:
            target.name = XSS_NAME

    core.add_report_listener(keep_hostile_name)
    await page.fill("#vts-q", "BOLD")
    row = page.locator(f'#vts-list .vts-row[data-mmsi="{MARKUP_MMSI}"]')
    await row.wait_for(timeout=15000)
    assert await row.locator(".nm").inner_text() == MARKUP_NAME
    await row.click()
    details_name = "(n) => document.getElementById('vts-details-name')?.textContent === n"
    await page.wait_for_function(details_name, arg=MARKUP_NAME, timeout=15000)
    await page.evaluate(f"() => VTS.select({XSS_MMSI}, true)")
    await page.wait_for_function(details_name, arg=XSS_NAME, timeout=15000)
    await page.fill("#vts-q", "")
    await page.wait_for_timeout(1500)  # a list refresh and a poll with the hostile name in place
    assert await page.locator("#vts-right b, #vts-left b, #vts-right i, #vts-left i").count() == 0
    assert await page.locator('img[src="x"]').count() == 0
    assert session.dialogs == []

    # a click on the ship symbol (canvas hit-testing) opens its details; hovering shows a text tooltip
    async def point_of(mmsi: int) -> dict[str, float]:
        await page.evaluate(
            f"() => {{ VTS.map.setView(VTS.layer.getLayer({mmsi}).getLatLng(), 13, {{animate: false}}); }}"
        )
        await page.wait_for_timeout(300)
        xy = await page.evaluate(
            f"() => {{ const p = VTS.map.latLngToContainerPoint(VTS.layer.getLayer({mmsi}).getLatLng());"
            " const r = VTS.map.getContainer().getBoundingClientRect();"
            " return {x: r.left + p.x, y: r.top + p.y}; }"
        )
        return xy

    await page.evaluate("() => { VTS.layer.stop(); }")  # hold the picture still while aiming
    xy = await point_of(MOVER)
    await page.mouse.click(xy["x"], xy["y"])
    await page.wait_for_function(
        "() => document.getElementById('vts-details-name')?.textContent === 'PACIFIC TRADER'", timeout=15000
    )
    xy = await point_of(MARKUP_MMSI)
    await page.mouse.move(xy["x"], xy["y"])
    tooltip = page.locator(".leaflet-tooltip", has_text=str(MARKUP_MMSI))
    await tooltip.wait_for(timeout=15000)
    assert MARKUP_NAME in await tooltip.inner_text()
    assert await tooltip.locator("b").count() == 1 and await tooltip.locator("i").count() == 0
    await page.evaluate("() => { VTS.layer.start(); }")
    await page.evaluate(f"() => {{ VTS.select({XSS_MMSI}, true); }}")

    # zone kinds are layers that can be toggled
    overlays = await page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    for kind_layer in ("Anchorages", "Security zones", "Lanes and channels", "Vessels"):
        assert any(kind_layer in o for o in overlays), overlays

    # trail of the selected vessel is drawn
    assert await page.evaluate("() => VTS.trail.getLayers().length") == 1

    # measuring: two clicks on the map give a distance
    await page.click("#vts-measure")
    box = await page.locator(".folium-map").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + 200, box["y"] + 300)
    await page.mouse.click(box["x"] + 500, box["y"] + 300)
    assert "NM" in await page.locator("#vts-measure-result").inner_text()
    await page.click("#vts-measure")

    # header shows feed health
    assert "replay" in await page.locator("#vts-feed").inner_text()
    assert "replay" in await page.locator("#vts-sources").inner_text()
    assert "arrival times" not in await page.locator("#vts-sources").inner_text()

    # a feed whose fixes arrive late (satellite-like) is marked as such
    async def late_feed(route: Route) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            response = await route.fetch()
            stats = await response.json()
            sat = {"name": "sat", "state": "running", "msgs_per_s": 2.0, "stamps_arrival": True}
            stats["feed"] = {**(stats["feed"] or {}), "sources": [sat]}
            await route.fulfill(response=response, json=stats)
        except PlaywrightError as e:  # a poll caught by the unroute below: "Route is already handled!"
            if "already handled" not in str(e):
                raise

    await page.route("**/api/stats", late_feed)
    await page.evaluate("() => VTS.refreshStats()")
    assert await page.locator("#vts-sources").inner_text() == "sat 2.0/s (arrival times)"
    await page.unroute("**/api/stats")  # (the page polls /api/stats every 2 s: one may be in the handler)

    path = await session.screenshot("map_replay.png")
    assert path.stat().st_size > 10_000
    assert session.outside == [], f"requests tried to leave loopback: {session.outside}"
    assert session.page_errors == []


async def test_vts_replay_serve_and_map_out(tmp_path: Path, chromium_page) -> None:  # type: ignore[no-untyped-def]
    """The real command: `vts replay LOG --speed X --serve --port 0 --map-out FILE --store DB`."""
    log = tmp_path / "scene.nmea"
    with log.open("w", encoding="ascii") as f:
        for _, lines in scene(seconds=600.0, step=10.0, sart_from=120.0):
            f.writelines(line + "\n" for line in lines)
    report = tmp_path / "report.html"
    cmd = [
        sys.executable, "-m", "vts", "replay", str(log), "--speed", "60", "--serve", "--port", "0",
        "--map-out", str(report), "--store", str(tmp_path / "alerts.sqlite3"), "--no-progress",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=str(Path(__file__).parent.parent),
    )
    try:
        url = None
        assert proc.stderr is not None
        while url is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), timeout=30)).decode()
            assert line, "vts replay ended before serving"
            match = re.search(r"map at (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        page = chromium_page.page
        await page.goto(url)
        await page.wait_for_function("() => Number(document.body.dataset.vessels || 0) >= 4", timeout=15000)
        first = await vessel_position(page, MOVER)
        await page.wait_for_function(
            "([m, p]) => { const l = VTS.layer.getLayer(m); const q = l && l.getLatLng();"
            " return q && (q.lat !== p[0] || q.lng !== p[1]); }",
            arg=[MOVER, first],
            timeout=15000,
        )
        await page.locator(".vts-alert.sev-emergency").first.wait_for(timeout=20000)
        assert "replay" in await page.locator("#vts-feed").inner_text()
        assert "scene.nmea" in await page.locator("#vts-sources").inner_text()
        # the log ends (600 s at x60): the report is written and the map keeps serving
        for _ in range(100):
            if report.exists():
                break
            await asyncio.sleep(0.2)
        assert report.exists()
        await page.reload()
        await page.wait_for_function("() => Number(document.body.dataset.vessels || 0) >= 4", timeout=15000)
        await page.locator(".vts-alert.sev-emergency").first.wait_for(
            timeout=10000
        )  # still there after the end
        assert "100%" in await page.locator("#vts-feed").inner_text()
        await chromium_page.screenshot("replay_serve.png")
        assert chromium_page.outside == []
        assert chromium_page.page_errors == []
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert "VTSReport.init" in report.read_text(encoding="utf-8")


async def test_token_required_and_stale_targets_greyed(tmp_path: Path, chromium_page) -> None:  # type: ignore[no-untyped-def]
    config = load_config()
    config.web.update_ms = 500
    config.web.token = "night-watch-7"
    store = AlertStore(tmp_path / "alerts.sqlite3")
    core = Core(config, store=store)
    replay = Replay(core)
    async with WebServer(config, core, store, None, port=0) as web:
        replay.prime(40)  # through the SART activation at 300 s
        page = chromium_page.page
        await page.goto(web.url)
        first_emergency = page.locator(".vts-alert.sev-emergency").first
        await first_emergency.wait_for(timeout=15000)
        alert_id = await first_emergency.get_attribute("data-alert-id")
        alert_box = page.locator(f'#vts-alerts .vts-alert[data-alert-id="{alert_id}"]')
        # without the token the server refuses, and the operator is told why, on the alert
        await page.fill("#vts-operator", "watch officer")
        await page.dispatch_event("#vts-operator", "change")
        await alert_box.locator("button.vts-ack-btn").click()
        refusal = page.locator(f'.vts-alert[data-alert-id="{alert_id}"] .ack-error')
        await refusal.wait_for(timeout=15000)
        assert "token" in await refusal.inner_text()
        assert store.acks(alert_id) == []
        # with it, the acknowledgement is stored
        await page.fill("#vts-token", "night-watch-7")
        await page.dispatch_event("#vts-token", "change")
        await alert_box.locator("input").fill("ok")
        await alert_box.locator("button.vts-ack-btn").click()
        await page.locator(f'.vts-alert[data-alert-id="{alert_id}"] .ackd').wait_for(timeout=15000)
        assert [a.note for a in store.acks(alert_id)] == ["ok"]
        # ten quiet minutes of event time: every target is stale and drawn grey
        assert core.now is not None
        core.advance(core.now + 600.0)
        await page.wait_for_function(
            "() => { const ls = Object.values(VTS.layer._featureLayers); return ls.length > 0 && ls"
            ".every(l => l.feature.properties.x === 1 && l.options.fillColor === '#b8b8b8'); }",
            timeout=10000,
        )
        await chromium_page.screenshot("map_stale.png")
    store.close()
    assert chromium_page.outside == []
