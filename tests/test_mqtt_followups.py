"""Follow-ups of the MQTT review.

1. `vts subscribe` falls back to MQTT 3.1.1 like the publisher (one `ProtocolNegotiation` for both),
   and takes ``--protocol``. The installed Mosquitto (2.0.11) cannot refuse MQTT 5 (its
   ``accept_protocol_versions`` came with 2.1), so a small front on 127.0.0.1 answers an MQTT 5
   CONNECT as a 3.1.1-only broker would and passes MQTT 3.1.1 on to the real broker.
2. ``vts subscribe --type`` refuses a type vts never raises, naming the closest one.
3. More retained alert states than a broker sends one client at once (Mosquitto: 20 in flight +
   ``max_queued_messages`` 1000; the rest, end marker included, dropped) are all cleaned up, and
   `vts subscribe` lists them all.
4. A publisher that leaves without its offline status acknowledged (close() gave up on a stalled
   session) hangs up without DISCONNECT, so the broker publishes the last will.
5. A connection attempt given up on (no CONNACK in time) is closed, not left open.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from aiomqtt import ProtocolVersion

from tests.fixtures.mqtt_broker import (
    CONNACK_311_UNACCEPTABLE_PROTOCOL,
    Broker,
    Front,
    mqtt311_only,
    retained,
)
from tests.test_mqtt_publisher import PREFIX, fast_settings, make_alert
from tests.test_review_mqtt import FakeCore, eventually
from vts.mqtt.checked_client import ProtocolNegotiation
from vts.mqtt.outbox import MemoryOutbox
from vts.mqtt.publisher import MqttPublisher
from vts.mqtt.subscribe import (
    AlertFilter,
    AlertPrinter,
    _settings,
    configure_parser,
    run_subscriber,
)
from vts.mqtt.urls import settings_from_url
from vts.rules.registry import known_alert_types, rule_classes


# -- 1. protocol fallback ---------------------------------------------------------------------------
def test_protocol_negotiation_auto_falls_back_once_and_fixed_settings_never_do() -> None:
    auto = ProtocolNegotiation("auto")
    assert auto.protocol == ProtocolVersion.V5
    assert not auto.refused(0x86)  # bad credentials: not a protocol matter
    assert auto.refused(0x84) and auto.protocol == ProtocolVersion.V311  # MQTT 5 form
    assert not auto.refused(1)  # already on 3.1.1: nothing older to try
    auto.no_answer()
    assert auto.protocol == ProtocolVersion.V311  # the broker said so: no more guessing

    guessing = ProtocolNegotiation("auto")
    guessing.no_answer()  # some 3.1.1 brokers hang up on an MQTT 5 CONNECT
    assert guessing.protocol == ProtocolVersion.V311
    guessing.no_answer()
    assert guessing.protocol == ProtocolVersion.V5
    guessing.connected()
    guessing.no_answer()
    assert guessing.protocol == ProtocolVersion.V5 and guessing.name == "5"

    for setting, version in (("5", ProtocolVersion.V5), ("3.1.1", ProtocolVersion.V311)):
        fixed = ProtocolNegotiation(setting)  # type: ignore[arg-type]
        assert fixed.protocol == version
        assert not fixed.refused(1) and not fixed.refused(0x84)
        fixed.no_answer()
        assert fixed.protocol == version


REFUSALS = {
    "mqtt311-connack": CONNACK_311_UNACCEPTABLE_PROTOCOL,  # an MQTT 3.1.1 broker (Mosquitto 1.x ...)
    "mqtt5-connack": bytes([0x20, 0x03, 0x00, 0x84, 0x00]),  # MQTT 5 form: 0x84 unsupported version
    "hang-up": b"",  # closes the connection without a word
}


async def subscribe_through(broker: Broker, front: Front, protocol: str | None) -> tuple[int, str]:
    """Run `vts subscribe` (its argument handling, then the subscriber) through `front`, publish
    one alert on the real broker, and return how many lines it printed and the line."""
    parser = argparse.ArgumentParser(prog="vts subscribe")
    configure_parser(parser)
    argv = ["--broker", f"mqtt://{broker.host}:{front.port}", "--prefix", PREFIX, "--json", "--count", "1"]
    args = parser.parse_args(argv + (["--protocol", protocol] if protocol else []))
    settings = _settings(args).model_copy(update={"connect_timeout_s": 0.5})
    out = io.StringIO()
    ready = asyncio.Event()
    printer = AlertPrinter(out, as_json=True, colour=False)
    task = asyncio.create_task(run_subscriber(settings, AlertFilter(), printer, count=1, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        a = make_alert(1)
        async with aiomqtt.Client(broker.host, broker.port) as client:
            await client.publish(f"{PREFIX}/alert/warning/zone_entry/{a.mmsi}", a.to_json(), qos=1)
        printed = await asyncio.wait_for(task, 10)
    finally:
        task.cancel()
    assert out.getvalue() == a.to_json() + "\n"
    return printed, out.getvalue()


@pytest.mark.mqtt
@pytest.mark.parametrize("refusal", list(REFUSALS), ids=list(REFUSALS))
async def test_subscribe_falls_back_to_mqtt_3_1_1_when_the_broker_refuses_mqtt_5(
    mosquitto: Broker, refusal: str
) -> None:
    async with mqtt311_only(mosquitto, REFUSALS[refusal]) as front:
        printed, _ = await subscribe_through(mosquitto, front, None)  # protocol auto
    assert printed == 1
    assert front.refused == 1  # one MQTT 5 attempt, then 3.1.1 for good


async def source_through(broker: Broker, front: Front, protocol: str, wait_s: float) -> str:
    """Run an mqtt feed source through `front` with `protocol` for up to `wait_s` (until connected);
    its state at the end."""
    from vts.config import load_config
    from vts.core import Core
    from vts.sources.mqtt import MqttSource
    from vts.sources.runner import CoreFeed
    from vts.sources.settings import SourceSettings

    settings = SourceSettings(
        name="old-broker",
        kind="mqtt",
        url=f"mqtt://{broker.host}:{front.port}?protocol={protocol}",
        topic="ais/#",
        reconnect_initial_s=0.05,
        reconnect_max_s=0.1,
    )
    source = MqttSource(settings)
    source.broker = source.broker.model_copy(update={"connect_timeout_s": 0.5})
    task = asyncio.create_task(source.run(CoreFeed(Core(load_config()))))
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                while source.status.state != "connected":
                    await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return source.status.state


@pytest.mark.mqtt
@pytest.mark.parametrize("refusal", list(REFUSALS), ids=list(REFUSALS))
async def test_an_mqtt_feed_falls_back_to_mqtt_3_1_1_as_the_publisher_does(
    mosquitto: Broker, refusal: str
) -> None:
    async with mqtt311_only(mosquitto, REFUSALS[refusal]) as front:
        assert await source_through(mosquitto, front, "auto", 20.0) == "connected"
    assert front.refused == 1  # one MQTT 5 attempt, then 3.1.1 for good


@pytest.mark.mqtt
async def test_an_mqtt_feed_set_to_mqtt_5_never_falls_back(mosquitto: Broker) -> None:
    async with mqtt311_only(mosquitto, REFUSALS["mqtt311-connack"]) as front:
        assert await source_through(mosquitto, front, "5", 1.5) != "connected"
    assert front.refused >= 2  # it kept asking for MQTT 5, as configured


@pytest.mark.mqtt
async def test_subscribe_protocol_flag_goes_straight_to_mqtt_3_1_1(mosquitto: Broker) -> None:
    async with mqtt311_only(mosquitto, REFUSALS["mqtt311-connack"]) as front:
        printed, _ = await subscribe_through(mosquitto, front, "3.1.1")
    assert printed == 1 and front.refused == 0  # never tried MQTT 5


def test_subscribe_protocol_flag_overrides_the_url_and_refuses_other_versions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser(prog="vts subscribe")
    configure_parser(parser)
    url = "mqtt://127.0.0.1:1883?protocol=3.1.1"
    assert _settings(parser.parse_args(["--broker", url])).protocol == "3.1.1"
    assert _settings(parser.parse_args(["--broker", url, "--protocol", "5"])).protocol == "5"
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--protocol", "4"])
    assert exit_info.value.code == 2 and "--protocol" in capsys.readouterr().err


# -- 2. --type --------------------------------------------------------------------------------------
def test_subscribe_refuses_an_unknown_alert_type_and_names_the_closest() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vts",
            "subscribe",
            "--broker",
            "mqtt://127.0.0.1:1",
            "--type",
            "cpa,alongsde",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown alert type 'alongsde' (did you mean 'alongside'?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_subscribe_type_takes_the_types_vts_raises() -> None:
    parser = argparse.ArgumentParser(prog="vts subscribe")
    configure_parser(parser)
    assert parser.parse_args([]).type == set()
    args = parser.parse_args(["--type", " zone_entry, cpa,zone_exit ,"])
    assert args.type == {"zone_entry", "cpa", "zone_exit"}


def test_every_alert_type_named_in_the_rules_is_known() -> None:
    """A rule raising a type other than its id must say so (`Rule.alert_types`), or
    `vts subscribe --type` would refuse that type."""
    rules = Path(__file__).resolve().parent.parent / "vts" / "rules"
    named: set[str] = set()
    for path in rules.glob("*.py"):
        text = path.read_text()
        named |= set(re.findall(r"\btype=\"(\w+)\"", text))
        named |= set(re.findall(r"^(?:TYPE|\s+id) = \"(\w+)\"", text, re.MULTILINE))
    known = set(known_alert_types())
    assert {"zone_entry", "zone_exit", "speeding", "alongside"} <= named
    rule_ids = {rule.id for rule in rule_classes().values()}
    assert named - rule_ids <= known, named - known


# -- 3. many retained alert states ------------------------------------------------------------------
LIMIT = 1020
"""What Mosquitto 2.0 sends one client at once with its defaults: 20 in flight + 1000 queued."""


async def publish_retained(broker: Broker, states: dict[str, bytes]) -> None:
    """Retained ``alert-state`` messages, by alert id, with QoS 1 as the publisher sends them (a
    broker sends a retained message with the QoS it was published with, at most)."""
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for alert_id, body in states.items():
            await client.publish(f"{PREFIX}/alert-state/{alert_id}", body, qos=1, retain=True)


def resync_done(publisher: MqttPublisher) -> bool:
    return not publisher._resync_needed and publisher._retained_query is None


@pytest.mark.mqtt
async def test_thousands_of_stale_retained_states_are_all_emptied(
    mosquitto: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.mqtt.publisher")
    stale = {f"{n:016x}": b'{"id":"left by an earlier run"}' for n in range(2 * LIMIT + 500)}
    await publish_retained(mosquitto, stale)
    core = FakeCore()
    held = make_alert(1, type_="loitering")
    settings = fast_settings(mosquitto.url, publish_timeout_s=1.0)  # a cut-short round ends after 1 s
    async with MqttPublisher(settings, core, None) as publisher:  # type: ignore[arg-type]
        core.step(held)
        assert await publisher.flush(10)
        assert await eventually(lambda: resync_done(publisher), 60)
    left = await retained(mosquitto, f"{PREFIX}/alert-state/+")
    assert left == {f"{PREFIX}/alert-state/{held.id}": held.to_json().encode()}, f"{len(left)} left"
    emptied = [r.getMessage() for r in caplog.records if "emptied" in r.getMessage()]
    assert len(emptied) >= 3  # one round per broker-full of states


@pytest.mark.mqtt
async def test_more_retained_states_of_active_alerts_than_the_broker_sends_end_the_clean_up(
    mosquitto: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vts.mqtt.publisher")
    core = FakeCore()
    active = [make_alert(n) for n in range(LIMIT + 100)]
    for a in active:  # active in the engine, their states retained by the broker already
        core.engine.held[(a.type, a.mmsi, a.other_mmsi, a.zone)] = a
    await publish_retained(mosquitto, {a.id: a.to_json().encode() for a in active})
    settings = fast_settings(mosquitto.url, publish_timeout_s=1.0)
    async with MqttPublisher(settings, core, None) as publisher:  # type: ignore[arg-type]
        assert await eventually(lambda: resync_done(publisher), 30)  # no endless asking again
        assert publisher.stats.connections == 1
    said = [r.getMessage() for r in caplog.records]
    assert any(f"sent {LIMIT} retained alert states, all of active alerts" in m for m in said), said
    assert not any("emptied" in m for m in said)


@pytest.mark.mqtt
async def test_subscribe_lists_more_active_alerts_than_the_broker_queues_for_a_client(
    mosquitto: Broker,
) -> None:
    active = [make_alert(n) for n in range(LIMIT + 480)]
    await publish_retained(mosquitto, {a.id: a.to_json().encode() for a in active})
    settings = settings_from_url(mosquitto.url).model_copy(update={"prefix": PREFIX})
    out = io.StringIO()
    printer = AlertPrinter(out, as_json=True, colour=False)
    task = asyncio.create_task(run_subscriber(settings, AlertFilter(), printer, count=len(active)))
    try:
        await asyncio.wait_for(asyncio.shield(task), 20)
    except TimeoutError:
        pass
    finally:
        task.cancel()
    printed = {json.loads(line)["id"] for line in out.getvalue().splitlines()}
    assert len(printed) == len(active), f"{len(printed)} of {len(active)} active alerts listed"


# -- 4. the status when close() gives up --------------------------------------------------------------
@contextlib.asynccontextmanager
async def ack_stalling_front(broker: Broker) -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A front for `broker` that passes everything on until the event is set, then holds back what
    the broker sends (its PUBACKs: a congested link, an overloaded broker) while still passing on
    what the client sends. A client that closes the connection closes it to the broker too.
    Yields its port and the event."""
    stall = asyncio.Event()

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, down: bool) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(65536):
                if not (down and stall.is_set()):
                    dst.write(data)
                    await dst.drain()
        dst.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(broker.host, broker.port)
        await asyncio.gather(pipe(reader, up_writer, down=False), pipe(up_reader, writer, down=True))

    server = await asyncio.start_server(handle, broker.host, 0)
    try:
        yield server.sockets[0].getsockname()[1], stall
    finally:
        server.close()


