"""The store reads the big screen shares between layers, measures and grid cards (through the store, never SQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Grid, Incident
from mapserver.store import Store
from mapserver.store.common import BBox
from mapserver.store.incidents import IncidentFilter

POINT_PAD_DEG = 1e-7


def incidents_between(store: Store, *, since: datetime, until: datetime | None = None, bbox: BBox | None = None,
                      limit: int | None = None, within: Jurisdiction = WHOLE) -> tuple[list[Incident], int]:
    """Incidents of the jurisdiction ``within`` reported in [since, until) (UTC) within ``bbox``, newest first, at
    most ``limit``; and how many match in all. The store filters by time and jurisdiction in SQL."""
    return store.incidents.query(bbox=bbox, where=IncidentFilter(since=since, until=until, within=within),
                                 limit=limit)


def within(records: Iterable[Any], area: BaseGeometry) -> list[Any]:
    """The records whose geometry intersects ``area`` (points on its edge count)."""
    shapely.prepare(area)
    return [r for r in records if area.intersects(r.geom)]


def grid_chain(store: Store, grid: Grid, *, max_depth: int = 8) -> list[Grid]:
    """The grid and its ancestors, street (level 1) first; stops at a missing parent or a loop."""
    chain = [grid]
    while chain[-1].parent_code and len(chain) < max_depth:
        parent = store.layers.get("grids", chain[-1].parent_code)
        if parent is None or parent.code in {g.code for g in chain}:
            break
        chain.append(parent)
    return chain[::-1]


def grids_at(store: Store, lon: float, lat: float) -> list[Grid]:
    """Every grid covering the point (lon, lat in degrees, WGS-84), coarsest level first."""
    point = shapely.Point(lon, lat)
    # A box of ±1e-7° (≈1 cm), not a zero-area one: PostGIS's ST_Intersects misses polygons against a degenerate
    # envelope; shapely's covers() then decides exactly.
    near = (lon - POINT_PAD_DEG, lat - POINT_PAD_DEG, lon + POINT_PAD_DEG, lat + POINT_PAD_DEG)
    covering = [g for g in store.layers.query("grids", bbox=near) if g.geom.covers(point)]
    return sorted(covering, key=lambda g: (g.level, g.kind != "base", g.code))


def level_counts(store: Store, levels: Sequence[int], *, within: Jurisdiction = WHOLE) -> dict[int, int]:
    """How many base grids of ``within`` each level has (special grids for schools, markets … sit on top and are
    not counted)."""
    return {level: store.layers.count("grids", where={"level": level, "kind": "base"}, within=within)
            for level in levels}
