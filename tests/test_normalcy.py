"""The learned traffic model (vts.normalcy) and `vts learn`."""

from __future__ import annotations

import lzma
import math
from functools import reduce
from pathlib import Path

import pytest
from pyais.encode import encode_dict

from vts.cli import main as vts_main
from vts.normalcy import NormalcyBuilder, NormalcyModel, cell_of, roc_auc, track_score

LAT0, LON0 = -12.04, -77.22
M_PER_DEG = 111_195.0


def east(lat: float, lon: float, metres: float) -> tuple[float, float]:
    return lat, lon + metres / (M_PER_DEG * math.cos(math.radians(lat)))


def lane_model(vessels: int = 20, cell_m: float = 500.0) -> NormalcyModel:
    """`vessels` large ships all sailing east along latitude LAT0, each with many fixes."""
    b = NormalcyBuilder(cell_m=cell_m)
    for k in range(vessels):
        b.mark_large(1000 + k)
        for i in range(100):
            lat, lon = east(LAT0, LON0, i * 50.0)
            assert b.add(1000 + k, lat, lon, 10.0, 90.0)
    return b.build()


def test_cells_are_square_and_stable() -> None:
    assert cell_of(LAT0, LON0, 500) == cell_of(LAT0 + 1e-6, LON0 + 1e-6, 500)
    r0, c0 = cell_of(LAT0, LON0, 500)
    r1, _ = cell_of(LAT0 + 600 / M_PER_DEG, LON0, 500)
    _, c1 = cell_of(LAT0, east(LAT0, LON0, 600)[1], 500)
    assert abs(r1 - r0) == 1 and abs(c1 - c0) == 1


def test_a_vessel_counts_once_per_cell_and_slow_fixes_are_ignored() -> None:
    b = NormalcyBuilder(cell_m=500)
    for _ in range(50):
        b.add(1, LAT0, LON0, 8.0, 90.0)
    assert not b.add(2, LAT0, LON0, 0.3, 90.0)  # moored: not "where ships go"
    assert not b.add(3, 0.0, 0.0, 8.0, 90.0)  # null island
    model = b.build()
    assert model.stats(LAT0, LON0, 90.0).vessels == 1
    assert model.total_vessels("large") == 0


def test_anomaly_is_high_where_no_ship_goes_and_for_rare_courses() -> None:
    model = lane_model()
    on_lane = east(LAT0, LON0, 2000)
    assert model.anomaly(*on_lane, 90.0, "large") < 0.05
    far = (LAT0 - 5000 / M_PER_DEG, on_lane[1])
    assert model.anomaly(*far, 90.0, "large") == pytest.approx(1.0)
    assert model.anomaly(*on_lane, 270.0, "large") == pytest.approx(1.0)  # against the flow
    assert model.anomaly(*on_lane, None, "large") < 0.05  # no course: judged by place only
    st = model.stats(*on_lane, 90.0, "large")
    assert (
        st.vessels >= 20 and st.course_share == pytest.approx(1.0) and st.mean_sog_kn == pytest.approx(10.0)
    )


