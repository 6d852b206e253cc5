"""cpa: fixes from the rule's review. The lost-target time of a slow Class B ship keeps its alert,
only tug or pilot craft with a ship they may serve are left out, each pair's geometry is its own
(mid-latitude scale, longitude wrapped at the antimeridian), alarm limits wider than the warning
ones are refused, and a zero minimum relative speed divides by zero silently. Every track runs one
by one and in batches of several sizes (`same_in_chunks`), which must give the same alerts."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from tests.rule_helpers import (
    OPEN_WATER,
    T0,
    Point,
    make_config,
    merge,
    moving,
    offset,
    position,
    same_in_chunks,
    set_rule,
    static,
)
from vts.config import Config
from vts.reports import Report
from vts.rules.cpa import CpaParams, CpaRule

A = 725000701
B = 725000702
C = 725000703
D = 725000704
NM = 1852.0


def cpa_steps(reports: list[Report], config: Config | None = None, **kw: Any) -> list[dict[str, Any]]:
    """The cpa alert steps, one by one and in batches (the same, or the test fails)."""
    return [a for a in same_in_chunks(reports, config=config, **kw) if a["type"] == "cpa"]


def lifecycle(steps: list[dict[str, Any]]) -> list[str]:
    return [a["state"] for a in steps if a["state"] != "updated"]


def head_on(start: Point = OPEN_WATER, north_m: float = 30.0, minutes: float = 8.0) -> list[Report]:
    """A eastbound and B westbound at 10 kn, 3000 m apart, passing `north_m` apart."""
    return merge(
        moving(A, T0, minutes=minutes, start=start, cog=90, sog=10),
        moving(B, T0, minutes=minutes, start=offset(start, north_m=north_m, east_m=3000), cog=270, sog=10),
    )


# -- 1: a vessel counts until it is lost ------------------------------------------------------------


def slow_class_b(every_s: float, fixes: int) -> list[Report]:
    """B, a Class B boat at 1.8 kn, reporting every `every_s` seconds (its nominal interval under
    2 kn is 180 s), and A at 10 kn meeting it head-on: they pass about 580 s after T0."""
    b = [
        position(
            B,
            T0 + k * every_s,
            offset(OPEN_WATER, north_m=60, east_m=2000 - 1.8 * 0.5144 * k * every_s),
            sog=1.8,
            cog=270,
            ais_class="B",
        )
        for k in range(fixes)
    ]
    return merge(moving(A, T0, minutes=12, start=offset(OPEN_WATER, east_m=-1500), cog=90, sog=10), b)


def test_a_slow_class_b_boat_keeps_its_alert_between_reports() -> None:
    """Reports 185 s apart (or a gap of 6 min) leave a slow Class B boat's last fix over
    max_fix_age_s old for a while: it is not lost (that takes six intervals, 18 min), so the alert
    holds until the two have passed, rather than clearing (for the cooldown to keep it away)."""
    config = make_config(min_messages=1)
    for reports in (
        slow_class_b(185.0, 5),
        [r for r in slow_class_b(60.0, 13) if r.mmsi == A or not T0 + 200 < r.time < T0 + 560],  # 6 min
    ):
        steps = cpa_steps(reports, config)
        assert lifecycle(steps) == ["raised", "cleared"]
        assert "alarm" in {a["severity"] for a in steps}
        assert steps[-1]["details"]["tcpa_min"] < 0.5  # held until they pass (its last details)


def test_a_static_report_that_makes_a_silent_ship_class_b_brings_it_back() -> None:
    """B sends Class A fixes at 1.5 kn, then falls silent: after 3 min it is lost (a Class A ship
    under way is expected every 10 s). A Class B static report then makes it a Class B boat, which
    is lost only after 18 min: its dead-reckoned position meets A's, batched or not (a static
    report is read by the mover table like a fix)."""
    b_start = offset(OPEN_WATER, north_m=40, east_m=3000)
    reports = merge(
        moving(B, T0, minutes=1, start=b_start, cog=270, sog=1.5),
        [static(B, T0 + 300, name="BOAT", ais_class="B")],
        moving(A, T0 + 280, minutes=10, start=offset(OPEN_WATER, east_m=-200), cog=90, sog=10),
    )
    steps = cpa_steps(reports, make_config(min_messages=1), sizes=(1, 7, 40, (3, 50, 1, 200)))
    assert lifecycle(steps)[:1] == ["raised"] and steps[0]["other_mmsi"] == B


# -- 2: assist pairs ---------------------------------------------------------------------------------


def test_two_tugs_by_declared_type_are_left_out_and_alert_with_the_option_off() -> None:
    """Tugs work in company all day (in recorded Australian traffic, tug pairs at 1-7 kn were most
    of the close quarters): two service craft by declared type are left out, like two on the
    allow-lists. With `skip_assist_categories` off, declared types count for nothing."""
    tugs = merge(
        static(A, T0, name="TUG A", ship_type=52, length=30),
        static(B, T0, name="TENDER B", ship_type=53, length=12),
        head_on(),
    )
    assert cpa_steps(tugs) == []
    config = make_config()
    config.allowlists.tug.append(A)
    assert cpa_steps(tugs, config) == []
    off = set_rule(make_config(), "cpa", skip_assist_categories=False)
    steps = cpa_steps(tugs, off)
    assert lifecycle(steps) == ["raised", "cleared"] and steps[0]["severity"] == "alarm"


def test_two_of_the_ports_service_craft_are_left_out() -> None:
    """Both on the allow-lists (the port's tugs, pilot boats and coastguard work together: two
    tugs and a pilot boat meet the ship they will berth): no alert, whatever their types."""
    tugs = merge(
        static(A, T0, name="TUG A", ship_type=52, length=30),
        static(B, T0, name="TUG B", ship_type=52, length=30),
        head_on(),
    )
    for first, second in (("tug", "tug"), ("tug", "pilot"), ("coastguard", "pilot")):
        config = make_config()
        getattr(config.allowlists, first).append(A)
        getattr(config.allowlists, second).append(B)
        assert cpa_steps(tugs, config) == []


def test_a_tug_and_a_small_craft_alert() -> None:
    """A tug and a fishing boat (or a Class B pleasure craft) head-on: the tug serves neither."""
    fishing = merge(
        static(A, T0, name="FISHER", ship_type=30, length=15),
        static(B, T0, name="TUG", ship_type=52, length=30),
        head_on(),
    )
    assert lifecycle(cpa_steps(fishing)) == ["raised", "cleared"]
    config = make_config()
    config.allowlists.pilot.append(B)
    pleasure = merge(static(A, T0, name="YACHT", ship_type=37, length=12), head_on())
    assert lifecycle(cpa_steps(pleasure, config)) == ["raised", "cleared"]


def test_a_tug_or_pilot_with_a_large_ship_is_left_out() -> None:
    """An assist craft (declared, or on the allow-list) with a large ship (by type, or by length)
    is an assist pair: no alert."""
    cargo = static(A, T0, name="CARGO", ship_type=70, length=180)
    assert cpa_steps(merge(cargo, static(B, T0, name="TUG", ship_type=52, length=30), head_on())) == []
    assert cpa_steps(merge(cargo, static(B, T0, name="PILOT", ship_type=50, length=15), head_on())) == []
    config = make_config()
    config.allowlists.pilot.append(B)
    long_ship = static(A, T0, name="DREDGER", ship_type=33, length=90)
    assert cpa_steps(merge(long_ship, head_on()), config) == []


# -- 3, 4: each pair's own geometry -------------------------------------------------------------------


def passing(start: Point, east_nm: float) -> list[Report]:
    """A northbound and B southbound at 10 kn, `east_nm` apart east-west: CPA `east_nm`."""
    return merge(
        moving(A, T0, minutes=8, start=start, cog=0, sog=10),
        moving(B, T0, minutes=8, start=offset(start, north_m=3000, east_m=east_nm * NM), cog=180, sog=10),
    )


def test_a_far_away_vessel_does_not_change_a_pairs_cpa() -> None:
    """A mover thousands of kilometres away (a satellite feed) leaves a pair's alerts as they are:
    the east-west scale of a pair is its own mid-latitude's, not the mean of all movers."""
    near_miss = passing(OPEN_WATER, 0.31)  # CPA 0.31 NM: no warning
    assert cpa_steps(near_miss) == []
    assert cpa_steps(merge(near_miss, moving(C, T0, minutes=8, start=(-50.0, -77.2), cog=0, sog=10))) == []
    north_sea = passing((55.0, 5.0), 0.25)  # CPA 0.25 NM: a warning
    alone = cpa_steps(north_sea)
    assert lifecycle(alone) == ["raised", "cleared"] and alone[0]["details"]["cpa_nm"] == 0.25
    equator = moving(C, T0, minutes=8, start=(0.0, 5.0), cog=0, sog=10)
    assert cpa_steps(merge(north_sea, equator)) == alone


