"""The alert engine: runs every enabled rule and owns the alert lifecycle.

Rules report conditions through the `AlertSink` methods (`hold`, `clear`, `event`); the engine turns
them into `Alert` steps:

* a **state** alert (``hold``) is *raised* the first time, then *updated* while it holds: at once
  when its severity or a categorical piece of evidence changes (a flag, a side, a zone), otherwise at
  most every ``alerts.update_minutes`` of event time; ``clear`` ends it (*cleared*);
* an **event** alert (``event``) is raised once.

Around that: a per-condition cooldown (``alerts.cooldown_minutes``) after a clear or an event, so one
condition flapping at a threshold does not fire again and again (a condition is the alert's key and
its ``details.kind``: a vessel's invalid IMO number does not hide its change of name, a wrong-way run
does not hide the erratic turns that follow); a snooze per vessel and type after
an operator acknowledges (``alerts.snooze_minutes``); no alert on a target with fewer than
``alerts.min_messages`` messages unless the alert is about identity itself (`IDENTITY_TYPES`).

Everything runs on event time, rules run in a fixed (sorted) order, and nothing depends on the wall
clock or on set/dict ordering, so a replayed log always gives the same alert stream. Every step goes to
the `AlertStore` (if any): active alerts are reloaded at start and, if no rule confirms them within
``alerts.restore_grace_minutes`` of event time, cleared. What the rules must remember beyond their
alerts (`Rule.save_state`) and the vessels known (`Tracker.saved_state`: their tracks and static
data) are saved in the same database at checkpoints (`checkpoint`) and handed back after a restart
(`Rule.load_state`, `Tracker.restore`).
"""

from __future__ import annotations

import json
import logging
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from vts.alerts.model import Alert, Severity, iso_time, make_alert_id
from vts.feed_clock import FeedClocks
from vts.reports import PositionReport, Report, StaticReport
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.registry import rule_classes

if TYPE_CHECKING:
    from vts.alerts.store import AlertStore
    from vts.batch import ReportBatch
    from vts.config import Config
    from vts.spatial import VesselGrid
    from vts.tracker import Tracker, VesselState
    from vts.zones import ZoneEngine, ZoneEvent

log = logging.getLogger(__name__)

IDENTITY_TYPES: frozenset[str] = frozenset({"invalid_mmsi", "identity_change", "duplicate_mmsi", "distress"})
"""Alert types about the identity or the distress of a target itself: exempt from `min_messages`."""

NO_COOLDOWN_TYPES: frozenset[str] = frozenset({"zone_entry", "zone_exit", "distress"})
"""Events that must never be swallowed by a cooldown or by an acknowledgement's snooze: port-visit
records (acknowledging one visit must not drop the vessel's next ones), and distress (its rule
raises once per activation and again when a test turns live)."""

CLOSING_TYPES: frozenset[str] = frozenset({"zone_exit"})
"""Events that close a record whose opening already passed `min_messages` (a visit's exit, recorded
only after its recorded entry): not checked again, as the tracker may have forgotten the vessel."""

KEEP_ON_FORGET_TYPES: frozenset[str] = frozenset({"ais_gap"})
"""Alerts that stay active when the tracker forgets the silent vessel (their rule ends them)."""

EXTERNAL_ACK_POLL_S = 10.0
ERRORS_LOGGED_IN_FULL = 5
"""A failing rule's first errors are logged with their traceback, then one line per thousand."""
HOUSEKEEPING_S = 600.0
TRACKER_STATE = "tracker"
ZONES_STATE = "zones"
RULE_STATE = "rule/"
"""Owners of the saved states (`AlertStore.save_states`): the tracker, and ``rule/<id>`` for each rule."""
ALL_RULES = -1
"""The bit set with every rule's bit."""
RECENT_EVENTS_KEPT = 2000

Key = tuple[str, int, int | None, str | None]
CooldownKey = tuple[Key, str | None]
"""An alert's key and its ``details.kind``: what one cooldown holds back."""


@dataclass(slots=True)
class EngineStats:
    raised: int = 0
    updated: int = 0
    cleared: int = 0
    events: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)
    """Conditions not turned into alerts, by reason (min_messages, cooldown, snooze)."""
    rule_errors: dict[str, int] = field(default_factory=dict)
    """Exceptions raised by rules (logged and counted; the engine keeps running)."""


@dataclass(slots=True)
class _Active:
    alert: Alert
    """Current form (the last published step, plus any newer evidence not yet published)."""
    rule_id: str
    last_published: float
    published_severity: Severity
    published_flags: dict[str, Any]
    ack: dict[str, Any] | None = None
    restored: bool = False
    """Reloaded from the store (or kept over a rule reload): cleared unless a rule confirms it."""


