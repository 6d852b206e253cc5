"""Request guards of the map server.

* Host check (DNS rebinding): while bound to loopback, only loopback host names (and the configured
  `allowed_hosts`) are served, so a hostile web page cannot read the traffic picture through a
  rebound name.
* Cross-site writes: a POST whose `Sec-Fetch-Site` says cross-site/same-site, or whose `Origin`
  differs from the server's own, is refused; write bodies must be JSON (a cross-site form cannot
  send that without a CORS preflight, which this server never grants).
* Operator token for write actions, when one is configured (constant-time comparison).
* Security headers on every response: a Content-Security-Policy allowing only this origin (plus a
  configured tile server), no framing, no sniffing, no referrer.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from vts.web.settings import LOOPBACK_HOSTS, WebSettings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed_host_names(settings: WebSettings) -> frozenset[str] | None:
    """Host names this server answers to, or None for any (bound beyond loopback, no list given)."""
    extra = {h.lower() for h in settings.allowed_hosts}
    if settings.is_loopback:
        return frozenset({*LOOPBACK_HOSTS, "[::1]", settings.host.lower(), *extra})
    if extra:
        return frozenset({*LOOPBACK_HOSTS, "[::1]", settings.host.lower(), *extra})
    return None


def host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def content_security_policy(settings: WebSettings) -> str:
    img = "'self' data: blob:"
    if settings.tiles_url:
        parts = urlsplit(settings.tiles_url.replace("{", "").replace("}", ""))
        if parts.scheme and parts.netloc:
            img += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def cross_site_reason(request: web.Request) -> str | None:
    """Why this write request looks cross-site, or None when it comes from our own page (or a tool)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return f"Sec-Fetch-Site: {fetch_site}"
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == "null":
            return "Origin: null"
        own = f"{request.scheme}://{request.host}".lower()
        if origin.lower().rstrip("/") != own:
            return f"Origin {origin} is not {own}"
    return None


def token_ok(request: web.Request, token: str | None) -> bool:
    if not token:
        return True
    given = request.headers.get("X-VTS-Token", "")
    auth = request.headers.get("Authorization", "")
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return hmac.compare_digest(given.encode(), token.encode())


def make_guard(settings: WebSettings) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    hosts = allowed_host_names(settings)
    csp = content_security_policy(settings)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if hosts is not None and host_name(request.host) not in hosts:
            return _headers(web.json_response({"error": "unknown Host header"}, status=421), csp)
        if request.method not in SAFE_METHODS:
            reason = cross_site_reason(request)
            if reason is not None:
                return _headers(
                    web.json_response({"error": f"cross-site request refused ({reason})"}, status=403), csp
                )
            if request.content_type != "application/json":
                return _headers(
                    web.json_response({"error": "send a JSON body (application/json)"}, status=415), csp
                )
        response = await handler(request)
        return _headers(response, csp)

    return guard


def _headers(response: web.StreamResponse, csp: str) -> web.StreamResponse:
    if response.prepared:  # a stream (SSE) sets its own headers before preparing
        return response
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    return response


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
