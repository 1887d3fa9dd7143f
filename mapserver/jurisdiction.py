"""A person's or token's jurisdiction (辖区): one grid and everything inside it, or the whole store.

A jurisdiction is a base grid of level 1 (street 街道), 2 (community 社区) or 3
(compound 小区); a building (level 4) is too small to work from. What lies in
it is known by the grid chain every incident carries (``grid_l1`` … ``grid_l4``):
an incident is inside a community's jurisdiction when its ``grid_l2`` is that
community's code. Other layers (cameras, places, addresses, roads) are inside
when their position lies in the grid's polygon (WGS-84, EPSG:4326). The store
turns a jurisdiction into a condition of its own queries
(:mod:`mapserver.store.scoping`); nothing is filtered after fetching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

JURISDICTION_LEVELS = (1, 2, 3)
"""Grid levels a jurisdiction may be: street, community, compound."""


@dataclass(frozen=True)
class Jurisdiction:
    """One grid's area (``code`` at ``level``) or, with neither, the whole store."""

    code: str | None = None
    level: int | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if (self.code is None) != (self.level is None):
            raise ValueError("a jurisdiction has both a grid code and its level, or neither (the whole store)")
        if self.level is not None and self.level not in JURISDICTION_LEVELS:
            raise ValueError(f"a jurisdiction is a street, community or compound grid (level 1–3), not level "
                             f"{self.level}")

    @property
    def whole(self) -> bool:
        """Whether this is the whole store (no grid)."""
        return self.code is None

    @property
    def chain_column(self) -> str:
        """The incidents' column that holds the grid of this jurisdiction's level (``grid_l1`` … ``grid_l3``)."""
        if self.level is None:
            raise ValueError("the whole store has no chain column")
        return f"grid_l{self.level}"

    def covers_chain(self, chain: Sequence[str | None]) -> bool:
        """Whether an incident with grid chain ``chain`` (l1, l2, l3, l4) lies in this jurisdiction."""
        if self.level is None:
            return True
        return len(chain) >= self.level and chain[self.level - 1] == self.code

    def covers_grid(self, code: str, ancestors: Sequence[str]) -> bool:
        """Whether the grid ``code``, whose parents are ``ancestors`` (any order), lies in this jurisdiction."""
        return self.code is None or code == self.code or self.code in ancestors


WHOLE = Jurisdiction()
"""The whole store: district-level people and tokens."""
