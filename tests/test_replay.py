"""`vts replay` end to end: summary, vessel table, alert file determinism, inputs and outputs."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyais
import pytest

from vts.alerts.model import Alert, parse_iso_time
from vts.cli import main as vts_main

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LOG = REPO / "replay" / "dma-stream-example.nmea"
"""Real DMA data with $PGHP times (see replay/README.md); the tests rely on its content."""
SAMPLE_LINES = SAMPLE_LOG.read_bytes().splitlines()


def replay(*args: str | Path) -> int:
    return vts_main(["-q", "replay", *map(str, args)])


def pghp_times(lines: list[bytes]) -> list[float]:
    """Event times given by the log's own $PGHP lines (Gatehouse: year, month, day, h, m, s, ms)."""
    out = []
    for line in lines:
        if line.startswith(b"$PGHP,1,"):
            f = line.decode().split(",")
            y, mo, d, h, mi, s, ms = (int(x) for x in f[2:9])
            out.append(datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC).timestamp())
    return out


def last_positions_by_pyais(lines: list[bytes]) -> tuple[Counter[int], dict[int, tuple[float, float]]]:
    counts: Counter[int] = Counter()
    last: dict[int, tuple[float, float]] = {}
    for line in lines:
        if not line.startswith(b"!"):
            continue
        try:
            msg = pyais.decode(line).asdict()
        except Exception:
            continue
        if msg["msg_type"] in (1, 2, 3) and not str(msg["mmsi"]).startswith("99"):
            counts[msg["mmsi"]] += 1
            last[msg["mmsi"]] = (msg["lat"], msg["lon"])
    return counts, last


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("replay")
    out = {"alerts": d / "alerts.jsonl", "vessels": d / "vessels.json", "summary": d / "summary.json"}
    rc = replay(
        SAMPLE_LOG,
        "--alerts-out",
        out["alerts"],
        "--vessels-out",
        out["vessels"],
        "--summary-out",
        out["summary"],
    )
    assert rc == 0
    return out


def test_summary_accounts_for_the_whole_log(full_run: dict[str, Path]) -> None:
    s = json.loads(full_run["summary"].read_text())
    assert s["lines"] == len(SAMPLE_LINES)
    assert 0 < s["messages"] <= s["lines"]
    assert s["dropped"] == sum(s["drops"].values())
    assert s["interrupted"] is False and not s["processing_errors"]
    times = pghp_times(SAMPLE_LINES)
    first, last = parse_iso_time(s["first_time"]), parse_iso_time(s["last_time"])
    assert min(times) - 0.001 <= first < min(times) + 2 and max(times) - 2 < last <= max(times) + 0.001
    assert s["span_s"] == pytest.approx(last - first)
    assert s["messages_per_s"] > 0
    (source,) = s["sources"]
    assert source["name"] == SAMPLE_LOG.name and source["lines"] == len(SAMPLE_LINES)


def test_summary_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = tmp_path / "head.nmea"
    head.write_bytes(b"\n".join(SAMPLE_LINES[:1500]) + b"\n")
    assert replay(head) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  lines\s+1500$", out, re.M)
    for label in ("messages", "dropped", "vessels", "time span", "alerts", "wall time"):
        assert re.search(rf"^  {label}\s", out, re.M), label
    assert "messages/s" in out and "2010-06-11T11:46" in out


def test_summary_warns_about_a_log_without_timestamps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = [line for line in SAMPLE_LINES[:400] if line.startswith(b"!")]
    untimed = tmp_path / "untimed.nmea"  # no times and no base station: nothing to time it by
    untimed.write_bytes(b"\n".join(line for line in bare if line[14:15] != b"4") + b"\n")
    assert replay(untimed, "--summary-out", tmp_path / "s.json") == 0
    assert "NOTE        this log carries no timestamps" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["untimed"] is True
    # a timed log, then one without times (found joining two recordings): the second part took the
    # first's last time, all of it, and the summary says so
    joined = tmp_path / "joined.nmea"
    joined.write_bytes(b"\n".join(SAMPLE_LINES[:400] + bare) + b"\n")
    assert replay(joined, "--summary-out", tmp_path / "j.json") == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "j.json").read_text())
    assert summary["took_last_time"] == len(bare) and summary["untimed"] is False
    assert f"NOTE        {len(bare)} sentence(s) had no time of their own and took the time" in out
    dump = tmp_path / "dump.nmea"  # no times, but base stations: timed by their UTC
    dump.write_bytes(b"\n".join(bare) + b"\n")
    assert replay(dump, "--summary-out", tmp_path / "d.json") == 0
    out = capsys.readouterr().out
    assert "dump.nmea: no timestamps in the log; event time is the UTC its base stations" in out
    summary = json.loads((tmp_path / "d.json").read_text())
    assert summary["untimed"] is False and summary["timed_by_base_stations"] == ["dump.nmea"]
    assert summary["first_time"].startswith("2010-06-11T11:4")
    timed = tmp_path / "timed.nmea"
    timed.write_bytes(b"\n".join(SAMPLE_LINES[:400]) + b"\n")
    assert replay(timed, "--summary-out", tmp_path / "t.json") == 0
    assert "NOTE" not in capsys.readouterr().out
    assert json.loads((tmp_path / "t.json").read_text())["untimed"] is False
    assert json.loads((tmp_path / "t.json").read_text())["timed_by_base_stations"] == []


