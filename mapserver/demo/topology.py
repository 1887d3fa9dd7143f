"""Turn a metric tiling into a WGS-84 tiling on the 1e-7 degree grid that still tiles exactly.

Rounding each polygon's vertices on its own would open centimetre slivers wherever
one grid's corner lies on a neighbour's edge (a T-junction): over a district that
adds up to square metres of gaps and overlaps. Instead all boundaries are
converted to WGS-84 degrees, noded together with snap-rounding on the 1e-7 degree
grid (``union_all(..., grid_size)``), and polygonized: the resulting faces share
every edge and vertex with their neighbours. Each face goes back to the input
part that holds it, and a part becomes the coverage union of its faces. Parents are then
unions of their children's faces, so nesting is exact as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.demo.boundary import GRID_DEG, to_wgs84
from mapserver.demo.shapes import polygonal

SEGMENT_M = 100.0


def snap_tiling(parts_metric: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    """WGS-84 versions of metric parts that tile an area, tiling it exactly on the 1e-7 degree grid."""
    # A straight metric edge is slightly curved in degrees (millimetres over a kilometre), so a
    # neighbour's corner on it would end up beside the converted edge, leaving a thin sliver.
    # Vertices every SEGMENT_M metres keep the converted edges within micrometres of the curve,
    # well inside the snapping pixel, so the corners are snapped onto them.
    dense = shapely.segmentize(np.asarray(parts_metric, dtype=object), SEGMENT_M)
    wgs = to_wgs84(dense)
    lines = shapely.union_all(shapely.boundary(wgs), grid_size=GRID_DEG)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    owners = _owners(faces, wgs)
    order = np.argsort(owners, kind="stable")
    bounds = np.searchsorted(owners[order], np.arange(len(wgs) + 1))
    out = []
    for i in range(len(wgs)):
        mine = faces[order[bounds[i]:bounds[i + 1]]]
        out.append(union_children(mine))
    return out


def _owners(faces: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """For each face, the index of the part it lies in (lowest index on a tie)."""
    tree = shapely.STRtree(parts)
    inner = shapely.point_on_surface(faces)
    face_idx, part_idx = tree.query(inner, predicate="within")
    owners = np.full(len(faces), -1, dtype=np.int64)
    order = np.lexsort((-part_idx, face_idx))  # last write wins, so write the lowest part index last
    owners[face_idx[order]] = part_idx[order]
    for f in np.flatnonzero(owners < 0):
        # Snap-rounding slivers: give them to the part they overlap most.
        candidates = tree.query(faces[f])
        if len(candidates) == 0:
            candidates = np.asarray([tree.nearest(faces[f])])
        areas = shapely.area(shapely.intersection(parts[candidates], faces[f]))
        owners[f] = candidates[int(np.argmax(areas))]
    return owners


def union_children(children: Sequence[BaseGeometry]) -> BaseGeometry:
    """The exact union of areas that share whole edges (a coverage): no vertex moves, none is added.

    A snap-rounding union would bend edges passing near other vertices, differently
    for each parent, and open gaps between neighbours; a coverage union only drops
    the shared inner edges.
    """
    return valid_area(shapely.coverage_union_all(np.asarray(children, dtype=object)))


def valid_area(geom: BaseGeometry) -> BaseGeometry:
    """A valid Polygon or MultiPolygon: repaired (make_valid) only if GEOS finds it invalid."""
    area = polygonal(geom)
    if not area.is_valid:
        area = polygonal(shapely.make_valid(area))
    return area
