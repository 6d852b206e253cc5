"""The sentence layer: one raw line in, AIS sentences with their metadata out. Pure, no I/O.

What a line may hold, all understood here:

* a plain sentence ``!AIVDM,1,1,,B,<payload>,0*hh`` (any two-character talker; ``VDO`` = own ship;
  ``$AIVDM``, which some receivers write instead of ``!``, is read as the same sentence, as pyais does);
* NMEA 4.0 tag blocks before it, ``\\c:<time>,s:<station>,g:<n>-<total>-<id>*hh\\`` (``c:`` in
  seconds or milliseconds; the older ``\\1G2:0125,...\\`` group form too);
* Gatehouse ``$PGHP`` lines, which give the time of the sentence(s) that follow;
* USCG / exactEarth metadata after the checksum: ``*hh,b003669794,1272412827`` or
  ``*hh,d-109,S2105,t...,T...,r003669946,<epoch>,<epoch>`` or ``*hh,<unix ms>``;
* a log-line prefix with an ISO-8601 or UNIX timestamp (``2024-05-01T12:00:00Z !AIVDM...``; also
  ``2024/05/01 12:00:00``, a ``UTC`` suffix, in brackets, or followed by ``:``);
* two or more sentences concatenated on one line, trailing junk after the checksum (``*73'``).

`parse_line` never raises: a line is turned into a `ParsedLine` that lists its AIS sentences and,
for every piece it could not use, an outcome (a drop reason, or an "ignored" kind for lines that are
not AIS and not errors: blank lines, comments, other NMEA sentences). `FragmentAssembler`
reassembles multi-sentence messages by (source, channel, sequence id, count) or by tag-block group,
ordered by fragment number, and expires incomplete groups after `FRAGMENT_TTL_S` of EVENT time.
"""

from __future__ import annotations

import logging
import re
from calendar import timegm
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import xor

import numpy as np

# -- outcomes ------------------------------------------------------------------------------------
# Drop reasons (lines or sentences that carried AIS, or tried to, and could not be used).
BAD_CHECKSUM = "bad_checksum"
MALFORMED = "malformed"
ORPHAN_FRAGMENT = "orphan_fragment"
EXPIRED_FRAGMENT = "expired_fragment"
UNDECODABLE = "undecodable"
UNSUPPORTED_TYPE = "unsupported_type"
EMPTY_PAYLOAD = "empty_payload"
BAD_LENGTH = "bad_length"
TYPE24_BAD_PART = "type24_bad_part"
INVALID_MMSI = "invalid_mmsi"
TOO_LONG = "too_long"
NON_ASCII = "non_ascii"
INTERNAL_ERROR = "internal_error"
"""A bug in this code met an input it did not expect: logged with the line, counted, never raised."""
DROP_REASONS = (
    BAD_CHECKSUM,
    MALFORMED,
    ORPHAN_FRAGMENT,
    EXPIRED_FRAGMENT,
    UNDECODABLE,
    UNSUPPORTED_TYPE,
    EMPTY_PAYLOAD,
    BAD_LENGTH,
    TYPE24_BAD_PART,
    INVALID_MMSI,
    TOO_LONG,
    NON_ASCII,
    INTERNAL_ERROR,
)

# Ignored kinds (not AIS, not an error).
BLANK = "blank"
COMMENT = "comment"
OTHER_NMEA = "other_nmea"
NOT_NMEA = "not_nmea"
METADATA = "metadata"
"""A line that only carries metadata for the next sentence ($PGHP, a lone tag block)."""

MAX_LINE_BYTES = 4096
"""Longer lines are dropped whole (`too_long`): no real AIS line comes near this."""
FRAGMENT_TTL_S = 10.0
"""Incomplete multi-sentence groups expire after this much event time ..."""
FRAGMENT_MIN_ARRIVALS = 4
"""... once at least this many later sentences of the source have arrived. Satellite feeds are not
in time order (a fragment's neighbour may be stamped minutes later); the fragments of one message
still arrive next to each other."""
MAX_PENDING_GROUPS = 1000
"""Per source: beyond this many incomplete groups the oldest is expired (bounded memory)."""
MIN_EPOCH = 315532800.0  # 1980-01-01
MAX_EPOCH = 4102444800.0  # 2100-01-01

_HEX: dict[bytes, int] = {}
for _i in range(256):
    _h = b"%02X" % _i
    for _a in (_h[:1], _h[:1].lower()):
        for _b in (_h[1:], _h[1:].lower()):
            _HEX[_a + _b] = _i
