"""Numbers in the distress-device ranges that are not distress devices (ITU-R M.585-10 Annex 2):
a Class B transponder under a 970/972/974 number (fishing-net buoys misuse them) raises no
emergency and is reported as an invalid MMSI; an autonomous maritime radio device of group B
(979yyyyyy, net buoys) is a recognised format, neither invalid nor a vessel; a real AIS-SART
(type 1 and type 14 messages) still raises its emergency."""

from __future__ import annotations

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, moving, of_type, offset, run, stationary
from vts.mid import classify_mmsi
from vts.reports import SafetyReport
from vts.rules._common import is_vessel_mmsi
from vts.rules.invalid_mmsi import invalid_mmsi_mask

SHIP = 725000201
BUOY_ON_SART_NUMBER = 970123456
AMRD = 979123456


def test_amrd_group_b_numbers_are_a_format_of_their_own_and_not_vessels() -> None:
    info = classify_mmsi(AMRD)
    assert (info.kind, info.problem) == ("amrd", None)
    assert not invalid_mmsi_mask([AMRD]).any()
    assert invalid_mmsi_mask([978123456]).all()  # 978: still no format
    assert not is_vessel_mmsi(AMRD)


def test_net_buoy_on_class_b_is_silent_for_behaviour_rules_and_not_invalid() -> None:
    """A 979 buoy drifting beside a ship: no invalid_mmsi, no alert of any kind."""
    reports = merge(
        moving(SHIP, T0, minutes=30, start=OPEN_WATER, cog=90, sog=12),
        stationary(AMRD, T0, minutes=30, at=offset(OPEN_WATER, north_m=300), every_s=30, ais_class="B"),
    )
    alerts = run(make_core(), reports, until=T0 + 3600)
    assert [a for a in alerts if AMRD in (a.mmsi, a.other_mmsi)] == []


def test_class_b_transponder_on_a_sart_number_is_no_emergency_but_an_invalid_mmsi() -> None:
    reports = merge(
        moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=12),
        stationary(
            BUOY_ON_SART_NUMBER,
            T0 + 60,
            minutes=15,
            at=offset(OPEN_WATER, north_m=2000),
            every_s=30,
            ais_class="B",
        ),
    )
    alerts = run(make_core(), reports, until=T0 + 3600)
    assert of_type(alerts, "distress") == []
    invalid = of_type(alerts, "invalid_mmsi")
    assert [(a.mmsi, a.details["msg_type"]) for a in invalid] == [(BUOY_ON_SART_NUMBER, 18)]
    assert "Class B" in invalid[0].message


def test_a_real_sart_still_raises_its_emergency_and_no_invalid_mmsi() -> None:
    text = SafetyReport(
        time=T0 + 65, mmsi=BUOY_ON_SART_NUMBER, msg_type=14, source="test", text="SART ACTIVE"
    )
    reports = merge(
        moving(SHIP, T0, minutes=20, start=OPEN_WATER, cog=90, sog=12),
        stationary(BUOY_ON_SART_NUMBER, T0 + 60, minutes=15, at=OPEN_WATER, every_s=60, nav_status=14),
        [text],
    )
    alerts = run(make_core(), reports, until=T0 + 3600)
    assert [(a.severity, a.details["mode"]) for a in of_type(alerts, "distress")] == [("emergency", "active")]
    assert of_type(alerts, "invalid_mmsi") == []
