"""The cell cover: a regular lon/lat raster over the grids that answers most points with one table read.

Coordinates are WGS-84 (EPSG:4326) degrees; raster cells are addressed in *cell
units* ``u = (lon - x0) / dx``, ``v = (lat - y0) / dy``, cell ``(i, j)`` being the
half-open square ``[i, i+1) × [j, j+1)``. Grids are identified by *slots*
(small integers given by the index); :func:`cover_window` takes the base grids
best first (finest level, then smallest code) and the first of them covering a
point is its answer. Geometries must be valid (the store refuses invalid ones).

Each cell is classified without testing any point against a polygon:

* **boundary cells** — every cell within ``EPS_CELL`` of some grid's boundary,
  found from the boundary segments: each is cut into pieces no longer than a
  cell, and a piece marks the cells of its bounding box that its line passes
  within ``EPS_CELL`` of (a separating-axis test) — a slight superset, never a miss;
* **inside/outside** for every other (cell, grid) pair — by scan-line filling at
  the cell centres (even-odd rule, so holes and multipolygons need nothing extra):
  a cell no boundary comes near is either wholly inside a grid or wholly outside.

A cell where the winning grid covers it wholly and no better grid comes near is
*uniform*: ``table[cell]`` holds that grid's slot (or -1 for none). Any other cell
is *mixed*: ``table[cell] = -2 - m`` and mixed entry ``m`` lists, best first, the
grids that must be tested exactly (``shapely.intersects_xy``, i.e. closed
polygons, PostGIS ``ST_Covers``) and the *default* slot that covers the whole cell
when none of them does. The first hit is therefore the best grid covering the point.

Because cells are widened by ``EPS_CELL`` (1e-6 of a cell, far above the 1e-13
rounding of ``u`` and ``v``) a point whose cell index rounds to a neighbour still
gets its exact answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.gridindex.raster import EMPTY_RASTER, Raster, Window

EPS_CELL = 1e-6
"""How far (in cells) a boundary may be from a cell and still make it a boundary cell."""
NO_GRID = -1
_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Edges:
    """Polygon ring edges in cell units, each with the slot of the grid it bounds."""

    u1: np.ndarray
    v1: np.ndarray
    u2: np.ndarray
    v2: np.ndarray
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)


def edges_of(raster: Raster, geoms: Sequence[BaseGeometry], owners: Sequence[int]) -> Edges:
    """Every ring edge (exteriors and holes) of the given geometries, each with its owner number."""
    parts, part_of = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    u, v = raster.uv(np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1]))
    start = np.nonzero(coord_of[1:] == coord_of[:-1])[0]  # an edge joins two points of one ring
    ring_owner = np.asarray(owners, dtype=np.int64)[part_of[ring_of]]
    return Edges(u[start], v[start], u[start + 1], v[start + 1], ring_owner[coord_of[start]])


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with ``counts`` copies each: the item of every copy and its number within the item."""
    item = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return item, np.arange(len(item)) - first[item]


def fill_pairs(edges: Edges, win: Window) -> tuple[np.ndarray, np.ndarray]:
    """(local cell, owner) for every window cell whose centre lies inside a grid (scan lines, even-odd)."""
    vmin, vmax = np.minimum(edges.v1, edges.v2), np.maximum(edges.v1, edges.v2)
    # Row j (centre v = j + 0.5) crosses an edge when vmin ≤ j + 0.5 < vmax: half-open, so a
    # vertex on the scan line is counted once and every ring crosses a row an even number of times.
    row0 = np.maximum(np.ceil(vmin - 0.5), win.j0).astype(np.int64)
    row1 = np.minimum(np.ceil(vmax - 0.5), win.j1).astype(np.int64)
    edge, k = _expand(np.maximum(row1 - row0, 0))
    row = row0[edge] + k
    v1, u1 = edges.v1[edge], edges.u1[edge]
    cross_u = u1 + (row + 0.5 - v1) * (edges.u2[edge] - u1) / (edges.v2[edge] - v1)
    owner = edges.owner[edge]
    order = np.lexsort((cross_u, row, owner))
    enter, leave = order[0::2], order[1::2]
    first = np.maximum(np.ceil(cross_u[enter] - 0.5), win.i0).astype(np.int64)
    last = np.minimum(np.floor(cross_u[leave] - 0.5), win.i1 - 1).astype(np.int64)
    run, k = _expand(np.maximum(last - first + 1, 0))
    cells = (row[enter][run] - win.j0) * win.w + (first[run] + k - win.i0)
    return cells, owner[enter][run]


