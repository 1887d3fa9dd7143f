"""The card shown when a grid is clicked: its chain up to the street and its figures.

The grid's staff come from ``GET /api/grid_staff?grid_code=``, which the page asks for itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.maplayers.reads import grid_chain, incidents_between, within
from mapserver.model import Grid
from mapserver.screen.measures import CLOSED_STATUS
from mapserver.store import Store


def _brief(grid: Grid) -> dict[str, Any]:
    return {"code": grid.code, "name": grid.name, "level": grid.level, "kind": grid.kind, "subtype": grid.subtype}


def grid_card(store: Store, code: str, *, since: datetime, scope: Jurisdiction = WHOLE) -> dict[str, Any]:
    """Chain (street first), households, population and counts inside the grid's polygon, of the jurisdiction
    ``scope``; 404 for a code unknown there (outside it as much as nowhere)."""
    grid = store.layers.get("grids", code, within=scope)
    if grid is None:
        raise Problem(404, f"no grid with code '{code}'", param="code")
    bounds = tuple(grid.geom.bounds)
    incidents = within(incidents_between(store, since=since, bbox=bounds, within=scope)[0], grid.geom)
    cameras = within(store.layers.query("cameras", bbox=bounds, within=scope), grid.geom)
    return {
        **_brief(grid),
        "households": grid.households,
        "population": grid.population,
        "chain": [_brief(g) for g in grid_chain(store, grid)],
        "counts": {
            "incidents": len(incidents),
            "open": sum(1 for i in incidents if i.status != CLOSED_STATUS),
            "cameras": len(cameras),
            "cameras_online": sum(1 for c in cameras if c.status == "online"),
            "children": store.layers.count("grids", where={"parent_code": code}, within=scope),
        },
    }
