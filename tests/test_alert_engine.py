"""The alert engine: lifecycle, cooldown, snooze, minimum messages, hooks, ticks, determinism, restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tests.rule_helpers import (
    ANCHORAGE,
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
from vts.batch import ReportBatch
from vts.core import Core
from vts.reports import PositionReport, Report
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.tracker import VesselState

V = 760000581
V2 = 760000582
OTHER = 760000582


def ready_core(messages: int = 6, **alerts: Any) -> Core:
    """A core whose tracker knows vessel V (and OTHER) with `messages` messages each."""
    core = make_core(**alerts)
    run(
        core,
        merge(
            stationary(V, T0, minutes=(messages - 1) * 10 / 60, at=OPEN_WATER, every_s=10, sog=5.0),
            stationary(
                OTHER,
                T0 + 1,
                minutes=(messages - 1) * 10 / 60,
                at=offset(OPEN_WATER, north_m=900),
                every_s=10,
                sog=5.0,
            ),
        ),
    )
    return core


def at(engine: AlertEngine, t: float) -> AlertEngine:
    engine.tick(t)
    return engine


def hold(engine: AlertEngine, t: float, severity: str = "warning", **kw: Any) -> list[Alert]:
    args: dict[str, Any] = {
        "type": "loitering",
        "mmsi": V,
        "severity": severity,
        "message": "m",
        "lat": -12.0,
        "lon": -77.2,
        "details": {"d": t},
    }
    args.update(kw)
    at(engine, t).hold(**args)
    return engine.drain()


def test_state_alert_raised_updated_cleared() -> None:
    e = ready_core().engine
    t = T0 + 100
    first = hold(e, t)
    assert [a.state for a in first] == ["raised"]
    assert hold(e, t + 60) == []  # still holding: nothing new to publish
    assert [a.state for a in hold(e, t + 120, severity="alarm")] == ["updated"]  # severity: at once
    assert hold(e, t + 180, severity="alarm") == []
    periodic = hold(e, t + 120 + 300, severity="alarm")  # update interval (5 min) elapsed
    assert [a.state for a in periodic] == ["updated"] and periodic[0].details == {"d": t + 420}
    at(e, t + 500).clear(type="loitering", mmsi=V, details={"reason": "gone"})
    cleared = e.drain()
    assert [a.state for a in cleared] == ["cleared"] and cleared[0].details["reason"] == "gone"
    assert {a.id for a in first + cleared} == {first[0].id}
    assert cleared[0].started == t and cleared[0].time == t + 500
    at(e, t + 510).clear(type="loitering", mmsi=V)
    assert e.drain() == [] and e.active() == []


def test_categorical_evidence_change_is_published_at_once() -> None:
    e = ready_core().engine
    hold(e, T0 + 100, details={"circling": False, "mean": 1.0})
    assert hold(e, T0 + 130, details={"circling": False, "mean": 1.5}) == []
    changed = hold(e, T0 + 160, details={"circling": True, "mean": 1.5})
    assert [a.state for a in changed] == ["updated"] and changed[0].details["circling"] is True


def event(engine: AlertEngine, t: float, type_: str = "position_jump", mmsi: int = V) -> list[Alert]:
    at(engine, t).event(
        type=type_, mmsi=mmsi, severity="caution", message="e", lat=None, lon=None, details={}
    )
    return engine.drain()


def test_event_raised_once_then_cooldown() -> None:
    e = ready_core().engine
    assert [a.state for a in event(e, T0 + 100)] == ["raised"]
    assert event(e, T0 + 300) == []  # within the 10 min cooldown
    assert event(e, T0 + 300, mmsi=OTHER) != []  # per vessel
    assert len(event(e, T0 + 100 + 601)) == 1
    assert e.stats.suppressed["cooldown"] == 1


def test_cooldown_is_per_kind_of_condition() -> None:
    """An invalid IMO number (one kind of identity_change) does not hide the vessel's change of name
    just after (another kind); the same kind again is held back; a state alert of one kind cleared
    does not hold back another kind of the same type (erratic turns after a wrong-way run)."""
    e = ready_core().engine

    def identity(t: float, kind: str) -> list[Alert]:
        at(e, t).event(
            type="identity_change",
            mmsi=V,
            severity="warning",
            message=kind,
            lat=None,
            lon=None,
            details={"kind": kind},
        )
        return e.drain()

    assert len(identity(T0 + 100, "invalid_imo")) == 1
    assert [a.details["kind"] for a in identity(T0 + 160, "change")] == ["change"]
    assert identity(T0 + 220, "change") == []  # the same kind: cooled down
    assert identity(T0 + 220, "invalid_imo") == []
    assert e.stats.suppressed["cooldown"] == 2

    hold(e, T0 + 300, type="course_anomaly", details={"kind": "wrong_way"})
    at(e, T0 + 400).clear(type="course_anomaly", mmsi=V)
    e.drain()
    assert hold(e, T0 + 450, type="course_anomaly", details={"kind": "wrong_way"}) == []
    erratic = hold(e, T0 + 460, type="course_anomaly", details={"kind": "erratic"})
    assert [a.state for a in erratic] == ["raised"]


def test_state_cooldown_after_clear() -> None:
    e = ready_core().engine
    hold(e, T0 + 100)
    at(e, T0 + 200).clear(type="loitering", mmsi=V)
    e.drain()
    assert hold(e, T0 + 300) == []  # flapping at a threshold: not raised again
    again = hold(e, T0 + 200 + 601)
    assert [a.state for a in again] == ["raised"]


def test_acknowledge_snoozes_vessel_and_type() -> None:
    e = ready_core().engine
    raised = hold(e, T0 + 100)[0]
    assert e.acknowledge(raised.id, "op1", "seen, patrol sent", T0 + 150)
    acked = e.drain()
    assert [a.state for a in acked] == ["updated"]
    assert acked[0].details["acknowledged"]["by"] == "op1"
    assert acked[0].details["acknowledged"]["note"] == "seen, patrol sent"
    at(e, T0 + 200).clear(type="loitering", mmsi=V)
    assert e.drain()[0].details["acknowledged"]["by"] == "op1"
    assert hold(e, T0 + 150 + 1800) == []  # cooldown over, snooze (60 min) not
    assert [a.state for a in hold(e, T0 + 150 + 3601)] == ["raised"]
    assert not e.acknowledge("no-such-id", "op1", "", T0 + 4000)


def test_acknowledging_a_visit_record_or_a_distress_snoozes_nothing() -> None:
    """A port-visit record or a distress acknowledged: the vessel's next ones still come through."""
    for type_ in ("zone_entry", "distress"):
        e = ready_core().engine
        first = event(e, T0 + 100, type_)[0]
        assert e.acknowledge(first.id, "op1", "noted", T0 + 110)
        assert [a.type for a in event(e, T0 + 200, type_)] == [type_]
        assert "snooze" not in e.stats.suppressed
    e = ready_core().engine  # any other event type stays snoozed
    assert e.acknowledge(event(e, T0 + 100)[0].id, "op1", "", T0 + 110)
    assert event(e, T0 + 100 + 700) == [] and e.stats.suppressed["snooze"] == 1


