"""A line whose own time jumps far ahead of its feed (`vts.ingest.TIME_JUMP_S`).

One receiver with a wrong clock (the GPS week-number rollover puts it 19.6 years out) or one
corrupted tag block carried the whole feed's event time decades ahead: every vessel was forgotten,
and every alert after it was stamped in 2046. Such a line is now held back until the lines after it
confirm its time (a feed back after a long outage does); when they do not, its reports take the
feed's time and are counted (`retimed`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.test_nmea import POS, tag
from vts.config import load_config
from vts.core import Core
from vts.ingest import TIME_CONFIRM_LINES, TIME_JUMP_S, WENT_BACK_S, Ingest
from vts.reports import Report

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_772_452_800  # 2026-03-02 12:00 UTC
ROLLOVER = 1024 * 7 * 86_400  # a GPS week-number rollover: 19.6 years


def _times(lines: list[str], how: str) -> tuple[Ingest, list[float]]:
    ingest = Ingest(duplicate_window_s=0)  # (one message again and again: not taken as duplicates)
    if how == "one by one":
        reports: list[Report] = [r for line in lines for r in ingest.feed(line, "rx", None)]
    else:
        reports = ingest.feed_many(lines, "rx", None)
    reports += ingest.flush()
    return ingest, [r.time for r in reports]


@pytest.mark.parametrize("how", ["one by one", "as a chunk"])
def test_one_line_decades_ahead_takes_the_feeds_time(how: str, caplog: pytest.LogCaptureFixture) -> None:
    lines = [tag(f"c:{t}") + POS for t in (T0, T0 + 10, T0 + ROLLOVER + 15, T0 + 20, T0 + 30)]
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        ingest, times = _times(lines, how)
    assert times == [T0, T0 + 10, T0 + 10, T0 + 20, T0 + 30]  # nothing lost, in the feed's order
    s = ingest.stats
    assert s.retimed == 1 and s.by_source["rx"].retimed == 1 and s.as_dict()["retimed"] == 1
    assert s.last_time == T0 + 30 and s.messages == 5
    assert s.lines + s.extra_pieces == s.accounted()
    assert "not confirmed" in caplog.text


@pytest.mark.parametrize("how", ["one by one", "as a chunk"])
def test_a_feed_back_after_days_goes_on_at_its_new_time(how: str) -> None:
    later = T0 + 3 * 86_400
    lines = [tag(f"c:{t}") + POS for t in (T0, T0 + 10, later, later + 10, later + 20, later + 30)]
    ingest, times = _times(lines, how)
    assert times == [T0, T0 + 10, later, later + 10, later + 20, later + 30]
    assert ingest.stats.retimed == 0
    # a jump within TIME_JUMP_S is taken at once (a receiver's outage of hours)
    hours = [tag(f"c:{t}") + POS for t in (T0, T0 + 6 * 3600, T0 + 6 * 3600 + 10)]
    assert _times(hours, how)[1] == [T0, T0 + 6 * 3600, T0 + 6 * 3600 + 10]
    assert TIME_JUMP_S > 6 * 3600 and TIME_CONFIRM_LINES == 3


def test_lines_without_a_time_of_their_own_do_not_confirm_a_jump() -> None:
    """Untagged lines between (a mixed feed) take the feed's time: they do not vote for the jump."""
    bare = POS
    lines = [tag(f"c:{T0}") + POS, tag(f"c:{T0 + ROLLOVER}") + POS, bare, bare, tag(f"c:{T0 + 5}") + POS]
    ingest, times = _times(lines, "one by one")
    assert times == [T0, T0, T0, T0, T0 + 5] and ingest.stats.retimed == 1


def test_a_jump_still_pending_at_the_end_of_the_input_takes_the_feeds_time() -> None:
    lines = [tag(f"c:{t}") + POS for t in (T0, T0 + 10, T0 + ROLLOVER)]
    ingest = Ingest()
    out = [r.time for line in lines for r in ingest.feed(line, "rx", None)]
    assert out == [T0, T0 + 10]
    assert [r.time for r in ingest.end_of_input("rx")] == [T0 + 10]
    assert ingest.stats.retimed == 1


