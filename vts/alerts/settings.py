"""`alerts:` section of the config: lifecycle and storage of alerts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    store: str | None = Field("vts-alerts.sqlite3", description="SQLite file for alerts (None: in memory)")
    min_messages: int = Field(
        5, ge=0, description="no alert on a target with fewer messages (identity alerts excepted)"
    )
    cooldown_minutes: float = Field(10.0, ge=0, description="per vessel and type, after a clear or an event")
    snooze_minutes: float = Field(60.0, ge=0, description="after an acknowledgement, per vessel and type")
    update_minutes: float = Field(
        5.0,
        gt=0,
        description="a holding state alert is re-published (state 'updated') at most this often with fresh "
        "evidence; a change of severity or zone is published at once",
    )
    restore_grace_minutes: float = Field(
        15.0,
        gt=0,
        description="an alert reloaded from the store at start is cleared if no rule confirms it within this "
        "much event time",
    )
