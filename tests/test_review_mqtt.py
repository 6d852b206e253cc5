"""Adversarial review of vts/mqtt/ (publisher, outbox, payloads, topics, urls, subscribe).

A passing test documents a behaviour that holds; a failing one shows a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.fixtures.mqtt_broker import Broker, BrokerFactory, Collector, retained
from tests.test_mqtt_publisher import PREFIX, ListenerHub, dedup, fast_settings, make_alert
from vts.alerts.model import Alert
from vts.mqtt.outbox import MemoryOutbox
from vts.mqtt.publisher import MqttPublisher
from vts.mqtt.settings import MqttSettings
from vts.mqtt.subscribe import AlertFilter, AlertPrinter, run_subscriber
from vts.mqtt.urls import MqttUrlError, describe, mask_url, parse_mqtt_url, settings_from_url


def alert_lines(collector: Collector) -> list[str]:
    return [bytes(m.payload).decode() for m in collector.on(f"{PREFIX}/alert/#")]


async def eventually(predicate: Any, timeout: float) -> bool:
    """True as soon as `predicate()` holds; False after `timeout` seconds (a hang guard)."""
    async with asyncio.timeout(timeout + 1):
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.02)
    return True


def start_with_acl(factory: BrokerFactory, acl: str) -> Broker:
    broker = factory(start=False)
    acl_path = broker.directory / "acl"
    acl_path.write_text(acl)
    broker.extra_config.append(f"acl_file {acl_path}")
    broker.start()
    return broker


@pytest.mark.mqtt
async def test_puback_refusing_the_alert_is_not_counted_as_delivered(
    mosquitto_factory: BrokerFactory,
) -> None:
    # the broker accepts the connection, the status and the alert state, but not the alert topic
    broker = start_with_acl(
        mosquitto_factory,
        f"topic readwrite {PREFIX}/status\ntopic readwrite {PREFIX}/alert-state/#\n",
    )
    outbox = MemoryOutbox()
    outbox.add(make_alert(1))
    async with MqttPublisher(fast_settings(broker.url, flush_timeout_s=1.0), None, outbox) as publisher:
        publisher.notify()
        await asyncio.sleep(1.0)
        assert publisher.stats.connected
    # MQTT 5 PUBACK with reason code 0x87 (not authorised) is a refusal, not an acknowledgement
    assert outbox.pending_count() == 1, "the alert was refused by the broker but ticked off the outbox"


@pytest.mark.mqtt
async def test_an_alert_too_big_for_the_broker_does_not_block_every_later_alert(
    mosquitto_factory: BrokerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto_factory(start=False)
    broker.extra_config.append("max_packet_size 20000")  # brokers have limits (AWS IoT: 128 KiB)
    broker.start()
    huge = make_alert(1)
    huge.details = {"track": "x" * 50_000}  # e.g. a long evidence list
    normal = make_alert(2)
    outbox = MemoryOutbox()
    outbox.add(huge)
    outbox.add(normal)
    settings = fast_settings(broker.url, flush_timeout_s=0.5)
    async with Collector(broker, [f"{PREFIX}/alert/#"]) as sub:
        async with MqttPublisher(settings, None, outbox) as publisher:
            publisher.notify()
            arrived = await eventually(lambda: bool(alert_lines(sub)), 3.0)
            connections = publisher.stats.connections
    assert arrived, (
        f"the normal alert never arrived behind the oversized one ({connections} connections, "
        f"{outbox.pending_count()} steps still pending)"
    )
    assert [json.loads(line)["id"] for line in alert_lines(sub)][-1] == normal.id


@pytest.mark.mqtt
async def test_a_connection_that_keeps_dropping_does_not_flood_the_log(
    mosquitto_factory: BrokerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # the broker accepts the connection and drops it at the first (oversized) publish, every time
    # (MQTT 3.1.1: over MQTT 5 the broker announces its limit and the publisher keeps to it)
    broker = mosquitto_factory(start=False)
    broker.extra_config.append("max_packet_size 20000")
    broker.start()
    caplog.set_level(logging.INFO)
    huge = make_alert(1)
    huge.details = {"track": "x" * 50_000}
    outbox = MemoryOutbox()
    outbox.add(huge)
    settings = fast_settings(broker.url, flush_timeout_s=0.2, protocol="3.1.1")
    async with MqttPublisher(settings, None, outbox) as publisher:
        publisher.notify()
        await asyncio.sleep(2.0)
        connections = publisher.stats.connections
    warnings = [
        r.getMessage() for r in caplog.records if r.name.startswith("vts") and r.levelno >= logging.WARNING
    ]
    assert connections >= 2  # it did flap
    # "one warning per outage": the flapping connection is one long outage, not one per attempt
    assert len(warnings) <= 4, f"{len(warnings)} warnings in 2 s: {warnings[:4]}"


@pytest.mark.mqtt
async def test_publisher_comes_back_quickly_after_a_tls_broker_crash(
    mosquitto_tls: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    import ssl

    caplog.set_level(logging.DEBUG)
    ca = str(mosquitto_tls.ca_file)
    url = f"mqtts://{mosquitto_tls.host}:{mosquitto_tls.port}?ca={ca}"
    hub = ListenerHub()
    # auth_retry_s is the slow retry meant for credentials / bad certificates only
    settings = fast_settings(url, auth_retry_s=60.0, flush_timeout_s=0.5)
    context = ssl.create_default_context(cafile=ca)
    async with MqttPublisher(settings, hub, None) as publisher:  # type: ignore[arg-type]
        hub.emit(make_alert(1))
        assert await publisher.flush(5)
        mosquitto_tls.kill()  # a crash: the TLS session ends without close_notify
        await asyncio.sleep(0.3)
        mosquitto_tls.start()
        async with Collector(mosquitto_tls, [f"{PREFIX}/alert/#"], tls_context=context) as sub:
            hub.emit(make_alert(2))
            arrived = await eventually(lambda: bool(alert_lines(sub)), 4.0)
        last_error = publisher.stats.last_error
    errors = [
        r.getMessage() for r in caplog.records if r.name.startswith("vts") and r.levelno >= logging.ERROR
    ]
    assert arrived, f"no delivery within 4 s after the broker came back; last error {last_error!r}; {errors}"
    assert not errors, errors


# -- URLs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["se#cret-Pw", "ab/cdEF+gh=", "1234/5678"],  # generated passwords often hold / + = #
)
def test_a_password_with_url_delimiters_never_reaches_the_error_message(password: str) -> None:
    url = f"mqtt://vts:{password}@broker.example:1883"
    try:
        settings = settings_from_url(url)
    except MqttUrlError as e:
        message = str(e)
        secret_parts = [
            p for p in password.replace("#", " ").replace("/", " ").replace("?", " ").split() if p
        ]
        leaked = [p for p in secret_parts if p in message]
        assert not leaked, f"the error message shows the password: {message}"
    else:
        # or it is understood as the user meant it
        assert settings.host == "broker.example" and settings.password is not None
        assert settings.password.get_secret_value() == password
        assert password not in describe(settings)


def test_mask_url_hides_a_password_that_urlsplit_misreads() -> None:
    assert "cret" not in mask_url("mqtt://vts:se#cret@broker.example:1883")


def test_percent_encoded_credentials_and_ipv6_host() -> None:
    s = settings_from_url("mqtts://us%40er:p%2Fa%23ss%3F@[::1]:8884/my/prefix?insecure=1")
    assert s.username == "us@er" and s.password is not None and s.password.get_secret_value() == "p/a#ss?"
    assert s.host == "::1" and s.port == 8884 and s.tls and s.tls_insecure and s.prefix == "my/prefix"
    assert "p/a#ss?" not in describe(s) and "***" in describe(s)


@pytest.mark.parametrize(
    "url", ["mqtt://broker.example:1883/vts/+/v1", "mqtt://broker.example:1883?prefix=vts/%23"]
)
def test_a_prefix_with_wildcards_is_refused_with_a_clear_message(url: str) -> None:
    # paho refuses to publish to a topic with + or #: every alert would fail, forever
    with pytest.raises(MqttUrlError):
        settings_from_url(url)


def test_a_prefix_with_wildcards_in_the_config_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        MqttSettings(host="broker.example", prefix="vts/#")


def test_port_zero_is_refused_not_silently_1883() -> None:
    with pytest.raises(MqttUrlError):
        parse_mqtt_url("mqtt://broker.example:0")


# -- vts subscribe ----------------------------------------------------------------------------------


async def publish_raw(broker: Broker, items: list[tuple[str, bytes, bool]]) -> None:
    async with aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for topic, payload, retain in items:
            await client.publish(topic, payload, qos=1, retain=retain)


async def subscribe_until(
    broker: Broker,
    alert_filter: AlertFilter,
    count: int,
    later: list[tuple[str, bytes, bool]],
    *,
    as_json: bool = True,
) -> list[str]:
    out = io.StringIO()
    ready = asyncio.Event()
    settings = settings_from_url(broker.url).model_copy(update={"prefix": PREFIX})
    printer = AlertPrinter(out, as_json=as_json, colour=False)
    task = asyncio.create_task(run_subscriber(settings, alert_filter, printer, count=count, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        await publish_raw(broker, later)
        assert await asyncio.wait_for(task, 3) == count
    finally:
        task.cancel()
    return out.getvalue().splitlines()


@pytest.mark.mqtt
@pytest.mark.parametrize(
    "garbage",
    [
        {"id": "g1", "severity": "warning", "type": ["zone_entry"], "state": "raised", "time": "t"},
        {"id": "g2", "severity": "warning", "type": "zone_entry", "zone": {"a": 1}, "state": "raised"},
        {"id": "g3", "severity": "warning", "type": "zone_entry", "mmsi": [1], "zone": "security_dpworld"},
    ],
)
async def test_subscriber_survives_a_malformed_alert_with_a_filter(
    mosquitto: Broker, garbage: dict[str, Any]
) -> None:
    # anyone allowed to publish on the broker (or a buggy bridge) can send this; the subscriber
    # must skip it and keep printing, as it does for payloads that are not JSON
    good = make_alert(1)
    alert_filter = AlertFilter(types={"zone_entry"}, zones={"security_dpworld"}, mmsis={good.mmsi})
    later = [
        (f"{PREFIX}/alert/warning/zone_entry/1", json.dumps(garbage).encode(), False),
        (f"{PREFIX}/alert/warning/zone_entry/{good.mmsi}", good.to_json().encode(), False),
    ]
    lines = await subscribe_until(mosquitto, alert_filter, 1, later)
    assert lines == [good.to_json()]


@pytest.mark.mqtt
async def test_subscriber_skips_non_json_non_utf8_and_empty_retained(mosquitto: Broker) -> None:
    good = make_alert(2)
    await publish_raw(mosquitto, [(f"{PREFIX}/alert-state/deadbeef", b"\xff\xfe not json", True)])
    later = [
        (f"{PREFIX}/alert/warning/zone_entry/1", b"\xff\xfe\x00", False),
        (f"{PREFIX}/alert/warning/zone_entry/1", b"[1, 2]", False),
        (f"{PREFIX}/alert/warning/zone_entry/1", b"", False),
        (f"{PREFIX}/alert/warning/zone_entry/1", b"[" * 100_000 + b"]" * 100_000, False),  # too deep
        (f"{PREFIX}/alert/warning/zone_entry/{good.mmsi}", good.to_json().encode(), False),
    ]
    lines = await subscribe_until(mosquitto, AlertFilter(), 1, later)
    assert lines == [good.to_json()]


@pytest.mark.mqtt
async def test_subscriber_mmsi_filter_matches_the_other_vessel_of_a_pair_alert(mosquitto: Broker) -> None:
    pair = make_alert(3, type_="alongside")
    pair.other_mmsi = 760_999_999
    later = [(f"{PREFIX}/alert/warning/alongside/{pair.mmsi}", pair.to_json().encode(), False)]
    # "only alerts about this MMSI": an alongside alert is about both vessels
    lines = await subscribe_until(mosquitto, AlertFilter(mmsis={760_999_999}), 1, later)
    assert lines == [pair.to_json()]


def test_readable_line_is_one_line_even_with_control_characters_in_the_payload() -> None:
    printer = AlertPrinter(io.StringIO(), as_json=False, colour=False)
    a = make_alert(4).to_dict()
    a["name"] = "EVIL\n2026-01-01 00:00:00.000  EMERGENCY raised fake"
    a["message"] = "x\x1b[2Jy"
    line = printer.readable(a, active=False)
    assert "\n" not in line and "\x1b" not in line, repr(line)


# -- publisher with a core (retained state) --------------------------------------------------------
class FakeEngine:
    def __init__(self) -> None:
        self.held: dict[tuple[str, int, int | None, str | None], Alert] = {}

    def active(self) -> list[Alert]:
        return sorted(self.held.values(), key=lambda a: (a.started, a.id))

    def active_alert(
        self, type: str, mmsi: int, other_mmsi: int | None = None, zone: str | None = None
    ) -> Alert | None:
        return self.held.get((type, mmsi, other_mmsi, zone))


class FakeCore(ListenerHub):
    """Listener registration plus the engine queries the publisher makes."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = FakeEngine()

    def step(self, alert: Alert) -> None:
        key = (alert.type, alert.mmsi, alert.other_mmsi, alert.zone)
        if alert.state == "cleared":
            self.engine.held.pop(key, None)
        else:
            self.engine.held[key] = alert
        self.emit(alert)


