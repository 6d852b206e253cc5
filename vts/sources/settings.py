"""`sources:` entries of the config: where AIS lines come from."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vts.hostnames import check_host


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(description="unique name, used in logs, stats and reports")
    kind: Literal["tcp", "udp", "file", "stdin", "mqtt", "simulate"]
    host: str | None = None
    port: int | None = Field(None, ge=0, le=65535, description="udp: 0 binds any free port")
    path: str | None = Field(None, description="file to read (plain or .gz) for kind 'file'")
    loop: bool = Field(False, description="file: start again at the end (demo mode)")
    follow: bool | None = Field(
        None,
        description="file: keep reading as the file grows, like `tail -F`: lines appended are read "
        "(a last line is fed once complete), a truncated file is read again from its start (said at "
        "WARNING), a rotated one (the path now names a new file) is read to its end and the new one "
        "from its start, a missing file is waited for (a plain file only: a compressed one is read "
        "once). Default (unset): on for `vts run` unless `loop` is set; `vts replay` never follows",
    )
    poll_s: float = Field(
        0.5,
        gt=0,
        le=60,
        description="file: how often a followed file is looked at for new lines, truncation and "
        "rotation, and a missing followed or looped file for its return (seconds)",
    )
    speed: float | None = Field(
        None, gt=0, description="file/simulate: pace by event time at this speed (None: as fast as possible)"
    )
    seed: int | None = Field(None, description="simulate: random seed of the simulated traffic")
    topic: str | None = Field(None, description="mqtt: topic carrying raw NMEA lines")
    url: str | None = Field(None, description="mqtt: broker URL, mqtt://user:pass@host:port or mqtts://...")
    reconnect_initial_s: float = Field(1.0, gt=0, description="tcp/mqtt: first reconnection delay (doubles)")
    reconnect_max_s: float = Field(60.0, gt=0, description="tcp/mqtt: longest reconnection delay")
    connect_timeout_s: float = Field(10.0, gt=0, description="tcp: give up a connection attempt after this")
    idle_timeout_s: float | None = Field(
        300.0, gt=0, description="tcp: reconnect when nothing arrives for this long (None: never)"
    )
    stable_after_s: float = Field(
        30.0,
        gt=0,
        description="tcp: a connection that stays up this long starts the back-off again from "
        "reconnect_initial_s; shorter ones (a flapping server) are retried with growing delays",
    )
    receive_buffer_bytes: int | None = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="udp: socket receive buffer asked for (SO_RCVBUF), so a burst is not dropped by "
        "the kernel; Linux caps it at net.core.rmem_max (None: the system default)",
    )
    enabled: bool = True

    _host = field_validator("host")(check_host)

    def resolved(self, config_path: Path | None) -> SourceSettings:
        """A file source's relative path taken from the configuration file's directory (the daemon
        and check-config read the same file)."""
        if self.kind != "file" or self.path is None or config_path is None:
            return self
        path = Path(self.path).expanduser()
        if path.is_absolute():
            return self
        return self.model_copy(update={"path": str(config_path.parent / path)})

    @model_validator(mode="after")
    def _needed_fields(self) -> SourceSettings:
        needed = {"tcp": ("host", "port"), "udp": ("port",), "file": ("path",), "mqtt": ("topic",)}
        missing = [f for f in needed.get(self.kind, ()) if getattr(self, f) is None]
        if missing:
            article = "an" if self.kind == "mqtt" else "a"
            raise ValueError(f"{article} {self.kind} source needs {' and '.join(missing)}")
        if self.loop and self.follow:
            raise ValueError(
                "a file source either loops (a recording, again and again) or follows (a live log), not both"
            )
        return self

    def follows(self, default: bool) -> bool:
        """Whether a file source follows its file: `follow` when set, else `default` (`vts run`:
        unless it loops)."""
        return self.follow if self.follow is not None else default and not self.loop

    def describe(self) -> str:
        """Where the lines come from, for logs."""
        if self.kind in ("tcp", "udp"):
            return f"{self.kind}://{self.host or '127.0.0.1'}:{self.port}"
        if self.kind == "file":
            return str(self.path)
        if self.kind == "mqtt":
            return f"mqtt topic {self.topic}"
        return self.kind
