"""Sentence layer: line formats, checksums, reassembly, and the pyais traps it guards against."""

from __future__ import annotations

import pyais
import pytest

from vts.ingest import Ingest
from vts.nmea import (
    BAD_CHECKSUM,
    BLANK,
    COMMENT,
    EXPIRED_FRAGMENT,
    FRAGMENT_MIN_ARRIVALS,
    FRAGMENT_TTL_S,
    MALFORMED,
    METADATA,
    NOT_NMEA,
    ORPHAN_FRAGMENT,
    OTHER_NMEA,
    TOO_LONG,
    FragmentAssembler,
    nmea_checksum,
    parse_line,
)
from vts.reports import PositionReport, StaticReport

POS = "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"  # type 1, MMSI 366053209, 37.802N 122.342W
TYPE5 = [
    "!AIVDM,2,1,9,B,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1`?164vc03S1CCAD,0*2A",
    "!AIVDM,2,2,9,B,`88888888888880,2*76",
]  # gpsd ais-nmea.log: MMSI 371255000 "SEA ENTERPRISE", callsign HP6683


def with_checksum(body: str, start: str = "!") -> str:
    return f"{start}{body}*{nmea_checksum(body.encode()):02X}"


def tag(fields: str) -> str:
    return f"\\{fields}*{nmea_checksum(fields.encode()):02X}\\"


def test_plain_sentence() -> None:
    parsed = parse_line(POS)
    assert not parsed.drops and parsed.ignored is None
    (s,) = parsed.sentences
    assert (s.count, s.number, s.channel, s.fill, s.own_ship) == (1, 1, "B", 0, False)
    assert s.time is None


def test_bytes_and_str_and_line_endings_are_the_same() -> None:
    a = parse_line(POS).sentences[0]
    b = parse_line((POS + "\r\n").encode()).sentences[0]
    assert a == b


def test_checksum_is_verified() -> None:
    bad = POS[:-2] + "00"
    assert parse_line(bad).drops == [BAD_CHECKSUM]
    # pyais decodes the same line without complaint (its default): we must not.
    assert pyais.decode(bad).mmsi == 366053209


def test_aivdo_is_own_ship() -> None:
    line = with_checksum("AIVDO,1,1,,,B>qc:003wk?8mP=18D3Q3wgTiT;T,0")
    (s,) = parse_line(line).sentences
    assert s.own_ship


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (tag("c:1700000000,s:CALLAO1"), 1700000000.0),
        (tag("s:CALLAO1,c:1700000000123"), 1700000000.123),  # milliseconds
        ("2023-11-14T22:13:20Z ", 1700000000.0),
        ("2023-11-14 22:13:20.500;", 1700000000.5),
        ("2023-11-14T17:13:20-05:00 ", 1700000000.0),
        ("1700000000.25 ", 1700000000.25),
        ("1700000000250,", 1700000000.25),
        ("[2023-11-14 22:13:20] ", 1700000000.0),  # the prefixes loggers write, bracketed or not
        ("(2023/11/14 22:13:20.250) ", 1700000000.25),
        ("2023-11-14 22:13:20 UTC: ", 1700000000.0),
        ("[2023-11-14 22:13:20.5 UTC] ", 1700000000.5),
        ("2023-11-14 17:13:20 -0500 ", 1700000000.0),
        ("[1700000000.25] ", 1700000000.25),
    ],
)
def test_line_time_sources(prefix: str, expected: float) -> None:
    (report,) = Ingest().feed(prefix + POS, "t", received=5.0)
    assert report.time == pytest.approx(expected)


def test_tag_block_station_and_group() -> None:
    (s,) = parse_line(tag("g:1-2-77,s:rEV02,c:1334337317") + TYPE5[0]).sentences
    assert s.station == "rEV02" and s.group == b"77" and s.time == 1334337317.0


def test_tag_block_with_wrong_checksum_is_not_trusted_but_sentence_kept() -> None:
    (s,) = parse_line("\\c:1700000000*11\\" + POS).sentences
    assert s.time is None
    (s,) = parse_line("\\c:1700000000*00\\" + POS).sentences  # '*00' = not computed (AMSA)
    assert s.time == 1700000000.0


