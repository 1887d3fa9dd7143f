"""Administrative divisions (行政区划) as jurisdictions, on both backends: a county or city sees exactly what lies
in its streets (grids, staff, incidents, cameras and the other area layers), its kpis are the sum of its
streets', heat and hotspots run on its streets' area, the wall opens on it and the desk lists its queue; a token
or account bound to an unknown division is refused. The city: tests/division_city.py."""

from __future__ import annotations

import json
import re

import h3
import pytest
import shapely
from shapely.geometry import Point, box

from mapserver.jurisdiction import WHOLE
from tests import division_city as dc
from tests import scoped_city as city
from tests.logins import add_person, json_login, login_app
from tests.scoped_city import EAST, WEST, bound_token
from tests.test_mobile_page import config_of
from tests.test_vector_tiles import decode, features, tile_at

CONFIG = re.compile(r'<script[^>]*id="screen-config">(.*?)</script>', re.S)
AREA_LAYERS = {"cameras": [*city.CAMERAS, dc.NORTH_CAMERA], "places": city.PLACES, "addresses": city.ADDRESSES,
               "roads": city.ROADS}
DIVISIONS = (dc.COUNTY_A, dc.COUNTY_B, dc.CITY, dc.PROVINCE)


@pytest.fixture
def loaded(store):
    dc.load(store)
    return store


@pytest.fixture
def people(loaded):
    """Viewer and dispatcher tokens per division, per street and for the whole store (None)."""
    return {(role, code): bound_token(loaded, role, code) for role in ("viewer", "dispatcher")
            for code in (*DIVISIONS, dc.EMPTY_COUNTY, WEST, EAST, None)}


def area_of(division: str):
    """The union of the division's streets' boxes, from the fixture's table."""
    return shapely.union_all([box(*dc.STREET_BOXES[s]) for s in dc.streets_of(division)]) \
        if dc.streets_of(division) else None


def expected(layer: str, division: str) -> set[str]:
    """What lies in ``division``, computed here from the fixture: rows meeting its streets' boxes, the streets and
    their descendants, the incidents whose street is one of them."""
    streets = dc.streets_of(division)
    if layer == "incidents":
        return {i.id for i in (*city.INCIDENTS, dc.NORTH_INCIDENT) if i.grid_l1 in streets}
    if layer == "grids":
        below = {g.code: g.parent_code for g in city.GRIDS}
        def street_of(code):
            while below.get(code):
                code = below[code]
            return code
        return {g.code for g in city.GRIDS if street_of(g.code) in streets}
    if layer == "grid_staff":
        grids = expected("grids", division)
        return {s.name for s in city.STAFF if s.grid_code in grids}
    area = area_of(division)
    return {r.code for r in AREA_LAYERS[layer] if area is not None and r.geom.intersects(area)}


def codes_of(answer: dict) -> set[str]:
    return {f["id"] for f in answer["features"]}


# -- the store ------------------------------------------------------------------------------------------------------

def test_a_division_code_resolves_to_its_streets_by_the_links_not_by_the_codes(loaded):
    for division in DIVISIONS:
        within = loaded.grids.jurisdiction(division)
        assert within.is_division and within.level is None and within.streets == dc.streets_of(division)
    county = loaded.grids.jurisdiction(dc.COUNTY_A)
    assert (county.name, county.division) == ("川汇区", "county")
    assert loaded.grids.jurisdiction(dc.CITY).division == "city"
    assert loaded.grids.jurisdiction(dc.EMPTY_COUNTY).streets == frozenset()
    assert loaded.grids.jurisdiction(WEST).division is None  # a grid code stays a grid's jurisdiction


