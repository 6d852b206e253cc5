"""Live map with 5,000 simulated vessels: payload size of /api/vessels and the time Chromium takes to
apply one update.

    .venv/bin/python bench/bench_map.py [--vessels 5000] [--rounds 7]

A Core is filled with N vessels (position + static reports, spread over the Callao area, moving),
the WebServer serves it on a free loopback port, and headless Debian Chromium (Playwright) opens
the map. Figures printed:

* /api/vessels size: raw JSON and gzip (what the browser actually receives), and the server's
  time to build and encode it (cache missed: every round moves every vessel);
* in the page: `realtime.update(geojson)` time (creating/moving/restyling all N canvas symbols),
  and the time until the next frame has been painted (update + canvas redraw);
* the same poll end to end: fetch + JSON parse + update.

Needs /usr/bin/chromium and playwright; every non-loopback request is blocked.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from vts.config import load_config
from vts.core import Core
from vts.reports import PositionReport, StaticReport
from vts.rules.registry import rule_classes
from vts.web.server import WebServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHIP_TYPES = [70, 71, 80, 81, 60, 30, 52, 50, 55, 36, 37, 90, 0]


class Fleet:
    def __init__(self, n: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.ships = []
        for i in range(n):
            self.ships.append(
                {
                    "mmsi": 200_000_000 + i * 37,
                    "lat": rng.uniform(-12.17, -11.92),
                    "lon": rng.uniform(-77.28, -77.16),
                    "sog": rng.choice([0.0, 0.1, 3.0, 6.0, 9.0, 12.0, 14.0]),
                    "cog": rng.uniform(0, 360),
                    "type": rng.choice(SHIP_TYPES),
                }
            )

    def feed(self, core: Core, t: float, with_static: bool) -> None:
        for s in self.ships:
            d = s["sog"] * 1852 / 3600 * 10.0
            s["lat"] += d * math.cos(math.radians(s["cog"])) / 111_320
            s["lon"] += d * math.sin(math.radians(s["cog"])) / (111_320 * math.cos(math.radians(s["lat"])))
            if with_static:
                core.process(
                    StaticReport(
                        time=t,
                        mmsi=s["mmsi"],
                        msg_type=5,
                        source="bench",
                        name=f"BENCH {s['mmsi']}",
                        callsign="OA0000",
                        ship_type=s["type"],
                        to_bow=80,
                        to_stern=20,
                        to_port=8,
                        to_starboard=8,
                        destination="CALLAO",
                    )
                )
            core.process(
                PositionReport(
                    time=t,
                    mmsi=s["mmsi"],
                    msg_type=1,
                    source="bench",
                    lat=s["lat"],
                    lon=s["lon"],
                    sog=s["sog"],
                    cog=s["cog"],
                    heading=round(s["cog"]) % 360 if s["sog"] > 1 else None,
                    nav_status=0,
                )
            )


def ms(values: list[float]) -> str:
    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"median {med:.1f} ms (min {lo:.1f}, max {hi:.1f}, n={len(values)})"


async def run(n: int, rounds: int, rules: bool) -> None:
    config = load_config()
    config.web.update_ms = 10_000  # the bench drives updates itself
    if not rules:  # the map's own cost: no alert storm from 5,000 random ships packed in the bay
        config.rules = {rid: cls.Params(enabled=False) for rid, cls in rule_classes().items()}
    core = Core(config)
    fleet = Fleet(n)
    t = 1_767_225_600.0
    t0 = time.perf_counter()
    fleet.feed(core, t, with_static=True)
    print(f"fed {n} vessels into the core in {time.perf_counter() - t0:.1f} s")
    from playwright.async_api import async_playwright

    async with WebServer(config, core, None, None, port=0) as web, aiohttp.ClientSession() as http:
        url = web.url + "api/vessels"
        raw_sizes, gz_sizes, server_ms = [], [], []
        async with http.get(url, headers={"Accept-Encoding": "identity"}) as r:
            raw = await r.read()
        async with http.get(url, headers={"Accept-Encoding": "gzip"}, auto_decompress=False) as r:
            wire = await r.read()
            assert r.headers.get("Content-Encoding") == "gzip"
        raw_sizes.append(len(raw))
        gz_sizes.append(len(wire))
        print(
            f"/api/vessels with {n} vessels: {len(raw) / 1024:.0f} KiB JSON,"
            f" {len(wire) / 1024:.0f} KiB gzip on the wire"
            f" ({len(raw) / n:.0f} B/vessel raw, {len(wire) / n:.1f} B/vessel gzip;"
            f" stdlib gzip -6: {len(gzip.compress(raw, 6)) / 1024:.0f} KiB)"
        )
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = await browser.new_page(viewport={"width": 1500, "height": 900})
            outside: list[str] = []

            async def route(r):  # type: ignore[no-untyped-def]
                if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                    await r.continue_()
                else:
                    outside.append(r.request.url)
                    await r.abort()

            await page.route("**/*", route)
            t0 = time.perf_counter()
            await page.goto(web.url)
            await page.wait_for_function(
                f"() => Number(document.body.dataset.vessels || 0) >= {n}", timeout=60_000
            )
            print(f"page loaded and first {n} vessels drawn in {time.perf_counter() - t0:.2f} s")
            await page.evaluate("() => { VTS.layer.stop(); }")
            update_ms, painted_ms, poll_ms = [], [], []
            for _ in range(rounds):
                t += 10.0
                fleet.feed(core, t, with_static=False)
                s0 = time.perf_counter()
                async with http.get(url, headers={"Accept-Encoding": "gzip"}) as r:
                    await r.read()
                server_ms.append((time.perf_counter() - s0) * 1000)
                timing = await page.evaluate(
                    """async () => {
                        const r = await fetch('/api/vessels', {cache: 'no-store'});
                        const text = await r.text();
                        const t0 = performance.now();
                        const fc = JSON.parse(text);
                        const t1 = performance.now();
                        VTS.layer.update(fc);
                        const t2 = performance.now();
                        await new Promise(res => requestAnimationFrame(() => requestAnimationFrame(res)));
                        const t3 = performance.now();
                        return {parse: t1 - t0, update: t2 - t1, painted: t3 - t1, n: fc.features.length};
                    }"""
                )
                assert timing["n"] == n
                update_ms.append(timing["update"])
                painted_ms.append(timing["painted"])
                poll_ms.append(timing["parse"] + timing["update"])
            await page.screenshot(
                path=str(Path(__file__).resolve().parent.parent / "tests" / "artifacts" / "bench_map.png")
            )
            await browser.close()
        print(f"server: build + encode + send /api/vessels (every vessel moved): {ms(server_ms)}")
        print(f"chromium: realtime.update() of {n} vessels: {ms(update_ms)}")
        print(f"chromium: update + next painted frame: {ms(painted_ms)}")
        print(f"chromium: JSON.parse + update: {ms(poll_ms)}")
        print(
            f"active alerts at the end: {len(web.state.active_alerts())} (rules {'on' if rules else 'off'})"
        )
        print(f"requests that tried to leave loopback: {len(outside)}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vessels", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument(
        "--rules",
        action="store_true",
        help="run every alert rule too (5,000 random ships in the bay raise tens of thousands of alerts)",
    )
    args = p.parse_args()
    # the figures are the map's; rule errors of the engine (counted there) would drown them
    logging.disable(logging.CRITICAL)
    Path(__file__).resolve().parent.parent.joinpath("tests", "artifacts").mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args.vessels, args.rounds, args.rules))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
