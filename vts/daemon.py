"""`vts run`: the VTS daemon. Feeds in, one core, alerts out (store, MQTT, live map).

    vts run                                   # default config: no live feed, so the demo loop
    vts run --config /etc/vts/callao.yaml     # the sources named in the config
    vts run --simulate --speed 5              # simulated Callao traffic

* Sources: every enabled entry of the config's ``sources:``; with none, the bundled sample log
  (`vts.samples.SAMPLE_LOG`) is replayed in a loop at 10x, so a newcomer sees it working with no
  receiver. ``--simulate`` replaces them with the live simulator.
* Signals: SIGINT / SIGTERM stop it (sources cancelled first, then the map and MQTT are closed);
  a second one exits at once. SIGHUP reloads the configuration: zones and rules are swapped,
  vessel state and active alerts are kept; a broken file is reported and the running
  configuration stays. Sources follow the file too: a source added or changed is started, one
  removed, disabled or changed is stopped, and the others run on untouched (a demo or ``--simulate``
  run keeps its own feed; a reload that would leave no source keeps the running ones).
* Quiet live feeds: when every source is live, event time is carried forward with the wall clock
  while no message arrives, so time-outs (a vessel going dark) still fire.
* A file source's relative ``path`` is taken from the configuration file's directory.
* The alert database is ``alerts.store`` of the config (``~`` expanded, a relative path taken from
  the current directory, as `vts alerts` does); ``--store`` overrides it. A reload does not move
  it, nor the map's address or the MQTT broker: a change to those is logged as needing a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vts.config import Config
    from vts.core import Core
    from vts.sources.base import Source
    from vts.sources.runner import FeedHealth, SourceRunner
    from vts.sources.settings import SourceSettings
    from vts.web.server import WebServer

log = logging.getLogger("vts.daemon")

HOUSEKEEPING_S = 1.0
"""How often feed rates are sampled and a quiet live feed's event time is carried forward."""
QUIET_AFTER_S = 2.0
"""A live feed with no message for this long (wall clock) has its event time carried forward."""
CHECKPOINT_S = 300.0
"""How often (wall clock, the daemon's running time) the vessel tracks and the rules' states are
saved to the alert database (`Core.checkpoint`); also when the daemon stops. This bounds what a
crash loses, whatever the speed of the input (a file replayed at 100x races through event time)."""
SHUTDOWN_FLUSH_S = 0.5
"""At shutdown, time given to MQTT to deliver its backlog when the alert store keeps the rest."""


def configure_parser(p: argparse.ArgumentParser) -> None:
    from vts.cli import port_number, positive_float

    p.add_argument("--config", metavar="PATH", help="configuration file (default: the Callao configuration)")
    p.add_argument("--store", metavar="PATH", help="alert database (default: alerts.store of the config)")
    p.add_argument(
        "--mqtt",
        metavar="URL",
        default=None,
        help="publish alerts to this broker: mqtt://user:pass@host:port or mqtts://... "
        "(default: $VTS_MQTT_URL, then the config's mqtt section; none: no MQTT)",
    )
    p.add_argument("--host", help="map server address (default: config web.host, 127.0.0.1)")
    p.add_argument(
        "--port", type=port_number, help="map server port (default: config web.port, 8080; 0: any free port)"
    )
    p.add_argument("--no-web", action="store_true", help="do not serve the map")
    p.add_argument(
        "--simulate", action="store_true", help="feed simulated Callao traffic instead of the sources"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed of --simulate (default 1)")
    p.add_argument(
        "--speed",
        type=positive_float,
        metavar="X",
        help="pacing of --simulate and of the demo loop (default: 1 for --simulate, 10 for the demo)",
    )


def main(args: argparse.Namespace) -> int:
    from vts.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"vts run: {e}", file=sys.stderr)
        return 2
    daemon = Daemon(config, args)
    try:
        return asyncio.run(daemon.run())
    except DaemonError as e:
        print(f"vts run: {e}", file=sys.stderr)
        return 2


class DaemonError(Exception):
    """Something that prevents the daemon from starting at all."""


