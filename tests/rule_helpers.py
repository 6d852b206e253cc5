"""Helpers for rule tests: hand-made tracks fed through a real `Core` (tracker, zones, engine).

    core = make_core()
    reports = merge(
        static(SHIP, T0, name="BIG SHIP", ship_type=70, length=200),
        stationary(SHIP, T0, minutes=30, at=ANCHORAGE, nav_status=1, every_s=180),
    )
    alerts = run(core, reports)            # every alert step, in order
    assert types(alerts) == [...]

Positions are (lat, lon) tuples. `offset(point, north_m, east_m)` moves a point by metres. Times are
UNIX seconds; `T0` is a day-time instant in Callao (12:00 local, UTC-5) and `NIGHT` a night one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vts.alerts.model import Alert
from vts.config import Config, load_config
from vts.core import Core
from vts.normalcy import NormalcyBuilder
from vts.reports import PositionReport, Report, StaticReport

Point = tuple[float, float]

T0 = 1_768_496_400.0
"""2026-01-15 17:00:00 UTC = 12:00 in Callao (day)."""
NIGHT = 1_768_528_800.0
"""2026-01-16 02:00:00 UTC = 21:00 in Callao (night)."""

OPEN_WATER: Point = (-12.040, -77.220)
"""Inside the VTS area, outside every other zone (west of the traffic lanes)."""
ANCHORAGE: Point = (-12.0113, -77.2030)
"""Inside anchorage_main."""
BERTH_DPWORLD: Point = (-12.0521, -77.1507)
"""Inside berth_dpworld_south (and its security zone)."""
SAN_LORENZO_WATERS: Point = (-12.0665, -77.2258)
"""Inside restricted_san_lorenzo (water, off the island)."""

M_PER_DEG = 111_195.0


def offset(p: Point, north_m: float = 0.0, east_m: float = 0.0) -> Point:
    """The point `north_m` north and `east_m` east of `p`."""
    lat, lon = p
    return (lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))))


LANE_START: Point = offset(OPEN_WATER, north_m=-3000, east_m=-4000)
"""Where `lane_model`'s line of normal traffic starts."""


@functools.lru_cache(maxsize=1)
def _callao_config() -> Config:
    return load_config()


def make_config(**alerts: Any) -> Config:
    """A fresh copy of the Callao configuration, with an in-memory store and any `alerts:` overrides."""
    config = _callao_config().model_copy(deep=True)
    config.alerts = config.alerts.model_copy(update={"store": None, **alerts})
    return config


def set_rule(config: Config, rule_id: str, **params: Any) -> Config:
    """Override some parameters of one rule (validated by the rule's Params)."""
    current = config.rules[rule_id]
    config.rules[rule_id] = type(current).model_validate({**current.model_dump(), **params})
    return config


def make_core(config: Config | None = None, **alerts: Any) -> Core:
    return Core(config if config is not None else make_config(**alerts))


def position(
    mmsi: int,
    t: float,
    at: Point,
    *,
    sog: float | None = 0.0,
    cog: float | None = 0.0,
    heading: int | None = None,
    nav_status: int | None = None,
    ais_class: str = "A",
) -> PositionReport:
    lat, lon = at
    return PositionReport(
        time=t,
        mmsi=mmsi,
        msg_type=1 if ais_class == "A" else 18,
        source="test",
        ais_class="A" if ais_class == "A" else "B",
        lat=lat,
        lon=lon,
        sog=sog,
        cog=cog,
        heading=heading,
        nav_status=nav_status if ais_class == "A" else None,
    )


