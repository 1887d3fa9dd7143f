"""After grids change: recompute the grid chain of every stored incident, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from mapserver.gridindex import GridIndex
from mapserver.store import Store


@dataclass(frozen=True)
class ReassignReport:
    """How many incidents were checked and how many changed grid (and how many now lie in none)."""

    checked: int
    moved: int
    outside: int


def grid_chain(index: GridIndex, finest: str, memo: dict[str, tuple[str | None, ...]]) -> tuple[str | None, ...]:
    """(grid_code, grid_l1 … grid_l4) for a finest base grid code ("" → all None)."""
    if finest not in memo:
        levels: list[str | None] = [None] * 4
        grid = index.grid(finest) if finest else None
        while grid is not None:
            levels[grid.level - 1] = grid.code
            grid = index.grid(grid.parent_code) if grid.parent_code else None
        memo[finest] = (finest or None, *levels)
    return memo[finest]


def reassign_incidents(store: Store, index: GridIndex) -> ReassignReport:
    """Assign every incident to the finest base grid now covering its point; write the changes in one batch."""
    ids, lons, lats, chains = store.incidents.grid_rows()
    if not ids:
        return ReassignReport(0, 0, 0)
    finest = index.assign(lons, lats)
    memo: dict[str, tuple[str | None, ...]] = {}
    changes = []
    for incident_id, code, old in zip(ids, finest.tolist(), chains, strict=True):
        new = grid_chain(index, code, memo)
        if new != old:
            changes.append((incident_id, new))
    store.incidents.set_grids(changes)
    return ReassignReport(checked=len(ids), moved=len(changes), outside=int((finest == "").sum()))
