"""What every rule is: a small class with typed parameters, fed by the alert engine.

A rule module (``vts/rules/<type>.py``) defines one subclass of `Rule` and exposes it as the module
attribute ``RULE``. The registry (`vts.rules.registry`) discovers them; the config's ``rules:``
section maps a rule id to its parameters (validated by the rule's ``Params`` model, unknown keys
refused), and ``enabled: false`` switches a rule off.

Rules see vessels, zones and event time only (never the wall clock, never random numbers), so a
replayed log always gives the same alerts. They report conditions to the engine through
``ctx.alerts`` (an `AlertSink`); the engine owns the lifecycle (raise / update / clear), cooldowns,
snoozes, the minimum-message rule and storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from mypy_extensions import mypyc_attr

from vts.alerts.model import Alert, Severity
from vts.config import Allowlists, Config, RuleParams
from vts.feed_clock import FeedClocks
from vts.reports import PositionReport, Report, StaticReport
from vts.spatial import VesselGrid
from vts.tracker import Tracker, VesselState
from vts.zones import ZoneEngine, ZoneEvent

if TYPE_CHECKING:
    from vts.batch import ReportBatch


class AlertSink(Protocol):
    """How rules talk to the alert engine. Keys are (type, mmsi, other_mmsi, zone)."""

    def hold(
        self,
        *,
        type: str,
        mmsi: int,
        severity: Severity,
        message: str,
        lat: float | None,
        lon: float | None,
        details: dict[str, Any],
        other_mmsi: int | None = None,
        zone: str | None = None,
    ) -> None:
        """A state condition holds now: raised the first time, updated afterwards."""

    def clear(
        self,
        *,
        type: str,
        mmsi: int,
        other_mmsi: int | None = None,
        zone: str | None = None,
        details: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        """The state condition has ended (no-op when it is not active)."""

    def event(
        self,
        *,
        type: str,
        mmsi: int,
        severity: Severity,
        message: str,
        lat: float | None,
        lon: float | None,
        details: dict[str, Any],
        other_mmsi: int | None = None,
        zone: str | None = None,
    ) -> None:
        """A one-off event alert (entry, jump, identity change ...)."""

    def is_active(
        self, type: str, mmsi: int, other_mmsi: int | None = None, zone: str | None = None
    ) -> bool: ...

    def active_keys(self, type: str) -> Iterable[tuple[int, int | None, str | None]]:
        """(mmsi, other_mmsi, zone) of every active alert of this type."""
        ...

    def active_mmsis(self, type: str) -> set[int]:
        """The MMSIs (`mmsi`, not `other_mmsi`) with an active alert of this type."""
        ...

    def active_alert(
        self, type: str, mmsi: int, other_mmsi: int | None = None, zone: str | None = None
    ) -> Alert | None:
        """The active alert of this key as last published, or None."""
        ...


@dataclass(slots=True)
class RuleContext:
    """Everything a rule may look at. `now` is the current event time (UNIX seconds)."""

    config: Config
    tracker: Tracker
    zones: ZoneEngine
    grid: VesselGrid
    allowlists: Allowlists
    alerts: AlertSink
    now: float
    watching: dict[int, int] = field(default_factory=dict)
    """MMSI -> bit mask of the rules watching that vessel (see `Rule.watch`)."""
    feeds: FeedClocks = field(default_factory=FeedClocks)
    """Which feeds stamp arrival rather than the fix (satellite, store-and-forward)."""


@mypyc_attr(allow_interpreted_subclasses=True)  # rules of plug-ins and tests are Python classes
class Rule:
    """Base class. Override only the hooks the rule needs; all default to doing nothing."""

    id: ClassVar[str]
    """Rule id = the config key under ``rules:`` and, by default, the alert ``type`` it raises."""
    alert_types: ClassVar[tuple[str, ...]] = ()
    """The alert types it raises when they are not just its `id` (see `raised_types`)."""
    Params: ClassVar[type[RuleParams]] = RuleParams
    tick_seconds: ClassVar[float] = 10.0
    """How often (event time) `on_tick` wants to be called."""
    late_fixes: ClassVar[bool] = True
    """Whether `on_position` gets a late fix too: one older than the vessel's latest, which the
    tracker kept (it is in the trail, not the vessel's current state). A rule that judges where a
    vessel is now sets False, and the engine does not hand it such fixes."""
    outlier_fixes: ClassVar[bool] = True
    """Whether `on_position` gets a fix while the vessel's latest fix is one the zone engine held
    back as a GNSS outlier (`ZoneEngine.held_back`: its memberships are those of the fix before). A
    rule that judges a vessel by the zones it is in where it is now sets False, and the engine does
    not hand it such fixes (its geometric interest mask may then leave them out as well)."""
    bit: int = 0
    """This rule's bit in `RuleContext.watching` (set by the engine, stable across reloads)."""

    def __init__(self, params: RuleParams) -> None:
        self.params = params

    @classmethod
    def raised_types(cls) -> tuple[str, ...]:
        """The alert types this rule raises: `alert_types`, or its `id`."""
        return cls.alert_types or (cls.id,)

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray | None:
        """Which rows of a batch of reports this rule must see (a boolean array), or None for all.

        The contract: for a row outside the mask whose vessel this rule does not watch, calling
        `on_report`, `on_position` and `on_static` would have done nothing at all (no alert, no change
        of state). Rows outside the mask are then skipped, which is what makes a batch cheap. Zone
        events and ticks always reach the rule. `tests/test_batch_equivalence.py` replays logs with
        and without the masks and requires identical alert streams.
        """
        return None

    def watch(self, ctx: RuleContext, mmsi: int) -> None:
        """From now on this rule sees every report of the vessel, whatever its `interest` says
        (call it when the rule starts keeping state for the vessel)."""
        w = ctx.watching
        w[mmsi] = w.get(mmsi, 0) | self.bit

    def unwatch(self, ctx: RuleContext, mmsi: int) -> None:
        """The rule keeps no more state for the vessel: its `interest` decides again."""
        w = ctx.watching
        bits = w.get(mmsi)
        if bits is not None:
            bits &= ~self.bit
            if bits:
                w[mmsi] = bits
            else:
                del w[mmsi]

    def watches(self, ctx: RuleContext, mmsi: int) -> bool:
        return bool(ctx.watching.get(mmsi, 0) & self.bit)

    def rule_info(self) -> dict[str, Any]:
        """The `rule` field of the alerts this rule raises: its id and the parameters it used."""
        return {"id": self.id, "params": self.params.model_dump(exclude={"enabled"})}

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        """A position report with a valid position has been merged into `vessel`."""

    def on_static(self, vessel: VesselState, report: StaticReport, ctx: RuleContext) -> None:
        """Static/voyage data has been merged into `vessel`."""

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        """Any report at all, before the position/static hooks (identity and distress rules)."""

    def on_zone_event(self, vessel: VesselState, event: ZoneEvent, ctx: RuleContext) -> None:
        """A confirmed zone entry or exit."""

    def on_tick(self, ctx: RuleContext) -> None:
        """Called every `tick_seconds` of event time: time-outs, gaps, sweeps over all vessels."""

    def on_restore(self, alerts: list[Alert], ctx: RuleContext) -> None:
        """After a restart with an alert database: the newest stored alert of each key (type,
        mmsi, other_mmsi, zone) of the types this rule raises, active or not, called once at the
        first event time, before any report reaches the rule, when the data continues the store's
        timeline (`AlertEngine._resume`). Active alerts are restored by the engine in any case; this
        is for what a rule must remember of its past events (a visit whose entry was recorded)."""

    def save_state(self, ctx: RuleContext) -> dict[str, Any] | None:
        """What the rule must remember across a restart that its alerts do not hold (the identities
        vessels declared, the distress devices heard), as data `json` can write; None: nothing.
        With an alert database file, it is saved there at the end of input, and by the daemon every
        `vts.daemon.CHECKPOINT_S` of its running time and when it stops (`AlertEngine.checkpoint`)."""
        return None

    def load_state(self, state: dict[str, Any], saved_at: float, ctx: RuleContext) -> None:
        """After a restart: what `save_state` returned at event time `saved_at`, handed over once
        at the first event time (`ctx.now`), before any report reaches the rule and after
        `on_restore`, when the data continues the database's timeline (as for `on_restore`). The
        rule judges what is still worth keeping after the time it was down (`ctx.now - saved_at`)."""

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        """The tracker forgot this vessel: drop any per-vessel state (and its watch: `unwatch`)."""

    def adopt(self, previous: Rule) -> bool:
        """A reload changed this rule's parameters: take over what `previous` (the instance this one
        replaces, same class) knows, where the new parameters can carry on with it. True when
        taken over: the engine then keeps the vessels `previous` watched (the bit is the same) and
        its active alerts as confirmed. False (the default): this rule starts afresh, the engine
        forgets its watches and lets the alerts it does not confirm expire."""
        return False
