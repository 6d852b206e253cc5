"""Decoder: field values, "not available" values, text padding, type 24 parts, own ship.

Sentences are built with pyais' encoder, so each test states the values it puts in the bits.
"""

from __future__ import annotations

from typing import Any

import pyais
import pytest

from vts.decode import clean_text, decode_message
from vts.ingest import Ingest
from vts.reports import (
    AidToNavReport,
    BaseStationReport,
    PositionReport,
    Report,
    SafetyReport,
    SarAircraftReport,
    StaticReport,
)


def encode(sentence_type: str = "VDM", **fields: Any) -> list[str]:
    fields.setdefault("msg_type", fields["type"])
    return pyais.encode_dict(fields, talker_id="AI", sentence_type=sentence_type, radio_channel="B")


def decode(**fields: Any) -> list[Report]:
    ingest = Ingest()
    reports = [r for line in encode(**fields) for r in ingest.feed(line, "t", 100.0)]
    assert not ingest.stats.drops, ingest.stats.drops
    return reports


def test_class_a_position_fields() -> None:
    (r,) = decode(
        type=3,
        mmsi=760000123,
        status=1,
        turn=0,
        speed=12.3,
        accuracy=1,
        lon=-77.15,
        lat=-12.05,
        course=123.4,
        heading=122,
        second=42,
        raim=1,
    )
    assert isinstance(r, PositionReport)
    assert (r.msg_type, r.mmsi, r.ais_class, r.nav_status, r.heading, r.second) == (
        3,
        760000123,
        "A",
        1,
        122,
        42,
    )
    assert r.lat == pytest.approx(-12.05, abs=1e-6) and r.lon == pytest.approx(-77.15, abs=1e-6)
    assert r.sog == 12.3 and r.cog == 123.4 and r.accuracy and r.raim and r.rot == 0.0
    assert r.time == 100.0 and r.source == "t" and r.channel == "B" and not r.own_ship


def test_not_available_values_become_none() -> None:
    (r,) = decode(
        type=1,
        mmsi=760000123,
        lat=91,
        lon=181,
        speed=102.3,
        course=360,
        heading=511,
        status=15,
        turn=-128,
        second=60,
    )
    assert isinstance(r, PositionReport)
    assert (r.lat, r.lon, r.sog, r.cog, r.heading, r.nav_status, r.rot, r.second) == (None,) * 8
    assert not r.has_position


@pytest.mark.parametrize(("lat", "lon"), [(91, -77.0), (-12.0, 181), (-95.0, -77.0), (-12.0, -190.0)])
def test_one_coordinate_missing_or_out_of_range_means_no_position(lat: float, lon: float) -> None:
    (r,) = decode(type=1, mmsi=760000123, lat=lat, lon=lon)
    assert isinstance(r, PositionReport) and r.lat is None and r.lon is None


def test_out_of_range_course_and_heading() -> None:
    (r,) = decode(type=1, mmsi=760000123, lat=1, lon=1, course=409.5, heading=400)
    assert isinstance(r, PositionReport) and r.cog is None and r.heading is None


def test_rate_of_turn() -> None:
    (r,) = decode(type=1, mmsi=760000123, turn=-20)  # pyais encodes degrees/min
    assert isinstance(r, PositionReport) and r.rot is not None and r.rot == pytest.approx(-20, abs=1.5)


def test_class_b_position() -> None:
    (r,) = decode(type=18, mmsi=760000456, speed=5.5, lon=-77.2, lat=-12.1, course=45.0, heading=511)
    assert isinstance(r, PositionReport)
    assert r.ais_class == "B" and r.nav_status is None and r.heading is None and r.sog == 5.5


@pytest.mark.parametrize(("cs", "expected"), [(1, True), (0, False)])
def test_class_b_cs_flag_says_carrier_sense_or_self_organising(cs: int, expected: bool) -> None:
    (r,) = decode(type=18, mmsi=760000456, speed=18.0, lon=-77.2, lat=-12.1, cs=cs)
    assert isinstance(r, PositionReport) and r.class_b_cs is expected
    assert pyais.decode(*encode(type=18, mmsi=760000456, cs=cs)).asdict()["cs"] == expected