def test_a_head_on_pair_across_the_antimeridian_alerts() -> None:
    """Head-on 2.2 km apart across 180 degrees: the same alarm, with the same CPA, as the same pair
    away from it."""
    east_of = (-12.0, 179.99)
    across = merge(
        moving(A, T0, minutes=8, start=east_of, cog=90, sog=10),
        moving(B, T0, minutes=8, start=(-12.0 + 30 / 111_195, -179.99), cog=270, sog=10),
    )
    steps = cpa_steps(across)
    assert lifecycle(steps) == ["raised", "cleared"] and steps[0]["severity"] == "alarm"
    away = merge(
        moving(A, T0, minutes=8, start=(-12.0, 9.99), cog=90, sog=10),
        moving(B, T0, minutes=8, start=(-12.0 + 30 / 111_195, 10.01), cog=270, sog=10),
    )
    reference = cpa_steps(away)
    assert [a["details"]["cpa_nm"] for a in steps] == [a["details"]["cpa_nm"] for a in reference]
    assert [a["time"] for a in steps] == [a["time"] for a in reference]


def brute_force_pairs(table: np.ndarray, now: float, radius: float) -> set[tuple[int, int]]:
    """The pairs within `radius`, one pair at a time in Python: each vessel dead-reckoned, the pair
    on a plane at its mid-latitude, the longitude difference wrapped."""
    m_per_deg = 6_371_008.8 * math.pi / 180.0
    pos = []
    for lon, lat, sog, cog, t in table[:5].T.tolist():
        d = sog * 1852.0 / 3600.0 * max(now - t, 0.0)
        lat2 = lat + d * math.cos(math.radians(cog)) / m_per_deg
        lon2 = lon + d * math.sin(math.radians(cog)) / (m_per_deg * math.cos(math.radians(lat2)))
        pos.append((lat2, lon2))
    out = set()
    for i, (lat_i, lon_i) in enumerate(pos):
        for j in range(i + 1, len(pos)):
            lat_j, lon_j = pos[j]
            dlon = (lon_j - lon_i + 180.0) % 360.0 - 180.0
            dx = dlon * m_per_deg * math.cos(math.radians((lat_i + lat_j) / 2))
            if math.hypot(dx, (lat_j - lat_i) * m_per_deg) <= radius * (1 - 1e-9):
                out.add((i, j))
    return out


