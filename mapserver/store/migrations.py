"""Schema versions shared by both backends: which migration comes next, and what an operator is told when a
store's schema is not this program's.

Each backend keeps an ordered list of migrations (SQL scripts): the first, the baseline, creates the whole
schema in an empty store (version 1); migration n takes a store from version n - 1 to n. Each is applied in a
transaction of its own that also records the version it leads to, so an upgrade that fails stops at the last
version it completed. A store also carries :data:`APPLICATION_ID`, which says its versions count from this
baseline: a store made before it (by a development build whose versions are numbered otherwise) is refused
with a message, never read as if it were of this line.
"""

from __future__ import annotations

from collections.abc import Sequence

from mapserver.store.database import StoreUnavailable

APPLICATION_ID = int.from_bytes(b"MAPS", "big")
"""The mark of a store whose schema versions count from this baseline (SQLite's ``PRAGMA application_id``; a
column of ``mapserver_schema`` on PostGIS). Changes only if the versions are ever folded into a new baseline."""


def next_version(found: int, migrations: Sequence[str], target: int | None, where: str) -> int | None:
    """The version to migrate a store at version ``found`` to next, on the way to ``target`` (default: the newest
    of ``migrations``); None when there is nothing left to do. A store newer than ``migrations`` know is refused
    (:class:`StoreUnavailable`): this program cannot read it, nor take it back."""
    newest = len(migrations)
    if found > newest:
        raise StoreUnavailable(newer_store(found, newest, where))
    goal = newest if target is None else target
    if not 0 <= goal <= newest:
        raise ValueError(f"no schema version {goal}: the versions known are 1 to {newest}")
    return found + 1 if found < goal else None


def newer_store(found: int, known: int, where: str) -> str:
    """What to tell an operator whose store was upgraded by a newer version of this program."""
    return (f"the store at {where} has schema version {found}, newer than this program's {known}: it was upgraded "
            "by a newer version of mapserver, which is the one to run against it (a store is never downgraded)")


def before_baseline(where: str) -> str:
    """What to tell an operator whose store was made before this program's schema baseline, or by another program."""
    return (f"the store at {where} has a schema this program does not know, made by a development build of mapserver "
            "before schema version 1 or by another program; it cannot be upgraded in place: create a new store "
            "(`mapserver init` on an empty database or a new file) and import the data into it again")


def schema_mismatch(found: int, known: int, where: str) -> str | None:
    """What an operator must do before this program (at schema version ``known``) can use a store at version
    ``found``; None when the versions match."""
    if found == known:
        return None
    if found > known:
        return newer_store(found, known, where)
    verb = "create" if found == 0 else "upgrade"
    return (f"the store at {where} has schema version {found}, this program needs {known}: run `mapserver init` "
            f"first (it will {verb} the schema)")
