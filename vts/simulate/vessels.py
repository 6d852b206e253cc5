"""Simulated vessels and their AIS transmitters.

A `SimVessel` couples a movement (`Plan`) with an AIS transponder that behaves like a real one:

* Class A position reports (type 1) every 10 s under way below 14 kn, 6 s at 14-23 kn, 2 s above
  23 kn, 3.3 s (below 14 kn) or 2 s while turning, and every 3 minutes at anchor or moored;
* Class B (type 18) every 30 s above 2 kn and every 3 minutes slower;
* static and voyage data every 6 minutes (type 5 for Class A, type 24 parts A and B for Class B);
* GPS noise of a few metres, reported speed and course with their own small noise, and a share
  of messages lost in reception; each message goes out on AIS channel A or B.

Incidents change transponders too: silences (going dark), static data that changes, extra
positions reported elsewhere (a jump), messages of other types (an AIS-SART's safety text).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vts.simulate.motion import STATUS_AT_ANCHOR, STATUS_MOORED, Kin, StateSource
from vts.simulate.world import World

STATIC_INTERVAL_S = 360.0
CLASS_A_STATIONARY_S = 180.0
CLASS_B_FAST_S = 30.0
CLASS_B_SLOW_S = 180.0
GPS_NOISE_M = 3.0


def class_a_interval(k: Kin) -> float:
    """IMO/ITU-R M.1371 Class A reporting interval for this state (seconds)."""
    if k.status in (STATUS_AT_ANCHOR, STATUS_MOORED) and k.sog <= 3.0:
        return CLASS_A_STATIONARY_S
    if k.sog > 23.0:
        return 2.0
    if k.sog > 14.0:
        return 2.0 if k.turning else 6.0
    if k.sog < 0.5 and k.status not in (STATUS_AT_ANCHOR, STATUS_MOORED):
        return 10.0
    return 10.0 / 3.0 if k.turning else 10.0


def class_b_interval(k: Kin) -> float:
    return CLASS_B_FAST_S if k.sog > 2.0 else CLASS_B_SLOW_S


@dataclass(slots=True)
class StaticData:
    name: str
    ship_type: int
    length_m: int
    beam_m: int
    callsign: str = ""
    imo: int = 0
    draught: float = 0.0
    destination: str = ""
    eta: tuple[int, int, int, int] = (0, 0, 24, 60)
    """month, day, hour, minute (UTC); 0/0/24/60 = not available."""


@dataclass(slots=True)
class Emission:
    """One AIS message as the receiver gets it."""

    time: float
    mmsi: int
    message: dict[str, Any]


@dataclass(slots=True)
class SimVessel:
    mmsi: int
    ais_class: Literal["A", "B"]
    role: str
    """What the vessel is doing in the scenario: container_ship, tug, fishing_boat, ..."""
    category: str
    """Vessel category as the rules see it: cargo, tanker, fishing, tug, pilot, ..."""
    static: StaticData | None
    plan: StateSource
    start: float
    end: float
    sends_heading: bool = True
    incident: str | None = None
    """Id of the incident this vessel belongs to (None: normal traffic)."""
    static_changes: list[tuple[float, StaticData]] = field(default_factory=list)
    silences: list[tuple[float, float]] = field(default_factory=list)
    jumps: list[tuple[float, float, float]] = field(default_factory=list)
    """(time, lon, lat): the first position report after `time` gives this position instead."""
    extra: list[Emission] = field(default_factory=list)
    position_every_s: float | None = None
    """Fixed position interval (AIS-SART, special devices) instead of the class rules."""
    notes: dict[str, Any] = field(default_factory=dict)

    def static_at(self, t: float) -> StaticData | None:
        current = self.static
        for when, data in self.static_changes:
            if t >= when:
                current = data
        return current

    def silent(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.silences)

    def kin(self, t: float) -> Kin | None:
        return self.plan.at(t)

    # -- transmissions ----------------------------------------------------------------------
    def emissions(
        self, world: World, rng: random.Random, t_begin: float, t_end: float, loss: float
    ) -> Iterator[Emission]:
        """Every message this vessel's transponder sends that the receiver decodes, in time order."""
        start = max(self.start, t_begin)
        end = min(self.end, t_end)
        if end <= start:
            return
        out: list[Emission] = []
        # position reports
        t = start + rng.uniform(0.0, 3.0)
        jumps = sorted(self.jumps)
        while t <= end:
            k = self.kin(t)
            if k is None:
                t += 10.0
                continue
            interval = self.position_every_s or (
                class_a_interval(k) if self.ais_class == "A" else class_b_interval(k)
            )
            if not self.silent(t) and rng.random() >= loss:
                msg = self._position_message(world, rng, t, k)
                if jumps and t >= jumps[0][0]:
                    _, lon, lat = jumps.pop(0)
                    msg["lon"], msg["lat"] = round(lon, 6), round(lat, 6)
                out.append(Emission(t, self.mmsi, msg))
            t += interval * rng.uniform(0.98, 1.02)
        # static and voyage data
        if self.static is not None:
            t = start + rng.uniform(1.0, STATIC_INTERVAL_S)
            while t <= end:
                data = self.static_at(t)
                if data is not None and not self.silent(t):
                    for part, msg in enumerate(self._static_messages(data, t)):
                        if rng.random() >= loss:
                            out.append(Emission(t + part * 0.05, self.mmsi, msg))
                t += STATIC_INTERVAL_S * rng.uniform(0.99, 1.01)
        out.extend(e for e in self.extra if start <= e.time <= end)
        out.sort(key=lambda e: e.time)
        yield from out

    def _position_message(self, world: World, rng: random.Random, t: float, k: Kin) -> dict[str, Any]:
        x = k.x + rng.gauss(0.0, GPS_NOISE_M)
        y = k.y + rng.gauss(0.0, GPS_NOISE_M)
        lon, lat = world.to_lonlat(x, y)
        sog = max(0.0, k.sog + rng.gauss(0.0, 0.08)) if k.sog > 0.05 else 0.0
        cog = (k.cog + rng.gauss(0.0, 1.5 if k.sog > 1.0 else 8.0)) % 360.0
        heading = round(k.heading + rng.gauss(0.0, 0.8)) % 360 if self.sends_heading else 511
        second = int(t) % 60
        common: dict[str, Any] = {
            "mmsi": self.mmsi,
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "speed": round(min(sog, 102.2), 1),
            "course": round(cog, 1),
            "heading": heading,
            "second": second,
            "accuracy": 1 if self.ais_class == "A" else 0,
        }
        if self.ais_class == "A":
            return {"type": 1, "status": k.status, "turn": -128, **common}
        return {"type": 18, "cs": 1, "display": 0, "dsc": 1, "band": 1, "msg22": 1, **common}

    def _static_messages(self, d: StaticData, t: float) -> list[dict[str, Any]]:
        bow = round(d.length_m * 0.85)
        stern = max(0, d.length_m - bow)
        port = int(d.beam_m // 2)
        starboard = max(0, d.beam_m - port)
        dims = {"to_bow": bow, "to_stern": stern, "to_port": port, "to_starboard": starboard}
        if self.ais_class == "A":
            month, day, hour, minute = d.eta
            return [
                {
                    "type": 5,
                    "mmsi": self.mmsi,
                    "ais_version": 0,
                    "imo": d.imo,
                    "callsign": d.callsign,
                    "shipname": d.name,
                    "ship_type": d.ship_type,
                    **dims,
                    "epfd": 1,
                    "month": month,
                    "day": day,
                    "hour": hour,
                    "minute": minute,
                    "draught": d.draught,
                    "destination": d.destination,
                    "dte": 0,
                }
            ]
        return [
            {"type": 24, "mmsi": self.mmsi, "partno": 0, "shipname": d.name},
            {
                "type": 24,
                "mmsi": self.mmsi,
                "partno": 1,
                "ship_type": d.ship_type,
                "callsign": d.callsign,
                **dims,
            },
        ]


def renamed(data: StaticData, **changes: Any) -> StaticData:
    return replace(data, **changes)


def heading_between(a: float, b: float) -> float:
    return math.degrees(math.atan2(math.sin(math.radians(b - a)), math.cos(math.radians(b - a))))
