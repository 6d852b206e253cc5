"""The chunk-at-once Class A decode of `Ingest.feed_many` (`plain_payloads`, `class_a_rows`) against
what it stands for (`plain_fields`, `decode_message`), value for value and bit for bit, on every
line of the test data (and of the shared AIS data, where there is a copy), random payloads and edge
values of every field."""

from __future__ import annotations

import bz2
import gzip
import logging
import random
import re
from pathlib import Path

import numpy as np
import pytest

from vts.decode import class_a_rows, decode_message
from vts.ingest import Ingest
from vts.nmea import PLAIN, line_bounds, line_kinds, lines_bytes, plain_fields, plain_payloads
from vts.reports import PositionReport

HERE = Path(__file__).parent
DATA_DIRS = [HERE / "data", HERE.parents[1] / "shared" / "data" / "ais"]
ARMOUR = bytes(range(48, 88)) + bytes(range(96, 120))
ROW_FIELDS = ("lat", "lon", "sog", "cog", "heading", "nav_status", "rot", "accuracy", "raim", "second")


def _data_lines() -> list[bytes]:
    lines: list[bytes] = []
    for root in DATA_DIRS:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            raw = path.read_bytes()
            try:
                if path.suffix == ".gz":
                    raw = gzip.decompress(raw)
                elif path.suffix == ".bz2":
                    raw = bz2.decompress(raw)
            except OSError:
                continue
            lines.extend(raw.splitlines())
    return lines


LINES = _data_lines()
PAYLOADS = sorted(set(re.findall(rb",([^,*]{28}),0\*", b"\n".join(LINES))))


def _same(a: object, b: object) -> bool:
    """Equal, of the same type, and for floats the same bits."""
    if a.__class__ is not b.__class__:
        return False
    return a.hex() == b.hex() if isinstance(a, float) else a == b  # type: ignore[attr-defined]


def _check_rows(payloads: list[bytes]) -> int:
    """Compares `class_a_rows` with `decode_message` on each payload; returns the Class A ones."""
    array = np.frombuffer(b"".join(payloads), dtype=np.uint8).reshape(len(payloads), 28)
    ok, rows = class_a_rows(array)
    assert ok.dtype == bool and len(ok) == len(payloads)
    assert len(rows) == int(ok.sum())
    row_of = iter(rows)
    for payload, is_class_a in zip(payloads, ok.tolist(), strict=True):
        result = decode_message(payload, 0, 12.5, "src", False, None, "A")
        expected = not isinstance(result, str) and result[0].msg_type in (1, 2, 3) and len(result) == 1
        assert is_class_a == expected, payload
        if not is_class_a:
            continue
        mmsi, msg_type, rest = next(row_of)
        report = result[0]
        assert isinstance(report, PositionReport)
        assert _same(mmsi, report.mmsi) and _same(msg_type, report.msg_type), payload
        for name, value in zip(ROW_FIELDS, rest, strict=True):
            assert _same(value, getattr(report, name)), (payload, name, value, getattr(report, name))
        built = PositionReport(12.5, mmsi, msg_type, "src", False, None, "A", "A", *rest)
        assert built == report
    return len(rows)


def test_real_payloads() -> None:
    assert len(PAYLOADS) > 500
    assert _check_rows(PAYLOADS) > 300


@pytest.mark.parametrize("seed", range(3))
def test_random_payloads(seed: int) -> None:
    rng = random.Random(seed)
    payloads = []
    for _ in range(20_000):
        p = bytearray(rng.choice(ARMOUR) for _ in range(28))
        if rng.random() < 0.8:
            p[0] = rng.choice(b"0123456")  # mostly types 1-3, and their neighbours
        if rng.random() < 0.05:
            p[rng.randrange(28)] = rng.randrange(256)  # not armour (or armour, by chance)
        payloads.append(bytes(p))
    _check_rows(payloads)


def _with_field(value: int, start: int, bits: int, msg_type: int = 1) -> bytes:
    """A type `msg_type` payload of random bits but `value` at bits `start`..`start + bits - 1`."""
    rng = random.Random(value * 1000 + start)
    v = rng.getrandbits(168)
    v &= ~(((1 << bits) - 1) << (168 - start - bits))
    v |= (value & ((1 << bits) - 1)) << (168 - start - bits)
    v = (v & ((1 << 162) - 1)) | (msg_type << 162)
    return bytes(ARMOUR[(v >> (162 - 6 * i)) & 63] for i in range(28))