_SMALL_INT: dict[bytes, int] = {str(i).encode(): i for i in range(10)}
_FILL: dict[bytes, int] = {str(i).encode(): i for i in range(6)}
_WS = b" \t\r\n\x00"
log = logging.getLogger(__name__)
_LOG_TIME = re.compile(
    rb"^\s*[\[(]?(?:(?P<iso>\d{4}([-/])\d{2}\2\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
    rb"(?: ?(?:Z|UTC|[+-]\d{2}:?\d{2}))?)"
    rb"|(?P<epoch>\d{9,13}(?:\.\d{1,9})?))[\])]?[\s,;|:]+(?:-\s+)?"
)
_OLD_GROUP = re.compile(rb"^(\d+)G(\d+):(\w+)$")


@dataclass(slots=True)
class Sentence:
    """One checked AIS sentence (`!xxVDM` / `!xxVDO`) with the metadata found around it."""

    own_ship: bool
    count: int
    number: int
    seq_id: bytes
    channel: str
    payload: bytes
    fill: int
    time: float | None = None
    """Event time from the sentence's tag block `c:`, None when it had none."""
    station: str | None = None
    group: bytes | None = None
    """Tag-block group id (`g:` or `nGm:id`), when fragments are grouped that way."""
    late_time: float | None = None
    """Time from the metadata after the checksum (USCG, exactEarth) or a log-line prefix: a
    receive/forwarding time, so a preceding $PGHP time (the original reception) comes first."""


@dataclass(slots=True)
class ParsedLine:
    """What one line held. Every piece of the line is either a sentence or an outcome."""

    sentences: list[Sentence] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    """Drop reasons, one per unusable piece (a line with two bad sentences has two)."""
    ignored: str | None = None
    """Set when the line carried no AIS at all and that is not an error (blank, comment, ...)."""
    gatehouse_time: float | None = None
    """A $PGHP line (or a tag block alone on its line): the time of the AIS sentence that follows."""

    @property
    def items(self) -> int:
        """How many outcomes this line accounts for (a line with two sentences counts two)."""
        return len(self.sentences) + len(self.drops) + (1 if self.ignored else 0)


# -- helpers -------------------------------------------------------------------------------------
def nmea_checksum(body: bytes) -> int:
    """XOR of the bytes between the start delimiter and '*'."""
    return reduce(xor, body, 0)


def _epoch(value: bytes) -> float | None:
    """A UNIX time in seconds or milliseconds (13 digits), None when not plausible."""
    try:
        t = float(value)
    except ValueError:
        return None
    if t > 1e11:
        t /= 1000.0
    if MIN_EPOCH <= t <= MAX_EPOCH:
        return t
    return None


def _iso(value: bytes) -> float | None:
    text = value.decode("ascii").replace("/", "-").replace(",", ".")
    for utc in (" UTC", "UTC", " Z", "Z"):
        if text.endswith(utc):
            text = text[: -len(utc)] + "+00:00"
            break
    text = text.replace(" ", "T", 1).replace(" ", "")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        t = float(timegm(dt.timetuple())) + dt.microsecond / 1e6
    else:
        t = dt.timestamp()
    return t if MIN_EPOCH <= t <= MAX_EPOCH else None  # a corrupt year is no event time


def _parse_tag_block(block: bytes, out: dict[str, object]) -> None:
    """Fill `out` with time/station/group from a tag block body (between the backslashes).

    A tag block whose checksum is present and wrong is not trusted (its fields are ignored); ``*00``
    is taken as "no checksum" (the AMSA feed writes it).
    """
    star = block.rfind(b"*")
    if star >= 0:
        given = _HEX.get(block[star + 1 : star + 3])
        content = block[:star]
        if given is None or (given != 0 and given != nmea_checksum(content)):
            out["tag_bad"] = True
            return
    else:
        content = block
    for part in content.split(b","):
        key, sep, value = part.partition(b":")
        if not sep:
            continue
        if key == b"c":
            t = _epoch(value)
            if t is not None:
                out["time"] = t
        elif key == b"s":
            out["station"] = value.decode("ascii", "replace")
        elif key == b"g":
            bits = value.split(b"-", 2)
            if len(bits) == 3 and bits[2]:
                out["group"] = bits[2]
        else:
            m = _OLD_GROUP.match(part)
            if m:
                out["group"] = m.group(3)


def _parse_trailer(trailer: bytes, out: dict[str, object]) -> None:
    """USCG / exactEarth metadata after the checksum: station ids and a UNIX time (s or ms)."""
    for f in trailer.split(b","):
        if not f:
            continue
        if f.isdigit() or (f[:1].isdigit() and f.replace(b".", b"", 1).isdigit()):
            if "late_time" not in out:
                t = _epoch(f)
                if t is not None:
                    out["late_time"] = t
        elif f[:1] in (b"r", b"b") and f[1:].isdigit() and "station" not in out:
            out["station"] = f.decode("ascii")


