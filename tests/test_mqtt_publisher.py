"""The MQTT publisher against a real Mosquitto: topics, payloads, retained state, outages, will.

These drive `MqttPublisher` directly with an outbox (the interface of the alert store) and a small
stand-in for the core's listener registration; `test_mqtt_replay.py` goes through the real core.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.mqtt_broker import Broker, BrokerFactory, Collector, mqtt311_only, retained
from vts.alerts.model import Alert, iso_time, make_alert_id
from vts.mqtt.outbox import MemoryOutbox
from vts.mqtt.publisher import MqttPublisher
from vts.mqtt.settings import MqttSettings
from vts.mqtt.urls import settings_from_url
from vts.reports import PositionReport
from vts.tracker import VesselState

pytestmark = pytest.mark.mqtt
PREFIX = "test/vts/v1"
T0 = 1_767_000_000.0


def fast_settings(url: str, **overrides: Any) -> MqttSettings:
    base = settings_from_url(url)
    values: dict[str, Any] = {
        "prefix": PREFIX,
        "client_id": f"vts-test-{os.getpid()}",
        "retry_initial_s": 0.1,
        "retry_max_s": 0.5,
        "auth_retry_s": 0.3,
        "publish_timeout_s": 3.0,
        "connect_timeout_s": 1.0,
        "flush_timeout_s": 10.0,
    }
    values.update(overrides)
    return base.model_copy(update=values)


def make_alert(
    n: int, state: str = "raised", *, type_: str = "zone_entry", severity: str = "warning"
) -> Alert:
    mmsi = 760_000_000 + n
    started = T0 + n
    return Alert(
        id=make_alert_id(type_, mmsi, None, "security_dpworld", started),
        type=type_,
        severity=severity,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        mmsi=mmsi,
        time=started + (0 if state == "raised" else 30),
        started=started,
        message=f"vessel {mmsi} entered the DP World security zone",
        lat=-12.05,
        lon=-77.15,
        zone="security_dpworld",
        details={"n": n},
        rule={"id": type_},
    )


class ListenerHub:
    """The part of `vts.core.Core` the publisher uses: listener registration."""

    def __init__(self) -> None:
        self.alert_listeners: list[Callable[[Alert], None]] = []
        self.report_listeners: list[Callable[[Any, Any], None]] = []

    def add_alert_listener(self, listener: Callable[[Alert], None]) -> None:
        self.alert_listeners.append(listener)

    def add_report_listener(self, listener: Callable[[Any, Any], None]) -> None:
        self.report_listeners.append(listener)

    def emit(self, alert: Alert) -> None:
        for listener in self.alert_listeners:
            listener(alert)


def alert_lines(collector: Collector) -> list[str]:
    return [bytes(m.payload).decode() for m in collector.on(f"{PREFIX}/alert/#")]


def dedup(lines: list[str]) -> list[str]:
    """Consumers drop duplicates by alert id and step (QoS 1 is at least once)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[str] = []
    for line in lines:
        d = json.loads(line)
        key = (d["id"], d["state"], d["time"])
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out


async def test_alerts_topics_payloads_properties_and_retained_state(mosquitto: Broker) -> None:
    steps = [make_alert(1), make_alert(2, severity="alarm", type_="loitering"), make_alert(1, "updated")]
    steps += [make_alert(3), make_alert(1, "cleared")]
    outbox = MemoryOutbox()
    async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        async with MqttPublisher(fast_settings(mosquitto.url), None, outbox) as publisher:
            for step in steps:
                outbox.add(step)
            publisher.notify()
            await sub.wait_until(lambda: len(sub.messages) >= len(steps), "all alert steps")
            assert await publisher.flush(10)
            assert outbox.pending_count() == 0

    messages = sub.on(f"{PREFIX}/alert/#")
    assert [bytes(m.payload).decode() for m in messages] == [a.to_json() for a in steps]
    for message, alert in zip(messages, steps, strict=True):
        assert str(message.topic) == f"{PREFIX}/alert/{alert.severity}/{alert.type}/{alert.mmsi}"
        assert message.qos == 1
        assert message.properties.ContentType == "application/json"
        props = dict(message.properties.UserProperty)
        assert props["alert_id"] == alert.id and props["type"] == alert.type and props["state"] == alert.state

    state = await retained(mosquitto, f"{PREFIX}/alert-state/+")
    # alert 1 was cleared: its retained state is gone; 2 and 3 are active with their latest step
    assert state == {f"{PREFIX}/alert-state/{a.id}": a.to_json().encode() for a in (steps[1], steps[3])}


