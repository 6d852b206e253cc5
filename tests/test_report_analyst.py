"""The offline replay report as an analyst uses it: the real `vts replay` on the two Callao logs (a
day and the next night, so the report spans two dates), its alert list against `--alerts-out`, its
vessel counts against the summary and `--vessels-out`, the severity filter, the layer control; and
the recorder's limits (file size, alerts with no position)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.web_scenario import MARKUP_NAME, scene
from vts.alerts.model import SEVERITIES, Alert, make_alert_id, parse_iso_time, severity_rank
from vts.config import load_config
from vts.core import Core
from vts.web.report import ReplayRecorder

REPO = Path(__file__).resolve().parent.parent
LOGS = [REPO / "replay" / "callao_day.nmea", REPO / "replay" / "callao_night_security.nmea"]


def report_data(text: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="vts-report-data">(.*?)</script>', text, re.S)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def decoded_times(data: dict[str, Any], vessel: dict[str, Any]) -> list[float]:
    t, out = 0, []
    for d in vessel["t"]:
        t += d
        out.append(data["t0"] + t)
    return out


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`vts replay` of a day and the following night: the report, the alert steps, the summary, the
    vessel table."""
    out = tmp_path_factory.mktemp("report")
    cmd = [
        sys.executable, "-m", "vts", "replay", *map(str, LOGS), "--no-progress",
        "--map-out", str(out / "report.html"), "--alerts-out", str(out / "alerts.jsonl"),
        "--summary-out", str(out / "summary.json"), "--vessels-out", str(out / "vessels.json"),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, timeout=300)
    steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in (out / "alerts.jsonl").read_text(encoding="utf-8").splitlines():
        step = json.loads(line)
        steps[step["id"]].append(step)
    return {
        "path": out / "report.html",
        "data": report_data((out / "report.html").read_text(encoding="utf-8")),
        "steps": steps,
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
        "vessels": json.loads((out / "vessels.json").read_text(encoding="utf-8")),
    }


async def open_report(session: Any, replayed: dict[str, Any]) -> Any:
    page = session.page
    await page.goto(replayed["path"].as_uri())
    await page.wait_for_function("() => window.VTSReport && VTSReport.alertRows !== undefined", timeout=20000)
    return page


def test_alerts_carry_their_last_step_and_most_severe_step(replayed: dict[str, Any]) -> None:
    data, steps = replayed["data"], replayed["steps"]
    assert {a["id"] for a in data["alerts"]} == set(steps)
    assert any(len(s) > 1 for s in steps.values()) and any(
        s[-1]["state"] == "cleared" for s in steps.values()
    )
    for a in data["alerts"]:
        own = steps[a["id"]]
        assert (a["state"], a["time"], a["steps"]) == (own[-1]["state"], own[-1]["time"], len(own))
        assert a["raised_message"] == own[0]["message"]
        assert a["last_t"] == pytest.approx(parse_iso_time(own[-1]["time"]))
        assert (a["end_t"] is not None) == (own[-1]["state"] == "cleared")
        assert a["peak"] == min((s["severity"] for s in own), key=severity_rank)
    # the list order is the order in which they were raised
    raised = sorted(steps.values(), key=lambda s: (parse_iso_time(s[0]["started"]), s[0]["id"]))
    assert [a["id"] for a in data["alerts"]] == [s[0]["id"] for s in raised]


def test_vessel_counts_tell_the_summary_figure(replayed: dict[str, Any]) -> None:
    data, summary = replayed["data"], replayed["summary"]
    counts = data["vessel_counts"]
    assert counts["tracked_at_end"] == summary["vessels"] == replayed["vessels"]["count"]
    assert counts["positioned"] == len(data["vessels"])
    assert counts["heard"] >= counts["positioned"] > summary["vessels"]  # vessels came and went
    assert data["forget_s"] == load_config().tracker.forget_after_s


