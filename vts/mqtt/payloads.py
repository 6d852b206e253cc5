"""What goes into each MQTT message: payload bytes and MQTT 5 properties.

The alert payload is exactly `Alert.to_json()` (the `--alerts-out` line; JSON Schema in
``docs/alert.schema.json``). Vessel and status payloads are small JSON objects documented in
``docs/mqtt.md``. MQTT 5 properties are only attached when the connection speaks MQTT 5.
"""

from __future__ import annotations

import json
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vts import __version__
from vts.alerts.model import Alert, iso_time
from vts.tracker import VesselState

ALERT_SCHEMA = "vts.alert/1"
VESSEL_SCHEMA = "vts.vessel/1"
STATUS_SCHEMA = "vts.status/1"
JSON_CONTENT_TYPE = "application/json"


def _dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def alert_payload(alert: Alert) -> bytes:
    return alert.to_json().encode()


def alert_properties(alert: Alert) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = JSON_CONTENT_TYPE
    props.UserProperty = [
        ("alert_id", alert.id),
        ("type", alert.type),
        ("severity", alert.severity),
        ("state", alert.state),
        ("schema", ALERT_SCHEMA),
    ]
    return props


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def vessel_payload(vessel: VesselState) -> bytes:
    """Position, speed, course, name and category of one vessel (event time)."""
    return _dumps(
        {
            "mmsi": vessel.mmsi,
            "time": iso_time(vessel.position_time if vessel.position_time is not None else vessel.last_seen),
            "lat": _round(vessel.lat, 6),
            "lon": _round(vessel.lon, 6),
            "sog": _round(vessel.sog, 1),
            "cog": _round(vessel.cog, 1),
            "heading": vessel.heading,
            "nav_status": vessel.nav_status,
            "name": vessel.name,
            "callsign": vessel.callsign,
            "imo": vessel.imo,
            "ship_type": vessel.ship_type,
            "category": vessel.category,
            "ais_class": vessel.ais_class,
            "length": vessel.length,
            "beam": vessel.beam,
            "destination": vessel.destination,
            "last_seen": iso_time(vessel.last_seen),
        }
    )


def vessel_properties(expiry_s: int) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = JSON_CONTENT_TYPE
    props.MessageExpiryInterval = expiry_s
    props.UserProperty = [("schema", VESSEL_SCHEMA)]
    return props


def status_payload(online: bool, counters: dict[str, Any] | None = None, since: float | None = None) -> bytes:
    """``{"status": "online"|"offline", "online": bool, "version": ..., "since": ..., "counters": {...}}``."""
    body: dict[str, Any] = {
        "status": "online" if online else "offline",
        "online": online,
        "version": __version__,
    }
    if since is not None:
        body["since"] = iso_time(since)
    if counters is not None:
        body["counters"] = counters
    return _dumps(body)


def status_properties() -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = JSON_CONTENT_TYPE
    props.UserProperty = [("schema", STATUS_SCHEMA)]
    return props


def will_properties() -> Properties:
    props = Properties(PacketTypes.WILLMESSAGE)
    props.ContentType = JSON_CONTENT_TYPE
    props.UserProperty = [("schema", STATUS_SCHEMA)]
    return props
