"""The parameters of every rule, as the config reads them: one pydantic model per rule (each a
`RuleParams`, the config's base with ``enabled``), with its defaults, bounds and descriptions.

They are here, not in the rule modules, because the rule modules are compiled with mypyc, and a
pydantic model defined in a compiled module loses its field metadata (bounds, descriptions, even
its docstring). This module is not compiled; it imports no rule module (only the config, the
tracker and the helpers the defaults need), and each rule module imports its model from here under
the same name (``from vts.rules.loitering import LoiteringParams`` still works)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from vts.categories import VesselCategory
from vts.config import AllowRole, RuleParams, ZoneKind
from vts.normalcy import Layer
from vts.rules._common import ALL_ROLES, LYING_STILL_KINDS, SERVICE_SHIP_TYPES
from vts.vessel_class import CLASS_A_STATIC_GRACE_MINUTES


class PairParams(RuleParams):
    """Parameters shared by the pairwise proximity rules (each sets its own distance and duration)."""

    distance_m: Annotated[float, Field(gt=0, description="the two vessels within this distance")] = 150.0
    min_minutes: Annotated[float, Field(ge=0, description="close for at least this long")] = 3.0
    max_speed_kn: Annotated[float, Field(gt=0, description="both vessels under this SOG")] = 3.0
    clear_margin_m: Annotated[
        float, Field(ge=0, description="hysteresis: clears beyond distance_m + this")
    ] = 50.0
    max_gap_minutes: Annotated[
        float,
        Field(
            gt=0,
            description="a longer silence of the pair restarts the spell (two 3-minute slow Class B "
            "intervals and slack: one lost message does not break it)",
        ),
    ] = 7.0
    lost_minutes: Annotated[
        float, Field(gt=0, description="an alert clears when the pair is not seen this long")
    ] = 10.0
    check_every_s: Annotated[
        float,
        Field(ge=0, description="look at a slow vessel's neighbourhood at most this often (event time)"),
    ] = 10.0
    underway_grace_s: Annotated[
        float,
        Field(
            ge=0,
            description="once the pair's alert is up, a vessel still near its partner ends it by being under "
            "way only after this long (a boat shifting along the hull, or round the other, is still with "
            "it; one leaving is soon beyond the distance, which ends it at once)",
        ),
    ] = 120.0


class AisGapParams(RuleParams):
    min_messages: Annotated[
        int, Field(ge=1, description="messages needed in the history window before the gap")
    ] = 10
    history_minutes: Annotated[
        float, Field(gt=0, le=30, description="history window before the last message")
    ] = 30.0
    underway_minutes: Annotated[float, Field(gt=0, description="silence that counts as dark, under way")] = (
        10.0
    )
    moored_minutes: Annotated[
        float, Field(gt=0, description="silence that counts as dark, at anchor or moored")
    ] = 30.0
    neighbour_radius_m: Annotated[
        float, Field(gt=0, description="radius in which other vessels must be heard")
    ] = 9260.0
    min_neighbours: Annotated[int, Field(ge=0, description="vessels heard near it since it fell silent")] = 1
    edge_margin_m: Annotated[
        float, Field(ge=0, description="last position at least this far inside the area")
    ] = 1000.0
    severe_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["security_zone", "restricted", "protected"],
            description="last seen in these: alarm, else warning",
        ),
    ]
    implied_speed_flag_kn: Annotated[
        float, Field(gt=0, description="flag a reappearance implying this speed")
    ] = 25.0
    far_flag_m: Annotated[
        float, Field(gt=0, description="flag a reappearance this far from the last position")
    ] = 3704.0
    max_dark_hours: Annotated[float, Field(gt=0, description="give up on a vessel silent this long")] = 24.0
    berthing_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["berth", "terminal"],
            description="a ship (not a small craft) last heard in one of these under berthing_max_kn is "
            "berthing: moored_minutes applies (cranes and sheds shadow a ship at its berth from the "
            "receiver)",
        ),
    ]
    berthing_max_kn: Annotated[float, Field(gt=0, description="... at under this speed over ground")] = 3.0


class AlongsideParams(PairParams):
    distance_m: Annotated[
        float, Field(gt=0, description="craft within this of the ship (hull when known)")
    ] = 150.0
    min_minutes: Annotated[float, Field(ge=0, description="close for at least this long")] = 3.0
    night_start_hour: Annotated[float, Field(ge=0, lt=24, description="local hour night begins (alarm)")] = (
        18.0
    )
    night_end_hour: Annotated[float, Field(ge=0, lt=24, description="local hour night ends")] = 6.0
    security_zone_kinds: Annotated[
        list[ZoneKind],
        Field(default_factory=lambda: ["security_zone"], description="either vessel inside one: alarm"),
    ]
    exempt_roles: Annotated[
        list[AllowRole], Field(default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt")
    ]
    exempt_ship_types: Annotated[
        list[int],
        Field(
            default_factory=lambda: list(SERVICE_SHIP_TYPES),
            description="AIS ship types whose normal work is alongside ships (pilot, SAR, tug, tender, "
            "police) when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
        ),
    ]
    exempt_zone_kinds: Annotated[
        list[ZoneKind],
        Field(default_factory=lambda: ["fishing_dock"], description="craft moored in these zones are exempt"),
    ]
    quay_within_m: Annotated[
        float,
        Field(
            ge=0,
            description="a ship that reports no heading, with its antenna this close to the coastline, lies "
            "along it (moored to a quay or pier): its hull is placed so (0: never, distance to the antenna)",
        ),
    ] = 80.0


class AnchorDragParams(RuleParams):
    settle_minutes: Annotated[
        float, Field(gt=0, description="fixes of this first period give the anchoring position")
    ] = 10.0
    min_radius_m: Annotated[float, Field(gt=0, description="smallest swing circle radius")] = 200.0
    radius_margin_m: Annotated[float, Field(ge=0, description="swing radius = length + this")] = 150.0
    consecutive_fixes: Annotated[int, Field(ge=1, description="fixes outside the circle in a row")] = 3
    drag_sog_kn: Annotated[float, Field(gt=0, description="speed over ground that counts as making way")] = (
        1.0
    )
    drag_minutes: Annotated[float, Field(ge=0, description="how long that speed must last")] = 2.0
    fast_gap_minutes: Annotated[
        float,
        Field(
            gt=0,
            description="a longer silence between two fixes at that speed starts the count again: what the "
            "ship did in between is not known (two 3-minute reports at anchor and slack)",
        ),
    ] = 7.0
    underway_sog_kn: Annotated[float, Field(gt=0, description="above this the ship has weighed anchor")] = 4.0
    ahead_deg: Annotated[
        float,
        Field(gt=0, le=90, description="course within this of heading (at drag_sog_kn or more): under way"),
    ] = 45.0
    hold_radius_m: Annotated[
        float, Field(gt=0, description="after a drag, settle_minutes of fixes this close: holding again")
    ] = 50.0


class CourseAnomalyParams(RuleParams):
    wrong_way: bool = True
    wrong_way_angle_deg: Annotated[float, Field(gt=0, lt=180)] = 90.0
    wrong_way_minutes: Annotated[float, Field(gt=0)] = 2.0
    wrong_way_min_sog_kn: Annotated[float, Field(ge=0)] = 2.0
    wrong_way_edge_m: Annotated[
        float,
        Field(
            ge=0,
            description="a course that suits a directed lane this close is not wrong (a ship on the line "
            "between two lanes)",
        ),
    ] = 50.0
    erratic: bool = True
    erratic_turn_deg: Annotated[float, Field(gt=0, lt=180)] = 60.0
    erratic_turns: Annotated[int, Field(ge=2)] = 3
    erratic_minutes: Annotated[float, Field(gt=0)] = 10.0
    erratic_min_sog_kn: Annotated[float, Field(ge=0)] = 3.0
    erratic_exempt_ship_types: Annotated[
        list[int],
        Field(
            default_factory=lambda: [33, 34, 37, 53],
            description="ship types left out of the erratic kind only (dredging, diving, pleasure, "
            "port tender)",
        ),
    ]
    stop_after_departure: bool = True
    departure_sog_kn: Annotated[
        float, Field(gt=0, description="speed that counts as having got under way")
    ] = 4.0
    departure_watch_nm: Annotated[float, Field(gt=0)] = 10.0
    departure_under_way_minutes: Annotated[
        float, Field(gt=0, description="a vessel not under way this long after leaving is not departing")
    ] = 30.0
    departure_watch_minutes: Annotated[
        float, Field(gt=0, description="the watch ends this long after the vessel got under way")
    ] = 60.0
    departure_exit_lookback_minutes: Annotated[
        float, Field(ge=0, description="under way this shortly before crossing out counts as under way")
    ] = 10.0
    departure_stopped_kn: Annotated[
        float,
        Field(
            gt=0,
            description="a vessel leaves a berth or anchorage only if it lay there: a fix this slow inside "
            "it (or status at anchor / moored), or a stay longer than the tracker's trail; one that crossed "
            "the anchorage under way did not depart from it",
        ),
    ] = 1.0
    stop_sog_kn: Annotated[float, Field(gt=0)] = 2.0
    stop_minutes: Annotated[float, Field(ge=0)] = 3.0
    turn_back_m: Annotated[float, Field(gt=0)] = 1000.0
    off_route: bool = True
    model_path: Annotated[
        str | None, Field(description="normalcy model (.npz from `vts learn`), relative to the config")
    ] = None
    model_layer: Annotated[Layer, Field(description="which layer of the model to judge by")] = "large"
    off_route_minutes: Annotated[float, Field(gt=0, description="window of the mean anomaly")] = 10.0
    off_route_threshold: Annotated[float, Field(gt=0, le=1)] = 0.6
    off_route_normal_below: Annotated[
        float, Field(ge=0, le=1, description="mean that counts as on the routes")
    ] = 0.2
    off_route_min_sog_kn: Annotated[float, Field(ge=0)] = 3.0
    off_route_after_event_minutes: Annotated[
        float, Field(ge=0, description="no off_route for a vessel reported erratic or stopping this recently")
    ] = 30.0
    off_route_anchor_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["anchorage", "waiting_area"],
            description="a ship inside one of these zones, or making for one (its course leads into it "
            "within off_route_minutes at its speed), is going to anchor where ships anchor: not raised; "
            "an alert up ends inside one",
        ),
    ]
    off_route_approach_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["lane", "channel", "entrance"],
            description="the usual approach: off_route is raised for a ship that was within "
            "off_route_approach_m of a zone of these kinds in the last off_route_approach_minutes (one that "
            "leaves the approach), not for ships passing or arriving elsewhere; none configured: any ship",
        ),
    ]
    off_route_approach_m: Annotated[
        float, Field(ge=0, description="how near the approach zones counts as on it")
    ] = 3000.0
    off_route_approach_minutes: Annotated[
        float, Field(gt=0, description="how recently the ship must have been on the approach")
    ] = 30.0
    exempt_categories: Annotated[
        list[VesselCategory],
        Field(default_factory=lambda: ["tug", "pilot", "sar", "law_enforcement", "fishing", "sailing"]),
    ]


class CpaParams(RuleParams):
    range_nm: Annotated[float, Field(gt=0, description="pairs further apart than this are not evaluated")] = (
        3.0
    )
    min_sog_kn: Annotated[float, Field(ge=0, description="both vessels must be faster than this")] = 1.0
    warning_cpa_nm: Annotated[float, Field(gt=0)] = 0.3
    warning_tcpa_min: Annotated[float, Field(gt=0)] = 10.0
    alarm_cpa_nm: Annotated[float, Field(gt=0)] = 0.1
    alarm_tcpa_min: Annotated[float, Field(gt=0)] = 5.0
    min_relative_kn: Annotated[
        float, Field(ge=0, description="slower relative motion has no meaningful CPA")
    ] = 1.0
    max_fix_age_s: Annotated[
        float,
        Field(
            gt=0,
            description="vessels whose last fix is older than this and than their own lost-target time "
            "(six nominal reporting intervals, IEC 62388) are left out",
        ),
    ] = 180.0
    clear_factor: Annotated[
        float, Field(ge=1.0, description="hysteresis on the warning CPA before clearing")
    ] = 1.2
    confirm_s: Annotated[
        float,
        Field(
            ge=0,
            description="a situation is raised once it has held this long, on every evaluation (each "
            "tick): one evaluation on a course swinging through a turn, or on a noisy course, is not one",
        ),
    ] = 10.0
    min_warning_tcpa_s: Annotated[
        float,
        Field(
            ge=0,
            description="a warning is not raised with its closest point nearer than this: the vessels are "
            "passing then, and it would clear before anyone could act on it (an alarm is raised all the "
            "same)",
        ),
    ] = 30.0
    skip_assist_categories: Annotated[
        bool, Field(description="treat declared tugs and pilot boats as assist craft")
    ] = True
    small_craft_pairs_alarm_only: Annotated[
        bool,
        Field(
            description="a pair of two small craft (`vts.vessel_class.declares_small_craft`: Class B, a "
            "fishing, pleasure or other small type, or under 20 m) is raised only at the alarm limits: at "
            "the warning limits (0.3 NM within 10 min) boats working in company, and launches and fishing "
            "boats leaving port together, made most of the alerts of a busy port"
        ),
    ] = True
    raise_fix_intervals: Annotated[
        float,
        Field(
            gt=0,
            description="a situation is raised only while both vessels' last fixes are at most this many of "
            "their nominal reporting intervals old (IEC 62388); an older fix, dead-reckoned up to "
            "max_fix_age_s, keeps an alert up but does not raise one",
        ),
    ] = 3.0

    @model_validator(mode="after")
    def _alarm_inside_warning(self) -> Self:
        """Pairs are picked at the warning limits: an alarm limit beyond them would never fire."""
        if self.alarm_cpa_nm > self.warning_cpa_nm:
            raise ValueError(
                f"alarm_cpa_nm ({self.alarm_cpa_nm}) must not exceed warning_cpa_nm ({self.warning_cpa_nm})"
            )
        if self.alarm_tcpa_min > self.warning_tcpa_min:
            raise ValueError(
                f"alarm_tcpa_min ({self.alarm_tcpa_min}) must not exceed "
                f"warning_tcpa_min ({self.warning_tcpa_min})"
            )
        return self


class DistressParams(RuleParams):
    rearm_minutes: Annotated[
        float, Field(gt=0, description="silence after which the same device raises again")
    ] = 30.0


class DriftingParams(RuleParams):
    min_sog_kn: Annotated[float, Field(ge=0, description="lowest speed over ground that counts")] = 0.25
    max_sog_kn: Annotated[float, Field(gt=0, description="highest speed over ground that counts")] = 20.0
    min_angle_deg: Annotated[float, Field(gt=0, le=180, description="heading vs course over ground")] = 45.0
    min_minutes: Annotated[float, Field(gt=0, description="how long the condition must hold")] = 3.0
    min_fixes: Annotated[int, Field(ge=2, description="fixes needed over that time")] = 3
    min_displacement_m: Annotated[float, Field(ge=0, description="net movement needed over the run")] = 30.0
    max_run_minutes: Annotated[
        float, Field(gt=0, description="the run judged is at most this long (a slow drift has time to show)")
    ] = 10.0
    not_under_command: Annotated[bool, Field(description="also alert on navigational status 2")] = True
    nuc_quiet_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: list(LYING_STILL_KINDS),
            description="zone kinds where status 2 alone is no alert: the ship must also move",
        ),
    ]
    nuc_moving_kn: Annotated[
        float, Field(gt=0, description="mean speed over min_minutes that counts as moving in those zones")
    ] = 1.0
    swing_cable_m: Annotated[
        float,
        Field(
            ge=0,
            description="the most cable a ship at anchor lies to: as it swings, its antenna turns about the "
            "anchor at its length plus this, at most",
        ),
    ] = 300.0
    exempt_categories: Annotated[list[VesselCategory], Field(default_factory=lambda: ["tug"])]


class DuplicateMmsiParams(RuleParams):
    min_conflicts: Annotated[int, Field(ge=1, description="dead-reckoning conflicts needed ...")] = 3
    window_minutes: Annotated[float, Field(gt=0, description="... within this window")] = 10.0
    clear_minutes: Annotated[float, Field(gt=0, description="clear after this long without a conflict")] = (
        30.0
    )
    interleave: Annotated[bool, Field(description="also detect two interleaved tracks a few km apart")] = True
    interleave_min_speed_kn: Annotated[float, Field(gt=0)] = 40.0
    interleave_min_distance_m: Annotated[float, Field(ge=0)] = 300.0
    ignore_same_track: Annotated[
        bool,
        Field(description="no alert when the 'second ship' sails the first one's course line (late fixes)"),
    ] = True
    arrival_delay_hours: Annotated[
        float,
        Field(
            ge=0,
            description="on a feed that stamps arrival (satellite, store-and-forward), fixes may come this "
            "late: a 'second ship' no farther away than the ship could have sailed in that time (at 2 x SOG "
            "+ 10 kn, at least 25 kn) may be its own fixes delivered again, and raises nothing",
        ),
    ] = 3.0


class IdentityChangeParams(RuleParams):
    dimension_tolerance_m: Annotated[
        float, Field(ge=0, description="length/beam changes up to this are ignored")
    ] = 2.0
    check_imo: Annotated[bool, Field(description="report IMO numbers that fail the check digit")] = True
    shared_imo: Annotated[bool, Field(description="report an IMO number claimed by two MMSIs")] = True
    shared_imo_days: Annotated[float, Field(gt=0, description="how long an IMO claim is remembered")] = 30.0
    memory_days: Annotated[
        float,
        Field(gt=0, description="how long what an MMSI declared is remembered after its last static report"),
    ] = 7.0


class InvalidMmsiParams(RuleParams):
    escalate_in_sensitive_zones: Annotated[
        bool,
        Field(
            description="warning (and one more event) when inside a security, restricted or protected zone"
        ),
    ] = True


class LoiteringParams(RuleParams):
    max_speed_kn: Annotated[
        float, Field(gt=0, description="mean SOG under this over the window is loitering")
    ] = 2.0
    small_craft_minutes: Annotated[float, Field(gt=0, description="window for small craft")] = 30.0
    other_minutes: Annotated[float, Field(gt=0, description="window for other vessels")] = 60.0
    circling_turn_deg: Annotated[float, Field(gt=0, description="net turning that counts as circling")] = (
        360.0
    )
    circling_minutes: Annotated[float, Field(gt=0, description="window for the circling test")] = 30.0
    circling_min_kn: Annotated[float, Field(ge=0, description="turns count only at or above this SOG")] = 1.0
    circling_max_kn: Annotated[float, Field(gt=0, description="... and at or below this SOG")] = 6.0
    circling_radius_m: Annotated[
        float, Field(gt=0, description="circling stays within this radius of gyration")
    ] = 300.0
    circling_min_radius_m: Annotated[
        float,
        Field(
            ge=0,
            description="... and reaches at least this one (a vessel lying still with a noisy course over "
            "ground 'turns' on the spot, within a few metres)",
        ),
    ] = 20.0
    clear_kn: Annotated[float, Field(gt=0, description="under way again: mean SOG at least this ...")] = 3.0
    clear_minutes: Annotated[float, Field(gt=0, description="... over the last this many minutes")] = 5.0
    sample_s: Annotated[float, Field(gt=0, description="fixes are sampled at most this often")] = 30.0
    max_gap_minutes: Annotated[
        float, Field(gt=0, description="a longer reception gap restarts the window ...")
    ] = 10.0
    bridge_gap_minutes: Annotated[
        float,
        Field(
            ge=0,
            description="... unless no longer than this, and the vessel is heard again within what it could "
            "have drifted at under max_speed_kn (lost reports of a boat lying still)",
        ),
    ] = 30.0
    lost_minutes: Annotated[
        float, Field(gt=0, description="an active alert clears after this much silence")
    ] = 15.0
    exempt_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["anchorage", "berth", "terminal", "fishing_dock", "waiting_area"],
            description="zone kinds where slow movement is normal",
        ),
    ]
    exempt_roles: Annotated[
        list[AllowRole], Field(default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt")
    ]
    exempt_ship_types: Annotated[
        list[int],
        Field(
            default_factory=lambda: list(SERVICE_SHIP_TYPES),
            description="AIS ship types whose work includes waiting about (pilot, SAR, tug, port tender, "
            "police) when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
        ),
    ]
    severity: Annotated[Literal["alarm", "warning", "caution"], Field(description="alert severity")] = (
        "warning"
    )


class PositionJumpParams(RuleParams):
    min_speed_kn: Annotated[float, Field(gt=0, description="implied speed always allowed below this")] = 40.0
    sog_factor: Annotated[
        float, Field(gt=0, description="implied speed allowed up to factor x SOG + offset")
    ] = 2.0
    sog_offset_kn: Annotated[float, Field(ge=0)] = 10.0
    max_sog_kn: Annotated[
        float,
        Field(
            gt=0,
            description="a reported SOG above this (102.2, 'faster than 102 kn', from a faulty transponder) "
            "widens the allowance no further than this one",
        ),
    ] = 50.0
    min_distance_m: Annotated[float, Field(ge=0, description="shorter jumps are GPS jitter")] = 300.0
    time_slack_s: Annotated[
        float, Field(ge=0, description="added to the elapsed time (time-stamp rounding)")
    ] = 2.0
    unreliable_time_slack_s: Annotated[
        float, Field(ge=0, description="added instead when the fixes' UTC seconds contradict the event times")
    ] = 300.0
    max_gap_minutes: Annotated[
        float, Field(gt=0, description="fixes further apart than this are not compared")
    ] = 60.0
    max_late_minutes: Annotated[
        float,
        Field(
            gt=0,
            description="on a feed that stamps arrival, a fix along course that the ship's speed explains "
            "within this is the same ship seen late",
        ),
    ] = 120.0
    on_land: Annotated[bool, Field(description="report fixes on land")] = True
    land_margin_m: Annotated[
        float,
        Field(
            ge=0, description="a fix on land counts only this far inside the coastline (GNSS noise, quays)"
        ),
    ] = 100.0
    null_island: Annotated[bool, Field(description="report fixes at (0, 0)")] = True
    repeat_count: Annotated[int, Field(ge=1, description="jumps in an hour that make it a warning")] = 3
    cluster_vessels: Annotated[
        int, Field(ge=2, description="vessels jumping together = GNSS interference")
    ] = 3
    cluster_radius_m: Annotated[float, Field(gt=0)] = 2000.0
    cluster_window_s: Annotated[float, Field(gt=0, description="individual jumps are held this long")] = 60.0
    cluster_quiet_minutes: Annotated[float, Field(gt=0)] = 10.0
    cluster_reach_minutes: Annotated[
        float,
        Field(
            ge=0,
            description="jumps already reported this recently still count towards a cluster: ships at anchor "
            "report every 3 minutes, so the vessels of one area pulled to one spot jump up to minutes apart",
        ),
    ] = 7.0
    duplicate_wait_minutes: Annotated[
        float,
        Field(
            ge=0,
            description="a jump to a second stream heard again while the track's own fixes go on waits this "
            "long for duplicate_mmsi (its window) before it is reported",
        ),
    ] = 10.0


class RendezvousParams(PairParams):
    distance_m: Annotated[float, Field(gt=0, description="the two vessels within this distance")] = 200.0
    min_minutes: Annotated[float, Field(ge=0, description="for at least this long")] = 10.0
    stale_position_minutes: Annotated[
        float, Field(gt=0, description="ignore a neighbour whose last fix is older")
    ] = 7.0
    exempt_roles: Annotated[
        list[AllowRole],
        Field(
            default_factory=lambda: list(ALL_ROLES),
            description="allow-lists exempt (bunker barges and supply boats, which no AIS ship type names, "
            "go on `other`)",
        ),
    ]
    exempt_ship_types: Annotated[
        list[int],
        Field(
            default_factory=lambda: list(SERVICE_SHIP_TYPES),
            description="AIS ship types whose work is meeting ships (pilot, SAR, tug, port tender, police)"
            " when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
        ),
    ]
    anchored_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["anchorage", "waiting_area"],
            description="two small craft both at anchor or moored inside these are neighbours, not a "
            "rendezvous; a pair with a large vessel gets `anchored_severity`",
        ),
    ]
    exempt_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["berth", "terminal", "fishing_dock"],
            description="a vessel inside one of these is not in a rendezvous",
        ),
    ]
    moored_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["port_area"],
            description="two vessels both reporting moored (status 5) inside one of these lie at quays: "
            "neighbours, whether or not a berth polygon covers the water they lie in",
        ),
    ]
    severity: Annotated[Literal["alarm", "warning", "caution"], Field(description="alert severity")] = (
        "warning"
    )
    anchored_severity: Annotated[
        Literal["alarm", "warning", "caution", "info"],
        Field(
            description="severity for a pair at anchor or moored in an anchorage with a large vessel in it "
            "(bunkering, a ship-to-ship transfer, or anchoring too close)"
        ),
    ] = "caution"


class RestrictedAreaParams(RuleParams):
    zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["restricted", "protected", "security_zone"],
            description="kinds of zone watched by this rule",
        ),
    ]
    exempt_roles: Annotated[
        list[AllowRole],
        Field(
            default_factory=lambda: list(ALL_ROLES),
            description="allow-lists whose vessels may enter any of these zones",
        ),
    ]
    static_grace_minutes: Annotated[
        float,
        Field(
            ge=0,
            description="a newly heard vessel with no static data yet is given this long (static data comes "
            "every 6 min; two intervals, one report lost) before its unknown category is judged",
        ),
    ] = 13.0
    static_grace_minutes_class_a: Annotated[
        float,
        Field(
            ge=0,
            description="the same for a Class A vessel (three intervals, two reports lost): its transponder "
            "sends its static data by itself, so its absence is reception, and a ship at a berth heard "
            "afresh (at start-up) must not become an intruder for two lost reports",
        ),
    ] = CLASS_A_STATIC_GRACE_MINUTES
    default_severity: Annotated[
        Literal["emergency", "alarm", "warning", "caution", "info"],
        Field(description="severity when the zone sets none"),
    ] = "warning"


class SpeedingParams(RuleParams):
    min_seconds: Annotated[float, Field(ge=0, description="time over the limit before alerting")] = 60.0
    min_reports: Annotated[int, Field(ge=1, description="reports over the limit before alerting")] = 2
    tolerance_kn: Annotated[
        float, Field(ge=0, description="speed over the limit that is still tolerated")
    ] = 0.0
    clear_margin_kn: Annotated[float, Field(ge=0, description="clear only below limit minus this")] = 0.5
    clear_reports: Annotated[
        int, Field(ge=1, description="fixes under that (none over between) to clear")
    ] = 2
    exempt_categories: Annotated[
        list[VesselCategory],
        Field(
            default_factory=lambda: ["law_enforcement", "sar", "pilot"],
            description="vessel categories (by declared ship type) whose work is to answer calls at speed",
        ),
    ]


class UnauthorisedAnchoringParams(RuleParams):
    stationary_kn: Annotated[float, Field(gt=0, description="mean SOG under this counts as stopped")] = 0.5
    stationary_minutes: Annotated[float, Field(gt=0, le=30, description="for at least this long")] = 15.0
    resume_kn: Annotated[
        float, Field(gt=0, description="mean SOG at or above this means under way again")
    ] = 1.0
    resume_minutes: Annotated[float, Field(gt=0, description="window for the resume test")] = 3.0
    allowed_zone_kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=lambda: ["anchorage", "berth", "terminal", "fishing_dock", "waiting_area"],
            description="zone kinds where anchoring or stopping is normal",
        ),
    ]
    zone_margin_m: Annotated[
        float, Field(ge=0, description="a vessel this close to an allowed zone counts as in it")
    ] = 100.0
    include_small_craft: Annotated[
        bool, Field(description="also watch small craft (otherwise: loitering)")
    ] = False
    exempt_roles: Annotated[
        list[AllowRole], Field(default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt")
    ]
    exempt_ship_types: Annotated[
        list[int],
        Field(
            default_factory=lambda: list(SERVICE_SHIP_TYPES),
            description="AIS ship types whose work includes waiting about (pilot, SAR, tug, port tender, "
            "police) when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
        ),
    ]
    severity: Annotated[Literal["alarm", "warning", "caution"], Field(description="alert severity")] = (
        "warning"
    )
    check_every_s: Annotated[float, Field(gt=0, description="re-evaluate a vessel at most this often")] = 60.0
    confirm_s: Annotated[
        float,
        Field(ge=0, description="the condition must still hold this much later (ignores one-fix glitches)"),
    ] = 60.0


class ZoneVisitsParams(RuleParams):
    kinds: Annotated[
        list[ZoneKind],
        Field(
            default_factory=list,
            description="zone kinds recorded even when the zone does not set record_visits (e.g. [berth])",
        ),
    ]
