"""`vts evaluate`: score alerts against the simulator's truth.

    vts evaluate run/truth.json alerts.jsonl             # alerts from `vts replay --alerts-out`
    vts evaluate --hours 6 --seeds 1-5 [--config PATH]   # simulate, replay through the core, score

Matching rule: an alert matches an incident when its type is the incident's type (for
`course_anomaly`, the alert's `details.kind`, when it has one, must be the incident's kind), its
`mmsi` or `other_mmsi` is one of the incident's vessels, and it was raised between the incident's
start less a minute and its end plus a tolerance (default 10 minutes). Only `raised` steps count
(updates and clears do not). An alert of a scored type that matches no incident is a false alarm,
unless the same vessels are in an incident that lists the type as `related` (an episode that
legitimately raises it too: a boat alongside an anchored ship for 15 minutes is also a
rendezvous): those are reported apart and counted neither way. Alerts on the normal traffic are
false alarms. `zone_entry` / `zone_exit` (info) and other unscored types are not scored.

Per type: incidents, detected, recall, alerts raised, false alarms, precision, median detection
delay (first matching alert's time less the incident's start); then overall figures.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from vts.alerts.model import Alert, parse_iso_time
from vts.cli import fraction, non_negative_float, positive_float
from vts.nmea import parse_line
from vts.sources.files import CHUNK_LINES
from vts.spatial import M_PER_DEG_LAT

SCORED_TYPES: tuple[str, ...] = (
    "alongside",
    "rendezvous",
    "loitering",
    "ais_gap",
    "restricted_area",
    "unauthorised_anchoring",
    "course_anomaly",
    "drifting",
    "cpa",
    "anchor_drag",
    "speeding",
    "position_jump",
    "duplicate_mmsi",
    "invalid_mmsi",
    "identity_change",
    "distress",
)
COURSE_KINDS = ("wrong_way", "erratic", "stop_after_departure", "off_route")
EARLY_S = 60.0
NEEDS_S: dict[str, float] = {
    "alongside": 4 * 60.0,  # 3 minutes alongside
    "rendezvous": 11 * 60.0,  # 10 minutes together
    "loitering": 35 * 60.0,  # a 30-minute window (small craft; 60 for others)
    "ais_gap": 11 * 60.0,  # 10 minutes silent
    "restricted_area": 2 * 60.0,  # a confirmed entry
    "unauthorised_anchoring": 16 * 60.0,  # 15 minutes slow (at once with the status)
    "course_anomaly/wrong_way": 3 * 60.0,  # 2 minutes against the lane
    "course_anomaly/erratic": 11 * 60.0,  # three turns within 10 minutes
    "course_anomaly/stop_after_departure": 5 * 60.0,
    "course_anomaly/off_route": 5 * 60.0,
    "drifting": 4 * 60.0,  # 3 minutes (at once with the status)
    "cpa": 2 * 60.0,
    "anchor_drag": 4 * 60.0,  # 3 fixes outside the swing circle, or 2 minutes at 1 kn
    "speeding": 2 * 60.0,  # 60 seconds and 2 reports
    "position_jump": 60.0,
    "duplicate_mmsi": 11 * 60.0,  # three conflicts within 10 minutes
    "invalid_mmsi": 60.0,
    "identity_change": 60.0,
    "distress": 60.0,
}
"""Per incident type (and course_anomaly kind), about the time its definition must hold, plus a
report interval: an incident starting closer than this to the end of the log cannot be detected in
it (`score` counts it only when it was)."""
RELATED_EARLY_S = 20 * 60.0
"""Related alerts may come from the approach that leads into an incident (two boats converging to meet)."""
DEFAULT_TOLERANCE_S = 600.0


@dataclass(frozen=True, slots=True)
class TruthIncident:
    id: str
    type: str
    kind: str | None
    vessels: frozenset[int]
    start: float
    end: float
    related: frozenset[str]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TruthIncident:
        vessels = {int(d["mmsi"])}
        if d.get("other_mmsi") is not None:
            vessels.add(int(d["other_mmsi"]))
        return cls(
            id=str(d.get("id", "")),
            type=str(d["type"]),
            kind=d.get("kind"),
            vessels=frozenset(vessels),
            start=parse_iso_time(d["start"]),
            end=parse_iso_time(d["end"]),
            related=frozenset(d.get("related") or []),
        )


def row_key(type_: str, kind: str | None) -> str:
    return f"{type_}/{kind}" if kind else type_


@dataclass(slots=True)
class Row:
    incidents: int = 0
    detected: int = 0
    alerts: int = 0
    matched_alerts: int = 0
    false_alarms: int = 0
    related_alerts: int = 0
    delays: list[float] = field(default_factory=list)

    def add(self, other: Row) -> None:
        self.incidents += other.incidents
        self.detected += other.detected
        self.alerts += other.alerts
        self.matched_alerts += other.matched_alerts
        self.false_alarms += other.false_alarms
        self.related_alerts += other.related_alerts
        self.delays.extend(other.delays)

    @property
    def recall(self) -> float | None:
        return self.detected / self.incidents if self.incidents else None

    @property
    def precision(self) -> float | None:
        judged = self.matched_alerts + self.false_alarms
        return self.matched_alerts / judged if judged else None

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "incidents": self.incidents,
            "detected": self.detected,
            "recall": _round(self.recall),
            "alerts": self.alerts,
            "matched_alerts": self.matched_alerts,
            "false_alarms": self.false_alarms,
            "related_alerts": self.related_alerts,
            "precision": _round(self.precision),
            "median_delay_s": _round(self.median_delay, 1),
        }


@dataclass(slots=True)
class Score:
    rows: dict[str, Row] = field(default_factory=dict)
    false_alarms_by_role: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    too_late: list[str] = field(default_factory=list)
    """Incidents not detected that started too close to the end of the log to be (not scored)."""
    false_alarm_examples: list[dict[str, Any]] = field(default_factory=list)
    unscored: Counter[str] = field(default_factory=Counter)

    def row(self, key: str) -> Row:
        if key not in self.rows:
            self.rows[key] = Row()
        return self.rows[key]

    def merge(self, other: Score) -> None:
        for k, r in other.rows.items():
            self.row(k).add(r)
        self.false_alarms_by_role.update(other.false_alarms_by_role)
        self.missed.extend(other.missed)
        self.too_late.extend(other.too_late)
        self.false_alarm_examples.extend(other.false_alarm_examples)
        self.unscored.update(other.unscored)

    def overall(self) -> Row:
        total = Row()
        for k, r in self.rows.items():
            if "/" not in k:
                total.add(r)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "types": {k: self.rows[k].to_dict() for k in _ordered(self.rows)},
            "overall": self.overall().to_dict(),
            "false_alarms_by_role": dict(self.false_alarms_by_role.most_common()),
            "missed": self.missed,
            "too_late": self.too_late,
            "false_alarm_examples": self.false_alarm_examples[:50],
            "unscored_alerts": dict(self.unscored),
        }


def score(truth: dict[str, Any], alerts: Iterable[Alert], tolerance_s: float = DEFAULT_TOLERANCE_S) -> Score:
    """Score one run's raised alerts against its truth. An incident that starts less than its
    definition needs (`NEEDS_S`) before the log ends counts only when it was detected: a short run
    cannot show it, and its miss is not the detector's."""
    incidents = [TruthIncident.from_dict(d) for d in truth.get("incidents", [])]
    roles = {int(v["mmsi"]): str(v.get("role") or "unknown") for v in truth.get("vessels", [])}
    log_end = _time_or_none(truth.get("end"))
    too_late = {
        inc.id
        for inc in incidents
        if log_end is not None and log_end - inc.start < NEEDS_S.get(row_key(inc.type, inc.kind), 0.0)
    }
    s = Score()
    for t in SCORED_TYPES:
        s.row(t)
    for inc in incidents:
        if inc.id in too_late:
            continue  # (counted below if detected)
        s.row(inc.type).incidents += 1
        if inc.kind:
            s.row(row_key(inc.type, inc.kind)).incidents += 1
    first_hit: dict[str, float] = {}
    for alert in alerts:
        if alert.state != "raised":
            continue
        if alert.type not in SCORED_TYPES:
            s.unscored[alert.type] += 1
            continue
        kind = alert.details.get("kind") if alert.type == "course_anomaly" else None
        kind = kind if isinstance(kind, str) else None
        s.row(alert.type).alerts += 1
        if kind:
            s.row(row_key(alert.type, kind)).alerts += 1
        vessels = {alert.mmsi} | ({alert.other_mmsi} if alert.other_mmsi is not None else set())
        t = alert.started if alert.state == "raised" else alert.time
        hits = [inc for inc in incidents if _matches(inc, alert.type, kind, vessels, t, tolerance_s)]
        if hits:
            s.row(alert.type).matched_alerts += 1
            if kind:
                s.row(row_key(alert.type, kind)).matched_alerts += 1
            for inc in hits:
                if inc.id not in first_hit or t < first_hit[inc.id]:
                    first_hit[inc.id] = t
            continue
        related = any(
            alert.type in inc.related
            and vessels & inc.vessels
            and inc.start - RELATED_EARLY_S <= t <= inc.end + tolerance_s
            for inc in incidents
        )
        if related:
            s.row(alert.type).related_alerts += 1
            if kind:
                s.row(row_key(alert.type, kind)).related_alerts += 1
            continue
        s.row(alert.type).false_alarms += 1
        if kind:
            s.row(row_key(alert.type, kind)).false_alarms += 1
        s.false_alarms_by_role[roles.get(alert.mmsi, "unknown vessel")] += 1
        s.false_alarm_examples.append(
            {
                "type": alert.type,
                "kind": kind,
                "mmsi": alert.mmsi,
                "other_mmsi": alert.other_mmsi,
                "time": alert.to_dict()["started"],
                "role": roles.get(alert.mmsi),
                "message": alert.message,
            }
        )
    for inc in incidents:
        if inc.id in first_hit:
            delay = first_hit[inc.id] - inc.start
            for key in {inc.type, row_key(inc.type, inc.kind)}:
                s.row(key).detected += 1
                s.row(key).delays.append(delay)
                if inc.id in too_late:
                    s.row(key).incidents += 1
        elif inc.id in too_late:
            s.too_late.append(f"{truth.get('seed', '?')}:{inc.id}")
        else:
            s.missed.append(f"{truth.get('seed', '?')}:{inc.id}")
    return s


