"""The database interface: a backend that leaves a primitive out is refused when its class is defined, and the
repositories use nothing a backend is not bound to provide."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import mapserver.store
from mapserver.store.database import DIALECT, Database
from mapserver.store.postgis import PostGISDatabase
from mapserver.store.sqlite import SQLiteDatabase

PRIMITIVES = sorted(Database.__abstractmethods__)
REPOSITORIES = ("layers", "grids", "incidents", "measures", "cameras", "tokens", "audit", "patrols", "tracks")


def _does_nothing(*args: Any, **kwargs: Any) -> None:
    return None


FACTS = {"grouping_sets": False, "percentile_aggregate": False, "array_parameters": False, "month_partitions": False,
         "lateral_json": False, "mvt_sql": False}


def everything_but(*left_out: str) -> type:
    """A plain class (not a Database, so not checked itself) with every primitive and dialect fact but ``left_out``
    (the backend's ``kind`` is given by each test)."""
    members = {name: _does_nothing for name in PRIMITIVES if name not in left_out}
    members.update({name: value for name, value in FACTS.items() if name not in left_out})
    return type("Primitives", (), members)


def test_a_backend_that_leaves_out_a_primitive_is_refused_at_its_class_statement():
    with pytest.raises(TypeError) as caught:
        class Incomplete(everything_but("fetch"), Database):
            kind = "incomplete"
    assert str(caught.value) == ("database backend Incomplete leaves out fetch: a backend defines every primitive of "
                                 "mapserver.store.database.Database")


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_every_primitive_is_required(primitive):
    with pytest.raises(TypeError, match=rf"leaves out {primitive}:"):
        type("Incomplete", (everything_but(primitive), Database), {"kind": "incomplete"})


def test_a_backend_without_a_kind_is_refused_and_every_gap_is_named_at_once():
    with pytest.raises(TypeError, match=r"leaves out kind, execute, ping:"):
        class Nameless(everything_but("ping", "execute"), Database):
            pass


@pytest.mark.parametrize("fact", sorted(FACTS))
def test_every_dialect_fact_is_required_and_of_its_type(fact):
    with pytest.raises(TypeError, match=rf"leaves out {fact}:"):
        type("Unstated", (everything_but(fact), Database), {"kind": "unstated"})
    with pytest.raises(TypeError, match=rf"leaves out {fact}:"):
        type("Vague", (everything_but(fact), Database), {"kind": "vague", fact: "yes"})


def test_the_dialect_facts_are_the_declared_ones():
    assert set(DIALECT) == {"kind", *FACTS}


def test_a_complete_backend_and_the_real_ones_are_accepted():
    class Complete(everything_but(), Database):
        kind = "complete"

    class TunedSQLite(SQLiteDatabase):  # a subclass inherits its parent's primitives
        pass

    assert Complete.kind == "complete" and TunedSQLite.kind == "sqlite" and PostGISDatabase.kind == "postgis"


def test_the_repositories_use_only_what_the_interface_declares():
    # What a repository calls on its database (self._db.x, db.x) must be declared by Database, so that a backend
    # which defines every primitive can serve every repository.
    folder = Path(mapserver.store.__file__).parent
    used: dict[str, set[str]] = {}
    for name in REPOSITORIES:
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and (
                    (isinstance(node.value, ast.Attribute) and node.value.attr == "_db")
                    or (isinstance(node.value, ast.Name) and node.value.id in ("db", "database"))):
                used.setdefault(node.attr, set()).add(name)
    assert used, "no database use found: the repositories' modules moved?"
    declared = {*dir(Database), *Database.__annotations__}  # kind and url are declared by annotation
    undeclared = {attr: sorted(where) for attr, where in used.items() if attr not in declared}
    assert undeclared == {}
