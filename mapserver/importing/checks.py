"""Rules that look across rows and at the store: duplicate keys, grid parents and nesting, staff grids.

Geometries are WGS-84 lon/lat degrees; areas are geodesic, in square metres on the
WGS-84 ellipsoid (:class:`pyproj.Geod`), so they hold at any latitude.

Nesting rule: a child grid must lie inside its parent. Boundaries of neighbouring
levels are often digitised separately and disagree by a hair, so a child is refused
only when the part of it outside its parent is at least 1 m² *and* at least 0.1% of
the child's own area (i.e. it is accepted when that part is under 1 m² or under 0.1%).

Overlap rule: base grids of one level must not overlap, neither two grids of the file nor
a grid of the file and a base grid of the same level already in the store. Overlaps are
found as :mod:`mapserver.topology` finds them: shapes compared in WGS-84 degrees (shared
edges stay exactly shared, so neighbours that only touch meet in a line of area 0) and the
overlap's area scaled to m² at its own latitude (:func:`mapserver.topology.area_m2`). An
overlap of at least 1 m² is refused (smaller ones are slivers, as ``check_grids`` ignores
them; a fixed 1 m² rather than a share of the area, so whatever an import lets in, the
topology check passes). Special grids overlap base grids by design and are exempt. The
caller (``import_layer(allow_overlaps=True)``, ``mapserver import --allow-overlaps``) may
turn the rule off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.model import Grid, GridStaff
from mapserver.store import Store
from mapserver.store.common import KEYS
from mapserver.topology import area_m2

NEST_TOLERANCE_M2 = 1.0
NEST_TOLERANCE_SHARE = 0.001
OVERLAP_TOLERANCE_M2 = 1.0  # the same sliver limit as mapserver.topology.check_grids(min_area_m2=1.0)
_GEOD = Geod(ellps="WGS84")

Finding = dict[str, Any]


def finding(row: int, key: Any, field: str, reason: str) -> Finding:
    """One problem as the import report lists it: row (1-based), id (when the row has one), field, reason."""
    item: Finding = {"row": row}
    if key not in (None, ""):
        item["id"] = key
    item.update(field=field, reason=reason)
    return item


def refusal(findings: list[Finding], file_name: str) -> Problem:
    """The import's 422: every finding (ordered by row as given), and that nothing was written."""
    count = f"{len(findings)} problem{'s' if len(findings) != 1 else ''}"
    return Problem(422, f"{count} in {file_name}; nothing was written", errors=findings)


def by_row(problem: Problem, numbers: Sequence[int], file_name: str) -> Problem:
    """A ``prepare`` hook's 422 whose findings name records by position (``"record"``, 1-based) as the import's
    refusal by file row (``numbers``: the row of each position); any other problem as it is."""
    if problem.status != 422 or not problem.errors or any("record" not in e for e in problem.errors):
        return problem
    findings = sorted(({"row": numbers[e["record"] - 1], **{k: v for k, v in e.items() if k != "record"}}
                       for e in problem.errors), key=lambda item: item["row"])
    return refusal(findings, file_name)


def duplicate_findings(store: Store, layer: str, keyed: Sequence[tuple[int, Any]], *,
                       stored: set[Any] | None = None) -> list[Finding]:
    """A finding for every key seen earlier in the file, and for every key the store already has (``stored``:
    those keys, when the caller looked them up already)."""
    field = KEYS[layer]
    if stored is None:
        stored = store.layers.stored_keys(layer, [k for _, k in keyed if k not in (None, "")])
    first: dict[Any, int] = {}
    out = []
    for row, key in keyed:
        if key in (None, ""):
            continue
        if key in first and first[key] != row:
            out.append(finding(row, key, field, f"{field} {key!r} appears twice in the file (first at row "
                                                f"{first[key]})"))
        elif key in stored:
            out.append(finding(row, key, field, f"{field} {key!r} is already in the store"))
        first.setdefault(key, row)
    return out


