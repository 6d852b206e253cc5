"""Conformance against real data and expected outputs written by others (gpsd, libais, GFW, aisparser).

Data: tests/data/<project>/ (copies with licence notices and provenance, see tests/data/README.md).
The ingest runs without its duplicate test (`Ingest(duplicate_window_s=0)`): these logs repeat some
sentences, and every sentence is compared with what the other decoder made of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyais
import pytest

from vts.decode import VESSEL_TYPES
from vts.ingest import Ingest
from vts.nmea import parse_line
from vts.reports import (
    AidToNavReport,
    BaseStationReport,
    PositionReport,
    Report,
    SafetyReport,
    SarAircraftReport,
    StaticReport,
)
from vts.tracker import Tracker

DATA = Path(__file__).parent / "data"
GPSD_LOGS = sorted(p.name for p in (DATA / "gpsd").glob("*.log"))
COMPARED_TYPES = {1, 2, 3, 4, 5, 9, 11, 18, 19, 21, 24, 27}


def gpsd_pairs(chk: Path) -> Iterator[tuple[list[str], dict[str, Any] | None]]:
    """(sentences, gpsd JSON) pairs from a gpsd regression .chk file: every input sentence is
    echoed, the AIS JSON follows the sentence that completed the message. A JSON with no
    sentence before it is gpsd repeating its last report after a TPV: skipped. Sentences gpsd
    printed nothing for (a first fragment, a type 24 part A it only caches) come with None."""
    pending: list[str] = []
    for line in chk.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("!", "\\")):
            pending.append(line)
        elif line.startswith('{"class":"AIS"'):
            if pending:
                yield pending, json.loads(line)
            pending = []
        elif line.startswith("$") and pending:
            yield pending, None
            pending = []


def raw_text(sentences: list[str], field: str) -> str:
    """The 6-bit text as pyais reads it (only trailing '@' removed), to explain gpsd differences."""
    try:
        value = getattr(pyais.decode(*sentences), field, "")
    except Exception:
        return ""
    return str(value or "")


def check_text(ours: str | None, gpsd: str, sentences: list[str], field: str) -> None:
    if ours == (gpsd.strip() or None):
        return
    # gpsd stops at the first '@'; we drop leading '@' padding first. Only that case may differ.
    raw = raw_text(sentences, field)
    assert gpsd == "" and raw.startswith("@") and ours == raw.lstrip("@ ").split("@")[0].strip(), (
        ours,
        gpsd,
        raw,
    )


def check_position(
    ours: PositionReport | SarAircraftReport | BaseStationReport | AidToNavReport,
    g: dict[str, Any],
    scale: float,
) -> None:
    lat_na = round(91 * scale)
    lon_na = round(181 * scale)
    if g["lat"] == lat_na or g["lon"] == lon_na or abs(g["lat"]) > 90 * scale or abs(g["lon"]) > 180 * scale:
        assert ours.lat is None and ours.lon is None
    else:
        assert ours.lat is not None and ours.lon is not None
        assert round(ours.lat * scale) == g["lat"]
        assert round(ours.lon * scale) == g["lon"]


def check_against_gpsd(
    reports: list[Report], tracker: Tracker, g: dict[str, Any], sentences: list[str]
) -> None:
    t = g["type"]
    mine = [r for r in reports if r.msg_type == t and r.mmsi == g["mmsi"]]
    if not mine:
        pytest.fail(f"no report for gpsd {g} from {sentences}")
    if t in (1, 2, 3, 18, 19):
        pos = next(r for r in mine if isinstance(r, PositionReport))
        check_position(pos, g, 600000.0)
        assert pos.sog == (None if g["speed"] == 1023 else g["speed"] / 10.0)
        assert pos.cog == (None if g["course"] >= 3600 else g["course"] / 10.0)
        assert pos.heading == (None if g["heading"] >= 360 else g["heading"])
        assert pos.ais_class == ("A" if t <= 3 else "B")
        if t <= 3:
            assert pos.nav_status == (None if g["status"] == 15 else g["status"])
    if t == 27:
        pos = mine[0]
        assert isinstance(pos, PositionReport)
        check_position(pos, g, 600.0)
        assert pos.sog == (None if g["speed"] == 63 else g["speed"])
        assert pos.cog == (None if g["course"] >= 360 else g["course"])
        assert pos.nav_status == (None if g["status"] == 15 else g["status"])
    if t in (4, 11):
        station = mine[0]
        assert isinstance(station, BaseStationReport)
        check_position(station, g, 600000.0)
    if t == 9:
        sar = mine[0]
        assert isinstance(sar, SarAircraftReport)
        check_position(sar, g, 600000.0)
        assert sar.sog == (None if g["speed"] == 1023 else g["speed"])
    if t == 21:
        aid = mine[0]
        assert isinstance(aid, AidToNavReport)
        check_position(aid, g, 600000.0)
        check_text(aid.name, g["name"], sentences, "full_name")
        assert aid.aid_type == (g["aid_type"] or None)
        assert aid.virtual == g["virtual_aid"] and aid.off_position == g["off_position"]
    if t in (5, 19, 24):
        static = next(r for r in mine if isinstance(r, StaticReport))
        if t == 5 or static.part == "B":
            assert static.ship_type == (g["shiptype"] or None)
            for dim in ("to_bow", "to_stern", "to_port", "to_starboard"):
                if not (t == 24 and static.mothership_mmsi):
                    assert getattr(static, dim) == (g[dim] or None), dim
        if t == 5:
            assert static.imo == (g["imo"] or None)
            assert static.draught == (g["draught"] / 10.0 if g["draught"] else None)
            check_text(static.destination, g["destination"], sentences, "destination")
        if t in (5, 24) and "callsign" in g and (t == 5 or static.part == "B"):
            check_text(static.callsign, g["callsign"], sentences, "callsign")
        if "shipname" in g:
            vessel = tracker.get(g["mmsi"])
            assert vessel is not None
            if t == 24:  # gpsd merges parts A and B like our tracker does
                check_text(vessel.name, g["shipname"], sentences, "shipname")
            else:
                check_text(static.name, g["shipname"], sentences, "shipname")


@pytest.mark.parametrize("log", GPSD_LOGS)
def test_gpsd_daemon_logs(log: str) -> None:
    """Every AIS message gpsd decoded from its regression logs decodes to the same fields here."""
    ingest = Ingest(duplicate_window_s=0)
    tracker = Tracker()
    compared = 0
    for sentences, g in gpsd_pairs(DATA / "gpsd" / f"{log}.chk"):
        reports: list[Report] = []
        for s in sentences:
            reports.extend(ingest.feed(s, "gpsd", 1.0e9))
        for r in reports:
            tracker.update(r)
        if g is None or g["type"] not in COMPARED_TYPES:
            continue
        check_against_gpsd(reports, tracker, g, sentences)
        compared += 1
    assert compared >= 10


def test_gpsd_type24_part3_is_dropped_with_reason() -> None:
    """gpsd silently drops type 24 part numbers 2/3 (ais-18-27.log); we count them."""
    ingest = Ingest(duplicate_window_s=0)
    for line in (DATA / "gpsd" / "ais-18-27.log").read_bytes().splitlines():
        ingest.feed(line, "gpsd", None)
    assert ingest.stats.drops["type24_bad_part"] == 69


def test_gpsd_sample_aivdm_scaled() -> None:
    """gpsd's curated sample.aivdm (every type, with its documented decode) vs gpsdecode -j."""
    ingest = Ingest(duplicate_window_s=0)
    reports: list[Report] = []
    for line in (DATA / "gpsd" / "sample.aivdm").read_bytes().splitlines():
        reports.extend(ingest.feed(line, "sample", 1.0e9))
    expected = [json.loads(x) for x in (DATA / "gpsd" / "sample.aivdm.js.chk").read_text().splitlines()]
    pointer = 0
    compared = 0
    for g in expected:
        t = g["type"]
        if t not in COMPARED_TYPES or (t == 24 and g.get("partno", 0) > 1):
            continue
        while pointer < len(reports) and (reports[pointer].msg_type, reports[pointer].mmsi) != (t, g["mmsi"]):
            pointer += 1
        assert pointer < len(reports), f"gpsd decoded {g} and we did not"
        r = reports[pointer]
        if isinstance(r, PositionReport):
            if t == 27:
                assert r.lat == pytest.approx(g["lat"], abs=1e-3) and r.lon == pytest.approx(
                    g["lon"], abs=1e-3
                )
            elif g["lat"] <= 90 and g["lon"] <= 180:
                assert r.lat == pytest.approx(g["lat"], abs=1e-6)
                assert r.lon == pytest.approx(g["lon"], abs=1e-6)
            else:
                assert r.lat is None and r.lon is None
            speed = g["speed"]
            assert r.sog == (
                None if speed == "nan" or (isinstance(speed, float) and speed > 102.25) else speed
            )
            if t != 27:
                assert r.heading == (None if g["heading"] >= 360 else g["heading"])
        if isinstance(r, StaticReport) and "shipname" in g and r.part != "B":
            assert r.name == (g["shipname"].strip() or None)
        if isinstance(r, StaticReport) and "callsign" in g and r.part != "A":
            assert r.callsign == (g["callsign"].strip() or None)
        pointer += 1
        compared += 1
    assert compared >= 20


