"""Decode an assembled AIS message into a `vts.reports` record.

The payload is de-armoured into one integer (the base64 re-mapping pyais' bit vector uses, done in
C by binascii), then the fields vessel tracking needs are read straight from the bits: no second
sentence parse, no intermediate pyais message object. Field layouts follow ITU-R M.1371-5 (as documented at
https://gpsd.gitlab.io/gpsd/AIVDM.html); conformance tests check them against gpsd and libais.

* "Not available" and out-of-range values become None (lat 91 / lon 181 and anything outside
  +-90 / +-180, SOG 102.3, COG 360 and above, heading 511 and above 359, status 15, ROT -128).
* Text loses its '@' padding on both sides and stops at the first '@' after the text (gpsd cuts
  at the first '@'; a leading '@@' is padding, not the end of the string).
* Messages shorter than their type requires are dropped (`bad_length`); longer ones are read
  (extra bits ignored). Type 24 part numbers 2 and 3 are dropped (`type24_bad_part`).

`decode_message` returns a list of reports (two for type 19: position + static) or a drop reason.
It never raises.
"""

from __future__ import annotations

import logging
from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64
from calendar import timegm

import numpy as np

from vts.nmea import (
    BAD_LENGTH,
    EMPTY_PAYLOAD,
    INTERNAL_ERROR,
    MALFORMED,
    TYPE24_BAD_PART,
    UNDECODABLE,
    UNSUPPORTED_TYPE,
)
from vts.reports import (
    AidToNavReport,
    BaseStationReport,
    PositionReport,
    Report,
    SafetyReport,
    SarAircraftReport,
    StaticReport,
)

log = logging.getLogger(__name__)

# AIS payload armour ('0'-'W', '`'-'w' = 6-bit values 0-63) re-mapped onto the base64 alphabet, so
# binascii does the 6-to-8 bit repacking in C (the same trick as pyais' bit vector). Any other byte
# maps to '!', which strict base64 decoding rejects: an invalid payload character is an error,
# never silently skipped.
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ARMOUR_TO_B64 = bytes(
    _B64[c - 48] if 48 <= c <= 87 else _B64[c - 56] if 96 <= c <= 119 else 33 for c in range(256)
)
_B64_PAD = (b"", b"AAA", b"AA", b"A")


def payload_bits(payload: bytes, fill: int) -> tuple[int, int]:
    """(value, bit length) of an armoured payload; raises ValueError on a non-armour character."""
    rest = len(payload) & 3
    try:
        raw = a2b_base64(payload.translate(_ARMOUR_TO_B64) + _B64_PAD[rest], strict_mode=True)
    except Base64Error as err:
        raise ValueError("invalid payload character") from err
    value = int.from_bytes(raw, "big")
    length = len(payload) * 6
    if rest:
        value >>= 6 * (4 - rest)
    return value >> fill, length - fill


_SIX = tuple(chr(v + 64) if v < 32 else chr(v) for v in range(64))
"""AIS six-bit text: value -> character ('@', 'A'-'Z', ..., then ' ' to '?')."""
_B64_TO_TEXT = bytes(ord(_SIX[_B64.index(c)]) if c in _B64 else c for c in range(256))
"""A base64 character (the six-bit value it stands for) -> that value's AIS text character."""

# (minimum bits accepted, nominal size); messages between the two are zero-padded to the size.
# Types 1-3 of 163 bits are common in the wild (only the radio status is cut); gpsd accepts them.
_SIZES: dict[int, tuple[int, int]] = {
    1: (163, 168),
    2: (163, 168),
    3: (163, 168),
    4: (168, 168),
    11: (168, 168),
    5: (420, 424),
    9: (168, 168),
    18: (168, 168),
    19: (312, 312),
    27: (96, 96),
    24: (160, 168),
}
VESSEL_TYPES = frozenset((1, 2, 3, 5, 18, 19, 24, 27))


def clean_text(text: str) -> str | None:
    """Strip AIS '@' padding on both sides, stop at the next '@', strip spaces; None when empty."""
    text = text.lstrip("@ ")
    at = text.find("@")
    if at >= 0:
        text = text[:at]
    text = text.strip()
    return text or None