def grid_findings(store: Store, grids: Sequence[tuple[int, Grid]], codes_in_file: set[str], *,
                  allow_overlaps: bool = False) -> list[Finding]:
    """Parents exist (in the file or the store), are one level up, and contain their children; base grids of
    a level do not overlap (unless ``allow_overlaps``); a ``division_code`` is a street's and names a stored
    division.

    ``grids`` are the rows that passed every per-row check; ``codes_in_file`` holds every code
    in the file, so a child of a row refused for its own reasons is not reported twice.
    """
    out = [] if allow_overlaps else overlap_findings(store, grids)
    return out + _parent_findings(store, grids, codes_in_file) + _division_findings(store, grids)


def _division_findings(store: Store, grids: Sequence[tuple[int, Grid]]) -> list[Finding]:
    """A grid's ``division_code`` is a street's, and names a stored division."""
    named = sorted({g.division_code for _, g in grids if g.division_code})
    known = {code for code in named if store.divisions.get(code) is not None}
    out = []
    for row, grid in grids:
        if not grid.division_code:
            continue
        if grid.level != 1:
            out.append(finding(row, grid.code, "division_code",
                               f"only a street (level 1) names its division; this grid is level {grid.level}"))
        elif grid.division_code not in known:
            out.append(finding(row, grid.code, "division_code",
                               f"division {grid.division_code!r} is not in the store; import the divisions first"))
    return out


def _parent_findings(store: Store, grids: Sequence[tuple[int, Grid]], codes_in_file: set[str]) -> list[Finding]:
    by_code = {g.code: g for _, g in grids}
    wanted = sorted({g.parent_code for _, g in grids if g.parent_code and g.parent_code not in codes_in_file})
    stored = {code: store.layers.get("grids", code) for code in wanted}
    out = []
    for row, grid in grids:
        if not grid.parent_code:
            continue
        parent = by_code.get(grid.parent_code) or stored.get(grid.parent_code)
        if parent is None:
            if grid.parent_code not in codes_in_file:
                out.append(finding(row, grid.code, "parent_code",
                                   f"parent grid {grid.parent_code!r} is neither in this file nor in the store"))
            continue
        out += _nesting_findings(row, grid, parent)
    return out


def _nesting_findings(row: int, grid: Grid, parent: Grid) -> list[Finding]:
    if parent.level != grid.level - 1:
        reason = (f"parent grid {parent.code!r} is level {parent.level}; a level-{grid.level} grid needs a "
                  f"level-{grid.level - 1} parent")
        return [finding(row, grid.code, "parent_code", reason)]
    outside, area = outside_area_m2(grid.geom, parent.geom)
    if outside < NEST_TOLERANCE_M2 or outside < NEST_TOLERANCE_SHARE * area:
        return []
    share = outside / area if area else 1.0
    return [finding(row, grid.code, "geom",
                    f"not inside its parent grid {parent.code!r}: {outside:,.1f} m² ({share:.2%} of the grid) lies "
                    f"outside; allowed: under {NEST_TOLERANCE_M2:g} m² or under {NEST_TOLERANCE_SHARE:.1%}")]


def overlap_findings(store: Store, grids: Sequence[tuple[int, Grid]]) -> list[Finding]:
    """A finding for every overlap of at least ``OVERLAP_TOLERANCE_M2`` between base grids of one level.

    Each pair within the file is reported once, on the later row; an overlap with a stored grid on the
    file's row. Two grids with the same code are not compared: that row is refused as a duplicate.
    """
    base = [(row, grid) for row, grid in grids if grid.kind == "base"]
    out: list[Finding] = []
    for level in sorted({grid.level for _, grid in base}):
        mine = [(row, grid) for row, grid in base if grid.level == level]
        out += _level_overlaps(mine, _stored_base_grids(store, level, mine))
    return out


def _stored_base_grids(store: Store, level: int, mine: Sequence[tuple[int, Grid]]) -> list[Grid]:
    """The store's base grids of ``level`` within the bounding box of the file's grids of that level."""
    if store.layers.count("grids") == 0:
        return []
    bbox = shapely.total_bounds([grid.geom for _, grid in mine]).tolist()
    return store.layers.query("grids", bbox=bbox, where={"level": level, "kind": "base"})


