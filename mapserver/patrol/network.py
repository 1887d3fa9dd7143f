"""The road network as a routable graph: nodes where road ends meet, directed edges in metres, snapping.

Roads arrive as WGS-84 (EPSG:4326) LineStrings. Lengths and snapping
distances are metres in a transverse Mercator frame on the WGS-84 ellipsoid
centred on the network (scale error 1 + x²/2R²: under 0.01 % within 90 km east
or west of the centre, so one frame serves a whole city's road layer). Road
ends meeting within 1e-7 degree (about 1 cm) are one node. A two-way road is
two directed edges, a one-way road (``oneway``, digitised in its direction of
travel) one.

The network is held as numpy arrays (road ends, directed edges, lengths) and
a shapely STRtree: that is what planning reads, built from the roads' columns
without a Python object per road. :attr:`RoadNetwork.graph` is the same network
as a networkx ``DiGraph`` (edge attribute ``length`` in metres), built on first
use for export and inspection. :meth:`RoadNetwork.pieces` reports the
strongly connected pieces (scipy csgraph): a closed patrol can only use the
piece its start lies on. :meth:`RoadNetwork.within` cuts the part of the
network a plan may use (the roads meeting a box) as a network of its own.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Point

from mapserver.gridindex.metric import metres_per_degree
from mapserver.model import Road

if TYPE_CHECKING:
    import networkx as nx

END_DIGITS = 7  # road ends equal to 1e-7 degree (about 1 cm) meet at one node


@functools.cache
def _tmerc(lon0: float, lat0: float) -> pyproj.Transformer:
    # A PROJ string, not an EPSG code: no lookup in PROJ's database, so nothing to reopen after a fork.
    return pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=tmerc +lat_0={float(lat0):.9f} +lon_0={float(lon0):.9f} +k_0=1 +x_0=0 +y_0=0 +ellps=WGS84")


os.register_at_fork(after_in_child=_tmerc.cache_clear)  # each process makes its own PROJ objects


@dataclass(frozen=True)
class Frame:
    """A transverse Mercator frame on the WGS-84 ellipsoid: metres east and north of (lon0, lat0), degrees."""

    lon0: float
    lat0: float

    @property
    def scale(self) -> np.ndarray:
        """Metres per degree of longitude and of latitude at the centre (for offsets of a few hundred metres)."""
        return np.array(metres_per_degree(self.lat0))

    def to_metric(self, lonlat: np.ndarray) -> np.ndarray:
        """(n, 2) lon/lat degrees → (n, 2) metres."""
        lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        x, y = _tmerc(self.lon0, self.lat0).transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])

    def to_wgs84(self, xy: np.ndarray) -> np.ndarray:
        """(n, 2) metres → (n, 2) lon/lat degrees."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        lon, lat = _tmerc(self.lon0, self.lat0).transform(xy[:, 0], xy[:, 1], direction="INVERSE")
        return np.column_stack([lon, lat])

    @classmethod
    def centred_on(cls, geoms: np.ndarray) -> Frame:
        """The frame centred on the bounding box of ``geoms`` (WGS-84); (0, 0) when there are none."""
        if len(geoms) == 0:
            return cls(0.0, 0.0)
        west, south, east, north = shapely.total_bounds(geoms)
        return cls(round(float(west + east) / 2, 6), round(float(south + north) / 2, 6))


@dataclass(frozen=True)
class Snap:
    """Where a point meets the network: road index, metres along the road's line, metres off it, the foot point."""

    road: int
    at_m: float
    offset_m: float
    lon: float
    lat: float


@dataclass(frozen=True)
class Pieces:
    """How the graph falls apart into strongly connected pieces, numbered by size (0 the largest; ties: the
    piece holding the lower node first). ``labels[node]`` is the node's piece, ``sizes[k]`` piece k's nodes."""

    labels: np.ndarray
    sizes: np.ndarray

    @property
    def count(self) -> int:
        return len(self.sizes)

    def nodes(self, piece: int) -> np.ndarray:
        """The nodes of one piece, ascending."""
        return np.flatnonzero(self.labels == piece)