def test_summary_says_when_a_file_holds_no_ais_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "berths.csv"  # a table, but not of AIS (decoded AIS tables: test_ais_tables.py)
    csv.write_text("Berth,Terminal,Length\nMuelle 5,DP World,300\n")
    assert replay(csv) == 0
    out = capsys.readouterr().out
    assert "NOTE        no AIS message in this input" in out and "not_nmea 2" in out
    assert replay(SAMPLE_LOG) == 0
    assert "no AIS message" not in capsys.readouterr().out


def test_vessels_out_is_the_final_vessel_table(full_run: dict[str, Path]) -> None:
    table = json.loads(full_run["vessels"].read_text())
    summary = json.loads(full_run["summary"].read_text())
    vessels = table["vessels"]
    assert table["count"] == len(vessels) == summary["vessels"] > 0
    mmsis = [v["mmsi"] for v in vessels]
    assert mmsis == sorted(set(mmsis))
    assert table["time"] == summary["last_time"]
    # the last position of the busiest ships, decoded independently with bare pyais
    counts, last = last_positions_by_pyais(SAMPLE_LINES)
    by_mmsi = {v["mmsi"]: v for v in vessels}
    for mmsi, _ in counts.most_common(5):
        v = by_mmsi[mmsi]
        assert (v["lat"], v["lon"]) == pytest.approx(last[mmsi], abs=1e-6)
        assert v["positions"] >= 1 and v["messages"] >= v["positions"]