def _libais_messages(nmea: Path, *, feed_per_line: bool = False) -> list[list[Report]]:
    """The reports of each line. `feed_per_line`: every line is a feed of its own (independent
    examples recorded days apart: in one feed, a line days ahead of the one before is held back
    until the lines after it confirm its time, `vts.ingest.TIME_JUMP_S`)."""
    ingest = Ingest(duplicate_window_s=0)
    lines = nmea.read_bytes().splitlines()
    return [
        ingest.feed(line, f"libais{i}" if feed_per_line else "libais", None) for i, line in enumerate(lines)
    ]


def _check_libais(reports: list[Report], x: dict[str, Any]) -> int:
    t = x["type"]
    if t not in COMPARED_TYPES:
        return 0
    assert reports, x
    r = reports[0]
    assert (r.msg_type, r.mmsi) == (t, x["mmsi"])
    if isinstance(r, PositionReport | BaseStationReport | SarAircraftReport | AidToNavReport):
        if abs(x["lat"]) > 90 or abs(x["lon"]) > 180:  # not available or out of range -> None
            assert r.lat is None and r.lon is None
        else:
            assert r.lat == pytest.approx(x["lat"], abs=2e-5) and r.lon == pytest.approx(x["lon"], abs=2e-5)
    if isinstance(r, PositionReport):
        if x.get("speed") is not None and x["speed"] < 102.25:
            assert r.sog == pytest.approx(x["speed"], abs=1e-3)
        if "heading" in x:
            assert r.heading == (None if x["heading"] >= 360 else x["heading"])
        if "status" in x:
            assert r.nav_status == (None if x["status"] == 15 else x["status"])
    if isinstance(r, StaticReport):
        if "shipname" in x:
            assert r.name == (x["shipname"].strip("@ ") or None)
        if "callsign" in x:
            assert r.callsign == (x["callsign"].strip("@ ") or None)
        if "destination" in x:
            assert r.destination == (x["destination"].strip("@ ") or None)
    if isinstance(r, SafetyReport):
        assert r.text == x["text"].strip("@ ")
    return 1


