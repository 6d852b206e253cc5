"""`sources:` entries of the config: where AIS lines come from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="unique name, used in logs, stats and reports")
    kind: Literal["tcp", "udp", "file", "stdin", "mqtt"]
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    path: str | None = Field(None, description="file to read (plain or .gz) for kind 'file'")
    loop: bool = Field(False, description="file: start again at the end (demo mode)")
    speed: float | None = Field(None, gt=0, description="file: pace by event time at this speed (None = as fast as possible)")
    topic: str | None = Field(None, description="mqtt: topic carrying raw NMEA lines")
    enabled: bool = True