@pytest.mark.parametrize("layer", ["grids", "cameras", "places", "addresses", "roads", "incidents"])
def test_each_layer_keeps_to_the_divisions_streets(loaded, layer):
    key = "id" if layer == "incidents" else "code"
    for division in (*DIVISIONS, dc.EMPTY_COUNTY):
        within = loaded.grids.jurisdiction(division)
        found = {getattr(r, key) for r in loaded.layers.query(layer, within=within)}
        assert found == expected(layer, division), (layer, division)
        assert loaded.layers.count(layer, within=within) == len(found)
    whole = {getattr(r, key) for r in loaded.layers.query(layer, within=WHOLE)}
    city_sees = {getattr(r, key) for r in loaded.layers.query(layer, within=loaded.grids.jurisdiction(dc.CITY))}
    assert city_sees < whole or layer in ("places", "addresses", "roads")  # street North is nobody's division


def test_staff_keep_to_the_division(loaded):
    for division in DIVISIONS:
        staff = loaded.layers.query("grid_staff", within=loaded.grids.jurisdiction(division))
        assert {s.name for s in staff} == expected("grid_staff", division)


def test_the_divisions_area_is_the_union_of_its_streets(loaded):
    for division in DIVISIONS:
        area = loaded.grids.area(loaded.grids.jurisdiction(division))
        assert area.symmetric_difference(area_of(division)).area < 1e-12
    assert loaded.grids.area(loaded.grids.jurisdiction(dc.EMPTY_COUNTY)) is None


def test_an_unknown_code_is_a_422(loaded):
    from mapserver.errors import Problem

    with pytest.raises(Problem) as caught:
        loaded.grids.jurisdiction("419999")
    assert caught.value.status == 422 and caught.value.param == "grid" and "419999" in caught.value.detail


# -- over HTTP ------------------------------------------------------------------------------------------------------

def test_viewers_of_a_division_list_exactly_its_cameras_grids_and_incidents(client, people):
    for division in DIVISIONS:
        viewer = people[("viewer", division)].headers
        for layer, path in (("cameras", "/api/cameras"), ("grids", "/api/grids?limit=1000"),
                            ("roads", "/api/roads"), ("incidents", "/api/incidents?limit=1000")):
            resp = client.get(path, headers=viewer)
            assert resp.status_code == 200, resp.get_json()
            assert codes_of(resp.get_json()) == expected(layer, division), (division, layer)
    outside = client.get("/api/cameras/C-B1-1", headers=people[("viewer", dc.COUNTY_A)].headers)
    assert outside.status_code == 404
    assert client.get("/api/cameras/C-B1-1", headers=people[("viewer", dc.CITY)].headers).status_code == 200


def _counts(body: dict) -> dict:
    return {k: body[k] for k in ("total", "closed", "overdue_now", "by_category", "by_severity", "by_status")}


def _summed(*bodies: dict) -> dict:
    out = {"total": 0, "closed": 0, "overdue_now": 0, "by_category": {}, "by_severity": {}, "by_status": {}}
    for body in bodies:
        for k in ("total", "closed", "overdue_now"):
            out[k] += body[k]
        for k in ("by_category", "by_severity", "by_status"):
            for name, n in body[k].items():
                out[k][name] = out[k].get(name, 0) + n
    return out


def test_kpis_of_a_division_are_the_sum_of_its_streets(client, people):
    def kpis(who, code=None, query=""):
        resp = client.get(f"/api/kpis?{query}", headers=people[(who, code)].headers)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()
    west, east = kpis("viewer", WEST), kpis("viewer", EAST)
    assert west["total"] == len(expected("incidents", dc.COUNTY_A)) and east["total"] == 1
    assert _counts(kpis("viewer", dc.COUNTY_A)) == _counts(west)
    assert _counts(kpis("dispatcher", dc.COUNTY_B)) == _counts(east)
    for division in (dc.CITY, dc.PROVINCE):
        assert _counts(kpis("viewer", division)) == _summed(west, east)
        assert _counts(kpis("viewer", None, f"code={division}")) == _summed(west, east)  # asked, not bound
    assert kpis("viewer", dc.EMPTY_COUNTY)["total"] == 0
    assert kpis("viewer")["total"] == west["total"] + east["total"] + 1  # and street North, in no division
    by_street = kpis("viewer", dc.CITY, "level=1")["by_grid"]
    assert by_street == {WEST: west["total"], EAST: east["total"]}


