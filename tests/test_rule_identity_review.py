"""Review of the identity rules (invalid_mmsi, identity_change, distress) against real AIS: flag state
numbers in the IMO field, hazardous-cargo digits of the ship type, placeholder MMSIs, identities
across a silence the tracker forgets, garbled safety messages, and late distress reports."""

from __future__ import annotations

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, of_type, run, stationary
from vts.reports import Report, SafetyReport, StaticReport
from vts.rules.identity_change import imo_problem, ship_kind

SHIP = 725000501
SART = 970010501
IMO = 9251901  # check digit valid


def static5(mmsi: int, t: float, **kw: object) -> StaticReport:
    return StaticReport(time=t, mmsi=mmsi, msg_type=5, source="test", **kw)  # type: ignore[arg-type]


def safety(mmsi: int, t: float, text: str) -> SafetyReport:
    return SafetyReport(time=t, mmsi=mmsi, msg_type=14, source="test", text=text)


def _identity(reports: list[Report], until: float | None = None) -> list[tuple[str, str]]:
    alerts = of_type(run(make_core(), reports, until=until), "identity_change")
    return [(a.details["kind"], a.severity) for a in alerts]


def _with_imo(imo: int, ship_type: int = 30) -> list[Report]:
    return merge(
        stationary(SHIP, T0, minutes=10, at=OPEN_WATER, every_s=60),
        static5(SHIP, T0 + 5, name="NORDFISK", callsign="LMXN", imo=imo, ship_type=ship_type),
    )


def test_imo_field_ranges() -> None:
    """M.1371-5: 1-999999 unused, 1000000-9999999 IMO numbers, from 10000000 flag state numbers."""
    assert imo_problem(IMO) is None and imo_problem(IMO + 1) == "fails its check digit"
    assert imo_problem(999_999) == "is not a seven-digit IMO number"
    assert imo_problem(IMO * 100) is None and imo_problem(1_073_741_823) is None


def test_a_flag_state_number_in_the_imo_field_is_not_a_false_imo() -> None:
    """Ships without an IMO number put their national registration (or their MMSI, or the IMO
    number times 100) in the field: no check digit to fail. A seven-digit number that fails it is
    still reported; an unused value (under 1000000) only on a large vessel, which needs an IMO
    number: a fishing boat's registration number there claims none."""
    for flag_number in (IMO * 100, 10_000_000, 725000501, 1_073_741_823):
        assert _identity(_with_imo(flag_number)) == [], flag_number
        assert _identity(_with_imo(flag_number, ship_type=70)) == [], flag_number
    assert _identity(_with_imo(IMO + 1)) == [("invalid_imo", "info")]
    assert _identity(_with_imo(IMO + 1, ship_type=70)) == [("invalid_imo", "caution")]
    assert _identity(_with_imo(9_999_999)) == [("invalid_imo", "info")]
    assert _identity(_with_imo(555_271)) == []
    assert _identity(_with_imo(555_271, ship_type=70)) == [("invalid_imo", "caution")]


def test_a_new_hazardous_cargo_category_is_voyage_data_not_identity() -> None:
    assert ship_kind(80) == ship_kind(84) == ship_kind(89) == 80 and ship_kind(37) == 37
    assert ship_kind(31) == ship_kind(32) == ship_kind(52) == 52 and ship_kind(30) == 30

    def types(*codes: int) -> list[Report]:
        statics = [
            static5(SHIP, T0 + 5 + 300 * k, name="PUNTA NEGRA", callsign="OA2345", imo=IMO, ship_type=c)
            for k, c in enumerate(codes)
        ]
        return merge(stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=60), statics)

    assert _identity(types(80, 81, 89)) == []  # tanker loading category X, then "no information"
    assert _identity(types(70, 73)) == []
    assert _identity(types(52, 32, 31)) == []  # a tug taking a tow, a long one, then a short one
    assert _identity(types(80, 70)) == [("change", "caution")]  # tanker -> cargo ship
    assert _identity(types(30, 37)) == [("change", "caution")]  # fishing -> pleasure craft


