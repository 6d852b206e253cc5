"""`tracker:` section of the config: how long tracks and what is known of vessels are kept.

Not in `vts.tracker`: that module is compiled with mypyc (`vts/_compiled.py`), and a pydantic model
in a compiled module loses its field metadata."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TrackerSettings(BaseModel):
    """`tracker:` section of the config."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    trail_minutes: float = Field(30.0, gt=0, description="length of the kept trail, minutes of event time")
    trail_max_points: int = Field(400, ge=2, description="hard cap on trail points per vessel")
    forget_after_minutes: float = Field(60.0, gt=0, description="forget a vessel silent this long")
    static_memory_hours: float = Field(
        24.0,
        ge=0,
        description="remember a forgotten vessel's static data (name, call sign, type, size, voyage) "
        "this long after it was last heard: back within that time, it is known from its first report",
    )

    @property
    def trail_s(self) -> float:
        return self.trail_minutes * 60.0

    @property
    def forget_after_s(self) -> float:
        return self.forget_after_minutes * 60.0

    @property
    def static_memory_s(self) -> float:
        return self.static_memory_hours * 3600.0
