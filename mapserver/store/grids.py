"""The base grids as areas: those of one level, which tile the district, and the district they make up; the
jurisdictions grids and administrative divisions make (:mod:`mapserver.jurisdiction`).

Geometries are shapely objects in WGS-84 (EPSG:4326) degrees.
"""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.jurisdiction import JURISDICTION_LEVELS, WHOLE, Jurisdiction
from mapserver.model import Grid
from mapserver.store.database import Database
from mapserver.store.divisions import DIVISION_SUBTREE_SQL, Divisions


class Grids:
    """Base grids by level, and the district as their union."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def of_level(self, level: int, *, within: Jurisdiction = WHOLE) -> list[Grid]:
        """Every base grid of one level (1 street … 4 building) inside ``within`` (the jurisdiction's grid and
        its descendants by ``parent_code``; none of a level coarser than the jurisdiction's), by code; special
        grids overlap base ones, so they are left out of areas that must tile."""
        conditions = []
        if within.is_division:
            # The division's streets and their descendants, by the same walk as its jurisdiction's grids.
            conditions.append((f"code IN ({DIVISION_SUBTREE_SQL})", (within.code,)))
        elif not within.whole:
            # Descendants found in the query (parent_code index); UNION, not UNION ALL, ends a cycle in bad data.
            conditions.append(("code IN (WITH RECURSIVE inside(code) AS (SELECT ? UNION SELECT g.code "
                               "FROM grids g JOIN inside ON g.parent_code = inside.code) SELECT code FROM inside)",
                               (within.code,)))
        return self._db.select("grids", bbox=None, where={"level": int(level), "kind": "base"}, limit=None,
                               offset=0, conditions=conditions)

    def ancestors(self, code: str) -> list[str]:
        """The codes of the grids above ``code`` by ``parent_code`` (its parent first; empty for a street or an
        unknown code)."""
        rows = self._db.fetch("WITH RECURSIVE up(code, parent_code, depth) AS (SELECT code, parent_code, 0 FROM grids "
                              "WHERE code = ? UNION ALL SELECT g.code, g.parent_code, up.depth + 1 FROM grids g "
                              "JOIN up ON g.code = up.parent_code WHERE up.depth < 8) "
                              "SELECT code FROM up WHERE depth > 0 ORDER BY depth", (code,))
        return [str(r[0]) for r in rows]

    def area(self, within: Jurisdiction) -> BaseGeometry | None:
        """The area of a jurisdiction (WGS-84): its grid's polygon, the union of a division's streets, or the
        district for the whole store; None when no such grid (or no grid at all, or no street of the division) is
        stored."""
        if within.whole:
            return self.district_area()
        if within.is_division:
            streets = self.of_level(1, within=within)
            return shapely.union_all([g.geom for g in streets]) if streets else None
        found = self._db.select("grids", bbox=None, where={"code": within.code}, limit=1, offset=0)
        return found[0].geom if found else None

    def district_area(self) -> BaseGeometry | None:
        """The district as the union of its street (level-1) grids, or None when no grids are stored."""
        streets = self.of_level(1)
        if not streets:
            return None
        return shapely.union_all([g.geom for g in streets])

    def jurisdiction(self, code: str | None, *, param: str = "grid") -> Jurisdiction:
        """The jurisdiction of grid or division ``code`` (None: the whole store); 422 naming ``param`` when no
        base grid of level 1–3 and no division has that code."""
        if code is None:
            return WHOLE
        rows = self._db.fetch("SELECT level, name FROM grids WHERE code = ? AND kind = 'base'", (code,))
        if not rows:
            found = self.division_jurisdiction(code)
            if found is None:
                raise Problem(422, f"no grid or division has the code '{code}'", param=param)
            return found
        level, name = int(rows[0][0]), rows[0][1]
        if level not in JURISDICTION_LEVELS:
            raise Problem(422, f"grid '{code}' is a building (level {level}); a jurisdiction is a street, "
                               "community or compound grid", param=param)
        return Jurisdiction(code=code, level=level, name=name)

    def division_jurisdiction(self, code: str) -> Jurisdiction | None:
        """The jurisdiction of division ``code`` with the streets in it as they are now, or None when no division
        has that code."""
        divisions = Divisions(self._db)
        found = divisions.get(code)
        if found is None:
            return None
        return Jurisdiction(code=code, division=found.level, name=found.name,
                            streets=frozenset(divisions.streets(code)), divisions=frozenset(divisions.below(code)))

    def descendants(self, code: str) -> list[str]:
        """The codes of base grid ``code`` and of every street, community or compound grid below it (level 1–3,
        the grids a jurisdiction or an account may be bound to), by code; for a division, the division, those
        below it, their streets and every such grid below those; empty for a code no grid or division has."""
        if Divisions(self._db).get(code) is not None:
            rows = self._db.fetch(f"SELECT s.code FROM ({DIVISION_SUBTREE_SQL}) s "  # noqa: S608 - SQL written here
                                  "LEFT JOIN grids g ON g.code = s.code "
                                  "WHERE g.code IS NULL OR (g.kind = 'base' AND g.level <= ?) ORDER BY s.code",
                                  (code, max(JURISDICTION_LEVELS)))
            return [str(r[0]) for r in rows]
        # UNION, not UNION ALL: should imported parents ever form a cycle, the walk ends instead of looping.
        rows = self._db.fetch(
            "WITH RECURSIVE below (code) AS ("
            " SELECT code FROM grids WHERE code = ? AND kind = 'base'"
            " UNION SELECT g.code FROM grids g JOIN below b ON g.parent_code = b.code"
            " WHERE g.kind = 'base' AND g.level <= ?) "
            "SELECT code FROM below ORDER BY code", (code, max(JURISDICTION_LEVELS)))
        return [r[0] for r in rows]
