"""JSON text with no NaN or infinity: the map server's answers, and the evidence in alerts.

JSON has no NaN or infinity. One such float in a vessel or in an alert's details must not turn the
whole answer into an error, so it is sent as `null`. The fast path encodes with `allow_nan=False`;
only when that refuses is the value copied with its non-finite floats replaced.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def finite(value: Any) -> Any:
    """`value` with every NaN / infinite float (in dicts, lists and tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def loads(text: str | bytes) -> Any:
    """`json.loads` for text from outside (a feed, a request, a broker): whatever it cannot read,
    nesting deeper than the parser goes included (RecursionError), is a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(value: Any) -> str:
    """Compact JSON (UTF-8 text, no spaces); a non-finite float becomes `null`."""
    try:
        return _encode(value)
    except ValueError:  # "Out of range float values are not JSON compliant"
        return _encode(finite(value))