def _time_or_none(text: Any) -> float | None:
    try:
        return parse_iso_time(str(text)) if text else None
    except ValueError:
        return None


def _matches(
    inc: TruthIncident, type_: str, kind: str | None, vessels: set[int], t: float, tolerance_s: float
) -> bool:
    if inc.type != type_:
        return False
    if kind and inc.kind and kind != inc.kind:
        return False
    if not vessels & inc.vessels:
        return False
    return inc.start - EARLY_S <= t <= inc.end + tolerance_s


# -- running the pipeline ---------------------------------------------------------------------------
def run_core(config: Any, lines: Iterable[str]) -> list[Alert]:
    """Replay lines through a fresh `Core` (no alert database) and return every alert step."""
    from vts.core import Core

    core = Core(config)
    alerts: list[Alert] = []
    core.add_alert_listener(alerts.append)
    it = iter(lines)  # in chunks, as `vts replay` reads a file (same alerts as line by line)
    while chunk := list(islice(it, CHUNK_LINES)):
        core.feed_lines(chunk, source="simulator")
    core.finish()
    return alerts


def lose_messages(lines: Sequence[str], fraction: float, seed: int) -> list[str]:
    """`lines` as a receiver that misses `fraction` of the radio messages would have logged them: each
    message is lost with that probability, whole (the sentences of a multi-sentence message are one
    transmission, received or not together), independently, from a random generator seeded with
    `seed` (the same arguments always lose the same messages). Lines that are not AIS sentences are
    kept."""
    if fraction <= 0.0:
        return list(lines)
    rng = random.Random(seed)
    kept: list[str] = []
    dropping = 0  # further fragments of a lost message still to drop
    for line in lines:
        parsed = parse_line(line)
        if not parsed.sentences:
            kept.append(line)
            continue
        first = parsed.sentences[0]
        if dropping and first.number > 1:
            dropping -= 1
            continue
        dropping = 0
        if first.number == 1 and rng.random() < fraction:
            dropping = first.count - 1
            continue
        kept.append(line)
    return kept


