"""Decoded AIS tables (CSV, one row a message) read as the AIS sentences they were decoded from.

The largest public AIS archives are published decoded, not as NMEA: the Danish Maritime Authority's
daily files (``aisdk-2024-01-01.csv``: ``# Timestamp,Type of mobile,MMSI,Latitude,Longitude,...``,
dates day first, statuses and ship types as words) and the US MarineCadastre.gov files
(``AIS_2024_01_01.csv``: ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,...``, numeric
codes). Other tables are read when their header names the columns in one of the usual ways (see
`COLUMNS`): at least the time, the MMSI, latitude and longitude.

Each row is encoded back into the AIS message it came from with pyais (`pyais.encode.encode_dict`):
a Class A position report (type 1), or a Class B one (type 18), behind an NMEA 4.0 tag block that
carries the row's time (``\\c:...\\``). A row that also gives static data (name, call sign, IMO number,
ship type, dimensions, draught, destination) adds a static message (type 5 for Class A, type 24
parts A and B for Class B) when that data differs from the vessel's previous one or was last sent
`STATIC_EVERY_S` before, as the transponder itself repeats it. So a table replays through exactly the
sentence layer, tracker, zones and rules a live feed goes through, and the same row always gives the
same sentences.

Tables are not always in time order (a file of one area may be grouped by vessel): the rows of one
table are read whole, then put in time order (a stable sort, so rows of the same second keep their
order) before they are encoded; this holds the table in memory, about 200 bytes a row.

Rows of other stations (base stations, aids to navigation, search-and-rescue aircraft) are skipped
and counted (`TABLE_OTHER_STATION`); a row whose time, MMSI or position cannot be read is counted
too (`TABLE_BAD_ROW`): neither stops the replay.
"""

from __future__ import annotations

import csv
import math
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from pyais.encode import encode_dict

TABLE_BAD_ROW = "table_bad_row"
"""Drop reason: a table row whose time, MMSI or position could not be read."""
TABLE_OTHER_STATION = "table_other_station"
"""Drop reason: a table row of a base station, aid to navigation or SAR aircraft (not re-encoded)."""
STATIC_EVERY_S = 360.0
"""A vessel's static data is sent again after this long, as AIS does (every 6 minutes)."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("# timestamp", "timestamp", "basedatetime", "datetime", "date_time_utc", "time", "t"),
    "mobile": ("type of mobile", "transceiverclass", "transcieverclass", "class", "ais_class"),
    "mmsi": ("mmsi", "sourcemmsi"),
    "lat": ("latitude", "lat"),
    "lon": ("longitude", "lon"),
    "status": ("navigational status", "status", "nav_status", "navigationalstatus"),
    "rot": ("rot", "rateofturn"),
    "sog": ("sog", "speedoverground", "speed"),
    "cog": ("cog", "courseoverground", "course"),
    "heading": ("heading", "trueheading", "true_heading"),
    "imo": ("imo", "imo_nr"),
    "callsign": ("callsign",),
    "name": ("name", "vesselname", "shipname"),
    "ship_type": ("ship type", "vesseltype", "ship_type", "shiptype"),
    "width": ("width",),
    "length": ("length",),
    "draught": ("draught", "draft"),
    "destination": ("destination",),
    "a": ("a",),
    "b": ("b",),
    "c": ("c",),
    "d": ("d",),
}
"""Our field -> the column names (lower case) tables give it. The first four are required."""
REQUIRED = ("time", "mmsi", "lat", "lon")

NAV_STATUS_WORDS: tuple[tuple[str, int], ...] = (
    ("using engine", 0),
    ("at anchor", 1),
    ("not under command", 2),
    ("restricted", 3),
    ("constrained", 4),
    ("moored", 5),
    ("aground", 6),
    ("fishing", 7),
    ("sailing", 8),
    ("[hsc]", 9),
    ("[wig]", 10),
    ("towing astern", 11),
    ("pushing ahead", 12),
    ("sart", 14),
)
"""The Danish Maritime Authority's status words (lower case, a distinctive part) -> ITU code."""
SHIP_TYPE_WORDS: dict[str, int] = {
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "spare 1": 56,
    "spare 2": 57,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}
