"""Shared test set-up.

Fixture modules live in `tests/fixtures/` (a real Mosquitto broker, headless Chromium) and are
loaded as plugins. Under CI (the CI environment variable set), a test skipped because the broker
or the browser is missing is turned into a failure: CI must exercise them.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.fixtures.mqtt_broker", "tests.fixtures.browser", "tests.fixtures.web_client"]

MUST_RUN_UNDER_CI = ("mqtt", "browser")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not os.environ.get("CI") or not report.skipped:
        return
    if any(item.get_closest_marker(m) for m in MUST_RUN_UNDER_CI):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under CI, which must run this test: {reason}"
