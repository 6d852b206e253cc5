"""The publisher driven by the real core and the SQLite alert store (its durable outbox)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.fixtures.mqtt_broker import Broker, BrokerFactory, Collector, retained
from tests.fixtures.mqtt_scenario import speeding_ships
from tests.test_mqtt_publisher import PREFIX, dedup, fast_settings
from vts.alerts.model import Alert
from vts.alerts.store import AlertStore
from vts.config import Config, load_config
from vts.core import Core
from vts.mqtt.publisher import MqttPublisher

pytestmark = pytest.mark.mqtt


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


def last_steps(alerts: list[Alert]) -> dict[str, Alert]:
    out: dict[str, Alert] = {}
    for a in alerts:
        out[a.id] = a
    return out


async def feed(core: Core, lines: list[str]) -> list[Alert]:
    out: list[Alert] = []
    for i, line in enumerate(lines):
        out += core.feed_line(line, "test")
        if i % 20 == 0:
            await asyncio.sleep(0)  # let the publisher run, as the daemon's feed loop does
    out += core.finish()
    return out


async def test_core_alerts_published_exactly_with_final_retained_state(
    mosquitto: Broker, config: Config
) -> None:
    store = AlertStore(None)
    core = Core(config, store=store)
    alerts_out: list[str] = []
    core.add_alert_listener(lambda a: alerts_out.append(a.to_json()))  # what --alerts-out writes
    async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        async with MqttPublisher(fast_settings(mosquitto.url), core, store) as publisher:
            emitted = await feed(core, speeding_ships(4, still_fast=1))
        assert publisher.stats.alerts_delivered == len(emitted) and store.pending_count() == 0
        await sub.wait_until(lambda: len(sub.messages) >= len(alerts_out), "every alert")
    types = {json.loads(line)["type"] for line in alerts_out}
    assert {"speeding", "zone_entry"} <= types
    states = [json.loads(line)["state"] for line in alerts_out]
    assert "raised" in states and "cleared" in states
    assert [bytes(m.payload).decode() for m in sub.messages] == alerts_out
    for message, line in zip(sub.messages, alerts_out, strict=True):
        a = json.loads(line)
        assert str(message.topic) == f"{PREFIX}/alert/{a['severity']}/{a['type']}/{a['mmsi']}"

    active_ids = {a.id for a in core.engine.active()}
    assert len(active_ids) == 1  # the ship that never slows down
    last = last_steps([Alert.from_json(line) for line in alerts_out])
    expected = {f"{PREFIX}/alert-state/{i}": last[i].to_json().encode() for i in active_ids}
    assert await retained(mosquitto, f"{PREFIX}/alert-state/+") == expected


async def test_daemon_restart_still_delivers_undelivered_alerts(
    mosquitto_factory: BrokerFactory, config: Config, tmp_path: Path
) -> None:
    broker = mosquitto_factory(persistent=True)
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="restart-consumer"):
        pass  # the consumer's persistent session exists before the outage
    broker.stop()
    db = tmp_path / "alerts.sqlite3"

    # first run: the broker is down the whole time; alerts are detected and kept
    store = AlertStore(db)
    core = Core(config, store=store)
    async with MqttPublisher(fast_settings(broker.url, flush_timeout_s=0.5), core, store) as publisher:
        first_run = await feed(core, speeding_ships(3))
        assert not publisher.stats.connected
    assert len(first_run) >= 4 and store.pending_count() == len(first_run)
    store.close()

    # second run: a new process would open the same store; the broker is back
    broker.start()
    store = AlertStore(db)
    core = Core(config, store=store)
    async with MqttPublisher(fast_settings(broker.url), core, store) as publisher:
        assert await publisher.flush(15)
    assert store.pending_count() == 0
    store.close()
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="restart-consumer") as sub:
        await sub.wait_until(lambda: len(sub.messages) >= len(first_run), "the alerts of the first run")
    received = dedup([bytes(m.payload).decode() for m in sub.messages])
    assert received == [a.to_json() for a in first_run]


async def test_stale_retained_alert_states_are_emptied_at_connection(
    mosquitto: Broker, config: Config
) -> None:
    """A retained alert-state left by an earlier run (its alert ended without a cleared step, or the
    store was replaced) is emptied; the states of the alerts active now are kept."""
    import aiomqtt

    stale_topic = f"{PREFIX}/alert-state/00000000deadbeef"
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
        await client.publish(stale_topic, b'{"id":"00000000deadbeef"}', qos=1, retain=True)
    assert stale_topic in await retained(mosquitto, f"{PREFIX}/alert-state/+")

    store = AlertStore(None)
    core = Core(config, store=store)
    async with MqttPublisher(fast_settings(mosquitto.url), core, store) as publisher:
        emitted = await feed(core, speeding_ships(2, still_fast=1))
        assert await publisher.flush(10)
        active = core.engine.active()
        assert len(active) == 1
        for _ in range(200):  # the clean-up runs once the backlog is out
            if not publisher._resync_needed:
                break
            await asyncio.sleep(0.02)
    last = last_steps(emitted)
    expected = {f"{PREFIX}/alert-state/{a.id}": last[a.id].to_json().encode() for a in active}
    assert await retained(mosquitto, f"{PREFIX}/alert-state/+") == expected
