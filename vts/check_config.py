"""`vts check-config [PATH]`: validate a configuration file and summarise what it holds.

Exit code 0 when the file is valid (the summary goes to stdout), 1 with the error message on
stderr when it is not.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import TextIO

from vts.cli import closed_pipe_is_quiet
from vts.config import Config, ConfigError, ZoneSettings, default_config_path, load_config
from vts.mqtt.urls import describe
from vts.zones import ZoneEngine


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help=f"configuration file (default: {default_config_path()})",
    )
    parser.add_argument("--brief", action="store_true", help="zones by kind only, without the list of zones")


def main(args: argparse.Namespace) -> int:
    path: Path | None = args.path
    try:
        config = load_config(path)
        engine = ZoneEngine.from_config(config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    with closed_pipe_is_quiet():  # `vts check-config | head`
        print_summary(config, engine, sys.stdout, list_zones=not getattr(args, "brief", False))
    return 0


def print_summary(config: Config, engine: ZoneEngine, out: TextIO, *, list_zones: bool = True) -> None:
    w = out.write
    w(f"Configuration {config.path}: valid\n")
    if len(config.files) > 1:
        w("  read from: " + ", ".join(str(f) for f in config.files) + "\n")

    w(f"\nZones: {len(engine.zones)}\n")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for z in engine.zones:
        by_kind[z.kind].append(z.area_m2 / 1e6)
    w(f"  {'kind':<18} {'count':>5} {'area km²':>10}\n")
    for kind in sorted(by_kind):
        areas = by_kind[kind]
        w(f"  {kind:<18} {len(areas):>5} {sum(areas):>10.3f}\n")
    if list_zones:
        w(f"\n  {'id':<28} {'kind':<16} {'km²':>8}  {'conf':<6} rules\n")
        for z in engine.zones:
            conf = z.settings.confidence or "-"
            w(f"  {z.id:<28} {z.kind:<16} {z.area_m2 / 1e6:>8.3f}  {conf:<6} {zone_rules_text(z.settings)}\n")
    h = config.zone_engine
    w(
        f"  hysteresis: entry after 2 fixes {h.entry_confirm_s:g} s apart,"
        f" exit {h.exit_margin_m:g} m outside, reset after a {h.gap_reset_s:g} s reception gap,"
        + (
            f" an exit fix implying over {h.outlier_speed_kn:g} kn waits for a second\n"
            if h.outlier_speed_kn > 0
            else " every exit fix taken at once\n"
        )
    )
    outside = _zones_outside_area_of_interest(engine)
    if outside:
        w("  warning: outside every area_of_interest zone: " + ", ".join(outside) + "\n")

    land = config.land_polygons()
    if config.land.file:
        w(f"\nLand: {len(land)} polygons from {config.land.file} ({config.land.attribution})\n")
    else:
        w("\nLand: none (no land.file: 'position on land' checks are off)\n")

    w(f"\nSources: {len(config.sources)}\n")
    if not config.sources:
        w("  none configured: `vts run` replays the bundled sample log (or use --simulate)\n")
    for s in config.sources:
        where = s.path if s.kind == "file" else s.topic if s.kind == "mqtt" else f"{s.host}:{s.port}"
        state = "" if s.enabled else " (disabled)"
        w(f"  {s.name}: {s.kind} {where or ''}{state}\n")
        path = s.resolved(config.path).path if s.kind == "file" else None
        if s.enabled and path is not None and not Path(path).expanduser().exists():
            waits = s.follows(True) or s.loop  # as `vts run` reads it: followed, or looped
            then = "wait for it, and read it once it appears" if waits else "say so and read nothing from it"
            w(f"  warning: {s.name}: no such file {path} (vts run would {then})\n")

    a = config.allowlists
    w(
        "\nAllow-lists: "
        + ", ".join(f"{r} {len(getattr(a, r))}" for r in ("coastguard", "pilot", "tug", "other"))
    )
    w("\n")

    w(f"\nRules: {len(config.rules)}\n")
    for rid, params in config.rules.items():
        values = params.model_dump(exclude={"enabled"})
        state = "enabled" if params.enabled else "DISABLED"
        text = ", ".join(f"{k}={v}" for k, v in values.items())
        w(f"  {rid} ({state}){': ' + text if text else ''}\n")

    mqtt = describe(config.mqtt) if config.mqtt.enabled else "disabled"  # (a password never shows)
    web = f"http://{config.web.host}:{config.web.port}/" if config.web.enabled else "disabled"
    w(f"\nMQTT: {mqtt}   Web map: {web}   Local time: UTC{config.utc_offset_hours:+g}\n")


def zone_rules_text(z: ZoneSettings) -> str:
    """The zone's own rule settings in a few words (speed limit, direction, allowed categories ...)."""
    parts: list[str] = []
    if z.speed_limit_kn is not None:
        parts.append(f"≤{z.speed_limit_kn:g} kn")
    if z.direction_deg is not None:
        parts.append(f"dir {z.direction_deg:03.0f}°")
    if z.allowed_categories is not None:
        parts.append("allowed: " + ("/".join(z.allowed_categories) or "none"))
    if z.max_dwell_minutes is not None:
        parts.append(f"dwell ≤{z.max_dwell_minutes:g} min")
    if z.night_only:
        parts.append(f"night {z.night_hours[0]:g}h-{z.night_hours[1]:g}h")
    if z.severity is not None:
        parts.append(z.severity)
    if z.record_visits:
        parts.append("visits")
    return ", ".join(parts) or "-"


def _zones_outside_area_of_interest(engine: ZoneEngine) -> list[str]:
    areas = [z for z in engine.zones if z.kind == "area_of_interest"]
    if not areas:
        return []
    return [
        z.id
        for z in engine.zones
        if z.kind != "area_of_interest" and not any(a.geometry.intersects(z.geometry) for a in areas)
    ]
