"""A person's or token's jurisdiction (辖区): one grid or one administrative division and everything inside it, or
the whole store.

A grid jurisdiction is a base grid of level 1 (street 街道), 2 (community 社区) or 3 (compound 小区); a building
(level 4) is too small to work from. What lies in it is known by the grid chain every incident carries
(``grid_l1`` … ``grid_l4``): an incident is inside a community's jurisdiction when its ``grid_l2`` is that
community's code.

A division jurisdiction is an administrative division (行政区划, GB/T 2260): a province, city or county
(:data:`DIVISION_LEVELS`) of the store's ``divisions`` table. Its streets are the level-1 grids whose
``division_code`` names it or a division below it (by ``parent_code``); what lies in it is what lies in any of
those streets. Codes are never read as prefixes: the links are data (:mod:`mapserver.store.divisions`).

Other layers (cameras, places, addresses, roads) are inside when their position lies in the grid's polygon, or in
one of the division's streets' polygons (WGS-84, EPSG:4326). The store turns a jurisdiction into a condition of
its own queries (:mod:`mapserver.store.scoping`); nothing is filtered after fetching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

JURISDICTION_LEVELS = (1, 2, 3)
"""Grid levels a jurisdiction may be: street, community, compound."""

DIVISION_LEVELS = ("province", "city", "county")
"""Levels of an administrative division (省, 市, 区县), largest first."""


@dataclass(frozen=True)
class Jurisdiction:
    """One grid's area (``code`` at ``level``), one division's (``code`` at ``division``, its ``streets`` the
    street grids in it, ``divisions`` itself and those below it) or, with no code, the whole store."""

    code: str | None = None
    level: int | None = None
    name: str | None = None
    division: str | None = None
    streets: frozenset[str] = field(default=frozenset(), compare=False)
    divisions: frozenset[str] = field(default=frozenset(), compare=False)
    """For a division: its code and the codes of the divisions below it."""

    def __post_init__(self) -> None:
        if self.division is not None:
            if self.code is None or self.level is not None:
                raise ValueError("a division's jurisdiction has its code and no grid level")
            if self.division not in DIVISION_LEVELS:
                raise ValueError(f"a division is a {', '.join(DIVISION_LEVELS)}, not {self.division!r}")
            return
        if (self.code is None) != (self.level is None):
            raise ValueError("a jurisdiction has both a grid code and its level, or neither (the whole store)")
        if self.level is not None and self.level not in JURISDICTION_LEVELS:
            raise ValueError(f"a jurisdiction is a street, community or compound grid (level 1–3), not level "
                             f"{self.level}")

    @property
    def whole(self) -> bool:
        """Whether this is the whole store (no grid, no division)."""
        return self.code is None

    @property
    def is_division(self) -> bool:
        """Whether this is an administrative division's jurisdiction."""
        return self.division is not None

    @property
    def chain_column(self) -> str:
        """The incidents' column that holds the grid of this jurisdiction's level (``grid_l1`` … ``grid_l3``;
        ``grid_l1`` for a division, whose streets it holds)."""
        if self.division is not None:
            return "grid_l1"
        if self.level is None:
            raise ValueError("the whole store has no chain column")
        return f"grid_l{self.level}"

    def covers_chain(self, chain: Sequence[str | None]) -> bool:
        """Whether an incident with grid chain ``chain`` (l1, l2, l3, l4) lies in this jurisdiction."""
        if self.division is not None:
            return len(chain) >= 1 and chain[0] in self.streets
        if self.level is None:
            return True
        return len(chain) >= self.level and chain[self.level - 1] == self.code

    def covers_grid(self, code: str, ancestors: Sequence[str]) -> bool:
        """Whether the grid ``code``, whose parents are ``ancestors`` (any order), lies in this jurisdiction (for
        a division, also whether ``code`` is the division or one below it)."""
        if self.division is not None:
            return code in self.divisions or code in self.streets or any(a in self.streets for a in ancestors)
        return self.code is None or code == self.code or self.code in ancestors


WHOLE = Jurisdiction()
"""The whole store: people and tokens bound to no grid or division."""