async def status_of(broker: Broker) -> str | None:
    state = await retained(broker, f"{PREFIX}/status", settle=0.2)
    body = state.get(f"{PREFIX}/status")
    return None if body is None else str(json.loads(body)["status"])


async def status_eventually(broker: Broker, wanted: str, timeout: float = 5.0) -> bool:
    """True as soon as the retained status is `wanted`; False after `timeout` s (a hang guard)."""
    async with asyncio.timeout(timeout + 5):
        deadline = asyncio.get_running_loop().time() + timeout
        while await status_of(broker) != wanted:
            if asyncio.get_running_loop().time() > deadline:
                return False
    return True


@pytest.mark.mqtt
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_status_goes_offline_when_close_gives_up_on_a_stalled_session(
    mosquitto: Broker, protocol: str
) -> None:
    core = FakeCore()
    async with ack_stalling_front(mosquitto) as (port, stall):
        settings = fast_settings(f"mqtt://{mosquitto.host}:{port}", protocol=protocol, publish_timeout_s=30.0)
        publisher = MqttPublisher(settings, core, None)  # type: ignore[arg-type]
        await publisher.__aenter__()
        try:
            assert await eventually(lambda: publisher.stats.connected and resync_done(publisher), 5)
            assert await status_eventually(mosquitto, "online")
            stall.set()  # from now on no PUBACK reaches the publisher
            core.step(make_alert(1))
            await asyncio.sleep(0.2)  # the alert is in flight
        finally:
            # flush gives up at once; the session does not end within close()'s grace (5 s), so
            # close() cancels it: no offline status was acknowledged
            await asyncio.wait_for(publisher.close(flush_timeout=0.2), 20)
        # the connection to the broker is still open (through the front) until the publisher leaves
        assert await status_eventually(mosquitto, "offline"), "status still 'online' after vts left"


