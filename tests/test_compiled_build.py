"""The mypyc build: one list of compiled modules, reported truthfully, compiled under CI, and a compiled
copy older than its source never imported in its place (vts/_compiled.py, setup.py)."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vts import _compiled

ROOT = Path(__file__).resolve().parent.parent
EXT = importlib.machinery.EXTENSION_SUFFIXES[0]


def test_the_list_is_written_once_and_setup_reads_it() -> None:
    setup_py = (ROOT / "setup.py").read_text()
    # setup.py names no module of the list itself: it reads vts/_compiled.py
    for path in _compiled.COMPILED_MODULES:
        assert path not in setup_py
    probe = "import runpy; g = runpy.run_path('setup.py'); print(g['COMPILED_MODULES'], g['GROUP_NAME'])"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"{list(_compiled.COMPILED_MODULES)} {_compiled.GROUP_NAME}"


def test_every_listed_module_exists_and_the_group_library_is_inside_the_package() -> None:
    assert _compiled.COMPILED_MODULES
    for path in _compiled.COMPILED_MODULES:
        assert (ROOT / path).is_file(), path
        assert path.startswith("vts/") and path.endswith(".py")
    assert _compiled.GROUP_NAME.startswith("vts.")
    assert _compiled.module_name("vts/core.py") == "vts.core"


def test_compiled_modules_reports_how_each_module_was_loaded() -> None:
    report = _compiled.compiled_modules()
    assert list(report) == _compiled.module_names()
    for name, compiled in report.items():
        module = sys.modules[name]
        assert compiled == (module.__file__ or "").endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
        assert compiled == (not (module.__file__ or "").endswith(".py"))


@pytest.mark.skipif(not os.environ.get("CI"), reason="only under CI: a developer may install as pure Python")
def test_under_ci_the_listed_modules_are_compiled() -> None:
    report = _compiled.compiled_modules()
    pure = [name for name, compiled in report.items() if not compiled]
    assert not pure, (
        f"running as Python under CI: {', '.join(pure)}; the install fell back to pure Python "
        "(see `pip install -v -e .` for why) or VTS_PURE_PYTHON=1 is set"
    )


def _fake_tree(tmp: Path, names: list[str]) -> Path:
    """A source tree with a package `vts` holding `<name>.py` and a compiled-looking `<name><EXT>`."""
    package = tmp / "vts"
    package.mkdir()
    (tmp / "setup.py").write_text("")
    for name in names:
        (package / f"{name}.py").write_text(f"WHERE = 'source of {name}'\n")
        (package / f"{name}{EXT}").write_bytes(b"not really compiled")
    return package


def _set_mtime(path: Path, t: float) -> None:
    os.utime(path, (t, t))


def test_a_compiled_copy_older_than_its_source_is_stale(tmp_path: Path) -> None:
    package = _fake_tree(tmp_path, ["core", "spatial"])
    names = ["vts.core", "vts.spatial", "vts.nmea"]  # nmea: no compiled copy, never stale
    t = 1_700_000_000.0
    for name in ("core", "spatial"):
        _set_mtime(package / f"{name}.py", t)
        _set_mtime(package / f"{name}{EXT}", t + 10)
    assert _compiled.stale_modules(str(package), names) == []
    assert set(_compiled.extension_files(str(package), names)) == {"vts.core", "vts.spatial"}
    _set_mtime(package / "core.py", t + 20)  # edited after the build
    assert _compiled.stale_modules(str(package), names) == ["vts.core"]


def test_a_module_of_a_subpackage_is_found_and_checked_in_its_own_directory(tmp_path: Path) -> None:
    """`vts.rules.cpa` is compiled beside `vts/rules/cpa.py`, not in `vts/`."""
    package = _fake_tree(tmp_path, ["core"])
    rules = package / "rules"
    rules.mkdir()
    (rules / "cpa.py").write_text("WHERE = 'source of cpa'\n")
    (rules / f"cpa{EXT}").write_bytes(b"not really compiled")
    (package / f"cpa{EXT}").write_bytes(b"a file of the same name elsewhere: not the module's")
    t = 1_700_000_000.0
    for path in (package / "core.py", package / f"core{EXT}", rules / "cpa.py"):
        _set_mtime(path, t)
    _set_mtime(rules / f"cpa{EXT}", t + 10)
    names = ["vts.core", "vts.rules.cpa"]
    assert _compiled.extension_files(str(package), names) == {
        "vts.core": str(package / f"core{EXT}"),
        "vts.rules.cpa": str(rules / f"cpa{EXT}"),
    }
    assert _compiled.stale_modules(str(package), names) == []
    _set_mtime(rules / "cpa.py", t + 20)  # edited after the build
    assert _compiled.stale_modules(str(package), names) == ["vts.rules.cpa"]
    assert _compiled.source_file(str(package), "vts.rules.cpa") == str(rules / "cpa.py")


def test_the_check_warns_with_the_rebuild_command_and_imports_the_set_from_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    package = _fake_tree(tmp_path, ["core", "spatial"])
    t = 1_700_000_000.0
    _set_mtime(package / "core.py", t + 20)
    _set_mtime(package / f"core{EXT}", t)
    _set_mtime(package / "spatial.py", t)
    _set_mtime(package / f"spatial{EXT}", t + 10)
    monkeypatch.setattr(_compiled, "COMPILED_MODULES", ("vts/core.py", "vts/spatial.py"))
    monkeypatch.delenv(_compiled.PURE_PYTHON_ENV, raising=False)
    before = list(sys.meta_path)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    with caplog.at_level("WARNING", logger="vts"):
        stale = _compiled.check_compiled(str(package), str(tmp_path))
    assert stale == ["vts.core"]
    assert "vts.core" in caplog.text and _compiled.REBUILD_COMMAND in caplog.text
    finder = sys.meta_path[0]
    assert isinstance(finder, _compiled.SourceFirstFinder) and sys.meta_path[1:] == before
    # the whole set comes from source, the fresh module too: one shared library, never mixed
    for name in ("core", "spatial"):
        spec = finder.find_spec(f"vts.{name}", None)
        assert spec is not None and spec.origin == str(package / f"{name}.py")
    assert finder.find_spec("vts.geo", None) is None


def test_no_check_outside_a_source_tree_and_none_when_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _fake_tree(tmp_path, ["core"])
    _set_mtime(package / f"core{EXT}", 1_700_000_000.0)
    monkeypatch.setattr(_compiled, "COMPILED_MODULES", ("vts/core.py",))
    monkeypatch.delenv(_compiled.PURE_PYTHON_ENV, raising=False)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    before = list(sys.meta_path)
    (tmp_path / "setup.py").unlink()  # an installed wheel: files carry the time they were unpacked
    assert _compiled.check_compiled(str(package), str(tmp_path)) == []
    (tmp_path / "setup.py").write_text("")
    _set_mtime(package / "core.py", 1_600_000_000.0)
    assert _compiled.check_compiled(str(package), str(tmp_path)) == []
    assert sys.meta_path == before


def test_a_stale_module_is_imported_from_source_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """End to end: a package whose `__init__` runs the check, a 'compiled' file that would fail to load
    (it is not an extension) shadowing a newer source: the import must come from the source."""
    package = _fake_tree(tmp_path, ["core"])
    (package / "__init__.py").write_text("from vts._compiled import check_compiled\n\ncheck_compiled()\n")
    source = (ROOT / "vts" / "_compiled.py").read_text()
    (package / "_compiled.py").write_text(source + '\nCOMPILED_MODULES = ("vts/core.py",)\n')
    _set_mtime(package / f"core{EXT}", 1_700_000_000.0)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop(_compiled.PURE_PYTHON_ENV, None)
    run = subprocess.run(
        [sys.executable, "-c", "import vts.core; print(vts.core.WHERE, vts.core.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["source", "of", "core", str(package / "core.py")]
    assert "vts.core" in run.stderr and _compiled.REBUILD_COMMAND in run.stderr
    # without the check, the stale file shadows the source (the hazard the check is for)
    (package / "__init__.py").write_text("")
    shadowed = subprocess.run(
        [sys.executable, "-c", "import vts.core"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert shadowed.returncode != 0 and f"core{EXT}" in shadowed.stderr


def test_a_build_in_place_stamps_every_extension_it_built_with_the_build_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build_ext --inplace` copies extensions unchanged since an earlier build with their old times;
    setup.py's build command then stamps them, so the stale check does not take them for older than
    an edited source."""
    import runpy

    from setuptools import Distribution, Extension

    build_ext_cls = runpy.run_path(str(ROOT / "setup.py"))["OptionalBuildExt"]
    package = _fake_tree(tmp_path, ["core"])
    (package / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    dist = Distribution({"name": "probe", "packages": ["vts"], "ext_modules": [Extension("vts.core", [])]})
    command = build_ext_cls(dist)
    command.inplace = True
    command.ensure_finalized()
    built = Path(command.get_ext_fullpath("vts.core"))
    assert built == package / f"core{EXT}"
    _set_mtime(built, 1_700_000_000.0)  # as copied from an old build/, older than the source
    assert _compiled.stale_modules(str(package), ["vts.core"]) == ["vts.core"]
    command.stamp_outputs()
    assert _compiled.stale_modules(str(package), ["vts.core"]) == []
