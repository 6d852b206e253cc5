"""Fan-out of alert events to the browsers connected to `/api/events` (server-sent events).

Each event gets a sequence number (the SSE `id:`); the last `RING` events are kept so a browser
that reconnects with `Last-Event-ID` gets what it missed. Each client has a bounded queue: a
browser that cannot keep up loses its oldest events (counted), never the daemon's memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vts.jsontext import dumps

RING = 500
CLIENT_QUEUE = 200


@dataclass(slots=True, frozen=True)
class HubEvent:
    seq: int
    kind: str
    """`alert` (an alert lifecycle step) or `ack` (an acknowledgement)."""
    data: dict[str, Any]

    def encode(self) -> bytes:
        payload = dumps(self.data)
        return f"id: {self.seq}\nevent: {self.kind}\ndata: {payload}\n\n".encode()


class AlertHub:
    def __init__(self) -> None:
        self._seq = 0
        self._ring: deque[HubEvent] = deque(maxlen=RING)
        self._clients: set[asyncio.Queue[HubEvent]] = set()
        self.dropped = 0
        """Events a slow client lost."""
        self.published = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, kind: str, data: dict[str, Any]) -> HubEvent:
        """Called from the event loop's thread (the core runs there too)."""
        self._seq += 1
        event = HubEvent(self._seq, kind, data)
        self._ring.append(event)
        self.published += 1
        for queue in self._clients:
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)
        return event

    def since(self, last_id: int) -> list[HubEvent]:
        """Events after `last_id` still in the ring (for `Last-Event-ID`)."""
        return [e for e in self._ring if e.seq > last_id]

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[HubEvent]]:
        queue: asyncio.Queue[HubEvent] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self._clients.add(queue)
        try:
            yield queue
        finally:
            self._clients.discard(queue)
