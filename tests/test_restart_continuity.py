"""A restart with an alert database carries on where the daemon stopped: port visits under way are
not opened a second time, and conditions that just ended stay held back by their cooldown."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.rule_helpers import (
    ANCHORAGE,
    BERTH_DPWORLD,
    OPEN_WATER,
    T0,
    make_config,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    states,
    static,
    stationary,
)
from tests.test_alert_engine import hold
from vts.alerts.model import Alert, iso_time, parse_iso_time
from vts.alerts.store import AlertStore
from vts.core import Core
from vts.reports import Report, StaticReport
from vts.rules.distress import DistressParams
from vts.zones import ZoneEngine

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


@pytest.mark.parametrize("zones_saved", [True, False], ids=["memberships-saved", "older-database"])
def test_a_visit_goes_on_whether_or_not_the_memberships_were_saved(tmp_path: Path, zones_saved: bool) -> None:
    """With the vessels' zone memberships saved, the zone engine knows the ship is still in the
    anchorage (no entry at all after the restart); a database saved before memberships were (no
    "zones" state) finds it inside again from its fixes. Either way: one visit, one exit."""
    db = tmp_path / "alerts.sqlite3"
    entry, last = _first_run(db)
    if not zones_saved:
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            con.execute("DELETE FROM saved_state WHERE owner = 'zones'")
    stay = stationary(SHIP, last + 5 * 60, minutes=15, at=INSIDE, every_s=60, nav_status=1)
    outbound = moving(SHIP, stay[-1].time + 10, minutes=12, start=INSIDE, cog=180, sog=10.0)
    core = _core(db)
    alerts = _visits(run(core, merge(stay, outbound), check_batch=False))
    assert (SHIP in core.zones.vessels()) is True
    _stop(core)
    assert [a.type for a in alerts] == ["zone_exit"]
    assert alerts[0].details["entered"] == entry.details["crossing_time"]
    assert "after_restart" not in alerts[0].details


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
    zone = ZoneEngine.from_config(make_config()).zone("anchorage_main")
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


# -- what the rules remember beyond their alerts (`Rule.save_state` / `load_state`) ---------------

BAD = 100000001
"""An MMSI whose MID (100) no country holds: invalid_mmsi flags it."""
BAD_LATE = 100000002
MOB = 972000123
BAD_IMO = 9074728  # 9074729 is valid: the check digit fails


def _id_static(mmsi: int, t: float, name: str) -> StaticReport:
    return StaticReport(
        time=t, mmsi=mmsi, msg_type=5, source="test", name=name, imo=BAD_IMO, ship_type=70,
        to_bow=75, to_stern=75, to_port=10, to_starboard=10,
    )  # fmt: skip


def test_a_vessel_flagged_before_a_restart_is_not_flagged_again(tmp_path: Path) -> None:
    """Flagged once per vessel as long as the tracker knows it: a restart in between must not flag
    it a second time; one heard again only after the tracker would have forgotten it is flagged anew."""
    db = tmp_path / "alerts.sqlite3"
    far = offset(OPEN_WATER, north_m=2000)
    core = _core(db)
    first = run(
        core,
        merge(
            stationary(BAD, T0, minutes=5, at=OPEN_WATER, every_s=10, sog=5.0),
            stationary(BAD_LATE, T0, minutes=5, at=far, every_s=10, sog=5.0),
        ),
    )
    _stop(core)
    assert sorted(a.mmsi for a in first if a.type == "invalid_mmsi") == [BAD, BAD_LATE]
    forget_s = make_config().tracker.forget_after_s
    later = merge(
        stationary(BAD, T0 + 600, minutes=5, at=OPEN_WATER, every_s=10, sog=5.0),
        stationary(BAD_LATE, T0 + 300 + forget_s + 120, minutes=5, at=far, every_s=10, sog=5.0),
    )
    alerts = [a for a in _restart(db, later) if a.type == "invalid_mmsi"]
    assert [a.mmsi for a in alerts] == [BAD_LATE]
    assert alerts[0].time == T0 + 300 + forget_s + 120


def test_a_distress_device_still_transmitting_after_a_restart_is_the_same_activation(
    tmp_path: Path,
) -> None:
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    first = run(core, stationary(MOB, T0, minutes=5, at=OPEN_WATER, every_s=60, nav_status=14))
    _stop(core)
    assert [(a.type, a.severity) for a in first] == [("distress", "emergency")]
    params = make_config().rules["distress"]
    assert isinstance(params, DistressParams)
    going_on = stationary(MOB, T0 + 600, minutes=5, at=OPEN_WATER, every_s=60, nav_status=14)
    silence_end = going_on[-1].time + params.rearm_minutes * 60.0 + 60
    again = stationary(MOB, silence_end, minutes=2, at=OPEN_WATER, every_s=60, nav_status=14)
    alerts = [a for a in _restart(db, merge(going_on, again)) if a.type == "distress"]
    # no second emergency for the activation heard before the restart; a new one after the silence
    assert [a.time for a in alerts] == [again[0].time]


def _identity_first_run(db: Path) -> None:
    """SHIP declares itself ALPHA with an IMO number whose check digit fails (reported), then vts stops."""
    core = _core(db)
    reports = merge(
        _id_static(SHIP, T0, "ALPHA"),
        stationary(SHIP, T0, minutes=5, at=OPEN_WATER, every_s=30, sog=5.0),
    )
    first = [a for a in run(core, reports) if a.type == "identity_change"]
    _stop(core)
    assert [a.details["kind"] for a in first] == ["invalid_imo"]


def test_a_ship_renamed_while_vts_was_down_is_an_identity_change(tmp_path: Path) -> None:
    """What an MMSI declared outlives a restart, and so does what was reported of it: the new name
    is a change, and the false IMO number reported before is not reported again."""
    db = tmp_path / "alerts.sqlite3"
    _identity_first_run(db)
    later = merge(
        stationary(SHIP, T0 + 900, minutes=5, at=OPEN_WATER, every_s=30, sog=5.0),
        _id_static(SHIP, T0 + 960, "BRAVO"),
    )
    alerts = [a for a in _restart(db, later) if a.type == "identity_change"]
    assert [a.details["kind"] for a in alerts] == ["change"]
    assert alerts[0].details["changes"] == [{"field": "name", "old": "ALPHA", "new": "BRAVO"}]
    assert "invalid_imo" not in alerts[0].details


async def test_the_daemon_saves_the_state_as_it_runs_so_a_crash_loses_little(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No end of input, no clean stop (a crash): the state the daemon's housekeeping saved every
    `CHECKPOINT_S` of its running time carries on. Event time alone saves nothing (a replay racing
    through hours of data does not stop to write the tracks every half hour of it)."""
    import asyncio

    import vts.daemon as daemon_module
    from vts.sources.runner import FeedHealth
    from vts.sources.settings import SourceSettings
    from vts.sources.tcp import TcpSource

    monkeypatch.setattr(daemon_module, "HOUSEKEEPING_S", 0.01)
    monkeypatch.setattr(daemon_module, "CHECKPOINT_S", 0.05)
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    reports = merge(
        _id_static(SHIP, T0, "ALPHA"),
        stationary(SHIP, T0, minutes=35, at=OPEN_WATER, every_s=60, sog=5.0),
    )
    for r in reports:
        core.process(r)
    assert core.engine.store is not None and core.engine.store.saved_states() == {}
    feed = TcpSource(SourceSettings(name="rx", kind="tcp", host="127.0.0.1", port=9))  # never started
    d = daemon_module.Daemon.__new__(daemon_module.Daemon)
    task = asyncio.create_task(d._housekeeping(core, [feed], FeedHealth(core, [feed])))
    try:
        async with asyncio.timeout(20.0):  # liveness, not a speed target
            while not core.engine.store.saved_states():
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    _stop(core)  # closed as a crash would leave it: no finish(), no checkpoint() at the stop
    store = AlertStore(db)
    saved = store.saved_states()
    store.close()
    assert saved["rule/identity_change"][0] == reports[-1].time
    assert saved["rule/identity_change"][1]["known"][0][:2] == [SHIP, {"name": "ALPHA", "imo": BAD_IMO,
        "ship_type": 70, "length_m": 150.0, "beam_m": 20.0}]  # fmt: skip
    assert saved["tracker"][0] == reports[-1].time
    later = merge(
        stationary(SHIP, reports[-1].time + 300, minutes=5, at=OPEN_WATER, every_s=30, sog=5.0),
        _id_static(SHIP, reports[-1].time + 360, "BRAVO"),
    )
    alerts = [a for a in _restart(db, later) if a.type == "identity_change"]
    assert [a.details["kind"] for a in alerts] == ["change"]


