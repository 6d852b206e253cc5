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

Also: ``Tracker.shadow(mmsi)`` (second ship under one MMSI, see below), ``Tracker.stations``
(base stations, types 4/11), ``Tracker.aids`` (aids to navigation, type 21) and
``Tracker.aircraft`` (SAR aircraft, type 9): latest report per MMSI, pruned like vessels.

A forgotten vessel's static data (name, call sign, type, size, voyage) is remembered for
``settings.static_memory_hours`` after it was last heard: a vessel back within that time is known
from its first report, not only from its next static report (up to 6 minutes later, more when one
is lost).

Restarts: `saved_state` is what the alert database keeps at its checkpoints, `restore` hands it
back after a restart. It holds that static memory and every vessel track not forgotten yet (its
latest kinematics and status, counts, static data, recent message times and trail, shadow tracks
too): after a restart the picture is the one the daemon stopped with, each vessel as if silent
since it was last heard. Its static data is known from its first report (a ship at a berth is not
an intruder of unknown type for the first minutes), it has its message count (alerts need 5), and a
vessel that went dark while vts was down can be found so (`ais_gap`). What happened during the
downtime was not heard: `resumed_at` says since when the tracker listens again, and silence counts
from then at the earliest.

Duplicate MMSIs (two ships transmitting one identity) are split in the manner of Global Fishing
Watch's gpsdio-segment: a new fix is consistent with a track when its distance from the track's
dead-reckoned position is at most ``(10 min + elapsed) x 25 kn``. A fix inconsistent with the
vessel's track is recorded in ``vessel.dr_conflicts`` and goes to the shadow track (created on
the first such fix, ``is_shadow=True``), which `update` returns instead. A later fix consistent with
the primary goes to the primary, so a single outlier never takes the primary track away; a lone
outlier shadow is forgotten after ``SHADOW_OUTLIER_FORGET_S``. The shadow becomes the primary
when it has two consistent fixes and the primary either had only one fix (that was the outlier)
or has been silent (stale) since the shadow appeared (a ship back from a long gap far away).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count, islice
from typing import Any

from mypy_extensions import mypyc_attr

from vts.categories import VesselCategory, category_of, is_anchored_or_moored
from vts.reports import (
    AidToNavReport,
    AisClass,
    BaseStationReport,
    PositionReport,
    Report,
    SafetyReport,
    SarAircraftReport,
    StaticReport,
)
from vts.tracker_settings import TrackerSettings

__all__ = ["Fix", "Tracker", "TrackerSettings", "VesselCategory", "VesselState"]

STATIC_FIELD_TYPES: dict[str, type] = {
    "name": str,
    "callsign": str,
    "imo": int,
    "ship_type": int,
    "to_bow": int,
    "to_stern": int,
    "to_port": int,
    "to_starboard": int,
    "draught": float,
    "destination": str,
    "eta": str,
}
"""The static and voyage data merged from types 5, 19 and 24, with their types (a saved track's are
checked against them, `Tracker.restore`)."""
STATIC_FIELDS = tuple(STATIC_FIELD_TYPES)
"""Their names (copied to a shadow track, remembered for a vessel forgotten, `Tracker.restore`)."""

MESSAGE_WINDOW_S = 1800.0
"""`VesselState.message_times` keeps this much event time ..."""
MAX_MESSAGE_TIMES = 2000
"""... and at most this many entries."""
DR_CONFLICT_WINDOW_S = 600.0
MAX_DR_CONFLICTS = 200
DR_BUFFER_S = 600.0
"""gpsdio-segment's 10-minute buffer in the dead-reckoning test."""
DR_MAX_SPEED_KN = 25.0
MEMORY_SWEEP_S = 3600.0
"""How often (event time) `Tracker.prune` drops the static data remembered for too long."""
SAVED_TRAIL_POINTS = 60
"""The most recent trail points of a track saved for a restart (`Tracker.saved_state`) ..."""
SAVED_MESSAGE_TIMES = 60
"""... and the most recent message times (`ais_gap` asks for 10 in 30 minutes)."""
SHADOW_OUTLIER_FORGET_S = 600.0
"""A shadow track holding a single fix is forgotten after this much silence."""
STALE_FACTOR = 6.0
"""Stale after this many nominal reporting intervals."""
_M_PER_NM = 1852.0
_M_PER_DEG = 111_320.0
_NEAR_DEG = 0.045
"""Latitude and longitude difference (~5 km each, ~7.1 km together) under the 10-minute buffer."""