@pytest.mark.mqtt
async def test_a_clean_close_still_says_offline_itself_and_leaves_with_disconnect(mosquitto: Broker) -> None:
    """The will is for a publisher gone without a word: after its own offline status, the broker
    gets DISCONNECT and drops the will (its log says so)."""
    async with MqttPublisher(fast_settings(mosquitto.url), None, MemoryOutbox()) as publisher:
        assert await eventually(lambda: publisher.stats.connected, 5)
    assert await status_of(mosquitto) == "offline"
    log_text = mosquitto.log_path.read_text()
    client_id = fast_settings(mosquitto.url).client_id
    assert f"Received DISCONNECT from {client_id}" in log_text


# -- a connection attempt given up on ----------------------------------------------------------------
@dataclass
class SlowFront:
    port: int
    closed_by_client: list[int]
    """The connections (numbered from 0) the client closed itself (not after the front did)."""


@contextlib.asynccontextmanager
async def slow_first_answer_front(broker: Broker, delay: float) -> AsyncIterator[SlowFront]:
    """A front for `broker` that passes on the broker's answers to the first connection only after
    `delay` seconds (a CONNACK later than the client waits for), then everything at once."""
    count = 0
    closed_by_front: set[int] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        n, count = count, count + 1
        up_reader, up_writer = await asyncio.open_connection(broker.host, broker.port)

        async def up() -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    up_writer.write(data)
                    await up_writer.drain()
                if n not in closed_by_front:
                    front.closed_by_client.append(n)
            up_writer.close()

        async def down() -> None:
            if n == 0:
                await asyncio.sleep(delay)
            with contextlib.suppress(OSError):
                while data := await up_reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            closed_by_front.add(n)  # the broker ended it (it hands the client id to a new connection)
            writer.close()

        await asyncio.gather(up(), down())

    server = await asyncio.start_server(handle, broker.host, 0)
    front = SlowFront(server.sockets[0].getsockname()[1], [])
    try:
        yield front
    finally:
        server.close()