def test_a_corrupted_tag_block_does_not_carry_a_replay_into_2046() -> None:
    """The bundled night log with one line's tag block moved 19.6 years ahead gives the same alerts."""
    lines = (ROOT / "replay" / "callao_night_security.nmea").read_text().splitlines()

    def run(log: list[str]) -> tuple[Core, list[dict[str, object]]]:
        core = Core(load_config())
        chunks = (log[i : i + 1000] for i in range(0, len(log), 1000))
        alerts = [a.to_dict() for chunk in chunks for a in core.feed_lines(chunk, "log")]
        alerts += [a.to_dict() for a in core.finish()]
        return core, alerts

    clean_core, clean = run(lines)
    i = len(lines) // 3
    head, _, sentence = lines[i].rpartition("\\")
    t = int(head.split("c:")[1].split("*")[0].split(",")[0])
    broken = [*lines[:i], tag(f"c:{t + ROLLOVER}") + sentence, *lines[i + 1 :]]
    core, alerts = run(broken)
    assert core.ingest.stats.retimed == 1
    assert core.now == clean_core.now and core.now is not None and core.now < T0 + 86_400
    assert len(alerts) == len(clean) > 50
    assert [(a["type"], a["mmsi"], a["state"], a["time"]) for a in alerts] == [
        (a["type"], a["mmsi"], a["state"], a["time"]) for a in clean
    ]


