"""loitering's per-fix shortcuts (`_Track.sample_t`, `_Track.second_t`) stand in for reading the
samples themselves: checked after every fix of random tracks (gaps bridged or not, repeated and
late times, exempt statuses restarting the window, fixes without SOG), against the plain pruning."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from tests.rule_helpers import OPEN_WATER, T0, make_core
from vts.reports import PositionReport
from vts.rules.loitering import LoiteringRule, _Sample, _Track

STEPS = [0.0, 2.0, 10.0, 29.0, 30.0, 31.0, 90.0, 2.0, 10.0, 30.0] * 30 + [700.0, 1500.0, 2500.0]
"""Seconds (x3) between fixes: mostly a few seconds to a minute, now and then a reception gap."""


def _pruned(samples: list[_Sample], keep_s: float) -> list[_Sample]:
    """The plain pruning after a sample is appended (as the rule read the samples before)."""
    out = deque(samples)
    if len(out) > 2:
        limit = out[-1][0] - keep_s
        while len(out) > 2 and out[1][0] <= limit:
            out.popleft()
    return list(out)


def _check_track(tr: _Track) -> None:
    s = tr.samples
    assert tr.sample_t == (s[-1][0] if s else -math.inf)
    assert tr.second_t == (s[1][0] if len(s) > 1 else math.inf)


def test_sample_shortcuts_follow_the_samples() -> None:
    rng = np.random.default_rng(11)
    core = make_core()
    rule = core.engine.rule("loitering")
    assert isinstance(rule, LoiteringRule)
    mmsis = [760000601 + i for i in range(6)]
    t = T0
    checked = grown = longest = 0
    for i in range(6000):
        mmsi = mmsis[int(rng.integers(len(mmsis)))]
        step = float(rng.choice(STEPS))
        t += step / 3.0
        when = t - float(rng.choice([0.0, 0.0, 0.0, 40.0]))  # now and then a late fix
        report = PositionReport(
            mmsi=mmsi,
            time=when,
            msg_type=1,
            source="test",
            lat=OPEN_WATER[0] + float(rng.normal(0, 0.002)),
            lon=OPEN_WATER[1] + float(rng.normal(0, 0.002)),
            sog=None if i % 11 == 0 else float(rng.choice([0.3, 1.5, 4.0, 9.0])),
            cog=float(rng.uniform(0, 360)),
            nav_status=1 if i % 997 == 0 else 0,
        )
        tr = rule._tracks.get(mmsi)
        before = list(tr.samples) if tr is not None else []
        core.process(report)
        tr = rule._tracks.get(mmsi)
        if tr is None:
            continue
        _check_track(tr)
        after = list(tr.samples)
        checked += 1
        longest = max(longest, len(after))
        if len(after) >= 2 and after != before:  # a sample appended to the window, then pruned
            assert after == _pruned([*before, after[-1]], rule._keep_s)
            grown += 1
        else:  # unchanged, or the window restarted (a gap, an exempt status)
            assert after == before or len(after) <= 1
    assert checked > 5000 and grown > 500
    assert longest > 40  # windows long enough to be pruned
