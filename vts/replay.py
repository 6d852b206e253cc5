"""`vts replay`: recorded AIS logs through exactly the same core as the live feeds.

    vts replay replay/dma-stream-example.nmea --alerts-out alerts.jsonl --vessels-out vessels.json
    vts replay day1.nmea.gz day2.nmea.gz --speed 10 --serve          # watch it on the map
    zcat log.gz | vts replay -                                       # standard input

Event time comes from the log, never the wall clock, so replaying a log twice gives byte-identical
alert files. The alerts go to an in-memory store (never the daemon's database) unless ``--store``
names one. Files are read one after the other, each as its own source (named after the file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from vts.alerts.model import Alert, iso_time
from vts.alerts.store import AlertStoreError, open_store
from vts.cli import port_number, positive_float

if TYPE_CHECKING:
    from vts.config import Config
    from vts.core import Core
    from vts.sources.base import Source
    from vts.tracker import VesselState

log = logging.getLogger("vts.replay")
BROKEN_STATES = ("damaged", "failed")
"""Source states of an input not read to the end (a truncated archive, a read error)."""
OVERLAP_GRACE_S = 60.0
"""A log may begin this much before the event time the logs before it reached without a warning (the
next hour's log starting a few seconds before the last line of the previous one)."""
UNTIMED_BEFORE = 86_400.0 * 365
"""Event times before 1971: the log had no time of its own (untimed lines start at 0.0)."""

PROGRESS_EVERY_S = 0.25


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="recorded logs (plain, gzip, bzip2, xz or zip), or folders of them (every file in the "
        "folder, hidden ones left out); '-' reads standard input",
    )
    p.add_argument("--config", metavar="PATH", help="configuration file (default: the Callao configuration)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed", type=positive_float, metavar="X", help="pace by event time, X times real time"
    )
    pace.add_argument("--fast", action="store_true", help="as fast as possible (the default)")
    p.add_argument(
        "--alerts-out", metavar="FILE.jsonl", help="write every alert step, one JSON object a line"
    )
    p.add_argument("--vessels-out", metavar="FILE.json", help="write the final vessel table as JSON")
    p.add_argument("--summary-out", metavar="FILE.json", help="write the summary as JSON too")
    p.add_argument("--store", metavar="PATH", help="alert database to write (default: in memory only)")
    p.add_argument(
        "--mqtt",
        metavar="URL",
        help="publish the replayed alerts to this broker (mqtt[s]://...; default: $VTS_MQTT_URL); "
        "without either, replay publishes nothing (the config's broker is never used by a replay)",
    )
    p.add_argument(
        "--map-out", metavar="FILE.html", help="write an offline HTML report (tracks, alerts, slider)"
    )
    p.add_argument(
        "--serve", action="store_true", help="serve the live map; keep serving after the end until Ctrl-C"
    )
    p.add_argument("--host", help="map server address (with --serve; default: config web.host)")
    p.add_argument(
        "--port", type=port_number, help="map server port (with --serve; default: config web.port)"
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="the logs cover the same hours (several receivers): interleave their lines by their "
        "timestamps instead of replaying one log after the other",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")


def main(args: argparse.Namespace) -> int:
    from vts.config import ConfigError, load_config
    from vts.sources.files import log_files

    args.files = [f for given in args.files for f in log_files(given)]
    missing = [f for f in args.files if f != "-" and not os.path.isfile(f)]
    if missing:
        print(f"vts replay: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not args.files:
        print("vts replay: no log in the folder(s) given", file=sys.stderr)
        return 2
    if args.files.count("-") > 1:
        print("vts replay: standard input ('-') can be named only once", file=sys.stderr)
        return 2
    if args.merge and "-" in args.files:
        print("vts replay: --merge interleaves files; standard input ('-') cannot be one", file=sys.stderr)
        return 2
    for flag in ("alerts_out", "vessels_out", "summary_out", "map_out", "store"):
        out = getattr(args, flag)
        problem = out and _output_problem(Path(out).expanduser(), probe=flag != "store")
        if problem:
            print(f"vts replay: --{flag.replace('_', '-')}: {problem}", file=sys.stderr)
            return 2
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"vts replay: {e}", file=sys.stderr)
        return 2
    replay = Replay(config, args)
    try:
        return asyncio.run(replay.run())
    except AlertStoreError as e:
        print(f"vts replay: --store: {e}", file=sys.stderr)
        return 2


def _output_problem(path: Path, *, probe: bool) -> str | None:
    """What keeps an output file from being written (None: nothing), found before the replay runs
    rather than after it. `probe`: open it for appending (and remove it again if it was not there)."""
    if path.is_dir():
        return f"{path} is a directory"
    if not path.resolve().parent.is_dir():
        return f"no such directory: {path.parent}"
    if probe:
        existed = path.exists()
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as e:
            return f"{path} cannot be written: {e.strerror or e}"
        if not existed:
            with contextlib.suppress(OSError):
                path.unlink()
    return None


class Replay:
    def __init__(self, config: Config, args: argparse.Namespace) -> None:
        self.config = config
        self.args = args
        self.alert_states: Counter[str] = Counter()
        self.alert_ids: set[str] = set()
        self.interrupted = False
        self.wall_s = 0.0
        self.first_times: dict[str, float] = {}
        """Source name -> event time of its log's first timed line (with several logs)."""
        self.reordered = False
        """The logs were replayed in event-time order, not in the order given."""
        self.overlaps: list[dict[str, Any]] = []
        """Logs that began before the event time the logs before them had reached (`_feed`)."""

    # -- the run ---------------------------------------------------------------------------------
    async def run(self) -> int:
        from vts.core import Core
        from vts.sources.runner import CoreFeed, FeedHealth

        args = self.args
        store = open_store(args.store)  # AlertStoreError: a database that cannot be used
        core = Core(self.config, store=store)
        self.core = core
        sources = self._sources()
        health = FeedHealth(
            core, sources, mode="replay", speed=args.speed, progress=lambda: progress_of(sources)
        )
        alerts_file = open(args.alerts_out, "w", encoding="utf-8", newline="\n") if args.alerts_out else None
        core.add_alert_listener(lambda alert: self._on_alert(alert, alerts_file))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            async with contextlib.AsyncExitStack() as stack:
                recorder = self._recorder(core) if args.map_out else None
                if args.serve:
                    await self._enter_web(stack, core, store, health)
                if self._mqtt_url():
                    await self._enter_mqtt(stack, core, store)
                bar = ProgressBar(sources, core) if self._show_progress() else None
                sink = CoreFeed(core)
                started = time.perf_counter()
                feeding = asyncio.create_task(self._feed(sources, sink, bar))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({feeding, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not feeding.done():
                    self.interrupted = True
                    feeding.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await feeding
                else:
                    feeding.result()
                core.finish()
                self.wall_s = time.perf_counter() - started
                if bar is not None:
                    bar.close()
                failed = self._write_outputs(core, recorder)
                summary = self.summary(core, sources, sink.errors)
                print(format_summary(summary), flush=True)
                broken = [src for src in summary["sources"] if src["state"] in BROKEN_STATES]
                if broken:  # what was read counts, but a script must notice the rest was not
                    failed += 1
                    log.error(
                        "%d input(s) could not be read to the end: %s",
                        len(broken),
                        ", ".join(src["name"] for src in broken),
                    )
                if args.summary_out:
                    failed += _write_output(
                        "--summary-out",
                        args.summary_out,
                        lambda: Path(args.summary_out).write_text(
                            json.dumps(summary, indent=2) + "\n", encoding="utf-8"
                        ),
                    )
                if args.serve and not self.interrupted:
                    log.info("replay finished; still serving the map until interrupted (Ctrl-C)")
                    await stopping
                stopping.cancel()
        finally:
            if alerts_file is not None:
                alerts_file.close()
            store.close()
        return 130 if self.interrupted else 1 if failed else 0

    async def _feed(self, sources: Sequence[Source], sink: Any, bar: ProgressBar | None) -> None:
        ticker = asyncio.create_task(bar.run()) if bar is not None else None
        try:
            if self.args.merge and len(sources) > 1:
                from vts.sources.files import FileSource, feed_merged

                files = [s for s in sources if isinstance(s, FileSource)]
                for s in files:
                    if s.name not in self.first_times:
                        log.warning(
                            "%s carries no timestamps: it cannot be placed among the other logs by time"
                            " (its lines come first)",
                            s.name,
                        )
                await feed_merged(files, sink, files[0].pacer)
                return
            for source in sources:  # one after the other: event time runs through them in order
                self._check_overlap(source)
                await source.run(sink)
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker

    def _sources(self) -> list[Source]:
        from vts.sources.files import FileSource, StdinSource
        from vts.sources.settings import SourceSettings

        sources: list[Source] = []
        names: set[str] = set()
        for f in self.args.files:
            name = unique_name("stdin" if f == "-" else Path(f).name, names)
            if f == "-":
                settings = SourceSettings(name=name, kind="stdin", speed=self.args.speed)
                sources.append(StdinSource(settings, live=False))
            else:
                settings = SourceSettings(name=name, kind="file", path=f, speed=self.args.speed)
                sources.append(FileSource(settings))
            sources[-1].routine_level = logging.DEBUG  # the summary says it all
        return self._in_time_order(sources)

    def _in_time_order(self, sources: list[Source]) -> list[Source]:
        """Several logs: those with timestamps replayed in the order of their first ones (event time
        only runs forward, so a log replayed after a later one would arrive as reports delivered
        late), then those without (a folder's README or notes, an untimed log), in the order given.
        With standard input among them, the order given."""
        from vts.sources.files import FileSource, first_event_time

        files = [s for s in sources if isinstance(s, FileSource)]
        if len(sources) < 2 or len(files) != len(sources):
            return sources
        for source in files:
            t = first_event_time(source.path)
            if t is not None:
                self.first_times[source.name] = t
        if not self.first_times or self.args.merge:
            return sources  # (merged: interleaved by time whatever the order)
        timed = sorted(
            (s for s in sources if s.name in self.first_times), key=lambda s: self.first_times[s.name]
        )
        ordered = timed + [s for s in sources if s.name not in self.first_times]  # (stable: ties as given)
        if ordered != sources:
            self.reordered = True
            log.info(
                "replaying the logs in event-time order: %s",
                ", ".join(
                    f"{s.name} (from {iso_time(self.first_times[s.name])})"
                    if s.name in self.first_times
                    else f"{s.name} (no time of its own)"
                    for s in ordered
                ),
            )
        return ordered

    def _check_overlap(self, source: Source) -> None:
        """A log that begins before the event time already reached (it overlaps the logs before it:
        two receivers' logs of the same hours) has its reports up to that time taken as delivered
        late: said once, and in the summary."""
        first = self.first_times.get(source.name)
        now = self.core.now
        if first is None or now is None or first >= now - OVERLAP_GRACE_S:
            return
        self.overlaps.append({"source": source.name, "first_time": iso_time(first), "reached": iso_time(now)})
        log.warning(
            "%s begins at %s, before the event time the logs before it reached (%s): its reports up "
            "to then are taken as delivered late (they do not move vessels or start alerts as of "
            "now); --merge replays logs of the same hours together, their lines interleaved by time",
            source.name,
            iso_time(first),
            iso_time(now),
        )

    def _show_progress(self) -> bool:
        return (
            not self.args.no_progress
            and sys.stderr.isatty()
            and not logging.getLogger().isEnabledFor(logging.DEBUG)
        )

    def _on_alert(self, alert: Alert, out: IO[str] | None) -> None:
        self.alert_states[alert.state] += 1
        self.alert_ids.add(alert.id)
        if out is not None:
            out.write(alert.to_json() + "\n")
            out.flush()

    # -- optional services (other modules, imported lazily) -----------------------------------------
    def _recorder(self, core: Core) -> Any:
        try:
            from vts.web.report import ReplayRecorder
        except ImportError as e:
            raise SystemExit(
                f"vts replay: --map-out needs the web report module (vts.web.report): {e}"
            ) from None
        return ReplayRecorder(core)

    async def _enter_web(self, stack: contextlib.AsyncExitStack, core: Core, store: Any, health: Any) -> None:
        try:
            from vts.web.server import WebServer
        except ImportError as e:
            raise SystemExit(f"vts replay: --serve needs the web module (vts.web.server): {e}") from None
        web = WebServer(self.config, core, store, health, host=self.args.host, port=self.args.port)
        try:
            await stack.enter_async_context(web)
        except (OSError, OverflowError) as e:  # OverflowError: a port beyond 65535 (config, not flag)
            reason = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise SystemExit(f"vts replay: cannot serve the map on {web.host}:{web.port}: {reason}") from None
        print(f"map at {web.url}", file=sys.stderr, flush=True)

    async def _enter_mqtt(self, stack: contextlib.AsyncExitStack, core: Core, store: Any) -> None:
        try:
            from vts.mqtt.publisher import MqttPublisher
            from vts.mqtt.urls import MqttUrlError, describe, parse_mqtt_url, settings_from_url
        except ImportError as e:
            raise SystemExit(f"vts replay: --mqtt needs the MQTT module (vts.mqtt.publisher): {e}") from None
        url = self._mqtt_url()
        assert url is not None
        try:
            settings = settings_from_url(url, self.config.mqtt)
        except MqttUrlError as e:
            raise SystemExit(f"vts replay: {e}") from None
        given = parse_mqtt_url(url)
        update: dict[str, Any] = {}
        if "client_id" not in given:
            # a replay must not take over the live daemon's session on a shared broker
            update["client_id"] = f"{settings.client_id}-replay-{os.getpid()}"
        if "prefix" not in given:
            # nor its topics: replayed alerts (and their retained state) go under .../replay
            update["prefix"] = f"{settings.prefix}/replay"
        if update:
            settings = settings.model_copy(update=update)
        log.info("replay publishes to %s under %s", describe(settings), settings.prefix)
        await stack.enter_async_context(MqttPublisher(settings, core, store))

    def _mqtt_url(self) -> str | None:
        """--mqtt, else $VTS_MQTT_URL; a replay never falls back to the config's broker."""
        from vts.mqtt.urls import ENV_VAR

        return self.args.mqtt or os.environ.get(ENV_VAR) or None

    # -- results ---------------------------------------------------------------------------------
    def _write_outputs(self, core: Core, recorder: Any) -> int:
        """The vessel table and the map report; returns how many could not be written."""
        args = self.args
        failed = 0
        if args.vessels_out:
            failed += _write_output(
                "--vessels-out", args.vessels_out, lambda: write_json(args.vessels_out, vessel_table(core))
            )
        if recorder is not None:
            failed += _write_output(
                "--map-out", args.map_out, lambda: recorder.write(args.map_out, source=", ".join(args.files))
            )
        return failed

    def summary(self, core: Core, sources: Sequence[Source], errors: Counter[str]) -> dict[str, Any]:
        stats = core.ingest.stats
        span = None
        if stats.first_time is not None and stats.last_time is not None:
            span = stats.last_time - stats.first_time
        per_source = []
        for s in sources:
            st = stats.by_source.get(s.name)
            per_source.append(
                {
                    "name": s.name,
                    "state": s.status.state,
                    "lines": s.status.lines,
                    "messages": 0 if st is None else st.messages,
                    "drops": {} if st is None else dict(sorted(st.drops.items())),
                    "reader_drops": dict(sorted(s.status.drops.items())),
                    "detail": s.status.detail,
                }
            )
        return {
            "files": list(self.args.files),
            "interrupted": self.interrupted,
            "lines": stats.lines,
            "messages": stats.messages,
            "dropped": stats.dropped,
            "drops": dict(sorted(stats.drops.items())),
            "ignored": dict(sorted(stats.ignored.items())),
            "retimed": stats.retimed,
            "time_went_back": stats.went_back,
            "merged": bool(self.args.merge and len(sources) > 1),
            "replayed_in_time_order": [s.name for s in sources] if self.reordered else None,
            "overlapping": self.overlaps,
            "processing_errors": dict(sorted(errors.items())),
            "vessels": len(core.tracker),
            "first_time": None if stats.first_time is None else iso_time(stats.first_time),
            "last_time": None if stats.last_time is None else iso_time(stats.last_time),
            "span_s": span,
            "untimed": stats.first_time is not None and stats.first_time < UNTIMED_BEFORE,
            "untimed_only": stats.last_time is not None and stats.last_time < UNTIMED_BEFORE,
            "took_last_time": stats.took_last_time,
            "timed_by_base_stations": sorted(
                name for name, st in stats.by_source.items() if st.clock == "base_stations"
            ),
            "wall_s": round(self.wall_s, 3),
            "messages_per_s": round(stats.messages / self.wall_s, 1) if self.wall_s > 0 else None,
            "alert_steps": dict(sorted(self.alert_states.items())),
            "alerts": len(self.alert_ids),
            "sources": per_source,
        }


def _write_output(flag: str, path: str, write: Callable[[], object]) -> int:
    """Run `write`; an OSError (disk full, a file removed under us) is a message, not a traceback,
    so the summary still prints. Returns 1 when it failed."""
    try:
        write()
    except OSError as e:
        print(f"vts replay: {flag} {path}: cannot write: {e.strerror or e}", file=sys.stderr, flush=True)
        return 1
    return 0


def unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}#{n}", n + 1
    taken.add(candidate)
    return candidate


def progress_of(sources: Sequence[Any]) -> float | None:
    """Fraction of the input files read (None when reading standard input)."""
    total = 0
    done = 0.0
    for s in sources:
        size = getattr(s, "size", None)
        if size is None:
            return None
        if not size:
            size = s.path.stat().st_size if s.path.exists() else 0
        total += size
        done += size if s.status.state in ("finished", "failed", "damaged") else s.progress() * size
    return done / total if total else None


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, s = divmod(round(seconds), 60)
    hours, m = divmod(minutes, 60)
    days, h = divmod(hours, 24)
    return (f"{days} d " if days else "") + f"{h:02d}:{m:02d}:{s:02d}"


def format_summary(s: dict[str, Any]) -> str:
    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

    rate = s["messages_per_s"]
    lines = [
        "replay " + ("interrupted" if s["interrupted"] else "finished") + f": {len(s['files'])} file(s)",
        f"  lines       {s['lines']}",
        f"  messages    {s['messages']}",
        f"  dropped     {s['dropped']} ({counts(s['drops'])})",
        f"  ignored     {sum(s['ignored'].values())} ({counts(s['ignored'])})",
        f"  vessels     {s['vessels']}",
    ]
    if s["span_s"] is not None:
        lines.append(f"  time span   {s['first_time']} .. {s['last_time']} ({format_duration(s['span_s'])})")
    else:
        lines.append("  time span   none (no timed message)")
    if s["lines"] and not s["messages"]:
        lines.append(
            "  NOTE        no AIS message in this input: AIS logs are NMEA sentences (!AIVDM / !AIVDO,"
            " with or without tag blocks or timestamps), or decoded AIS tables (CSV naming time, MMSI,"
            " latitude and longitude columns, given as a file, not on standard input); see 'ignored'"
            " and 'dropped' above for what the lines were"
        )
    if s.get("timed_by_base_stations"):
        lines.append(
            f"  NOTE        {', '.join(s['timed_by_base_stations'])}: no timestamps in the log; event time"
            " is the UTC its base stations broadcast (type 4/11, to their ~10 s reporting interval;"
            " reports from before the first two agreeing ones take that first time)"
        )
    if s.get("retimed"):
        lines.append(
            f"  NOTE        {s['retimed']} message(s) had a time more than a day ahead of their feed that the"
            " lines after them did not confirm (a receiver's wrong clock, a corrupted tag block): they"
            " took the feed's time instead"
        )
    if s.get("time_went_back"):
        lines.append(
            f"  NOTE        the time of the lines went back more than 3 hours {s['time_went_back']} time(s)"
            " (logs joined out of order? a feed delivering old data?): the reports older than the event"
            " time reached were taken as delivered late (in a log timed by its base stations, they kept"
            " the time reached); logs given as separate files are replayed in time order"
        )
    from vts.ingest import DUPLICATE, DUPLICATE_WINDOW_S

    copies = s["ignored"].get(DUPLICATE, 0)
    if copies:
        lines.append(
            f"  NOTE        {copies} sentence(s) were copies of messages already heard within"
            f" {DUPLICATE_WINDOW_S:g} s (one transmission through several receivers): each message"
            " counted once"
        )
    if s.get("merged"):
        lines.append(
            "  NOTE        the logs were replayed together, their lines interleaved by their timestamps"
        )
    if s.get("replayed_in_time_order"):
        lines.append(
            "  NOTE        the logs were replayed in the order of their first timestamps, not as given: "
            + ", ".join(s["replayed_in_time_order"])
        )
    for o in s.get("overlapping") or ():
        lines.append(
            f"  NOTE        {o['source']} begins at {o['first_time']}, before the event time the logs"
            f" before it reached ({o['reached']}): its reports up to then were taken as delivered late"
            " (--merge interleaves logs of the same hours by time)"
        )
    if s.get("untimed"):
        which = "this log carries" if s.get("untimed_only") else "part of this log carries"
        lines.append(
            f"  NOTE        {which} no timestamps (no tag block c:, $PGHP, metadata, time prefix or"
            " base station): its messages share the last known time (1970 if none), so time-based"
            " rules (gaps, dwell, speeds between fixes) cannot judge them"
        )
    if s.get("took_last_time"):
        lines.append(
            f"  NOTE        {s['took_last_time']} sentence(s) had no time of their own and took the time"
            " of the lines before them (a log with times on only some lines, or logs joined with and"
            " without times): event time stood still through them, so gaps, dwell times and speeds"
            " between their fixes are only as good as those times"
        )
    steps = f" ({counts(s['alert_steps'])} steps)" if s["alert_steps"] else ""
    lines.append(f"  alerts      {s['alerts']}{steps}")
    lines.append(
        f"  wall time   {s['wall_s']:.2f} s" + (f", {rate:.0f} messages/s" if rate is not None else "")
    )
    for src in s["sources"]:
        if src["state"] in BROKEN_STATES:
            lines.append(
                f"  {src['state'].upper():<11} {src['name']}: {src.get('detail') or 'not read to the end'}"
                " (what was read before is counted above; exit status 1)"
            )
    if s["processing_errors"]:
        lines.append(
            f"  ERRORS      {counts(s['processing_errors'])} (lines whose processing failed; see the log)"
        )
    if len(s["sources"]) > 1 or any(src["reader_drops"] for src in s["sources"]):
        for src in s["sources"]:
            extra = f", lost before decoding: {counts(src['reader_drops'])}" if src["reader_drops"] else ""
            lines.append(f"    {src['name']}: {src['lines']} lines, {src['messages']} messages{extra}")
    return "\n".join(lines)


def vessel_record(vessel: VesselState, core: Core) -> dict[str, Any]:
    now = core.now
    t_pos = vessel.position_time
    return {
        "mmsi": vessel.mmsi,
        "name": vessel.name,
        "callsign": vessel.callsign,
        "imo": vessel.imo,
        "ship_type": vessel.ship_type,
        "category": vessel.category,
        "ais_class": vessel.ais_class,
        "own_ship": vessel.own_ship,
        "lat": None if vessel.lat is None else round(vessel.lat, 6),
        "lon": None if vessel.lon is None else round(vessel.lon, 6),
        "sog": vessel.sog,
        "cog": vessel.cog,
        "heading": vessel.heading,
        "nav_status": vessel.nav_status,
        "position_time": None if t_pos is None else iso_time(t_pos),
        "length": vessel.length,
        "beam": vessel.beam,
        "draught": vessel.draught,
        "destination": vessel.destination,
        "eta": vessel.eta,
        "first_seen": iso_time(vessel.first_seen),
        "last_seen": iso_time(vessel.last_seen),
        "messages": vessel.message_count,
        "positions": vessel.position_count,
        "stale": None if now is None else vessel.is_stale(now),
        "zones": sorted(core.zones.zones_of(vessel.mmsi)),
        "trail_points": len(vessel.trail),
    }


def vessel_table(core: Core) -> dict[str, Any]:
    """The final vessel table of `--vessels-out` (sorted by MMSI; shadows are second ships found
    transmitting under an MMSI already in use)."""
    vessels = sorted(core.tracker.vessels(), key=lambda v: v.mmsi)
    shadows = sorted(core.tracker.shadows(), key=lambda v: v.mmsi)
    return {
        "time": None if core.now is None else iso_time(core.now),
        "count": len(vessels),
        "vessels": [vessel_record(v, core) for v in vessels],
        "shadows": [vessel_record(v, core) for v in shadows],
    }


def write_json(path: str | Path, data: Any) -> None:
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(out)


class ProgressBar:
    """A one-line progress bar on standard error (a terminal), redrawn a few times a second."""

    WIDTH = 30

    def __init__(self, sources: Sequence[Source], core: Core, stream: IO[str] | None = None) -> None:
        self.sources = sources
        self.core = core
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._drawn = False

    async def run(self) -> None:
        while True:
            self.draw()
            await asyncio.sleep(PROGRESS_EVERY_S)

    def line(self) -> str:
        frac = progress_of(self.sources)
        stats = self.core.ingest.stats
        elapsed = max(1e-6, time.monotonic() - self.started)
        clock = "" if self.core.now is None else iso_time(self.core.now)[:19].replace("T", " ")
        rate = f"{stats.messages / elapsed:,.0f} msg/s"
        if frac is None:
            return f"{stats.lines:,} lines  {stats.messages:,} msgs  {rate}  {clock}"
        filled = round(frac * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        return f"[{bar}] {frac * 100:3.0f}%  {stats.messages:,} msgs  {rate}  {clock}"

    def draw(self) -> None:
        self.stream.write("\r" + self.line()[:120].ljust(80))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
