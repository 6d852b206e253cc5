"""identity_change: its mask (static reports only) and its fast path for repeated static data
(a repeat changes nothing, but still renews the vessel's IMO claim)."""

from __future__ import annotations

from tests.rule_helpers import OPEN_WATER, T0, make_config, make_core, merge, moving, of_type, run, set_rule
from vts.reports import StaticReport

SHIP = 725000401
OTHER = 725000402
IMO = 9074729  # check digit valid


def static5(mmsi: int, t: float, **kw: object) -> StaticReport:
    return StaticReport(time=t, mmsi=mmsi, msg_type=5, source="test", **kw)  # type: ignore[arg-type]


def part(mmsi: int, t: float, which: str, **kw: object) -> StaticReport:
    return StaticReport(time=t, mmsi=mmsi, msg_type=24, source="test", ais_class="B", part=which, **kw)  # type: ignore[arg-type]


def test_repeats_renew_the_imo_claim() -> None:
    """SHIP repeats the same static data: nothing changes, but its claim on the IMO number is
    renewed, so OTHER claiming it 20 minutes after the first report (the window is ~14 minutes)
    is still a shared IMO. Without the repeats it would not be."""
    config = set_rule(make_config(), "identity_change", shared_imo_days=0.01)  # 864 s
    track = moving(SHIP, T0, minutes=25, start=OPEN_WATER, cog=90, sog=8)
    repeats = [
        static5(SHIP, T0 + 60 * k, name="ALPHA", imo=IMO, to_bow=60, to_stern=40) for k in range(0, 20, 3)
    ]
    claim = [static5(OTHER, T0 + 1200, name="BRAVO", imo=IMO)]
    alerts = of_type(run(make_core(config), merge(track, repeats, claim)), "identity_change")
    assert [(a.mmsi, a.details["kind"], a.other_mmsi) for a in alerts] == [(OTHER, "shared_imo", SHIP)]
    once = of_type(run(make_core(config), merge(track, repeats[:1], claim)), "identity_change")
    assert once == []


def test_alternating_type_24_parts_and_a_change_after_repeats() -> None:
    """Class B parts A and B alternate (each repeat takes the fast path); a length 1 m longer is
    within tolerance; the name change is one warning, and the change back and forth is not new."""
    b_part = {"callsign": "OA1234", "ship_type": 30, "to_stern": 4}
    reports = merge(
        moving(SHIP, T0, minutes=10, start=OPEN_WATER, cog=0, sog=6, ais_class="B"),
        [part(SHIP, T0 + 30 * k, "A", name="CHARLIE") for k in range(0, 10, 2)],
        [part(SHIP, T0 + 30 * k, "B", to_bow=8, **b_part) for k in range(1, 10, 2)],
        [part(SHIP, T0 + 400, "B", to_bow=9, **b_part)],
        [part(SHIP, T0 + 460, "A", name="DELTA")],
        [part(SHIP, T0 + 520, "A", name="CHARLIE"), part(SHIP, T0 + 580, "A", name="DELTA")],
    )
    alerts = of_type(run(make_core(), reports), "identity_change")
    assert [(a.severity, a.details["changes"]) for a in alerts] == [
        ("warning", [{"field": "name", "old": "CHARLIE", "new": "DELTA"}])
    ]
