"""Configuration: the typed schema of `config/callao_bay.yaml` and its loading.

CONTRACT (the zones/config work owns and extends this module):

* ``load_config(path: str | Path | None = None) -> Config``; ``None`` means the default Callao
  configuration (``default_config_path()``). Every mistake raises `ConfigError` whose message names
  the file, the zone or key, and what is wrong.
* ``Config`` attributes: ``sources``, ``tracker``, ``zones``, ``land``, ``allowlists``, ``rules``
  (rule id -> validated `RuleParams`), ``alerts``, ``mqtt``, ``web``, ``utc_offset_hours``,
  and ``path`` (the file it was loaded from, for resolving relative paths).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vts.alerts.settings import AlertSettings
from vts.mqtt.settings import MqttSettings
from vts.rules.base import RuleParams
from vts.sources.settings import SourceSettings
from vts.tracker import TrackerSettings
from vts.web.settings import WebSettings

ZoneKind = Literal[
    "area_of_interest",
    "port_area",
    "entrance",
    "channel",
    "lane",
    "anchorage",
    "terminal",
    "berth",
    "restricted",
    "protected",
    "security_zone",
    "waiting_area",
    "fishing_dock",
    "coverage",
]


class ConfigError(Exception):
    """A configuration mistake, with a message an operator can act on."""


class ZoneSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    kind: ZoneKind
    polygon: list[tuple[float, float]] = Field(description="closed ring of (lon, lat) points, WGS84")
    source: str | None = None
    confidence: Literal["high", "medium", "low"] | None = None
    severity: Literal["emergency", "alarm", "warning", "caution", "info"] | None = None
    speed_limit_kn: float | None = Field(None, gt=0)
    allowed_categories: list[str] | None = None
    direction_deg: float | None = Field(None, ge=0, lt=360, description="lanes: direction of travel")
    max_dwell_minutes: float | None = Field(None, gt=0)
    night_only: bool = False
    record_visits: bool = False


class Allowlists(BaseModel):
    """MMSIs whose normal work would otherwise raise alerts."""

    model_config = ConfigDict(extra="forbid")

    coastguard: list[int] = Field(default_factory=list)
    pilot: list[int] = Field(default_factory=list)
    tug: list[int] = Field(default_factory=list)
    other: list[int] = Field(default_factory=list)

    def roles(self, mmsi: int) -> set[str]:
        return {role for role in ("coastguard", "pilot", "tug", "other") if mmsi in getattr(self, role)}

    def is_allowed(self, mmsi: int, *roles: str) -> bool:
        """True when the MMSI is on any of the given lists (all lists when none is given)."""
        wanted = roles or ("coastguard", "pilot", "tug", "other")
        return any(mmsi in getattr(self, r) for r in wanted)


class LandSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str | None = Field(None, description="GeoJSON of land polygons, relative to the config file")
    attribution: str = "© OpenStreetMap contributors (ODbL)"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    include: list[str] = Field(default_factory=list)
    sources: list[SourceSettings] = Field(default_factory=list)
    tracker: TrackerSettings = Field(default_factory=TrackerSettings)
    zones: list[ZoneSettings] = Field(default_factory=list)
    land: LandSettings = Field(default_factory=LandSettings)
    allowlists: Allowlists = Field(default_factory=Allowlists)
    rules: dict[str, RuleParams] = Field(default_factory=dict)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    utc_offset_hours: float = Field(-5.0, ge=-14, le=14, description="local time for night rules")
    path: Path | None = Field(None, exclude=True)


def default_config_path() -> Path:
    return Path(__file__).resolve().parent.parent / "config" / "callao_bay.yaml"


def load_config(path: str | Path | None = None) -> Config:
    raise NotImplementedError


def config_from_dict(raw: dict[str, Any], path: Path | None = None) -> Config:
    raise NotImplementedError
