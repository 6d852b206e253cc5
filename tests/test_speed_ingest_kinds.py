"""The chunk-at-once line tests of `Ingest.feed_many` (`lines_bytes`, `line_kinds`) against the
line-by-line functions they stand for (`line_bytes`, `plain_fields`, `parse_line`), on real lines,
edge cases and random mutations of them."""

from __future__ import annotations

import random

import pytest

from vts.nmea import (
    OTHER,
    OTHER_NMEA,
    OTHER_NMEA_LINE,
    PLAIN,
    ParsedLine,
    _other_nmea,
    line_bytes,
    line_kinds,
    lines_bytes,
    parse_line,
    plain_fields,
)

REAL = [
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "!ABVDM,1,1,6,B,1G7lQJ001PbomTie:ms2sR@40000,0*34",
    "!ABVDO,1,1,,B,17P>D600?w:9K`qpgqCf43h400RS,0*37",
    "!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E",
    "!AIVDM,2,2,3,B,1CQ1A83PCAH0,2*3A",
    "$BSALR,,006,V,V,general failure*62",
    "$GPGGA,120000,1200.00,S,07700.00,W,1,08,0.9,10.0,M,0.0,M,,*4C",
    "$PSHI,001,0,0,0,0,0,0*00",
    "$PGHP,1,2024,5,1,12,0,0,0,,,,*1A",
    "$AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "\\c:1700000000*00\\!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27,b003669794,1272412827",
    "2024-05-01T12:00:00Z !AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "# a comment",
    "",
    "$ABC,",
    "$ABCDEFGHIJ,",
    "$ABCDEFGHIJK,",
    "$AB,",
    "$aBC,x",
    "$A1B,x*00",
    "$GPGGA,x!y",
    "$GPGGA,x\\y",
    "$GPVDM,x",
    "$PGHPX,1",
]
EDGE = [
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,6*27",  # fill 6
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,10*27",  # fill of two characters
    "!AIVDM,1,1,,A,17P@<J,?P00blFWmjG@5a5?v62<10,0*27",  # five fields
    "!AIVDM,1,1,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",  # three fields
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*2g",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27 ",
    " !AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "!AIVDX,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "!AIVDM,1,2,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27",
    "!AIVDM,1,1,,,,0*27",
    "!A,1,1,,,,,,,,,,0*27",
    "!AIVDM,1,1,,A,,0*00",
    "!AIVDM,1,1,,A,1,0*00",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27\r",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27\r\n",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27\n",
    "!AIVDM,1,1,,A,17P@<J?P00\nblFWmjG@5a5?v62<10,0*27",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27\r\r",
    "!AIVDM,1,1,,A,17P@<J?P00\rblFWmjG@5a5?v62<10,0*27",
    "$GPGGA,é",
    "!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27" + "0" * 5000,
    "$GPGGA," + "0" * 5000,
    "$GPGGA\t,x",
    "$GPGGA,x\x00",
]
SPECIAL = "!$*,\\01AZazVDMO@ \t\r\n\x00é\x85"


def _mutations(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    base = REAL + EDGE
    for _ in range(n):
        line = rng.choice(base)
        for _ in range(rng.randrange(0, 3)):
            r = rng.random()
            i = rng.randrange(len(line) + 1)
            if r < 0.4:
                line = line[:i] + rng.choice(SPECIAL) + line[i + 1 :]
            elif r < 0.6:
                line = line[:i] + rng.choice(SPECIAL) + line[i:]
            elif r < 0.8:
                line = line[:i]
            else:
                line = line[:i] + line[i + 1 :]
        out.append(line)
    return out


def _check(chunk: list[str] | list[bytes]) -> None:
    raws, joined = lines_bytes(chunk)
    assert raws == [line_bytes(line) or b"" for line in chunk]
    assert joined is None or (joined == b"\n".join(raws) and not any(b"\n" in raw for raw in raws))
    kinds = line_kinds(raws, joined)
    assert kinds == line_kinds(raws)  # (lines found by their lengths, not by the joined lines)
    assert len(kinds) == len(chunk)
    for line, raw, kind in zip(chunk, raws, kinds, strict=True):
        four = len(raw[11:-3].split(b",")) == 4  # (the one test of `plain_fields` left to the caller)
        assert (kind == PLAIN and four) == (plain_fields(raw) is not None), line
        # a line that starts with '$' (and is not too long) is found as `_parse_line` would find it
        # (a line that does not is parsed whatever it holds: `OTHER`)
        quick = raw[:1] == b"$" and len(raw) <= 4096 and _other_nmea(raw.strip(b" \t\r\n\x00"))
        assert (kind == OTHER_NMEA_LINE) == quick, line
        if kind == OTHER_NMEA_LINE:
            assert parse_line(line) == ParsedLine(ignored=OTHER_NMEA), line
        assert kind in (OTHER, PLAIN, OTHER_NMEA_LINE)


def test_real_and_edge_lines() -> None:
    _check(REAL + EDGE)
    _check([line.encode("utf-8", "surrogatepass") for line in REAL + EDGE])
    for line in REAL + EDGE:
        _check([line])


@pytest.mark.parametrize("seed", range(3))
def test_random_mutations(seed: int) -> None:
    lines = _mutations(seed, 2000)
    for size in (1, 7, 1000):
        for i in range(0, len(lines), size):
            chunk = lines[i : i + size]
            _check(chunk)
            _check([line.encode("utf-8", "surrogatepass") for line in chunk])


def test_mixed_and_empty_chunks() -> None:
    assert lines_bytes([]) == ([], b"") and line_kinds([]) == b""
    _check(["!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27", b"$GPGGA,x"])  # type: ignore[list-item]
    _check([b"!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27\r", b"$GPGGA,x\r"])