def static(
    mmsi: int,
    t: float,
    *,
    name: str | None = None,
    ship_type: int | None = None,
    length: int | None = None,
    beam: int | None = None,
    antenna_from_bow: int | None = None,
    ais_class: str = "A",
) -> StaticReport:
    """Static data; the antenna is amidships unless `antenna_from_bow` is given."""
    to_bow = to_stern = to_port = to_starboard = None
    if length is not None:
        to_bow = antenna_from_bow if antenna_from_bow is not None else length // 2
        to_stern = length - to_bow
    if beam is not None or length is not None:
        b = beam if beam is not None else max(4, (length or 20) // 7)
        to_port = b // 2
        to_starboard = b - to_port
    return StaticReport(
        time=t,
        mmsi=mmsi,
        msg_type=5 if ais_class == "A" else 24,
        source="test",
        ais_class="A" if ais_class == "A" else "B",
        name=name,
        ship_type=ship_type,
        to_bow=to_bow,
        to_stern=to_stern,
        to_port=to_port,
        to_starboard=to_starboard,
    )


def stationary(
    mmsi: int,
    t0: float,
    *,
    minutes: float,
    at: Point,
    every_s: float = 10.0,
    sog: float = 0.0,
    **kw: Any,
) -> list[PositionReport]:
    """Reports every `every_s` seconds for `minutes` minutes at one place (t0 included)."""
    n = int(minutes * 60.0 / every_s) + 1
    return [position(mmsi, t0 + i * every_s, at, sog=sog, **kw) for i in range(n)]


def moving(
    mmsi: int,
    t0: float,
    *,
    minutes: float,
    start: Point,
    cog: float,
    sog: float,
    every_s: float = 10.0,
    **kw: Any,
) -> list[PositionReport]:
    """A straight track at constant course and speed (knots)."""
    n = int(minutes * 60.0 / every_s) + 1
    out = []
    speed_ms = sog * 1852.0 / 3600.0
    for i in range(n):
        d = speed_ms * i * every_s
        p = offset(start, d * math.cos(math.radians(cog)), d * math.sin(math.radians(cog)))
        out.append(position(mmsi, t0 + i * every_s, p, sog=sog, cog=cog, **kw))
    return out


def legs(
    mmsi: int,
    t0: float,
    start: Point,
    plan: list[tuple[float, float]],
    sog: float,
    every_s: float = 10.0,
) -> list[PositionReport]:
    """Straight legs: (course, seconds) each, at constant speed."""
    out: list[PositionReport] = []
    lat, lon = start
    t = t0
    step = sog * 1852 / 3600 * every_s
    for cog, seconds in plan:
        for _ in range(int(seconds / every_s)):
            out.append(position(mmsi, t, (lat, lon), sog=sog, cog=cog))
            lat += step * math.cos(math.radians(cog)) / M_PER_DEG
            lon += step * math.sin(math.radians(cog)) / (M_PER_DEG * math.cos(math.radians(lat)))
            t += every_s
    return out


def circling(
    mmsi: int,
    t0: float,
    *,
    minutes: float,
    centre: Point,
    radius_m: float,
    sog: float,
    every_s: float = 10.0,
    **kw: Any,
) -> list[PositionReport]:
    """Clockwise circles of `radius_m` around `centre` at `sog` knots."""
    n = int(minutes * 60.0 / every_s) + 1
    omega = (sog * 1852.0 / 3600.0) / radius_m  # rad/s
    out = []
    for i in range(n):
        a = omega * i * every_s  # angle from north, clockwise
        p = offset(centre, radius_m * math.cos(a), radius_m * math.sin(a))
        cog = (math.degrees(a) + 90.0) % 360.0
        out.append(position(mmsi, t0 + i * every_s, p, sog=sog, cog=cog, **kw))
    return out


def path(
    mmsi: int,
    t0: float,
    points: Sequence[Point],
    *,
    every_s: float = 10.0,
    sog: float | None = None,
    **kw: Any,
) -> list[PositionReport]:
    """One report per point, `every_s` apart; SOG from the spacing unless given."""
    out = []
    for i, p in enumerate(points):
        speed = sog
        if speed is None and i > 0:
            (la, lo), (lb, lb2) = points[i - 1], p
            d = math.hypot((lb - la) * M_PER_DEG, (lb2 - lo) * M_PER_DEG * math.cos(math.radians(la)))
            speed = d / every_s * 3600.0 / 1852.0
        out.append(position(mmsi, t0 + i * every_s, p, sog=speed if speed is not None else 0.0, **kw))
    return out


def merge(*streams: Iterable[Report] | Report) -> list[Report]:
    """All reports in time order (stable: ties keep argument order)."""
    flat: list[Report] = []
    for s in streams:
        if isinstance(s, PositionReport | StaticReport):
            flat.append(s)
        else:
            flat.extend(s)  # type: ignore[arg-type]
    return sorted(flat, key=lambda r: r.time)


def run(
    core: Core, reports: Iterable[Report], *, until: float | None = None, check_batch: bool = True
) -> list[Alert]:
    """Feed reports through the core one by one; then advance event time to `until` if given.

    With `check_batch` (the default), the same reports also go, as one batch, through a twin core
    built from the same configuration (`Core.process_many`, where each rule skips the reports its
    `interest` leaves out), and the two alert streams must be identical: every rule test is then
    also a test of that rule's interest mask."""
    reports = list(reports)
    twin = Core(core.config) if check_batch and core.now is None else None
    if twin is not None:
        twin.engine.set_rules([type(r)(r.params) for r in core.engine.rules])
    alerts: list[Alert] = []
    for r in reports:
        alerts.extend(core.process(r))
    if until is not None:
        alerts.extend(core.advance(until))
    alerts.extend(core.finish())
    if twin is not None:
        batched = twin.process_many(reports)
        if until is not None:
            batched.extend(twin.advance(until))
        batched.extend(twin.finish())
        assert [a.to_dict() for a in batched] == [a.to_dict() for a in alerts], (
            "batched processing (Rule.interest masks) changed the alert stream"
        )
    return alerts


def process_in_chunks(core: Core, reports: Sequence[Report], sizes: Sequence[int]) -> list[Alert]:
    """`Core.process_many` on consecutive chunks of the reports, their sizes taken from `sizes` in
    a cycle."""
    out: list[Alert] = []
    i = j = 0
    while i < len(reports):
        k = sizes[j % len(sizes)]
        out.extend(core.process_many(reports[i : i + k]))
        i, j = i + k, j + 1
    return out


def same_in_chunks(
    reports: Sequence[Report],
    sizes: Iterable[int | Sequence[int]] = (1, 7, 40),
    until: float | None = None,
    config: Config | None = None,
) -> list[dict[str, Any]]:
    """The alert steps of the reports one at a time (then `advance(until)` and `finish()`), as
    dicts; asserts that `process_many` gives the same on chunks of each size (an int, or a cycle
    of sizes), with no rule error either way."""

    def feed(chunks: Sequence[int] | None) -> list[dict[str, Any]]:
        core = make_core(config)
        if chunks is None:
            out = [a for r in reports for a in core.process(r)]
        else:
            out = process_in_chunks(core, reports, chunks)
        if until is not None:
            out.extend(core.advance(until))
        out.extend(core.finish())
        assert not core.engine.stats.rule_errors  # (a failing `interest` would mean: every row)
        return [a.to_dict() for a in out]

    reference = feed(None)
    for size in sizes:
        chunks = (size,) if isinstance(size, int) else size
        assert feed(chunks) == reference, f"chunks of {size} changed the alert stream"
    return reference


def reload_run(
    chunk: int | None, config: Config, changed: Config, before: list[Report], after: list[Report]
) -> list[dict[str, Any]]:
    """`before`, a reload to `changed`, `after`: one by one (`chunk` None) or in chunks; then 15
    minutes of event time and `finish()`. The alert steps, as dicts."""
    core = Core(config)
    out: list[Alert] = []
    for part in (before, after):
        if part is after:
            core.reload(changed)
        if chunk is None:
            out.extend(a for r in part for a in core.process(r))
        else:
            out.extend(process_in_chunks(core, part, (chunk,)))
    out.extend(core.advance(after[-1].time + 900))
    out.extend(core.finish())
    return [a.to_dict() for a in out]


def of_type(alerts: Iterable[Alert], type_: str) -> list[Alert]:
    return [a for a in alerts if a.type == type_]


def states(alerts: Iterable[Alert], type_: str | None = None) -> list[str]:
    """The lifecycle states of the alerts (of one type), in order."""
    return [a.state for a in alerts if type_ is None or a.type == type_]


def types(alerts: Iterable[Alert]) -> list[str]:
    return [a.type for a in alerts]


def lane_model(tmp_path: Path, start: Point = LANE_START, cog: float = 90.0, name: str = "model") -> Path:
    """A normal-traffic model (`vts learn`'s) in which thirty large ships all ran along one line
    through open water from `start` (east from `LANE_START` unless said); saved in `tmp_path`."""
    builder = NormalcyBuilder(cell_m=500)
    for k in range(30):
        mmsi = 725100000 + k
        builder.mark_large(mmsi)
        for r in moving(mmsi, T0, minutes=30, start=offset(start, north_m=(k % 5) * 40), cog=cog, sog=10):
            builder.add(mmsi, r.lat, r.lon, r.sog, r.cog)  # type: ignore[arg-type]
    out = tmp_path / f"{name}.npz"
    builder.build().save(out)
    return out
