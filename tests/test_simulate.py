"""The traffic simulator: valid NMEA, real AIS reporting behaviour, no land crossings, determinism."""

from __future__ import annotations

import hashlib
import itertools
import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pyais import decode
from pyais.messages import NMEAMessage

from vts.config import load_config
from vts.simulate.encoder import Encoder, nmea_checksum
from vts.simulate.incidents import INCIDENT_TYPES, expand_types
from vts.simulate.scenario import Simulation, simulate
from vts.simulate.truth import truth_dict

TAG = re.compile(r"^\\(?P<body>[^*\\]*)\*(?P<cs>[0-9A-F]{2})\\(?P<sentence>!AIVDM,.*)$")
HOURS = 1.5


@pytest.fixture(scope="module")
def config() -> Any:
    return load_config()


@pytest.fixture(scope="module")
def sim(config: Any) -> Simulation:
    return simulate(config, seed=7, hours=HOURS)


@pytest.fixture(scope="module")
def lines(sim: Simulation) -> list[str]:
    return list(sim.nmea_lines())


@pytest.fixture(scope="module")
def decoded(lines: list[str]) -> list[tuple[float, dict[str, Any], str]]:
    """(receive time, decoded message, channel) of every message, multi-sentence ones reassembled."""
    out: list[tuple[float, dict[str, Any], str]] = []
    pending: list[str] = []
    for line in lines:
        m = TAG.match(line)
        assert m, line
        fields = dict(f.split(":", 1) for f in m["body"].split(","))
        sentence = m["sentence"]
        if "g" in fields:
            n, total, _group = fields["g"].split("-")
            pending.append(sentence)
            if n != total:
                continue
            parts, pending = pending, []
        else:
            assert not pending, "a single sentence arrived in the middle of a multi-sentence message"
            parts = [sentence]
        msg = decode(*parts).asdict()
        out.append((float(fields["c"]), msg, sentence.split(",")[4]))
    return out


def test_every_line_has_a_valid_tag_block_and_checksum(lines: list[str]) -> None:
    assert len(lines) > 1000
    for line in lines:
        m = TAG.match(line)
        assert m is not None, line
        assert nmea_checksum(m["body"]) == m["cs"]
        assert "c:" in m["body"]
        assert NMEAMessage(m["sentence"].encode()).is_valid, line


