"""Build: the project's metadata is in pyproject.toml; this file only adds the modules compiled with mypyc.

`pip install .` and `pip install -e .` compile the modules listed in `vts/_compiled.py`
(`COMPILED_MODULES`) with mypyc (`mypy==2.4.1`, from [build-system] requires) and install them as
C extensions. The install goes on as pure Python, with a warning saying why (`pip install -v` shows
it), when `VTS_PURE_PYTHON=1` is set, when mypyc cannot be imported, or when the compile fails (a
type error, no C compiler).
"""

from __future__ import annotations

import ast
import importlib.machinery
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
PURE_PYTHON_ENV = "VTS_PURE_PYTHON"


def _constant(name: str) -> Any:
    """A literal assigned at the top of vts/_compiled.py, read without importing vts."""
    tree = ast.parse((ROOT / "vts" / "_compiled.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        if value is not None and any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(value)
    raise RuntimeError(f"vts/_compiled.py assigns no {name}")


COMPILED_MODULES: list[str] = list(_constant("COMPILED_MODULES"))
GROUP_NAME: str = _constant("GROUP_NAME")
# PEP 660 editable install (or the older `setup.py develop`): the compiled files go into the source tree
EDITABLE = bool({"editable_wheel", "develop"} & set(sys.argv))
# pip runs this file up to three times per install (build requirements, metadata, then the build);
# mypyc (a whole type-check) runs only for the commands that build extensions
BUILDS = EDITABLE or bool({"bdist_wheel", "build", "build_ext", "install"} & set(sys.argv))


def warn(reason: str) -> None:
    bar = "*" * 78
    print(
        f"\n{bar}\nWARNING: vts is installed as pure Python, without its compiled modules: {reason}\n{bar}\n",
        file=sys.stderr,
        flush=True,
    )


def remove_stale_extensions(keep: set[str]) -> None:
    """In an editable build, removes compiled files from the source tree that this build does not
    write (a pure build after a compiled one, a module dropped from the list): left there, an
    extension module would be imported instead of its `.py`."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for directory, _dirs, files in os.walk(ROOT / "vts"):
        for name in files:
            if not name.endswith(suffixes):
                continue
            path = Path(directory) / name
            stem = name.split(".", 1)[0]
            module = ".".join([*path.relative_to(ROOT).parent.parts, stem])
            ours = stem.endswith("__mypyc") or (path.parent / f"{stem}.py").exists()
            if ours and module not in keep:
                print(f"vts: removing {path.relative_to(ROOT)} (not built by this install)", file=sys.stderr)
                path.unlink()


class OptionalBuildExt(build_ext):
    """build_ext that falls back to pure Python when the C compile fails."""

    def run(self) -> None:
        try:
            super().run()
            self.stamp_outputs()
        except Exception as exc:  # CompileError, LinkError, DistutilsPlatformError (no compiler) ...
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            self.extensions = []
            self.distribution.ext_modules = []
            if EDITABLE:
                remove_stale_extensions(set())
            warn(f"the C compile failed ({type(exc).__name__}: {exc})")

    def stamp_outputs(self) -> None:
        """Every extension of this build carries the time of the build. `build_ext --inplace`
        copies the files from `build/` keeping their times, so a shim left unchanged by an earlier
        build would look older than its source to the stale check of `import vts`, which would
        then run the whole compiled set as Python."""
        for ext in self.extensions:
            path = self.get_ext_fullpath(ext.name)
            if os.path.exists(path):
                os.utime(path)


def compiled_extensions() -> list[Any]:
    if os.environ.get(PURE_PYTHON_ENV) == "1":
        warn(f"{PURE_PYTHON_ENV}=1 is set")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        warn(f"mypyc is not available ({exc}); it comes with mypy, see [build-system] in pyproject.toml")
        return []
    try:
        return mypycify(
            # mypy reads its options ([tool.mypy]) from pyproject.toml
            ["--config-file", str(ROOT / "pyproject.toml"), *COMPILED_MODULES],
            opt_level="3",
            group_name=GROUP_NAME,
        )
    except (Exception, SystemExit) as exc:  # mypy's type errors end in SystemExit, printed above
        warn(f"mypyc could not compile {', '.join(COMPILED_MODULES)} ({type(exc).__name__}: {exc})")
        return []


if __name__ == "__main__":
    os.chdir(ROOT)  # mypyc takes the paths relative to the project root
    extensions = compiled_extensions() if BUILDS else []
    if EDITABLE:
        remove_stale_extensions({ext.name for ext in extensions})
    setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})