@dataclass(slots=True, init=False)
class Fix:
    """One position of a vessel's trail. Treat as read-only (not frozen only because a frozen
    dataclass is four times slower to build, and one is built per position report)."""

    time: float
    lat: float
    lon: float
    sog: float | None
    cog: float | None
    heading: int | None

    def __init__(
        self, time: float, lat: float, lon: float, sog: float | None, cog: float | None, heading: int | None
    ) -> None:
        # (one per position report: an explicit `__init__` compiles to native code, the one
        # `dataclass` writes stays Python; `tests/test_constructors.py` holds it to the fields)
        self.time = time
        self.lat = lat
        self.lon = lon
        self.sog = sog
        self.cog = cog
        self.heading = heading


FORMER_IDENTITIES_KEPT = 4
"""Earlier (type, length) declarations kept per vessel (`VesselState.former_identities`)."""


@dataclass(slots=True)
class VesselState:
    mmsi: int
    first_seen: float
    last_seen: float
    ais_class: AisClass | None = None
    class_b_cs: bool | None = None
    """A Class B unit's kind, from its type 18 reports: True carrier-sense (CS), False self-organising
    (SO), None not known yet (see `expected_interval`)."""
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
    former_identities: deque[tuple[float, int | None, float | None]] = field(
        default_factory=lambda: deque(maxlen=FORMER_IDENTITIES_KEPT)
    )
    """(until, ship type, length) of what this MMSI declared before its static data last changed
    type or size: two transmitters under one MMSI, or a changed identity, leave the ship's identity
    in doubt for a while (`vts.vessel_class.declared_categories`, `may_be_large`)."""
    trail: deque[Fix] = field(default_factory=deque)
    message_times: deque[float] = field(default_factory=deque)
    """Event times of this vessel's recent messages (last 30 min, bounded)."""
    is_shadow: bool = False
    """True for the second ship found transmitting under the same MMSI (see `Tracker.shadow`)."""
    dr_conflicts: deque[float] = field(default_factory=deque)
    """Event times (last 10 min) of fixes that failed the dead-reckoning test against this track."""
    last_fix: PositionReport | None = None
    """The latest position report (with a position) merged into this track, late ones included: the
    report the rules' `on_position` hook sees, in the order they see them."""
    previous_fix: PositionReport | None = None
    """The `last_fix` before it (for rules that compare each fix with the one before on its track)."""

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
        """Nominal reporting interval in seconds for the current class, speed and status
        (`nominal_interval`)."""
        return nominal_interval(self.ais_class, self.class_b_cs, self.sog, self.nav_status)

    def stale_after(self) -> float:
        """Seconds of silence after which the target is stale (lost): 6 nominal intervals."""
        return STALE_FACTOR * self.expected_interval()

    def is_stale(self, now: float) -> bool:
        """No position for more than `stale_after()` seconds of event time (no message at all
        when the vessel never sent a position)."""
        last = self.position_time if self.position_time is not None else self.last_seen
        return now - last > self.stale_after()

    def recent_message_count(self, now: float, window_s: float = MESSAGE_WINDOW_S) -> int:
        """Messages in the last `window_s` seconds (at most 30 minutes are kept)."""
        limit = now - window_s
        return sum(1 for t in self.message_times if t >= limit)

    def recent_dr_conflicts(self, now: float, window_s: float = DR_CONFLICT_WINDOW_S) -> int:
        limit = now - window_s
        return sum(1 for t in self.dr_conflicts if t >= limit)