class RoadNetwork:
    """Roads as a directed graph with metric lengths, and a nearest-road index for snapping.

    Road ``k`` is ``codes[k]``, its WGS-84 line ``geoms[k]``, the same line in the frame's metres ``lines[k]``,
    ``lengths[k]`` metres long, running from node ``start_node[k]`` to ``end_node[k]``. A network is never
    changed once built (its pieces and networkx graph are only filled in, once), so threads may share one.
    """

    def __init__(self, codes: np.ndarray, geoms: np.ndarray, lines: np.ndarray, oneway: np.ndarray,
                 frame: Frame) -> None:
        self.codes = np.asarray(codes, dtype=object)
        self.geoms = np.asarray(geoms, dtype=object)
        self.lines = np.asarray(lines, dtype=object)
        self.oneway = np.asarray(oneway, dtype=bool)
        self.frame = frame
        self.lengths = shapely.length(self.lines) if len(self.lines) else np.zeros(0)
        self.start_node, self.end_node, self.node_count = _end_nodes(self.geoms)
        self._edges = _directed_edges(self.start_node, self.end_node, self.lengths, self.oneway)
        self._tree = shapely.STRtree(self.lines) if len(self.lines) else None
        self._bounds = shapely.bounds(self.geoms) if len(self.geoms) else np.zeros((0, 4))
        self._pieces: Pieces | None = None
        self._graph: nx.DiGraph | None = None

    @classmethod
    def from_columns(cls, codes: Sequence[str], geoms: np.ndarray, oneway: Sequence[bool],
                     frame: Frame | None = None) -> RoadNetwork:
        """A network from the road layer's columns: codes, WGS-84 LineStrings, one-way flags.

        ``frame``: where the metres are measured from; by default the centre of the roads' bounding box.
        """
        geoms = np.asarray(geoms, dtype=object)
        frame = frame or Frame.centred_on(geoms)
        lines = geoms.copy()  # every vertex projected at once, into new lines in the copy (geoms stay as they are)
        if len(geoms):
            lines = shapely.set_coordinates(lines, frame.to_metric(shapely.get_coordinates(geoms)))
        return cls(np.asarray(codes, dtype=object), geoms, lines, np.asarray(oneway, dtype=bool), frame)

    @classmethod
    def from_roads(cls, roads: Sequence[Road], frame: Frame | None = None) -> RoadNetwork:
        """A network from road records (see :meth:`from_columns`)."""
        return cls.from_columns([r.code for r in roads], np.array([r.geom for r in roads], dtype=object),
                                [bool(r.oneway) for r in roads], frame)

    @property
    def road_count(self) -> int:
        return len(self.codes)

    def directed_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every directed road edge as arrays (from node, to node, metres, road index); loops left out.

        A two-way road gives both directions; where two roads join the same junctions in the same
        direction, only the shorter is kept.
        """
        return self._edges

    @property
    def edge_count(self) -> int:
        """Directed edges of the junction graph."""
        return len(self._edges[0])

    @property
    def graph(self) -> nx.DiGraph:
        """The junction graph as networkx: nodes 0 … node_count − 1, edges weighted by ``length`` (metres)."""
        if self._graph is None:
            import networkx as nx  # not needed to plan: loaded when the graph is first asked for

            graph = nx.DiGraph()
            graph.add_nodes_from(range(self.node_count))
            frm, to, length, _ = self._edges
            graph.add_weighted_edges_from(zip(frm.tolist(), to.tolist(), length.tolist(), strict=True),
                                          weight="length")
            self._graph = graph
        return self._graph

    def pieces(self) -> Pieces:
        """The strongly connected pieces of the graph, largest first (isolated junctions included)."""
        if self._pieces is None:
            self._pieces = _strong_pieces(self._edges[0], self._edges[1], self.node_count)
        return self._pieces

    def roads_within(self, piece: int) -> np.ndarray:
        """A mask over the roads: True for those both of whose ends lie in piece number ``piece``."""
        labels = self.pieces().labels
        return (labels[self.start_node] == piece) & (labels[self.end_node] == piece)

    def within(self, bbox: Sequence[float]) -> RoadNetwork:
        """The network of the roads intersecting ``bbox`` (west, south, east, north; WGS-84), in the same frame.

        Itself when that is every road; otherwise a new network, its roads renumbered in the same order.
        """
        if self.road_count == 0:
            return self
        area = shapely.box(*bbox)
        bounds = self._bounds
        near = np.flatnonzero((bounds[:, 0] <= bbox[2]) & (bounds[:, 2] >= bbox[0])
                              & (bounds[:, 1] <= bbox[3]) & (bounds[:, 3] >= bbox[1]))
        keep = near[shapely.intersects(self.geoms[near], area)]
        if len(keep) == self.road_count:
            return self
        return RoadNetwork(self.codes[keep], self.geoms[keep], self.lines[keep], self.oneway[keep], self.frame)

    def snap(self, lon: float, lat: float, *, within_m: float, among: np.ndarray | None = None) -> Snap | None:
        """The nearest point on a road (one where the mask ``among`` is True, when given) no farther than
        ``within_m``, or None."""
        if self._tree is None:
            return None
        xy = self.frame.to_metric(np.array([[lon, lat]]))[0]
        point = Point(xy)
        if among is None:
            indices, distances = self._tree.query_nearest(point, max_distance=within_m, return_distance=True,
                                                          all_matches=False)
        else:
            near = self._tree.query(point.buffer(within_m))  # candidates by box, then exact distance
            indices = near[among[near]]
            distances = shapely.distance(self.lines[indices], point)
        if len(indices) == 0:
            return None
        best = int(np.argmin(distances))
        road, offset = int(indices[best]), float(distances[best])
        if offset > within_m:
            return None
        line: LineString = self.lines[road]
        at = float(line.project(point))
        foot = self.frame.to_wgs84(np.array([line.interpolate(at).coords[0]]))[0]
        return Snap(road=road, at_m=at, offset_m=offset, lon=float(foot[0]), lat=float(foot[1]))


def _end_nodes(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Node number of each road's first and last vertex (ends equal to ``END_DIGITS`` decimals share one)."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0
    # From the vertex array, not a Point object per end: no Python object per road.
    last = np.cumsum(shapely.get_num_coordinates(geoms)) - 1
    coords = shapely.get_coordinates(geoms)
    firsts, lasts = coords[np.concatenate([[0], last[:-1] + 1])], coords[last]
    # One integer key per end (lon and lat in units of 1e-7 degree, each under 2^31): a 1-D unique is fast.
    ends = np.rint(np.concatenate([firsts, lasts]) * 10**END_DIGITS).astype(np.int64) + np.int64(2**31)
    _, numbers = np.unique(ends[:, 0] * 2**32 + ends[:, 1], return_inverse=True)
    numbers = numbers.reshape(-1)
    n = len(geoms)
    return numbers[:n].astype(np.int64), numbers[n:].astype(np.int64), int(numbers.max()) + 1


def _directed_edges(start: np.ndarray, end: np.ndarray, lengths: np.ndarray,
                    oneway: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    roads = np.arange(len(start))
    two_way = roads[~oneway]
    frm = np.concatenate([start, end[two_way]])
    to = np.concatenate([end, start[two_way]])
    road = np.concatenate([roads, two_way])
    length = lengths[road]
    order = np.lexsort((length, to, frm))
    order = order[frm[order] != to[order]]  # a loop returns to its own junction: it joins nothing
    first = np.ones(len(order), dtype=bool)
    first[1:] = (frm[order][1:] != frm[order][:-1]) | (to[order][1:] != to[order][:-1])
    kept = order[first]
    return frm[kept], to[kept], length[kept], road[kept]


def _strong_pieces(frm: np.ndarray, to: np.ndarray, node_count: int) -> Pieces:
    if node_count == 0:
        return Pieces(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    links = csr_matrix((np.ones(len(frm), dtype=np.int8), (frm, to)), shape=(node_count, node_count))
    count, labels = connected_components(links, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    _, lowest = np.unique(labels, return_index=True)  # each piece's lowest node (labels run 0 … count − 1)
    order = np.lexsort((lowest, -sizes))
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    return Pieces(rank[labels], sizes[order])
