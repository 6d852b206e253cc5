"""Configuration: the typed schema of `config/callao_bay.yaml` and its loading.

CONTRACT (the zones/config work owns and extends this module):

* ``load_config(path: str | Path | None = None) -> Config``; ``None`` means the default Callao
  configuration (``default_config_path()``). Every mistake raises `ConfigError` whose message names
  the file, the zone or key, and what is wrong.
* ``Config`` attributes: ``sources``, ``tracker``, ``zones``, ``land``, ``allowlists``, ``rules``
  (rule id -> validated `RuleParams`), ``alerts``, ``mqtt``, ``web``, ``utc_offset_hours``,
  and ``path`` (the file it was loaded from, for resolving relative paths).

Includes: a file may list other files under ``include:`` (paths relative to the including file).
They are read first, in order; the including file then overrides them: mappings are merged key by
key, lists are replaced, except ``zones``, which are merged by ``id`` (same id: the given fields
override the included zone's; ``disable: true`` removes it; a new id adds a zone).

The geometry checks (closed rings, at least three points, no self-intersection, lon/lat ranges, a
polygon swapped into Antarctica or lying entirely on land) and the ``rules:`` section (through
`vts.rules.registry.validate_rule_params`, so every rule gets its defaults) are checked here too.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from pathlib import Path
from typing import Any, Literal, get_args

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from vts.alerts.settings import AlertSettings
from vts.mqtt.settings import MqttSettings
from vts.mqtt.urls import mask_url
from vts.sources.settings import SourceSettings
from vts.tracker import VesselCategory
from vts.tracker_settings import TrackerSettings
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
"""The kinds of zone; rule parameters naming zone kinds (``zone_kinds``, ``exempt_zone_kinds`` ...)
are typed with it, so a misspelt kind is a configuration error, not a rule silently off."""
ZONE_KINDS: tuple[str, ...] = get_args(ZoneKind)
AllowRole = Literal["coastguard", "pilot", "tug", "other"]
"""The allow-lists (`Allowlists`); rule parameters naming roles (``exempt_roles``) are typed with it."""
ALLOW_ROLES: tuple[AllowRole, ...] = get_args(AllowRole)

Ring = list[tuple[float, float]]
ANTARCTIC_LAT = -60.0
"""A zone whose every point lies south of this latitude has almost surely swapped lon and lat."""


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML loading (the C parser when available) that refuses a key given twice in a mapping."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the constructor below reports it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given at line {first})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node)  # type: ignore[no-untyped-call]


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)


class ConfigError(Exception):
    """A configuration mistake, with a message an operator can act on."""


class PolygonPart(BaseModel):
    """An extra polygon of a zone made of several pieces."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    polygon: Ring = Field(description="closed ring of [lon, lat] points, WGS84")
    holes: list[Ring] = Field(default_factory=list, description="closed rings cut out of the polygon")


class ZoneSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str = Field(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="letters, digits, _ . - (it appears in MQTT topics and URLs)",
    )
    name: str
    kind: ZoneKind
    polygon: Ring = Field(description="closed ring of (lon, lat) points, WGS84")
    holes: list[Ring] = Field(default_factory=list, description="closed rings cut out of the polygon")
    parts: list[PolygonPart] = Field(default_factory=list, description="further polygons of the same zone")
    source: str | None = None
    confidence: Literal["high", "medium", "low"] | None = None
    notes: str | None = None
    severity: Literal["emergency", "alarm", "warning", "caution", "info"] | None = None
    speed_limit_kn: float | None = Field(None, gt=0)
    allowed_categories: list[VesselCategory] | None = None
    direction_deg: float | None = Field(None, ge=0, lt=360, description="lanes: direction of travel")
    max_dwell_minutes: float | None = Field(None, gt=0)
    night_only: bool = False
    night_hours: tuple[float, float] = Field(
        (18.0, 6.0), description="local hours [start, end) counted as night (for night_only rules)"
    )
    record_visits: bool = False

    def geometry(self) -> Polygon | MultiPolygon:
        """The zone as a shapely (lon, lat) geometry: the polygon with its holes, plus any parts."""
        polys = [Polygon(self.polygon, self.holes)]
        polys += [Polygon(p.polygon, p.holes) for p in self.parts]
        return polys[0] if len(polys) == 1 else MultiPolygon(polys)

    def geojson_geometry(self) -> dict[str, Any]:
        """The zone's geometry as a GeoJSON mapping (Polygon with holes, or MultiPolygon with parts)."""
        geom: dict[str, Any] = json.loads(shapely.to_geojson(self.geometry()))
        return geom

    def is_night(self, t: float, utc_offset_hours: float) -> bool:
        """Whether event time `t` (UNIX seconds) falls in this zone's night hours, local time."""
        hour = ((t / 3600.0) + utc_offset_hours) % 24.0
        start, end = self.night_hours
        return start <= hour < end if start <= end else hour >= start or hour < end


