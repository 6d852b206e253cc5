"""Vessel classes the security rules reason with (definitions: alert-anchors.md §c.1).

* large vessel: Class A with ship type 60-89 (passenger, cargo, tanker) or an overall length of
  at least 50 m; never a vessel under a placeholder MMSI (0, 123456789, 0x123456 ...:
  `vts.mid.DUMMY_MMSIS`), whose static data are those of whichever of the unrelated transmitters
  sharing the number sent last (recorded satellite AIS: a yacht in Auckland under 1193046 counted
  as a large ship, with the type a ferry in Noumea had sent under the same number);
* small craft: Class B, fishing / sailing / pleasure and the other 30-37 types, the small service
  types 50-59 (except SAR 51, tug 52, port tender 53 and law enforcement 55, which are ships doing
  their work), an unknown type, no static data at all, an overall length under 20 m, or a
  placeholder MMSI (nothing it declares can be taken as its own);
* moored or anchored: navigational status 1 (at anchor) or 5 (moored), or a mean speed over ground
  under 0.5 kn for the last 10 minutes (the trail must cover those 10 minutes).

Night is 18:00-06:00 local time (`Config.utc_offset_hours`, UTC-5 for Callao).
"""

from __future__ import annotations

from vts.categories import VesselCategory, category_of
from vts.mid import DUMMY_MMSIS
from vts.spatial import approx_distance_m
from vts.tracker import VesselState

LARGE_TYPES = range(60, 90)
SMALL_TYPES = range(30, 38)
SMALL_SERVICE_TYPES = frozenset({50, 54, 56, 57, 58, 59})
LARGE_LENGTH_M = 50.0
SMALL_LENGTH_M = 20.0
AT_ANCHOR = 1
MOORED = 5
STATIONARY_KN = 0.5
STATIONARY_WINDOW_S = 600.0
MS_PER_KNOT = 1852.0 / 3600.0
CLASS_A_STATIC_GRACE_MINUTES = 19.0
"""How long a newly heard Class A vessel may go without static data before its absence is more than
reception: three of its 6-minute static intervals and a minute (two reports lost in a row). Its
transponder sends static data by itself (restricted_area's default grace, alongside's wait for a
target at rest)."""


def type_is_unknown(ship_type: int | None) -> bool:
    """No type, 0 ("not available") or a value outside the defined 20-99 range."""
    return ship_type is None or not 20 <= ship_type <= 99


def _large(ship_type: int | None, length: float | None) -> bool:
    """A type or an overall length that makes a Class A vessel large."""
    return (ship_type is not None and ship_type in LARGE_TYPES) or (
        length is not None and length >= LARGE_LENGTH_M
    )


def is_large_vessel(vessel: VesselState) -> bool:
    return (
        vessel.ais_class != "B" and vessel.mmsi not in DUMMY_MMSIS and _large(vessel.ship_type, vessel.length)
    )


IDENTITY_DOUBT_S = 3600.0
"""How long what an MMSI declared before its static data changed type or size still counts."""


def _recent_former(vessel: VesselState, now: float) -> list[tuple[int | None, float | None]]:
    return [(st, length) for until, st, length in vessel.former_identities if now - until <= IDENTITY_DOUBT_S]


def declared_categories(vessel: VesselState, now: float) -> set[VesselCategory]:
    """The vessel's category and those its MMSI declared in the last hour before its static data
    changed type (two ships under one MMSI, or a changed identity: which one is true is in doubt)."""
    return {vessel.category, *(category_of(st) for st, _ in _recent_former(vessel, now))}


def may_be_large(vessel: VesselState, now: float) -> bool:
    """`is_large_vessel`, or a Class A whose MMSI declared a large type or size in the last hour
    (see `declared_categories`)."""
    if vessel.ais_class == "B" or vessel.mmsi in DUMMY_MMSIS:
        return False
    return _large(vessel.ship_type, vessel.length) or any(
        _large(st, length) for st, length in _recent_former(vessel, now)
    )


