"""A synthetic street lattice: a square grid of blocks as road edges, for tests and the large-network benchmark.

The lattice is laid out in metres east and north of a WGS-84 (EPSG:4326)
corner and stored as WGS-84 LineStrings, one edge per block side. Every
``oneway_every``-th street (counting east–west and north–south streets
separately, when > 0) is one-way, alternating direction, as downtown grids
often are.
"""

from __future__ import annotations

from shapely.geometry import LineString

from mapserver.gridindex.metric import metres_per_degree
from mapserver.model import Road


def street_lattice(*, west: float, south: float, blocks_x: int, blocks_y: int, block_m: float,
                   oneway_every: int = 0, prefix: str = "L") -> list[Road]:
    """Roads of a ``blocks_x`` × ``blocks_y`` lattice of ``block_m`` blocks from (west, south) in degrees.

    Edges: (blocks_x × (blocks_y + 1)) east–west plus ((blocks_x + 1) × blocks_y) north–south.
    """
    mx, my = metres_per_degree(south)
    dx, dy = block_m / mx, block_m / my
    roads: list[Road] = []

    def add(a: tuple[float, float], b: tuple[float, float], oneway: bool, street: str) -> None:
        code = f"{prefix}{len(roads) + 1:07d}"
        roads.append(Road(code=code, name=street, road_class="residential", oneway=oneway,
                          geom=LineString([(round(a[0], 7), round(a[1], 7)), (round(b[0], 7), round(b[1], 7))])))

    for j in range(blocks_y + 1):  # east–west streets
        oneway = oneway_every > 0 and j % oneway_every == 1
        eastward = (j // max(oneway_every, 1)) % 2 == 0
        for i in range(blocks_x):
            a, b = (west + i * dx, south + j * dy), (west + (i + 1) * dx, south + j * dy)
            add(a, b, oneway, f"{j + 1}路") if eastward or not oneway else add(b, a, oneway, f"{j + 1}路")
    for i in range(blocks_x + 1):  # north–south streets
        oneway = oneway_every > 0 and i % oneway_every == 1
        northward = (i // max(oneway_every, 1)) % 2 == 0
        for j in range(blocks_y):
            a, b = (west + i * dx, south + j * dy), (west + i * dx, south + (j + 1) * dy)
            add(a, b, oneway, f"{i + 1}街") if northward or not oneway else add(b, a, oneway, f"{i + 1}街")
    return roads
