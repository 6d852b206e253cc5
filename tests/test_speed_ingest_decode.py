"""The decoder's faster formulas against the plain ones they replace: six-bit text read through
base64 (`_raw_text`) and a base station's UTC from a cached month start (`_base_station`)."""

from __future__ import annotations

import random
from calendar import timegm

from vts.decode import _SIX, _base_station, _raw_text


def _plain_text(v: int, size: int, start: int, nchars: int) -> str:
    chunk = (v >> (size - start - 6 * nchars)) & ((1 << (6 * nchars)) - 1)
    return "".join(_SIX[(chunk >> (6 * i)) & 63] for i in range(nchars - 1, -1, -1))


def test_raw_text_is_the_six_bit_characters() -> None:
    rng = random.Random(5)
    for _ in range(20_000):
        size = rng.randrange(6, 1100)
        nchars = rng.randrange(1, size // 6 + 1)
        start = rng.randrange(0, size - 6 * nchars + 1)
        v = rng.getrandbits(size)
        assert _raw_text(v, size, start, nchars) == _plain_text(v, size, start, nchars)
    for nchars in range(1, 30):  # every value of every character, every padding
        size = 6 * nchars
        for c in range(64):
            v = int("".join(format(c, "06b") for _ in range(nchars)), 2)
            assert _raw_text(v, size, 0, nchars) == _SIX[c] * nchars


def _base_station_bits(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    v = 4 << 162  # type 4, 168 bits
    for value, shift in ((year, 116), (month, 112), (day, 107), (hour, 102), (minute, 96), (second, 90)):
        v |= value << shift
    return v


def test_base_station_utc_is_timegm() -> None:
    rng = random.Random(6)
    cases = [
        (2024, 2, 29, 23, 59, 59),
        (2023, 2, 31, 0, 0, 0),
        (1970, 1, 1, 0, 0, 0),
        (2100, 12, 31, 23, 59, 59),
    ]
    cases += [
        (
            rng.randrange(1960, 2110),
            rng.randrange(0, 16),
            rng.randrange(0, 32),
            rng.randrange(0, 32),
            rng.randrange(0, 64),
            rng.randrange(0, 64),
        )
        for _ in range(20_000)
    ]
    for year, month, day, hour, minute, second in cases:
        v = _base_station_bits(year, month, day, hour, minute, second)
        (report,) = _base_station(v, 168, 4, 0, 0.0, "s", False, None, None)  # type: ignore[misc]
        valid = 1970 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60
        valid = valid and second < 60
        expected = float(timegm((year, month, day, hour, minute, second, 0, 0, 0))) if valid else None
        assert report.utc == expected and type(report.utc) is type(expected)


def test_base_station_position_is_latlon_of_signed_fields() -> None:
    from vts.decode import _latlon, _signed

    rng = random.Random(7)
    edges = [0, 1, 0x3FFFFFF, 0x4000000, 0x7FFFFFF, 54_000_000, 108_000_000, 0x8000000, 0xFFFFFFF]
    for i in range(40_000):
        v = rng.getrandbits(168)
        if i < len(edges) ** 2:  # every pair of edge values of lon (28 bits) and lat (27 bits)
            lon_raw, lat_raw = edges[i // len(edges)], edges[i % len(edges)] & 0x7FFFFFF
            v &= ~((0xFFFFFFF << 61) | (0x7FFFFFF << 34))
            v |= (lon_raw << 61) | (lat_raw << 34)
        (report,) = _base_station(v, 168, 4, 0, 0.0, "s", False, None, None)  # type: ignore[misc]
        expected = _latlon(_signed((v >> 34) & 0x7FFFFFF, 27), _signed((v >> 61) & 0xFFFFFFF, 28), 600000.0)
        assert (report.lat, report.lon) == expected
