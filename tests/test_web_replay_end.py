"""Found in the operator walkthrough (2026-11-30): `vts replay LOG --speed 600 --serve` keeps
serving the map after the end, as the README says, but the header did not say the replay had
ended: the clock stood at "100%" and the feed at "0.0/s", as a stalled feed would. A recording
read to its end is now said so ("finished") in the clock and beside the source; a demo loop or a
live feed is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import BrowserSession
from tests.fixtures.web_client import feed
from vts.alerts.store import AlertStore
from vts.config import load_config
from vts.core import Core
from vts.web.server import WebServer

pytestmark = pytest.mark.browser


def clock(state: str, live: bool, mode: str) -> dict[str, Any]:
    """The shape of `vts.sources.runner.FeedHealth` as /api/stats gives it."""
    return {
        "mode": mode,
        "speed": 600.0,
        "event_time_iso": "2026-03-03T06:59:59.000Z",
        "progress": 1.0 if mode == "replay" else None,
        "sources": [{"name": "night.nmea", "state": state, "live": live, "msgs_per_s": 0.0, "silent_s": 5.0}],
    }


async def header(tmp_path: Path, session: BrowserSession, info: dict[str, Any]) -> tuple[str, str]:
    config = load_config()
    store = AlertStore(tmp_path / f"alerts-{info['mode']}-{info['sources'][0]['state']}.sqlite3")
    core = Core(config, store=store)
    feed(core, seconds=120.0)
    try:
        async with WebServer(config, core, store, lambda: info, port=0) as web:
            page = session.page
            await page.goto(web.url)
            await page.wait_for_function("() => document.getElementById('vts-feed').textContent !== '—'")
            return await page.inner_text("#vts-feed"), await page.inner_text("#vts-sources")
    finally:
        store.close()


async def test_the_header_says_a_replay_has_finished(tmp_path: Path, chromium_page: BrowserSession) -> None:
    feed_cell, sources = await header(tmp_path, chromium_page, clock("finished", False, "replay"))
    assert feed_cell.endswith("100% · finished")
    assert sources == "night.nmea 0.0/s (finished)"
    assert chromium_page.page_errors == [] and chromium_page.outside == []


async def test_a_replay_still_reading_is_not_finished(tmp_path: Path, chromium_page: BrowserSession) -> None:
    feed_cell, sources = await header(tmp_path, chromium_page, clock("reading", False, "replay"))
    assert "finished" not in feed_cell and "finished" not in sources


async def test_a_live_feed_that_ended_is_not_a_finished_replay(
    tmp_path: Path, chromium_page: BrowserSession
) -> None:
    feed_cell, _sources = await header(tmp_path, chromium_page, clock("finished", True, "live"))
    assert "finished" not in feed_cell  # (the source itself is shown in red as ended, as before)