def _flags(details: dict[str, Any]) -> dict[str, Any]:
    """The categorical part of the evidence (booleans, strings): a change is material."""
    return {k: v for k, v in details.items() if isinstance(v, bool | str) or v is None}


def engine_rule_params(config: Config) -> dict[str, RuleParams]:
    """Parameters of every known rule: the config's where given, the rule's defaults elsewhere."""
    out: dict[str, RuleParams] = {}
    for rid, cls in rule_classes().items():
        p: Any = config.rules.get(rid)
        if p is None:
            p = cls.Params()
        elif not isinstance(p, cls.Params):
            raw = p.model_dump() if isinstance(p, BaseModel) else p
            p = cls.Params.model_validate(raw)
        out[rid] = p
    return out


def _overrides(rule: Rule, hook: str) -> bool:
    return getattr(type(rule), hook) is not getattr(Rule, hook)


class _Hooks:
    """One hook of the rules that define it (`on_report`, `on_position`, ...), in dispatch order,
    with, per set of rule bits met so far, the hooks those bits select (a batch has few distinct
    sets: the dispatch then loops over the chosen rules only, not over every rule)."""

    __slots__ = ("all", "bits", "chosen")
    MAX_CHOSEN = 4096

    def __init__(self, hooks: list[tuple[int, Rule, Callable[..., None]]]) -> None:
        self.all = hooks
        self.bits = 0
        """The bits of the rules defining the hook: a report whose bits miss them all calls none
        (most reports reach no rule's `on_report`: the dispatch is skipped outright)."""
        for bit, _, _ in hooks:
            self.bits |= bit
        self.chosen: dict[int, list[tuple[Rule, Callable[..., None]]]] = {}

    def __bool__(self) -> bool:
        return bool(self.all)

    def choose(self, bits: int) -> list[tuple[Rule, Callable[..., None]]]:
        if len(self.chosen) >= self.MAX_CHOSEN:
            self.chosen.clear()
        chosen = self.chosen[bits] = [(rule, fn) for bit, rule, fn in self.all if bits & bit]
        return chosen


