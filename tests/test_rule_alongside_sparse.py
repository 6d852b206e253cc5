"""alongside with a craft that reports every 3 minutes (a Class B boat lying still): the spell in
fixes is 2:57 at its second fix, and the alert comes at about 3 minutes, not at the third fix near
6 minutes (`FIX_STANDS_S`); a boat that stays 2.5 minutes is still not reported."""

from __future__ import annotations

from tests.rule_helpers import T0, make_core, merge, moving, of_type, position, run
from tests.test_rule_alongside import CRAFT, anchored_ship
from tests.test_rule_alongside_noise import lying_off, off_port_side
from vts.rules.alongside import FIX_STANDS_S


def test_a_boat_reporting_every_3_minutes_is_raised_at_3_minutes_not_6() -> None:
    reports = merge(anchored_ship(T0 - 900), lying_off([80], minutes=15, every_s=177))
    steps = of_type(run(make_core(), reports), "alongside")
    assert steps and steps[0].state == "raised"
    assert T0 + 180 <= steps[0].time <= T0 + 180 + 30  # the rule's next tick, not the fix at T0 + 354
    assert steps[0].details["duration_s"] == 177.0  # what the fixes show, no more


def test_a_boat_alongside_for_2_5_minutes_in_sparse_fixes_stays_silent() -> None:
    """Close at T0 and T0 + 150 s, under way at T0 + 175 s: 150 s of fixes, and the latest fix
    standing FIX_STANDS_S more still makes less than 3 minutes."""
    assert 150 + FIX_STANDS_S < 180
    close = [position(CRAFT, T0 + t, off_port_side(80), sog=0.3, ais_class="B") for t in (0, 150)]
    run_in = lying_off([80], minutes=0.1)[:6]  # the run-in from the north (before T0)
    leave = moving(
        CRAFT, T0 + 175, minutes=3, start=off_port_side(80), cog=0, sog=8.0, every_s=30, ais_class="B"
    )
    reports = merge(anchored_ship(T0 - 900), run_in, close, leave)
    assert of_type(run(make_core(), reports, until=T0 + 1800), "alongside") == []
