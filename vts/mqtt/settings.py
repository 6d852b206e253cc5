"""`mqtt:` section of the config.

A broker is used when ``url`` or ``host`` is set (or when ``vts run/replay --mqtt URL`` or the
environment variable ``VTS_MQTT_URL`` gives one; see `vts.mqtt.urls.resolve_settings`). Without any
of them no broker is used and nothing complains.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from vts.hostnames import check_host

ProtocolChoice = Literal["auto", "5", "3.1.1"]


def check_prefix(value: str) -> str:
    """A topic prefix the publisher can publish under: MQTT forbids the wildcards ``+`` and ``#``
    (and NUL) in a topic name, and topics starting with ``$`` belong to the broker."""
    prefix = value.strip("/")
    bad = sorted({c for c in prefix if c in "+#\0"})
    if bad:
        shown = " or ".join(repr(c) for c in bad)
        raise ValueError(
            f"topic prefix {value!r} holds {shown}: wildcards are for subscribing, a prefix is "
            "part of the topic names the daemon publishes to (e.g. vts/callao/v1)"
        )
    if not prefix:
        raise ValueError("topic prefix is empty (e.g. vts/callao/v1)")
    if prefix.startswith("$"):
        raise ValueError(f"topic prefix {value!r} starts with '$', which brokers keep for themselves")
    return prefix


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    url: str | None = Field(
        None,
        description="mqtt://user:pass@host:port or mqtts://... (TLS); overrides host/port/username/password",
    )
    host: str | None = Field(None, description="broker host name or address; None (and no url) disables MQTT")
    port: int | None = Field(None, ge=1, le=65535, description="default 1883, or 8883 with TLS")
    username: str | None = None
    password: SecretStr | None = Field(None, description="never logged")
    tls: bool = Field(False, description="connect with TLS (implied by mqtts:// and by ca_file)")
    ca_file: str | None = Field(None, description="CA certificate(s) to verify the broker; None: system CAs")
    cert_file: str | None = Field(None, description="client certificate (PEM), for brokers that want one")
    key_file: str | None = Field(None, description="client private key (PEM)")
    tls_insecure: bool = Field(False, description="do not check the broker's host name (test set-ups only)")
    client_id: str = "vts-callao"
    prefix: str = Field("vts/callao/v1", description="topic prefix, no leading or trailing slash")
    protocol: ProtocolChoice = Field("auto", description="MQTT 5 when the broker speaks it, else 3.1.1")
    keepalive_s: int = Field(30, ge=5, le=3600)
    retry_initial_s: float = Field(
        1.0, gt=0, description="first reconnection delay; doubles up to retry_max_s"
    )
    retry_max_s: float = Field(30.0, gt=0)
    auth_retry_s: float = Field(
        300.0, gt=0, description="retry delay after the broker refused the credentials"
    )
    publish_window: int = Field(50, ge=1, le=1000, description="QoS 1 alert messages in flight at once")
    connect_timeout_s: float = Field(10.0, gt=0, description="no CONNACK within this: give up and retry")
    publish_timeout_s: float = Field(10.0, gt=0, description="no PUBACK within this: reconnect and resend")
    flush_timeout_s: float = Field(
        10.0, ge=0, description="at shutdown, how long to wait for the backlog to move before giving up"
    )
    vessels: bool = Field(True, description="publish vessel state on vessel/{mmsi}")
    vessel_interval_s: float = Field(
        10.0, ge=0, description="at most one vessel message per vessel per this much event time"
    )
    vessel_max_rate: float = Field(
        500.0, gt=0, description="at most this many vessel messages a second in all (fast replays)"
    )
    vessel_expiry_s: int = Field(600, ge=1, description="MQTT 5 message expiry of vessel messages")
    vessel_retain: bool = Field(True, description="retain vessel state (MQTT 5 only, where it expires)")
    status_interval_s: float = Field(30.0, gt=0, description="how often the retained status is refreshed")

    _host = field_validator("host")(check_host)

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        return check_prefix(value)

    @property
    def enabled(self) -> bool:
        return bool(self.url or self.host)
