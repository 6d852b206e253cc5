"""The outbox the publisher drains: alerts waiting for the broker's acknowledgement.

The durable outbox is the SQLite alert store (`vts.alerts.store.AlertStore`): the alert engine
writes every lifecycle step there, and the publisher marks each one delivered only after the broker
acknowledged it (PUBACK), so neither a broker outage nor a daemon restart loses an alert.

`MemoryOutbox` has the same interface for a daemon run without a store; it survives broker outages
but not a restart of the process.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Protocol, runtime_checkable

from vts.alerts.model import Alert

log = logging.getLogger(__name__)


@runtime_checkable
class Outbox(Protocol):
    def pending_delivery(self, limit: int) -> list[tuple[int, Alert]]:
        """Up to `limit` undelivered alert steps, oldest first, as (sequence number, alert)."""
        ...

    def mark_delivered(self, seq: int) -> None:
        """The broker has acknowledged this step."""
        ...


class MemoryOutbox:
    """An in-process outbox (lost when the process ends)."""

    def __init__(self, max_items: int = 100_000) -> None:
        self._items: OrderedDict[int, Alert] = OrderedDict()
        self._latest: dict[str, Alert] = {}
        self._next_seq = 1
        self.max_items = max_items
        self.dropped = 0
        """Oldest undelivered steps dropped because the outbox was full."""
        self._overflowing = False

    def add(self, alert: Alert) -> int:
        seq = self._next_seq
        self._next_seq += 1
        self._items[seq] = alert
        # the latest step of each alert not cleared, least recently changed first
        self._latest.pop(alert.id, None)
        if alert.state != "cleared":
            self._latest[alert.id] = alert
            if len(self._latest) > self.max_items:  # event alerts are never cleared: keep it bounded
                del self._latest[next(iter(self._latest))]
        while len(self._items) > self.max_items:
            _, lost = self._items.popitem(last=False)
            self.dropped += 1
            if not self._overflowing:
                self._overflowing = True
                log.warning(
                    "MQTT: the in-memory outbox is full (%d alert steps waiting for the broker): "
                    "dropping the oldest, starting with alert %s (%s %s); only an alert store keeps "
                    "every alert until the broker takes it (the status counts alerts_dropped)",
                    self.max_items,
                    lost.id,
                    lost.type,
                    lost.state,
                )
        return seq

    def pending_delivery(self, limit: int) -> list[tuple[int, Alert]]:
        out: list[tuple[int, Alert]] = []
        for seq, alert in self._items.items():
            if len(out) >= limit:
                break
            out.append((seq, alert))
        return out

    def mark_delivered(self, seq: int) -> None:
        self._items.pop(seq, None)
        if self._overflowing and not self._items:
            self._overflowing = False  # the backlog is out: a new overflow is worth a new warning

    def pending_count(self) -> int:
        return len(self._items)

    def get(self, alert_id: str) -> Alert | None:
        """The latest step of an alert not cleared yet (as the alert store's `get`)."""
        return self._latest.get(alert_id)


def pending_count(outbox: Outbox) -> int | None:
    """How many steps wait for delivery, when the outbox can tell cheaply."""
    counter = getattr(outbox, "pending_count", None)
    if callable(counter):
        try:
            return int(counter())
        except Exception:  # a store that cannot count does not stop the publisher
            return None
    return None
