"""The parameters of every rule, as the config reads them: one pydantic model per rule (each a
`RuleParams`, the config's base with ``enabled``), with its defaults, bounds and descriptions.

They are here, not in the rule modules, because the rule modules are compiled with mypyc, and a
pydantic model defined in a compiled module loses its field metadata (bounds, descriptions, even
its docstring). This module is not compiled; it imports no rule module (only the config, the
tracker and the helpers the defaults need), and each rule module imports its model from here under
the same name (``from vts.rules.loitering import LoiteringParams`` still works)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from vts.categories import VesselCategory
from vts.config import AllowRole, RuleParams, ZoneKind
from vts.normalcy import Layer
from vts.rules._common import ALL_ROLES, LYING_STILL_KINDS, SERVICE_SHIP_TYPES
from vts.vessel_class import CLASS_A_STATIC_GRACE_MINUTES


class PairParams(RuleParams):
    """Parameters shared by the pairwise proximity rules (each sets its own distance and duration)."""

    distance_m: float = Field(150.0, gt=0, description="the two vessels within this distance")
    min_minutes: float = Field(3.0, ge=0, description="close for at least this long")
    max_speed_kn: float = Field(3.0, gt=0, description="both vessels under this SOG")
    clear_margin_m: float = Field(50.0, ge=0, description="hysteresis: clears beyond distance_m + this")
    max_gap_minutes: float = Field(
        7.0,
        gt=0,
        description="a longer silence of the pair restarts the spell (two 3-minute slow Class B "
        "intervals and slack: one lost message does not break it)",
    )
    lost_minutes: float = Field(10.0, gt=0, description="an alert clears when the pair is not seen this long")
    check_every_s: float = Field(
        10.0, ge=0, description="look at a slow vessel's neighbourhood at most this often (event time)"
    )
    underway_grace_s: float = Field(
        120.0,
        ge=0,
        description="once the pair's alert is up, a vessel still near its partner ends it by being under "
        "way only after this long (a boat shifting along the hull, or round the other, is still with "
        "it; one leaving is soon beyond the distance, which ends it at once)",
    )


class AisGapParams(RuleParams):
    min_messages: int = Field(10, ge=1, description="messages needed in the history window before the gap")
    history_minutes: float = Field(30.0, gt=0, le=30, description="history window before the last message")
    underway_minutes: float = Field(10.0, gt=0, description="silence that counts as dark, under way")
    moored_minutes: float = Field(30.0, gt=0, description="silence that counts as dark, at anchor or moored")
    neighbour_radius_m: float = Field(9260.0, gt=0, description="radius in which other vessels must be heard")
    min_neighbours: int = Field(1, ge=0, description="vessels heard near it since it fell silent")
    edge_margin_m: float = Field(1000.0, ge=0, description="last position at least this far inside the area")
    severe_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["security_zone", "restricted", "protected"],
        description="last seen in these: alarm, else warning",
    )
    implied_speed_flag_kn: float = Field(25.0, gt=0, description="flag a reappearance implying this speed")
    far_flag_m: float = Field(3704.0, gt=0, description="flag a reappearance this far from the last position")
    max_dark_hours: float = Field(24.0, gt=0, description="give up on a vessel silent this long")
    berthing_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["berth", "terminal"],
        description="a ship (not a small craft) last heard in one of these under berthing_max_kn is "
        "berthing: moored_minutes applies (cranes and sheds shadow a ship at its berth from the "
        "receiver)",
    )
    berthing_max_kn: float = Field(3.0, gt=0, description="... at under this speed over ground")


class AlongsideParams(PairParams):
    distance_m: float = Field(150.0, gt=0, description="craft within this of the ship (hull when known)")
    min_minutes: float = Field(3.0, ge=0, description="close for at least this long")
    night_start_hour: float = Field(18.0, ge=0, lt=24, description="local hour night begins (alarm)")
    night_end_hour: float = Field(6.0, ge=0, lt=24, description="local hour night ends")
    security_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["security_zone"], description="either vessel inside one: alarm"
    )
    exempt_roles: list[AllowRole] = Field(
        default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt"
    )
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose normal work is alongside ships (pilot, SAR, tug, tender, "
        "police) when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
    )
    exempt_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["fishing_dock"], description="craft moored in these zones are exempt"
    )
    quay_within_m: float = Field(
        80.0,
        ge=0,
        description="a ship that reports no heading, with its antenna this close to the coastline, lies "
        "along it (moored to a quay or pier): its hull is placed so (0: never, distance to the antenna)",
    )


class AnchorDragParams(RuleParams):
    settle_minutes: float = Field(
        10.0, gt=0, description="fixes of this first period give the anchoring position"
    )
    min_radius_m: float = Field(200.0, gt=0, description="smallest swing circle radius")
    radius_margin_m: float = Field(150.0, ge=0, description="swing radius = length + this")
    consecutive_fixes: int = Field(3, ge=1, description="fixes outside the circle in a row")
    drag_sog_kn: float = Field(1.0, gt=0, description="speed over ground that counts as making way")
    drag_minutes: float = Field(2.0, ge=0, description="how long that speed must last")
    fast_gap_minutes: float = Field(
        7.0,
        gt=0,
        description="a longer silence between two fixes at that speed starts the count again: what the "
        "ship did in between is not known (two 3-minute reports at anchor and slack)",
    )
    underway_sog_kn: float = Field(4.0, gt=0, description="above this the ship has weighed anchor")
    ahead_deg: float = Field(
        45.0, gt=0, le=90, description="course within this of heading (at drag_sog_kn or more): under way"
    )
    hold_radius_m: float = Field(
        50.0, gt=0, description="after a drag, settle_minutes of fixes this close: holding again"
    )


class CourseAnomalyParams(RuleParams):
    wrong_way: bool = True
    wrong_way_angle_deg: float = Field(90.0, gt=0, lt=180)
    wrong_way_minutes: float = Field(2.0, gt=0)
    wrong_way_min_sog_kn: float = Field(2.0, ge=0)
    wrong_way_edge_m: float = Field(
        50.0,
        ge=0,
        description="a course that suits a directed lane this close is not wrong (a ship on the line "
        "between two lanes)",
    )
    erratic: bool = True
    erratic_turn_deg: float = Field(60.0, gt=0, lt=180)
    erratic_turns: int = Field(3, ge=2)
    erratic_minutes: float = Field(10.0, gt=0)
    erratic_min_sog_kn: float = Field(3.0, ge=0)
    erratic_exempt_ship_types: list[int] = Field(
        default_factory=lambda: [33, 34, 37, 53],
        description="ship types left out of the erratic kind only (dredging, diving, pleasure, port tender)",
    )
    stop_after_departure: bool = True
    departure_sog_kn: float = Field(4.0, gt=0, description="speed that counts as having got under way")
    departure_watch_nm: float = Field(10.0, gt=0)
    departure_under_way_minutes: float = Field(
        30.0, gt=0, description="a vessel not under way this long after leaving is not departing"
    )
    departure_watch_minutes: float = Field(
        60.0, gt=0, description="the watch ends this long after the vessel got under way"
    )
    departure_exit_lookback_minutes: float = Field(
        10.0, ge=0, description="under way this shortly before crossing out counts as under way"
    )
    departure_stopped_kn: float = Field(
        1.0,
        gt=0,
        description="a vessel leaves a berth or anchorage only if it lay there: a fix this slow inside "
        "it (or status at anchor / moored), or a stay longer than the tracker's trail; one that crossed "
        "the anchorage under way did not depart from it",
    )
    stop_sog_kn: float = Field(2.0, gt=0)
    stop_minutes: float = Field(3.0, ge=0)
    turn_back_m: float = Field(1000.0, gt=0)
    off_route: bool = True
    model_path: str | None = Field(
        None, description="normalcy model (.npz from `vts learn`), relative to the config"
    )
    model_layer: Layer = Field("large", description="which layer of the model to judge by")
    off_route_minutes: float = Field(10.0, gt=0, description="window of the mean anomaly")
    off_route_threshold: float = Field(0.6, gt=0, le=1)
    off_route_normal_below: float = Field(0.2, ge=0, le=1, description="mean that counts as on the routes")
    off_route_min_sog_kn: float = Field(3.0, ge=0)
    off_route_after_event_minutes: float = Field(
        30.0, ge=0, description="no off_route for a vessel reported erratic or stopping this recently"
    )
    off_route_anchor_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["anchorage", "waiting_area"],
        description="a ship inside one of these zones, or making for one (its course leads into it "
        "within off_route_minutes at its speed), is going to anchor where ships anchor: not raised; "
        "an alert up ends inside one",
    )
    off_route_approach_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["lane", "channel", "entrance"],
        description="the usual approach: off_route is raised for a ship that was within "
        "off_route_approach_m of a zone of these kinds in the last off_route_approach_minutes (one that "
        "leaves the approach), not for ships passing or arriving elsewhere; none configured: any ship",
    )
    off_route_approach_m: float = Field(
        3000.0, ge=0, description="how near the approach zones counts as on it"
    )
    off_route_approach_minutes: float = Field(
        30.0, gt=0, description="how recently the ship must have been on the approach"
    )
    exempt_categories: list[VesselCategory] = Field(
        default_factory=lambda: ["tug", "pilot", "sar", "law_enforcement", "fishing", "sailing"]
    )


class CpaParams(RuleParams):
    range_nm: float = Field(3.0, gt=0, description="pairs further apart than this are not evaluated")
    min_sog_kn: float = Field(1.0, ge=0, description="both vessels must be faster than this")
    warning_cpa_nm: float = Field(0.3, gt=0)
    warning_tcpa_min: float = Field(10.0, gt=0)
    alarm_cpa_nm: float = Field(0.1, gt=0)
    alarm_tcpa_min: float = Field(5.0, gt=0)
    min_relative_kn: float = Field(1.0, ge=0, description="slower relative motion has no meaningful CPA")
    max_fix_age_s: float = Field(
        180.0,
        gt=0,
        description="vessels whose last fix is older than this and than their own lost-target time "
        "(six nominal reporting intervals, IEC 62388) are left out",
    )
    clear_factor: float = Field(1.2, ge=1.0, description="hysteresis on the warning CPA before clearing")
    confirm_s: float = Field(
        10.0,
        ge=0,
        description="a situation is raised once it has held this long, on every evaluation (each "
        "tick): one evaluation on a course swinging through a turn, or on a noisy course, is not one",
    )
    min_warning_tcpa_s: float = Field(
        30.0,
        ge=0,
        description="a warning is not raised with its closest point nearer than this: the vessels are "
        "passing then, and it would clear before anyone could act on it (an alarm is raised all the "
        "same)",
    )
    skip_assist_categories: bool = Field(
        True, description="treat declared tugs and pilot boats as assist craft"
    )
    small_craft_pairs_alarm_only: bool = Field(
        True,
        description="a pair of two small craft (`vts.vessel_class.declares_small_craft`: Class B, a "
        "fishing, pleasure or other small type, or under 20 m) is raised only at the alarm limits: at "
        "the warning limits (0.3 NM within 10 min) boats working in company, and launches and fishing "
        "boats leaving port together, made most of the alerts of a busy port",
    )
    raise_fix_intervals: float = Field(
        3.0,
        gt=0,
        description="a situation is raised only while both vessels' last fixes are at most this many of "
        "their nominal reporting intervals old (IEC 62388); an older fix, dead-reckoned up to "
        "max_fix_age_s, keeps an alert up but does not raise one",
    )

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
    rearm_minutes: float = Field(30.0, gt=0, description="silence after which the same device raises again")


class DriftingParams(RuleParams):
    min_sog_kn: float = Field(0.25, ge=0, description="lowest speed over ground that counts")
    max_sog_kn: float = Field(20.0, gt=0, description="highest speed over ground that counts")
    min_angle_deg: float = Field(45.0, gt=0, le=180, description="heading vs course over ground")
    min_minutes: float = Field(3.0, gt=0, description="how long the condition must hold")
    min_fixes: int = Field(3, ge=2, description="fixes needed over that time")
    min_displacement_m: float = Field(30.0, ge=0, description="net movement needed over the run")
    max_run_minutes: float = Field(
        10.0, gt=0, description="the run judged is at most this long (a slow drift has time to show)"
    )
    not_under_command: bool = Field(True, description="also alert on navigational status 2")
    nuc_quiet_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: list(LYING_STILL_KINDS),
        description="zone kinds where status 2 alone is no alert: the ship must also move",
    )
    nuc_moving_kn: float = Field(
        1.0, gt=0, description="mean speed over min_minutes that counts as moving in those zones"
    )
    swing_cable_m: float = Field(
        300.0,
        ge=0,
        description="the most cable a ship at anchor lies to: as it swings, its antenna turns about the "
        "anchor at its length plus this, at most",
    )
    exempt_categories: list[VesselCategory] = Field(default_factory=lambda: ["tug"])


class DuplicateMmsiParams(RuleParams):
    min_conflicts: int = Field(3, ge=1, description="dead-reckoning conflicts needed ...")
    window_minutes: float = Field(10.0, gt=0, description="... within this window")
    clear_minutes: float = Field(30.0, gt=0, description="clear after this long without a conflict")
    interleave: bool = Field(True, description="also detect two interleaved tracks a few km apart")
    interleave_min_speed_kn: float = Field(40.0, gt=0)
    interleave_min_distance_m: float = Field(300.0, ge=0)
    ignore_same_track: bool = Field(
        True, description="no alert when the 'second ship' sails the first one's course line (late fixes)"
    )
    arrival_delay_hours: float = Field(
        3.0,
        ge=0,
        description="on a feed that stamps arrival (satellite, store-and-forward), fixes may come this "
        "late: a 'second ship' no farther away than the ship could have sailed in that time (at 2 x SOG "
        "+ 10 kn, at least 25 kn) may be its own fixes delivered again, and raises nothing",
    )


class IdentityChangeParams(RuleParams):
    dimension_tolerance_m: float = Field(2.0, ge=0, description="length/beam changes up to this are ignored")
    check_imo: bool = Field(True, description="report IMO numbers that fail the check digit")
    shared_imo: bool = Field(True, description="report an IMO number claimed by two MMSIs")
    shared_imo_days: float = Field(30.0, gt=0, description="how long an IMO claim is remembered")
    memory_days: float = Field(
        7.0, gt=0, description="how long what an MMSI declared is remembered after its last static report"
    )


class InvalidMmsiParams(RuleParams):
    escalate_in_sensitive_zones: bool = Field(
        True, description="warning (and one more event) when inside a security, restricted or protected zone"
    )


class LoiteringParams(RuleParams):
    max_speed_kn: float = Field(2.0, gt=0, description="mean SOG under this over the window is loitering")
    small_craft_minutes: float = Field(30.0, gt=0, description="window for small craft")
    other_minutes: float = Field(60.0, gt=0, description="window for other vessels")
    circling_turn_deg: float = Field(360.0, gt=0, description="net turning that counts as circling")
    circling_minutes: float = Field(30.0, gt=0, description="window for the circling test")
    circling_min_kn: float = Field(1.0, ge=0, description="turns count only at or above this SOG")
    circling_max_kn: float = Field(6.0, gt=0, description="... and at or below this SOG")
    circling_radius_m: float = Field(300.0, gt=0, description="circling stays within this radius of gyration")
    circling_min_radius_m: float = Field(
        20.0,
        ge=0,
        description="... and reaches at least this one (a vessel lying still with a noisy course over "
        "ground 'turns' on the spot, within a few metres)",
    )
    clear_kn: float = Field(3.0, gt=0, description="under way again: mean SOG at least this ...")
    clear_minutes: float = Field(5.0, gt=0, description="... over the last this many minutes")
    sample_s: float = Field(30.0, gt=0, description="fixes are sampled at most this often")
    max_gap_minutes: float = Field(10.0, gt=0, description="a longer reception gap restarts the window ...")
    bridge_gap_minutes: float = Field(
        30.0,
        ge=0,
        description="... unless no longer than this, and the vessel is heard again within what it could "
        "have drifted at under max_speed_kn (lost reports of a boat lying still)",
    )
    lost_minutes: float = Field(15.0, gt=0, description="an active alert clears after this much silence")
    exempt_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["anchorage", "berth", "terminal", "fishing_dock", "waiting_area"],
        description="zone kinds where slow movement is normal",
    )
    exempt_roles: list[AllowRole] = Field(
        default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt"
    )
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose work includes waiting about (pilot, SAR, tug, port tender, "
        "police) when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
    )
    severity: Literal["alarm", "warning", "caution"] = Field("warning", description="alert severity")


class PositionJumpParams(RuleParams):
    min_speed_kn: float = Field(40.0, gt=0, description="implied speed always allowed below this")
    sog_factor: float = Field(2.0, gt=0, description="implied speed allowed up to factor x SOG + offset")
    sog_offset_kn: float = Field(10.0, ge=0)
    max_sog_kn: float = Field(
        50.0,
        gt=0,
        description="a reported SOG above this (102.2, 'faster than 102 kn', from a faulty transponder) "
        "widens the allowance no further than this one",
    )
    min_distance_m: float = Field(300.0, ge=0, description="shorter jumps are GPS jitter")
    time_slack_s: float = Field(2.0, ge=0, description="added to the elapsed time (time-stamp rounding)")
    unreliable_time_slack_s: float = Field(
        300.0, ge=0, description="added instead when the fixes' UTC seconds contradict the event times"
    )
    max_gap_minutes: float = Field(60.0, gt=0, description="fixes further apart than this are not compared")
    max_late_minutes: float = Field(
        120.0,
        gt=0,
        description="on a feed that stamps arrival, a fix along course that the ship's speed explains "
        "within this is the same ship seen late",
    )
    on_land: bool = Field(True, description="report fixes on land")
    land_margin_m: float = Field(
        100.0, ge=0, description="a fix on land counts only this far inside the coastline (GNSS noise, quays)"
    )
    null_island: bool = Field(True, description="report fixes at (0, 0)")
    repeat_count: int = Field(3, ge=1, description="jumps in an hour that make it a warning")
    cluster_vessels: int = Field(3, ge=2, description="vessels jumping together = GNSS interference")
    cluster_radius_m: float = Field(2000.0, gt=0)
    cluster_window_s: float = Field(60.0, gt=0, description="individual jumps are held this long")
    cluster_quiet_minutes: float = Field(10.0, gt=0)
    cluster_reach_minutes: float = Field(
        7.0,
        ge=0,
        description="jumps already reported this recently still count towards a cluster: ships at anchor "
        "report every 3 minutes, so the vessels of one area pulled to one spot jump up to minutes apart",
    )
    duplicate_wait_minutes: float = Field(
        10.0,
        ge=0,
        description="a jump to a second stream heard again while the track's own fixes go on waits this "
        "long for duplicate_mmsi (its window) before it is reported",
    )


class RendezvousParams(PairParams):
    distance_m: float = Field(200.0, gt=0, description="the two vessels within this distance")
    min_minutes: float = Field(10.0, ge=0, description="for at least this long")
    stale_position_minutes: float = Field(7.0, gt=0, description="ignore a neighbour whose last fix is older")
    exempt_roles: list[AllowRole] = Field(
        default_factory=lambda: list(ALL_ROLES),
        description="allow-lists exempt (bunker barges and supply boats, which no AIS ship type names, "
        "go on `other`)",
    )
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose work is meeting ships (pilot, SAR, tug, port tender, police)"
        " when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
    )
    anchored_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["anchorage", "waiting_area"],
        description="two small craft both at anchor or moored inside these are neighbours, not a "
        "rendezvous; a pair with a large vessel gets `anchored_severity`",
    )
    exempt_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["berth", "terminal", "fishing_dock"],
        description="a vessel inside one of these is not in a rendezvous",
    )
    moored_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["port_area"],
        description="two vessels both reporting moored (status 5) inside one of these lie at quays: "
        "neighbours, whether or not a berth polygon covers the water they lie in",
    )
    severity: Literal["alarm", "warning", "caution"] = Field("warning", description="alert severity")
    anchored_severity: Literal["alarm", "warning", "caution", "info"] = Field(
        "caution",
        description="severity for a pair at anchor or moored in an anchorage with a large vessel in it "
        "(bunkering, a ship-to-ship transfer, or anchoring too close)",
    )


class RestrictedAreaParams(RuleParams):
    zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["restricted", "protected", "security_zone"],
        description="kinds of zone watched by this rule",
    )
    exempt_roles: list[AllowRole] = Field(
        default_factory=lambda: list(ALL_ROLES),
        description="allow-lists whose vessels may enter any of these zones",
    )
    static_grace_minutes: float = Field(
        13.0,
        ge=0,
        description="a newly heard vessel with no static data yet is given this long (static data comes "
        "every 6 min; two intervals, one report lost) before its unknown category is judged",
    )
    static_grace_minutes_class_a: float = Field(
        CLASS_A_STATIC_GRACE_MINUTES,
        ge=0,
        description="the same for a Class A vessel (three intervals, two reports lost): its transponder "
        "sends its static data by itself, so its absence is reception, and a ship at a berth heard "
        "afresh (at start-up) must not become an intruder for two lost reports",
    )
    default_severity: Literal["emergency", "alarm", "warning", "caution", "info"] = Field(
        "warning", description="severity when the zone sets none"
    )


class SpeedingParams(RuleParams):
    min_seconds: float = Field(60.0, ge=0, description="time over the limit before alerting")
    min_reports: int = Field(2, ge=1, description="reports over the limit before alerting")
    tolerance_kn: float = Field(0.0, ge=0, description="speed over the limit that is still tolerated")
    clear_margin_kn: float = Field(0.5, ge=0, description="clear only below limit minus this")
    clear_reports: int = Field(2, ge=1, description="fixes under that (none over between) to clear")
    exempt_categories: list[VesselCategory] = Field(
        default_factory=lambda: ["law_enforcement", "sar", "pilot"],
        description="vessel categories (by declared ship type) whose work is to answer calls at speed",
    )


class UnauthorisedAnchoringParams(RuleParams):
    stationary_kn: float = Field(0.5, gt=0, description="mean SOG under this counts as stopped")
    stationary_minutes: float = Field(15.0, gt=0, le=30, description="for at least this long")
    resume_kn: float = Field(1.0, gt=0, description="mean SOG at or above this means under way again")
    resume_minutes: float = Field(3.0, gt=0, description="window for the resume test")
    allowed_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: ["anchorage", "berth", "terminal", "fishing_dock", "waiting_area"],
        description="zone kinds where anchoring or stopping is normal",
    )
    zone_margin_m: float = Field(
        100.0, ge=0, description="a vessel this close to an allowed zone counts as in it"
    )
    include_small_craft: bool = Field(False, description="also watch small craft (otherwise: loitering)")
    exempt_roles: list[AllowRole] = Field(
        default_factory=lambda: list(ALL_ROLES), description="allow-lists exempt"
    )
    exempt_ship_types: list[int] = Field(
        default_factory=lambda: list(SERVICE_SHIP_TYPES),
        description="AIS ship types whose work includes waiting about (pilot, SAR, tug, port tender, "
        "police) when a Class A station declares them (a Class B craft is exempt only if allow-listed)",
    )
    severity: Literal["alarm", "warning", "caution"] = Field("warning", description="alert severity")
    check_every_s: float = Field(60.0, gt=0, description="re-evaluate a vessel at most this often")
    confirm_s: float = Field(
        60.0, ge=0, description="the condition must still hold this much later (ignores one-fix glitches)"
    )


class ZoneVisitsParams(RuleParams):
    kinds: list[ZoneKind] = Field(
        default_factory=list,
        description="zone kinds recorded even when the zone does not set record_visits (e.g. [berth])",
    )