def nominal_interval(
    ais_class: str | None, class_b_cs: bool | None, sog: float | None, nav_status: int | None
) -> float:
    """Nominal reporting interval in seconds of a transponder of this class at this speed and status.

    IEC 62388 lost-target table divided by six: Class A at anchor or moored (and not faster than
    3 kn) 180 s, else 10 s up to 14 kn, 6 s up to 23 kn, 5 s above; Class B 180 s up to 2 kn,
    then a carrier-sense (CS) unit 30 s at any speed (ITU-R M.1371, IEC 62287-1) and a
    self-organising (SO) one 30 s / 15 s / 5 s at the same speed bands as Class A (IEC 62287-2).
    A Class B unit of unknown kind is judged as SO (the shorter intervals). Unknown speed counts
    as slow.
    """
    if ais_class == "B":
        if sog is None or sog <= 2.0:
            return 180.0
        if sog <= 14.0 or class_b_cs:
            return 30.0
        return 15.0 if sog <= 23.0 else 5.0
    if is_anchored_or_moored(nav_status) and (sog is None or sog <= 3.0):
        return 180.0
    if sog is None or sog <= 14.0:
        return 10.0
    return 6.0 if sog <= 23.0 else 5.0


@mypyc_attr(allow_interpreted_subclasses=True)  # tests compare the fast path with a plain subclass
class Tracker:
    """All vessels by MMSI, plus base stations, aids to navigation and SAR aircraft."""

    get: Callable[[int], VesselState | None]
    """The vessel of an MMSI, None when not tracked: the vessel dict's own `get`, bound in `__init__`
    (rules ask it for many vessels per report or per tick, and a C method has no Python frame)."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        """Fixed for the tracker's life (a reload keeps the tracker and its settings)."""
        self._trail_s = self.settings.trail_s
        self._trail_cap = self.settings.trail_max_points
        """The trail limits, read on every fix (plain attributes: a settings model's are slower)."""
        self._vessels: dict[int, VesselState] = {}
        self.get = self._vessels.get  # (never rebound: `_vessels` is only changed in place)
        self._by_seen: list[tuple[float, int, int, VesselState]] = []
        """A heap of (last heard, order, MMSI, vessel), one per vessel in `_vessels` (`_add`): what
        `prune` looks at, where the time is the vessel's `last_seen` when it was pushed, never newer
        than it is now (it only grows), and the order that of `_vessels` (insertion)."""
        self._order = count()
        self._shadows: dict[int, VesselState] = {}
        self.stations: dict[int, BaseStationReport] = {}
        self.aids: dict[int, AidToNavReport] = {}
        self.aircraft: dict[int, SarAircraftReport] = {}
        self._remembered: dict[int, _Remembered] = {}
        """Static data of vessels forgotten (or known before a restart), by MMSI (`restore`)."""
        self._next_memory_sweep = -math.inf
        self.resumed_at: float | None = None
        """The event time at which the tracker took up vessel tracks saved before a restart
        (`restore`): nothing was heard between their last report and this. None: never."""

    # -- queries ---------------------------------------------------------------------------------
    def shadow(self, mmsi: int) -> VesselState | None:
        """The second ship seen under `mmsi` (positions that failed the dead-reckoning test)."""
        return self._shadows.get(mmsi)

    def shadows(self) -> list[VesselState]:
        return list(self._shadows.values())

    def vessels(self) -> list[VesselState]:
        return list(self._vessels.values())

    def __len__(self) -> int:
        return len(self._vessels)

    def __iter__(self) -> Iterator[VesselState]:
        return iter(list(self._vessels.values()))

    def __contains__(self, mmsi: object) -> bool:
        return mmsi in self._vessels

    # -- updates ---------------------------------------------------------------------------------
    def update(self, report: Report) -> VesselState | None:
        """Merge one report. Returns the vessel (or its shadow) it updated; None for base
        stations, aids to navigation and SAR aircraft (kept in their own dicts)."""
        if report.__class__ is PositionReport or isinstance(report, PositionReport):
            return self._position(report)
        if isinstance(report, StaticReport):
            vessel = self._touch(report)
            self._merge_static(vessel, report)
            return vessel
        if isinstance(report, BaseStationReport):
            self.stations[report.mmsi] = report
            return None
        if isinstance(report, AidToNavReport):
            self.aids[report.mmsi] = report
            return None
        if isinstance(report, SarAircraftReport):
            self.aircraft[report.mmsi] = report
            return None
        if isinstance(report, SafetyReport):
            if report.mmsi in self.stations or report.mmsi in self.aids:
                return None
            return self._touch(report)
        return None

    def _new_state(self, mmsi: int, t: float, is_shadow: bool = False) -> VesselState:
        return VesselState(
            mmsi=mmsi,
            first_seen=t,
            last_seen=t,
            is_shadow=is_shadow,
            message_times=deque(maxlen=MAX_MESSAGE_TIMES),
            dr_conflicts=deque(maxlen=MAX_DR_CONFLICTS),
        )

    def _touch(self, report: Report, count: bool = True) -> VesselState:
        """Find or create the vessel and (unless told not to) count the message."""
        vessel = self._vessels.get(report.mmsi)
        t = report.time
        if vessel is None:
            vessel = self._new_state(report.mmsi, t)
            self._add(vessel)
            if self._remembered:
                self._recall_into(vessel, t)
        if count:
            self._count(vessel, t)
        if report.own_ship:
            vessel.own_ship = True
        ais_class = getattr(report, "ais_class", None)
        if ais_class is not None and report.msg_type != 27:
            vessel.ais_class = ais_class
            if report.msg_type == 18:
                vessel.class_b_cs = report.class_b_cs  # type: ignore[union-attr]
        return vessel

    def _count(self, vessel: VesselState, t: float) -> None:
        vessel.message_count += 1
        if t > vessel.last_seen:
            vessel.last_seen = t
        elif t < vessel.first_seen:
            vessel.first_seen = t
        times = vessel.message_times
        times.append(t)
        limit = t - MESSAGE_WINDOW_S
        while times and times[0] < limit:
            times.popleft()

    def _merge_static(self, vessel: VesselState, r: StaticReport) -> None:
        before = (vessel.ship_type, vessel.length) if vessel.static_time is not None else None
        changed = False
        for name in STATIC_FIELDS:
            value = getattr(r, name)
            if value is not None and getattr(vessel, name) != value:
                setattr(vessel, name, value)
                changed = True
        if r.msg_type == 5:  # type 5 is the whole voyage record: absent voyage fields are cleared
            for name in ("destination", "eta", "draught"):
                if getattr(r, name) is None and getattr(vessel, name) is not None:
                    setattr(vessel, name, None)
        if vessel.static_time is None or r.time > vessel.static_time:
            vessel.static_time = r.time
        if changed:
            vessel.category = category_of(vessel.ship_type)
            if before is not None and before != (vessel.ship_type, vessel.length):
                vessel.former_identities.append((r.time, *before))

    def _position(self, r: PositionReport) -> VesselState:
        """Merge a position report into the vessel's track (or its shadow's); a fix with a position
        becomes the track's `last_fix`.

        Most of the input is a known vessel's fix consistent with its track: that case is written
        out here (what `_touch`, `_count`, `_consistent` and `_kinematics` do, in one call and with
        local names), the others go through those methods."""
        mmsi = r.mmsi
        t = r.time
        lat = r.lat
        lon = r.lon
        vessel = self._vessels.get(mmsi)
        if vessel is None or r.own_ship or lat is None or lon is None:
            return self._position_slow(r)
        vessel_lat = vessel.lat
        vessel_lon = vessel.lon
        if vessel_lat is None or vessel_lon is None:
            return self._position_slow(r)
        if r.msg_type != 27:  # (`_touch`: long-range reports carry no class)
            ais_class = r.ais_class
            if ais_class is not None:
                vessel.ais_class = ais_class
                if r.msg_type == 18:
                    vessel.class_b_cs = r.class_b_cs
        sog = vessel.sog
        if not (
            (sog is None or sog <= DR_MAX_SPEED_KN)
            and abs(lat - vessel_lat) < _NEAR_DEG
            and abs(lon - vessel_lon) < _NEAR_DEG
        ) and not _consistent(vessel, r):  # (`_consistent`'s first test, inline)
            return self._inconsistent(vessel, r)
        # `_count`
        vessel.message_count += 1
        if t > vessel.last_seen:
            vessel.last_seen = t
        elif t < vessel.first_seen:
            vessel.first_seen = t
        times = vessel.message_times
        times.append(t)
        limit = t - MESSAGE_WINDOW_S
        while times[0] < limit:  # (never empties: t itself is not older than the limit)
            times.popleft()
        # `_kinematics`, with a position
        position_time = vessel.position_time
        if position_time is None or t >= position_time:
            self._apply_fix(vessel, r, t, lat, lon)
        vessel.previous_fix = vessel.last_fix
        vessel.last_fix = r
        return vessel

    def _position_slow(self, r: PositionReport) -> VesselState:
        """`_position` for every other case: a vessel new, the own ship, no position, no position on
        the track yet."""
        # Counted on the track the fix goes to: the other ship's messages must not keep the
        # primary looking alive.
        vessel = self._touch(r, count=False)
        if r.lat is None or r.lon is None:
            self._count(vessel, r.time)
            self._kinematics(vessel, r, with_position=False)
            return vessel
        if vessel.lat is not None and not _consistent(vessel, r):
            return self._inconsistent(vessel, r)
        self._count(vessel, r.time)
        self._kinematics(vessel, r, with_position=True)
        vessel.previous_fix = vessel.last_fix
        vessel.last_fix = r
        return vessel

    def _inconsistent(self, vessel: VesselState, r: PositionReport) -> VesselState:
        """A fix inconsistent with the vessel's track: another ship under this MMSI, or an outlier.
        Returns the track it went to (the shadow, or the primary when the shadow took its place)."""
        t = r.time
        conflicts = vessel.dr_conflicts
        conflicts.append(t)
        while conflicts and conflicts[0] < t - DR_CONFLICT_WINDOW_S:
            conflicts.popleft()
        shadow = self._shadows.get(r.mmsi)
        if shadow is None or shadow.lat is None or not _consistent(shadow, r):
            shadow = self._new_state(r.mmsi, t, is_shadow=True)
            self._copy_static(vessel, shadow)
            self._shadows[r.mmsi] = shadow
        self._count(shadow, t)
        self._kinematics(shadow, r, with_position=True)
        track = shadow
        if shadow.position_count >= 2 and (
            vessel.position_count == 1
            or (
                vessel.position_time is not None
                and vessel.position_time < shadow.first_seen
                and t - vessel.position_time > vessel.stale_after()
            )
        ):
            # The primary's only fix was an outlier, or the primary fell silent (stale) and the
            # shadow carries on consistently: it is the ship now transmitting, e.g. back from a
            # long gap somewhere dead reckoning could not predict.
            self._promote(vessel, shadow)
            track = vessel
        track.previous_fix = track.last_fix
        track.last_fix = r
        return track

    def _kinematics(self, v: VesselState, r: PositionReport, with_position: bool) -> None:
        t = r.time
        if v.position_time is not None and t < v.position_time:
            return  # late report (older than what we have): counted, not applied
        if with_position:
            assert r.lat is not None and r.lon is not None
            self._apply_fix(v, r, t, r.lat, r.lon)
            return
        v.sog = r.sog
        v.cog = r.cog
        if r.msg_type != 27:  # long-range reports carry no heading or rate of turn
            v.heading = r.heading
            v.rot = r.rot
            v.nav_status = r.nav_status
        elif r.nav_status is not None:
            v.nav_status = r.nav_status

    def _apply_fix(self, v: VesselState, r: PositionReport, t: float, lat: float, lon: float) -> None:
        """A fix not older than the track's latest: the vessel's kinematics and position now, and
        a trail point (the trail trimmed to `trail_minutes` and `trail_max_points`)."""
        sog = r.sog
        cog = r.cog
        v.sog = sog
        v.cog = cog
        heading = r.heading
        if r.msg_type != 27:  # long-range reports carry no heading or rate of turn
            v.heading = heading
            v.rot = r.rot
            v.nav_status = r.nav_status
        elif r.nav_status is not None:
            v.nav_status = r.nav_status
        v.position_time = t
        v.lat = lat
        v.lon = lon
        v.position_count += 1
        trail = v.trail
        trail.append(Fix(t, lat, lon, sog, cog, heading))
        limit = t - self._trail_s
        cap = self._trail_cap
        if trail[0].time < limit or len(trail) > cap:
            while trail and (len(trail) > cap or trail[0].time < limit):
                trail.popleft()

    @staticmethod
    def _copy_static(src: VesselState, dst: VesselState) -> None:
        for name in ("ais_class", "class_b_cs", "category", "own_ship", "static_time", *STATIC_FIELDS):
            setattr(dst, name, getattr(src, name))

    def _promote(self, vessel: VesselState, shadow: VesselState) -> None:
        for name in ("position_time", "lat", "lon", "sog", "cog", "heading", "nav_status", "rot"):
            setattr(vessel, name, getattr(shadow, name))
        vessel.trail = deque(shadow.trail)
        vessel.position_count = shadow.position_count
        vessel.message_count += shadow.message_count
        vessel.last_seen = max(vessel.last_seen, shadow.last_seen)
        limit = vessel.last_seen - MESSAGE_WINDOW_S
        merged = sorted(t for t in (*vessel.message_times, *shadow.message_times) if t >= limit)
        vessel.message_times = deque(merged, maxlen=MAX_MESSAGE_TIMES)
        vessel.dr_conflicts.clear()
        del self._shadows[vessel.mmsi]

    # -- forgetting ------------------------------------------------------------------------------
    def prune(self, now: float) -> list[int]:
        """Forget vessels (and stations, aids, aircraft) silent for more than forget_after_s of
        event time; returns the MMSIs of the forgotten vessels."""
        limit = now - self.settings.forget_after_s
        # Only the vessels last heard before the limit when queued are looked at (not every vessel,
        # every minute); those heard since are queued again, the others are gone, in `_vessels` order.
        heap = self._by_seen
        silent: list[tuple[int, int]] = []
        while heap and heap[0][0] < limit:
            _, order, mmsi, vessel = heapq.heappop(heap)
            if vessel.last_seen < limit:
                silent.append((order, mmsi))
            else:
                heapq.heappush(heap, (vessel.last_seen, order, mmsi, vessel))
        silent.sort()
        gone = [mmsi for _, mmsi in silent]
        keep_static = self.settings.static_memory_s > 0
        for mmsi in gone:
            vessel = self._vessels.pop(mmsi)
            self._shadows.pop(mmsi, None)
            if keep_static and vessel.static_time is not None and not vessel.own_ship:
                self._remembered[mmsi] = _remember(vessel)
        if self._remembered and now >= self._next_memory_sweep:
            # (an hour apart: recalling checks the age anyway, and a sweep looks at every entry)
            self._next_memory_sweep = now + MEMORY_SWEEP_S
            horizon = now - self.settings.static_memory_s
            for mmsi in [m for m, r in self._remembered.items() if r.heard < horizon]:
                del self._remembered[mmsi]
        outlier_limit = now - min(SHADOW_OUTLIER_FORGET_S, self.settings.forget_after_s)
        for mmsi in [
            m
            for m, s in self._shadows.items()
            if s.last_seen < limit or (s.position_count <= 1 and s.last_seen < outlier_limit)
        ]:
            del self._shadows[mmsi]
        for table in (self.stations, self.aids, self.aircraft):
            for mmsi in [m for m, rep in table.items() if rep.time < limit]:  # type: ignore[attr-defined]
                del table[mmsi]
        return gone

    def _add(self, vessel: VesselState) -> None:
        """A vessel track new in `_vessels` (queued for `prune`)."""
        self._vessels[vessel.mmsi] = vessel
        seen = vessel.last_seen
        # (a NaN time is never older than the limit: queued as never silent, as it would be judged)
        heapq.heappush(
            self._by_seen, (seen if seen == seen else math.inf, next(self._order), vessel.mmsi, vessel)
        )

    # -- static data remembered (forgotten vessels, restarts) ---------------------------------------
    def _recall_into(self, vessel: VesselState, t: float) -> None:
        """A vessel heard again (after it was forgotten, or a restart): what it declared before, if
        remembered and heard within `static_memory_hours`, is its static data until it sends new."""
        memo = self._remembered.pop(vessel.mmsi, None)
        if memo is None or t - memo.heard > self.settings.static_memory_s:
            return
        for name, value in memo.values.items():
            setattr(vessel, name, value)
        vessel.static_time = memo.static_time
        vessel.category = category_of(vessel.ship_type)

    def saved_state(self) -> dict[str, Any]:
        """What a restart needs (`restore`): the static data of every vessel known or remembered
        (``vessels``) and the tracks not forgotten (``tracks``, shadows included). Saved with the
        alert database's checkpoints, as JSON."""
        memos = dict(self._remembered)
        for mmsi, vessel in self._vessels.items():
            if vessel.static_time is not None and not vessel.own_ship:
                memos[mmsi] = _remember(vessel)
        tracks = [_track_state(v) for _, v in sorted(self._vessels.items())]
        tracks += [_track_state(v) for _, v in sorted(self._shadows.items())]
        return {
            "vessels": [[m, r.heard, r.static_time, r.values] for m, r in sorted(memos.items())],
            "tracks": tracks,
        }

    def restore(self, state: dict[str, Any], now: float) -> None:
        """After a restart, at the first event time `now`: the state saved by `saved_state`. The
        static data of vessels heard within `static_memory_hours` is theirs again from their first
        report; the tracks heard within the forget time are taken up as they were, each vessel
        silent since it was last heard (`resumed_at` = `now`). A track that cannot be read is
        skipped (`ValueError` names how many). Tracks already known are left alone."""
        horizon = now - self.settings.static_memory_s
        for mmsi, heard, static_time, values in state.get("vessels", []):
            if float(heard) >= horizon and int(mmsi) not in self._vessels:
                fields = {k: v for k, v in dict(values).items() if k in STATIC_FIELDS}
                self._remembered[int(mmsi)] = _Remembered(float(heard), float(static_time), fields)
        tracks = state.get("tracks", [])
        if not tracks:
            return
        self.resumed_at = now
        limit = now - self.settings.forget_after_s
        primaries: set[int] = set()
        damaged = 0
        for saved in tracks:
            try:
                vessel = self._track_of(saved)
            except (TypeError, ValueError, KeyError, AttributeError):
                damaged += 1
                continue
            if vessel.last_seen < limit:
                continue
            mmsi = vessel.mmsi
            if not vessel.is_shadow:
                if mmsi in self._vessels:
                    continue
                self._add(vessel)
                self._remembered.pop(mmsi, None)
                primaries.add(mmsi)
            elif mmsi in primaries:  # (after every primary: `saved_state` saves them first)
                self._shadows[mmsi] = vessel
        if damaged:
            raise ValueError(f"{damaged} saved vessel track(s) could not be read and were skipped")

    def _track_of(self, saved: dict[str, Any]) -> VesselState:
        """A `VesselState` again from `_track_state`'s record."""
        vessel = self._new_state(int(saved["mmsi"]), float(saved["first_seen"]), bool(saved.get("is_shadow")))
        for name, kind in _SAVED_FIELDS.items():
            value = saved.get(name)
            if value is not None:
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    if kind is not float or not isinstance(value, int):
                        raise ValueError(f"{name} is not {kind.__name__}: {value!r}")
                setattr(vessel, name, value)
        vessel.last_seen = float(saved["last_seen"])
        vessel.category = category_of(vessel.ship_type)
        vessel.message_times.extend(sorted(float(t) for t in saved.get("message_times", [])))
        for until, ship_type, length in saved.get("former_identities", []):
            vessel.former_identities.append((float(until), _int(ship_type), _float(length)))
        for t, lat, lon, sog, cog, heading in saved.get("trail", []):
            fix = Fix(float(t), float(lat), float(lon), _float(sog), _float(cog), _int(heading))
            vessel.trail.append(fix)
        return vessel


