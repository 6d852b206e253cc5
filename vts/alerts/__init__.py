"""Alerts: the model (`model`), the lifecycle engine (`engine`) and the SQLite store (`store`)."""

from vts.alerts.model import SEVERITIES, Alert, AlertState, Severity

__all__ = ["SEVERITIES", "Alert", "AlertState", "Severity"]
