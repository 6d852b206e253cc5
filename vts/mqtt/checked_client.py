"""aiomqtt's client, plus what the publisher needs to know from the broker's answers.

aiomqtt 2.5 counts any PUBACK as success and drops the CONNACK properties. An MQTT 5 broker says
"not authorised", "quota exceeded" or "packet too large" in the PUBACK reason code, and announces the
largest packet it takes in the CONNACK (a bigger one makes it close the connection). `CheckedClient`
keeps both: `publish_checked` raises `PublishRefused` for a PUBACK with a failure code, and
`max_packet_size` is the broker's limit (None when it gave none, as MQTT 3.1.1 brokers never do).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt import MqttCodeError, MqttError
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

PACKET_TOO_LARGE = 0x95
TOPIC_NAME_INVALID = 0x90
PAYLOAD_FORMAT_INVALID = 0x99
QUOTA_EXCEEDED = 0x97
REFUSES_THIS_MESSAGE = {PACKET_TOO_LARGE, TOPIC_NAME_INVALID, PAYLOAD_FORMAT_INVALID}
"""PUBACK codes about the message itself: sending it again will never work."""


class PublishRefused(MqttError):
    """The broker answered a QoS 1 publish with a failure reason code (MQTT 5)."""

    def __init__(self, topic: str, reason: ReasonCode) -> None:
        super().__init__(f"the broker refused a message on {topic} ({reason}, code {reason.value:#x})")
        self.topic = topic
        self.code = int(reason.value)
        self.reason = str(reason)

    @property
    def about_this_message(self) -> bool:
        """True when only this message is refused (too large, bad payload or topic), not the client."""
        return self.code in REFUSES_THIS_MESSAGE


def varint_size(value: int) -> int:
    """Bytes of an MQTT variable byte integer."""
    size = 1
    while value >= 128:
        value //= 128
        size += 1
    return size


def publish_packet_size(
    topic: str, payload: bytes, *, qos: int, properties: Properties | None, v5: bool
) -> int:
    """Size in bytes of the PUBLISH packet paho sends for this message (what the broker limits)."""
    remaining = 2 + len(topic.encode()) + (2 if qos else 0) + len(payload)
    if v5:
        remaining += len(properties.pack()) if properties is not None else 1
    return 1 + varint_size(remaining) + remaining


class CheckedClient(aiomqtt.Client):
    """An `aiomqtt.Client` that reads PUBACK reason codes and the broker's maximum packet size.

    It uses two internals of aiomqtt 2.x (``_client``, the paho client, and the ``_on_connect`` /
    ``_on_publish`` callbacks), as aiomqtt offers no public way to see either.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acks: dict[int, asyncio.Future[ReasonCode]] = {}
        self.max_packet_size: int | None = None

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        limit = getattr(properties, "MaximumPacketSize", None) if properties is not None else None
        self.max_packet_size = int(limit) if limit else None
        super()._on_connect(client, userdata, flags, reason_code, properties)

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        ack = self._acks.pop(mid, None)
        if ack is not None and not ack.done():
            ack.set_result(reason_code)
        super()._on_publish(client, userdata, mid, reason_code, properties)

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await super().__aexit__(*exc_info)
        finally:
            # a session the broker ended leaves its exception on aiomqtt's `_disconnected` future;
            # the publisher reports the end itself, so it is taken here, and asyncio does not log
            # "Future exception was never retrieved" when the future is collected
            ended = self._disconnected
            if ended.done() and not ended.cancelled():
                ended.exception()

    async def publish_checked(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> None:
        """Publish with QoS 1 and wait for the PUBACK; raises `PublishRefused` when it says no,
        `MqttError` when the connection is gone or no PUBACK came within ``timeout``."""
        info = self._client.publish(topic, payload, 1, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise MqttCodeError(info.rc, "Could not publish message")
        ack: asyncio.Future[ReasonCode] = asyncio.get_running_loop().create_future()
        self._acks[info.mid] = ack
        try:
            async with asyncio.timeout(self.timeout):
                reason = await ack
        except TimeoutError:
            raise MqttError("Operation timed out") from None
        finally:
            self._acks.pop(info.mid, None)
        if reason.is_failure:
            raise PublishRefused(topic, reason)