def test_heat_counts_the_divisions_incidents(client, people):
    for division in DIVISIONS:
        bound = client.get("/api/heat?res=9", headers=people[("viewer", division)].headers).get_json()
        asked = client.get(f"/api/heat?res=9&grid={division}", headers=people[("viewer", None)].headers).get_json()
        assert bound["cells"] == asked["cells"]
        assert sum(bound["cells"].values()) == len(expected("incidents", division))


def test_hotspots_study_the_divisions_area(client, people):
    for division in (dc.COUNTY_A, dc.CITY):
        answer = client.get("/api/hotspots?res=9", headers=people[("viewer", division)].headers).get_json()
        cells = {c["id"] for c in answer["cells"]}
        area = area_of(division)
        assert cells and all(area.contains(Point(lng, lat)) for lat, lng in map(h3.cell_to_latlng, cells))
    county = {c["id"] for c in client.get("/api/hotspots?res=9",
                                          headers=people[("viewer", dc.COUNTY_A)].headers).get_json()["cells"]}
    whole = {c["id"] for c in client.get("/api/hotspots?res=9", headers=people[("viewer", None)].headers
                                         ).get_json()["cells"]}
    assert county < whole


def test_the_wall_opens_on_the_division_and_shows_its_layers(client, people):
    viewer = people[("viewer", dc.CITY)].headers
    html = client.get("/", headers=viewer).get_data(as_text=True)
    cfg = json.loads(CONFIG.search(html).group(1))
    assert cfg["jurisdiction"]["code"] == dc.CITY and cfg["jurisdiction"]["name"] == "周口市"
    (south, west), (north, east) = cfg["jurisdiction"]["bounds"]
    assert (south, west, north, east) == pytest.approx((33.60, 114.60, 33.64, 114.68), abs=1e-4)
    for key, layer in (("cameras", "cameras"), ("incidents", "incidents")):
        resp = client.get(f"/api/screen/layers/{key}?window=30d", headers=people[("viewer", dc.COUNTY_B)].headers)
        assert resp.status_code == 200, resp.get_json()
        assert codes_of(resp.get_json()) == expected(layer, dc.COUNTY_B)
    def measures(code) -> dict:
        resp = client.get("/api/screen/measures?window=30d", headers=people[("viewer", code)].headers)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()
    for division in (dc.COUNTY_A, dc.COUNTY_B, dc.CITY):
        cameras = [c for c in AREA_LAYERS["cameras"] if c.code in expected("cameras", division)]
        found = measures(division)
        assert found["cameras"] == {"online": sum(c.status == "online" for c in cameras), "total": len(cameras)}
        assert found["values"]["open"] == len(expected("incidents", division))
        grids = [g for g in city.GRIDS if g.code in expected("grids", division)]
        assert found["grids_by_level"] == {str(n): sum(g.level == n for g in grids) for n in (1, 2, 3, 4)}
    assert measures(None)["values"]["open"] == measures(dc.CITY)["values"]["open"] + 1  # street North's
    panels = client.get("/api/screen/panels?window=30d", headers=people[("viewer", dc.COUNTY_A)].headers)
    assert panels.status_code == 200, panels.get_json()
    assert {item["id"] for item in panels.get_json()["feed"]} == expected("incidents", dc.COUNTY_A)