NOISY_TYPES = frozenset({1, 2, 3, 18, 19})
"""The position reports `add_gnss_noise` moves (type 27's position is coarse already)."""


def add_gnss_noise(lines: Sequence[str], sigma_m: float, seed: int) -> list[str]:
    """`lines` as receivers would log ships with worse GNSS fixes: every position report (types 1,
    2, 3, 18, 19, one sentence each, as the simulator writes them) moved by a random offset, normal
    with `sigma_m` metres north and east, independently per fix, and re-encoded (pyais); its tag
    block and everything else in it kept. Seeded by `seed`: the same arguments move the same fixes
    the same way."""
    if sigma_m <= 0.0:
        return list(lines)
    import pyais
    from pyais.encode import encode_dict

    rng = random.Random(seed)
    out: list[str] = []
    for line in lines:
        at = max(line.find("!AIVDM"), line.find("!AIVDO"))
        if at < 0 or not line[at:].startswith(("!AIVDM,1,1,", "!AIVDO,1,1,")):
            out.append(line)
            continue
        sentence = line[at:].rstrip("\r\n")
        try:
            fields = pyais.decode(sentence).asdict()
        except Exception:  # not ours to judge: the ingest drops what does not decode
            out.append(line)
            continue
        lat, lon = fields.get("lat"), fields.get("lon")
        if fields.get("msg_type") not in NOISY_TYPES or lat is None or lon is None or abs(lat) > 90:
            out.append(line)
            continue
        lat += rng.gauss(0.0, sigma_m) / M_PER_DEG_LAT
        lon += rng.gauss(0.0, sigma_m) / (M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6))
        fields.update(lat=lat, lon=lon)
        channel = sentence.split(",")[4] or "A"
        (encoded,) = encode_dict(
            fields, talker_id=sentence[1:3], sentence_type=sentence[3:6], radio_channel=channel
        )
        out.append(line[:at] + encoded)
    return out


