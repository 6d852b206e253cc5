"""The offline replay report: one self-contained HTML file, opened in Chromium with no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.web_scenario import MARKUP_NAME, SART_MMSI, scene
from vts.config import load_config
from vts.core import Core
from vts.web.report import ReplayRecorder


def replay(tmp_path: Path) -> tuple[Core, ReplayRecorder, Path]:
    core = Core(load_config())
    recorder = ReplayRecorder(core)
    for _, lines in scene(seconds=1200.0, step=10.0, sart_from=300.0):
        for line in lines:
            core.feed_line(line, source="replay")
    core.finish()
    out = recorder.write(tmp_path / "out" / "report.html", source="scene.nmea")
    return core, recorder, out


def report_data(text: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r'<script type="application/json" id="vts-report-data">(.*?)</script>', text, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_report_is_self_contained(tmp_path: Path) -> None:
    core, recorder, out = replay(tmp_path)
    text = out.read_text(encoding="utf-8")
    # no asset from anywhere: no src/href in the markup (script bodies aside: Leaflet's own
    # attribution link is a string there), no url() other than data: URIs, no @import, no fonts
    markup = re.sub(r"<script[^>]*>.*?</script>", "<script></script>", text, flags=re.S)
    assert re.findall(r"""\s(?:src|href)\s*=\s*["']?[^"'\s>]+""", markup) == []
    assert [u for u in re.findall(r"url\(([^)]*)\)", text) if u and not u.startswith(("data:", "#"))] == []
    assert "@import" not in text and "@font-face" not in text
    assert "/static/" not in text
    # leaflet and the report's code are inlined
    assert "L.Map" in text or "leafletjs" in text
    assert "VTSReport.init" in text
    data = report_data(text)
    positioned = {v.mmsi for v in core.tracker.vessels() if v.lat is not None}
    assert {v["m"] for v in data["vessels"]} == positioned
    assert all(len(v["t"]) == len(v["p"]) >= 2 for v in data["vessels"])
    assert {a["id"] for a in data["alerts"]} == set(recorder.alerts)
    assert any(a["type"] == "distress" and a["mmsi"] == SART_MMSI for a in data["alerts"])
    # AIS markup is data inside JSON, never markup in the document
    assert "<B>BOLD" not in text
    assert MARKUP_NAME in [v["n"] for v in data["vessels"]]


def test_track_thinning_keeps_span(tmp_path: Path) -> None:
    core = Core(load_config())
    recorder = ReplayRecorder(core, max_points_per_vessel=10, min_move_m=1.0)
    for _, lines in scene(seconds=1200.0, step=10.0):
        for line in lines:
            core.feed_line(line, source="replay")
    for track in recorder.tracks.values():
        assert len(track.points) <= 10
        if len(track.points) > 1:
            assert track.times == sorted(track.times)
    mover = recorder.tracks[636_019_825]
    assert mover.times[0] == pytest.approx(recorder.first_time)
    assert mover.times[-1] > recorder.first_time + 600


@pytest.mark.browser
async def test_report_opens_offline_in_chromium(tmp_path: Path, chromium_page) -> None:  # type: ignore[no-untyped-def]
    _core, recorder, out = replay(tmp_path)
    session = chromium_page
    page = session.page
    await page.goto(out.as_uri())
    await page.wait_for_function("() => window.VTSReport && VTSReport.tracks !== undefined", timeout=10000)
    data = recorder.data()
    assert await page.evaluate("() => VTSReport.tracks.length") == len(data["vessels"])
    assert await page.evaluate("() => VTSReport.alertMarkers.length") == len(data["alerts"])
    assert await page.locator("#r-alerts .r-alert").count() == len(data["alerts"])
    # at the end every vessel is drawn with its whole track; at the start, only those already seen
    assert await page.evaluate("() => Number(document.body.dataset.shipsShown)") == len(data["vessels"])
    await page.evaluate("() => VTSReport.setTime(VTSReport.data.t0)")
    start_alerts = await page.evaluate("() => Number(document.body.dataset.alertsRaised)")
    assert start_alerts < len(data["alerts"])
    # the slider moves time: a vessel's position changes
    pos0 = await page.evaluate("() => VTSReport.tracks[0].ship.getLatLng()")
    await page.evaluate(
        "() => { const s = document.getElementById('r-slider'); s.value = VTSReport.data.t1;"
        " s.dispatchEvent(new Event('input')); }"
    )
    pos1 = await page.evaluate("() => VTSReport.tracks[0].ship.getLatLng()")
    assert pos0 != pos1
    # clicking the distress alert opens its details (as text)
    await page.locator(".r-alert.sev-emergency").first.click()
    popup = page.locator(".leaflet-popup-content")
    await popup.wait_for(timeout=15000)
    assert str(SART_MMSI) in await popup.inner_text()
    await page.wait_for_timeout(700)
    await session.screenshot("report.png")
    assert session.outside == []
    assert session.page_errors == []
