"""`vts subscribe`: print the alerts arriving over MQTT, starting with the ones active now.

    vts subscribe [--broker URL] [--protocol auto|5|3.1.1] [--severity warning]
                  [--type alongside,loitering] [--zone ID] [--mmsi N] [--json] [--count N]

The active alerts come first, from the retained ``alert-state/+`` messages (marked ``ACTIVE``), then
every alert step as it arrives on ``alert/#`` (both filters in one SUBSCRIBE, so that no alert raised
meanwhile falls between them; the states with QoS 0, which a broker's limit on QoS 1 messages
queued for one client does not cut at about a thousand). ``--severity`` means "this severity or
worse"; ``--type`` takes alert types vts raises (an unknown one is refused, with the closest name);
``--mmsi`` matches either vessel of a pair alert.
``--json`` prints each alert exactly as published (one JSON object per line, the `--alerts-out`
format); otherwise a readable line, coloured on a terminal (``NO_COLOR`` turns colour off), with any
control character of the message shown escaped. A message that is not an alert is skipped.
Duplicates (QoS 1 is at least once) are dropped by alert id, state and time. The broker is
``--broker``, else ``$VTS_MQTT_URL``, else the config's ``mqtt`` section, else mqtt://localhost:1883;
MQTT 5, or 3.1.1 with a broker that does not speak 5 (`ProtocolNegotiation`, as the publisher).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, TextIO, cast, get_args

import aiomqtt
from aiomqtt import MqttError
from aiomqtt.exceptions import MqttConnectError

from vts.alerts.model import SEVERITIES, Severity, severity_rank
from vts.cli import alert_types, positive_int
from vts.jsontext import loads
from vts.mqtt.checked_client import ProtocolNegotiation, is_no_answer
from vts.mqtt.client_log import QuietClientLogger
from vts.mqtt.publisher import NO_DELAY, REFUSED_CREDENTIALS, make_tls_context, reason_code_value
from vts.mqtt.session import persistent_session
from vts.mqtt.settings import MqttSettings, ProtocolChoice, check_prefix
from vts.mqtt.topics import Topics
from vts.mqtt.urls import ENV_VAR, MqttUrlError, describe, resolve_settings, settings_from_url

log = logging.getLogger(__name__)
DEFAULT_BROKER = "mqtt://localhost:1883"
SESSION_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
COLOURS: dict[str, str] = {
    "emergency": "\033[1;97;41m",
    "alarm": "\033[1;91m",
    "warning": "\033[93m",
    "caution": "\033[96m",
    "info": "\033[37m",
}
RESET = "\033[0m"


@dataclass
class AlertFilter:
    max_rank: int = len(SEVERITIES) - 1
    types: set[str] = field(default_factory=set)
    zones: set[str] = field(default_factory=set)
    mmsis: set[int] = field(default_factory=set)

    def accepts(self, alert: dict[str, Any]) -> bool:
        """Whether to print this alert; a field of the wrong JSON type (a list, an object: not from
        vts) never matches."""
        severity = alert.get("severity")
        if not isinstance(severity, str) or severity not in SEVERITIES:
            return False
        if severity_rank(cast(Severity, severity)) > self.max_rank:
            return False
        if self.types and not _is_one_of(alert.get("type"), self.types):
            return False
        if self.zones and not _is_one_of(alert.get("zone"), self.zones):
            return False
        if self.mmsis:  # a pair alert (alongside, rendezvous ...) is about both vessels
            return any(_is_one_of(alert.get(key), self.mmsis) for key in ("mmsi", "other_mmsi"))
        return True


def _is_one_of(value: object, wanted: set[str] | set[int]) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and value in wanted


UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
"""Control, format (bidi overrides ...), unassigned characters and line/paragraph separators."""


def printable(value: object) -> str:
    """`value` as text that stays on one line and cannot drive the terminal: a newline or an
    escape sequence in an alert message shows as ``\\n`` / ``\\x1b``."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in UNSAFE_CATEGORIES else c
        for c in text
    )


