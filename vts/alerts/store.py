"""The alert store: every alert lifecycle step and acknowledgement in an embedded SQLite database.

Tables:

* ``steps``: one row per lifecycle step (raised, updated, cleared), in emission order; ``seq`` is
  the order. The rows not yet published are the MQTT outbox (``delivered = 0``):
  `pending_delivery` returns them oldest first and `mark_delivered` ticks them off, so a restart
  loses nothing that was not delivered.
* ``alerts``: the latest step of each alert (its current form) and whether it is still active,
  so the engine reloads active alerts at start and `vts alerts` lists them quickly.
* ``acks``: acknowledgements (who, when, note; from the engine or from the shell).

``path=None`` keeps everything in memory (tests, replays without a store). Writes are batched:
the engine calls `commit()` after each drain.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vts.alerts.model import Alert

SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    state TEXT NOT NULL,
    time REAL NOT NULL,
    json TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS steps_alert ON steps(alert_id, seq);
CREATE INDEX IF NOT EXISTS steps_pending ON steps(seq) WHERE delivered = 0;
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    mmsi INTEGER NOT NULL,
    other_mmsi INTEGER,
    zone TEXT,
    started REAL NOT NULL,
    time REAL NOT NULL,
    active INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time);
CREATE INDEX IF NOT EXISTS alerts_active ON alerts(active);
CREATE TABLE IF NOT EXISTS acks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    type TEXT NOT NULL,
    mmsi INTEGER NOT NULL,
    by TEXT NOT NULL,
    at REAL NOT NULL,
    note TEXT NOT NULL,
    origin TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS acks_alert ON acks(alert_id);
"""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    seq: int
    alert_id: str
    type: str
    mmsi: int
    by: str
    at: float
    """Time of the acknowledgement, UNIX seconds (event time from the engine, wall clock from the shell)."""
    note: str
    origin: str
    """"engine" (through the running daemon: map, API) or "shell" (`vts alerts --ack`)."""


class AlertStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None and self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if self.path is None else str(self.path), isolation_level=None, check_same_thread=False
        )
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        self._in_tx = False

    @classmethod
    def from_settings(cls, store: str | None, base_dir: Path | None = None) -> AlertStore:
        """The store named by ``alerts.store``; a relative path is taken from `base_dir` when given."""
        if store is None:
            return cls(None)
        p = Path(store).expanduser()
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        return cls(p)

    # -- writing -----------------------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_tx:
            self._db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False

    def record(self, alert: Alert, *, active: bool | None = None) -> int:
        """Store one lifecycle step; returns its outbox sequence number.

        `active` (default: not cleared) says whether the alert is still holding; event alerts are
        stored with ``active=False``.
        """
        self._begin()
        payload = alert.to_json()
        cur = self._db.execute(
            "INSERT INTO steps(alert_id, state, time, json) VALUES (?, ?, ?, ?)",
            (alert.id, alert.state, alert.time, payload),
        )
        is_active = alert.state != "cleared" if active is None else active
        self._db.execute(
            "INSERT INTO alerts(id, type, severity, state, mmsi, other_mmsi, zone, started, time, active,"
            " json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET severity=excluded.severity, state=excluded.state,"
            " time=excluded.time, active=excluded.active, json=excluded.json",
            (
                alert.id,
                alert.type,
                alert.severity,
                alert.state,
                alert.mmsi,
                alert.other_mmsi,
                alert.zone,
                alert.started,
                alert.time,
                int(is_active),
                payload,
            ),
        )
        seq = cur.lastrowid
        assert seq is not None
        return seq

    def acknowledge(
        self, alert_id: str, by: str, note: str, at: float, *, origin: str = "engine"
    ) -> Alert | None:
        """Record an acknowledgement of a known alert; returns its current form (None: unknown id)."""
        alert = self.get(alert_id)
        if alert is None:
            return None
        self._begin()
        self._db.execute(
            "INSERT INTO acks(alert_id, type, mmsi, by, at, note, origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (alert_id, alert.type, alert.mmsi, by, at, note, origin),
        )
        self.commit()
        return alert

    def deactivate(self, alert_id: str) -> None:
        """Mark an alert as no longer active without a lifecycle step (an abandoned timeline)."""
        self._begin()
        self._db.execute("UPDATE alerts SET active = 0 WHERE id = ?", (alert_id,))

    def mark_delivered(self, seq: int | Iterable[int]) -> None:
        """Tick off outbox entries (one sequence number or several)."""
        seqs = [seq] if isinstance(seq, int) else list(seq)
        if not seqs:
            return
        self._begin()
        self._db.executemany("UPDATE steps SET delivered = 1 WHERE seq = ?", [(s,) for s in seqs])
        self.commit()

    def close(self) -> None:
        self.commit()
        self._db.close()

    # -- reading -----------------------------------------------------------------------------------
    def pending_delivery(self, limit: int = 100) -> list[tuple[int, Alert]]:
        """Undelivered lifecycle steps, oldest first: (seq, alert)."""
        rows = self._db.execute(
            "SELECT seq, json FROM steps WHERE delivered = 0 ORDER BY seq LIMIT ?", (max(int(limit), 0),)
        ).fetchall()
        return [(int(seq), Alert.from_json(js)) for seq, js in rows]

    def pending_count(self) -> int:
        row = self._db.execute("SELECT count(*) FROM steps WHERE delivered = 0").fetchone()
        return int(row[0])

    def get(self, alert_id: str) -> Alert | None:
        row = self._db.execute("SELECT json FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else Alert.from_json(row[0])

    def active_alerts(self) -> list[Alert]:
        """Alerts still holding (state raised or updated), oldest first."""
        rows = self._db.execute("SELECT json FROM alerts WHERE active = 1 ORDER BY started, id").fetchall()
        return [Alert.from_json(r[0]) for r in rows]

    def alerts(
        self,
        *,
        since: float | None = None,
        types: Iterable[str] | None = None,
        active_only: bool = False,
        limit: int | None = None,
    ) -> list[Alert]:
        """Current form of each alert whose last step is at or after `since`, oldest first."""
        sql = "SELECT json FROM alerts WHERE 1=1"
        params: list[object] = []
        if since is not None:
            sql += " AND time >= ?"
            params.append(since)
        wanted = sorted(set(types)) if types else []
        if wanted:
            sql += f" AND type IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        if active_only:
            sql += " AND active = 1"
        sql += " ORDER BY started, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [Alert.from_json(r[0]) for r in self._db.execute(sql, params).fetchall()]

    def latest_time(self) -> float | None:
        """Event time of the newest lifecycle step stored (None for an empty store)."""
        row = self._db.execute("SELECT MAX(time) FROM steps").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def history(self, alert_id: str) -> list[Alert]:
        """Every lifecycle step of one alert, in order."""
        rows = self._db.execute(
            "SELECT json FROM steps WHERE alert_id = ? ORDER BY seq", (alert_id,)
        ).fetchall()
        return [Alert.from_json(r[0]) for r in rows]

    def steps(self, *, since: float | None = None, after_seq: int = 0) -> list[tuple[int, Alert]]:
        """Every lifecycle step (seq, alert) in emission order."""
        sql = "SELECT seq, json FROM steps WHERE seq > ?"
        params: list[object] = [after_seq]
        if since is not None:
            sql += " AND time >= ?"
            params.append(since)
        sql += " ORDER BY seq"
        return [(int(s), Alert.from_json(js)) for s, js in self._db.execute(sql, params).fetchall()]

    def acks(self, alert_id: str | None = None, *, after_seq: int = 0) -> list[Acknowledgement]:
        """Acknowledgements (of one alert, or all after a sequence number), in order."""
        sql = "SELECT seq, alert_id, type, mmsi, by, at, note, origin FROM acks WHERE seq > ?"
        params: list[object] = [after_seq]
        if alert_id is not None:
            sql += " AND alert_id = ?"
            params.append(alert_id)
        sql += " ORDER BY seq"
        return [
            Acknowledgement(int(s), a, t, int(m), b, float(at), n, o)
            for s, a, t, m, b, at, n, o in self._db.execute(sql, params).fetchall()
        ]

    def last_ack_seq(self) -> int:
        row = self._db.execute("SELECT coalesce(max(seq), 0) FROM acks").fetchone()
        return int(row[0])
