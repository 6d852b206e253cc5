"""One transmission heard by several receivers is one message (`vts.ingest.DUPLICATE_WINDOW_S`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyais
import pytest

from vts.ingest import DUPLICATE, DUPLICATE_WINDOW_S, TAKEN_MIN_LIMIT, Ingest
from vts.nmea import nmea_checksum
from vts.reports import PositionReport, Report, StaticReport

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000
T5 = (  # a real two-sentence type 5 (gpsd ais-nmea.log), MMSI 371255000 "SEA ENTERPRISE"
    "!AIVDM,2,1,9,B,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1`?164vc03S1CCAD,0*2A",
    "!AIVDM,2,2,9,B,`88888888888880,2*76",
)


def tagged(t: float, sentence: str, station: str | None = None) -> str:
    body = f"c:{int(t)}" + (f",s:{station}" if station else "")
    return f"\\{body}*{nmea_checksum(body.encode()):02X}\\{sentence}"


def position(mmsi: int = 366053209, second: int = 10, lon: float = -77.2, talker: str = "AIVDM") -> str:
    fields = {"msg_type": 1, "mmsi": mmsi, "lat": -12.04, "lon": lon, "speed": 5.0, "course": 90.0}
    fields["second"] = second
    (line,) = pyais.encode_dict(fields, talker_id=talker[:2], sentence_type=talker[2:], radio_channel="B")
    return str(line)


def accounted(ingest: Ingest) -> bool:
    st = ingest.stats
    return st.lines + st.extra_pieces == st.accounted()


def feed(ingest: Ingest, lines: list[tuple[str, str]]) -> list[Report]:
    """(source, line) pairs, one by one."""
    return [r for source, line in lines for r in ingest.feed(line, source, None)]


def test_the_same_transmission_from_two_receivers_is_one_report() -> None:
    ingest = Ingest()
    pos = position()
    out = feed(ingest, [("north", tagged(T0, pos, "r1")), ("south", tagged(T0 + 1, pos, "r2"))])
    assert len(out) == 1 and out[0].source == "north" and out[0].station == "r1"
    assert ingest.stats.by_source["south"].ignored == {DUPLICATE: 1}
    assert ingest.stats.by_source["north"].ignored == {} and ingest.stats.messages == 1
    assert accounted(ingest)
    # a copy stamped a little earlier (the second receiver's clock is behind) is one too
    later = position(second=20)
    assert len(feed(ingest, [("north", tagged(T0 + 20, later)), ("south", tagged(T0 + 18, later))])) == 1


def test_the_same_payload_a_window_apart_is_another_transmission() -> None:
    """Identical static data sent again, a ship lying still with the same radio state: messages."""
    ingest = Ingest()
    pos = position()
    t_next = T0 + DUPLICATE_WINDOW_S
    out = feed(ingest, [("rx", tagged(T0, pos)), ("rx", tagged(t_next, pos)), ("rx", tagged(T0 + 400, pos))])
    assert [r.time for r in out] == [T0, t_next, T0 + 400] and DUPLICATE not in ingest.stats.ignored


def test_a_two_sentence_message_heard_twice_is_one_static_report() -> None:
    ingest = Ingest()
    lines = [("a", tagged(T0, T5[0])), ("b", tagged(T0, T5[0])), ("a", tagged(T0, T5[1]))]
    lines.append(("b", tagged(T0 + 1, T5[1])))
    out = feed(ingest, lines)
    assert [type(r) for r in out] == [StaticReport] and out[0].mmsi == 371255000
    assert ingest.stats.by_source["b"].ignored == {DUPLICATE: 2}  # both its sentences
    assert ingest.stats.pending == 0 and accounted(ingest)


def test_own_ship_sentences_are_not_filtered() -> None:
    """The own ship's VDO and another receiver's VDM of it: the own-ship report is kept."""
    ingest = Ingest()
    vdm, vdo = position(talker="AIVDM"), position(talker="AIVDO")
    assert vdm.split(",")[5] == vdo.split(",")[5]  # the same payload
    out = feed(ingest, [("shore", tagged(T0, vdm)), ("bridge", tagged(T0, vdo))])
    assert [r.own_ship for r in out] == [False, True]


def test_a_payload_that_does_not_decode_is_dropped_each_time() -> None:
    ingest = Ingest()
    short = "!AIVDM,1,1,,B,15M67F,0"
    short += f"*{nmea_checksum(short[1:].encode()):02X}"
    assert feed(ingest, [("a", tagged(T0, short)), ("b", tagged(T0, short))]) == []
    assert ingest.stats.dropped == 2 and DUPLICATE not in ingest.stats.ignored


@pytest.mark.parametrize("window", [0.0, -1.0])
def test_no_window_no_duplicate_test(window: float) -> None:
    ingest = Ingest(duplicate_window_s=window)
    pos = position()
    assert len(feed(ingest, [("a", tagged(T0, pos)), ("b", tagged(T0, pos))])) == 2


def test_chunks_and_lines_agree() -> None:
    lines = []
    for k in range(40):
        pos = position(second=k % 60, lon=-77.2 + k * 1e-3)
        lines += [tagged(T0 + k, pos, "r1"), tagged(T0 + k, pos, "r2")]
    one = Ingest()
    by_line = [r for line in lines for r in one.feed(line, "rx", None)]
    chunked = Ingest()
    by_chunk = chunked.feed_many(lines, "rx")
    assert [(r.time, r.station) for r in by_line] == [(r.time, r.station) for r in by_chunk]
    assert len(by_line) == 40 and one.stats.ignored == chunked.stats.ignored == {DUPLICATE: 40}


def test_the_table_of_recent_messages_stays_small_on_a_long_feed() -> None:
    ingest = Ingest()
    n = 0
    for k in range(30_000):  # a message every 50 ms for 25 minutes, each one different
        pos = position(mmsi=200_000_000 + k, second=k % 60)
        n += len(ingest.feed(tagged(T0 + k * 0.05, pos), "rx", None))
    assert n == 30_000
    assert len(ingest._taken) <= 2 * max(TAKEN_MIN_LIMIT, int(DUPLICATE_WINDOW_S / 0.05) * 2)


def test_two_receivers_logs_merged_give_the_alerts_of_one(tmp_path: Path) -> None:
    """`vts replay --merge` of two receivers' logs of the same hours (each transmission heard by both,
    tagged with its station): the alerts of one receiver's log alone."""
    day = (ROOT / "replay" / "callao_day.nmea").read_text().splitlines()[:12_000]
    one, two = tmp_path / "north.nmea", tmp_path / "south.nmea"
    one.write_text("\n".join(day) + "\n")
    two.write_text("\n".join(day) + "\n")

    def replay(*logs: Path) -> list[dict[str, object]]:
        out = tmp_path / "alerts.jsonl"
        cmd = [sys.executable, "-m", "vts", "replay", "--no-progress", "--alerts-out", str(out)]
        subprocess.run([*cmd, *(["--merge"] if len(logs) > 1 else []), *map(str, logs)], check=True, cwd=ROOT)
        return [json.loads(line) for line in out.read_text().splitlines()]

    alone = replay(one)
    assert len(alone) > 20
    merged = replay(one, two)
    assert [(a["type"], a["state"], a["mmsi"], a["time"]) for a in merged] == [
        (a["type"], a["state"], a["mmsi"], a["time"]) for a in alone
    ]


def test_a_position_report_decoded_once_per_transmission_counts_once() -> None:
    """The tracker's message count (alerts wait for 5) counts transmissions, not receivers."""
    from vts.tracker import Tracker

    ingest, tracker = Ingest(), Tracker()
    for k in range(3):
        pos = position(second=k * 10, lon=-77.2 + k * 1e-3)
        for station in ("r1", "r2", "r3"):
            for r in ingest.feed(tagged(T0 + 10 * k, pos, station), station, None):
                assert isinstance(r, PositionReport)
                tracker.update(r)
    vessel = tracker.get(366053209)
    assert vessel is not None and vessel.message_count == 3


def test_vts_replay_says_how_many_copies_it_counted_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vts.cli import main

    pos = position()
    log = tmp_path / "two-receivers.nmea"
    log.write_text(
        "\n".join([tagged(T0, pos, "r1"), tagged(T0, pos, "r2"), tagged(T0 + 1, pos, "r3")]) + "\n"
    )
    summary = tmp_path / "summary.json"
    assert main(["replay", str(log), "--fast", "--no-progress", "--summary-out", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "NOTE        2 sentence(s) were copies of messages already heard within 10 s" in out
    assert json.loads(summary.read_text())["ignored"] == {DUPLICATE: 2}
