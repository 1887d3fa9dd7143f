"""The district outline (辖区边界): the union of the street-level (level 1) grids; for a jurisdiction, its own
grid's outline.

With no basemap this outline on a dark background is the map's ground, so it
is drawn first, lightly filled, and takes no clicks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely

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
    # A jurisdiction's grids of its own level are the jurisdiction itself: its outline.
    level = 1 if query.within.whole else query.within.level
    streets = store.layers.query("grids", where={"level": level}, within=query.within)
    if not streets:
        return collection([])
    outline = shapely.union_all([g.geom for g in streets]).simplify(SIMPLIFY_DEG, preserve_topology=True)
    return collection([feature("district", outline, {})])
