"""The schools among the key places, as points: a layer a city adds without touching ``layers/``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store

RENDERER = "places"
SOURCES = ("places",)
PARAMS: dict[str, Any] = {"kind": "school"}
STYLE: dict[str, Any] = {"color": "#ffca28", "radius": 6.0}
USES_BBOX = True
USES_WINDOW = False


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "学校" if lang == "zh" else "Schools"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    found = store.layers.query("places", bbox=query.bbox, where={"kind": query.params["kind"]}, limit=query.limit)
    return collection(feature(p.code, p.geom, {"name": p.name, "kind": p.kind}) for p in found)