def _raw_text(v: int, size: int, start: int, nchars: int) -> str:
    """The `nchars` six-bit characters at bit `start` of the `size`-bit message `v`, unstripped."""
    # binascii cuts the bits into six-bit groups in C: their base64 characters are mapped to the
    # AIS text characters (one per group, most significant first, as `_SIX` reads them); the
    # chunk is shifted left to a whole number of bytes first (pad characters are cut off).
    pad = -nchars & 3
    chunk = (v >> (size - start - 6 * nchars)) & ((1 << (6 * nchars)) - 1)
    packed = (chunk << (6 * pad)).to_bytes((nchars + pad) * 3 // 4, "big")
    return b2a_base64(packed, newline=False)[:nchars].translate(_B64_TO_TEXT).decode("ascii")


def _text(v: int, size: int, start: int, nchars: int) -> str | None:
    return clean_text(_raw_text(v, size, start, nchars))


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def _latlon(lat_raw: int, lon_raw: int, scale: float) -> tuple[float | None, float | None]:
    lon = lon_raw / scale
    lat = lat_raw / scale
    if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
        return lat, lon
    return None, None


def _sog(raw: int) -> float | None:
    return None if raw == 1023 else raw / 10.0


def _cog(raw: int) -> float | None:
    return None if raw >= 3600 else raw / 10.0


def _heading(raw: int) -> int | None:
    return None if raw > 359 else raw


def _rot(raw: int) -> float | None:
    """Rate of turn in degrees per minute from the signed 8-bit ROT_AIS value (ROT = 4.733
    sqrt(rate)); -128 (not available) and +-127 (turning, no turn indicator) give None."""
    if raw in (-128, 127, -127):
        return None
    rate = (raw / 4.733) ** 2
    return round(-rate if raw < 0 else rate, 1)


_ROT_OF_BITS = tuple(_rot(b - 256 if b > 127 else b) for b in range(256))
"""Rate of turn for each unsigned 8-bit field value."""


def _dim(raw: int) -> int | None:
    return raw if raw else None


def decode_message(
    payload: bytes,
    fill: int,
    time: float,
    source: str,
    own_ship: bool = False,
    station: str | None = None,
    channel: str | None = None,
) -> list[Report] | str:
    """Decode one assembled message. Returns its reports, or a drop reason (never raises)."""
    if not payload:
        return EMPTY_PAYLOAD
    rest = len(payload) & 3
    try:  # payload_bits(), inlined: this runs for every message
        raw = a2b_base64(payload.translate(_ARMOUR_TO_B64) + _B64_PAD[rest], strict_mode=True)
    except Base64Error:
        return MALFORMED
    try:
        v = int.from_bytes(raw, "big")
        if rest:
            v >>= 6 * (4 - rest)
        v >>= fill
        length = len(payload) * 6 - fill
        if length < 38:
            return BAD_LENGTH
        msg_type = v >> (length - 6)
        spec = _SPECS.get(msg_type)
        if spec is None:
            return UNSUPPORTED_TYPE if 1 <= msg_type <= 27 else UNDECODABLE
        handler, minimum, size = spec
        if size:
            if length < minimum:
                return BAD_LENGTH
            if length > size:
                v >>= length - size
            elif length < size:
                v <<= size - length
            length = size
        mmsi = (v >> (length - 38)) & 0x3FFFFFFF
        # MMSI 0 is decoded like any other: a transmitter with no identity in the bay is exactly
        # what the invalid_mmsi rule reports (000000000 is a known dummy).
        return handler(v, length, msg_type, mmsi, time, source, own_ship, station, channel or None)
    except Exception:  # a bug must not stop a feed: log it, count the message
        log.exception("decoder failed on payload %r fill %d", payload[:200], fill)
        return INTERNAL_ERROR


def _class_a(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    # Hot path: positional arguments in PositionReport field order (a dataclass is slower
    # to build with keywords); tests check every field against gpsd and libais.
    x = (v >> 79) & 0xFFFFFFF
    y = (v >> 52) & 0x7FFFFFF
    lon: float | None = (x - 0x10000000 if x & 0x8000000 else x) / 600000.0
    lat: float | None = (y - 0x8000000 if y & 0x4000000 else y) / 600000.0
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):  # type: ignore[operator]
        lat = lon = None
    status = (v >> 126) & 15
    sog = (v >> 108) & 1023
    cog = (v >> 40) & 4095
    heading = (v >> 31) & 511
    second = (v >> 25) & 63
    return [
        PositionReport(
            time,
            mmsi,
            t,
            src,
            own,
            st,
            ch,
            "A",
            lat,
            lon,
            None if sog == 1023 else sog / 10.0,
            None if cog >= 3600 else cog / 10.0,
            None if heading > 359 else heading,
            None if status == 15 else status,
            _ROT_OF_BITS[(v >> 118) & 255],
            bool((v >> 107) & 1),
            bool((v >> 19) & 1),
            second if second < 60 else None,
        )
    ]


def _class_b(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    # Types 18 and 19 share the layout up to the second (bit 138).
    s = n - 168  # type 19 is longer: shift everything by its extra bits
    lat, lon = _latlon(
        _signed((v >> (s + 56)) & 0x7FFFFFF, 27), _signed((v >> (s + 83)) & 0xFFFFFFF, 28), 600000.0
    )
    second = (v >> (s + 29)) & 63
    raim = bool((v >> 20) & 1) if t == 18 else bool((v >> 6) & 1)
    position = PositionReport(
        time=time,
        mmsi=mmsi,
        msg_type=t,
        source=src,
        own_ship=own,
        station=st,
        channel=ch,
        ais_class="B",
        lat=lat,
        lon=lon,
        sog=_sog((v >> (s + 112)) & 1023),
        cog=_cog((v >> (s + 44)) & 4095),
        heading=_heading((v >> (s + 35)) & 511),
        nav_status=None,
        rot=None,
        accuracy=bool((v >> (s + 111)) & 1),
        raim=raim,
        second=second if second < 60 else None,
        class_b_cs=bool((v >> 26) & 1) if t == 18 else None,  # bit 141, "CS unit"
    )
    if t == 18:
        return [position]
    # type 19 (312 bits): name 143-262, ship type 263-270, dimensions 271-300
    static = StaticReport(
        time=time,
        mmsi=mmsi,
        msg_type=t,
        source=src,
        own_ship=own,
        station=st,
        channel=ch,
        ais_class="B",
        name=_text(v, n, 143, 20),
        ship_type=((v >> 41) & 255) or None,
        to_bow=_dim((v >> 32) & 511),
        to_stern=_dim((v >> 23) & 511),
        to_port=_dim((v >> 17) & 63),
        to_starboard=_dim((v >> 11) & 63),
    )
    return [position, static]


def _long_range(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    lat, lon = _latlon(_signed((v >> 17) & 0x1FFFF, 17), _signed((v >> 34) & 0x3FFFF, 18), 600.0)
    status = (v >> 52) & 15
    sog = (v >> 11) & 63
    cog = (v >> 2) & 511
    return [
        PositionReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            ais_class="A",
            lat=lat,
            lon=lon,
            sog=None if sog == 63 else float(sog),
            cog=None if cog >= 360 else float(cog),
            heading=None,
            nav_status=None if status == 15 else status,
            accuracy=bool((v >> 57) & 1),
            raim=bool((v >> 56) & 1),
        )
    ]


def _static_a(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    imo = (v >> 354) & 0x3FFFFFFF
    month = (v >> 146) & 15
    day = (v >> 141) & 31
    hour = (v >> 136) & 31
    minute = (v >> 130) & 63
    eta = None
    if 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60:
        eta = f"{month:02d}-{day:02d}T{hour:02d}:{minute:02d}"
    draught = (v >> 122) & 255
    return [
        StaticReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            ais_class="A",
            imo=imo or None,
            callsign=_text(v, n, 70, 7),
            name=_text(v, n, 112, 20),
            ship_type=((v >> 184) & 255) or None,
            to_bow=_dim((v >> 175) & 511),
            to_stern=_dim((v >> 166) & 511),
            to_port=_dim((v >> 160) & 63),
            to_starboard=_dim((v >> 154) & 63),
            draught=draught / 10.0 if draught else None,
            destination=_text(v, n, 302, 20),
            eta=eta,
        )
    ]


def _static_24(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    part = (v >> 128) & 3
    if part == 0:
        return [
            StaticReport(
                time=time,
                mmsi=mmsi,
                msg_type=t,
                source=src,
                own_ship=own,
                station=st,
                channel=ch,
                ais_class="B",
                part="A",
                name=_text(v, n, 40, 20),
            )
        ]
    if part != 1:
        return TYPE24_BAD_PART
    auxiliary = mmsi // 10_000_000 == 98
    mothership = (v >> 6) & 0x3FFFFFFF if auxiliary else None
    return [
        StaticReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            ais_class="B",
            part="B",
            ship_type=((v >> 120) & 255) or None,
            callsign=_text(v, n, 90, 7),
            to_bow=None if auxiliary else _dim((v >> 27) & 511),
            to_stern=None if auxiliary else _dim((v >> 18) & 511),
            to_port=None if auxiliary else _dim((v >> 12) & 63),
            to_starboard=None if auxiliary else _dim((v >> 6) & 63),
            mothership_mmsi=mothership or None,
        )
    ]


_MONTH_START: dict[int, int] = {}
"""UNIX time of the first of a month, by ``year * 16 + month`` (`_base_station`; at most 131 years)."""


def _base_station(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    # `_latlon` of the signed fields, inlined as in `_class_a` (a base station reports every 10 s)
    x = (v >> 61) & 0xFFFFFFF
    y = (v >> 34) & 0x7FFFFFF
    lon: float | None = (x - 0x10000000 if x & 0x8000000 else x) / 600000.0
    lat: float | None = (y - 0x8000000 if y & 0x4000000 else y) / 600000.0
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):  # type: ignore[operator]
        lat = lon = None
    year = (v >> 116) & 0x3FFF
    month = (v >> 112) & 15
    day = (v >> 107) & 31
    hour = (v >> 102) & 31
    minute = (v >> 96) & 63
    second = (v >> 90) & 63
    utc = None
    if (
        1970 <= year <= 2100
        and 1 <= month <= 12
        and 1 <= day <= 31
        and hour < 24
        and minute < 60
        and second < 60
    ):
        start = _MONTH_START.get(year * 16 + month)
        if start is None:
            start = _MONTH_START[year * 16 + month] = timegm((year, month, 1, 0, 0, 0, 0, 0, 0))
        # timegm's own sum (it counts days from the month's first: day 31 of a 30-day month is the 1st)
        utc = float(start + (day - 1) * 86_400 + hour * 3600 + minute * 60 + second)
    return [
        BaseStationReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            lat=lat,
            lon=lon,
            utc=utc,
        )
    ]


def _sar(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    lat, lon = _latlon(_signed((v >> 52) & 0x7FFFFFF, 27), _signed((v >> 79) & 0xFFFFFFF, 28), 600000.0)
    altitude = (v >> 118) & 4095
    sog = (v >> 108) & 1023
    return [
        SarAircraftReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            lat=lat,
            lon=lon,
            altitude=None if altitude == 4095 else altitude,
            sog=None if sog == 1023 else float(sog),
            cog=_cog((v >> 40) & 4095),
        )
    ]


def _aid(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    if n < 272:
        return BAD_LENGTH
    lat, lon = _latlon(
        _signed((v >> (n - 219)) & 0x7FFFFFF, 27), _signed((v >> (n - 192)) & 0xFFFFFFF, 28), 600000.0
    )
    name = _raw_text(v, n, 43, 20)
    ext_chars = (n - 272) // 6
    if ext_chars and not name.endswith("@"):  # a full name continues in the extension field
        name += _raw_text(v, n, 272, ext_chars)
    return [
        AidToNavReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            name=clean_text(name),
            aid_type=((v >> (n - 43)) & 31) or None,
            lat=lat,
            lon=lon,
            off_position=bool((v >> (n - 260)) & 1),
            virtual=bool((v >> (n - 270)) & 1),
        )
    ]


def _safety(
    v: int, n: int, t: int, mmsi: int, time: float, src: str, own: bool, st: str | None, ch: str | None
) -> list[Report] | str:
    start = 72 if t == 12 else 40
    if n < start:
        return BAD_LENGTH
    nchars = (n - start) // 6
    text = (_text(v, n, start, nchars) or "") if nchars else ""
    dest = (v >> (n - 70)) & 0x3FFFFFFF if t == 12 else None
    return [
        SafetyReport(
            time=time,
            mmsi=mmsi,
            msg_type=t,
            source=src,
            own_ship=own,
            station=st,
            channel=ch,
            text=text,
            dest_mmsi=dest or None,
        )
    ]


_HANDLERS = {
    1: _class_a,
    2: _class_a,
    3: _class_a,
    4: _base_station,
    5: _static_a,
    9: _sar,
    11: _base_station,
    12: _safety,
    14: _safety,
    18: _class_b,
    19: _class_b,
    21: _aid,
    24: _static_24,
    27: _long_range,
}

_SPECS = {t: (handler, *_SIZES.get(t, (0, 0))) for t, handler in _HANDLERS.items()}
"""Message type -> (handler, minimum bits, nominal bits; 0 = variable length)."""


_WINDOWS = np.r_[0:8, 7:15, 13:21]
"""Bytes 0-7, 7-14 and 13-20 of a 168-bit message: the 64-bit words of its bits 0-63, 56-119 and
104-167 (`class_a_rows`; each field of a Class A report lies whole in one of them)."""
_ROT_OBJECTS = np.array(_ROT_OF_BITS, dtype=object)


def class_a_rows(payloads: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, tuple[object, ...]]]]:
    """`_class_a` for many 28-character payloads (fill 0: 168 bits) at once, with numpy.

    `payloads` is a (lines, 28) uint8 array of armoured payloads (`vts.nmea.plain_payloads`).
    Returns which of them are Class A position reports (valid armour, type 1-3: what
    `decode_message` gives to `_class_a`; the others are left to it), and for each of those the
    values of `_class_a`'s report in `PositionReport` field order: ``(mmsi, msg_type, (lat, lon,
    sog, cog, heading, nav_status, rot, accuracy, raim, second))``. The same arithmetic in the same
    order as `_class_a`, so the same values to the bit (an int divided by a float is the same IEEE
    division in numpy; tests compare the two on real and random payloads)."""
    k = len(payloads)
    # de-armoured as `decode_message` does it, all payloads in one binascii call: 28 characters
    # are 21 whole bytes, so the payloads' bytes follow one another in the output
    text = payloads.tobytes().translate(_ARMOUR_TO_B64)
    valid = None
    if b"!" in text:  # a payload with a non-armour character: not decoded here (MALFORMED there)
        b64 = np.frombuffer(text, dtype=np.uint8).reshape(k, 28).copy()
        valid = ~(b64 == 33).any(axis=1)
        b64[~valid] = 65  # ('A': any valid character, the row is dropped below)
        text = b64.tobytes()
    raw = np.frombuffer(a2b_base64(text, strict_mode=True), dtype=np.uint8).reshape(k, 21)
    msg_type = raw[:, 0] >> 2
    ok = (msg_type >= 1) & (msg_type <= 3)
    if valid is not None:
        ok &= valid
    # three big-endian 64-bit words per message (`_WINDOWS`): bit i of the message is at shift
    # 63 - i of a, 119 - i of b and 167 - i of c (`_class_a` reads bit i at shift 167 - i)
    words = np.ascontiguousarray(raw[ok][:, _WINDOWS]).view(">u8").astype(np.int64)
    a, b, c = words[:, 0], words[:, 1], words[:, 2]
    x = (b >> 31) & 0xFFFFFFF  # lon: bits 61-88
    y = (b >> 4) & 0x7FFFFFF  # lat: bits 89-115
    lon = np.where(x & 0x8000000, x - 0x10000000, x) / 600000.0
    lat = np.where(y & 0x4000000, y - 0x8000000, y) / 600000.0
    no_fix = ~((-180.0 <= lon) & (lon <= 180.0) & (-90.0 <= lat) & (lat <= 90.0))
    status = (a >> 22) & 15
    sog = (a >> 4) & 1023
    cog = (c >> 40) & 4095
    heading = (c >> 31) & 511
    second = (c >> 25) & 63
    columns = (
        _or_none(lat, no_fix),
        _or_none(lon, no_fix),
        _or_none(sog / 10.0, sog == 1023),
        _or_none(cog / 10.0, cog >= 3600),
        _or_none(heading, heading > 359),
        _or_none(status, status == 15),
        _ROT_OBJECTS[(a >> 14) & 255].tolist(),
        ((a >> 3) & 1).astype(bool).tolist(),
        ((c >> 19) & 1).astype(bool).tolist(),
        _or_none(second, second >= 60),
    )
    mmsi = ((a >> 26) & 0x3FFFFFFF).tolist()
    return ok, list(zip(mmsi, msg_type[ok].tolist(), zip(*columns, strict=True), strict=True))


def _or_none(values: np.ndarray, none: np.ndarray) -> list[object]:
    """`values` as Python numbers, None where `none`."""
    out = values.astype(object)
    out[none] = None
    return out.tolist()
