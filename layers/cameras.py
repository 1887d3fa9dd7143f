"""Cameras (雪亮工程 视频点位): teal online, red offline (also when heartbeats stopped); view sectors when zoomed in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.cameras import effective_status
from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.spec import LayerQuery
from mapserver.model import Camera
from mapserver.store import Store
from mapserver.store.vector_tiles import TileLayer

RENDERER = "cameras"
SOURCES = ("cameras",)
PARAMS: dict[str, Any] = {}
STYLE: dict[str, Any] = {
    # Muted teal, not the incidents' warning green: a camera must never read as an incident on the wall.
    "status_colors": {"online": "#4db6ac", "offline": "#ff5252", "fault": "#ff9100", "unknown": "#90a4ae"},
    "radius": 3.5, "sector_min_zoom": 16, "sector_opacity": 0.22, "default_range_m": 50.0,
}
USES_BBOX = True
USES_WINDOW = False
USES_CLOCK = True  # a camera whose heartbeats stop turns offline with no write to the store
TILE_DETAIL_MAX = 1500
"""Cameras a vector tile holds one by one (about 70 bytes each, so ≤ 100 KB); more are drawn as clusters."""


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "视频点位" if lang == "zh" else "Cameras"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    found = store.layers.query("cameras", bbox=query.bbox, limit=query.limit, within=query.within)
    matched = len(found) if len(found) < query.limit else store.layers.count("cameras", bbox=query.bbox,
                                                                               within=query.within)
    offline_after_s = query.settings.cameras.offline_after_s
    return collection((feature(c.code, c.geom, _properties(c, effective_status(c, now=query.now,
                                                                              offline_after_s=offline_after_s)))
                       for c in found), matched=matched)


def tile_layers(query: LayerQuery) -> list[TileLayer]:
    """Every camera of the jurisdiction in the tile, with its status now; clusters above TILE_DETAIL_MAX."""
    return [TileLayer(layer="cameras", within=query.within, detail_max=TILE_DETAIL_MAX)]


def _properties(camera: Camera, status: str) -> dict[str, Any]:
    """Status now (a stale heartbeat is offline); direction in degrees clockwise from north, field of view in
    degrees, range in metres. The code is the feature id."""
    return {"name": camera.name, "status": status, "direction_deg": camera.direction_deg,
            "fov_deg": camera.fov_deg, "range_m": camera.range_m,
            "last_seen": camera.last_seen.isoformat(timespec="seconds") if camera.last_seen else None}
