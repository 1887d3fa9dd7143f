"""Grid topology checks: gaps and overlaps within each level, children outside their parent, household load.

Grids must nest and tile ("seamless joins", DOMAIN.md): within a level, base
grids should neither overlap nor leave holes in the district (the union of the
level-1 grids), every child should lie inside its parent, and a leaf base grid
should hold the configured households (``grids.households_per_base_grid``; the
standard's 300–500 by default). Geometry is compared in WGS-84 degrees (no
projection, so shared edges stay exactly shared); areas are scaled to square
metres at each finding's latitude on the WGS-84 ellipsoid; locations are the
longitude/latitude of a point inside each finding. Findings smaller than ``min_area_m2`` are ignored as slivers.
Special grids overlap base grids by design and are left out of the level checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.gridindex.metric import metres_per_degree
from mapserver.model import Grid

HOUSEHOLDS_PER_BASE_GRID = (300, 500)  # the standard's base grid (DOMAIN.md: 300–500 households)


def area_m2(geom: BaseGeometry) -> float:
    """Area in m² of a geometry given in degrees, scaled at its own latitude (exact for city-sized findings
    to well under 0.1%)."""
    if geom.is_empty:
        return 0.0
    per_lon, per_lat = metres_per_degree(geom.centroid.y)
    return geom.area * per_lon * per_lat


def _where(geom: BaseGeometry) -> list[float]:
    point = geom.representative_point()
    return [round(point.x, 7), round(point.y, 7)]


def _pieces(geom: BaseGeometry) -> list[BaseGeometry]:
    return [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]


def _overlaps(codes: list[str], shapes: list[BaseGeometry], min_area: float) -> list[dict[str, Any]]:
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    out = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        shared = shapes[i].intersection(shapes[j])
        if (area := area_m2(shared)) >= min_area:
            out.append({"a": codes[i], "b": codes[j], "area_m2": round(area, 1), "location": _where(shared)})
    return out


def _gaps(union: BaseGeometry, district: BaseGeometry, min_area: float) -> list[dict[str, Any]]:
    holes = [shapely.Polygon(ring) for part in _pieces(union) for ring in part.interiors]
    found = [(g, area_m2(g)) for g in [*holes, *_pieces(district.difference(union))]]
    return [{"area_m2": round(a, 1), "location": _where(g)} for g, a in found if a >= min_area]


def _outside_parent(grids: Sequence[Grid], shapes: dict[str, BaseGeometry], min_area: float) -> list[dict[str, Any]]:
    out = []
    for grid in grids:
        parent = shapes.get(grid.parent_code or "")
        if parent is None:
            continue
        outside = shapes[grid.code].difference(parent)
        if (area := area_m2(outside)) >= min_area:
            out.append({"code": grid.code, "parent_code": grid.parent_code, "area_m2": round(area, 1),
                        "location": _where(outside)})
    return out


def _household_warnings(base: Sequence[Grid], households: tuple[int, int]) -> list[dict[str, Any]]:
    parents = {g.parent_code for g in base}
    low, high = households
    return [{"code": g.code, "households": g.households, "expected": [low, high]}
            for g in base if g.code not in parents and g.households is not None and not low <= g.households <= high]


def check_grids(grids: Sequence[Grid], *, min_area_m2: float = 1.0,
                households: tuple[int, int] = HOUSEHOLDS_PER_BASE_GRID) -> dict[str, Any]:
    """Every topology finding over the grids given (usually all grids of the store); a leaf base grid whose
    households fall outside ``households`` (inclusive) is warned about."""
    base = [g for g in grids if g.kind == "base"]
    if not base:
        return {"grids": 0, "levels": {}, "outside_parent": [], "household_warnings": []}
    shapes = {g.code: g.geom for g in base}
    top = min(g.level for g in base)
    district = shapely.union_all([g.geom for g in base if g.level == top])
    levels = {}
    for level in sorted({g.level for g in base}):
        codes = sorted(g.code for g in base if g.level == level)
        members = [shapes[c] for c in codes]
        levels[level] = {
            "grids": len(codes),
            "overlaps": _overlaps(codes, members, min_area_m2),
            "gaps": _gaps(shapely.union_all(members), district, min_area_m2),
        }
    return {
        "grids": len(base),
        "levels": levels,
        "outside_parent": _outside_parent(base, shapes, min_area_m2),
        "household_warnings": _household_warnings(base, households),
    }


def is_clean(report: dict[str, Any]) -> bool:
    """No overlap, gap or child outside its parent (household warnings do not count)."""
    return not report["outside_parent"] and all(not v["overlaps"] and not v["gaps"] for v in report["levels"].values())
