"""Simulated Callao traffic as a source (``vts run --simulate``, or ``kind: simulate`` in the config).

The lines come from `vts.simulate.live.simulated_lines(config, seed, speed)`, an async iterator of
NMEA lines paced by the simulator itself; this source only counts them and hands them to the core.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from vts.sources.base import LineSink, Source
from vts.sources.settings import SourceSettings

if TYPE_CHECKING:
    from vts.config import Config

YIELD_EVERY = 500


class SimulatorUnavailable(Exception):
    """The simulator module is not installed in this build."""


def simulated_lines_function() -> Any:
    """`vts.simulate.live.simulated_lines`, or a clear `SimulatorUnavailable`."""
    try:
        module = importlib.import_module("vts.simulate.live")
        return module.simulated_lines
    except (ImportError, AttributeError) as e:
        raise SimulatorUnavailable(
            f"the live simulator (vts.simulate.live.simulated_lines) is not available: {e}"
        ) from e


class SimulatedSource(Source):
    kind = "simulate"

    def __init__(self, settings: SourceSettings, config: Config | None = None) -> None:
        super().__init__(settings)
        self.config = config
        self.speed = settings.speed or 1.0
        self.seed = settings.seed if settings.seed is not None else 1
        self._lines = simulated_lines_function()

    @property
    def live(self) -> bool:
        return False  # paced by the simulator's own clock, not necessarily real time

    def describe(self) -> str:
        return f"simulated source {self.name!r} (seed {self.seed}, {self.speed:g}x)"

    async def run(self, sink: LineSink) -> None:
        if self.config is None:
            from vts.config import load_config

            self.config = load_config()
        self.set_state("reading")
        n = 0
        async for line in self._lines(self.config, self.seed, self.speed):
            data = line.encode() if isinstance(line, str) else bytes(line)
            # no receive time: the lines carry the simulator's time, which runs at `speed`, not at
            # this machine's clock (a receive time days behind them would look like a wrong clock)
            self.emit(sink, data.rstrip(b"\r\n"), None)
            n += 1
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        self.set_state("finished", f"{self.status.lines} lines")