def _gatehouse_time(fields: list[bytes]) -> float | None:
    """$PGHP,1,<year>,<month>,<day>,<hour>,<minute>,<second>,<ms>,..."""
    try:
        if fields[1] != b"1":
            return None
        y, mo, d, h, mi, s, ms = (int(x) for x in fields[2:9])
        t = float(timegm((y, mo, d, h, mi, s, 0, 0, 0))) + ms / 1000.0
    except (ValueError, IndexError, OverflowError):
        return None
    if not (1 <= mo <= 12 and 1 <= d <= 31 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 60):
        return None
    return t if MIN_EPOCH <= t <= MAX_EPOCH else None


# -- the parser ----------------------------------------------------------------------------------
def parse_plain(line: bytes | str) -> tuple[bool, bytes, int, str] | None:
    """Fast path for the commonest line: one plain single-sentence message, checksum valid.

    Returns (own_ship, payload, fill bits, channel), or None when the line is anything else (then
    `parse_line` handles it, including a bad checksum). Never raises.
    """
    raw = line_bytes(line)
    return None if raw is None else plain_fields(raw)


def line_bytes(line: bytes | str) -> bytes | None:
    """The line as bytes without its line end; None for a str that is not ASCII (no NMEA line)."""
    if line.__class__ is str:
        if not line.isascii():  # type: ignore[union-attr]
            return None
        raw: bytes = line.encode()  # type: ignore[union-attr]
    else:
        raw = line  # type: ignore[assignment]
    if raw[-1:] in (b"\n", b"\r"):
        raw = raw.rstrip(b"\r\n")
    return raw


def plain_fields(raw: bytes) -> tuple[bool, bytes, int, str] | None:
    """`parse_plain` of a line already in bytes without its line end (`line_kinds` makes the same
    tests for a whole chunk)."""
    n = len(raw)
    if (
        n < 20
        or n > MAX_LINE_BYTES
        or raw[0] != 33
        or raw[n - 3] != 42
        or raw[6] != 44
        or raw[7:11] != b"1,1,"
    ):  # '!' '*' ','
        return None
    fields = raw[11 : n - 3].split(b",")
    if len(fields) != 4 or raw[3:6] not in (b"VDM", b"VDO"):
        return None
    fill = _FILL.get(fields[3])
    if fill is None:
        return None
    if _HEX.get(raw[n - 2 :]) != reduce(xor, raw[1 : n - 3], 0):
        return None
    return raw[5] == 79, fields[2], fill, channel_name(fields[1])


CHANNEL_NAMES = {b"A": "A", b"B": "B", b"1": "1", b"2": "2", b"": "", b"C": "C", b"D": "D"}
"""The usual radio channel fields as text (`channel_name`)."""


def channel_name(channel: bytes) -> str:
    """A sentence's radio channel field as text (the usual ones without decoding)."""
    return CHANNEL_NAMES.get(channel) or channel.decode("ascii", "replace")


_HEX_DIGIT = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX_DIGIT[_c] = _i
    _HEX_DIGIT[bytes([_c]).lower()[0]] = _i
_UPPER = np.zeros(256, dtype=bool)
_UPPER[ord("A") : ord("Z") + 1] = True
_ALNUM = _UPPER.copy()
_ALNUM[ord("0") : ord("9") + 1] = True
_PAD = b"\n" * 12
"""After a chunk's joined lines: `line_kinds` reads up to 11 bytes past a line's start."""

_VDM_11 = np.frombuffer(b"VDM,1,1,", dtype=np.uint64)[0]
_VDO_11 = np.frombuffer(b"VDO,1,1,", dtype=np.uint64)[0]
"""raw[3:11] of a plain sentence, read as one number (`line_kinds`)."""

OTHER = 0
"""`line_kinds`: a line that needs `parse_line`."""
PLAIN = 1
"""`line_kinds`: a line `plain_fields` takes, checksum included
(``!xxVDM,1,1,<seq>,<channel>,<payload>,<fill>*hh``)."""
OTHER_NMEA_LINE = 2
"""`line_kinds`: a line that `parse_line` reads as another NMEA sentence (`OTHER_NMEA`, ignored)."""


def lines_bytes(lines: list[str] | list[bytes]) -> tuple[list[bytes], bytes | None]:
    """`line_bytes` of every line (b"" where it gives None), for a whole chunk in a few C calls
    when the chunk allows it (all ASCII str or all bytes); else line by line. Also returns the
    lines joined by "\\n" when no line holds one (`line_kinds` then finds its lines by them)."""
    if not lines:
        return [], b""
    try:
        if lines[0].__class__ is str:
            text = "\n".join(lines)  # type: ignore[arg-type]
            if not text.isascii():  # (`line_bytes` gives None for such a str line)
                raise TypeError
            buf = text.encode()
        else:
            buf = b"\n".join(lines)  # type: ignore[arg-type]
    except TypeError:  # bytes and str mixed, or non-ASCII text
        return [line_bytes(line) or b"" for line in lines], None
    raws = buf.split(b"\n")
    if len(raws) != len(lines):  # a line holds a line end: `line_bytes` strips only trailing ones
        return [line_bytes(line) or b"" for line in lines], None
    if b"\r" in buf:  # (no line holds "\n": stripping trailing "\r\n" is stripping "\r")
        raws = [raw.rstrip(b"\r") if raw[-1:] == b"\r" else raw for raw in raws]
        buf = b"\n".join(raws)
    return raws, buf


