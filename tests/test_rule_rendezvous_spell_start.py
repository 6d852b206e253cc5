"""rendezvous under realistic AIS reporting: the start of a meeting when the partner's latest
report is minutes old (slow Class B boats report every 3 minutes, and 5-25 % of reports are lost).

Found with the independent generator of the QA lab (busy 3 h Callao scenario, /tmp/qa4_runs/busy_s1):
a boat first heard 70 m from another, whose latest fix was 6 minutes old, had the meeting dated
back to that old fix, before the boat was heard at all: raised as a 15-minute rendezvous after
9 minutes of evidence of the two together."""

from __future__ import annotations

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, of_type, offset, run, static, stationary

BOAT_A = 760000661
BOAT_B = 760000662


def _pair() -> list:
    # A reports every 3 min from T0, but its fix at 360 s is lost; B is first heard at 500 s,
    # 70 m from A's fix of 180 s (overdue), and stays there; both at 1 kn (slow, not moored)
    a = [
        r
        for r in stationary(BOAT_A, T0, minutes=60, at=OPEN_WATER, every_s=180, sog=1.0, ais_class="B")
        if r.time - T0 != 360.0
    ]
    b = stationary(
        BOAT_B, T0 + 500, minutes=50, at=offset(OPEN_WATER, east_m=70), every_s=180, sog=1.0, ais_class="B"
    )
    return merge(
        static(BOAT_A, T0 + 5, name="LANCHA A", ship_type=37, length=9, ais_class="B"),
        static(BOAT_B, T0 + 505, name="LANCHA B", ship_type=37, length=8, ais_class="B"),
        a,
        b,
    )


def test_meeting_is_not_dated_back_before_the_boat_was_heard() -> None:
    steps = of_type(run(make_core(), _pair()), "rendezvous")
    assert steps and steps[0].state == "raised"
    assert steps[0].time - (T0 + 500) >= 600  # ten minutes of evidence of the two together
    assert steps[0].details["duration_s"] <= steps[0].time - (T0 + 500)
