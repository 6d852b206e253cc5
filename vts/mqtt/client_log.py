"""A quiet logger for the MQTT client library (aiomqtt / paho).

paho logs a broken connection at ERROR on every attempt ("failed to receive on socket: [SSL: ...]"),
which would turn a broker outage into a log flood. This adapter sends all of it to DEBUG under
``vts.mqtt.client`` and keeps the last error-level line, so the publisher can name the real cause
("certificate required") in its single message.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any


class QuietClientLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    def __init__(self, name: str = "vts.mqtt.client") -> None:
        super().__init__(logging.getLogger(name), {})
        self.last_error: str | None = None

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level >= logging.ERROR:
            try:
                self.last_error = str(msg) % args if args else str(msg)
            except (TypeError, ValueError):
                self.last_error = str(msg)
        kwargs.pop("exc_info", None)
        if self.logger.isEnabledFor(logging.DEBUG):
            self.logger.log(logging.DEBUG, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs

    def take_last_error(self) -> str | None:
        error, self.last_error = self.last_error, None
        return error
