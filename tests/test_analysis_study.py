"""The hotspot study area kept per process, on both backends: answers from the kept study equal those computed from
scratch (the outline, its cells and their first-ring weights read and built anew), a write to the grids builds it
again, and the trend and patrol answers use the same study."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from shapely.geometry import box

from mapserver.analysis.cells import area_cells, centre, ring_matrix, roll_up
from mapserver.analysis.gistar import gi_star
from mapserver.analysis.hotspots import cell_hotspots
from mapserver.analysis.study import build_study, district, forget_studies, kept_study, study, warm
from mapserver.model import Grid
from mapserver.store.incidents import IncidentFilter
from tests.analysis_data import CLUSTER, RES, STREET, incidents

# A second street east of the first, sharing its edge: the district grows when it is added.
EAST = Grid(code="411602002000000", level=1, name="七一路街道", geom=box(114.66, 33.60, 114.70, 33.66))


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", incidents())
    return store


def from_scratch(store, *, where: IncidentFilter, res: int) -> list[dict[str, Any]]:
    """Every cell's row as computed with nothing kept: the outline, its cells and their weights built anew."""
    area = store.grids.district_area()
    cells = area_cells(area, res) if area is not None else []
    counts = roll_up(store.measures.cell_counts(where=where), res)
    y = np.array([counts.get(c, 0) for c in cells], dtype=np.float64)
    result = gi_star(y, ring_matrix(cells))
    return sorted(({"id": c, "count": int(y[i]), "z": round(float(result.z[i]), 6), "class": str(result.classes[i]),
                    "lonlat": centre(c)} for i, c in enumerate(cells)), key=lambda r: r["id"])


def rows_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(({"id": c["id"], "count": c["count"], "z": c["z"], "class": c["class"],
                    "lonlat": (c["lon"], c["lat"])} for c in answer["cells"]), key=lambda r: r["id"])


def test_the_kept_study_gives_the_answer_computed_from_scratch(loaded):
    where = IncidentFilter()
    expected = from_scratch(loaded, where=where, res=RES)
    first = cell_hotspots(loaded, where=where, res=RES)  # builds the study
    again = cell_hotspots(loaded, where=where, res=RES)  # from the kept one
    assert rows_of(first) == rows_of(again) == expected
    assert first == again
    assert any(r["class"].startswith("hot") for r in expected) and any(r["count"] == 0 for r in expected)
    assert study(loaded, RES) is study(loaded, RES)  # kept, not built again


def test_significant_cells_are_the_same_cells_in_the_same_order(loaded):
    where = IncidentFilter(category="disputes")
    every = cell_hotspots(loaded, where=where, res=RES)
    significant = cell_hotspots(loaded, where=where, res=RES, significant=True)
    assert significant["cells"] == [c for c in every["cells"] if c["class"] != "not_significant"]
    assert significant["cells"] and {k: v for k, v in significant.items() if k != "cells"} == \
        {k: v for k, v in every.items() if k != "cells"}


def test_the_kept_study_is_the_study_built_from_scratch(loaded):
    kept = study(loaded, RES)
    fresh = build_study(loaded.grids.district_area(), RES)
    assert kept.cells == fresh.cells == tuple(area_cells(STREET.geom, RES))
    assert (kept.weights != ring_matrix(list(fresh.cells))).nnz == 0
    assert [kept.centre(i) for i in range(len(kept.cells))] == [centre(c) for c in kept.cells]


def test_a_write_to_the_grids_builds_the_study_again(loaded):
    where = IncidentFilter()
    before = study(loaded, RES)
    assert cell_hotspots(loaded, where=where, res=RES)["units"] == len(before.cells)
    loaded.layers.add("grids", [EAST])  # a new data version of the grids
    after = study(loaded, RES)
    assert after is not before and len(after.cells) > len(before.cells)
    assert rows_of(cell_hotspots(loaded, where=where, res=RES)) == from_scratch(loaded, where=where, res=RES)
    assert district(loaded).equals(loaded.grids.district_area())
    loaded.layers.delete("grids", keys=[EAST.code])  # and back: the outline of the first street alone
    assert study(loaded, RES).cells == before.cells
    assert rows_of(cell_hotspots(loaded, where=where, res=RES)) == from_scratch(loaded, where=where, res=RES)


def test_no_grids_then_grids(store):
    assert cell_hotspots(store, where=IncidentFilter(), res=RES)["units"] == 0
    assert district(store) is None
    store.layers.add("grids", [STREET])
    assert cell_hotspots(store, where=IncidentFilter(), res=RES)["units"] == len(area_cells(STREET.geom, RES))


def test_each_resolution_has_its_study_and_warming_builds_them(loaded):
    forget_studies()
    assert kept_study(loaded, RES) is None
    coarse, fine = warm(loaded, [RES - 1, RES, RES])
    assert kept_study(loaded, RES - 1) is coarse and kept_study(loaded, RES) is fine
    assert len(coarse.cells) < len(fine.cells)
    assert cell_hotspots(loaded, where=IncidentFilter(), res=RES - 1)["units"] == len(coarse.cells)
    loaded.layers.add("grids", [EAST])
    assert kept_study(loaded, RES) is None  # kept for grids that are no longer there: not handed out


def test_the_cluster_stays_hot_through_the_kept_study(loaded):
    import h3

    hot = {c["id"] for c in cell_hotspots(loaded, where=IncidentFilter(), res=RES, significant=True)["cells"]
           if c["class"] == "hot_99"}
    assert h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], RES) in hot


def test_trends_use_the_kept_study(loaded):
    from datetime import UTC, datetime

    from mapserver.analysis.trend import emerging_hotspots

    forget_studies()
    answer = emerging_hotspots(loaded, until=datetime(2026, 11, 1, tzinfo=UTC), periods=4, period="week", res=RES)
    kept = kept_study(loaded, RES)
    assert kept is not None and answer.units == len(kept.cells) == len(area_cells(STREET.geom, RES))
    assert all((c.lon, c.lat) == centre(c.id) for c in answer.cells)