"""The Danish Maritime Authority's ship type words (lower case) -> the ITU type of the class."""
OTHER_STATIONS = ("base station", "aton", "sar airborne")
"""`mobile` values of rows that are not ships (skipped). A "Search and Rescue Transponder" (SART)
row is kept: a position report under its 970 MMSI, as the device sends it."""
UNKNOWN_WORDS = frozenset({"", "unknown", "undefined", "unknown value", "n/a", "na", "nan", "none", "null"})

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Where a table holds each field: field -> column index."""

    columns: dict[str, int]
    delimiter: str
    day_first: bool
    """Dates written day first (dd/mm/yyyy, the Danish files) rather than month first."""
    name: str
    """What the table was recognised as, for messages."""


def table_layout(header: str) -> TableLayout | None:
    """The layout of a table whose first line is `header`, or None when it is not a decoded AIS
    table (an NMEA log, or a table without time, MMSI and position columns)."""
    text = header.strip().lstrip("\ufeff")
    if not text or text[0] in "!$\\" or ("," not in text and ";" not in text):
        return None
    delimiter = ";" if text.count(";") > text.count(",") else ","
    names = [_SPACES.sub(" ", n.strip().strip('"').lower()) for n in text.split(delimiter)]
    columns: dict[str, int] = {}
    for field, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                columns[field] = names.index(alias)
                break
    if any(f not in columns for f in REQUIRED):
        return None
    danish = "type of mobile" in names  # the Danish files' own column: their dates are day first
    if danish:
        name = "Danish Maritime Authority table"
    elif "basedatetime" in names:
        name = "MarineCadastre.gov table"
    else:
        name = "decoded AIS table"
    return TableLayout(columns, delimiter, day_first=danish, name=name)


def _text(row: list[str], layout: TableLayout, field: str) -> str | None:
    i = layout.columns.get(field)
    if i is None or i >= len(row):
        return None
    value = row[i].strip()
    return None if value.lower() in UNKNOWN_WORDS else value


def _number(row: list[str], layout: TableLayout, field: str) -> float | None:
    value = _text(row, layout, field)
    if value is None:
        return None
    try:
        number = float(value.replace(",", ".") if value.count(",") == 1 and "." not in value else value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_time(value: str, *, day_first: bool) -> float | None:
    """UNIX seconds of a table's time: ISO 8601 (UTC unless it says otherwise), ``dd/mm/yyyy
    HH:MM:SS`` (day first) or ``mm/dd/yyyy ...``, or UNIX seconds (milliseconds when over 1e11)."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or number <= 0:
            return None
        return number / 1000.0 if number > 1e11 else number
    if "/" in value:
        fmt = "%d/%m/%Y %H:%M:%S" if day_first else "%m/%d/%Y %H:%M:%S"
        try:
            return datetime.strptime(value[:19], fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return None
    try:
        when = datetime.fromisoformat(value.replace(" UTC", "").replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def nav_status_code(value: str | None) -> int | None:
    """ITU navigational status of a table value: a number or the Danish files' words."""
    if value is None:
        return None
    if value.isdigit():
        code = int(value)
        return code if 0 <= code <= 15 else None
    low = value.lower()
    for words, code in NAV_STATUS_WORDS:
        if words in low:
            return code
    return None


def ship_type_code(value: str | None) -> int | None:
    """ITU ship type of a table value: a number (0-99) or the Danish files' words."""
    if value is None:
        return None
    try:
        code = int(float(value))
    except ValueError:
        return SHIP_TYPE_WORDS.get(value.lower())
    return code if 0 <= code <= 99 else None


def _tag_block(t: float) -> str:
    """``\\c:...*hh\\`` for time `t` (whole seconds, or milliseconds when it has a fraction)."""
    body = f"c:{int(t)}" if t == int(t) else f"c:{round(t * 1000)}"
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return f"\\{body}*{checksum:02X}\\"


@dataclass(slots=True)
class _Static:
    values: tuple[Any, ...]
    sent: float


class TableEncoder:
    """Rows of one table -> NMEA lines (bytes, tag-blocked), in the order given; keeps each vessel's
    last static data to repeat it only on a change or after `STATIC_EVERY_S`."""

    def __init__(self, layout: TableLayout, drops: Counter[str]) -> None:
        self.layout = layout
        self.drops = drops
        self._static: dict[int, _Static] = {}

    def lines(self, t: float, row: list[str]) -> list[bytes]:
        layout = self.layout
        mobile = (_text(row, layout, "mobile") or "").lower()
        if any(word in mobile for word in OTHER_STATIONS):
            self.drops[TABLE_OTHER_STATION] += 1
            return []
        mmsi_text = _text(row, layout, "mmsi")
        if mmsi_text is None or not mmsi_text.isdigit() or int(mmsi_text) >= 2**30:
            self.drops[TABLE_BAD_ROW] += 1
            return []
        mmsi = int(mmsi_text)
        class_b = mobile in ("b", "class b") or mobile.startswith("class b")
        tag = _tag_block(t)
        static = [tag + s for s in self._static_lines(t, mmsi, row, class_b)]
        lat, lon = _number(row, layout, "lat"), _number(row, layout, "lon")
        if lat is None or lon is None:  # a row of static data only, or a broken one
            if not static:
                self.drops[TABLE_BAD_ROW] += 1
            return [line.encode("ascii") for line in static]
        sog = _number(row, layout, "sog")
        cog = _number(row, layout, "cog")
        heading = _number(row, layout, "heading")
        second = int(t) % 60
        position: dict[str, Any] = {
            "mmsi": mmsi,
            "lat": lat if -90.0 <= lat <= 90.0 else 91.0,
            "lon": lon if -180.0 <= lon <= 180.0 else 181.0,
            "speed": 102.3 if sog is None or not 0.0 <= sog < 102.3 else sog,
            "course": 360.0 if cog is None or not 0.0 <= cog < 360.0 else cog,
            "heading": 511 if heading is None or not 0 <= heading < 360 else int(heading),
            "second": second,
        }
        if class_b:
            position.update(msg_type=18, cs=True)
        else:
            status = nav_status_code(_text(row, layout, "status"))
            rot = _number(row, layout, "rot")
            position.update(msg_type=1, status=15 if status is None else status)
            if rot is not None and -720.0 <= rot <= 720.0:
                position["turn"] = rot
        out = [tag + s for s in _encode(position)] + static
        return [line.encode("ascii") for line in out]

    def _static_lines(self, t: float, mmsi: int, row: list[str], class_b: bool) -> list[str]:
        layout = self.layout
        name = _text(row, layout, "name")
        callsign = _text(row, layout, "callsign")
        imo_text = _text(row, layout, "imo")
        if imo_text is not None and imo_text[:3].upper() == "IMO":  # MarineCadastre: "IMO9074729"
            imo_text = imo_text[3:]
        imo_value = float(imo_text) if imo_text is not None and imo_text.isdigit() else None
        imo = int(imo_value) if imo_value is not None and 0 < imo_value < 2**30 else None
        ship_type = ship_type_code(_text(row, layout, "ship_type"))
        dims = self._dimensions(row)
        draught = _number(row, layout, "draught")
        destination = _text(row, layout, "destination")
        values = (name, callsign, imo, ship_type, dims, draught, destination)
        if all(v is None for v in values):
            return []
        before = self._static.get(mmsi)
        if before is not None and before.values == values and t - before.sent < STATIC_EVERY_S:
            return []
        self._static[mmsi] = _Static(values, t)
        bow, stern, port, starboard = dims or (0, 0, 0, 0)
        shape = {"to_bow": bow, "to_stern": stern, "to_port": port, "to_starboard": starboard}
        if class_b:
            part_a = {"msg_type": 24, "mmsi": mmsi, "partno": 0, "shipname": (name or "")[:20]}
            part_b = {
                "msg_type": 24,
                "mmsi": mmsi,
                "partno": 1,
                "ship_type": ship_type or 0,
                "callsign": (callsign or "")[:7],
                **shape,
            }
            return _encode(part_a) + _encode(part_b)
        static = {
            "msg_type": 5,
            "mmsi": mmsi,
            "ais_version": 0,
            "imo": imo or 0,
            "callsign": (callsign or "")[:7],
            "shipname": (name or "")[:20],
            "ship_type": ship_type or 0,
            "draught": 0.0 if draught is None or not 0 < draught < 25.5 else draught,
            "destination": (destination or "")[:20],
            "epfd": 1,
            "month": 0,
            "day": 0,
            "hour": 24,
            "minute": 60,
            **shape,
        }
        return _encode(static)

    def _dimensions(self, row: list[str]) -> tuple[int, int, int, int] | None:
        """(to bow, to stern, to port, to starboard) in metres: the table's A, B, C, D when it has
        them, else its length and width about the middle of the ship; None when unknown."""
        layout = self.layout
        parts = [_number(row, layout, k) for k in ("a", "b", "c", "d")]
        if all(p is not None for p in parts):
            bow, stern, port, starboard = (int(max(0.0, p or 0.0)) for p in parts)
            return min(bow, 511), min(stern, 511), min(port, 63), min(starboard, 63)
        length, width = _number(row, layout, "length"), _number(row, layout, "width")
        if length is None or length <= 0:
            return None
        half_width = 0.0 if width is None or width <= 0 else width / 2.0
        bow = min(int(length / 2.0), 511)
        stern = min(int(length) - bow, 511)
        port = min(int(half_width), 63)
        starboard = min(int(half_width + 0.5) if width else 0, 63)
        return bow, stern, port, starboard


def _encode(fields: dict[str, Any]) -> list[str]:
    return list(encode_dict(fields, talker_id="AI", sentence_type="VDM", radio_channel="A"))


def table_sentences(
    lines: Iterable[bytes], drops: Counter[str], on_table: Callable[[TableLayout], None] | None = None
) -> Iterator[bytes]:
    """The lines of a file, as they are when it is an NMEA log; when its first line is the header
    of a decoded AIS table, its rows re-encoded as NMEA sentences in time order (`TableEncoder`),
    `on_table` told first. Rows that cannot be read are counted in `drops`. The first line is read
    at once (a log's lines then pass through `itertools.chain`, at no cost per line)."""
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return iter(())
    layout = table_layout(first.decode("utf-8", "replace"))
    if layout is None:
        return chain((first,), it)
    if on_table is not None:
        on_table(layout)
    return _table(layout, it, drops)


def earliest_time(layout: TableLayout, rows: Iterable[bytes]) -> float | None:
    """The earliest time among `rows` of a table (None when none can be read): where a log of
    several begins, judged from its first rows without reading it whole."""
    times = (_row_time(layout, raw.decode("utf-8", "replace")) for raw in rows)
    return min((t for t in times if t is not None), default=None)


def _fields(layout: TableLayout, text: str) -> list[str]:
    return next(csv.reader([text], delimiter=layout.delimiter), [])


def _row_time(layout: TableLayout, text: str) -> float | None:
    fields = _fields(layout, text)
    i = layout.columns["time"]
    return parse_time(fields[i], day_first=layout.day_first) if i < len(fields) else None


def _table(layout: TableLayout, rows: Iterator[bytes], drops: Counter[str]) -> Iterator[bytes]:
    times = array("d")
    kept: list[bytes] = []
    in_order = True
    last = -math.inf
    for raw in rows:
        text = raw.decode("utf-8", "replace")
        t = _row_time(layout, text)
        if t is None:
            if text.strip():
                drops[TABLE_BAD_ROW] += 1
            continue
        if t < last:
            in_order = False
        last = max(last, t)
        times.append(t)
        kept.append(raw)
    order: Iterable[int] = range(len(kept))
    if not in_order:
        order = sorted(order, key=times.__getitem__)
    encoder = TableEncoder(layout, drops)
    for i in order:
        row = _fields(layout, kept[i].decode("utf-8", "replace"))
        try:
            yield from encoder.lines(times[i], row)
        except Exception:  # pyais refuses a value (never stops the replay)
            drops[TABLE_BAD_ROW] += 1
