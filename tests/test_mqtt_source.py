"""AIS in over MQTT: raw NMEA lines published to a topic reach the core."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiomqtt
import pytest

from tests.fixtures.mqtt_broker import Broker
from tests.fixtures.mqtt_scenario import speeding_ships
from vts.config import load_config
from vts.core import Core
from vts.sources.mqtt import NOT_NMEA, MqttSource, lines_of
from vts.sources.runner import SourceUnavailable
from vts.sources.settings import SourceSettings


class CoreSink:
    """The part of the source runner's sink an mqtt source uses: lines into a core."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.lines = 0

    def feed_line(self, line: bytes, source: str, received: float | None, time_offset: float = 0.0) -> None:
        self.lines += 1
        self.core.feed_line(line, source, received, time_offset)

    def event_time(self, source: str) -> float | None:
        return self.core.now

    def event_span(self, source: str) -> tuple[float | None, float | None]:
        return (None, self.core.now)


def test_lines_of_plain_multi_line_and_ais_catcher_json() -> None:
    assert lines_of(b"!AIVDM,1\r\n!AIVDM,2\n\n") == ([b"!AIVDM,1", b"!AIVDM,2"], 0)
    assert lines_of(b'{"nmea": ["!AIVDM,3"], "mmsi": 1}') == ([b"!AIVDM,3"], 0)
    assert lines_of(b'{"mmsi": 1}') == ([], 1)
    assert lines_of(b"{not json") == ([], 1)


@pytest.mark.mqtt
async def test_mqtt_source_feeds_lines_into_a_core(mosquitto: Broker) -> None:
    core = Core(load_config())
    sink = CoreSink(core)
    settings = SourceSettings(
        name="remote-north", kind="mqtt", host=mosquitto.host, port=mosquitto.port, topic="ais/+/nmea"
    )
    source = MqttSource(settings)
    task = asyncio.create_task(source.run(sink))
    try:
        while source.status.state != "connected":
            await asyncio.sleep(0.02)
        lines = speeding_ships(2)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as pub:
            # a receiver sending one line per message, another batching lines, plus junk
            for line in lines[:40]:
                await pub.publish("ais/north/nmea", line.encode(), qos=1)
            await pub.publish("ais/south/nmea", "\n".join(lines[40:]).encode(), qos=1)
            await pub.publish("ais/south/nmea", json.dumps({"no": "nmea"}).encode(), qos=1)
        async with asyncio.timeout(10):
            while sink.lines < len(lines) or source.status.drops[NOT_NMEA] < 1:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert source.status.lines == len(lines)
    assert core.ingest.stats.messages == len(lines)
    assert core.ingest.stats.by_source["remote-north"].lines == len(lines)
    assert {v.mmsi for v in core.tracker.vessels()} == {760_555_101, 760_555_102}
    assert core.engine.stats.raised >= 2  # the speeding alerts of the scenario


@pytest.mark.mqtt
async def test_mqtt_source_survives_refused_credentials(
    mosquitto_auth: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    settings = SourceSettings(
        name="bad-creds",
        kind="mqtt",
        host=mosquitto_auth.host,
        port=mosquitto_auth.port,
        topic="ais/#",
        reconnect_initial_s=0.05,
        reconnect_max_s=0.1,
    )
    source = MqttSource(settings)
    task = asyncio.create_task(source.run(CoreSink(Core(load_config()))))
    await asyncio.sleep(0.8)
    assert not task.done() and source.status.failures >= 2 and source.status.state == "failed"
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("vts")]
    assert len(errors) == 1 and "refused the credentials" in errors[0].getMessage()