def test_track_points_have_a_budget(tmp_path: Path) -> None:
    core = Core(load_config())
    full = ReplayRecorder(core)
    small = ReplayRecorder(core, max_points=60)
    for _, lines in scene(seconds=1200.0, step=10.0):
        for line in lines:
            core.feed_line(line, source="replay")
    core.finish()
    big, thin = full.data(), small.data()
    total = sum(len(v["t"]) for v in big["vessels"])
    assert total > 120 and not big["thinned"] and thin["thinned"]
    # thinned evenly: at most the budget plus each vessel's latest point, every vessel still there
    assert sum(len(v["t"]) for v in thin["vessels"]) <= 60 + len(thin["vessels"])
    assert [v["m"] for v in thin["vessels"]] == [v["m"] for v in big["vessels"]]
    for b, s in zip(big["vessels"], thin["vessels"], strict=True):
        tb, ts = decoded_times(big, b), decoded_times(thin, s)
        assert (ts[0], ts[-1]) == (tb[0], tb[-1]) and set(ts) <= set(tb)
        assert len(s["p"]) == len(s["t"])
    # the delta encoding gives back the recorded times (whole seconds) and positions (1e-5 degree)
    mmsi = big["vessels"][0]["m"]
    track = full.tracks[mmsi]
    assert decoded_times(big, big["vessels"][0]) == [
        full.first_time + round(t - full.first_time) for t in track.times
    ]
    lat = lon = 0
    for (dlat, dlon), (tlat, tlon) in zip(big["vessels"][0]["p"], track.points, strict=True):
        lat, lon = lat + dlat, lon + dlon
        assert (lat / 1e5, lon / 1e5) == pytest.approx((tlat, tlon), abs=6e-6)
    # and the file is smaller for it
    assert len(small.render()) < len(full.render())


def test_alert_without_position_is_drawn_on_the_vessels_track() -> None:
    core = Core(load_config())
    recorder = ReplayRecorder(core)
    for _, lines in scene(seconds=600.0, step=10.0):
        for line in lines:
            core.feed_line(line, source="replay")
    mmsi, track = next((m, tr) for m, tr in recorder.tracks.items() if len(tr.points) > 3)
    when = track.times[2] + 1.0
    blind = Alert(
        id=make_alert_id("identity_change", mmsi, None, None, when),
        type="identity_change",
        severity="caution",
        state="raised",
        mmsi=mmsi,
        time=when,
        started=when,
        message="no position in this alert",
    )
    recorder.on_alert(blind)
    (a,) = [x for x in recorder.data()["alerts"] if x["id"] == blind.id]
    assert a["located"] == "track"
    assert (a["lat"], a["lon"]) == pytest.approx(track.points[2], abs=1e-6)


@pytest.mark.browser
async def test_one_layer_control(replayed: dict[str, Any], chromium_page) -> None:  # type: ignore[no-untyped-def]
    page = await open_report(chromium_page, replayed)
    # one layer control, listing the report's layers with the coastline and the zones
    assert await page.locator(".leaflet-control-layers").count() == 1
    labels = [
        s.strip() for s in await page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    ]
    assert {"Tracks", "Vessels at slider time", "Alerts", "Coastline (OSM)"} <= set(labels)
    assert chromium_page.outside == [] and chromium_page.page_errors == []


