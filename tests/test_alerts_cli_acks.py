"""Found in the operator walkthrough (2026-11-30): after `vts alerts --ack ID --by "Op. Quispe"
--note "patrol boat sent"`, `vts alerts --active` listed the alert exactly as before, with nothing to
say it had been taken in hand (the map shows "ACK Op. Quispe"); only `--history ID` told. The table
now marks an acknowledged alert with who acknowledged it; `--json` keeps the alert JSON as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vts.alerts.model import Alert, make_alert_id
from vts.alerts.store import AlertStore
from vts.cli import main as cli_main

T0 = 1_772_452_800.0


def alert(type_: str, mmsi: int) -> Alert:
    return Alert(
        id=make_alert_id(type_, mmsi, None, None, T0),
        type=type_,
        severity="warning",
        state="raised",
        mmsi=mmsi,
        time=T0,
        started=T0,
        message=f"{type_} of {mmsi}",
        details={},
    )


def test_the_list_marks_the_acknowledged_alerts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    drifting, loitering = alert("drifting", 760087813), alert("loitering", 760534053)
    for a in (drifting, loitering):
        store.record(a, active=True)
    store.commit()
    store.close()
    assert (
        cli_main(["alerts", "--db", str(db), "--ack", drifting.id, "--by", "Op. Quispe", "--note", "sent"])
        == 0
    )
    capsys.readouterr()

    assert cli_main(["alerts", "--db", str(db), "--active"]) == 0
    rows = {line.split("(id ")[1].rstrip(")"): line for line in capsys.readouterr().out.splitlines()}
    assert "[ACK Op. Quispe]" in rows[drifting.id]
    assert "ACK" not in rows[loitering.id]

    assert cli_main(["alerts", "--db", str(db), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(a["id"] for a in lines) == sorted([drifting.id, loitering.id])
    assert all("ack" not in a for a in lines)  # the alert JSON, unchanged


def test_the_history_says_where_an_acknowledgement_came_from_and_on_which_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--history` printed "acknowledged by Lt. Quispe (engine)" for an acknowledgement made on the
    map, an internal word; and a shell acknowledgement, stamped by the wall clock (2026-11-30), sat
    below steps of the recording's event time (2026-03-02) with nothing to say why."""
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    drifting = alert("drifting", 760087813)
    store.record(drifting, active=True)
    store.acknowledge(drifting.id, "Lt. Quispe", "seen on the map", T0 + 60, origin="engine")
    store.commit()
    store.close()
    assert (
        cli_main(["alerts", "--db", str(db), "--ack", drifting.id, "--by", "Op. Vega", "--note", "sent"]) == 0
    )
    capsys.readouterr()
    assert cli_main(["alerts", "--db", str(db), "--history", drifting.id]) == 0
    out = capsys.readouterr().out
    assert "acknowledged by Lt. Quispe (through the daemon, at its event time): seen on the map" in out
    assert "acknowledged by Op. Vega (from the shell, at the wall-clock time): sent" in out
    assert "(engine)" not in out and "(shell)" not in out
