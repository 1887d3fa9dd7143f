"""The lon/lat raster of the cell cover, and the rule for its cell size.

Degrees are WGS-84 (EPSG:4326); the cell side is chosen in metres and turned into
degrees at the raster's mid latitude, so cells are square on the ground there.
Cell ``(i, j)`` covers lon ``[x0 + i·dx, x0 + (i+1)·dx)`` and lat ``[y0 + j·dy, y0 + (j+1)·dy)``;
its flat index is ``j·nx + i``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.gridindex.metric import metres_per_degree

CELLS_PER_GRID_SIDE = 8
"""Cell size rule: the side of a typical finest grid (√ median area) spans this many cells."""
MAX_CELLS = 4_000_000
"""Upper bound on raster cells (16 MB of int32); the cells grow when the extent would need more."""
MIN_CELL_M = 2.0


@dataclass(frozen=True)
class Raster:
    """The lon/lat raster: origin (x0, y0) and cell size (dx, dy) in degrees, nx × ny cells."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    cell_m: float
    inv_dx: float
    inv_dy: float

    @property
    def size(self) -> int:
        return self.nx * self.ny

    def cell(self, lon: float, lat: float) -> int:
        """The flat index of the cell holding a point, or -1 outside the raster (plain Python floats)."""
        u = (lon - self.x0) * self.inv_dx
        v = (lat - self.y0) * self.inv_dy
        if 0.0 <= u < self.nx and 0.0 <= v < self.ny:
            return int(v) * self.nx + int(u)
        return -1

    def uv(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell units of lon/lat degrees; lookup and build use this same arithmetic."""
        return (lon - self.x0) * self.inv_dx, (lat - self.y0) * self.inv_dy

    def holds(self, bounds: Sequence[float]) -> bool:
        """Whether a lon/lat box lies inside the raster with at least one cell to spare."""
        minx, miny, maxx, maxy = bounds
        return (minx >= self.x0 + self.dx and miny >= self.y0 + self.dy
                and maxx <= self.x0 + (self.nx - 1) * self.dx and maxy <= self.y0 + (self.ny - 1) * self.dy)

    def window(self, bounds: Sequence[float]) -> Window:
        """The cells within one cell of a lon/lat box (clipped to the raster)."""
        minx, miny, maxx, maxy = bounds
        i0 = max(math.floor((minx - self.x0) * self.inv_dx) - 1, 0)
        j0 = max(math.floor((miny - self.y0) * self.inv_dy) - 1, 0)
        i1 = min(math.floor((maxx - self.x0) * self.inv_dx) + 2, self.nx)
        j1 = min(math.floor((maxy - self.y0) * self.inv_dy) + 2, self.ny)
        return Window(i0, j0, max(i1, i0), max(j1, j0), self.nx)

    def window_bounds(self, win: Window) -> tuple[float, float, float, float]:
        """The lon/lat box of a window of cells."""
        return (self.x0 + win.i0 * self.dx, self.y0 + win.j0 * self.dy,
                self.x0 + win.i1 * self.dx, self.y0 + win.j1 * self.dy)

    @property
    def whole(self) -> Window:
        return Window(0, 0, self.nx, self.ny, self.nx)


@dataclass(frozen=True)
class Window:
    """Cells i0 ≤ i < i1, j0 ≤ j < j1 of a raster ``raster_nx`` cells wide; local index (j-j0)·w + (i-i0)."""

    i0: int
    j0: int
    i1: int
    j1: int
    raster_nx: int

    @property
    def w(self) -> int:
        return self.i1 - self.i0

    @property
    def size(self) -> int:
        return self.w * (self.j1 - self.j0)

    def to_global(self, local: np.ndarray) -> np.ndarray:
        """Raster-wide flat cell indices of local ones."""
        j, i = np.divmod(local, self.w) if self.w else (local, local)
        return (j + self.j0) * self.raster_nx + (i + self.i0)


def cell_size_m(finest: Sequence[BaseGeometry], bounds: Sequence[float]) -> float:
    """The cell side in metres: √(median finest-grid area) / CELLS_PER_GRID_SIDE, then bounded.

    Bounded below by MIN_CELL_M and by the size at which the extent would need
    more than MAX_CELLS cells.
    """
    minx, miny, maxx, maxy = bounds
    mx, my = metres_per_degree((miny + maxy) / 2)
    width_m, height_m = max((maxx - minx) * mx, 1.0), max((maxy - miny) * my, 1.0)
    if len(finest):
        areas_deg2 = shapely.area(np.asarray(finest, dtype=object))
        side_m = math.sqrt(float(np.median(areas_deg2)) * mx * my)
    else:
        side_m = math.sqrt(width_m * height_m)
    cell = side_m / CELLS_PER_GRID_SIDE
    floor_for_cap = math.sqrt(width_m * height_m / MAX_CELLS) * 1.05
    return max(cell, MIN_CELL_M, floor_for_cap)


def raster_for(bounds: Sequence[float], cell_m: float) -> Raster:
    """A raster of ``cell_m``-metre cells (at the mid latitude) over a box, padded by one cell each side."""
    minx, miny, maxx, maxy = bounds
    mx, my = metres_per_degree((miny + maxy) / 2)
    dx, dy = cell_m / mx, cell_m / my
    x0, y0 = minx - dx, miny - dy
    nx = math.floor((maxx - x0) / dx) + 2
    ny = math.floor((maxy - y0) / dy) + 2
    return Raster(x0, y0, dx, dy, nx, ny, cell_m, 1.0 / dx, 1.0 / dy)


EMPTY_RASTER = Raster(0.0, 0.0, 1.0, 1.0, 0, 0, 0.0, 1.0, 1.0)
"""The raster of an index without grids: every point falls outside it."""
