"""`web:` section of the config: the daemon's map server."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vts.hostnames import check_host
from vts.web.hub import MAX_CLIENTS

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` spells (`[::1]` too), or None when it is a name."""
    try:
        address = ipaddress.ip_address(host.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


def is_loopback_host(host: str) -> bool:
    """True for every spelling of a loopback address (127.x, ::1, 0:0:0:0:0:0:0:1, ::ffff:127.0.0.1)
    and for `localhost` in any case."""
    if host.strip().lower() == "localhost":
        return True
    address = ip_literal(host)
    return address is not None and address.is_loopback


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = True
    host: str = Field("127.0.0.1", description="address to bind; anything but loopback must be asked for")
    port: int = Field(8080, ge=0, le=65535)
    token: str | None = Field(None, description="operator token required for write actions (acknowledge)")
    tiles_url: str | None = Field(None, description="optional local tile server URL template")
    tiles_attribution: str = Field("", description="attribution shown for tiles_url / mbtiles")
    tiles_max_zoom: int = Field(
        18, ge=1, le=22, description="highest native zoom of the tiles (overzoom beyond)"
    )
    mbtiles: str | None = Field(None, description="optional MBTiles file served at /tiles/{z}/{x}/{y}")
    update_ms: int = Field(1000, ge=500, le=10000, description="how often the map polls /api/vessels")
    predictor_minutes: float = Field(3.0, ge=0, le=30, description="length of the course-predictor line")
    event_alert_minutes: float = Field(
        120.0, gt=0, description="one-off event alerts stay in the alert panel this long unless acknowledged"
    )
    max_event_streams: int = Field(
        MAX_CLIENTS,
        ge=1,
        le=10_000,
        description=(
            "most /api/events streams (open map pages) served at once; one more is answered 503 with "
            "Retry-After, and the page tries again later"
        ),
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "extra Host names accepted (DNS-rebinding guard); the bound host and loopback always are, and "
            "when bound beyond loopback so are IP address literals and this machine's own host name"
        ),
    )
    center: tuple[float, float] = Field((-12.06, -77.18), description="initial map centre (lat, lon)")
    zoom: int = Field(12, ge=1, le=20)

    _host = field_validator("host")(check_host)

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)
