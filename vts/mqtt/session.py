"""Persistent MQTT sessions: the broker keeps a client's subscriptions and queues its QoS 1
messages while it is away (a broker restart, a network drop, the client's own restart), and hands
them over when the client connects again under the same client id.

Used by `vts subscribe --session NAME` and by the daemon's MQTT sources, which must not lose the
lines published while they reconnect. Messages published with QoS 0 are not queued by brokers
(Mosquitto's default): a feed that must lose nothing publishes with QoS 1.
"""

from __future__ import annotations

from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

SESSION_EXPIRY_S = 86_400
"""How long (MQTT 5) the broker keeps a persistent session and its queue while the client is away.
(MQTT 3.1.1 has no expiry in the protocol: the broker's own setting decides.)"""


def persistent_session(client_id: str, protocol: aiomqtt.ProtocolVersion) -> dict[str, Any]:
    """The `aiomqtt.Client` options for a persistent session under `client_id`."""
    if protocol == aiomqtt.ProtocolVersion.V5:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        return {"identifier": client_id, "clean_start": False, "properties": properties}
    return {"identifier": client_id, "clean_session": False}
