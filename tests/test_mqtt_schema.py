"""docs/alert.schema.json describes exactly the alert payload (`Alert.to_json()`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args

from tests.fixtures.mqtt_scenario import speeding_ships
from vts.alerts.model import SEVERITIES, AlertState
from vts.config import load_config
from vts.core import Core

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "alert.schema.json").read_text())
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "null": (type(None),),
}


def check(value: Any, rule: dict[str, Any], where: str) -> None:
    """The subset of JSON Schema the alert schema uses: type, enum, pattern, minimum, maximum."""
    if "enum" in rule:
        assert value in rule["enum"], where
    if "type" in rule:
        types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        assert any(isinstance(value, JSON_TYPES[t]) and not isinstance(value, bool) for t in types), where
    if isinstance(value, str) and "pattern" in rule:
        assert re.search(rule["pattern"], value), where
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert rule.get("minimum", value) <= value <= rule.get("maximum", value), where


def test_schema_lists_every_key_of_the_payload_in_order() -> None:
    core = Core(load_config())
    alerts = [a for line in speeding_ships(3) for a in core.feed_line(line, "test")]
    assert alerts
    for alert in alerts:
        payload = json.loads(alert.to_json())
        assert list(payload) == list(SCHEMA["properties"]) == SCHEMA["required"]
        for key, value in payload.items():
            check(value, SCHEMA["properties"][key], f"{key}={value!r}")
    assert SCHEMA["properties"]["severity"]["enum"] == list(SEVERITIES)
    assert SCHEMA["properties"]["state"]["enum"] == list(get_args(AlertState))
    assert SCHEMA["additionalProperties"] is False
