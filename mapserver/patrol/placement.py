"""The grids a patrol plan covers: its area's, and the finest base grid at its start and at each stop.

Saved with the plan (:meth:`~mapserver.store.patrols.PatrolPlans.save`), they say which jurisdictions see it.
Points are the plan's WGS-84 (EPSG:4326) degrees.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mapserver.gridindex import GridIndex


def plan_grids(plan: dict[str, Any], index: GridIndex) -> list[str]:
    """The codes of the grids ``plan`` (the planner's JSON) covers, sorted; a point in no grid adds none."""
    points = [plan["start"], *plan["stops"]]
    finest = index.assign(np.array([p["lon"] for p in points], dtype=float),
                          np.array([p["lat"] for p in points], dtype=float))
    return sorted({*(str(code) for code in plan.get("grids", ())), *(str(code) for code in finest.tolist() if code)})
