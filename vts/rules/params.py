"""What every rule's parameters are: a pydantic model with `enabled`, which each rule extends.

Its own module (not `vts.rules.base`) so that the config can import it while the rules' base imports
the config's types at run time (which compiled modules need; see `vts._compiled`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RuleParams(BaseModel):
    """Base of every rule's parameters. Subclasses add their thresholds with defaults and descriptions."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = True