class AlertPrinter:
    def __init__(self, out: TextIO, *, as_json: bool, colour: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.colour = colour

    def print(self, raw: str, alert: dict[str, Any], *, active: bool) -> None:
        if self.as_json:
            self.out.write(raw + "\n")
        else:
            self.out.write(self.readable(alert, active=active) + "\n")
        self.out.flush()

    def readable(self, alert: dict[str, Any], *, active: bool) -> str:
        """One line; every field from the message goes through `printable` (anyone allowed to
        publish on the broker could otherwise forge lines or drive the terminal)."""
        severity = printable(alert.get("severity", "?"))
        time = printable(alert.get("time", "")).replace("T", " ")
        label = "ACTIVE" if active else printable(alert.get("state", "?"))
        who = printable(alert.get("mmsi", "?"))
        if alert.get("name"):
            who += f" {printable(alert['name'])}"
        if alert.get("other_mmsi"):
            who += f" / {printable(alert['other_mmsi'])}"
        where = f" [{printable(alert['zone'])}]" if alert.get("zone") else ""
        sev = f"{severity.upper():<9}"
        if self.colour:
            sev = f"{COLOURS.get(severity, '')}{sev}{RESET}"
        kind = printable(alert.get("type", "?"))
        return f"{time}  {sev} {label:<8} {kind}  {who}{where}: {printable(alert.get('message', ''))}"


class Dedup:
    """Remembers the last alert steps seen (QoS 1 may deliver one twice)."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._size = size

    def first_time(self, alert: dict[str, Any]) -> bool:
        """False for a step seen already (id, state and time as text: any JSON value will do)."""
        key = (str(alert.get("id")), str(alert.get("state")), str(alert.get("time")))
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class FatalSubscribeError(Exception):
    """Retrying will not help (refused credentials, bad TLS files)."""


async def run_subscriber(
    settings: MqttSettings,
    alert_filter: AlertFilter,
    printer: AlertPrinter,
    *,
    count: int | None = None,
    show_active: bool = True,
    ready: asyncio.Event | None = None,
    session: str | None = None,
) -> int:
    """Print alerts until `count` were printed (forever when None). Returns how many were printed.

    `session`: a client id of the subscriber's own, kept by the broker as a persistent session
    (`SESSION_EXPIRY_S`): alert steps published while it is away, its outages and the broker's
    included, are queued for it and printed when it is back. None: a clean session with a random
    client id (what was published while it was away is not printed; the alerts that hold are, from
    the retained states)."""
    if count is not None and count <= 0:
        return 0
    topics = Topics(settings.prefix)
    dedup = Dedup()
    printed = 0
    delay = 0.5
    protocols = ProtocolNegotiation(settings.protocol)
    quiet = QuietClientLogger()
    outage = False
    while True:
        try:
            tls = make_tls_context(settings)
        except Exception as e:
            raise FatalSubscribeError(f"{describe(settings)}: {e}") from None
        client = aiomqtt.Client(
            settings.host or "localhost",
            settings.port or (8883 if tls is not None else 1883),
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password is not None else None,
            protocol=protocols.protocol,
            tls_context=tls,
            keepalive=settings.keepalive_s,
            timeout=settings.connect_timeout_s,
            logger=quiet,  # type: ignore[arg-type]
            socket_options=NO_DELAY,
            **_session_options(session, protocols.protocol),
        )
        try:
            async with client:
                protocols.connected()
                delay = 0.5
                if outage:
                    log.warning("connected again to %s", describe(settings))
                    outage = False
                # one SUBSCRIBE: an alert raised between two would be in neither (its live state
                # message is not retained, and alert/# would not be subscribed yet). The retained
                # states with QoS 0: a broker sends one client at most so many QoS 1 messages at
                # once and drops the rest (Mosquitto: 20 in flight + max_queued_messages, 1000);
                # QoS 0 ones only once the connection falls behind
                filters = [(topics.all_alerts, 1)]
                if show_active:
                    filters.insert(0, (topics.all_alert_states, 0))
                await client.subscribe(filters)
                log.info(
                    "subscribed to %s under %s/ (MQTT %s)", describe(settings), topics.prefix, protocols.name
                )
                if ready is not None:
                    ready.set()
                async for message in client.messages:
                    is_state = message.topic.matches(topics.all_alert_states)
                    if is_state and not message.retain:
                        continue  # live state changes also arrive on alert/#
                    raw = bytes(message.payload).decode("utf-8", "replace")  # type: ignore[arg-type]
                    if not raw:
                        continue
                    try:
                        alert = loads(raw)
                    except ValueError:
                        log.warning("ignored a message on %s that is not JSON", message.topic)
                        continue
                    try:
                        if (
                            not isinstance(alert, dict)
                            or not alert_filter.accepts(alert)
                            or not dedup.first_time(alert)
                        ):
                            continue
                        printer.print(raw, alert, active=is_state)
                    except (TypeError, ValueError, AttributeError) as e:  # not an alert of vts
                        log.warning("ignored a message on %s that is not an alert (%s)", message.topic, e)
                        continue
                    printed += 1
                    if count is not None and printed >= count:
                        return printed
        except MqttConnectError as e:
            code = reason_code_value(e)
            if protocols.refused(code):
                log.info("%s does not speak MQTT 5; using MQTT 3.1.1", describe(settings))
                continue
            if code in REFUSED_CREDENTIALS:
                raise FatalSubscribeError(
                    f"broker {describe(settings)} refused the credentials ({e})"
                ) from None
            outage = _log_outage(settings, str(e), outage)
        except MqttError as e:
            cause = quiet.take_last_error()
            text = f"{e}; {cause}" if cause else str(e)
            if "CERTIFICATE" in text or "SSL" in text:
                raise FatalSubscribeError(
                    f"broker {describe(settings)} failed the TLS check ({text})"
                ) from None
            outage = _log_outage(settings, text, outage)
            if is_no_answer(e):  # no CONNACK: some MQTT 3.1.1 brokers hang up on an MQTT 5 CONNECT
                protocols.no_answer()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)


def _session_options(session: str | None, protocol: aiomqtt.ProtocolVersion) -> dict[str, Any]:
    """The client's options for a persistent session named `session` (none without one)."""
    return {} if session is None else persistent_session(session, protocol)


def _log_outage(settings: MqttSettings, problem: str, already_logged: bool) -> bool:
    """One warning per outage; the retries go to debug."""
    if already_logged:
        log.debug("broker %s still unreachable: %s", describe(settings), problem)
    else:
        log.warning("cannot reach broker %s (%s); waiting for it", describe(settings), problem)
    return True


def configure_parser(p: argparse.ArgumentParser) -> None:
    default = f"${ENV_VAR}, then the config's mqtt section, then {DEFAULT_BROKER}"
    p.add_argument(
        "--broker",
        metavar="URL",
        help=f"mqtt://user:pass@host:port or mqtts://... (default: {default}); a broker that is down or"
        " unreachable is waited for (retried, said once) until it answers or Ctrl-C",
    )
    p.add_argument("--config", metavar="FILE", help="config file whose mqtt section names the broker")
    p.add_argument("--prefix", help="topic prefix (default: the broker URL's or config's, vts/callao/v1)")
    p.add_argument(
        "--protocol",
        choices=get_args(ProtocolChoice),
        default=None,
        help="MQTT version; auto: 5, or 3.1.1 with a broker that does not speak 5 "
        "(default: the broker URL's or config's, auto)",
    )
    p.add_argument(
        "--severity", choices=SEVERITIES, default="info", help="this severity or worse (default: all)"
    )
    p.add_argument(
        "--type", type=alert_types, default="", help="comma-separated alert types, e.g. alongside,loitering"
    )
    p.add_argument("--zone", action="append", default=[], help="only alerts in this zone (repeatable)")
    p.add_argument(
        "--mmsi", action="append", type=int, default=[], help="only alerts about this MMSI (repeatable)"
    )
    p.add_argument("--json", action="store_true", help="print JSON lines, exactly as published")
    p.add_argument("--no-active", action="store_true", help="do not start with the active alerts")
    p.add_argument(
        "--session",
        metavar="NAME",
        type=session_name,
        help="a persistent session under this client id (one per subscriber, never the daemon's): "
        "alerts published while this subscriber or the broker was away are printed when it is back",
    )
    p.add_argument(
        "--count", type=positive_int, default=None, help="exit after printing this many alerts (1 or more)"
    )
    p.add_argument("--colour", "--color", choices=("auto", "always", "never"), default="auto")


def _settings(args: argparse.Namespace) -> MqttSettings:
    config_settings: MqttSettings | None = None
    if args.config or not (args.broker or os.environ.get(ENV_VAR)):
        try:
            from vts.config import load_config

            config_settings = load_config(args.config).mqtt
        except Exception as e:  # no usable config: fall back to the default broker
            if args.config:
                raise MqttUrlError(f"cannot read the config {args.config}: {e}") from None
    settings = resolve_settings(config_settings, args.broker)
    if not settings.enabled:
        settings = settings_from_url(DEFAULT_BROKER, settings)
    if args.prefix:
        try:
            prefix = check_prefix(args.prefix)
        except ValueError as e:
            raise MqttUrlError(f"--prefix: {e}") from None
        settings = settings.model_copy(update={"prefix": prefix})
    if args.protocol:
        settings = settings.model_copy(update={"protocol": args.protocol})
    return settings


def session_name(text: str) -> str:
    """A `--session` client id (argparse type): 1-64 letters, digits, '.', '_' or '-'."""
    if not SESSION_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"1-64 letters, digits, '.', '_' or '-', got {text!r}")
    return text


def main(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except MqttUrlError as e:
        print(f"vts subscribe: {e}", file=sys.stderr)
        return 2
    if args.session is not None and args.session == settings.client_id:
        print(
            f"vts subscribe: --session {args.session} is the daemon's client id (mqtt.client_id): the broker"
            " would disconnect one of them whenever the other connects; give this subscriber its own",
            file=sys.stderr,
        )
        return 2
    severity: Severity = args.severity
    alert_filter = AlertFilter(
        max_rank=severity_rank(severity),
        types=args.type,
        zones=set(args.zone),
        mmsis=set(args.mmsi),
    )
    colour = args.colour == "always" or (
        args.colour == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    printer = AlertPrinter(sys.stdout, as_json=args.json, colour=colour)
    try:
        asyncio.run(
            run_subscriber(
                settings,
                alert_filter,
                printer,
                count=args.count,
                show_active=not args.no_active,
                session=args.session,
            )
        )
    except FatalSubscribeError as e:
        print(f"vts subscribe: {e}", file=sys.stderr)
        return 1
    return 0
