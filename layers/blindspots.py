"""Blind spots (监控盲区): significantly hot H3 cells of the window that no online camera sees now.

Hexagons are WGS-84; camera views are sectors (or circles) of their range in
metres; a camera's status is its effective status now (stale heartbeats are
offline), so the answer changes with the clock. For someone bound to a
jurisdiction: its cells, incidents and cameras (as /api/coverage).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.analysis.cells import MAX_RES, MIN_RES, hexagon
from mapserver.analysis.coverage import coverage
from mapserver.analysis.study import study_for
from mapserver.maplayers.features import collection
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

RENDERER = "outline"
SOURCES = ("incidents", "grids", "cameras")
PARAMS: dict[str, Any] = {"res": 9}
STYLE: dict[str, Any] = {"color": "#ffea00", "weight": 2.0, "opacity": 0.95, "fill_color": "#ffea00",
                         "fill_opacity": 0.15}
USES_BBOX = False
USES_WINDOW = True
USES_CLOCK = True  # a camera whose heartbeat goes stale opens a blind spot with no write to the store


def check_params(params: Mapping[str, Any]) -> list[str]:
    res = params.get("res")
    ok = isinstance(res, int) and MIN_RES <= res <= MAX_RES
    return [] if ok else [f"params 'res' must be a whole number {MIN_RES}–{MAX_RES}, got {res!r}"]


def title(lang: str, params: Mapping[str, Any]) -> str:
    return "监控盲区" if lang == "zh" else "Camera blind spots"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    study = study_for(query.derived, int(query.params["res"]), query.within)
    answer = coverage(store, study, where=IncidentFilter(since=query.since, until=query.until, within=query.within),
                      now=query.now, offline_after_s=query.settings.cameras.offline_after_s)
    # Only significant hot cells are blind spots on the wall; the "top cells" fallback is for the API's report.
    blind = answer["blind_spots"] if answer["basis"] == "hot" else []
    features = [{"type": "Feature", "id": b["id"], "geometry": hexagon(b["id"]),
                 "properties": {"count": b["count"], "z": round(b["z"], 2)}} for b in blind[:query.limit]]
    return collection(features, matched=len(blind))