@pytest.mark.browser
async def test_alert_list_in_time_order_with_last_step(replayed: dict[str, Any], chromium_page) -> None:  # type: ignore[no-untyped-def]
    data, steps = replayed["data"], replayed["steps"]
    page = await open_report(chromium_page, replayed)
    # the list in the order the alerts were raised, with the date: the log spans two days
    raised = sorted(steps.values(), key=lambda s: (parse_iso_time(s[0]["started"]), s[0]["id"]))
    ids = await page.locator("#r-alerts .r-alert").evaluate_all("ns => ns.map(n => n.dataset.alertId)")
    assert ids == [s[0]["id"] for s in raised]
    shown = await page.locator("#r-alerts .r-alert .tm").all_inner_texts()
    year = data["t0_iso"][:4]
    stamps = [datetime.strptime(f"{year}-{s}", "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=UTC) for s in shown]
    assert stamps == [datetime.fromisoformat(s[0]["started"]).replace(microsecond=0) for s in raised]
    assert stamps[0].date() != stamps[-1].date()

    # each alert's last step: cleared and when, still active at the end, or a one-off event
    last = await page.locator("#r-alerts .r-alert .last .state").all_inner_texts()
    for alert_id, text in zip(ids, last, strict=True):
        final = steps[alert_id][-1]
        clock = final["time"][5:10] + " " + final["time"][11:19] + "Z"
        if final["state"] == "cleared":
            assert text.startswith("cleared " + clock), text
        elif len(steps[alert_id]) > 1:
            assert text.startswith(final["state"] + " " + clock) and "still active at the end" in text, text
    assert sum(t.startswith("cleared ") for t in last) == sum(
        s[-1]["state"] == "cleared" for s in steps.values()
    )
    await page.locator("#r-alerts .r-alert.sev-emergency").first.click()
    await page.locator(".leaflet-popup-content").wait_for(timeout=15000)
    await page.wait_for_timeout(700)
    await chromium_page.screenshot("report_analyst.png")
    assert chromium_page.page_errors == [] and chromium_page.dialogs == []


@pytest.mark.browser
async def test_severity_filter(replayed: dict[str, Any], chromium_page) -> None:  # type: ignore[no-untyped-def]
    data, steps = replayed["data"], replayed["steps"]
    page = await open_report(chromium_page, replayed)

    def worst(own: list[dict[str, Any]]) -> int:
        return min(severity_rank(s["severity"]) for s in own)

    # alarm and above (by the most severe step), in the list and on the map
    want = {i for i, own in steps.items() if worst(own) <= SEVERITIES.index("alarm")}
    assert 0 < len(want) < len(steps)
    await page.select_option("#r-sev", "alarm")
    listed = await page.locator("#r-alerts .r-alert:not([hidden])").evaluate_all(
        "ns => ns.map(n => n.dataset.alertId)"
    )
    assert set(listed) == want
    on_map = await page.evaluate(
        "() => VTSReport.alertMarkers.filter(x => VTSReport.alertsLayer.hasLayer(x.mk)).map(x => x.a.id)"
    )
    assert set(on_map) == {a["id"] for a in data["alerts"] if a["lat"] is not None} & want
    assert f"{len(want)} of {len(steps)}" in await page.locator("#r-shown").inner_text()
    await page.select_option("#r-sev", "")
    assert await page.locator("#r-alerts .r-alert:not([hidden])").count() == len(steps)
    assert chromium_page.page_errors == []


@pytest.mark.browser
async def test_vessels_shown_are_those_tracked(replayed: dict[str, Any], chromium_page) -> None:  # type: ignore[no-untyped-def]
    data, summary = replayed["data"], replayed["summary"]
    page = await open_report(chromium_page, replayed)
    # at the end: those the tracker still tracked (the summary's figure), not every vessel that
    # ever sent a position
    t1 = data["t1"]
    tracked = [
        v
        for v in replayed["vessels"]["vessels"]
        if v["lat"] is not None and t1 - parse_iso_time(v["last_seen"]) <= data["forget_s"]
    ]
    assert await page.evaluate("() => Number(document.body.dataset.shipsShown)") == len(tracked)
    assert len(tracked) < len(data["vessels"])
    counts = await page.locator("#r-counts").inner_text()
    assert f"{len(data['vessels'])} vessels with positions" in counts
    assert f"{summary['vessels']} still tracked at the end" in counts
    # the slider: three hours in, the day's ships (gone by the night) are there
    await page.evaluate(
        "() => { const s = document.getElementById('r-slider'); s.value = VTSReport.data.t0 + 3 * 3600;"
        " s.dispatchEvent(new Event('input')); }"
    )
    mid = data["t0"] + 3 * 3600
    expected = sum(
        1 for v in data["vessels"] if any(mid - data["forget_s"] <= t <= mid for t in decoded_times(data, v))
    )
    assert await page.evaluate("() => Number(document.body.dataset.shipsShown)") == expected > 0
    assert chromium_page.page_errors == []


@pytest.mark.browser
async def test_markup_in_names_is_text(tmp_path: Path, chromium_page) -> None:  # type: ignore[no-untyped-def]
    core = Core(load_config())
    recorder = ReplayRecorder(core)
    for _, lines in scene(seconds=300.0, step=10.0):
        for line in lines:
            core.feed_line(line, source="replay")
    core.finish()
    out = recorder.write(tmp_path / "report.html", source="<b>log</b> & co.nmea")
    page = chromium_page.page
    await page.goto(out.as_uri())
    await page.wait_for_function("() => window.VTSReport && VTSReport.tracks !== undefined", timeout=10000)
    assert await page.evaluate("() => document.querySelectorAll('#r-side b, .leaflet-tooltip b').length") == 0
    assert "<b>log</b> & co.nmea" in await page.locator("#r-side .meta").first.inner_text()
    marked = await page.evaluate(
        "(n) => { const t = VTSReport.tracks.find(x => x.v.n === n); t.ship.openTooltip();"
        " return document.querySelector('.leaflet-tooltip').textContent; }",
        MARKUP_NAME,
    )
    assert marked.startswith(MARKUP_NAME)
    assert chromium_page.dialogs == [] and chromium_page.page_errors == []