def is_small_craft(vessel: VesselState) -> bool:
    """A small craft by what it declares (`declares_small_craft`), or a vessel that declares nothing
    to go by: no static data, an unknown type, or a placeholder MMSI (and not large)."""
    if is_large_vessel(vessel):
        return False
    if _declares_small(vessel):  # (`declares_small_craft`, its large-vessel test done above)
        return True
    return not vessel.has_static or vessel.mmsi in DUMMY_MMSIS or type_is_unknown(vessel.ship_type)


def declares_small_craft(vessel: VesselState) -> bool:
    """A small craft by what it transmits, not by what it leaves out: Class B, a small ship type
    (30-37, the small service types) or an overall length under 20 m, and not large. A vessel
    with no static data yet is not one (a ship's type 5 comes every 6 minutes)."""
    return not is_large_vessel(vessel) and _declares_small(vessel)


def _declares_small(vessel: VesselState) -> bool:
    """`declares_small_craft` for a vessel known not to be large."""
    if vessel.ais_class == "B":
        return True
    st = vessel.ship_type
    if st is not None and (st in SMALL_TYPES or st in SMALL_SERVICE_TYPES):
        return True
    length = vessel.length
    return length is not None and length < SMALL_LENGTH_M


def has_no_static(vessel: VesselState) -> bool:
    """Nothing identifies this target: no static message, or one with neither name nor type."""
    return not vessel.has_static or (not vessel.name and type_is_unknown(vessel.ship_type))


def awaits_type(vessel: VesselState) -> bool:
    """No ship type declared yet where one is still to come: no static data at all, or a Class B
    unit that has sent its name (message 24A) but not yet its type (24B, a message of its own)."""
    return not vessel.has_static or (vessel.ais_class == "B" and vessel.ship_type is None)


def mean_speed_kn(vessel: VesselState, now: float, window_s: float) -> float | None:
    """Mean speed over ground over the last `window_s` seconds of the trail, or None when the trail
    does not cover the window (a fix at or before its start is needed).

    Reported SOG is averaged, each fix weighted by the time until the next one; fixes without SOG
    use the implied speed from their neighbour. GNSS jitter does not inflate it the way summing
    distances between noisy fixes would.
    """
    trail = vessel.trail
    if not trail:
        return None
    start = now - window_s
    if trail[0].time > start:
        return None
    total = 0.0
    weight = 0.0
    nxt_time = now
    nxt = None
    for fix in reversed(trail):
        span = max(nxt_time - max(fix.time, start), 0.0)
        if fix.sog is not None:
            speed = fix.sog
        elif nxt is not None and nxt.time > fix.time:
            speed = (
                approx_distance_m(fix.lat, fix.lon, nxt.lat, nxt.lon) / (nxt.time - fix.time) / MS_PER_KNOT
            )
        else:
            speed = None
        if speed is not None and span > 0:
            total += speed * span
            weight += span
        if fix.time <= start:
            break
        nxt_time = fix.time
        nxt = fix
    if weight <= 0:
        return None
    return total / weight


def is_stationary(vessel: VesselState, now: float, window_s: float = STATIONARY_WINDOW_S) -> bool:
    """Mean SOG under 0.5 kn over the last `window_s` seconds (trail must cover them)."""
    speed = mean_speed_kn(vessel, now, window_s)
    return speed is not None and speed < STATIONARY_KN


def is_moored_or_anchored(vessel: VesselState, now: float | None = None) -> bool:
    """Nav status at anchor / moored, or under 0.5 kn for the last 10 minutes."""
    if vessel.nav_status in (AT_ANCHOR, MOORED):
        # a ship that forgot to reset its status is clearly under way above 3 kn
        return vessel.sog is None or vessel.sog < 3.0
    t = vessel.last_seen if now is None else now
    return is_stationary(vessel, t)


def local_hour(t: float, utc_offset_hours: float) -> float:
    """Local time of day in hours [0, 24) for an event time."""
    return ((t / 3600.0) + utc_offset_hours) % 24.0


def is_night(t: float, utc_offset_hours: float, start_hour: float = 18.0, end_hour: float = 6.0) -> bool:
    """True between `start_hour` and `end_hour` local time (the interval may wrap midnight)."""
    h = local_hour(t, utc_offset_hours)
    if start_hour <= end_hour:
        return start_hour <= h < end_hour
    return h >= start_hour or h < end_hour