@pytest.mark.mqtt
async def test_raise_and_clear_both_queued_while_down_leave_no_retained_state(
    mosquitto_factory: BrokerFactory,
) -> None:
    broker = mosquitto_factory(persistent=True)
    # an earlier run left a retained state for an alert that is not active any more
    stale = f"{PREFIX}/alert-state/00000000deadbeef"
    await publish_raw(broker, [(stale, b'{"id":"00000000deadbeef"}', True)])
    broker.stop()
    core = FakeCore()
    held = make_alert(1, type_="loitering")
    async with MqttPublisher(fast_settings(broker.url), core, None) as publisher:  # type: ignore[arg-type]
        core.step(make_alert(2, type_="loitering"))  # raised and cleared before the broker came up
        core.step(make_alert(2, "cleared", type_="loitering"))
        core.step(held)  # still active
        await asyncio.sleep(0.3)
        broker.start()
        assert await publisher.flush(5)
        assert await eventually(lambda: not publisher._resync_needed, 3.0)
    state = await retained(broker, f"{PREFIX}/alert-state/+")
    assert state == {f"{PREFIX}/alert-state/{held.id}": held.to_json().encode()}


@pytest.mark.mqtt
async def test_a_write_only_broker_account_does_not_stall_new_alerts_after_connecting(
    mosquitto_factory: BrokerFactory,
) -> None:
    # a least-privilege account that may publish under the prefix but not subscribe (a common set-up)
    broker = start_with_acl(mosquitto_factory, f"topic write {PREFIX}/#\n")
    core = FakeCore()
    settings = fast_settings(broker.url, publish_timeout_s=30.0, flush_timeout_s=0.5)
    async with MqttPublisher(settings, core, None) as publisher:  # type: ignore[arg-type]
        assert await eventually(lambda: publisher.stats.connected, 3.0)
        await asyncio.sleep(0.3)  # connected, status sent, the retained-state check under way
        core.step(make_alert(1))  # an alarm raised now
        delivered = await eventually(lambda: publisher.stats.alerts_delivered == 1, 3.0)
        if publisher._task is not None:
            publisher._task.cancel()  # do not wait 30 s for the stalled check at exit
    assert delivered, "a new alert waited for the retained-state check (publish_timeout_s) to time out"