class Allowlists(BaseModel):
    """MMSIs whose normal work would otherwise raise alerts."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    coastguard: list[int] = Field(default_factory=list)
    pilot: list[int] = Field(default_factory=list)
    tug: list[int] = Field(default_factory=list)
    other: list[int] = Field(default_factory=list)

    def roles(self, mmsi: int) -> set[str]:
        return {role for role in ALLOW_ROLES if mmsi in getattr(self, role)}

    def is_allowed(self, mmsi: int, *roles: str) -> bool:
        """True when the MMSI is on any of the given lists (all lists when none is given)."""
        wanted = roles or ALLOW_ROLES
        return any(mmsi in getattr(self, r) for r in wanted)


class LandSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    file: str | None = Field(None, description="GeoJSON of land polygons, relative to the config file")
    attribution: str = "© OpenStreetMap contributors (ODbL)"


class ZoneEngineSettings(BaseModel):
    """`zone_engine:` section: the hysteresis of zone entries and exits."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    entry_confirm_s: float = Field(10.0, ge=0, description="an entry needs two fixes inside this far apart")
    exit_margin_m: float = Field(50.0, ge=0, description="an exit needs the vessel this far outside")
    gap_reset_s: float = Field(600.0, gt=0, description="a reception gap this long resets pending crossings")
    outlier_speed_kn: float = Field(
        50.0,
        ge=0,
        description="a fix that would confirm an exit, over 300 m from the fix before at more than this "
        "implied speed, is held back until a second fix confirms it (a lone GNSS outlier); 0: never",
    )


class RuleParams(BaseModel):
    """Base of every rule's parameters. Subclasses add their thresholds with defaults and descriptions."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = True


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, allow_inf_nan=False)

    include: list[str] = Field(default_factory=list)
    sources: list[SourceSettings] = Field(default_factory=list)
    tracker: TrackerSettings = Field(default_factory=TrackerSettings)
    zones: list[ZoneSettings] = Field(default_factory=list)
    zone_engine: ZoneEngineSettings = Field(default_factory=ZoneEngineSettings)
    land: LandSettings = Field(default_factory=LandSettings)
    allowlists: Allowlists = Field(default_factory=Allowlists)
    rules: dict[str, RuleParams] = Field(default_factory=dict)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    utc_offset_hours: float = Field(-5.0, ge=-14, le=14, description="local time for night rules")
    path: Path | None = Field(None, exclude=True)

    _files: list[Path] = PrivateAttr(default_factory=list)
    _land: list[Polygon] | None = PrivateAttr(default=None)

    @property
    def files(self) -> list[Path]:
        """Every file this configuration was read from: includes first, then the main file."""
        return list(self._files)

    def land_path(self) -> Path | None:
        return self.resolve_path(self.land.file)

    def resolve_path(self, name: str | None) -> Path | None:
        """A file named in the configuration: ``~`` expanded, a relative path taken from the
        configuration file's directory."""
        if not name:
            return None
        p = Path(name).expanduser()
        if not p.is_absolute() and self.path is not None:
            p = self.path.parent / p
        return p

    def land_polygons(self) -> list[Polygon]:
        """The land polygons of `land.file` (one shapely Polygon per part; empty without a file)."""
        if self._land is None:
            path = self.land_path()
            self._land = [] if path is None else load_land_polygons(path)
        return self._land

    def zone(self, zone_id: str) -> ZoneSettings:
        for z in self.zones:
            if z.id == zone_id:
                return z
        raise KeyError(zone_id)


