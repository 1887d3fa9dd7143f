"""Hotspots: Getis-Ord Gi* on the H3 cells of the district (zero counts included) or on the grids of one level.

Study area for cells: every cell at the resolution whose centre lies inside
the union of the street (level-1) grids. Weights: binary, the cell and its
first ring (k = 1); for grids, the grid and every grid it touches (queen
contiguity). Counts are incidents; centres are WGS-84 (lon, lat) degrees.
The cells' study area and weights are the caller's :class:`~mapserver.analysis.study.Study` (kept per process,
:data:`mapserver.analysis.study.STUDY`); only the counts are read per answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from scipy import sparse

from mapserver.analysis.cells import hexagon, roll_up
from mapserver.analysis.gistar import CLASSES, GiStar, gi_star, is_significant
from mapserver.analysis.study import Study
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter


def cell_study(store: Store, study: Study, *, where: IncidentFilter) -> tuple[Sequence[str], np.ndarray]:
    """The study area's cells (sorted) and their counts, zeros included; empty when no grids are stored.

    Incidents in cells outside the study area (outside the district) are left out.
    """
    return study.cells, study.counts(roll_up(store.measures.cell_counts(where=where), study.res))


def queen_matrix(geoms: Sequence[Any]) -> sparse.csr_matrix:
    """Binary weights over polygons: 1 for the polygon itself and every polygon sharing a point with it."""
    if len(geoms) == 0:  # no grids at that level: an empty study area, not an error
        return sparse.csr_matrix((0, 0))
    tree = shapely.STRtree(list(geoms))
    # Candidate pairs by bounding box, then the exact test; intersects (not touches) also keeps the diagonal.
    left, right = tree.query(list(geoms), predicate="intersects")
    n = len(geoms)
    return sparse.csr_matrix((np.ones(len(left)), (left, right)), shape=(n, n))


def grid_study(store: Store, *, where: IncidentFilter, level: int) -> tuple[list[Any], np.ndarray]:
    """The base grids of ``level`` inside ``where.within`` (by code) and their incident counts, zeros included."""
    grids = store.grids.of_level(level, within=where.within)
    counts = store.measures.grid_counts(where=where, level=level)
    return grids, np.array([counts.get(g.code, 0) for g in grids], dtype=np.float64)


def summary(y: np.ndarray, result: GiStar) -> dict[str, Any]:
    """Totals and how many units fell in each class."""
    # Counted as Python strings: np.unique would sort the city's 142,379 class objects first.
    by_class = dict.fromkeys(CLASSES, 0) | {str(k): int(v) for k, v in Counter(result.classes.tolist()).items()}
    return {"units": int(y.size), "incidents": int(y.sum()), "mean": round(float(y.mean()), 6) if y.size else None,
            "classes": by_class}


def _order(y: np.ndarray, result: GiStar, only_significant: bool) -> np.ndarray:
    """The units' positions, hot first by z (a reader, or the blind-spot ranking, finds the strongest cells at the
    top); with ``only_significant``, only the hot and cold ones, picked before any row is made or sorted (a stable
    sort of the picked ones keeps the order they have among all)."""
    picked = np.flatnonzero(is_significant(result)) if only_significant else np.arange(y.size)
    return picked[np.lexsort((-y[picked], -result.z[picked]))]


def _rows(ids: Sequence[str], y: np.ndarray, result: GiStar, order: np.ndarray) -> list[dict[str, Any]]:
    return [{"id": ids[i], "count": int(y[i]), "z": round(float(result.z[i]), 6), "p": float(f"{result.p[i]:.6g}"),
             "q": float(f"{result.q[i]:.6g}"), "class": str(result.classes[i])} for i in order]


def cell_hotspots(store: Store, study: Study, *, where: IncidentFilter, geometry: bool = False,
                  significant: bool = False) -> dict[str, Any]:
    """Gi* per cell of the district's ``study`` (at its resolution): summary and one row per cell (hottest first).

    ``significant`` keeps only the cells with a hot or cold class (the summary still covers every cell), so the
    answer grows with the hotspots rather than with the district.
    """
    y = study.counts(roll_up(store.measures.cell_counts(where=where), study.res))
    result = gi_star(y, study.weights)
    order = _order(y, result, significant)
    rows = _rows(study.cells, y, result, order)
    for i, row in zip(order, rows, strict=True):
        row["lon"], row["lat"] = study.centre(i)
        if geometry:
            row["geometry"] = hexagon(row["id"])
    return {"resolution": study.res, **summary(y, result), "cells": rows}


def grid_hotspots(store: Store, *, where: IncidentFilter, level: int, significant: bool = False) -> dict[str, Any]:
    """Gi* per base grid of ``level`` with queen contiguity: summary and one row per grid (hottest first);
    ``significant`` keeps only the grids with a hot or cold class."""
    grids, y = grid_study(store, where=where, level=level)
    result = gi_star(y, queen_matrix([g.geom for g in grids]))
    rows = _rows([g.code for g in grids], y, result, _order(y, result, significant))
    names = {g.code: g.name for g in grids}
    for row in rows:
        row["name"] = names[row["id"]]
    return {"level": level, **summary(y, result), "grids": rows}
