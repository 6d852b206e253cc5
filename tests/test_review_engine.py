"""Adversarial review of the alert engine lifecycle, the alert store's lifecycle parts and the tracker.

A passing test documents a behaviour that holds; a failing one shows a bug (see the review report)."""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any

from tests.rule_helpers import (
    OPEN_WATER,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    offset,
    position,
    run,
    static,
    stationary,
)
from vts.alerts.engine import AlertEngine
from vts.alerts.model import Alert
from vts.alerts.store import AlertStore
from vts.core import Core
from vts.reports import PositionReport
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.tracker import Tracker, TrackerSettings, VesselState

V = 760000711
OTHER = 760000712


def known(core: Core, t0: float = T0, mmsis: tuple[int, ...] = (V, OTHER)) -> Core:
    """Feed 6 reports of each vessel so `min_messages` is passed."""
    for k, m in enumerate(mmsis):
        for i in range(6):
            core.process(position(m, t0 + i * 10 + k, offset(OPEN_WATER, north_m=900 * k), sog=5.0))
    return core


def hold(e: AlertEngine, t: float, **kw: Any) -> list[Alert]:
    args: dict[str, Any] = {
        "type": "loitering",
        "mmsi": V,
        "severity": "warning",
        "message": "m",
        "lat": -12.0,
        "lon": -77.2,
        "details": {},
    }
    args.update(kw)
    e.tick(t)
    e.hold(**args)
    return e.drain()


def event(e: AlertEngine, t: float, **kw: Any) -> list[Alert]:
    args: dict[str, Any] = {
        "type": "position_jump",
        "mmsi": V,
        "severity": "caution",
        "message": "e",
        "lat": -12.0,
        "lon": -77.2,
        "details": {},
    }
    args.update(kw)
    e.tick(t)
    e.event(**args)
    return e.drain()


# -- ids ---------------------------------------------------------------------------------------------


def test_two_events_of_different_kinds_at_the_same_instant_get_distinct_ids() -> None:
    """The cooldown is per kind, so one vessel may get a jump and an on-land event of one type in the
    same report; each is its own alert and must have its own id (the store keys alerts by id)."""
    store = AlertStore(None)
    core = known(Core(make_config(), store=store))
    e = core.engine
    t = T0 + 200
    e.tick(t)
    e.event(
        type="position_jump",
        mmsi=V,
        severity="caution",
        message="jump",
        lat=None,
        lon=None,
        details={"kind": "jump"},
    )
    e.event(
        type="position_jump",
        mmsi=V,
        severity="caution",
        message="on land",
        lat=None,
        lon=None,
        details={"kind": "on_land"},
    )
    out = e.drain()
    assert [a.details["kind"] for a in out] == ["jump", "on_land"]  # both emitted
    assert out[0].id != out[1].id, "two distinct alerts share one id"
    assert len(store.alerts(types=["position_jump"])) == 2  # neither overwrites the other in the store


def test_state_alert_cleared_and_raised_again_in_the_same_instant_gets_a_new_id() -> None:
    """With `cooldown_minutes: 0` (allowed by the settings), a condition that ends and comes back in the
    same report is a second alert; it must not reuse the first one's id (its history would mix both)."""
    store = AlertStore(None)
    core = known(Core(make_config(cooldown_minutes=0), store=store))
    e = core.engine
    t = T0 + 200
    first = hold(e, t)[0]
    e.clear(type="loitering", mmsi=V)
    e.hold(type="loitering", mmsi=V, severity="warning", message="again", lat=None, lon=None, details={})
    steps = e.drain()
    assert [a.state for a in steps] == ["cleared", "raised"]
    assert steps[1].id != first.id
    assert [a.state for a in store.history(first.id)] == ["raised", "cleared"]


def test_same_log_replayed_gives_the_same_ids() -> None:
    def once() -> list[str]:
        core = known(make_core())
        return [a.id for a in hold(core.engine, T0 + 200) + event(core.engine, T0 + 210)]

    assert once() == once()


