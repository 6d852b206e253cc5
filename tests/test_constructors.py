"""Dataclasses that write their own `__init__` (`init=False`: mypyc compiles an explicit `__init__` to
native code, while the one `dataclass` generates stays interpreted): the constructor must take exactly the
dataclass's fields, in order, with the same defaults, and set each of them."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CLASSES = [
    ("vts.reports", "PositionReport"),
    ("vts.tracker", "Fix"),
    ("vts.zones", "_Fix"),
]


def _own_init(module: str, name: str) -> ast.FunctionDef:
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")


def test_every_dataclass_with_init_false_in_the_package_is_listed_here() -> None:
    found = set()
    for path in (ROOT / "vts").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and getattr(deco.func, "id", None) == "dataclass"
                    and any(k.arg == "init" and getattr(k.value, "value", 0) is False for k in deco.keywords)
                ):
                    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                    found.add((module, node.name))
    assert found == set(CLASSES)


@pytest.mark.parametrize(("module", "name"), CLASSES)
def test_the_constructor_takes_the_fields_in_order_with_their_defaults(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    fields = dataclasses.fields(cls)
    init = _own_init(module, name)
    params = init.args.args[1:]  # (self)
    assert [p.arg for p in params] == [f.name for f in fields]
    defaults = [None] * (len(params) - len(init.args.defaults)) + list(init.args.defaults)
    for f, default in zip(fields, defaults, strict=True):
        if f.default is dataclasses.MISSING:
            assert default is None, f.name
        else:
            assert default is not None and ast.literal_eval(default) == f.default, f.name
    assigned = [
        s.targets[0].attr
        for s in init.body
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Attribute)
    ]
    assert assigned == [f.name for f in fields]


SAMPLES: dict[str, dict[str, object]] = {
    "PositionReport": dict(
        time=1.5,
        mmsi=760000001,
        msg_type=18,
        source="s",
        own_ship=True,
        station="st",
        channel="B",
        ais_class="B",
        lat=-12.05,
        lon=-77.15,
        sog=3.5,
        cog=90.5,
        heading=91,
        nav_status=5,
        rot=-2.0,
        accuracy=True,
        raim=True,
        second=17,
        class_b_cs=True,
    ),
    "Fix": dict(time=1.5, lat=-12.05, lon=-77.15, sog=3.5, cog=90.5, heading=91),
    "_Fix": dict(time=1.5, lon=-77.15, lat=-12.05, initial=True, reload=True),
}
"""Every field set, none to its default (a value left unset or swapped would show)."""


@pytest.mark.parametrize(("module", "name"), CLASSES)
def test_an_instance_holds_what_it_was_given_and_compares_as_a_dataclass(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    fields = dataclasses.fields(cls)
    values = SAMPLES[name]
    assert list(values) == [f.name for f in fields]
    by_keyword = cls(**values)
    by_position = cls(*values.values())
    assert by_keyword == by_position
    assert {f.name: getattr(by_keyword, f.name) for f in fields} == values
    assert dataclasses.replace(by_keyword) == by_keyword
    assert name in repr(by_keyword)
