"""Configuration loading: the real Callao file, includes and overrides, and every kind of mistake."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vts import check_config
from vts.config import ConfigError, ZoneSettings, config_from_dict, default_config_path, load_config
from vts.rules.registry import rule_classes

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "data" / "bad_configs"

ARCHITECTURE_ZONE_IDS = {
    "vts_area",
    "port_area",
    "entrance",
    "access_channel",
    "tss_inbound",
    "tss_outbound",
    "tss_lane_d",
    "anchorage_main",
    "anchorage_inner",
    "moorings_la_punta",
    "berth_dpworld_south",
    "berth_apm_north",
    "berth_mineral_pier",
    "terminal_la_pampilla",
    "terminal_ventanilla",
    "fishing_docks",
    "security_dpworld",
    "security_apm",
    "security_mineral",
    "security_naval_base",
    "security_pampilla_spm",
    "security_pampilla_terminals",
    "restricted_san_lorenzo",
    "restricted_el_fronton",
    "restricted_el_camotal",
    "protected_palomino",
    "el_boqueron",
}

# file -> pieces the message must contain (besides the file name)
BAD_CONFIGS: dict[str, tuple[str, ...]] = {
    "unknown_key.yaml": ("test_anchorage", "(line 3)", "unknown key 'speed_limit'", "speed_limit_kn"),
    "bad_zone_id.yaml": ("naval base/north", "only letters, digits"),
    "unknown_top_key.yaml": ("unknown key 'zonez'", "did you mean 'zones'"),
    "missing_field.yaml": ("test_anchorage", "kind", "missing required field"),
    "unclosed_polygon.yaml": ("open_ring", "not closed"),
    "self_intersecting.yaml": ("bow_tie", "self-intersection", "-77.19"),
    "too_few_points.yaml": ("a_line", "at least three distinct points"),
    "lon_out_of_range.yaml": ("far_west", "longitude -277.2 outside -180..180"),
    "lat_out_of_range.yaml": ("too_north", "latitude 95.0 outside -90..90"),
    "swapped_antarctica.yaml": ("swapped", "Antarctica", "lon and lat swapped"),
    "on_land.yaml": ("inland", "entirely on land", "swapped"),
    "duplicate_ids.yaml": ("test_anchorage", "duplicate zone id", "lines 3, 7"),
    "speed_with_unit.yaml": ("slow_zone", "speed_limit_kn", "expected a number", "'12 kn'"),
    "negative_speed.yaml": ("slow_zone", "speed_limit_kn", "greater than 0", "-5"),
    "broken_yaml.yaml": ("YAML syntax error", "line 7"),
    "duplicate_key.yaml": ("duplicate key 'speed_limit_kn'", "line 8", "first given at line 6"),
    "unknown_rule.yaml": ("rules", "no_such_rule"),
    "missing_include.yaml": ("operator_zones_missing.yaml", "not found", "included from"),
    "lane_without_direction.yaml": ("lane_x", "direction_deg"),
    "bad_kind.yaml": ("zone_x", "kind", "anchorge"),
}


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    check_config.configure_parser(parser)
    rc = check_config.main(parser.parse_args([str(path)]))
    out, err = capsys.readouterr()
    return rc, out, err


# -- the real configuration -----------------------------------------------------------------------


def test_default_config_loads_with_every_documented_zone() -> None:
    config = load_config()
    assert config.path == default_config_path()
    ids = [z.id for z in config.zones]
    assert len(ids) == len(set(ids))
    assert ARCHITECTURE_ZONE_IDS <= set(ids)


def test_default_config_zone_settings() -> None:
    config = load_config()
    lanes = {z.id: z.direction_deg for z in config.zones if z.kind == "lane"}
    assert lanes == {"tss_inbound": 99.0, "tss_outbound": 279.0, "tss_lane_d": 152.0}
    assert config.zone("port_area").speed_limit_kn == 8.0
    assert config.zone("anchorage_main").speed_limit_kn == 8.0
    assert config.zone("vts_area").speed_limit_kn == 12.0
    for zid in ("berth_dpworld_south", "anchorage_main", "port_area"):
        assert config.zone(zid).record_visits
    naval = config.zone("security_naval_base")
    assert naval.severity == "alarm" and naval.allowed_categories is not None
    assert "cargo" not in naval.allowed_categories
    for z in config.zones:
        assert z.source and z.confidence in ("high", "medium", "low"), z.id


def test_default_config_land_allowlists_and_attribution() -> None:
    config = load_config()
    assert "OpenStreetMap" in config.land.attribution and "ODbL" in config.land.attribution
    assert len(config.land_polygons()) > 10
    attribution = (ROOT / "config" / "ATTRIBUTION.md").read_text()
    assert "ODbL" in attribution and "OpenStreetMap contributors" in attribution
    for role in ("coastguard", "pilot", "tug"):
        mmsis = getattr(config.allowlists, role)
        assert mmsis and all(str(m).startswith("760") and len(str(m)) == 9 for m in mmsis)
    assert config.allowlists.is_allowed(config.allowlists.pilot[0], "pilot")
    assert config.sources == []


def test_every_rule_gets_its_defaults_even_when_absent() -> None:
    config = load_config()
    assert set(config.rules) == set(rule_classes())
    for rid, cls in rule_classes().items():
        assert isinstance(config.rules[rid], cls.Params)


def test_rule_parameters_are_validated_through_the_registry(tmp_path: Path) -> None:
    classes = rule_classes()
    if not classes:
        pytest.skip("no rule module yet")
    rid = next(iter(classes))
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(f"rules:\n  {rid}:\n    enabled: false\n")
    assert load_config(cfg).rules[rid].enabled is False
    cfg.write_text(f"rules:\n  {rid}:\n    no_such_parameter: 1\n")
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(cfg) in str(e.value) and f"rules.{rid}" in str(e.value) and "no_such_parameter" in str(e.value)


def test_zone_geometry_includes_holes_and_parts() -> None:
    config = load_config()
    palomino = config.zone("protected_palomino")
    assert palomino.holes
    geom = palomino.geometry()
    assert geom.is_valid and len(geom.interiors) == len(palomino.holes)  # type: ignore[union-attr]
    terminals = config.zone("security_pampilla_terminals")
    assert terminals.parts and terminals.geometry().geom_type == "MultiPolygon"
    gj = terminals.geojson_geometry()
    assert gj["type"] == "MultiPolygon" and len(gj["coordinates"]) == 1 + len(terminals.parts)
    gj = palomino.geojson_geometry()
    assert gj["type"] == "Polygon" and len(gj["coordinates"]) == 1 + len(palomino.holes)


def test_night_hours_wrap_midnight() -> None:
    z = ZoneSettings(id="z", name="z", kind="anchorage", polygon=[(0, 0), (1, 0), (1, 1), (0, 0)])
    # 2026-01-01 00:00 UTC = 19:00 local at UTC-5 (night); 17:00 UTC = 12:00 local (day)
    midnight_utc = 1767225600.0
    assert z.is_night(midnight_utc, -5.0)
    assert not z.is_night(midnight_utc + 17 * 3600, -5.0)
    assert z.is_night(midnight_utc + 10 * 3600, -5.0)  # 05:00 local


# -- includes and overrides -----------------------------------------------------------------------


def _operator_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "operator.yaml"
    path.write_text(f"include: [{default_config_path()}]\n{body}")
    return path


def test_include_overrides_adds_and_disables_zones(tmp_path: Path) -> None:
    path = _operator_file(
        tmp_path,
        """
