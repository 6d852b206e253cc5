"""zone_visits: `zone_entry` / `zone_exit` info events for the zones that keep visit records.

A zone keeps records when its config says ``record_visits: true`` (berths, terminals, anchorages,
the port area in the Callao configuration) or its kind is listed in `kinds`. The events come from
the zone engine's confirmed crossings (two fixes inside at least 10 s apart for an entry; 50 m
outside for an exit), so GPS noise on a boundary does not produce a stream of entries and exits.
The alert time is when the crossing was confirmed; ``details.crossing_time`` is the observed crossing.
An exit carries the visit's ``dwell_s``; one noticed only after a reception gap is marked ``gap``.

A vessel first seen inside a zone (or crossing into it with its first few messages) has its entry
confirmed before it has the engine's minimum number of messages, which would keep the entry out of
the records while the later exit goes in. Such an entry is held back and raised as soon as the
vessel has enough messages (``details.deferred``, ``crossing_time`` still the observed crossing);
if the vessel leaves before that, neither entry nor exit is recorded. An entry whose crossing is
the vessel's very first fix says so (``details.first_seen_inside``: it was there when first heard,
typically at start-up, even when its static data was heard before its first fix); one found
inside after a reception gap was not first seen there (it entered unseen).

Records come in pairs: an exit is recorded only for a visit whose entry was recorded. A reload that
switches recording on for a zone records the visits that start after it (not those under way); one
that switches it off still records the exits of the visits under way. A vessel the tracker forgets
while inside a zone (silent for `tracker.forget_after_minutes`) gets its exit then, marked
``details.lost`` (with ``gap``): it was last heard inside at ``crossing_time``, and ``dwell_s``
runs to that fix. Its position is that last fix inside.

A restart does not open the visits under way again. With an alert database, the visits whose entry
is the newest record of their vessel and zone there are resumed (`on_restore`): a vessel found
inside (or within the exit margin) at its first fixes gets no second entry, and its exit's
``dwell_s`` runs from the entry recorded before the restart. One whose first fix after the restart
lies beyond the exit margin left while vts was not running: its exit is recorded then, marked
``gap`` and ``after_restart`` (``crossing_time`` is that fix; the crossing itself was not seen). One
not heard again within `tracker.forget_after_minutes` of the restart gets a ``lost`` exit at the
position of its recorded entry, with no ``dwell_s`` and no ``crossing_time`` (neither is known).

Cost: the only per-report work is raising a held-back entry, so the rule asks for no report at all
(`interest` is empty) and watches just the vessels with an entry held back (`Rule.watch`); zone
events reach it regardless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from vts.alerts.model import Alert, iso_time, parse_iso_time
from vts.rules._common import is_vessel_mmsi, label
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import ZoneVisitsParams

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import PositionReport
    from vts.tracker import VesselState
    from vts.zones import Zone, ZoneEvent


@dataclass(slots=True)
class _Visit:
    """A visit whose entry was recorded (its exit will be)."""

    entered: float
    label: str
    """How the vessel was named at entry (the tracker may have forgotten it by the exit)."""
    resumed: bool = False
    """Recorded before a restart (`on_restore`): the dwell runs from `entered`, not from the zone
    engine's entry after the restart."""


@dataclass(slots=True)
class _Restored:
    """A visit recorded before a restart whose vessel has not been found inside since."""

    visit: _Visit
    lat: float | None
    lon: float | None
    """Where its entry was recorded."""


