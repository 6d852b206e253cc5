"""The parameters of every rule, as the config reads them: one pydantic model per rule (each a
`RuleParams`, the config's base with ``enabled``), with its defaults, bounds and descriptions.

They are here, not in the rule modules, because the rule modules are compiled with mypyc, and a
pydantic model defined in a compiled module loses its field metadata (bounds, descriptions, even
its docstring). This module is not compiled; it imports no rule module (only the config, the
tracker and the helpers the defaults need), and each rule module imports its model from here under
the same name (``from vts.rules.loitering import LoiteringParams`` still works)."""

from __future__ import annotations

from vts.config import RuleParams as RuleParams  # the base of the models below (next commit)
