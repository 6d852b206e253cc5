"""drifting: a ship at anchor that leaves its status at 0 (many do) swings round its anchor; its
antenna, a cable and a hull's length away, sweeps round at a knot or more, across the heading.
In an anchorage that is lying at anchor, not a drift; the same track in open water, and a steady
heading set sideways at that speed in the anchorage, still are drifts."""

from __future__ import annotations

import math

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    make_core,
    merge,
    of_type,
    offset,
    position,
    run,
    static,
)

A = 725000321
CABLE_M = 250.0


def _swinging(centre: tuple[float, float], deg_per_s: float = 0.25, minutes: float = 8.0) -> list:
    """Status 0, heading turning at `deg_per_s`, the antenna CABLE_M astern of an anchor at `centre`."""
    out = []
    for k in range(int(minutes * 6) + 1):
        h = 120.0 + deg_per_s * 10.0 * k
        r = math.radians(h)
        at = offset(centre, north_m=-CABLE_M * math.cos(r), east_m=-CABLE_M * math.sin(r))
        sog = CABLE_M * math.radians(deg_per_s) * 3600.0 / 1852.0
        out.append(
            position(
                A,
                T0 + 10.0 * k,
                at,
                sog=round(sog, 1),
                cog=(h + 90.0) % 360.0,
                heading=int(h) % 360,
                nav_status=0,
            )
        )
    return out


def _ship() -> list:
    return [static(A, T0 - 60.0, name="TANKER", ship_type=80, length=150)]


def test_a_ship_swinging_at_anchor_at_two_knots_in_an_anchorage_is_not_drifting() -> None:
    reports = merge(_ship(), _swinging(ANCHORAGE))
    assert reports[-1].sog is not None and reports[-1].sog > 1.5
    assert of_type(run(make_core(), reports), "drifting") == []


def test_the_same_track_in_open_water_is_still_raised() -> None:
    alerts = of_type(run(make_core(), merge(_ship(), _swinging(OPEN_WATER))), "drifting")
    assert alerts and alerts[0].details["kind"] == "drift"
