"""Synthetic incidents with a planted cluster for the analysis tests, inside one street grid near Chuanhui (WGS-84)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import numpy as np
from shapely.geometry import Point, box

from mapserver.analysis.study import STUDY, Study
from mapserver.derived import DerivedData
from mapserver.model import Grid, Incident
from mapserver.store import Store

RES = 9
T0 = datetime(2026, 10, 1, tzinfo=UTC)
STREET = Grid(code="411602001000000", level=1, name="陈州回族街道", geom=box(114.60, 33.60, 114.66, 33.66))
CLUSTER = (114.63, 33.63)  # (lon, lat) of the planted cluster
CATEGORIES = ("disputes", "public_security", "fire_hazard")
SEVERITIES = ("general", "important", "urgent")
STATUSES = ("reported", "dispatched", "closed")


def study(store: Store, res: int = RES) -> Study:
    """The district's study at ``res`` for the grids ``store`` holds now, as a new process would build it."""
    return DerivedData(store).get(STUDY, res)


def incidents(n_background: int = 500, n_cluster: int = 300, seed: int = 7) -> list[Incident]:
    """Uniform background over the street grid plus a tight cluster (σ ≈ 150 m) at CLUSTER, over 30 days."""
    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.uniform(114.601, 114.659, n_background),
                          rng.normal(CLUSTER[0], 0.0015, n_cluster)])
    lat = np.concatenate([rng.uniform(33.601, 33.659, n_background),
                          rng.normal(CLUSTER[1], 0.0015, n_cluster)])
    out = []
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        out.append(Incident(
            id=f"00000000-0000-4000-8000-{i:012d}", geom=Point(float(x), float(y)),
            reported_at=T0 + timedelta(minutes=int(rng.integers(0, 30 * 24 * 60))),
            category=CATEGORIES[i % 3], severity=SEVERITIES[(i // 3) % 3], status=STATUSES[(i // 9) % 3],
            h3_cell=h3.latlng_to_cell(float(y), float(x), RES)))
    return out
