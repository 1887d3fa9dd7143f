"""Key places (重点场所): schools, hospitals, markets, stations …, as points or outlined areas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.ground import GROUND_KINDS
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store
from mapserver.store.vector_tiles import TileLayer

RENDERER = "places"
SOURCES = ("places",)
PARAMS: dict[str, Any] = {}
STYLE: dict[str, Any] = {
    "kind_colors": {"school": "#ffca28", "hospital": "#ef5350", "market": "#ab47bc", "station": "#42a5f5"},
    "color": "#ffb74d", "radius": 6.0, "weight": 2.0, "fill_opacity": 0.25,
}
USES_BBOX = True
USES_WINDOW = False
TILE_DETAIL_MAX = 1200


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "重点场所" if lang == "zh" else "Key places"


def tile_layers(query: LayerQuery) -> list[TileLayer]:
    """The jurisdiction's key places in the tile (water and green areas are the ground's: maplayers/ground.py)."""
    return [TileLayer(layer="places", none_of={"kind": GROUND_KINDS}, within=query.within,
                      detail_max=TILE_DETAIL_MAX)]


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    found = store.layers.query("places", bbox=query.bbox, limit=query.limit, within=query.within)
    matched = len(found) if len(found) < query.limit else store.layers.count("places", bbox=query.bbox,
                                                                              within=query.within)
    return collection((feature(p.code, p.geom, {"name": p.name, "kind": p.kind}) for p in found),
                      matched=matched)