def learn_normal_traffic(config: Any, seeds: Sequence[int], hours: float, workdir: Path) -> Path:
    """A normalcy model (`vts learn`) of simulated normal traffic (no incidents) for `course_anomaly`'s
    off-route check, learnt on seeds other than the ones scored. Returns the model file."""
    from vts.learn import learn
    from vts.simulate.scenario import simulate

    logs: list[Path] = []
    for seed in seeds:
        sim = simulate(config, seed=seed, hours=hours, incident_types=[])
        path = workdir / f"normal-{seed}.nmea"
        path.write_text("".join(line + "\n" for line in sim.nmea_lines()), encoding="ascii")
        logs.append(path)
    model, _summary = learn(logs, config_path=str(config.path) if config.path else None)
    out = workdir / "normal-traffic.npz"
    model.save(out)
    return out


def with_model(config: Any, model: Path) -> Any:
    """A copy of the config whose `course_anomaly` rule uses this normalcy model."""
    rules = dict(config.rules)
    params = rules.get("course_anomaly")
    if params is None or not hasattr(params, "model_path"):
        return config
    rules["course_anomaly"] = params.model_copy(update={"model_path": str(model.resolve())})
    return config.model_copy(update={"rules": rules})


def needs_model(config: Any) -> bool:
    params = config.rules.get("course_anomaly")
    return (
        params is not None and getattr(params, "enabled", False) and not getattr(params, "model_path", None)
    )


