"""Hotspots on both backends: the district's cells with zero counts included, the planted cluster comes out hot,
grids of a level by queen contiguity, and the API's parameters."""

from __future__ import annotations

import h3
import pytest
from shapely.geometry import box

from mapserver.analysis.cells import area_cells
from mapserver.analysis.hotspots import cell_hotspots, grid_hotspots
from mapserver.model import Grid
from mapserver.store.incidents import IncidentFilter
from tests.analysis_data import CLUSTER, RES, STREET, incidents, study

DATA = incidents()
# Four community grids tiling the street; the cluster sits where they meet, the north-east one gets most of it.
COMMUNITIES = [Grid(code=f"4116020010010{i:02d}", level=2, parent_code=STREET.code, name=f"社区{i}",
                    geom=box(114.60 + 0.03 * (i % 2), 33.60 + 0.03 * (i // 2), 114.63 + 0.03 * (i % 2),
                             33.63 + 0.03 * (i // 2))) for i in range(4)]


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", DATA)
    return store


def test_every_district_cell_is_a_unit_and_the_cluster_is_hot(loaded):
    answer = cell_hotspots(loaded, study(loaded), where=IncidentFilter())
    cells = area_cells(STREET.geom, RES)
    assert answer["units"] == len(cells) == len(answer["cells"])
    assert answer["classes"]["not_significant"] > 0 and sum(answer["classes"].values()) == len(cells)
    zero = [c for c in answer["cells"] if c["count"] == 0]
    assert zero, "cells without incidents are part of the study area"
    centre = h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], RES)
    rows = {c["id"]: c for c in answer["cells"]}
    assert rows[centre]["class"] == "hot_99"
    assert answer["cells"][0]["z"] >= answer["cells"][-1]["z"]  # hottest first
    assert abs(rows[centre]["lon"] - CLUSTER[0]) < 0.01


def test_no_grids_means_no_study_area(store):
    answer = cell_hotspots(store, study(store), where=IncidentFilter())
    assert answer["units"] == 0 and answer["cells"] == []


def test_grids_of_a_level(loaded):
    loaded.layers.add("grids", COMMUNITIES)
    answer = grid_hotspots(loaded, where=IncidentFilter(), level=2)
    assert answer["units"] == 4
    assert {g["id"] for g in answer["grids"]} == {g.code for g in COMMUNITIES}
    assert all(g["class"] == "not_significant" for g in answer["grids"])  # every grid touches every other


def test_hotspots_api(client, tokens, loaded):
    answer = client.get("/api/hotspots?res=8&category=disputes", headers=tokens["viewer"]).get_json()
    assert answer["resolution"] == 8 and answer["units"] == len(area_cells(STREET.geom, 8))
    empty = client.get("/api/hotspots?since=2020-01-01&until=2020-01-02", headers=tokens["viewer"]).get_json()
    assert empty["incidents"] == 0 and all(c["class"] == "not_significant" for c in empty["cells"])
    level = client.get("/api/hotspots?level=1", headers=tokens["viewer"]).get_json()
    assert level["units"] == 1


@pytest.mark.parametrize(("query", "param"), [
    ("res=4", "res"), ("level=5", "level"), ("res=8&level=2", "level"), ("category=x", "category"),
    ("since=2026-10-02&until=2026-10-01", "since"), ("severity=urgent", "severity"),
])
def test_bad_parameters(client, tokens, loaded, query, param):
    response = client.get(f"/api/hotspots?{query}", headers=tokens["viewer"])
    assert response.status_code == 400 and response.get_json()["param"] == param


def test_a_level_without_grids_is_an_empty_answer(client, store, tokens):
    from tests import samples

    samples.load_all(store)  # no level-4 grids in the samples
    resp = client.get("/api/hotspots?level=4", headers=tokens["viewer"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["units"] == 0 and resp.get_json()["grids"] == []