def test_alerts_out_is_byte_identical_on_a_second_replay(full_run: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "again.jsonl"
    assert replay(SAMPLE_LOG, "--alerts-out", again) == 0
    first = full_run["alerts"].read_bytes()
    assert first, "the sample log raises alerts (invalid IMO check digits among real ships)"
    assert again.read_bytes() == first
    summary = json.loads(full_run["summary"].read_text())
    lines = first.decode().splitlines()
    assert len(lines) == sum(summary["alert_steps"].values())
    for line in lines:
        assert Alert.from_json(line).to_json() == line  # exactly Alert.to_json(), one per line


def test_paced_replay_gives_the_same_alerts_as_fast(tmp_path: Path) -> None:
    head = tmp_path / "head.nmea"
    head.write_bytes(b"\n".join(SAMPLE_LINES[:3000]) + b"\n")
    fast, paced = tmp_path / "fast.jsonl", tmp_path / "paced.jsonl"
    assert replay(head, "--fast", "--alerts-out", fast) == 0
    assert replay(head, "--speed", "500", "--alerts-out", paced) == 0
    assert paced.read_bytes() == fast.read_bytes()


def test_gzip_and_several_files_in_order(tmp_path: Path, full_run: dict[str, Path]) -> None:
    a = tmp_path / "part1.nmea.gz"
    a.write_bytes(gzip.compress(b"\n".join(SAMPLE_LINES[:4000]) + b"\n"))
    b = tmp_path / "part2.nmea"
    b.write_bytes(b"\n".join(SAMPLE_LINES[4000:]) + b"\n")
    split = tmp_path / "split.json"
    assert replay(a, b, "--summary-out", split) == 0
    s = json.loads(split.read_text())
    assert [src["name"] for src in s["sources"]] == ["part1.nmea.gz", "part2.nmea"]
    assert [src["lines"] for src in s["sources"]] == [4000, len(SAMPLE_LINES) - 4000]
    w = json.loads(full_run["summary"].read_text())
    assert (
        s["lines"] == w["lines"] and s["first_time"] == w["first_time"] and s["last_time"] == w["last_time"]
    )


DAY_LOG = REPO / "replay" / "callao_day.nmea"


def test_logs_given_out_of_order_are_replayed_in_time_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Event time only runs forward: the second hour of a log given before its first would make
    the first hour's reports late data. The logs are replayed in the order of their first
    timestamps, and the alerts are those of the logs given in order."""
    lines = DAY_LOG.read_bytes().splitlines()
    first, second = tmp_path / "b-first-hour.nmea", tmp_path / "a-second-hour.nmea"
    first.write_bytes(b"\n".join(lines[:6000]) + b"\n")
    second.write_bytes(b"\n".join(lines[6000:12000]) + b"\n")
    in_order, swapped = tmp_path / "in_order.jsonl", tmp_path / "swapped.jsonl"
    summary = tmp_path / "summary.json"
    assert replay(first, second, "--alerts-out", in_order) == 0
    capsys.readouterr()
    assert replay(second, first, "--alerts-out", swapped, "--summary-out", summary) == 0
    assert "replayed in the order of their first timestamps" in capsys.readouterr().out
    assert swapped.read_bytes() == in_order.read_bytes() and in_order.stat().st_size > 0
    s = json.loads(summary.read_text())
    assert s["replayed_in_time_order"] == [first.name, second.name] and s["overlapping"] == []
    assert [src["name"] for src in s["sources"]] == [first.name, second.name]


def test_a_folder_with_notes_beside_its_logs_still_replays_them_in_time_order(tmp_path: Path) -> None:
    """Found by the operator walkthrough: a folder holding a README and a truth file beside its logs
    was replayed in name order (the notes have no time, so no order was taken at all), and a log
    named after a later one came last, its reports all late. The timed logs go in time order, the
    rest after them."""
    lines = DAY_LOG.read_bytes().splitlines()
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "b-first-hour.nmea").write_bytes(b"\n".join(lines[:6000]) + b"\n")
    (folder / "a-second-hour.nmea").write_bytes(b"\n".join(lines[6000:12000]) + b"\n")
    (folder / "0-README.md").write_text("# Two hours of the bay\nRecorded at the pier.\n")
    summary = tmp_path / "summary.json"
    assert replay(folder, "--summary-out", summary) == 0
    s = json.loads(summary.read_text())
    assert s["replayed_in_time_order"] == ["b-first-hour.nmea", "a-second-hour.nmea", "0-README.md"]
    assert s["time_went_back"] == 0 and s["overlapping"] == []


def test_logs_that_overlap_in_time_are_said_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two receivers' logs of the same hour, replayed one after the other: the second one's reports
    are late data, and the summary says so (with what to do)."""
    lines = DAY_LOG.read_bytes().splitlines()[:6000]
    north, south = tmp_path / "north.nmea", tmp_path / "south.nmea"
    north.write_bytes(b"\n".join(lines[0::2]) + b"\n")
    south.write_bytes(b"\n".join(lines[1::2]) + b"\n")
    summary = tmp_path / "summary.json"
    assert replay(north, south, "--summary-out", summary) == 0
    out = capsys.readouterr().out
    assert "south.nmea begins at" in out and "--merge interleaves logs of the same hours" in out
    s = json.loads(summary.read_text())
    assert [o["source"] for o in s["overlapping"]] == ["south.nmea"] and s["replayed_in_time_order"] is None


def _by_channel(tmp_path: Path, n: int) -> tuple[Path, Path, Path]:
    """The first `n` lines of the day log, and the same lines as two receivers' logs of the same
    hours: one heard on AIS channel A, the other on channel B."""
    lines = DAY_LOG.read_bytes().splitlines()[:n]
    whole, a, b = tmp_path / "whole.nmea", tmp_path / "rx-a.nmea", tmp_path / "rx-b.nmea"
    whole.write_bytes(b"\n".join(lines) + b"\n")
    a.write_bytes(b"\n".join(x for x in lines if x.split(b",")[4] == b"A") + b"\n")
    b.write_bytes(b"\n".join(x for x in lines if x.split(b",")[4] != b"A") + b"\n")
    return whole, a, b


def _alert_set(path: Path) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in json.loads(x).items() if k != "rule"})
        for x in path.read_text().splitlines()
    )


