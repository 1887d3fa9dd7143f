"""Emerging hotspots (新增/加剧热点): district H3 cells of one trend category (new, intensifying, …) over the
latest periods up to now, by Gi* per period and the Mann-Kendall test (mapserver/analysis/trend.py).

Hexagons are WGS-84; for someone bound to a jurisdiction, the cells and incidents of its own area (as
/api/hotspots/trend). Drawn with the trend renderer (one colour per entry; the
hover tells how many periods the cell was hot in), so config gives one entry
per category, e.g. new cells in orange and intensifying ones in magenta. The
periods end now, not at the wall's window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.analysis.cells import MAX_RES, MIN_RES, hexagon
from mapserver.analysis.study import study_for
from mapserver.analysis.trend import (
    CATEGORIES,
    CONFIDENCES,
    MAX_PERIODS,
    MIN_PERIODS,
    PERIOD_LENGTHS,
    emerging_hotspots,
)
from mapserver.maplayers.features import collection
from mapserver.maplayers.spec import LayerQuery
from mapserver.store import Store

RENDERER = "trend"
SOURCES = ("incidents", "grids")
PARAMS: dict[str, Any] = {"res": 9, "category": "new", "periods": 8, "period": "week", "confidence": 95}
STYLE: dict[str, Any] = {"color": "#ff6d00", "weight": 1.5, "opacity": 0.95, "fill_color": "#ff6d00",
                         "fill_opacity": 0.35}
USES_BBOX = False
USES_WINDOW = False  # its own periods, ending now
USES_CLOCK = True  # the periods slide with the clock

_NAMES = {"zh": {"new": "新增热点", "consecutive": "连续热点", "intensifying": "加剧热点", "persistent": "持续热点",
                 "diminishing": "减弱热点", "sporadic": "零星热点"},
          "en": {"new": "New hotspots", "consecutive": "Consecutive hotspots", "intensifying": "Intensifying hotspots",
                 "persistent": "Persistent hotspots", "diminishing": "Diminishing hotspots",
                 "sporadic": "Sporadic hotspots"}}


def check_params(params: Mapping[str, Any]) -> list[str]:
    problems = []
    if not (isinstance(params.get("res"), int) and MIN_RES <= params["res"] <= MAX_RES):
        problems.append(f"params 'res' must be a whole number {MIN_RES}–{MAX_RES}, got {params.get('res')!r}")
    shown = tuple(c for c in CATEGORIES if c != "none")
    if params.get("category") not in shown:
        problems.append(f"params 'category' must be one of {shown}, got {params.get('category')!r}")
    if not (isinstance(params.get("periods"), int) and MIN_PERIODS <= params["periods"] <= MAX_PERIODS):
        problems.append(f"params 'periods' must be {MIN_PERIODS}–{MAX_PERIODS}, got {params.get('periods')!r}")
    if params.get("period") not in PERIOD_LENGTHS:
        problems.append(f"params 'period' must be one of {tuple(PERIOD_LENGTHS)}, got {params.get('period')!r}")
    if params.get("confidence") not in CONFIDENCES:
        problems.append(f"params 'confidence' must be one of {CONFIDENCES}, got {params.get('confidence')!r}")
    return problems


def title(lang: str, params: Mapping[str, Any]) -> str:
    name = _NAMES[lang][str(params["category"])]
    n, unit = int(params["periods"]), str(params["period"])
    span = f"近{n}{'周' if unit == 'week' else '日'}" if lang == "zh" else f"last {n} {unit}s"
    return f"{name}({span})" if lang == "zh" else f"{name} ({span})"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    study = study_for(query.derived, int(query.params["res"]), query.within)
    answer = emerging_hotspots(store, study, until=query.now, periods=int(query.params["periods"]),
                               period=str(query.params["period"]), category=str(query.params["category"]),
                               confidence=int(query.params["confidence"]), within=query.within)
    features = [{"type": "Feature", "id": c.id, "geometry": hexagon(c.id),
                 "properties": {"category": c.category, "z": round(c.z_final, 2), "hot_periods": c.hot_periods,
                                "periods": len(answer.starts), "period": answer.period, "count": c.counts[-1]}}
                for c in answer.cells[:query.limit]]
    return collection(features, matched=len(answer.cells))
