"""OGC API – Features Part 1 under ``/ogc``: documents, items, paging, filters and problems, on both backends.

Data: the sample records of ``tests/samples.py`` (CRS84, near Chuanhui).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import Point

from mapserver.model import Address
from mapserver.ogc.collections import COLLECTIONS
from tests import samples

GEOJSON = "application/geo+json"
EXPECTED = {"grids_level1": 1, "grids_level2": 1, "grids_level3": 1, "grids_level4": 0, "special_grids": 1,
            "cameras": 2, "places": 2, "addresses": 1, "roads": 2, "incidents": 1}


@pytest.fixture
def viewer(store, tokens):
    samples.load_all(store)
    return tokens["viewer"]


def _rels(doc):
    return {link["rel"]: link["href"] for link in doc["links"]}


def test_landing_page_links_conformance_and_data(client, viewer):
    resp = client.get("/ogc", headers=viewer)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    rels = _rels(resp.get_json())
    assert rels["conformance"].endswith("/ogc/conformance") and rels["data"].endswith("/ogc/collections")
    assert "self" in rels
    has_openapi = any(rule.rule == "/openapi.json" for rule in client.application.url_map.iter_rules())
    assert ("service-desc" in rels) == has_openapi
    classes = client.get("/ogc/conformance?f=json", headers=viewer).get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    assert any(c.endswith("/oas30") for c in classes) == has_openapi


def test_collections_have_extents_and_item_links(client, viewer):
    docs = {c["id"]: c for c in client.get("/ogc/collections", headers=viewer).get_json()["collections"]}
    assert list(docs) == list(COLLECTIONS) == list(EXPECTED)
    street = docs["grids_level1"]
    assert street["itemType"] == "feature"
    minx, miny, maxx, maxy = street["extent"]["spatial"]["bbox"][0]
    # SQLite keeps boxes as 32-bit floats rounded outward: the extent covers the data, within 3e-5° (3 m).
    assert (minx, miny, maxx, maxy) == pytest.approx((114.60, 33.60, 114.70, 33.70), abs=3e-5)
    assert minx <= 114.60 and miny <= 33.60 and maxx >= 114.70 and maxy >= 33.70
    assert "extent" not in docs["grids_level4"]  # empty: nothing to bound
    assert docs["incidents"]["extent"]["temporal"]["interval"] == [["2026-11-20T09:30:00Z", "2026-11-20T09:30:00Z"]]
    assert "temporal" not in docs["cameras"]["extent"]
    assert _rels(docs["roads"])["items"].endswith("/ogc/collections/roads/items")
    one = client.get("/ogc/collections/roads", headers=viewer).get_json()
    assert one["id"] == "roads" and one["extent"] == docs["roads"]["extent"]


@pytest.mark.parametrize("collection_id", list(EXPECTED))
def test_items_match_the_store(client, viewer, collection_id):
    resp = client.get(f"/ogc/collections/{collection_id}/items?limit=100", headers=viewer)
    assert resp.status_code == 200 and resp.mimetype == GEOJSON
    body = resp.get_json()
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"]) == EXPECTED[collection_id]
    assert body["timeStamp"].endswith("Z")
    assert "next" not in _rels(body) and "prev" not in _rels(body)


def test_levels_and_special_grids_split_the_grids_layer(client, viewer):
    ids = {cid: [f["id"] for f in client.get(f"/ogc/collections/{cid}/items", headers=viewer).get_json()["features"]]
           for cid in ("grids_level3", "special_grids")}
    assert ids == {"grids_level3": [samples.COMPOUND.code], "special_grids": [samples.SCHOOL.code]}


def test_paging_links_keep_the_other_parameters(client, store, viewer):
    store.layers.add("addresses", [Address(code=f"B{i:03d}", text=f"地址{i}", geom=Point(114.62 + i / 1000, 33.62))
                                   for i in range(25)])
    url = "/ogc/collections/addresses/items?bbox=114.6,33.6,114.7,33.7&limit=10"
    seen = []
    pages = 0
    while url:
        body = client.get(url, headers=viewer).get_json()
        assert body["numberMatched"] == 26
        seen += [f["id"] for f in body["features"]]
        rels = _rels(body)
        if pages:
            assert "prev" in rels
        if "next" in rels:
            query = parse_qs(urlsplit(rels["next"]).query)
            assert query["bbox"] == ["114.6,33.6,114.7,33.7"] and query["limit"] == ["10"]
        url = rels.get("next", "").replace("http://localhost", "")
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 26


def test_bbox_filters_and_is_checked(client, viewer):
    body = client.get("/ogc/collections/cameras/items?bbox=114.605,33.605,114.615,33.615", headers=viewer).get_json()
    assert [f["id"] for f in body["features"]] == [samples.CAMERAS[0].code] and body["numberMatched"] == 1
    for bad in ("1,2,3", "1,2,3,4,5", "a,b,c,d", "10,0,5,1", "0,0,200,1", "nan,0,1,1"):
        resp = client.get(f"/ogc/collections/cameras/items?bbox={bad}", headers=viewer)
        assert resp.status_code == 400 and resp.get_json()["param"] == "bbox", bad


@pytest.mark.parametrize(("value", "matched"), [
    ("2026-11-20T09:30:00Z", 1),
    ("2026-11-20T17:30:00+08:00", 1),
    ("2026-11-20T09:30:01Z", 0),
    ("2026-11-20T00:00:00Z/2026-11-21T00:00:00Z", 1),
    ("../2026-11-20T09:30:00Z", 1),
    ("../2026-11-20T09:29:59Z", 0),
    ("2026-11-20T09:30:00Z/..", 1),
    ("2026-11-20T09:30:00.000001Z/", 0),
    ("../..", 1),
])
def test_datetime_filters_incidents(client, viewer, value, matched):
    resp = client.get("/ogc/collections/incidents/items", query_string={"datetime": value}, headers=viewer)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["numberMatched"] == matched


@pytest.mark.parametrize("value", ["yesterday", "2026-11-20T09:30:00", "2026-11-21T00:00:00Z/2026-11-20T00:00:00Z",
                                   "/", "a/b/c", "2026-11-20T09:30:00Z/x"])
def test_a_bad_datetime_is_400(client, viewer, value):
    resp = client.get("/ogc/collections/incidents/items", query_string={"datetime": value}, headers=viewer)
    assert resp.status_code == 400 and resp.get_json()["param"] == "datetime"


def test_datetime_on_a_collection_without_time_is_400(client, viewer):
    resp = client.get("/ogc/collections/roads/items?datetime=2026-11-20T09:30:00Z", headers=viewer)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


@pytest.mark.parametrize(("query", "param"), [("limit=0", "limit"), ("limit=x", "limit"),
                                              ("offset=-1", "offset"), ("f=html", "f"), ("sortby=code", "sortby"),
                                              ("filter=1", "filter")])
def test_bad_or_unknown_parameters_are_400_naming_them(client, viewer, query, param):
    resp = client.get(f"/ogc/collections/roads/items?{query}", headers=viewer)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["param"] == param


def test_a_limit_above_the_most_served_is_clamped_and_the_links_say_so(client, viewer):
    body = client.get("/ogc/collections/roads/items?limit=10001&offset=1", headers=viewer).get_json()
    assert body["numberReturned"] == 1 and body["numberMatched"] == 2
    for rel in ("self", "prev"):
        assert parse_qs(urlsplit(_rels(body)[rel]).query)["limit"] == ["10000"], rel


def test_unknown_parameters_on_the_documents_are_400(client, viewer):
    for url in ("/ogc?x=1", "/ogc/conformance?x=1", "/ogc/collections?x=1", "/ogc/collections/roads?x=1",
                f"/ogc/collections/roads/items/{samples.ROADS[0].code}?x=1"):
        assert client.get(url, headers=viewer).status_code == 400, url


def test_limit_and_offset_page_the_items(client, viewer):
    body = client.get("/ogc/collections/roads/items?limit=1&offset=1", headers=viewer).get_json()
    assert body["numberMatched"] == 2 and body["numberReturned"] == 1
    assert [f["id"] for f in body["features"]] == [samples.ROADS[1].code]
    assert "prev" in _rels(body) and "next" not in _rels(body)


def test_one_feature_by_its_key(client, viewer):
    resp = client.get(f"/ogc/collections/incidents/items/{samples.INCIDENTS[0].id}", headers=viewer)
    assert resp.status_code == 200 and resp.mimetype == GEOJSON
    body = resp.get_json()
    assert body["id"] == samples.INCIDENTS[0].id and body["geometry"]["type"] == "Point"
    assert body["properties"]["description"] == samples.INCIDENTS[0].description
    assert _rels(body)["collection"].endswith("/ogc/collections/incidents")


def test_missing_features_and_collections_are_404_problems(client, viewer):
    for url in ("/ogc/collections/roads/items/R999", "/ogc/collections/nothing", "/ogc/collections/nothing/items",
                f"/ogc/collections/grids_level1/items/{samples.COMMUNITY.code}",  # a level-2 grid
                f"/ogc/collections/grids_level3/items/{samples.SCHOOL.code}"):  # special, not base
        resp = client.get(url, headers=viewer)
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json", url


def test_ogc_needs_a_token(client, viewer):
    for url in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/roads/items"):
        assert client.get(url).status_code == 401
