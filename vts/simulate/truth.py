"""`truth.json`: what really happened in a simulated log, for scoring alerts against it.

    {"format": "vts-simulation-truth", "version": 1, "seed": 3, "start": "...Z", "end": "...Z",
     "hours": 6.0, "deconflicted": true,
     "incidents": [{"id", "type", "kind", "mmsi", "other_mmsi", "start", "end",
                    "position": {"lat", "lon"}, "notes", "related": [types]}, ...],
     "vessels": [{"mmsi", "name", "role", "category", "class", "ship_type", "incident"}, ...]}

Times are ISO 8601 UTC like the alerts. `related` lists alert types the same episode may
legitimately raise too (neither a detection nor a false alarm when scoring).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vts.alerts.model import iso_time, parse_iso_time
from vts.simulate.scenario import Simulation

FORMAT = "vts-simulation-truth"


def truth_dict(sim: Simulation) -> dict[str, Any]:
    vessels: dict[int, dict[str, Any]] = {}
    for v in sim.vessels:
        if v.mmsi in vessels or v.end < sim.start or v.start > sim.end:
            continue
        vessels[v.mmsi] = {
            "mmsi": v.mmsi,
            "name": v.static.name if v.static else None,
            "role": v.role,
            "category": v.category,
            "class": v.ais_class,
            "ship_type": v.static.ship_type if v.static else None,
            "incident": v.incident,
        }
    return {
        "format": FORMAT,
        "version": 1,
        "generator": "vts simulate",
        "seed": sim.seed,
        "start": iso_time(sim.start),
        "end": iso_time(sim.end),
        "hours": round((sim.end - sim.start) / 3600.0, 3),
        "deconflicted": sim.deconflicted,
        "incidents": [i.to_dict() for i in sim.incidents],
        "vessels": sorted(vessels.values(), key=lambda d: d["mmsi"]),
    }


def write_truth(sim: Simulation, path: Path) -> None:
    path.write_text(json.dumps(truth_dict(sim), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_truth(path: Path) -> dict[str, Any]:
    """A truth file, checked: ValueError naming the file and the entry at fault when it is not one
    (OSError when it cannot be read)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as e:  # not UTF-8, not JSON
        raise ValueError(f"{path}: not a vts simulation truth file (not JSON: {e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a vts simulation truth file")
    for key, check in (("incidents", _incident_problem), ("vessels", _vessel_problem)):
        entries = data.get(key, [])
        if not isinstance(entries, list):
            raise ValueError(f"{path}: {key}: expected a list, got {type(entries).__name__}")
        for i, entry in enumerate(entries):
            problem = check(entry) if isinstance(entry, dict) else "expected a mapping"
            if problem is not None:
                raise ValueError(f"{path}: {key}[{i}]: {problem}")
    return data


def _incident_problem(d: dict[str, Any]) -> str | None:
    missing = [k for k in ("type", "mmsi", "start", "end") if d.get(k) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    for key in ("mmsi", "other_mmsi"):
        if d.get(key) is not None and not _is_int(d[key]):
            return f"{key}: expected an MMSI, got {d[key]!r}"
    for key in ("start", "end"):
        try:
            parse_iso_time(d[key])
        except (TypeError, ValueError, AttributeError):
            return f"{key}: expected an ISO 8601 time, got {d[key]!r}"
    if not isinstance(d.get("related") or [], list):
        return f"related: expected a list of alert types, got {d['related']!r}"
    return None


def _vessel_problem(d: dict[str, Any]) -> str | None:
    return None if _is_int(d.get("mmsi")) else f"mmsi: expected an MMSI, got {d.get('mmsi')!r}"


def _is_int(value: object) -> bool:
    """Whether the scorer's ``int(value)`` takes it."""
    try:
        int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return False
    return True
