"""Grid risk colours (亮灯图): red, yellow or green per base grid of one level, with the reasons.

The rules come from the ``risk`` section of config.yaml (:class:`mapserver.config.RiskSettings`); a grid takes
the worst colour any rule gives it (green when none fires):

``rate``
    incidents reported in the ``window_days`` days before ``as_of``, per 1,000 households of the grid:
    ≥ ``yellow_per_1000`` → yellow, ≥ ``red_per_1000`` → red. A grid with no households recorded has no
    rate and this rule stays silent for it.
``hot_cells``
    H3 cells at ``hot_res`` that Getis-Ord Gi* finds hot at ``hot_confidence`` % or stricter (FDR-corrected,
    over the same window) whose centre lies inside the grid: one or more → yellow.
``overdue``
    items open at ``as_of`` (not closed by then) whose deadline has passed: ≥ ``overdue_red`` → red.

Counts come from grouped store queries by ``grid_lN`` (the grid chain stored with each incident), never from
a walk over incidents. Times are UTC instants; geometries WGS-84 (EPSG:4326) degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.hotspots import cell_hotspots
from mapserver.analysis.study import Study
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.maplayers.features import feature
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

if TYPE_CHECKING:
    from mapserver.config import RiskSettings

COLOURS = ("green", "yellow", "red")  # mildest first: a grid takes the highest its rules reach
RULES = ("rate", "hot_cells", "overdue")


@dataclass(frozen=True)
class Reason:
    """One rule that fired: the colour it gives, the grid's figure and the threshold it reached."""

    rule: str  # one of RULES
    colour: str  # yellow or red
    value: float
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "colour": self.colour, "value": self.value, "threshold": self.threshold}


@dataclass(frozen=True)
class GridRisk:
    """A grid's colour, the rules that set it and its figures over the window."""

    code: str
    name: str
    level: int
    geom: BaseGeometry
    colour: str  # one of COLOURS
    reasons: tuple[Reason, ...]
    incidents: int  # reported in the window
    households: int | None
    rate_per_1000: float | None  # incidents per 1,000 households; None without households
    hot_cells: int  # significant hot cells whose centre is inside the grid
    overdue: int  # open and past their deadline at as_of

    def properties(self) -> dict[str, Any]:
        """Everything but the geometry, as JSON values."""
        return {"name": self.name, "level": self.level, "risk": self.colour,
                "reasons": [r.to_json() for r in self.reasons], "incidents": self.incidents,
                "households": self.households, "rate_per_1000": self.rate_per_1000,
                "hot_cells": self.hot_cells, "overdue": self.overdue}

    def to_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (WGS-84, coordinates to 6 decimals), id the grid code."""
        return feature(self.code, self.geom, self.properties())


def _hot_cells_per_grid(store: Store, study: Study, settings: RiskSettings, grids: list[Any],
                        where: IncidentFilter) -> np.ndarray:
    """How many significant hot cells have their centre inside each grid (aligned with ``grids``)."""
    out = np.zeros(len(grids), dtype=np.int64)
    wanted = {f"hot_{c}" for c in (90, 95, 99) if c >= settings.hot_confidence}
    hot = [c for c in cell_hotspots(store, study, where=where, significant=True)["cells"]
           if c["class"] in wanted]
    if not hot or not grids:
        return out
    tree = shapely.STRtree([g.geom for g in grids])
    # A centre on a shared edge lies in both grids by "intersects"; both are at risk, so both count it.
    _, which = tree.query(shapely.points([(c["lon"], c["lat"]) for c in hot]), predicate="intersects")
    np.add.at(out, which, 1)
    return out


def _judge(settings: RiskSettings, rate: float | None, hot: int, overdue: int) -> tuple[str, tuple[Reason, ...]]:
    reasons = []
    if rate is not None and rate >= settings.red_per_1000:
        reasons.append(Reason("rate", "red", rate, settings.red_per_1000))
    elif rate is not None and rate >= settings.yellow_per_1000:
        reasons.append(Reason("rate", "yellow", rate, settings.yellow_per_1000))
    if hot >= 1:
        reasons.append(Reason("hot_cells", "yellow", hot, 1))
    if overdue >= settings.overdue_red:
        reasons.append(Reason("overdue", "red", overdue, settings.overdue_red))
    colour = max((r.colour for r in reasons), key=COLOURS.index, default="green")
    return colour, tuple(reasons)


def grid_risk(store: Store, hot_study: Study, settings: RiskSettings, *, level: int,
              as_of: datetime, within: Jurisdiction = WHOLE) -> list[GridRisk]:
    """The risk colour of every base grid of ``level`` (1–4) inside ``within`` at ``as_of`` (timezone-aware), by
    grid code.

    ``settings`` is the ``risk`` section of the configuration (``state().settings.risk``); ``hot_study`` the
    study of ``within`` at its ``hot_res`` (:func:`mapserver.analysis.study.study_for`). Incidents counted
    are those in ``within`` reported in [as_of − window_days, as_of); overdue items are those open at ``as_of``
    past their deadline, whenever reported. No grids at the level → an empty list. ValueError for a level outside
    1–4 or a naive ``as_of``.
    """
    if level not in (1, 2, 3, 4):
        raise ValueError(f"grid level must be 1–4, got {level!r}")
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    since = as_of - timedelta(days=settings.window_days)
    grids = store.grids.of_level(level, within=within)
    if not grids:
        return []
    counts = store.measures.grid_risk_counts(level=level, since=since, as_of=as_of, within=within)
    hot = _hot_cells_per_grid(store, hot_study, settings, grids, IncidentFilter(since=since, until=as_of,
                                                                                within=within))
    out = []
    for grid, hot_cells in zip(grids, hot, strict=True):
        incidents, overdue = counts.get(grid.code, (0, 0))
        rate = round(1000 * incidents / grid.households, 3) if grid.households else None
        colour, reasons = _judge(settings, rate, int(hot_cells), overdue)
        out.append(GridRisk(code=grid.code, name=grid.name, level=grid.level, geom=grid.geom, colour=colour,
                            reasons=reasons, incidents=incidents, households=grid.households, rate_per_1000=rate,
                            hot_cells=int(hot_cells), overdue=overdue))
    return out


def risk_summary(risks: list[GridRisk]) -> dict[str, int]:
    """How many grids have each colour."""
    return {colour: sum(1 for r in risks if r.colour == colour) for colour in COLOURS}