@pytest.mark.mqtt
@pytest.mark.parametrize(
    ("severity", "type_"),
    [("warning", "zone+entry"), ("alarm", "a/b#c"), ("caution", "zona_ñandú"), ("info", "")],
)
async def test_odd_characters_in_severity_and_type_give_valid_three_level_topics(
    mosquitto: Broker, severity: str, type_: str
) -> None:
    a = make_alert(5, type_=type_, severity=severity)
    outbox = MemoryOutbox()
    outbox.add(a)
    async with Collector(mosquitto, [f"{PREFIX}/alert/+/+/+"]) as sub:
        async with MqttPublisher(fast_settings(mosquitto.url), None, outbox) as publisher:
            publisher.notify()
            assert await publisher.flush(5)
        await sub.wait_until(lambda: bool(sub.messages), "the alert")
    assert bytes(sub.messages[0].payload).decode() == a.to_json()
    levels = str(sub.messages[0].topic)[len(PREFIX) + 1 :].split("/")
    assert len(levels) == 4 and levels[0] == "alert" and levels[3] == str(a.mmsi)
    assert all(lv and "+" not in lv and "#" not in lv for lv in levels)


@pytest.mark.mqtt
async def test_a_broker_that_hangs_mid_stream_then_resumes_loses_nothing_and_keeps_order(
    mosquitto_factory: BrokerFactory,
) -> None:
    import signal

    broker = mosquitto_factory(persistent=True)
    hub = ListenerHub()
    steps = [make_alert(n) for n in range(30)]
    settings = fast_settings(broker.url, publish_timeout_s=0.5, connect_timeout_s=0.5)
    async with Collector(broker, [f"{PREFIX}/alert/#"], session_id="hang-consumer") as sub:
        async with MqttPublisher(settings, hub, None) as publisher:  # type: ignore[arg-type]
            for step in steps[:10]:
                hub.emit(step)
            assert await publisher.flush(5)
            assert broker.process is not None
            broker.process.send_signal(signal.SIGSTOP)  # overloaded / swapped out: no PUBACK comes
            try:
                for step in steps[10:20]:
                    hub.emit(step)
                await asyncio.sleep(1.5)
            finally:
                broker.process.send_signal(signal.SIGCONT)
            for step in steps[20:]:
                hub.emit(step)
            assert await publisher.flush(8)
        await sub.wait_until(lambda: len(dedup(alert_lines(sub))) >= len(steps), "every alert", timeout=8)
    assert dedup(alert_lines(sub)) == [a.to_json() for a in steps]


