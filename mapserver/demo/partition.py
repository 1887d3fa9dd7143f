"""Cut a polygon into n parts of similar population by recursive straight cuts (future roads).

Everything is in :data:`~mapserver.demo.boundary.METRIC_CRS` metres. A part is
halved (k : n − k) by a straight line across its long side, placed where the
population on each side (estimated from the density field at random sample
points) is in proportion k : n − k, then each side is cut again. The lines
lean towards the city's street orientation, so the cuts look like a street grid,
and each cut becomes a road along the grid boundary it makes. Both sides of a
cut come from one intersection/difference pair, so they share their vertices;
pieces cut off by a concave boundary are merged into the other side, so parts
stay in one piece wherever a candidate cut allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from mapserver.demo.density import Density, uniform_points
from mapserver.demo.shapes import part_count, polygonal, polygons_of, shared_line

SAMPLES_PER_CUT = 256
FRAGMENT_SHARE = 0.3  # a detached piece smaller than this share of its side's main piece changes sides


@dataclass(frozen=True)
class Cutter:
    """How to cut: the density to balance, the street-grid orientation (radians) and angular jitter."""

    density: Density
    orientation: float
    jitter: float
    rng: np.random.Generator


def partition(poly: BaseGeometry, n: int, cutter: Cutter) -> tuple[list[BaseGeometry], list[LineString]]:
    """``n`` parts that tile ``poly`` (in cut order) and the cut lines between them."""
    if n <= 1:
        return [poly], []
    k = n // 2
    a, b = bisect(poly, k / n, cutter)
    lines = shared_line(a, b)
    parts_a, lines_a = partition(a, k, cutter)
    parts_b, lines_b = partition(b, n - k, cutter)
    return parts_a + parts_b, lines + lines_a + lines_b


def bisect(poly: BaseGeometry, fraction: float, cutter: Cutter) -> tuple[BaseGeometry, BaseGeometry]:
    """Two areas tiling ``poly``, the first holding about ``fraction`` of its population."""
    rng = cutter.rng
    xy = uniform_points(poly, rng, SAMPLES_PER_CUT)
    weights = cutter.density(xy[:, 0], xy[:, 1]) if len(xy) >= 16 else None
    # A little randomness in the share keeps sibling grids from being clones of each other.
    fraction = float(np.clip(fraction * (1 + rng.normal(0, 0.05)), 0.1, 0.9))
    best: tuple[int, BaseGeometry, BaseGeometry] | None = None
    for angle in _candidate_angles(poly, cutter):
        a, b = _cut(poly, xy, weights, angle, fraction)
        if a.is_empty or b.is_empty:
            continue
        a, b = _absorb_fragments(a, b)
        score = part_count(a) + part_count(b)
        if best is None or score < best[0]:
            best = (score, a, b)
        if score == 2:
            break
    if best is None:  # only for degenerate slivers: halve the bounding box instead
        a, b = _cut(poly, xy, None, 0.0, 0.5)
        return a, b
    return best[1], best[2]


def _candidate_angles(poly: BaseGeometry, cutter: Cutter) -> list[float]:
    """Directions of the cut's normal to try: street-grid axes near the long axis first."""
    env = shapely.oriented_envelope(poly)
    coords = np.asarray(env.exterior.coords) if isinstance(env, Polygon) else np.zeros((3, 2))
    e1, e2 = coords[1] - coords[0], coords[2] - coords[1]
    long_edge = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    alpha = math.atan2(long_edge[1], long_edge[0])
    axes = [cutter.orientation, cutter.orientation + math.pi / 2]
    gaps = [abs((alpha - g + math.pi / 2) % math.pi - math.pi / 2) for g in axes]
    near, far = (axes[0], axes[1]) if gaps[0] <= gaps[1] else (axes[1], axes[0])
    first = [near, alpha] if min(gaps) < math.radians(30) else [alpha, near]
    jitter = cutter.rng.normal(0, cutter.jitter, size=5)
    return [a + j for a, j in zip([*first, far, alpha + math.pi / 4, alpha - math.pi / 4], jitter, strict=True)]


def _cut(poly: BaseGeometry, xy: np.ndarray, weights: np.ndarray | None, angle: float,
         fraction: float) -> tuple[BaseGeometry, BaseGeometry]:
    d = np.array([math.cos(angle), math.sin(angle)])
    u = np.array([-d[1], d[0]])
    if weights is None or len(xy) < 16:
        corners = np.asarray(shapely.envelope(poly).exterior.coords)
        proj = corners @ d
        t = proj.min() + fraction * (proj.max() - proj.min())
    else:
        t = _weighted_quantile(xy @ d, weights, fraction)
    corners = np.asarray(shapely.envelope(poly).exterior.coords)
    s_lo, s_hi = (corners @ u).min() - 10, (corners @ u).max() + 10
    back = t - (corners @ d).min() + 10
    half = Polygon([t * d + s_lo * u, t * d + s_hi * u, (t - back) * d + s_hi * u, (t - back) * d + s_lo * u])
    return polygonal(poly.intersection(half)), polygonal(poly.difference(half))


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, q * cum[-1]))
    i = min(max(i, 1), len(values) - 1)
    return float((values[order][i - 1] + values[order][i]) / 2)


def _absorb_fragments(a: BaseGeometry, b: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """Move small detached pieces of each side to the other side, which they border along the cut."""
    for _ in range(2):
        a, b = _move_small_pieces(a, b)
        b, a = _move_small_pieces(b, a)
    return a, b


def _move_small_pieces(side: BaseGeometry, other: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    pieces = sorted(polygons_of(side), key=lambda p: -p.area)
    if len(pieces) < 2:
        return side, other
    small = [p.area < FRAGMENT_SHARE * pieces[0].area for p in pieces]
    if not any(small):
        return side, other
    keep = [p for p, s in zip(pieces, small, strict=True) if not s]
    moved = [p for p, s in zip(pieces, small, strict=True) if s]
    return polygonal(shapely.union_all(keep)), polygonal(shapely.union_all([other, *moved]))
