"""zone_visits: zone_entry / zone_exit records for the zones that keep them."""

from __future__ import annotations

from tests.rule_helpers import (
    ANCHORAGE,
    T0,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    reload_run,
    run,
    static,
    stationary,
)

SHIP = 760000571


def test_anchorage_visit_gives_entry_and_exit_with_dwell() -> None:
    start = offset(ANCHORAGE, north_m=-3000)  # south of the anchorage, outside it
    inbound = moving(SHIP, T0, minutes=10, start=start, cog=0, sog=10.0, every_s=10)
    stay = stationary(
        SHIP, inbound[-1].time + 10, minutes=30, at=offset(ANCHORAGE, north_m=84), every_s=60, nav_status=1
    )
    outbound = moving(
        SHIP, stay[-1].time + 10, minutes=12, start=offset(ANCHORAGE, north_m=84), cog=180, sog=10.0
    )
    alerts = run(
        make_core(),
        merge(static(SHIP, T0 - 60, name="VISITOR", ship_type=70, length=150), inbound, stay, outbound),
    )
    entries = [a for a in of_type(alerts, "zone_entry") if a.zone == "anchorage_main"]
    exits = [a for a in of_type(alerts, "zone_exit") if a.zone == "anchorage_main"]
    assert len(entries) == 1 and len(exits) == 1
    assert entries[0].severity == "info" and entries[0].state == "raised"
    assert entries[0].details["first_seen_inside"] is False and entries[0].details["deferred"] is False
    assert exits[0].time > entries[0].time
    assert 35 * 60 <= exits[0].details["dwell_s"] <= 50 * 60
    assert exits[0].details["gap"] is False
    # lanes and the plain VTS area keep no visit records
    assert all(a.zone in {"anchorage_main", "port_area", "anchorage_inner"} for a in entries + exits)
    assert not [a for a in alerts if a.type.startswith("zone_") and a.zone == "vts_area"]


def test_vessel_first_seen_inside_gets_its_entry_once_it_has_enough_messages() -> None:
    inside = offset(ANCHORAGE, north_m=84)
    stay = stationary(SHIP, T0, minutes=10, at=inside, every_s=60, nav_status=1)  # 11 reports, 1 per minute
    outbound = moving(SHIP, stay[-1].time + 10, minutes=15, start=inside, cog=180, sog=10.0)
    alerts = [a for a in run(make_core(), merge(stay, outbound)) if a.zone == "anchorage_main"]
    alerts = [a for a in alerts if a.type.startswith("zone_")]
    assert [a.type for a in alerts] == ["zone_entry", "zone_exit"]
    entry = alerts[0]
    assert entry.details["deferred"] is True and entry.details["first_seen_inside"] is True
    assert entry.details["crossing_time"] == "2026-01-15T17:00:00.000Z"  # the first fix inside
    assert entry.time >= T0 + 4 * 60  # raised once the target had its 5 messages


def test_in_and_out_before_five_messages_leaves_no_record() -> None:
    inside = offset(ANCHORAGE, north_m=84)
    stay = stationary(SHIP, T0, minutes=2, at=inside, every_s=60, nav_status=1)  # 3 reports
    # then far away after a gap: the exit is noticed on the 4th message
    out = stationary(SHIP, T0 + 900, minutes=1, at=offset(ANCHORAGE, north_m=-6000), every_s=30)
    alerts = [a for a in run(make_core(), merge(stay, out)) if a.zone == "anchorage_main"]
    assert [a for a in alerts if a.type.startswith("zone_")] == []


def test_held_back_entry_is_watched_in_a_batch_and_released() -> None:
    """The rule asks for no report at all: the vessel whose entry is held back is watched from the
    zone event on (in the middle of a batch), so its fifth message still raises the entry, and it is
    no longer watched afterwards."""
    inside = offset(ANCHORAGE, north_m=84)
    stay = stationary(SHIP, T0, minutes=10, at=inside, every_s=60, nav_status=1)
    core = make_core()
    rule = core.engine.rule("zone_visits")
    assert rule is not None
    first = core.process_many(stay[:3])  # entry confirmed at the 2nd fix, held back (< 5 messages)
    assert [a for a in first if a.type == "zone_entry"] == []
    assert rule.watches(core.engine.ctx, SHIP)
    rest = core.process_many(stay[3:])
    entries = [a for a in rest if a.type == "zone_entry" and a.zone == "anchorage_main"]
    assert len(entries) == 1 and entries[0].details["deferred"] is True
    assert not rule.watches(core.engine.ctx, SHIP)
    # the same reports one by one and as one batch give the same alerts
    run(make_core(), stay)


