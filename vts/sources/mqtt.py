"""AIS in over MQTT: subscribe to a topic of raw NMEA lines (remote receivers feeding the daemon).

    sources:
      - name: north-receiver
        kind: mqtt
        url: mqtts://vts:secret@broker.callao.example?ca=/etc/vts/ca.pem   # or host: / port:
        topic: ais/north/nmea          # wildcards allowed: ais/+/nmea

Each message carries one or more NMEA lines (newline separated; tag blocks kept as they are). A
JSON message with an ``nmea`` list of sentences (AIS-catcher's MQTT output) is also understood.
The source reconnects for ever with back-off and jitter; each change of state is logged once, and
a broker that refuses the credentials gives one clear error (then slow retries). Passwords never
reach a log. It keeps a persistent session (`vts.mqtt.session`, client id `source_client_id`): the
broker queues the QoS 1 messages published while the source is away (a broker restart, a dropped
connection, the daemon restarted) and hands them over when it is back. A reliability test lost 52 of
342 lines across a broker restart when each reconnect opened a clean session.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from typing import Any

import aiomqtt
from aiomqtt import MqttError
from aiomqtt.exceptions import MqttConnectError

from vts.jsontext import loads
from vts.mqtt.checked_client import ProtocolNegotiation, is_no_answer
from vts.mqtt.client_log import QuietClientLogger
from vts.mqtt.publisher import (
    NO_DELAY,
    REFUSED_CREDENTIALS,
    MqttConfigurationError,
    is_tls_failure,
    make_tls_context,
    reason_code_value,
)
from vts.mqtt.session import persistent_session
from vts.mqtt.settings import MqttSettings
from vts.mqtt.urls import MqttUrlError, describe, settings_from_url
from vts.sources.base import MAX_LINE_BYTES, OVERLONG_LINE, Backoff, LineSink, Source
from vts.sources.runner import SourceUnavailable
from vts.sources.settings import SourceSettings

NOT_NMEA = "mqtt_not_nmea"
"""Drop reason: a JSON message without an ``nmea`` list of strings."""


def broker_settings(settings: SourceSettings) -> MqttSettings:
    """The broker of an mqtt source: its ``url`` when the settings have one, else host and port."""
    if settings.url:
        return settings_from_url(settings.url)
    return MqttSettings(host=settings.host or "localhost", port=settings.port or 1883)


def lines_of(payload: bytes) -> tuple[list[bytes], int]:
    """NMEA lines in one message, and how many pieces were junk."""
    text = payload.strip()
    if text.startswith(b"{"):
        try:
            body: Any = loads(text)
        except ValueError:  # junk, or nested deeper than the parser goes
            return [], 1
        nmea = body.get("nmea") if isinstance(body, dict) else None
        if isinstance(nmea, str):
            nmea = [nmea]
        if not isinstance(nmea, list) or not all(isinstance(s, str) for s in nmea):
            return [], 1
        lines: list[bytes] = []
        junk = 0
        for s in nmea:
            try:
                line = s.strip().encode()
            except UnicodeEncodeError:  # a lone surrogate (valid JSON, not text)
                junk += 1
                continue
            if line:
                lines.append(line)
        return lines, junk
    return [line for line in text.replace(b"\r", b"\n").split(b"\n") if line.strip()], 0


def source_client_id(name: str) -> str:
    """The client id of source `name` on this machine: the same across reconnects and restarts, so
    that the broker keeps its session and queues what is published while it is away; another
    machine running the same configuration gets its own (MQTT allows 23 characters for sure, and
    brokers take longer ids; characters outside letters, digits, '-' and '_' become '_')."""
    raw = f"vts-source-{name}-{socket.gethostname()}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:128]


class MqttSource(Source):
    kind = "mqtt"

    def __init__(self, settings: SourceSettings, *, backoff: Backoff | None = None) -> None:
        super().__init__(settings)
        if not settings.topic:
            raise SourceUnavailable(f"source {settings.name!r}: an mqtt source needs a topic")
        self.topic = settings.topic
        try:
            self.broker = broker_settings(settings)
        except (MqttUrlError, ValueError) as e:  # (ValueError: pydantic's, for a host it refuses)
            raise SourceUnavailable(f"source {settings.name!r}: {e}") from None
        self.backoff = backoff or Backoff(settings.reconnect_initial_s, settings.reconnect_max_s)
        self._client_log = QuietClientLogger(f"vts.sources.mqtt.client.{settings.name}")
        self._protocol = ProtocolNegotiation(self.broker.protocol)
        """Which MQTT version to connect with (shared with the publisher and `vts subscribe`)."""
        self.client_id = source_client_id(settings.name)
        """Its persistent session (`vts.mqtt.session`): the same across reconnects and restarts."""

    def describe(self) -> str:
        return f"mqtt source {self.name!r} ({describe(self.broker)} topic {self.topic})"

    def _client(self) -> aiomqtt.Client:
        b = self.broker
        tls = make_tls_context(b)
        return aiomqtt.Client(
            b.host or "localhost",
            b.port or (8883 if tls is not None else 1883),
            username=b.username,
            password=b.password.get_secret_value() if b.password is not None else None,
            protocol=self._protocol.protocol,
            tls_context=tls,
            keepalive=b.keepalive_s,
            timeout=b.connect_timeout_s,
            logger=self._client_log,  # type: ignore[arg-type]
            socket_options=NO_DELAY,
            **persistent_session(self.client_id, self._protocol.protocol),
        )

    async def run(self, sink: LineSink) -> None:
        while True:
            self.set_state("connecting", level=logging.DEBUG)
            slow = False
            try:
                async with self._client() as client:
                    await client.subscribe(self.topic, qos=1)
                    self._protocol.connected()
                    self.status.connects += 1
                    self.set_state("connected", f"subscribed to {self.topic}")
                    # the back-off starts again only once the session has held a while (as TCP's):
                    # a broker that takes the connection and drops it again is retried ever slower
                    steady_at = time.monotonic() + self.settings.stable_after_s
                    steady = False
                    async for message in client.messages:
                        got_line = self._handle(sink, bytes(message.payload))  # type: ignore[arg-type]
                        if got_line and not steady and time.monotonic() >= steady_at:
                            steady = True
                            self.backoff.reset()
                        await asyncio.sleep(0)  # a busy feed must not starve the other sources
            except MqttConnectError as e:
                self.status.failures += 1
                code = reason_code_value(e)
                if self._protocol.refused(code):
                    continue
                if code in REFUSED_CREDENTIALS:
                    slow = True
                    self.set_state(
                        "failed",
                        f"the broker refused the credentials ({e}); retrying slowly",
                        level=logging.ERROR,
                        key="refused",
                    )
                else:
                    self._retrying(str(e), "refused-connack")
            except (MqttConfigurationError, UnicodeError) as e:  # (UnicodeError: a name IDNA refuses)
                self.status.failures += 1
                slow = True
                self.set_state("failed", f"{e}; retrying slowly", level=logging.ERROR, key="config")
            except MqttError as e:
                if self.status.state != "connected" and is_no_answer(e):
                    self._protocol.no_answer()  # some 3.1.1 brokers hang up on an MQTT 5 CONNECT
                cause = self._client_log.take_last_error()
                text = f"{e}; {cause}" if cause and cause not in str(e) else str(e)
                if self.status.state == "connected":
                    self.status.disconnects += 1
                else:
                    self.status.failures += 1
                if is_tls_failure(MqttError(text)):
                    slow = True
                    self.set_state(
                        "failed",
                        f"TLS check failed ({text}); retrying slowly",
                        level=logging.ERROR,
                        key="tls",
                    )
                else:
                    self._retrying(
                        text, type(e).__name__ if self.status.state != "connected" else "disconnected"
                    )
            delay = self.backoff.maximum if slow else self.backoff.next_delay()
            await asyncio.sleep(delay)

    def _retrying(self, reason: str, key: str) -> None:
        self.set_state("retrying", f"{reason}; retrying with back-off", level=logging.WARNING, key=key)

    def _handle(self, sink: LineSink, payload: bytes) -> bool:
        received = time.time()
        lines, junk = lines_of(payload)
        if junk:
            self.status.drops[NOT_NMEA] += junk
        for line in lines:
            if len(line) > MAX_LINE_BYTES:
                self.status.drops[OVERLONG_LINE] += 1
                continue
            self.emit(sink, line, received)
        return bool(lines)