def test_an_older_log_does_not_take_over_the_rules_state(tmp_path: Path) -> None:
    """Data from well before the saved state (an older log replayed into the database) is another
    timeline: SHIP's name there is its first, not a change from what it declared later."""
    db = tmp_path / "alerts.sqlite3"
    _identity_first_run(db)
    earlier = merge(
        stationary(SHIP, T0 - 6 * 3600, minutes=5, at=OPEN_WATER, every_s=30, sog=5.0),
        _id_static(SHIP, T0 - 6 * 3600 + 60, "BRAVO"),
    )
    alerts = [a for a in _restart(db, earlier) if a.type == "identity_change"]
    assert [a.details["kind"] for a in alerts] == ["invalid_imo"]


def test_a_damaged_saved_state_is_warned_about_and_that_rule_starts_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "alerts.sqlite3"
    _identity_first_run(db)
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("UPDATE saved_state SET json = '{\"known\": [[1, ' WHERE owner = 'rule/identity_change'")
        c.commit()
    later = merge(
        stationary(SHIP, T0 + 900, minutes=5, at=OPEN_WATER, every_s=30, sog=5.0),
        _id_static(SHIP, T0 + 960, "BRAVO"),
    )
    with caplog.at_level(logging.WARNING, logger="vts.alerts.store"):
        alerts = _restart(db, later)
    assert "the saved state of rule/identity_change cannot be read" in caplog.text
    # afresh: BRAVO is the first name it knows, and the false IMO number is reported once more
    assert [a.details["kind"] for a in alerts if a.type == "identity_change"] == ["invalid_imo"]


