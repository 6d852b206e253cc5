"""Found in the operator walkthrough (2026-11-30): on the bundled sample log, the vessel list's
"with active alerts only" box listed 44 of 46 vessels, nearly all of them with nothing but a zone
entry (information: "first seen inside Callao anchorage"), while the map outlines in red only the
vessels with an alert above information level. The box now lists the vessels outlined in red
(`/api/vessels?alerting=1&min_severity=caution`); `alerting=1` alone keeps its meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.browser import BrowserSession
from tests.fixtures.web_client import Factory, served_scene


def marked_and_info_only(features: list[dict]) -> tuple[set[int], set[int]]:  # type: ignore[type-arg]
    marked = {f["properties"]["m"] for f in features if f["properties"].get("a") not in (None, "info")}
    info_only = {f["properties"]["m"] for f in features if f["properties"].get("a") == "info"}
    return marked, info_only


async def test_min_severity_keeps_the_vessels_with_an_alert_that_severe(make_client: Factory) -> None:
    client, state = await make_client()
    every = (await (await client.get("/api/vessels")).json())["features"]
    marked, info_only = marked_and_info_only(every)
    assert marked and info_only  # (the scene has both)
    listed = (await (await client.get("/api/vessels?alerting=1&min_severity=caution")).json())["features"]
    assert {f["properties"]["m"] for f in listed} == marked
    emergency = (await (await client.get("/api/vessels?min_severity=emergency")).json())["features"]
    assert {f["properties"]["m"] for f in emergency} == {
        f["properties"]["m"] for f in every if f["properties"].get("a") == "emergency"
    }
    any_alert = (await (await client.get("/api/vessels?alerting=1")).json())["features"]
    assert {f["properties"]["m"] for f in any_alert} == marked | info_only
    bad = await client.get("/api/vessels?min_severity=loud")
    assert bad.status == 400 and "loud" in (await bad.json())["error"]
    assert state.errors == 0


@pytest.mark.browser
async def test_the_checkbox_lists_the_vessels_outlined_in_red(
    tmp_path: Path, chromium_page: BrowserSession
) -> None:
    async with served_scene(tmp_path) as (web, _core):
        page = chromium_page.page
        await page.goto(web.url)
        await page.wait_for_function("() => document.querySelectorAll('#vts-list .vts-row').length > 0")
        every = await page.evaluate(
            "() => Object.values(VTS.layer._features).map(f => ({properties: f.properties}))"
        )
        marked, info_only = marked_and_info_only(every)
        assert marked and info_only
        await page.check("#vts-alerting")
        await page.wait_for_function(
            "(n) => document.querySelectorAll('#vts-list .vts-row').length === n", arg=len(marked)
        )
        rows = await page.eval_on_selector_all(
            "#vts-list .vts-row", "rows => rows.map(r => Number(r.dataset.mmsi))"
        )
        assert set(rows) == marked
        assert chromium_page.outside == [] and chromium_page.page_errors == []