async def test_status_online_with_counters_then_offline_on_clean_exit(mosquitto: Broker) -> None:
    outbox = MemoryOutbox()
    async with MqttPublisher(fast_settings(mosquitto.url), None, outbox) as publisher:
        outbox.add(make_alert(1))
        publisher.notify()
        assert await publisher.flush(10)
        async with Collector(mosquitto, [f"{PREFIX}/status"]) as sub:
            await sub.wait_until(lambda: bool(sub.messages), "the retained status")
        status = json.loads(bytes(sub.messages[0].payload))
        assert sub.messages[0].retain
        assert status["status"] == "online" and status["online"] is True
        assert status["version"]
        assert "alerts_delivered" in status["counters"]
    after = await retained(mosquitto, f"{PREFIX}/status")
    final = json.loads(after[f"{PREFIX}/status"])
    assert final["status"] == "offline" and final["counters"]["alerts_delivered"] == 1


async def test_broker_restart_mid_stream_loses_nothing_and_keeps_order(
    mosquitto_factory: BrokerFactory,
) -> None:
    broker = mosquitto_factory(persistent=True)
    hub = ListenerHub()
    steps = [make_alert(n) for n in range(40)]
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="restart-consumer") as sub:
        async with MqttPublisher(fast_settings(broker.url), hub, None) as publisher:  # type: ignore[arg-type]
            for step in steps[:15]:
                hub.emit(step)
            await sub.wait_until(lambda: len(alert_lines(sub)) >= 15, "the first 15 alerts")
            broker.stop()
            for step in steps[15:30]:  # raised while the broker is down
                hub.emit(step)
            await asyncio.sleep(0.3)
            assert not publisher.stats.connected
            broker.start()
            for step in steps[30:]:
                hub.emit(step)
            await sub.wait_until(
                lambda: len(dedup(alert_lines(sub))) >= len(steps), "every alert after restart"
            )
    assert dedup(alert_lines(sub)) == [a.to_json() for a in steps]
    assert publisher.stats.connections >= 2


async def test_broker_down_at_start_backlog_arrives_in_order(mosquitto_factory: BrokerFactory) -> None:
    broker = mosquitto_factory(persistent=True)
    # the consumer's persistent session exists before the outage (as for a real subscriber)
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="backlog-consumer"):
        pass
    broker.stop()
    hub = ListenerHub()
    steps = [make_alert(n) for n in range(25)]
    async with MqttPublisher(fast_settings(broker.url), hub, None) as publisher:  # type: ignore[arg-type]
        for step in steps:
            hub.emit(step)  # the daemon keeps detecting while the broker is down
        await asyncio.sleep(0.5)
        assert not publisher.stats.connected and publisher.stats.failed_connections >= 1
        assert publisher._memory_outbox is not None and publisher._memory_outbox.pending_count() == 25
        broker.start()
        assert await publisher.flush(15)
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="backlog-consumer") as sub:
        await sub.wait_until(lambda: len(dedup(alert_lines(sub))) >= len(steps), "the backlog")
    assert dedup(alert_lines(sub)) == [a.to_json() for a in steps]