def test_the_desk_queue_of_a_division_is_its_streets(client, people):
    for division in DIVISIONS:
        resp = client.get("/api/desk/queue?tab=dispatch", headers=people[("dispatcher", division)].headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert {i["id"] for i in resp.get_json()["items"]} == expected("incidents", division)


def test_tokens_and_accounts_bind_to_a_known_division_only(client, loaded):
    admin = bound_token(loaded, "admin", None).headers
    made = client.post("/api/tokens", json={"name": "city-wall", "role": "viewer", "grid": dc.CITY}, headers=admin)
    assert made.status_code == 201, made.get_json()
    seen = client.get("/api/cameras", headers={"Authorization": f"Bearer {made.get_json()['token']}"}).get_json()
    assert codes_of(seen) == expected("cameras", dc.CITY)
    for path, body in (("/api/tokens", {"name": "nowhere", "role": "viewer", "grid": "419999"}),
                       ("/api/accounts", {"name": "nowhere", "role": "viewer", "password": "a-long-passphrase-9",
                                          "grid": "419999"})):
        resp = client.post(path, json=body, headers=admin)
        assert resp.status_code == 422 and resp.get_json()["param"] == "grid" and "419999" in resp.get_json()["detail"]
    resp = client.post("/api/accounts", json={"name": "county-head", "role": "viewer",
                                              "password": "a-long-passphrase-9", "grid": dc.COUNTY_A}, headers=admin)
    assert resp.status_code == 201, resp.get_json()
    county_admin = bound_token(loaded, "admin", dc.CITY).headers
    listed = client.get("/api/tokens", headers=county_admin).get_json()["tokens"]
    assert "city-wall" in {t["name"] for t in listed}
    refused = client.post("/api/tokens", json={"name": "n", "role": "viewer", "grid": dc.NORTH}, headers=county_admin)
    assert refused.status_code == 403  # street North is outside the city


def test_a_person_bound_to_a_division_logs_in_and_reads_its_part(loaded):
    add_person(loaded, "county.head", role="viewer", grid_code=dc.COUNTY_B)
    client = login_app(loaded).test_client()
    assert json_login(client, "county.head").status_code == 200
    cameras = client.get("/api/cameras")
    assert cameras.status_code == 200 and codes_of(cameras.get_json()) == expected("cameras", dc.COUNTY_B)
    incidents = client.get("/api/incidents?limit=1000").get_json()
    assert codes_of(incidents) == expected("incidents", dc.COUNTY_B)


@pytest.mark.parametrize("division", [dc.COUNTY_B, dc.CITY])
def test_the_phone_of_a_person_bound_to_a_division_opens_on_its_streets(loaded, division):
    add_person(loaded, "worker.east", role="field", grid_code=division)
    client = login_app(loaded).test_client()
    assert json_login(client, "worker.east").status_code == 200
    centre = config_of(client.get("/m/").get_data(as_text=True))["centre"]
    streets = shapely.union_all([box(*dc.STREET_BOXES[code]) for code in dc.streets_of(division)])
    assert streets.contains(Point(centre)), centre


def test_the_walls_tiles_keep_to_the_division(client, people):
    viewer = people[("viewer", dc.COUNTY_B)].headers
    east, west = tile_at(114.66, 33.62, 13), tile_at(114.605, 33.605, 13)
    for key in ("cameras", "incidents", "grids_community"):
        window = "?window=30d" if key == "incidents" else ""
        resp = client.get(f"/api/screen/tiles/{key}/{west.z}/{west.x}/{west.y}.mvt{window}", headers=viewer)
        assert resp.status_code == 200 and decode(resp.data) == {}, key
    resp = client.get(f"/api/screen/tiles/cameras/{east.z}/{east.x}/{east.y}.mvt", headers=viewer)
    assert {f["properties"]["id"] for f in features(resp.data, "cameras")} == expected("cameras", dc.COUNTY_B)
    resp = client.get(f"/api/screen/tiles/cameras/{west.z}/{west.x}/{west.y}.mvt",
                      headers=people[("viewer", dc.CITY)].headers)
    assert {f["properties"]["id"] for f in features(resp.data, "cameras")} == {"C-A1-1"}