def test_a_database_of_an_older_version_gets_the_saved_state_table(tmp_path: Path) -> None:
    """An alert database written before rule states existed: read-only listing works without the
    table (and adds nothing); opened for writing, the table is added and the states saved."""
    db = tmp_path / "alerts.sqlite3"
    _identity_first_run(db)
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("DROP TABLE saved_state")
        c.commit()
    listing = AlertStore(db, read_only=True)
    assert listing.saved_states() == {} and listing.alerts()
    listing.close()
    _restart(db, stationary(SHIP, T0 + 900, minutes=5, at=OPEN_WATER, every_s=30, sog=5.0))
    store = AlertStore(db)
    assert {
        "rule/distress",
        "rule/identity_change",
        "rule/invalid_mmsi",
        "tracker",
    } <= store.saved_states().keys()
    store.close()


def test_a_ship_at_its_berth_keeps_its_identity_over_a_restart(tmp_path: Path) -> None:
    """A cargo ship moored in DP World's security zone, where cargo ships belong: after a restart,
    its static data is known from its first report. Without that, its type would stay unknown until
    a static report got through, and an unknown vessel in a security zone is an intruder once the
    static grace is over (here every static report after the restart is lost)."""
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    moored = stationary(SHIP, T0, minutes=20, at=BERTH_DPWORLD, every_s=180, nav_status=5)
    first = run(core, merge(static(SHIP, T0 - 60, name="VISITOR", ship_type=70, length=200), moored))
    _stop(core)
    assert [a for a in first if a.type == "restricted_area"] == []
    later = stationary(SHIP, moored[-1].time + 600, minutes=40, at=BERTH_DPWORLD, every_s=180, nav_status=5)
    alerts = _restart(db, later)
    assert [a for a in alerts if a.type == "restricted_area"] == []
    again = _core(db)  # and once more, a few minutes after that run ended
    again.process(position(SHIP, later[-1].time + 300, BERTH_DPWORLD, nav_status=5))
    vessel = again.tracker.get(SHIP)
    _stop(again)
    assert vessel is not None and (vessel.name, vessel.ship_type, vessel.length) == ("VISITOR", 70, 200.0)


