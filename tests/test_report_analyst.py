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
from pathlib import Path
from typing import Any

import pytest

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