zones:
  - id: port_area
    speed_limit_kn: 6
  - id: moorings_la_punta
    disable: true
  - id: operator_box
    name: Operator box
    kind: waiting_area
    polygon: [[-77.25, -12.00], [-77.24, -12.00], [-77.24, -12.01], [-77.25, -12.01], [-77.25, -12.00]]
allowlists:
  tug: [760000399]
""",
    )
    config = load_config(path)
    ids = [z.id for z in config.zones]
    assert config.zone("port_area").speed_limit_kn == 6
    assert config.zone("port_area").record_visits  # other fields kept from the included file
    assert "moorings_la_punta" not in ids
    assert ids[-1] == "operator_box"
    assert config.allowlists.tug == [760000399]
    assert config.allowlists.coastguard  # mappings merge key by key
    assert config.land_polygons()  # land.file resolved relative to the included file
    assert config.files == [default_config_path(), path]


def test_operator_example_file() -> None:
    config = load_config(ROOT / "config" / "operator_zones.example.yaml")
    ids = [z.id for z in config.zones]
    assert "pilot_boarding_area" in ids and "moorings_la_punta" not in ids
    assert config.zone("port_area").speed_limit_kn == 6
    assert len(config.allowlists.pilot) == 3 and config.allowlists.tug  # tug list kept from the defaults


def test_include_relative_to_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "extra.yaml").write_text(
        "zones:\n  - id: extra\n    name: Extra\n    kind: waiting_area\n"
        "    polygon: [[-77.25, -12.00], [-77.24, -12.00], [-77.24, -12.01], [-77.25, -12.00]]\n"
    )
    main = tmp_path / "main.yaml"
    main.write_text("include: [sub/extra.yaml]\nutc_offset_hours: -5\n")
    assert [z.id for z in load_config(main).zones] == ["extra"]


def test_a_disabled_zone_of_the_same_file_is_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    ring = "[[-77.25, -12.00], [-77.24, -12.00], [-77.24, -12.01], [-77.25, -12.00]]"
    path.write_text(
        f"zones:\n  - {{id: a, name: A, kind: waiting_area, polygon: {ring}}}\n"
        f"  - {{id: b, name: B, kind: waiting_area, disable: true, polygon: {ring}}}\n"
    )
    config = load_config(path)
    assert [z.id for z in config.zones] == ["a"]
    assert config.include == []


def test_zone_engine_settings(tmp_path: Path) -> None:
    path = _operator_file(tmp_path, "zone_engine:\n  exit_margin_m: 0\n  entry_confirm_s: 30\n")
    config = load_config(path)
    assert config.include == [str(default_config_path())]
    assert config.zone_engine.exit_margin_m == 0 and config.zone_engine.entry_confirm_s == 30
    assert load_config().zone_engine.gap_reset_s == 600
    path.write_text("zone_engine:\n  exit_margin: 10\n")
    with pytest.raises(ConfigError, match="did you mean 'exit_margin_m'"):
        load_config(path)


def test_error_in_included_zone_names_the_included_file(tmp_path: Path) -> None:
    path = _operator_file(tmp_path, "zones:\n  - id: port_area\n    speed_limit_kn: fast\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert str(path) in msg and "port_area" in msg and "speed_limit_kn" in msg and "'fast'" in msg


def test_disabling_an_unknown_zone_is_an_error(tmp_path: Path) -> None:
    path = _operator_file(tmp_path, "zones:\n  - id: no_such_zone\n    disable: true\n")
    with pytest.raises(ConfigError, match="no_such_zone"):
        load_config(path)


def test_overriding_a_misspelt_zone_id_is_an_error(tmp_path: Path) -> None:
    path = _operator_file(tmp_path, "zones:\n  - id: port_aera\n    speed_limit_kn: 6\n")
    with pytest.raises(ConfigError, match="did you mean 'port_area'"):
        load_config(path)


def test_include_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("include: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("include: [a.yaml]\n")
    with pytest.raises(ConfigError, match="include cycle"):
        load_config(tmp_path / "a.yaml")


def test_land_file_problems(tmp_path: Path) -> None:
    land = tmp_path / "land.geojson"
    bow_tie = [[[-77.10, -12.00], [-77.00, -12.10], [-77.00, -12.00], [-77.10, -12.10], [-77.10, -12.00]]]
    land.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
        f' "geometry": {{"type": "Polygon", "coordinates": {bow_tie}}}}}]}}'
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("land:\n  file: land.geojson\n")
    polygons = load_config(cfg).land_polygons()
    assert polygons and all(p.is_valid for p in polygons)  # repaired, not fatal
    land.write_text("{not json")
    with pytest.raises(ConfigError, match=r"land\.file: .*cannot read the land GeoJSON"):
        load_config(cfg)
    cfg.write_text("land:\n  file: nowhere.geojson\n")
    with pytest.raises(ConfigError, match=r"nowhere\.geojson: land file not found"):
        load_config(cfg)


def test_config_from_dict_and_bad_allowlist() -> None:
    config = config_from_dict({"zones": []})
    assert config.zones == [] and config.land_polygons() == []
    with pytest.raises(ConfigError, match=r"allowlists\.pilot: 12 is not an MMSI"):
        config_from_dict({"allowlists": {"pilot": [12]}})


# -- broken files ---------------------------------------------------------------------------------


def test_every_bad_config_sample_is_covered() -> None:
    assert {p.name for p in BAD.glob("*.yaml")} == set(BAD_CONFIGS)


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_gives_a_clear_message_and_nonzero_exit(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = BAD / name
    with pytest.raises(ConfigError) as e:
        load_config(path)
    for piece in BAD_CONFIGS[name]:
        assert piece in str(e.value), f"{piece!r} not in {e.value}"
    rc, out, err = run_check(path, capsys)
    assert rc != 0
    assert out == ""
    assert name in err and all(piece in err for piece in BAD_CONFIGS[name])


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.yaml"
    rc, _, err = run_check(path, capsys)
    assert rc != 0 and str(path) in err and "not found" in err


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="empty"):
        load_config(path)


def test_check_config_summary_of_the_callao_file(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_check(default_config_path(), capsys)
    assert rc == 0, err
    assert "valid" in out
    for kind in ("anchorage", "berth", "restricted", "security_zone", "lane"):
        assert kind in out
    assert "km²" in out and "restricted_san_lorenzo" in out
    assert "OpenStreetMap" in out
    for rid in rule_classes():
        assert rid in out


def test_check_config_subprocess() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "vts", "check-config", "config/callao_bay.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Zones: " in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "vts", "check-config", str(BAD / "self_intersecting.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0
    assert "self_intersecting.yaml" in bad.stderr and "bow_tie" in bad.stderr


def test_files_named_by_an_included_configuration_are_taken_from_its_directory(tmp_path: Path) -> None:
    """An operator file elsewhere including the Callao configuration finds its land and its model."""
    operator = tmp_path / "ops" / "vts.yaml"
    operator.parent.mkdir()
    operator.write_text(f"include: [{json.dumps(str(default_config_path()))}]\n")
    config = load_config(operator)
    here = default_config_path().resolve().parent
    model = config.resolve_path(config.rules["course_anomaly"].model_path)  # type: ignore[attr-defined]
    assert model == here / "callao_normal_traffic.npz" and model.is_file()
    assert config.land_path() == here / "callao_land.geojson"


def test_infinite_values_words_for_numbers_and_missing_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a walkthrough: `.inf` minutes passed (`.nan` did not); the hint about units came
    with `abc` in an MMSI list; a file source naming no file was 'valid'."""
    base = f"include: [{json.dumps(str(default_config_path()))}]\n"
    cases = {
        "inf.yaml": (
            "rules:\n  loitering:\n    small_craft_minutes: .inf\n",
            "must be a finite number, got inf",
        ),
        "word.yaml": ("allowlists:\n  coastguard: [abc]\n", "expected a whole number, got 'abc'"),
    }
    for name, (body, said) in cases.items():
        path = tmp_path / name
        path.write_text(base + body)
        rc, out, err = run_check(path, capsys)
        assert rc != 0 and out == "" and said in err, err
        assert "unit is part of the key name" not in err
    log = tmp_path / "missing.yaml"
    log.write_text(base + "sources:\n  - {name: f, kind: file, path: logs/day.nmea}\n")
    rc, out, _ = run_check(log, capsys)
    assert rc == 0 and f"warning: f: no such file {tmp_path / 'logs' / 'day.nmea'}" in out
    assert "would wait for it" in out  # `vts run` follows a file source by default
    once = tmp_path / "once.yaml"
    once.write_text(base + "sources:\n  - {name: f, kind: file, path: logs/day.nmea, follow: false}\n")
    rc, out, _ = run_check(once, capsys)
    assert rc == 0 and "would say so and read nothing from it" in out


