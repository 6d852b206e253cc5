"""ais_gap at its edges: a status left set, a late feed, the own ship, giving up, a reload, a late copy
of an old report, a zone in parts, the implied speed, a shadow track. Every `run` also checks that
batched processing gives the same alerts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.rule_helpers import (
    OPEN_WATER,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    reload_run,
    run,
    same_in_chunks,
    set_rule,
    static,
    stationary,
)
from vts.alerts.model import Alert, iso_time
from vts.config import PolygonPart
from vts.reports import PositionReport, Report

DARK = 760000531
NEIGHBOUR = 760000542
OTHER = 760000999


def neighbour(minutes: float, mmsi: int = NEIGHBOUR, t0: float = T0 + 3) -> list[PositionReport]:
    """A vessel 2 km away heard every 10 s."""
    return stationary(mmsi, t0, minutes=minutes, at=offset(OPEN_WATER, north_m=2000), every_s=10, sog=0.1)


def sailing(mmsi: int = DARK, minutes: float = 20, sog: float = 2.0, **kw: object) -> list[Report]:
    """A ship with static data reporting every 10 s for `minutes`, then silent."""
    reports: list[Report] = [static(mmsi, T0 - 60, name="X", ship_type=70, length=100)]
    reports += moving(mmsi, T0, minutes=minutes, start=OPEN_WATER, cog=0, sog=sog, **kw)  # type: ignore[arg-type]
    return reports


def raised(alerts: list[Alert]) -> list[tuple[str, int, float]]:
    return [(a.state, a.mmsi, round(a.time - T0)) for a in of_type(alerts, "ais_gap") if a.state != "updated"]


@pytest.mark.parametrize("status", [0, 5])
def test_a_ship_under_way_with_its_status_left_at_moored_goes_dark_after_ten_minutes(status: int) -> None:
    """Status 1/5 counts as at anchor or moored only below 3 kn (as everywhere in vts)."""
    alerts = run(make_core(), merge(sailing(sog=10.0, nav_status=status), neighbour(40)), until=T0 + 2100)
    assert raised(alerts) == [("raised", DARK, 1803)]


def test_a_last_slow_fix_does_not_make_a_ship_under_way_moored() -> None:
    reports = sailing(sog=10.0)
    last = reports[-1]
    assert isinstance(last, PositionReport) and last.lat is not None and last.lon is not None
    reports[-1] = position(DARK, last.time, (last.lat, last.lon), sog=0.3, cog=0)
    assert raised(run(make_core(), merge(reports, neighbour(40)), until=T0 + 2100)) == [
        ("raised", DARK, 1803)
    ]


def test_a_feed_delivering_old_fixes_late_neither_hides_a_dark_vessel_nor_looks_dark_itself() -> None:
    """Vessels on a feed whose fixes arrive 15 minutes late (event times 15 minutes behind the
    clock) are heard all the time: they are not silent, and they do not stop the search for the
    vessels heard near the one that went dark."""
    late_ones = [760000700 + k for k in range(10)]
    far = offset(OPEN_WATER, north_m=-40_000)
    timed: list[tuple[float, int, Report]] = [(r.time, 0, r) for r in merge(sailing(), neighbour(40))]
    for k in range(240):
        arrival = T0 + 5 + 10 * k
        for m in late_ones:  # processed at `arrival`, dated 15 minutes earlier
            timed.append((arrival, 1, position(m, arrival - 900, offset(far, east_m=m % 100 * 50), sog=0.0)))
    stream = [r for _, _, r in sorted(timed, key=lambda x: (x[0], x[1]))]
    assert raised(run(make_core(), stream)) == [("raised", DARK, 1803)]


def test_the_own_ship_is_not_a_vessel_heard_near_it() -> None:
    """A receiver outage: only the own ship's VDO reports keep coming. Nobody is heard."""
    own = [replace(r, own_ship=True) for r in neighbour(40, mmsi=760000900)]
    assert raised(run(make_core(), merge(sailing(), own), until=T0 + 2400)) == []


def test_a_vessel_given_up_is_not_judged_again_until_heard() -> None:
    config = set_rule(make_config(), "ais_gap", max_dark_hours=0.25)
    alerts = run(make_core(config), merge(sailing(), neighbour(100)), until=T0 + 6000)
    steps = [(a.state, a.details.get("reason")) for a in of_type(alerts, "ais_gap") if a.state != "updated"]
    assert steps == [("raised", None), ("cleared", "not heard again")]


def test_a_late_copy_of_a_report_from_before_the_silence_is_no_reappearance() -> None:
    reports = sailing()
    old = reports[110]
    stream = merge(reports, neighbour(60))
    i = next(k for k, r in enumerate(stream) if r.time > T0 + 1900)
    stream = [*stream[:i], old, *stream[i:]]
    alerts = of_type(run(make_core(), stream, until=T0 + 3700), "ais_gap")
    assert [a.state for a in alerts if a.state != "updated"] == ["raised"]


