"""The HTTP API of the map server (aiohttp handlers) and the application that routes them.

GET  /                      the live map page (Folium, every asset local)
GET  /static/...            vendored Leaflet + plugins, vts.js, vts.css
GET  /api/vessels           compact GeoJSON (keys in vts.web.geojson.VESSEL_KEYS);
                            filters: q, category, zone, alerting=1, min_severity (worst active
                            alert at least that severe: caution for the vessels marked red),
                            limit (0-10000)
GET  /api/vessels/{mmsi}    one vessel's details, zones, active alerts and trail
GET  /api/alerts            state=active (default) | all, severity=a,b, min_severity, type, mmsi,
                            zone, since (ISO time, UTC when it has no zone), limit (0-10000);
                            newest first
POST /api/alerts/{id}/ack   JSON {"note": ..., "who": ...}; operator token when configured
GET  /api/zones             zones as GeoJSON (id, name, kind, direction_deg)
GET  /api/stats             feed health, counts, replay clock
GET  /api/events            server-sent events: `alert` and `ack` (HEAD: the headers only)
GET  /healthz               liveness and the feeds: {"status": "ok" | "degraded", "event_time",
                            "mqtt", "sources": {name: {"state", "silent_s", "live", "problem"}}};
                            "degraded" when a configured live source is down, failed, retrying,
                            ended or silent for 60 s (`metrics.source_problem`). Always HTTP 200
                            while the daemon answers: a supervisor probing it must not restart
                            the daemon for a feed that a restart cannot mend (a receiver away, a
                            host that does not resolve); alert on "degraded" or on /metrics
GET  /metrics               Prometheus text format (see `vts.web.metrics`)
GET  /tiles/{z}/{x}/{y}.png MBTiles, when configured

Bad input gets a 4xx with a JSON `{"error": ...}` saying what is wrong, never an internal error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from vts import __version__
from vts.alerts.model import SEVERITIES, Alert, iso_time, parse_iso_time, severity_rank
from vts.jsontext import dumps, loads
from vts.web import geojson, metrics, page
from vts.web.hub import HubEvent, StreamsFull
from vts.web.security import make_guard, token_ok
from vts.web.state import Acknowledgement, WebState, to_plain
from vts.web.tiles import MbTiles

log = logging.getLogger(__name__)

STATE = web.AppKey("vts_state", WebState)
CLOSING = web.AppKey("vts_closing", asyncio.Event)
STREAM = web.RequestKey("vts_stream", web.StreamResponse)
"""Set on a request once its event stream has sent its headers (no other response can follow)."""
STATIC_DIR = Path(__file__).resolve().parent / "static"
STREAM_RETRY_AFTER_S = 30
"""`Retry-After` of the 503 that refuses an event stream beyond web.max_event_streams."""
STREAM_STALL_S = 30.0
"""An event stream whose write has not been taken for this long is dropped."""
MAX_NOTE = 2000
MAX_LIMIT = 10_000


def json_response(value: Any, status: int = 200, compress: bool = False) -> web.Response:
    response = web.Response(text=dumps(value), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    if compress:
        response.enable_compression()
    return response


def error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=dumps({"error": message}), content_type="application/json")


def whole_number(text: str) -> int | None:
    """A count written in ASCII digits (not `²` or `٣`, which `str.isdigit` accepts), capped at
    MAX_LIMIT; None when `text` is not one."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0")
    return MAX_LIMIT if len(digits) > len(str(MAX_LIMIT)) else min(int(digits or "0"), MAX_LIMIT)


def limit_of(request: web.Request) -> int | None:
    """The `limit` query parameter (None when not given); 400 when it is not a count."""
    text = request.query.get("limit")
    if text is None or text == "":
        return None
    limit = whole_number(text)
    if limit is None:
        raise bad_request(f"limit must be a whole number from 0 to {MAX_LIMIT}")
    return limit


# -- page ------------------------------------------------------------------------------------------
async def map_page(request: web.Request) -> web.StreamResponse:
    html = page.cached_map_page(request.app[STATE])
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- vessels ---------------------------------------------------------------------------------------
class VesselsCache:
    """The unfiltered payload, re-encoded only when the picture changed (reports, alerts, clock)."""

    def __init__(self) -> None:
        self.key: tuple[Any, ...] | None = None
        self.body = b""


