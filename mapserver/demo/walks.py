"""A week of patrol tracks for some of the demo's grid workers: walks along the district's roads in and near their
own grid, during working hours, as a phone would report them.

Each chosen worker patrols on six of the seven days before the demo's "now" (one rest day), two or three times a
day (30–90 min each, inside 08:30–12:00 and 14:30–17:30 Beijing time), starting from the same corner of their grid
and walking at 1–1.5 m/s along the roads within :data:`NEAR_M` of it, never turning back except at a dead end. A fix
comes every 10–30 s. GPS noise: each fix reports an accuracy of 3–8 m and lies off the road by a correlated Gaussian
error of that size (about 68 % within it); 2 % are outliers 20–60 m off reporting about that; fixes reporting more
than :data:`~mapserver.tracks.fixes.MAX_ACCURACY_M` are dropped as the server would, and 2 % more are lost to
signal. Geometry is walked in :data:`~mapserver.demo.boundary.METRIC_CRS` metres; fixes are WGS-84 degrees (7
decimals) at whole UTC seconds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from scipy.spatial import cKDTree

from mapserver.demo.boundary import metric_xy_to_lonlat, to_metric
from mapserver.demo.field import FieldAccount
from mapserver.model import Grid, Road
from mapserver.tracks.fixes import MAX_ACCURACY_M

WALKERS = 80
"""Workers with a week of tracks."""
DAYS = 7
NEAR_M = 150.0
"""How far outside their grid a worker's patrol roads may go (metres)."""
NODE_SNAP_M = 0.5  # road ends this close are one junction (ends are rounded to 7 decimals)
WINDOWS = ((8.5, 10.5), (10.5, 12.0), (14.5, 17.5))
"""Patrol windows, Beijing hours: morning, late morning, afternoon."""
ZONE = ZoneInfo("Asia/Shanghai")
OUTLIER_SHARE = 0.02
LOST_SHARE = 0.02
NOISE_CORRELATION = 0.7  # a receiver's error drifts: consecutive fixes' errors are alike
RADIAL_68 = 1.515  # a 2-D Gaussian holds 68 % within 1.515 σ: the accuracy phones report


@dataclass(frozen=True)
class Walk:
    """One patrol of ``person`` (id, start and stop, UTC) and its fixes as columns: epoch seconds, WGS-84 degrees,
    accuracy in metres."""

    id: str
    person: str
    started_at: datetime
    ended_at: datetime
    seconds: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    accuracy_m: np.ndarray


class RoadGraph:
    """The district's road edges (metric) as a graph: edges meet where their ends lie within NODE_SNAP_M."""

    def __init__(self, roads: list[Road]) -> None:
        self.lines = to_metric(np.asarray([r.geom for r in roads], dtype=object))
        self.coords = [shapely.get_coordinates(line) for line in self.lines]
        ends = np.vstack([c[[0, -1]] for c in self.coords])
        parent = np.arange(len(ends))
        for a, b in sorted(cKDTree(ends).query_pairs(NODE_SNAP_M)):
            ra, rb = _root(parent, a), _root(parent, b)
            parent[max(ra, rb)] = min(ra, rb)
        roots = np.array([_root(parent, i) for i in range(len(ends))])
        self.ends = roots.reshape(-1, 2)  # each edge's start and end node (a node is named by its first end)
        self.points = ends
        self.tree = shapely.STRtree(self.lines)

    def near(self, area: shapely.Geometry) -> dict[int, list[tuple[int, bool]]]:
        """The edges inside ``area`` (metric) as adjacency: node → [(edge, walked forwards)], in a fixed order."""
        edges = np.sort(self.tree.query(area, predicate="contains"))  # whole edges: a long one leads away
        out: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        for e in edges.tolist():
            start, end = self.ends[e]
            if start != end:
                out[int(start)].append((e, True))
                out[int(end)].append((e, False))
        return out

    def walk(self, adjacency: dict[int, list[tuple[int, bool]]], start: int, length_m: float,
             rng: np.random.Generator) -> np.ndarray:
        """A path of at least ``length_m`` metres from node ``start``, turning at random at each junction and back
        only at a dead end: (n, 2) metric coordinates."""
        parts = [self.points[start][None, :]]
        node, came, walked = start, -1, 0.0
        while walked < length_m:
            options = [o for o in adjacency[node] if o[0] != came] or adjacency[node]
            edge, forwards = options[int(rng.integers(len(options)))]
            line = self.coords[edge] if forwards else self.coords[edge][::-1]
            parts.append(line[1:])
            walked += float(self.lines[edge].length)
            node, came = int(self.ends[edge][1 if forwards else 0]), edge
        return np.vstack(parts)


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = int(parent[i])
    return int(i)


