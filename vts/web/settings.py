"""`web:` section of the config: the daemon's map server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    token: str | None = Field(None, description="operator token required for write actions (acknowledge)")
    tiles_url: str | None = Field(None, description="optional local tile server URL template")
    mbtiles: str | None = Field(None, description="optional MBTiles file served at /tiles/{z}/{x}/{y}")