def default_config_path() -> Path:
    """`config/callao_bay.yaml` of the source tree, or the copy packaged in `vts/defaults/` (wheel)."""
    here = Path(__file__).resolve().parent
    in_tree = here.parent / "config" / "callao_bay.yaml"
    packaged = here / "defaults" / "callao_bay.yaml"
    return packaged if not in_tree.exists() and packaged.exists() else in_tree


# -- loading -------------------------------------------------------------------------------------


def load_config(path: str | Path | None = None) -> Config:
    """Read, merge (includes) and validate a configuration file."""
    top = Path(path) if path is not None else default_config_path()
    files: list[Path] = []
    raw, zone_files = _read_merged(top, files, chain=())
    config = config_from_dict(raw, top, zone_files=zone_files)
    config._files = files
    config.include = [str(f) for f in files[:-1]]
    return config


def config_from_dict(
    raw: dict[str, Any], path: Path | None = None, *, zone_files: dict[str, Path] | None = None
) -> Config:
    """Validate an already-read (and merged) configuration mapping."""
    where = str(path) if path is not None else "<config>"
    zone_files = zone_files or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping of settings at the top level, got {_kind(raw)}")
    raw = dict(raw)
    raw_rules = raw.pop("rules", None)
    raw.pop("path", None)
    _check_zone_ids(raw.get("zones"), where, zone_files)
    try:
        config = Config.model_validate({**raw, "path": path})
    except ValidationError as e:
        raise ConfigError(_format_validation_error(e, raw, where, zone_files)) from None
    config.rules = _validate_rules(raw_rules, where)
    _check_normalcy_model(config, where)
    _check_mqtt_url(config, where)
    _check_sources(config, where)
    _check_allowlists(config, where)
    land = _load_land(config, where)
    _check_zone_geometry(config, land, where, zone_files)
    return config


def load_land_polygons(path: Path) -> list[Polygon]:
    """Land polygons from a GeoJSON FeatureCollection (Polygon / MultiPolygon features)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: land file not found") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read the land GeoJSON: {e}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise ConfigError(f"{path}: expected a GeoJSON FeatureCollection")
    polygons: list[Polygon] = []
    for i, feature in enumerate(features):
        try:
            geom = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ConfigError(f"{path}: feature #{i}: not a valid GeoJSON geometry ({e})") from None
        if not geom.is_valid:  # a broken coastline polygon must not break the land checks
            geom = shapely.make_valid(geom)
        for part in getattr(geom, "geoms", [geom]):
            if isinstance(part, Polygon) and not part.is_empty:
                polygons.append(part)
    return polygons


# -- reading files and includes ------------------------------------------------------------------


def _read_yaml(path: Path, included_from: Path | None) -> dict[str, Any]:
    origin = f" (included from {included_from})" if included_from else ""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found{origin}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file{origin}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the file{origin}: {e}") from None
    try:
        data = yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        what = "YAML error" if isinstance(e, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise ConfigError(f"{path}: {what}{at}: {problem}{origin}") from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty (expected a mapping of settings){origin}")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of settings at the top level, got {_kind(data)}{origin}"
        )
    return data


FILE_SETTINGS: tuple[tuple[str, ...], ...] = (("land", "file"), ("rules", "course_anomaly", "model_path"))
"""Settings that name a file, relative to the configuration file that sets them."""


def _resolve_from(data: dict[str, Any], keys: tuple[str, ...], directory: Path) -> None:
    """Make the relative file path at `keys` in `data` (if any) absolute, from `directory`."""
    *parents, last = keys
    node: Any = data
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and isinstance(node.get(last), str) and node[last]:
        node[last] = str((directory / Path(node[last]).expanduser()).resolve())


def _read_merged(
    path: Path, files: list[Path], chain: tuple[Path, ...], included_from: Path | None = None
) -> tuple[dict[str, Any], dict[str, Path]]:
    """The file's settings merged over its includes; and, for each zone id, the file that defined it."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(f"{path}: include cycle: {cycle}")
    data = _read_yaml(path, included_from)
    if included_from is not None:  # relative to the file that names it, not to the including file
        for keys in FILE_SETTINGS:
            _resolve_from(data, keys, path.parent)
    includes = data.pop("include", None) or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError(f"{path}: include: expected a list of file paths, got {includes!r}")
    merged: dict[str, Any] = {}
    zone_files: dict[str, Path] = {}
    for inc in includes:
        inc_path = Path(inc).expanduser()
        if not inc_path.is_absolute():
            inc_path = path.parent / inc_path
        sub, sub_zone_files = _read_merged(inc_path, files, (*chain, resolved), included_from=path)
        merged, zone_files = _merge(merged, {**zone_files, **sub_zone_files}, sub, inc_path)
        zone_files.update(sub_zone_files)
    _check_zone_ids(data.get("zones"), str(path), {})
    merged, zone_files = _merge(merged, zone_files, data, path)
    files.append(path)
    return merged, zone_files


