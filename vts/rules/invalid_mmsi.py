"""invalid_mmsi: a vessel transmitting under an MMSI that cannot be a real station identity.

Flagged (event, once per MMSI): not nine digits, a known placeholder (000000000, 111111111,
123456789, 1193046 ...), a ship MMSI whose MID no country holds, or a number that matches no
ITU-R M.585 format. Special formats are recognised, not flagged: coast stations (00MID), groups
(0MID), SAR aircraft (111MID), AtoN (99MID), craft of a parent ship (98MID), handheld radios
(8MID), SART/MOB/EPIRB (970/972/974, handled by the distress rule).

Severity `caution`; `warning` when the vessel is (or later is confirmed) inside a security,
restricted or protected zone; that later entry gives one more event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from vts.reports import Report
from vts.rules._common import mmsi_info
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.tracker import VesselState
    from vts.zones import ZoneEvent

SENSITIVE_ZONE_KINDS = frozenset({"security_zone", "restricted", "protected"})


class InvalidMmsiParams(RuleParams):
    escalate_in_sensitive_zones: bool = Field(
        True, description="warning (and one more event) when inside a security, restricted or protected zone"
    )


class InvalidMmsiRule(Rule):
    id = "invalid_mmsi"
    Params = InvalidMmsiParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: InvalidMmsiParams = params  # type: ignore[assignment]
        self._flagged: set[int] = set()
        self._escalated: set[int] = set()

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        if vessel is None or report.own_ship or vessel.is_shadow or vessel.mmsi in self._flagged:
            return
        info = mmsi_info(vessel.mmsi)
        if info.problem is None:
            return
        self._flagged.add(vessel.mmsi)
        zone = self._sensitive_zone(vessel.mmsi, ctx) if self.p.escalate_in_sensitive_zones else None
        if zone is not None:
            self._escalated.add(vessel.mmsi)
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning" if zone else "caution",
            message=f"Invalid MMSI {vessel.mmsi:09d}: {info.problem}",
            lat=vessel.lat,
            lon=vessel.lon,
            zone=zone,
            details={
                "problem": info.problem,
                "mmsi_digits": f"{vessel.mmsi:09d}",
                "msg_type": report.msg_type,
            },
        )

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if (
            not self.p.escalate_in_sensitive_zones
            or event.kind != "entry"
            or vessel.mmsi not in self._flagged
            or vessel.mmsi in self._escalated
        ):
            return
        kind = _zone_kind(event.zone_id, ctx)
        if kind not in SENSITIVE_ZONE_KINDS:
            return
        self._escalated.add(vessel.mmsi)
        problem = mmsi_info(vessel.mmsi).problem
        ctx.alerts.event(
            type=self.id,
            mmsi=vessel.mmsi,
            severity="warning",
            message=f"Invalid MMSI {vessel.mmsi:09d} entered {event.zone_id}: {problem}",
            lat=event.lat,
            lon=event.lon,
            zone=event.zone_id,
            details={"problem": problem, "mmsi_digits": f"{vessel.mmsi:09d}", "zone_kind": kind},
        )

    def _sensitive_zone(self, mmsi: int, ctx: RuleContext) -> str | None:
        for zone_id in sorted(ctx.zones.zones_of(mmsi)):
            if _zone_kind(zone_id, ctx) in SENSITIVE_ZONE_KINDS:
                return zone_id
        return None

    def on_forget(self, mmsi: int) -> None:
        self._flagged.discard(mmsi)
        self._escalated.discard(mmsi)


def _zone_kind(zone_id: str, ctx: RuleContext) -> str | None:
    try:
        return str(ctx.zones.zone(zone_id).kind)
    except (KeyError, LookupError):
        return None


RULE = InvalidMmsiRule
