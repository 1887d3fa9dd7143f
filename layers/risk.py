"""Grid risk colours (亮灯图): the base grids of one level filled red, yellow or green by the rules of the
``risk`` section of config.yaml (mapserver/analysis/risk.py), as they stand now.

Drawn by the grids renderer (click → the grid card); polygons are WGS-84; for someone bound to a
jurisdiction, its grids only, judged as /api/grids/risk judges them for it. The
colours follow config's own window (``risk.window_days``), not the wall's, and
change with the clock as items pass their deadlines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mapserver.analysis.risk import grid_risk
from mapserver.analysis.study import study_for
from mapserver.i18n import LEVEL_NAMES
from mapserver.maplayers.features import collection
from mapserver.maplayers.spec import LayerQuery
from mapserver.model import GRID_LEVELS
from mapserver.store import Store

RENDERER = "grids"
SOURCES = ("incidents", "grids")
PARAMS: dict[str, Any] = {"level": 2}
STYLE: dict[str, Any] = {
    "color": "#eceff1", "weight": 0.8, "opacity": 0.6, "fill_opacity": 0.0, "dash": "", "labels": False,
    "risk_colors": {"red": "#ff1744", "yellow": "#ffd600", "green": "#00e676"}, "risk_opacity": 0.35,
}
USES_BBOX = False  # the hot-cell rule needs the whole area; the answer is one polygon per grid
USES_WINDOW = False  # risk has its own window (risk.window_days)
USES_CLOCK = True  # an open item passing its deadline can turn a grid red with no write to the store


def check_params(params: Mapping[str, Any]) -> list[str]:
    level = params.get("level")
    return [] if level in GRID_LEVELS else [f"params 'level' must be one of {sorted(GRID_LEVELS)}, got {level!r}"]


def title(lang: str, params: Mapping[str, Any]) -> str:
    # "风险亮灯·…" first, so the title never contains another layer's title ("社区(村)网格").
    name = LEVEL_NAMES[lang][int(params["level"])]
    return f"风险亮灯·{name}" if lang == "zh" else f"Risk colours · {name}"


def fetch(store: Store, query: LayerQuery) -> dict[str, Any]:
    settings = query.settings.risk
    # The asker's grids, with hot cells found among its own area's cells and incidents.
    risks = grid_risk(store, study_for(query.derived, settings.hot_res, query.within), settings,
                      level=int(query.params["level"]), as_of=query.now, within=query.within)
    # Red first, so a capped answer drops green grids before red ones.
    ranked = sorted(risks, key=lambda r: ({"red": 0, "yellow": 1}.get(r.colour, 2), r.code))
    features = []
    for risk in ranked[:query.limit]:
        f = risk.to_feature()
        f["properties"] = {k: f["properties"][k] for k in ("name", "level", "risk", "incidents", "rate_per_1000",
                                                           "hot_cells", "overdue")}
        features.append(f)
    return collection(features, matched=len(risks))