def test_libais_typeexamples() -> None:
    """libais' one-example-per-type file (USCG metadata stripped by the sentence layer)."""
    expected = [json.loads(x) for x in (DATA / "libais" / "typeexamples.json").read_text().splitlines()]
    got = _libais_messages(DATA / "libais" / "typeexamples.nmea", feed_per_line=True)
    assert len(got) == len(expected)
    compared = sum(_check_libais(reports, x) for reports, x in zip(got, expected, strict=True))
    assert compared >= 10
    # The USCG trailer carries the receiver station and the time.
    first = next(r for reports in got for r in reports)
    assert first.station == "r003669946" and first.time == 1325394060.0


def test_libais_tagblock() -> None:
    """ORBCOMM tag blocks: c: -> event time, s: -> station, g: groups a 2-part type 5."""
    expected = [json.loads(x) for x in (DATA / "libais" / "tagblock.json").read_text().splitlines()]
    got = [r for reports in _libais_messages(DATA / "libais" / "tagblock.nmea") for r in reports]
    assert len(got) == len(expected) == 4
    for r, x in zip(got, expected, strict=True):
        _check_libais([r], x)
        assert r.station == x["tagblock_station"]
        assert r.time == pytest.approx(
            pyais_time(x["tagblock_timestamp"]),
        )


def pyais_time(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# -- robustness on files full of edge cases ------------------------------------------------------
def feed_file(path: Path, received: float | None = None) -> tuple[Ingest, list[Report]]:
    ingest = Ingest(duplicate_window_s=0)
    reports: list[Report] = []
    data = path.read_bytes()
    for line in data.splitlines():
        reports.extend(ingest.feed(line, path.name, received))
    ingest.flush()
    s = ingest.stats
    assert s.lines == len(data.splitlines())
    assert s.lines + s.extra_pieces == s.accounted() and s.pending == 0
    assert "internal_error" not in s.drops
    return ingest, reports


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "gfw").glob("*.nmea")))
def test_gfw_edge_cases_never_crash_and_account(name: str) -> None:
    feed_file(DATA / "gfw" / name)


def test_gfw_truncated_payload_same_checksum_is_bad_checksum() -> None:
    ingest, reports = feed_file(DATA / "gfw" / "errors.nmea")
    assert ingest.stats.drops["bad_checksum"] == 2
    assert len(reports) == 3


def test_gfw_concatenated_sentences_on_one_line() -> None:
    """spire-test.nmea line 1: both fragments of a type 5 on one line (pyais drops it)."""
    ingest = Ingest(duplicate_window_s=0)
    line = (DATA / "gfw" / "spire-test.nmea").read_bytes().splitlines()[0]
    reports = ingest.feed(line, "spire", None)
    assert len(reports) == 1 and isinstance(reports[0], StaticReport)
    assert reports[0].msg_type == 5 and reports[0].station == "FM112" and reports[0].time == 1662052384.0
    assert ingest.stats.extra_pieces == 1