def test_vts_replay_says_how_many_messages_were_retimed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vts.cli import main

    log = tmp_path / "feed.nmea"
    log.write_text("\n".join(tag(f"c:{t}") + POS for t in (T0, T0 + 10, T0 + ROLLOVER, T0 + 20)) + "\n")
    summary = tmp_path / "summary.json"
    assert main(["replay", str(log), "--fast", "--no-progress", "--summary-out", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "1 message(s) had a time more than a day ahead of their feed" in out
    assert '"retimed": 1' in summary.read_text()


@pytest.mark.parametrize("how", ["one by one", "as a chunk"])
def test_a_time_going_back_hours_is_said(how: str, caplog: pytest.LogCaptureFixture) -> None:
    """Logs joined out of order: the second part's reports are older than the event time reached
    (taken as delivered late, as always), and now said so, once per jump; a time going back less
    than WENT_BACK_S (a late fix of a satellite feed) is not."""
    back = T0 - 20 * 3600  # the day before, joined after
    times_in = [T0, T0 + 10, back, back + 10, back + 20, T0 + 30 - 2 * 3600]
    lines = [tag(f"c:{t}") + POS for t in times_in]
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        ingest, times = _times(lines, how)
    assert times == times_in  # nothing changed, nothing lost
    assert ingest.stats.went_back == 1 and ingest.stats.by_source["rx"].as_dict()["went_back"] == 1
    assert "the line time goes back 20.0 h" in caplog.text
    assert WENT_BACK_S == 3 * 3600


def test_vts_replay_says_the_time_went_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vts.cli import main

    log = tmp_path / "joined.nmea"
    log.write_text("\n".join(tag(f"c:{t}") + POS for t in (T0, T0 + 10, T0 - 86_400, T0 - 86_390)) + "\n")
    summary = tmp_path / "summary.json"
    assert main(["replay", str(log), "--fast", "--no-progress", "--summary-out", str(summary)]) == 0
    assert "the time of the lines went back more than 3 hours 1 time(s)" in capsys.readouterr().out
    assert '"time_went_back": 1' in summary.read_text()


# -- a live receiver whose clock is behind by GPS week-number rollovers ---------------------------------
def _position(mmsi: int, second: int, lon: float) -> str:
    import pyais

    fields = {"msg_type": 1, "mmsi": mmsi, "lat": -12.04, "lon": lon, "speed": 5.0, "course": 90.0}
    (line,) = pyais.encode_dict({**fields, "second": second}, talker_id="AI", radio_channel="B")
    return str(line)


@pytest.mark.parametrize("rollovers", [1, 2])
def test_a_live_receiver_a_gps_rollover_behind_is_corrected(
    rollovers: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A receiver with firmware older than the April 2019 rollover stamps its lines 1999: beside a
    good feed, its vessels were taken as late data, forgotten at every prune and made anew (6 of
    its 60 reports kept); without a second feed, every alert was dated 19.6 years back."""
    core = Core(load_config())
    behind = rollovers * ROLLOVER
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        for k in range(60):
            received = T0 + 10 * k + 0.4
            good = _position(760000001, (10 * k) % 60, -77.2 + k * 1e-4)
            old = _position(760000002, (10 * k) % 60, -77.21 + k * 1e-4)
            core.feed_line(tag(f"c:{T0 + 10 * k}") + good, "good", received)
            core.feed_line(tag(f"c:{T0 + 10 * k - behind}") + old, "old-firmware", received)
    vessel = core.tracker.get(760000002)
    assert vessel is not None and vessel.message_count == 60 and vessel.position_time == T0 + 590
    stats = core.ingest.stats.by_source["old-firmware"]
    assert (
        stats.rollover == 60 and stats.first_time == T0 and core.ingest.stats.by_source["good"].rollover == 0
    )
    said = [r.message for r in caplog.records if "rollover" in r.message]
    assert len(said) == 1 and f"{rollovers} GPS week-number rollover(s)" in said[0]


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (-3, "3.0 days behind this machine's clock (a receiver's clock set wrong"),
        (3, "is this machine's clock right?"),
    ],
)
def test_a_single_live_feed_days_off_this_machine_s_clock_keeps_its_times(
    days: int, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind but not by GPS rollovers (old data relayed? a clock set wrong?), or ahead with no other
    feed to tell which clock is wrong (an operations room's own clock may be the one that is off):
    the times are kept, and the difference is said once."""
    ingest = Ingest()
    start = T0 + days * 86_400
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        times = [
            r.time
            for k in range(3)
            for r in ingest.feed(tag(f"c:{start + 10 * k}") + _position(760000003, k, -77.2), "rx", T0)
        ]
    assert times == [start + 10 * k for k in range(3)]
    assert ingest.stats.rollover == ingest.stats.ahead == 0
    assert len([r for r in caplog.records if said in r.message]) == 1 and len(caplog.records) == 1


def test_a_satellite_fix_hours_late_or_a_replayed_log_is_not_touched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest = Ingest()
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        (late,) = ingest.feed(tag(f"c:{T0 - 5 * 3600}") + _position(760000004, 1, -77.2), "sat", T0)
        (logged,) = ingest.feed(tag(f"c:{T0 - ROLLOVER}") + _position(760000005, 2, -77.2), "log", None)
    assert (late.time, logged.time) == (T0 - 5 * 3600, T0 - ROLLOVER)  # a file has no receive time
    assert ingest.stats.rollover == 0 and caplog.records == []


# -- a live receiver whose clock is ahead -----------------------------------------------------------
def _two_feeds(ahead_s: float, clock_error_s: float = 0.0) -> Core:
    """A good feed and one whose line times are `ahead_s` ahead, both received by a machine whose
    clock is `clock_error_s` off; 60 reports each, 10 s apart."""
    core = Core(load_config())
    for k in range(60):
        received = T0 + 10 * k + 0.4 + clock_error_s
        good = _position(760000001, (10 * k) % 60, -77.2 + k * 1e-4)
        bad = _position(760000002, (10 * k) % 60, -77.21 + k * 1e-4)
        core.feed_line(tag(f"c:{T0 + 10 * k}") + good, "good", received)
        core.feed_line(tag(f"c:{int(T0 + 10 * k + ahead_s)}") + bad, "wrong-clock", received)
    return core


def test_a_live_receiver_days_ahead_of_the_others_takes_its_receive_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One receiver's clock a year ahead carried the shared event time with it: the good feed's
    reports all became late data, every vessel of it forgotten."""
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        core = _two_feeds(365 * 86_400.0)
    assert core.now is not None and abs(core.now - (T0 + 590.4)) < 1
    for mmsi in (760000001, 760000002):
        vessel = core.tracker.get(mmsi)
        assert vessel is not None and vessel.message_count == 60, mmsi
    assert core.ingest.stats.by_source["wrong-clock"].ahead == 60
    assert core.ingest.stats.by_source["good"].ahead == 0
    said = [
        r.message for r in caplog.records if "ahead of this machine's clock and of the other" in r.message
    ]
    assert len(said) == 1 and "365.0 days ahead" in said[0]


def test_when_this_machine_s_clock_is_the_one_behind_the_feeds_keep_their_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operations room without internet, its clock two days slow: the receivers are right."""
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        core = _two_feeds(0.0, clock_error_s=-2 * 86_400.0)
    assert core.now == T0 + 590 and core.ingest.stats.ahead == 0
    said = [r.message for r in caplog.records if "is this machine's clock right?" in r.message]
    assert len(said) == 2  # once per feed


def test_a_feed_whose_time_keeps_going_back_is_said_five_times_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found in a live test: a feeder that re-timed only some of its lines made the same warning
    several times a second. It is said `RETIMED_LOGGED` times, the last saying it is the last."""
    from vts.ingest import RETIMED_LOGGED

    t0 = 1_700_000_000
    ingest = Ingest(duplicate_window_s=0)
    with caplog.at_level(logging.WARNING, logger="vts.ingest"):
        for k in range(RETIMED_LOGGED + 3):
            ingest.feed(tag(f"c:{t0 + WENT_BACK_S + 3600 + k}") + POS, "rx", None)
            ingest.feed(tag(f"c:{t0 + k}") + POS, "rx", None)  # hours back
    said = [r.getMessage() for r in caplog.records if "goes back" in r.getMessage()]
    assert len(said) == RETIMED_LOGGED and "said no more for this feed" in said[-1]
    assert not any("said no more" in m for m in said[:-1])
    assert ingest.stats.went_back == RETIMED_LOGGED + 3
