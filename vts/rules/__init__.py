"""Alert rules: one module per rule, each exposing ``RULE`` (a `vts.rules.base.Rule` subclass)."""
