"""anchor_drag under real reporting: a ship at anchor reports every 3 minutes, and one swinging round
its anchor (yawing in wind, the tide turning) makes a knot or more over ground at its antenna. Two such
fixes 3 minutes apart are not "1 kn for 2 minutes" of drag; the same speed with the heading held
(a ship set astern, its bow up to its anchor) still is."""

from __future__ import annotations

import math

from tests.rule_helpers import ANCHORAGE, T0, make_core, merge, of_type, offset, position, run, static

A = 725000311
CABLE_M = 250.0  # antenna to anchor


def _settle() -> list:
    return [
        position(A, T0 + k * 180.0, ANCHORAGE, sog=0.2, cog=0.0, heading=150, nav_status=1) for k in range(5)
    ]


def _at(heading: float) -> tuple[float, float]:
    """The antenna of a ship heading `heading`, lying to an anchor ahead of where it settled."""
    h0 = math.radians(150.0)
    anchor = offset(ANCHORAGE, north_m=CABLE_M * math.cos(h0), east_m=CABLE_M * math.sin(h0))
    h = math.radians(heading)
    return offset(anchor, north_m=-CABLE_M * math.cos(h), east_m=-CABLE_M * math.sin(h))


def test_swinging_round_the_anchor_at_a_knot_is_not_making_way() -> None:
    t = T0 + 5 * 180.0
    swing = [
        position(
            A,
            t + k * 180.0,
            _at(150.0 + 25.0 * (k + 1)),
            sog=1.4,
            cog=60.0,
            heading=int(150 + 25 * (k + 1)),
            nav_status=1,
        )
        for k in range(3)
    ]
    reports = merge(static(A, T0, name="BULKER", ship_type=70, length=200), _settle(), swing)
    assert of_type(run(make_core(), reports), "anchor_drag") == []


def test_the_same_speed_with_the_heading_held_is_a_drag() -> None:
    t = T0 + 5 * 180.0
    drag = [
        position(
            A,
            t + k * 180.0,
            offset(
                ANCHORAGE,
                north_m=70.0 * (k + 1) * math.cos(math.radians(330)),
                east_m=70.0 * (k + 1) * math.sin(math.radians(330)),
            ),
            sog=1.4,
            cog=330.0,
            heading=150 + (3 if k % 2 else -3),
            nav_status=1,
        )
        for k in range(3)
    ]
    reports = merge(static(A, T0, name="BULKER", ship_type=70, length=200), _settle(), drag)
    alerts = of_type(run(make_core(), reports), "anchor_drag")
    assert alerts and alerts[0].state == "raised" and alerts[0].time == drag[1].time
    assert alerts[0].details["making_way_s"] == 180.0 and alerts[0].details["fixes_outside"] == 0


def test_two_fast_fixes_across_a_reception_gap_are_not_two_minutes_of_way() -> None:
    """Found with an independent generator: two reports at 1 kn, 24 minutes apart (the reports in
    between lost), were "making way for 1440 s" although the ship had moved 24 m. Speed counts over
    fixes no more than `fast_gap_minutes` (7) apart; the same two fixes 3 minutes apart still count."""
    settle = _settle()
    t = settle[-1].time

    def fast(dt: float, north_m: float):  # type: ignore[no-untyped-def]
        return position(
            A, t + dt, offset(ANCHORAGE, north_m=north_m), sog=1.2, cog=0.0, heading=150, nav_status=1
        )

    assert (
        of_type(run(make_core(), merge(settle, [fast(180, 12), fast(180 + 24 * 60, 24)])), "anchor_drag")
        == []
    )
    assert of_type(run(make_core(), merge(settle, [fast(180, 12), fast(360, 24)])), "anchor_drag")
