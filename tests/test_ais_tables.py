"""Decoded AIS tables (the Danish Maritime Authority's and MarineCadastre.gov's CSV files) replayed
as the AIS sentences they were decoded from: recognised by their header, put in time order,
re-encoded with pyais, then run through the same sentence layer, tracker, zones and rules as NMEA.

The tables here are written by the tests in the two archives' published layouts (their headers are
the archives' own); the values are made up, placed in the bay of Callao."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyais
import pytest

from tests.rule_helpers import OPEN_WATER
from tests.test_file_follow import LIVENESS_S, RecordingSink, followed
from vts.ais_tables import (
    TABLE_BAD_ROW,
    TABLE_OTHER_STATION,
    nav_status_code,
    parse_time,
    ship_type_code,
    table_layout,
    table_sentences,
)
from vts.cli import main as vts_main

DMA_HEADER = (
    "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,"
    "Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,"
    "ETA,Data source type,A,B,C,D"
)
NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,"
    "Draft,Cargo,TransceiverClass"
)
T0 = 1_704_067_200  # 2024-01-01 00:00:00 UTC
SHIP, LAUNCH = 219000429, 219000430


def dma_time(t: float) -> str:
    return time.strftime("%d/%m/%Y %H:%M:%S", time.gmtime(t))


def iso_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def dma_rows(minutes: int = 20) -> list[str]:
    """A cargo ship steaming north at 10 kn (a row every 10 s), a Class B launch lying still (a row
    every 30 s, no name), and a base station (skipped)."""
    lat0, lon0 = OPEN_WATER
    rows = []
    for i in range(minutes * 6):
        t = T0 + 10 * i
        rows.append(
            f"{dma_time(t)},Class A,{SHIP},{lat0 + i * 0.00046:.6f},{lon0:.6f},Under way using engine,0.0,"
            "10.0,0.0,0,9074729,OXAB2,MAERSK CALLAO,Cargo,,32,200,GPS,10.5,CALLAO,,AIS,150,50,16,16"
        )
        if i % 3 == 0:
            rows.append(
                f"{dma_time(t)},Class B,{LAUNCH},{lat0 - 0.02:.6f},{lon0 + 0.02:.6f},Unknown value,,0.2,"
                "123.0,,Unknown,Unknown,,Pleasure,,3,12,GPS,,Unknown,,AIS,,,,"
            )
        if i % 30 == 0:
            rows.append(f"{dma_time(t)},Base Station,2190047,56.0,10.0,Unknown value,,,,,,,,,,,,,,,,AIS,,,,")
    return rows


def write_table(path: Path, rows: list[str], header: str = DMA_HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def replay(
    tmp_path: Path, table: Path
) -> tuple[dict[str, Any], dict[int, dict[str, Any]], list[dict[str, Any]]]:
    summary, vessels, alerts = tmp_path / "s.json", tmp_path / "v.json", tmp_path / "a.jsonl"
    code = vts_main(
        [
            "-q",
            "replay",
            str(table),
            "--fast",
            "--summary-out",
            str(summary),
            "--vessels-out",
            str(vessels),
            "--alerts-out",
            str(alerts),
        ]
    )
    assert code == 0
    table_of = json.loads(vessels.read_text())
    rows = table_of["vessels"] if isinstance(table_of, dict) else table_of
    return (
        json.loads(summary.read_text()),
        {v["mmsi"]: v for v in rows},
        [json.loads(line) for line in alerts.read_text().splitlines()],
    )


# -- recognising a table ------------------------------------------------------------------------------


def test_the_two_archives_headers_are_recognised_and_nmea_is_not() -> None:
    dma = table_layout(DMA_HEADER)
    noaa = table_layout(NOAA_HEADER)
    assert dma is not None and dma.day_first and "Danish" in dma.name
    assert noaa is not None and not noaa.day_first and "MarineCadastre" in noaa.name
    assert dma.columns["mmsi"] == 2 and noaa.columns["time"] == 1
    assert table_layout("!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23") is None
    assert table_layout("\\c:1704067200*5C\\!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23") is None
    assert table_layout("2024-01-01 00:00:00,!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23") is None
    assert table_layout("mmsi,lat,lon") is None  # no time: nothing to replay by
    generic = table_layout("sourcemmsi;navigationalstatus;speedoverground;lon;lat;t")
    assert generic is not None and generic.delimiter == ";" and generic.columns["time"] == 5


def test_times_codes_and_words_are_read_as_the_archives_write_them() -> None:
    assert parse_time("01/02/2024 03:04:05", day_first=True) == T0 + 31 * 86400 + 3 * 3600 + 4 * 60 + 5
    assert parse_time("02/01/2024 03:04:05", day_first=False) == T0 + 31 * 86400 + 3 * 3600 + 4 * 60 + 5
    assert parse_time("2024-01-01T00:00:10", day_first=False) == T0 + 10
    assert parse_time("2024-01-01T00:00:10Z", day_first=False) == T0 + 10
    assert parse_time("2024-01-01T05:00:10+05:00", day_first=False) == T0 + 10
    assert parse_time(str(T0), day_first=False) == T0
    assert parse_time(str(T0 * 1000 + 500), day_first=False) == T0 + 0.5
    assert parse_time("yesterday", day_first=False) is None
    assert [nav_status_code(w) for w in ("At anchor", "Moored", "Engaged in fishing", "Unknown value")] == [
        1,
        5,
        7,
        None,
    ]
    assert nav_status_code("Restricted manoeuverability") == 3 and nav_status_code("2") == 2
    assert [ship_type_code(w) for w in ("Cargo", "Tug", "Pleasure", "70", "Undefined")] == [
        70,
        52,
        37,
        70,
        None,
    ]


def test_an_nmea_log_passes_through_untouched() -> None:
    lines = [b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23", b"garbage", b"!AIVDM,1,1,,B,x,0*00"]
    drops: Counter[str] = Counter()
    assert list(table_sentences(lines, drops)) == lines and not drops


# -- what the rows become --------------------------------------------------------------------------------


def test_rows_become_position_and_static_messages_of_their_class() -> None:
    drops: Counter[str] = Counter()
    lines = [line.encode() for line in [DMA_HEADER, *dma_rows(minutes=8)]]
    out = list(table_sentences(lines, drops))
    assert all(line.startswith(b"\\c:") for line in out)
    by_type: Counter[int] = Counter()
    first: dict[int, dict[str, Any]] = {}
    parts: list[bytes] = []
    for line in out:
        sentence = line.split(b"\\")[-1]
        parts.append(sentence)
        count, number = sentence.split(b",")[1:3]
        if number != count:
            continue  # a multi-sentence message (type 5): decoded with its last part
        msg = pyais.decode(*parts).asdict()
        parts = []
        by_type[msg["msg_type"]] += 1
        first.setdefault(msg["msg_type"], msg)
    assert by_type[1] == 48 and by_type[18] == 16
    # static data once per 6 minutes while it stays the same: 2 type 5 in 8 minutes; the launch
    # gives only its ship type and size (parts A and B of type 24)
    assert by_type[5] == 2 and by_type[24] == 4
    assert drops == Counter({TABLE_OTHER_STATION: 2})
    static = first[5]
    assert (
        static["shipname"] == "MAERSK CALLAO" and static["imo"] == 9074729 and static["callsign"] == "OXAB2"
    )
    assert (static["to_bow"], static["to_stern"], static["to_port"], static["to_starboard"]) == (
        150,
        50,
        16,
        16,
    )
    assert static["ship_type"] == 70 and static["draught"] == 10.5
    position = first[1]
    assert position["mmsi"] == SHIP and position["speed"] == 10.0 and position["status"] == 0
    assert position["lat"] == pytest.approx(OPEN_WATER[0], abs=1e-4)


def test_a_danish_table_replays_with_its_vessels_times_and_counts(tmp_path: Path) -> None:
    table = tmp_path / "aisdk-2024-01-01.csv"
    write_table(table, dma_rows())
    summary, vessels, _ = replay(tmp_path, table)
    assert summary["first_time"] == "2024-01-01T00:00:00.000Z"
    assert summary["span_s"] == 20 * 60 - 10
    assert summary["dropped"] == 0 and summary["time_went_back"] == 0
    assert summary["sources"][0]["reader_drops"] == {TABLE_OTHER_STATION: 4}
    assert set(vessels) == {SHIP, LAUNCH}
    ship, launch = vessels[SHIP], vessels[LAUNCH]
    assert ship["name"] == "MAERSK CALLAO" and ship["imo"] == 9074729 and ship["length"] == 200
    assert ship["sog"] == 10.0 and ship["ais_class"] == "A"
    assert launch["ais_class"] == "B" and launch["name"] is None and launch["ship_type"] == 37


def test_a_table_grouped_by_vessel_is_put_in_time_order(tmp_path: Path) -> None:
    """MarineCadastre-style: all rows of one vessel, then the next; 'IMO' before the number."""
    lat0, lon0 = OPEN_WATER
    rows = []
    for mmsi in (367000002, 367000001):
        for i in range(60):
            rows.append(
                f"{mmsi},{iso_time(T0 + 10 * i)},{lat0 + i * 0.0005:.5f},{lon0 + (mmsi % 2) * 0.05:.5f},"
                f"10.0,0.0,0.0,GULF {mmsi % 10},IMO9074729,WDA123{mmsi % 10},70,0,200,32,10.5,70,A"
            )
    table = tmp_path / "AIS_2024_01_01.csv"
    write_table(table, rows, NOAA_HEADER)
    summary, vessels, _ = replay(tmp_path, table)
    assert summary["time_went_back"] == 0 and summary["span_s"] == 590
    assert summary["messages"] >= 120
    assert {v["name"] for v in vessels.values()} == {"GULF 1", "GULF 2"}
    assert all(v["imo"] == 9074729 and v["length"] == 200 for v in vessels.values())


def test_rows_that_cannot_be_read_are_counted_and_the_rest_replays(tmp_path: Path) -> None:
    rows = dma_rows(minutes=2)
    broken = [
        "31/02/2024 00:00:00,Class A,219000431,-12.0,-77.2,,,,,,,,,,,,,,,,,AIS,,,,",  # no such date
        f"{dma_time(T0 + 5)},Class A,NOT-AN-MMSI,-12.0,-77.2,,,,,,,,,,,,,,,,,AIS,,,,",
        f"{dma_time(T0 + 6)},Class A,219000432,,,,,,,,,,,,,,,,,,,AIS,,,,",  # no position, nothing else
        f"{dma_time(T0 + 7)},Class A,219000433,,,,,,,,,,NO FIX,Tanker,,,,,,,,AIS,,,,",  # static only
    ]
    table = tmp_path / "t.csv"
    write_table(table, [*rows[:3], *broken, *rows[3:]])
    summary, vessels, _ = replay(tmp_path, table)
    assert summary["sources"][0]["reader_drops"][TABLE_BAD_ROW] == 3
    assert {SHIP, LAUNCH} <= set(vessels)
    assert summary["span_s"] == 110


def test_the_rules_judge_a_table_as_they_judge_nmea(tmp_path: Path) -> None:
    """A cargo ship at anchor by status for half an hour in open water, outside the anchorages:
    unauthorised_anchoring, from the table alone."""
    rows = [
        f"{dma_time(T0 + 60 * i)},Class A,{SHIP},{OPEN_WATER[0]:.6f},{OPEN_WATER[1]:.6f},At anchor,0.0,0.1,"
        "12.0,250,9074729,OXAB2,MAERSK CALLAO,Cargo,,32,200,GPS,10.5,CALLAO,,AIS,150,50,16,16"
        for i in range(30)
    ]
    table = tmp_path / "anchored.csv"
    write_table(table, rows)
    _, _, alerts = replay(tmp_path, table)
    anchoring = [a for a in alerts if a["type"] == "unauthorised_anchoring"]
    assert anchoring and anchoring[0]["mmsi"] == SHIP and anchoring[0]["name"] == "MAERSK CALLAO"
    assert anchoring[0]["details"]["status"] == "at anchor"


async def test_a_followed_table_is_read_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`vts run` follows its file sources; a table is not a growing log: read once, said."""
    caplog.set_level(logging.INFO, logger="vts.sources")
    table = tmp_path / "aisdk.csv"
    write_table(table, dma_rows(minutes=1))
    source, sink = followed(table), RecordingSink()
    await asyncio.wait_for(source.run(sink), LIVENESS_S)
    assert source.status.state == "finished" and sink.ends == ["log"]
    assert len(sink.lines) == 6 + 2 + 2 + 2  # positions, launch positions, type 5 (2 sentences), type 24 A, B
    assert any("cannot be followed" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_daily_tables_given_out_of_order_are_replayed_in_time_order(tmp_path: Path) -> None:
    """Two days of the Danish archive named the other way round: replayed by their first times,
    judged from their first rows."""
    day = 86_400
    first, second = tmp_path / "b-first.csv", tmp_path / "a-second.csv"
    write_table(first, dma_rows(minutes=2))
    later = [dma_time(T0 + day + 10 * i) + row[19:] for i, row in enumerate(dma_rows(minutes=2))]
    write_table(second, later)
    summary = tmp_path / "s.json"
    assert vts_main(["-q", "replay", str(second), str(first), "--fast", "--summary-out", str(summary)]) == 0
    s = json.loads(summary.read_text())
    assert s["replayed_in_time_order"] == [first.name, second.name]
    assert s["time_went_back"] == 0 and s["first_time"] == "2024-01-01T00:00:00.000Z"


def test_a_sart_row_is_a_distress_position_not_another_station(tmp_path: Path) -> None:
    """The Danish files name an AIS-SART's rows "Search and Rescue Transponder": a position report
    under its 970 MMSI, which raises distress."""
    lat, lon = OPEN_WATER
    rows = [
        f"{dma_time(T0 + 60 * i)},Search and Rescue Transponder,970123456,{lat:.6f},{lon:.6f},"
        "AIS-SART is active,,0.5,90.0,,,,,,,,,,,,,AIS,,,,"
        for i in range(6)
    ]
    table = tmp_path / "sart.csv"
    write_table(table, rows)
    summary, vessels, alerts = replay(tmp_path, table)
    assert summary["sources"][0]["reader_drops"] == {}
    assert 970123456 in vessels
    assert [a["type"] for a in alerts if a["mmsi"] == 970123456][:1] == ["distress"]


def test_vts_learn_learns_normal_traffic_from_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The archives are where a port's normal traffic is: `vts learn` reads them as `vts replay` does."""
    lat0, lon0 = OPEN_WATER
    rows = [
        f"{mmsi},{iso_time(T0 + 20 * i)},{lat0 + i * 0.001:.5f},{lon0 + (mmsi % 10) * 0.01:.5f},"
        f"10.0,0.0,0.0,SHIP {mmsi % 10},,,70,0,180,30,9.0,70,A"
        for mmsi in (367000001, 367000002, 367000003)
        for i in range(30)
    ]
    table = tmp_path / "AIS_2024_01_01.csv"
    write_table(table, rows, NOAA_HEADER)
    out = tmp_path / "model.npz"
    assert vts_main(["learn", str(table), "--out", str(out)]) == 0
    assert "3 vessels (3 large)" in capsys.readouterr().out