LineBounds = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(bytes, starts, ends) of a chunk's lines (`line_bounds`)."""


def line_bounds(raws: list[bytes], joined: bytes | None = None) -> LineBounds:
    """The chunk's lines (`line_bytes`, `lines_bytes`) joined by "\\n" as a uint8 array (with
    `_PAD` after them), and where each line starts and ends in it (`line_kinds`, `plain_payloads`);
    `joined`: the lines already joined, when none holds a "\\n" (`lines_bytes`)."""
    m = len(raws)
    if joined is None:
        joined = b"\n".join(raws)
        lens = np.fromiter(map(len, raws), dtype=np.int64, count=m)
        starts = np.zeros(m, dtype=np.int64)
        np.cumsum(lens[:-1] + 1, out=starts[1:])
        ends = starts + lens
        buf = np.frombuffer(joined + _PAD, dtype=np.uint8)
    else:
        buf = np.frombuffer(joined + _PAD, dtype=np.uint8)
        ends = np.flatnonzero(buf[: len(joined) + 1] == 10)  # (the pad's first "\n" ends the last line)
        starts = np.zeros(m, dtype=np.int64)
        starts[1:] = ends[:-1] + 1
    return buf, starts, ends


def plain_payloads(bounds: LineBounds, kinds: bytes, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The `PLAIN` lines (`line_kinds`) whose payload is `width` characters with fill 0 (no comma
    in it: ``...,<payload>,0*hh``): their indices, and their payloads as a (lines, width) uint8
    array (`Ingest.feed_many` decodes the Class A position reports among them at once). Where such
    a line has four fields after ``1,1,`` (the caller's test), its payload field is this one."""
    buf, starts, ends = bounds
    plain = np.flatnonzero(np.frombuffer(kinds, dtype=np.int8) == PLAIN)
    e = ends[plain]
    # `line_kinds` saw a one-character fill: test that it is '0' and that a comma opens the payload
    ok = (buf[e - 4] == 48) & (e - starts[plain] >= 11 + width + 6) & (buf[e - 6 - width] == 44)
    lines = plain[ok]
    payloads = buf[(e[ok] - 5 - width)[:, None] + np.arange(width)]
    no_comma = ~(payloads == 44).any(axis=1)
    return lines[no_comma], payloads[no_comma]


def line_kinds(raws: list[bytes], joined: bytes | None = None, bounds: LineBounds | None = None) -> bytes:
    """For each line (`line_bytes`), which of `PLAIN`, `OTHER_NMEA_LINE` or `OTHER` it is, for all
    lines at once (`Ingest.feed_many`); `joined`: the lines joined by "\\n" when none holds one
    (`lines_bytes`); `bounds`: their `line_bounds`, when the caller has them.

    `PLAIN` where `plain_fields` makes all its tests but one (done vectorised, the checksum
    included): the line has the form ``!xxVDM,1,1,...,<fill>*hh`` but its fields after ``1,1,`` may
    not be exactly four (``<seq>,<channel>,<payload>,<fill>``): the caller, which splits them,
    tests that. `OTHER_NMEA_LINE` exactly where `parse_line` returns ``ignored=OTHER_NMEA`` from
    its quick test of a ``$`` line (`_other_nmea`). The kinds are returned as bytes (one per line:
    an int when indexed)."""
    m = len(raws)
    if m == 0:
        return b""
    buf, starts, ends = bounds if bounds is not None else line_bounds(raws, joined)
    lens = ends - starts
    kinds = np.zeros(m, dtype=np.int8)
    first = buf[starts]
    fits = lens <= MAX_LINE_BYTES
    # -- plain: '!xxVD[MO],1,1,' ... ',<0-5>*hh', checksum valid
    ok = (first == 33) & (lens >= 20) & fits
    if ok.any():
        s, e = starts[ok], ends[ok]
        # the eight bytes at each offset, as one number (unaligned, the machine's byte order: the
        # view's bytes are read back in the buffer's order below)
        words = np.ndarray((len(buf) - 7,), dtype=np.uint64, buffer=buf, strides=(1,))
        head = words[s + 3]  # raw[3:11]
        tail = words[e - 5].view(np.uint8).reshape(-1, 8)  # raw[n-5:n] (and 3 bytes after)
        edges = np.empty(2 * len(s), dtype=np.int64)
        edges[0::2] = s + 1
        edges[1::2] = e - 3
        xor = np.bitwise_xor.reduceat(buf, edges)[0::2]
        hi = _HEX_DIGIT[tail[:, 3]]
        lo = _HEX_DIGIT[tail[:, 4]]
        fill = tail[:, 1]
        good = (
            ((head == _VDM_11) | (head == _VDO_11))
            & (tail[:, 2] == 42)  # '*'
            & (tail[:, 0] == 44)  # the fill is one character ...
            & (fill >= 48)
            & (fill <= 53)  # ... '0' to '5'
            & (hi >= 0)
            & (lo >= 0)
            & (xor == hi * 16 + lo)
        )
        ok[ok] = good
        kinds[ok] = PLAIN
    # -- another NMEA sentence: what `_parse_line` tests before it reads a '$' line any further
    dollar = (first == 36) & (lens >= 5) & fits
    if dollar.any():
        s, e = starts[dollar], ends[dollar]
        w = buf[s[:, None] + np.arange(1, 12)]  # raw[1:12] (the pad covers the last line)
        alnum = _ALNUM[w]
        # `_NMEA_ADDRESS` matches at 1 iff raw[1] is a capital and the first byte after it that is
        # neither a capital nor a digit is a comma at raw[4:12] (w[3:11]): the byte at the line's end
        # ("\n") is neither, so nothing past the line is read as its own
        j = np.argmin(alnum[:, 1:], axis=1) + 1
        address = _UPPER[w[:, 0]] & (j >= 3) & (j <= 10) & (w[np.arange(len(s)), j] == 44)
        marks = np.flatnonzero((buf == 33) | (buf == 92))  # '!' or '\\'
        clean = np.searchsorted(marks, s) == np.searchsorted(marks, e)  # none in the line
        pghp = (w[:, 0] == 80) & (w[:, 1] == 71) & (w[:, 2] == 72) & (w[:, 3] == 80)
        vdm = (w[:, 2] == 86) & (w[:, 3] == 68) & ((w[:, 4] == 77) | (w[:, 4] == 79))
        dollar[dollar] = address & clean & ~pghp & ~vdm
        kinds[dollar] = OTHER_NMEA_LINE
    return kinds.tobytes()


def parse_line(line: bytes | str) -> ParsedLine:
    """Split one raw line into checked AIS sentences and outcomes. Never raises."""
    try:
        return _parse_line(line)
    except Exception:  # a bug must not stop a feed: log it, count the line
        log.exception("sentence layer failed on %r", line[:300])
        return ParsedLine(drops=[INTERNAL_ERROR])


def _parse_line(line: bytes | str) -> ParsedLine:
    if isinstance(line, str):  # (MQTT, text input): read as the same line in bytes would be
        raw = line.encode("utf-8", "surrogatepass")
    else:
        raw = line
    raw = raw.strip(_WS)
    if not raw:
        return ParsedLine(ignored=BLANK)
    if len(raw) > MAX_LINE_BYTES:
        return ParsedLine(drops=[TOO_LONG])
    first = raw[0]
    if first == 33 and raw[6:7] == b"," and raw[3:6] in (b"VDM", b"VDO"):  # fast path: '!xxVDM,'
        star = raw.find(b"*")
        if star > 0 and len(raw) == star + 3:
            result = ParsedLine()
            _one_sentence(raw, star, None, result, None, None)
            return result
    if first == 35:  # '#'
        return ParsedLine(ignored=COMMENT) if _is_text(raw) else ParsedLine(drops=[NON_ASCII])
    if first == 36 and _other_nmea(raw):
        return ParsedLine(ignored=OTHER_NMEA)  # '$GPGGA...' and friends: common, not AIS
    if not raw.isascii() and b"!" not in raw and b"$" not in raw:
        return ParsedLine(drops=[NON_ASCII])  # binary junk or mojibake with no sentence in it
    result = ParsedLine()
    log_time: float | None = None
    pos = 0
    if first not in (33, 36, 92):  # not '!', '$', '\'
        m = _LOG_TIME.match(raw)
        if m:
            log_time = _iso(m.group("iso")) if m.group("iso") else _epoch(m.group("epoch"))
            pos = m.end()
        else:
            starts = [i for i in (raw.find(b"!"), raw.find(b"\\"), raw.find(b"$")) if i >= 0]
            if not starts:
                return ParsedLine(ignored=NOT_NMEA) if raw.isascii() else ParsedLine(drops=[NON_ASCII])
            pos = min(starts)
    _scan(raw, pos, log_time, result)
    if not result.items:
        result.ignored = METADATA
    return result


def _scan(raw: bytes, pos: int, log_time: float | None, result: ParsedLine) -> None:
    """Parse the sentence groups of a line from `pos`: [tag block] sentence [trailer], repeated."""
    n = len(raw)
    while pos < n:
        meta: dict[str, object] = {}
        # tag block(s)
        while pos < n and raw[pos] == 92:  # '\'
            end = raw.find(b"\\", pos + 1)
            if end < 0:
                result.drops.append(MALFORMED)
                return
            _parse_tag_block(raw[pos + 1 : end], meta)
            pos = end + 1
        if pos >= n:
            if meta and not result.sentences and not result.drops:
                result.ignored = METADATA
                t = meta.get("time")
                if t is not None:  # a tag block on a line of its own times the next sentence
                    result.gatehouse_time = t  # type: ignore[assignment]
            return
        start_char = raw[pos]
        if start_char not in (33, 36):  # neither '!' nor '$': skip junk up to the next sentence
            nxt = _next_start(raw, pos + 1)
            if nxt < 0:
                if not result.sentences and not result.drops:
                    result.drops.append(MALFORMED)
                return
            pos = nxt
            continue
        star = raw.find(b"*", pos)
        nxt_start = _next_start(raw, pos + 1)
        if star < 0 or (0 <= nxt_start < star):
            # no checksum before the next sentence begins: this one is cut short
            if raw[pos] == 33 or raw.startswith(b"$PGHP", pos) or raw[pos + 3 : pos + 6] in (b"VDM", b"VDO"):
                result.drops.append(MALFORMED)
            elif not result.sentences and not result.drops:
                _not_ais(raw, pos, result)
            if nxt_start < 0:
                return
            pos = nxt_start
            continue
        end = star + 3
        trailer_end = _next_start(raw, end)
        trailer = raw[end : trailer_end if trailer_end >= 0 else n]
        if trailer.startswith(b","):
            _parse_trailer(trailer[1:], meta)
        if "late_time" not in meta and log_time is not None:
            meta["late_time"] = log_time
        sentence = raw[pos:end]
        if start_char == 36 and sentence[3:6] not in (b"VDM", b"VDO"):  # '$', not '$AIVDM'
            if sentence.startswith(b"$PGHP"):
                fields = sentence[1 : len(sentence) - 3].split(b",")
                if _HEX.get(sentence[-2:]) != nmea_checksum(sentence[1:-3]):
                    result.drops.append(BAD_CHECKSUM)
                else:
                    t = _gatehouse_time(fields)
                    if t is None:
                        result.drops.append(MALFORMED)
                    else:
                        result.gatehouse_time = t
            elif not result.sentences and not result.drops and result.ignored is None:
                _not_ais(raw, pos, result)
        elif sentence[3:6] in (b"VDM", b"VDO") and sentence[6:7] == b",":
            _one_sentence(
                sentence,
                star - pos,
                meta.get("time"),  # type: ignore[arg-type]
                result,
                meta.get("station"),  # type: ignore[arg-type]
                meta.get("group"),  # type: ignore[arg-type]
                meta.get("late_time"),  # type: ignore[arg-type]
            )
        elif not result.sentences and not result.drops and result.ignored is None:
            _not_ais(raw, pos, result)
        if trailer_end < 0:
            return
        pos = trailer_end


_NMEA_ADDRESS = re.compile(rb"[A-Z][A-Z0-9]{2,9},")
"""What follows the '$' of an NMEA sentence: its address (talker and type, GPGGA; or a proprietary one of any
length, PSHI, PAIS)."""


def _other_nmea(raw: bytes) -> bool:
    """A '$' line (stripped) that is another NMEA sentence and nothing else: no AIS in it, not
    $PGHP (`line_kinds` makes the same test for a whole chunk)."""
    return (
        raw[1:5] != b"PGHP"
        and raw[3:6] not in (b"VDM", b"VDO")
        and b"!" not in raw
        and b"\\" not in raw
        and _NMEA_ADDRESS.match(raw, 1) is not None
    )


def _is_text(raw: bytes) -> bool:
    """ASCII, or UTF-8 (a comment may name a place); random bytes hardly ever decode."""
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_ais(raw: bytes, pos: int, result: ParsedLine) -> None:
    """A line whose only sentence at `pos` is not AIS: another NMEA sentence (`$GPGGA,...`, ignored),
    else text that is not NMEA (ignored), else binary junk (dropped: a broken feed)."""
    if _NMEA_ADDRESS.match(raw, pos + 1):
        result.ignored = OTHER_NMEA
    elif raw.isascii():
        result.ignored = NOT_NMEA
    else:
        result.drops.append(NON_ASCII)


def _next_start(raw: bytes, pos: int) -> int:
    """Index of the next '!', '$' or '\\' at or after pos, -1 when none."""
    best = -1
    for ch in (b"!", b"\\", b"$"):
        i = raw.find(ch, pos)
        if i >= 0 and (best < 0 or i < best):
            best = i
    return best


def _one_sentence(
    sentence: bytes,
    star: int,
    time: float | None,
    result: ParsedLine,
    station: str | None,
    group: bytes | None,
    late_time: float | None = None,
) -> None:
    """Check one `!xxVDM...*hh` (or `$xxVDM...*hh`) sentence (star = index of '*') and append it or a
    drop reason."""
    fields = sentence[1:star].split(b",")
    if len(fields) != 7:
        result.drops.append(MALFORMED)
        return
    given = _HEX.get(sentence[star + 1 : star + 3])
    if given is None:
        result.drops.append(MALFORMED)
        return
    if given != reduce(xor, sentence[1:star], 0):
        result.drops.append(BAD_CHECKSUM)
        return
    _tag, count_f, number_f, seq_id, channel, payload, fill_f = fields
    count = _SMALL_INT.get(count_f)
    number = _SMALL_INT.get(number_f)
    fill = _FILL.get(fill_f)
    if count is None or number is None or fill is None or not 1 <= number <= count or count == 0:
        result.drops.append(MALFORMED)
        return
    result.sentences.append(
        Sentence(
            sentence[5] == 79,  # 'O' of VDO
            count,
            number,
            seq_id,
            channel.decode("ascii", "replace"),
            payload,
            fill,
            time,
            station,
            group,
            late_time,
        )
    )


# -- multi-sentence reassembly -------------------------------------------------------------------
@dataclass(slots=True)
class Message:
    """An assembled AIS message: the payload of all its sentences in fragment order."""

    own_ship: bool
    channel: str
    payload: bytes
    fill: int
    time: float
    station: str | None
    sentences: int
    """How many sentences it was made of (for line accounting)."""


@dataclass(slots=True)
class _Group:
    count: int
    parts: dict[int, Sentence]
    time: float
    explicit: bool
    started: float
    arrival: int
    latest: int
    """Arrivals on its channel when its latest fragment came (`FragmentAssembler._adjacent`)."""


_GroupKey = tuple[bytes | str, bytes | None, int, str | None]
"""(channel, sequence id, count, station), or (b"g", tag-block group id, count, station)."""


class FragmentAssembler:
    """Reassembles the multi-sentence messages of ONE source.

    Fragments are keyed by tag-block group when there is one, else by (channel, sequence id,
    count), and by the station that heard them: in one aggregated feed, two receivers' messages
    under the same sequence id are two messages. A fragment that names no station joins the newest
    matching group of any station (feeds often tag only a message's first sentence). They are
    joined in fragment-number order whatever order they arrived in, with one limit where no
    tag-block group says which message a fragment is of: a fragment numbered lower than one already
    waiting joins it only when it came right after it on its channel (a ship sends the fragments of
    a message in consecutive slots; two fragments swapped in a merged log stay next to each other).
    Otherwise it is the next message under the same sequence id (a channel's sequence ids are
    shared by every ship on it, and a ship's fragment 1 lost to reception happens all the time):
    the waiting fragments are orphans, never spliced to another ship's. A group still incomplete
    `ttl` seconds of event time after its first fragment expires; a fragment number seen twice in a
    group (with another payload) means the first copy can never complete (its fragments are orphans).

    With `drop_copies`, a fragment that repeats one already heard under its key, payload for
    payload, within `ttl` (the one waiting in its group, or the same fragment of the message just
    completed: a log with every line twice, a feed that forwards a message again) is a copy: counted
    apart and not used, so it can neither orphan its message nor wait to be spliced to the next.

    Outcomes are reported in sentences: `add` returns (message or None, [(reason, n_sentences)],
    copies).
    """

    def __init__(
        self,
        ttl: float = FRAGMENT_TTL_S,
        max_groups: int = MAX_PENDING_GROUPS,
        min_arrivals: int = FRAGMENT_MIN_ARRIVALS,
        drop_copies: bool = True,
    ) -> None:
        self.ttl = ttl
        self.max_groups = max_groups
        self.min_arrivals = min_arrivals
        self.drop_copies = drop_copies
        self.groups: dict[_GroupKey, _Group] = {}
        """Incomplete groups by key, oldest first (read-only outside this class)."""
        self._arrivals = 0
        """Sentences seen while groups were pending (expire() is called once per sentence)."""
        self._arrivals_on: dict[str, int] = {}
        """The same, per radio channel (`_adjacent`)."""
        self._completed: dict[_GroupKey, tuple[float, list[bytes]]] = {}
        """Per key, the time and fragment payloads of the message last completed under it, oldest
        first (for `drop_copies`; kept `ttl` seconds, at most `max_groups` keys)."""

    @property
    def pending_sentences(self) -> int:
        return sum(len(g.parts) for g in self.groups.values())

    def __len__(self) -> int:
        return len(self.groups)

    def add(
        self, s: Sentence, time: float, explicit: bool
    ) -> tuple[Message | None, list[tuple[str, int]], int]:
        """One sentence of a multi-sentence message (count > 1), at event time `time`."""
        drops: list[tuple[str, int]] = []
        own: _GroupKey = (
            (b"g", s.group, s.count, s.station)
            if s.group is not None
            else (s.channel, s.seq_id, s.count, s.station)
        )
        key = own
        group = self.groups.get(key)
        if group is None:
            key = self._untagged_match(own)
            group = self.groups.get(key)
        if self.drop_copies and self._is_copy(s, key, group, time):
            return None, drops, 1
        if group is not None and (
            s.number in group.parts
            or (s.group is None and s.number < max(group.parts) and not self._adjacent(group, s.channel))
        ):
            del self.groups[key]
            drops.append((ORPHAN_FRAGMENT, len(group.parts)))
            group = None
            key = own
        if group is None:
            if len(self.groups) >= self.max_groups:
                oldest = next(iter(self.groups))
                drops.append((EXPIRED_FRAGMENT, len(self.groups.pop(oldest).parts)))
            group = _Group(s.count, {}, time, explicit, time, self._arrivals, 0)
            self.groups[key] = group
        elif explicit and not group.explicit:
            group.time = time
            group.explicit = True
        group.latest = self._arrivals_on.get(s.channel, 0)
        group.parts[s.number] = s
        if len(group.parts) < group.count:
            return None, drops, 0
        del self.groups[key]
        parts = [group.parts[i] for i in range(1, group.count + 1)]
        if self.drop_copies:
            self._remember(key, time, [p.payload for p in parts])
        station = next((p.station for p in parts if p.station), None)
        message = Message(
            parts[0].own_ship,
            parts[0].channel,
            b"".join(p.payload for p in parts),
            parts[-1].fill,
            group.time,
            station,
            group.count,
        )
        return message, drops, 0

    def _adjacent(self, group: _Group, channel: str) -> bool:
        """The sentence being added came right after the group's latest fragment on its channel
        (`expire`, which counts the arrivals, runs before each `add` while a group waits)."""
        return self._arrivals_on.get(channel, 0) == group.latest + 1

    def _is_copy(self, s: Sentence, key: _GroupKey, group: _Group | None, time: float) -> bool:
        """`s` repeats, payload for payload, the fragment of its number waiting in `group`, or that
        of the message completed under `key` less than `ttl` before (see the class docstring)."""
        if group is not None:
            waiting = group.parts.get(s.number)
            return waiting is not None and waiting.payload == s.payload
        done = self._completed.get(key)
        return (
            done is not None
            and abs(time - done[0]) < self.ttl
            and s.number <= len(done[1])
            and done[1][s.number - 1] == s.payload
        )

    def _remember(self, key: _GroupKey, time: float, payloads: list[bytes]) -> None:
        completed = self._completed
        completed.pop(key, None)
        completed[key] = (time, payloads)
        limit = time - self.ttl
        while completed:
            oldest = next(iter(completed))
            if len(completed) <= self.max_groups and completed[oldest][0] >= limit:
                break
            del completed[oldest]

    def _untagged_match(self, own: tuple[bytes | str, bytes | None, int, str | None]) -> _GroupKey:
        """The newest pending group `own` may belong to although its station differs: one side names
        no station (many feeds tag only a message's first sentence). Fragments that name two
        different stations never join, so an aggregated feed's receivers are not spliced together.
        Returns `own` when there is none."""
        base, station = own[:3], own[3]
        for key in reversed(self.groups):
            if key[:3] == base and (station is None or key[3] is None):
                return key
        return own

    def expire(self, now: float, channel: str = "") -> int:
        """Call once per sentence of the source, at its event time `now`, with its radio channel:
        drops the groups that started more than the TTL ago (and have waited through `min_arrivals`
        sentences); returns the number of sentences expired."""
        self._arrivals += 1
        on = self._arrivals_on
        on[channel] = on.get(channel, 0) + 1
        expired = 0
        groups = self.groups
        limit = now - self.ttl
        arrivals = self._arrivals - self.min_arrivals
        while groups:
            key = next(iter(groups))
            group = groups[key]
            if group.started >= limit or group.arrival > arrivals:
                break
            expired += len(groups.pop(key).parts)
        return expired

    def flush(self) -> int:
        """End of input: every incomplete group is an orphan; returns the sentences dropped."""
        n = self.pending_sentences
        self.groups.clear()
        return n