def test_uscg_metadata_after_checksum() -> None:
    (s,) = parse_line(POS + ",b003669794,1272412827").sentences
    assert s.station == "b003669794" and s.late_time == 1272412827.0
    long_form = POS + ",d-109,S2105,t050056.00,T56.13718694,r003669946,1325394060,1325394001"
    (s,) = parse_line(long_form).sentences
    assert s.station == "r003669946" and s.late_time == 1325394060.0
    (s,) = parse_line(POS + ",1327992119173").sentences  # exactEarth: unix milliseconds
    assert s.late_time == pytest.approx(1327992119.173)


def test_time_precedence_tag_block_then_pghp_then_trailer() -> None:
    pghp = with_checksum("PGHP,1,2012,1,31,5,7,2,151,316,2,316000002,1AIS_S,51", start="$")
    ingest = Ingest()
    ingest.feed(pghp + ",1327992119157", "ee", None)
    (r,) = ingest.feed(POS + ",1327992119173", "ee", None)
    assert r.time == pytest.approx(1327986422.151)  # the satellite reception time, not forwarding
    ingest.feed(pghp, "ee", None)
    (r,) = ingest.feed(tag("c:1327986000") + POS + ",1327992119173", "ee", None)
    assert r.time == 1327986000.0


def test_trailing_junk_after_checksum_is_ignored() -> None:
    (s,) = parse_line(POS + "'").sentences
    assert s.payload.startswith(b"15M67")


def test_two_sentences_concatenated_on_one_line() -> None:
    parsed = parse_line(TYPE5[0] + TYPE5[1])
    assert [s.number for s in parsed.sentences] == [1, 2]
    parsed = parse_line(tag("c:1") + POS + tag("c:1700000000") + POS)
    assert len(parsed.sentences) == 2 and parsed.sentences[1].time == 1700000000.0


def test_gatehouse_line_gives_time_to_next_sentence() -> None:
    pghp = with_checksum("PGHP,1,2010,6,11,11,46,11,929,244,0,,1,72", start="$")
    parsed = parse_line(pghp)
    assert parsed.ignored == METADATA and parsed.gatehouse_time == pytest.approx(1276256771.929)
    ingest = Ingest()
    ingest.feed(pghp, "gh", received=5.0)
    (report,) = ingest.feed(POS, "gh", received=5.0)
    assert report.time == pytest.approx(1276256771.929)
    (report,) = ingest.feed(POS, "gh", received=5.0)  # the PGHP time was for one sentence only
    assert report.time == 5.0


@pytest.mark.parametrize("broken", ["bad checksum", "cut short"])
def test_a_pghp_time_whose_sentence_came_broken_is_not_given_to_the_next(broken: str) -> None:
    """$PGHP times the sentence after it. When that one is dropped (bad checksum, cut short), the
    next sentence, which came with no $PGHP of its own, took the broken one's time."""
    pghp = with_checksum("PGHP,1,2010,6,11,11,46,11,929,244,0,,1,72", start="$")
    bad = POS[:-2] + "00" if broken == "bad checksum" else POS[:25]
    for feed in ("one by one", "as a chunk"):
        ingest = Ingest()
        lines = [pghp, bad, POS]
        if feed == "one by one":
            reports = [r for line in lines for r in ingest.feed(line, "gh", received=5.0)]
        else:
            reports = ingest.feed_many(lines, "gh", [5.0] * 3)
        assert [r.time for r in reports] == [5.0], feed
        assert sum(ingest.stats.drops.values()) == 1
    # a line that is not AIS at all (other NMEA) between them does not take the time away
    ingest = Ingest()
    gga = "$GPGGA,114702.00,3351.0151,S,15117.2160,E,1,06,1.69,00093,M,021,M,,*76"
    reports = [r for line in [pghp, gga, POS] for r in ingest.feed(line, "gh", received=5.0)]
    assert [r.time for r in reports] == [pytest.approx(1276256771.929)]


@pytest.mark.parametrize(
    ("line", "outcome"),
    [
        ("", BLANK),
        ("   \r\n", BLANK),
        ("# a comment", COMMENT),
        ("$GPGGA,114702.00,3351.0151,S,15117.2160,E,1,06,1.69,00093,M,021,M,,*76", OTHER_NMEA),
        ("Virtual AIS Receiver Stream Broadcast v1.1.0 <DEMO>", NOT_NMEA),
    ],
)
def test_lines_that_are_not_ais_are_ignored_not_dropped(line: str, outcome: str) -> None:
    parsed = parse_line(line)
    assert parsed.ignored == outcome and not parsed.drops and not parsed.sentences