def _track_state(vessel: VesselState) -> dict[str, Any]:
    """A vessel track as JSON for a restart (the most recent `SAVED_TRAIL_POINTS` trail points and
    `SAVED_MESSAGE_TIMES` message times). Numbers are kept as they are: the alert database writes
    this state with Python's JSON, NaN included."""
    get = vessel.__getattribute__
    out: dict[str, Any] = {name: value for name in _SAVED_FIELDS if (value := get(name)) is not None}
    out["mmsi"] = vessel.mmsi
    out["is_shadow"] = vessel.is_shadow
    times = vessel.message_times
    out["message_times"] = list(islice(times, max(len(times) - SAVED_MESSAGE_TIMES, 0), None))
    out["former_identities"] = [list(former) for former in vessel.former_identities]
    trail = vessel.trail
    out["trail"] = [
        (f.time, f.lat, f.lon, f.sog, f.cog, f.heading)
        for f in islice(trail, max(len(trail) - SAVED_TRAIL_POINTS, 0), None)
    ]
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


_SAVED_FIELDS: dict[str, type] = {
    "first_seen": float,
    "last_seen": float,
    "ais_class": str,
    "class_b_cs": bool,
    "own_ship": bool,
    "message_count": int,
    "position_count": int,
    "position_time": float,
    "lat": float,
    "lon": float,
    "sog": float,
    "cog": float,
    "heading": int,
    "nav_status": int,
    "rot": float,
    "static_time": float,
    **STATIC_FIELD_TYPES,
}
"""The `VesselState` fields a track saved for a restart keeps as they are (`_track_state`), with
the type each must have when read back (an int is taken for a float)."""


