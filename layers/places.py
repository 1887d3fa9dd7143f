"""Key places (重点场所): schools, hospitals, markets, stations …, as points or outlined areas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store

RENDERER = "places"
SOURCES = ("places",)
PARAMS: dict[str, Any] = {}
STYLE: dict[str, Any] = {
    "kind_colors": {"school": "#ffca28", "hospital": "#ef5350", "market": "#ab47bc", "station": "#42a5f5"},
    "color": "#ffb74d", "radius": 6.0, "weight": 2.0, "fill_opacity": 0.25,
}
USES_BBOX = True
USES_WINDOW = False


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "重点场所" if lang == "zh" else "Key places"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    found = store.layers.query("places", bbox=query.bbox, limit=query.limit, within=query.within)
    matched = len(found) if len(found) < query.limit else store.layers.count("places", bbox=query.bbox,
                                                                              within=query.within)
    return collection((feature(p.code, p.geom, {"name": p.name, "kind": p.kind}) for p in found),
                      matched=matched)
