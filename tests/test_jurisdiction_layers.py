"""Jurisdictions over the layers other than incidents' own routes, on both backends: the store's conditions, the
layer and camera routes, heartbeats, exports, the OGC API, coverage, the audit trail and patrol plans
(the wall: tests/test_jurisdiction_wall.py). The city: tests/scoped_city.py."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pyogrio
import pytest

from mapserver.jurisdiction import WHOLE
from tests import scoped_city as city
from tests.scoped_city import A1, A2, B1, COMPOUND, EAST, WEST, bound_token


@pytest.fixture
def loaded(store):
    city.load(store)
    return store


@pytest.fixture
def viewers(loaded):
    """Viewer tokens per grid (None: the whole store)."""
    return {code: bound_token(loaded, "viewer", code) for code in (A1, A2, WEST, EAST, None)}


def codes_of(answer: dict) -> set[str]:
    return {f["id"] for f in answer["features"]}


def problem_of(resp) -> tuple[int, str, str | None]:
    """What a problem says, less the code it names: equal for a key outside the jurisdiction and a missing one."""
    body = resp.get_json()
    return resp.status_code, body["title"], body.get("param")


# -- the store ------------------------------------------------------------------------------------------------------

def test_grids_and_staff_are_scoped_by_parent_code_not_by_code_prefix(loaded):
    west = loaded.grids.jurisdiction(WEST)
    assert {g.code for g in loaded.layers.query("grids", within=west)} == {WEST, A1, COMPOUND, A2}
    assert B1.startswith(WEST) and loaded.layers.get("grids", B1, within=west) is None  # 410199 is East's
    assert {s.grid_code for s in loaded.layers.query("grid_staff", within=west)} == {COMPOUND, A2}
    assert {s.grid_code for s in loaded.layers.query("grid_staff", within=loaded.grids.jurisdiction(A1))} == \
        {COMPOUND}
    assert loaded.layers.count("grids", within=loaded.grids.jurisdiction(EAST)) == 2


@pytest.mark.parametrize("layer", ["cameras", "places", "addresses", "roads", "grids", "incidents"])
def test_each_layer_keeps_to_a_community(loaded, layer):
    a1, a2 = loaded.grids.jurisdiction(A1), loaded.grids.jurisdiction(A2)
    key = "id" if layer == "incidents" else "code"
    for within, expected in ((a1, city.IN_A1[layer]), (a2, city.IN_A2[layer])):
        assert {getattr(r, key) for r in loaded.layers.query(layer, within=within)} == expected
        assert loaded.layers.count(layer, within=within) == len(expected)
    assert len(loaded.layers.query(layer, within=WHOLE)) == len(city.LAYERS[layer])


def test_extents_and_times_are_of_the_jurisdiction(loaded):
    a2 = loaded.grids.jurisdiction(A2)
    minx, miny, maxx, maxy = loaded.layers.extent("cameras", within=a2)
    assert (minx, miny, maxx, maxy) == pytest.approx((114.625, 33.61, 114.635, 33.62), abs=1e-4)
    assert loaded.layers.extent("places", within=a2) is None
    first, last = loaded.layers.time_extent("incidents", column="reported_at", within=a2)
    assert first == last == city.INCIDENTS[1].reported_at


def test_a_bbox_and_a_jurisdiction_are_both_applied(loaded):
    west = loaded.grids.jurisdiction(WEST)
    left = (114.59, 33.59, 114.62, 33.65)  # A1 only
    assert {r.code for r in loaded.layers.query("roads", bbox=left, within=west)} == {"R-A1", "R-A12"}
    assert {r.code for r in loaded.layers.query("roads", bbox=(114.63, 33.59, 114.70, 33.65),
                                                within=loaded.grids.jurisdiction(A1))} == {"R-A12"}
    assert loaded.layers.count("cameras", bbox=(114.63, 33.59, 114.70, 33.65), within=west) == 1


# -- cameras --------------------------------------------------------------------------------------------------------

def test_two_communities_see_disjoint_cameras_that_together_are_their_street(client, viewers):
    seen = {code: codes_of(client.get("/api/cameras", headers=viewers[code].headers).get_json())
            for code in (A1, A2, WEST, EAST, None)}
    assert seen[A1] == city.IN_A1["cameras"] and seen[A2] == city.IN_A2["cameras"]
    assert not seen[A1] & seen[A2] and seen[A1] | seen[A2] == seen[WEST]
    assert seen[EAST] == {"C-B1-1"} and seen[None] == {c.code for c in city.CAMERAS}
    answer = client.get("/api/cameras?status=online", headers=viewers[A2].headers).get_json()
    assert codes_of(answer) == {"C-A2-1"} and answer["numberMatched"] == 1


def test_the_other_communitys_camera_is_a_404_like_a_missing_one(client, viewers):
    own = client.get("/api/cameras/C-A1-1", headers=viewers[A1].headers)
    assert own.status_code == 200 and own.get_json()["id"] == "C-A1-1"
    outside = client.get("/api/cameras/C-A2-1", headers=viewers[A1].headers)
    missing = client.get("/api/cameras/C-NONE", headers=viewers[A1].headers)
    assert problem_of(outside) == problem_of(missing) == (404, "Not Found", "code")
    assert client.get("/api/cameras/C-A2-1", headers=viewers[WEST].headers).status_code == 200


def test_heartbeats_only_for_the_jurisdictions_cameras_and_nothing_written_otherwise(client, loaded):
    operator = bound_token(loaded, "operator", A1)
    assert client.post("/api/cameras/C-A1-2/heartbeat", headers=operator.headers).status_code == 200
    before, a1_before = loaded.layers.get("cameras", "C-A2-2"), loaded.layers.get("cameras", "C-A1-1")
    one = client.post("/api/cameras/C-A2-2/heartbeat", headers=operator.headers)
    assert one.status_code == 404 and one.get_json()["errors"] == [{"code": "C-A2-2", "reason": "no such camera"}]
    batch = client.post("/api/cameras/heartbeats", json={"codes": ["C-A1-1", "C-A2-2", "C-B1-1"]},
                        headers=operator.headers)
    assert batch.status_code == 404
    assert batch.get_json()["errors"] == [{"code": "C-A2-2", "reason": "no such camera"},
                                          {"code": "C-B1-1", "reason": "no such camera"}]
    assert loaded.layers.get("cameras", "C-A2-2") == before  # nothing written, the camera inside neither
    assert loaded.layers.get("cameras", "C-A1-1") == a1_before  # the camera inside, of a refused batch, untouched
    street = bound_token(loaded, "operator", WEST)
    assert client.post("/api/cameras/heartbeats", json={"codes": ["C-A1-1", "C-A2-2"]},
                       headers=street.headers).get_json() == {"recorded": 2}


def test_online_rates_count_the_jurisdictions_cameras(client, viewers):
    rate = client.get("/api/cameras/online-rate?level=2", headers=viewers[A2].headers).get_json()
    assert rate["cameras"] == 2 and set(rate["by_grid"]) == {A2}
    street = client.get("/api/cameras/online-rate?level=2", headers=viewers[WEST].headers).get_json()
    assert street["cameras"] == 4 and set(street["by_grid"]) == {A1, A2}


# -- the generic layer routes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", ["places", "addresses", "roads", "grids"])
def test_layer_routes_list_and_read_only_within(client, viewers, layer):
    answer = client.get(f"/api/{layer}", headers=viewers[A1].headers).get_json()
    assert codes_of(answer) == city.IN_A1[layer] and answer["numberMatched"] == len(city.IN_A1[layer])
    outside = next(iter(city.IN_EAST[layer]))
    assert problem_of(client.get(f"/api/{layer}/{outside}", headers=viewers[A1].headers)) == \
        problem_of(client.get(f"/api/{layer}/nothing-here", headers=viewers[A1].headers))
    assert client.get(f"/api/{layer}/{outside}", headers=viewers[EAST].headers).status_code == 200


def test_staff_are_listed_by_their_grids_jurisdiction(client, loaded, viewers):
    names = {f["properties"]["name"] for f in client.get("/api/grid_staff", headers=viewers[WEST].headers)
             .get_json()["features"]}
    assert names == {"赵一", "钱二"}
    east_staff = loaded.layers.query("grid_staff", where={"grid_code": B1})[0]
    assert client.get(f"/api/grid_staff/{east_staff.id}", headers=viewers[WEST].headers).status_code == 404
    assert client.get(f"/api/grid_staff/{east_staff.id}", headers=viewers[EAST].headers).status_code == 200


# -- exports --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", ["cameras", "roads", "incidents", "grids"])
def test_an_export_holds_only_the_jurisdictions_rows(client, viewers, tmp_path, layer):
    key = "id" if layer == "incidents" else "code"
    geojson = client.get(f"/api/export/{layer}.geojson", headers=viewers[A1].headers)
    assert geojson.status_code == 200
    assert {f["id"] for f in json.loads(geojson.get_data(as_text=True))["features"]} == city.IN_A1[layer]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/export/{layer}.csv",
                                                      headers=viewers[A2].headers).get_data(as_text=True))))
    assert {r[key] for r in rows} == city.IN_A2[layer]
    path = tmp_path / f"{layer}.gpkg"
    path.write_bytes(client.get(f"/api/export/{layer}.gpkg", headers=viewers[EAST].headers).get_data())
    assert set(pyogrio.read_dataframe(path)[key]) == city.IN_EAST[layer]


# -- the OGC API ----------------------------------------------------------------------------------------------------

def test_ogc_items_and_features_keep_to_the_jurisdiction(client, viewers):
    a1 = viewers[A1].headers
    items = client.get("/ogc/collections/cameras/items?limit=100", headers=a1).get_json()
    assert codes_of(items) == city.IN_A1["cameras"] and items["numberMatched"] == 2
    assert codes_of(client.get("/ogc/collections/grids_level3/items", headers=a1).get_json()) == {COMPOUND}
    assert codes_of(client.get("/ogc/collections/grids_level1/items", headers=viewers[WEST].headers)
                    .get_json()) == {WEST}
    incidents = client.get("/ogc/collections/incidents/items", headers=viewers[EAST].headers).get_json()
    assert codes_of(incidents) == city.IN_EAST["incidents"]
    assert client.get("/ogc/collections/cameras/items/C-A1-1", headers=a1).status_code == 200
    assert problem_of(client.get("/ogc/collections/cameras/items/C-B1-1", headers=a1)) == \
        problem_of(client.get("/ogc/collections/cameras/items/C-NONE", headers=a1))
    assert client.get(f"/ogc/collections/incidents/items/{city.INCIDENTS[2].id}", headers=a1).status_code == 404


def test_ogc_extents_are_the_jurisdictions(client, viewers):
    doc = client.get("/ogc/collections/cameras", headers=viewers[EAST].headers).get_json()
    assert doc["extent"]["spatial"]["bbox"][0] == pytest.approx([114.66, 33.62, 114.66, 33.62], abs=1e-4)
    places = client.get("/ogc/collections/places", headers=viewers[A2].headers).get_json()
    assert "extent" not in places  # A2 has no key place
    incidents = client.get("/ogc/collections/incidents", headers=viewers[A2].headers).get_json()
    first, last = incidents["extent"]["temporal"]["interval"][0]
    assert first == last == city.INCIDENTS[1].reported_at.isoformat().replace("+00:00", "Z")


# -- coverage -------------------------------------------------------------------------------------------------------

def test_coverage_counts_the_jurisdictions_cameras_only(client, viewers):
    since = (city.NOW.replace(tzinfo=None) - (city.NOW - datetime(2000, 1, 1, tzinfo=UTC))).isoformat()
    everything = client.get(f"/api/coverage?since={since}", headers=viewers[None].headers).get_json()
    a2 = client.get(f"/api/coverage?since={since}", headers=viewers[A2].headers).get_json()
    assert everything["cameras_online"] == 4 and a2["cameras_online"] == 1  # C-A2-2 is offline


# -- the audit trail ------------------------------------------------------------------------------------------------

def test_an_administrator_bound_to_a_grid_reads_the_records_of_its_jurisdiction(client, loaded):
    west_op, east_op = bound_token(loaded, "operator", WEST), bound_token(loaded, "operator", EAST)
    anywhere = bound_token(loaded, "operator", None)
    assert client.post("/api/cameras/C-A1-1/heartbeat", headers=west_op.headers).status_code == 200
    assert client.post("/api/cameras/C-B1-1/heartbeat", headers=east_op.headers).status_code == 200
    assert client.post("/api/cameras/C-A2-1/heartbeat", headers=anywhere.headers).status_code == 200
    with loaded.transaction():  # a district dispatcher's record about an incident of A1
        from mapserver.audit import Actor, record

        record(loaded, actor=Actor(name="district-dispatcher", role="dispatcher"), action="incident.transition",
               target=city.INCIDENTS[0].id, detail={})
        record(loaded, actor=Actor(name="district-dispatcher", role="dispatcher"), action="incident.transition",
               target=city.INCIDENTS[2].id, detail={})

    def read(admin) -> set[tuple[str, str | None]]:
        body = client.get("/api/audit?limit=1000", headers=admin.headers).get_json()
        assert body["total"] == len(body["records"])
        return {(r["actor"], r["target"]) for r in body["records"]}

    west = read(bound_token(loaded, "admin", WEST))
    assert west == {(west_op.name, "C-A1-1"), ("district-dispatcher", city.INCIDENTS[0].id)}
    a1 = read(bound_token(loaded, "admin", A1))
    assert a1 == {("district-dispatcher", city.INCIDENTS[0].id)}  # the street's operator is not A1's
    east = read(bound_token(loaded, "admin", EAST))
    assert east == {(east_op.name, "C-B1-1"), ("district-dispatcher", city.INCIDENTS[2].id)}
    assert len(read(bound_token(loaded, "admin", None))) == 5


# -- patrol plans ---------------------------------------------------------------------------------------------------

PLAN = {"mode": "walk", "window": "day", "budget_min": 30, "length_m": 1200.0, "duration_min": 28.0, "stops": [],
        "start": {"lon": 114.605, "lat": 33.605}, "grids": []}


def test_patrol_plans_are_read_in_the_jurisdictions_they_lie_in(client, loaded, viewers):
    at = datetime.now(UTC)
    by_a1 = loaded.patrols.save(PLAN, created_by="a1", created_at=at, planner_grid=A1)
    covering_a2 = loaded.patrols.save(PLAN, created_by="district", created_at=at, grids=[A2, COMPOUND])
    by_east = loaded.patrols.save(PLAN, created_by="east", created_at=at, planner_grid=EAST, grids=[B1])
    nowhere = loaded.patrols.save(PLAN, created_by="district", created_at=at)

    def listed(code) -> set[str]:
        return {p["id"] for p in client.get("/api/patrols", headers=viewers[code].headers).get_json()["plans"]}

    assert listed(A1) == {by_a1.id, covering_a2.id}  # covering_a2 also covers A1's compound
    assert listed(A2) == {covering_a2.id}
    assert listed(WEST) == {by_a1.id, covering_a2.id}
    assert listed(EAST) == {by_east.id}
    assert listed(None) == {by_a1.id, covering_a2.id, by_east.id, nowhere.id}
    assert client.get(f"/api/patrols/{by_east.id}", headers=viewers[EAST].headers).status_code == 200
    assert problem_of(client.get(f"/api/patrols/{by_east.id}", headers=viewers[WEST].headers)) == \
        problem_of(client.get(f"/api/patrols/{'0' * 32}", headers=viewers[WEST].headers))
    assert client.get(f"/api/patrols/{by_east.id}.gpx", headers=viewers[A1].headers).status_code == 404
