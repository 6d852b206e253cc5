"""distress: an autonomous distress device is transmitting (AIS-SART 970, MOB 972, EPIRB-AIS 974).

Severity `emergency`. A device in test mode is `caution`: an AIS-SART test transmits navigational
status 15 ("undefined", which the decoder turns into None) instead of 14 ("AIS-SART active"), and
safety text "SART TEST" instead of "SART ACTIVE"; MOB and EPIRB devices send "MOB TEST" /
"EPIRB TEST" likewise.

Only what such a device transmits counts (`DISTRESS_DEVICE_MESSAGES`: position reports of types 1-3
and safety texts of type 14): a Class B transponder under a distress number (a fishing-net buoy,
typically) raises no emergency; invalid_mmsi reports it instead.

Event alert: one per activation. The same device raises again only when it goes from test to active,
or after it has been silent for `rearm_minutes` (a new activation). The devices heard are kept over
a restart (`save_state`): one still transmitting afterwards is the same activation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vts.mid import DISTRESS_KINDS
from vts.reports import PositionReport, Report, SafetyReport
from vts.rules._common import DISTRESS_DEVICE_MESSAGES, distress_device_rows, mmsi_info
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import DistressParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.tracker import VesselState

Mode = Literal["active", "test"]
NAV_STATUS_SART_ACTIVE = 14
DEVICE_NAMES = {"sart": "AIS-SART", "mob": "MOB device", "epirb": "EPIRB-AIS"}


@dataclass(slots=True)
class _Device:
    mode: Mode
    last_seen: float


class DistressRule(Rule):
    id = "distress"
    Params = DistressParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: DistressParams = params  # type: ignore[assignment]
        self._devices: dict[int, _Device] = {}

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Only distress devices' reports: `on_report` returns at once for any other MMSI (its kind
        is not a distress kind), and its state (`_devices`) holds distress MMSIs only. The device
        kinds are exactly the nine-digit numbers 970xxxxxx, 972xxxxxx and 974xxxxxx (no placeholder
        MMSI falls in those ranges), so one integer division decides."""
        return distress_device_rows(batch.mmsi)

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        kind = mmsi_info(report.mmsi).kind
        if kind not in DISTRESS_KINDS or report.own_ship or report.msg_type not in DISTRESS_DEVICE_MESSAGES:
            return
        mode = _mode_of(report)
        if mode is None:
            return
        known = self._devices.get(report.mmsi)
        rearmed = known is None or report.time - known.last_seen > self.p.rearm_minutes * 60.0
        escalated = known is not None and known.mode == "test" and mode == "active"
        if known is not None and not rearmed:
            # a late report (satellite, store-and-forward) must not set the clock of silence back
            known.last_seen = max(known.last_seen, report.time)
            if mode == "active":
                known.mode = "active"
        else:
            self._devices[report.mmsi] = _Device(mode, report.time)
        if not (rearmed or escalated):
            return
        lat, lon = _position(vessel, report)
        device = DEVICE_NAMES[kind]
        text = report.text.strip() if isinstance(report, SafetyReport) else None
        ctx.alerts.event(
            type=self.id,
            mmsi=report.mmsi,
            severity="emergency" if mode == "active" else "caution",
            message=f"{device} {report.mmsi:09d} {'ACTIVE' if mode == 'active' else 'in test mode'}"
            + ("" if lat is not None else " (no position yet)"),
            lat=lat,
            lon=lon,
            details={
                "device": kind,
                "mode": mode,
                "text": text,
                "nav_status": report.nav_status if isinstance(report, PositionReport) else None,
            },
        )

    def save_state(self, ctx: RuleContext) -> dict[str, Any]:
        """The devices heard lately: after a restart, one still transmitting is the same activation
        (no second emergency), as it would have been had vts kept running."""
        return {"devices": [[m, d.mode, d.last_seen] for m, d in sorted(self._devices.items())]}

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        horizon = ctx.now - self.p.rearm_minutes * 60.0
        devices = {
            int(mmsi): _Device(mode, float(last_seen))
            for mmsi, mode, last_seen in state.get("devices", [])
            if mode in ("active", "test") and float(last_seen) >= horizon
        }
        self._devices = devices

    def on_tick(self, ctx: RuleContext) -> None:
        if not self._devices:
            return
        horizon = ctx.now - self.p.rearm_minutes * 60.0
        for mmsi in [m for m, d in self._devices.items() if d.last_seen < horizon]:
            del self._devices[mmsi]


def _mode_of(report: Report) -> Mode | None:
    """Active or test from what the report says; None when it says neither (static data ...)."""
    if isinstance(report, SafetyReport):
        text = report.text.upper()
        if "TEST" in text:
            return "test"
        if "ACTIVE" in text:
            return "active"
        return None
    if isinstance(report, PositionReport):
        if report.nav_status == NAV_STATUS_SART_ACTIVE:
            return "active"
        if report.msg_type in (1, 2, 3) and report.nav_status is None:
            return "test"  # status 15 "undefined": what a device in test mode sends
        return "active"  # any other status from a distress device: treat as live, never suppress
    return None


def _position(vessel: VesselState | None, report: Report) -> tuple[float | None, float | None]:
    if isinstance(report, PositionReport) and report.has_position:
        return report.lat, report.lon
    if vessel is not None:
        return vessel.lat, vessel.lon
    return None, None


RULE = DistressRule