def build_walks(accounts: list[FieldAccount], grids: list[Grid], roads: list[Road], rng: np.random.Generator,
                as_of: datetime) -> list[Walk]:
    """The patrols of :data:`WALKERS` building-grid workers over the :data:`DAYS` local days before ``as_of``, by
    person and time."""
    level4 = {g.code: g for g in grids if g.kind == "base" and g.level == 4}
    candidates = [a for a in accounts if a.grid_code in level4]
    if not candidates or not roads:
        return []
    chosen = np.sort(rng.choice(len(candidates), size=min(WALKERS, len(candidates)), replace=False))
    graph = RoadGraph(roads)
    today = as_of.astimezone(ZONE).date()
    days = [today - timedelta(days=k) for k in range(DAYS, 0, -1)]
    walks: list[Walk] = []
    for index in chosen.tolist():
        account = candidates[index]
        grid = to_metric(level4[account.grid_code].geom)
        adjacency = graph.near(grid.buffer(NEAR_M))
        if not adjacency:
            continue
        nodes = np.fromiter(adjacency, dtype=int)
        home = int(nodes[np.argmin(shapely.distance(shapely.points(graph.points[nodes]), grid.centroid))])
        rest = int(rng.integers(DAYS))
        for k, day in enumerate(days):
            if k == rest:
                continue
            for begin, minutes in _patrol_times(day, rng):
                walks.append(_walk(graph, adjacency, home, account.name, begin, minutes, rng))
    return walks


def _patrol_times(day, rng: np.random.Generator) -> list[tuple[datetime, float]]:
    """Two or three (start UTC, minutes) patrols in the day's windows."""
    windows = list(WINDOWS) if rng.random() < 0.5 else [WINDOWS[int(rng.integers(2))], WINDOWS[2]]
    out = []
    for lo, hi in windows:
        minutes = float(min(rng.uniform(30, 90), (hi - lo) * 60 - 5))
        start_h = lo + rng.uniform(0, (hi - lo) - minutes / 60)
        local = datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(seconds=round(start_h * 3600))
        out.append((local.astimezone(UTC), minutes))
    return out


def _walk(graph: RoadGraph, adjacency: dict[int, list[tuple[int, bool]]], home: int, person: str,
          begin: datetime, minutes: float, rng: np.random.Generator) -> Walk:
    """One patrol: the path, the fixes along it at walking pace, and their noise."""
    patrol_id = uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)), version=4).hex
    duration = minutes * 60
    steps = rng.integers(10, 31, size=int(duration / 10) + 2)
    elapsed = np.cumsum(steps)
    elapsed = elapsed[elapsed <= duration].astype(float)
    pace = rng.uniform(1.0, 1.5) * rng.uniform(0.85, 1.15, size=elapsed.size)
    along = np.cumsum(np.diff(elapsed, prepend=0.0) * pace)
    path = graph.walk(adjacency, home, float(along[-1]) + 1.0, rng)
    cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    x, y = np.interp(along, cumulative, path[:, 0]), np.interp(along, cumulative, path[:, 1])
    accuracy = rng.uniform(3.0, 8.0, size=elapsed.size)
    error = _correlated_normal(rng, elapsed.size) * (accuracy / RADIAL_68)[:, None]
    outlier = rng.random(elapsed.size) < OUTLIER_SHARE
    off, angle = rng.uniform(20, 60, size=elapsed.size), rng.uniform(0, 2 * np.pi, size=elapsed.size)
    error[outlier] = np.column_stack([off * np.cos(angle), off * np.sin(angle)])[outlier]
    accuracy[outlier] = (off * rng.uniform(0.7, 1.3, size=elapsed.size))[outlier]
    kept = (accuracy <= MAX_ACCURACY_M) & (rng.random(elapsed.size) >= LOST_SHARE)
    lonlat = metric_xy_to_lonlat(x[kept] + error[kept, 0], y[kept] + error[kept, 1])
    start_s = begin.timestamp()
    return Walk(id=patrol_id, person=person, started_at=begin,
                ended_at=begin + timedelta(seconds=round(duration)), seconds=start_s + elapsed[kept],
                lon=lonlat[:, 0], lat=lonlat[:, 1], accuracy_m=np.round(accuracy[kept], 1))


def _correlated_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) standard normal errors, each fix's like the one before (AR(1) with NOISE_CORRELATION)."""
    fresh = rng.standard_normal((n, 2))
    out = np.empty_like(fresh)
    previous = np.zeros(2)
    scale = np.sqrt(1 - NOISE_CORRELATION**2)
    for i in range(n):
        previous = out[i] = NOISE_CORRELATION * previous + (scale if i else 1.0) * fresh[i]
    return out
