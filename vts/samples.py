"""The bundled sample log: what `vts run` replays (in a loop) when no live feed is configured.

One place for its path, so the demo, the docs' commands and the tests agree. The recorded logs
live in ``replay/`` at the top of the repository (see ``replay/README.md`` for provenance and
licences).
"""

from __future__ import annotations

from pathlib import Path

REPLAY_DIR = Path(__file__).resolve().parent.parent / "replay"
"""Where the bundled recordings are (in a source checkout)."""

PACKAGED_DIR = Path(__file__).resolve().parent / "defaults"
"""The copies an installed wheel carries (``vts/defaults/`` links to them in the source tree)."""

SAMPLE_LOG = (
    REPLAY_DIR / "callao_day.nmea"
    if (REPLAY_DIR / "callao_day.nmea").is_file()
    else PACKAGED_DIR / "callao_day.nmea"
)
"""The demo log: six hours of simulated Callao traffic with one incident of every alert type
(``vts simulate``; see ``replay/README.md``)."""

REAL_SAMPLE_LOG = REPLAY_DIR / "dma-stream-example.nmea"
"""A real recording: 29 s of the Danish national AIS network (DMA, Apache-2.0), $PGHP-timestamped."""

DEMO_SPEED = 10.0
"""Event-time pacing of the demo loop (10x real time)."""


def sample_log_path() -> Path:
    return SAMPLE_LOG
