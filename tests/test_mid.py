"""MMSI formats (ITU-R M.585) and flags from the MID."""

from __future__ import annotations

import json

import pytest

from vts.mid import MIDS, classify_mmsi, flag_of, is_distress_device, mmsi_kind


@pytest.mark.parametrize(
    ("mmsi", "kind", "iso"),
    [
        (760123456, "ship", "PE"),
        (219000001, "ship", "DK"),
        (366123456, "ship", "US"),
        (503123456, "ship", "AU"),
        (237123456, "ship", "GR"),
        (7601234, "coast_station", "PE"),  # 007601234
        (2190001, "coast_station", "DK"),  # 002190001
        (76012345, "group", "PE"),  # 076012345
        (111760123, "sar_aircraft", "PE"),
        (997601234, "aton", "PE"),
        (992191234, "aton", "DK"),
        (987601234, "auxiliary_craft", "PE"),
        (876012345, "handheld", "PE"),
        (970123456, "sart", None),
        (972000001, "mob", None),
        (974111222, "epirb", None),
    ],
)
def test_valid_formats_are_recognised(mmsi: int, kind: str, iso: str | None) -> None:
    info = classify_mmsi(mmsi)
    assert info.kind == kind
    assert info.problem is None
    assert mmsi_kind(mmsi) == kind
    flag = flag_of(mmsi)
    if iso is None:
        assert flag is None
    else:
        assert flag is not None and flag.iso == iso


@pytest.mark.parametrize(
    ("mmsi", "reason"),
    [
        (0, "placeholder"),
        (111111111, "placeholder"),
        (123456789, "placeholder"),
        (999999999, "placeholder"),
        (1193046, "placeholder"),  # 0x123456, a factory default
        (412000000, "placeholder"),  # a MID and six zeros: shared by unrelated ships in recorded traffic
        (760000000, "placeholder"),
        (1_000_000_000, "nine digits"),
        (12345, "nine digits"),
        (217123456, "MID 217"),  # gap in the European block
        (200123456, "MID 200"),
        (780123456, "MID 780"),  # beyond 775
        (199999999, "no MMSI format"),
        (971123456, "no MMSI format"),  # 97x other than 970/972/974
        (982171234, "auxiliary craft"),  # 98 + unassigned MID 217
        (1110012345 // 10, "sar aircraft"),  # 111001234: MID 001
    ],
)
def test_invalid_numbers_are_flagged_with_a_reason(mmsi: int, reason: str) -> None:
    info = classify_mmsi(mmsi)
    assert info.kind == "invalid"
    assert info.problem is not None and reason in info.problem
    assert flag_of(mmsi) is None


def test_mid_table_covers_the_itu_range_and_known_countries() -> None:
    assert min(MIDS) == 201 and max(MIDS) == 775
    assert all(201 <= m <= 775 for m in MIDS)
    assert len(MIDS) > 280
    assert MIDS[760] == "Peru" and MIDS[760].iso == "PE"
    assert MIDS[725].iso == "CL" and MIDS[735].iso == "EC" and MIDS[730].iso == "CO"
    assert {MIDS[m].iso for m in (351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373, 374)} == {"PA"}
    assert MIDS[636].iso == MIDS[637].iso == "LR"
    for unassigned in (217, 221, 222, 223, 260, 280, 300, 302, 400, 500, 600, 700, 776):
        assert unassigned not in MIDS
    assert all(len(f.iso) == 2 and f.iso.isupper() for f in MIDS.values())


def test_flag_is_a_plain_string_with_extras() -> None:
    flag = flag_of(760000123)
    assert flag == "Peru" and flag.country == "Peru" and flag.mid == 760
    assert json.dumps({"flag": flag}) == '{"flag": "Peru"}'


def test_distress_devices() -> None:
    assert is_distress_device(970010001) and is_distress_device(972010001) and is_distress_device(974010001)
    assert not is_distress_device(760010001) and not is_distress_device(973010001)