def test_type19_and_class_a_do_not_say_cs_or_so() -> None:
    (a,) = decode(type=1, mmsi=760000456, speed=5.0, lon=-77.2, lat=-12.1)
    b, _ = decode(type=19, mmsi=760000789, speed=3.0, lon=-77.2, lat=-12.1, shipname="X")
    assert isinstance(a, PositionReport) and isinstance(b, PositionReport)
    assert a.class_b_cs is None and b.class_b_cs is None


def test_type19_gives_position_and_static() -> None:
    pos, static = decode(
        type=19,
        mmsi=760000789,
        speed=3.0,
        lon=-77.2,
        lat=-12.1,
        course=10,
        heading=11,
        shipname="LA PUNTA",
        ship_type=37,
        to_bow=5,
        to_stern=3,
        to_port=1,
        to_starboard=2,
    )
    assert isinstance(pos, PositionReport) and isinstance(static, StaticReport)
    assert pos.ais_class == static.ais_class == "B" and pos.heading == 11
    assert (static.name, static.ship_type, static.to_bow, static.to_stern) == ("LA PUNTA", 37, 5, 3)


def test_type5_static_and_voyage() -> None:
    (r,) = decode(
        type=5,
        mmsi=760000321,
        imo=9123456,
        callsign="OA1234",
        shipname="CALLAO EXPRESS",
        ship_type=71,
        to_bow=150,
        to_stern=50,
        to_port=15,
        to_starboard=17,
        month=3,
        day=9,
        hour=14,
        minute=30,
        draught=11.3,
        destination="PECLL",
    )
    assert isinstance(r, StaticReport)
    assert (r.imo, r.callsign, r.name, r.ship_type, r.destination) == (
        9123456,
        "OA1234",
        "CALLAO EXPRESS",
        71,
        "PECLL",
    )
    assert (r.to_bow, r.to_stern, r.to_port, r.to_starboard, r.draught) == (150, 50, 15, 17, 11.3)
    assert r.eta == "03-09T14:30" and r.ais_class == "A" and r.part is None


def test_type5_not_available_voyage_fields() -> None:
    (r,) = decode(type=5, mmsi=760000321, month=0, day=0, hour=24, minute=60, draught=0, imo=0, ship_type=0)
    assert isinstance(r, StaticReport)
    assert (r.eta, r.draught, r.imo, r.ship_type, r.name, r.destination) == (None,) * 6


def test_text_loses_at_padding_on_both_sides() -> None:
    (r,) = decode(type=5, mmsi=760000321, shipname="@@SEA STAR", callsign="@AB12", destination="CALLAO@@XX")
    assert isinstance(r, StaticReport)
    assert r.name == "SEA STAR" and r.callsign == "AB12"
    assert r.destination == "CALLAO"  # stops at the first '@' after the text, like gpsd


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("@@J130B", "J130B"), ("SEA STAR@@@@", "SEA STAR"), ("  A B  ", "A B"), ("@@@@", None), ("", None)],
)
def test_clean_text(raw: str, clean: str | None) -> None:
    assert clean_text(raw) == clean


def test_type24_parts() -> None:
    (a,) = decode(type=24, mmsi=760000555, partno=0, shipname="PELICANO")
    (b,) = decode(
        type=24,
        mmsi=760000555,
        partno=1,
        ship_type=36,
        callsign="OA9",
        to_bow=6,
        to_stern=4,
        to_port=1,
        to_starboard=2,
    )
    assert isinstance(a, StaticReport) and isinstance(b, StaticReport)
    assert (a.part, a.name, a.ship_type) == ("A", "PELICANO", None)
    assert (b.part, b.name, b.ship_type, b.callsign, b.to_bow, b.to_starboard) == ("B", None, 36, "OA9", 6, 2)


def test_type24_auxiliary_craft_names_its_mothership() -> None:
    (b,) = decode(type=24, mmsi=987600123, partno=1, ship_type=52, callsign="AUX", mothership_mmsi=760000555)
    assert isinstance(b, StaticReport) and b.mothership_mmsi == 760000555 and b.to_bow is None


