"""`vts run` with MQTT: status and last will, and a broker refusing the credentials."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.mqtt_broker import Broker, Collector, retained
from tests.test_mqtt_publisher import PREFIX

pytestmark = pytest.mark.mqtt


def start_daemon(tmp: Path, url: str) -> subprocess.Popen[str]:
    env = dict(os.environ, VTS_MQTT_URL=f"{url}?prefix={PREFIX}&client_id=vts-daemon-test")
    cmd = [sys.executable, "-m", "vts", "run", "--no-web", "--store", str(tmp / "alerts.sqlite3")]
    return subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def test_killed_daemon_status_turns_offline_by_last_will(mosquitto: Broker, tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path, mosquitto.url)  # the broker comes from $VTS_MQTT_URL
    try:
        async with Collector(mosquitto, [f"{PREFIX}/status", f"{PREFIX}/vessel/+"]) as sub:
            await sub.wait_until(lambda: bool(sub.on(f"{PREFIX}/status")), "the daemon's online status", 30)
            online = json.loads(bytes(sub.on(f"{PREFIX}/status")[0].payload))
            assert online["status"] == "online" and "counters" in online
            await sub.wait_until(
                lambda: bool(sub.on(f"{PREFIX}/vessel/+")), "vessel state from the demo feed", 30
            )
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(10)
            await sub.wait_until(lambda: len(sub.on(f"{PREFIX}/status")) >= 2, "the last will")
        assert json.loads(bytes(sub.on(f"{PREFIX}/status")[-1].payload))["status"] == "offline"
        state = await retained(mosquitto, f"{PREFIX}/status")
        assert json.loads(state[f"{PREFIX}/status"])["online"] is False
    finally:
        daemon.kill()
        daemon.communicate(timeout=10)


async def test_daemon_keeps_running_when_the_broker_refuses_the_credentials(
    mosquitto_auth: Broker, tmp_path: Path
) -> None:
    import threading

    url = f"mqtt://vts:Wrong-Secret-42@{mosquitto_auth.host}:{mosquitto_auth.port}"
    daemon = start_daemon(tmp_path, url)
    lines: list[str] = []
    assert daemon.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(daemon.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    assert daemon.stdout is not None
    threading.Thread(target=daemon.stdout.read, daemon=True).start()
    try:
        # running (its signal handlers are set before it says so) and refused by the broker
        for _ in range(600):
            text = "".join(lines)
            if ("vts running" in text and "refused the credentials" in text) or daemon.poll() is not None:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # a second attempt would log no second error
        assert daemon.poll() is None, "".join(lines)  # still running
        daemon.send_signal(signal.SIGTERM)
        await asyncio.to_thread(daemon.wait, 30)
        await asyncio.to_thread(reader.join, 10)
    finally:
        daemon.kill()
    err = "".join(lines)
    assert daemon.returncode == 0, err
    mqtt_errors = [line for line in err.splitlines() if "ERROR" in line and "vts.mqtt" in line]
    assert len(mqtt_errors) == 1 and "refused the credentials of user 'vts'" in mqtt_errors[0], err
    assert "Wrong-Secret-42" not in err
    assert "reading" in err  # the feed went on


async def test_ais_in_over_mqtt_to_alerts_out_over_mqtt(mosquitto: Broker, tmp_path: Path) -> None:
    """A remote receiver publishes NMEA lines to the broker; the daemon (an mqtt source in its config)
    tracks the ships and publishes the alerts they cause."""
    import threading

    import aiomqtt

    from tests.fixtures.mqtt_scenario import speeding_ships
    from vts.config import default_config_path

    config = tmp_path / "vts.yaml"
    where = f"host: {mosquitto.host}, port: {mosquitto.port}"
    source = f"{{name: remote-north, kind: mqtt, {where}, topic: ais/+/nmea}}"
    config.write_text(f"include: [{json.dumps(str(default_config_path()))}]\nsources:\n  - {source}\n")
    env = dict(os.environ, VTS_MQTT_URL=f"{mosquitto.url}?prefix={PREFIX}&client_id=vts-daemon-source-test")
    cmd = [sys.executable, "-m", "vts", "run", "--no-web", "--config", str(config)]
    cmd += ["--store", str(tmp_path / "alerts.sqlite3")]
    daemon = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    log_lines: list[str] = []
    assert daemon.stderr is not None
    reader = threading.Thread(target=lambda: log_lines.extend(daemon.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        for _ in range(600):  # wait (up to 30 s) for the source to subscribe
            if any("remote-north" in line and "connected" in line for line in log_lines):
                break
            assert daemon.poll() is None, "".join(log_lines)
            await asyncio.sleep(0.05)
        async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
            async with aiomqtt.Client(mosquitto.host, mosquitto.port) as receiver:
                for line in speeding_ships(2):
                    await receiver.publish("ais/north/nmea", line.encode(), qos=1)

            def speeding() -> bool:
                return any(json.loads(bytes(m.payload))["type"] == "speeding" for m in sub.messages)

            await sub.wait_until(speeding, "a speeding alert from the lines sent over MQTT", 30)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        reader.join(5)
    assert daemon.returncode == 0, "".join(log_lines)
