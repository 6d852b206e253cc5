"""Fan-out of alert events to the browsers connected to `/api/events` (server-sent events).

Each event gets a sequence number (the SSE `id:`); the last `RING` events are kept so a browser
that reconnects with `Last-Event-ID` gets what it missed. Each client has a bounded queue: a
browser that cannot keep up loses its oldest events (counted), never the daemon's memory. The
number of clients is bounded too (`max_clients`, the `web.max_event_streams` setting): one more is
refused (`StreamsFull`, counted in `refused`, logged at most once per `REFUSAL_LOG_S`), so a script
or a storm of tabs cannot make the daemon hold any number of streams and queues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vts.jsontext import dumps

log = logging.getLogger(__name__)

RING = 500
CLIENT_QUEUE = 200
MAX_CLIENTS = 64
"""Default limit on open event streams (the `web.max_event_streams` setting)."""
REFUSAL_LOG_S = 60.0
"""Refused streams are logged at most once per this many seconds (the count is always kept)."""


@dataclass(slots=True, frozen=True)
class HubEvent:
    seq: int
    kind: str
    """`alert` (an alert lifecycle step) or `ack` (an acknowledgement)."""
    data: dict[str, Any]

    def encode(self) -> bytes:
        payload = dumps(self.data)
        return f"id: {self.seq}\nevent: {self.kind}\ndata: {payload}\n\n".encode()


class StreamsFull(Exception):
    """`max_clients` streams are open already."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} event streams are open, the limit")
        self.limit = limit


class AlertHub:
    def __init__(self, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self._seq = 0
        self._ring: deque[HubEvent] = deque(maxlen=RING)
        self._clients: set[asyncio.Queue[HubEvent]] = set()
        self.max_clients = max_clients
        self.dropped = 0
        """Events a slow client lost."""
        self.refused = 0
        """Clients refused because `max_clients` were connected."""
        self.published = 0
        self._clock = clock
        self._refusal_logged_at: float | None = None
        self._refused_unlogged = 0

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
        """A queue of the events published while inside; `StreamsFull` when `max_clients` are in."""
        if len(self._clients) >= self.max_clients:
            self._refuse()
            raise StreamsFull(self.max_clients)
        queue: asyncio.Queue[HubEvent] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self._clients.add(queue)
        try:
            yield queue
        finally:
            self._clients.discard(queue)

    def _refuse(self) -> None:
        """Count a refusal; log the first of a burst, then at most once per REFUSAL_LOG_S."""
        self.refused += 1
        self._refused_unlogged += 1
        now = self._clock()
        last = self._refusal_logged_at
        if last is not None and now - last < REFUSAL_LOG_S:
            return
        if last is None or self._refused_unlogged == 1:
            log.warning(
                "refused an event stream (/api/events, answered 503): %d are open, the limit "
                "(web.max_event_streams); further refusals are counted (sse_refused in /api/stats) "
                "and logged at most once a minute",
                self.max_clients,
            )
        else:
            log.warning(
                "refused %d event streams (/api/events, answered 503) in the last %.0f s: %d are open, "
                "the limit (web.max_event_streams); %d refused in all",
                self._refused_unlogged,
                now - last,
                self.max_clients,
                self.refused,
            )
        self._refusal_logged_at = now
        self._refused_unlogged = 0
