"""The `Alert` record and its JSON form.

The JSON form (one object per line) is a public format: `vts replay --alerts-out`, the MQTT payload
and the map all use exactly this, produced by `Alert.to_json()`. Keys, in order:

    id, type, severity, state, mmsi, other_mmsi, zone, time, started, lat, lon, name, message,
    details, rule

`time` is the event time of this lifecycle step and `started` the event time the alert was raised,
both ISO 8601 UTC with milliseconds and a `Z`. Times come from the AIS data, never the wall clock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from vts.jsontext import dumps

Severity = Literal["emergency", "alarm", "warning", "caution", "info"]
AlertState = Literal["raised", "updated", "cleared"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""Most severe first."""


def severity_rank(severity: Severity) -> int:
    """0 for emergency ... 4 for info."""
    return SEVERITIES.index(severity)


def iso_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso_time(s: str) -> float:
    """Seconds since the epoch of an ISO 8601 time; a time without a zone is UTC, as every vts time is
    (never the machine's local time). ValueError when it is not such a time."""
    parsed = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def make_alert_id(
    type_: str, mmsi: int, other_mmsi: int | None, zone: str | None, started: float, seq: int = 0
) -> str:
    """A stable id: the same condition in the same log always gets the same id. `seq` tells apart
    alerts of one key started at the same instant (two kinds of event, a clear and a new raise)."""
    key = f"{type_}|{mmsi}|{other_mmsi or ''}|{zone or ''}|{started:.3f}" + (f"|{seq}" if seq else "")
    return hashlib.sha1(key.encode()).hexdigest()[:16]


@dataclass(slots=True)
class Alert:
    id: str
    type: str
    severity: Severity
    state: AlertState
    mmsi: int
    time: float
    started: float
    message: str
    lat: float | None = None
    lon: float | None = None
    other_mmsi: int | None = None
    zone: str | None = None
    name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rule: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "severity": self.severity,
            "state": self.state,
            "mmsi": self.mmsi,
            "other_mmsi": self.other_mmsi,
            "zone": self.zone,
            "time": iso_time(self.time),
            "started": iso_time(self.started),
            "lat": None if self.lat is None else round(self.lat, 6),
            "lon": None if self.lon is None else round(self.lon, 6),
            "name": self.name,
            "message": self.message,
            "details": self.details,
            "rule": self.rule,
        }

    def to_json(self) -> str:
        """Compact JSON; a NaN or infinity in the evidence (JSON has none) is written as null, so
        the step is still stored and published (`vts.jsontext.dumps`)."""
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        return cls(
            id=d["id"],
            type=d["type"],
            severity=d["severity"],
            state=d["state"],
            mmsi=int(d["mmsi"]),
            other_mmsi=None if d.get("other_mmsi") is None else int(d["other_mmsi"]),
            zone=d.get("zone"),
            time=parse_iso_time(d["time"]),
            started=parse_iso_time(d.get("started") or d["time"]),
            lat=d.get("lat"),
            lon=d.get("lon"),
            name=d.get("name"),
            message=d.get("message", ""),
            details=dict(d.get("details") or {}),
            rule=dict(d.get("rule") or {}),
        )

    @classmethod
    def from_json(cls, line: str) -> Alert:
        return cls.from_dict(json.loads(line))
