"""The map server inside the daemon's own event loop.

    async with WebServer(config, core, store, clock_info) as web:
        log.info("map at %s", web.url)
        await feed_loop()

aiohttp `AppRunner` + `TCPSite` with `handle_signals=False`: the daemon owns SIGINT/SIGTERM and the
shutdown order. On exit the SSE streams are told to close first and end at once: a well-behaved
browser gets the stream's graceful end, and one that takes no data (its write blocked on a full
socket) has its connection dropped, so shutdown waits for no browser (aiohttp's own
SHUTDOWN_TIMEOUT_S only bounds other requests still running). `clock_info` is whatever the daemon
or replay gives to describe its feeds and clock (a callable returning a mapping, or a mapping /
dataclass); it is shown as-is under `feed` in `/api/stats` and in the page header.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from vts.web.api import build_app
from vts.web.security import host_rule
from vts.web.state import ClockInfo, WebState

if TYPE_CHECKING:
    from vts.config import Config
    from vts.core import Core

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 2.0
"""How long aiohttp lets a request still being handled finish when the server stops (it may wait
this long twice: for the handler to end, then after cancelling it)."""


class WebServer:
    def __init__(
        self,
        config: Config,
        core: Core,
        store: Any = None,
        clock_info: ClockInfo = None,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        updates: dict[str, Any] = {}
        if host is not None:
            updates["host"] = host
        if port is not None:
            updates["port"] = port
        self.settings = config.web.model_copy(update=updates) if updates else config.web
        self.state = WebState(config, core, store, clock_info, self.settings)
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self.port: int = self.settings.port

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        if not self.settings.is_loopback:
            no_token = (
                "" if self.settings.token else "; no web.token: anyone who reaches it can acknowledge alerts"
            )
            log.warning(
                "map server bound to %s: reachable beyond this machine; it answers only to Host names "
                "that are %s (add others to web.allowed_hosts)%s",
                self.settings.host,
                host_rule(self.settings).describe(),
                no_token,
            )
        self.app = build_app(self.state)
        self._runner = web.AppRunner(
            self.app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = _bound_port(self._runner) or self.settings.port
        self.state.start()
        log.info("map server at %s", self.url)

    async def stop(self) -> None:
        await self.state.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None