def test_the_implied_speed_of_a_reappearance_is_from_the_last_fix() -> None:
    """The last message was static data ten minutes after the last fix: the distance is covered
    since the fix, not since that message."""
    reports = sailing()
    last = reports[-1]
    assert last.lat is not None and last.lon is not None
    back = position(DARK, T0 + 1700 + 900, offset((last.lat, last.lon), north_m=3000), sog=2.0)
    stream = merge(reports, [static(DARK, T0 + 1700, name="X")], [back], neighbour(50))
    cleared = [a for a in of_type(run(make_core(), stream), "ais_gap") if a.state == "cleared"]
    assert len(cleared) == 1
    d = cleared[0].details
    since_fix = back.time - last.time
    assert d["gap_s"] == 900.0 and d["implied_speed_kn"] == round(3000 / since_fix * 3600 / 1852, 2)
    assert d["silent_s"] == 900.0  # silent since the static report, not as of the last update


def test_a_watched_area_in_several_parts_works_and_its_edge_is_measured_in_metres() -> None:
    config = make_config()
    area = next(z for z in config.zones if z.id == "vts_area")
    area.parts = [
        PolygonPart(polygon=[[-78.5, -13.5], [-78.4, -13.5], [-78.4, -13.4], [-78.5, -13.4], [-78.5, -13.5]])
    ]
    core = make_core(config)
    alerts = run(core, merge(sailing(), neighbour(40)), until=T0 + 2100)
    assert raised(alerts) == [("raised", DARK, 1803)] and not core.engine.stats.rule_errors
    zone = core.zones.zone("vts_area")
    lat, lon = OPEN_WATER
    depth = zone.depth_m(lon, lat)
    assert depth > 1000.0 and zone.depth_m(lon - 2.0, lat) == 0.0  # outside: no depth
    # the depth is the distance in metres to the nearest edge, east-west as north-south
    assert zone.depth_m(*reversed(offset(OPEN_WATER, east_m=200))) == pytest.approx(depth, abs=250.0)


def test_a_reload_takes_over_the_dark_vessels_and_the_silent_ones() -> None:
    """A rule made by a reload (changed parameters) still clears the vessel dark before it when it
    reappears, and still notices a vessel that fell silent before it."""
    config = make_config()
    changed = set_rule(make_config(), "ais_gap", implied_speed_flag_kn=30.0)
    second = moving(OTHER, T0, minutes=26, start=offset(OPEN_WATER, east_m=1500), cog=0, sog=2.0)
    reports = merge(sailing(), second, neighbour(80))
    cut = T0 + 1900  # DARK dark since T0 + 1800; OTHER silent since T0 + 1560, not dark yet
    back = moving(DARK, T0 + 4000, minutes=2, start=offset(OPEN_WATER, north_m=1500), cog=0, sog=2.0)
    before = [r for r in reports if r.time < cut]
    after = merge([r for r in reports if r.time >= cut], back)
    expected = reload_run(None, config, config, before, after)  # no change: the same rule goes on
    for chunk in (None, 7):
        out = reload_run(chunk, config, changed, before, after)
        steps = [(a["state"], a["mmsi"], a["details"].get("reason")) for a in out if a["type"] == "ais_gap"]
        assert [s for s in steps if s[0] != "updated"] == [
            ("raised", DARK, None),
            ("raised", OTHER, None),
            ("cleared", DARK, "reappeared"),
            ("raised", DARK, None),  # silent again after its two minutes back
        ]
        keep = ("type", "state", "mmsi", "time")
        assert [{k: a[k] for k in keep} for a in out] == [{k: a[k] for k in keep} for a in expected]


def test_a_fix_that_goes_to_a_shadow_track_resets_the_waiting_limit_batched_or_not() -> None:
    """A slow Class B ship (lost after 18 minutes) falls silent; a Class A fix under its MMSI from
    40 km away goes to a shadow track, yet makes the vessel Class A (lost after 10 minutes). One by
    one and in batches alike, the limit is judged again."""
    craft = 760000611
    track = moving(craft, T0, minutes=20, start=OPEN_WATER, cog=0, sog=1.0, every_s=30, ais_class="B")
    shadow = position(craft, T0 + 1850, offset(OPEN_WATER, north_m=40_000), sog=1.0, ais_class="A")
    reports = merge(track, [shadow], neighbour(60))
    steps = same_in_chunks(reports, sizes=(len(reports), 40, 7), until=T0 + 3000)
    assert [(a["state"], a["time"]) for a in steps if a["type"] == "ais_gap" and a["state"] != "updated"][
        :1
    ] == [("raised", iso_time(T0 + 1863))]
