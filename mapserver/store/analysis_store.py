"""Reads for incident analysis shared by both backends, in portable SQL (``?`` placeholders) run by the backend.

Counts are incidents; cells are H3 cell ids (hex text) as stored with each
incident (``incidents.h3_cell``); geometries come back as shapely objects in
WGS-84 (EPSG:4326) degrees. Column names in the SQL below are written here,
never taken from a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING

import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.store.incident_store import OPEN, IncidentFilter, _where

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

    def incident_cell_period_counts(self, *, where: IncidentFilter = EVERYTHING,
                                    edges: Sequence[datetime]) -> dict[tuple[str, int], int]:
        """Incidents per (stored H3 cell, period) matching ``where``, for the periods [edges[k], edges[k + 1]).

        ``edges`` are increasing UTC instants; incidents outside [edges[0], edges[-1]) or without a cell are
        left out. One grouped query however many periods: the period is a CASE over the edges.
        """
        if len(edges) < 2 or any(a >= b for a, b in pairwise(edges)):
            raise ValueError("edges must be at least two increasing instants")
        last = len(edges) - 2
        bucket = f"CASE {' '.join(f'WHEN reported_at < ? THEN {k}' for k in range(last))} ELSE {last} END" \
            if last else "0"
        clause, params = _where([*where.conditions(), ("h3_cell IS NOT NULL", ()),
                                 ("reported_at >= ? AND reported_at < ?", (edges[0], edges[-1]))])
        rows = self._fetch(f"SELECT h3_cell, {bucket}, count(*) FROM incidents{clause} GROUP BY 1, 2",
                           [*edges[1:-1], *params])
        return {(str(cell), int(k)): int(n) for cell, k, n in rows}

    def incident_grid_risk_counts(self, *, level: int, since: datetime, as_of: datetime
                                  ) -> dict[str, tuple[int, int]]:
        """Per grid of ``level``: (incidents reported in [since, as_of), items open and past due at ``as_of``).

        Open at ``as_of`` means reported before it and not closed by then (still open, or closed after it), so
        a past ``as_of`` sees the items as they stood. One statement: each part picks its rows by its own index
        (report time; the open items' deadline), and the grouping happens over what they picked.
        """
        if level not in (1, 2, 3, 4):
            raise ValueError(f"grid level must be 1–4, got {level!r}")
        column = f"grid_l{int(level)}"
        rows = self._fetch(
            f"SELECT g, sum(counted), sum(late) FROM ("
            f"SELECT {column} AS g, 1 AS counted, 0 AS late FROM incidents WHERE reported_at >= ? AND reported_at < ? "
            f"UNION ALL SELECT {column}, 0, 1 FROM incidents "
            f"WHERE {OPEN} AND due_at < ? AND reported_at < ? "
            f"UNION ALL SELECT {column}, 0, 1 FROM incidents "
            f"WHERE status = 'closed' AND closed_at > ? AND due_at < ? AND reported_at < ?"
            f") picked WHERE g IS NOT NULL GROUP BY g",
            [since, as_of, as_of, as_of, as_of, as_of, as_of])
        return {str(code): (int(n), int(late)) for code, n, late in rows}

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
