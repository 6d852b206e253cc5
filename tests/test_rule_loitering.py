"""loitering: slow (or circling) for 30 min (small craft) / 60 min (others) where it has no business."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    circling,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    path,
    reload_run,
    run,
    set_rule,
    states,
    static,
)
from vts.alerts.model import Alert
from vts.reports import PositionReport, Report
from vts.rules._common import in_watched_area
from vts.rules.loitering import LoiteringRule

DATA = Path(__file__).resolve().parent / "data" / "scenarios"
CRAFT = 760000601
SHIP = 760000501


def drift_then_leave(
    mmsi: int, minutes: float, *, at: tuple[float, float] = OPEN_WATER, sog: float = 1.0, cls: str = "B"
):  # type: ignore[no-untyped-def]
    slow = moving(mmsi, T0, minutes=minutes, start=at, cog=200, sog=sog, every_s=30, ais_class=cls)
    last = slow[-1]
    assert last.lat is not None and last.lon is not None
    fast = moving(
        mmsi,
        last.time + 30,
        minutes=10,
        start=(last.lat, last.lon),
        cog=0,
        sog=9.0,
        every_s=30,
        ais_class=cls,
    )
    return slow + fast


def test_small_craft_slow_for_35_minutes_fires_and_clears() -> None:
    steps = of_type(run(make_core(), drift_then_leave(CRAFT, 35)), "loitering")
    assert states(steps)[0] == "raised" and states(steps)[-1] == "cleared"
    assert states(steps).count("raised") == 1
    raised = steps[0]
    assert 30 * 60 <= raised.time - T0 <= 31 * 60
    assert raised.details["circling"] is False and raised.details["small_craft"] is True
    assert raised.details["mean_sog_kn"] < 2.0
    assert "under way" in steps[-1].details["reason"]


def test_small_craft_slow_for_25_minutes_is_silent() -> None:
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 25)), "loitering") == []


def test_at_2_5_knots_is_silent() -> None:
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 40, sog=2.5)), "loitering") == []


def test_slow_inside_the_anchorage_is_silent() -> None:
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 40, at=ANCHORAGE)), "loitering") == []


def test_large_vessel_needs_an_hour() -> None:
    def ship(minutes: float):  # type: ignore[no-untyped-def]
        return merge(
            static(SHIP, T0 - 60, name="DRIFTER", ship_type=70, length=180),
            drift_then_leave(SHIP, minutes, cls="A"),
        )

    assert of_type(run(make_core(), ship(45)), "loitering") == []
    steps = of_type(run(make_core(), ship(65)), "loitering")
    assert steps and steps[0].state == "raised" and 60 * 60 <= steps[0].time - T0 <= 61 * 60
    assert steps[0].details["small_craft"] is False


def test_circling_at_4_knots_is_flagged() -> None:
    reports = circling(
        CRAFT,
        T0,
        minutes=35,
        centre=offset(OPEN_WATER, north_m=500),
        radius_m=120,
        sog=4.0,
        every_s=30,
        ais_class="B",
    )
    steps = of_type(run(make_core(), reports), "loitering")
    assert steps and steps[0].state == "raised"
    assert steps[0].details["circling"] is True
    assert abs(steps[0].details["turn_deg"]) >= 360
    assert steps[0].details["radius_m"] <= 300


def test_a_loitering_alert_is_not_updated_at_every_sample() -> None:
    """Found by an independent check (tests/data/scenarios/slow_wandering_boat.nmea): a boat with no
    static data wandering at 2.3 kn for 45 minutes had its alert updated every 30 s, the circling
    flag and the radius coming and going with each sample of the window. Evidence of a kind that
    changed is published at once; a circle drawn stays drawn while the alert is up, and a measure
    not known is left out rather than given as None, so the updates come every
    `alerts.update_minutes` (5). Its message says how a mean over 2 kn still holds it."""
    core = make_core()
    alerts: list[Alert] = []
    core.add_alert_listener(alerts.append)
    core.feed_lines((DATA / "slow_wandering_boat.nmea").read_bytes().splitlines(), "scenario")
    core.finish()
    steps = of_type(alerts, "loitering")
    assert steps and steps[0].state == "raised" and steps[0].details["circling"] is True
    updates = [a.time for a in steps if a.state == "updated"]
    assert len(updates) <= 3 and all(b - a >= 5 * 60 - 1 for a, b in pairwise(updates))
    assert all(a.details["circling"] is True for a in steps if a.state != "cleared")
    assert any("kn mean; ends above 3 kn" in a.message for a in steps)


def test_straight_transit_at_4_knots_is_silent() -> None:
    reports = moving(CRAFT, T0, minutes=40, start=OPEN_WATER, cog=200, sog=4.0, every_s=30, ais_class="B")
    assert of_type(run(make_core(), reports), "loitering") == []


def test_at_anchor_by_status_is_silent() -> None:
    reports = merge(
        static(SHIP, T0 - 60, name="WAITING", ship_type=80, length=180),
        moving(SHIP, T0, minutes=70, start=OPEN_WATER, cog=0, sog=0.2, every_s=60, nav_status=1),
    )
    alerts = run(make_core(), reports)
    assert of_type(alerts, "loitering") == []
    assert of_type(alerts, "unauthorised_anchoring")  # reported as what it is


def test_tug_waiting_is_silent() -> None:
    reports = merge(
        static(CRAFT, T0 - 60, name="TUG", ship_type=52, length=28), drift_then_leave(CRAFT, 40, cls="A")
    )
    assert of_type(run(make_core(), reports), "loitering") == []


def test_distress_beacon_drifting_is_not_loitering() -> None:
    epirb = 974601234  # an EPIRB-AIS: the distress rule reports it, not loitering
    reports = moving(epirb, T0, minutes=40, start=OPEN_WATER, cog=90, sog=0.4, every_s=60)
    assert of_type(run(make_core(), reports), "loitering") == []
    assert of_type(run(make_core(), drift_then_leave(CRAFT, 40)), "loitering")  # a boat doing the same does


def test_ship_leaving_its_berth_after_an_hour_is_silent() -> None:
    from tests.rule_helpers import BERTH_DPWORLD

    at_berth = moving(SHIP, T0, minutes=70, start=BERTH_DPWORLD, cog=0, sog=0.0, every_s=30)  # status 0
    last = at_berth[-1]
    assert last.lat is not None and last.lon is not None
    leaving = moving(
        SHIP, last.time + 30, minutes=15, start=(last.lat, last.lon), cog=300, sog=1.5, every_s=30
    )
    reports = merge(static(SHIP, T0 - 60, name="SEASPAN", ship_type=71, length=300), at_berth, leaving)
    assert of_type(run(make_core(), reports), "loitering") == []


# -- batched processing: why every fix counts, and the incremental tick ---------------------------------


def _inside(core_zones: object, fix: PositionReport) -> bool:
    assert fix.lat is not None and fix.lon is not None
    return in_watched_area(core_zones, fix.lat, fix.lon)  # type: ignore[arg-type]


def test_the_window_filled_outside_the_area_counts_once_inside() -> None:
    """A small craft drifting at 1 kn across the edge of the watched area: the 23 minutes of
    samples taken outside count towards its 30-minute window, so the alert comes 7 minutes after it
    crosses in, not 30. (The rule has no interest mask for that reason; `run` replays it batched.)"""
    core = make_core()
    drift = moving(
        CRAFT, T0, minutes=40, start=(-12.040, -77.2905), cog=90, sog=1.0, every_s=30, ais_class="B"
    )
    entry = next(f for f in drift if _inside(core.zones, f))
    assert 20 * 60 <= entry.time - T0 <= 25 * 60
    steps = of_type(run(core, drift), "loitering")
    assert steps and steps[0].state == "raised"
    assert 30 * 60 <= steps[0].time - T0 <= 31 * 60
    assert steps[0].time - entry.time < 10 * 60


def test_a_fix_far_outside_the_area_an_hour_earlier_changes_the_alert() -> None:
    """Samples are taken at least `sample_s` apart counting from the previous sample, so one fix far
    out at sea, 90 minutes before the alert, shifts every later sample: the alert inside the area
    comes at another moment. No fix can be left out of the rule, however far or fast."""

    def alerts(extra: bool) -> list[Alert]:
        sea = moving(SHIP, T0, minutes=34, start=(-12.040, -77.400), cog=90, sog=12.0, every_s=20)
        last = sea[-1]
        assert last.lat is not None and last.lon is not None
        slow = moving(
            SHIP, last.time + 20, minutes=70, start=(last.lat, last.lon), cog=90, sog=1.0, every_s=20
        )
        reports: list[Report] = [
            static(SHIP, T0 - 60, name="SLOWCOACH", ship_type=70, length=180),
            *sea,
            *slow,
        ]
        if extra:  # one more fix 10 s after the second, on the same track
            first = sea[1]
            assert first.lat is not None and first.lon is not None
            reports.append(
                path(SHIP, first.time + 10, [(first.lat, first.lon + 0.0006)], sog=12.0, cog=90)[0]
            )
        return of_type(run(make_core(), merge(reports)), "loitering")

    core = make_core()
    far = moving(SHIP, T0, minutes=1, start=(-12.040, -77.400), cog=90, sog=12.0, every_s=20)
    assert not any(_inside(core.zones, f) for f in far)  # about 12 km outside the area
    plain, shifted = alerts(extra=False), alerts(extra=True)
    assert plain and shifted and plain[0].state == shifted[0].state == "raised"
    assert plain[0].time - T0 > 80 * 60
    assert plain[0].time != shifted[0].time


def test_a_reload_with_new_parameters_carries_the_tracks_on() -> None:
    """New loitering parameters replace the rule: the new one takes over the old one's tracks
    (`Rule.adopt`). A Class B boat drifting at 1 kn reports every 3 minutes, so the first tick after
    the reload comes before its next fix: its alert is neither cleared as 'target silent' then nor
    raised again a window later. It goes on as without the reload, batched or not."""
    drifting = moving(CRAFT, T0, minutes=90, start=OPEN_WATER, cog=200, sog=1.0, every_s=180, ais_class="B")
    busy = moving(SHIP, T0, minutes=90, start=offset(OPEN_WATER, north_m=5000), cog=0, sog=10.0, every_s=10)
    reports = merge(drifting, busy)
    cut = T0 + 45 * 60 + 5
    before = [r for r in reports if r.time <= cut]
    after = [r for r in reports if r.time > cut]
    config = make_config()
    kept = [
        (a["state"], a["time"])
        for a in reload_run(None, config, config, before, after)
        if a["type"] == "loitering"
    ]
    assert [s for s, _ in kept if s != "updated"] == ["raised", "cleared"]
    changed = set_rule(make_config(), "loitering", max_speed_kn=2.1)
    for chunk in (None, 40):
        got = reload_run(chunk, config, changed, before, after)
        assert [(a["state"], a["time"]) for a in got if a["type"] == "loitering"] == kept


def test_tracks_silent_for_an_hour_are_dropped_others_kept() -> None:
    """The pruning pops the tracks that may have gone silent from a heap instead of scanning them
    all: a vessel whose fixes stopped (its static reports keep it in the tracker) loses its track,
    one still reporting keeps it."""
    core = make_core()
    rule = core.engine.rule("loitering")
    assert isinstance(rule, LoiteringRule)
    quiet = moving(CRAFT, T0, minutes=5, start=OPEN_WATER, cog=90, sog=8.0, every_s=30, ais_class="B")
    names = [static(CRAFT, T0 + 360 + 300 * i, name="QUIET", ais_class="B") for i in range(16)]
    busy = moving(SHIP, T0, minutes=80, start=offset(OPEN_WATER, north_m=2000), cog=0, sog=8.0, every_s=60)
    reports = merge(quiet, names, busy)
    core.process_many([r for r in reports if r.time < T0 + 600])
    track = rule._tracks[SHIP]
    core.process_many([r for r in reports if r.time >= T0 + 600])
    assert core.tracker.get(CRAFT) is not None  # still tracked ...
    assert CRAFT not in rule._tracks  # ... but its loitering track is gone
    assert rule._tracks[SHIP] is track  # kept all along


def test_lost_reports_of_a_slow_boat_do_not_restart_its_window() -> None:
    """Found with an independent generator: a Class B boat dawdling at 1 kn reports every 3 minutes,
    and with a fifth of its messages lost, three in a row go missing often: gaps of 12 minutes
    restarted its 30-minute window again and again, and it was never raised. A gap of up to
    `bridge_gap_minutes` (30) after which the boat is heard where it could have drifted at under
    2 kn keeps the window; a boat heard again farther off than that starts a new one."""
    from dataclasses import replace

    track = moving(CRAFT, T0, minutes=60, start=OPEN_WATER, cog=200, sog=1.0, every_s=180, ais_class="B")
    kept = [(i, r) for i, r in enumerate(track) if i % 5 in (0, 4)]  # three lost after each kept one
    lossy = [r for _, r in kept]
    assert max(b.time - a.time for a, b in pairwise(lossy)) == 12 * 60
    assert states(of_type(run(make_core(), lossy), "loitering"))[:1] == ["raised"]
    # the same gaps, the boat heard again 1.5 km off after each (4 kn over the gap): it went
    # somewhere; the window starts again, as before
    far = [
        replace(r, lon=offset((r.lat or 0.0, r.lon or 0.0), east_m=1500)[1]) if i % 5 == 4 else r
        for i, r in kept
    ]
    assert of_type(run(make_core(), far), "loitering") == []