def evaluate_seeds(
    config: Any,
    seeds: Sequence[int],
    hours: float,
    *,
    incident_types: list[str] | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    keep: Path | None = None,
    log: Any = None,
    learn_seeds: Sequence[int] = (),
    loss: float = 0.0,
    gnss_noise_m: float = 0.0,
) -> Score:
    """Simulate each seed, replay it through the core, score it; sum the scores. With `learn_seeds`
    and no normalcy model in the config, one is learnt from normal traffic on those seeds first (from
    the whole of it: the model is what the port's traffic is, learnt from weeks of it). `loss`: that
    fraction of the scored logs' messages is lost to reception first (`lose_messages`);
    `gnss_noise_m`: their positions are made that much noisier first (`add_gnss_noise`)."""
    from vts.simulate.scenario import simulate
    from vts.simulate.truth import truth_dict

    if learn_seeds and needs_model(config):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="vts-evaluate-") as tmp:
            t0 = time.perf_counter()
            model = learn_normal_traffic(config, learn_seeds, hours, Path(tmp))
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                model = Path(shutil.copy(model, keep / model.name))
            if log is not None:
                log(
                    f"learnt the normal-traffic model from seeds {', '.join(map(str, learn_seeds))} "
                    f"({time.perf_counter() - t0:.1f} s)"
                )
            return evaluate_seeds(
                with_model(config, model),
                seeds,
                hours,
                incident_types=incident_types,
                tolerance_s=tolerance_s,
                keep=keep,
                log=log,
                loss=loss,
                gnss_noise_m=gnss_noise_m,
            )

    total = Score()
    for seed in seeds:
        t0 = time.perf_counter()
        sim = simulate(config, seed=seed, hours=hours, incident_types=incident_types)
        lines = lose_messages(add_gnss_noise(list(sim.nmea_lines()), gnss_noise_m, seed), loss, seed)
        truth = truth_dict(sim)
        alerts = run_core(config, lines)
        if keep is not None:
            d = keep / f"seed{seed}"
            d.mkdir(parents=True, exist_ok=True)
            (d / "traffic.nmea").write_text("\n".join(lines) + "\n", encoding="ascii")
            (d / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
            (d / "alerts.jsonl").write_text("".join(a.to_json() + "\n" for a in alerts), encoding="utf-8")
        total.merge(score(truth, alerts, tolerance_s))
        if log is not None:
            log(
                f"seed {seed}: {len(lines)} lines, {len(truth['incidents'])} incidents, "
                f"{sum(1 for a in alerts if a.state == 'raised')} alerts raised "
                f"({time.perf_counter() - t0:.1f} s)"
                + (f"; no time and place found for: {', '.join(sim.left_out)}" if sim.left_out else "")
            )
    return total


# -- output -------------------------------------------------------------------------------------------
def format_table(s: Score) -> str:
    head = (
        f"{'type':<36}{'incidents':>10}{'detected':>9}{'recall':>8}{'alerts':>8}{'false':>7}{'precision':>10}"
    )
    head += f"{'median delay':>14}"
    lines = [head, "-" * len(head)]
    for key in _ordered(s.rows):
        lines.append(_format_row("  " + key if "/" in key else key, s.rows[key]))
    lines.append("-" * len(head))
    lines.append(_format_row("overall", s.overall()))
    related = sum(r.related_alerts for k, r in s.rows.items() if "/" not in k)
    if related:
        what = "alert" if related == 1 else "alerts"
        lines.append(f"({related} further {what} matched a related type of an incident and were not scored)")
    if s.false_alarms_by_role:
        roles = ", ".join(f"{role} {n}" for role, n in s.false_alarms_by_role.most_common(8))
        lines.append(f"false alarms by vessel role: {roles}")
    if s.unscored:
        lines.append("not scored: " + ", ".join(f"{k} {n}" for k, n in sorted(s.unscored.items())))
    if s.too_late:
        lines.append(
            f"not scored, started too close to the end of the log to be detected: {', '.join(s.too_late)}"
        )
    return "\n".join(lines)


def _format_row(name: str, r: Row) -> str:
    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}"

    delay = "-" if r.median_delay is None else _duration(r.median_delay)
    return (
        f"{name:<36}{r.incidents:>10}{r.detected:>9}{f(r.recall):>8}{r.alerts:>8}{r.false_alarms:>7}"
        f"{f(r.precision):>10}{delay:>14}"
    )


def _duration(s: float) -> str:
    """``3m05s``; negative (an alert before the incident's labelled start) with a sign, but never
    ``-0m00s``: under a second either side is ``0m00s``."""
    whole = int(abs(s))
    sign = "-" if s < 0 and whole > 0 else ""
    return f"{sign}{whole // 60}m{whole % 60:02d}s"


def _ordered(rows: dict[str, Row]) -> list[str]:
    order = {t: i for i, t in enumerate(SCORED_TYPES)}
    return sorted(rows, key=lambda k: (order.get(k.split("/")[0], 99), k.split("/")[0], "/" in k, k))


def _round(x: float | None, n: int = 3) -> float | None:
    return None if x is None else round(x, n)