class Daemon:
    def __init__(self, config: Config, args: argparse.Namespace) -> None:
        self.config = config
        self.args = args
        self.config_path: Path | None = Path(args.config) if args.config else None
        self.mode = "live"
        self.stop_event: asyncio.Event | None = None
        self.reloads = 0
        self.failed_reloads = 0
        self._signals = 0
        self._runner: SourceRunner | None = None
        self._health: FeedHealth | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._reload_lock = asyncio.Lock()
        """One reload at a time: two SIGHUPs in a row (an editor saving twice) apply in order, the
        last file read last (not whichever read finished last), and never interleave their sources."""

    # -- the run ---------------------------------------------------------------------------------
    async def run(self) -> int:
        from vts.alerts import store as store_module
        from vts.core import Core
        from vts.sources.runner import CoreFeed, FeedHealth, SourceRunner

        sources = self._sources()
        store_path = store_module.store_path(self.args.store or self.config.alerts.store)
        try:
            store = store_module.AlertStore(store_path)
        except store_module.AlertStoreError as e:
            raise DaemonError(str(e)) from None
        except Exception as e:  # anything else that keeps the database from opening
            raise DaemonError(f"cannot open the alert database {store_path}: {e}") from None
        core = Core(self.config, store=store)
        speed = sources[0].settings.speed if self.mode != "live" else None
        health = FeedHealth(core, sources, mode=self.mode, speed=speed)
        self.stop_event = asyncio.Event()
        self._install_signals(core)
        runner = SourceRunner(sources, CoreFeed(core))
        self._runner, self._health = runner, health
        try:
            async with contextlib.AsyncExitStack() as stack:
                web = await self._enter_web(stack, core, store, health)
                publisher = await self._enter_mqtt(stack, core, store)
                if web is not None:
                    web.state.mqtt = publisher  # delivery shown in /api/stats, /metrics, /healthz
                runner.start()
                housekeeping = asyncio.create_task(self._housekeeping(core, sources, health))
                log.info(
                    "vts running: %s (%s); alerts to %s; stop with Ctrl-C or SIGTERM, reload with SIGHUP",
                    self.mode,
                    ", ".join(s.describe() for s in sources),
                    store_path or "memory",
                )
                await self.stop_event.wait()
                log.info("stopping")
                housekeeping.cancel()
                (ended,) = await asyncio.gather(housekeeping, return_exceptions=True)
                if isinstance(ended, Exception):  # it died earlier: say so, but shut down cleanly
                    log.error("the housekeeping task had stopped: %s: %s", type(ended).__name__, ended)
                await runner.stop()
                if publisher is not None and store_path:
                    # the durable outbox keeps what is not delivered yet: do not hold the shutdown for it
                    await publisher.close(flush_timeout=SHUTDOWN_FLUSH_S)
        finally:
            try:
                core.checkpoint()  # what the rules must remember across the restart
            except Exception as e:  # never keep the database from closing
                log.error("could not save the rules' state: %s: %s", type(e).__name__, e)
            store.close()
        log.info("stopped")
        return 0

    def _sources(self) -> list[Source]:
        from vts.samples import DEMO_SPEED, SAMPLE_LOG
        from vts.sources.runner import SourceUnavailable, make_source
        from vts.sources.settings import SourceSettings

        if self.args.simulate:
            self.mode = "simulated"
            settings = [
                SourceSettings(
                    name="simulator", kind="simulate", speed=self.args.speed or 1.0, seed=self.args.seed
                )
            ]
        else:
            settings = [self._resolved(s) for s in self.config.sources if s.enabled]
            if not settings:
                self.mode = "demo"
                if not SAMPLE_LOG.is_file():
                    raise DaemonError(f"no source configured and the sample log {SAMPLE_LOG} is missing")
                log.info("no live feed configured: replaying the sample log %s in a loop (demo)", SAMPLE_LOG)
                speed = self.args.speed or DEMO_SPEED
                settings = [
                    SourceSettings(name="demo", kind="file", path=str(SAMPLE_LOG), loop=True, speed=speed)
                ]
        sources: list[Source] = []
        for s in settings:
            try:
                sources.append(make_source(s, config=self.config))
            except SourceUnavailable as e:
                if self.args.simulate:
                    raise DaemonError(str(e)) from None
                log.error("%s; the other sources run without it", e)
        if not sources:
            raise DaemonError("none of the configured sources can run")
        if self.mode == "live" and not any(s.live for s in sources):
            self.mode = "replay"  # only recorded files (or simulators) in the config
        elif self.mode == "live" and not all(s.live for s in sources):
            log.warning("recorded files and live feeds are mixed: event time will jump between them")
        return sources

    def _resolved(self, settings: SourceSettings, config: Config | None = None) -> SourceSettings:
        """A file source's relative path is taken from the configuration file's directory."""
        return settings.resolved((config or self.config).path)

    # -- optional services -----------------------------------------------------------------------
    async def _enter_web(
        self, stack: contextlib.AsyncExitStack, core: Core, store: Any, health: FeedHealth
    ) -> WebServer | None:
        """The live map's server (entered into `stack`), or None without one."""
        if self.args.no_web or not self.config.web.enabled:
            return None
        try:
            from vts.web.server import WebServer
            from vts.web.tiles import MbTilesError
        except ImportError as e:
            log.warning("no live map: the web module is not available (%s)", e)
            return None
        web = WebServer(
            self.config, core, store, self.feed_info(health), host=self.args.host, port=self.args.port
        )
        try:
            await stack.enter_async_context(web)
        except (MbTilesError, OSError, OverflowError) as e:  # OverflowError: a port beyond 65535
            if isinstance(e, MbTilesError):  # web.mbtiles missing or unusable: the message names the file
                log.error("no live map: %s", e)
            else:
                reason = e.strerror if isinstance(e, OSError) and e.strerror else e
                log.error(
                    "no live map: cannot listen on %s:%s (%s); the daemon goes on without it (choose"
                    " another port with --port, or web.port in the configuration)",
                    web.host,
                    web.port,
                    reason,
                )
            with contextlib.suppress(Exception):
                await web.stop()  # what was set up before the bind failed
            return None
        log.info("live map at %s", web.url)
        return web

    def feed_info(self, health: FeedHealth) -> Callable[[], dict[str, Any]]:
        """The map server's ``clock_info``: the feeds' health, and the configuration reloads applied
        (``reloads``) and refused (``failed_reloads``), shown in /api/stats and /metrics."""

        def info() -> dict[str, Any]:
            described = health()
            described["reloads"] = self.reloads
            described["failed_reloads"] = self.failed_reloads
            return described

        return info

    async def _enter_mqtt(self, stack: contextlib.AsyncExitStack, core: Core, store: Any) -> Any:
        """The MQTT publisher (entered into `stack`), or None when no broker is named."""
        url = self.args.mqtt or os.environ.get("VTS_MQTT_URL")
        if not url and not (self.config.mqtt.url or self.config.mqtt.host):
            return None
        try:
            from vts.mqtt.publisher import MqttPublisher
            from vts.mqtt.urls import MqttUrlError, resolve_settings
        except ImportError as e:
            raise DaemonError(f"MQTT is configured but the MQTT module is not available: {e}") from None
        try:
            settings = resolve_settings(self.config.mqtt, self.args.mqtt)
        except MqttUrlError as e:
            raise DaemonError(str(e)) from None
        if not settings.enabled:
            return None
        return await stack.enter_async_context(MqttPublisher(settings, core, store))

    # -- signals and reload ------------------------------------------------------------------------
    def _install_signals(self, core: Core) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_stop_signal, sig)
        if hasattr(signal, "SIGHUP"):
            loop.add_signal_handler(signal.SIGHUP, self._on_reload_signal, core)

    def _on_reload_signal(self, core: Core) -> None:
        """SIGHUP: reload in a task, held until it ends (the loop keeps only a weak reference)."""
        task = asyncio.get_running_loop().create_task(self.reload(core))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_stop_signal(self, sig: int) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second %s: exiting at once", signal.Signals(sig).name)
            os._exit(130)
        log.info("%s received", signal.Signals(sig).name)
        assert self.stop_event is not None
        self.stop_event.set()

    async def reload(self, core: Core) -> bool:
        """Read the configuration again and swap zones and rules; keep the running one on error."""
        async with self._reload_lock:
            if self._signals:  # stopping: no source may be started now
                log.info("SIGHUP during shutdown: not reloaded")
                return False
            return await self._reload(core)

    async def _reload(self, core: Core) -> bool:
        from vts.config import ConfigError, load_config

        path = self.config_path
        where = str(path) if path is not None else "the default configuration"
        log.info("SIGHUP: reloading %s", where)
        try:
            config = await asyncio.to_thread(load_config, path)
            core.reload(config)
        except ConfigError as e:
            self.failed_reloads += 1
            log.error("configuration reload FAILED, keeping the running configuration: %s", e)
            return False
        except Exception as e:  # a bug in a reload path must not take the daemon down
            self.failed_reloads += 1
            log.exception("configuration reload FAILED (%s), keeping the running configuration", e)
            return False
        try:
            await self._follow_sources(config, where)
        except Exception as e:  # zones and rules are in place; the sources stay as they were
            log.exception("following the sources of %s FAILED (%s); the running sources stay", where, e)
        self._warn_restart_needed(config, where)
        self.config = config
        self.reloads += 1
        log.info(
            "configuration reloaded: %d zones, %d rules configured", len(config.zones), len(config.rules)
        )
        return True

    def _warn_restart_needed(self, config: Config, where: str) -> None:
        """The alert database, the map server and the MQTT broker are set up once, at start."""
        changed = [
            name
            for name, before, after in (
                ("alerts.store", self.config.alerts.store, config.alerts.store),
                ("web", self.config.web, config.web),
                ("mqtt", self.config.mqtt, config.mqtt),
            )
            if before != after
        ]
        if changed:
            log.warning(
                "%s changed in %s: kept as they were until vts is restarted", ", ".join(changed), where
            )

    async def _follow_sources(self, config: Config, where: str) -> None:
        """Stop the sources the new configuration removed, disabled or changed; start the new and
        changed ones; leave the others running."""
        from vts.sources.runner import SourceUnavailable, make_source

        new = {s.name: self._resolved(s, config) for s in config.sources if s.enabled}
        runner = self._runner
        if runner is None or self.mode not in ("live", "replay"):
            if [s.model_dump() for s in config.sources] != [s.model_dump() for s in self.config.sources]:
                log.warning(
                    "the sources changed in %s: a %s run keeps its own feed (restart vts)", where, self.mode
                )
            return
        # what runs (not what the previous file said: a source may have been refused or kept)
        old = {s.name: s.settings.model_dump() for s in runner.sources}
        if old == {name: s.model_dump() for name, s in new.items()}:
            return
        if not new:
            log.error("no enabled source left in %s: the running sources stay (stop vts to stop them)", where)
            return
        stop = sorted(n for n in old if n not in new or new[n].model_dump() != old[n])
        start = sorted(n for n in new if n not in old or new[n].model_dump() != old[n])
        made: list[Source] = []  # built before anything stops: a source refused here stops nothing
        for name in start:
            try:
                made.append(make_source(new[name], config=config))
            except SourceUnavailable as e:
                log.error("%s; the other sources run without it", e)
        if not made and len(stop) == len(old):
            log.error("no source of %s could start: the running sources stay (stop vts to stop them)", where)
            return
        for name in stop:
            if await runner.remove(name) is not None:
                log.info("source %r stopped (%s in %s)", name, "changed" if name in new else "gone", where)
        for source in made:
            runner.add(source)
            log.info("source started: %s", source.describe())
        mode = "live" if any(s.live for s in runner.sources) else "replay"
        if mode != self.mode:
            log.info("feed mode: %s (the sources are now %s)", mode, "live" if mode == "live" else "recorded")
            self.mode = mode
        if self._health is not None:
            self._health.sources = list(runner.sources)
            self._health.mode = mode
            self._health.speed = None if mode == "live" else runner.sources[0].settings.speed

    # -- housekeeping ----------------------------------------------------------------------------
    async def _housekeeping(self, core: Core, sources: list[Source], health: FeedHealth) -> None:
        seen_time: float | None = None
        seen_wall = time.monotonic()
        next_checkpoint = seen_wall + CHECKPOINT_S
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            try:
                health.sample()
            except Exception:  # the next tick tries again; the daemon keeps running
                log.exception("sampling the feed rates failed")
            if time.monotonic() >= next_checkpoint:
                next_checkpoint = time.monotonic() + CHECKPOINT_S
                try:
                    core.checkpoint()
                except Exception as e:  # the next checkpoint (or the stop) tries again
                    log.error("could not save the tracks and rules' state: %s: %s", type(e).__name__, e)
            all_live = all(s.live for s in health.sources)  # (a reload may change them)
            if not all_live or core.now is None:
                continue
            wall = time.monotonic()
            if seen_time is None or core.now > seen_time:
                seen_time, seen_wall = core.now, wall
            elif wall - seen_wall >= QUIET_AFTER_S:
                try:
                    core.advance(seen_time + (wall - seen_wall))
                except Exception:
                    log.exception("advancing event time on a quiet feed failed")