def boundary_keys(edges: Edges, win: Window, owners: int) -> np.ndarray:
    """Sorted unique ``local cell * owners + owner`` for every window cell within EPS_CELL of a grid's boundary."""
    inner, in_window, cells = _edges_inside_one_cell(edges, win)
    short_keys = cells * owners + edges.owner[in_window]
    # Densely digitised boundaries give runs of edges in one cell: drop repeats before sorting.
    if len(short_keys) > 1:
        short_keys = short_keys[np.concatenate(([True], short_keys[1:] != short_keys[:-1]))]
    crossing = _crossed_cells(edges, np.nonzero(~inner)[0], win, owners)
    return _sorted_unique(np.concatenate([short_keys, crossing]))


def _edges_inside_one_cell(edges: Edges, win: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges lying inside one cell, more than EPS_CELL from its sides: (all such, those in the window, their cells).

    A cell is convex, so such an edge comes near no other cell: the common case for
    boundaries digitised with vertices every few metres. Cells are local to the window.
    """
    i, j = np.floor(edges.u1), np.floor(edges.v1)
    inner = (np.floor(edges.u2) == i) & (np.floor(edges.v2) == j)
    for u, v in ((edges.u1, edges.v1), (edges.u2, edges.v2)):
        inner &= (u - i > EPS_CELL) & (i + 1 - u > EPS_CELL) & (v - j > EPS_CELL) & (j + 1 - v > EPS_CELL)
    in_window = inner & (i >= win.i0) & (i < win.i1) & (j >= win.j0) & (j < win.j1)
    cells = (j[in_window].astype(np.int64) - win.j0) * win.w + (i[in_window].astype(np.int64) - win.i0)
    return inner, in_window, cells


def _crossed_cells(edges: Edges, which: np.ndarray, win: Window, owners: int) -> np.ndarray:
    """Keys of the window cells within EPS_CELL of the given edges (cut into pieces of at most one cell)."""
    du, dv = edges.u2[which] - edges.u1[which], edges.v2[which] - edges.v1[which]
    pieces = np.maximum(np.ceil(np.maximum(np.abs(du), np.abs(dv))), 1).astype(np.int64)
    edge, k = _expand(pieces)
    t0, t1 = k / pieces[edge], (k + 1) / pieces[edge]
    u1, v1 = edges.u1[which][edge], edges.v1[which][edge]
    ua, ub = u1 + t0 * du[edge], u1 + t1 * du[edge]
    va, vb = v1 + t0 * dv[edge], v1 + t1 * dv[edge]
    i0 = np.maximum(np.floor(np.minimum(ua, ub) - EPS_CELL), win.i0).astype(np.int64)
    i1 = np.minimum(np.floor(np.maximum(ua, ub) + EPS_CELL), win.i1 - 1).astype(np.int64)
    j0 = np.maximum(np.floor(np.minimum(va, vb) - EPS_CELL), win.j0).astype(np.int64)
    j1 = np.minimum(np.floor(np.maximum(va, vb) + EPS_CELL), win.j1 - 1).astype(np.int64)
    ni, nj = np.maximum(i1 - i0 + 1, 0), np.maximum(j1 - j0 + 1, 0)
    piece, k = _expand(ni * nj)
    di, dj = np.divmod(k, nj[piece])
    ci, cj = i0[piece] + di, j0[piece] + dj
    crossed = _piece_meets_cell(ua[piece], va[piece], du[edge[piece]], dv[edge[piece]], ci, cj)
    piece, ci, cj = piece[crossed], ci[crossed], cj[crossed]
    cells = (cj - win.j0) * win.w + (ci - win.i0)
    return cells * owners + edges.owner[which][edge[piece]]


def _piece_meets_cell(ua: np.ndarray, va: np.ndarray, du: np.ndarray, dv: np.ndarray, ci: np.ndarray,
                      cj: np.ndarray) -> np.ndarray:
    """Whether the line through a piece passes within EPS_CELL of cell (ci, cj) (separating-axis test).

    The piece's bounding box already meets the cell, so the line test alone decides; it
    drops about a third of the cells the boxes mark.
    """
    # Signed side of the four cell corners relative to the line; all on one side → no contact.
    x, y = ci - ua, cj - va
    side = (x * dv - y * du, (x + 1) * dv - y * du, x * dv - (y + 1) * du, (x + 1) * dv - (y + 1) * du)
    margin = EPS_CELL * (np.abs(du) + np.abs(dv)) * 2
    low = np.minimum(np.minimum(side[0], side[1]), np.minimum(side[2], side[3]))
    high = np.maximum(np.maximum(side[0], side[1]), np.maximum(side[2], side[3]))
    return (low <= margin) & (high >= -margin)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting, which beats numpy 2's hash-based unique on millions of int64."""
    keys = np.sort(keys)
    if not len(keys):
        return keys
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each key is in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


def _whole_pairs(win: Window, bkeys: np.ndarray, bcell: np.ndarray, fcell: np.ndarray, fowner: np.ndarray,
                 owners: int) -> np.ndarray:
    """Which filled (cell, grid) pairs have no boundary of that grid near the cell: the grid covers it wholly."""
    near_boundary = np.zeros(win.size, dtype=bool)
    near_boundary[bcell] = True
    whole = np.ones(len(fcell), dtype=bool)
    check = np.nonzero(near_boundary[fcell])[0]  # elsewhere no boundary at all comes near the cell
    whole[check] = ~_member(bkeys, fcell[check] * owners + fowner[check])
    return whole


@dataclass(frozen=True)
class Patch:
    """The cover of one window: per cell a slot, -1, or -2 - m for the m-th mixed entry listed here."""

    win: Window
    values: np.ndarray
    ptr: np.ndarray
    cands: np.ndarray
    default: np.ndarray


def _pairs(raster: Raster, win: Window, geoms: Sequence[BaseGeometry]) -> tuple[np.ndarray, ...]:
    """Boundary and fill pairs of a window for grids numbered 0..n-1 in the order given.

    Returns (sorted unique boundary keys, their cells, their grids, filled cells, their grids, whole):
    ``whole`` marks the filled pairs whose grid covers the whole cell.
    """
    n = len(geoms)
    edges = edges_of(raster, geoms, np.arange(n))
    bkeys = boundary_keys(edges, win, max(n, 1))
    bcell, bgrid = np.divmod(bkeys, max(n, 1))
    fcell, fgrid = fill_pairs(edges, win)
    return bkeys, bcell, bgrid, fcell, fgrid, _whole_pairs(win, bkeys, bcell, fcell, fgrid, max(n, 1))


def cover_window(raster: Raster, win: Window, geoms: Sequence[BaseGeometry], slots: Sequence[int]) -> Patch:
    """Classify the cells of a window against the base grids that reach it.

    ``slots`` (with their ``geoms``) must come best first: finest level, then smallest code.
    Within this function a grid's position in that order is its rank.
    """
    slots = np.asarray(slots, dtype=np.int32)
    _, bcell, brank, fcell, frank, whole = _pairs(raster, win, geoms)
    best = np.full(win.size, _BIG, dtype=np.int64)
    np.minimum.at(best, fcell[whole], frank[whole])
    # Only grids better than the one covering the whole cell need an exact test.
    keep = brank < best[bcell]
    ccell, crank = bcell[keep], brank[keep]
    order = np.lexsort((crank, ccell))
    ccell, crank = ccell[order], crank[order]
    values = np.full(win.size, NO_GRID, dtype=np.int32)
    covered = best != _BIG
    values[covered] = slots[best[covered]]
    mixed_cells, counts = np.unique(ccell, return_counts=True)
    default = values[mixed_cells].copy()
    values[mixed_cells] = -2 - np.arange(len(mixed_cells), dtype=np.int32)
    ptr = np.zeros(len(mixed_cells) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return Patch(win, values, ptr, slots[crank], default)


class BaseCover:
    """The finest-base-grid answer for every cell: a flat int32 table plus the mixed entries (CSR arrays).

    Immutable once built: :meth:`patched` returns a new cover, so readers on other
    threads always see one consistent cover.
    """

    __slots__ = ("_cands_mv", "_default_mv", "_ptr_mv", "_table_mv", "cands", "default", "ptr", "raster", "table")

    def __init__(self, raster: Raster, table: np.ndarray, ptr: np.ndarray, cands: np.ndarray,
                 default: np.ndarray) -> None:
        self.raster, self.table, self.ptr, self.cands, self.default = raster, table, ptr, cands, default
        # memoryviews: item access from Python is several times cheaper than numpy scalar indexing
        self._table_mv, self._ptr_mv = memoryview(table), memoryview(ptr)
        self._cands_mv, self._default_mv = memoryview(cands), memoryview(default)

    @classmethod
    def empty(cls) -> BaseCover:
        """The cover of an index without grids."""
        return cls(EMPTY_RASTER, np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32),
                   np.zeros(0, np.int32))

    @classmethod
    def from_patch(cls, raster: Raster, patch: Patch) -> BaseCover:
        """A cover from the patch of the whole raster."""
        return cls(raster, patch.values, patch.ptr, patch.cands, patch.default)

    def patched(self, patch: Patch) -> BaseCover:
        """A new cover with a window replaced; the old mixed entries of that window are left unused."""
        offset = len(self.default)
        values = patch.values.copy()
        values[values < NO_GRID] -= offset
        table = self.table.copy()
        table[patch.win.to_global(np.arange(patch.win.size))] = values
        ptr = np.concatenate([self.ptr, patch.ptr[1:] + self.ptr[-1]])
        return BaseCover(self.raster, table, ptr, np.concatenate([self.cands, patch.cands]),
                         np.concatenate([self.default, patch.default]))

    @property
    def mixed_entries(self) -> int:
        return len(self.default)

    def slot_at(self, cell: int, lon: float, lat: float, geoms: Sequence[BaseGeometry]) -> int:
        """The best base grid slot covering a point in ``cell`` (-1 for none, or for cell -1), in plain Python."""
        if cell < 0:
            return NO_GRID
        value = self._table_mv[cell]
        if value >= NO_GRID:
            return value
        m = -2 - value
        cands = self._cands_mv
        for k in range(self._ptr_mv[m], self._ptr_mv[m + 1]):
            slot = cands[k]
            if shapely.intersects_xy(geoms[slot], lon, lat):
                return slot
        return self._default_mv[m]

    def slots_at(self, lon: np.ndarray, lat: np.ndarray, geoms: np.ndarray) -> np.ndarray:
        """The best base grid slot covering each point (-1 for none); ``geoms`` is an object array by slot."""
        r = self.raster
        u, v = r.uv(lon, lat)
        ok = np.nonzero((u >= 0) & (u < r.nx) & (v >= 0) & (v < r.ny))[0]  # NaN fails every comparison
        out = np.full(len(lon), NO_GRID, dtype=np.int32)
        values = self.table[v[ok].astype(np.int64) * r.nx + u[ok].astype(np.int64)]
        out[ok] = values
        mixed = values < NO_GRID
        if mixed.any():
            at = ok[mixed]
            out[at] = self._resolve(-2 - values[mixed], lon[at], lat[at], geoms)
        return out

    def _resolve(self, entry: np.ndarray, lon: np.ndarray, lat: np.ndarray, geoms: np.ndarray) -> np.ndarray:
        """Exact tests for points in mixed cells, one vectorised round per candidate rank."""
        start = self.ptr[entry]
        count = self.ptr[entry + 1] - start
        out = self.default[entry].copy()
        todo = np.arange(len(entry))
        rank = 0
        while len(todo):
            todo = todo[count[todo] > rank]
            if not len(todo):
                break
            slot = self.cands[start[todo] + rank]
            hit = shapely.intersects_xy(geoms[slot], lon[todo], lat[todo])
            out[todo[hit]] = slot[hit]
            todo = todo[~hit]
            rank += 1
        return out


SpecialEntry = tuple[tuple[int, ...], tuple[int, ...]]
"""Special grids at one cell: (slots covering the whole cell, slots to test exactly)."""


def special_cells(raster: Raster, win: Window, geoms: Sequence[BaseGeometry],
                  slots: Sequence[int]) -> dict[int, SpecialEntry]:
    """Raster-wide cell → special grids there, for the cells of a window; cells with none are left out.

    Special grids overlap each other and the base grids, so they get no winner per cell, only lists.
    """
    if not len(slots):
        return {}
    slots = np.asarray(slots, dtype=np.int64)
    _, bcell, bgrid, fcell, fgrid, whole = _pairs(raster, win, geoms)
    found: dict[int, tuple[list[int], list[int]]] = {}
    for cell, slot in zip(win.to_global(fcell[whole]).tolist(), slots[fgrid[whole]].tolist(), strict=True):
        found.setdefault(cell, ([], []))[0].append(slot)
    for cell, slot in zip(win.to_global(bcell).tolist(), slots[bgrid].tolist(), strict=True):
        found.setdefault(cell, ([], []))[1].append(slot)
    return {cell: (tuple(full), tuple(partial)) for cell, (full, partial) in found.items()}
