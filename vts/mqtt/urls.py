"""Broker URLs: ``mqtt://user:pass@host:port`` and ``mqtts://...`` (TLS) into `MqttSettings`.

Precedence: the command line (``--mqtt URL``) over the environment (``VTS_MQTT_URL``) over the
config file (``mqtt.url``, then ``mqtt.host``...). A URL may carry, after ``?``: ``ca=``, ``cert=``,
``key=`` (files), ``client_id=``, ``prefix=``, ``protocol=5|3.1.1|auto``, ``insecure=1``; a path
(``mqtt://host/my/prefix``) is the topic prefix. User name and password are percent-decoded; a
``/``, ``?``, ``#`` or ``@`` in them must be percent-encoded (``%2F`` ...), or the URL is refused.

Passwords never reach a log: use `mask_url` / `describe` for anything printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import SecretStr, ValidationError

from vts.mqtt.settings import MqttSettings

ENV_VAR = "VTS_MQTT_URL"
SCHEMES = {"mqtt": False, "tcp": False, "mqtts": True, "ssl": True, "tls": True}
QUERY_KEYS = {"ca": "ca_file", "cert": "cert_file", "key": "key_file", "client_id": "client_id",
              "prefix": "prefix", "protocol": "protocol", "insecure": "tls_insecure"}  # fmt: skip


class MqttUrlError(ValueError):
    """A broker URL that cannot be used; the message never contains the password."""


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to log).

    The password is everything between the first ``:`` after the user name and the last ``@``, as a
    person writes it: a password holding ``/``, ``?`` or ``#`` (which `urlsplit` takes for the end
    of the host) is hidden too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostpart}"


def parse_mqtt_url(url: str) -> dict[str, Any]:
    """The settings a URL gives, as a dict of `MqttSettings` field values."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: {e}") from None
    if "@" not in parts.netloc and "@" in url.partition("://")[2]:
        # "mqtt://vts:se#cret@host": urlsplit ends the host at the "#" and would take "vts" for
        # the host and "se" for the port; refuse rather than guess (and never show the password)
        raise MqttUrlError(
            f"bad MQTT URL {mask_url(url)}: '@' after the host; a login or password holding '/', "
            "'?', '#' or '@' must be percent-encoded (%2F, %3F, %23, %40)"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: {e}") from None
    if port == 0:
        raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: port 0 (a broker listens on 1 to 65535)")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: scheme must be mqtt:// or mqtts:// (TLS)")
    if not parts.hostname:
        raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: no host (expected mqtt://host:port)")
    tls = SCHEMES[scheme]
    values: dict[str, Any] = {
        "url": None,
        "host": parts.hostname,
        "port": port,
        "tls": tls,
        "username": unquote(parts.username) if parts.username else None,
        "password": SecretStr(unquote(parts.password)) if parts.password is not None else None,
    }
    path = parts.path.strip("/")
    if path:
        values["prefix"] = unquote(path)
    for key, items in parse_qs(parts.query, keep_blank_values=True).items():
        if key not in QUERY_KEYS:
            known = ", ".join(QUERY_KEYS)
            raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: unknown parameter {key!r} (known: {known})")
        value: Any = items[-1]
        if key == "insecure":
            value = value.lower() in ("1", "true", "yes", "on", "")
        values[QUERY_KEYS[key]] = value
    if values.get("ca_file") or values.get("cert_file"):
        values["tls"] = True
    values["port"] = port or (8883 if values["tls"] else 1883)  # after ?ca=, which turns TLS on
    return values


def settings_from_url(url: str, base: MqttSettings | None = None) -> MqttSettings:
    """`base` (the config's settings) with everything the URL says applied on top."""
    base = base or MqttSettings()
    values = parse_mqtt_url(url)
    merged = base.model_dump()
    merged.update(values)
    if values["username"] is None:  # a URL without credentials keeps the config's
        merged["username"], merged["password"] = base.username, base.password
    try:
        return MqttSettings.model_validate(merged)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise MqttUrlError(f"bad MQTT URL {mask_url(url)}: {problems}") from None


def resolve_settings(
    config_settings: MqttSettings | None, cli_url: str | None = None, environ: Mapping[str, str] | None = None
) -> MqttSettings:
    """The settings to use: command line, then environment, then the config file.

    The result's ``enabled`` is False when nobody named a broker. Raises `MqttUrlError`.
    """
    base = config_settings or MqttSettings()
    env = os.environ if environ is None else environ
    url = cli_url or env.get(ENV_VAR) or base.url
    if url:
        return settings_from_url(url, base)
    return base


def describe(settings: MqttSettings) -> str:
    """``mqtts://user:***@host:port`` for logs and messages."""
    if settings.url:
        return mask_url(settings.url)
    scheme = "mqtts" if settings.tls or settings.ca_file else "mqtt"
    port = settings.port or (8883 if scheme == "mqtts" else 1883)
    user = ""
    if settings.username:
        user = settings.username + (":***" if settings.password is not None else "") + "@"
    return f"{scheme}://{user}{settings.host}:{port}"


def add_mqtt_argument(parser: argparse.ArgumentParser) -> None:
    """``--mqtt URL`` for `vts run` and `vts replay`."""
    parser.add_argument(
        "--mqtt",
        metavar="URL",
        default=None,
        help=f"publish alerts to this broker: mqtt://user:pass@host:port or mqtts://... "
        f"(default: ${ENV_VAR}, then the config's mqtt section; none: no MQTT)",
    )
