"""aiomqtt's client, plus what the publisher needs to know from the broker's answers.

aiomqtt 2.5 counts any PUBACK as success and drops the CONNACK properties. An MQTT 5 broker says
"not authorised", "quota exceeded" or "packet too large" in the PUBACK reason code, and announces the
largest packet it takes in the CONNACK (a bigger one makes it close the connection). `CheckedClient`
keeps both: `publish_checked` raises `PublishRefused` for a PUBACK with a failure code, and
`max_packet_size` is the broker's limit (None when it gave none, as MQTT 3.1.1 brokers never do).

Leaving its ``async with`` block sends DISCONNECT, which tells the broker to drop the client's last
will, only once the owner set `goodbye_sent` (it said offline itself). Any other way out (an error,
a cancelled task, a session given up at shutdown) hangs up without DISCONNECT, so that the broker
publishes the will: a retained "online" status never outlives the client.

`ProtocolNegotiation` is the other answer every MQTT client of vts needs: which MQTT version to
connect with (``protocol: auto`` falls back to 3.1.1 on a broker that does not speak MQTT 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt import MqttCodeError, MqttError, ProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from vts.mqtt.settings import ProtocolChoice

PACKET_TOO_LARGE = 0x95
TOPIC_NAME_INVALID = 0x90
PAYLOAD_FORMAT_INVALID = 0x99
QUOTA_EXCEEDED = 0x97
REFUSES_THIS_MESSAGE = {PACKET_TOO_LARGE, TOPIC_NAME_INVALID, PAYLOAD_FORMAT_INVALID}
"""PUBACK codes about the message itself: sending it again will never work."""


UNSUPPORTED_PROTOCOL = {1, 132}
"""CONNACK codes: unacceptable protocol version (3.1.1) / unsupported protocol version (MQTT 5)."""


class ProtocolNegotiation:
    """The MQTT version to connect with, for a ``protocol`` setting of ``auto``, ``5`` or ``3.1.1``.

    ``auto`` tries MQTT 5 first. A broker that answers "unsupported protocol version" gets MQTT 3.1.1
    from then on; one that gives no answer at all (some 3.1.1 brokers hang up on an MQTT 5 CONNECT)
    gets the two in turn until a connection succeeds. ``5`` and ``3.1.1`` are kept whatever the
    broker says. The publisher and ``vts subscribe`` share this.
    """

    def __init__(self, setting: ProtocolChoice) -> None:
        self.setting = setting
        self.protocol = ProtocolVersion.V311 if setting == "3.1.1" else ProtocolVersion.V5
        """The version to try next; during a connection, the one it speaks."""
        self.confirmed = setting != "auto"
        """The broker told (or the setting fixed) which version to use: no more guessing."""

    @property
    def v5(self) -> bool:
        return self.protocol == ProtocolVersion.V5

    @property
    def name(self) -> str:
        return "5" if self.v5 else "3.1.1"

    def connected(self) -> None:
        """A connection with `protocol` succeeded: keep it."""
        self.confirmed = True

    def refused(self, code: int | None) -> bool:
        """After a CONNACK refusing the connection with `code`: True when that means "no MQTT 5"
        and MQTT 3.1.1 is to be tried now (``auto`` only)."""
        if code not in UNSUPPORTED_PROTOCOL or self.setting != "auto" or not self.v5:
            return False
        self.protocol = ProtocolVersion.V311
        self.confirmed = True
        return True

    def no_answer(self) -> None:
        """The connection opened but no CONNACK came: until a connection succeeds (``auto``
        only), try the other version next time."""
        if not self.confirmed:
            self.protocol = ProtocolVersion.V311 if self.v5 else ProtocolVersion.V5


def is_no_answer(error: MqttError) -> bool:
    """Whether connecting failed for want of an answer (aiomqtt's time-out waiting for CONNACK)."""
    return str(error).startswith("Operation timed out")


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

    It uses internals of aiomqtt 2.x (``_client``, the paho client, the ``_on_connect`` /
    ``_on_publish`` callbacks and the ``_disconnected`` future), as aiomqtt offers no public way to
    see the broker's answers or to leave without DISCONNECT.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acks: dict[int, asyncio.Future[ReasonCode]] = {}
        self.max_packet_size: int | None = None
        self.goodbye_sent = False
        """Set by the owner once its own goodbye (the offline status) is acknowledged: leaving then
        sends DISCONNECT, and the broker drops the will. Until then, leaving hangs up instead."""

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

    async def __aenter__(self) -> CheckedClient:
        try:
            await super().__aenter__()
        except BaseException:
            # aiomqtt leaves the connection open when it gives up waiting for the CONNACK: one
            # that comes later would make it a connection nobody reads (kept alive by paho,
            # holding the client id until the broker hands it to the next attempt, and then
            # logging "Future exception was never retrieved")
            self._hang_up()
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if not self.goodbye_sent:
                self._hang_up()
            await super().__aexit__(*exc_info)
        finally:
            # a session the broker ended leaves its exception on aiomqtt's `_disconnected` future;
            # the publisher reports the end itself, so it is taken here, and asyncio does not log
            # "Future exception was never retrieved" when the future is collected
            ended = self._disconnected
            if ended.done() and not ended.cancelled():
                ended.exception()

    def _hang_up(self) -> None:
        """End the connection without DISCONNECT, so that the broker publishes the last will
        (MQTT 3.1.1 and 5: a connection closed without DISCONNECT). aiomqtt's own exit would send
        a normal DISCONNECT, which makes the broker drop the will. Nothing is awaited: this also
        works in a task being cancelled."""
        if self._disconnected.done():
            return  # the connection is gone already (the broker ended it, or it dropped)
        sock = self._client.socket()  # None when no connection was made
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # paho sees the end at its next read and closes it
        self._disconnected.set_result(None)  # aiomqtt's exit then sends nothing

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