def test_edge_values() -> None:
    payloads = []
    for t in (1, 2, 3):
        payloads += [_with_field(x, 8, 30, t) for x in (0, 1, 999_999_999, (1 << 30) - 1)]
    payloads += [_with_field(x, 38, 4) for x in range(16)]  # status
    payloads += [_with_field(x, 42, 8) for x in range(256)]  # rot
    payloads += [_with_field(x, 50, 10) for x in (0, 1, 1021, 1022, 1023)]  # sog
    lon = [0, 1, -1, 181 * 600000, 180 * 600000, 180 * 600000 + 1, -180 * 600000, -180 * 600000 - 1]
    payloads += [_with_field(x, 61, 28) for x in [*lon, (1 << 27) - 1, -(1 << 27)]]
    lat = [0, 1, -1, 91 * 600000, 90 * 600000, 90 * 600000 + 1, -90 * 600000, -90 * 600000 - 1]
    payloads += [_with_field(x, 89, 27) for x in [*lat, (1 << 26) - 1, -(1 << 26)]]
    payloads += [_with_field(x, 116, 12) for x in (0, 1, 3599, 3600, 4095)]  # cog
    payloads += [_with_field(x, 128, 9) for x in (0, 359, 360, 510, 511)]  # heading
    payloads += [_with_field(x, 137, 6) for x in range(64)]  # second
    payloads += [_with_field(x, 60, 1) for x in (0, 1)] + [_with_field(x, 148, 1) for x in (0, 1)]
    assert _check_rows(payloads) == len(payloads)


def _mutated(lines: list[bytes], seed: int, n: int) -> list[bytes]:
    rng = random.Random(seed)
    special = b"!$*,\\01AZazVDMO@ \t\r\x00\x85"
    out = []
    for _ in range(n):
        line = bytearray(rng.choice(lines))
        for _ in range(rng.randrange(0, 3)):
            i = rng.randrange(len(line) + 1)
            r = rng.random()
            if r < 0.5:
                line[i : i + 1] = bytes([rng.choice(special)])
            elif r < 0.75:
                line[i:i] = bytes([rng.choice(special)])
            else:
                del line[i : i + 1]
        out.append(bytes(line))
    return out


def _check_payloads(chunk: list[bytes]) -> None:
    raws, joined = lines_bytes(chunk)
    bounds = line_bounds(raws, joined)
    kinds = line_kinds(raws, joined, bounds)
    assert kinds == line_kinds(raws, joined)
    at, payloads = plain_payloads(bounds, kinds, 28)
    found = dict(zip(at.tolist(), (bytes(p) for p in payloads), strict=True))
    for i, raw in enumerate(raws):
        fields = plain_fields(raw) if kinds[i] == PLAIN else None
        if i in found:  # the line's payload field, where `feed_many` finds four fields
            assert kinds[i] == PLAIN and raw[-4:-3] == b"0", raw
            if len(raw[11:-3].split(b",")) == 4:
                assert fields is not None and fields[1] == found[i] and fields[2] == 0, raw
        else:  # not one of them
            assert fields is None or len(fields[1]) != 28 or fields[2] != 0, raw


def test_plain_payloads() -> None:
    plain = [line for line in LINES if line.startswith(b"!") and b"VDM,1,1," in line]
    _check_payloads(LINES)
    _check_payloads([*LINES[:3000], "!AIVDM,1,1,,B,17P@<J?P00blFWmjG@5a5?v62<10,0*24"])  # type: ignore[list-item]
    # (bytes and str mixed: the lines found by their lengths)
    for seed in range(3):
        _check_payloads(_mutated(plain, seed, 5000))
    _check_payloads([b"!AIVDM,1,1,,A,17P@<J?P00blFWmjG@5a5?v62<10,0*27"])
    _check_payloads([b"!AIVDM,1,1,,,17P@<J?P00blFWmjG@5a5?v62<10,0*6E", b""])


def test_feed_many_same_as_feed(caplog: pytest.LogCaptureFixture) -> None:
    """Reports, statistics and log messages of every data line fed in chunks, as `feed` gives them
    line by line (with receive times, the path of the chunk-at-once decode; and duplicates)."""
    lines = LINES + _mutated(LINES, 7, 3000)
    received = [1_700_000_000.0 + i * 0.25 for i in range(len(lines))]
    one, many = Ingest(), Ingest()
    with caplog.at_level(logging.INFO):
        expected = [r for i, line in enumerate(lines) for r in one.feed(line, "s", received[i], 5.0)]
        said = [(r.levelno, r.getMessage()) for r in caplog.records]
        caplog.clear()
        got = []
        for i in range(0, len(lines), 1000):
            got += many.feed_many(lines[i : i + 1000], "s", received[i : i + 1000], 5.0)
        assert [(r.levelno, r.getMessage()) for r in caplog.records] == said
    assert got == expected
    assert many.stats.as_dict() == one.stats.as_dict()
    assert sum(r.__class__ is PositionReport and r.ais_class == "A" for r in got) > 300


def test_feed_many_same_as_feed_text_lines() -> None:
    """The same with lines as text (a replay's or the benchmark's), without receive times on some."""
    lines = [line.decode("ascii") for line in LINES[:20_000] if line.isascii()]
    received = [None if i % 7 == 3 else 1_600_000_000.0 + i for i in range(len(lines))]
    one, many = Ingest(), Ingest()
    expected = [r for i, line in enumerate(lines) for r in one.feed(line, "s", received[i])]
    got = []
    for i in range(0, len(lines), 500):
        got += many.feed_many(lines[i : i + 500], "s", received[i : i + 500])
    assert got == expected
    assert many.stats.as_dict() == one.stats.as_dict()
