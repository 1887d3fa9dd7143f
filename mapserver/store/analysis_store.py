"""Reads for incident analysis shared by both backends, in portable SQL (``?`` placeholders) run by the backend.

Counts are incidents; cells are H3 cell ids (hex text) as stored with each
incident (``incidents.h3_cell``); geometries come back as shapely objects in
WGS-84 (EPSG:4326) degrees. Column names in the SQL below are written here,
never taken from a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.store.incident_store import IncidentFilter, _where

if TYPE_CHECKING:
    from mapserver.model import Camera, Grid

EVERYTHING = IncidentFilter()

class AnalysisStore:
    """Mixin of :class:`~mapserver.store.base.Store` for the analysis (heat, hotspots, coverage)."""

    def incident_cell_counts(self, *, where: IncidentFilter = EVERYTHING) -> dict[str, int]:
        """Incidents per stored H3 cell matching ``where``; incidents without a cell are left out.

        Grouped in the database: the rows returned grow with the number of cells, not incidents.
        """
        clause, params = _where([*where.conditions(), ("h3_cell IS NOT NULL", ())])
        rows = self._fetch(f"SELECT h3_cell, count(*) FROM incidents{clause} GROUP BY h3_cell", params)
        return {str(cell): int(n) for cell, n in rows}

    def incident_grid_counts(self, *, where: IncidentFilter = EVERYTHING, level: int) -> dict[str, int]:
        """Incidents per grid of ``level`` (by the grid chain stored with each incident) matching ``where``."""
        if level not in (1, 2, 3, 4):
            raise ValueError(f"grid level must be 1–4, got {level!r}")
        return self._group_counts(f"grid_l{int(level)}", where.conditions())

    def grids_of_level(self, level: int) -> list[Grid]:
        """Every base grid of one level (1 street … 4 building), by code; special grids overlap base ones, so
        they are left out of areas that must tile."""
        return self.query("grids", where={"level": int(level), "kind": "base"})

    def district_area(self) -> BaseGeometry | None:
        """The district as the union of its street (level-1) grids, or None when no grids are stored."""
        streets = self.grids_of_level(1)
        if not streets:
            return None
        return shapely.union_all([g.geom for g in streets])

    def all_cameras(self) -> list[Camera]:
        """Every camera, by code (status as imported; the caller decides what counts as online now)."""
        return self.query("cameras")
