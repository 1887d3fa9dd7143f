"""The area a patrol covers: grids named by code, or every grid a police liaison (网格警务员) serves.

The area's outline is the union of its grids, WGS-84 (EPSG:4326) degrees.
Unknown codes or an unknown liaison are 404 problems; a name shared by
different people is a 422 asking for grid codes instead. Grids and liaisons
are looked up in the planner's jurisdiction only: one outside it is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.gridindex.meta import POLICE_LIAISON
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Grid
from mapserver.store import Store

MAX_GRIDS = 2000  # a street's liaison serves a few hundred grids; far more is a mistake in the request


@dataclass(frozen=True)
class Area:
    """Grid codes (outermost only), their union, and the liaison whose grids they are (None for codes)."""

    codes: tuple[str, ...]
    geom: BaseGeometry
    liaison: str | None = None
    unit: str | None = None


def _outermost(grids: Sequence[Grid]) -> list[Grid]:
    # A liaison serves a community and every grid inside it: the inner ones add nothing to the outline.
    codes = {g.code for g in grids}
    return [g for g in grids if g.parent_code not in codes]


def _union(grids: Sequence[Grid], *, liaison: str | None = None, unit: str | None = None) -> Area:
    outer = _outermost(grids)
    geom = shapely.union_all([g.geom for g in outer])
    return Area(codes=tuple(sorted(g.code for g in outer)), geom=geom, liaison=liaison, unit=unit)


def area_of_grids(store: Store, codes: Sequence[str], *, within: Jurisdiction = WHOLE) -> Area:
    """The union of these grids; 404 naming every code unknown in ``within``, 422 when none is given."""
    unique = sorted(set(codes))
    if not unique:
        raise Problem(422, "the area names no grids", param="area.grids")
    if len(unique) > MAX_GRIDS:
        raise Problem(422, f"the area names {len(unique)} grids; at most {MAX_GRIDS}", param="area.grids")
    grids, missing = [], []
    for code in unique:
        grid = store.layers.get("grids", code, within=within)
        (missing.append(code) if grid is None else grids.append(grid))
    if missing:
        raise Problem(404, f"{len(missing)} unknown grid code(s): {', '.join(missing[:10])}", param="area.grids",
                      errors=[{"code": c, "reason": "no such grid"} for c in missing[:100]])
    return _union(grids)


def area_of_liaison(store: Store, name: str, *, within: Jurisdiction = WHOLE) -> Area:
    """Every grid of ``within`` whose police liaison is ``name``; 404 when no liaison there has that name, 422 when
    two people do."""
    staff = store.layers.query("grid_staff", where={"role": POLICE_LIAISON, "name": name}, within=within)
    if not staff:
        raise Problem(404, f"no police liaison named {name!r}", param="area.liaison")
    people = {(p.phone, p.unit) for p in staff}
    if len(people) > 1:
        units = sorted({u or "?" for _, u in people})
        raise Problem(422, f"{len(people)} police liaisons are named {name!r} (units: {', '.join(units)}); "
                           "name the area by grid codes", param="area.liaison")
    served = sorted({p.grid_code for p in staff})
    grids = [g for g in (store.layers.get("grids", code, within=within) for code in served) if g is not None]
    if not grids:
        raise Problem(422, f"police liaison {name!r} serves no stored grid", param="area.liaison")
    return _union(grids, liaison=name, unit=staff[0].unit)
