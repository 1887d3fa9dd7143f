"""The road network of a demo district: the grid cuts, named, classed and split into edges.

Every boundary between two grids is a road: street (level-1) boundaries are
primary roads with 川汇区's main road names, community boundaries secondary
roads, compound boundaries tertiary streets and lanes, building-grid boundaries
residential roads named after their compound. The district's outer boundary is
not a road. Lines are built in :data:`~mapserver.demo.boundary.METRIC_CRS`
metres, split where another road meets them (all junctions are T-junctions or
corners: each cut ends on its parent's boundary), and stored as WGS-84
LineStrings rounded to 7 decimals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from mapserver.demo import names
from mapserver.demo.boundary import round_geometry, to_wgs84
from mapserver.demo.grids import GridTree
from mapserver.model import Road

CLASSES = {1: "primary", 2: "secondary", 3: "tertiary", 4: "residential"}
ONEWAY_SHARE = {"primary": 0.0, "secondary": 0.08, "tertiary": 0.15, "residential": 0.1}
SNAP_M = 0.01  # a line end this close to another line is a junction on it
MIN_EDGE_M = 1.0


@dataclass(frozen=True)
class NamedRoad:
    """One whole road (one cut) before splitting: metric line, name, class, one-way flag."""

    geom: LineString
    name: str
    road_class: str
    oneway: bool


@dataclass(frozen=True)
class Junction:
    """Where one road ends on another (metric point), with both roads."""

    point: Point
    through: int  # index of the road that continues
    ending: int  # index of the road that ends here


@dataclass(frozen=True)
class Network:
    """A district's roads: whole named roads, junctions, and the edge records."""

    roads: list[NamedRoad]
    junctions: list[Junction]
    records: list[Road]


def build_network(tree: GridTree, rng: np.random.Generator) -> Network:
    """Name and class every cut, split the cuts at junctions into edges, and make the records."""
    roads = _named_roads(tree, rng)
    junctions, splits = _junctions(roads)
    records: list[Road] = []
    for index, road in enumerate(roads):
        for piece in _split(road.geom, splits[index]):
            geom = round_geometry(to_wgs84(piece))
            if geom.length == 0 or len(set(geom.coords)) < 2:
                continue
            code = f"R{tree.spec.adcode}{len(records) + 1:06d}"
            records.append(Road(code=code, name=road.name, road_class=road.road_class, geom=geom,
                                oneway=road.oneway))
    return Network(roads=roads, junctions=junctions, records=records)


def _named_roads(tree: GridTree, rng: np.random.Generator) -> list[NamedRoad]:
    out: list[NamedRoad] = []
    for level, road_class in CLASSES.items():
        cuts = [c for c in tree.cuts if c.level == level]
        if level < 4:
            labels = names.road_names(rng, len(cuts), road_class)
        else:
            labels = _residential_names(tree, [c.parent for c in cuts])
        oneway = rng.random(len(cuts)) < ONEWAY_SHARE[road_class]
        out += [NamedRoad(geom=c.geom, name=label, road_class=road_class, oneway=bool(o))
                for c, label, o in zip(cuts, labels, oneway, strict=True)]
    return [r for r in out if r.geom.length >= MIN_EDGE_M]


def _residential_names(tree: GridTree, parents: list[int | None]) -> list[str]:
    """Roads inside a compound or natural village: 人和小区一号路, 前王庄二号路 …"""
    seen: dict[int, int] = {}
    out = []
    for parent in parents:
        assert parent is not None
        seen[parent] = seen.get(parent, 0) + 1
        out.append(f"{tree.levels[2][parent].name}{names.cn_number(seen[parent])}号路")
    return out


def _junctions(roads: list[NamedRoad]) -> tuple[list[Junction], list[list[float]]]:
    """Where road ends touch other roads, and for each road the distances along it to split at."""
    lines = np.asarray([r.geom for r in roads], dtype=object)
    tree = shapely.STRtree(lines)
    ends = shapely.points(np.vstack([np.asarray(r.geom.coords)[[0, -1]] for r in roads]))
    end_owner = np.repeat(np.arange(len(roads)), 2)
    end_idx, line_idx = tree.query(ends, predicate="dwithin", distance=SNAP_M)
    splits: list[list[float]] = [[] for _ in roads]
    junctions: list[Junction] = []
    for e, i in zip(end_idx, line_idx, strict=True):
        if end_owner[e] == i:
            continue
        at = float(lines[i].project(ends[e]))
        if MIN_EDGE_M < at < lines[i].length - MIN_EDGE_M:
            splits[i].append(at)
        junctions.append(Junction(point=ends[e], through=int(i), ending=int(end_owner[e])))
    return junctions, splits


def _split(line: LineString, at: list[float]) -> list[LineString]:
    """The pieces of ``line`` between the given distances along it (pieces under 1 m are dropped)."""
    cuts = [0.0, *np.unique(np.asarray(at, dtype=float)).tolist(), line.length]
    pieces = [substring(line, a, b) for a, b in itertools.pairwise(cuts) if b - a >= MIN_EDGE_M]
    return [p for p in pieces if isinstance(p, LineString)]
