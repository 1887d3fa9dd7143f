"""Road crossings: "文昌大道与七一路交叉口" → the point where the two named roads of the roads layer meet.

Roads are centre lines in WGS-84 degrees; a road is every line of the layer with that name, joined. Where the two
lines cross, the crossing is their intersection; where they stop short of each other (drawn a little apart), it is
the middle of their nearest approach, when that gap is at most ``max_gap_m`` metres.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from mapserver.derived import DerivedData, Kind
from mapserver.errors import Problem

_CONNECTORS = "与和跟同及&/、×x"
_CROSSING_WORDS = re.compile(r"(?:的)?(?:十字路口|丁字路口|交叉路口|交叉口|交汇处|交口|路口)$")
_ROAD_END = re.compile(r"(?:路|街|道|巷|弄|线|桥|大道|大街|胡同|公路|环路)$")
EARTH_RADIUS_M = 6371008.8  # mean radius: a gap of tens of metres, so any sphere will do


@dataclass(frozen=True)
class Crossing:
    """Where two roads meet (WGS-84 degrees), and the gap in metres when they only come near (0 when they cross)."""

    lon: float
    lat: float
    roads: tuple[str, str]
    gap_m: float


def road_key(name: str) -> str:
    """A road name as it is compared: half-width, no spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).lower()


def parse_crossing(text: str) -> tuple[str, str] | None:
    """The two road names of a crossing query, or None when the text is not one.

    A crossing is two names joined by 与/和/跟/同/及/&//, either ending in a crossing word (交叉口, 路口, …) or
    both ending like a road (路, 街, 大道, …): "人和小区3号楼" is an address, not a crossing of 人 and 小区.
    """
    plain = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
    stripped = _CROSSING_WORDS.sub("", plain)
    worded = stripped != plain
    splits = [(stripped[:i], stripped[i + 1:]) for i, ch in enumerate(stripped) if ch in _CONNECTORS]
    splits = [(a, b) for a, b in splits if len(a) >= 2 and len(b) >= 2]
    for a, b in splits:  # both sides named like roads: the surest reading
        if _ROAD_END.search(a) and _ROAD_END.search(b):
            return a, b
    if worded and splits:
        return splits[0]
    return None


class RoadNames:
    """Every road of the store by name (:func:`road_key`), each name's lines joined; built per change of roads."""

    def __init__(self, roads: dict[str, tuple[str, BaseGeometry]]) -> None:
        self._roads = roads

    @classmethod
    def from_lines(cls, lines: list[tuple[str, BaseGeometry]]) -> RoadNames:
        """From (name, line) pairs."""
        grouped: dict[str, tuple[str, list[BaseGeometry]]] = {}
        for name, geom in lines:
            grouped.setdefault(road_key(name), (name, []))[1].append(geom)
        return cls({key: (name, shapely.union_all(geoms)) for key, (name, geoms) in grouped.items()})

    def road(self, name: str) -> BaseGeometry:
        """The joined lines of the road ``name``; 422 naming it when the store has no road by that name."""
        found = self._roads.get(road_key(name))
        if found is None:
            raise Problem(422, f"no road named '{name[:60]}' is in the roads layer", param="q",
                          errors=[{"road": name[:60]}])
        return found[1]

    def crossing(self, a: str, b: str, *, max_gap_m: float) -> Crossing:
        """Where roads ``a`` and ``b`` meet; 422 naming a road not found, or saying how far apart they stay."""
        first, second = self.road(a), self.road(b)
        where = first.intersection(second)
        if not where.is_empty:
            point = where if isinstance(where, Point) else where.representative_point()
            return Crossing(point.x, point.y, (a, b), 0.0)
        p, q = nearest_points(first, second)
        gap = _metres(p, q)
        if gap > max_gap_m:
            raise Problem(422, f"'{a[:60]}' and '{b[:60]}' do not meet: they come no nearer than {gap:.0f} m "
                               f"(at most {max_gap_m:g} m counts as a crossing)", param="q")
        return Crossing((p.x + q.x) / 2, (p.y + q.y) / 2, (a, b), round(gap, 1))


def _metres(p: Point, q: Point) -> float:
    """Great-circle metres between two WGS-84 points."""
    dlat, dlon = math.radians(q.y - p.y), math.radians(q.x - p.x)
    h = math.sin(dlat / 2) ** 2 + math.cos(math.radians(p.y)) * math.cos(math.radians(q.y)) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _build(derived: DerivedData) -> RoadNames:
    return RoadNames.from_lines([(r.name, r.geom) for r in derived.store.layers.query("roads") if r.name])


ROAD_NAMES: Kind[RoadNames] = Kind("road names", layers=("roads",), build=_build)
"""The roads of a store by name, built again within a second of a change to them."""
