"""`vts replay --mqtt`: the replay publishes exactly its --alerts-out, even across a broker restart."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.mqtt_broker import Broker, BrokerFactory, Collector, retained
from tests.fixtures.mqtt_scenario import speeding_ships
from tests.test_mqtt_publisher import PREFIX, dedup
from vts.alerts.store import AlertStore

pytestmark = pytest.mark.mqtt


def replay_command(log: Path, tmp: Path, url: str, *extra: str) -> list[str]:
    sep = "&" if "?" in url else "?"
    return [
        sys.executable,
        "-m",
        "vts",
        "replay",
        str(log),
        "--no-progress",
        "--alerts-out",
        str(tmp / "alerts.jsonl"),
        "--store",
        str(tmp / "alerts.sqlite3"),
        "--mqtt",
        f"{url}{sep}prefix={PREFIX}&client_id=vts-replay-test",
        *extra,
    ]


async def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=60)


async def test_replay_publishes_exactly_its_alerts_with_the_final_retained_state(
    mosquitto: Broker, tmp_path: Path
) -> None:
    log = tmp_path / "callao.nmea"
    log.write_text("\n".join(speeding_ships(5, still_fast=2)) + "\n")
    async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        done = await run(replay_command(log, tmp_path, mosquitto.url))
        assert done.returncode == 0, done.stderr
        alerts_out = (tmp_path / "alerts.jsonl").read_text().splitlines()
        assert len(alerts_out) >= 8
        await sub.wait_until(lambda: len(sub.messages) >= len(alerts_out), "every alert of --alerts-out")
    assert [bytes(m.payload).decode() for m in sub.messages] == alerts_out
    for message, line in zip(sub.messages, alerts_out, strict=True):
        a = json.loads(line)
        assert str(message.topic) == f"{PREFIX}/alert/{a['severity']}/{a['type']}/{a['mmsi']}"
        assert dict(message.properties.UserProperty)["alert_id"] == a["id"]

    store = AlertStore(tmp_path / "alerts.sqlite3")
    active = store.active_alerts()
    store.close()
    assert len(active) == 2  # the two ships that never slow down
    last = {json.loads(line)["id"]: line for line in alerts_out}
    expected = {f"{PREFIX}/alert-state/{a.id}": last[a.id].encode() for a in active}
    assert await retained(mosquitto, f"{PREFIX}/alert-state/+") == expected
    status = await retained(mosquitto, f"{PREFIX}/status")
    assert json.loads(status[f"{PREFIX}/status"])["status"] == "offline"  # the replay ended cleanly


async def test_broker_restart_during_a_replay_loses_nothing(
    mosquitto_factory: BrokerFactory, tmp_path: Path
) -> None:
    broker = mosquitto_factory(persistent=True)
    log = tmp_path / "callao.nmea"
    log.write_text("\n".join(speeding_ships(12, stagger_s=30)) + "\n")  # ~12 min of event time
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="replay-consumer") as sub:
        proc = subprocess.Popen(
            replay_command(log, tmp_path, broker.url, "--speed", "120"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            await sub.wait_until(lambda: len(sub.messages) >= 2, "the first alerts")
            broker.stop()
            before_outage = len(sub.messages)
            await asyncio.sleep(1.0)  # the replay goes on detecting while the broker is down
            broker.start()
            _, err = await asyncio.to_thread(proc.communicate, timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        # it did see the outage: the session it had dropped ("lost", not "cannot reach": it had been up)
        assert "MQTT: lost the connection to" in err and "MQTT: connected again" in err
        alerts_out = (tmp_path / "alerts.jsonl").read_text().splitlines()
        await sub.wait_until(
            lambda: len(dedup([bytes(m.payload).decode() for m in sub.messages])) >= len(alerts_out),
            "every alert after the restart",
        )
    assert dedup([bytes(m.payload).decode() for m in sub.messages]) == alerts_out
    assert len(alerts_out) > before_outage + 4  # most alerts came during or after the outage
    store = AlertStore(tmp_path / "alerts.sqlite3")
    assert store.pending_count() == 0
    store.close()


async def test_replay_takes_the_broker_from_the_environment_under_its_own_prefix(
    mosquitto: Broker, tmp_path: Path
) -> None:
    """$VTS_MQTT_URL works for replays too; without an explicit prefix a replay publishes under
    .../replay, so it never mixes with (or empties the retained state of) a live daemon's topics."""
    import os

    log = tmp_path / "callao.nmea"
    log.write_text("\n".join(speeding_ships(3, still_fast=1)) + "\n")
    live_prefix = "vts/callao/v1"
    cmd = [sys.executable, "-m", "vts", "replay", str(log), "--no-progress"]
    cmd += ["--alerts-out", str(tmp_path / "alerts.jsonl")]
    env = {**os.environ, "VTS_MQTT_URL": mosquitto.url}
    async with Collector(mosquitto, [f"{live_prefix}/#"]) as sub:
        done = await asyncio.to_thread(
            subprocess.run, cmd, capture_output=True, text=True, timeout=60, env=env
        )
        assert done.returncode == 0, done.stderr
        alerts_out = (tmp_path / "alerts.jsonl").read_text().splitlines()
        assert alerts_out
        await sub.wait_until(
            lambda: sum("/alert/" in str(m.topic) for m in sub.messages) >= len(alerts_out), "the alerts"
        )
    alert_topics = [str(m.topic) for m in sub.messages if "/alert/" in str(m.topic)]
    assert all(t.startswith(f"{live_prefix}/replay/alert/") for t in alert_topics)
    assert not any(str(m.topic) == f"{live_prefix}/status" for m in sub.messages)
