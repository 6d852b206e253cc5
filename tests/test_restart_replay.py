"""A restart in the middle of a reference log: every state alert holding at the restart goes on
and ends exactly as it does when the log is read without one.

For each state alert type the log raises, the log is read until the first alert of that type holds,
the daemon's state is saved (`Core.checkpoint`, as the daemon does when it stops), a new core starts
on the same database and reads the rest. That alert's steps after the restart (state, time, reason)
must be those of the uninterrupted reading. This found a loitering alert cleared as "target silent"
at the first tick after a restart, a boat in a restricted zone held 15 minutes after it had left,
and an anchor drag and an off-route ship expired as unconfirmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from vts.alerts.model import Alert
from vts.alerts.store import AlertStore
from vts.config import load_config
from vts.core import Core

REPO = Path(__file__).resolve().parent.parent
STATE_TYPES = (
    "loitering",
    "alongside",
    "rendezvous",
    "ais_gap",
    "restricted_area",
    "unauthorised_anchoring",
    "drifting",
    "anchor_drag",
    "speeding",
    "cpa",
    "course_anomaly",
)
CHUNK = 200


def _steps(store: AlertStore, alert_id: str, after: float) -> list[tuple[str, float, object]]:
    return [(a.state, a.time, a.details.get("reason")) for a in store.history(alert_id) if a.time >= after]


def _read(core: Core, lines: list[str], start: int = 0) -> None:
    for i in range(start, len(lines), CHUNK):
        core.feed_lines(lines[i : i + CHUNK], "log")
    core.finish()


@pytest.mark.parametrize("log", ["callao_day.nmea", "callao_night_security.nmea"])
def test_state_alerts_holding_at_a_restart_end_as_without_it(tmp_path: Path, log: str) -> None:
    config = load_config()
    lines = (REPO / "replay" / log).read_text().splitlines()
    once = AlertStore(tmp_path / "once.sqlite3")
    _read(Core(config, store=once), lines)
    compared: list[str] = []
    for type_ in STATE_TYPES:
        db = tmp_path / f"{type_}.sqlite3"
        store = AlertStore(db)
        core = Core(config, store=store)
        target: Alert | None = None
        i = 0
        while target is None and i < len(lines):
            core.feed_lines(lines[i : i + CHUNK], "log")
            i += CHUNK
            target = next((a for a in core.engine.active() if a.type == type_), None)
        if target is None:
            store.close()
            continue
        core.checkpoint()
        store.close()
        assert core.now is not None
        stopped_at = core.now
        store = AlertStore(db)
        _read(Core(config, store=store), lines, i)
        after = _steps(store, target.id, stopped_at)
        store.close()
        assert after == _steps(once, target.id, stopped_at), f"{type_} {target.mmsi}"
        compared.append(type_)
    once.close()
    assert {"loitering", "restricted_area", "alongside", "rendezvous"} <= set(compared)