@pytest.mark.parametrize(
    "line",
    [
        "!AIVDM,o=cf0Knevo00`4W,0*20",  # aisparser SAR.log corrupted line
        "!AIVDM,1,1$PSHI,004,SL161R,2.3.9,Dec 22 2004 16:02:05,20041217-005-bcl*66",
        with_checksum("AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,7"),  # fill bits > 5
        with_checksum("AIVDM,1,2,,B,15M67FC000G?ufbE`FepT@3n00Sa,0")[:-3],  # no checksum
        with_checksum("AIVDM,2,3,,B,15M67FC000G?ufbE`FepT@3n00Sa,0"),  # fragment 3 of 2
        "\\c:1700000000,s:x*00",  # unterminated tag block
    ],
)
def test_malformed_lines(line: str) -> None:
    assert parse_line(line).drops == [MALFORMED]


def test_huge_line_is_dropped_whole() -> None:
    assert parse_line("!" + "A" * 100_000).drops == [TOO_LONG]


def test_never_raises_on_non_utf8_bytes() -> None:
    parsed = parse_line(b"\xff\xfe!AIVDM\x00\x80,1,1")
    assert parsed.items >= 1


# -- reassembly ----------------------------------------------------------------------------------
def test_out_of_order_fragments_are_ordered_by_fragment_number() -> None:
    """pyais trap: decode(p2, p1) silently uses the wrong fill bits. We order by fragment number."""
    forward = Ingest()
    forward_reports = [r for line in TYPE5 for r in forward.feed(line, "a", 1.0)]
    backward = Ingest()
    backward_reports = [r for line in reversed(TYPE5) for r in backward.feed(line, "a", 1.0)]
    assert forward_reports == backward_reports
    (report,) = backward_reports
    assert isinstance(report, StaticReport)
    assert (report.mmsi, report.name, report.callsign) == (371255000, "SEA ENTERPRISE", "HP6683")


def test_fragments_expire_after_event_time_not_wall_clock() -> None:
    """pyais trap: NMEAQueue keeps an incomplete fragment forever. Ours expire by EVENT time."""
    ingest = Ingest()
    ingest.feed(TYPE5[0], "a", 1000.0)
    for _ in range(FRAGMENT_MIN_ARRIVALS):
        ingest.feed(POS, "a", 1000.0 + FRAGMENT_TTL_S / 2)
    assert ingest.stats.pending == 1
    assert ingest.feed(TYPE5[1], "a", 1000.0 + FRAGMENT_TTL_S + 1) == []  # fragment 1 expired first
    assert ingest.stats.drops[EXPIRED_FRAGMENT] == 1
    assert ingest.stats.pending == 1  # the late fragment 2 now waits alone
    ingest.flush()
    assert ingest.stats.drops[ORPHAN_FRAGMENT] == 1 and ingest.stats.pending == 0


def test_fragments_are_kept_apart_by_source_and_channel() -> None:
    ingest = Ingest()
    assert ingest.feed(TYPE5[0], "north", 1.0) == []
    assert ingest.feed(TYPE5[1], "south", 1.0) == []  # another receiver: not the same message
    assert ingest.feed(TYPE5[1], "north", 1.0) != []
    other_channel = with_checksum("AIVDM,2,2,9,A,`88888888888880,2")
    ingest.feed(TYPE5[0], "x", 1.0)
    assert ingest.feed(other_channel, "x", 1.0) == []


def test_repeated_fragment_number_orphans_the_incomplete_group() -> None:
    ingest = Ingest()
    other_first = with_checksum("AIVDM,2,1,9,B,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1`?164vc03S1CCAA,0")
    ingest.feed(other_first, "a", 1.0)
    ingest.feed(TYPE5[0], "a", 2.0)  # a new message with the same sequence id
    assert ingest.stats.drops[ORPHAN_FRAGMENT] == 1
    assert len(ingest.feed(TYPE5[1], "a", 3.0)) == 1


