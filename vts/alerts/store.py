"""The alert store: every alert lifecycle step and acknowledgement in an embedded SQLite database.

Tables:

* ``steps``: one row per lifecycle step (raised, updated, cleared), in emission order; ``seq`` is
  the order. The rows not yet published are the MQTT outbox (``delivered = 0``):
  `pending_delivery` returns them oldest first and `mark_delivered` ticks them off, so a restart
  loses nothing that was not delivered.
* ``alerts``: the latest step of each alert (its current form) and whether it is still active,
  so the engine reloads active alerts at start and `vts alerts` lists them quickly.
* ``acks``: acknowledgements (who, when, note; from the engine or from the shell).
* ``saved_state``: what must be remembered across a restart that the alerts do not hold (the
  identities vessels declared, the distress devices heard, the static data of the vessels known
  ...), one JSON document per owner (``rule/<id>`` for a rule's `Rule.save_state`, ``tracker``
  for the tracker's) with the event time it was saved at (`save_states`, `saved_states`).
  Databases of older versions have no such table: it is added when they are opened for writing.

``path=None`` keeps everything in memory (tests, replays without a store). Writes are batched:
the engine calls `commit()` after each drain.

Opening: `open_store` (every command goes through it) expands ``~`` and raises `AlertStoreError`, a
one-line message, for a file that cannot be opened or is not a vts alert database (another
program's SQLite file is refused, never written into). ``read_only=True`` (listing) writes nothing
at all, so a database the user may only read can still be listed. A stored step that cannot be read
back (damaged, or written by another version) is skipped with one warning, never raised.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vts.alerts.model import Alert

log = logging.getLogger(__name__)

APPLICATION_ID = 0x56545341
"""``PRAGMA application_id`` of a vts alert database ("VTSA"); 0 in databases of older versions."""
COLUMNS: dict[str, frozenset[str]] = {
    "steps": frozenset({"seq", "alert_id", "state", "time", "json", "delivered"}),
    "alerts": frozenset(
        {"id", "type", "severity", "state", "mmsi", "other_mmsi", "zone", "started", "time", "active", "json"}
    ),
    "acks": frozenset({"seq", "alert_id", "type", "mmsi", "by", "at", "note", "origin"}),
}
"""The columns each table of a vts alert database must have."""
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {"saved_state": frozenset({"owner", "time", "json"})}
"""Tables a database of an older version may lack (added when it is opened for writing)."""

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
    origin TEXT NOT NULL,
    wall REAL
);
CREATE INDEX IF NOT EXISTS acks_alert ON acks(alert_id);
CREATE TABLE IF NOT EXISTS saved_state (
    owner TEXT PRIMARY KEY,
    time REAL NOT NULL,
    json TEXT NOT NULL
);
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
    wall: float | None = None
    """Wall-clock time of the acknowledgement, UNIX seconds, when known (the shell's `at`; the
    daemon's from its map or API; None in a database of an older version)."""


class AlertStoreError(Exception):
    """An alert database that cannot be opened, or a file that is not one; the message names the file."""


class _NotOurs(sqlite3.DatabaseError):
    """The file is an SQLite database, but not a vts alert database."""


def store_path(store: str | Path | None) -> Path | None:
    """``alerts.store``, ``--store`` or ``--db`` as a path: ``~`` expanded, a relative path taken from
    the current directory (None: in memory). The daemon, replay and `vts alerts` all use this."""
    return None if store is None else Path(store).expanduser()


def open_store(store: str | Path | None, *, read_only: bool = False) -> AlertStore:
    """The alert store at `store` (see `store_path`); `AlertStoreError` when it cannot be used."""
    return AlertStore(store_path(store), read_only=read_only)


class AlertStore:
    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = None if path is None else Path(path)
        self.read_only = read_only and self.path is not None
        self._in_tx = False
        self._unreadable: set[int] = set()
        """Sequence numbers of steps that cannot be read back (skipped, reported once)."""
        self._acks_have_wall = False
        """The acks table has its `wall` column (once seen, it stays: no schema query per poll)."""
        try:
            self._db = self._connect()
        except (sqlite3.Error, OSError) as e:
            raise AlertStoreError(f"cannot open the alert database {self.path}: {_reason(e)}") from None

    def _connect(self) -> sqlite3.Connection:
        if self.path is None:
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            db.executescript(SCHEMA)
            return db
        if self.path.is_dir():
            raise IsADirectoryError(21, "is a directory, not a database file")
        if self.read_only:
            return self._connect_read_only(self.path)
        if not self.path.exists():  # a first start, or a mistyped path: said, so it is noticed
            log.info("a new alert database at %s (no alerts or vessel tracks to carry on from)", self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            self._check_schema(db, complete=False)  # before writing anything into the file
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            if "wall" not in _columns(db, "acks"):  # a database of an older version
                db.execute("ALTER TABLE acks ADD COLUMN wall REAL")
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        except BaseException:
            db.close()
            raise
        return db

    def _connect_read_only(self, path: Path) -> sqlite3.Connection:
        """Open without writing anything: no journal mode, no schema, no -wal/-shm created when the
        directory cannot be written (a closed database has no -wal file, so reading it as immutable
        is exact)."""
        uri = path.resolve().as_uri() + "?mode=ro"
        attempts = [uri] if Path(f"{path}-wal").exists() else [uri, uri + "&immutable=1"]
        for n, attempt in enumerate(attempts, 1):
            db = sqlite3.connect(attempt, uri=True, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA busy_timeout=5000")
                self._check_schema(db, complete=True)
            except sqlite3.OperationalError:
                db.close()
                if n == len(attempts):
                    raise
                continue
            except BaseException:
                db.close()
                raise
            return db
        raise AssertionError("not reached")  # pragma: no cover

    def _check_schema(self, db: sqlite3.Connection, *, complete: bool) -> None:
        """Refuse another program's database; `complete`: every table must be there (read-only)."""
        app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
        if app_id not in (0, APPLICATION_ID):
            raise _NotOurs(f"not a vts alert database (application id {app_id:#x} is another program's)")
        tables = {
            str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        }
        known = {**COLUMNS, **OPTIONAL_COLUMNS}
        ours = sorted(tables & known.keys())
        others = sorted(tables - known.keys() - {"sqlite_sequence"})
        if not ours and others:
            raise _NotOurs(f"not a vts alert database (it holds other tables: {', '.join(others[:5])})")
        for table in ours:
            have = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})").fetchall()}
            missing = sorted(known[table] - have)
            if missing:
                raise _NotOurs(
                    f"not a vts alert database (its table {table!r} has no column {', '.join(missing)})"
                )
        absent = sorted(COLUMNS.keys() - tables)
        if complete and absent:
            raise _NotOurs(f"not a vts alert database (no table {', '.join(absent)})")

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
        """Store one lifecycle step; returns its outbox sequence number. A step already stored (the
        same alert, time and content: the same log replayed into the database again) is not stored
        twice; its sequence number is returned.

        `active` (default: not cleared) says whether the alert is still holding; event alerts are
        stored with ``active=False``.
        """
        self._begin()
        payload = alert.to_json()
        same = self._db.execute(
            "SELECT seq FROM steps WHERE alert_id = ? AND time = ? AND json = ?",
            (alert.id, alert.time, payload),
        ).fetchone()
        if same is not None:  # this very step again (a log replayed twice into the database): kept once
            return int(same[0])
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
            " other_mmsi=excluded.other_mmsi, zone=excluded.zone,"
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
        self,
        alert_id: str,
        by: str,
        note: str,
        at: float,
        *,
        origin: str = "engine",
        wall: float | None = None,
    ) -> Alert | None:
        """Record an acknowledgement of a known alert; returns its current form (None: unknown id).
        `wall`: its wall-clock time (the shell's `at` when not given)."""
        alert = self.get(alert_id)
        if alert is None:
            return None
        if wall is None and origin == "shell":
            wall = at
        self._begin()
        self._db.execute(
            "INSERT INTO acks(alert_id, type, mmsi, by, at, note, origin, wall)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (alert_id, alert.type, alert.mmsi, by, at, note, origin, wall),
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

    def save_states(self, states: dict[str, str], time: float) -> None:
        """Replace the saved state of each owner named in `states` (owner -> JSON text), as of event
        time `time`. A database that cannot take them (full disk, locked) is warned about: saved
        states are what a restart would be glad of, never a reason to stop."""
        if not states:
            return
        try:
            self._begin()
            self._db.executemany(
                "INSERT INTO saved_state(owner, time, json) VALUES (?, ?, ?)"
                " ON CONFLICT(owner) DO UPDATE SET time=excluded.time, json=excluded.json",
                [(owner, time, js) for owner, js in sorted(states.items())],
            )
            self.commit()
        except sqlite3.Error as e:
            log.warning("alert database %s: the saved states were not updated: %s", self.path, _reason(e))

    def close(self) -> None:
        self.commit()
        self._db.close()

    # -- reading -----------------------------------------------------------------------------------
    @property
    def unreadable_steps(self) -> int:
        """Outbox steps skipped because they cannot be read back as alerts."""
        return len(self._unreadable)

    def _parse(self, js: str, what: str) -> Alert | None:
        """The alert of a stored row; None (with a warning) when the row cannot be read back."""
        try:
            return Alert.from_json(js)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning(
                "alert database %s: %s cannot be read (damaged, or written by another version of vts:"
                " %s: %s); skipped, left in the database",
                self.path or "in memory",
                what,
                type(e).__name__,
                e,
            )
            return None

    def _readable(self, rows: Iterable[tuple[str]], what: str) -> list[Alert]:
        parsed = (self._parse(js, what) for (js,) in rows)
        return [a for a in parsed if a is not None]

    def pending_delivery(self, limit: int = 100) -> list[tuple[int, Alert]]:
        """Undelivered lifecycle steps, oldest first: (seq, alert). A step that cannot be read back is
        skipped (reported once): it stays undelivered in the database and does not hold up the others."""
        wanted = max(int(limit), 0)
        out: list[tuple[int, Alert]] = []
        after = 0
        while len(out) < wanted:
            rows = self._db.execute(
                "SELECT seq, json FROM steps WHERE delivered = 0 AND seq > ? ORDER BY seq LIMIT ?",
                (after, wanted - len(out) + len(self._unreadable)),
            ).fetchall()
            for seq, js in rows:
                after = int(seq)
                if after in self._unreadable:
                    continue
                alert = self._parse(js, f"undelivered step #{after}")
                if alert is None:
                    self._unreadable.add(after)
                elif len(out) < wanted:
                    out.append((after, alert))
            if not rows:
                break
        return out

    def pending_count(self) -> int:
        """Undelivered steps, less those skipped as unreadable (they would never go out)."""
        row = self._db.execute("SELECT count(*) FROM steps WHERE delivered = 0").fetchone()
        return max(int(row[0]) - len(self._unreadable), 0)

    def get(self, alert_id: str) -> Alert | None:
        row = self._db.execute("SELECT json FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else self._parse(row[0], f"alert {alert_id}")

    def active_alerts(self) -> list[Alert]:
        """Alerts still holding (state raised or updated), oldest first."""
        rows = self._db.execute("SELECT json FROM alerts WHERE active = 1 ORDER BY started, id").fetchall()
        return self._readable(rows, "an active alert")

    def types(self) -> set[str]:
        """The alert types the database holds."""
        return {row[0] for row in self._db.execute("SELECT DISTINCT type FROM alerts")}

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
        return self._readable(self._db.execute(sql, params).fetchall(), "an alert")

    def ended_alerts(self, *, since: float) -> list[Alert]:
        """Current form of each alert no longer active whose last step is at or after `since`
        (cleared state alerts and events), oldest first."""
        rows = self._db.execute(
            "SELECT json FROM alerts WHERE active = 0 AND time >= ? ORDER BY started, id", (since,)
        ).fetchall()
        return self._readable(rows, "an alert")

    def latest_alerts(self, types: Iterable[str]) -> list[Alert]:
        """Current form of the newest alert (by start) of each key (type, mmsi, other_mmsi, zone)
        among `types`, oldest first."""
        wanted = sorted(set(types))
        if not wanted:
            return []
        rows = self._db.execute(
            "SELECT json FROM (SELECT json, started, id, ROW_NUMBER() OVER ("
            "PARTITION BY type, mmsi, other_mmsi, zone ORDER BY started DESC, id DESC) AS newest "
            f"FROM alerts WHERE type IN ({','.join('?' * len(wanted))})) "
            "WHERE newest = 1 ORDER BY started, id",
            wanted,
        ).fetchall()
        return self._readable(rows, "an alert")

    def latest_time(self) -> float | None:
        """Event time of the newest lifecycle step stored (None for an empty store)."""
        row = self._db.execute("SELECT MAX(time) FROM steps").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def saved_states(self) -> dict[str, tuple[float, Any]]:
        """Owner -> (event time saved at, state) of every saved state (`save_states`). A state that
        cannot be read back is skipped with a warning: its owner starts afresh."""
        try:
            rows = self._db.execute("SELECT owner, time, json FROM saved_state ORDER BY owner").fetchall()
        except sqlite3.OperationalError:  # a database of an older version, opened read-only
            return {}
        states: dict[str, tuple[float, Any]] = {}
        for owner, time, js in rows:
            try:
                states[str(owner)] = (float(time), json.loads(js))
            except (ValueError, TypeError) as e:
                log.warning(
                    "alert database %s: the saved state of %s cannot be read (%s); it starts afresh",
                    self.path or "in memory",
                    owner,
                    e,
                )
        return states

    def history(self, alert_id: str) -> list[Alert]:
        """Every lifecycle step of one alert, in order."""
        rows = self._db.execute(
            "SELECT json FROM steps WHERE alert_id = ? ORDER BY seq", (alert_id,)
        ).fetchall()
        return self._readable(rows, f"a step of alert {alert_id}")

    def steps(self, *, since: float | None = None, after_seq: int = 0) -> list[tuple[int, Alert]]:
        """Every lifecycle step (seq, alert) in emission order."""
        sql = "SELECT seq, json FROM steps WHERE seq > ?"
        params: list[object] = [after_seq]
        if since is not None:
            sql += " AND time >= ?"
            params.append(since)
        sql += " ORDER BY seq"
        out: list[tuple[int, Alert]] = []
        for seq, js in self._db.execute(sql, params).fetchall():
            alert = self._parse(js, f"step #{seq}")
            if alert is not None:
                out.append((int(seq), alert))
        return out

    def acks(self, alert_id: str | None = None, *, after_seq: int = 0) -> list[Acknowledgement]:
        """Acknowledgements (of one alert, or all after a sequence number), in order."""
        if not self._acks_have_wall:  # (read-only, older version: not there)
            self._acks_have_wall = "wall" in _columns(self._db, "acks")
        wall = "wall" if self._acks_have_wall else "NULL"
        sql = f"SELECT seq, alert_id, type, mmsi, by, at, note, origin, {wall} FROM acks WHERE seq > ?"
        params: list[object] = [after_seq]
        if alert_id is not None:
            sql += " AND alert_id = ?"
            params.append(alert_id)
        sql += " ORDER BY seq"
        return [
            Acknowledgement(int(s), a, t, int(m), b, float(at), n, o, None if w is None else float(w))
            for s, a, t, m, b, at, n, o, w in self._db.execute(sql, params).fetchall()
        ]

    def last_ack_seq(self) -> int:
        row = self._db.execute("SELECT coalesce(max(seq), 0) FROM acks").fetchone()
        return int(row[0])


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})").fetchall()}


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__
