"""An untimed log is timed by its base stations' UTC; reports from before the first are held, not lost."""

from __future__ import annotations

import logging
import math
from calendar import timegm
from typing import Any

import pyais
import pytest

import vts.ingest
from tests.rule_helpers import make_core
from vts.ingest import Ingest
from vts.reports import BaseStationReport, PositionReport, Report
from vts.station_clock import StationClock

UTC0 = timegm((2007, 4, 25, 18, 0, 11))


def _line(**fields: Any) -> str:
    fields.setdefault("msg_type", fields["type"])
    (line,) = pyais.encode_dict(fields, talker_id="AI", sentence_type="VDM", radio_channel="B")
    return line


def base_station(t: float, mmsi: int = 3660001) -> str:
    y, mo, d, h, mi, s = __import__("time").gmtime(t)[:6]
    return _line(
        type=4, mmsi=mmsi, year=y, month=mo, day=d, hour=h, minute=mi, second=s, lon=-77.15, lat=-12.05
    )


def position(mmsi: int, lat: float = -12.05) -> str:
    return _line(type=1, mmsi=mmsi, lat=lat, lon=-77.2, speed=5.0, course=90.0, heading=90, second=30)


def untimed_log() -> list[str]:
    """Two fixes, then base stations every 10 s with a fix after each."""
    lines = [position(760000001), position(760000002)]
    for k in range(5):
        lines += [base_station(UTC0 + 10 * k), position(760000001, -12.05 + 0.001 * k)]
    return lines


def test_the_clock_takes_a_time_once_another_station_agrees_and_never_goes_back() -> None:
    a, b, stray = 3660001, 3660002, 3660009
    clock = StationClock()
    for bad in (None, math.nan, 0.0, 946_684_799.0):
        clock.observe(bad, a)
    assert clock.now is None
    clock.observe(UTC0, a)
    assert clock.now is None  # one report alone is not trusted
    clock.observe(UTC0 + 3600.0, stray)  # a stray report an hour off: nothing agrees with it
    assert clock.now is None
    clock.observe(UTC0 + 10.0, b)  # another station agrees
    assert clock.now == UTC0 + 10.0
    clock.observe(UTC0 + 3610.0, stray)  # the stray station again: vouched for by its own last report,
    assert clock.now == UTC0 + 10.0  # but an hour ahead and the others disagree: not followed
    clock.observe(UTC0 + 20.0, a)
    assert clock.now == UTC0 + 20.0
    clock.observe(UTC0 + 5.0, b)
    assert clock.now == UTC0 + 20.0  # never backwards
    for k in range(3):  # the receiver was off for two hours: most reports agree on the new time
        clock.observe(UTC0 + 7200.0 + 10 * k, (a, b)[k % 2])
    assert clock.now == UTC0 + 7220.0


def test_a_log_with_one_station_follows_it_after_the_receiver_was_off() -> None:
    clock = StationClock()
    for k in range(3):
        clock.observe(UTC0 + 10 * k, 3660001)
    assert clock.now == UTC0 + 20
    for k in range(3):
        clock.observe(UTC0 + 7200.0 + 10 * k, 3660001)
    assert clock.now == UTC0 + 7220.0


@pytest.mark.parametrize("named", [True, False])
def test_a_station_heard_alone_is_trusted_at_its_third_agreeing_report(named: bool) -> None:
    station = 3660001 if named else None
    clock = StationClock()
    clock.observe(UTC0, station)
    clock.observe(UTC0 + 10.0, station)  # vouching for itself once is not enough
    assert clock.now is None
    clock.observe(UTC0 + 20.0, station)
    assert clock.now == UTC0 + 20.0


def test_a_station_with_a_wrong_clock_heard_first_does_not_pin_the_time() -> None:
    """A base station an hour ahead, heard twice before any other, then stations that agree."""
    clock = StationClock()
    clock.observe(UTC0 + 3600.0, 3660009)
    clock.observe(UTC0 + 3610.0, 3660009)
    assert clock.now is None
    clock.observe(UTC0 + 20.0, 3660001)
    assert clock.now is None
    clock.observe(UTC0 + 25.0, 3660002)
    assert clock.now == UTC0 + 25.0
    clock.observe(UTC0 + 3620.0, 3660009)  # its third: the clock runs, and the others disagree
    assert clock.now == UTC0 + 25.0


def _times(reports: list[Report]) -> list[tuple[str, int, float]]:
    return [(type(r).__name__, r.mmsi, r.time) for r in reports]


