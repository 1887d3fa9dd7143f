"""H3 cells: roll-up of stored-cell counts to coarser parents, hexagon outlines and centres, the cells of an area,
and the first-ring neighbour matrix.

Positions are WGS-84 (EPSG:4326) longitude/latitude degrees rounded to 6
decimals (about 0.1 m); counts are incidents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import h3
import numpy as np
from scipy import sparse
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem

MIN_RES, MAX_RES = 5, 12
DIGITS = 6
METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude at the equator


def roll_up(counts: Mapping[str, int], res: int) -> dict[str, int]:
    """Counts per cell at ``res`` from counts per stored (finer or equal) cell; 400 when a cell is coarser.

    Runs over the grouped rows only (one per stored cell), never over incidents.
    """
    out: dict[str, int] = {}
    for cell, n in counts.items():
        stored = h3.get_resolution(cell)
        if stored < res:
            raise Problem(400, f"res {res} is finer than the stored H3 resolution {stored}; ask for res ≤ {stored}",
                          param="res")
        parent = cell if stored == res else h3.cell_to_parent(cell, res)
        out[parent] = out.get(parent, 0) + int(n)
    return out


def centre(cell: str) -> tuple[float, float]:
    """The cell's centre as (lon, lat) degrees."""
    lat, lon = h3.cell_to_latlng(cell)
    return round(lon, DIGITS), round(lat, DIGITS)


def hexagon(cell: str) -> dict[str, Any]:
    """The cell's outline as a GeoJSON Polygon (lon, lat; closed ring)."""
    ring = [[round(lon, DIGITS), round(lat, DIGITS)] for lat, lon in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def reach_box(bbox: Sequence[float], res: int) -> tuple[float, float, float, float]:
    """``bbox`` (min lon, min lat, max lon, max lat) widened so that it holds every incident of every cell at
    ``res`` whose centre lies inside it, whatever finer cell the incident was stored by: two edges of a cell at
    ``res`` and two of the finest stored cell, on each side (an H3 child may stick out of its parent)."""
    margin_m = 2 * (h3.average_hexagon_edge_length(res, unit="m") + h3.average_hexagon_edge_length(MAX_RES, unit="m"))
    minx, miny, maxx, maxy = bbox
    dlat = margin_m / METRES_PER_DEGREE
    dlon = margin_m / (METRES_PER_DEGREE * max(math.cos(math.radians(max(abs(miny), abs(maxy)) + dlat)), 1e-6))
    return max(minx - dlon, -180.0), max(miny - dlat, -90.0), min(maxx + dlon, 180.0), min(maxy + dlat, 90.0)


def in_bbox(cells: Iterable[str], bbox: Sequence[float]) -> list[str]:
    """The cells whose centre lies inside ``bbox`` (min lon, min lat, max lon, max lat)."""
    minx, miny, maxx, maxy = bbox
    out = []
    for cell in cells:
        lon, lat = centre(cell)
        if minx <= lon <= maxx and miny <= lat <= maxy:
            out.append(cell)
    return out


def area_cells(area: BaseGeometry, res: int) -> list[str]:
    """Every cell at ``res`` whose centre lies inside ``area`` (H3's centroid containment), sorted."""
    return sorted(h3.geo_to_cells(area, res))


def ring_matrix(cells: Sequence[str]) -> sparse.csr_matrix:
    """Binary weights: w[i, j] = 1 when cell j is cell i or one of its first ring (k = 1), both in ``cells``.

    One H3 call per cell builds the lists (there is no vectorised grid_disk); the statistics that use the
    matrix are vectorised.
    """
    index = {cell: i for i, cell in enumerate(cells)}
    rows: list[int] = []
    cols: list[int] = []
    for i, cell in enumerate(cells):
        for other in h3.grid_disk(cell, 1):
            j = index.get(other)
            if j is not None:
                rows.append(i)
                cols.append(j)
    n = len(cells)
    data = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))
