"""The modules of vts compiled with mypyc, and whether their compiled copies are current.

`COMPILED_MODULES` is the compiled set: `setup.py` reads this literal (without importing vts) and hands
the files to mypyc, so the list is written here only. An install that could not compile them (no C
compiler, a type error, mypyc missing, or `VTS_PURE_PYTHON=1` at install time) runs them as Python.

An editable install (`pip install -e .`) puts the compiled modules into the source tree, next to their
`.py` files (`vts/core.cpython-311-x86_64-linux-gnu.so` beside `vts/core.py`, and the shared library
`vts/_native__mypyc.*.so`), and Python imports an extension module before a source file of the same
name. A `.py` edited after the build would then be ignored. `check_compiled()`, run by `import vts`,
compares their modification times (one directory listing and a few stat calls); when a source is newer
than its compiled copy it logs a WARNING naming the modules and the rebuild command, and makes every
module of the set import from source: they form one shared library whose native classes refer to one
another directly, so they are never mixed with modules run as Python. `VTS_PURE_PYTHON=1` at run time
imports them from source too (tracebacks with source lines, a debugger that steps into them).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType

# The compiled set (paths from the project root), in the order mypyc is given them.
COMPILED_MODULES: tuple[str, ...] = (
    # the pipeline: sentences, decode, reports, tracker, zones, grid, batches, core, alert engine
    "vts/reports.py",
    "vts/tracker.py",
    "vts/core.py",
    "vts/spatial.py",
    "vts/feed_clock.py",
    "vts/batch.py",
    "vts/ingest.py",
    "vts/decode.py",
    "vts/nmea.py",
    "vts/zones.py",
    "vts/alerts/engine.py",
    # what the pipeline and the rules call on every fix
    "vts/geo.py",
    "vts/vessel_class.py",
    "vts/categories.py",
    "vts/station_clock.py",
    "vts/jsontext.py",
    # the rules (their parameter models are in vts/rules/params.py, which is not compiled)
    "vts/rules/base.py",
    "vts/rules/_common.py",
    "vts/rules/_fix_stream.py",
    "vts/rules/_pairs.py",
    "vts/rules/ais_gap.py",
    "vts/rules/alongside.py",
    "vts/rules/anchor_drag.py",
    "vts/rules/course_anomaly.py",
    "vts/rules/cpa.py",
    "vts/rules/distress.py",
    "vts/rules/drifting.py",
    "vts/rules/duplicate_mmsi.py",
    "vts/rules/identity_change.py",
    "vts/rules/invalid_mmsi.py",
    "vts/rules/loitering.py",
    "vts/rules/position_jump.py",
    "vts/rules/rendezvous.py",
    "vts/rules/restricted_area.py",
    "vts/rules/speeding.py",
    "vts/rules/unauthorised_anchoring.py",
    "vts/rules/zone_visits.py",
)

# mypyc's group name: its shared library is `vts._native__mypyc`, inside the package (an editable
# install only maps the `vts` package; a library at the top of the tree could not be imported)
GROUP_NAME = "vts._native"

REBUILD_COMMAND = ".venv/bin/pip install -e ."

PURE_PYTHON_ENV = "VTS_PURE_PYTHON"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_PROJECT_DIR = os.path.dirname(_PACKAGE_DIR)


def module_name(path: str) -> str:
    """`vts/core.py` -> `vts.core`."""
    return path.removesuffix(".py").replace("/", ".")


def module_names() -> list[str]:
    return [module_name(p) for p in COMPILED_MODULES]


def is_extension(module: ModuleType) -> bool:
    """Whether a module was loaded from a compiled extension (not from its `.py`)."""
    spec = module.__spec__
    if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
        return True
    return (getattr(module, "__file__", None) or "").endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def compiled_modules() -> dict[str, bool]:
    """Each module of the compiled set (imported if it was not yet) -> loaded as a compiled extension."""
    result: dict[str, bool] = {}
    for name in module_names():
        module = sys.modules.get(name) or importlib.import_module(name)
        result[name] = is_extension(module)
    return result


def module_files(package_dir: str, name: str) -> tuple[str, str]:
    """(directory, stem) of a module of the set: `vts.rules.cpa` -> (<package_dir>/rules, "cpa")."""
    parts = name.split(".")
    return os.path.join(os.path.dirname(package_dir), *parts[:-1]), parts[-1]


def extension_files(package_dir: str, names: Sequence[str]) -> dict[str, str]:
    """Module name -> the compiled file Python would import for it (one listing per directory)."""
    listings: dict[str, set[str]] = {}
    found: dict[str, str] = {}
    for name in names:
        directory, stem = module_files(package_dir, name)
        entries = listings.get(directory)
        if entries is None:
            try:
                entries = set(os.listdir(directory))
            except OSError:
                entries = set()
            listings[directory] = entries
        # the order of EXTENSION_SUFFIXES is the order the import system tries them in
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if stem + suffix in entries:
                found[name] = os.path.join(directory, stem + suffix)
                break
    return found


def source_file(package_dir: str, name: str) -> str:
    directory, stem = module_files(package_dir, name)
    return os.path.join(directory, stem + ".py")


def stale_modules(package_dir: str, names: Sequence[str]) -> list[str]:
    """The modules whose `.py` is newer than the compiled file beside it."""
    stale = []
    for name, ext_path in extension_files(package_dir, names).items():
        try:
            if os.stat(source_file(package_dir, name)).st_mtime > os.stat(ext_path).st_mtime:
                stale.append(name)
        except OSError:
            continue
    return stale


class SourceFirstFinder:
    """A `sys.meta_path` finder: imports the given modules from their `.py` files even where a compiled
    copy lies beside them (not an `importlib.abc` subclass: importing that module costs more than
    the check)."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None or not os.path.exists(source):
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(fullname, source)


def _install_source_finder(package_dir: str, names: Sequence[str]) -> SourceFirstFinder:
    finder = SourceFirstFinder({n: source_file(package_dir, n) for n in names})
    sys.meta_path.insert(0, finder)
    return finder


def check_compiled(package_dir: str = _PACKAGE_DIR, project_dir: str = _PROJECT_DIR) -> list[str]:
    """Run by `import vts`: the stale compiled modules (warned about, imported from source).

    Only in a source tree (an editable install, `setup.py` beside the package): an installed wheel's
    files all carry the time they were unpacked, and nobody edits them."""
    names = module_names()
    if os.environ.get(PURE_PYTHON_ENV) == "1":
        if extension_files(package_dir, names):
            _install_source_finder(package_dir, names)
        return []
    if not os.path.exists(os.path.join(project_dir, "setup.py")):
        return []
    stale = stale_modules(package_dir, names)
    if stale:
        import logging

        logging.getLogger("vts").warning(
            "compiled modules older than their source: %s; running the compiled set as Python "
            "(slower) until it is rebuilt with `%s`",
            ", ".join(stale),
            REBUILD_COMMAND,
        )
        _install_source_finder(package_dir, names)
    return stale