def test_lines_are_in_time_order(lines: list[str]) -> None:
    times = [int(re.search(r"c:(\d+)", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert times == sorted(times)


def test_multi_sentence_messages_are_grouped(lines: list[str]) -> None:
    groups = 0
    for i, line in enumerate(lines):
        m = re.search(r"g:(\d)-(\d)-(\d+)", line)
        if m and m[1] == "1":
            nxt = re.search(r"g:(\d)-(\d)-(\d+)", lines[i + 1])
            assert nxt is not None and nxt[1] == "2" and nxt[3] == m[3], (line, lines[i + 1])
            a, b = line.split("!")[1].split(","), lines[i + 1].split("!")[1].split(",")
            assert a[3] == b[3] and a[3] != "", "same sequential message id"
            assert a[4] == b[4], "same channel"
            groups += 1
    assert groups > 20


def test_every_message_decodes_with_pyais(decoded: list[tuple[float, dict[str, Any], str]]) -> None:
    types = {msg["msg_type"] for _, msg, _ in decoded}
    assert {1, 5, 18, 24} <= types
    assert {ch for _, _, ch in decoded} == {"A", "B"}


def test_every_line_goes_through_ingest(lines: list[str]) -> None:
    from vts.ingest import Ingest

    ingest = Ingest()
    reports = []
    for line in lines:
        reports.extend(ingest.feed(line, "sim", None))
    reports.extend(ingest.flush())
    assert sum(ingest.stats.drops.values()) == 0, ingest.stats.drops
    assert len(reports) > 0.95 * len(lines) - sum(1 for x in lines if "g:2-" in x)


def test_same_seed_same_bytes_other_seed_other_bytes(config: Any) -> None:
    def digest(seed: int) -> str:
        s = simulate(config, seed=seed, hours=0.4, incident_types=["alongside", "distress"])
        return hashlib.sha256("\n".join(s.nmea_lines()).encode()).hexdigest()

    assert digest(11) == digest(11)
    assert digest(11) != digest(12)


def test_truth_holds_every_incident_type_and_the_normal_roles(sim: Simulation) -> None:
    truth = truth_dict(sim)
    got = {i["type"] + (":" + i["kind"] if i["kind"] else "") for i in truth["incidents"]}
    # a 1.5-hour window cannot hold every episode (loitering needs most of an hour); 6 hours do
    assert len(got) >= len(INCIDENT_TYPES) - 6, sorted(set(INCIDENT_TYPES) - got)
    for inc in truth["incidents"]:
        assert set(inc) >= {"type", "mmsi", "other_mmsi", "start", "end", "position", "notes"}
        assert inc["start"] <= inc["end"]
    roles = {v["role"] for v in truth["vessels"] if v["incident"] is None}
    assert {"tug", "pilot", "coastguard_patrol", "fishing_boat_leaving"} <= roles
    assert any(r.endswith("_at_anchor") for r in roles) and any(r.endswith("_at_berth") for r in roles)
    assert any(r == "tanker_at_mooring" for r in roles)


def test_allow_listed_service_vessels_use_the_config_mmsis(sim: Simulation, config: Any) -> None:
    by_role = defaultdict(set)
    for v in sim.vessels:
        by_role[v.role].add(v.mmsi)
    assert by_role["tug"] <= set(config.allowlists.tug) and by_role["tug"]
    assert by_role["pilot"] <= set(config.allowlists.pilot) and by_role["pilot"]
    assert by_role["coastguard_patrol"] <= set(config.allowlists.coastguard)


def test_normal_traffic_is_never_on_land(
    sim: Simulation, decoded: list[tuple[float, dict[str, Any], str]]
) -> None:
    world = sim.world
    normal = {v.mmsi for v in sim.vessels if v.incident is None}
    incident_mmsis = {v.mmsi for v in sim.vessels if v.incident is not None}
    for v in sim.vessels:
        if v.incident is not None:
            continue
        t = max(sim.start, v.start)
        while t <= min(sim.end, v.end):
            k = v.kin(t)
            assert k is None or not world.on_land(k.x, k.y), (v.mmsi, v.role, t)
            t += 15.0
    for _, msg, _ in decoded:
        if msg["msg_type"] in (1, 18) and msg["mmsi"] in normal and msg["mmsi"] not in incident_mmsis:
            x, y = world.to_xy(msg["lon"], msg["lat"])
            assert not world.on_land(x, y), msg


def test_normal_traffic_keeps_out_of_zones_closed_to_it(sim: Simulation) -> None:
    world = sim.world
    for v in sim.vessels:
        if v.incident is not None:
            continue
        closed = world.avoided_zones(v.category, v.mmsi)
        t = max(sim.start, v.start)
        while t <= min(sim.end, v.end):
            k = v.kin(t)
            if k is not None:
                inside = [z.id for z in closed if z.contains(k.x, k.y)]
                assert not inside, (v.mmsi, v.role, inside)
            t += 30.0


def test_arrivals_follow_the_inbound_lane_and_the_channel(config: Any) -> None:
    s = simulate(config, seed=4, hours=3.0, incident_types=[])
    world = s.world
    arrivals = [v for v in s.vessels if v.role.endswith("_arriving")]
    assert arrivals
    for v in arrivals:
        seen: set[str] = set()
        t = v.start
        while t <= v.end:
            k = v.kin(t)
            if k is not None:
                seen |= {z.id for z in world.zones_at(k.x, k.y)}
            t += 10.0
        assert {"tss_inbound", "access_channel", "entrance", "port_area"} <= seen, (v.role, seen)
        assert "tss_outbound" not in seen or "tss_inbound" in seen


def _positions_by_mmsi(
    decoded: list[tuple[float, dict[str, Any], str]],
) -> dict[int, list[tuple[float, dict]]]:
    out: dict[int, list[tuple[float, dict]]] = defaultdict(list)
    for t, msg, _ in decoded:
        if msg["msg_type"] in (1, 18):
            out[msg["mmsi"]].append((t, msg))
    return out


def test_reporting_intervals_follow_the_ais_rules(sim: Simulation) -> None:
    """Class A 2-10 s under way, 3 min at anchor / moored; Class B 30 s moving, 3 min slow."""
    # intervals from the simulator's own emission times (receive times in the log are whole seconds)
    a_moving, a_still, b_fast, b_slow = [], [], [], []
    for index, v in enumerate(sim.vessels):
        if v.incident is not None or v.position_every_s:
            continue
        import random

        rng = random.Random(f"{sim.seed}/tx/{index}/{v.mmsi}")
        prev = None
        for e in v.emissions(sim.world, rng, sim.start, sim.end, loss=0.0):
            if e.message["type"] not in (1, 18):
                continue
            if prev is not None:
                dt = e.time - prev.time
                p = prev.message
                if p["type"] == 1:
                    (a_still if p["status"] in (1, 5) and p["speed"] < 3 else a_moving).append(dt)
                else:
                    (b_fast if p["speed"] > 2.2 else b_slow if p["speed"] < 1.8 else []).append(dt)
            prev = e
    assert a_moving and a_still and b_fast and b_slow
    assert all(1.9 <= dt <= 10.3 for dt in a_moving)
    assert statistics.median(a_moving) == pytest.approx(10.0, abs=0.3)
    assert all(175.0 <= dt <= 185.0 for dt in a_still)
    assert sum(29.0 <= dt <= 31.0 for dt in b_fast) >= 0.95 * len(b_fast)
    assert sum(175.0 <= dt <= 185.0 for dt in b_slow) >= 0.95 * len(b_slow)


def test_static_data_every_six_minutes(
    sim: Simulation, decoded: list[tuple[float, dict[str, Any], str]]
) -> None:
    shared = {v.mmsi for v in sim.vessels if v.incident == "duplicate_mmsi"}  # two transmitters, one MMSI
    t5: dict[int, list[float]] = defaultdict(list)
    t24: dict[tuple[int, int], list[float]] = defaultdict(list)
    for t, msg, _ in decoded:
        if msg["mmsi"] in shared:
            continue
        if msg["msg_type"] == 5:
            t5[msg["mmsi"]].append(t)
        elif msg["msg_type"] == 24:
            t24[(msg["mmsi"], msg["partno"])].append(t)
    gaps5 = [b - a for ts in t5.values() for a, b in itertools.pairwise(ts)]
    gaps24 = [b - a for ts in t24.values() for a, b in itertools.pairwise(ts)]
    assert gaps5 and gaps24
    # a lost message doubles a gap now and then; most are 6 minutes
    assert sum(350 <= g <= 370 for g in gaps5) >= 0.85 * len(gaps5)
    assert sum(350 <= g <= 370 for g in gaps24) >= 0.85 * len(gaps24)
    assert min(gaps5) >= 350 and min(gaps24) >= 350
    parts = defaultdict(set)
    for mmsi, part in t24:
        parts[mmsi].add(part)
    assert all(p == {0, 1} for p in parts.values())


def test_gps_noise_is_a_few_metres(sim: Simulation, decoded: list[tuple[float, dict[str, Any], str]]) -> None:
    world = sim.world
    moored = {v.mmsi for v in sim.vessels if v.role.endswith("_at_berth") or v.role == "tanker_at_mooring"}
    spreads = []
    for mmsi, reports in _positions_by_mmsi(decoded).items():
        if mmsi not in moored or len(reports) < 10:
            continue
        xs, ys = zip(*(world.to_xy(m["lon"], m["lat"]) for _, m in reports), strict=True)
        spreads.append((statistics.pstdev(xs) + statistics.pstdev(ys)) / 2)
    assert spreads
    assert 1.0 < statistics.median(spreads) < 8.0


def test_a_few_per_cent_of_messages_are_lost(sim: Simulation) -> None:
    sent = sum(1 for _ in sim.emissions(loss=0.0))
    received = sum(1 for _ in sim.emissions())
    assert 0.95 < received / sent < 0.99


def test_encoder_groups_type_5() -> None:
    enc = Encoder()
    msg = {
        "type": 5,
        "mmsi": 636012345,
        "shipname": "TEST",
        "callsign": "AB12",
        "ship_type": 70,
        "to_bow": 100,
        "to_stern": 20,
        "to_port": 10,
        "to_starboard": 10,
        "destination": "CALLAO",
    }
    first = enc.encode(1772452800.7, msg, "B")
    second = enc.encode(1772452801.2, msg, "A")
    assert len(first) == 2 and first[0].startswith("\\g:1-2-1,c:1772452800*")
    assert first[1].startswith("\\g:2-2-1,c:1772452800*")
    assert second[0].startswith("\\g:1-2-2,c:1772452801*")
    body = [line.split("!")[1] for line in first]
    assert decode(*["!" + b for b in body]).asdict()["shipname"] == "TEST"


def test_incident_type_selection() -> None:
    assert expand_types("all") == list(INCIDENT_TYPES)
    assert expand_types("none") == []
    assert expand_types("cpa,course_anomaly") == ["cpa"] + [
        t for t in INCIDENT_TYPES if t.startswith("course_")
    ]
    with pytest.raises(ValueError, match="unknown incident type"):
        expand_types("piracy")
    for empty in ("", " , "):  # `--incidents ""` ran every type: it could as well mean none
        with pytest.raises(ValueError, match="no incident type given"):
            expand_types(empty)


def test_a_simulation_longer_than_a_week_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--hours 100000` grew to 9.8 GB in 10 minutes, building the run in memory."""
    from vts.cli import main

    assert main(["simulate", "--hours", "100000", "--out", str(tmp_path / "run")]) == 2
    assert "--hours 100000: at most 168" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_command_writes_log_truth_and_an_offline_map(tmp_path: Path) -> None:
    from vts.cli import main

    out = tmp_path / "run"
    rc = main(
        [
            "simulate",
            "--hours",
            "0.5",
            "--seed",
            "2",
            "--out",
            str(out),
            "--incidents",
            "distress,alongside",
            "--map",
            str(out / "tracks.html"),
        ]
    )
    assert rc == 0
    text = (out / "traffic.nmea").read_text()
    assert text.count("\n") > 100
    truth = (out / "truth.json").read_text()
    assert '"distress"' in truth
    page = (out / "tracks.html").read_text()
    assert "L.map(" in page and "leaflet" in page.lower()
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", page), (
        "the map must not load from a CDN"
    )


async def test_live_drill_lines_are_paced_and_decodable(config: Any) -> None:
    """`vts run --simulate` gets valid tagged lines, in event-time order, starting at the requested time."""
    from vts.simulate.live import simulated_lines

    start = 1772452800.0
    got: list[str] = []
    async for line in simulated_lines(config, 5, speed=3600.0, start=start, chunks=1, chunk_hours=0.1):
        got.append(line)
    times = [int(re.search(r"c:(\d+)", x).group(1)) for x in got]  # type: ignore[union-attr]
    assert got and times == sorted(times) and start <= times[0] and times[-1] <= start + 0.1 * 3600
    for line in got[:50]:
        m = TAG.match(line)
        assert m and NMEAMessage(m["sentence"].encode()).is_valid