class ZoneVisitsRule(Rule):
    id = "zone_visits"
    alert_types = ("zone_entry", "zone_exit")
    Params = ZoneVisitsParams
    tick_seconds = 60.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: ZoneVisitsParams = params  # type: ignore[assignment]
        self._deferred: dict[int, dict[str, ZoneEvent]] = {}
        """Entries confirmed before the vessel had enough messages, by vessel and zone. Every vessel
        in it is watched (`Rule.watch`), and only those."""
        self._open: dict[int, dict[str, _Visit]] = {}
        """Visits whose entry was recorded and exit not yet, by vessel and zone."""
        self._restored: dict[int, dict[str, _Restored]] = {}
        """Visits recorded before a restart, not yet found again, by vessel and zone. Every vessel
        in it is watched."""
        self._restored_at = 0.0
        """The first event time after the restart."""

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """No report: `on_position` acts only on a vessel with an entry held back, and such a vessel
        is watched from the zone event that held it back (which reaches the rule in any case, after
        the position hooks of its own report, when nothing is held back yet)."""
        return np.zeros(len(batch), dtype=bool)

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if self._restored and vessel.mmsi in self._restored:
            self._check_restored(vessel, report, ctx)
        pending = self._deferred.get(vessel.mmsi)
        if pending is None or vessel.message_count < ctx.config.alerts.min_messages:
            return
        del self._deferred[vessel.mmsi]
        self._release(ctx, vessel.mmsi)
        for zone_id in sorted(pending):
            try:
                zone = ctx.zones.zone(zone_id)
            except KeyError:
                continue
            self._entry(vessel, pending[zone_id], zone, ctx, deferred=True)

    def _release(self, ctx: RuleContext, mmsi: int) -> None:
        """Unwatch a vessel with neither an entry held back nor a restored visit left."""
        if mmsi not in self._deferred and mmsi not in self._restored:
            self.unwatch(ctx, mmsi)

    def on_restore(self, alerts: list[Alert], ctx: RuleContext) -> None:
        """The visits whose entry is the newest record of their vessel and zone are under way."""
        entries: dict[tuple[int, str], Alert] = {}
        exits: dict[tuple[int, str], Alert] = {}
        for a in alerts:
            if a.zone is not None:
                (entries if a.type == "zone_entry" else exits)[(a.mmsi, a.zone)] = a
        for (mmsi, zone_id), entry in sorted(entries.items()):
            left = exits.get((mmsi, zone_id))
            if left is not None and left.started >= entry.started:
                continue
            crossing = entry.details.get("crossing_time")
            try:
                entered = parse_iso_time(crossing) if isinstance(crossing, str) else None
            except ValueError:
                entered = None
            visit = _Visit(
                entry.started if entered is None else entered,
                f"{entry.name} ({mmsi})" if entry.name else str(mmsi),
                resumed=True,
            )
            self._restored.setdefault(mmsi, {})[zone_id] = _Restored(visit, entry.lat, entry.lon)
            self.watch(ctx, mmsi)
        self._restored_at = ctx.now

    def _check_restored(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        """The first fixes after a restart of a vessel with a visit under way: still in the zone by
        the zone engine (which took its memberships up with its track), the visit goes on; beyond
        the zone's exit margin, it left while vts was not running; inside it, with no membership
        taken up (a database saved before memberships were), its entry (found inside) resumes the
        visit (`on_zone_event`)."""
        if report.lat is None or report.lon is None:
            return
        if vessel.position_time is not None and report.time < vessel.position_time:
            return  # a late fix: not where the vessel is now
        restored = self._restored[vessel.mmsi]
        inside = ctx.zones.zones_of(vessel.mmsi)
        for zone_id in sorted(restored):
            try:
                zone = ctx.zones.zone(zone_id)
            except KeyError:
                del restored[zone_id]  # the zone left the configuration: no exit (as on a reload)
                continue
            entered = ctx.zones.entered_at(vessel.mmsi, zone_id) if zone_id in inside else None
            if entered is not None and entered < self._restored_at:
                # a membership taken up at the restart (not one found since): the visit goes on,
                # its exit will come from the zone engine (`on_zone_event`)
                self._open.setdefault(vessel.mmsi, {})[zone_id] = restored.pop(zone_id).visit
                continue
            if shapely.intersects_xy(zone.exit_geometry, report.lon, report.lat):
                continue
            visit = restored.pop(zone_id).visit
            name = label(vessel, vessel.mmsi)
            message = f"{name} found outside {zone.name} (left while vts was not running)"
            details = self._details(zone, report.time, vessel.sog, vessel.category)
            details["after_restart"] = True
            self._exit(
                ctx,
                vessel.mmsi,
                zone,
                message,
                report.lat,
                report.lon,
                details,
                visit.entered,
                report.time,
                gap=True,
                lost=False,
            )
        if not restored:
            del self._restored[vessel.mmsi]
            self._release(ctx, vessel.mmsi)

    def on_tick(self, ctx: RuleContext) -> None:
        """Restored visits of vessels not heard since the restart end as lost once the tracker
        would have forgotten them."""
        if not self._restored or ctx.now - self._restored_at < ctx.config.tracker.forget_after_s:
            return
        for mmsi in sorted(self._restored):
            if ctx.tracker.get(mmsi) is None:
                self._lose_restored(ctx, mmsi)

    def _lose_restored(self, ctx: RuleContext, mmsi: int) -> None:
        restored = self._restored.pop(mmsi, None)
        if restored is None:
            return
        self._release(ctx, mmsi)
        for zone_id, r in sorted(restored.items()):
            try:
                zone = ctx.zones.zone(zone_id)
            except KeyError:
                continue
            if r.lat is None or r.lon is None:
                continue
            message = f"{r.visit.label} not heard in {zone.name} since vts restarted"
            details = self._details(zone, None, None, None)
            details["after_restart"] = True
            self._exit(
                ctx, mmsi, zone, message, r.lat, r.lon, details, r.visit.entered, None, gap=True, lost=True
            )

    def adopt(self, previous: Rule) -> bool:
        """The entries held back and the visits under way do not depend on the parameters: carried
        on (else an exit would be recorded without its entry, or an entry never closed)."""
        assert isinstance(previous, ZoneVisitsRule)
        self._deferred = previous._deferred
        self._open = previous._open
        self._restored = previous._restored
        self._restored_at = previous._restored_at
        return True

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        """The vessel went silent for good: the visits under way end with its last fix inside."""
        if self._deferred.pop(mmsi, None) is not None:
            self._release(ctx, mmsi)
        self._lose_restored(ctx, mmsi)  # heard after the restart, never found inside again
        for zone_id, visit in sorted(self._open.pop(mmsi, {}).items()):
            last = ctx.zones.last_inside(mmsi, zone_id)
            try:
                zone = ctx.zones.zone(zone_id)
            except KeyError:
                continue  # the zone left the configuration
            if last is None:
                continue
            t, lat, lon = last
            message = f"{visit.label} no longer heard in {zone.name} (last fix inside {iso_time(t)})"
            details = self._details(zone, t, None, None)
            self._exit(ctx, mmsi, zone, message, lat, lon, details, visit.entered, t, gap=True, lost=True)

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        if not is_vessel_mmsi(vessel.mmsi):
            return
        try:
            zone = ctx.zones.zone(event.zone_id)
        except KeyError:
            return
        recorded = zone.settings.record_visits or zone.kind in self.p.kinds
        min_messages = ctx.config.alerts.min_messages
        if event.kind == "entry":
            restored = self._restored.get(vessel.mmsi)
            if restored is not None and zone.id in restored:
                # found inside after a restart: the visit recorded before it goes on
                self._open.setdefault(vessel.mmsi, {})[zone.id] = restored.pop(zone.id).visit
                if not restored:
                    del self._restored[vessel.mmsi]
                    self._release(ctx, vessel.mmsi)
                return
            if not recorded:
                return
            if vessel.message_count < min_messages:
                self._deferred.setdefault(vessel.mmsi, {})[zone.id] = event
                self.watch(ctx, vessel.mmsi)
            else:
                self._entry(vessel, event, zone, ctx, deferred=False)
            return
        pending = self._deferred.get(vessel.mmsi)
        if pending is not None and zone.id in pending:
            entry = pending.pop(zone.id)
            if not pending:
                del self._deferred[vessel.mmsi]
                self._release(ctx, vessel.mmsi)
            if vessel.message_count < min_messages:
                return  # in and out before the target had its minimum of messages: no record
            self._entry(vessel, entry, zone, ctx, deferred=True)
        visits = self._open.get(vessel.mmsi)
        visit = None if visits is None else visits.pop(zone.id, None)
        if visits is None or visit is None:
            return  # its entry was not recorded: no exit either
        if not visits:
            del self._open[vessel.mmsi]
        message = f"{label(vessel, vessel.mmsi)} left {zone.name}"
        details = self._details(zone, event.time, vessel.sog, vessel.category)
        lat, lon, entered, left = event.lat, event.lon, event.entered_time, event.time
        if visit.resumed:
            entered = visit.entered  # entered before the restart
        self._exit(
            ctx, vessel.mmsi, zone, message, lat, lon, details, entered, left, gap=event.gap, lost=False
        )

    @staticmethod
    def _details(
        zone: Zone, crossing: float | None, sog: float | None, category: str | None
    ) -> dict[str, object]:
        """The evidence every record has (`crossing` None: the crossing is not known)."""
        crossing_time = None if crossing is None else iso_time(crossing)
        return {"zone_kind": zone.kind, "crossing_time": crossing_time, "sog": sog, "category": category}

    @staticmethod
    def _exit(
        ctx: RuleContext,
        mmsi: int,
        zone: Zone,
        message: str,
        lat: float,
        lon: float,
        details: dict[str, object],
        entered: float | None,
        left: float | None,
        *,
        gap: bool,
        lost: bool,
    ) -> None:
        """A `zone_exit` record: the visit's dwell (from `entered` to `left`, when both are known),
        and how it ended."""
        if entered is not None:
            details["entered"] = iso_time(entered)
            if left is not None:
                details["dwell_s"] = round(left - entered, 1)
        details["gap"] = gap
        details["lost"] = lost
        ctx.alerts.event(
            type="zone_exit",
            mmsi=mmsi,
            severity="info",
            message=message,
            lat=lat,
            lon=lon,
            details=details,
            zone=zone.id,
        )

    def _entry(
        self, vessel: VesselState, event: ZoneEvent, zone: Zone, ctx: RuleContext, *, deferred: bool
    ) -> None:
        details = self._details(zone, event.time, vessel.sog, vessel.category)
        details["deferred"] = deferred
        # found inside at its first fix (`initial`, also set after a reception gap) and heard for no
        # longer than a gap before it (static data may come first): there when first heard
        first_seen_inside = (
            event.initial
            and not event.found_by_reload
            and event.time - vessel.first_seen <= ctx.zones.gap_reset_s
        )
        details["first_seen_inside"] = first_seen_inside
        # found inside after a reception gap (or in a zone a reload added): not seen crossing in, so
        # the entry time is only when it was found there
        details["seen_entering"] = not event.initial
        if first_seen_inside:
            verb = "first seen inside"
        elif event.initial:
            verb = "found inside (not seen entering)"
        else:
            verb = "entered"
        self._open.setdefault(vessel.mmsi, {})[zone.id] = _Visit(event.time, label(vessel, vessel.mmsi))
        ctx.alerts.event(
            type="zone_entry",
            mmsi=vessel.mmsi,
            severity="info",
            message=f"{label(vessel, vessel.mmsi)} {verb} {zone.name}",
            lat=event.lat,
            lon=event.lon,
            details=details,
            zone=zone.id,
        )


RULE = ZoneVisitsRule