def test_a_placeholder_mmsi_is_shared_not_an_identity_change() -> None:
    """Unrelated transmitters under 0x123456 (a factory default) each send their own static data:
    invalid_mmsi reports the number, identity_change keeps quiet. Under a real MMSI it is a change."""

    def two_ships(mmsi: int) -> list[Report]:
        return merge(
            stationary(mmsi, T0, minutes=20, at=OPEN_WATER, every_s=60),
            static5(mmsi, T0 + 5, name="NYIE DJEU", callsign="FWY0", imo=IMO + 1),
            static5(mmsi, T0 + 605, name="NAUTICAST", callsign="D11233"),
        )

    assert _identity(two_ships(1_193_046)) == []
    assert [k for k, _ in _identity(two_ships(SHIP))] == ["invalid_imo", "change"]


def test_a_ship_back_under_another_name_after_the_tracker_forgot_it() -> None:
    """Silent for two hours (the tracker forgets a vessel after one): the identity it declared is
    still known, so the new name is a change; its false IMO number is not reported a second time."""

    def visit(t0: float, name: str) -> list[Report]:
        return merge(
            stationary(SHIP, t0, minutes=10, at=OPEN_WATER, every_s=60),
            static5(SHIP, t0 + 5, name=name, callsign="OA2345", imo=IMO + 1, ship_type=70),
        )

    same = _identity(visit(T0, "SANTA ROSA") + visit(T0 + 3 * 3600, "SANTA ROSA"), until=T0 + 4 * 3600)
    assert same == [("invalid_imo", "caution")]  # a cargo ship: large
    renamed = _identity(visit(T0, "SANTA ROSA") + visit(T0 + 3 * 3600, "OCEAN STAR"), until=T0 + 4 * 3600)
    assert renamed == [("invalid_imo", "caution"), ("change", "warning")]


def test_a_change_to_a_false_imo_number_is_one_event_with_both() -> None:
    """The new identity's IMO number fails its check digit: the change event says so (a second
    event for the IMO number would fall in the engine's cooldown and never reach the operator)."""
    reports = merge(
        stationary(SHIP, T0, minutes=20, at=OPEN_WATER, every_s=60),
        static5(SHIP, T0 + 5, name="ALAM OCEAN", callsign="HD4383", imo=IMO, ship_type=70),
        static5(SHIP, T0 + 605, name="EXPRESS STAR", callsign="ZH2890", imo=IMO + 1, ship_type=70),
    )
    alerts = of_type(run(make_core(), reports), "identity_change")
    assert len(alerts) == 1
    d = alerts[0].details
    assert d["kind"] == "change" and alerts[0].severity == "warning"
    assert [c["field"] for c in d["changes"]] == ["name", "callsign", "imo"]
    assert d["invalid_imo"] == IMO + 1 and "check digit" in alerts[0].message


def test_a_garbled_safety_message_is_not_an_invalid_mmsi_but_its_sender_s_positions_are() -> None:
    """A lone type-14 text under a number no station uses (a corrupted reception, no position) is
    not reported; a transmitter that goes on to send positions under it is, at its first position."""
    bad = 930974020
    lone = [safety(bad, T0, ')2G*+DT@6L7I6"^-D#DI<+$')]
    assert of_type(run(make_core(), lone, until=T0 + 600), "invalid_mmsi") == []
    sender = lone + stationary(bad, T0 + 30, minutes=2, at=OPEN_WATER, every_s=30)
    alerts = of_type(run(make_core(), sender, until=T0 + 600), "invalid_mmsi")
    assert [(a.mmsi, a.time, a.lat is not None) for a in alerts] == [(bad, T0 + 30, True)]


def test_a_late_report_of_an_active_sart_does_not_rearm_it() -> None:
    """An AIS-SART active for 40 minutes, and one of its first reports delivered late (satellite,
    store-and-forward): the device has never been silent, so there is one emergency, not two."""
    live = stationary(SART, T0, minutes=40, at=OPEN_WATER, every_s=60, nav_status=14)
    late = [live[1]]
    more = stationary(SART, T0 + 2460, minutes=5, at=OPEN_WATER, every_s=60, nav_status=14)
    alerts = of_type(run(make_core(), live + late + more, until=T0 + 3600), "distress")
    assert [(a.severity, a.time) for a in alerts] == [("emergency", T0)]
    # after a real silence longer than rearm_minutes (30), the same device raises again
    back = stationary(SART, T0 + 2400 + 1860, minutes=5, at=OPEN_WATER, every_s=60, nav_status=14)
    alerts = of_type(run(make_core(), live + back, until=T0 + 7200), "distress")
    assert [a.time for a in alerts] == [T0, T0 + 4260]
