"""Heat (事件热力): H3 cells of the window whose incident count reaches a quantile of the non-empty cells.

Counts are incidents; hexagons are WGS-84. Drawn with the outline renderer
(one colour per entry, no clicks), so config stacks two entries, e.g. the
upper half of cells faint and the top tenth bright. A quantile rather than a
fixed count keeps the picture meaningful for today, 7 days and 30 days alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mapserver.analysis.cells import MAX_RES, MIN_RES, hexagon
from mapserver.analysis.heat import cell_counts
from mapserver.screen.features import collection
from mapserver.screen.layerspec import LayerQuery
from mapserver.store import Store
from mapserver.store.incident_store import IncidentFilter

RENDERER = "outline"
SOURCES = ("incidents",)
PARAMS: dict[str, Any] = {"res": 8, "quantile": 0.5}
STYLE: dict[str, Any] = {"color": "#ff9100", "weight": 0.5, "opacity": 0.5, "fill_color": "#ff6d00",
                         "fill_opacity": 0.25}
USES_BBOX = True
USES_WINDOW = True


def check_params(params: Mapping[str, Any]) -> list[str]:
    problems = []
    if not (isinstance(params.get("res"), int) and MIN_RES <= params["res"] <= MAX_RES):
        problems.append(f"params 'res' must be a whole number {MIN_RES}–{MAX_RES}, got {params.get('res')!r}")
    if not (isinstance(params.get("quantile"), (int, float)) and 0 <= params["quantile"] < 1):
        problems.append(f"params 'quantile' must be in [0, 1), got {params.get('quantile')!r}")
    return problems


def title(lang: str, params: Mapping[str, Any]) -> str:
    share = round(100 * (1 - float(params["quantile"])))
    return f"事件热力(前{share}%)" if lang == "zh" else f"Incident heat (top {share}%)"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    where = IncidentFilter(since=query.since, until=query.until)
    # The threshold comes from the whole district, not the view, so panning does not change a cell's colour.
    counts = cell_counts(store, where=where, res=int(query.params["res"]))
    if not counts:
        return collection([])
    threshold = float(np.quantile(np.fromiter(counts.values(), dtype=float), float(query.params["quantile"])))
    shown = [(c, n) for c, n in counts.items() if n >= threshold]  # already largest first
    if query.bbox is not None:
        inside = set(cell_counts(store, where=where, res=int(query.params["res"]), bbox=query.bbox))
        shown = [(c, n) for c, n in shown if c in inside]
    features = [{"type": "Feature", "id": c, "geometry": hexagon(c), "properties": {"count": n}}
                for c, n in shown[:query.limit]]
    return collection(features, matched=len(shown))