VESSELS_CACHE = web.AppKey("vts_vessels_cache", VesselsCache)


def _filter_of(request: web.Request) -> geojson.VesselFilter | None:
    q = request.query
    min_sev = q.get("min_severity", "")
    if min_sev and min_sev not in SEVERITIES:
        raise bad_request(f"unknown severity {min_sev!r}")
    flt = geojson.VesselFilter(
        q=q.get("q", "")[:100],
        category=q.get("category", ""),
        zone=q.get("zone", ""),
        alerting=q.get("alerting", "") in ("1", "true", "yes"),
        min_severity=min_sev,
        limit=limit_of(request),
    )
    return flt if flt.active or flt.limit is not None else None


async def vessels(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    core = state.core
    flt = _filter_of(request)
    if flt is None:
        cache = request.app[VESSELS_CACHE]
        key = (state.reports_seen, core.now, state.hub.published, len(state.acks), len(state.store_acks))
        if cache.key != key:
            index = geojson.AlertIndex.of(state.active_alerts())
            body = geojson.vessels_collection(core.tracker.vessels(), core.now, index)
            cache.body, cache.key = dumps(body).encode(), key
        response = web.Response(body=cache.body, content_type="application/json")
        response.headers["Cache-Control"] = "no-store"
        response.enable_compression()
        return response
    index = geojson.AlertIndex.of(state.active_alerts())
    body = geojson.vessels_collection(core.tracker.vessels(), core.now, index, core.zones.zones_of, flt)
    return json_response(body, compress=True)


def zone_names(state: WebState, mmsi: int) -> list[dict[str, str]]:
    try:
        ids = sorted(state.core.zones.zones_of(mmsi))
    except Exception:
        log.debug("zones_of(%s) failed", mmsi, exc_info=True)
        return []
    names = {z.id: (z.name, z.kind) for z in state.config.zones}
    return [{"id": i, "name": names.get(i, (i, ""))[0], "kind": names.get(i, (i, ""))[1]} for i in ids]


async def vessel(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        mmsi = int(request.match_info["mmsi"])
    except ValueError:
        return error(400, "MMSI must be a number")
    found = state.core.tracker.get(mmsi)
    if found is None:
        return error(404, f"no vessel {mmsi} is tracked")
    index = geojson.AlertIndex.of(state.active_alerts())
    details = geojson.vessel_details(found, state.core.now, index, zone_names(state, mmsi))
    details["alerts"] = [
        state.alert_dict(a) for a in sorted(index.by_mmsi.get(mmsi, []), key=lambda a: -a.time)
    ]
    return json_response(details)


# -- alerts ----------------------------------------------------------------------------------------
def _alert_filter(request: web.Request) -> Callable[[Alert], bool]:
    q = request.query
    severities = {s for s in q.get("severity", "").split(",") if s}
    unknown = severities - set(SEVERITIES)
    if unknown:
        raise bad_request(f"unknown severity {sorted(unknown)}")
    min_sev = q.get("min_severity")
    if min_sev is not None and min_sev not in SEVERITIES:
        raise bad_request(f"unknown severity {min_sev!r}")
    types = {t for t in q.get("type", "").split(",") if t}
    zone = q.get("zone")
    try:
        mmsi = int(q["mmsi"]) if q.get("mmsi") else None
    except (ValueError, OverflowError):
        raise bad_request(f"mmsi: not an MMSI (nine digits): {q['mmsi']!r}") from None
    try:
        since = parse_iso_time(q["since"]) if q.get("since") else None
    except (ValueError, OverflowError):
        raise bad_request(
            f"since: not an ISO time (e.g. 2026-01-15T17:00:00Z; UTC when it has no zone): {q['since']!r}"
        ) from None

    def keep(a: Alert) -> bool:
        if severities and a.severity not in severities:
            return False
        if min_sev is not None and severity_rank(a.severity) > severity_rank(min_sev):  # type: ignore[arg-type]
            return False
        if types and a.type not in types:
            return False
        if zone and a.zone != zone:
            return False
        if mmsi is not None and mmsi not in (a.mmsi, a.other_mmsi):
            return False
        return since is None or a.time >= since

    return keep


async def alerts(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    which = request.query.get("state", "active")
    if which not in ("active", "all"):
        return error(400, "state must be 'active' or 'all'")
    keep = _alert_filter(request)
    limit = limit_of(request)
    if which == "active":
        chosen = state.active_alerts()
    else:
        merged = {a.id: a for a in state.history.values()}
        merged.update({a.id: a for a in state.active_alerts()})
        chosen = list(merged.values())
    kept = [a for a in chosen if keep(a)]
    cap = MAX_LIMIT if limit is None else limit
    if len(kept) > cap:  # more than is sent: the most severe first, so no alarm is cut for a caution
        kept = sorted(kept, key=lambda a: (severity_rank(a.severity), -a.started, -a.time))[:cap]
    picked = sorted(kept, key=lambda a: (a.started, a.time), reverse=True)
    return json_response(
        {
            "alerts": [state.alert_dict(a) for a in picked],
            "counts": geojson.severity_counts(state.active_alerts()),
        }
    )


def _find_alert(state: WebState, alert_id: str) -> Alert | None:
    for alert in state.active_alerts():
        if alert.id == alert_id:
            return alert
    return state.history.get(alert_id)


async def acknowledge(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not token_ok(request, state.settings.token):
        return error(401, "operator token required (X-VTS-Token header)")
    alert_id = request.match_info["alert_id"]
    try:
        text = await request.text()
    except LookupError:
        return error(415, f"unknown charset {request.charset!r}: send UTF-8 JSON")
    except UnicodeDecodeError:
        return error(400, "body is not valid text in its charset (send UTF-8 JSON)")
    try:
        body = loads(text)
    except ValueError:
        return error(400, "body is not valid JSON")
    if not isinstance(body, dict):
        return error(400, "body must be a JSON object")
    note, who = body.get("note", ""), body.get("who", "operator")
    if not isinstance(note, str) or not isinstance(who, str):
        return error(400, "note and who must be strings")
    note, who = note.strip()[:MAX_NOTE], (who.strip() or "operator")[:100]
    alert = _find_alert(state, alert_id)
    if alert is None:
        return error(404, f"no alert {alert_id}")
    now = state.core.now if state.core.now is not None else alert.time
    wall = time.time()
    try:
        result = state.core.engine.acknowledge(alert_id, who, note, now, wall)
    except KeyError:
        return error(404, f"no alert {alert_id}")
    except ValueError as exc:
        return error(409, str(exc))
    if result is False:
        return error(404, f"no alert {alert_id}")
    ack = Acknowledgement(who=who, note=note, time=now, wall=wall)
    state.acks[alert_id] = ack
    data = {"id": alert_id, "ack": ack.to_dict()}
    state.hub.publish("ack", data)
    return json_response({"ok": True, "alert": state.alert_dict(alert)})


# -- zones, stats ----------------------------------------------------------------------------------
async def zones(request: web.Request) -> web.StreamResponse:
    return json_response(page.zones_geojson(request.app[STATE].config))


def stats_of(state: WebState) -> dict[str, Any]:
    core = state.core
    active = state.active_alerts()
    vessels_all = core.tracker.vessels()
    ingest = to_plain(getattr(core.ingest, "stats", None))
    unacked = [a for a in active if state.ack_of(a) is None]
    last = max(state.rates.last_time.values(), default=None)
    return {
        "version": __version__,
        "event_time": None if core.now is None else iso_time(core.now),
        "last_message_time": None if last is None else iso_time(last),
        "vessels": len(vessels_all),
        "vessels_positioned": sum(1 for v in vessels_all if v.lat is not None and not v.is_shadow),
        "sources": {
            s: {
                "msgs_per_s": rate,
                "reports": state.rates.counts.get(s, 0),
                "last_time": iso_time(state.rates.last_time[s]) if s in state.rates.last_time else None,
            }
            for s, rate in sorted(state.rates.rates().items())
        },
        "alerts": geojson.severity_counts(active),
        "unacknowledged": geojson.severity_counts(unacked),
        "ingest": ingest,
        "feed": state.feed_info(),
        "feed_clocks": core.feeds.describe(),
        "mqtt": state.mqtt_info(),
        "token_required": bool(state.settings.token),
        "sse_clients": state.hub.clients,
        "sse_refused": state.hub.refused,
        "uptime_s": round(time.time() - state.started_wall, 1),
    }


async def stats(request: web.Request) -> web.StreamResponse:
    return json_response(stats_of(request.app[STATE]))


def health_of(state: WebState) -> dict[str, Any]:
    """`/healthz`: ``status`` "ok", or "degraded" when a configured live feed is down, failed,
    retrying, ended or silent (`metrics.source_problem`), with each source's state and silence."""
    mqtt = state.mqtt_info()
    sources: dict[str, dict[str, Any]] = {}
    listed = state.feed_info().get("sources")
    for src in listed if isinstance(listed, list) else []:
        if not isinstance(src, dict) or not isinstance(src.get("name"), str):
            continue
        problem = metrics.source_problem(src)
        silent = src.get("silent_s")
        sources[src["name"]] = {
            "state": src.get("state"),
            "silent_s": silent if isinstance(silent, int | float) else None,
            "live": src.get("live") is not False,
            "problem": problem,
        }
    degraded = any(entry["problem"] is not None for entry in sources.values())
    return {
        # the daemon answers (HTTP 200 either way); "degraded": a feed it cannot mend by restarting
        "status": "degraded" if degraded else "ok",
        "event_time": None if state.core.now is None else iso_time(state.core.now),
        "mqtt": None if mqtt is None else ("connected" if mqtt["connected"] else "disconnected"),
        "sources": sources,
    }


async def healthz(request: web.Request) -> web.StreamResponse:
    return json_response(health_of(request.app[STATE]))


async def prometheus(request: web.Request) -> web.StreamResponse:
    text = metrics.render(request.app[STATE])
    return web.Response(
        text=text, content_type="text/plain", charset="utf-8", headers={"Cache-Control": "no-store"}
    )


# -- server-sent events ----------------------------------------------------------------------------
def last_event_id(request: web.Request) -> int | None:
    """The `Last-Event-ID` a reconnecting browser sends (None when absent or not a sequence number)."""
    text = request.headers.get("Last-Event-ID", "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


async def events(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":  # a probe: the headers, no stream and no subscription
        return web.Response(headers={**headers, **_security_headers(state)})
    try:
        with state.hub.subscribe() as queue:
            return await _stream(request, queue, headers)
    except StreamsFull as full:
        refused = error(
            503,
            f"too many event streams are open ({full.limit}, the limit set by web.max_event_streams): "
            f"try again in {STREAM_RETRY_AFTER_S} s",
        )
        refused.headers["Retry-After"] = str(STREAM_RETRY_AFTER_S)
        return refused


async def _stream(
    request: web.Request, queue: asyncio.Queue[HubEvent], headers: dict[str, str]
) -> web.StreamResponse:
    """Events from `queue` until the server stops (a graceful end: the last chunk) or the browser
    leaves; a browser that takes no data is dropped (see `_send`)."""
    state = request.app[STATE]
    closing = request.app[CLOSING]
    response = web.StreamResponse(headers=headers)
    response.headers.update(_security_headers(state))
    await response.prepare(request)
    request[STREAM] = response
    last_id = last_event_id(request)
    if not await _send(request, response.write(b": vts alert stream\nretry: 2000\n\n"), closing):
        return response
    for event in state.hub.since(last_id) if last_id is not None else []:
        if not await _send(request, response.write(event.encode()), closing):
            return response
    while not closing.is_set():
        getter = asyncio.ensure_future(queue.get())
        stopper = asyncio.ensure_future(closing.wait())
        try:
            done, _ = await asyncio.wait({getter, stopper}, timeout=15.0, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not getter.done():
                getter.cancel()
        if getter not in done:
            if closing.is_set():
                break
            chunk = b": keep-alive\n\n"
        else:
            chunk = getter.result().encode()
        if not await _send(request, response.write(chunk), closing):
            return response
    await _send(request, response.write_eof(), closing)  # the graceful end, or the connection dropped
    return response


async def _send(request: web.Request, write: Awaitable[None], closing: asyncio.Event) -> bool:
    """Run one write of an event stream; False when the connection was dropped instead.

    A write blocks while the browser takes no data (its socket buffers are full). Such a write is
    given up, and the connection aborted, as soon as the server stops (`closing`): aiohttp would
    otherwise wait out its shutdown timeout twice (once for the handler to end, once more after a
    cancellation that only reaches the request body) while this handler sits in the write. It is
    also given up after STREAM_STALL_S, so that a client that stopped reading does not hold one of
    the `web.max_event_streams` places for ever. A write that does not block completes, closing or
    not (the graceful end of a well-behaved stream is one of these).
    """
    task = asyncio.ensure_future(write)
    stopper = asyncio.ensure_future(closing.wait())
    # both run their first step before `wait` returns: a write that does not block is done by then
    try:
        done, _ = await asyncio.wait(
            {task, stopper}, timeout=STREAM_STALL_S, return_when=asyncio.FIRST_COMPLETED
        )
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if task in done:
        try:
            task.result()
        except ConnectionError:  # the browser left (a reload, a closed tab)
            return False
        return True
    if not closing.is_set():
        log.info("event stream to %s dropped: it took no data for %.0f s", request.remote, STREAM_STALL_S)
    transport = request.transport
    if transport is not None:
        transport.abort()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


def _security_headers(state: WebState) -> dict[str, str]:
    from vts.web.security import content_security_policy, security_headers

    return security_headers(content_security_policy(state.settings))


# -- application -----------------------------------------------------------------------------------
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def count_and_catch(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    state.requests[name] = state.requests.get(name, 0) + 1
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
        if not request.path.startswith("/api/"):
            raise
        # the API answers in JSON, the router's own misses included (a client parses one format)
        response = error(exc.status, f"{exc.reason}: {request.method} {request.path}")
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = exc.headers.get("Allow", "")
        return response
    except web.HTTPException:
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        state.errors += 1
        log.exception("error serving %s %s", request.method, request.path)
        stream = request.get(STREAM)
        if stream is not None:  # its headers and part of its body are out: end it, no second response
            return stream
        return error(500, "internal error (see the daemon log)")


def build_app(state: WebState) -> web.Application:
    app = web.Application(
        middlewares=[make_guard(state.settings), count_and_catch], client_max_size=64 * 1024
    )
    app[STATE] = state
    state.hub.max_clients = state.settings.max_event_streams
    app[CLOSING] = asyncio.Event()
    app[VESSELS_CACHE] = VesselsCache()
    r = app.router
    r.add_get("/", map_page)
    r.add_static("/static/", STATIC_DIR, follow_symlinks=False, show_index=False)
    r.add_get("/api/vessels", vessels)
    r.add_get("/api/vessels/{mmsi}", vessel)
    r.add_get("/api/alerts", alerts)
    r.add_post("/api/alerts/{alert_id}/ack", acknowledge)
    r.add_get("/api/zones", zones)
    r.add_get("/api/stats", stats)
    r.add_get("/api/events", events)
    r.add_get("/healthz", healthz)
    r.add_get("/metrics", prometheus)
    if state.settings.mbtiles:
        tiles = MbTiles(_resolve(state, state.settings.mbtiles))
        r.add_get("/tiles/{z}/{x}/{y}.png", tiles.handle)

        async def _close_tiles(app: web.Application) -> None:
            tiles.close()

        app.on_cleanup.append(_close_tiles)

    async def _close_streams(app: web.Application) -> None:
        app[CLOSING].set()

    app.on_shutdown.append(_close_streams)
    return app


def _resolve(state: WebState, name: str) -> Path:
    path = Path(name)
    if not path.is_absolute() and state.config.path is not None:
        path = Path(state.config.path).parent / path
    return path
