"""Administrative divisions (行政区划): provinces, cities and counties by their GB/T 2260 codes, each naming its
parent, and the street grids each holds (a street's ``division_code``).

Which streets lie in a division is read from these links in the query that needs them, never from the digits of
a code: a street lies in division D when its ``division_code`` is D or a division below D. The SQL below is the
one place that walk is written; :mod:`mapserver.store.scoping` builds jurisdictions' conditions from it.
"""

from __future__ import annotations

from collections.abc import Sequence

from mapserver.model import Division
from mapserver.store.database import Database

DIVISION_TREE_SQL = ("WITH RECURSIVE below(code) AS (SELECT code FROM divisions WHERE code = ? "
                     "UNION SELECT d.code FROM divisions d JOIN below b ON d.parent_code = b.code) "
                     "SELECT code FROM below")
"""The codes of division ``?`` and of every division below it (UNION: a loop in the data ends)."""

DIVISION_STREETS_SQL = ("SELECT code FROM grids WHERE level = 1 AND kind = 'base' "  # noqa: S608 - SQL written here
                        f"AND division_code IN ({DIVISION_TREE_SQL})")
"""The codes of the street grids in division ``?`` (the ``grids_division`` index finds them)."""

DIVISION_SUBTREE_SQL = ("WITH RECURSIVE below(code) AS (SELECT code FROM divisions WHERE code = ? "
                        "UNION SELECT d.code FROM divisions d JOIN below b ON d.parent_code = b.code), "
                        "subtree(code) AS (SELECT code FROM grids WHERE level = 1 AND kind = 'base' "
                        "AND division_code IN (SELECT code FROM below) "
                        "UNION SELECT g.code FROM grids g JOIN subtree s ON g.parent_code = s.code) "
                        "SELECT code FROM subtree UNION SELECT code FROM below")
"""The codes of the streets in division ``?`` and of every grid below them, by ``parent_code``, and of the
division and the divisions below it (what a ``grid_code`` column binding a person or a plan may name)."""

COLUMNS = "code, name, level, parent_code"


class Divisions:
    """The divisions table, and the streets each division holds."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, code: str) -> Division | None:
        """The division with this code, or None."""
        rows = self._db.fetch(f"SELECT {COLUMNS} FROM divisions WHERE code = ?", (code,))  # noqa: S608
        return Division(*rows[0]) if rows else None

    def all(self) -> list[Division]:
        """Every division, by code."""
        return [Division(*r) for r in self._db.fetch(f"SELECT {COLUMNS} FROM divisions ORDER BY code")]  # noqa: S608

    def put_many(self, divisions: Sequence[Division]) -> int:
        """Write ``divisions`` (a code already stored takes the new name, level and parent), in one transaction;
        what belongs to whose jurisdiction may change, so the grids' data version moves with it."""
        with self._db.transaction():
            for d in divisions:
                self._db.execute("INSERT INTO divisions (code, name, level, parent_code) VALUES (?, ?, ?, ?) "
                                 "ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, "
                                 "parent_code = excluded.parent_code", (d.code, d.name, d.level, d.parent_code))
            if divisions:
                self._db.bump_version("grids")
        return len(divisions)

    def name_streets(self, pairs: Sequence[tuple[str, str | None]]) -> int:
        """Give street grids their division ((street code, division code or None) pairs), in one transaction; the
        number of streets changed. The grids' data version moves with it."""
        changed = 0
        with self._db.transaction():
            for street, division in pairs:
                changed += self._db.execute("UPDATE grids SET division_code = ? WHERE code = ? AND level = 1",
                                            (division, street))
            if changed:
                self._db.bump_version("grids")
        return changed

    def streets(self, code: str) -> list[str]:
        """The codes of the street grids in division ``code`` (its own and those of the divisions below it), by
        code; empty for an unknown code."""
        return [str(r[0]) for r in self._db.fetch(f"{DIVISION_STREETS_SQL} ORDER BY code", (code,))]

    def below(self, code: str) -> list[str]:
        """The codes of division ``code`` and of every division below it, by code."""
        return sorted(str(r[0]) for r in self._db.fetch(DIVISION_TREE_SQL, (code,)))