def test_merge_replays_logs_of_the_same_hours_together(tmp_path: Path) -> None:
    """Two receivers' logs of the same hours, merged: the same alerts as the one log they were cut
    from (steps at one instant may come in another order: the two logs are two feeds); one after
    the other instead, the second receiver's reports would be late data."""
    whole, a, b = _by_channel(tmp_path, 9000)
    one, merged, paced = tmp_path / "one.jsonl", tmp_path / "merged.jsonl", tmp_path / "paced.jsonl"
    summary = tmp_path / "summary.json"
    assert replay(whole, "--alerts-out", one) == 0
    assert replay(b, a, "--merge", "--alerts-out", merged, "--summary-out", summary) == 0
    assert _alert_set(merged) == _alert_set(one) and len(_alert_set(one)) > 20
    s = json.loads(summary.read_text())
    assert s["merged"] is True and s["overlapping"] == [] and s["lines"] == 9000
    assert {src["name"]: src["state"] for src in s["sources"]} == {
        "rx-b.nmea": "finished",
        "rx-a.nmea": "finished",
    }
    sequential = tmp_path / "sequential.jsonl"
    assert replay(a, b, "--alerts-out", sequential) == 0
    assert _alert_set(sequential) != _alert_set(one)
    # paced by event time, the same alerts
    assert replay(a, b, "--merge", "--speed", "1000000", "--alerts-out", paced) == 0
    assert _alert_set(paced) == _alert_set(one)


