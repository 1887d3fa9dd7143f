"""Heat: incident counts per H3 cell for a filter, at the stored resolution or a coarser one.

Counts are incidents; cells are H3 ids; hexagons are GeoJSON Polygons in
WGS-84 degrees. The answer grows with the number of cells, never incidents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapserver.analysis.cells import hexagon, in_bbox, reach_box, roll_up
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter


def cell_counts(store: Store, *, where: IncidentFilter, res: int,
                bbox: Sequence[float] | None = None) -> dict[str, int]:
    """Incidents per cell at ``res`` (centre inside ``bbox`` when given), largest count first, then by id."""
    # The box narrows the read by the spatial index; the cells kept are those whose centre it holds.
    box = reach_box(bbox, res) if bbox is not None else None
    counts = roll_up(store.measures.cell_counts(where=where, box=box), res)
    cells = in_bbox(counts, bbox) if bbox is not None else list(counts)
    return dict(sorted(((c, counts[c]) for c in cells), key=lambda item: (-item[1], item[0])))


def heat(store: Store, *, where: IncidentFilter, res: int, bbox: Sequence[float] | None = None,
         geometry: bool = False) -> dict[str, Any]:
    """The heat answer: ``cells`` {id: count} (compact), or a FeatureCollection of hexagons with ``geometry``."""
    counts = cell_counts(store, where=where, res=res, bbox=bbox)
    summary = {"resolution": res, "cells_count": len(counts), "incidents": sum(counts.values()),
               "max": max(counts.values(), default=0)}
    if not geometry:
        return {**summary, "cells": counts}
    features = [{"type": "Feature", "id": cell, "geometry": hexagon(cell), "properties": {"count": n}}
                for cell, n in counts.items()]
    return {"type": "FeatureCollection", **summary, "features": features}
