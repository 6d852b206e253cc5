"""The SQLite alert store (lifecycle, acknowledgements, MQTT outbox) and the `vts alerts` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rule_helpers import OPEN_WATER, T0, make_config, run, stationary
from vts.alerts.command import parse_since
from vts.alerts.model import Alert, make_alert_id
from vts.alerts.store import AlertStore
from vts.cli import main as cli_main
from vts.core import Core


def step(type_: str, mmsi: int, state: str, t: float, started: float, **kw: object) -> Alert:
    return Alert(
        id=make_alert_id(type_, mmsi, None, None, started),
        type=type_,
        severity="warning",
        state=state,  # type: ignore[arg-type]
        mmsi=mmsi,
        time=t,
        started=started,
        message=f"{type_} {state}",
        details={"t": t},
        **kw,  # type: ignore[arg-type]
    )


def fill(store: AlertStore) -> list[Alert]:
    steps = [
        step("loitering", 760000001, "raised", T0, T0),
        step("rendezvous", 760000002, "raised", T0 + 10, T0 + 10),
        step("loitering", 760000001, "updated", T0 + 300, T0),
        step("loitering", 760000001, "cleared", T0 + 600, T0),
        step("position_jump", 760000003, "raised", T0 + 700, T0 + 700),
    ]
    for a in steps:
        store.record(a, active=None if a.type != "position_jump" else False)
    store.commit()
    return steps


def test_lifecycle_survives_reopen(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    steps = fill(store)
    store.acknowledge(steps[1].id, "op2", "watching", T0 + 20)
    store.close()

    again = AlertStore(db)
    assert [a.type for a in again.active_alerts()] == ["rendezvous"]
    history = again.history(steps[0].id)
    assert [a.state for a in history] == ["raised", "updated", "cleared"]
    assert history[-1].to_json() == steps[3].to_json()
    current = again.alerts()
    assert [(a.type, a.state) for a in current] == [
        ("loitering", "cleared"),
        ("rendezvous", "raised"),
        ("position_jump", "raised"),
    ]
    assert [a.type for a in again.alerts(types=["loitering"])] == ["loitering"]
    assert [a.type for a in again.alerts(since=T0 + 650)] == ["position_jump"]
    acks = again.acks(steps[1].id)
    assert [(k.by, k.note, k.at, k.origin) for k in acks] == [("op2", "watching", T0 + 20, "engine")]
    assert again.acknowledge("unknown", "x", "", T0) is None


def test_the_alerts_table_follows_an_alert_into_another_zone(tmp_path: Path) -> None:
    """A speeding run carries into a stricter zone under the same alert: the table's zone column (for
    anyone querying the database) is the alert's latest, like its JSON."""
    import sqlite3

    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    store.record(step("speeding", 760000001, "raised", T0, T0, zone="port_area"))
    store.record(step("speeding", 760000001, "updated", T0 + 60, T0, zone="anchorage_main"))
    store.commit()
    store.close()
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT zone, json FROM alerts").fetchall()
    assert [(zone, json.loads(js)["zone"]) for zone, js in rows] == [("anchorage_main", "anchorage_main")]


