"""The hotspot study area kept per process, on both backends: answers from the kept study equal those computed from
scratch (the outline, its cells and their first-ring weights read and built anew), a write to the grids builds it
again, each resolution has its own (the most recently used four kept), and the trend answers use the same study."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from mapserver.analysis import study as study_module
from mapserver.analysis.cells import area_cells, centre, ring_matrix, roll_up
from mapserver.analysis.gistar import gi_star
from mapserver.analysis.hotspots import cell_hotspots
from mapserver.analysis.study import DISTRICT, MAX_RESOLUTIONS, STUDY, build_study, study_for
from mapserver.derived import DerivedData
from mapserver.model import Grid
from mapserver.store.incidents import IncidentFilter
from tests import division_city as dc
from tests.analysis_data import CLUSTER, RES, STREET, incidents

# A second street east of the first, sharing its edge: the district grows when it is added.
EAST = Grid(code="411602002000000", level=1, name="七一路街道", geom=box(114.66, 33.60, 114.70, 33.66))


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", incidents())
    return store


@pytest.fixture
def derived(store):
    """What one process keeps for the store: nothing yet."""
    return DerivedData(store)


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """The resolution of every study built from here on."""
    made: list[int] = []

    def counted(area, res):
        made.append(res)
        return build_study(area, res)

    monkeypatch.setattr(study_module, "build_study", counted)
    return made


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


def test_the_kept_study_gives_the_answer_computed_from_scratch(loaded, derived, builds):
    where = IncidentFilter()
    expected = from_scratch(loaded, where=where, res=RES)
    first = cell_hotspots(loaded, derived.get(STUDY, RES), where=where)  # builds the study
    again = cell_hotspots(loaded, derived.get(STUDY, RES), where=where)  # from the kept one
    assert rows_of(first) == rows_of(again) == expected
    assert first == again
    assert any(r["class"].startswith("hot") for r in expected) and any(r["count"] == 0 for r in expected)
    assert derived.get(STUDY, RES) is derived.get(STUDY, RES) and builds == [RES]  # kept, not built again


def test_significant_cells_are_the_same_cells_in_the_same_order(loaded, derived):
    where = IncidentFilter(category="disputes")
    every = cell_hotspots(loaded, derived.get(STUDY, RES), where=where)
    significant = cell_hotspots(loaded, derived.get(STUDY, RES), where=where, significant=True)
    assert significant["cells"] == [c for c in every["cells"] if c["class"] != "not_significant"]
    assert significant["cells"] and {k: v for k, v in significant.items() if k != "cells"} == \
        {k: v for k, v in every.items() if k != "cells"}


def test_the_kept_study_is_the_study_built_from_scratch(loaded, derived):
    kept = derived.get(STUDY, RES)
    fresh = build_study(loaded.grids.district_area(), RES)
    assert kept.cells == fresh.cells == tuple(area_cells(STREET.geom, RES))
    assert (kept.weights != ring_matrix(list(fresh.cells))).nnz == 0
    assert [kept.centre(i) for i in range(len(kept.cells))] == [centre(c) for c in kept.cells]


def test_a_write_to_the_grids_builds_the_study_again(loaded, derived):
    where = IncidentFilter()
    before = derived.get(STUDY, RES)
    assert cell_hotspots(loaded, before, where=where)["units"] == len(before.cells)
    loaded.layers.add("grids", [EAST])  # a new data version of the grids
    after = derived.get(STUDY, RES)
    assert after is not before and len(after.cells) > len(before.cells)
    assert rows_of(cell_hotspots(loaded, after, where=where)) == from_scratch(loaded, where=where, res=RES)
    assert derived.get(DISTRICT).equals(loaded.grids.district_area())
    loaded.layers.delete("grids", keys=[EAST.code])  # and back: the outline of the first street alone
    assert derived.get(STUDY, RES).cells == before.cells
    assert rows_of(cell_hotspots(loaded, derived.get(STUDY, RES), where=where)) == \
        from_scratch(loaded, where=where, res=RES)


def test_no_grids_then_grids(store, derived):
    assert cell_hotspots(store, derived.get(STUDY, RES), where=IncidentFilter())["units"] == 0
    assert derived.get(DISTRICT) is None
    store.layers.add("grids", [STREET])
    assert cell_hotspots(store, derived.get(STUDY, RES), where=IncidentFilter())["units"] == \
        len(area_cells(STREET.geom, RES))


def test_each_resolution_has_its_study_and_warming_builds_them(loaded, derived, builds):
    derived.warm([(STUDY, (RES - 1,)), (STUDY, (RES,)), (STUDY, (RES,))])
    assert builds == [RES - 1, RES]
    coarse, fine = derived.get(STUDY, RES - 1), derived.get(STUDY, RES)
    assert builds == [RES - 1, RES] and len(coarse.cells) < len(fine.cells)
    assert cell_hotspots(loaded, coarse, where=IncidentFilter())["units"] == len(coarse.cells)
    loaded.layers.add("grids", [EAST])
    assert derived.get(STUDY, RES) is not fine  # kept for grids that are no longer there: not handed out
    assert builds == [RES - 1, RES, RES]


def test_the_most_recently_used_resolutions_are_kept(loaded, derived, builds):
    wanted = list(range(RES - MAX_RESOLUTIONS, RES + 1))  # one more than are kept
    first = derived.get(STUDY, wanted[0])
    for res in wanted[1:-1]:
        derived.get(STUDY, res)
    assert derived.get(STUDY, wanted[0]) is first  # used again: now the most recent
    derived.get(STUDY, wanted[-1])  # the least recently used one goes
    assert derived.get(STUDY, wanted[0]) is first and builds == wanted
    derived.get(STUDY, wanted[1])
    assert builds == [*wanted, wanted[1]]


def test_the_cluster_stays_hot_through_the_kept_study(loaded, derived):
    import h3

    hot = {c["id"] for c in cell_hotspots(loaded, derived.get(STUDY, RES), where=IncidentFilter(),
                                          significant=True)["cells"] if c["class"] == "hot_99"}
    assert h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], RES) in hot


def test_trends_use_the_kept_study(loaded, derived):
    from datetime import UTC, datetime

    from mapserver.analysis.trend import emerging_hotspots

    kept = derived.get(STUDY, RES)
    answer = emerging_hotspots(loaded, kept, until=datetime(2026, 11, 1, tzinfo=UTC), periods=4, period="week")
    assert answer.units == len(kept.cells) == len(area_cells(STREET.geom, RES))
    assert all((c.lon, c.lat) == centre(c.id) for c in answer.cells)


@pytest.mark.parametrize("division", [dc.CITY, dc.COUNTY_A, dc.COUNTY_B])
def test_a_divisions_study_cut_from_the_stores_equals_one_built_from_its_streets(store, division):
    dc.load(store)
    derived = DerivedData(store)
    for res in (8, 9):
        cut = study_for(derived, res, store.grids.jurisdiction(division))
        streets = shapely.union_all([box(*dc.STREET_BOXES[code]) for code in dc.streets_of(division)])
        built = build_study(streets, res)  # the division's own outline filled by H3, its weights made anew
        assert len(cut.cells) > 10 and cut.cells == built.cells
        assert cut.index == built.index
        assert np.array_equal(cut.lon, built.lon) and np.array_equal(cut.lat, built.lat)
        assert (cut.weights != built.weights).nnz == 0
        assert len(cut.cells) < len(study_for(derived, res).cells)  # the North street, in no division, is left out
