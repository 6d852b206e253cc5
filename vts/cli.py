"""The `vts` command: one entry point, one module per subcommand.

Each subcommand lives in its own module, which exposes two functions:

* ``configure_parser(parser: argparse.ArgumentParser) -> None`` adds the subcommand's flags;
* ``main(args: argparse.Namespace) -> int`` runs it and returns the exit code.

Modules are imported lazily, so ``vts check-config`` does not pay for aiohttp or folium.

The argument types every subcommand shares are here too (`positive_float`, `non_negative_float`,
`positive_int`, `port_number`): a bad value is a usage error naming the flag (exit code 2).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import io
import logging
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence

from vts import __version__, gc_tuning

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("vts.daemon", "run the VTS daemon (feeds, alerts, MQTT, live map)"),
    "replay": ("vts.replay", "replay recorded AIS logs through the same core as live feeds"),
    "check-config": ("vts.check_config", "validate a configuration file and summarise it"),
    "simulate": ("vts.simulate.command", "write simulated, labelled Callao traffic"),
    "evaluate": ("vts.evaluate", "score alerts against a simulator truth file"),
    "alerts": ("vts.alerts.command", "list alerts stored in the alert database"),
    "subscribe": ("vts.mqtt.subscribe", "print alerts arriving over MQTT"),
    "learn": ("vts.learn", "learn the normal-traffic model from recorded logs"),
}


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number more than 0 (argparse type)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number, 0 or more (argparse type)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number from 0 to 1, or a percentage ("30%") (argparse type)."""
    percent = text.strip().endswith("%")
    value = _number(text.strip().removesuffix("%")) / (100.0 if percent else 1.0)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 up to (not including) 1, or 0-99%, got {text!r}")
    return value


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {least} or more, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number, 0 or more (argparse type)."""
    return _whole_number(text, 0)


def positive_int(text: str) -> int:
    """A whole number, 1 or more (argparse type)."""
    return _whole_number(text, 1)


def port_number(text: str) -> int:
    """A TCP port, 0..65535 (0: any free port) (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, got {text!r}")
    return value


def alert_type_names(text: str) -> set[str]:
    """A comma-separated list of alert types, as given (argparse type)."""
    return {t.strip() for t in text.split(",") if t.strip()}


def unknown_alert_types(wanted: Iterable[str], known: Iterable[str]) -> str | None:
    """The usage error for the names in `wanted` that are not in `known` (a typo such as
    ``alongsde`` would otherwise match nothing, for ever), naming the closest known one; None when
    every name is known."""
    known = sorted(known)
    unknown = sorted(set(wanted) - set(known))
    if not unknown:
        return None
    names = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        names.append(repr(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"unknown alert type {', '.join(names)}; known types: {', '.join(known)}"


def alert_types(text: str) -> set[str]:
    """A comma-separated list of the alert types vts raises (argparse type): a name it never raises
    is a usage error naming the closest one."""
    from vts.rules.registry import known_alert_types  # imports every rule: only when asked

    wanted = alert_type_names(text)
    error = unknown_alert_types(wanted, known_alert_types()) if wanted else None
    if error is not None:
        raise argparse.ArgumentTypeError(error)
    return wanted


@contextlib.contextmanager
def closed_pipe_is_quiet() -> Iterator[None]:
    """Stop printing, without a traceback, when the reader of standard output goes away
    (`vts alerts | head`); what is left to print is dropped, including at exit."""
    try:
        yield
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vts", description="Vessel Traffic Service for the bay of Callao")
    parser.add_argument("--version", action="version", version=f"vts {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _wanted_command(argv)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if wanted is None or wanted == name:
            module = importlib.import_module(module_name)
            module.configure_parser(p)
            p.set_defaults(_module=module_name)
    return parser


def _wanted_command(argv: Sequence[str] | None) -> str | None:
    """The subcommand named on the command line, so only its module is imported."""
    args = list(sys.argv[1:] if argv is None else argv)
    for a in args:
        if a in COMMANDS:
            return a
        if not a.startswith("-"):
            return None
    return ""  # no subcommand given: import nothing


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    setup_logging(args.verbose, args.quiet)
    gc_tuning.tune()
    module = importlib.import_module(args._module)
    try:
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        return 130
