"""The garbage collector's settings for a `vts` process.

The core keeps hundreds of thousands of long-lived objects (vessel states, their trails and
message times, the rules' windows) and makes a few short-lived ones for every report. With
CPython's default thresholds (700, 10, 10) the collector walks its young generation every 700 net
allocations and, far more costly, the middle and old generations over and over while the heap
grows: in the pipeline benchmark that was 7-9% of the whole pipeline's CPU time (0.5-1.2 s of
collections over 223,435 lines), for no memory returned, since the core makes almost no reference
cycles. `tune()` raises the thresholds so that collections come about a hundred times less often:
0.1-0.2 s over the same lines, the same peak memory (119 MB real, 181 MB stress case). Cycles are
still collected, only in larger batches.

`vts` (every command) calls `tune()` once at start; the benchmarks call it as `vts` does, before
their baseline is timed, so both sides of a ratio run under the same settings.
"""

from __future__ import annotations

import gc

THRESHOLDS = (100_000, 50, 100)
"""Allocations before a young collection; young collections before a middle one; middle ones
before a full one (CPython also waits for the old generation to have grown by a quarter)."""


def tune() -> None:
    """Set `THRESHOLDS` (idempotent; affects this process only)."""
    gc.set_threshold(*THRESHOLDS)
