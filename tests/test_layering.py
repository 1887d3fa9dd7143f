"""The layering contract of pyproject.toml covers every module: each is in the core or on an edge, none in neither.

import-linter checks only the modules a contract names, so a module added without a place in it would escape the
rule that the core imports no web framework. The contract itself runs in .ci/run (`lint-imports`).
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import layers
import mapserver

ROOT = Path(__file__).resolve().parent.parent


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["type"] == "forbidden")


def _modules() -> list[str]:
    found = []
    for package in (mapserver, layers):
        found.append(package.__name__)
        found += [m.name for m in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + ".")]
    return found


def _within(module: str, names: list[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def test_every_module_is_in_the_core_or_on_an_edge():
    contract = _contract()
    core, edges = contract["source_modules"], [m for m in contract["forbidden_modules"] if m.startswith("mapserver")]
    modules = [m for m in _modules() if m != "mapserver"]  # the package itself holds the app factory: an edge
    unplaced = [m for m in modules if not _within(m, core) and not _within(m, edges)]
    assert unplaced == [], f"add these to a side of the layering contract in pyproject.toml: {unplaced}"
    assert [m for m in modules if _within(m, core) and _within(m, edges)] == []


def test_the_web_framework_is_forbidden_to_the_core():
    assert {"flask", "werkzeug"} <= set(_contract()["forbidden_modules"])
