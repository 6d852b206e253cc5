"""Found in the operator walkthrough (2026-11-30): after an hour of the sample log the alert panel
held 45 to 85 zone entries and exits (information, each with its note field and Ack button) below
one to four alerts that needed an officer, with no way to leave the information out. The panel has
a severity filter now ("warning and above" ...), kept in the browser; the badges, the count and the
page title still cover every active alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.browser import BrowserSession
from tests.fixtures.web_client import served_scene
from vts.alerts.model import SEVERITIES

pytestmark = pytest.mark.browser


async def test_the_panel_lists_only_the_severities_asked_for(
    tmp_path: Path, chromium_page: BrowserSession
) -> None:
    async with served_scene(tmp_path) as (web, _core):
        page = chromium_page.page
        await page.goto(web.url)
        await page.wait_for_selector("#vts-alerts .vts-alert")
        cards = "#vts-alerts .vts-alert"
        every = await page.eval_on_selector_all(cards, "ns => ns.map(n => n.className)")
        assert any("sev-info" in c for c in every) and any("sev-info" not in c for c in every)
        title = await page.title()
        count = await page.inner_text("#vts-alert-count")
        assert count == f"{len(every)} active"

        await page.select_option("#vts-alert-min", "warning")
        serious = {"sev-" + s for s in SEVERITIES[: SEVERITIES.index("warning") + 1]}
        shown = await page.eval_on_selector_all(cards, "ns => ns.map(n => n.className)")
        assert shown and all(any(s in c.split() for s in serious) for c in shown)
        assert len(shown) == sum(1 for c in every if any(s in c.split() for s in serious))
        assert await page.title() == title  # every alert still counted
        assert await page.inner_text("#vts-alert-count") == f"{len(every)} active ({len(shown)} shown)"

        await page.reload()  # kept in this browser
        await page.wait_for_selector("#vts-alerts .vts-alert")
        assert await page.input_value("#vts-alert-min") == "warning"
        assert await page.locator("#vts-alerts .vts-alert.sev-info").count() == 0
        await page.select_option("#vts-alert-min", "info")
        assert await page.locator(cards).count() == len(every)
        assert chromium_page.page_errors == [] and chromium_page.outside == []