async def test_wrong_credentials_one_clear_error_no_password_in_logs(
    mosquitto_auth: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = f"mqtt://vts:not-the-password@{mosquitto_auth.host}:{mosquitto_auth.port}"
    outbox = MemoryOutbox()
    outbox.add(make_alert(1))
    async with MqttPublisher(fast_settings(wrong), None, outbox) as publisher:
        publisher.notify()
        await asyncio.sleep(1.2)  # several slow retries (auth_retry_s = 0.3)
        assert publisher._task is not None and not publisher._task.done()  # still alive, still trying
        assert not publisher.stats.connected and publisher.stats.failed_connections >= 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("vts")]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "refused the credentials" in errors[0].getMessage() and "'vts'" in errors[0].getMessage()
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("vts"))
    assert "not-the-password" not in caplog.text
    assert outbox.pending_count() == 1  # kept for when the credentials are fixed

    async with MqttPublisher(fast_settings(mosquitto_auth.url), None, outbox) as publisher:
        publisher.notify()
        assert await publisher.flush(10)
    assert mosquitto_auth.password is not None and mosquitto_auth.password not in caplog.text


async def test_tls_with_test_ca_and_client_certificate(mosquitto_tls: Broker, tmp_path: Any) -> None:
    import ssl

    ca = str(mosquitto_tls.ca_file)
    context = ssl.create_default_context(cafile=ca)
    async with Collector(mosquitto_tls, [f"{PREFIX}/alert/#"], tls_context=context) as sub:
        outbox = MemoryOutbox()
        url = f"mqtts://{mosquitto_tls.host}:{mosquitto_tls.port}?ca={ca}"
        async with MqttPublisher(fast_settings(url), None, outbox) as publisher:
            outbox.add(make_alert(1))
            publisher.notify()
            assert await publisher.flush(10)
        assert publisher.stats.connections == 1
        # the listener that wants a client certificate: refused without one, accepted with one
        port = mosquitto_tls.client_cert_port
        url = f"mqtts://{mosquitto_tls.host}:{port}?ca={ca}"
        outbox.add(make_alert(2))
        async with MqttPublisher(fast_settings(url), None, outbox) as publisher:
            publisher.notify()
            await asyncio.sleep(0.5)
            assert not await publisher.flush(0.1)
        assert publisher.stats.connections == 0 and publisher.stats.failed_connections >= 1
        assert "certificate required" in (publisher.stats.last_error or "")
        with_cert = f"{url}&cert={mosquitto_tls.client_cert}&key={mosquitto_tls.client_key}"
        async with MqttPublisher(fast_settings(with_cert), None, outbox) as publisher:
            publisher.notify()
            assert await publisher.flush(10)
        await sub.wait_until(lambda: len(sub.messages) >= 2, "both alerts over TLS")
    assert [json.loads(bytes(m.payload))["mmsi"] for m in sub.messages] == [760_000_001, 760_000_002]