# -- restart -------------------------------------------------------------------------------------------


def test_restart_first_report_slightly_late_does_not_silently_drop_active_alerts(tmp_path: Path) -> None:
    """After a restart the first report to arrive may be a few seconds older than the last stored step
    (two feeds, one lagging). The active alerts must not vanish from the store without a step: they are
    either restored (then confirmed or expired with a `cleared` step) or cleared visibly."""
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    raised = hold(core.engine, T0 + 300, type="custom_state")[0]
    assert core.engine.store is not None
    core.engine.store.close()

    store = AlertStore(db)
    core2 = Core(make_config(), store=store)
    assert [a.id for a in core2.engine.active()] == [raised.id]
    out = run(core2, [position(V, T0 + 290, OPEN_WATER, sog=5.0)], check_batch=False)  # 10 s late
    out += core2.advance(T0 + 290 + 20 * 60)  # past the restore grace
    ids_of_steps = [(a.id, a.state) for a in out if a.id == raised.id]
    still_active = raised.id in {a.id for a in core2.engine.active()}
    assert still_active or ids_of_steps == [(raised.id, "cleared")], (
        f"active alert dropped without any step (store active: {[a.id for a in store.active_alerts()]})"
    )


def test_restart_restored_alert_confirmed_keeps_its_id_and_ack(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    raised = hold(core.engine, T0 + 300, type="custom_state")[0]
    assert core.engine.acknowledge(raised.id, "op", "seen", T0 + 310)
    core.engine.drain()
    assert core.engine.store is not None
    core.engine.store.close()
    core2 = Core(make_config(), store=AlertStore(db))
    run(core2, stationary(V, T0 + 400, minutes=1, at=OPEN_WATER, sog=5.0), check_batch=False)
    again = hold(core2.engine, T0 + 700, type="custom_state")
    assert [(a.id, a.state) for a in again] == [(raised.id, "updated")]
    assert again[0].details["acknowledged"]["by"] == "op"


def test_restored_snooze_from_a_shell_ack_runs_on_event_time_like_the_live_one(tmp_path: Path) -> None:
    """A shell ack (`vts alerts --ack`, stamped with the wall clock) is applied by the running daemon at
    the current event time. After a restart the same ack must not snooze the vessel by the wall clock:
    here the wall clock is a month after the recorded data (a replay into a store, or a feed whose
    clock lags), and two hours of event time after the ack the vessel must alert again."""
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    e = core.engine
    raised = hold(e, T0 + 300)[0]
    wall = T0 + 30 * 86400.0
    shell = AlertStore(db)
    assert shell.acknowledge(raised.id, "op", "from shell", wall, origin="shell") is not None
    shell.close()
    polled = core.advance(T0 + 320)
    assert [a.state for a in polled] == ["updated"]  # applied live at event time
    e.tick(T0 + 400)
    e.clear(type="loitering", mmsi=V)
    e.drain()
    # live: 2 h of event time later the snooze (60 min from T0 + 320) is long over
    live = run(core, stationary(V, T0 + 7200, minutes=1, at=OPEN_WATER, sog=5.0), check_batch=False)
    assert [a.state for a in live + hold(e, T0 + 7300)] == ["raised"]
    assert e.store is not None
    e.store.close()

    # the same history, but the daemon restarted before the vessel came back
    db2 = tmp_path / "b.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db2)))
    e = core.engine
    raised = hold(e, T0 + 300)[0]
    shell = AlertStore(db2)
    shell.acknowledge(raised.id, "op", "from shell", wall, origin="shell")
    shell.close()
    core.advance(T0 + 320)
    e.tick(T0 + 400)
    e.clear(type="loitering", mmsi=V)
    e.drain()
    assert e.store is not None
    e.store.close()
    core2 = Core(make_config(), store=AlertStore(db2))
    run(core2, stationary(V, T0 + 7200, minutes=1, at=OPEN_WATER, sog=5.0), check_batch=False)
    after_restart = hold(core2.engine, T0 + 7300)
    assert [a.state for a in after_restart] == ["raised"], (
        f"snoozed by the wall clock after restart: {core2.engine.stats.suppressed}"
    )


def test_restored_alert_never_confirmed_is_cleared_with_a_stored_step(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    raised = hold(core.engine, T0 + 300, type="custom_state")[0]
    assert core.engine.store is not None
    core.engine.store.close()
    store = AlertStore(db)
    core2 = Core(make_config(), store=store)
    run(core2, stationary(OTHER, T0 + 400, minutes=1, at=OPEN_WATER, sog=5.0), check_batch=False)
    out = core2.advance(T0 + 400 + 16 * 60)
    assert [(a.id, a.state) for a in out] == [(raised.id, "cleared")]
    assert [a.state for a in store.history(raised.id)] == ["raised", "cleared"]
    assert store.active_alerts() == []


# -- acknowledgements ----------------------------------------------------------------------------------


def test_ack_twice_keeps_both_in_the_store_and_publishes_each() -> None:
    store = AlertStore(None)
    core = known(Core(make_config(), store=store))
    e = core.engine
    raised = hold(e, T0 + 200)[0]
    assert e.acknowledge(raised.id, "op1", "first", T0 + 210)
    assert e.acknowledge(raised.id, "op2", "second", T0 + 220)
    out = e.drain()
    assert [a.details["acknowledged"]["by"] for a in out] == ["op1", "op2"]
    assert [(k.by, k.note) for k in store.acks(raised.id)] == [("op1", "first"), ("op2", "second")]
    assert [a.state for a in store.history(raised.id)] == ["raised", "updated", "updated"]


def test_ack_of_a_cleared_alert_is_recorded_emits_nothing_and_snoozes() -> None:
    store = AlertStore(None)
    core = known(Core(make_config(), store=store))
    e = core.engine
    raised = hold(e, T0 + 200)[0]
    e.tick(T0 + 250)
    e.clear(type="loitering", mmsi=V)
    e.drain()
    assert e.acknowledge(raised.id, "op", "late", T0 + 300)
    assert e.drain() == []
    assert [k.by for k in store.acks(raised.id)] == ["op"]
    assert hold(e, T0 + 300 + 15 * 60) == []  # past cooldown, inside snooze
    assert e.stats.suppressed.get("snooze") == 1
    assert [a.state for a in hold(e, T0 + 300 + 61 * 60)] == ["raised"]  # snooze expired


def test_ack_of_an_event_alert_no_longer_in_memory_is_found_in_the_store() -> None:
    store = AlertStore(None)
    core = known(Core(make_config(), store=store))
    e = core.engine
    ev = event(e, T0 + 200)[0]
    e._recent_events.clear()  # long gone from the recent list
    assert e.acknowledge(ev.id, "op", "", T0 + 300)
    assert [k.alert_id for k in store.acks()] == [ev.id]


def test_shell_ack_while_running_applies_once_even_if_polled_again(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    e = core.engine
    raised = hold(e, T0 + 200)[0]
    shell = AlertStore(db)
    shell.acknowledge(raised.id, "sh", "n", 1.0, origin="shell")
    shell.close()
    first = core.advance(T0 + 230)
    second = core.advance(T0 + 260) + core.advance(T0 + 300)
    assert [a.state for a in first] == ["updated"] and second == []


def test_shell_ack_of_an_unknown_id_does_not_break_the_poll(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    e = core.engine
    raised = hold(e, T0 + 200)[0]
    shell = AlertStore(db)
    assert shell.acknowledge("0000000000000000", "sh", "", 1.0, origin="shell") is None
    shell.acknowledge(raised.id, "sh", "", 1.0, origin="shell")
    shell.close()
    out = core.advance(T0 + 230)
    assert [a.state for a in out] == ["updated"]


# -- cooldown / snooze -------------------------------------------------------------------------------


def test_condition_back_during_cooldown_is_raised_once_cooldown_ends() -> None:
    core = known(make_core())
    e = core.engine
    hold(e, T0 + 200)
    e.tick(T0 + 260)
    e.clear(type="loitering", mmsi=V)
    e.drain()
    held_back = [hold(e, T0 + 260 + s) for s in range(60, 600, 60)]
    assert all(x == [] for x in held_back)
    assert [a.state for a in hold(e, T0 + 260 + 600)] == ["raised"]


def test_snooze_is_per_vessel_and_type_only() -> None:
    core = known(make_core())
    e = core.engine
    r = hold(e, T0 + 200)[0]
    assert e.acknowledge(r.id, "op", "", T0 + 200)
    e.drain()
    assert [a.type for a in hold(e, T0 + 210, type="rendezvous", other_mmsi=OTHER)] == ["rendezvous"]
    assert [a.mmsi for a in hold(e, T0 + 210, mmsi=OTHER)] == [OTHER]


def test_snooze_from_ack_survives_housekeeping() -> None:
    core = known(make_core())
    e = core.engine
    r = hold(e, T0 + 200)[0]
    e.acknowledge(r.id, "op", "", T0 + 200)
    e.tick(T0 + 210)
    e.clear(type="loitering", mmsi=V)
    e.drain()
    for k in range(1, 6):  # housekeeping every 10 min of event time
        e.tick(T0 + 210 + k * 600)
    assert hold(e, T0 + 210 + 50 * 60) == []
    assert e.stats.suppressed["snooze"] >= 1


# -- rules that raise and clear in one report; two rules one type --------------------------------------


class RaiseThenClear(Rule):
    id = "raise_then_clear"

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.message_count == 8:
            ctx.alerts.hold(
                type="flash",
                mmsi=vessel.mmsi,
                severity="warning",
                message="x",
                lat=vessel.lat,
                lon=vessel.lon,
                details={},
            )
            ctx.alerts.clear(type="flash", mmsi=vessel.mmsi)


def test_rule_raising_then_clearing_in_the_same_report_leaves_a_complete_lifecycle() -> None:
    store = AlertStore(None)
    core = Core(make_config(), store=store)
    core.engine.set_rules([RaiseThenClear(RuleParams())])
    out = run(core, stationary(V, T0, minutes=2, at=OPEN_WATER, sog=5.0), check_batch=False)
    assert [a.state for a in out] == ["raised", "cleared"]
    assert out[0].id == out[1].id and out[1].time >= out[0].time
    assert store.active_alerts() == []


# -- forgetting, shadows -------------------------------------------------------------------------------


def test_vessel_forgotten_while_alerting_gets_a_cleared_step_and_can_alert_again_later() -> None:
    core = known(make_core(), mmsis=(V,))
    e = core.engine
    hold(e, T0 + 100)
    out = core.advance(T0 + 100 + 65 * 60) + core.advance(T0 + 100 + 67 * 60)
    assert [(a.type, a.state) for a in out if a.type == "loitering"] == [("loitering", "cleared")]
    assert core.tracker.get(V) is None
    known(core, t0=T0 + 3 * 3600, mmsis=(V,))
    assert [a.state for a in hold(e, T0 + 3 * 3600 + 100)] == ["raised"]


def test_shadow_track_never_triggers_position_rules_nor_moves_the_primary() -> None:
    core = make_core()
    run(core, stationary(V, T0, minutes=2, at=OPEN_WATER, sog=0.0), check_batch=False)
    v = core.tracker.get(V)
    assert v is not None
    lat, lon, count = v.lat, v.lon, v.message_count
    far = offset(OPEN_WATER, north_m=60_000)
    core.process(position(V, T0 + 130, far, sog=0.0))
    assert (v.lat, v.lon) == (lat, lon) and v.message_count == count
    shadow = core.tracker.shadow(V)
    assert shadow is not None and shadow.is_shadow and shadow.message_count == 1


def test_tracker_prune_drops_shadow_and_outlier_shadow() -> None:
    tr = Tracker(TrackerSettings(forget_after_minutes=60))
    for i in range(10):
        tr.update(position(V, T0 + i * 10, OPEN_WATER, sog=0.0))
    tr.update(position(V, T0 + 100, offset(OPEN_WATER, north_m=60_000), sog=0.0))
    assert tr.shadow(V) is not None
    for i in range(10):
        tr.update(position(V, T0 + 110 + i * 10, OPEN_WATER, sog=0.0))
    tr.prune(T0 + 100 + 601)
    assert tr.shadow(V) is None and tr.get(V) is not None
    assert tr.prune(T0 + 200 + 3601) == [V] and len(tr) == 0


def test_tracker_late_report_counts_without_moving_the_vessel() -> None:
    tr = Tracker()
    tr.update(position(V, T0 + 100, OPEN_WATER, sog=1.0))
    late = offset(OPEN_WATER, north_m=300)
    tr.update(position(V, T0 + 50, late, sog=1.0))
    v = tr.get(V)
    assert v is not None
    assert (v.lat, v.lon) == OPEN_WATER and v.position_time == T0 + 100
    assert v.message_count == 2 and v.first_seen == T0 + 50 and v.last_seen == T0 + 100


# -- memory over a long run ----------------------------------------------------------------------------


def _mentions(obj: Any, mmsis: set[int], depth: int = 0) -> bool:
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj in mmsis
    if depth > 2:
        return False
    if isinstance(obj, tuple):
        return any(_mentions(x, mmsis, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return any(_mentions(k, mmsis, depth + 1) for k in obj)
    if isinstance(obj, set | frozenset | list | deque):
        return any(_mentions(x, mmsis, depth + 1) for x in list(obj)[:100000])
    return False


def _state_of(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = list(getattr(rule, "__dict__", {}))
    for cls in type(rule).__mro__:
        names.extend(getattr(cls, "__slots__", ()))
    for n in names:
        if n == "params":
            continue
        try:
            out[n] = getattr(rule, n)
        except AttributeError:
            pass
    return out


def test_long_run_forgets_every_vessel_everywhere() -> None:
    """Vessels that come, alert (loitering pairs close together, a drifting small craft, a jump) and go
    silent for good: after hours of event time nothing per vessel stays behind (tracker, grid, rules'
    per-vessel state, watches, cooldowns, snoozes, the engine's indexes)."""
    core = make_core()
    mmsis: list[int] = []
    streams: list[Any] = []
    for k in range(12):
        m = 760000800 + k
        mmsis.append(m)
        spot = offset(OPEN_WATER, north_m=(k // 2) * 1500, east_m=(k % 2) * 80)
        streams.append(static(m, T0, name=f"V{k}", ship_type=30, length=12, ais_class="B"))
        streams.append(moving(m, T0, minutes=45, start=spot, cog=200, sog=0.6, every_s=30, ais_class="B"))
    jumper = 760000899
    mmsis.append(jumper)
    streams.append(stationary(jumper, T0, minutes=5, at=OPEN_WATER, every_s=10, sog=0.0))
    streams.append(position(jumper, T0 + 310, offset(OPEN_WATER, north_m=20000), sog=0.0))
    streams.append(stationary(jumper, T0 + 320, minutes=3, at=OPEN_WATER, every_s=10, sog=0.0))
    alerts = run(core, merge(*streams), check_batch=False)
    assert alerts, "the scenario should raise something"
    e = core.engine
    t = T0 + 50 * 60
    while t < T0 + 30 * 3600:  # a day and more of quiet, event time moved by a far vessel
        t += 300
        core.process(position(760000999, t, offset(OPEN_WATER, north_m=-20000), sog=8.0))
    gone = set(mmsis)
    # documented, bounded memories beyond the tracker's: identity_change keeps what an MMSI declared for
    # `memory_days` (pruned on tick); ais_gap's `_checked` is cleared past 4x the vessels it follows,
    # and its heap of the vessels out of the heard order drops stale entries lazily (it is rebuilt
    # once they outnumber twice its live ones + 1000: held below)
    deliberate = {("identity_change", "_known"), ("ais_gap", "_checked"), ("ais_gap", "_out_heap")}
    gap = e.rule("ais_gap")
    assert gap is not None and len(gap._out_heap) <= 2 * len(gap._out) + 1000  # type: ignore[attr-defined]
    leftovers: dict[str, list[str]] = {}
    for r in e.rules:
        bad = [n for n, v in _state_of(r).items() if (r.id, n) not in deliberate and _mentions(v, gone)]
        if bad:
            leftovers[r.id] = bad
    engine_bad = [
        n
        for n in ("_active", "_active_of_mmsi", "_cooldown", "_snooze", "_by_id")
        if _mentions(getattr(e, n), gone)
    ]
    engine_bad += [f"active_of_type[{k}]" for k, s in e._active_of_type.items() if _mentions(s, gone)]
    watching = sorted(set(e.ctx.watching) & gone)
    assert not any(core.tracker.get(m) for m in gone) and not any(core.tracker.shadow(m) for m in gone)
    assert not leftovers and not engine_bad and not watching, (leftovers, engine_bad, watching)


# -- robustness of the output format -------------------------------------------------------------------


class NotFinite(Rule):
    id = "not_finite"

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        if vessel.message_count == 6:
            ctx.alerts.hold(
                type="weird",
                mmsi=vessel.mmsi,
                severity="warning",
                message="w",
                lat=vessel.lat,
                lon=vessel.lon,
                details={"implied_speed_kn": math.inf},
            )


def test_a_non_finite_number_in_evidence_does_not_lose_the_alert() -> None:
    """A rule's evidence with an infinite value (a speed over a zero interval): the alert must still be
    stored and serialisable (the JSON form forbids NaN/Infinity), not half-emitted."""
    store = AlertStore(None)
    core = Core(make_config(), store=store)
    core.engine.set_rules([NotFinite(RuleParams())])
    out = run(core, stationary(V, T0, minutes=2, at=OPEN_WATER, sog=5.0), check_batch=False)
    assert [a.state for a in out] == ["raised"]
    assert not core.engine.stats.rule_errors
    assert [a.id for a in store.active_alerts()] == [out[0].id]
    out[0].to_json()


def test_shell_ack_made_while_the_daemon_was_down_is_attached_to_the_restored_alert(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    core = known(Core(make_config(), store=AlertStore(db)))
    raised = hold(core.engine, T0 + 300, type="custom_state")[0]
    assert core.engine.store is not None
    core.engine.store.close()
    shell = AlertStore(db)
    shell.acknowledge(raised.id, "night-op", "seen while down", T0 + 320, origin="shell")
    shell.close()
    core2 = Core(make_config(), store=AlertStore(db))
    run(core2, stationary(V, T0 + 400, minutes=1, at=OPEN_WATER, sog=5.0), check_batch=False)
    confirmed = hold(core2.engine, T0 + 700, type="custom_state")
    assert [a.state for a in confirmed] == ["updated"]
    assert confirmed[0].details["acknowledged"]["by"] == "night-op"
    assert core2.advance(T0 + 760) == []  # the ack is not applied a second time by the poll


def test_alert_step_times_never_go_backwards_with_a_late_source() -> None:
    core = known(make_core(), mmsis=(V,))
    e = core.engine
    core.advance(T0 + 300)
    e.hold(type="loitering", mmsi=V, severity="warning", message="m", lat=None, lon=None, details={})
    steps = e.drain()
    core.process(position(V, T0 + 200, OPEN_WATER, sog=5.0))  # a late report: event time stays
    e.hold(type="loitering", mmsi=V, severity="alarm", message="m", lat=None, lon=None, details={})
    steps += e.drain()
    e.clear(type="loitering", mmsi=V)
    steps += e.drain()
    assert [a.state for a in steps] == ["raised", "updated", "cleared"]
    times = [a.time for a in steps]
    assert times == sorted(times)
