"""Review of rendezvous (and the pair rules' shared mechanism): flicker, GNSS noise next to the
distance threshold, anchored pairs in an anchorage, allow-listed service craft."""

from __future__ import annotations

from tests.rule_helpers import (
    ANCHORAGE,
    OPEN_WATER,
    T0,
    make_config,
    make_core,
    merge,
    moving,
    of_type,
    offset,
    position,
    run,
    states,
    static,
    stationary,
)
from tests.test_rule_rendezvous import A, B, meeting
from vts.reports import Report, StaticReport

MOORINGS = (-12.0637, -77.1646)
"""Inside moorings_la_punta (an anchorage-kind zone: a small-craft mooring field)."""


def test_a_tug_identified_as_the_spell_completes_raises_nothing() -> None:
    """B has sent no static data for the first ten minutes; its first static report, just before
    the spell reaches ten minutes, says it is a tug (type 52). The pair was never a rendezvous:
    nothing is raised (before the fix, B's next report raised and cleared the alert at once)."""
    reports = [r for r in meeting(15) if not (r.mmsi == B and isinstance(r, StaticReport))]
    reports = merge(reports, static(B, T0 + 598, name="TUG", ship_type=52, length=30))
    assert of_type(run(make_core(), reports), "rendezvous") == []


def noisy_pair(east_m: list[float], *, minutes: float = 25, outlier: int | None = None) -> list[Report]:
    """A (fishing) lies still in open water; B (fishing) lies east of it, its fixes scattered by
    GNSS noise: the n-th fix is `east_m[n % len]` east of A. Both report every 10 s at 0.4-0.5 kn.
    `outlier`: the index of one fix of B thrown 360 m east instead. Both then leave at 8 kn."""
    out: list[Report] = [
        static(A, T0 - 120, name="ALFA", ship_type=30, length=25),
        static(B, T0 - 120, name="BRAVO", ship_type=30, length=28),
    ]
    n = int(minutes * 6)
    for i in range(n):
        out.append(position(A, T0 + 10 * i, OPEN_WATER, sog=0.4))
        east = 360.0 if i == outlier else east_m[i % len(east_m)]
        out.append(position(B, T0 + 10 * i + 5, offset(OPEN_WATER, east_m=east), sog=0.5))
    end = T0 + 10 * n
    out += moving(A, end, minutes=2, start=OPEN_WATER, cog=270, sog=8.0)[1:]
    out += moving(B, end + 5, minutes=2, start=offset(OPEN_WATER, east_m=east_m[0]), cog=90, sog=8.0)[1:]
    return merge(out)


def test_a_pair_beyond_200_m_seen_within_it_now_and_then_by_noise_is_silent() -> None:
    """B is some 220 m from A; GNSS noise puts one fix in four inside 200 m. Those sporadic close
    fixes are no meeting within 200 m (most looks say farther): silent. Before the fix, each close
    fix extended the spell across the others and the pair was raised after ten minutes."""
    assert of_type(run(make_core(), noisy_pair([195, 225, 240, 215])), "rendezvous") == []


def test_a_pair_within_200_m_seen_beyond_it_now_and_then_by_noise_fires() -> None:
    """The counterpart: some 190 m apart, one fix in four beyond 200 m: a meeting, raised once."""
    steps = of_type(run(make_core(), noisy_pair([170, 205, 215, 180])), "rendezvous")
    assert states(steps).count("raised") == 1


def test_one_stray_fix_far_off_does_not_end_the_meeting() -> None:
    """One of B's fixes, 13 minutes in, is thrown 360 m off by the GNSS (the next is back beside
    A). The meeting goes on: one alert, raised once, cleared when they part (before the fix, the
    stray fix cleared the alert, which was raised again ten minutes later)."""
    steps = of_type(run(make_core(), noisy_pair([100, 105, 95], minutes=30, outlier=78)), "rendezvous")
    assert [s for s in states(steps) if s != "updated"] == ["raised", "cleared"]
    assert steps[-1].details["reason"].endswith("under way (8.0 kn)")


def test_a_pair_that_drifts_apart_slowly_is_cleared() -> None:
    """B drifts away from A at 1.5 kn after a 15-minute meeting: the alert clears once B has been
    beyond 250 m on two fixes (a stray fix alone is not a parting)."""
    here = OPEN_WATER
    a = stationary(A, T0, minutes=30, at=here, every_s=10, sog=0.3)
    b = stationary(B, T0 + 5, minutes=15, at=offset(here, east_m=100), every_s=10, sog=0.4)
    b += moving(B, T0 + 905, minutes=15, start=offset(here, east_m=100), cog=90, sog=1.5)[1:]
    statics = [static(A, T0 - 60, ship_type=30, length=20), static(B, T0 - 60, ship_type=30, length=20)]
    steps = of_type(run(make_core(), merge(statics, a, b)), "rendezvous")
    assert [s for s in states(steps) if s != "updated"] == ["raised", "cleared"]
    assert steps[-1].details["reason"] == "vessels apart"
    apart_since = T0 + 905 + (250 - 100) / (1.5 * 1852 / 3600)
    assert apart_since <= steps[-1].time <= apart_since + 30


def test_boats_moored_together_that_leave_raise_nothing() -> None:
    """Two boats moored side by side in the mooring field for 30 minutes are neighbours; when one
    leaves (its first fix at 3.5 kn still at its mooring), that last fix beside the other is no
    reason to raise the pair (before the fix: raised and cleared at once)."""
    at_b = offset(MOORINGS, east_m=40)
    a = stationary(A, T0, minutes=30, at=MOORINGS, every_s=60, sog=0.0, nav_status=5)
    b = stationary(B, T0 + 5, minutes=30, at=at_b, every_s=60, sog=0.0, nav_status=5)
    b.append(position(B, T0 + 1815, at_b, sog=3.5, nav_status=0))
    b += moving(B, T0 + 1825, minutes=3, start=at_b, cog=0, sog=4.0, every_s=10)[1:]
    assert of_type(run(make_core(), merge(a, b)), "rendezvous") == []


