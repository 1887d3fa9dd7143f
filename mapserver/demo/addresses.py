"""Standard addresses (标准地址, 一标三实) of a demo district, each a point inside its building grid.

In town: ``川汇区七一路118号人和小区3号楼2单元501室`` — the compound's frontage
road (the nearest tertiary-or-better road) and gate number (odd on one side of
the road, even on the other, about one number per 15 m), then building, unit
(单元), floor and room. In villages: ``川汇区搬口街道王营村前王庄三组12号``.
Each building grid gets addresses in proportion to its households. Points are
drawn in :data:`~mapserver.demo.boundary.METRIC_CRS` metres (a building per
anchor point, its units a few metres apart), stored as WGS-84 rounded to 7
decimals, and checked to lie inside the grid after rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.demo.boundary import metric_xy_to_lonlat
from mapserver.demo.density import uniform_points
from mapserver.demo.grids import Cell, GridTree, allocate
from mapserver.demo.roads import Network
from mapserver.model import Address

FRONTAGE = ("primary", "secondary", "tertiary")
NUMBER_SPACING_M = 15.0
UNIT_SPACING_M = 12.0
INSET_M = 3.0


@dataclass(frozen=True)
class AddressBook:
    """The address records and, per address, its building grid (index into ``levels[3]``) and WGS-84 lon/lat."""

    records: list[Address]
    cell: np.ndarray
    lonlat: np.ndarray


def build_addresses(tree: GridTree, network: Network, rng: np.random.Generator) -> AddressBook:
    """``spec.addresses`` addresses spread over the building grids by households."""
    base = tree.levels[3]
    counts = allocate(tree.spec.addresses, np.array([c.households for c in base], dtype=float))
    frontage = _frontages(tree, network)
    records: list[Address] = []
    cells: list[np.ndarray] = []
    points: list[np.ndarray] = []
    for index, (cell, n) in enumerate(zip(base, counts, strict=True)):
        if cell.rural:
            texts, xy, near = _village_addresses(tree, cell, n, rng)
        else:
            texts, xy, near = _compound_addresses(tree, cell, n, frontage[cell.parent], rng)
        lonlat = _inside(cell, xy, near)
        records += [Address(code=f"{cell.code}{k + 1:04d}", text=t, geom=p)
                    for k, (t, p) in enumerate(zip(texts, shapely.points(lonlat).tolist(), strict=True))]
        cells.append(np.full(len(texts), index))
        points.append(lonlat)
    return AddressBook(records=records, cell=np.concatenate(cells), lonlat=np.vstack(points))


def _frontages(tree: GridTree, network: Network) -> dict[int, tuple[str, int]]:
    """For each compound (level-3 index): its frontage road's name and its gate number."""
    roads = [r for r in network.roads if r.road_class in FRONTAGE]
    lines = np.asarray([r.geom for r in roads], dtype=object)
    index = shapely.STRtree(lines)
    out = {}
    for i, cell in enumerate(tree.levels[2]):
        gate = cell.metric.representative_point()
        road = roads[int(index.nearest(gate))]
        at = road.geom.project(gate)
        ahead = road.geom.interpolate(min(at + 1, road.geom.length))
        here = road.geom.interpolate(max(at - 1, 0))
        left = (ahead.x - here.x) * (gate.y - here.y) - (ahead.y - here.y) * (gate.x - here.x) > 0
        number = 2 * int(at // (2 * NUMBER_SPACING_M)) + (1 if left else 2)
        out[i] = (road.name, number)
    return out


def _compound_addresses(tree: GridTree, cell: Cell, n: int, frontage: tuple[str, int],
                        rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Room addresses in the grid's buildings; metric points of their units, and of their buildings."""
    road, number = frontage
    compound = tree.levels[2][cell.parent]
    units, rooms = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    floors = max(int(rng.choice([6, 7, 11, 18, 26])), -(-n // (cell.buildings * units * rooms)))
    picks = np.sort(rng.choice(cell.buildings * units * floors * rooms, size=n, replace=False))
    building, rest = np.divmod(picks, units * floors * rooms)
    unit, rest = np.divmod(rest, floors * rooms)
    floor, room = np.divmod(rest, rooms)
    anchors = _spots(cell.metric, cell.buildings, rng)
    axis = np.array([np.cos(tree.orientation), np.sin(tree.orientation)])
    offsets = (unit - (units - 1) / 2)[:, None] * UNIT_SPACING_M * axis
    xy = anchors[building] + offsets
    head = f"{tree.district.name}{road}{number}号{compound.name}"
    texts = [f"{head}{cell.first_building + b}号楼{u + 1}单元{f + 1}{r + 1:02d}室"
             for b, u, f, r in zip(building, unit, floor, room, strict=True)]
    return texts, xy, anchors[building]


def _village_addresses(tree: GridTree, cell: Cell, n: int,
                       rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """House addresses of a villagers' group; metric points twice (a house is its own fallback)."""
    # Houses cluster in the village settlement rather than spreading over the fields.
    centre = _spots(cell.metric, 1, rng)[0]
    xy = centre + rng.normal(0, 60, size=(3 * n, 2))
    xy = xy[shapely.contains_xy(cell.metric, xy[:, 0], xy[:, 1])][:n]
    if len(xy) < n:
        xy = np.vstack([xy, _spots(cell.metric, n - len(xy), rng)])
    numbers = np.sort(rng.choice(np.arange(1, 3 * n + 1), size=n, replace=False))
    village = tree.levels[1][tree.levels[2][cell.parent].parent]
    head = f"{tree.district.name}{tree.ancestor(cell, 1).name}{village.name}{cell.name}"
    return [f"{head}{k}号" for k in numbers], xy, xy


def _spots(area: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random metric points well inside an area (falling back to its representative point)."""
    inner = area.buffer(-INSET_M)
    xy = uniform_points(area if inner.is_empty else inner, rng, n)
    if len(xy) < n:
        fill = np.asarray(area.representative_point().coords)
        xy = np.vstack([xy, np.repeat(fill, n - len(xy), axis=0)])
    return xy


def _inside(cell: Cell, xy: np.ndarray, near: np.ndarray) -> np.ndarray:
    """WGS-84 lon/lat (7 decimals) of metric points, each inside the grid after rounding.

    A point that falls outside moves to its ``near`` point (its building), and failing
    that to a point known to be inside.
    """
    lonlat = metric_xy_to_lonlat(xy[:, 0], xy[:, 1])
    for fallback in (metric_xy_to_lonlat(near[:, 0], near[:, 1]), None):
        ok = shapely.contains_xy(cell.wgs, lonlat[:, 0], lonlat[:, 1])
        if ok.all():
            break
        lonlat[~ok] = _safe_point(cell) if fallback is None else fallback[~ok]
    return lonlat


def _safe_point(cell: Cell) -> np.ndarray:
    point = np.round(np.asarray(cell.wgs.representative_point().coords)[0], 7)
    if shapely.contains_xy(cell.wgs, point[0], point[1]):
        return point
    return np.asarray(cell.wgs.representative_point().coords)[0]
