"""A small synthetic Callao scene for the map tests: real AIVDM sentences (pyais encoder, tag-block
times), a few ships moving in the bay, one with markup in its name, and an AIS-SART that turns
active (the distress rule raises an emergency). Generated here so the tests need no network and
no recording with a licence; nothing is hard-coded about what the pipeline will decide.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyais import encode_dict

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MARKUP_NAME = "<B>BOLD</B><I>X</I>"
"""20 AIS characters of markup: rendered as HTML it would make <b>/<i> elements."""
XSS_NAME = "<img src=x onerror=alert(1)>"
"""Longer than an AIS name can be: the tests put it on a tracked vessel directly."""
SART_MMSI = 970_123_456


def _checksum(body: str) -> str:
    cs = 0
    for ch in body.encode("ascii"):
        cs ^= ch
    return f"{cs:02X}"


def tagged(t: float, message: dict[str, Any]) -> list[str]:
    fields = f"c:{int(t)}"
    tag = f"\\{fields}*{_checksum(fields)}\\"
    return [tag + s for s in encode_dict(message, talker_id="AI", sentence_type="VDM", radio_channel="A")]


@dataclass(slots=True)
class Ship:
    mmsi: int
    name: str
    ship_type: int
    lat: float
    lon: float
    sog: float
    cog: float
    nav_status: int = 0
    callsign: str = "OA1234"
    imo: int = 9_000_001
    destination: str = "CALLAO"

    def step(self, dt: float) -> None:
        d = self.sog * 1852.0 / 3600.0 * dt
        self.lat += d * math.cos(math.radians(self.cog)) / 111_320.0
        self.lon += d * math.sin(math.radians(self.cog)) / (111_320.0 * math.cos(math.radians(self.lat)))

    def position(self, t: float) -> dict[str, Any]:
        return {
            "type": 1,
            "mmsi": self.mmsi,
            "status": self.nav_status,
            "turn": 0,
            "speed": self.sog,
            "accuracy": 1,
            "lon": self.lon,
            "lat": self.lat,
            "course": self.cog,
            "heading": round(self.cog) % 360,
            "second": int(t) % 60,
        }

    def static(self) -> dict[str, Any]:
        return {
            "type": 5,
            "mmsi": self.mmsi,
            "ais_version": 0,
            "imo": self.imo,
            "callsign": self.callsign,
            "shipname": self.name,
            "ship_type": self.ship_type,
            "to_bow": 120,
            "to_stern": 40,
            "to_port": 12,
            "to_starboard": 14,
            "epfd": 1,
            "month": 1,
            "day": 2,
            "hour": 8,
            "minute": 0,
            "draught": 9.5,
            "destination": self.destination,
            "dte": 0,
        }


def imo_number(first6: int) -> int:
    """A valid IMO number (check digit) from six digits."""
    digits = [int(c) for c in f"{first6:06d}"]
    check = sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10
    return first6 * 10 + check


def ships() -> list[Ship]:
    return [
        Ship(636_019_825, "PACIFIC TRADER", 70, -12.000, -77.230, 12.0, 110.0, imo=imo_number(907_472)),
        Ship(
            538_007_123,
            "ANDES SPIRIT",
            80,
            -12.020,
            -77.260,
            10.0,
            95.0,
            callsign="V7AB3",
            imo=imo_number(923_411),
        ),
        Ship(
            760_000_111,
            MARKUP_NAME,
            30,
            -12.035,
            -77.200,
            8.0,
            200.0,
            callsign="OA5678",
            imo=imo_number(812_345),
        ),
        Ship(
            760_000_222, "RIMAC", 52, -12.045, -77.180, 6.0, 45.0, callsign="OA9012", imo=imo_number(934_567)
        ),
    ]


def sart_position(t: float, active: bool) -> dict[str, Any]:
    return {
        "type": 1,
        "mmsi": SART_MMSI,
        "status": 14 if active else 15,
        "turn": 0,
        "speed": 0.0,
        "accuracy": 1,
        "lon": -77.215,
        "lat": -12.030,
        "course": 0.0,
        "heading": 511,
        "second": int(t) % 60,
    }


def scene(
    seconds: float = 900.0, step: float = 10.0, sart_from: float = 120.0
) -> Iterator[tuple[float, list[str]]]:
    """(event time, lines) every `step` seconds: positions of every ship, static data every minute,
    and from `sart_from` seconds on an active AIS-SART."""
    fleet = ships()
    t = START
    while t <= START + seconds:
        lines: list[str] = []
        for ship in fleet:
            if (t - START) % 60 == 0:
                lines.extend(tagged(t, ship.static()))
            lines.extend(tagged(t, ship.position(t)))
            ship.step(step)
        if t - START >= sart_from:
            lines.extend(tagged(t, sart_position(t, active=True)))
        yield t, lines
        t += step
