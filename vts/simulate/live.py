"""Drill mode: a live simulation streamed into the daemon (`vts run --simulate`).

`simulated_lines(config, seed, speed)` yields NMEA lines paced in real time (or `speed` times
faster). The simulated clock starts at the current time, so the map and the alerts show today's
date; the traffic itself is generated in windows of `CHUNK_HOURS` (the next window with the next
seed), each built in a worker thread so the event loop never stalls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from vts.config import Config
from vts.simulate.scenario import simulate

CHUNK_HOURS = 6.0


async def simulated_lines(
    config: Config,
    seed: int,
    speed: float = 1.0,
    *,
    start: float | None = None,
    chunks: int | None = None,
    chunk_hours: float = CHUNK_HOURS,
) -> AsyncIterator[str]:
    """NMEA lines of simulated traffic with incidents, paced at `speed` x real time.

    `start` is the simulated start time (default: now, whole seconds); `chunks` limits how many
    windows are simulated (default: no limit)."""
    speed = max(float(speed), 1e-3)
    sim_start = float(int(time.time())) if start is None else start
    wall_start = time.monotonic()
    n = 0
    next_sim = asyncio.create_task(_build(config, seed, sim_start, chunk_hours))
    while chunks is None or n < chunks:
        lines = await next_sim
        n += 1
        chunk_start = sim_start + (n - 1) * chunk_hours * 3600.0
        if chunks is None or n < chunks:
            next_sim = asyncio.create_task(
                _build(config, seed + n, chunk_start + chunk_hours * 3600.0, chunk_hours)
            )
        for t, line in lines:
            due = wall_start + (t - sim_start) / speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            yield line


async def _build(config: Config, seed: int, start: float, hours: float) -> list[tuple[float, str]]:
    return await asyncio.to_thread(_lines, config, seed, start, hours)


def _lines(config: Config, seed: int, start: float, hours: float) -> list[tuple[float, str]]:
    sim = simulate(config, seed=seed, hours=hours, start=start)
    out: list[tuple[float, str]] = []
    for line in sim.nmea_lines():
        tag_end = line.index("*")
        fields = line[1:tag_end].split(",")
        t = next(float(f[2:]) for f in fields if f.startswith("c:"))
        out.append((t, line))
    return out
