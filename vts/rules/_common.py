"""Small helpers shared by the security rules: zone kinds, the watched area, names, allow-lists."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from vts.alerts.model import Severity
from vts.config import ALLOW_ROLES, Allowlists, AllowRole, ZoneKind
from vts.mid import DUMMY_MMSIS, MmsiInfo, classify_mmsi, mmsi_kind

if TYPE_CHECKING:
    from vts.tracker import VesselState
    from vts.zones import ZoneEngine

AREA_KINDS: tuple[ZoneKind, ...] = ("area_of_interest", "coverage")
"""Zone kinds that delimit the watched area (and the receiver coverage)."""
LYING_STILL_KINDS: tuple[ZoneKind, ...] = (
    "berth",
    "terminal",
    "fishing_dock",
    "anchorage",
    "waiting_area",
    "port_area",
)
"""Zone kinds where ships lie still, moored or at anchor, whatever their status or speed says
(course_anomaly's stops, drifting's "not under command")."""
ALL_ROLES: tuple[AllowRole, ...] = ALLOW_ROLES
"""Every allow-list (the default of the rules' ``exempt_roles``)."""
SERVICE_SHIP_TYPES = (50, 51, 52, 53, 55)
"""AIS ship types whose normal work is meeting, attending or waiting for ships: pilot vessel 50,
search and rescue 51, tug 52, port tender 53, law enforcement 55."""

NOT_VESSEL_KINDS = frozenset(
    {"sart", "mob", "epirb", "amrd", "aton", "coast_station", "sar_aircraft", "group"}
)
"""MMSI formats that are not vessels: distress beacons (their own alerts), aids to navigation,
stations and aircraft. Invalid MMSIs, handheld radios and auxiliary craft count as vessels."""


@functools.lru_cache(maxsize=100_000)
def mmsi_info(mmsi: int) -> MmsiInfo:
    """`classify_mmsi`, cached per MMSI (the rules ask it on every report; the answer never changes)."""
    return classify_mmsi(mmsi)


@functools.lru_cache(maxsize=100_000)
def is_vessel_mmsi(mmsi: int) -> bool:
    """Whether the behaviour rules (loitering, alongside, going dark ...) apply to this MMSI."""
    return mmsi_kind(mmsi) not in NOT_VESSEL_KINDS


PLACEHOLDER_ARRAY = np.array(sorted(DUMMY_MMSIS), dtype=np.int64)
"""`vts.mid.DUMMY_MMSIS`, sorted, for numpy tests over columns of MMSIs."""


def is_placeholder_mmsi(mmsi: int) -> bool:
    """A placeholder MMSI (0, 123456789, 0x123456 ...: `vts.mid.DUMMY_MMSIS`) is shared by unrelated
    transmitters: jumps and "two ships under one MMSI" are then the normal state of affairs, not an
    anomaly of one ship. invalid_mmsi reports the MMSI itself; position_jump and duplicate_mmsi leave
    it alone."""
    return mmsi in DUMMY_MMSIS


def placeholder_rows(mmsi: np.ndarray) -> np.ndarray:
    """`is_placeholder_mmsi` of each value of an array of MMSIs."""
    return _in_sorted(PLACEHOLDER_ARRAY, mmsi)


def rows_of(mmsi: np.ndarray, mmsis: Collection[int]) -> np.ndarray:
    """`np.isin(mmsi, list(mmsis))` for a column of MMSIs and a set of them."""
    if not mmsis:
        return np.zeros(len(mmsi), dtype=bool)
    return _in_sorted(np.sort(np.fromiter(mmsis, dtype=np.int64, count=len(mmsis))), mmsi)


def _in_sorted(values: np.ndarray, mmsi: np.ndarray) -> np.ndarray:
    """Whether each MMSI of the column is one of `values` (sorted, not empty), by a binary search:
    about three times as fast as `np.isin`, which sorts the column with them."""
    at = np.searchsorted(values, mmsi)
    np.minimum(at, len(values) - 1, out=at)
    out: np.ndarray = values[at] == mmsi
    return out


DISTRESS_DEVICE_MESSAGES = frozenset({1, 2, 3, 14})
"""What an AIS-SART, MOB or EPIRB-AIS transmits (ITU-R M.1371-5 Annex 9, IEC 61097-14): position
reports of type 1 (status 14 "active", 15 in test) and safety texts of type 14 ("SART ACTIVE",
"SART TEST"). A Class B transponder (types 18, 19, 24) under a 970/972/974 number is not such a
device: in practice a fishing-net buoy or another gadget configured with a number it should not
use. The distress rule leaves it alone and invalid_mmsi reports it."""


def distress_device_rows(mmsi: np.ndarray) -> np.ndarray:
    """Rows of an array of MMSIs in the distress-device ranges 970xxxxxx, 972xxxxxx, 974xxxxxx."""
    near = (mmsi >= 970_000_000) & (mmsi < 975_000_000)
    if not near.any():
        return near  # the usual batch: no device at all
    prefix = mmsi // 1_000_000
    out: np.ndarray = near & ((prefix == 970) | (prefix == 972) | (prefix == 974))
    return out


_kind_cache: dict[tuple[int, tuple[str, ...]], tuple[object, frozenset[str]]] = {}


def zone_ids_of_kinds(zones: ZoneEngine, kinds: Sequence[str]) -> frozenset[str]:
    """Ids of the configured zones of these kinds (cached per zone engine object)."""
    key = (id(zones), tuple(kinds))
    hit = _kind_cache.get(key)
    if hit is not None and hit[0] is zones:
        return hit[1]
    wanted = set(kinds)
    ids = frozenset(z.id for z in zones.zones if z.kind in wanted)
    if len(_kind_cache) > 256:
        _kind_cache.clear()
    _kind_cache[key] = (zones, ids)
    return ids


def in_kinds(zones: ZoneEngine, mmsi: int, kinds: Sequence[str]) -> list[str]:
    """Sorted ids of the zones of these kinds the vessel is confirmed in."""
    ids = zone_ids_of_kinds(zones, kinds)
    if not ids:
        return []
    return sorted(zones.zones_of(mmsi) & ids)


def at_kinds(zones: ZoneEngine, lat: float, lon: float, kinds: Sequence[str]) -> list[str]:
    """Sorted ids of the zones of these kinds containing the point (instant)."""
    ids = zone_ids_of_kinds(zones, kinds)
    if not ids:
        return []
    return sorted(z.id for z in zones.zones_at(lon, lat) if z.id in ids)


def in_watched_area(zones: ZoneEngine, lat: float, lon: float) -> bool:
    """Inside the area of interest / coverage zones; everywhere when none is configured."""
    ids = zone_ids_of_kinds(zones, AREA_KINDS)
    if not ids:
        return True
    return any(z.id in ids for z in zones.zones_at(lon, lat))


_allow_cache: dict[tuple[int, tuple[str, ...]], tuple[object, frozenset[int]]] = {}


def declares_service_type(vessel: VesselState, ship_types: Sequence[int]) -> bool:
    """The vessel is a Class A station declaring one of these service ship types (pilot, SAR, tug,
    port tender, law enforcement): exempt, like an allow-listed MMSI, from the rules their work
    would trip. A Class B transponder's ship type is anyone's to set (a boat fixing drugs to a hull
    could call itself a tug): there only the allow-lists exempt (alert-anchors: "except ... on
    allow-list")."""
    return vessel.ship_type is not None and vessel.ship_type in ship_types and vessel.ais_class != "B"


def allowlisted_mmsis(allowlists: Allowlists, roles: Sequence[str]) -> frozenset[int]:
    """The MMSIs on any of these allow-lists, as one set (cached per Allowlists object and roles)."""
    key = (id(allowlists), tuple(roles))
    hit = _allow_cache.get(key)
    if hit is None or hit[0] is not allowlists:
        hit = (allowlists, frozenset(m for role in roles for m in getattr(allowlists, role, ())))
        if len(_allow_cache) > 256:
            _allow_cache.clear()
        _allow_cache[key] = hit
    return hit[1]


def is_allowlisted(allowlists: Allowlists, mmsi: int, roles: Sequence[str]) -> bool:
    """On any of these allow-lists (a set lookup: `allowlisted_mmsis`)."""
    if not roles:
        return False
    return mmsi in allowlisted_mmsis(allowlists, roles)


def label(vessel: VesselState | None, mmsi: int) -> str:
    """How a vessel is named in a message: its name and MMSI, or the MMSI alone."""
    if vessel is not None and vessel.name:
        return f"{vessel.name} ({mmsi})"
    return str(mmsi)


def zone_name(zones: ZoneEngine, zone_id: str) -> str:
    try:
        return zones.zone(zone_id).name
    except KeyError:
        return zone_id


def most_severe(*severities: Severity) -> Severity:
    order: tuple[Severity, ...] = ("emergency", "alarm", "warning", "caution", "info")
    return min(severities, key=order.index)


Box = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat)."""


class ZoneKinds:
    """The configured zones of some kinds, for the zone engine last seen (reloads are noticed), with
    their bounding box: most fixes are nowhere near them, and a box test answers those without the
    zone index. Every answer is the one the helper of this module named in each method gives."""

    __slots__ = ("box", "ids", "kinds", "zones")

    def __init__(self, kinds: Sequence[str]) -> None:
        self.kinds = tuple(kinds)
        self.zones: object = None
        """The zone engine the ids and box are of."""
        self.ids: frozenset[str] = frozenset()
        self.box: Box | None = None
        """None when there is no such zone (or only empty ones)."""

    def load(self, zones: ZoneEngine) -> ZoneKinds:
        if zones is not self.zones:
            self.ids = zone_ids_of_kinds(zones, self.kinds)
            bounds = [z.geometry.bounds for z in zones.zones if z.id in self.ids and not z.geometry.is_empty]
            self.box = None
            if bounds:
                self.box = (
                    min(b[0] for b in bounds),
                    min(b[1] for b in bounds),
                    max(b[2] for b in bounds),
                    max(b[3] for b in bounds),
                )
            self.zones = zones
        return self

    def near(self, lat: float, lon: float) -> bool:
        """In the bounding box (a point outside it is in none of the zones)."""
        box = self.box
        return box is not None and box[0] <= lon <= box[2] and box[1] <= lat <= box[3]

    def contains(self, zones: ZoneEngine, lat: float, lon: float) -> bool:
        """`in_watched_area` for the area kinds: in one of the zones, or True when none exists."""
        if zones is not self.zones:
            self.load(zones)
        if not self.ids:
            return True
        box = self.box  # (`near`, inline)
        if box is None or not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
            return False
        if self.kinds != AREA_KINDS:
            return in_watched_area(zones, lat, lon)
        ids = self.ids  # (`in_watched_area`, whose ids these are)
        return any(z.id in ids for z in zones.zones_at(lon, lat))

    def at(self, zones: ZoneEngine, lat: float, lon: float) -> list[str]:
        """`at_kinds`: sorted ids of the zones containing the point."""
        self.load(zones)
        return at_kinds(zones, lat, lon, self.kinds) if self.near(lat, lon) else []

    def member(self, zones: ZoneEngine, mmsi: int) -> list[str]:
        """`in_kinds`: sorted ids of the zones the vessel is confirmed in."""
        self.load(zones)
        if not self.ids:
            return []
        return sorted(zones.zones_of(mmsi) & self.ids)