def test_merge_goes_on_past_a_damaged_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, a, b = _by_channel(tmp_path, 3000)
    broken = tmp_path / "rx-b.nmea.gz"
    packed = gzip.compress(b.read_bytes())
    broken.write_bytes(packed[: len(packed) // 2])  # cut off half way
    summary = tmp_path / "summary.json"
    assert replay(a, broken, "--merge", "--summary-out", summary) == 1  # a script must notice
    assert "DAMAGED     rx-b.nmea.gz: read error after" in capsys.readouterr().out
    s = json.loads(summary.read_text())
    states = {src["name"]: (src["state"], src["lines"]) for src in s["sources"]}
    assert states["rx-a.nmea"] == ("finished", len(a.read_bytes().splitlines()))
    assert states["rx-b.nmea.gz"][0] == "damaged" and 0 < states["rx-b.nmea.gz"][1]
    assert replay(a, "-", "--merge") == 2
    assert "standard input" in capsys.readouterr().err


def test_a_folder_of_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder given: its logs (hidden files left out), replayed in time order like files given."""
    lines = DAY_LOG.read_bytes().splitlines()
    folder = tmp_path / "2026-03-02"
    folder.mkdir()
    (folder / "hour-13.nmea").write_bytes(b"\n".join(lines[3000:6000]) + b"\n")
    (folder / "hour-12.nmea.gz").write_bytes(gzip.compress(b"\n".join(lines[:3000]) + b"\n"))
    (folder / ".hour-12.nmea.swp").write_bytes(b"not a log")
    (folder / "sub").mkdir()
    summary = tmp_path / "summary.json"
    assert replay(folder, "--summary-out", summary) == 0
    s = json.loads(summary.read_text())
    assert [src["name"] for src in s["sources"]] == ["hour-12.nmea.gz", "hour-13.nmea"] and s["lines"] == 6000
    empty = tmp_path / "empty"
    empty.mkdir()
    assert replay(empty) == 2
    assert "no log in the folder" in capsys.readouterr().err


def test_first_event_time_of_logs(tmp_path: Path) -> None:
    from vts.sources.files import first_event_time

    gz = tmp_path / "day.nmea.gz"
    gz.write_bytes(gzip.compress(DAY_LOG.read_bytes()[:100_000]))
    assert first_event_time(gz) == parse_iso_time("2026-03-02T12:00:00Z")
    untimed = tmp_path / "untimed.nmea"
    untimed.write_bytes(b"!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n")
    assert first_event_time(untimed) is None
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert first_event_time(broken) is None


def test_replay_writes_no_alert_database_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = tmp_path / "head.nmea"
    head.write_bytes(b"\n".join(SAMPLE_LINES[:3000]) + b"\n")
    monkeypatch.chdir(tmp_path)
    alerts = tmp_path / "alerts.jsonl"
    assert replay(head, "--alerts-out", alerts) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts.jsonl", "head.nmea"]
    db = tmp_path / "replay.sqlite3"
    assert replay(head, "--store", db) == 0
    from vts.alerts.store import AlertStore

    store = AlertStore(db)
    try:
        assert [a.to_json() for _, a in store.steps()] == alerts.read_text().splitlines()
    finally:
        store.close()


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(tmp_path / "nope.nmea") == 2
    assert "no such file" in capsys.readouterr().err
    assert replay(SAMPLE_LOG, "--alerts-out", tmp_path / "missing-dir" / "a.jsonl") == 2
    assert "--alerts-out: no such directory" in capsys.readouterr().err


def run_cli(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "vts", *args], env=env, capture_output=True, timeout=60, **kw
    )  # type: ignore[call-overload, no-any-return]


def test_standard_input(tmp_path: Path) -> None:
    head = b"\n".join(SAMPLE_LINES[:2000]) + b"\n"
    proc = run_cli("-q", "replay", "-", "--summary-out", str(tmp_path / "s.json"), input=head, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["lines"] == 2000 and s["messages"] > 0 and s["sources"][0]["name"] == "stdin"
    assert b"\r[" not in proc.stderr  # no progress bar when standard error is not a terminal


def test_progress_bar_line() -> None:
    from vts.config import load_config
    from vts.core import Core
    from vts.replay import ProgressBar
    from vts.sources.files import FileSource
    from vts.sources.settings import SourceSettings

    source = FileSource(SourceSettings(name="f", kind="file", path=str(SAMPLE_LOG)))
    source.size = 1000
    source.position = 500
    source.status.state = "reading"
    stream = io.StringIO()
    bar = ProgressBar([source], Core(load_config()), stream=stream)
    bar.draw()
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\r[" + "#" * 15 + "." * 15 + "]  50%")
    assert text.endswith("\n")


def test_map_out_writes_the_offline_report(tmp_path: Path) -> None:
    pytest.importorskip("vts.web.report")
    head = tmp_path / "head.nmea"
    head.write_bytes(b"\n".join(SAMPLE_LINES[:2000]) + b"\n")
    report = tmp_path / "report.html"
    assert replay(head, "--map-out", report) == 0
    html = report.read_text(encoding="utf-8")
    assert "<html" in html.lower() and len(html) > 10_000


def test_serve_keeps_serving_after_the_end_until_interrupted(tmp_path: Path) -> None:
    pytest.importorskip("vts.web.server")
    head = tmp_path / "head.nmea"
    head.write_bytes(b"\n".join(SAMPLE_LINES[:1000]) + b"\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "vts", "replay", str(head), "--serve", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        url = None
        for raw in proc.stderr:
            m = re.search(r"map at (http://\S+)", raw.decode())
            if m:
                url = m.group(1)
                break
        assert url, "the map URL is announced"
        summary = b""
        while b"wall time" not in summary:
            line = proc.stdout.readline()
            assert line, "summary printed before serving on"
            summary += line
        assert proc.poll() is None  # the log is over, the map is still served
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.mqtt
async def test_mqtt_flag_publishes_every_replayed_alert(tmp_path: Path, mosquitto: object) -> None:
    import asyncio

    import aiomqtt

    url = mosquitto.url  # type: ignore[attr-defined]
    alerts = tmp_path / "alerts.jsonl"
    received: list[str] = []
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:  # type: ignore[attr-defined]
        await client.subscribe("vts/callao/v1/replay/alert/#", qos=1)  # a replay publishes under .../replay
        cmd = ["-m", "vts", "-q", "replay", str(SAMPLE_LOG), "--mqtt", url, "--alerts-out", str(alerts)]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *cmd,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        expected = alerts.read_text().splitlines()
        assert expected
        async with asyncio.timeout(20):
            async for message in client.messages:
                received.append(bytes(message.payload).decode())  # type: ignore[arg-type]
                if len(received) >= len(expected):
                    break
    assert received == expected


def test_simulated_callao_log_replays_byte_identically(tmp_path: Path) -> None:
    """The bundled Callao log has alerts of every lifecycle step: a stronger determinism check."""
    log = REPO / "replay" / "callao_day.nmea"
    head = tmp_path / "callao_head.nmea"
    head.write_bytes(b"\n".join(log.read_bytes().splitlines()[:12000]) + b"\n")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert replay(head, "--alerts-out", one) == 0
    assert replay(head, "--alerts-out", two) == 0
    steps = Counter(json.loads(line)["state"] for line in one.read_text().splitlines())
    assert steps["raised"] > 0 and steps["updated"] + steps["cleared"] > 0
    assert one.read_bytes() == two.read_bytes()


def test_a_log_replayed_twice_into_one_store_keeps_each_step_once(tmp_path: Path) -> None:
    """Found by a walkthrough: two replays of one log into one --store gave 566 steps for 283,
    and `vts alerts --history` showed each step twice."""
    import sqlite3
    from contextlib import closing

    store = tmp_path / "alerts.sqlite3"
    once = tmp_path / "once.jsonl"
    assert replay(DAY_LOG, "--store", store, "--alerts-out", once) == 0
    steps = len(once.read_text().splitlines())
    again = tmp_path / "again.jsonl"
    assert replay(DAY_LOG, "--store", store, "--alerts-out", again) == 0
    assert again.read_bytes() == once.read_bytes()  # the replay itself as before
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT COUNT(*) FROM steps").fetchone()[0] == steps