def test_a_database_that_cannot_take_the_saved_states_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk at a checkpoint: a warning, and the replay goes on with every alert."""
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    assert core.engine.store is not None

    class FullDisk:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def executemany(self, sql: str, rows: object) -> None:
            if "saved_state" in sql:
                raise sqlite3.OperationalError("database or disk is full")
            self.db.executemany(sql, rows)  # type: ignore[arg-type]

        def __getattr__(self, name: str) -> object:
            return getattr(self.db, name)

    store = core.engine.store
    store._db = FullDisk(store._db)  # type: ignore[assignment]
    reports = merge(_id_static(SHIP, T0, "ALPHA"), stationary(SHIP, T0, minutes=5, at=OPEN_WATER, every_s=30))
    with caplog.at_level(logging.WARNING, logger="vts.alerts.store"):
        alerts = run(core, reports)
    assert "the saved states were not updated: database or disk is full" in caplog.text
    assert [a.details["kind"] for a in alerts if a.type == "identity_change"] == ["invalid_imo"]
    assert [a.id for a in store.alerts()] == [a.id for a in alerts if a.state == "raised"]
    _stop(core)


# -- the vessel tracks over a restart ----------------------------------------------------------
DARK = 760000531
NEAR = offset(OPEN_WATER, north_m=2000)


def _tracks_first_run(db: Path) -> float:
    """A boat under way and a neighbour 2 km off, both heard every 10 s for 20 min; the daemon
    stops. Returns the time of the boat's last report."""
    boat = moving(DARK, T0, minutes=20, start=OPEN_WATER, cog=0, sog=2.0)
    near = stationary(OTHER, T0 + 3, minutes=20, at=NEAR, every_s=10, sog=0.1)
    core = _core(db)
    alerts = run(core, merge(static(DARK, T0 - 60, name="SOMBRA", ship_type=30, length=24), boat, near))
    _stop(core)
    assert of_type(alerts, "ais_gap") == []
    return boat[-1].time


def test_a_vessel_that_fell_silent_while_vts_was_down_is_found_dark(tmp_path: Path) -> None:
    """The boat is never heard after the restart, the neighbour is: it went dark while vts was
    down. Its silence counts from the restart (nothing was heard before it)."""
    db = tmp_path / "alerts.sqlite3"
    last = _tracks_first_run(db)
    restart = last + 300
    near = stationary(OTHER, restart, minutes=15, at=NEAR, every_s=10, sog=0.1)
    alerts = of_type(_restart(db, near), "ais_gap")
    assert states(alerts)[0] == "raised" and alerts[0].mmsi == DARK
    assert 600 <= alerts[0].time - restart <= 630
    assert alerts[0].details["last_seen"] == iso_time(last) and "SOMBRA" in alerts[0].message
    assert alerts[0].details["silent_s"] == round(alerts[0].time - restart)
    assert alerts[0].details["since_restart"] is True
    ago = round((alerts[0].time - last) / 60)
    assert f"not heard in the 10 min since vts restarted (last heard {ago} min ago)" in alerts[0].message


def test_vessels_heard_again_after_a_restart_are_not_taken_for_dark(tmp_path: Path) -> None:
    """Fifteen minutes down: longer than the boat's 10-minute limit, but vts did not listen then.
    Its first report after the restart comes a minute after the neighbour's: not a gap."""
    db = tmp_path / "alerts.sqlite3"
    last = _tracks_first_run(db)
    restart = last + 900
    near = stationary(OTHER, restart, minutes=12, at=NEAR, every_s=10, sog=0.1)
    boat = moving(DARK, restart + 60, minutes=11, start=offset(OPEN_WATER, north_m=2000), cog=0, sog=2.0)
    assert of_type(_restart(db, merge(near, boat)), "ais_gap") == []


def test_two_ships_under_one_mmsi_after_a_restart_are_judged_alike_in_batches(tmp_path: Path) -> None:
    """The track taken up after the restart is where the first ship was: a second ship far from
    it, heard first after the restart, goes to a shadow track. Fed as one batch (the rules' masks)
    or report by report, the same alerts (`_restart` holds them to that)."""
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    first = stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=10, sog=0.1)
    run(core, merge(static(SHIP, T0 - 60, name="TWIN", ship_type=70, length=150), first))
    _stop(core)
    restart = first[-1].time + 120
    far = offset(OPEN_WATER, north_m=40_000)
    other = stationary(SHIP, restart, minutes=12, at=far, every_s=10, sog=0.1)
    same = stationary(SHIP, restart + 5, minutes=12, at=OPEN_WATER, every_s=10, sog=0.1)
    alerts = _restart(db, merge(other, same))
    assert "duplicate_mmsi" in {a.type for a in alerts}


def test_the_vessels_taken_up_are_where_the_pair_rules_look_for_neighbours(tmp_path: Path) -> None:
    """A ship at anchor reports every 3 minutes: after a restart, a boat coming alongside in the first
    minutes finds it in the vessel grid (the pair rules' index) before its next report."""
    db = tmp_path / "alerts.sqlite3"
    last = _tracks_first_run(db)
    core = _core(db)
    core.process(position(OTHER, last + 60, NEAR, sog=0.1))
    _stop(core)
    assert core.grid.position(DARK) is not None and core.tracker.get(DARK) is not None
    assert DARK in core.grid.near(NEAR[0], NEAR[1], 5000)


