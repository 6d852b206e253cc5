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

from vts.alerts.model import iso_time
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
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a vts simulation truth file")
    return data