async def test_tls_with_an_unknown_ca_is_one_clear_error(
    mosquitto_tls: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = MemoryOutbox()
    outbox.add(make_alert(1))
    url = f"mqtts://{mosquitto_tls.host}:{mosquitto_tls.port}"  # system CAs do not know the test CA
    async with MqttPublisher(fast_settings(url), None, outbox) as publisher:
        publisher.notify()
        await asyncio.sleep(1.0)  # several slow retries
        assert not await publisher.flush(0.1)
    assert publisher.stats.connections == 0 and publisher.stats.failed_connections >= 2
    assert outbox.pending_count() == 1
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 2, problems  # the TLS error once, then "not delivered at shutdown"
    assert "TLS" in problems[0] and "certificate verify failed" in problems[0].lower()


def vessel(mmsi: int, t: float, lat: float = -12.05, lon: float = -77.16) -> VesselState:
    v = VesselState(mmsi=mmsi, first_seen=T0, last_seen=t)
    v.position_time, v.lat, v.lon, v.sog, v.cog, v.heading = t, lat, lon, 11.2, 93.4, 92
    v.name, v.category, v.ais_class = "CALLAO TRADER", "cargo", "A"
    return v


def position(mmsi: int, t: float) -> PositionReport:
    return PositionReport(time=t, mmsi=mmsi, msg_type=1, source="test", lat=-12.05, lon=-77.16)


async def test_vessel_state_rate_limited_with_expiry(mosquitto: Broker) -> None:
    hub = ListenerHub()
    settings = fast_settings(mosquitto.url, vessel_interval_s=10.0, vessel_expiry_s=120)
    async with Collector(mosquitto, [f"{PREFIX}/vessel/+"]) as sub:
        async with MqttPublisher(settings, hub, None) as publisher:  # type: ignore[arg-type]
            for dt in (0.0, 2.0, 4.0, 11.0):  # event time: 0 and 11 pass the 10 s limit, 2 and 4 do not
                for listener in hub.report_listeners:
                    listener(position(760_000_001, T0 + dt), vessel(760_000_001, T0 + dt))
                await asyncio.sleep(0.05)
            shadow = vessel(760_000_002, T0)
            shadow.is_shadow = True
            for listener in hub.report_listeners:
                listener(position(760_000_002, T0), shadow)  # second ship on one MMSI: not published
            await sub.wait_until(lambda: len(sub.messages) >= 2, "two vessel messages")
            await asyncio.sleep(0.2)
            assert publisher.stats.vessel_messages == 2
    assert [str(m.topic) for m in sub.messages] == [f"{PREFIX}/vessel/760000001"] * 2
    body = json.loads(bytes(sub.messages[1].payload))
    assert body["mmsi"] == 760_000_001 and body["name"] == "CALLAO TRADER" and body["category"] == "cargo"
    assert body["lat"] == -12.05 and body["sog"] == 11.2 and body["time"] == iso_time(T0 + 11)
    assert sub.messages[0].qos == 0
    assert 0 < sub.messages[1].properties.MessageExpiryInterval <= 120


WILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from vts.mqtt.outbox import MemoryOutbox
    from vts.mqtt.publisher import MqttPublisher
    from vts.mqtt.urls import settings_from_url

    async def main():
        update = {"prefix": sys.argv[2], "client_id": "will-test"}
        settings = settings_from_url(sys.argv[1]).model_copy(update=update)
        async with MqttPublisher(settings, None, MemoryOutbox()) as publisher:
            while not publisher.stats.connected:
                await asyncio.sleep(0.02)
            print("connected", flush=True)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_last_will_turns_status_offline_when_the_process_is_killed(mosquitto: Broker) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WILL_SCRIPT, mosquitto.url, PREFIX], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 15)
        assert line.strip() == "connected"
        async with Collector(mosquitto, [f"{PREFIX}/status"]) as sub:
            await sub.wait_until(lambda: bool(sub.messages), "online status")
            assert json.loads(bytes(sub.messages[0].payload))["status"] == "online"
            proc.send_signal(signal.SIGKILL)
            await sub.wait_until(lambda: len(sub.messages) >= 2, "the last will")
        assert json.loads(bytes(sub.messages[-1].payload))["status"] == "offline"
        state = await retained(mosquitto, f"{PREFIX}/status")
        assert json.loads(state[f"{PREFIX}/status"])["online"] is False
    finally:
        proc.kill()
        proc.wait(5)


async def test_no_broker_configured_means_nothing_happens() -> None:
    hub = ListenerHub()
    async with MqttPublisher(MqttSettings(), hub, None) as publisher:  # type: ignore[arg-type]
        assert not publisher.enabled
        hub.emit(make_alert(1))
    assert hub.alert_listeners == [] and publisher._task is None


async def test_falls_back_to_mqtt_3_1_1_when_the_broker_does_not_speak_5(mosquitto: Broker) -> None:
    outbox = MemoryOutbox()
    async with (
        Collector(mosquitto, [f"{PREFIX}/alert/#"], protocol=4) as sub,
        mqtt311_only(mosquitto) as front,
    ):
        url = f"mqtt://{mosquitto.host}:{front.port}"
        async with MqttPublisher(fast_settings(url), None, outbox) as publisher:
            outbox.add(make_alert(1))
            publisher.notify()
            assert await publisher.flush(10)
        assert publisher.stats.protocol == "3.1.1" and publisher.stats.failed_connections == 1
        await sub.wait_until(lambda: bool(sub.messages), "the alert sent over MQTT 3.1.1")
    assert bytes(sub.messages[0].payload).decode() == make_alert(1).to_json()