# SAR.log (aisparser, BSD-3-Clause, tests/data/aisparser) lines 2572-2573 and 2656-2657: two ships'
# type 5 messages, both on channel A under sequence id 4
WAFRAH = [
    "!AIVDM,2,1,4,A,54WOL202>IkL?IISJ21L4I84R22222222222221IRPq,0*57",
    "!AIVDM,2,2,4,A,SI5;h0aD0C888888888888888880,2*02",
]
LAUREL_ISLAND = [
    "!AIVDM,2,1,4,A,55B8LB02>@?hQ0Tj220h5E8Dj0U<h4pB22222216B0J,0*27",
    "!AIVDM,2,2,4,A,;?5<`0?D3lU30CQ885DhH8888880,2*4C",
]


def _statics(lines: list[str], ingest: Ingest) -> list[tuple[int, str | None, str | None, int | None]]:
    """(MMSI, name, destination, beam) of each type 5 decoded from `lines`, in order."""
    out = []
    for line in lines:
        for r in ingest.feed(line, "log", 1_700_000_000.0):
            if not isinstance(r, StaticReport):
                continue
            beam = None if r.to_port is None or r.to_starboard is None else r.to_port + r.to_starboard
            out.append((r.mmsi, r.name, r.destination, beam))
    return out


def test_a_log_with_every_line_twice_gives_each_message_once_and_splices_nothing() -> None:
    """Found on SAR.log with its lines doubled: the spare copy of WAFRAH's fragment 2 waited for a
    fragment 1 and took LAUREL ISLAND's, a ship of beam 60 m bound for "PAL" (really 26 m, for
    PORTLAND USA), and an identity_change alert on a ship that changed nothing."""
    once = _statics(WAFRAH + LAUREL_ISLAND, Ingest())
    assert [(name, dest, beam) for _, name, dest, beam in once] == [
        ("WAFRAH", "PAL", 60),
        ("LAUREL ISLAND", "PORTLAND  USA", 26),
    ]
    twice = Ingest()
    assert _statics([line for line in WAFRAH + LAUREL_ISLAND for _ in (1, 2)], twice) == once
    assert twice.stats.ignored["duplicate"] == 4
    assert twice.stats.dropped == 0 and twice.stats.pending == 0


def test_a_lost_fragment_1_leaves_its_fragment_2_an_orphan_not_spliced_to_the_next_ship() -> None:
    """A channel's sequence ids are shared by every ship on it: WAFRAH's fragment 1 lost to
    reception, its fragment 2 must not complete LAUREL ISLAND's message that follows."""
    ingest = Ingest()
    other_on_a = with_checksum("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0")  # another ship's position
    got = _statics([WAFRAH[1], other_on_a, *LAUREL_ISLAND], ingest)
    assert got == _statics(LAUREL_ISLAND, Ingest())
    assert ingest.stats.drops[ORPHAN_FRAGMENT] == 1 and ingest.stats.pending == 0


def test_two_fragments_swapped_next_to_each_other_on_their_channel_still_join() -> None:
    """A merged log may swap a message's two fragments; a sentence on the other channel between
    them does not part them (a ship's fragments follow each other on one channel)."""
    other_on_b = with_checksum("AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0")
    assert _statics([LAUREL_ISLAND[1], other_on_b, LAUREL_ISLAND[0]], Ingest()) == _statics(
        LAUREL_ISLAND, Ingest()
    )


def test_without_the_duplicate_test_every_copy_of_a_fragment_is_kept() -> None:
    ingest = Ingest(duplicate_window_s=0)
    got = _statics([WAFRAH[0], *WAFRAH], ingest)
    assert len(got) == 1 and ingest.stats.drops[ORPHAN_FRAGMENT] == 1
    assert ingest.stats.ignored["duplicate"] == 0


def test_tag_block_groups_join_fragments_whatever_their_sequence_ids() -> None:
    first = tag("g:1-2-4242,s:sat,c:1700000000") + TYPE5[0]
    second = tag("g:2-2-4242") + TYPE5[1].replace(",9,B,", ",9,B,")
    ingest = Ingest()
    assert ingest.feed(first, "sat", None) == []
    (report,) = ingest.feed(second, "sat", None)
    assert report.time == 1700000000.0 and report.station == "sat"


