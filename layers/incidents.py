"""Incidents (事件) reported in the window, newest first, coloured by warning (四色预警); closed ones by status.

Only what the marker needs goes to the page; the description and the rest
are fetched when an incident is clicked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mapserver.incidents.deadlines import warning_colour
from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.reads import incidents_between
from mapserver.maplayers.spec import LayerQuery
from mapserver.model import Incident
from mapserver.store import Store
from mapserver.store.vector_tiles import TileLayer

RENDERER = "incidents"
SOURCES = ("incidents",)
PARAMS: dict[str, Any] = {}
STYLE: dict[str, Any] = {
    "warning_colors": {"green": "#00e676", "yellow": "#ffea00", "red": "#ff1744", "purple": "#d500f9"},
    "status_colors": {"reported": "#ff6d00", "returned": "#ff4081", "closed": "#78909c"},
    "color": "#ffc400", "radius": 6.0, "weight": 1.5,
    # Closed incidents recede (smaller, dimmer, underneath): in a month most are closed, the open ones matter.
    "closed_scale": 0.5, "closed_opacity": 0.45,
}
USES_BBOX = True
USES_WINDOW = True
USES_CLOCK = True  # an incident turns yellow, then red, with no write to the store
TILE_DETAIL_MAX = 400
"""Incidents a vector tile holds one by one; more are drawn as clusters by colour. A tile covers 512 screen pixels
on the wall: past 400 dots it reads as a smear (each one painted on the tile's canvas and tested for the pointer)."""


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "事件" if lang == "zh" else "Incidents"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    if query.since is None:
        raise ValueError("the incidents layer needs a window start")
    found, matched = incidents_between(store, since=query.since, until=query.until, bbox=query.bbox,
                                       limit=query.limit, within=query.within)
    return collection((feature(i.id, i.geom, _properties(i, query.now)) for i in found), matched=matched)


def tile_layers(query: LayerQuery) -> list[TileLayer]:
    """The jurisdiction's incidents of the window in the tile, with their warning colour now."""
    if query.since is None:
        raise ValueError("the incidents layer needs a window start")
    return [TileLayer(layer="incidents", since=query.since, within=query.within, detail_max=TILE_DETAIL_MAX)]


def _properties(incident: Incident, now: datetime) -> dict[str, Any]:
    warning = warning_colour(status=incident.status, escalation=incident.escalation, warn_at=incident.warn_at,
                             due_at=incident.due_at, now=now)
    # The id travels as the feature's id only: with thousands of markers every repeated byte counts.
    return {"category": incident.category, "severity": incident.severity, "status": incident.status,
            "warning": warning, "reported_at": incident.reported_at.isoformat(timespec="seconds")}