def test_untimed_lines_take_the_base_stations_time_and_early_ones_wait_for_it() -> None:
    ingest = Ingest()
    out: list[Report] = []
    lines = untimed_log()
    assert ingest.feed(lines[0], "dump", None) == [] and ingest.feed(lines[1], "dump", None) == []
    for line in lines[2:]:
        out += ingest.feed(line, "dump", None)
    out += ingest.flush()
    got = _times(out)
    # one station heard alone: everything up to its third report (the first the clock trusts) comes
    # out then, at its time; each later line takes the last time announced
    assert got[:7] == [
        ("PositionReport", 760000001, UTC0 + 20),
        ("PositionReport", 760000002, UTC0 + 20),
        ("BaseStationReport", 3660001, UTC0 + 20),
        ("PositionReport", 760000001, UTC0 + 20),
        ("BaseStationReport", 3660001, UTC0 + 20),
        ("PositionReport", 760000001, UTC0 + 20),
        ("BaseStationReport", 3660001, UTC0 + 20),
    ]
    assert [t for _, _, t in got[7:]] == [UTC0 + 20] + [UTC0 + 30] * 2 + [UTC0 + 40] * 2
    assert all(r.time == r.utc for r in out[7:] if isinstance(r, BaseStationReport))
    assert ingest.stats.first_time == UTC0 + 20 and ingest.stats.last_time == UTC0 + 40
    assert ingest.stats.messages == len(out) == 12 and ingest.stats.accounted() == ingest.stats.lines
    # a whole chunk at once gives the same reports at the same times
    chunked = Ingest()
    assert _times(chunked.feed_many(lines, "dump") + chunked.flush()) == got


def test_a_log_with_no_time_at_all_loses_nothing() -> None:
    ingest = Ingest()
    lines = [position(760000001), position(760000002, -12.06)]
    assert [r for line in lines for r in ingest.feed(line, "dump", None)] == []
    held = ingest.flush()
    assert _times(held) == [("PositionReport", 760000001, 0.0), ("PositionReport", 760000002, 0.0)]
    core = make_core()  # and the core processes them at the end of the input
    core.feed_lines(lines, source="dump")
    assert len(core.tracker) == 0
    core.finish()
    assert {v.mmsi for v in core.tracker.vessels()} == {760000001, 760000002}


def test_a_first_line_with_a_time_of_its_own_releases_the_held_reports() -> None:
    ingest = Ingest()
    assert ingest.feed(position(760000001), "log", None) == []
    tagged = f"\\c:{UTC0 + 5},s:r1*00\\{position(760000002)}"
    out = ingest.feed(tagged, "log", None)
    assert [(r.mmsi, r.time) for r in out] == [(760000001, UTC0 + 5), (760000002, UTC0 + 5)]
    # from then on the source is timed by its lines: a later untimed line takes the last time
    later = ingest.feed(base_station(UTC0 + 999), "log", None) + ingest.feed(position(760000003), "log", None)
    assert [r.time for r in later] == [UTC0 + 5, UTC0 + 5]


def test_a_live_feed_with_receive_times_is_never_held() -> None:
    ingest = Ingest()
    out = ingest.feed(position(760000001), "udp", 1_800_000_000.0)
    assert [r.time for r in out] == [1_800_000_000.0]


def test_holding_is_bounded(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(vts.ingest, "HOLD_MAX_REPORTS", 3)
    ingest = Ingest()
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        outs = [ingest.feed(position(760000000 + k), "dump", None) for k in range(6)]
    assert [len(o) for o in outs] == [0, 0, 0, 4, 1, 1]  # released when over the bound, then at once
    assert "no base station heard in 4 reports" in caplog.text
    assert all(isinstance(r, PositionReport) and r.time == 0.0 for o in outs for r in o)
    # a base station heard later still times what follows
    out = [r for t in (UTC0, UTC0 + 10, UTC0 + 20) for r in ingest.feed(base_station(t), "dump", None)]
    out += ingest.feed(position(760000009), "dump", None)
    assert [type(r) for r in out] == [BaseStationReport] * 3 + [PositionReport]
    assert out[3].time == UTC0 + 20


def test_an_older_log_after_this_one_is_said_to_go_back(caplog: pytest.LogCaptureFixture) -> None:
    """Found joining SAR.log (2007) and unknown.log (2006), both without times: the second took the
    first's last time with no word. The clock stays (never backwards) but the going back is counted
    once and said, as for logs with times of their own; a stray station behind is not."""
    a, b = 3660001, 3660002
    clock = StationClock()
    for k in range(3):
        clock.observe(UTC0 + 10 * k, (a, b)[k % 2])
    clock.observe(UTC0 - 86_400.0, a)  # one stray report a day behind: nothing agrees with it
    assert clock.went_back == 0
    for k in range(4):  # the older log: its stations agree, day after day behind
        clock.observe(UTC0 - 200 * 86_400.0 + 10 * k, (a, b)[k % 2])
    assert clock.now == UTC0 + 20.0 and clock.went_back == 1
    assert clock.behind_s == pytest.approx(200 * 86_400.0 + 20.0 - 10.0, abs=20.0)

    ingest = Ingest()
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        for line in untimed_log():
            ingest.feed(line, "joined", None)
        for k in range(5):
            ingest.feed(base_station(UTC0 - 200 * 86_400.0 + 10 * k, (a, b)[k % 2]), "joined", None)
            ingest.feed(position(760000003), "joined", None)
    assert ingest.stats.went_back == 1
    assert "the base stations' time goes back" in caplog.text and "keeps the time reached" in caplog.text
