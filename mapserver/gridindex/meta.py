"""What a lookup returns besides geometry: grid references, the chain of grids, staff and the police liaison.

Everything here is computed once per (re)build or edit, per grid slot, so a
lookup inside a grid hands back a ready-made :class:`Lookup`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mapserver.model import Grid, GridStaff

POLICE_LIAISON = "police_liaison"


@dataclass(frozen=True, slots=True)
class GridRef:
    """A grid as a lookup names it: code, name, level (1 street … 4 building), kind (base/special), subtype."""

    code: str
    name: str
    level: int
    kind: str
    subtype: str | None = None

    @classmethod
    def of(cls, grid: Grid) -> GridRef:
        return cls(grid.code, grid.name, grid.level, grid.kind, grid.subtype)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer for one point (WGS-84 degrees).

    ``chain``: base grids from the top level found down to the finest containing (or nearest to)
    the point; ``special``: special grids covering the point, by code; ``staff``: the finest
    grid's staff; ``police_liaison``: the finest grid's, else the nearest one up the chain;
    ``match``: "within" or "nearest"; ``distance_m``: 0.0 within, else geodesic metres to the grid.
    """

    chain: tuple[GridRef, ...]
    special: tuple[GridRef, ...]
    staff: tuple[GridStaff, ...]
    police_liaison: GridStaff | None
    match: str
    distance_m: float

    @property
    def finest(self) -> GridRef:
        """The finest base grid of the chain (the one the point was assigned to)."""
        return self.chain[-1]


@dataclass(frozen=True)
class Meta:
    """Per-slot lookup material; ``codes`` is a str array by slot with "" appended, so slot -1 reads ""."""

    refs: list[GridRef | None]
    within: list[Lookup | None]
    codes: np.ndarray


def staff_by_code(staff: Sequence[GridStaff]) -> dict[str, tuple[GridStaff, ...]]:
    """Staff grouped by grid code, keeping the given order (the store's, by id)."""
    out: dict[str, list[GridStaff]] = {}
    for person in staff:
        out.setdefault(person.grid_code, []).append(person)
    return {code: tuple(people) for code, people in out.items()}


def _chains(grids: Sequence[Grid | None], base_slot_of: Mapping[str, int], targets: Collection[int],
            within: Sequence[Lookup | None]) -> dict[int, tuple[GridRef, ...]]:
    """The chain of every target slot: base grids from the top found down to it.

    ``base_slot_of`` maps the codes of live base grids only, so a chain never wanders
    into a special grid. Slots outside ``targets`` keep the chain ``within`` holds.
    """
    chains: dict[int, tuple[GridRef, ...]] = {}
    for slot in targets:
        path, seen = [], set()
        cursor: int | None = slot
        # Walk up until a parent is missing, has a chain already, or (bad data) was seen on this walk.
        while cursor is not None and cursor in targets and cursor not in chains and cursor not in seen:
            seen.add(cursor)
            path.append(cursor)
            parent = grids[cursor].parent_code
            cursor = base_slot_of.get(parent) if parent else None
        if cursor is None or cursor in seen:
            above: tuple[GridRef, ...] = ()
        else:
            above = chains[cursor] if cursor in chains else within[cursor].chain
        for member in reversed(path):
            above = (*above, GridRef.of(grids[member]))
            chains[member] = above
    return chains


def _liaison(chain: tuple[GridRef, ...], staff: Mapping[str, tuple[GridStaff, ...]]) -> GridStaff | None:
    """The finest grid's police liaison, else the nearest one up the chain."""
    for ref in reversed(chain):
        for person in staff.get(ref.code, ()):
            if person.role == POLICE_LIAISON:
                return person
    return None


def build_meta(grids: Sequence[Grid | None], base_slot_of: Mapping[str, int],
               staff: Mapping[str, tuple[GridStaff, ...]]) -> Meta:
    """Lookup material for every live slot (``grids[slot]`` is None for removed ones)."""
    empty = Meta([], [], np.array([""]))
    return update_meta(empty, grids, base_slot_of, staff, changed=range(len(grids)),
                       targets=set(base_slot_of.values()))


def update_meta(meta: Meta, grids: Sequence[Grid | None], base_slot_of: Mapping[str, int],
                staff: Mapping[str, tuple[GridStaff, ...]], *, changed: Iterable[int],
                targets: Collection[int]) -> Meta:
    """``meta`` brought up to date after edits, as a new Meta.

    ``changed``: slots added or removed since ``meta``; ``targets``: live base slots whose chain
    may differ (the edited grids and all their descendants).
    """
    grown = len(grids) - len(meta.refs)
    refs = [*meta.refs, *([None] * grown)]
    within = [*meta.within, *([None] * grown)]
    codes = np.concatenate([meta.codes[:-1], np.array([g.code if g else "" for g in grids[len(meta.refs):]], dtype=str),
                            np.array([""])])
    for slot in changed:
        grid = grids[slot]
        refs[slot] = GridRef.of(grid) if grid is not None else None
        within[slot] = None
        if grid is None:
            codes[slot] = ""
    for slot, chain in _chains(grids, base_slot_of, targets, within).items():
        grid = grids[slot]
        refs[slot] = chain[-1]
        within[slot] = Lookup(chain, (), staff.get(grid.code, ()), _liaison(chain, staff), "within", 0.0)
    return Meta(refs, within, codes)
