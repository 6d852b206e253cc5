"""Decoded AIS reports: small typed records, one per AIS message, in event time.

These are the only thing the core sees of AIS: the sentence layer (`vts.nmea`) turns lines into
`Sentence`/fragments, `vts.decode` turns assembled messages into these reports, and the tracker,
zones and rules work on them. "Not available" values (lat 91, lon 181, SOG 102.3, COG 360,
heading 511) are already `None` here, never a number.

Reports are read-only: once decoded, nothing changes them (the same object goes to the tracker, the
zones, every rule and the listeners). They are not `frozen` dataclasses only because building a frozen
one costs ten times as much (2 us against 0.2 us for a position report, per message decoded); use
`dataclasses.replace` to derive a changed copy.

`time` is always event time: UNIX seconds (UTC) from the data itself (tag block `c:`, Gatehouse
`$PGHP`, USCG trailing epoch, a log-line timestamp) or, failing that, the time the line was received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from mypy_extensions import mypyc_attr

AisClass = Literal["A", "B"]


@mypyc_attr(allow_interpreted_subclasses=True)  # (as the position and static reports)
@dataclass(slots=True)
class ReportBase:
    time: float
    """Event time, UNIX seconds UTC."""
    mmsi: int
    msg_type: int
    source: str
    """Name of the feed the message came from (config source name, file name, ...)."""
    own_ship: bool = False
    """True for AIVDO sentences (the receiver's own vessel)."""
    station: str | None = None
    """Receiving station, from the tag block `s:` or the metadata, when known."""
    channel: str | None = None


@mypyc_attr(allow_interpreted_subclasses=True)  # reports of other origins subclass it
@dataclass(slots=True, init=False)
class PositionReport(ReportBase):
    """Types 1, 2, 3 (Class A), 18, 19 (Class B) and 27 (long range)."""

    ais_class: AisClass = "A"
    lat: float | None = None
    lon: float | None = None
    sog: float | None = None
    """Speed over ground, knots."""
    cog: float | None = None
    """Course over ground, degrees true [0, 360)."""
    heading: int | None = None
    """True heading, degrees [0, 359]."""
    nav_status: int | None = None
    """Navigational status 0-15 (Class A, type 27); None when not given (Class B) or 15 (undefined)."""
    rot: float | None = None
    """Rate of turn, degrees per minute (sign: + to starboard), None when not available."""
    accuracy: bool = False
    raim: bool = False
    second: int | None = None
    """UTC second of the fix (0-59) or None (60-63)."""
    class_b_cs: bool | None = None
    """Type 18's "CS unit" flag: True for a carrier-sense Class B unit, False for a self-organising
    (SOTDMA) one; None when the message does not say (Class A, types 19 and 27)."""

    def __init__(
        self,
        time: float,
        mmsi: int,
        msg_type: int,
        source: str,
        own_ship: bool = False,
        station: str | None = None,
        channel: str | None = None,
        ais_class: AisClass = "A",
        lat: float | None = None,
        lon: float | None = None,
        sog: float | None = None,
        cog: float | None = None,
        heading: int | None = None,
        nav_status: int | None = None,
        rot: float | None = None,
        accuracy: bool = False,
        raim: bool = False,
        second: int | None = None,
        class_b_cs: bool | None = None,
    ) -> None:
        # (one per position report: an explicit `__init__` compiles to native code, the one
        # `dataclass` writes stays Python; `tests/test_constructors.py` holds it to the fields)
        self.time = time
        self.mmsi = mmsi
        self.msg_type = msg_type
        self.source = source
        self.own_ship = own_ship
        self.station = station
        self.channel = channel
        self.ais_class = ais_class
        self.lat = lat
        self.lon = lon
        self.sog = sog
        self.cog = cog
        self.heading = heading
        self.nav_status = nav_status
        self.rot = rot
        self.accuracy = accuracy
        self.raim = raim
        self.second = second
        self.class_b_cs = class_b_cs

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


@mypyc_attr(allow_interpreted_subclasses=True)  # reports of other origins subclass it
@dataclass(slots=True)
class StaticReport(ReportBase):
    """Static and voyage data: type 5 (Class A), type 19's static part, type 24 parts A and B.

    Fields a message does not carry are None (type 24 part A has only the name, part B only the rest).
    """

    ais_class: AisClass = "A"
    part: Literal["A", "B"] | None = None
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    to_bow: int | None = None
    to_stern: int | None = None
    to_port: int | None = None
    to_starboard: int | None = None
    draught: float | None = None
    destination: str | None = None
    eta: str | None = None
    """ETA as 'MM-DDTHH:MM' (month, day, hour, minute UTC; no year in AIS), None when not available."""
    mothership_mmsi: int | None = None
    """Type 24 part B of an auxiliary craft (98MIDxxxx) names its parent ship here."""


@dataclass(slots=True)
class BaseStationReport(ReportBase):
    """Types 4 and 11."""

    lat: float | None = None
    lon: float | None = None
    utc: float | None = None
    """The station's own UTC time, UNIX seconds, when valid."""


@dataclass(slots=True)
class AidToNavReport(ReportBase):
    """Type 21."""

    name: str | None = None
    aid_type: int | None = None
    lat: float | None = None
    lon: float | None = None
    virtual: bool = False
    off_position: bool = False


@dataclass(slots=True)
class SarAircraftReport(ReportBase):
    """Type 9."""

    lat: float | None = None
    lon: float | None = None
    altitude: int | None = None
    sog: float | None = None
    cog: float | None = None


@dataclass(slots=True)
class SafetyReport(ReportBase):
    """Types 12 and 14: safety-related text (AIS-SART sends 'SART ACTIVE' or 'SART TEST')."""

    text: str = ""
    dest_mmsi: int | None = None


Report: TypeAlias = (
    PositionReport | StaticReport | BaseStationReport | AidToNavReport | SarAircraftReport | SafetyReport
)