def _visit_alerts(alerts: list, zone: str = "anchorage_main") -> list:
    return [a for a in alerts if a.type.startswith("zone_") and a.zone == zone]


def test_a_vessel_forgotten_inside_gets_a_lost_exit_at_its_last_fix_inside() -> None:
    inside = offset(ANCHORAGE, north_m=84)
    stay = stationary(SHIP, T0, minutes=20, at=inside, every_s=60, nav_status=1)  # then never heard again
    core = make_core()
    forget_s = core.config.tracker.forget_after_s
    alerts = _visit_alerts(run(core, stay, until=stay[-1].time + forget_s + 700))
    assert [a.type for a in alerts] == ["zone_entry", "zone_exit"]
    lost = alerts[1]
    assert lost.details["lost"] is True and lost.details["gap"] is True
    assert lost.details["crossing_time"] == "2026-01-15T17:20:00.000Z"  # the last fix inside
    assert lost.details["dwell_s"] == 20 * 60.0
    assert (lost.lat, lost.lon) == (stay[-1].lat, stay[-1].lon)
    assert lost.time > stay[-1].time + forget_s and "no longer heard" in lost.message
    # a vessel that leaves normally is not "lost"
    outbound = moving(SHIP, stay[-1].time + 10, minutes=15, start=inside, cog=180, sog=10.0)
    exits = of_type(_visit_alerts(run(make_core(), merge(stay, outbound))), "zone_exit")
    assert len(exits) == 1 and exits[0].details["lost"] is False


def test_switching_recording_on_or_off_mid_visit_leaves_no_unmatched_record() -> None:
    inside = offset(ANCHORAGE, north_m=84)
    stay = stationary(SHIP, T0, minutes=20, at=inside, every_s=60, nav_status=1)
    outbound = moving(SHIP, stay[-1].time + 10, minutes=15, start=inside, cog=180, sog=10.0)
    on = make_core().config
    off = on.model_copy(deep=True)
    for z in off.zones:
        if z.id == "anchorage_main":
            z.record_visits = False
    # switched off during the visit: the exit of the visit under way is still recorded
    steps = _visit_dicts(reload_run(None, on, off, stay, outbound))
    assert [s["type"] for s in steps] == ["zone_entry", "zone_exit"]
    # switched on during the visit: its entry was never recorded, so neither is its exit
    assert _visit_dicts(reload_run(None, off, on, stay, outbound)) == []


def _visit_dicts(steps: list[dict]) -> list[dict]:
    return [s for s in steps if s["type"].startswith("zone_") and s["zone"] == "anchorage_main"]


def test_a_vessel_found_inside_after_a_reception_gap_was_not_seen_entering() -> None:
    """Heard south of the anchorage, then silent for 20 minutes (more than the 10-minute reception
    gap), then heard inside it: the entry is recorded, as found there, not seen entering."""
    start = offset(ANCHORAGE, north_m=-5000)
    before = moving(SHIP, T0, minutes=2, start=start, cog=0, sog=10.0, every_s=10)
    inside = offset(ANCHORAGE, north_m=84)
    after = stationary(SHIP, before[-1].time + 20 * 60, minutes=10, at=inside, every_s=60, nav_status=1)
    alerts = run(
        make_core(), merge(static(SHIP, T0 - 60, name="QUIET", ship_type=70, length=150), before, after)
    )
    entries = [a for a in of_type(alerts, "zone_entry") if a.zone == "anchorage_main"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.details["seen_entering"] is False and entry.details["first_seen_inside"] is False
    assert "found inside (not seen entering)" in entry.message