@pytest.mark.mqtt
async def test_a_one_megabyte_alert_is_delivered_intact(mosquitto: Broker) -> None:
    big = make_alert(1)
    big.details = {"evidence": ["ñ" * 100] * 5_000}  # ~1 MB of UTF-8
    outbox = MemoryOutbox()
    outbox.add(big)
    outbox.add(make_alert(2))
    async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        async with MqttPublisher(fast_settings(mosquitto.url), None, outbox) as publisher:
            publisher.notify()
            assert await publisher.flush(5)
        await sub.wait_until(lambda: len(sub.messages) >= 2, "both alerts")
    assert bytes(sub.messages[0].payload).decode() == big.to_json()


# -- the in-memory outbox ----------------------------------------------------------------------------
def test_memory_outbox_keeps_order_and_ignores_unknown_marks() -> None:
    box = MemoryOutbox()
    seqs = [box.add(make_alert(n)) for n in range(5)]
    box.mark_delivered(seqs[2])
    box.mark_delivered(999)
    assert [s for s, _ in box.pending_delivery(10)] == [seqs[0], seqs[1], seqs[3], seqs[4]]
    assert box.pending_delivery(0) == []


def test_memory_outbox_forgets_an_active_alert_that_was_updated_recently() -> None:
    # the latest step of each not-cleared alert is what the resync re-publishes as retained state;
    # with many one-off (event) alerts it is bounded, but it evicts by first insertion, not by use
    box = MemoryOutbox(max_items=3)
    held = make_alert(1, type_="loitering")
    box.add(held)
    box.add(make_alert(2))
    box.add(make_alert(3))
    box.add(make_alert(1, "updated", type_="loitering"))  # the held alert is still current ...
    box.add(make_alert(4))  # ... and one more event alert arrives
    latest = box.get(held.id)
    assert latest is not None and latest.state == "updated", "the active alert's latest step was evicted"