def test_gfw_millisecond_tag_time_and_trailing_quote() -> None:
    _, reports = feed_file(DATA / "gfw" / "sample.nmea")
    assert [r.msg_type for r in reports] == [18, 24, 24]
    assert reports[0].time == pytest.approx(1599239526.5)
    assert reports[0].station == "sdr-experiments"


def test_gfw_exact_earth_groups_where_only_first_fragment_has_time() -> None:
    _, reports = feed_file(DATA / "gfw" / "ee-multiline.nmea")
    fives = [r for r in reports if r.msg_type == 5]
    assert len(fives) == 2
    assert fives[0].time == 1661782369.0 and fives[0].station == "66"


def test_gfw_bad_tagblock_group_still_assembles() -> None:
    _, reports = feed_file(DATA / "gfw" / "bad-tagblock-group.nmea")
    assert [r.msg_type for r in reports] == [21]


@pytest.mark.parametrize("name", ["SAR.log", "unknown.log", "seattle.log"])
def test_aisparser_logs_with_corrupted_lines(name: str) -> None:
    ingest, reports = feed_file(DATA / "aisparser" / name)
    assert len(reports) > 0.8 * ingest.stats.lines
    # MMSI 0 (unconfigured transponders) is decoded for the invalid_mmsi rule; it stays rare in real data
    assert sum(r.mmsi == 0 for r in reports) < 0.05 * len(reports)


def test_aisparser_corrupted_lines_have_the_right_reasons() -> None:
    ingest = Ingest(duplicate_window_s=0)
    lines = (DATA / "aisparser" / "SAR.log").read_bytes().splitlines()
    outcomes = {}
    for number in (9203, 12732):  # '!AIVDM,o=cf0Kn...' and '!AIVDM,1,1$PSHI,...'
        before = dict(ingest.stats.drops)
        ingest.feed(lines[number - 1], "sar", None)
        outcomes[number] = {
            k: v - before.get(k, 0) for k, v in ingest.stats.drops.items() if v != before.get(k, 0)
        }
    assert outcomes == {9203: {"malformed": 1}, 12732: {"malformed": 1}}
    banner = (DATA / "aisparser" / "unknown.log").read_bytes().splitlines()[0]
    ingest.feed(banner, "unknown", None)
    assert ingest.stats.ignored["not_nmea"] == 1


def test_pyais_empty_payloads_are_counted() -> None:
    ingest, _ = feed_file(DATA / "pyais" / "nmea_data_sample.txt")
    assert ingest.stats.drops["empty_payload"] == 100


def test_dma_gatehouse_times() -> None:
    ingest, reports = feed_file(DATA / "dma" / "stream_example.txt")
    assert reports and ingest.stats.drops.get("bad_checksum", 0) <= 2
    times = [r.time for r in reports]
    assert min(times) >= 1276256770.0 and max(times) <= 1276256799.0  # 2010-06-11 11:46:10-11:46:39


def test_dma_small_edge_cases() -> None:
    path = DATA / "dma" / "small_cb_example.txt"
    ingest, reports = feed_file(path)
    first, second = reports[0], reports[1]
    assert first.time == 1357134218.0  # USCG trailing epoch
    assert second.time == 1357134222.0  # bad trailing field skipped, next epoch used
    # '\s:b:2,c:...' and '\:,c:...' tag blocks are read...
    tagged = [line for line in path.read_bytes().splitlines() if line.startswith((b"\\s:b:2", b"\\:,c:"))]
    assert [parse_line(line).sentences[0].time for line in tagged] == [1364272372.0] * 2
    # ...but in this one file their time is 83 days ahead of the line before, and the line after
    # goes back to 2012: an unconfirmed jump, so their two reports take the file's time
    assert ingest.stats.retimed == 2 and not any(r.time == 1364272372.0 for r in reports)


def test_amsa_tag_block_checksum_00_and_exact_earth_groups() -> None:
    _, reports = feed_file(DATA / "amsa" / "nmea-timestamped.txt")
    assert len(reports) >= 99 and all(1420030790 <= r.time <= 1420030810 for r in reports)
    ingest, reports = feed_file(DATA / "amsa" / "exact-earth-with-tag-block.txt")
    assert ingest.stats.messages == 200 and not ingest.stats.drops


def test_amsa_exact_earth_trailing_ms_and_pghp() -> None:
    _, reports = feed_file(DATA / "amsa" / "exact-earth-augmented-2.txt")
    assert reports and all(1328000000 < r.time < 1328200000 for r in reports)


def test_vessel_types_decode_to_vessel_reports() -> None:
    assert {1, 5, 18, 24} <= VESSEL_TYPES
