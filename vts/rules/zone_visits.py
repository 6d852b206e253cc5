"""zone_visits: `zone_entry` / `zone_exit` info events for the zones that keep visit records.

A zone keeps records when its config says ``record_visits: true`` (berths, terminals, anchorages,
the port area in the Callao configuration) or its kind is listed in `kinds`. The events come from
the zone engine's confirmed crossings (two fixes inside at least 10 s apart for an entry; 50 m
outside for an exit), so GPS noise on a boundary does not produce a stream of entries and exits.
The alert time is when the crossing was confirmed; ``details.crossing_time`` is the observed crossing.
An exit carries the visit's ``dwell_s``; one noticed only after a reception gap is marked ``gap``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from vts.alerts.model import iso_time
from vts.rules._common import is_vessel_mmsi, label
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.tracker import VesselState
    from vts.zones import ZoneEvent


class ZoneVisitsParams(RuleParams):
    kinds: list[str] = Field(
        default_factory=list,
        description="zone kinds recorded even when the zone does not set record_visits (e.g. [berth])",
    )


class ZoneVisitsRule(Rule):
    id = "zone_visits"
    Params = ZoneVisitsParams

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: ZoneVisitsParams = params  # type: ignore[assignment]

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if not is_vessel_mmsi(vessel.mmsi):
            return
        try:
            zone = ctx.zones.zone(event.zone_id)
        except KeyError:
            return
        if not (zone.settings.record_visits or zone.kind in self.p.kinds):
            return
        details: dict[str, object] = {
            "zone_kind": zone.kind,
            "crossing_time": iso_time(event.time),
            "sog": vessel.sog,
            "category": vessel.category,
        }
        who = label(vessel, vessel.mmsi)
        if event.kind == "entry":
            ctx.alerts.event(
                type="zone_entry",
                mmsi=vessel.mmsi,
                severity="info",
                message=f"{who} entered {zone.name}",
                lat=event.lat,
                lon=event.lon,
                details=details,
                zone=zone.id,
            )
            return
        if event.entered_time is not None:
            details["entered"] = iso_time(event.entered_time)
            details["dwell_s"] = round(event.time - event.entered_time, 1)
        details["gap"] = event.gap
        ctx.alerts.event(
            type="zone_exit",
            mmsi=vessel.mmsi,
            severity="info",
            message=f"{who} left {zone.name}",
            lat=event.lat,
            lon=event.lon,
            details=details,
            zone=zone.id,
        )


RULE = ZoneVisitsRule