# -- command line -----------------------------------------------------------------------------------
def parse_seeds(text: str) -> list[int]:
    """'1-5', '1,3,7' or '2'."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            lo, hi = (int(x) for x in part.split("-", 1)) if "-" in part else (int(part),) * 2
        except ValueError:
            raise ValueError(f"not a seed or a range of seeds: {part!r} (e.g. 1-5 or 1,3,7)") from None
        if hi < lo:
            raise ValueError(f"empty seed range {part!r}")
        out.extend(range(lo, hi + 1))
    if not out:
        raise ValueError("no seeds given")
    return out


def read_alerts(path: Path) -> tuple[list[Alert], int]:
    """Alerts of a JSON-lines file; returns (alerts, lines that were not alerts)."""
    alerts: list[Alert] = []
    bad = 0
    with open(path, encoding="utf-8", errors="replace") as f:  # (a binary line is a bad line)
        for line in f:
            if not line.strip():
                continue
            try:
                alerts.append(Alert.from_json(line))
            except (ValueError, KeyError, TypeError):
                bad += 1
    return alerts, bad


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("truth", nargs="?", type=Path, help="truth.json written by `vts simulate`")
    p.add_argument(
        "alerts", nargs="?", type=Path, help="alerts, one JSON object per line (`vts replay --alerts-out`)"
    )
    p.add_argument(
        "--hours",
        type=positive_float,
        default=None,
        help="simulate this many hours per seed, replay and score",
    )
    p.add_argument("--seeds", default="1-5", help="seeds to simulate: '1-5' (default), '1,3,7'")
    p.add_argument("--config", type=Path, default=None, help="configuration file (default: Callao)")
    p.add_argument(
        "--incidents", default="all", help="incident types to inject (as `vts simulate --incidents`)"
    )
    p.add_argument(
        "--tolerance",
        type=non_negative_float,
        default=DEFAULT_TOLERANCE_S,
        help=f"seconds after an incident's end an alert still matches (default {DEFAULT_TOLERANCE_S:.0f})",
    )
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.add_argument(
        "--keep", type=Path, default=None, help="with --hours: keep each seed's log, truth and alerts here"
    )
    p.add_argument(
        "--loss",
        type=fraction,
        default=0.0,
        help="with --hours: lose this fraction (0-1, or a percentage) of the radio messages at random "
        "before the replay, as a receiver does (default 0: every message received)",
    )
    p.add_argument(
        "--gnss-noise",
        type=non_negative_float,
        default=0.0,
        metavar="METRES",
        help="with --hours: move every simulated position report by a random offset of this standard "
        "deviation (metres, north and east) before the replay: worse GNSS fixes (default 0: the "
        "simulator's own few metres)",
    )
    p.add_argument(
        "--learn-seeds",
        default="1001-1008",
        help="with --hours: when the config gives course_anomaly no normalcy model, learn one from simulated "
        "normal traffic on these seeds first (default 1001-1008; 'none' to skip)",
    )


def main(args: argparse.Namespace) -> int:
    from vts.config import ConfigError, load_config

    if args.hours is not None:
        if args.truth is not None:
            print("vts evaluate: give either TRUTH ALERTS or --hours, not both", file=sys.stderr)
            return 2
        try:
            from vts.simulate.incidents import expand_types

            config = load_config(args.config)
            seeds = parse_seeds(args.seeds)
            learn_seeds = [] if args.learn_seeds.strip().lower() == "none" else parse_seeds(args.learn_seeds)
            types = expand_types(args.incidents)
        except (ConfigError, ValueError) as e:
            print(f"vts evaluate: {e}", file=sys.stderr)
            return 2

        def progress(msg: str) -> None:
            print(msg, file=sys.stderr)

        s = evaluate_seeds(
            config,
            seeds,
            args.hours,
            incident_types=types,
            tolerance_s=args.tolerance,
            keep=args.keep,
            log=progress,
            learn_seeds=learn_seeds,
            loss=args.loss,
            gnss_noise_m=args.gnss_noise,
        )
        header = f"vts evaluate: {len(seeds)} seed(s) ({args.seeds}), {args.hours:g} h each"
        if args.loss:
            header += f", {args.loss:.0%} of the messages lost to reception"
        if args.gnss_noise:
            header += f", positions {args.gnss_noise:g} m noisier"
    else:
        if args.loss or args.gnss_noise:
            print(
                "vts evaluate: --loss and --gnss-noise go with --hours (they change the simulated logs)",
                file=sys.stderr,
            )
            return 2
        if args.truth is None or args.alerts is None:
            print("vts evaluate: give TRUTH and ALERTS files, or --hours H [--seeds 1-5]", file=sys.stderr)
            return 2
        try:
            from vts.simulate.truth import read_truth

            truth = read_truth(args.truth)
            alerts, bad = read_alerts(args.alerts)
        except OSError as e:
            print(f"vts evaluate: cannot read {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
            return 2
        except ValueError as e:
            print(f"vts evaluate: {e}", file=sys.stderr)
            return 2
        if bad:
            print(f"vts evaluate: {bad} line(s) of {args.alerts} are not alerts (skipped)", file=sys.stderr)
        s = score(truth, alerts, args.tolerance)
        header = f"vts evaluate: {args.truth} against {args.alerts}"
    if args.json:
        print(json.dumps(s.to_dict(), indent=1))
    else:
        print(header)
        print(format_table(s))
    return 0
