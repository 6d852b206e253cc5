"""Adversarial review of the daemon, config loading, the CLI subcommands' argument handling and the
alert store / `vts alerts` command.

A passing test documents a behaviour that holds; a failing one shows a bug (see the review report).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.rule_helpers import T0
from tests.test_alert_store import fill
from vts.alerts.store import AlertStore
from vts.cli import main as cli_main
from vts.config import ConfigError, default_config_path, load_config

REPO = Path(__file__).resolve().parent.parent
VTS = REPO / ".venv" / "bin" / "vts"
DMA_LOG = REPO / "replay" / "dma-stream-example.nmea"
CALLAO_LOG = REPO / "replay" / "callao_day.nmea"
WAIT_S = 8.0


# -- helpers ---------------------------------------------------------------------------------------


def run_cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`vts ARGV` in-process: (exit code, stdout, stderr); argparse errors give their SystemExit code."""
    try:
        rc = cli_main(list(argv))
    except SystemExit as e:
        rc = int(e.code) if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return rc, out, err


def run_vts(*argv: str, cwd: Path, timeout: float = WAIT_S, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("VTS_MQTT_URL", None)
    env.update(kw.pop("env", {}))
    return subprocess.run(
        [str(VTS), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **kw
    )


def filled_db(path: Path) -> list[Any]:
    store = AlertStore(path)
    steps = fill(store)
    store.acknowledge(steps[1].id, "op", "seen", T0 + 20)
    store.close()
    return steps


def small_log(tmp_path: Path, n: int = 300) -> Path:
    p = tmp_path / "small.nmea"
    p.write_bytes(b"\n".join(CALLAO_LOG.read_bytes().splitlines()[:n]) + b"\n")
    return p


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


UNWRITABLE = Path("/sys/vts-review-unwritable.out")
"""A path whose directory exists and cannot be written, even by root (sysfs)."""


def unwritable_available() -> bool:
    try:
        with open(UNWRITABLE, "w"):
            pass
    except OSError:
        return True
    with contextlib.suppress(OSError):
        UNWRITABLE.unlink()
    return False


# -- config: every broken input is a ConfigError naming the file ----------------------------------

BROKEN_YAML = {
    "top_list": "- a\n- b\n",
    "top_scalar": "42\n",
    "tab_indent": "zones:\n\t- id: x\n",
    "include_int": "include: 5\n",
    "include_null": "include: [null]\n",
    "include_dir": "include: ['.']\n",
    "sources_mapping": "sources: {a: 1}\n",
    "source_bad_kind": "sources: [{name: a, kind: ftp}]\n",
    "source_tcp_without_port": "sources: [{name: a, kind: tcp, host: x}]\n",
    "source_port_too_big": "sources: [{name: a, kind: tcp, host: x, port: 99999}]\n",
    "source_duplicate": "sources: [{name: a, kind: file, path: x}, {name: a, kind: file, path: y}]\n",
    "source_speed_zero": "sources: [{name: a, kind: file, path: x, speed: 0}]\n",
    "rules_list": "rules: [a]\n",
    "rule_unknown": "rules: {nosuchrule: {}}\n",
    "rule_param_unknown": "rules: {loitering: {nosuch: 1}}\n",
    "rule_params_scalar": "rules: {loitering: 5}\n",
    "zone_id_int": "zones: [{id: 5, name: a, kind: anchorage, polygon: [[0,0],[1,0],[1,1],[0,0]]}]\n",
    "zone_polygon_text": "zones: [{id: z, name: a, kind: anchorage, polygon: abc}]\n",
    "zone_polygon_nan": "zones: [{id: z, name: a, kind: anchorage,"
    " polygon: [[.nan,0],[1,0],[1,1],[.nan,0]]}]\n",
    "zone_hole_outside": "zones: [{id: z, name: a, kind: anchorage, polygon: [[0,0],[1,0],[1,1],[0,0]],"
    " holes: [[[5,5],[6,5],[6,6],[5,5]]]}]\n",
    "zone_disable_text": "zones: [{id: z, disable: 'yes'}]\n",
    "zones_null_item": "zones: [~]\n",
    "utc_nan": "utc_offset_hours: .nan\n",
    "alerts_list": "alerts: [1]\n",
    "land_missing": "land: {file: nope.geojson}\n",
    "land_dir": "land: {file: .}\n",
    "python_tag": "!!python/object:os.system {}\n",
    "deep_nesting": "[" * 5000 + "]" * 5000 + "\n",
    "unhashable_key": "? [a, b]\n: 1\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN_YAML))
def test_broken_config_is_a_config_error_naming_the_file(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / f"{name}.yaml"
    p.write_text(BROKEN_YAML[name], encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert p.name in str(e.value)
    rc, _, err = run_cli("check-config", str(p), capsys=capsys)
    assert rc == 1 and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize(
    "content",
    [b"\x00\xff\xfe\x80garbage", "utc_offset_hours: -5 # caf\xe9\n".encode("latin-1"), b""],
    ids=["binary", "latin1", "empty"],
)
def test_unreadable_config_bytes_are_a_config_error(content: bytes, tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_bytes(content)
    with pytest.raises(ConfigError, match=r"c\.yaml"):
        load_config(p)


@pytest.mark.parametrize("key", ["5", "~"], ids=["int", "null"])
def test_a_rule_id_that_is_not_text_is_a_config_error(key: str, tmp_path: Path) -> None:
    """`rules: {5: {}}` (a typo, a stray key) must be a ConfigError naming rules, not a TypeError."""
    p = tmp_path / "c.yaml"
    p.write_text(f"rules: {{{key}: {{}}}}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*rules"):
        load_config(p)


def test_check_config_rejects_an_mqtt_url_that_vts_run_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config says "valid" for `mqtt.url: http://...`; `vts run` then refuses to start."""
    from vts.mqtt.settings import MqttSettings
    from vts.mqtt.urls import MqttUrlError, resolve_settings

    p = tmp_path / "c.yaml"
    p.write_text("mqtt: {url: 'http://broker.example:1883'}\n")
    with pytest.raises(MqttUrlError):  # what `vts run` does at start
        resolve_settings(MqttSettings(url="http://broker.example:1883"), None, environ={})
    with pytest.raises(ConfigError, match=r"c\.yaml: mqtt\.url: .*scheme"):
        load_config(p)
    rc, out, err = run_cli("check-config", str(p), capsys=capsys)
    assert rc == 1, f"check-config accepted a broker URL the daemon refuses:\n{out[-300:]}"
    assert "mqtt.url" in err


def test_check_config_summary_shows_a_broker_given_by_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mqtt: {host: ...}` makes `vts run` publish; the summary must not say MQTT is disabled."""
    p = tmp_path / "c.yaml"
    p.write_text("mqtt: {host: broker.example, port: 1884}\n")
    rc, out, _ = run_cli("check-config", "--brief", str(p), capsys=capsys)
    assert rc == 0
    mqtt_line = next(line for line in out.splitlines() if line.startswith("MQTT:"))
    assert "disabled" not in mqtt_line and "broker.example" in mqtt_line, mqtt_line


@pytest.mark.parametrize(
    "rule_yaml",
    [
        "restricted_area: {zone_kinds: [restrictd]}",
        "restricted_area: {exempt_roles: [pilots]}",
        "loitering: {exempt_zone_kinds: [anchorages]}",
    ],
    ids=["zone_kind_typo", "role_typo", "exempt_kind_typo"],
)
def test_a_misspelt_zone_kind_or_role_in_rule_params_is_an_error(rule_yaml: str, tmp_path: Path) -> None:
    """A typo in a kind/role list silently disables the rule for those zones (no message at all)."""
    p = tmp_path / "c.yaml"
    p.write_text(f"rules: {{{rule_yaml}}}\n")
    with pytest.raises(ConfigError, match=r"rules\."):
        load_config(p)


def test_a_missing_normalcy_model_file_is_a_config_error(tmp_path: Path) -> None:
    """land.file that is missing is a ConfigError; rules.course_anomaly.model_path that is missing
    passes check-config and only logs a warning at the first fix, turning off_route off."""
    p = tmp_path / "c.yaml"
    p.write_text("rules: {course_anomaly: {model_path: nowhere.npz}}\n")
    with pytest.raises(ConfigError, match=r"model_path"):
        load_config(p)


def test_zone_override_in_an_include_chain_names_the_overriding_file(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(
        "zones:\n  - {id: z1, name: Z, kind: anchorage, polygon: [[-77.2,-12.0],[-77.1,-12.0],"
        "[-77.1,-11.9],[-77.2,-12.0]]}\n"
    )
    top = tmp_path / "top.yaml"
    top.write_text("include: [base.yaml]\nzones:\n  - {id: z1, speed_limit_kn: fast}\n")
    with pytest.raises(ConfigError) as e:
        load_config(top)
    assert "top.yaml" in str(e.value) and "speed_limit_kn" in str(e.value) and "z1" in str(e.value)


# -- the CLI front -------------------------------------------------------------------------------


def test_no_subcommand_prints_help_and_an_unknown_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(capsys=capsys)
    assert rc == 2 and "COMMAND" in out
    rc, _, err = run_cli("-v", capsys=capsys)
    assert rc == 2
    rc, _, err = run_cli("bogus", capsys=capsys)
    assert rc == 2 and "invalid choice" in err


def test_check_config_on_a_directory_and_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run_cli("check-config", str(tmp_path), capsys=capsys)
    assert rc == 1 and "is a directory" in err
    rc, _, err = run_cli("check-config", str(tmp_path / "none.yaml"), capsys=capsys)
    assert rc == 1 and "not found" in err


# -- vts alerts / the store ----------------------------------------------------------------------


def test_alerts_on_a_corrupt_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "alerts.sqlite3"
    db.write_bytes(b"this is not an SQLite database, just some text " * 40)
    rc, _, err = run_cli("alerts", "--db", str(db), capsys=capsys)
    assert rc != 0 and str(db) in err


def test_alerts_on_a_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "alerts.sqlite3"
    d.mkdir()
    rc, _, err = run_cli("alerts", "--db", str(d), capsys=capsys)
    assert rc != 0 and str(d) in err


def test_alerts_on_a_foreign_sqlite_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An SQLite file of another program, with its own `alerts` table (no `time` column)."""
    db = tmp_path / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("CREATE TABLE alerts (x TEXT)")
        c.commit()
    rc, _, err = run_cli("alerts", "--db", str(db), capsys=capsys)
    assert rc != 0 and str(db) in err


def test_listing_alerts_does_not_write_into_a_foreign_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vts alerts --db some.sqlite` (a wrong path) adds vts's tables to another program's database."""
    db = tmp_path / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("CREATE TABLE mydata (x TEXT)")
        c.commit()
    run_cli("alerts", "--db", str(db), capsys=capsys)
    with contextlib.closing(sqlite3.connect(db)) as c:
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"mydata"}, f"a read-only listing changed the file: {sorted(tables)}"


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to drop to nobody"
)
def test_alerts_can_list_a_read_only_database(request: pytest.FixtureRequest) -> None:
    """An operator who may read but not write the daemon's database (file 0444, directory 0755,
    owned by another user) cannot even list: the store opens with PRAGMA journal_mode=WAL.
    (The directory is made under /tmp, not in tmp_path: pytest's base directory is 0700, which nobody
    could enter at all.)"""
    d = Path(tempfile.mkdtemp(prefix="vts-review-ro-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(d, ignore_errors=True))
    db = d / "alerts.sqlite3"
    filled_db(db)
    db.chmod(0o444)
    d.chmod(0o755)
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(VTS), "alerts", "--db", str(db)],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert "Traceback" not in proc.stderr, proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 0 and "rendezvous" in proc.stdout


def test_ack_of_an_unknown_id_and_history_of_an_unknown_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.sqlite3"
    filled_db(db)
    rc, _, err = run_cli("alerts", "--db", str(db), "--ack", "no-such-id", "--by", "op", capsys=capsys)
    assert rc == 1 and "no alert with id no-such-id" in err
    rc, _, err = run_cli("alerts", "--db", str(db), "--history", "no-such-id", capsys=capsys)
    assert rc == 1 and "no alert with id no-such-id" in err
    store = AlertStore(db)
    try:
        assert store.acks() and all(a.alert_id != "no-such-id" for a in store.acks())
    finally:
        store.close()


def test_alerts_persist_across_restart_and_shell_ack_shows_in_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.sqlite3"
    steps = filled_db(db)
    rc, out, _ = run_cli("alerts", "--db", str(db), "--ack", steps[0].id, "--by", "Op. Quispe",
                         "--note", "n1", capsys=capsys)  # fmt: skip
    assert rc == 0 and "acknowledged" in out
    rc, out, _ = run_cli("alerts", "--db", str(db), "--history", steps[0].id, capsys=capsys)
    lines = out.splitlines()
    assert rc == 0 and sum("loitering" in ln for ln in lines) == 3
    said = "acknowledged by Op. Quispe (from the shell, at the wall-clock time): n1"
    assert any(said in ln for ln in lines)
    rc, out, _ = run_cli("alerts", "--db", str(db), "--history", steps[0].id, "--json", capsys=capsys)
    assert [json.loads(ln)["state"] for ln in out.splitlines()] == ["raised", "updated", "cleared"]


def test_alerts_since_type_and_active_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.sqlite3"
    filled_db(db)
    # newest step is T0+700: 5 minutes back keeps loitering (last step T0+600) and position_jump (T0+700)
    rc, out, err = run_cli("alerts", "--db", str(db), "--since", "5m", "--json", capsys=capsys)
    assert rc == 0 and sorted(json.loads(ln)["type"] for ln in out.splitlines()) == [
        "loitering",
        "position_jump",
    ]
    assert "counted back from the newest alert" in err
    rc, out, _ = run_cli("alerts", "--db", str(db), "--type", "rendezvous", "--json", capsys=capsys)
    assert rc == 0 and [json.loads(ln)["type"] for ln in out.splitlines()] == ["rendezvous"]
    rc, out, _ = run_cli("alerts", "--db", str(db), "--type", "rendezvous,loitering", "--json", capsys=capsys)
    assert rc == 0 and sorted(json.loads(ln)["type"] for ln in out.splitlines()) == [
        "loitering",
        "rendezvous",
    ]
    # a typo is a usage error naming the closest type, not an empty answer
    rc, out, err = run_cli(
        "alerts", "--db", str(db), "--type", "rendezvous", "--type", "rendevous", capsys=capsys
    )
    assert rc == 2 and out == "" and "'rendevous' (did you mean 'rendezvous'?)" in err
    # refused rather than quietly ignored (found by a user: each printed a list as if all was well)
    for bad in (("--limit", "-1"), ("--by", "X"), ("--note", "seen"), ("--since", " ")):
        rc, out, err = run_cli("alerts", "--db", str(db), *bad, capsys=capsys)
        assert rc == 2 and out == "" and err, bad
    rc, out, _ = run_cli("alerts", "--db", str(db), "--active", "--json", capsys=capsys)
    assert [json.loads(ln)["type"] for ln in out.splitlines()] == ["rendezvous"]
    rc, _, err = run_cli("alerts", "--db", str(db), "--since", "yesterday", capsys=capsys)
    assert rc == 2 and "not a time, date or duration" in err


@pytest.mark.parametrize("since", ["999999999999d", "99999999999999999h"])
def test_alerts_since_an_absurd_duration_is_a_clear_error(
    since: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--since 999999999999d` passes the duration regex; printing the reference time then raises."""
    db = tmp_path / "a.sqlite3"
    filled_db(db)
    try:
        rc, _, _ = run_cli("alerts", "--db", str(db), "--since", since, capsys=capsys)
    except (OverflowError, OSError, ValueError) as e:
        pytest.fail(f"--since {since}: {type(e).__name__}: {e} escaped")
    assert rc in (0, 2)


def test_alerts_output_into_a_closed_pipe_is_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vts alerts | head -1` on a big store: check-config handles BrokenPipeError, alerts does not."""
    db = tmp_path / "a.sqlite3"
    filled_db(db)

    class ClosedPipe(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        rc = cli_main(["alerts", "--db", str(db)])
    except BrokenPipeError:
        pytest.fail("BrokenPipeError escaped `vts alerts` (a traceback under `| head`)")
    assert rc in (0, 1, 141)


def test_daemon_opens_the_same_store_as_vts_alerts_for_a_home_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`alerts.store: ~/vts.sqlite3`: `vts alerts` expands the ~, the daemon does not (it creates a
    directory named '~' in its working directory), so the operator's listing finds nothing."""
    import vts.alerts.store as store_module
    from vts.alerts.command import _db_path
    from vts.daemon import Daemon, DaemonError

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("alerts: {store: '~/vts.sqlite3'}\n")
    config = load_config(cfg)
    opened: list[Path] = []

    class Capture:
        def __init__(self, path: object) -> None:
            opened.append(Path(str(path)))
            raise RuntimeError("stop here")

    monkeypatch.setattr(store_module, "AlertStore", Capture)
    args = argparse.Namespace(config=str(cfg), store=None, simulate=False, speed=None, seed=1)
    with pytest.raises(DaemonError):
        asyncio.run(Daemon(config, args).run())
    listed = _db_path(argparse.Namespace(db=None, config=str(cfg)))
    assert opened and listed is not None
    assert opened[0].resolve() == listed.resolve(), f"daemon writes {opened[0]}, `vts alerts` reads {listed}"


# -- vts run --------------------------------------------------------------------------------------


def test_run_with_a_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    db.write_bytes(b"not sqlite " * 100)
    proc = run_vts("run", "--store", str(db), "--no-web", cwd=tmp_path)
    assert proc.returncode == 2 and "cannot open the alert database" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_with_a_missing_config_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run_cli("run", "--config", str(tmp_path / "none.yaml"), capsys=capsys)
    assert rc == 2 and "configuration file not found" in err
    rc, _, err = run_cli("run", "--speed", "0", capsys=capsys)
    assert rc == 2 and "--speed" in err
    rc, _, err = run_cli("run", "--port", "http", capsys=capsys)
    assert rc == 2 and "--port" in err


async def test_a_map_port_out_of_range_does_not_crash_the_daemon() -> None:
    """`vts run --port 99999`: bind() raises OverflowError, which `_enter_web` does not catch (it
    catches OSError), so the daemon dies with a traceback instead of "no live map" or a usage error."""
    from vts.alerts.store import AlertStore as RealStore
    from vts.core import Core
    from vts.daemon import Daemon
    from vts.sources.runner import FeedHealth

    config = load_config()
    args = argparse.Namespace(config=None, no_web=False, host="127.0.0.1", port=99999)
    d = Daemon(config, args)
    store = RealStore(None)
    core = Core(config, store=store)
    try:
        async with asyncio.timeout(WAIT_S):
            async with contextlib.AsyncExitStack() as stack:
                try:
                    await d._enter_web(stack, core, store, FeedHealth(core, []))
                except OverflowError as e:
                    pytest.fail(f"OverflowError escaped _enter_web: {e}")
    finally:
        store.close()


@pytest.fixture
def quiet_servers() -> Iterator[list[int]]:
    """Two TCP feeds on 127.0.0.1 that accept and never speak."""
    servers = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    yield [int(s.getsockname()[1]) for s in servers]
    for s in servers:
        s.close()


def _write_cfg(path: Path, sources: list[dict[str, object]], store: Path) -> None:
    path.write_text(
        f"include: [{json.dumps(str(default_config_path()))}]\n"
        f"sources: {json.dumps(sources)}\n"
        f"alerts: {{store: {json.dumps(str(store))}}}\n",
        encoding="utf-8",
    )


def _daemon_with_runner(cfg: Path) -> tuple[Any, Any, Any]:
    from vts.core import Core
    from vts.daemon import Daemon
    from vts.sources.runner import CoreFeed, FeedHealth, SourceRunner

    config = load_config(cfg)
    daemon = Daemon(config, argparse.Namespace(config=str(cfg), simulate=False, speed=None))
    sources = daemon._sources()
    core = Core(config)
    runner = SourceRunner(sources, CoreFeed(core))
    daemon._runner, daemon._health = runner, FeedHealth(core, sources, mode=daemon.mode)
    runner.start()
    return daemon, core, runner


async def test_reload_whose_only_new_source_cannot_start_keeps_the_running_one(
    tmp_path: Path, quiet_servers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "a reload that would leave no source keeps the running ones": the check is on the file's
    list, not on what can start. The old source is stopped first, the new one is refused
    (SourceUnavailable, e.g. its module missing), and the daemon is left with no source at all (and
    `runner.sources[0]` then raises IndexError inside `_follow_sources`)."""
    import vts.sources.runner as runner_module

    cfg = tmp_path / "c.yaml"
    a = {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[0]}
    _write_cfg(cfg, [a], tmp_path / "alerts.sqlite3")
    daemon, core, runner = _daemon_with_runner(cfg)
    try:
        real = runner_module.make_source

        def refuse_m(settings: Any, **kw: Any) -> Any:
            if settings.name == "m":
                raise runner_module.SourceUnavailable("source 'm': kind 'mqtt' is not available here")
            return real(settings, **kw)

        monkeypatch.setattr(runner_module, "make_source", refuse_m)
        m = {"name": "m", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[1]}
        _write_cfg(cfg, [m], tmp_path / "alerts.sqlite3")
        async with asyncio.timeout(WAIT_S):
            await daemon.reload(core)
        assert [s.name for s in runner.sources] == ["a"], "the daemon was left without any source"
    finally:
        async with asyncio.timeout(WAIT_S):
            await runner.stop()


async def test_two_sighup_reloads_at_once_leave_one_copy_of_each_source(
    tmp_path: Path, quiet_servers: list[int]
) -> None:
    """Two SIGHUPs in a row (an editor saving twice) run two reloads concurrently."""
    cfg = tmp_path / "c.yaml"
    a = {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[0]}
    _write_cfg(cfg, [a], tmp_path / "alerts.sqlite3")
    daemon, core, runner = _daemon_with_runner(cfg)
    try:
        _write_cfg(cfg, [{**a, "port": quiet_servers[1]}], tmp_path / "alerts.sqlite3")
        async with asyncio.timeout(WAIT_S):
            results = await asyncio.gather(daemon.reload(core), daemon.reload(core))
        assert results == [True, True]
        assert [(s.name, s.settings.port) for s in runner.sources] == [("a", quiet_servers[1])]
        assert set(runner._tasks) == {"a"} and not runner._tasks["a"].done()
    finally:
        async with asyncio.timeout(WAIT_S):
            await runner.stop()


async def test_two_reloads_apply_in_order_whichever_read_ends_first(
    tmp_path: Path, quiet_servers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is saved twice: the first reload reads the first version slowly, the second reload
    the second version quickly. The second version (the file as it is) must be in force at the end,
    not the first, applied over it when its slow read ended."""
    import time as _time

    import vts.config

    cfg = tmp_path / "c.yaml"
    store = tmp_path / "alerts.sqlite3"
    a = {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[0]}
    _write_cfg(cfg, [a], store)
    daemon, core, runner = _daemon_with_runner(cfg)
    real_load = vts.config.load_config
    reads = 0

    def load(path: object = None) -> object:
        nonlocal reads
        reads += 1
        config = real_load(path)  # type: ignore[arg-type]
        if reads == 1:
            _time.sleep(0.4)  # (in the reload's thread) the first read is slow
        return config

    monkeypatch.setattr(vts.config, "load_config", load)
    try:
        _write_cfg(cfg, [{**a, "port": quiet_servers[1]}], store)  # first save
        first = asyncio.create_task(daemon.reload(core))
        await asyncio.sleep(0.1)
        _write_cfg(cfg, [a], store)  # second save: back to the first port
        async with asyncio.timeout(WAIT_S):
            assert await daemon.reload(core) is True
            assert await first is True
        assert [s.settings.port for s in runner.sources] == [quiet_servers[0]]  # as the file says
    finally:
        async with asyncio.timeout(WAIT_S):
            await runner.stop()


async def test_no_reload_once_the_daemon_is_stopping(tmp_path: Path, quiet_servers: list[int]) -> None:
    """A SIGHUP that arrives during shutdown must not start sources the shutdown has stopped."""
    cfg = tmp_path / "c.yaml"
    a = {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[0]}
    _write_cfg(cfg, [a], tmp_path / "alerts.sqlite3")
    daemon, core, runner = _daemon_with_runner(cfg)
    try:
        _write_cfg(cfg, [{**a, "port": quiet_servers[1]}], tmp_path / "alerts.sqlite3")
        daemon._signals = 1  # a stop signal has arrived
        async with asyncio.timeout(WAIT_S):
            assert await daemon.reload(core) is False
        assert [s.settings.port for s in runner.sources] == [quiet_servers[0]]
    finally:
        async with asyncio.timeout(WAIT_S):
            await runner.stop()


async def test_reload_with_a_broken_file_keeps_everything(tmp_path: Path, quiet_servers: list[int]) -> None:
    cfg = tmp_path / "c.yaml"
    a = {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[0]}
    _write_cfg(cfg, [a], tmp_path / "alerts.sqlite3")
    daemon, core, runner = _daemon_with_runner(cfg)
    try:
        before = daemon.config
        for broken in ("rules: {5: {}}\n", "zones: [\n", "\x00\xff"):
            cfg.write_bytes(broken.encode("latin-1"))
            async with asyncio.timeout(WAIT_S):
                ok = await daemon.reload(core)
            assert ok is False
        cfg.unlink()
        async with asyncio.timeout(WAIT_S):
            assert await daemon.reload(core) is False
        assert daemon.config is before and core.config is before and daemon.failed_reloads == 4
        assert [s.name for s in runner.sources] == ["a"]
    finally:
        async with asyncio.timeout(WAIT_S):
            await runner.stop()


# -- vts replay: outputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--alerts-out", "--vessels-out", "--summary-out", "--store"])
def test_replay_output_that_is_a_directory_is_a_clear_error(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = small_log(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    try:
        rc, _, err = run_cli("replay", str(log), "--no-progress", flag, str(out), capsys=capsys)
    except Exception as e:
        pytest.fail(f"vts replay {flag} DIR: {type(e).__name__}: {e} escaped")
    assert rc == 2 and flag in err


@pytest.mark.skipif(not unwritable_available(), reason="no unwritable directory to test with")
@pytest.mark.parametrize("flag", ["--alerts-out", "--vessels-out", "--summary-out"])
def test_replay_unwritable_output_is_refused_before_the_replay(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output that cannot be written is found out at the end (vessels, summary) after the whole
    replay, with a traceback and without the summary; or at the start with a traceback (alerts)."""
    log = small_log(tmp_path)
    try:
        rc, out, err = run_cli("replay", str(log), "--no-progress", flag, str(UNWRITABLE), capsys=capsys)
    except OSError as e:
        pytest.fail(f"vts replay {flag} {UNWRITABLE}: {type(e).__name__}: {e} escaped")
    assert rc == 2 and flag in err and "lines" not in out


def test_replay_with_a_corrupt_store_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = small_log(tmp_path)
    db = tmp_path / "a.sqlite3"
    db.write_bytes(b"not sqlite " * 100)
    try:
        rc, _, err = run_cli("replay", str(log), "--no-progress", "--store", str(db), capsys=capsys)
    except sqlite3.Error as e:
        pytest.fail(f"sqlite3.{type(e).__name__}: {e} escaped")
    assert rc == 2 and str(db) in err


def test_replay_argument_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = small_log(tmp_path)
    rc, _, err = run_cli("replay", str(tmp_path / "no-such.nmea"), capsys=capsys)
    assert rc == 2 and "no such file" in err
    (tmp_path / "empty").mkdir()  # a folder is read for its logs: none in it
    rc, _, err = run_cli("replay", str(tmp_path / "empty"), capsys=capsys)
    assert rc == 2 and "no log in the folder" in err
    rc, _, err = run_cli("replay", str(log), "--speed", "-1", capsys=capsys)
    assert rc == 2 and "--speed" in err
    rc, _, err = run_cli("replay", str(log), "--speed", "nan", capsys=capsys)
    assert rc == 2 and "--speed" in err
    rc, _, err = run_cli("replay", "-", "-", capsys=capsys)
    assert rc == 2 and "only once" in err
    rc, _, err = run_cli("replay", str(log), "--alerts-out", str(tmp_path / "no" / "a.jsonl"), capsys=capsys)
    assert rc == 2 and "no such directory" in err


# -- vts simulate ------------------------------------------------------------------------------------


class _FakeSim:
    vessels: ClassVar[list[Any]] = []
    incidents: ClassVar[list[Any]] = []

    def nmea_lines(self) -> Iterator[str]:
        return iter(["!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"])


@pytest.fixture
def fake_simulate(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`simulate` stubbed out (it takes seconds); the argument handling around it is what is tested."""
    import vts.simulate.command as command

    calls: list[dict[str, Any]] = []

    def fake(config: Any, **kw: Any) -> _FakeSim:
        calls.append(kw)
        return _FakeSim()

    monkeypatch.setattr(command, "simulate", fake)
    monkeypatch.setattr(command, "write_truth", lambda sim, path: Path(path).write_text("{}"))
    return calls


def test_simulate_out_that_is_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_simulate: list[dict[str, Any]]
) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    try:
        rc, _, err = run_cli("simulate", "--hours", "0.1", "--out", str(f), capsys=capsys)
    except OSError as e:
        pytest.fail(f"vts simulate --out FILE: {type(e).__name__}: {e} escaped")
    assert rc == 2 and "--out" in err


@pytest.mark.parametrize("hours", ["nan", "inf"])
def test_simulate_refuses_hours_that_are_not_a_finite_positive_number(
    hours: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_simulate: list[dict[str, Any]]
) -> None:
    """`--hours nan` passes the `<= 0` check and dies in the simulator (ValueError traceback);
    `--hours inf` would simulate forever."""
    rc, _, err = run_cli("simulate", "--hours", hours, "--out", str(tmp_path / "o"), capsys=capsys)
    assert rc == 2 and "--hours" in err and not fake_simulate


@pytest.mark.parametrize("vessels", ["-5", "0"])
def test_simulate_refuses_a_vessel_count_below_one(
    vessels: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_simulate: list[dict[str, Any]]
) -> None:
    """`--vessels -5` runs with about 43 vessels, `--vessels 0` with the default 55, silently."""
    rc, _, err = run_cli("simulate", "--vessels", vessels, "--out", str(tmp_path / "o"), capsys=capsys)
    assert rc == 2 and "--vessels" in err and not fake_simulate


def test_simulate_bad_start_and_incidents_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_simulate: list[dict[str, Any]]
) -> None:
    rc, _, err = run_cli("simulate", "--start", "noon", "--out", str(tmp_path / "o"), capsys=capsys)
    assert rc == 2 and "noon" in err
    rc, _, err = run_cli("simulate", "--incidents", "piracy", "--out", str(tmp_path / "o"), capsys=capsys)
    assert rc == 2 and "piracy" in err
    assert not fake_simulate


def test_simulate_start_without_a_zone_is_utc_whatever_the_machine_timezone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--start is documented "ISO 8601 UTC"; a time without offset is taken as the machine's local
    time (naive datetime.timestamp()), so the same command writes different logs in Lima and Oslo."""
    from vts.simulate.command import parse_start

    utc = parse_start("2026-03-02T12:00:00Z")
    monkeypatch.setenv("TZ", "America/Lima")
    time.tzset()
    try:
        local = parse_start("2026-03-02T12:00:00")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert local == utc, f"naive --start shifted by {(local - utc) / 3600:+g} h"


# -- vts learn / evaluate ------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["nan", "inf"])
def test_learn_refuses_a_cell_size_that_is_not_finite(
    cell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = small_log(tmp_path, 100)
    try:
        rc, _, err = run_cli(
            "learn", str(log), "--out", str(tmp_path / "m.npz"), "--cell-m", cell, capsys=capsys
        )
    except ValueError as e:
        pytest.fail(f"--cell-m {cell}: ValueError {e} escaped")
    assert rc == 2 and "--cell-m" in err


def test_learn_bad_inputs_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = small_log(tmp_path, 100)
    empty = tmp_path / "no-logs"
    empty.mkdir()
    rc, _, err = run_cli("learn", str(empty), "--out", str(tmp_path / "m.npz"), capsys=capsys)
    assert rc == 2 and "no log in the folder" in err  # (a folder of logs is read, as by vts replay)
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8bnot really gzip")
    rc, _, err = run_cli("learn", str(bad), "--out", str(tmp_path / "m.npz"), capsys=capsys)
    assert rc == 1 and "cannot read the logs" in err
    rc, _, err = run_cli("learn", str(log), "--out", str(tmp_path), capsys=capsys)
    assert rc == 1 and "cannot write" in err


@pytest.mark.parametrize("hours", ["-1", "0", "nan"])
def test_evaluate_refuses_hours_that_are_not_positive(
    hours: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vts evaluate --hours -1` dies with an AssertionError deep in the simulator; `--hours 0`
    simulates, scores 13 incidents as all missed and exits 0."""
    import vts.evaluate as evaluate

    called: list[object] = []
    monkeypatch.setattr(evaluate, "evaluate_seeds", lambda *a, **kw: called.append(a) or 1 / 0)
    try:
        rc, _, err = run_cli(
            "evaluate", "--hours", hours, "--seeds", "1", "--learn-seeds", "none", capsys=capsys
        )
    except ZeroDivisionError:
        pytest.fail(f"--hours {hours} was not refused: the evaluation ran")
    assert rc == 2 and "--hours" in err and not called


def test_evaluate_a_malformed_truth_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"format": "vts-simulation-truth", "incidents": [{"x": 1}]}))
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("")
    try:
        rc, _, err = run_cli("evaluate", str(truth), str(alerts), capsys=capsys)
    except (KeyError, TypeError) as e:
        pytest.fail(f"{type(e).__name__}: {e} escaped")
    assert rc == 2 and str(truth) in err


def test_evaluate_missing_and_directory_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("not json\n")
    rc, _, err = run_cli("evaluate", str(tmp_path), str(alerts), capsys=capsys)
    assert rc == 2 and "Is a directory" in err
    rc, _, err = run_cli("evaluate", str(tmp_path / "none.json"), str(alerts), capsys=capsys)
    assert rc == 2
    rc, _, err = run_cli("evaluate", "--hours", "1", "--seeds", "a-b", capsys=capsys)
    assert rc == 2 and "'a-b'" in err


# -- vts subscribe -----------------------------------------------------------------------------------


def test_subscribe_count_below_one_does_not_wait_forever(tmp_path: Path) -> None:
    count = "0"
    """`--count 0` means "exit after printing 0 alerts" (or is refused); it is accepted and then
    waits for a broker and for the first alert, forever."""
    try:
        proc = run_vts(
            "subscribe",
            "--broker",
            f"mqtt://127.0.0.1:{closed_port()}",
            "--count",
            count,
            cwd=tmp_path,
            timeout=6,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"vts subscribe --count {count} still running after 6 s")
    assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr


@pytest.mark.mqtt
def test_subscribe_with_a_wildcard_prefix_is_a_clear_error(tmp_path: Path, mosquitto: Any) -> None:
    try:
        proc = run_vts("subscribe", "--broker", mosquitto.url, "--prefix", "vts/#", "--count", "1",
                       cwd=tmp_path, timeout=WAIT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("vts subscribe --prefix 'vts/#' neither failed nor printed")
    assert "Traceback" not in proc.stderr, proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 2 and "prefix" in proc.stderr


# -- the fixes: each check below failed before its fix ------------------------------------------------


@pytest.mark.parametrize(
    "rule_yaml",
    [
        "ais_gap: {severe_zone_kinds: [restricted_area]}",
        "alongside: {security_zone_kinds: [security]}",
        "alongside: {exempt_roles: [tugs]}",
        "alongside: {exempt_zone_kinds: [anchorages]}",
        "drifting: {nuc_quiet_zone_kinds: [berths]}",
        "drifting: {exempt_categories: [tugboat]}",
        "loitering: {exempt_roles: [coast_guard]}",
        "rendezvous: {exempt_roles: [pilots]}",
        "rendezvous: {anchored_zone_kinds: [anchor]}",
        "rendezvous: {exempt_zone_kinds: [terminals]}",
        "speeding: {exempt_categories: [police]}",
        "unauthorised_anchoring: {allowed_zone_kinds: [anchorages]}",
        "unauthorised_anchoring: {exempt_roles: [pilots]}",
        "zone_visits: {kinds: [berths]}",
    ],
)
def test_every_rule_list_of_zone_kinds_roles_or_categories_is_checked(rule_yaml: str, tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(f"rules: {{{rule_yaml}}}\n")
    with pytest.raises(
        ConfigError, match=r"c\.yaml: rules\.\w+: \w+\[0\]: unknown value '\w+'.*expected one of"
    ):
        load_config(p)


def test_a_misspelt_kind_gets_a_suggestion(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("rules: {restricted_area: {zone_kinds: [restrictd]}}\n")
    with pytest.raises(ConfigError, match=r"did you mean 'restricted'\?"):
        load_config(p)


def _tiny_model(path: Path) -> Path:
    from vts.normalcy import NormalcyBuilder

    builder = NormalcyBuilder()
    builder.add(760000001, -12.05, -77.2, 10.0, 90.0)
    builder.build().save(path)
    return path


def test_the_normalcy_model_is_checked_and_the_rule_resolves_it_the_same_way(tmp_path: Path) -> None:
    _tiny_model(tmp_path / "m.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a model")
    p = tmp_path / "c.yaml"
    p.write_text("rules: {course_anomaly: {model_path: junk.npz}}\n")
    with pytest.raises(
        ConfigError, match=r"c\.yaml: rules\.course_anomaly\.model_path: .*not a normalcy model"
    ):
        load_config(p)
    p.write_text("rules: {course_anomaly: {model_path: .}}\n")
    with pytest.raises(ConfigError, match=r"model_path: .*not a file"):
        load_config(p)
    p.write_text("rules: {course_anomaly: {model_path: m.npz}}\n")
    config = load_config(p)
    # the parameter keeps the configured name (alerts carry the rule's parameters: no local path in
    # them); the rule resolves it as the check did
    assert config.rules["course_anomaly"].model_path == "m.npz"  # type: ignore[attr-defined]
    assert config.resolve_path("m.npz") == tmp_path / "m.npz"
    p.write_text("rules: {course_anomaly: {model_path: nowhere.npz, enabled: false}}\n")
    load_config(p)  # a rule that is off reads no model


def test_land_file_under_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "config" / "callao_land.geojson", home / "land.geojson")
    monkeypatch.setenv("HOME", str(home))
    p = tmp_path / "c.yaml"
    p.write_text("land: {file: '~/land.geojson'}\n")
    config = load_config(p)
    assert config.land_path() == home / "land.geojson" and config.land_polygons()


def test_check_config_summary_hides_the_password_of_an_mqtt_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("mqtt: {url: 'mqtts://op:s3cret@broker.example:8884'}\n")
    rc, out, _ = run_cli("check-config", "--brief", str(p), capsys=capsys)
    assert rc == 0 and "mqtts://op:***@broker.example:8884" in out and "s3cret" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--port", "99999"],
        ["replay", "x.nmea", "--port", "-1"],
        ["evaluate", "--tolerance", "-5"],
        ["evaluate", "--hours", "inf"],
        ["learn", "x.nmea", "--out", "m.npz", "--min-sog", "nan"],
        ["simulate", "--out", "o", "--vessels", "many"],
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_numbers_are_usage_errors_naming_the_flag(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run_cli(*argv, capsys=capsys)
    flag = next(a for a in argv if a.startswith("--") and a not in ("--out",))
    assert rc == 2 and f"argument {flag}" in err


def test_alerts_ack_on_a_foreign_database_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("CREATE TABLE mydata (x TEXT)")
        c.commit()
    before = db.read_bytes()
    rc, _, err = run_cli("alerts", "--db", str(db), "--ack", "x", "--by", "op", capsys=capsys)
    assert rc == 1 and "not a vts alert database" in err and "mydata" in err
    assert db.read_bytes() == before


def test_a_store_of_another_program_is_refused_by_its_application_id(tmp_path: Path) -> None:
    from vts.alerts.store import AlertStoreError

    db = tmp_path / "x.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("PRAGMA application_id = 1234")
        c.commit()
    with pytest.raises(AlertStoreError, match="application id 0x4d2"):
        AlertStore(db)
    filled_db(tmp_path / "ours.sqlite3")  # a new store is marked as ours and opens again, also read-only
    AlertStore(tmp_path / "ours.sqlite3", read_only=True).close()


def test_unreadable_steps_are_skipped_once_and_do_not_block_the_outbox(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.sqlite3"
    store = AlertStore(db)
    store._db.execute(
        "INSERT INTO steps(alert_id, state, time, json) VALUES ('x', 'raised', 0, '{\"id\": \"x\"}')"
    )
    store._db.execute(
        "INSERT INTO alerts(id, type, severity, state, mmsi, started, time, active, json)"
        " VALUES ('x', 'loitering', 'warning', 'raised', 1, 0, 0, 1, '{\"id\": \"x\"}')"
    )
    steps = fill(store)
    with caplog.at_level("WARNING", logger="vts.alerts.store"):
        first = store.pending_delivery(limit=2)
        again = store.pending_delivery(limit=2)
        assert store.active_alerts()  # the readable ones
    assert [a.id for _, a in first] == [steps[0].id, steps[1].id] and again == first
    assert store.pending_count() == len(steps) and store.unreadable_steps == 1
    assert sum("undelivered step" in r.getMessage() for r in caplog.records) == 1
    store.close()
    rc, out, _ = run_cli("alerts", "--db", str(db), "--json", capsys=capsys)
    assert rc == 0 and len(out.splitlines()) == 3  # loitering, rendezvous, position_jump; x skipped


def test_replay_output_that_fails_at_the_end_still_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import vts.replay as replay_module

    def disk_full(path: object, data: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(replay_module, "write_json", disk_full)
    log = small_log(tmp_path)
    out = tmp_path / "v.json"
    rc, stdout, err = run_cli("replay", str(log), "--no-progress", "--vessels-out", str(out), capsys=capsys)
    assert rc == 1 and "lines" in stdout and "--vessels-out" in err and "No space left" in err


def test_learn_counts_only_large_vessels_it_learnt_from(tmp_path: Path) -> None:
    from vts.learn import learn

    _, summary = learn([small_log(tmp_path)])
    assert 0 < summary["large_vessels"] <= summary["vessels"]


async def test_housekeeping_survives_a_failing_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    import vts.daemon as daemon_module

    monkeypatch.setattr(daemon_module, "HOUSEKEEPING_S", 0.01)
    calls: list[int] = []

    class Health:
        sources: ClassVar[list[Any]] = []

        def sample(self) -> None:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("boom")

    d = daemon_module.Daemon(load_config(), argparse.Namespace(config=None))
    task = asyncio.create_task(d._housekeeping(argparse.Namespace(now=None), [], Health()))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(WAIT_S):
            while len(calls) < 3:
                await asyncio.sleep(0.01)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_sighup_reload_task_is_held_until_it_ends() -> None:
    from vts.daemon import Daemon

    d = Daemon(load_config(), argparse.Namespace(config=None))
    release = asyncio.Event()
    done: list[bool] = []

    async def slow_reload(core: object) -> bool:
        await release.wait()
        done.append(True)
        return True

    d.reload = slow_reload  # type: ignore[method-assign]
    d._on_reload_signal(object())  # type: ignore[arg-type]
    assert len(d._background) == 1
    release.set()
    async with asyncio.timeout(WAIT_S):
        while d._background:
            await asyncio.sleep(0.01)
    assert done == [True]


async def test_reload_says_which_changes_need_a_restart(
    tmp_path: Path, quiet_servers: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    cfg = tmp_path / "c.yaml"
    a = {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": quiet_servers[0]}
    _write_cfg(cfg, [a], tmp_path / "alerts.sqlite3")
    daemon, core, runner = _daemon_with_runner(cfg)
    try:
        _write_cfg(cfg, [a], tmp_path / "other.sqlite3")
        with cfg.open("a") as f:
            f.write("web: {port: 8099}\n")
        with caplog.at_level("WARNING", logger="vts.daemon"):
            async with asyncio.timeout(WAIT_S):
                assert await daemon.reload(core)
        assert any("alerts.store, web changed" in r.getMessage() and "restart" in r.getMessage()
                   for r in caplog.records)  # fmt: skip
    finally:
        async with asyncio.timeout(WAIT_S):
            await runner.stop()
