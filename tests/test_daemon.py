"""`vts run` as a real process: demo mode, live TCP sources, SIGTERM, SIGHUP reload.

Exit checks are liveness checks (a generous timeout), not speed targets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from vts.alerts.store import AlertStore
from vts.config import default_config_path
from vts.samples import DEMO_SPEED, SAMPLE_LOG

REPO = Path(__file__).resolve().parent.parent
DMA_LOG = REPO / "replay" / "dma-stream-example.nmea"
LIVENESS_S = 20.0


class Daemon:
    """`vts run` in a subprocess, its log collected line by line; `stdin`: its standard input a
    pipe the test holds (`proc.stdin`, text)."""

    def __init__(self, *args: str, cwd: Path, stdin: bool = False) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("VTS_MQTT_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vts", "run", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: str, start: int = 0, timeout: float = LIVENESS_S) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no log line matching {pattern!r}:\n" + "\n".join(self.lines[-40:]))
                self._cond.wait(min(left, 0.2))

    def matching(self, pattern: str) -> list[str]:
        with self._cond:
            return [line for line in self.lines if re.search(pattern, line)]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the daemon and wait for it to exit; its log is then read to the end."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=LIVENESS_S)
        self._reader.join(timeout=LIVENESS_S)
        for pipe in (self.proc.stdin, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for d in started:
        d.kill()


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read())  # type: ignore[no-any-return]


def write_config(path: Path, sources: list[dict[str, object]], store: Path, extra: str = "") -> None:
    path.write_text(
        f"include: [{json.dumps(str(default_config_path()))}]\n"
        f"sources: {json.dumps(sources)}\n"
        f"alerts: {{store: {json.dumps(str(store))}}}\n" + extra,
        encoding="utf-8",
    )


class LineServer:
    """A TCP feed on 127.0.0.1 in a thread: sends the sample log to whoever connects."""

    def __init__(self, lines: list[bytes]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.lines = lines
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                try:
                    conn.sendall(b"\r\n".join(self.lines) + b"\r\n")
                    while not self._stop.is_set() and conn.recv(1024):
                        pass
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(5)


def test_demo_mode_serves_the_map_and_stops_on_sigterm(tmp_path: Path, daemons: list[Daemon]) -> None:
    store = tmp_path / "alerts.sqlite3"
    d = Daemon("--port", "0", "--store", str(store), cwd=tmp_path)
    daemons.append(d)
    d.wait_for(rf"replaying the sample log {re.escape(str(SAMPLE_LOG))} in a loop \(demo\)")
    url = d.wait_for(r"live map at (http://127\.0\.0\.1:\d+/)").group(1)
    d.wait_for(r"vts running: demo")
    feed: dict[str, object] = {}
    deadline = time.monotonic() + LIVENESS_S
    while time.monotonic() < deadline:
        feed = get_json(url + "api/stats")["feed"]  # type: ignore[assignment]
        sources = feed["sources"]  # type: ignore[index]
        if sources[0]["messages"] > 0:  # type: ignore[index]
            break
        time.sleep(0.2)
    assert feed["mode"] == "demo" and feed["speed"] == DEMO_SPEED
    (demo,) = feed["sources"]  # type: ignore[misc]
    assert demo["name"] == "demo" and demo["kind"] == "file" and demo["state"] == "reading"
    assert demo["messages"] > 0 and demo["last_message_iso"] is not None
    assert d.stop(signal.SIGTERM) == 0
    assert d.matching(r"SIGTERM received") and d.matching(r"vts\.daemon: stopped")
    assert store.exists()  # the daemon's own alert database
    saved = AlertStore(store, read_only=True)
    try:  # what the rules remember across a restart, saved as the daemon stopped
        assert {"rule/distress", "rule/identity_change", "tracker"} <= saved.saved_states().keys()
    finally:
        saved.close()


def test_live_tcp_sources_one_refused_and_sigint(tmp_path: Path, daemons: list[Daemon]) -> None:
    server = LineServer(DMA_LOG.read_bytes().splitlines()[:2000])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    cfg = tmp_path / "vts.yaml"
    sources = [
        {"name": "rx", "kind": "tcp", "host": "127.0.0.1", "port": server.port},
        {"name": "dead", "kind": "tcp", "host": "127.0.0.1", "port": dead_port, "reconnect_initial_s": 0.05},
    ]
    write_config(cfg, sources, tmp_path / "alerts.sqlite3")
    try:
        d = Daemon("--config", str(cfg), "--port", "0", cwd=tmp_path)
        daemons.append(d)
        url = d.wait_for(r"live map at (http://127\.0\.0\.1:\d+/)").group(1)
        d.wait_for(r"tcp source 'rx' .*: connected")
        d.wait_for(r"tcp source 'dead' .*: retrying \(connection refused")
        deadline = time.monotonic() + LIVENESS_S
        by_name: dict[str, dict[str, object]] = {}
        while time.monotonic() < deadline:
            feed = get_json(url + "api/stats")["feed"]
            by_name = {s["name"]: s for s in feed["sources"]}  # type: ignore[index]
            if by_name["rx"]["lines"] == 2000 and by_name["dead"]["failures"] >= 3:  # type: ignore[operator]
                break
            time.sleep(0.2)
        assert feed["mode"] == "live"  # type: ignore[index]
        assert by_name["rx"]["lines"] == 2000 and by_name["rx"]["messages"] > 0  # type: ignore[operator]
        assert by_name["rx"]["state"] == "connected" and by_name["rx"]["live"] is True
        assert by_name["dead"]["failures"] >= 3  # type: ignore[operator]
        assert len(d.matching(r"tcp source 'dead' .*retrying")) == 1  # many refusals, one log line
        assert server.connections == 1
        assert d.stop(signal.SIGINT) == 0
        assert d.matching(r"SIGINT received")
    finally:
        server.close()


def test_sighup_reloads_and_keeps_the_old_config_when_broken(tmp_path: Path, daemons: list[Daemon]) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "head.nmea").write_bytes(b"\n".join(DMA_LOG.read_bytes().splitlines()[:3000]) + b"\n")
    cfg = conf / "vts.yaml"
    sample = {"name": "log", "kind": "file", "path": "head.nmea", "loop": True, "speed": 5}  # relative to cfg
    write_config(cfg, [sample], tmp_path / "alerts.sqlite3")
    d = Daemon("--config", str(cfg), "--no-web", cwd=tmp_path)
    daemons.append(d)
    d.wait_for(r"vts running: replay")
    d.wait_for(r"file source 'log' \(.*/conf/head\.nmea\): reading")
    good = cfg.read_text()

    cfg.write_text(good + "zones: [ {id: broken\n", encoding="utf-8")  # not even YAML
    mark = len(d.lines)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"configuration reload FAILED, keeping the running configuration", start=mark)
    assert d.proc.poll() is None

    cfg.write_text(good + "utc_offset_hours: -4\n", encoding="utf-8")
    mark = len(d.lines)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(r"configuration reloaded: \d+ zones", start=mark)
    assert d.proc.poll() is None
    assert d.stop(signal.SIGTERM) == 0


def test_a_broken_config_at_start_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("sources: [{name: x, kind: tcp}]\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "vts", "run", "--config", str(cfg), "--no-web"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "needs host and port" in proc.stderr


def test_simulate_without_the_simulator_module_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from vts.config import load_config
    from vts.daemon import Daemon as VtsDaemon
    from vts.daemon import DaemonError

    real = importlib.import_module

    def no_simulator(name: str, *a: object) -> object:
        if name == "vts.simulate.live":
            raise ImportError("No module named 'vts.simulate.live'")
        return real(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", no_simulator)
    args = argparse.Namespace(simulate=True, speed=None, seed=1, config=None)
    with pytest.raises(DaemonError, match="simulator"):
        VtsDaemon(load_config(), args)._sources()


async def test_reload_swaps_the_config_and_keeps_vessels(tmp_path: Path) -> None:
    from vts.config import load_config
    from vts.core import Core
    from vts.daemon import Daemon as VtsDaemon

    cfg = tmp_path / "vts.yaml"
    write_config(cfg, [], tmp_path / "alerts.sqlite3")
    good = cfg.read_text()
    config = load_config(cfg)
    daemon = VtsDaemon(config, argparse.Namespace(config=str(cfg)))
    core = Core(config)
    for line in DMA_LOG.read_bytes().splitlines()[:3000]:
        core.feed_line(line, "log")
    vessels = {v.mmsi for v in core.tracker}
    assert vessels

    cfg.write_text(good + "utc_offset_hours: 99\n", encoding="utf-8")  # out of range
    assert await daemon.reload(core) is False
    assert core.config is config and daemon.failed_reloads == 1

    cfg.write_text(good + "utc_offset_hours: -4\n", encoding="utf-8")
    assert await daemon.reload(core) is True
    assert core.config.utc_offset_hours == -4 and daemon.config is core.config
    assert {v.mmsi for v in core.tracker} == vessels


async def test_quiet_live_feed_carries_event_time_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import vts.daemon as daemon_module
    from vts.sources.runner import FeedHealth
    from vts.sources.settings import SourceSettings
    from vts.sources.tcp import TcpSource

    monkeypatch.setattr(daemon_module, "HOUSEKEEPING_S", 0.01)
    monkeypatch.setattr(daemon_module, "QUIET_AFTER_S", 0.05)

    class QuietCore:
        def __init__(self) -> None:
            self.now: float | None = 1_000_000.0
            self.advanced: list[float] = []
            self.ingest = SimpleNamespace(stats=SimpleNamespace(by_source={}))

        def advance(self, t: float) -> list[object]:
            self.advanced.append(t)
            self.now = t
            return []

    core = QuietCore()
    live = TcpSource(SourceSettings(name="rx", kind="tcp", host="127.0.0.1", port=9))
    d = daemon_module.Daemon.__new__(daemon_module.Daemon)
    task = asyncio.create_task(d._housekeeping(core, [live], FeedHealth(core, [live])))  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(LIVENESS_S):
            while len(core.advanced) < 3:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert core.advanced == sorted(core.advanced) and core.advanced[0] > 1_000_000.0


@pytest.mark.mqtt
async def test_run_publishes_alerts_and_stops_even_with_the_broker_gone(
    tmp_path: Path, daemons: list[Daemon], mosquitto: object
) -> None:
    import asyncio

    import aiomqtt

    broker = mosquitto
    received: list[dict[str, object]] = []
    async with aiomqtt.Client(broker.host, broker.port) as client:  # type: ignore[attr-defined]
        await client.subscribe("vts/callao/v1/alert/#", qos=1)
        cfg = tmp_path / "vts.yaml"
        dma = {"name": "dma", "kind": "file", "path": str(DMA_LOG), "loop": True, "speed": 10}
        write_config(cfg, [dma], tmp_path / "a.sqlite3")
        d = Daemon("--config", str(cfg), "--mqtt", broker.url, "--no-web", cwd=tmp_path)  # type: ignore[attr-defined]
        daemons.append(d)
        await asyncio.to_thread(d.wait_for, r"MQTT: publishing to mqtt://127\.0\.0\.1")
        async with asyncio.timeout(LIVENESS_S):
            async for message in client.messages:
                received.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]
                break
    assert received and {"id", "type", "state", "mmsi"} <= set(received[0])
    broker.stop()  # type: ignore[attr-defined]
    assert await asyncio.to_thread(d.stop, signal.SIGTERM) == 0


@pytest.mark.mqtt
def test_the_daemon_shows_its_alert_delivery_to_monitoring(
    tmp_path: Path, daemons: list[Daemon], mosquitto: object
) -> None:
    """/api/stats, /metrics and /healthz tell whether alerts reach the broker (the daemon wires its
    publisher to the map's server) and which feeds are up."""
    d = Daemon("--port", "0", "--mqtt", mosquitto.url, "--store", str(tmp_path / "a.sqlite3"), cwd=tmp_path)  # type: ignore[attr-defined]
    daemons.append(d)
    url = d.wait_for(r"live map at (http://127\.0\.0\.1:\d+/)").group(1)
    mqtt: dict[str, object] | None = None
    deadline = time.monotonic() + LIVENESS_S
    while time.monotonic() < deadline:
        mqtt = get_json(url + "api/stats")["mqtt"]  # type: ignore[assignment]
        if mqtt is not None and mqtt["connected"]:
            break
        time.sleep(0.2)
    assert mqtt is not None and mqtt["connected"] is True and mqtt["alerts_pending"] is not None
    assert get_json(url + "healthz")["mqtt"] == "connected"
    with urllib.request.urlopen(url + "metrics", timeout=10) as resp:
        lines = resp.read().decode().splitlines()
    assert "vts_mqtt_connected 1" in lines and 'vts_source_up{source="demo"} 1' in lines
    assert d.stop(signal.SIGTERM) == 0


async def test_reload_follows_the_sources_of_the_file(tmp_path: Path) -> None:
    """SIGHUP's reload starts a source added to the file, stops one removed from it, restarts one
    whose settings changed, and leaves the others running."""
    import asyncio

    from vts.config import load_config
    from vts.core import Core
    from vts.daemon import Daemon as VtsDaemon
    from vts.sources.runner import CoreFeed, FeedHealth, SourceRunner

    lines = DMA_LOG.read_bytes().splitlines()
    (tmp_path / "a.nmea").write_bytes(b"\n".join(lines[:1500]) + b"\n")
    (tmp_path / "b.nmea").write_bytes(b"\n".join(lines[1500:3000]) + b"\n")
    quiet = socket.create_server(("127.0.0.1", 0))  # a TCP feed that accepts and never speaks
    port = int(quiet.getsockname()[1])
    rx = {"name": "rx", "kind": "tcp", "host": "127.0.0.1", "port": port}
    cfg = tmp_path / "vts.yaml"
    a = {"name": "a", "kind": "file", "path": "a.nmea", "follow": False}  # (read once: it finishes)
    write_config(cfg, [rx, a], tmp_path / "alerts.sqlite3")
    config = load_config(cfg)
    daemon = VtsDaemon(config, argparse.Namespace(config=str(cfg), simulate=False, speed=None))
    sources = daemon._sources()
    core = Core(config)
    runner = SourceRunner(sources, CoreFeed(core))
    health = FeedHealth(core, sources, mode=daemon.mode)
    daemon._runner, daemon._health = runner, health
    runner.start()
    try:
        async with asyncio.timeout(LIVENESS_S):
            while core.ingest.stats.by_source.get("a") is None or sources[1].status.state != "finished":
                await asyncio.sleep(0.02)
        rx_source = sources[0]
        read_a = core.ingest.stats.by_source["a"].lines
        assert daemon.mode == health()["mode"] == "live"

        # "a" goes, "b" comes, "rx" stays as it is
        b = {"name": "b", "kind": "file", "path": "b.nmea", "follow": False}
        write_config(cfg, [rx, b], tmp_path / "alerts.sqlite3")
        assert await daemon.reload(core) is True
        assert [s.name for s in runner.sources] == ["rx", "b"] and runner.sources[0] is rx_source
        assert [s.name for s in health.sources] == ["rx", "b"]
        async with asyncio.timeout(LIVENESS_S):
            while runner.sources[1].status.state != "finished":
                await asyncio.sleep(0.02)
        assert core.ingest.stats.by_source["b"].lines >= 1400
        assert core.ingest.stats.by_source["a"].lines == read_a

        # rx changes (another port): stopped and started anew; removing every source is refused
        write_config(
            cfg,
            [{**rx, "port": port + 1}, b],
            tmp_path / "alerts.sqlite3",
        )
        assert await daemon.reload(core) is True
        assert rx_source.status.state == "stopped" and rx_source not in runner.sources
        assert [s.name for s in runner.sources] == ["b", "rx"]
        write_config(cfg, [], tmp_path / "alerts.sqlite3")
        assert await daemon.reload(core) is True
        assert [s.name for s in runner.sources] == ["b", "rx"]

        # a source added with a file that is not there waits for it on its own, with a clear state
        # (followed, the default; and after the refused reload above, the next one compares with
        # what runs, not with that file)
        gone = {"name": "gone", "kind": "file", "path": "nowhere.nmea"}
        write_config(cfg, [{**rx, "port": port + 1}, b, gone], tmp_path / "alerts.sqlite3")
        assert await daemon.reload(core) is True
        broken = runner.sources[-1]
        async with asyncio.timeout(LIVENESS_S):
            while broken.status.state != "waiting":
                await asyncio.sleep(0.02)
        assert "cannot open" in broken.status.detail
        assert [s.name for s in runner.sources] == ["b", "rx", "gone"] and not runner.sources[
            1
        ].status.state == "stopped"

        # without the live feed the run is a replay of files, and with it live again (the map says so)
        b_only = {**b, "speed": 5}
        write_config(cfg, [b_only], tmp_path / "alerts.sqlite3")
        assert await daemon.reload(core) is True
        assert [s.name for s in runner.sources] == ["b"]
        assert daemon.mode == "replay" and (health()["mode"], health()["speed"]) == ("replay", 5)
        write_config(cfg, [b_only, rx], tmp_path / "alerts.sqlite3")
        assert await daemon.reload(core) is True
        assert daemon.mode == "live" and (health()["mode"], health()["speed"]) == ("live", None)
    finally:
        await runner.stop()
        quiet.close()
