"""Vessel category from the AIS ship type, and AIS class from the message type.

Ship types are the two-digit codes of ITU-R M.1371-5 table 53 (as listed at
https://gpsd.gitlab.io/gpsd/AIVDM.html#_type_5_static_and_voyage_related_data):
20-29 wing in ground, 30 fishing, 31/32 towing, 33 dredging, 34 diving, 35 military, 36 sailing,
37 pleasure craft, 40-49 high-speed craft, 50 pilot, 51 search and rescue, 52 tug, 53 port tender,
54 anti-pollution, 55 law enforcement, 56/57 local, 58 medical transport, 59 non-combatant (RR 18),
60-69 passenger, 70-79 cargo, 80-89 tanker, 90-99 other. 0 is "not available"; 1-19 and 100-255
are reserved.
"""

from __future__ import annotations

from typing import Literal

from vts.reports import AisClass

VesselCategory = Literal[
    "cargo",
    "tanker",
    "passenger",
    "fishing",
    "tug",
    "pilot",
    "law_enforcement",
    "sar",
    "pleasure",
    "sailing",
    "other",
    "unknown",
]

_SPECIAL: dict[int, VesselCategory] = {
    30: "fishing",
    31: "tug",  # towing
    32: "tug",  # towing, length > 200 m or breadth > 25 m
    35: "law_enforcement",  # military operations: state vessels, treated like law enforcement
    36: "sailing",
    37: "pleasure",
    50: "pilot",
    51: "sar",
    52: "tug",
    55: "law_enforcement",
}


def category_of(ship_type: int | None) -> VesselCategory:
    """The category of an AIS ship type code; "unknown" when not given or reserved."""
    if ship_type is None or ship_type < 20 or ship_type > 99:
        return "unknown"
    special = _SPECIAL.get(ship_type)
    if special is not None:
        return special
    tens = ship_type // 10
    if tens == 6:
        return "passenger"
    if tens == 7:
        return "cargo"
    if tens == 8:
        return "tanker"
    return "other"


_CLASS_OF_TYPE: dict[int, AisClass] = {1: "A", 2: "A", 3: "A", 5: "A", 27: "A", 18: "B", 19: "B", 24: "B"}


def ais_class_of(msg_type: int) -> AisClass | None:
    """ "A" or "B" for the message types only one class sends; None for the others."""
    return _CLASS_OF_TYPE.get(msg_type)


def is_anchored_or_moored(nav_status: int | None) -> bool:
    """Navigational status 1 (at anchor) or 5 (moored)."""
    return nav_status == 1 or nav_status == 5
