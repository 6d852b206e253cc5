"""Host names and addresses as the config gives them (feeds, the broker, the web server).

A name that cannot be looked up at all (a label over 63 characters, an empty label as in
``rx..local``, a character IDNA refuses) fails in the resolver with a `UnicodeError`, not the
`OSError` of an unknown host, every time a connection is tried. It is refused when the config is
read instead, with the reason.
"""

from __future__ import annotations

import ipaddress


def host_problem(host: str) -> str | None:
    """Why `host` can never be looked up (None: it may be; whether it exists is the resolver's say)."""
    name = host.strip()
    if not name:
        return "empty host name"
    if name != host:
        return f"host {host!r} has spaces around it"
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    if any(c.isspace() for c in name):
        return f"host {host!r} has a space in it"
    try:
        name.encode("idna")
    except UnicodeError as e:
        return f"{host!r} is not a valid host name ({e})"
    return None


def check_host(host: str | None) -> str | None:
    """`host` unchanged, or ValueError with the reason (a pydantic field validator)."""
    if host is not None:
        problem = host_problem(host)
        if problem is not None:
            raise ValueError(problem)
    return host