def test_assembler_bounds_pending_groups() -> None:
    assembler = FragmentAssembler(ttl=1e9, max_groups=3)
    ingest_lines = [with_checksum(f"AIVDM,2,1,{i},A,55R3Vn82=ILTQ3KKS,0") for i in range(5)]
    dropped = 0
    for i, line in enumerate(ingest_lines):
        (s,) = parse_line(line).sentences
        _, drops, _ = assembler.add(s, float(i), True)
        dropped += sum(n for _, n in drops)
    assert len(assembler) == 3 and dropped == 2


def test_untimed_lines_take_received_then_last_event_time() -> None:
    ingest = Ingest(duplicate_window_s=0)  # (one message again and again: not taken as duplicates)
    (a,) = ingest.feed(tag("c:1700000000") + POS, "f", None)
    (b,) = ingest.feed(POS, "f", None)  # no time, no receive time: last event time of the source
    assert ingest.feed(POS, "other", None) == []  # another source with no time yet: held back
    (d,) = ingest.feed(POS, "f", 1700000100.0)
    (c,) = ingest.flush()  # ... and at the end, with no time ever: 0.0 (vts.station_clock otherwise)
    assert (a.time, b.time, c.time, d.time) == (1700000000.0, 1700000000.0, 0.0, 1700000100.0)


def test_time_offset_is_added_to_every_event_time() -> None:
    ingest = Ingest(duplicate_window_s=0)  # (one message again and again: not taken as duplicates)
    (a,) = ingest.feed(tag("c:1700000000") + POS, "demo", None, time_offset=3600.0)
    (b,) = ingest.feed(POS, "demo", None, time_offset=3600.0)
    (c,) = ingest.feed(POS, "live", 50.0, time_offset=10.0)
    assert (a.time, b.time, c.time) == (1700003600.0, 1700003600.0, 60.0)


def test_stats_per_source_and_totals() -> None:
    ingest = Ingest()
    ingest.feed(POS, "a", 1.0)
    ingest.feed(POS[:-2] + "00", "b", 1.0)
    ingest.feed("# hello", "b", 1.0)
    s = ingest.stats
    assert (s.lines, s.messages, s.drops[BAD_CHECKSUM], s.ignored[COMMENT]) == (3, 1, 1, 1)
    assert s.by_source["a"].messages == 1 and s.by_source["b"].drops[BAD_CHECKSUM] == 1
    assert s.as_dict()["by_source"]["b"]["lines"] == 2  # type: ignore[index]
    assert "bad_checksum=1" in s.summary()


def test_report_fields_for_a_known_sentence() -> None:
    (r,) = Ingest().feed(POS, "a", 1.0)
    assert isinstance(r, PositionReport)
    assert r.mmsi == 366053209 and r.channel == "B" and r.source == "a"
    assert r.lat == pytest.approx(37.802118, abs=1e-6) and r.lon == pytest.approx(-122.341618, abs=1e-6)


def test_fragments_expire_on_single_sentence_traffic_too() -> None:
    ingest = Ingest()
    ingest.feed(TYPE5[0], "a", 1000.0)
    for i in range(FRAGMENT_MIN_ARRIVALS):
        assert ingest.stats.pending == 1
        ingest.feed(POS, "a", 1000.0 + FRAGMENT_TTL_S + 0.5 + i)
    assert ingest.stats.drops[EXPIRED_FRAGMENT] == 1 and ingest.stats.pending == 0


def test_out_of_time_order_satellite_feed_keeps_adjacent_fragments() -> None:
    """A neighbour stamped much later (satellite feeds are not in time order) does not expire a
    group whose next fragment comes right after it."""
    ingest = Ingest()
    ingest.feed(tag("c:1418169601") + TYPE5[0], "sat", None)
    ingest.feed(tag("c:1418172113") + POS, "sat", None)
    (report,) = ingest.feed(tag("c:1418169601") + TYPE5[1], "sat", None)
    assert report.time == 1418169601.0


def test_invalid_payload_character_is_malformed() -> None:
    ingest = Ingest()
    assert ingest.feed(with_checksum("AIVDM,1,1,,B,15M67FC000G?ufbE`Fe~T@3n00Sa,0"), "a", 1.0) == []
    assert ingest.stats.drops[MALFORMED] == 1


