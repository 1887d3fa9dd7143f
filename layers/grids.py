"""Grids of one level (网格), as outlines: street 1, community 2, compound 3, building 4.

One config entry per level gives each level its own switch in the layer
control, its own style and the zoom from which it is drawn; ``labels`` writes
grid names on the map (street level by default), else names show on hover. A grid carrying a
``risk`` colour (red / yellow / green, from the analysis issue) is filled with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.i18n import LEVEL_NAMES
from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.spec import LayerQuery
from mapserver.model import GRID_LEVELS
from mapserver.store import Store
from mapserver.store.vector_tiles import TileLayer

RENDERER = "grids"
SOURCES = ("grids",)
PARAMS: dict[str, Any] = {"level": 1}
STYLE: dict[str, Any] = {
    "color": "#4fc3f7", "weight": 2.0, "opacity": 0.9, "fill_opacity": 0.02, "dash": "", "labels": False,
    "risk_colors": {"red": "#ff5252", "yellow": "#ffd740", "green": "#69f0ae"}, "risk_opacity": 0.35,
}
USES_BBOX = True
USES_WINDOW = False
TILE_DETAIL_MAX = 700
"""Grids a vector tile holds whole (a building grid is about 130 bytes), so ≤ 100 KB; more are drawn as clusters."""

# Coarse levels bright and thick, fine levels faint and thin, so nested outlines stay readable on a wall.
_LEVEL_STYLE = {
    1: {"color": "#4fc3f7", "weight": 3.0, "opacity": 0.95, "labels": True},
    2: {"color": "#80deea", "weight": 1.6, "opacity": 0.8, "dash": "6 4"},
    3: {"color": "#a5d6a7", "weight": 1.0, "opacity": 0.7},
    4: {"color": "#b0bec5", "weight": 0.6, "opacity": 0.6},
}


def check_params(params: Mapping[str, Any]) -> list[str]:
    level = params.get("level")
    return [] if level in GRID_LEVELS else [f"params 'level' must be one of {sorted(GRID_LEVELS)}, got {level!r}"]


def default_style(params: Mapping[str, Any]) -> dict[str, Any]:
    return _LEVEL_STYLE.get(int(params["level"]), {})


def title(lang: str, params: Mapping[str, Any]) -> str:
    name = LEVEL_NAMES[lang][int(params["level"])]
    return f"{name}网格" if lang == "zh" else f"{name} grids"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    where = {"level": int(query.params["level"])}
    found = store.layers.query("grids", bbox=query.bbox, where=where, limit=query.limit, within=query.within)
    matched = len(found) if len(found) < query.limit else store.layers.count("grids", bbox=query.bbox, where=where,
                                                                             within=query.within)
    return collection((feature(g.code, g.geom, _properties(g)) for g in found), matched=matched)


def tile_layers(query: LayerQuery) -> list[TileLayer]:
    """The jurisdiction's grids of the level that meet the tile, whole (not clipped to it)."""
    return [TileLayer(layer="grids", where={"level": int(query.params["level"])}, within=query.within,
                      detail_max=TILE_DETAIL_MAX)]


def _properties(grid: Any) -> dict[str, Any]:
    """Name, level, kind and subtype (the code is the feature id); ``risk`` only when the grid has one."""
    out = {"name": grid.name, "level": grid.level, "kind": grid.kind, "subtype": grid.subtype}
    risk = getattr(grid, "risk", None)
    return {**out, "risk": risk} if risk else out
