"""course_anomaly's quick returns on a fix judged: each must do what the full check does."""

from __future__ import annotations

from tests.rule_helpers import T0, legs, make_config, make_core, same_in_chunks
from tests.test_rules_course import IN_LANE_EAST, SHIP, kinds


def test_a_wrong_way_alert_ends_when_the_ship_leaves_the_lane_for_no_zone() -> None:
    """`_check_wrong_way` returns at once for a vessel in no zone, unless it has a wrong-way run to
    end: leaving the lane (with no other zone around it), still on the wrong course, ends the alert."""
    config = make_config()
    config.zones = [z for z in config.zones if z.kind == "lane"]
    track = legs(SHIP, T0, IN_LANE_EAST, [(279.0, 600)], sog=10)
    core = make_core(config)
    steps = [(r, a) for r in track for a in core.process(r)]
    alerts = kinds([a for _, a in steps], "wrong_way")
    assert [a.state for a in alerts] == ["raised", "cleared"]
    report = next(r for r, a in steps if a is alerts[-1])
    assert core.zones.zones_of(SHIP) == set()  # (it cleared at a fix in no zone at all)
    assert report.time < track[-1].time
    same_in_chunks(track, (1, 7, 40), config=config)