def test_other_nmea_before_a_sentence_on_one_line_counts_both() -> None:
    gga = "$GPGGA,114702.00,3351.0151,S,15117.2160,E,1,06,1.69,00093,M,021,M,,*76"
    ingest = Ingest()
    assert len(ingest.feed(gga + POS, "a", 1.0)) == 1
    s = ingest.stats
    assert s.ignored[OTHER_NMEA] == 1 and s.extra_pieces == 1 and s.lines + s.extra_pieces == s.accounted()


def test_tag_block_alone_on_its_line_times_the_next_sentence() -> None:
    ingest = Ingest()
    assert ingest.feed(tag("c:1354719388"), "dma", None) == []
    (r,) = ingest.feed(POS, "dma", None)
    assert r.time == 1354719388.0 and ingest.stats.ignored[METADATA] == 1


def test_huge_plain_sentence_is_too_long_on_every_path() -> None:
    huge = with_checksum("AIVDM,1,1,,B," + "1" * 5000 + ",0")
    ingest = Ingest()
    assert ingest.feed(huge, "a", 1.0) == []
    assert ingest.stats.drops[TOO_LONG] == 1


def test_dollar_vdm_sentences_are_ais_as_pyais_reads_them() -> None:
    """Some receivers write `$AIVDM` for `!AIVDM`; pyais decodes it. Such a log was read as "other
    NMEA" from end to end: not one vessel, and nothing said it was AIS."""
    dollar = "$" + POS[1:]
    two = ["$" + s[1:] for s in TYPE5]
    for feed in ("one by one", "as a chunk"):
        ingest = Ingest()
        lines = [
            dollar,
            tag("c:1418169601") + two[0],
            two[1],
            with_checksum("AIVDO,1,1,,,15M67FC000G?ufbE`FepT@3n00Sa,0", "$"),
        ]
        if feed == "one by one":
            reports = [r for line in lines for r in ingest.feed(line, "rx", 10.0)]
        else:
            reports = ingest.feed_many(lines, "rx", [10.0] * len(lines))
        assert [type(r) for r in reports] == [PositionReport, StaticReport, PositionReport]
        pos, static, own = reports
        expected = pyais.decode(dollar)
        assert pos.mmsi == expected.mmsi == 366053209 and pos.lat == pytest.approx(expected.lat, abs=1e-6)
        assert static.name == "SEA ENTERPRISE" and static.time == 1418169601.0
        assert own.own_ship is True
        assert ingest.stats.ignored.get(OTHER_NMEA, 0) == 0
    # a broken one is dropped as AIS would be, not ignored as another sentence
    ingest = Ingest()
    assert ingest.feed(dollar[:-2] + "00", "rx", 10.0) == []
    assert ingest.feed(dollar[:30], "rx", 10.0) == []
    assert ingest.stats.drops[BAD_CHECKSUM] == 1 and ingest.stats.drops[MALFORMED] == 1
    # and other `$` sentences are still other NMEA
    assert (
        parse_line("$GPGGA,114702.00,3351.0151,S,15117.2160,E,1,06,1.69,00093,M,021,M,,*76").ignored
        == OTHER_NMEA
    )


@pytest.mark.parametrize(
    ("line", "ignored", "drops"),
    [
        (b"\x80\x81$\x90 junk", None, ["non_ascii"]),  # binary junk with a '$' in it: a broken feed
        (b"#\xff\xfe\x00\x9c\x80", None, ["non_ascii"]),  # ... starting with '#'
        (b"# Callao \xc3\xb1 2026", "comment", []),  # a comment in UTF-8 stays one
        (b"$GPGGA,123519,4807.038,N*47", "other_nmea", []),
        (b"$PGRMC,1,2*33", "other_nmea", []),
        (b"$PSHI,001,01.53524524,,01691,32611,114701.28,2,0057,-079*3B", "other_nmea", []),  # AMSA
        (b"$PAIS,F1,2*00", "other_nmea", []),
        (b"$$$ hello", "not_nmea", []),
    ],
)
def test_junk_is_told_from_other_nmea(line: bytes, ignored: str | None, drops: list[str]) -> None:
    """Found in a live test: 200 random UDP datagrams were counted `ignored: other_nmea`, as if a
    GPS were talking, where the feed was broken."""
    parsed = parse_line(line)
    assert (parsed.ignored, parsed.drops) == (ignored, drops)
