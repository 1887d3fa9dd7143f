"""Significant hotspots (热点区域): district H3 cells whose Getis-Ord Gi* is hot at the chosen confidence or more,
after false-discovery-rate correction, for the incident window.

Hexagons are WGS-84; the statistic covers the whole district (every cell
whose centre is inside the street grids, zeros included), so the answer does
not depend on the view. For someone bound to a jurisdiction it covers the
jurisdiction's own area and incidents instead (the same cells /api/hotspots gives them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.analysis.cells import MAX_RES, MIN_RES, hexagon
from mapserver.analysis.hotspots import cell_hotspots
from mapserver.analysis.study import study_for
from mapserver.maplayers.features import collection
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

RENDERER = "cells"
SOURCES = ("incidents", "grids")
PARAMS: dict[str, Any] = {"res": 9, "confidence": 90}
STYLE: dict[str, Any] = {"ramp": ["#ff8a80", "#ff1744", "#b71c1c"], "weight": 1.2, "opacity": 0.9,
                         "fill_opacity_min": 0.25, "fill_opacity": 0.6}
# The cells renderer's shade per class: the stricter the confidence, the deeper the red.
CLASS_SHADE = {"hot_90": 0.0, "hot_95": 0.5, "hot_99": 1.0}
USES_BBOX = False
USES_WINDOW = True
CONFIDENCES = (90, 95, 99)


def check_params(params: Mapping[str, Any]) -> list[str]:
    problems = []
    if not (isinstance(params.get("res"), int) and MIN_RES <= params["res"] <= MAX_RES):
        problems.append(f"params 'res' must be a whole number {MIN_RES}–{MAX_RES}, got {params.get('res')!r}")
    if params.get("confidence") not in CONFIDENCES:
        problems.append(f"params 'confidence' must be one of {CONFIDENCES}, got {params.get('confidence')!r}")
    return problems


def hot_classes(confidence: int) -> set[str]:
    """The Gi* classes at ``confidence`` % or stricter."""
    return {f"hot_{c}" for c in CONFIDENCES if c >= confidence}


def title(lang: str, params: Mapping[str, Any]) -> str:
    c = params["confidence"]
    return f"热点区域({c}%置信)" if lang == "zh" else f"Hotspots ({c}% confidence)"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    # The asker's own area's cells: a cell outside it never shows, nor sways the statistic.
    answer = cell_hotspots(store, study_for(query.derived, int(query.params["res"]), query.within),
                           where=IncidentFilter(since=query.since, until=query.until, within=query.within),
                           significant=True)
    wanted = hot_classes(int(query.params["confidence"]))
    hot = [c for c in answer["cells"] if c["class"] in wanted]  # hottest first
    features = [{"type": "Feature", "id": c["id"], "geometry": hexagon(c["id"]),
                 "properties": {"count": c["count"], "z": round(c["z"], 2), "class": c["class"],
                                "shade": CLASS_SHADE[c["class"]]}}
                for c in hot[:query.limit]]
    return collection(features, matched=len(hot))
