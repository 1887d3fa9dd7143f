"""Shortest legs between stops: each stop spliced into its road as a node, then Dijkstra from every stop.

A stop snapped to a road splits that road where it lies, so the way in and
out follows the road's direction (a stop on a one-way street is entered from
its start end and left towards its far end). Lengths are metres in the
network's local frame; paths come back as WGS-84 coordinates. Dijkstra runs
in scipy's compiled csgraph from all stops at once, bounded by the longest
distance a route could travel, so the search never spreads over roads no route
could reach.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from mapserver.patrol.network import RoadNetwork, Snap

MIN_EDGE_M = 1e-3  # csgraph reads a stored zero as "no edge": a stop at a junction gets a 1 mm link instead


@dataclass(frozen=True)
class Legs:
    """Metres between stops (``metres[i, j]``, inf when j cannot be reached from i) and the paths behind them."""

    metres: np.ndarray
    stop_nodes: np.ndarray
    predecessors: np.ndarray
    piece_ids: csr_matrix  # piece number + 1 at [from node, to node]
    piece_road: np.ndarray
    piece_from_m: np.ndarray
    piece_to_m: np.ndarray
    network: RoadNetwork

    def piece(self, a: int, b: int) -> int:
        """The piece of road that leads from node a to node b."""
        start, end = self.piece_ids.indptr[a], self.piece_ids.indptr[a + 1]
        k = start + int(np.searchsorted(self.piece_ids.indices[start:end], b))
        return int(self.piece_ids.data[k]) - 1

    def subset(self, keep: Sequence[int]) -> Legs:
        """The same legs among the stops ``keep`` only (renumbered in that order)."""
        keep = list(keep)
        return Legs(metres=self.metres[np.ix_(keep, keep)], stop_nodes=self.stop_nodes[keep],
                    predecessors=self.predecessors[keep], piece_ids=self.piece_ids, piece_road=self.piece_road,
                    piece_from_m=self.piece_from_m, piece_to_m=self.piece_to_m, network=self.network)

    def path_nodes(self, i: int, j: int) -> list[int]:
        """Graph nodes on the shortest path from stop i to stop j (both ends included)."""
        target, source = int(self.stop_nodes[j]), int(self.stop_nodes[i])
        row = self.predecessors[i]
        nodes = [target]
        while nodes[-1] != source:
            previous = int(row[nodes[-1]])
            if previous < 0:
                raise ValueError(f"stop {j} is not reachable from stop {i}")
            nodes.append(previous)
        return nodes[::-1]

    def path_metres(self, i: int, j: int) -> float:
        """The length of the path from stop i to stop j, summed piece by piece (metres)."""
        nodes = self.path_nodes(i, j)
        return float(sum(abs(self.piece_to_m[p] - self.piece_from_m[p])
                         for p in (self.piece(a, b) for a, b in itertools.pairwise(nodes))))

    def path_coords(self, i: int, j: int) -> np.ndarray:
        """The path from stop i to stop j along the roads as (n, 2) WGS-84 lon/lat (may be one point)."""
        nodes = self.path_nodes(i, j)
        parts: list[np.ndarray] = []
        for a, b in itertools.pairwise(nodes):
            piece = self.piece(a, b)
            line = self.network.lines[self.piece_road[piece]]
            start, end = float(self.piece_from_m[piece]), float(self.piece_to_m[piece])
            if abs(end - start) < MIN_EDGE_M:
                continue
            # substring walks the line backwards when start > end: the piece's direction of travel.
            part = np.asarray(substring(line, start, end).coords)
            parts.append(part if not parts else part[1:])
        if not parts:
            return self.network.frame.to_wgs84(np.array([_node_xy(self, self.stop_nodes[i])]))
        return self.network.frame.to_wgs84(np.concatenate(parts))


def _node_xy(legs: Legs, node: int) -> tuple[float, float]:
    column = legs.piece_ids.tocsc()[:, node]  # a piece arriving at the node (every stop node has one)
    piece = int(column.data[0]) - 1
    line = legs.network.lines[legs.piece_road[piece]]
    return tuple(shapely.get_coordinates(line.interpolate(float(legs.piece_to_m[piece])))[0])


def shortest_legs(network: RoadNetwork, snaps: Sequence[Snap], *, limit_m: float) -> Legs:
    """Splice the snapped stops into their roads and find the shortest leg between every ordered pair.

    ``limit_m`` bounds the search: legs longer than that come back as inf.
    """
    node_count = network.node_count
    stop_nodes = np.empty(len(snaps), dtype=np.int64)
    # Stops per road, by position along it; stops at the same spot share a node.
    by_road: dict[int, dict[float, int]] = {}
    for k, snap in enumerate(snaps):
        spots = by_road.setdefault(snap.road, {})
        at = round(snap.at_m, 3)
        if at not in spots:
            spots[at] = node_count
            node_count += 1
        stop_nodes[k] = spots[at]
    # Roads without stops keep their edges as the network has them (arrays); roads with stops are cut at each stop.
    base_from, base_to, base_len, base_road = network.directed_edges()
    plain = ~np.isin(base_road, np.fromiter(by_road, dtype=np.int64, count=len(by_road)))
    forward = base_from == network.start_node[base_road]
    frm: list[int] = []
    to: list[int] = []
    road_of: list[int] = []
    from_m: list[float] = []
    to_m: list[float] = []

    def add(a: int, b: int, road: int, start: float, end: float) -> None:
        frm.append(a)
        to.append(b)
        road_of.append(road)
        from_m.append(start)
        to_m.append(end)

    for road, spots_at in by_road.items():
        u, v = int(network.start_node[road]), int(network.end_node[road])
        length = float(network.lengths[road])
        spots = sorted(spots_at.items())
        chain = [(0.0, u), *((at, node) for at, node in spots), (length, v)]
        for (at_a, a), (at_b, b) in itertools.pairwise(chain):
            if a == b:
                continue
            add(a, b, road, at_a, at_b)
            if not network.oneway[road]:
                add(b, a, road, at_b, at_a)
    frm_a = np.concatenate([base_from[plain], np.array(frm, dtype=np.int64)])
    to_a = np.concatenate([base_to[plain], np.array(to, dtype=np.int64)])
    road_a = np.concatenate([base_road[plain], np.array(road_of, dtype=np.int64)])
    piece_from = np.concatenate([np.where(forward, 0.0, base_len)[plain], np.array(from_m, dtype=float)])
    piece_to = np.concatenate([np.where(forward, base_len, 0.0)[plain], np.array(to_m, dtype=float)])
    lengths = np.maximum(np.abs(piece_to - piece_from), MIN_EDGE_M)
    # Parallel pieces between two nodes: keep the shortest (a sparse matrix would add them up).
    order = np.lexsort((lengths, to_a, frm_a))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (frm_a[order][1:] != frm_a[order][:-1]) | (to_a[order][1:] != to_a[order][:-1])
    kept = order[first]
    matrix = csr_matrix((lengths[kept], (frm_a[kept], to_a[kept])), shape=(node_count, node_count))
    metres, predecessors = dijkstra(matrix, directed=True, indices=stop_nodes, limit=limit_m,
                                    return_predecessors=True)
    piece_ids = csr_matrix((kept + 1, (frm_a[kept], to_a[kept])), shape=(node_count, node_count))
    piece_ids.sort_indices()
    return Legs(metres=metres[:, stop_nodes], stop_nodes=stop_nodes, predecessors=predecessors,
                piece_ids=piece_ids, piece_road=road_a, piece_from_m=piece_from, piece_to_m=piece_to, network=network)
