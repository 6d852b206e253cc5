"""Request guards of the map server.

* Host check (DNS rebinding): a hostile web page can point a name of its own at this server, but the
  browser then sends that name as `Host`. While bound to loopback, only loopback names and addresses
  (and the configured `allowed_hosts`) are served. Bound beyond loopback, the server also answers to
  any IP address literal (a rebound page cannot have an address as its origin) and to this machine's
  own host name; any other name must be listed in `allowed_hosts`.
* Cross-site writes: a POST whose `Sec-Fetch-Site` says cross-site/same-site, or whose `Origin`
  differs from the server's own, is refused; write bodies must be JSON (a cross-site form cannot
  send that without a CORS preflight, which this server never grants).
* Operator token for write actions, when one is configured (constant-time comparison).
* Security headers on every response, errors included: a Content-Security-Policy allowing only this
  origin (plus a configured tile server), no framing, no sniffing, no referrer.
"""

from __future__ import annotations

import hmac
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from vts.web.settings import LOOPBACK_HOSTS, WebSettings, ip_literal

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def own_host_names() -> frozenset[str]:
    """This machine's name as it knows it, with and without its domain (no DNS look-up)."""
    name = socket.gethostname().strip().lower()
    return frozenset(n for n in (name, name.split(".")[0]) if n)


@dataclass(frozen=True, slots=True)
class HostRule:
    """Which `Host` header values the server answers to (the DNS-rebinding guard)."""

    names: frozenset[str]
    """Host names (lower case, no port; IPv6 literals in brackets) accepted as they are."""
    any_address: bool
    """Bound beyond loopback: any IP address literal is accepted too (only loopback ones otherwise)."""

    def allows(self, host_header: str) -> bool:
        name = host_name(host_header)
        if name in self.names:
            return True
        bracketed = name.startswith("[") and name.endswith("]")
        address = ip_literal(name) if bracketed or ":" not in name else None
        return address is not None and (self.any_address or address.is_loopback)

    def describe(self) -> str:
        """For the start-up message."""
        names = ", ".join(sorted(n for n in self.names if n != "localhost" and ip_literal(n) is None))
        kinds = "IP addresses" if self.any_address else "loopback addresses"
        return f"{kinds}, localhost" + (f", {names}" if names else "")


def host_rule(settings: WebSettings) -> HostRule:
    names = {*LOOPBACK_HOSTS, "[::1]", settings.host.lower(), *(h.lower() for h in settings.allowed_hosts)}
    if ":" in settings.host:
        names.add(f"[{settings.host.lower()}]")
    if settings.is_loopback:
        return HostRule(frozenset(names), any_address=False)
    return HostRule(frozenset(names | own_host_names()), any_address=True)


def host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def tile_sources(tiles_url: str) -> list[str]:
    """CSP sources for a Leaflet tile URL template. Leaflet fills `{s}` with its subdomains a, b and c,
    so a `{s}` in the host gives those three hosts. [] when the host has another placeholder."""
    parts = urlsplit(tiles_url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    hosts = [netloc.replace("{s}", sub) for sub in "abc"] if "{s}" in netloc else [netloc]
    if not netloc or any("{" in h or "}" in h for h in hosts):
        return []
    prefix = f"{parts.scheme}://" if parts.scheme else ""
    return [prefix + h for h in dict.fromkeys(hosts)]


def content_security_policy(settings: WebSettings) -> str:
    img = " ".join(["'self' data: blob:", *(tile_sources(settings.tiles_url) if settings.tiles_url else [])])
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
    hosts = host_rule(settings)
    csp = content_security_policy(settings)
    if settings.tiles_url and not tile_sources(settings.tiles_url):
        log.warning(
            "web.tiles_url %s: its host cannot be allowed in the Content-Security-Policy "
            "(only {s} may stand in the host name); the browser will not load these tiles",
            settings.tiles_url,
        )

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not hosts.allows(request.host):
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
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # 400s, 404s and 405s raised by handlers and the router
            add_security_headers(exc.headers, csp)
            raise
        return _headers(response, csp)

    return guard


def _headers(response: web.StreamResponse, csp: str) -> web.StreamResponse:
    if not response.prepared:  # a stream (SSE) sets its own headers before preparing
        add_security_headers(response.headers, csp)
    return response


def add_security_headers(headers: MutableMapping[str, str], csp: str) -> None:
    for name, value in security_headers(csp).items():
        headers.setdefault(name, value)


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
