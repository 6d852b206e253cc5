"""Vessels as compact GeoJSON for the live map, and one vessel's full details.

The map polls `/api/vessels` every second or so with thousands of targets, so each feature carries
only what the symbol needs, under one-letter keys (documented in `VESSEL_KEYS`); coordinates are
rounded to 1e-5 degree (about a metre). Everything else (names of zones, static data, the trail)
is fetched for one vessel at a time from `/api/vessels/{mmsi}`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vts.alerts.model import SEVERITIES, Alert, iso_time, severity_rank
from vts.tracker import VesselState

log = logging.getLogger(__name__)

VESSEL_KEYS: dict[str, str] = {
    "m": "MMSI",
    "n": "name (omitted when unknown)",
    "c": "category (cargo, tanker, ...)",
    "g": "course over ground, degrees (omitted when unknown)",
    "h": "true heading, degrees (omitted when unknown)",
    "s": "speed over ground, knots (omitted when unknown)",
    "x": "1 when the target is stale (omitted otherwise)",
    "a": "severity of its worst active alert (omitted when none)",
}

NAV_STATUS: dict[int, str] = {
    0: "under way using engine",
    1: "at anchor",
    2: "not under command",
    3: "restricted manoeuvrability",
    4: "constrained by her draught",
    5: "moored",
    6: "aground",
    7: "engaged in fishing",
    8: "under way sailing",
    9: "reserved (HSC)",
    10: "reserved (WIG)",
    11: "towing astern",
    12: "pushing ahead / towing alongside",
    13: "reserved",
    14: "AIS-SART / MOB / EPIRB active",
    15: "undefined",
}


class TrackerLike(Protocol):
    def vessels(self) -> list[VesselState]: ...
    def get(self, mmsi: int) -> VesselState | None: ...


@dataclass(slots=True)
class AlertIndex:
    """Active alerts by vessel: the worst severity per MMSI and the alerts themselves."""

    worst: dict[int, str] = field(default_factory=dict)
    by_mmsi: dict[int, list[Alert]] = field(default_factory=dict)

    @classmethod
    def of(cls, alerts: Iterable[Alert]) -> AlertIndex:
        index = cls()
        for alert in alerts:
            for mmsi in (alert.mmsi, alert.other_mmsi):
                if mmsi is None:
                    continue
                index.by_mmsi.setdefault(mmsi, []).append(alert)
                current = index.worst.get(mmsi)
                if current is None or severity_rank(alert.severity) < severity_rank(current):  # type: ignore[arg-type]
                    index.worst[mmsi] = alert.severity
        return index


def is_stale(vessel: VesselState, now: float | None) -> bool:
    if now is None:
        return False
    try:
        return bool(vessel.is_stale(now))
    except NotImplementedError:  # tracker still being built: a plain 6-minute rule
        return now - vessel.last_seen > 360.0


def vessel_feature(vessel: VesselState, now: float | None, alerts: AlertIndex) -> dict[str, Any] | None:
    """One compact feature, or None for a vessel with no position."""
    if vessel.lat is None or vessel.lon is None:
        return None
    props: dict[str, Any] = {"m": vessel.mmsi, "c": vessel.category}
    if vessel.name:
        props["n"] = vessel.name
    if vessel.cog is not None:
        props["g"] = round(vessel.cog, 1)
    if vessel.heading is not None:
        props["h"] = vessel.heading
    if vessel.sog is not None:
        props["s"] = round(vessel.sog, 1)
    if is_stale(vessel, now):
        props["x"] = 1
    severity = alerts.worst.get(vessel.mmsi)
    if severity is not None:
        props["a"] = severity
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(vessel.lon, 5), round(vessel.lat, 5)]},
        "properties": props,
    }


@dataclass(slots=True)
class VesselFilter:
    """The vessel list's search: free text (name, MMSI, call sign, IMO), category, zone, alerting.

    `min_severity` keeps the vessels whose worst active alert is at least that severe (and so
    implies `alerting`): the page's "with active alerts only" asks for `caution`, the vessels it
    outlines in red, not the many whose only alert is a zone entry or exit (info)."""

    q: str = ""
    category: str = ""
    zone: str = ""
    alerting: bool = False
    min_severity: str = ""
    limit: int | None = None

    def matches(self, vessel: VesselState, zones_of: set[str], alerts: AlertIndex) -> bool:
        if self.category and vessel.category != self.category:
            return False
        if self.zone and self.zone not in zones_of:
            return False
        if self.alerting and vessel.mmsi not in alerts.worst:
            return False
        if self.min_severity:
            worst = alerts.worst.get(vessel.mmsi)
            if worst is None or severity_rank(worst) > severity_rank(self.min_severity):  # type: ignore[arg-type]
                return False
        if self.q:
            q = self.q.strip().lower()
            haystack = " ".join(
                str(v) for v in (vessel.mmsi, vessel.name, vessel.callsign, vessel.imo) if v is not None
            ).lower()
            if q not in haystack:
                return False
        return True

    @property
    def needs_zones(self) -> bool:
        return bool(self.zone)

    @property
    def active(self) -> bool:
        return bool(self.q or self.category or self.zone or self.alerting or self.min_severity)


def vessels_collection(
    vessels: Iterable[VesselState],
    now: float | None,
    alerts: AlertIndex,
    zones_of: Any = None,
    flt: VesselFilter | None = None,
) -> dict[str, Any]:
    """The FeatureCollection of `/api/vessels`. `zones_of(mmsi) -> set[str]` is needed for a zone filter."""
    features: list[dict[str, Any]] = []
    limit = flt.limit if flt is not None else None
    for vessel in vessels:
        if limit is not None and len(features) >= limit:
            break
        if vessel.is_shadow:
            continue
        if flt is not None and flt.active:
            zones = _zones(zones_of, vessel.mmsi) if flt.needs_zones else set()
            if not flt.matches(vessel, zones, alerts):
                continue
        feature = vessel_feature(vessel, now, alerts)
        if feature is not None:
            features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def _zones(zones_of: Any, mmsi: int) -> set[str]:
    if zones_of is None:
        return set()
    try:
        return set(zones_of(mmsi))
    except Exception:  # zone engine in flux: no zones rather than a failed request
        log.debug("zones_of(%s) failed", mmsi, exc_info=True)
        return set()


def ship_type_text(ship_type: int | None) -> str | None:
    if ship_type is None:
        return None
    try:
        from pyais.constants import ShipType

        name = ShipType(ship_type).name
    except (ValueError, ImportError):
        return f"type {ship_type}"
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)", " ", name).replace("_", " ")
    return f"{words.lower()} ({ship_type})"


def flag_of(mmsi: int) -> str | None:
    """Country of the MID, when `vts.mid` knows it."""
    try:
        from vts.mid import flag_of as mid_flag
    except ImportError:
        return None
    try:
        flag = mid_flag(mmsi)
    except Exception:
        log.debug("flag_of(%s) failed", mmsi, exc_info=True)
        return None
    return None if flag is None else str(flag)


def _t(t: float | None) -> str | None:
    return None if t is None else iso_time(t)


def vessel_details(
    vessel: VesselState,
    now: float | None,
    alerts: AlertIndex,
    zones: list[dict[str, str]],
) -> dict[str, Any]:
    """Everything the details panel shows, plus the trail as a GeoJSON LineString."""
    trail = [[round(f.lon, 5), round(f.lat, 5)] for f in vessel.trail]
    trail_times = [round(f.time, 1) for f in vessel.trail]
    vessel_alerts = sorted(alerts.by_mmsi.get(vessel.mmsi, []), key=lambda a: a.time, reverse=True)
    return {
        "mmsi": vessel.mmsi,
        "name": vessel.name,
        "callsign": vessel.callsign,
        "imo": vessel.imo,
        "flag": flag_of(vessel.mmsi),
        "category": vessel.category,
        "ship_type": vessel.ship_type,
        "ship_type_text": ship_type_text(vessel.ship_type),
        "ais_class": vessel.ais_class,
        "length_m": vessel.length,
        "beam_m": vessel.beam,
        "draught_m": vessel.draught,
        "destination": vessel.destination,
        "eta": vessel.eta,
        "nav_status": vessel.nav_status,
        "nav_status_text": None if vessel.nav_status is None else NAV_STATUS.get(vessel.nav_status),
        "lat": None if vessel.lat is None else round(vessel.lat, 6),
        "lon": None if vessel.lon is None else round(vessel.lon, 6),
        "sog": vessel.sog,
        "cog": vessel.cog,
        "heading": vessel.heading,
        "rot": vessel.rot,
        "first_seen": _t(vessel.first_seen),
        "last_seen": _t(vessel.last_seen),
        "age_s": None if now is None else round(max(0.0, now - vessel.last_seen), 1),
        "stale": is_stale(vessel, now),
        "messages": vessel.message_count,
        "zones": zones,
        "alerts": [a.to_dict() for a in vessel_alerts],
        "trail": {"type": "LineString", "coordinates": trail},
        "trail_times": trail_times,
    }


def severity_counts(alerts: Iterable[Alert]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for alert in alerts:
        counts[alert.severity] = counts.get(alert.severity, 0) + 1
    return counts