@dataclass(slots=True)
class _Remembered:
    heard: float
    """When the vessel was last heard."""
    static_time: float
    values: dict[str, Any]
    """The `STATIC_FIELDS` it had (those not None)."""


def _remember(vessel: VesselState) -> _Remembered:
    assert vessel.static_time is not None
    values = {name: v for name in STATIC_FIELDS if (v := getattr(vessel, name)) is not None}
    return _Remembered(vessel.last_seen, vessel.static_time, values)


def _consistent(track: VesselState, r: PositionReport) -> bool:
    """gpsdio-segment test: distance from the dead-reckoned position <= (10 min + dt) x 25 kn."""
    assert track.lat is not None and track.lon is not None and track.position_time is not None
    assert r.lat is not None and r.lon is not None
    dt = abs(r.time - track.position_time)
    lat0, lon0 = track.lat, track.lon
    sog = track.sog
    if (
        (sog is None or sog <= DR_MAX_SPEED_KN)
        and abs(r.lat - lat0) < _NEAR_DEG
        and abs(r.lon - lon0) < _NEAR_DEG
    ):
        # Within ~7 km of the last fix and not faster than the limit: always consistent, since
        # |observed - predicted| <= distance + sog x dt < (10 min + dt) x 25 kn.
        return True
    if track.sog is not None and track.cog is not None and dt > 0:
        run = track.sog * _M_PER_NM * dt / 3600.0
        rad = math.radians(track.cog)
        lat0 += run * math.cos(rad) / _M_PER_DEG
        lon0 += run * math.sin(rad) / (_M_PER_DEG * max(math.cos(math.radians(track.lat)), 0.01))
    allowed = (DR_BUFFER_S + dt) / 3600.0 * DR_MAX_SPEED_KN * _M_PER_NM
    return _distance_m(lat0, lon0, r.lat, r.lon) <= allowed


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))