def _merge(
    base: dict[str, Any], base_zone_files: dict[str, Path], over: dict[str, Any], over_path: Path
) -> tuple[dict[str, Any], dict[str, Path]]:
    out = dict(base)
    zone_files = dict(base_zone_files)
    for key, value in over.items():
        if key == "zones" and isinstance(value, list):
            base_zones = base.get("zones") if isinstance(base.get("zones"), list) else []
            out["zones"] = _merge_zones(base_zones, value, over_path, zone_files)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _deep_merge(base[key], value)
        else:
            out[key] = value
    return out, zone_files


def _merge_zones(base: list[Any], over: list[Any], over_path: Path, zone_files: dict[str, Path]) -> list[Any]:
    """Zones of `over` merged by id into `base`; zones with ``disable: true`` are dropped."""
    result = [z for z in base if isinstance(z, dict)]
    index = {z.get("id"): i for i, z in enumerate(result)}
    base_ids = {str(k) for k in index}
    for z in over:
        if not isinstance(z, dict):
            result.append(z)
            continue
        disable = z.get("disable", False)
        if not isinstance(disable, bool):
            raise ConfigError(
                f"{over_path}: zone {z.get('id')!r}: disable: expected true or false, got {disable!r}"
            )
        zid = z.get("id")
        own = {k: v for k, v in z.items() if k != "disable"}
        if isinstance(zid, str):
            zone_files[zid] = over_path
        if zid in index:
            j = index[zid]
            result[j] = {"id": zid, "disable": True} if disable else {**result[j], **own}
        elif "polygon" not in z and (disable or base_ids):
            close = difflib.get_close_matches(str(zid), sorted(base_ids), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            what = "disable: true" if disable else "this override"
            raise ConfigError(
                f"{over_path}: zone {zid!r}: {what} names no zone of the included files{hint};"
                " a new zone needs name, kind and polygon"
            )
        else:
            index[zid] = len(result)
            result.append({**own, "disable": True} if disable else own)
    return [z for z in result if not (isinstance(z, dict) and z.get("disable") is True)]


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# -- checks --------------------------------------------------------------------------------------


def _zone_where(where: str, zone_files: dict[str, Path], zone_id: object, index: int | None = None) -> str:
    file = str(zone_files[zone_id]) if isinstance(zone_id, str) and zone_id in zone_files else where
    if isinstance(zone_id, str):
        line = _line_of_zone(Path(file), zone_id)
        return f"{file}: zone {zone_id!r}" + (f" (line {line})" if line else "")
    return f"{file}: zones[{index}]"


def _line_of_zone(path: Path, zone_id: str) -> int | None:
    """The line where the zone's ``id:`` is written, for the message (None when not found)."""
    lines = _lines_of_zone(path, zone_id)
    return lines[0] if lines else None


def _lines_of_zone(path: Path, zone_id: str) -> list[int]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    pattern = re.compile(r"""(?:^|[\s{,-])id:\s*["']?""" + re.escape(zone_id) + r"""["']?\s*(?:[,}#]|$)""")
    return [n for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


def _check_zone_ids(zones: object, where: str, zone_files: dict[str, Path]) -> None:
    if zones is None:
        return
    if not isinstance(zones, list):
        raise ConfigError(f"{where}: zones: expected a list of zones, got {_kind(zones)}")
    seen: dict[str, int] = {}
    for i, z in enumerate(zones):
        if not isinstance(z, dict):
            raise ConfigError(
                f"{where}: zones[{i}]: expected a mapping (id, name, kind, polygon ...), got {_kind(z)}"
            )
        zid = z.get("id")
        if zid is None:
            raise ConfigError(f"{where}: zones[{i}]: missing required field 'id'")
        if not isinstance(zid, str):
            raise ConfigError(f"{where}: zones[{i}]: id must be a text, got {zid!r}")
        if zid in seen:
            file = zone_files.get(zid, Path(where))
            lines = _lines_of_zone(file, zid)
            at = f" (lines {', '.join(map(str, lines))})" if len(lines) > 1 else ""
            raise ConfigError(
                f"{file}: zone {zid!r}: duplicate zone id{at} (zones[{seen[zid]}] and zones[{i}]);"
                " zone ids must be unique (to override an included zone, use its id in the including file)"
            )
        seen[zid] = i


def _validate_rules(raw_rules: object, where: str) -> dict[str, RuleParams]:
    from vts.rules.registry import rule_classes, validate_rule_params

    if raw_rules is None:
        raw_rules = {}
    if not isinstance(raw_rules, dict):
        raise ConfigError(
            f"{where}: rules: expected a mapping of rule id -> parameters, got {_kind(raw_rules)}"
        )
    for rid, params in raw_rules.items():
        if not isinstance(rid, str):
            raise ConfigError(f"{where}: rules: a rule id must be a text (a rule's name), got {rid!r}")
        if params is not None and not isinstance(params, dict):
            raise ConfigError(f"{where}: rules.{rid}: expected a mapping of parameters, got {_kind(params)}")
    try:
        return validate_rule_params(raw_rules)
    except (ValidationError, ValueError):
        pass  # every mistake found below, each with a precise message
    known = rule_classes()
    lines: list[str] = []
    unknown = [rid for rid in raw_rules if rid not in known]
    if unknown:
        hints = [_did_you_mean(str(rid), None, list(known)) for rid in unknown]
        lines.append(
            f"rules: unknown rule(s) {', '.join(u + h for u, h in zip(unknown, hints, strict=True))}; "
            f"known rules: {', '.join(known)}"
        )
    for rid in raw_rules:
        if rid in known:
            try:
                validate_rule_params({rid: raw_rules[rid]})
            except ValidationError as e:
                fields = list(known[rid].Params.model_fields)
                lines += [_format_error(err, f"rules.{rid}", fields) for err in e.errors()]
    raise ConfigError(_join(where, lines or ["rules: invalid parameters"])) from None


def _check_normalcy_model(config: Config, where: str) -> None:
    """course_anomaly's ``model_path`` must name a normalcy model that loads, now rather than at the
    first fix (where off_route would only be switched off with a warning). The rule resolves the
    path the same way (`Config.resolve_path`); its parameters keep the name as configured."""
    from vts.normalcy import NormalcyModel

    params = config.rules.get("course_anomaly")
    name = getattr(params, "model_path", None)
    if params is None or not params.enabled or not getattr(params, "off_route", True) or not name:
        return
    path = config.resolve_path(name)
    assert path is not None
    at = f"{where}: rules.course_anomaly.model_path: {path}"
    if not path.exists():
        raise ConfigError(f"{at}: file not found (write a model with `vts learn`)")
    if not path.is_file():
        raise ConfigError(f"{at}: not a file")
    try:
        NormalcyModel.load(path)
    except ValueError as e:
        raise ConfigError(f"{where}: rules.course_anomaly.model_path: {e}") from None


def _check_mqtt_url(config: Config, where: str) -> None:
    """``mqtt.url`` is read as `vts run` reads it: a URL it would refuse is refused here."""
    from vts.mqtt.urls import MqttUrlError, settings_from_url

    if not config.mqtt.url:
        return
    try:
        settings_from_url(config.mqtt.url, config.mqtt)
    except MqttUrlError as e:
        raise ConfigError(f"{where}: mqtt.url: {e}") from None


def _check_sources(config: Config, where: str) -> None:
    names: set[str] = set()
    for i, s in enumerate(config.sources):
        if s.name in names:
            raise ConfigError(f"{where}: sources[{i}]: duplicate source name {s.name!r}")
        names.add(s.name)


def _check_allowlists(config: Config, where: str) -> None:
    for role in ALLOW_ROLES:
        for mmsi in getattr(config.allowlists, role):
            if not 1_000_000 <= mmsi <= 999_999_999:
                raise ConfigError(f"{where}: allowlists.{role}: {mmsi} is not an MMSI (9 digits)")


def _load_land(config: Config, where: str) -> BaseGeometry | None:
    path = config.land_path()
    if path is None:
        return None
    try:
        polygons = config.land_polygons()
    except ConfigError as e:
        raise ConfigError(f"{where}: land.file: {e}") from None
    if not polygons:
        return None
    union = shapely.union_all(polygons)
    shapely.prepare(union)
    return union


def _check_zone_geometry(
    config: Config, land: BaseGeometry | None, where: str, zone_files: dict[str, Path]
) -> None:
    for i, z in enumerate(config.zones):
        try:
            _check_one_zone(z, land, config.land.file)
        except _ZoneProblem as problem:
            raise ConfigError(f"{_zone_where(where, zone_files, z.id, i)}: {problem}") from None


class _ZoneProblem(Exception):
    """A mistake in one zone; the caller adds the file, zone id and line."""


def _check_one_zone(z: ZoneSettings, land: BaseGeometry | None, land_file: str | None) -> None:
    rings: list[tuple[str, Ring]] = [("polygon", z.polygon)]
    rings += [(f"holes[{k}]", h) for k, h in enumerate(z.holes)]
    for k, p in enumerate(z.parts):
        rings.append((f"parts[{k}].polygon", p.polygon))
        rings += [(f"parts[{k}].holes[{j}]", h) for j, h in enumerate(p.holes)]
    for key, ring in rings:
        _check_ring(ring, key)
    if z.kind == "lane" and z.direction_deg is None:
        raise _ZoneProblem("a lane needs direction_deg (its direction of travel, degrees true)")
    for h in z.night_hours:
        if not 0 <= h <= 24:
            raise _ZoneProblem(f"night_hours: hours must be within 0..24, got {list(z.night_hours)}")
    geom = z.geometry()
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise _ZoneProblem(f"polygon is invalid: {_explain_invalid(reason)}")
    _, miny, _, maxy = geom.bounds
    if maxy < ANTARCTIC_LAT:
        raise _ZoneProblem(
            f"polygon lies in Antarctica (latitudes {miny:.3f}..{maxy:.3f}):"
            " are lon and lat swapped? Points are written [lon, lat]"
        )
    if land is not None and land.contains(geom):
        raise _ZoneProblem(
            f"polygon lies entirely on land (per {land_file}): are lon and lat swapped,"
            " or the coordinates wrong? Points are written [lon, lat]"
        )


def _check_ring(ring: Ring, at: str) -> None:
    for k, (lon, lat) in enumerate(ring):
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise _ZoneProblem(f"{at}: point #{k + 1} [{lon}, {lat}] is not a finite number")
        if not -180.0 <= lon <= 180.0:
            raise _ZoneProblem(f"{at}: point #{k + 1} [{lon}, {lat}]: longitude {lon} outside -180..180")
        if not -90.0 <= lat <= 90.0:
            hint = " (are lon and lat swapped? points are written [lon, lat])" if abs(lon) <= 90 else ""
            raise _ZoneProblem(f"{at}: point #{k + 1} [{lon}, {lat}]: latitude {lat} outside -90..90{hint}")
    distinct = {tuple(p) for p in ring}
    if len(distinct) < 3:
        raise _ZoneProblem(f"{at}: a polygon needs at least three distinct points, got {len(distinct)}")
    if tuple(ring[0]) != tuple(ring[-1]):
        raise _ZoneProblem(
            f"{at}: ring is not closed: the last point {list(ring[-1])} must repeat the first {list(ring[0])}"
        )
    if len(ring) < 4:
        raise _ZoneProblem(
            f"{at}: a closed polygon needs at least four points (three corners and the first again)"
        )


def _explain_invalid(reason: str) -> str:
    if reason.startswith("Self-intersection") or reason.startswith("Ring Self-intersection"):
        loc = reason[reason.find("[") :] if "[" in reason else ""
        coords = loc.strip("[]").split()
        near = f" near [{float(coords[0]):.6f}, {float(coords[1]):.6f}]" if len(coords) >= 2 else ""
        return f"its edges cross (self-intersection){near}"
    return reason


# -- messages ------------------------------------------------------------------------------------


def _format_validation_error(
    e: ValidationError, raw: dict[str, Any], where: str, zone_files: dict[str, Path]
) -> str:
    by_file: dict[str, list[str]] = {}
    for err in e.errors():
        loc = list(err["loc"])
        file_where = where
        prefix = ""
        if len(loc) >= 2 and loc[0] == "zones" and isinstance(loc[1], int):
            idx = loc[1]
            zones = raw.get("zones") or []
            zid = zones[idx].get("id") if idx < len(zones) and isinstance(zones[idx], dict) else None
            zw = _zone_where(where, zone_files, zid, idx)
            file_where, prefix = zw.split(": ", 1)
            loc = loc[2:]
        line = _format_error({**err, "loc": tuple(loc)}, prefix)
        by_file.setdefault(file_where, []).append(line)
    parts = [_join(f, lines) for f, lines in by_file.items()]
    return "\n".join(parts)


def _join(where: str, lines: list[str]) -> str:
    if len(lines) == 1:
        return f"{where}: {lines[0]}"
    return f"{where}: {len(lines)} errors:\n" + "\n".join(f"  - {line}" for line in lines)


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


SECRET_KEYS = frozenset({"password", "token", "secret", "passphrase", "key_password"})
"""Keys whose values an error message never shows."""


def _masked(value: object) -> object:
    """`value` as an error message may show it: the values of secret keys (`SECRET_KEYS`) hidden,
    and the password of any URL (``mqtt://user:pass@host``) replaced by ``***``."""
    if isinstance(value, dict):
        return {k: "***" if str(k).lower() in SECRET_KEYS else _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(v) for v in value)
    if isinstance(value, str) and "@" in value and "://" in value:
        return mask_url(value)
    return value


def _format_error(err: Any, prefix: str, fields: list[str] | None = None) -> str:
    """One validation error in words. `fields`: the keys allowed where it was found, for the
    "did you mean" of an unknown key (default: every key of the configuration's own sections)."""
    loc = tuple(err["loc"])
    etype = err["type"]
    value = "***" if loc and str(loc[-1]).lower() in SECRET_KEYS else _masked(err.get("input"))
    if etype == "extra_forbidden":
        key = loc[-1]
        parent = _loc_text(loc[:-1])
        head = ": ".join(x for x in (prefix, parent) if x)
        hint = _did_you_mean(str(key), err, fields)
        return f"{head + ': ' if head else ''}unknown key {key!r}{hint}"
    path = ": ".join(x for x in (prefix, _loc_text(loc)) if x) or "(top level)"
    if etype == "missing":
        return f"{path}: missing required field"
    if etype in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        unit = ""
        if isinstance(value, str) and re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*[A-Za-z°%]", value):
            unit = " (write the number alone: the unit is part of the key name, e.g. speed_limit_kn: 12)"
        kind = "a whole number" if etype.startswith("int") else "a number"
        return f"{path}: expected {kind}, got {value!r}{unit}"
    if etype == "finite_number":
        return f"{path}: must be a finite number, got {value!r}"
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{path}: {err['msg'].replace('Input should be', 'must be')}, got {value!r}"
    if etype == "literal_error":
        allowed = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{path}: unknown value {value!r}{hint}; expected one of: {', '.join(allowed)}"
    if etype == "string_pattern_mismatch" and loc and loc[-1] == "id":
        return f"{path}: use only letters, digits and _ . - (ids appear in MQTT topics), got {value!r}"
    if etype == "too_short" and len(loc) >= 1 and loc[-1] == "polygon":
        return f"{path}: a polygon needs at least three distinct points, got {value!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{path}: {msg}, got {_short(value)}"


def _did_you_mean(key: str, err: Any, fields: list[str] | None = None) -> str:
    if fields is not None:
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        return f" (did you mean {close[0]!r}?)" if close else ""
    candidates: list[str] = []
    for model in (
        ZoneSettings,
        Config,
        LandSettings,
        Allowlists,
        PolygonPart,
        SourceSettings,
        TrackerSettings,
    ):
        candidates += list(model.model_fields)
    for model in (AlertSettings, MqttSettings, WebSettings, ZoneEngineSettings):
        candidates += list(model.model_fields)
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return type(value).__name__
