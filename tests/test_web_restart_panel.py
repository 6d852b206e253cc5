"""Found in the operator walkthrough (2026-11-30): `vts run` on its embedded defaults loops the
sample log; stopped after 53 minutes of the log and started again on the same database, it reads the
log again from its start, older than the database's newest step. The engine takes that as another
timeline and sets the restored alerts aside, but the map's panel (`/api/alerts`, the header's
counts, the page title) kept showing them: a `restricted_area` alarm the engine no longer held, and
58 zone entries of the later timeline, for as long as the data stayed behind their times."""

from __future__ import annotations

from pathlib import Path

from vts.alerts.store import AlertStore
from vts.config import load_config
from vts.core import Core
from vts.web.state import WebState

LOG = Path(__file__).resolve().parent.parent / "replay" / "callao_day.nmea"


def test_a_restart_on_older_data_does_not_show_the_later_timelines_alerts(tmp_path: Path) -> None:
    config = load_config()
    lines = LOG.read_text(encoding="utf-8").splitlines()
    db = tmp_path / "alerts.sqlite3"
    store = AlertStore(db)
    core = Core(config, store=store)
    core.feed_lines(lines[:7000], source="demo")  # 12:00 - about 13:30 of the log
    core.finish()
    stopped_at = core.now
    assert stopped_at is not None
    store.close()

    store = AlertStore(db)
    try:
        core = Core(config, store=store)
        state = WebState(config, core, store)
        state.attach()
        core.feed_lines(lines[:300], source="demo")  # the loop starts the log again
        assert core.now is not None and stopped_at - core.now > 3600.0
        grace = config.alerts.restore_grace_minutes * 60.0
        shown = state.active_alerts()
        assert shown  # (this timeline's own zone entries)
        ghosts = [(a.type, a.severity, a.time - core.now) for a in shown if a.time - core.now > grace]
        assert ghosts == []
        assert state.active_alerts() == [a for a in shown if a.time - core.now <= grace]
    finally:
        store.close()