class AlertEngine:
    def __init__(
        self,
        config: Config,
        tracker: Tracker,
        zones: ZoneEngine,
        grid: VesselGrid,
        store: AlertStore | None = None,
        feeds: FeedClocks | None = None,
    ) -> None:
        self.config = config
        self.tracker = tracker
        self.zones = zones
        self.grid = grid
        self.store = store
        self.stats = EngineStats()
        self.ctx = RuleContext(
            config=config,
            tracker=tracker,
            zones=zones,
            grid=grid,
            allowlists=config.allowlists,
            alerts=self,
            now=0.0,
            feeds=FeedClocks() if feeds is None else feeds,
        )
        self.rules: list[Rule] = []
        self._next_tick: dict[str, float] = {}
        self._next_any_tick = -math.inf
        self._next_due = -math.inf
        """Earliest event time at which `tick` has anything to do (rule ticks, time-outs, polls)."""
        self.set_rules(
            [cls_params_rule(rid, p) for rid, p in engine_rule_params(config).items() if p.enabled]
        )
        self._active: dict[Key, _Active] = {}
        self._active_of_type: dict[str, set[Key]] = {}
        """The keys of `_active` by alert type (`_activate` and `_deactivate` keep the indexes)."""
        self._active_of_mmsi: dict[int, set[Key]] = {}
        """The keys of `_active` by `mmsi` and by `other_mmsi` (what `forget` ends)."""
        self._by_id: dict[str, Key] = {}
        self._cooldown: dict[CooldownKey, float] = {}
        self._snooze: dict[tuple[str, int], float] = {}
        self._recent_events: OrderedDict[str, Alert] = OrderedDict()
        self._ids_at: float | None = None
        self._ids_now: set[str] = set()
        """The ids given to alerts started at event time `_ids_at` (see `_new_alert`)."""
        self._pending: list[Alert] = []
        self._current_rule: Rule | None = None
        self._now: float | None = None
        self._restore_deadline: float | None = None
        self._next_ack_poll = -math.inf
        self._next_housekeeping: float | None = None
        self._ack_seq = 0
        self._restored_events: list[Alert] = []
        """For the rules with `Rule.on_restore`: the newest stored alert of each key of their types,
        handed over at the first event time (see `_resume`)."""
        self._store_latest: float | None = None
        """Event time of the newest step in the store at start (None: an empty store, or none)."""
        self._saved_states: dict[str, tuple[float, Any]] = {}
        """The states saved in the store (owner, `TRACKER_STATE` or `RULE_STATE` + rule id -> (saved
        at, state)), handed over at the first event time (see `_resume`)."""
        if store is not None:
            self._restore(store)

    # -- rules ---------------------------------------------------------------------------------------
    def set_rules(self, rules: list[Rule]) -> None:
        """Replace the running rules (reload, tests, tools); their hooks are dispatched in list order."""
        self.rules = rules
        order = {rid: i for i, rid in enumerate(rule_classes())}
        spare = len(order)
        for r in rules:
            index = order.get(r.id)
            if index is None:
                index, spare = spare, spare + 1
            r.bit = 1 << index

        def bound(hook: str) -> _Hooks:
            return _Hooks([(r.bit, r, getattr(r, hook)) for r in rules if _overrides(r, hook)])

        self._on_report = bound("on_report")
        self._on_position = bound("on_position")
        self._on_static = bound("on_static")
        self._interested = [r for r in rules if _overrides(r, "interest")]
        self._always_bits = 0
        for r in rules:
            if not _overrides(r, "interest"):
                self._always_bits |= r.bit
        self._on_zone = bound("on_zone_event")
        self._on_forget = bound("on_forget")
        self._late_blind = 0
        """Bits of the rules that do not take late fixes (`Rule.late_fixes`)."""
        self._outlier_blind = 0
        """Bits of the rules that do not take fixes held back as outliers (`Rule.outlier_fixes`)."""
        for r in rules:
            if not r.late_fixes:
                self._late_blind |= r.bit
            if not r.outlier_fixes:
                self._outlier_blind |= r.bit
        self._fix_blind = self._late_blind | self._outlier_blind
        """Bits of the rules that may not take some fixes (`_position_bits` has a question for them)."""
        self._on_tick = [r for r in rules if _overrides(r, "on_tick")]
        self._rule_by_id = {r.id: r for r in rules}
        self._next_tick = {}
        self._next_any_tick = -math.inf
        self._next_due = -math.inf

    def rule(self, rule_id: str) -> Rule | None:
        return self._rule_by_id.get(rule_id)

    def _run(self, rule: Rule, hook: str, *args: Any) -> None:
        """One rule's hook; if it raises, it is logged and counted."""
        self._current_rule = rule
        try:
            getattr(rule, hook)(*args)
        except Exception:
            self._rule_failed(rule)
        self._current_rule = None

    def _dispatch(self, hooks: _Hooks, bits: int, *args: Any) -> None:
        """Call the hooks of the rules whose bit is set, in order; a rule that raises is logged and
        counted, the others still run."""
        chosen = hooks.chosen.get(bits)
        if chosen is None:
            chosen = hooks.choose(bits)
        for rule, fn in chosen:
            self._current_rule = rule
            try:
                fn(*args)
            except Exception:
                self._rule_failed(rule)
        self._current_rule = None

    def interest_bits(self, batch: ReportBatch) -> list[int] | None:
        """Per report of the batch, the bits of the rules that must see it (see `Rule.interest`);
        None when no rule narrows its interest (every rule sees every report)."""
        if not self._interested or not len(batch):
            return None
        bits = np.full(len(batch), self._always_bits, dtype=np.int64)
        ctx = self.ctx
        for rule in self._interested:
            self._current_rule = rule
            try:
                mask = rule.interest(batch, ctx)
            except Exception:
                self._rule_failed(rule)
                mask = None
            if mask is None:
                bits |= rule.bit
            else:
                bits[mask] |= rule.bit
        self._current_rule = None
        return bits.tolist()

    def _rule_failed(self, rule: Rule) -> None:
        n = self.stats.rule_errors.get(rule.id, 0) + 1
        self.stats.rule_errors[rule.id] = n
        if n <= ERRORS_LOGGED_IN_FULL:
            log.exception("rule %s failed (counted, the engine keeps running)", rule.id)
        elif n % 1000 == 0:
            log.error("rule %s has failed %d times", rule.id, n)

    # -- inputs from the core --------------------------------------------------------------------------
    def on_report(
        self,
        vessel: VesselState | None,
        report: Report,
        zone_events: list[ZoneEvent],
        now: float,
        bits: int | None = None,
    ) -> None:
        """One merged report. `bits` (from `interest_bits`) limits the per-report hooks to the rules
        interested in this row or watching its vessel; None calls every rule."""
        ctx = self.ctx
        ctx.now = now
        last = self._now
        if last is None or now > last:
            self._first_time(now)
        if bits is None:
            bits = ALL_RULES
        else:
            bits |= ctx.watching.get(report.mmsi, 0)
        # (each hook is dispatched only when a rule defining it is among the bits: most reports reach
        # no rule's `on_report`, and most fixes no rule that may refuse them)
        if bits & self._on_report.bits:
            self._dispatch(self._on_report, bits, vessel, report, ctx)
        if vessel is None or vessel.is_shadow:
            return
        if isinstance(report, PositionReport):
            if report.lat is not None and report.lon is not None and bits & self._on_position.bits:
                if bits & self._fix_blind:
                    bits = self._position_bits(vessel, report, bits)
                self._dispatch(self._on_position, bits, vessel, report, ctx)
        elif isinstance(report, StaticReport):
            if bits & self._on_static.bits:
                self._dispatch(self._on_static, bits, vessel, report, ctx)
        if zone_events:
            for event in zone_events:
                self._dispatch(self._on_zone, ALL_RULES, vessel, event, ctx)

    def _position_bits(self, vessel: VesselState, report: PositionReport, bits: int) -> int:
        """`bits` without the rules that do not take late fixes, for a late fix, and without those
        that do not take outliers, while the vessel's latest fix is held back as one. (Each question
        is asked only when `bits` has a rule it concerns: the answer would change nothing else.)"""
        t = vessel.position_time
        if bits & self._late_blind and t is not None and report.time < t:
            bits &= ~self._late_blind
        if bits & self._outlier_blind and self.zones.held_back(vessel.mmsi, t):
            bits &= ~self._outlier_blind
        return bits

    def tick(self, now: float) -> None:
        """Event time has moved to `now`: run the rules whose tick is due, time-outs, housekeeping."""
        ctx = self.ctx
        ctx.now = now
        last = self._now
        if last is None:
            self._first_time(now)
        elif now > last:  # (`_first_time`'s own step, inline: the core ticks on every new time)
            self._now = now
        if now < self._next_due:
            return
        if now >= self._next_any_tick:
            for rule in self._on_tick:
                due = self._next_tick.get(rule.id)
                if due is None or now >= due:
                    step = max(float(rule.tick_seconds), 1e-3)
                    self._next_tick[rule.id] = (math.floor(now / step) + 1) * step
                    if due is not None:
                        self._run(rule, "on_tick", ctx)
            self._next_any_tick = min(self._next_tick.values(), default=math.inf)
        if self._restore_deadline is not None and now >= self._restore_deadline:
            self._restore_deadline = None
            self._expire_restored(now)
        if self.store is not None and now >= self._next_ack_poll:
            self._next_ack_poll = now + EXTERNAL_ACK_POLL_S
            self._poll_external_acks(now)
        if self._next_housekeeping is None or now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_S
            self._cooldown = {k: v for k, v in self._cooldown.items() if v > now}
            self._snooze = {k: v for k, v in self._snooze.items() if v > now}
        self._next_due = min(
            self._next_any_tick,
            math.inf if self._restore_deadline is None else self._restore_deadline,
            self._next_ack_poll if self.store is not None else math.inf,
            self._next_housekeeping,
        )

    def checkpoint(self) -> None:
        """Save the rules' states (`Rule.save_state`) and the vessels' tracks and static data
        (`Tracker.saved_state`) to the alert database, as of the current event time. The engine
        never calls it itself: its callers do, at the end of input (`Core.finish`), and the daemon
        every `vts.daemon.CHECKPOINT_S` of its running time and when it stops (what a crash can lose
        is a matter of the time the daemon ran, not of the event time a fast replay races through).
        Nothing without a database file, or before the first event time. A rule whose `save_state`
        raises is counted as failed; the others are saved."""
        store, now = self.store, self._now
        if store is None or not self._saves_states() or now is None:
            return
        states = {
            TRACKER_STATE: json.dumps(self.tracker.saved_state(), separators=(",", ":")),  # (NaN kept)
            ZONES_STATE: json.dumps(self.zones.saved_state(), separators=(",", ":")),
        }
        for rule in self.rules:
            if not _overrides(rule, "save_state"):
                continue
            self._current_rule = rule
            try:
                state = rule.save_state(self.ctx)
                if state is not None:
                    states[RULE_STATE + rule.id] = _json(state)
            except Exception:
                self._rule_failed(rule)
        self._current_rule = None
        store.save_states(states, now)

    def _saves_states(self) -> bool:
        """A database file to write to (an in-memory store is gone at the restart anyway)."""
        return self.store is not None and self.store.path is not None and not self.store.read_only

    def drain(self) -> list[Alert]:
        """The alert steps produced since the last drain, in order (and committed to the store)."""
        if self.store is not None:
            self.store.commit()
        out, self._pending = self._pending, []
        return out

    def forget(self, mmsi: int) -> None:
        """The tracker forgot this vessel: rules drop its state; its alerts end (bar KEEP_ON_FORGET_TYPES)."""
        if self._on_forget:
            self._dispatch(self._on_forget, ALL_RULES, mmsi, self.ctx)
        now = self._now if self._now is not None else 0.0
        mine = [k for k in self._active_of_mmsi.get(mmsi, ()) if k[0] not in KEEP_ON_FORGET_TYPES]
        for key in sorted(mine, key=_key_order):
            self._clear_key(key, now, {"reason": "target lost (no longer tracked)"}, None)

    def reload(self, config: Config, zones: ZoneEngine) -> None:
        """New zones and rule parameters; unchanged rules keep their state, active alerts are kept."""
        self.config = config
        self.zones = zones
        self.ctx.config = config
        self.ctx.zones = zones
        self.ctx.allowlists = config.allowlists
        old = {r.id: r for r in self.rules}
        new_rules: list[Rule] = []
        for rid, p in engine_rule_params(config).items():
            if not p.enabled:
                continue
            prev = old.get(rid)
            new_rules.append(prev if prev is not None and prev.params == p else cls_params_rule(rid, p))
        kept = {id(r) for r in new_rules}
        changed = {rid for rid, r in old.items() if id(r) not in kept}
        for r in new_rules:
            prev = old.get(r.id)
            if r.id in changed and prev is not None and type(prev) is type(r) and r.adopt(prev):
                changed.discard(r.id)  # carries on: its watches and alerts stand
        self.set_rules(new_rules)
        stale = 0
        for rid in changed:
            stale |= old[rid].bit
        if stale:  # replaced rules start with no state: they watch nothing yet
            watching = self.ctx.watching
            for mmsi in list(watching):
                bits = watching[mmsi] & ~stale
                if bits:
                    watching[mmsi] = bits
                else:
                    del watching[mmsi]
        now = self._now if self._now is not None else 0.0
        for key in sorted(self._active, key=_key_order):
            entry = self._active[key]
            if entry.rule_id not in self._rule_by_id:
                self._clear_key(key, now, {"reason": f"rule {entry.rule_id} switched off"}, None)
            elif entry.rule_id in changed:
                entry.restored = True
        if changed:
            self._restore_deadline = now + self.config.alerts.restore_grace_minutes * 60.0
            self._next_due = -math.inf

    def acknowledge(self, alert_id: str, who: str, note: str, now: float, wall: float | None = None) -> bool:
        """An operator acknowledges an alert at event time `now`: recorded (with `wall`, the wall-clock
        time the shell saw it at, when given: the store keeps it for the record, nothing here reads
        it), and its vessel and type are snoozed.

        Returns False for an unknown alert id."""
        key = self._by_id.get(alert_id)
        alert: Alert | None = None
        if key is not None:
            alert = self._active[key].alert
        elif alert_id in self._recent_events:
            alert = self._recent_events[alert_id]
        elif self.store is not None:
            alert = self.store.get(alert_id)
        if alert is None:
            return False
        if self.store is not None:
            self.store.acknowledge(alert_id, who, note, now, origin="engine", wall=wall)
        self._apply_ack(alert, who, note, now)
        return True

    def active(self) -> list[Alert]:
        """Alerts holding now, oldest first (copies)."""
        items = sorted(self._active.values(), key=lambda e: (e.alert.started, e.alert.id))
        return [replace(e.alert, details=dict(e.alert.details)) for e in items]

    # -- AlertSink (what rules call) -------------------------------------------------------------------
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
        now = self.ctx.now
        key: Key = (type, mmsi, other_mmsi, zone)
        entry = self._active.get(key)
        if entry is not None:
            a = entry.alert
            a.severity = severity
            a.message = message
            a.time = now
            if lat is not None and lon is not None:
                a.lat, a.lon = lat, lon
            a.details = dict(details)
            a.name = self._name(mmsi) or a.name
            entry.restored = False
            flags = _flags(a.details)
            interval = self.config.alerts.update_minutes * 60.0
            if (
                severity != entry.published_severity
                or flags != entry.published_flags
                or now - entry.last_published >= interval
            ):
                a.state = "updated"
                self._publish_active(entry, now)
            return
        if not self._may_alert(type, mmsi, other_mmsi, (key, details.get("kind")), now):
            return
        alert = self._new_alert(type, mmsi, other_mmsi, zone, severity, message, lat, lon, details, now)
        entry = _Active(
            alert=alert,
            rule_id=self._current_rule.id if self._current_rule is not None else type,
            last_published=now,
            published_severity=severity,
            published_flags={},
        )
        self._activate(key, entry)
        self.stats.raised += 1
        self._publish_active(entry, now)

    def _new_alert(
        self,
        type: str,
        mmsi: int,
        other_mmsi: int | None,
        zone: str | None,
        severity: Severity,
        message: str,
        lat: float | None,
        lon: float | None,
        details: dict[str, Any],
        now: float,
    ) -> Alert:
        """A freshly raised alert, for `hold` and `event` alike. Its id is unique: a second alert of
        the same key started at the same instant (another kind of event, or a raise right after a
        clear with no cooldown) gets the next one of the same stable sequence."""
        if now != self._ids_at:
            self._ids_at = now
            self._ids_now.clear()
        seq = 0
        alert_id = make_alert_id(type, mmsi, other_mmsi, zone, now)
        while alert_id in self._ids_now or alert_id in self._by_id:
            seq += 1
            alert_id = make_alert_id(type, mmsi, other_mmsi, zone, now, seq)
        self._ids_now.add(alert_id)
        return Alert(
            id=alert_id,
            type=type,
            severity=severity,
            state="raised",
            mmsi=mmsi,
            time=now,
            started=now,
            message=message,
            lat=lat,
            lon=lon,
            other_mmsi=other_mmsi,
            zone=zone,
            name=self._name(mmsi),
            details=dict(details),
            rule=self._rule_info(),
        )

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
        key: Key = (type, mmsi, other_mmsi, zone)
        if key in self._active:
            self._clear_key(key, self.ctx.now, details, message)

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
        now = self.ctx.now
        key: Key = (type, mmsi, other_mmsi, zone)
        cool = (key, details.get("kind"))
        if not self._may_alert(type, mmsi, other_mmsi, cool, now):
            return
        alert = self._new_alert(type, mmsi, other_mmsi, zone, severity, message, lat, lon, details, now)
        if type not in NO_COOLDOWN_TYPES:
            self._cooldown[cool] = now + self.config.alerts.cooldown_minutes * 60.0
        self.stats.events += 1
        self._recent_events[alert.id] = alert
        while len(self._recent_events) > RECENT_EVENTS_KEPT:
            self._recent_events.popitem(last=False)
        self._emit(replace(alert, details=dict(alert.details)), active=False)

    def is_active(self, type: str, mmsi: int, other_mmsi: int | None = None, zone: str | None = None) -> bool:
        # (rules ask this on many reports, mostly of vessels with no active alert: those are answered
        # by one look-up in the index by vessel, without building the key)
        keys = self._active_of_mmsi.get(mmsi)
        return keys is not None and (type, mmsi, other_mmsi, zone) in keys

    def active_keys(self, type: str) -> list[tuple[int, int | None, str | None]]:
        """(mmsi, other_mmsi, zone) of the active alerts of one type, sorted."""
        return sorted(
            ((k[1], k[2], k[3]) for k in self._active_of_type.get(type, ())),
            key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2] or ""),
        )

    def active_mmsis(self, type: str) -> set[int]:
        """The MMSIs (`mmsi`, not `other_mmsi`) with an active alert of one type."""
        return {k[1] for k in self._active_of_type.get(type, ())}

    def _activate(self, key: Key, entry: _Active) -> None:
        self._active[key] = entry
        self._by_id[entry.alert.id] = key
        self._active_of_type.setdefault(key[0], set()).add(key)
        by_mmsi = self._active_of_mmsi
        by_mmsi.setdefault(key[1], set()).add(key)
        if key[2] is not None:
            by_mmsi.setdefault(key[2], set()).add(key)

    def _deactivate(self, key: Key) -> _Active:
        entry = self._active.pop(key)
        self._by_id.pop(entry.alert.id, None)
        self._active_of_type[key[0]].discard(key)
        for mmsi in (key[1], key[2]):
            if mmsi is None:
                continue
            keys = self._active_of_mmsi.get(mmsi)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._active_of_mmsi[mmsi]
        return entry

    def active_alert(
        self, type: str, mmsi: int, other_mmsi: int | None = None, zone: str | None = None
    ) -> Alert | None:
        entry = self._active.get((type, mmsi, other_mmsi, zone))
        return None if entry is None else entry.alert

    # -- internals ------------------------------------------------------------------------------------
    def _first_time(self, now: float) -> None:
        if self._now is None:
            self._now = now
            self._resume(now)
            if any(e.restored for e in self._active.values()):
                self._drop_restored_from_other_timeline(now)
                self._restore_deadline = now + self.config.alerts.restore_grace_minutes * 60.0
                self._next_due = -math.inf
        elif now > self._now:
            self._now = now

    def _name(self, mmsi: int) -> str | None:
        v = self.tracker.get(mmsi)
        return None if v is None else v.name

    def _rule_info(self) -> dict[str, Any]:
        return self._current_rule.rule_info() if self._current_rule is not None else {}

    def _suppress(self, reason: str) -> bool:
        self.stats.suppressed[reason] = self.stats.suppressed.get(reason, 0) + 1
        return False

    def _may_alert(self, type: str, mmsi: int, other_mmsi: int | None, cool: CooldownKey, now: float) -> bool:
        if type not in IDENTITY_TYPES and type not in CLOSING_TYPES:
            need = self.config.alerts.min_messages
            for m in (mmsi, other_mmsi):
                if m is None:
                    continue
                v = self.tracker.get(m)
                if v is None or v.message_count < need:
                    return self._suppress("min_messages")
        until = self._cooldown.get(cool)
        if until is not None and now < until:
            return self._suppress("cooldown")
        if type in NO_COOLDOWN_TYPES:
            return True
        snooze = self._snooze.get((type, mmsi))
        if snooze is not None and now < snooze:
            return self._suppress("snooze")
        return True

    def _publish_active(self, entry: _Active, now: float) -> None:
        a = entry.alert
        entry.last_published = now
        entry.published_severity = a.severity
        entry.published_flags = _flags(a.details)
        details = dict(a.details)
        if entry.ack is not None:
            details["acknowledged"] = dict(entry.ack)
        self._emit(replace(a, details=details), active=True)

    def _emit(self, alert: Alert, *, active: bool) -> None:
        if alert.state == "updated":
            self.stats.updated += 1
        self._pending.append(alert)
        if self.store is not None:
            self.store.record(alert, active=active)

    def _clear_key(self, key: Key, now: float, details: dict[str, Any] | None, message: str | None) -> None:
        entry = self._deactivate(key)
        a = entry.alert
        a.state = "cleared"
        a.time = max(now, a.time)
        if details:
            a.details = {**a.details, **details}
        a.message = message or f"ended: {a.message}"
        v = self.tracker.get(a.mmsi)
        if v is not None and v.lat is not None and v.lon is not None:
            a.lat, a.lon = v.lat, v.lon
        if a.type not in NO_COOLDOWN_TYPES:
            self._cooldown[(key, a.details.get("kind"))] = a.time + self.config.alerts.cooldown_minutes * 60.0
        self.stats.cleared += 1
        out = replace(a, details=dict(a.details))
        if entry.ack is not None:
            out.details["acknowledged"] = dict(entry.ack)
        self._emit(out, active=False)

    def _apply_ack(self, alert: Alert, who: str, note: str, at: float) -> None:
        self._snooze[(alert.type, alert.mmsi)] = at + self.config.alerts.snooze_minutes * 60.0
        key = self._by_id.get(alert.id)
        if key is None:
            return
        entry = self._active[key]
        entry.ack = {"by": who, "time": iso_time(at), "note": note}
        entry.alert.state = "updated"
        entry.alert.time = max(entry.alert.time, at)
        self._publish_active(entry, max(entry.alert.time, at))

    def _poll_external_acks(self, now: float) -> None:
        assert self.store is not None
        for ack in self.store.acks(after_seq=self._ack_seq):
            self._ack_seq = ack.seq
            if ack.origin == "engine":
                continue
            alert = self.store.get(ack.alert_id)
            if alert is not None:
                # acknowledged from the shell (wall clock): applied at the current event time
                self._apply_ack(alert, ack.by, ack.note, now)

    def _restore(self, store: AlertStore) -> None:
        for alert in store.active_alerts():
            key: Key = (alert.type, alert.mmsi, alert.other_mmsi, alert.zone)
            rule_id = str(alert.rule.get("id", alert.type)) if alert.rule else alert.type
            entry = _Active(
                alert=alert,
                rule_id=rule_id,
                last_published=alert.time,
                published_severity=alert.severity,
                published_flags=_flags(alert.details),
                restored=True,
            )
            self._activate(key, entry)
        for ack in store.acks():
            at = ack.at
            if ack.origin != "engine":  # a shell ack is stamped by the wall clock; the daemon
                # applied it at the event time of its alert's next step (`_apply_ack`), at the latest
                stored = store.get(ack.alert_id)
                if stored is not None:
                    at = min(at, stored.time)
            self._snooze[(ack.type, ack.mmsi)] = max(
                self._snooze.get((ack.type, ack.mmsi), -math.inf),
                at + self.config.alerts.snooze_minutes * 60.0,
            )
            acked = self._by_id.get(ack.alert_id)
            if acked is not None:
                self._active[acked].ack = {"by": ack.by, "time": iso_time(ack.at), "note": ack.note}
        self._ack_seq = store.last_ack_seq()
        self._store_latest = store.latest_time()
        cooldown_s = self.config.alerts.cooldown_minutes * 60.0
        if self._store_latest is not None and cooldown_s > 0:
            # conditions that ended (cleared, or events) within a cooldown of the last step stored:
            # still held back after a restart, as they would have been without one
            for alert in store.ended_alerts(since=self._store_latest - cooldown_s):
                if alert.type in NO_COOLDOWN_TYPES or alert.state == "updated":
                    continue  # "updated" and inactive: dropped as from another timeline, not ended
                cool = ((alert.type, alert.mmsi, alert.other_mmsi, alert.zone), alert.details.get("kind"))
                self._cooldown[cool] = max(self._cooldown.get(cool, -math.inf), alert.time + cooldown_s)
        wanted = sorted({t for r in self.rules if _overrides(r, "on_restore") for t in r.raised_types()})
        if wanted:
            self._restored_events = store.latest_alerts(wanted)
        self._saved_states = store.saved_states()

    def _resume(self, now: float) -> None:
        """The first event time after a start with a store: what was restored from it besides the
        active alerts (the vessel tracks, cooldowns, snoozes, the rules' `on_restore` and
        `load_state`) carries on only when the data continues the store's timeline: it starts no
        earlier than the restore grace before the store's newest step (and before the rules' states
        were saved). Older data (a log replayed into a database that already holds later alerts)
        starts afresh, so that what came after it cannot hold back or swallow its alerts."""
        events, self._restored_events = self._restored_events, []
        saved, self._saved_states = self._saved_states, {}
        grace = self.config.alerts.restore_grace_minutes * 60.0
        latest = self._store_latest
        if latest is not None and latest - now > grace:
            self._cooldown.clear()
            self._snooze.clear()
            if self.store is not None:
                log.info(
                    "the data (%s) is older than the alert database's newest step (%s): not taken up as"
                    " its continuation (its vessel tracks and the rules' memory are left aside)",
                    iso_time(now),
                    iso_time(latest),
                )
            return
        entry = saved.get(TRACKER_STATE)
        if entry is not None and entry[0] - now <= grace:  # (first: the rules may look at the vessels)
            try:
                self.tracker.restore(entry[1], now)
            except (TypeError, ValueError, KeyError, AttributeError) as e:
                log.warning("the vessels saved before the restart cannot all be taken up: %s", e)
            for vessel in self.tracker.vessels():
                if vessel.lat is not None and vessel.lon is not None:
                    self.grid.update(vessel.mmsi, vessel.lat, vessel.lon)
            zones = saved.get(ZONES_STATE)
            if zones is not None and zones[0] - now <= grace:  # the zones the vessels taken up are in
                try:
                    self.zones.restore(zones[1], {v.mmsi for v in self.tracker.vessels()})
                except ValueError as e:
                    log.warning("the vessels' zones saved before the restart cannot all be taken up: %s", e)
        if latest is not None:
            log.info(
                "carrying on from the alert database (newest step %s): %d alert(s) holding, %d vessel"
                " track(s) taken up%s",
                iso_time(latest),
                len(self._active),
                len(self.tracker),
                "" if entry is not None else " (none saved)",
            )
        for rule in self.rules:
            if latest is not None and _overrides(rule, "on_restore"):
                types = set(rule.raised_types())
                mine = [a for a in events if a.type in types]
                if mine:
                    self._run(rule, "on_restore", mine, self.ctx)
            entry = saved.get(RULE_STATE + rule.id)
            if entry is not None and entry[0] - now <= grace and _overrides(rule, "load_state"):
                self._run(rule, "load_state", entry[1], entry[0], self.ctx)

    def _drop_restored_from_other_timeline(self, now: float) -> None:
        """Alerts restored from well after the data now read (more than the restore grace: a replay
        of an older log) belong to another timeline; they are closed in the store without a step.
        Data a little older than the last stored step (a feed that lags, a buffer read first) is
        the same timeline: those alerts are restored as usual."""
        grace = self.config.alerts.restore_grace_minutes * 60.0
        for key in sorted(self._active, key=_key_order):
            entry = self._active[key]
            if entry.restored and entry.alert.time - now > grace:
                self._deactivate(key)
                if self.store is not None:
                    self.store.deactivate(entry.alert.id)

    def _expire_restored(self, now: float) -> None:
        for key in sorted((k for k, e in self._active.items() if e.restored), key=_key_order):
            self._clear_key(key, now, {"reason": "not confirmed after restart or rule change"}, None)


def _json(state: Any) -> str:
    return json.dumps(state, separators=(",", ":"), allow_nan=False)


def _key_order(key: Key) -> tuple[str, int, int, str]:
    return (key[0], key[1], -1 if key[2] is None else key[2], key[3] or "")


def cls_params_rule(rule_id: str, params: RuleParams) -> Rule:
    return rule_classes()[rule_id](params)
