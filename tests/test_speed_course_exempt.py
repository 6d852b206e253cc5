"""course_anomaly's exemption test keeps the allow-listed MMSIs of the allow-lists it last saw: it
answers as `is_allowlisted` (and the category test) does, and follows a swap of the allow-lists
(a reload), both ways."""

from __future__ import annotations

from vts.config import Allowlists
from vts.rules._common import is_allowlisted
from vts.rules.course_anomaly import EXEMPT_ROLES, CourseAnomalyParams, CourseAnomalyRule
from vts.tracker import VesselState

SHIP = 725000402
OTHER = 725000403


def _plain(rule: CourseAnomalyRule, vessel: VesselState, allowlists: Allowlists) -> bool:
    return vessel.category in rule._exempt_categories or is_allowlisted(allowlists, vessel.mmsi, EXEMPT_ROLES)


def test_the_exemption_follows_the_allow_lists_as_is_allowlisted() -> None:
    rule = CourseAnomalyRule(CourseAnomalyParams())
    lists = [
        Allowlists(),
        Allowlists(tug=[SHIP]),
        Allowlists(pilot=[OTHER]),
        Allowlists(coastguard=[SHIP, OTHER]),
        Allowlists(other=[SHIP]),  # not an exempt role
        Allowlists(),
    ]
    vessels = [VesselState(mmsi=m, first_seen=0.0, last_seen=0.0) for m in (SHIP, OTHER)]
    tug = VesselState(mmsi=OTHER + 1, first_seen=0.0, last_seen=0.0)
    tug.category = "tug"
    vessels.append(tug)
    seen = set()
    for allowlists in [*lists, *reversed(lists), lists[1], lists[1]]:
        for v in vessels:
            expected = _plain(rule, v, allowlists)
            assert rule._exempt(v, allowlists) == expected
            assert rule._erratic_exempt(v, allowlists) == (
                v.ship_type in rule._erratic_exempt_types or expected
            )
            seen.add((v.mmsi, expected))
    assert (SHIP, True) in seen and (SHIP, False) in seen and (OTHER, True) in seen and (OTHER, False) in seen
    assert (tug.mmsi, True) in seen
