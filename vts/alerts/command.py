"""`vts alerts`: list the alerts stored in the alert database, or acknowledge one from the shell.

    vts alerts                              # every alert, current state, oldest first
    vts alerts --since 2h --type alongside --type rendezvous
    vts alerts --active --json              # JSON lines (the --alerts-out / MQTT format)
    vts alerts --history ID                 # every lifecycle step of one alert
    vts alerts --ack ID --by "Op. Quispe" --note "patrol boat sent"

The database is ``alerts.store`` of the configuration (``--config``), or ``--db PATH``; it is
opened read-only (nothing written, not even by a listing) except for ``--ack``, and a file that is
not a vts alert database is refused.
``--since`` takes an ISO 8601 time (UTC unless it says otherwise), a date, or a duration (``90s``,
``30m``, ``2h``, ``1d``) counted back from the newest alert in the database: alert times are event
times (the time in the AIS data), so ``--since 2h`` on the store of a replayed log means the last two
hours of the recording, and on a live daemon's store the last two hours up to its latest alert. The
reference time is printed. An acknowledgement from the shell is recorded with the wall
clock time; a running daemon reads it within seconds and snoozes that vessel and alert type.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from vts.alerts.model import Alert, iso_time
from vts.alerts.store import Acknowledgement, AlertStore, AlertStoreError, open_store, store_path
from vts.cli import alert_type_names, closed_pipe_is_quiet, non_negative_int, unknown_alert_types

ACK_ORIGINS = {
    "engine": "through the daemon, at its event time",
    "shell": "from the shell, at the wall-clock time",
}
"""How `--history` says where an acknowledgement came from, and so which clock its time is on
(`vts.alerts.store.Acknowledgement.origin`)."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="alert database (default: alerts.store of the config)")
    p.add_argument("--config", metavar="PATH", help="configuration file (default: the Callao configuration)")
    p.add_argument(
        "--since",
        metavar="WHEN",
        help="ISO time or date (UTC when it has no zone: 2026-01-15T17:00, 2026-01-15T12:00-05:00), "
        "or a duration (30m, 2h, 1d) back from the newest alert's event time",
    )
    p.add_argument(
        "--type",
        action="append",
        dest="types",
        type=alert_type_names,
        metavar="TYPE",
        help="only this type (repeatable, or comma-separated: cpa,drifting)",
    )
    p.add_argument("--active", action="store_true", help="only alerts still holding")
    p.add_argument(
        "--limit",
        type=non_negative_int,
        metavar="N",
        help="at most N alerts, the most recently started (the list is in order of start: each line "
        "begins with when the alert started, then its latest state and the time of that step)",
    )
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    p.add_argument("--history", metavar="ID", help="every lifecycle step and acknowledgement of one alert")
    p.add_argument("--ack", metavar="ID", help="acknowledge this alert")
    p.add_argument("--by", metavar="NAME", help="who acknowledges (default: the login name)")
    p.add_argument("--note", metavar="TEXT", default="", help="acknowledgement note")


def is_duration(text: str) -> bool:
    return _DURATION.match(text) is not None


def parse_since(text: str, now: float) -> float:
    """UNIX seconds from an ISO time, a date or a duration back from `now` (ValueError, with the
    reason as its message, if none or if it reaches back beyond what a date can say)."""
    m = _DURATION.match(text)
    if m:
        since = now - float(m.group(1)) * _UNITS[m.group(2)]
        try:
            datetime.fromtimestamp(since, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("a duration reaching back beyond the year 1") from None
        return since
    s = text.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError("not a time, date or duration") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _db_path(args: argparse.Namespace) -> Path | None:
    if args.db:
        return store_path(args.db)
    from vts.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"vts alerts: {e}", file=sys.stderr)
        return None
    if config.alerts.store is None:
        print("vts alerts: the configuration keeps alerts in memory (alerts.store is null)", file=sys.stderr)
        return None
    return store_path(config.alerts.store)


