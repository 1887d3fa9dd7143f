"""The district outline (辖区边界): the union of the street-level (level 1) grids; for a jurisdiction, its own
grid's outline. WGS-84 degrees.

The union is the server's derived district outline (:func:`mapserver.analysis.study.outline_for`), built once per
grid version and, under ``mapserver serve``, before the workers fork, not per request and worker.

With no basemap this outline on a dark background is the map's ground, so it
is drawn first, lightly filled, and takes no clicks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.analysis.study import outline_for
from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store

RENDERER = "outline"
SOURCES = ("grids",)
PARAMS: dict[str, Any] = {}
STYLE = {"color": "#29b6f6", "weight": 3.0, "opacity": 0.9, "fill_color": "#0e2a47", "fill_opacity": 0.45}
USES_BBOX = False
USES_WINDOW = False
SIMPLIFY_DEG = 0.00003  # ≈ 3 m: invisible at district zoom, and drops the collinear vertices of shared edges


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "辖区边界" if lang == "zh" else "District boundary"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    outline = outline_for(query.derived, query.within)
    if outline is None or outline.is_empty:
        return collection([])
    return collection([feature("district", outline.simplify(SIMPLIFY_DEG, preserve_topology=True), {})])