def test_outbox_in_order_and_undelivered_survive_restart(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    steps = fill(store)
    pending = store.pending_delivery(limit=10)
    assert [a.to_json() for _, a in pending] == [a.to_json() for a in steps]
    seqs = [s for s, _ in pending]
    assert seqs == sorted(seqs)
    store.mark_delivered(seqs[0])
    store.mark_delivered(seqs[1:3])
    assert [s for s, _ in store.pending_delivery(limit=1)] == [seqs[3]]
    store.close()
    again = AlertStore(db)
    assert [s for s, _ in again.pending_delivery()] == seqs[3:]
    assert again.pending_count() == 2


def test_in_memory_store() -> None:
    store = AlertStore(None)
    fill(store)
    assert store.pending_count() == 5
    assert store.path is None


def test_engine_writes_every_step_and_reads_shell_acks(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = Core(make_config(), store=AlertStore(db))
    v = 760000581
    run(core, stationary(v, T0, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    e = core.engine
    e.tick(T0 + 100)
    e.hold(type="loitering", mmsi=v, severity="warning", message="m", lat=None, lon=None, details={})
    raised = e.drain()[0]
    # an operator acknowledges from the shell, through another connection
    shell = AlertStore(db)
    assert shell.acknowledge(raised.id, "op3", "from the shell", 1.0, origin="shell") is not None
    shell.close()
    out = core.advance(T0 + 130)
    assert [a.state for a in out] == ["updated"] and out[0].details["acknowledged"]["by"] == "op3"
    assert e.store is not None
    assert [a.state for a in e.store.history(raised.id)] == ["raised", "updated"]


def test_parse_since() -> None:
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    assert parse_since("30m", now=10_000.0) == 10_000.0 - 1800
    assert parse_since("2026-01-15T17:00:00Z", now=0.0) == T0
    assert parse_since("2026-01-15T12:00:00-05:00", now=0.0) == T0
    with pytest.raises(ValueError):
        parse_since("yesterday-ish", now=0.0)


def test_alerts_since_a_duration_counts_back_from_the_newest_alert_not_the_wall_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alert times are event times: on the store of a replayed log (January 2026 here), `--since 5m`
    means the last five minutes of the recording."""
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    fill(store)  # last steps: loitering cleared at T0 + 600, position_jump at T0 + 700
    assert store.latest_time() == T0 + 700
    store.close()
    assert cli_main(["alerts", "--db", str(db), "--json", "--since", "5m"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["type"] for line in captured.out.splitlines()] == ["loitering", "position_jump"]
    assert "counted back from the newest alert, 2026-01-15T17:11:40.000Z" in captured.err
    assert cli_main(["alerts", "--db", str(db), "--json", "--since", "1m"]) == 0
    assert [json.loads(line)["type"] for line in capsys.readouterr().out.splitlines()] == ["position_jump"]
    assert cli_main(["alerts", "--db", str(db), "--since", "soon"]) == 2
    assert AlertStore(tmp_path / "empty.sqlite3").latest_time() is None


def test_alerts_command_lists_filters_and_acknowledges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    steps = fill(store)
    store.close()
    assert cli_main(["alerts", "--db", str(db), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["loitering", "rendezvous", "position_jump"]
    assert cli_main(["alerts", "--db", str(db), "--type", "rendezvous", "--active"]) == 0
    out = capsys.readouterr().out
    assert "rendezvous" in out and "loitering" not in out and steps[1].id in out
    assert cli_main(["alerts", "--db", str(db), "--ack", steps[1].id, "--by", "op4", "--note", "ok"]) == 0
    assert "acknowledged" in capsys.readouterr().out
    assert [k.by for k in AlertStore(db).acks(steps[1].id)] == ["op4"]
    assert cli_main(["alerts", "--db", str(db), "--ack", "nope", "--by", "x"]) == 1
    assert cli_main(["alerts", "--db", str(db), "--history", steps[0].id]) == 0
    assert capsys.readouterr().out.count(steps[0].id) == 3
    assert cli_main(["alerts", "--db", str(tmp_path / "missing.sqlite3")]) == 1


def test_shell_ack_not_lost_behind_an_engine_ack(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = Core(make_config(), store=AlertStore(db))
    v = 760000581
    run(core, stationary(v, T0, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    e = core.engine
    e.tick(T0 + 100)
    e.hold(type="loitering", mmsi=v, severity="warning", message="m", lat=None, lon=None, details={})
    e.hold(type="rendezvous", mmsi=v, severity="warning", message="m", lat=None, lon=None, details={})
    first, second = e.drain()
    shell = AlertStore(db)
    shell.acknowledge(first.id, "shell-op", "", 1.0, origin="shell")
    shell.close()
    assert e.acknowledge(second.id, "map-op", "", T0 + 105)  # before the engine polls the store
    out = e.drain() + core.advance(T0 + 130)
    acked = {a.id: a.details["acknowledged"]["by"] for a in out if "acknowledged" in a.details}
    assert acked == {second.id: "map-op", first.id: "shell-op"}


def test_an_acknowledgement_keeps_its_wall_clock_time_across_a_restart(tmp_path: Path) -> None:
    """Found by the operator walkthrough: an acknowledgement made on the map showed its wall-clock
    time until the daemon restarted, then none (the database kept only its event time). The time an
    operator acknowledged is part of the record; a database of an older version gets the column."""
    import sqlite3

    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    steps = fill(store)
    store.acknowledge(steps[0].id, "op", "seen", T0 + 5, origin="engine", wall=1_800_000_000.0)
    store.acknowledge(steps[1].id, "op2", "from the shell", 1_800_000_100.0, origin="shell")
    store.close()
    again = AlertStore(db)
    assert [(a.by, a.at, a.wall) for a in again.acks()] == [
        ("op", T0 + 5, 1_800_000_000.0),
        ("op2", 1_800_000_100.0, 1_800_000_100.0),  # the shell's time is the wall clock's
    ]
    again.close()
    with sqlite3.connect(db) as c:  # as written by an older version
        c.execute("ALTER TABLE acks DROP COLUMN wall")
    listing = AlertStore(db, read_only=True)
    assert [a.wall for a in listing.acks()] == [None, None]
    listing.close()
    writing = AlertStore(db)
    writing.acknowledge(steps[2].id, "op3", "", T0 + 400, wall=1_800_000_200.0)
    assert [a.wall for a in writing.acks()] == [None, None, 1_800_000_200.0]
    writing.close()