def _level_overlaps(mine: Sequence[tuple[int, Grid]], stored: Sequence[Grid]) -> list[Finding]:
    """Overlaps among ``mine`` (file rows) and between ``mine`` and ``stored``, all of one level."""
    grids = [grid for _, grid in mine] + list(stored)
    shapes = np.array([grid.geom for grid in grids], dtype=object)
    codes = np.array([grid.code for grid in grids], dtype=object)
    # STRtree for the candidate pairs; queried with the file's shapes only, so stored pairs are never compared.
    left, right = shapely.STRtree(shapes).query(shapes[: len(mine)], predicate="intersects")
    # A file pair once (left < right); every file–store pair (right ≥ len(mine) > left); never a code with itself.
    keep = (left < right) & (codes[left] != codes[right])
    left, right = left[keep], right[keep]
    shared = shapely.intersection(shapes[left], shapes[right])  # vectorised: neighbours' shared edges are lines
    out = []
    for k in np.flatnonzero(shapely.area(shared) > 0).tolist():
        area = area_m2(shared[k])
        if area < OVERLAP_TOLERANCE_M2:
            continue
        i, j = int(left[k]), int(right[k])
        if j < len(mine):  # two rows of the file: report on the later one, naming the earlier
            (row, grid), (other_row, other) = mine[j], mine[i]
            whom = f"grid {other.code!r} (row {other_row})"
        else:
            (row, grid), other = mine[i], stored[j - len(mine)]
            whom = f"grid {other.code!r}, already in the store,"
        out.append(finding(row, grid.code, "geom", _overlap_reason(grid.level, whom, area, shared[k])))
    return out


def _overlap_reason(level: int, whom: str, area: float, shared: BaseGeometry) -> str:
    point = shared.representative_point()  # a point inside the overlap, for the person who has to fix it
    return (f"overlaps level-{level} {whom} by {area:,.1f} m² around lon {point.x:.7f}, lat {point.y:.7f}; "
            f"base grids of one level must not overlap (allowed: under {OVERLAP_TOLERANCE_M2:g} m²; "
            "--allow-overlaps imports anyway)")


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area of the polygonal parts of a lon/lat geometry, in m² on the WGS-84 ellipsoid."""
    polygons = [p for part in shapely.get_parts(geom) for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return sum(abs(_GEOD.geometry_area_perimeter(p)[0]) for p in polygons)


def outside_area_m2(child: BaseGeometry, parent: BaseGeometry) -> tuple[float, float]:
    """(area of ``child`` outside ``parent``, area of ``child``), both in m²."""
    area = geodesic_area_m2(child)
    if parent.covers(child):
        return 0.0, area
    return geodesic_area_m2(child.difference(parent)), area


def staff_findings(store: Store, staff: Sequence[tuple[int, GridStaff]]) -> list[Finding]:
    """Each person's grid is in the store, and nobody holds the same role in the same grid twice."""
    codes = sorted({s.grid_code for _, s in staff})
    known = {c for c in codes if store.layers.get("grids", c) is not None}
    stored = {(s.grid_code, s.role, s.name) for c in sorted(known)
              for s in store.layers.query("grid_staff", where={"grid_code": c})}
    first: dict[tuple[str, str, str], int] = {}
    out = []
    for row, person in staff:
        who = (person.grid_code, person.role, person.name)
        if person.grid_code not in known:
            out.append(finding(row, None, "grid_code",
                               f"grid {person.grid_code!r} is not in the store; import the grids first"))
        elif who in first:
            out.append(finding(row, None, "name", f"{person.name} is already {person.role} of grid "
                                                  f"{person.grid_code} at row {first[who]}"))
        elif who in stored:
            out.append(finding(row, None, "name", f"{person.name} is already {person.role} of grid "
                                                  f"{person.grid_code} in the store"))
        first.setdefault(who, row)
    return out