@pytest.mark.parametrize("lat0", [-12.0, 60.0, 78.0])
def test_every_pair_in_range_is_found_at_any_latitude_and_across_180(lat0: float) -> None:
    """The tick's pairs in range against brute force, for movers spread over 20 degrees of latitude
    (the sweep's scale is the smallest cosine) and over the antimeridian (some positions written
    beyond +-180 after dead reckoning)."""
    rng = np.random.default_rng(int(lat0) + 100)
    n = 600
    now = T0
    lat = np.concatenate((rng.uniform(lat0, lat0 + 0.2, n - 20), rng.uniform(lat0 - 10, lat0 + 10, 20)))
    span = 0.4 / math.cos(math.radians(lat0 + 0.2))
    lon = (rng.uniform(180.0 - span / 2, 180.0 + span / 2, n) + 180.0) % 360.0 - 180.0
    table = np.zeros((5, n))  # the rows the geometry reads: lon, lat, sog, cog, fix time
    table[0], table[1] = lon, lat
    table[2], table[3] = rng.uniform(2, 20, n), rng.uniform(0, 360, n)
    table[4] = now - rng.uniform(0, 600, n)
    radius = 3 * NM
    found = CpaRule._in_range(table, now, radius)
    assert found is not None
    a, b, diff, rng_m = found
    got = set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
    want = brute_force_pairs(table, now, radius)
    assert len(got) == len(a) and want <= got and len(want) > 50
    assert np.all(rng_m <= radius)
    assert np.allclose(rng_m, np.hypot(diff[0], diff[1]))


# -- 6, 7: parameters ---------------------------------------------------------------------------------


def test_alarm_limits_wider_than_the_warning_ones_are_refused() -> None:
    """Pairs are picked at the warning limits: a wider alarm limit would never fire."""
    with pytest.raises(ValidationError, match="alarm_cpa_nm"):
        CpaParams(alarm_cpa_nm=0.5)
    with pytest.raises(ValidationError, match="alarm_tcpa_min"):
        CpaParams(alarm_tcpa_min=12.0)
    with pytest.raises(ValidationError, match="alarm_cpa_nm"):
        set_rule(make_config(), "cpa", warning_cpa_nm=0.05)
    assert CpaParams(alarm_cpa_nm=0.3, alarm_tcpa_min=10.0).alarm_cpa_nm == 0.3  # equal: allowed


def test_no_minimum_relative_speed_divides_by_zero_silently() -> None:
    """min_relative_kn 0: a pair in company (the same velocity) has no CPA, without a numpy
    warning, and the head-on pair alerts as usual."""
    in_company = merge(
        head_on(),
        moving(C, T0, minutes=8, start=offset(OPEN_WATER, north_m=-3000), cog=45, sog=8),
        moving(D, T0, minutes=8, start=offset(OPEN_WATER, north_m=-2850), cog=45, sog=8),
    )
    config = set_rule(make_config(), "cpa", min_relative_kn=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        steps = cpa_steps(in_company, config)
    assert lifecycle(steps) == ["raised", "cleared"] and (steps[0]["mmsi"], steps[0]["other_mmsi"]) == (A, B)