@pytest.mark.parametrize("part", [2, 3])
def test_type24_part_2_and_3_are_dropped_with_a_reason(part: int) -> None:
    (line,) = encode(type=24, mmsi=760000555, partno=0, shipname="X")
    # set the 2-bit part number by re-encoding the payload bits
    msg = pyais.decode(line)
    payload_bits, _ = msg.to_bytes()
    value = int.from_bytes(payload_bits, "big")
    size = len(payload_bits) * 8
    value |= part << (size - 40)
    payload_bytes = value.to_bytes(len(payload_bits), "big")
    armoured, fill = pyais.util.SixBitNibleEncoder().encode(payload_bytes, 168)
    assert decode_message(armoured.encode(), fill, 1.0, "t") == "type24_bad_part"


def test_aivdo_is_own_ship() -> None:
    ingest = Ingest()
    (line,) = encode("VDO", type=18, mmsi=760000999, lat=-12.0, lon=-77.0)
    (r,) = ingest.feed(line, "own", 1.0)
    assert r.own_ship


def test_base_station() -> None:
    (r,) = decode(
        type=4, mmsi=7601234, year=2024, month=5, day=1, hour=12, minute=0, second=30, lon=-77.16, lat=-12.06
    )
    assert isinstance(r, BaseStationReport)
    assert r.utc == 1714564830.0 and r.lat == pytest.approx(-12.06)


def test_aid_to_navigation_with_name_extension() -> None:
    (r,) = decode(
        type=21,
        mmsi=997601234,
        aid_type=14,
        name="BOYA CANAL ACCESO NO",
        name_ext="RTE 3",
        lon=-77.18,
        lat=-12.04,
        virtual_aid=1,
        off_position=0,
    )
    assert isinstance(r, AidToNavReport)
    assert r.name == "BOYA CANAL ACCESO NORTE 3" and r.aid_type == 14 and r.virtual and not r.off_position


def test_sar_aircraft() -> None:
    (r,) = decode(type=9, mmsi=111760001, alt=300, speed=120, lon=-77.1, lat=-12.0, course=270.0)
    assert isinstance(r, SarAircraftReport)
    assert (r.altitude, r.sog, r.cog) == (300, 120.0, 270.0)


def test_safety_messages() -> None:
    (r,) = decode(type=14, mmsi=970012345, text="SART ACTIVE")
    assert isinstance(r, SafetyReport) and r.text == "SART ACTIVE"
    (r,) = decode(type=12, mmsi=760000123, dest_mmsi=760000456, text="HELLO")
    assert isinstance(r, SafetyReport) and r.dest_mmsi == 760000456 and r.text == "HELLO"


def test_long_range_type27() -> None:
    (r,) = decode(type=27, mmsi=760000123, lon=-77.15, lat=-12.05, speed=12, course=200, status=0)
    assert isinstance(r, PositionReport)
    assert r.lat == pytest.approx(-12.05, abs=0.002) and r.lon == pytest.approx(-77.15, abs=0.002)
    assert (r.sog, r.cog, r.nav_status) == (12.0, 200.0, 0)


@pytest.mark.parametrize(
    ("payload", "fill", "reason"),
    [
        (b"", 0, "empty_payload"),
        (b"15M67FC000G?uf", 0, "bad_length"),  # type 1 cut in half
        (b"85MwpKAKf=3RcAa02O=aOtauB;H", 0, "unsupported_type"),  # type 8
        (b"Lpuo<p0<CpgaHa@euMlc", 0, "undecodable"),  # type 28 does not exist
    ],
)
def test_drop_reasons(payload: bytes, fill: int, reason: str) -> None:
    assert decode_message(payload, fill, 1.0, "t") == reason


def test_mmsi_zero_is_decoded_for_the_invalid_mmsi_rule() -> None:
    (r,) = decode(type=1, mmsi=0, lon=-77.15, lat=-12.05, speed=3, course=90)
    assert isinstance(r, PositionReport) and r.mmsi == 0


def test_empty_payload_line_is_counted() -> None:
    ingest = Ingest()
    assert ingest.feed("!AIVDM,1,1,,B,,0*25", "t", 1.0) == []
    assert ingest.stats.drops["empty_payload"] == 1


def test_longer_than_nominal_messages_are_read() -> None:
    """GFW type1-bad-bitcount: extra payload characters after a full type 1 are ignored."""
    (line,) = encode(type=1, mmsi=760000123, lat=-12.0, lon=-77.0)
    payload = pyais.decode(line)
    assert payload.mmsi == 760000123
    parts = line.split(",")
    assert decode_message(parts[5].encode() + b"0", 0, 1.0, "t") != "bad_length"
