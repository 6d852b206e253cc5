"""Property tests: random and mutated lines never make the pipeline raise, and every line is
accounted for (``lines + extra_pieces == assembled + ignored + drops + pending``, pending 0 after
flush), per source and in total."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vts.ingest import Ingest, SourceStats
from vts.nmea import parse_line
from vts.reports import PositionReport
from vts.tracker import Tracker

DATA = Path(__file__).parent / "data"


def _seed_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path, step in (
        (DATA / "gfw" / "mixed_types.nmea", 1),
        (DATA / "gfw" / "multi-part.nmea", 1),
        (DATA / "gfw" / "ee-multiline.nmea", 1),
        (DATA / "gfw" / "bad-type5.nmea", 1),
        (DATA / "gfw" / "spire-test.nmea", 1),
        (DATA / "libais" / "typeexamples.nmea", 1),
        (DATA / "libais" / "tagblock.nmea", 1),
        (DATA / "dma" / "small_cb_example.txt", 1),
        (DATA / "pyais" / "mixed.txt", 1),
        (DATA / "gpsd" / "ais-18-27.log", 7),
        (DATA / "amsa" / "exact-earth-augmented-2.txt", 53),
    ):
        lines.extend(path.read_bytes().splitlines()[::step])
    return [line for line in lines if line.strip()]


SEEDS = _seed_lines()


def _seed(i: int) -> bytes:
    return SEEDS[i]


seed_line = st.integers(0, len(SEEDS) - 1).map(_seed)  # not sampled_from: keeps reports short


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes | str:
    line = bytearray(draw(seed_line))
    kind = draw(st.sampled_from(["keep", "truncate", "flip", "drop_field", "junk", "concat", "dup", "huge"]))
    if kind == "truncate" and line:
        del line[draw(st.integers(0, len(line) - 1)) :]
    elif kind == "flip" and line:
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(line) - 1))
            line[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "drop_field":
        fields = bytes(line).split(b",")
        if len(fields) > 1:
            del fields[draw(st.integers(0, len(fields) - 1))]
        line = bytearray(b",".join(fields))
    elif kind == "junk":
        i = draw(st.integers(0, len(line)))
        line[i:i] = draw(st.binary(min_size=1, max_size=20))
    elif kind == "concat":
        line = line + draw(seed_line)
    elif kind == "dup":
        line = line + line
    elif kind == "huge":
        line = line * draw(st.integers(50, 200))
    data = bytes(line)
    if draw(st.booleans()):
        return data.decode("latin-1")  # a str that may hold non-ASCII characters
    return data


any_line = st.one_of(
    mutated_line(),
    mutated_line(),
    mutated_line(),
    st.binary(max_size=300),
    st.text(max_size=200),
    seed_line,
)


def assert_accounted(s: SourceStats) -> None:
    assert s.lines + s.extra_pieces == s.accounted()
    assert s.pending >= 0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.tuples(any_line, st.sampled_from(["a", "b"]), st.none() | st.floats(0, 2e9)), max_size=25
    )
)
def test_never_raises_and_accounts_for_every_line(lines: list[tuple[bytes | str, str, float | None]]) -> None:
    ingest = Ingest()
    tracker = Tracker()
    for line, source, received in lines:
        for report in ingest.feed(line, source, received):
            assert math.isfinite(report.time)
            if isinstance(report, PositionReport) and report.has_position:
                assert report.lat is not None and report.lon is not None
                assert -90 <= report.lat <= 90 and -180 <= report.lon <= 180
            tracker.update(report)
        assert_accounted(ingest.stats)
    ingest.flush()
    stats = ingest.stats
    assert stats.drops["internal_error"] == 0  # the catch-all guards were never needed
    assert stats.lines == len(lines)
    assert stats.pending == 0
    assert_accounted(stats)
    for name, per_source in stats.by_source.items():
        assert per_source.lines == sum(1 for _, s, _ in lines if s == name)
        assert per_source.pending == 0
        assert_accounted(per_source)
    assert sum(s.lines for s in stats.by_source.values()) == stats.lines
    tracker.prune(3e9)
    assert len(tracker) == 0


@settings(max_examples=300, deadline=None)
@given(line=any_line)
def test_parse_line_accounts_for_at_least_the_line(line: bytes | str) -> None:
    parsed = parse_line(line)
    assert parsed.items >= 1 and "internal_error" not in parsed.drops


def _one_by_one(
    lines: list[bytes | str], received: list[float | None]
) -> tuple[list[object], dict[str, object]]:
    ingest = Ingest()
    out: list[object] = []
    for line, at in zip(lines, received, strict=True):
        out.extend(ingest.feed(line, "src", at))
    out.extend(ingest.flush())
    return out, ingest.stats.as_dict()


def _chunked(
    lines: list[bytes | str], received: list[float | None], size: int
) -> tuple[list[object], dict[str, object]]:
    ingest = Ingest()
    out: list[object] = []
    for i in range(0, len(lines), size):
        out.extend(ingest.feed_many(lines[i : i + size], "src", received[i : i + size]))
    out.extend(ingest.flush())
    return out, ingest.stats.as_dict()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.tuples(any_line, st.none() | st.floats(0, 2e9)), max_size=30),
    size=st.integers(1, 12),
)
def test_feed_many_is_feed_line_by_line(lines: list[tuple[bytes | str, float | None]], size: int) -> None:
    """The chunked path (vectorised checksums, inlined plain decode) gives the same reports and the
    same statistics as `feed` on each line, whatever the lines."""
    text = [line for line, _ in lines]
    received = [at for _, at in lines]
    assert _chunked(text, received, size) == _one_by_one(text, received)


def test_feed_many_on_real_logs_with_line_endings_and_lowercase_checksums() -> None:
    raw = (DATA / "dma" / "stream_example.txt").read_bytes().splitlines()[:3000]
    raw += (DATA / "amsa" / "exact-earth-with-tag-block.txt").read_bytes().splitlines()
    lines: list[bytes | str] = []
    for i, line in enumerate(raw):
        if i % 5 == 1:
            line = line + b"\r\n"
        elif i % 5 == 2 and b"*" in line:  # a lowercase checksum is valid NMEA
            line = line[:-2] + line[-2:].lower()
        elif i % 5 == 3:
            lines.append(line.decode("ascii", "replace"))
            continue
        lines.append(line)
    received: list[float | None] = [1.7e9 + i for i in range(len(lines))]
    reports, stats = _one_by_one(lines, received)
    assert len(reports) > 1000
    assert _chunked(lines, received, 500) == (reports, stats)
