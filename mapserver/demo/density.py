"""Where people live in a demo district: a population density field and weighted sampling.

The field is a mixture, in :data:`~mapserver.demo.boundary.METRIC_CRS` metres:
a uniform rural share over the whole district plus Gaussian urban cores (the
town centre and a few satellites). Its values are relative densities (per m²,
integrating to about 1 over the district); only ratios matter. Every grid level
is cut so that siblings hold similar shares of it, which makes urban grids small
and rural ones large, each with a similar number of people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Density:
    """Relative population density: a rural floor plus Gaussian cores (centres and sigmas in metres)."""

    rural: float
    centres: np.ndarray  # (k, 2) metres
    sigmas: np.ndarray  # (k,) metres
    weights: np.ndarray  # (k,) share of the population in each core

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Density at metric points (same shape as ``x``)."""
        out = np.full(np.shape(x), self.rural, dtype=float)
        for (cx, cy), sigma, weight in zip(self.centres, self.sigmas, self.weights, strict=True):
            r2 = (x - cx) ** 2 + (y - cy) ** 2
            out += weight * np.exp(-r2 / (2 * sigma * sigma)) / (2 * np.pi * sigma * sigma)
        return out


def make_density(area: BaseGeometry, centre: tuple[float, float], urban_share: float, core_sigma: float,
                 rng: np.random.Generator) -> Density:
    """A field with ``urban_share`` of the people in a core at ``centre`` and two satellites near it."""
    angles = rng.uniform(0, 2 * np.pi, size=2)
    offsets = rng.uniform(2.5, 4.5, size=2) * core_sigma
    satellites = np.column_stack([centre[0] + offsets * np.cos(angles), centre[1] + offsets * np.sin(angles)])
    centres = np.vstack([np.asarray(centre, dtype=float), satellites])
    # Keep satellites on land: one that falls outside the district moves back to the main core.
    inside = shapely.contains_xy(area, centres[:, 0], centres[:, 1])
    centres[~inside] = centres[0]
    sigmas = np.array([core_sigma, 0.5 * core_sigma, 0.4 * core_sigma])
    weights = urban_share * np.array([0.7, 0.18, 0.12])
    return Density(rural=(1 - urban_share) / area.area, centres=centres, sigmas=sigmas, weights=weights)


def uniform_points(poly: BaseGeometry, rng: np.random.Generator, n: int, max_rounds: int = 30) -> np.ndarray:
    """About ``n`` points drawn uniformly inside ``poly`` by rejection from its bounding box, as (m, 2)."""
    shapely.prepare(poly)
    minx, miny, maxx, maxy = poly.bounds
    fill = max(poly.area / max((maxx - minx) * (maxy - miny), 1e-9), 0.05)
    found: list[np.ndarray] = []
    total = 0
    for _ in range(max_rounds):
        draw = int((n - total) / fill * 1.3) + 8
        xy = np.column_stack([rng.uniform(minx, maxx, draw), rng.uniform(miny, maxy, draw)])
        xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        found.append(xy)
        total += len(xy)
        if total >= n:
            break
    return np.vstack(found)[:n] if found else np.empty((0, 2))


def mass(poly: BaseGeometry, density: Density, rng: np.random.Generator, n: int = 200) -> float:
    """Integral of the density over ``poly`` (Monte Carlo with ``n`` points)."""
    xy = uniform_points(poly, rng, n)
    if len(xy) == 0:
        return 0.0
    return float(poly.area * density(xy[:, 0], xy[:, 1]).mean())