@pytest.mark.mqtt
async def test_an_overflowing_memory_outbox_says_that_it_dropped_alerts(
    mosquitto_factory: BrokerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto_factory(start=False)  # the broker is down all along
    caplog.set_level(logging.INFO)
    hub = ListenerHub()
    async with MqttPublisher(fast_settings(broker.url, flush_timeout_s=0.1), hub, None) as publisher:  # type: ignore[arg-type]
        assert publisher._memory_outbox is not None
        publisher._memory_outbox.max_items = 3
        for n in range(5):
            hub.emit(make_alert(n))
        await asyncio.sleep(0.2)
        counters = publisher.counters()
    assert publisher._memory_outbox.dropped == 2
    said = caplog.text + json.dumps(counters)
    assert "drop" in said.lower(), f"2 alerts were dropped without a word; counters {counters}"


@pytest.mark.mqtt
@pytest.mark.parametrize("how", ["kill", "stop"])
async def test_subscriber_waits_for_a_tls_broker_that_restarts(mosquitto_tls: Broker, how: str) -> None:
    import ssl

    ca = str(mosquitto_tls.ca_file)
    settings = settings_from_url(f"mqtts://{mosquitto_tls.host}:{mosquitto_tls.port}?ca={ca}")
    settings = settings.model_copy(update={"prefix": PREFIX})
    out = io.StringIO()
    ready = asyncio.Event()
    printer = AlertPrinter(out, as_json=True, colour=False)
    task = asyncio.create_task(run_subscriber(settings, AlertFilter(), printer, count=1, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        ready.clear()
        getattr(mosquitto_tls, how)()
        await asyncio.sleep(0.3)
        mosquitto_tls.start()
        await asyncio.wait_for(ready.wait(), 5)  # a fatal "TLS check failed" would end the task instead
        a = make_alert(1)
        context = ssl.create_default_context(cafile=ca)
        async with aiomqtt.Client(mosquitto_tls.host, mosquitto_tls.port, tls_context=context) as client:
            await client.publish(f"{PREFIX}/alert/warning/zone_entry/{a.mmsi}", a.to_json(), qos=1)
        assert await asyncio.wait_for(task, 3) == 1
    finally:
        task.cancel()
    assert out.getvalue().splitlines() == [a.to_json()]


def test_subscribe_command_refuses_an_unknown_severity() -> None:
    import argparse

    from vts.mqtt.subscribe import configure_parser

    parser = argparse.ArgumentParser(prog="vts subscribe", exit_on_error=False)
    configure_parser(parser)
    with pytest.raises((SystemExit, argparse.ArgumentError)):
        parser.parse_args(["--severity", "critical"])
    assert parser.parse_args(["--severity", "alarm"]).severity == "alarm"


def test_a_ca_file_in_the_url_implies_tls_and_its_default_port() -> None:
    # "tls: implied by mqtts:// and by ca_file"; "port: default 1883, 8883 with TLS"
    s = settings_from_url("mqtt://broker.example?ca=/etc/vts/ca.pem")
    assert s.tls
    assert s.port == 8883, f"TLS to port {s.port}"


@pytest.mark.mqtt
async def test_subscribe_count_zero_does_not_wait_forever(mosquitto: Broker) -> None:
    settings = settings_from_url(mosquitto.url).model_copy(update={"prefix": PREFIX})
    printer = AlertPrinter(io.StringIO(), as_json=True, colour=False)
    try:
        printed = await asyncio.wait_for(run_subscriber(settings, AlertFilter(), printer, count=0), 2.0)
    except TimeoutError:
        pytest.fail("--count 0 ('exit after printing 0 alerts') never returns")
    assert printed == 0


@pytest.mark.mqtt
async def test_one_unreadable_step_in_the_store_does_not_block_the_outbox_forever(
    mosquitto: Broker, tmp_path: Any
) -> None:
    from vts.alerts.store import AlertStore

    store = AlertStore(tmp_path / "alerts.db")
    # a row written by another version of vts (or damaged): its JSON lacks a field
    store._db.execute(
        "INSERT INTO steps(alert_id, state, time, json) VALUES ('x', 'raised', 0, '{\"id\": \"x\"}')"
    )
    good = make_alert(1)
    store.record(good)
    store.commit()
    close_error: Exception | None = None
    async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        publisher = MqttPublisher(fast_settings(mosquitto.url, flush_timeout_s=0.2), None, store)
        await publisher.__aenter__()
        try:
            publisher.notify()
            arrived = await eventually(lambda: bool(alert_lines(sub)), 2.0)
        finally:
            try:
                await publisher.close()  # the daemon's shutdown path
            except Exception as e:
                close_error = e
                if publisher._task is not None:
                    publisher._task.cancel()
    assert arrived and close_error is None, (
        f"the good alert behind the unreadable row went out: {arrived}; "
        f"shutting the publisher down raised {close_error!r} (and left its task running)"
    )
    assert alert_lines(sub) == [good.to_json()]


# -- checks added with the fixes ---------------------------------------------------------------------
@contextlib.asynccontextmanager
async def dropping_front(broker: Broker, after_s: float) -> AsyncIterator[int]:
    """A front for `broker` that cuts every connection `after_s` seconds after it opened (a
    flapping link). Yields its port."""

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(broker.host, broker.port)
        pipes = [asyncio.create_task(pipe(reader, up_writer)), asyncio.create_task(pipe(up_reader, writer))]
        await asyncio.sleep(after_s)
        for task in pipes:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        writer.close()
        up_writer.close()

    server = await asyncio.start_server(handle, broker.host, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.mark.mqtt
async def test_a_flapping_connection_backs_off_and_warns_once(
    mosquitto: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vts.mqtt.publisher")
    retries: list[float] = []

    def retry_delays() -> list[float]:
        retries[:] = [
            float(r.getMessage().rsplit("retry in ", 1)[1].split(" ")[0])
            for r in caplog.records
            if "retry in " in r.getMessage()
        ]
        return retries

    async with dropping_front(mosquitto, 0.2) as port:
        settings = fast_settings(f"mqtt://{mosquitto.host}:{port}", flush_timeout_s=0.1)
        async with MqttPublisher(settings, None, MemoryOutbox()) as publisher:
            reached = await eventually(lambda: settings.retry_max_s in retry_delays(), 5.0)
            connections = publisher.stats.connections
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    # each session dropped at once: one outage, whose back-off grows as if it never connected
    assert reached and retries == sorted(retries), f"{connections} connections, retry delays {retries}"
    assert len(warnings) == 1 and "lost the connection to" in warnings[0], warnings


@pytest.mark.mqtt
async def test_an_alert_that_makes_an_mqtt311_broker_hang_up_is_set_aside(
    mosquitto_factory: BrokerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # MQTT 3.1.1 brokers do not announce their packet size limit: they just close the connection
    broker = mosquitto_factory(start=False)
    broker.extra_config.append("max_packet_size 20000")
    broker.start()
    huge = make_alert(1)
    huge.details = {"track": "x" * 50_000}
    normal = make_alert(2)
    outbox = MemoryOutbox()
    huge_seq = outbox.add(huge)
    outbox.add(normal)
    settings = fast_settings(broker.url, flush_timeout_s=0.5, protocol="3.1.1")
    async with Collector(broker, [f"{PREFIX}/alert/#"]) as sub:
        async with MqttPublisher(settings, None, outbox) as publisher:
            publisher.notify()
            arrived = await eventually(lambda: bool(alert_lines(sub)), 5.0)
            stats = publisher.stats
    assert arrived and [json.loads(line)["id"] for line in alert_lines(sub)] == [normal.id]
    assert stats.alerts_set_aside == 1 and stats.connections == 4
    assert [seq for seq, _ in outbox.pending_delivery(10)] == [huge_seq]  # not delivered: not ticked off
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and huge.id in errors[0] and "closed the connection" in errors[0], errors


@pytest.mark.mqtt
async def test_a_broker_refusing_alerts_gets_one_error_and_vessels_and_status_go_on(
    mosquitto_factory: BrokerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broker = start_with_acl(mosquitto_factory, f"topic readwrite {PREFIX}/status\n")
    outbox = MemoryOutbox()
    outbox.add(make_alert(1))
    outbox.add(make_alert(2))
    settings = fast_settings(broker.url, flush_timeout_s=0.5, auth_retry_s=0.2, status_interval_s=0.1)
    async with MqttPublisher(settings, None, outbox) as publisher:
        publisher.notify()
        await asyncio.sleep(1.0)  # about five more attempts
        assert publisher.stats.connected and publisher.stats.connections == 1
        assert not await publisher.flush(5)  # refused: at once, not after 5 s
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert outbox.pending_count() == 2
    assert len(errors) == 1 and "refused alert" in errors[0] and "Not authorized" in errors[0], errors
    status = await retained(broker, f"{PREFIX}/status")
    assert json.loads(status[f"{PREFIX}/status"])["status"] == "offline"  # said at the end


class FlakyOutbox(MemoryOutbox):
    """An outbox (a store) that cannot be read for its first `failures` attempts."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def pending_delivery(self, limit: int) -> list[tuple[int, Alert]]:
        if self.failures > 0:
            self.failures -= 1
            raise sqlite3.DatabaseError("database disk image is malformed")
        return super().pending_delivery(limit)


@pytest.mark.mqtt
async def test_an_outbox_that_cannot_be_read_for_a_while_holds_alerts_without_stopping(
    mosquitto: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = FlakyOutbox(failures=1_000_000)
    outbox.add(make_alert(1))
    async with asyncio.timeout(15), Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        publisher = MqttPublisher(fast_settings(mosquitto.url, flush_timeout_s=0.2), None, outbox)
        async with publisher:
            publisher.notify()
            assert not await publisher.flush(0.3)  # it cannot tell: no exception
            assert publisher._task is not None and not publisher._task.done()
            outbox.failures = 0  # the store is readable again
            assert await publisher.flush(5)
            assert publisher.stats.connections == 1  # the connection was never given up for it
        await sub.wait_until(lambda: bool(alert_lines(sub)), "the alert")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot read the alert outbox" in errors[0], errors
    assert any("delivered again" in r.getMessage() for r in caplog.records)


@pytest.mark.mqtt
async def test_an_outbox_that_never_reads_does_not_make_close_raise(mosquitto: Broker) -> None:
    outbox = FlakyOutbox(failures=1_000_000)
    publisher = MqttPublisher(fast_settings(mosquitto.url, flush_timeout_s=0.2), None, outbox)
    await publisher.__aenter__()
    await asyncio.wait_for(publisher.close(), 5)  # raises nothing
    assert publisher._task is None


@pytest.mark.mqtt
async def test_an_alert_that_cannot_be_encoded_is_set_aside_and_the_next_goes_out(
    mosquitto: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    bad = make_alert(1)
    bad.details = {"evidence": object()}  # not JSON
    good = make_alert(2)
    outbox = MemoryOutbox()
    outbox.add(bad)
    outbox.add(good)
    async with Collector(mosquitto, [f"{PREFIX}/alert/#"]) as sub:
        async with MqttPublisher(fast_settings(mosquitto.url), None, outbox) as publisher:
            publisher.notify()
            assert await publisher.flush(5)
        await sub.wait_until(lambda: bool(alert_lines(sub)), "the good alert")
    assert alert_lines(sub) == [good.to_json()]
    assert any(bad.id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


@pytest.mark.mqtt
async def test_subscriber_misses_no_alert_raised_while_it_subscribes(
    mosquitto: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an alert raised right after the first SUBSCRIBE completes: its alert-state message is live
    # (not retained for this subscriber), so only alert/# can bring it
    a = make_alert(1)
    subscribe = aiomqtt.Client.subscribe
    calls: list[Any] = []

    async def subscribe_then_raise(self: aiomqtt.Client, *args: Any, **kwargs: Any) -> Any:
        result = await subscribe(self, *args, **kwargs)
        calls.append(args)
        if len(calls) == 1:
            await publish_raw(
                mosquitto,
                [
                    (f"{PREFIX}/alert/warning/zone_entry/{a.mmsi}", a.to_json().encode(), False),
                    (f"{PREFIX}/alert-state/{a.id}", a.to_json().encode(), True),
                ],
            )
        return result

    monkeypatch.setattr(aiomqtt.Client, "subscribe", subscribe_then_raise)
    settings = settings_from_url(mosquitto.url).model_copy(update={"prefix": PREFIX})
    out = io.StringIO()
    printer = AlertPrinter(out, as_json=True, colour=False)
    printed = await asyncio.wait_for(run_subscriber(settings, AlertFilter(), printer, count=1), 5)
    assert printed == 1 and out.getvalue().splitlines() == [a.to_json()]


def test_subscribe_refuses_count_zero_and_a_wildcard_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from vts.mqtt.subscribe import configure_parser, main

    parser = argparse.ArgumentParser(prog="vts subscribe")
    configure_parser(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--count", "0"])
    assert "--count: must be 1 or more" in capsys.readouterr().err
    args = parser.parse_args(["--broker", "mqtt://127.0.0.1:1", "--prefix", "vts/+/v1"])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--prefix" in err and "'+'" in err


def test_an_at_sign_after_the_host_is_refused_with_a_clear_message() -> None:
    with pytest.raises(MqttUrlError, match="percent-encoded"):
        settings_from_url("mqtt://broker.example:1883?client_id=vts@callao")
    s = settings_from_url("mqtt://broker.example:1883?client_id=vts%40callao")
    assert s.client_id == "vts@callao" and s.host == "broker.example"


def test_an_encrypted_client_key_is_a_clear_error_not_a_terminal_prompt(tmp_path: Path) -> None:
    """No passphrase can be configured: OpenSSL must not ask for one on the terminal (it would
    block the daemon's event loop); the key is refused with a message saying why."""
    import shutil
    import subprocess

    from vts.mqtt.publisher import MqttConfigurationError, make_tls_context

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-keyout", str(key), "-out", str(cert),
         "-passout", "pass:secret", "-subj", "/CN=vts", "-days", "1"],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    settings = MqttSettings(host="127.0.0.1", tls=True, cert_file=str(cert), key_file=str(key))
    with pytest.raises(MqttConfigurationError, match="encrypted key"):
        make_tls_context(settings)


async def test_shutdown_does_not_wait_on_a_broker_that_never_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a reliability test: with a "broker" that takes the TCP connection and never answers,
    SIGTERM took 6-7 s: the publisher's close waited its 5 s grace for a task stuck in a 10 s connect
    attempt. A publisher that is not connected has no one to say goodbye to: it stops at once. (The
    grace is made huge here: waiting on it would run into the test's guard.)"""
    import vts.mqtt.publisher as publisher_module

    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # never a CONNACK

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(publisher_module, "CLOSE_GRACE_S", 120.0)
    settings = fast_settings(f"mqtt://127.0.0.1:{port}", connect_timeout_s=60.0, flush_timeout_s=0.1)
    try:
        async with asyncio.timeout(30):
            async with MqttPublisher(settings, FakeCore(), None) as publisher:  # type: ignore[arg-type]
                while not accepted:  # the connect attempt is waiting for its CONNACK
                    await asyncio.sleep(0.02)
                assert not publisher.stats.connected
            # (leaving the block closes it)
    finally:
        server.close()
        for w in accepted:
            w.close()


async def test_an_outage_says_whether_a_session_was_lost_or_never_made(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broker that is not there "cannot be reached"; a session that was up and dropped is "lost"
    (the flapping test above). Found by a reliability test: a dropped session read "cannot reach ...
    (Disconnected during message iteration)"."""
    import socket

    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    caplog.set_level(logging.INFO, logger="vts.mqtt.publisher")
    settings = fast_settings(f"mqtt://127.0.0.1:{port}", flush_timeout_s=0.1)
    async with MqttPublisher(settings, None, MemoryOutbox()) as publisher:
        assert await eventually(lambda: publisher.stats.failed_connections >= 1, 10.0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings and "cannot reach" in warnings[0] and "lost the connection" not in " ".join(warnings)