@pytest.mark.mqtt
async def test_a_connection_attempt_that_timed_out_is_closed_not_left_open(mosquitto: Broker) -> None:
    """aiomqtt gives up waiting for the CONNACK but leaves the connection open: a CONNACK that comes
    later makes it a connection nobody reads (kept alive by the MQTT library, holding the client id
    until the broker hands it to the next attempt). The publisher closes it."""
    async with slow_first_answer_front(mosquitto, 1.0) as front:
        settings = fast_settings(f"mqtt://{mosquitto.host}:{front.port}", connect_timeout_s=0.3)
        async with MqttPublisher(settings, None, MemoryOutbox()) as publisher:
            assert await eventually(lambda: publisher.stats.connected, 5)
            assert publisher.stats.failed_connections >= 1  # the first attempt timed out
            closed = await eventually(lambda: 0 in front.closed_by_client, 3)
    assert closed, "the connection given up on was left open"


class _SlowBroker:
    """A client whose broker sends the retained alert states slowly (a loaded machine, a slow
    link): one every `gap_s`, then (`marker`) the status message that ends them."""

    def __init__(
        self, publisher: MqttPublisher, ids: list[str], gap_s: float, *, marker: bool = True
    ) -> None:
        self.publisher, self.ids, self.gap_s, self.marker = publisher, ids, gap_s, marker
        self.delivery: asyncio.Task[None] | None = None

    async def subscribe(self, _filters: object) -> list[int]:
        self.delivery = asyncio.create_task(self._deliver())
        return [1, 1]

    async def unsubscribe(self, _filters: object) -> None:
        return None

    async def _deliver(self) -> None:
        topics, inbox = self.publisher.topics, self.publisher._inbox
        assert inbox is not None
        for mid, alert_id in enumerate(self.ids):
            await asyncio.sleep(self.gap_s)
            inbox.put_nowait(aiomqtt.Message(topics.alert_state(alert_id), b"{}", 1, True, mid, None))
        if self.marker:
            await asyncio.sleep(self.gap_s)
            inbox.put_nowait(aiomqtt.Message(topics.status, b"online", 1, True, 0, None))


