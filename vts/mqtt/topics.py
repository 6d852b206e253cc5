"""The topic layout under the prefix (default ``vts/callao/v1``).

* ``{prefix}/alert/{severity}/{type}/{mmsi}``: every alert step (raised, updated, cleared), QoS 1;
* ``{prefix}/alert-state/{alert_id}``: retained current state of each active alert, emptied when it ends;
* ``{prefix}/vessel/{mmsi}``: vessel state, QoS 0, rate-limited, with a message expiry;
* ``{prefix}/status``: retained ``online`` / ``offline`` (last will) with version and counters.
"""

from __future__ import annotations

from dataclasses import dataclass

from vts.alerts.model import Alert

_FORBIDDEN = str.maketrans({"/": "_", "+": "_", "#": "_", "\0": "_"})


def topic_level(value: object) -> str:
    """One topic level: no separators, no wildcards, never empty."""
    text = str(value).translate(_FORBIDDEN)
    return text or "_"


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = "vts/callao/v1"

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.prefix.strip("/"))

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    def alert(self, alert: Alert) -> str:
        return f"{self.prefix}/alert/{topic_level(alert.severity)}/{topic_level(alert.type)}/{alert.mmsi}"

    def alert_state(self, alert_id: str) -> str:
        return f"{self.prefix}/alert-state/{topic_level(alert_id)}"

    def vessel(self, mmsi: int) -> str:
        return f"{self.prefix}/vessel/{mmsi}"

    # -- filters for subscribers ---------------------------------------------------------------
    @property
    def all_alerts(self) -> str:
        return f"{self.prefix}/alert/#"

    @property
    def all_alert_states(self) -> str:
        return f"{self.prefix}/alert-state/+"

    @property
    def all_vessels(self) -> str:
        return f"{self.prefix}/vessel/+"
