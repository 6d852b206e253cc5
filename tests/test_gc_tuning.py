"""`vts` sets the garbage collector's thresholds at start (`vts.gc_tuning`), for every command."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from vts import gc_tuning
from vts.cli import main


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_every_vts_command_runs_with_the_tuned_thresholds(
    default_thresholds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config"]) == 0
    assert gc.get_threshold() == gc_tuning.THRESHOLDS
    assert gc.isenabled()  # cycles are still collected, only less often


def test_the_thresholds_are_far_above_the_defaults_and_collect_cycles(default_thresholds: None) -> None:
    gc_tuning.tune()
    young, middle, old = gc.get_threshold()
    assert young >= 50 * 700 and middle >= 10 and old >= 10

    class Node:
        def __init__(self) -> None:
            self.me = self

    first = Node()
    ref = weakref.ref(first)
    del first  # garbage now, held only by its own cycle
    for _ in range(young * 3):  # more cycles made and dropped: young collections run as they go
        Node()
    assert ref() is None  # collected without an explicit gc.collect()
