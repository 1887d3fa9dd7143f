"""Heat per H3 cell on both backends, against a direct count in Python and a point-in-hexagon count."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import h3
import pytest
import shapely
from shapely.geometry import shape

from mapserver.analysis.heat import cell_counts, heat
from mapserver.store.incidents import IncidentFilter
from tests.analysis_data import RES, STREET, T0, incidents

DATA = incidents()


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", DATA)
    return store


def expected(where: IncidentFilter, res: int) -> Counter:
    counts: Counter = Counter()
    for i in DATA:
        if where.since is not None and i.reported_at < where.since:
            continue
        if where.until is not None and i.reported_at >= where.until:
            continue
        if any(getattr(where, c) is not None and getattr(i, c) != getattr(where, c)
               for c in ("category", "severity", "status")):
            continue
        counts[h3.cell_to_parent(i.h3_cell, res)] += 1
    return counts


@pytest.mark.parametrize("where", [
    IncidentFilter(),
    IncidentFilter(category="disputes"),
    IncidentFilter(severity="urgent", status="closed"),
    IncidentFilter(since=T0 + timedelta(days=5), until=T0 + timedelta(days=12)),
], ids=["all", "category", "severity+status", "window"])
@pytest.mark.parametrize("res", [RES, 8, 6])
def test_heat_equals_a_direct_count(loaded, where, res):
    assert cell_counts(loaded, where=where, res=res) == dict(expected(where, res))


def test_heat_counts_equal_points_inside_each_hexagon(loaded):
    # At the stored resolution only: a coarser H3 parent is the logical parent of its children, and its
    # hexagon does not exactly cover theirs (aperture 7), so points near its edge belong to a neighbour's outline.
    answer = heat(loaded, where=IncidentFilter(), res=RES, geometry=True)
    points = shapely.points([(i.geom.x, i.geom.y) for i in DATA])
    assert answer["incidents"] == len(DATA)
    for f in answer["features"]:
        inside = int(shapely.contains(shape(f["geometry"]), points).sum())
        assert inside == f["properties"]["count"], f["id"]
        if loaded.kind == "postgis":  # the same count by the database, from the hexagon's GeoJSON
            in_db = loaded.database.fetch("SELECT count(*) FROM incidents WHERE ST_Contains(ST_SetSRID("
                                          "ST_GeomFromGeoJSON(?), 4326), geom)", (json.dumps(f["geometry"]),))[0][0]
            assert in_db == f["properties"]["count"], f["id"]


def test_bbox_keeps_cells_whose_centre_is_inside(loaded):
    bbox = (114.62, 33.62, 114.64, 33.64)
    found = cell_counts(loaded, where=IncidentFilter(), res=RES, bbox=bbox)
    assert found
    for cell in found:
        lat, lon = h3.cell_to_latlng(cell)
        assert 114.62 <= lon <= 114.64 and 33.62 <= lat <= 33.64


@pytest.mark.parametrize("res", [6, 8, RES])
def test_a_bbox_read_by_the_index_loses_no_incident_of_the_cells_it_keeps(loaded, res):
    # The read is narrowed to a box around the asked one: each kept cell still counts all its incidents.
    everything = expected(IncidentFilter(), res)
    for bbox in ((114.62, 33.62, 114.64, 33.64), (114.6, 33.6, 114.61, 33.61), (114.55, 33.55, 114.7, 33.7)):
        found = cell_counts(loaded, where=IncidentFilter(), res=res, bbox=bbox)
        inside = {c: n for c, n in everything.items()
                  if bbox[0] <= h3.cell_to_latlng(c)[1] <= bbox[2] and bbox[1] <= h3.cell_to_latlng(c)[0] <= bbox[3]}
        assert found == inside, bbox


def test_heat_api(client, tokens, loaded):
    answer = client.get("/api/heat?res=8&category=disputes", headers=tokens["viewer"]).get_json()
    assert answer["cells"] == dict(sorted(expected(IncidentFilter(category="disputes"), 8).items(),
                                          key=lambda kv: (-kv[1], kv[0])))
    assert answer["incidents"] == sum(answer["cells"].values())
    geo = client.get("/api/heat?res=8&geometry=true", headers=tokens["viewer"]).get_json()
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["type"] == "Polygon"


def test_an_empty_window_is_an_empty_answer(client, tokens, loaded):
    answer = client.get("/api/heat?since=2020-01-01&until=2020-02-01", headers=tokens["viewer"]).get_json()
    assert answer["cells"] == {} and answer["incidents"] == 0


@pytest.mark.parametrize(("query", "param"), [
    ("category=nonsense", "category"), ("res=4", "res"), ("res=13", "res"), ("res=x", "res"),
    ("since=2026-10-10&until=2026-10-01", "since"), ("bbox=114.7,33.6,114.6,33.7", "bbox"),
    ("severity=huge", "severity"), ("status=lost", "status"), ("geometry=yes", "geometry"), ("colour=red", "colour"),
    ("res=10", "res"),  # finer than the stored resolution (9)
])
def test_bad_parameters_are_400_naming_the_parameter(client, tokens, loaded, query, param):
    response = client.get(f"/api/heat?{query}", headers=tokens["viewer"])
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["param"] == param