async def test_retained_states_arriving_slowly_are_all_read() -> None:
    """Ten states a quarter of a second apart take longer than publish_timeout_s (1 s) in all, but
    no pause lasts that long: every one is read, and the answer is complete (it was cut at 1 s)."""
    settings = fast_settings("mqtt://127.0.0.1:1", publish_timeout_s=1.0)
    publisher = MqttPublisher(settings, FakeCore(), None)  # type: ignore[arg-type]
    ids = [f"{n:016x}" for n in range(10)]
    answer = await publisher._retained_alert_states(_SlowBroker(publisher, ids, 0.25))  # type: ignore[arg-type]
    assert answer is not None and answer.complete and answer.ids == set(ids)


async def test_a_broker_that_goes_quiet_ends_the_reading_after_one_pause() -> None:
    """Two states, then nothing (the rest and the marker dropped): the reading ends, cut short."""
    settings = fast_settings("mqtt://127.0.0.1:1", publish_timeout_s=0.5)
    publisher = MqttPublisher(settings, FakeCore(), None)  # type: ignore[arg-type]
    broker = _SlowBroker(publisher, ["a" * 16, "b" * 16], 0.1, marker=False)
    answer = await publisher._retained_alert_states(broker)  # type: ignore[arg-type]
    assert answer is not None and not answer.complete and answer.ids == {"a" * 16, "b" * 16}
