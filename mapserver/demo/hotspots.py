"""High-incidence areas (高发区域) of a demo district: a few clusters around markets, stations and schools.

A hotspot is a Gaussian cluster in :data:`~mapserver.demo.boundary.METRIC_CRS`
metres centred on a key place. Incidents draw part of their locations from them,
and cameras are denser around them, as the 雪亮工程 covers high-incidence areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point

from mapserver.demo.places import KeyPlace

# kind: (how many hotspots of this kind, cluster sigma in metres)
HOTSPOT_KINDS = {"market": (3, 250.0), "station": (2, 300.0), "school": (2, 150.0)}


@dataclass(frozen=True)
class Hotspot:
    """A cluster of incidents around a key place; ``weight`` is its share among hotspots."""

    place: KeyPlace
    centre: Point  # metric
    sigma_m: float
    weight: float


def choose_hotspots(places: list[KeyPlace], rng: np.random.Generator) -> list[Hotspot]:
    """Pick the hotspot places of each kind at random; weights are random and sum to 1."""
    chosen: list[tuple[KeyPlace, float]] = []
    for kind, (count, sigma) in HOTSPOT_KINDS.items():
        pool = [p for p in places if p.place.kind == kind]
        if not pool:
            continue
        picks = rng.choice(len(pool), size=min(count, len(pool)), replace=False)
        chosen += [(pool[int(i)], sigma) for i in sorted(picks)]
    weights = rng.uniform(0.5, 1.5, size=len(chosen))
    weights /= weights.sum()
    return [Hotspot(place=p, centre=p.point, sigma_m=s, weight=float(w))
            for (p, s), w in zip(chosen, weights, strict=True)]