def _row(a: Alert, *, step: bool = False, ack: Acknowledgement | None = None) -> str:
    """One alert as a line: when it started (the list's order) and its latest step's state and
    time; with `step`, one lifecycle step at its own time (`--history`). An acknowledged alert says
    by whom (the note and time: `--history`)."""
    other = f"+{a.other_mmsi}" if a.other_mmsi is not None else ""
    name = f" {a.name}" if a.name else ""
    zone = f" [{a.zone}]" if a.zone else ""
    when = iso_time(a.time if step else a.started)
    state = a.state if step or a.time == a.started else f"{a.state} {iso_time(a.time)[11:19]}"
    acked = f"  [ACK {ack.by}]" if ack is not None else ""
    return (
        f"{when}  {state:<16}  {a.severity:<9}  {a.type:<22}  {a.mmsi}{other}{name}{zone}  "
        f"{a.message}{acked}  (id {a.id})"
    )


def main(args: argparse.Namespace) -> int:
    if (args.by is not None or args.note) and not args.ack:
        print("vts alerts: --by and --note go with --ack ID (the alert to acknowledge)", file=sys.stderr)
        return 2
    if args.since is not None and not args.since.strip():
        print("vts alerts: --since: empty (a time, a date or a duration such as 2h)", file=sys.stderr)
        return 2
    path = _db_path(args)
    if path is None:
        return 2
    try:
        if not path.exists():  # (an --ack must not create an empty database)
            print(f"vts alerts: no alert database at {path}", file=sys.stderr)
            return 1
    except OSError as e:  # a directory on the way that may not be entered
        print(f"vts alerts: cannot open the alert database {path}: {e.strerror or e}", file=sys.stderr)
        return 1
    try:
        store = open_store(path, read_only=not args.ack)  # listing writes nothing
    except AlertStoreError as e:
        print(f"vts alerts: {e}", file=sys.stderr)
        return 1
    try:
        with closed_pipe_is_quiet():  # `vts alerts | head`
            return _run(args, store)
        return 0  # the reader went away
    except sqlite3.Error as e:  # a database locked, damaged or read-only (--ack) under our feet
        print(f"vts alerts: alert database {path}: {e}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _run(args: argparse.Namespace, store: AlertStore) -> int:
    if args.ack:
        who = args.by or getpass.getuser()
        alert = store.acknowledge(args.ack, who, args.note or "", time.time(), origin="shell")
        if alert is None:
            print(f"vts alerts: no alert with id {args.ack}", file=sys.stderr)
            return 1
        print(f"acknowledged {alert.id} ({alert.type}, {alert.mmsi}) by {who}")
        return 0
    if args.history:
        steps = store.history(args.history)
        if not steps:
            print(f"vts alerts: no alert with id {args.history}", file=sys.stderr)
            return 1
        for a in steps:
            print(a.to_json() if args.json else _row(a, step=True))
        if not args.json:
            for ack in store.acks(args.history):
                origin = ACK_ORIGINS.get(ack.origin, ack.origin)
                if ack.origin == "engine" and ack.wall is not None:
                    origin += f"; {iso_time(ack.wall)} on the wall clock"
                print(f"{iso_time(ack.at)}  acknowledged by {ack.by} ({origin}): {ack.note}")
        return 0
    since: float | None = None
    if args.since:
        newest = store.latest_time()
        try:
            since = parse_since(args.since, newest if newest is not None else time.time())
        except ValueError as e:
            print(f"vts alerts: --since {args.since!r}: {e}", file=sys.stderr)
            return 2
        if is_duration(args.since) and newest is not None:
            print(
                f"--since {args.since.strip()}: counted back from the newest alert, {iso_time(newest)}"
                f" (from {iso_time(since)})",
                file=sys.stderr,
            )
    types = sorted(set().union(*args.types)) if args.types else None  # (--type "": every type)
    if types:
        from vts.rules.registry import known_alert_types

        # a type vts raises, or one the database holds (from an older vts, or written by another tool)
        error = unknown_alert_types(types, set(known_alert_types()) | store.types())
        if error is not None:
            print(f"vts alerts: --type: {error}", file=sys.stderr)
            return 2
    alerts = store.alerts(since=since, types=types, active_only=args.active)
    if args.limit is not None:
        alerts = alerts[-args.limit :] if args.limit > 0 else []
    acks = {} if args.json else {ack.alert_id: ack for ack in store.acks()}  # (the latest of each)
    for a in alerts:
        print(a.to_json() if args.json else _row(a, ack=acks.get(a.id)))
    if not args.json:
        print(f"{len(alerts)} alert(s)", file=sys.stderr)
    return 0
