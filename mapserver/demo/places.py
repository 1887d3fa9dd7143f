"""Key places (重点场所) of a demo district and the special grids (专属网格) drawn around some of them.

Schools, hospitals, markets, stations, parks and office towers are placed in
the denser grids (people per km², so mostly in town). Schools and hospitals get
a level-3 special grid inside their community grid, markets a level-4 one inside
their compound grid: a rectangle in :data:`~mapserver.demo.boundary.METRIC_CRS`
metres aligned with the street grid, kept at least :data:`MARGIN_M` inside the
parent so that it stays inside after rounding to 7 decimals. Special grids lie
on top of the base grids (they do not take area from them) and carry no
households. Special codes use serials 901–999 under their parent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely import affinity
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from mapserver.demo import names
from mapserver.demo.boundary import CHUANHUI, points_from_metric, round_geometry, to_metric, to_wgs84
from mapserver.demo.density import uniform_points
from mapserver.demo.grids import Cell, GridTree
from mapserver.model import Grid, Place

# kind: (places per 1,663 building grids, of which special grids, special-grid level, size in metres)
PLAN: dict[str, tuple[int, int, int, tuple[float, float]]] = {
    "school": (30, 12, 3, (220.0, 160.0)),
    "hospital": (11, 6, 3, (170.0, 120.0)),
    "market": (15, 8, 4, (120.0, 90.0)),
    "station": (5, 0, 0, (0.0, 0.0)),
    "park": (8, 0, 0, (0.0, 0.0)),
    "business_tower": (7, 0, 0, (0.0, 0.0)),
}
MARGIN_M = 5.0
TRIES = 40


@dataclass(frozen=True)
class KeyPlace:
    """A key place with its metric position (for hotspots and cameras) and its records."""

    place: Place
    point: Point  # metric
    grid: Grid | None  # its special grid, if it has one


def build_places(tree: GridTree, rng: np.random.Generator) -> list[KeyPlace]:
    """All key places of the district, in plan order; the first few of a kind get special grids."""
    ratio = len(tree.levels[3]) / 1663
    out: list[KeyPlace] = []
    rects: list[BaseGeometry] = []  # metric rectangles of the special grids so far, to keep them apart
    for kind, (count, special, level, size) in PLAN.items():
        labels = _place_names(tree, kind, max(1, round(count * ratio)), rng)
        for i, label in enumerate(labels):
            code = f"P{tree.spec.adcode}{len(out) + 1:04d}"
            made = None
            if i < round(special * ratio):
                made = _special(tree, (kind, label, code, level, size), rects, rng)
            out.append(made or _point_place(tree, kind, label, code, rng))
    return out


def _weighted_cells(cells: list[Cell], rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` cell indices drawn in proportion to people per area squared (strongly favours town centres)."""
    density = np.array([c.population / c.metric.area for c in cells])
    weights = density**2
    return rng.choice(len(cells), size=n, p=weights / weights.sum())


def _special(tree: GridTree, what: tuple[str, str, str, int, tuple[float, float]], rects: list[BaseGeometry],
             rng: np.random.Generator) -> KeyPlace | None:
    """A special grid and its place, or None when no parent had room for it."""
    kind, label, code, level, size = what
    parents = tree.levels[level - 2]
    for index in _weighted_cells(parents, rng, TRIES):
        parent = parents[int(index)]
        rect = _fit_rectangle(parent, size, tree.orientation, rng)
        if rect is None or any(rect.intersects(r) for r in rects):
            continue
        geom = round_geometry(to_wgs84(rect))
        if not geom.within(parent.wgs):
            continue
        # Serials count the district's special grids (901, 902, …), so they are unique under any parent.
        serial = 901 + len(rects)
        rects.append(rect)
        grid_code = f"{parent.code[:12]}{serial:03d}" if level == 3 else f"{parent.code}{serial:03d}"
        grid = Grid(code=grid_code, level=level, name=label, geom=geom, parent_code=parent.code, kind="special",
                    subtype=kind)
        return KeyPlace(place=Place(code=code, name=label, kind=kind, geom=geom), point=rect.centroid, grid=grid)
    return None


def _fit_rectangle(parent: Cell, size: tuple[float, float], angle: float,
                   rng: np.random.Generator) -> BaseGeometry | None:
    """A ``size`` rectangle at a random spot at least MARGIN_M inside ``parent``, or None if none fits."""
    room = to_metric(parent.wgs).buffer(-(np.hypot(*size) / 2 + MARGIN_M))
    if room.is_empty:
        return None
    spot = uniform_points(room, rng, 1)
    if len(spot) == 0:
        return None
    x, y = spot[0]
    rect = box(x - size[0] / 2, y - size[1] / 2, x + size[0] / 2, y + size[1] / 2)
    return affinity.rotate(rect, angle, origin=(x, y), use_radians=True)


def _point_place(tree: GridTree, kind: str, label: str, code: str, rng: np.random.Generator) -> KeyPlace:
    cells = tree.levels[3]
    cell = cells[int(_weighted_cells(cells, rng, 1)[0])]
    inner = cell.metric.buffer(-MARGIN_M)
    xy = uniform_points(cell.metric if inner.is_empty else inner, rng, 1)
    if len(xy) == 0:
        xy = np.asarray(cell.metric.representative_point().coords)
    geom = points_from_metric(xy[:, 0], xy[:, 1])[0]
    return KeyPlace(place=Place(code=code, name=label, kind=kind, geom=geom), point=Point(xy[0]), grid=None)


def _place_names(tree: GridTree, kind: str, n: int, rng: np.random.Generator) -> list[str]:
    """Place names: 周口市… for the city district, the county's own name elsewhere."""
    city = "周口市" if tree.spec.adcode == CHUANHUI else tree.district.name
    words = names.unique_words(rng, names.PLACE_WORDS, n, ("东", "西", "南", "北"))
    fixed = {
        "school": [f"{city}第{names.cn_number(i)}高级中学" for i in range(1, 5)]
        + [f"{city}第{names.cn_number(i)}初级中学" for i in range(1, 9)],
        "hospital": [f"{city}中心医院", f"{city}人民医院", f"{city}中医院", f"{city}妇幼保健院"],
        "market": [f"{city}农产品批发市场"],
        "station": [f"{city.removesuffix('市')}汽车站", f"{city.removesuffix('市')}中心站",
                    f"{city.removesuffix('市')}汽车南站"],
        "park": [f"{city}人民公园", "沙颍河湿地公园" if city == "周口市" else f"{city}森林公园"],
        "business_tower": [],
    }[kind]
    pattern = {"school": "{}小学", "hospital": "{}社区卫生服务中心", "market": "{}农贸市场",
               "station": "{}公交首末站", "park": "{}游园", "business_tower": "{}大厦"}[kind]
    return (fixed + [pattern.format(w) for w in words])[:n]