def test_save_load_round_trip_and_bad_files(tmp_path: Path) -> None:
    model = lane_model()
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = NormalcyModel.load(path)
    for p in [east(LAT0, LON0, d) for d in (0, 1000, 4000, 9000)] + [(LAT0 - 0.05, LON0)]:
        assert loaded.anomaly(*p, 90.0, "large") == pytest.approx(model.anomaly(*p, 90.0, "large"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a normalcy model"):
        NormalcyModel.load(bad)
    with pytest.raises(ValueError, match="not a normalcy model"):
        NormalcyModel.load(tmp_path / "missing.npz")


def test_track_score_and_roc_auc_separate_normal_from_anomalous() -> None:
    model = lane_model()
    normal = [
        [(t * 10.0, *east(LAT0, LON0, 200 + 50 * t + 13 * k), 90.0) for t in range(60)] for k in range(5)
    ]
    off = [
        [(t * 10.0, *east(LAT0 - (3000 + 300 * k) / M_PER_DEG, LON0, 50 * t), 90.0) for t in range(60)]
        for k in range(5)
    ]
    normal_scores = [track_score(model, tr) for tr in normal]
    off_scores = [track_score(model, tr) for tr in off]
    assert max(normal_scores) < 0.2 < 0.8 < min(off_scores)
    assert roc_auc(normal_scores, off_scores) == 1.0
    assert roc_auc([0.5, 0.5], [0.5]) == 0.5
    assert roc_auc([], [1.0]) is None
    # a brief excursion (under the window) scores less than a sustained one
    brief = normal[0][:50] + off[0][50:]
    assert track_score(model, brief) < min(off_scores)


def _tagged(t: float, sentence: str) -> str:
    body = f"c:{int(t)}"
    checksum = reduce(lambda a, ch: a ^ ord(ch), body, 0)
    return f"\\{body}*{checksum:02X}\\{sentence}"


def test_vts_learn_writes_a_model_from_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = []
    t0 = 1_768_496_400
    for k in range(3):
        mmsi = 725000500 + k
        lines += [
            _tagged(t0, s)
            for s in encode_dict(
                {
                    "type": 5,
                    "mmsi": mmsi,
                    "shipname": f"SHIP {k}",
                    "ship_type": 70,
                    "to_bow": 100,
                    "to_stern": 80,
                },
                talker_id="AI",
            )
        ]
        for i in range(30):
            lat, lon = east(LAT0, LON0, i * 100.0)
            msg = {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": 10, "course": 90, "heading": 90}
            lines += [
                _tagged(t0 + 10 + i * 20 + k, s)
                for s in encode_dict(msg, talker_id="AI", sentence_type="VDM")
            ]
    log = tmp_path / "traffic.nmea"
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "model.npz"
    assert vts_main(["learn", str(log), "--out", str(out), "--cell-m", "250"]) == 0
    assert "3 vessels (3 large)" in capsys.readouterr().out
    model = NormalcyModel.load(out)
    assert model.cell_m == 250 and model.logs == ["traffic.nmea"]
    assert model.stats(*east(LAT0, LON0, 1500), 90.0, "large").vessels >= 3
    assert model.anomaly(LAT0 - 0.1, LON0, 90.0, "large") == pytest.approx(1.0)
    # the same log with no times at all (no tag blocks, no base station): its reports are held back
    # by the ingest waiting for a time, and still learnt at the end of the log
    bare = tmp_path / "bare.nmea"
    bare.write_text("\n".join(line.rsplit("\\", 1)[-1] for line in lines) + "\n")
    assert vts_main(["learn", str(bare), "--out", str(tmp_path / "bare.npz"), "--cell-m", "250"]) == 0
    assert "3 vessels (3 large)" in capsys.readouterr().out
    # compressed as `vts replay` reads it: the same model
    packed = tmp_path / "traffic.nmea.xz"
    packed.write_bytes(lzma.compress(log.read_bytes()))
    assert vts_main(["learn", str(packed), "--out", str(tmp_path / "xz.npz"), "--cell-m", "250"]) == 0
    assert "3 vessels (3 large)" in capsys.readouterr().out
    again = NormalcyModel.load(tmp_path / "xz.npz")
    here = east(LAT0, LON0, 1500)
    assert again.stats(*here, 90.0, "large") == model.stats(*here, 90.0, "large")
    # a folder of logs, as `vts replay` takes one
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "traffic.nmea").write_bytes(log.read_bytes())
    assert vts_main(["learn", str(folder), "--out", str(tmp_path / "dir.npz"), "--cell-m", "250"]) == 0
    assert "3 vessels (3 large)" in capsys.readouterr().out
    (folder / "traffic.nmea").unlink()
    assert vts_main(["learn", str(folder), "--out", str(tmp_path / "dir.npz")]) == 2
    assert "no log in the folder" in capsys.readouterr().err
    # a damaged one is refused with a message, not a traceback
    cut = tmp_path / "cut.xz"
    cut.write_bytes(packed.read_bytes()[:40])
    assert vts_main(["learn", str(cut), "--out", str(tmp_path / "cut.npz")]) == 1
    assert "cannot read the logs" in capsys.readouterr().err


def test_vts_learn_refuses_missing_files_and_empty_logs(tmp_path: Path) -> None:
    assert vts_main(["learn", str(tmp_path / "nope.nmea"), "--out", str(tmp_path / "m.npz")]) == 2
    empty = tmp_path / "empty.nmea"
    empty.write_text("garbage line\n")
    assert vts_main(["learn", str(empty), "--out", str(tmp_path / "m.npz")]) == 1
    assert not (tmp_path / "m.npz").exists()


def test_off_route_watch_needs_the_routes_first_and_a_covered_window() -> None:
    from vts.normalcy import OffRouteWatch

    w = OffRouteWatch(window_s=600, threshold=0.6, normal_below=0.2)
    steps = [w.feed(t, 0.0) for t in range(0, 660, 60)]  # 11 min on the routes
    steps += [w.feed(t, 1.0) for t in range(660, 1500, 60)]  # then where nobody goes
    assert steps.count("raise") == 1 and "clear" not in steps
    raised_at = 660 + 60 * steps[11:].index("raise")
    assert raised_at > 660 + 300  # the mean over the 10-minute window had to climb
    assert [w.feed(t, 0.0) for t in range(1500, 2400, 60)].count("clear") == 1
    never = OffRouteWatch(window_s=600)
    assert {never.feed(t, 1.0) for t in range(0, 1800, 60)} == {None}


def test_vts_learn_reports_an_unwritable_output(tmp_path: Path) -> None:
    log = tmp_path / "one.nmea"
    msg = {"type": 1, "mmsi": 725000601, "lat": LAT0, "lon": LON0, "speed": 10, "course": 90}
    log.write_text(_tagged(1_768_496_400, encode_dict(msg, talker_id="AI", sentence_type="VDM")[0]) + "\n")
    assert vts_main(["learn", str(log), "--out", str(tmp_path / "no" / "such" / "dir" / "m.npz")]) == 1