def test_two_ships_at_anchor_close_together_get_a_caution_that_says_so() -> None:
    """Two large ships at anchor 150 m apart in the anchorage for 30 minutes (a bunkering or a
    ship-to-ship transfer, or anchoring too close): not silenced as neighbours, as small craft on
    moorings are, but raised at caution, with the anchorage named."""
    big_a, big_b = 760000701, 760000702
    at_b = offset(ANCHORAGE, east_m=150)
    reports = merge(
        static(big_a, T0 - 60, name="ANDES TRADER", ship_type=70, length=190),
        static(big_b, T0 - 60, name="PACIFIC BUNKER", ship_type=80, length=110),
        stationary(big_a, T0, minutes=30, at=ANCHORAGE, every_s=180, nav_status=1),
        stationary(big_b, T0 + 7, minutes=30, at=at_b, every_s=180, nav_status=1),
        moving(big_b, T0 + 1807, minutes=3, start=at_b, cog=0, sog=6.0)[1:],
    )
    steps = of_type(run(make_core(), reports), "rendezvous")
    assert [s for s in states(steps) if s != "updated"] == ["raised", "cleared"]
    raised = steps[0]
    assert raised.severity == "caution"
    assert raised.details["anchored_in"] == "anchorage_main"
    assert "at anchor in Callao anchorage" in raised.message


def test_a_craft_on_the_other_allow_list_is_exempt() -> None:
    """Bunker barges and supply boats have no AIS ship type of their own: an operator lists them
    under `allowlists.other`, as for every other rule. Their meetings are their work: silent."""
    config = make_config()
    config.allowlists.other = [B]
    assert of_type(run(make_core(config), meeting(15)), "rendezvous") == []
    assert of_type(run(make_core(), meeting(15)), "rendezvous")  # (not listed: raised)


# -- restricted_area --------------------------------------------------------------------------------

CAMOTAL = (-12.09, -77.17)
"""Inside restricted_el_camotal (fishing and pleasure craft allowed)."""
BOAT = 760000551


def test_a_class_b_boat_whose_type_comes_in_its_second_static_message_is_given_time() -> None:
    """A Class B unit sends its name (24A) and its ship type (24B) in two messages. A fishing boat
    first heard inside El Camotal, whose 24A comes at once and whose 24B (fishing: allowed) is
    lost the first time and comes 6 minutes later, is not judged on its unknown type meanwhile
    (before the fix: raised as 'unknown', then cleared)."""
    reports = merge(
        stationary(BOAT, T0, minutes=15, at=CAMOTAL, every_s=30, sog=1.0, ais_class="B"),
        [
            static(BOAT, T0 + 20, name="PESCADOR", ais_class="B"),
            static(BOAT, T0 + 380, ship_type=30, ais_class="B"),
        ],
    )
    assert of_type(run(make_core(), reports), "restricted_area") == []
    # a boat whose 24B never comes is judged once the grace is over
    no_type = merge(
        stationary(BOAT, T0, minutes=15, at=CAMOTAL, every_s=30, sog=1.0, ais_class="B"),
        [static(BOAT, T0 + 20, name="PESCADOR", ais_class="B")],
    )
    steps = of_type(run(make_core(), no_type), "restricted_area")
    assert steps and steps[0].state == "raised" and steps[0].details["category"] == "unknown"
    assert steps[0].time - T0 >= 13 * 60


# -- zone_visits ------------------------------------------------------------------------------------

SHIP = 760000571


def test_a_ship_whose_static_data_is_heard_before_its_first_fix_was_first_seen_inside() -> None:
    """At start-up a ship at anchor is heard first by its static data (every 6 min), then by its
    first position (every 3 min at anchor), inside the anchorage. It was found there, not seen
    entering: `first_seen_inside` (before the fix, the two minutes between its first message and
    its first fix made it "entered")."""
    inside = offset(ANCHORAGE, north_m=84)
    reports = merge(
        static(SHIP, T0 - 120, name="AT ANCHOR", ship_type=70, length=150),
        stationary(SHIP, T0, minutes=15, at=inside, every_s=180, nav_status=1),
    )
    entries = [a for a in of_type(run(make_core(), reports), "zone_entry") if a.zone == "anchorage_main"]
    assert len(entries) == 1
    assert entries[0].details["first_seen_inside"] is True
    assert "first seen inside" in entries[0].message


def test_a_ship_found_inside_after_a_reception_gap_was_not_first_seen_there() -> None:
    """A ship heard outside, silent for 20 minutes (over the zone engine's 10-minute gap reset),
    then heard inside the anchorage: it entered unseen, it was not first seen there."""
    outside = offset(ANCHORAGE, north_m=-3000)
    inside = offset(ANCHORAGE, north_m=84)
    reports = merge(
        static(SHIP, T0 - 60, name="VISITOR", ship_type=70, length=150),
        stationary(SHIP, T0, minutes=3, at=outside, every_s=10, sog=0.0),
        stationary(SHIP, T0 + 23 * 60, minutes=10, at=inside, every_s=60, nav_status=1),
    )
    entries = [a for a in of_type(run(make_core(), reports), "zone_entry") if a.zone == "anchorage_main"]
    assert len(entries) == 1 and entries[0].details["first_seen_inside"] is False
