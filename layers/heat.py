"""Heat (事件热力): H3 cells of the window whose incident count reaches a quantile of the non-empty cells.

Counts are incidents; hexagons are WGS-84. Each cell carries ``shade`` in
[0, 1]: where its count ranks among the district's non-empty cells, rescaled
so the threshold cell is 0 and the busiest is 1; the cells renderer grades
colour and opacity by it. A quantile rather than a fixed count keeps the
picture meaningful for today, 7 days and 30 days alike, and ranks from the
whole district (not the view) keep a cell's colour when the map pans.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mapserver.analysis.cells import MAX_RES, MIN_RES, hexagon
from mapserver.analysis.heat import cell_counts
from mapserver.maplayers.features import collection
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

RENDERER = "cells"
SOURCES = ("incidents",)
PARAMS: dict[str, Any] = {"res": 8, "quantile": 0.5}
STYLE: dict[str, Any] = {"ramp": ["#ffd54f", "#ff9100", "#ff3d00", "#d50000"], "weight": 0.5, "opacity": 0.6,
                         "fill_opacity_min": 0.15, "fill_opacity": 0.6}
USES_BBOX = True
USES_WINDOW = True


def check_params(params: Mapping[str, Any]) -> list[str]:
    problems = []
    if not (isinstance(params.get("res"), int) and MIN_RES <= params["res"] <= MAX_RES):
        problems.append(f"params 'res' must be a whole number {MIN_RES}–{MAX_RES}, got {params.get('res')!r}")
    if not (isinstance(params.get("quantile"), (int, float)) and 0 <= params["quantile"] < 1):
        problems.append(f"params 'quantile' must be in [0, 1), got {params.get('quantile')!r}")
    return problems


def title(lang: str, params: Mapping[str, Any]) -> str:
    share = round(100 * (1 - float(params["quantile"])))
    return f"事件热力(前{share}%)" if lang == "zh" else f"Incident heat (top {share}%)"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    where = IncidentFilter(since=query.since, until=query.until, within=query.within)
    # The threshold comes from the whole district, not the view, so panning does not change a cell's colour.
    counts = cell_counts(store, where=where, res=int(query.params["res"]))
    if not counts:
        return collection([])
    ranked = np.sort(np.fromiter(counts.values(), dtype=float))
    quantile = float(query.params["quantile"])
    threshold = float(np.quantile(ranked, quantile))
    shown = [(c, n) for c, n in counts.items() if n >= threshold]  # already largest first
    if query.bbox is not None:
        inside = set(cell_counts(store, where=where, res=int(query.params["res"]), bbox=query.bbox))
        shown = [(c, n) for c, n in shown if c in inside]
    features = [{"type": "Feature", "id": c, "geometry": hexagon(c),
                 "properties": {"count": n, "shade": shade(ranked, n, quantile)}} for c, n in shown[:query.limit]]
    return collection(features, matched=len(shown))


def shade(ranked: np.ndarray, count: int, quantile: float) -> float:
    """Where ``count`` ranks among the sorted non-empty cell counts, as a share of cells at or below it,
    rescaled from [quantile, 1] to [0, 1] and rounded to 3 decimals (ties share the highest rank)."""
    share = float(np.searchsorted(ranked, count, side="right")) / len(ranked)
    return round(min(1.0, max(0.0, (share - quantile) / (1.0 - quantile))), 3)
