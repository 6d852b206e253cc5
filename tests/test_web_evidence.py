"""Found in the operator walkthrough (2026-11-30): selecting an alert on the live map flew to the
vessel and showed the vessel, but nowhere the alert's evidence (`details`: for a jump, the distance
and implied speed between which fixes; for `alongside`, the closest distance, duration, side and
end of the ship), which the offline report's popup shows and the issue asks the map to get. The
selected alert now shows it under its message, as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.browser import BrowserSession
from tests.fixtures.web_client import served_scene

pytestmark = pytest.mark.browser


async def test_the_selected_alert_shows_its_evidence(tmp_path: Path, chromium_page: BrowserSession) -> None:
    async with served_scene(tmp_path) as (web, core):
        shown = [a for a in core.engine.active() if a.severity != "info" and a.details]
        assert shown
        alert = shown[0]
        page = chromium_page.page
        await page.goto(web.url)
        card = page.locator(f'#vts-alerts .vts-alert[data-alert-id="{alert.id}"]')
        await card.wait_for()
        assert await card.locator(".vts-evidence").count() == 0  # (only the selected one)
        await card.locator(".vs").click()
        evidence = page.locator(f'#vts-alerts .vts-alert[data-alert-id="{alert.id}"] .vts-evidence')
        await evidence.wait_for()
        rows = await evidence.locator("tr").all_inner_texts()
        keys = [r.split("\t")[0].strip() for r in rows]
        for key in alert.details:
            assert key.replace("_", " ") in keys
        assert "position" in keys
        assert await page.locator("#vts-alerts .vts-evidence").count() == 1
        # another alert selected: its evidence instead
        other = next((a for a in core.engine.active() if a.id != alert.id), None)
        if other is not None:
            await page.locator(f'#vts-alerts .vts-alert[data-alert-id="{other.id}"] .vs').click()
            await page.locator(f'#vts-alerts .vts-alert[data-alert-id="{other.id}"] .vts-evidence').wait_for()
            assert await page.locator("#vts-alerts .vts-evidence").count() == 1
        assert chromium_page.page_errors == [] and chromium_page.outside == []
        assert chromium_page.dialogs == []
