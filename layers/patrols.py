"""Patrol routes (巡逻路线): the routes planned in the last hours, drawn as lines along the roads by the routes
renderer (the hover names the liaison, mode, length and minutes).

Routes are the saved plans' GeoJSON LineStrings, WGS-84. Saved plans are not a
store layer with a data version, so the answer is rebuilt with the clock (at
least once a minute): a new plan shows on the wall within a minute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mapserver.maplayers.features import collection
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store

RENDERER = "routes"
SOURCES: tuple[str, ...] = ()
PARAMS: dict[str, Any] = {"hours": 12, "max_routes": 50}
STYLE: dict[str, Any] = {"color": "#00e5ff", "weight": 3.0, "opacity": 0.85}
USES_BBOX = False
USES_WINDOW = False
USES_CLOCK = True  # "the last hours" moves with the clock, and new plans carry no data version


def check_params(params: Mapping[str, Any]) -> list[str]:
    problems = []
    if not isinstance(params.get("hours"), int) or not 1 <= params["hours"] <= 24 * 31:
        problems.append(f"params 'hours' must be a whole number 1–744, got {params.get('hours')!r}")
    if not isinstance(params.get("max_routes"), int) or not 1 <= params["max_routes"] <= 1000:
        problems.append(f"params 'max_routes' must be a whole number 1–1000, got {params.get('max_routes')!r}")
    return problems


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "巡逻路线" if lang == "zh" else "Patrol routes"


def available(store: Store) -> bool:
    return hasattr(store, "patrols")


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    since = query.now - timedelta(hours=int(query.params["hours"]))
    limit = min(int(query.params["max_routes"]), query.limit)
    rows, total = store.patrols.list(since=since, limit=limit, whole=True, within=query.within)
    features = []
    for row in rows:
        route = (row.plan or {}).get("route", {}).get("geometry")
        if not route:
            continue
        features.append({"type": "Feature", "id": row.id, "geometry": route,
                         "properties": {"liaison": row.liaison, "mode": row.mode, "window": row.time_window,
                                        "length_m": row.length_m, "duration_min": row.duration_min,
                                        "created_at": row.created_at.isoformat()}})
    return collection(features, matched=total)
