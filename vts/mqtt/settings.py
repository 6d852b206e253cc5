"""`mqtt:` section of the config."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="mqtt://user:pass@host:port or mqtts://...; None disables MQTT")
    client_id: str = "vts-callao"
    prefix: str = "vts/callao/v1"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