def test_min_messages_except_identity_types() -> None:
    e = ready_core(messages=3).engine
    assert hold(e, T0 + 100) == []
    assert e.stats.suppressed["min_messages"] == 1
    assert [a.type for a in event(e, T0 + 100, "invalid_mmsi")] == ["invalid_mmsi"]
    e2 = ready_core(messages=5).engine
    assert [a.state for a in hold(e2, T0 + 100)] == ["raised"]


class Recorder(Rule):
    """Records which hooks the engine calls."""

    id = "recorder"
    tick_seconds = 60.0
    calls: ClassVar[list[tuple[str, int | None, bool, float]]] = []

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        self.calls.append(("report", report.mmsi, bool(vessel and vessel.is_shadow), ctx.now))

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        self.calls.append(("position", vessel.mmsi, vessel.is_shadow, ctx.now))

    def on_tick(self, ctx: RuleContext) -> None:
        self.calls.append(("tick", None, False, ctx.now))


class Exploding(Rule):
    id = "exploding"

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        raise ValueError("bug in a rule")


def test_hooks_ticks_shadows_and_rule_errors() -> None:
    core = make_core()
    Recorder.calls = []
    core.engine.set_rules([Exploding(RuleParams()), Recorder(RuleParams())])
    own = [position(V, T0 + i * 10, offset(OPEN_WATER, north_m=i * 30), sog=6.0, cog=0) for i in range(40)]
    far = [position(V, T0 + 5 + i * 10, offset(OPEN_WATER, north_m=40_000), sog=6.0, cog=0) for i in range(3)]
    run(core, merge(own, far), check_batch=False)  # (a twin core would record into the same list)
    assert core.engine.stats.rule_errors["exploding"] >= 40  # counted, and the core kept going
    shadow_reports = [c for c in Recorder.calls if c[0] == "report" and c[2]]
    shadow_positions = [c for c in Recorder.calls if c[0] == "position" and c[2]]
    assert shadow_reports and not shadow_positions  # shadows only get on_report
    assert len([c for c in Recorder.calls if c[0] == "position"]) == 40
    ticks = [c[3] for c in Recorder.calls if c[0] == "tick"]
    assert len(ticks) == 6  # 390 s of event time, a tick per started minute after the first
    minutes = [int(t // 60) for t in ticks]
    assert minutes == sorted(set(minutes))  # at most one tick per minute of event time, in order


def busy_scenario() -> list[Report]:
    ship, craft, a, b = 760000591, 760000592, 760000593, 760000594
    spot = offset(ANCHORAGE, north_m=40)
    return merge(
        static(ship, T0 - 900, name="BIG", ship_type=70, length=200),
        stationary(ship, T0 - 900, minutes=60, at=ANCHORAGE, every_s=180, nav_status=1, heading=90),
        stationary(craft, T0, minutes=12, at=spot, every_s=30, sog=0.4, ais_class="B"),
        moving(craft, T0 + 750, minutes=35, start=spot, cog=225, sog=1.0, every_s=30, ais_class="B"),
        stationary(a, T0, minutes=15, at=OPEN_WATER, every_s=10, sog=0.5),
        stationary(b, T0 + 3, minutes=15, at=offset(OPEN_WATER, east_m=90), every_s=10, sog=0.5),
    )


def test_replaying_twice_gives_identical_alerts() -> None:
    first = [a.to_json() for a in run(make_core(), busy_scenario())]
    second = [a.to_json() for a in run(make_core(), busy_scenario())]
    assert first == second
    assert {"alongside", "rendezvous"} <= {Alert.from_json(j).type for j in first}


def test_restart_restores_active_alerts_and_expires_unconfirmed(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    core = Core(make_config(), store=AlertStore(db))
    run(core, stationary(V, T0, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    kept = hold(core.engine, T0 + 100, type="custom_state")[0]
    gone = hold(core.engine, T0 + 100, type="restricted_area", zone="security_apm")
    assert core.engine.store is not None
    core.engine.store.close()

    core2 = Core(make_config(), store=AlertStore(db))
    assert {a.id for a in core2.engine.active()} == {kept.id, gone[0].id}
    run(core2, stationary(V, T0 + 200, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    confirmed = hold(core2.engine, T0 + 400, type="custom_state")  # a rule confirms it: no re-raise
    assert [(a.id, a.state) for a in confirmed] == [(kept.id, "updated")]  # not raised again
    expired = core2.advance(T0 + 200 + 16 * 60)
    assert [(a.id, a.state) for a in expired] == [(gone[0].id, "cleared")]
    assert expired[0].details["reason"].startswith("not confirmed")
    assert [a.id for a in core2.engine.active()] == [kept.id]


def test_active_keys_and_mmsis_of_a_type_follow_raise_clear_forget_and_restore(tmp_path: Path) -> None:
    db = tmp_path / "alerts.sqlite3"
    core = Core(make_config(), store=AlertStore(db))
    run(core, stationary(V, T0, minutes=1, at=OPEN_WATER, every_s=10, sog=5.0))
    run(core, stationary(OTHER, T0, minutes=1, at=offset(OPEN_WATER, north_m=900), every_s=10, sog=5.0))
    e = core.engine
    hold(e, T0 + 100, type="restricted_area", zone="security_apm")
    hold(e, T0 + 100, type="restricted_area", zone="security_dpw")
    hold(e, T0 + 100, type="restricted_area", mmsi=OTHER, zone="security_apm")
    hold(e, T0 + 100, type="loitering", mmsi=OTHER)
    assert e.active_keys("restricted_area") == [
        (V, None, "security_apm"),
        (V, None, "security_dpw"),
        (OTHER, None, "security_apm"),
    ]
    assert e.active_mmsis("restricted_area") == {V, OTHER} and e.active_mmsis("loitering") == {OTHER}
    at(e, T0 + 110).clear(type="restricted_area", mmsi=V, zone="security_apm")
    assert e.active_mmsis("restricted_area") == {V, OTHER}  # V is still in another zone
    at(e, T0 + 120).clear(type="restricted_area", mmsi=V, zone="security_dpw")
    assert e.active_mmsis("restricted_area") == {OTHER}
    e.forget(OTHER)
    assert e.active_mmsis("restricted_area") == set() and e.active_mmsis("loitering") == set()
    hold(e, T0 + 130, type="loitering")
    e.drain()
    assert e.store is not None
    e.store.close()
    restored = Core(make_config(), store=AlertStore(db)).engine
    assert restored.active_keys("loitering") == [(V, None, None)] and restored.active_mmsis("loitering") == {
        V
    }
    assert restored.active_keys("restricted_area") == [] and restored.active_mmsis("ais_gap") == set()


def test_switching_a_rule_off_clears_its_alerts() -> None:
    core = ready_core()
    e = core.engine
    e.tick(T0 + 100)
    loitering = e.rule("loitering")
    assert loitering is not None
    e._current_rule = loitering  # as if raised by the rule
    hold(e, T0 + 100)
    e._current_rule = None
    config = make_config()
    config.rules["loitering"] = config.rules["loitering"].model_copy(update={"enabled": False})
    core.reload(config)
    out = core.engine.drain()
    assert [(a.type, a.state) for a in out] == [("loitering", "cleared")]
    assert e.rule("loitering") is None and e.rule("alongside") is not None


def test_forget_ends_alerts_but_keeps_going_dark() -> None:
    e = ready_core().engine
    hold(e, T0 + 100, type="loitering")
    hold(e, T0 + 100, type="ais_gap")
    e.forget(V)
    out = e.drain()
    assert [(a.type, a.state) for a in out] == [("loitering", "cleared")]
    assert [a.type for a in e.active()] == ["ais_gap"]


def test_forget_ends_the_pair_alerts_of_the_other_vessel_too_and_nothing_else() -> None:
    e = ready_core().engine
    hold(e, T0 + 100, type="rendezvous", mmsi=V, other_mmsi=OTHER)
    hold(e, T0 + 100, type="loitering", mmsi=V)
    e.forget(OTHER + 1)  # holds no alert
    assert e.drain() == [] and len(e.active()) == 2
    e.forget(OTHER)  # the other vessel of the rendezvous
    assert [(a.type, a.state) for a in e.drain()] == [("rendezvous", "cleared")]
    assert [(a.type, a.mmsi) for a in e.active()] == [("loitering", V)]
    assert e._active_of_mmsi == {V: {("loitering", V, None, None)}}


class Masked(Rule):
    """Sees only reports over 5 kn, and every report of a vessel once it has seen one over 8 kn."""

    id = "masked"
    calls: ClassVar[list[tuple[int, float]]] = []

    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        return batch.sog > 5.0

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        self.calls.append((vessel.mmsi, report.time))
        if report.sog is not None and report.sog > 8.0:
            self.watch(ctx, vessel.mmsi)


def test_batches_reach_a_rule_only_where_its_interest_or_its_watch_says() -> None:
    core = make_core()
    Masked.calls = []
    core.engine.set_rules([Masked(RuleParams())])
    speeds = [1.0, 6.0, 2.0, 9.0, 1.0, 0.5]  # in knots; the 9-kn report starts the watch
    reports = [
        position(V, T0 + i * 10, offset(OPEN_WATER, north_m=i * 30), sog=v, cog=0)
        for i, v in enumerate(speeds)
    ]
    reports.append(position(V2, T0 + 100, OPEN_WATER, sog=1.0, cog=0))
    core.process_many(reports)
    # 6 and 9 kn by interest; then every later report of V by watch (1.0, 0.5); V2 never
    assert Masked.calls == [(V, T0 + 10), (V, T0 + 30), (V, T0 + 40), (V, T0 + 50)]
    Masked.calls = []
    fresh = make_core()  # one by one: every rule sees every report
    fresh.engine.set_rules([Masked(RuleParams())])
    for r in reports:
        fresh.process(r)
    assert len(Masked.calls) == len(reports)