def test_a_restart_says_what_it_carried_on_from(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Found in a live test: the daemon said nothing of what it took up from its database."""
    db = tmp_path / "alerts.sqlite3"
    last = _tracks_first_run(db)
    with caplog.at_level(logging.INFO, logger="vts.alerts.engine"):
        core = _core(db)
        core.process(stationary(OTHER, last + 120, minutes=1, at=NEAR, every_s=60, sog=0.1)[0])
        _stop(core)
        said = [
            r.getMessage() for r in caplog.records if "carrying on from the alert database" in r.getMessage()
        ]
        assert len(said) == 1 and "0 alert(s) holding, 2 vessel track(s) taken up" in said[0]
        caplog.clear()
        core = _core(db)  # data from a day before the database's: not its continuation
        core.process(stationary(OTHER, T0 - 86_400, minutes=1, at=NEAR, every_s=60, sog=0.1)[0])
        _stop(core)
    assert any("not taken up as its continuation" in r.getMessage() for r in caplog.records)


def test_a_vessel_inside_a_zone_at_the_restart_is_still_inside_it(tmp_path: Path) -> None:
    """The vessels' zone memberships are saved with their tracks: a fishing boat raised in San
    Lorenzo's restricted waters before a restart is cleared when it leaves them ("left the zone", at
    its exit), not held on until the restore grace is over and then expired as unconfirmed."""
    from tests.test_rule_restricted_area import BOAT, SAN_LORENZO_WATERS, visit

    db = tmp_path / "alerts.sqlite3"
    reports = visit(BOAT, SAN_LORENZO_WATERS, ship_type=30, minutes=6)
    zone = ZoneEngine.from_config(make_config()).zone("restricted_san_lorenzo")
    sailing_out = [r for r in reports if r.time > T0 + 13.4 * 60 + 6 * 60]
    # the restart: just after its last fix inside, before a fix far enough out confirms the exit
    stay_end = next(r.time for r in sailing_out if not zone.contains(r.lon, r.lat))
    core = _core(db)
    first = run(core, [r for r in reports if r.time < stay_end])
    _stop(core)
    assert states(of_type(first, "restricted_area"))[0] == "raised"
    core = _core(db)
    assert core.zones.zones_of(BOAT) == set()  # (taken up at the first event time, not before)
    rest = [r for r in reports if r.time >= stay_end]
    after = of_type(run(core, rest, check_batch=False), "restricted_area")
    _stop(core)
    assert after, "the alert held on past the end of the data"
    assert states(after)[-1] == "cleared" and after[-1].details["reason"] == "left the zone"
    assert after[-1].time - stay_end < 5 * 60
    assert "raised" not in states(after)  # the same alert, not a second one


@pytest.mark.parametrize("window_saved", [True, False], ids=["window-saved", "window-lost"])
def test_a_loitering_boat_is_still_loitering_after_a_restart(tmp_path: Path, window_saved: bool) -> None:
    """A small craft loitering when the daemon stops, still dawdling after it starts again, then
    leaving: one alert, cleared when the boat makes way ("under way again"), as without the restart.
    It used to be cleared as "target silent" at the first tick: the rule had lost its window. With
    the window lost too (a database saved before windows were), the alert is still not dropped."""
    from tests.test_rule_loitering import CRAFT, drift_then_leave

    db = tmp_path / "alerts.sqlite3"
    reports = drift_then_leave(CRAFT, 50)
    once = _core(tmp_path / "once.sqlite3")
    uninterrupted = of_type(run(once, reports), "loitering")
    _stop(once)
    assert states(uninterrupted)[0] == "raised" and states(uninterrupted)[-1] == "cleared"
    restart_at = uninterrupted[0].time + 5 * 60
    core = _core(db)
    before = of_type(run(core, [r for r in reports if r.time < restart_at]), "loitering")
    _stop(core)
    assert states(before) == ["raised"]
    if not window_saved:
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            con.execute("DELETE FROM saved_state WHERE owner = 'rule/loitering'")
    # after the restart another vessel is heard first, for 90 s: the rule's ticks come before the
    # boat's next fix (they found no window and cleared the alert as "target silent")
    others = stationary(
        OTHER, restart_at, minutes=1.5, at=offset(OPEN_WATER, north_m=3000), every_s=10, sog=5.0
    )
    rest = merge(others, [r for r in reports if r.time >= restart_at + 90])
    core = _core(db)
    after = of_type(run(core, rest, check_batch=False), "loitering")
    _stop(core)
    assert "raised" not in states(after) and states(after)[-1] == "cleared"
    assert "under way again" in after[-1].details["reason"]
    if window_saved:  # the same window: cleared at the same fix, with the same evidence
        assert after[-1].time == uninterrupted[-1].time
        assert after[-1].details == uninterrupted[-1].details


def test_a_ship_dragging_its_anchor_at_a_restart_is_still_dragging(tmp_path: Path) -> None:
    """Where each ship at anchor settled is saved: a drag raised before the restart goes on, with
    the distance from where the ship first anchored, and ends when the ship holds again (three slow
    fixes inside its circle), as without the restart; not expired 15 min on as unconfirmed."""
    settle = stationary(SHIP, T0, minutes=15, at=ANCHORAGE, every_s=60, nav_status=1)
    t = settle[-1].time + 60
    fast = stationary(SHIP, t, minutes=3, at=ANCHORAGE, every_s=20, sog=1.3, nav_status=1)
    more = stationary(SHIP, t + 200, minutes=2, at=ANCHORAGE, every_s=20, sog=1.3, nav_status=1)
    calm = stationary(SHIP, t + 340, minutes=3, at=ANCHORAGE, every_s=20, sog=0.3, nav_status=1)
    reports = merge(static(SHIP, T0 - 60, name="BULKER", ship_type=70, length=200), settle, fast, more, calm)
    once = _core(tmp_path / "once.sqlite3")
    uninterrupted = of_type(run(once, reports), "anchor_drag")
    _stop(once)
    assert states(uninterrupted)[0] == "raised" and states(uninterrupted)[-1] == "cleared"
    db = tmp_path / "alerts.sqlite3"
    core = _core(db)
    before = of_type(run(core, [r for r in reports if r.time < t + 200]), "anchor_drag")
    _stop(core)
    assert "raised" in states(before) and "cleared" not in states(before)
    after = of_type(_restart(db, [r for r in reports if r.time >= t + 200]), "anchor_drag")
    assert "raised" not in states(after) and states(after)[-1] == "cleared"
    assert after[-1].time == uninterrupted[-1].time == calm[2].time


def test_a_ship_off_route_at_a_restart_is_still_off_route(tmp_path: Path) -> None:
    """course_anomaly saves its off_route watches: a ship raised off route before the restart is
    still off route after it, with the same updates as without the restart, not expired 15 min on
    as unconfirmed while its window had to see it on the routes again."""
    from tests.rule_helpers import set_rule
    from tests.test_rules_course import _leaves_the_lane, lane_model

    config = set_rule(
        make_config(), "course_anomaly", model_path=str(lane_model(tmp_path)), off_route_approach_kinds=[]
    )
    reports = _leaves_the_lane(40)
    once = Core(config, store=AlertStore(tmp_path / "once.sqlite3"))
    uninterrupted = [a for a in run(once, reports) if a.details.get("kind") == "off_route"]
    _stop(once)
    assert uninterrupted and uninterrupted[0].state == "raised"
    restart_at = uninterrupted[0].time + 120
    db = tmp_path / "alerts.sqlite3"
    core = Core(config, store=AlertStore(db))
    run(core, [r for r in reports if r.time < restart_at])
    _stop(core)
    rest = [r for r in reports if r.time >= restart_at]
    copy = tmp_path / "batched.sqlite3"
    shutil.copyfile(db, copy)
    core = Core(config, store=AlertStore(db))
    steps = run(core, rest, check_batch=False)
    _stop(core)
    twin = Core(config, store=AlertStore(copy))  # the same restart fed as one batch: the same steps
    batched = twin.process_many(rest) + twin.finish()
    _stop(twin)
    assert [a.to_dict() for a in batched] == [a.to_dict() for a in steps]
    after = [a for a in steps if a.details.get("kind") == "off_route"]
    expected = [a for a in uninterrupted if a.time >= restart_at]
    assert [(a.state, a.time) for a in after] == [(a.state, a.time) for a in expected]
    assert "raised" not in states(after)  # the alert of before the restart, held on