def test_mqtt_source_settings_mistakes_are_one_clear_message() -> None:
    with pytest.raises(ValueError, match="an mqtt source needs topic"):  # the config refuses it
        SourceSettings(name="no-topic", kind="mqtt", host="127.0.0.1")
    with pytest.raises(SourceUnavailable, match="needs a topic"):  # and so does a source built past it
        MqttSource(SourceSettings.model_construct(name="no-topic", kind="mqtt", host="127.0.0.1"))
    with pytest.raises(SourceUnavailable, match="scheme") as err:
        MqttSource(SourceSettings(name="bad-url", kind="mqtt", url="http://u:pw-123@h", topic="ais/#"))
    assert "pw-123" not in str(err.value)
    source = MqttSource(
        SourceSettings(name="ok", kind="mqtt", url="mqtts://u:pw-123@h?ca=/ca.pem", topic="a/#")
    )
    assert source.broker.tls and source.broker.port == 8883 and "pw-123" not in source.describe()


@pytest.mark.mqtt
async def test_lines_published_while_the_source_is_away_are_delivered_when_it_is_back(
    mosquitto: Broker,
) -> None:
    """Found by a reliability test: each reconnect opened a clean session, so the lines the broker
    accepted while the source was away (52 of 342 across a broker restart) were lost without a word.
    The source keeps a persistent session under a client id stable across reconnects and restarts:
    the broker queues QoS 1 messages for it while it is away and hands them over when it is back."""
    core = Core(load_config())
    sink = CoreSink(core)
    settings = SourceSettings(
        name="remote-north", kind="mqtt", host=mosquitto.host, port=mosquitto.port, topic="ais/+/nmea"
    )
    lines = speeding_ships(2)

    async def connected_source() -> tuple[MqttSource, asyncio.Task[None]]:
        source = MqttSource(settings)
        task = asyncio.create_task(source.run(sink))
        async with asyncio.timeout(10):
            while source.status.state != "connected":
                await asyncio.sleep(0.02)
        return source, task

    first, task = await connected_source()
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as pub:
        for line in lines[:20]:
            await pub.publish("ais/north/nmea", line.encode(), qos=1)
        async with asyncio.timeout(10):
            while sink.lines < 20:
                await asyncio.sleep(0.02)
        task.cancel()  # the source goes away (the connection drops, the daemon stops) ...
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for line in lines[20:]:  # ... while the receiver goes on publishing
            await pub.publish("ais/north/nmea", line.encode(), qos=1)
    second, task = await connected_source()  # back, under the same client id
    try:
        async with asyncio.timeout(10):
            while sink.lines < len(lines):
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert first.client_id == second.client_id
    assert sink.lines == len(lines) and second.status.lines == len(lines) - 20
    assert core.ingest.stats.messages == len(lines)


@pytest.mark.mqtt
@pytest.mark.parametrize("stable_after_s", [0.001, 3600.0])
async def test_the_back_off_starts_again_only_once_the_session_has_held(
    mosquitto: Broker, stable_after_s: float
) -> None:
    """As the TCP source's (found by a reliability test there: a server that takes the connection,
    sends a line and drops it was retried every 0.75 s for ever): lines on a session younger than
    `stable_after_s` do not reset the back-off; once it has held that long, they do, once."""
    settings = SourceSettings(
        name="steady",
        kind="mqtt",
        host=mosquitto.host,
        port=mosquitto.port,
        topic="ais/+/nmea",
        stable_after_s=stable_after_s,
    )
    source = MqttSource(settings)
    resets: list[int] = []
    source.backoff.reset = lambda: resets.append(1)  # type: ignore[method-assign]
    sink = CoreSink(Core(load_config()))
    task = asyncio.create_task(source.run(sink))
    try:
        async with asyncio.timeout(10):
            while source.status.state != "connected":
                await asyncio.sleep(0.02)
            async with aiomqtt.Client(mosquitto.host, mosquitto.port) as pub:
                for line in speeding_ships(1)[:5]:
                    await pub.publish("ais/north/nmea", line.encode(), qos=1)
            while sink.lines < 5:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(resets) == (1 if stable_after_s < 1 else 0)
