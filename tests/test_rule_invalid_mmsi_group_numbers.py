"""invalid_mmsi: a transponder whose MMSI was entered with eight digits (31423000 for 314230000)
transmits under a group call number (0MIDxxxxx), which is no station's own identity: flagged, as
"not nine digits" asks. The recorded AMSA, Danish and aisparser logs hold such vessels. Other
formats a station legitimately uses (a coast station's base-station report) stay silent."""

from __future__ import annotations

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, moving, of_type, run, static
from vts.reports import PositionReport
from vts.rules.invalid_mmsi import InvalidMmsiRule, group_rows

EIGHT_DIGITS = 31423000  # 031423000: a group number of Barbados (MID 314)


def test_a_vessel_under_an_eight_digit_mmsi_is_flagged() -> None:
    reports = merge(
        moving(EIGHT_DIGITS, T0, minutes=5, start=OPEN_WATER, cog=90, sog=10),
        static(EIGHT_DIGITS, T0 + 30, name="OCEAN STAR", ship_type=70, length=180),
    )
    alerts = of_type(run(make_core(), reports), "invalid_mmsi")
    assert len(alerts) == 1
    assert alerts[0].mmsi == EIGHT_DIGITS and alerts[0].details["mmsi_digits"] == "031423000"
    assert "eight digits" in alerts[0].details["problem"]


def test_group_rows_cover_the_group_range_only() -> None:
    import numpy as np

    rows = group_rows(np.array([7601001, 10_000_000, 31423000, 99_999_999, 314230000, 0]))
    assert rows.tolist() == [False, True, True, True, False, False]


def test_a_base_station_report_is_not_a_vessel_report() -> None:
    """`_problem` flags a group number only on a vessel's own reports."""
    from vts.rules.invalid_mmsi import _problem

    fix = moving(EIGHT_DIGITS, T0, minutes=0, start=OPEN_WATER, cog=90, sog=10)[0]
    assert isinstance(fix, PositionReport)
    assert _problem(EIGHT_DIGITS, fix) is not None
    base = PositionReport(time=T0, mmsi=EIGHT_DIGITS, msg_type=4, source="test", lat=fix.lat, lon=fix.lon)
    assert _problem(EIGHT_DIGITS, base) is None
    assert InvalidMmsiRule.id == "invalid_mmsi"