def test_config_errors_never_show_a_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a reliability test: an mqtt source with a URL holding a password and no topic was
    refused with the whole source shown, password included, by check-config and in the SIGHUP log.
    The URL's password and the values of secret keys are hidden; the rest still says what is wrong
    (and pydantic's "Value error," is not shown)."""
    cfg = tmp_path / "secret.yaml"
    cfg.write_text(
        f"include: [{default_config_path()}]\n"
        "sources:\n"
        "  - {name: m, kind: mqtt, url: 'mqtt://vts:S3cretPW@127.0.0.1:29999'}\n"
        "mqtt: {host: 127.0.0.1, port: 1883, password: Hunter2, tls: maybe}\n"
    )
    code, out, err = run_check(cfg, capsys)
    text = out + err
    assert code == 1
    assert "S3cretPW" not in text and "Hunter2" not in text
    assert "needs topic" in text and "mqtt://vts:***@127.0.0.1:29999" in text
    assert "Value error" not in text
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert "S3cretPW" not in str(e.value) and "Hunter2" not in str(e.value)


def test_every_mistake_in_the_rules_is_said_at_once(tmp_path: Path) -> None:
    """Found by a reliability test: an unknown rule and a bad parameter of another were reported one
    at a time (fix one, reload, meet the next). Each is said, an unknown rule or key with the closest
    name, a rule's key matched against that rule's own parameters."""
    cfg = tmp_path / "rules.yaml"
    cfg.write_text(
        f"include: [{default_config_path()}]\n"
        "rules:\n"
        "  loiterng: {}\n"
        "  loitering: {max_speed: 3}\n"
        "  cpa: {range_nm: -1}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    text = str(e.value)
    assert "3 errors" in text
    assert "unknown rule(s) loiterng (did you mean 'loitering'?)" in text
    assert "rules.loitering: unknown key 'max_speed' (did you mean 'max_speed_kn'?)" in text
    assert "rules.cpa: range_nm: must be greater than 0, got -1" in text
