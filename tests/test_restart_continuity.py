"""A restart with an alert database carries on where the daemon stopped: port visits under way are
not opened a second time, and conditions that just ended stay held back by their cooldown."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    make_config,
    merge,
    moving,
    offset,
    run,
    static,
    stationary,
)
from tests.test_alert_engine import hold
from vts.alerts.model import Alert, parse_iso_time
from vts.alerts.store import AlertStore
from vts.core import Core
from vts.reports import Report

SHIP = 760000611
OTHER = 760000612
INSIDE = offset(ANCHORAGE, north_m=84)


def _core(db: Path) -> Core:
    return Core(make_config(), store=AlertStore(db))


def _stop(core: Core) -> None:
    assert core.engine.store is not None
    core.engine.store.close()


def _restart(db: Path, reports: list[Report], until: float | None = None) -> list[Alert]:
    """A new core on the database, fed `reports` one by one; a twin on a copy of the database, fed
    them as one batch (`Rule.interest` masks and watches), must give the same alert stream."""
    copy = db.with_name(db.stem + "-batched.sqlite3")
    shutil.copyfile(db, copy)
    core = _core(db)
    alerts = run(core, reports, until=until, check_batch=False)
    _stop(core)
    twin = _core(copy)
    batched = twin.process_many(reports)
    if until is not None:
        batched.extend(twin.advance(until))
    batched.extend(twin.finish())
    _stop(twin)
    copy.unlink()
    assert [a.to_dict() for a in batched] == [a.to_dict() for a in alerts]
    return alerts


def _visits(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.type.startswith("zone_") and a.zone == "anchorage_main"]


def _first_run(db: Path) -> tuple[Alert, float]:
    """The ship sails into the anchorage and lies there; the daemon stops. (entry, last fix time)"""
    inbound = moving(SHIP, T0, minutes=10, start=offset(ANCHORAGE, north_m=-3000), cog=0, sog=10.0)
    stay = stationary(SHIP, inbound[-1].time + 10, minutes=20, at=INSIDE, every_s=60, nav_status=1)
    core = _core(db)
    alerts = _visits(
        run(core, merge(static(SHIP, T0 - 60, name="VISITOR", ship_type=70, length=150), inbound, stay))
    )
    _stop(core)
    assert [a.type for a in alerts] == ["zone_entry"]
    return alerts[0], stay[-1].time


def test_a_visit_under_way_goes_on_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    entry, last = _first_run(db)
    restart = last + 5 * 60
    stay = stationary(SHIP, restart, minutes=15, at=INSIDE, every_s=60, nav_status=1)
    outbound = moving(SHIP, stay[-1].time + 10, minutes=12, start=INSIDE, cog=180, sog=10.0)
    alerts = _visits(_restart(db, merge(stay, outbound)))
    # no second "first seen inside" entry: one exit, for the visit entered before the restart
    assert [a.type for a in alerts] == ["zone_exit"]
    exit_ = alerts[0]
    assert exit_.details["entered"] == entry.details["crossing_time"]
    entered = parse_iso_time(entry.details["crossing_time"])
    crossed = parse_iso_time(exit_.details["crossing_time"])
    assert exit_.details["dwell_s"] == round(crossed - entered, 1)
    assert exit_.details["dwell_s"] > 40 * 60  # the whole stay, not only what followed the restart
    assert exit_.details["lost"] is False and "after_restart" not in exit_.details
    # and the store holds exactly one entry and one exit for the visit
    store = AlertStore(db)
    kinds = [a.type for a in store.alerts(types=["zone_entry", "zone_exit"]) if a.zone == "anchorage_main"]
    store.close()
    assert kinds == ["zone_entry", "zone_exit"]


def test_a_vessel_that_left_while_vts_was_down_gets_its_exit_at_its_first_fix(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    entry, last = _first_run(db)
    away = offset(ANCHORAGE, north_m=-6000)
    later = moving(SHIP, last + 40 * 60, minutes=5, start=away, cog=180, sog=10.0)
    alerts = _visits(_restart(db, later))
    assert [a.type for a in alerts] == ["zone_exit"]
    exit_ = alerts[0]
    assert exit_.details["after_restart"] is True and exit_.details["gap"] is True
    assert exit_.details["lost"] is False
    assert exit_.time == later[0].time and (exit_.lat, exit_.lon) == (later[0].lat, later[0].lon)
    assert exit_.details["entered"] == entry.details["crossing_time"]
    assert exit_.details["dwell_s"] == round(
        later[0].time - parse_iso_time(entry.details["crossing_time"]), 1
    )
    assert "left while vts was not running" in exit_.message


def test_a_fix_just_outside_the_zone_but_within_its_exit_margin_is_still_the_visit(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    _first_run(db)
    zone = _core(tmp_path / "scratch.sqlite3").zones.zone("anchorage_main")
    # walk north from inside to the first point outside the anchorage, then 20 m further
    north = 84.0
    while zone.contains(offset(ANCHORAGE, north_m=north)[1], offset(ANCHORAGE, north_m=north)[0]):
        north += 10.0
    edge = offset(ANCHORAGE, north_m=north + 20.0)
    assert not zone.contains(edge[1], edge[0])
    first = stationary(SHIP, T0 + 3600, minutes=3, at=edge, every_s=60, nav_status=1)
    stay = stationary(SHIP, first[-1].time + 60, minutes=10, at=INSIDE, every_s=60, nav_status=1)
    alerts = _visits(_restart(db, merge(first, stay)))
    assert alerts == []  # neither an exit (20 m out is GPS noise at the edge) nor a second entry


def test_a_vessel_not_heard_after_the_restart_has_its_visit_closed_as_lost(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    entry, last = _first_run(db)
    forget_s = make_config().tracker.forget_after_s
    others = stationary(OTHER, last + 300, minutes=5, at=OPEN_WATER, every_s=10, sog=5.0)
    alerts = _visits(_restart(db, others, until=others[0].time + forget_s + 120))
    assert [a.type for a in alerts] == ["zone_exit"]
    lost = alerts[0]
    assert lost.details["lost"] is True and lost.details["after_restart"] is True
    assert lost.details["crossing_time"] is None and "dwell_s" not in lost.details
    assert lost.details["entered"] == entry.details["crossing_time"]
    assert abs(lost.lat - entry.lat) < 1e-6 and abs(lost.lon - entry.lon) < 1e-6  # where it entered
    assert lost.time >= others[0].time + forget_s and "VISITOR" in lost.message


def test_a_log_older_than_the_store_starts_afresh(tmp_path: Path) -> None:
    """Data from well before the store's newest step (an older log replayed into the database) is
    another timeline: its ship gets its own entry, however the store's visits stand."""
    db = tmp_path / "alerts.sqlite3"
    _first_run(db)
    earlier = stationary(SHIP, T0 - 6 * 3600, minutes=10, at=INSIDE, every_s=60, nav_status=1)
    alerts = _visits(_restart(db, earlier))
    assert [a.type for a in alerts] == ["zone_entry"]
    assert alerts[0].details["first_seen_inside"] is True


def test_a_condition_that_ended_just_before_a_restart_stays_in_its_cooldown(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    run(core, stationary(SHIP, T0, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    assert [a.state for a in hold(core.engine, T0 + 100, mmsi=SHIP)] == ["raised"]
    core.engine.tick(T0 + 160)
    core.engine.clear(type="loitering", mmsi=SHIP)
    assert [a.state for a in core.engine.drain()] == ["cleared"]
    _stop(core)
    cooldown_s = core.config.alerts.cooldown_minutes * 60.0

    again = _core(db)
    run(again, stationary(SHIP, T0 + 200, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    assert (
        hold(again.engine, T0 + 300, mmsi=SHIP) == []
    )  # within the cooldown of the clear before the restart
    assert again.engine.stats.suppressed.get("cooldown") == 1
    assert [a.state for a in hold(again.engine, T0 + 160 + cooldown_s + 1, mmsi=SHIP)] == ["raised"]
    _stop(again)

    # an older log replayed into the same database is not held back by what came after it
    older = _core(db)
    run(older, stationary(SHIP, T0 - 6 * 3600, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    assert [a.state for a in hold(older.engine, T0 - 6 * 3600 + 100, mmsi=SHIP)] == ["raised"]
    _stop(older)
