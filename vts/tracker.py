"""Vessel tracker: one state per MMSI, driven by event time only.

CONTRACT (owned by the ingest/tracker work; other modules rely on these names):

* ``Tracker(settings: TrackerSettings)``
* ``Tracker.update(report: Report) -> VesselState | None``: merge a decoded report; returns the
  vessel's state (None for reports that are not about a vessel: base stations ...).
* ``Tracker.get(mmsi) -> VesselState | None``, ``len(tracker)``, ``iter(tracker)`` (VesselStates),
  ``Tracker.vessels() -> list[VesselState]``.
* ``Tracker.prune(now: float) -> list[int]``: forget vessels silent for longer than
  ``settings.forget_after_s`` of event time; returns the forgotten MMSIs.
* ``VesselState.is_stale(now)`` after about six expected reporting intervals (IEC 62388 table).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vts.reports import AisClass, Report

VesselCategory = Literal[
    "cargo",
    "tanker",
    "passenger",
    "fishing",
    "tug",
    "pilot",
    "law_enforcement",
    "sar",
    "pleasure",
    "sailing",
    "other",
    "unknown",
]


class TrackerSettings(BaseModel):
    """`tracker:` section of the config."""

    model_config = ConfigDict(extra="forbid")

    trail_minutes: float = Field(30.0, gt=0, description="length of the kept trail, minutes of event time")
    trail_max_points: int = Field(400, ge=2, description="hard cap on trail points per vessel")
    forget_after_minutes: float = Field(60.0, gt=0, description="forget a vessel silent this long")

    @property
    def trail_s(self) -> float:
        return self.trail_minutes * 60.0

    @property
    def forget_after_s(self) -> float:
        return self.forget_after_minutes * 60.0


@dataclass(slots=True, frozen=True)
class Fix:
    """One position of a vessel's trail."""

    time: float
    lat: float
    lon: float
    sog: float | None
    cog: float | None
    heading: int | None


@dataclass(slots=True)
class VesselState:
    mmsi: int
    first_seen: float
    last_seen: float
    ais_class: AisClass | None = None
    category: VesselCategory = "unknown"
    own_ship: bool = False
    message_count: int = 0
    position_count: int = 0
    # latest kinematics
    position_time: float | None = None
    lat: float | None = None
    lon: float | None = None
    sog: float | None = None
    cog: float | None = None
    heading: int | None = None
    nav_status: int | None = None
    rot: float | None = None
    # merged static / voyage data (types 5, 19, 24 A/B)
    static_time: float | None = None
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
    trail: deque[Fix] = field(default_factory=deque)
    message_times: deque[float] = field(default_factory=deque)
    """Event times of this vessel's recent messages (last 30 min, bounded)."""
    is_shadow: bool = False
    """True for the second ship found transmitting under the same MMSI (see `Tracker.shadow`)."""
    dr_conflicts: deque[float] = field(default_factory=deque)
    """Event times (last 10 min) of fixes that failed the dead-reckoning test against this track."""

    @property
    def length(self) -> float | None:
        if self.to_bow is None or self.to_stern is None or (self.to_bow + self.to_stern) == 0:
            return None
        return float(self.to_bow + self.to_stern)

    @property
    def beam(self) -> float | None:
        if self.to_port is None or self.to_starboard is None or (self.to_port + self.to_starboard) == 0:
            return None
        return float(self.to_port + self.to_starboard)

    @property
    def has_static(self) -> bool:
        return self.static_time is not None

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None

    def expected_interval(self) -> float:
        """Nominal reporting interval in seconds for the current class, speed and status."""
        raise NotImplementedError

    def is_stale(self, now: float) -> bool:
        raise NotImplementedError


class Tracker:
    def __init__(self, settings: TrackerSettings | None = None) -> None:
        raise NotImplementedError

    def update(self, report: Report) -> VesselState | None:
        raise NotImplementedError
