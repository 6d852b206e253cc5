"""course_anomaly's batch mask keeps in the trail only the skipped fixes the catch-up takes: those
under way (`CourseAnomalyRule._keep_trail`, `_OLDEST`). A vessel whose skipped fixes are slow, or
have no course, may lose them from its trail: the catch-up would not take them anyway. These tests
mix such fixes with fixes under way, on trails short enough to drop them, and require the erratic
history and the alerts of judging every fix."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from tests.rule_helpers import OPEN_WATER, T0, legs, position
from tests.test_rule_course_anomaly_batch import SHIP, SIZES, _config, _histories, same_alerts
from vts.config import Config
from vts.core import Core
from vts.reports import PositionReport, Report
from vts.rules.course_anomaly import CourseAnomalyRule


def _short_trail(minutes: float = 1.0) -> Config:
    """A trail of `minutes`; no off_route model (with one, every fix under way in the VTS area is
    judged, and nothing is skipped)."""
    config = _config(model_path=None)
    config.tracker = config.tracker.model_copy(update={"trail_minutes": minutes})
    return config


def same_history_at_every_cut(config: Config, reports: list[Report]) -> None:
    """Asserts that after every batch (of each of `SIZES`), the erratic history caught up is the one
    of judging every fix: a fix under way lost from the trail shows while it is in the history's
    window (three minutes), longer than the trails here."""
    for sizes in SIZES:
        one, batched = Core(config), Core(config)
        i = j = 0
        while i < len(reports):
            chunk = reports[i : i + sizes[j % len(sizes)]]
            for r in chunk:
                one.process(r)
            batched.process_many(chunk)
            i, j = i + len(chunk), j + 1
            assert _histories(batched) == _histories(one), f"batches of {sizes}, after report {i}"


def _mixed(seed: int, every_s: float) -> list[PositionReport]:
    """A ship on a steady course (legs within 15 degrees of it: the mask skips most fixes), then
    zig-zagging, whose fixes are now and then slow (under and just at the erratic speed), without a
    course, or at a speed not given."""
    rng = random.Random(seed)
    plan = [(40.0 + rng.uniform(-15.0, 15.0), rng.choice([60.0, 120.0, 300.0])) for _ in range(10)]
    plan += [(40.0, 120.0), (130.0, 90.0), (40.0, 90.0), (130.0, 90.0), (40.0, 300.0)]
    out: list[PositionReport] = []
    for r in legs(SHIP, T0, OPEN_WATER, plan, sog=8, every_s=every_s):
        u = rng.random()
        if u < 0.3:
            r = replace(r, sog=rng.choice([0.0, 1.0, 2.99, 3.0]))
        elif u < 0.4:
            r = replace(r, cog=None)
        elif u < 0.45:
            r = replace(r, sog=None)
        out.append(r)
    return out


@pytest.mark.parametrize(("seed", "every_s", "minutes"), [(1, 5.0, 1.0), (2, 10.0, 1.0), (3, 20.0, 2.0)])
def test_slow_and_courseless_skipped_fixes_may_leave_the_trail(
    seed: int, every_s: float, minutes: float
) -> None:
    config = _short_trail(minutes)
    reports: list[Report] = list(_mixed(seed, every_s))
    same_history_at_every_cut(config, reports)
    same_alerts(config, reports)


def test_a_ship_lying_still_then_sailing() -> None:
    """Half an hour still (its skipped fixes leave the one-minute trail untaken), then under way and
    turning."""
    config = _short_trail()
    still = [position(SHIP, T0 + 10 * k, OPEN_WATER, sog=0.2, cog=float(k % 360)) for k in range(180)]
    moving = legs(SHIP, T0 + 1800, OPEN_WATER, [(0.0, 120), (20.0, 60), (90.0, 90), (0.0, 90)], sog=8)
    reports: list[Report] = [*still, *moving]
    same_history_at_every_cut(config, reports)
    same_alerts(config, reports)


def _catch_ups_from_the_mask(config: Config, reports: list[PositionReport], size: int) -> int:
    """Processes the reports in batches of `size`; the batches in which the mask caught SHIP up.

    A catch-up records the trail it took SHIP's skipped fixes from and that trail's newest fix
    (`CourseAnomalyRule._seen`). The mask's own (`_catch_up_now`) runs in `interest`, before the
    batch's fixes enter the trail, so it records a fix older than the batch; a fix judged catches
    up with itself as the newest. A batch after which the record is new and older than the batch's
    first fix is then one in which the mask caught up (and judged none of SHIP's fixes after it).
    (The rule's start records the vessels tracked already, older too: none in a new core.)"""
    core = Core(config)
    rule = core.engine.rule("course_anomaly")
    assert isinstance(rule, CourseAnomalyRule)
    found = 0
    for i in range(0, len(reports), size):
        chunk = reports[i : i + size]
        before = rule._seen.get(SHIP)
        core.process_many(chunk)
        after = rule._seen.get(SHIP)
        if after is not before and after is not None and after[1] is not None:
            found += after[1].time < chunk[0].time
    return found


def test_no_catch_up_for_a_ship_lying_still() -> None:
    """The point of the change: the mask does not catch up a vessel whose skipped fixes are all slow,
    however long it lies still."""
    config = _config(model_path=None)
    still = [position(SHIP, T0 + 10 * k, OPEN_WATER, sog=0.2, cog=90.0) for k in range(720)]
    for size in (50, 1):  # (one by one too: no fix judged later in the batch hides a catch-up)
        assert _catch_ups_from_the_mask(config, still, size) == 0
    sailing = legs(SHIP, T0, OPEN_WATER, [(90.0, 7200)], sog=8, every_s=30.0)
    # (its fixes under way are caught up before they leave the trail)
    assert _catch_ups_from_the_mask(config, sailing, 1) > 0
