"""The grid tree of one demo district: four nested levels, their codes, names, households and people.

Level 1 (street office 街道 / town 镇 / township 乡) is cut from the real district
boundary, and each grid of the next level by cutting its parent (see
:mod:`mapserver.demo.partition`), so every child lies inside its parent and
siblings tile it. The cuts are kept: they become the road network. Geometry is
cut in :data:`~mapserver.demo.boundary.METRIC_CRS` metres and stored in WGS-84
degrees on the 1e-7 degree grid (:mod:`mapserver.demo.topology`); upper levels are
the exact unions of their children.

Codes follow GB/T 30428.1 practice: 6-digit county code + 3-digit street (001–099
street offices, 101–199 towns, 201–399 townships) + 3-digit community (001–199
residents' committees, 201–399 villages) + 3-digit grid serial; level 4 appends
3 digits to its parent's 15 (18 digits). People per building grid are scaled so the
district total is the published one (川汇: 758,000 over 1,663 building grids, about 456
each), and households follow from people at 2.3–3.0 people a household (the 2020 census
counted 2.62 nationally), so per-household rates come out as the district's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.demo.boundary import District, district, to_metric
from mapserver.demo.coding import name_and_code
from mapserver.demo.density import Density, make_density, mass
from mapserver.demo.partition import Cutter, partition
from mapserver.demo.shapes import polygonal
from mapserver.demo.specs import DistrictSpec
from mapserver.demo.topology import snap_tiling, union_children
from mapserver.model import Grid

PEOPLE_PER_HOUSEHOLD = (2.3, 3.0)  # drawn per building grid
SPREAD = (0.75, 1.25)  # a building grid's people relative to the district's mean


@dataclass
class Cell:
    """One base grid while it is being built (metric geometry first, WGS-84 later)."""

    level: int
    parent: int | None  # index into the previous level's list
    metric: BaseGeometry
    density: float = 0.0
    rural: bool = False
    unit: str = ""  # level 1: street / town / township
    code: str = ""
    name: str = ""
    wgs: BaseGeometry | None = None
    households: int = 0
    population: int = 0
    first_building: int = 0  # building grids in compounds: numbers of the buildings they cover
    buildings: int = 0
    children: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CutLine:
    """A cut between grids (metric LineString); ``level`` is the level of the grids it separates."""

    geom: BaseGeometry
    level: int
    parent: int | None  # index of the level−1 cell that was cut (None: the district)


@dataclass
class GridTree:
    """All base grids of one district, by level (``levels[0]`` is level 1), with the cuts between them."""

    spec: DistrictSpec
    district: District
    boundary: BaseGeometry  # WGS-84, the union of the level-1 grids
    boundary_metric: BaseGeometry
    density: Density
    orientation: float  # radians: the street grid's lean from east
    levels: list[list[Cell]]
    cuts: list[CutLine]

    def parent_of(self, cell: Cell) -> Cell | None:
        """The grid one level up, or None for level 1."""
        return None if cell.parent is None else self.levels[cell.level - 2][cell.parent]

    def ancestor(self, cell: Cell, level: int) -> Cell:
        """The grid at ``level`` (≤ the cell's own) that contains ``cell``."""
        while cell.level > level:
            parent = self.parent_of(cell)
            assert parent is not None
            cell = parent
        return cell


def build_grid_tree(spec: DistrictSpec, seed: int) -> GridTree:
    """Cut, snap, populate, name and code the four base levels of one district."""
    rng = np.random.default_rng([seed, spec.adcode, 1])
    place = district(spec.adcode)
    area = polygonal(to_metric(place.geom))
    centre = to_metric(shapely.Point(place.center))
    density = make_density(area, (centre.x, centre.y), spec.urban_share, spec.core_sigma_m, rng)
    orientation = float(rng.uniform(-0.2, 0.2))
    cutter = Cutter(density=density, orientation=orientation, jitter=math.radians(4), rng=rng)
    levels, cuts = _cut_levels(area, spec, cutter)
    _mark_units(levels, spec)
    _snap(levels)
    _count_people(levels, spec.population, rng)
    name_and_code(levels, spec, rng)
    outline = union_children([c.wgs for c in levels[0]])
    return GridTree(spec=spec, district=place, boundary=outline, boundary_metric=area, density=density,
                    orientation=orientation, levels=levels, cuts=cuts)


def allocate(total: int, weights: np.ndarray, minimum: int = 1) -> list[int]:
    """Split ``total`` into whole shares proportional to ``weights`` (largest remainder), each ≥ ``minimum``."""
    weights = np.asarray(weights, dtype=float)
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError(f"cannot give {len(weights)} parts at least {minimum} each out of {total}")
    share = weights / weights.sum() * rest
    out = np.floor(share).astype(int)
    order = np.argsort(-(share - out), kind="stable")
    out[order[: rest - int(out.sum())]] += 1
    return [int(v) + minimum for v in out]


def _cut_levels(area: BaseGeometry, spec: DistrictSpec, cutter: Cutter) -> tuple[list[list[Cell]], list[CutLine]]:
    levels: list[list[Cell]] = []
    cuts: list[CutLine] = []
    parents = [Cell(level=0, parent=None, metric=area, density=1.0)]
    for level, total in enumerate(spec.levels, start=1):
        weights = np.array([p.density * p.metric.area for p in parents])
        # Uneven loads between parents, as in real districts (some communities have 2 compounds, some 5).
        weights *= cutter.rng.lognormal(0.0, 0.25, size=len(weights))
        counts = [total] if level == 1 else allocate(total, weights)
        cells: list[Cell] = []
        for index, (parent, n) in enumerate(zip(parents, counts, strict=True)):
            parts, lines = partition(parent.metric, n, cutter)
            owner = None if level == 1 else index
            for part in _reading_order(parts):
                parent.children.append(len(cells))
                cells.append(Cell(level=level, parent=owner, metric=part))
            cuts += [CutLine(geom=line, level=level, parent=owner) for line in lines]
        for cell in cells:
            cell.density = mass(cell.metric, cutter.density, cutter.rng, 64) / cell.metric.area
        levels.append(cells)
        parents = cells
    return levels, cuts


def _reading_order(parts: list[BaseGeometry]) -> list[BaseGeometry]:
    """Parts from north-west to south-east in rows, so serial numbers read like a map."""
    if len(parts) < 2:
        return parts
    band = math.sqrt(sum(p.area for p in parts) / len(parts))
    centres = shapely.centroid(np.asarray(parts, dtype=object))
    keys = [(-math.floor(c.y / band), c.x) for c in centres]
    return [parts[i] for i in sorted(range(len(parts)), key=lambda i: keys[i])]


def _mark_units(levels: list[list[Cell]], spec: DistrictSpec) -> None:
    """Sparsest level-2 grids become villages (their descendants rural); level 1 gets street/town/township."""
    level1 = levels[0]
    by_density = sorted(range(len(level1)), key=lambda i: -level1[i].density)
    streets, towns, _ = spec.level1_kinds
    for rank, i in enumerate(by_density):
        level1[i].unit = "street" if rank < streets else "town" if rank < streets + towns else "township"
    level2 = levels[1]
    for i in sorted(range(len(level2)), key=lambda i: level2[i].density)[: spec.villages]:
        level2[i].rural = True
    for level in (2, 3):
        for cell in levels[level]:
            cell.rural = levels[level - 1][cell.parent].rural


def _snap(levels: list[list[Cell]]) -> None:
    base = levels[3]
    for cell, geom in zip(base, snap_tiling([c.metric for c in base]), strict=True):
        cell.wgs = geom
    for level in (2, 1, 0):
        for cell in levels[level]:
            cell.wgs = union_children([levels[level + 1][i].wgs for i in cell.children])


def _count_people(levels: list[list[Cell]], population: int, rng: np.random.Generator) -> None:
    """People per building grid scaled to the published total, households from people; summed upwards."""
    base = levels[3]
    people = allocate(population, rng.uniform(*SPREAD, size=len(base)), minimum=0)
    households = np.maximum(1, np.round(np.asarray(people) / rng.uniform(*PEOPLE_PER_HOUSEHOLD, size=len(base))))
    for cell, h, p in zip(base, households, people, strict=True):
        cell.households, cell.population = int(h), int(p)
    for level in (2, 1, 0):
        for cell in levels[level]:
            kids = [levels[level + 1][i] for i in cell.children]
            cell.households = sum(k.households for k in kids)
            cell.population = sum(k.population for k in kids)


def grid_records(tree: GridTree) -> list[Grid]:
    """The base grids as records, level by level, each level in code order; each street names its district
    (``division_code``, the GB/T 2260 county code)."""
    out = []
    for cells in tree.levels:
        parents = {} if cells[0].level == 1 else {i: c.code for i, c in enumerate(tree.levels[cells[0].level - 2])}
        for cell in sorted(cells, key=lambda c: c.code):
            out.append(Grid(code=cell.code, level=cell.level, name=cell.name, geom=cell.wgs,
                            parent_code=None if cell.parent is None else parents[cell.parent],
                            households=cell.households, population=cell.population,
                            division_code=str(tree.spec.adcode) if cell.level == 1 else None))
    return out
