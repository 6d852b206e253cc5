"""Discovers the rule modules of `vts.rules` and builds rules from the config's ``rules:`` section."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import vts.rules
from vts.rules.base import Rule, RuleParams

_NOT_RULES = {"base", "registry"}


def rule_classes() -> dict[str, type[Rule]]:
    """Every rule class, by id, in a stable (sorted) order."""
    found: dict[str, type[Rule]] = {}
    for info in sorted(pkgutil.iter_modules(vts.rules.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in _NOT_RULES:
            continue
        module = importlib.import_module(f"vts.rules.{info.name}")
        cls = getattr(module, "RULE", None)
        if cls is None:
            continue
        if cls.id in found:
            raise RuntimeError(f"two rules share the id {cls.id!r}")
        found[cls.id] = cls
    return dict(sorted(found.items()))


def known_alert_types() -> list[str]:
    """Every alert type vts raises: those of every rule (`Rule.raised_types`)."""
    return sorted({t for rule in rule_classes().values() for t in rule.raised_types()})


def validate_rule_params(raw: dict[str, Any]) -> dict[str, RuleParams]:
    """Validate the ``rules:`` mapping; unknown rule ids and unknown keys are errors (ValueError)."""
    classes = rule_classes()
    unknown = sorted(set(raw) - set(classes))
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known rules: {', '.join(classes)}")
    return {rid: cls.Params.model_validate(raw.get(rid) or {}) for rid, cls in classes.items()}


def build_rules(params: dict[str, RuleParams]) -> list[Rule]:
    """Instantiate every enabled rule."""
    classes = rule_classes()
    return [classes[rid](p) for rid, p in params.items() if p.enabled]
