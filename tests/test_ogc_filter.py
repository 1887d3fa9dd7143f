"""OGC API – Features Part 3 under ``/ogc``: queryables, and CQL2 filters (text and JSON) checked against the same
selection made in Python (shapely, plain comparisons) over the whole collection, on both backends; bad and hostile
filters answered 400 naming what is wrong, never 500.

One city per backend for the whole module (tests/ogc_city.py): a few hundred incidents, addresses and roads.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import cql2
import pytest
from shapely.geometry import Point, box
from shapely.geometry import Polygon as ShapelyPolygon

from mapserver.ogc.collections import COLLECTIONS
from mapserver.ogc.documents import CONF_CQL2, CONF_FILTER, CQL2_CLASSES, FILTER_CLASSES
from mapserver.store.cql2_sql import MAX_IN_VALUES
from tests import samples
from tests.conftest import BACKENDS
from tests.ogc_city import City, open_city

PROBLEM = "application/problem+json"
T1 = datetime(2026, 10, 20, tzinfo=UTC)
T2 = datetime(2026, 11, 10, 12, tzinfo=UTC)
AREA = ShapelyPolygon([(114.60, 33.60), (114.65, 33.60), (114.65, 33.66), (114.60, 33.66), (114.60, 33.60)])
AREA_WKT = "POLYGON((114.60 33.60, 114.65 33.60, 114.65 33.66, 114.60 33.66, 114.60 33.60))"
SMALL = box(114.62, 33.62, 114.68, 33.68)
SMALL_WKT = "POLYGON((114.62 33.62, 114.68 33.62, 114.68 33.68, 114.62 33.68, 114.62 33.62))"


@pytest.fixture(scope="module", params=BACKENDS)
def city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    yield from open_city(request.param, tmp_path_factory.mktemp("ogc-filter"))


@pytest.fixture(scope="module")
def client(city: City):
    return city.app.test_client()


def _all(city: City, collection_id: str) -> list[Any]:
    item = COLLECTIONS[collection_id]
    return city.store.layers.query(item.layer, where=item.where)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _between(t: datetime | None, low: datetime, high: datetime) -> bool:
    return t is not None and low <= t <= high


# (collection, CQL2 text, the same selection in Python over a record)
CASES: list[tuple[str, str, Callable[[Any], bool]]] = [
    ("incidents", "category = 'disputes'", lambda r: r.category == "disputes"),
    ("incidents", "category <> 'disputes'", lambda r: r.category != "disputes"),
    ("incidents", "category = 'disputes' AND status = 'closed'", lambda r: (r.category, r.status) == ("disputes",
                                                                                                     "closed")),
    ("incidents", "category = 'traffic' OR severity = 'urgent'", lambda r: r.category == "traffic"
     or r.severity == "urgent"),
    ("incidents", "NOT (status = 'closed')", lambda r: r.status != "closed"),
    ("incidents", "category IN ('security', 'sanitation')", lambda r: r.category in ("security", "sanitation")),
    ("incidents", "status NOT IN ('closed', 'handled')", lambda r: r.status not in ("closed", "handled")),
    ("incidents", "category LIKE 'dis%'", lambda r: r.category.startswith("dis")),  # case-sensitive: not Disputes
    ("incidents", "category LIKE '_isputes'", lambda r: len(r.category) == 8 and r.category.endswith("isputes")),
    ("incidents", "description LIKE '%100\\%'", lambda r: r.description.endswith("100%")),
    ("incidents", "description LIKE '%\\_%'", lambda r: "_" in r.description),
    ("incidents", "description NOT LIKE '%堵塞%'", lambda r: "堵塞" not in r.description),
    ("incidents", "description = 'It''s broken'", lambda r: r.description == "It's broken"),
    ("incidents", "description = '''; DROP TABLE incidents; --'",
     lambda r: r.description == "'; DROP TABLE incidents; --"),
    ("incidents", "version BETWEEN 1 AND 1", lambda r: r.version == 1),
    ("incidents", "closed_at IS NULL", lambda r: r.closed_at is None),
    ("incidents", "closed_at IS NOT NULL AND severity = 'general'", lambda r: r.closed_at is not None
     and r.severity == "general"),
    ("incidents", f"reported_at > TIMESTAMP('{_iso(T1)}')", lambda r: r.reported_at > T1),
    ("incidents", f"reported_at <= TIMESTAMP('{_iso(T2)}') AND category = 'security'",
     lambda r: r.reported_at <= T2 and r.category == "security"),
    ("incidents", f"reported_at BETWEEN TIMESTAMP('{_iso(T1)}') AND TIMESTAMP('{_iso(T2)}')",
     lambda r: T1 <= r.reported_at <= T2),
    ("incidents", f"T_INTERSECTS(reported_at, INTERVAL('{_iso(T1)}', '{_iso(T2)}'))",
     lambda r: T1 <= r.reported_at <= T2),
    ("incidents", f"T_INTERSECTS(reported_at, INTERVAL('{_iso(T2)}', '..'))", lambda r: r.reported_at >= T2),
    ("incidents", f"T_BEFORE(reported_at, TIMESTAMP('{_iso(T1)}'))", lambda r: r.reported_at < T1),
    ("incidents", f"T_AFTER(reported_at, INTERVAL('{_iso(T1)}', '{_iso(T2)}'))", lambda r: r.reported_at > T2),
    ("incidents", f"T_DURING(reported_at, INTERVAL('{_iso(T1)}', '{_iso(T2)}'))", lambda r: T1 < r.reported_at < T2),
    ("incidents", f"T_DISJOINT(reported_at, INTERVAL('{_iso(T1)}', '{_iso(T2)}'))",
     lambda r: not T1 <= r.reported_at <= T2),
    ("incidents", "T_AFTER(closed_at, DATE('2026-11-15'))", lambda r: r.closed_at is not None
     and r.closed_at > datetime(2026, 11, 15, tzinfo=UTC)),
    ("incidents", f"S_INTERSECTS(geometry, {AREA_WKT})", lambda r: AREA.intersects(r.geom)),
    ("incidents", f"S_WITHIN(geometry, {SMALL_WKT}) AND category = 'disputes'",
     lambda r: r.geom.within(SMALL) and r.category == "disputes"),
    ("incidents", f"S_DISJOINT(geometry, {AREA_WKT})", lambda r: AREA.disjoint(r.geom)),
    ("incidents", "S_INTERSECTS(geometry, BBOX(114.6, 33.6, 114.63, 33.63)) OR status = 'accepted'",
     lambda r: box(114.6, 33.6, 114.63, 33.63).intersects(r.geom) or r.status == "accepted"),
    ("incidents", f"NOT S_INTERSECTS(geometry, {AREA_WKT}) AND T_BEFORE(reported_at, TIMESTAMP('{_iso(T2)}'))",
     lambda r: not AREA.intersects(r.geom) and r.reported_at < T2),
    ("addresses", "text LIKE '%东院'", lambda r: r.text.endswith("东院")),
    ("addresses", f"S_WITHIN(geometry, {SMALL_WKT})", lambda r: r.geom.within(SMALL)),
    ("roads", f"S_CROSSES(geometry, {AREA_WKT})", lambda r: r.geom.crosses(AREA)),
    ("roads", f"S_INTERSECTS(geometry, {SMALL_WKT}) AND oneway = false", lambda r: r.geom.intersects(SMALL)
     and not r.oneway),
    ("roads", "S_TOUCHES(geometry, POLYGON((114.60 33.61, 114.60 33.50, 114.50 33.50, 114.60 33.61)))",
     lambda r: r.geom.touches(ShapelyPolygon([(114.60, 33.61), (114.60, 33.50), (114.50, 33.50)]))),
    ("places", "S_CONTAINS(geometry, POINT(114.612 33.612))", lambda r: r.geom.contains(Point(114.612, 33.612))),
    ("places", "S_OVERLAPS(geometry, POLYGON((114.612 33.612, 114.62 33.612, 114.62 33.62, 114.612 33.62, "
               "114.612 33.612)))", lambda r: r.geom.overlaps(box(114.612, 33.612, 114.62, 33.62))),
    ("cameras", "S_EQUALS(geometry, POINT(114.61 33.61))", lambda r: r.geom.equals(Point(114.61, 33.61))),
    ("cameras", "status IN ('online', 'fault') AND direction_deg >= 45", lambda r: r.status in ("online", "fault")
     and r.direction_deg is not None and r.direction_deg >= 45),
    ("grids_level3", "households > 100 AND name LIKE '人和%'", lambda r: (r.households or 0) > 100
     and r.name.startswith("人和")),
]


def _ids(client, city: City, collection_id: str, params: dict[str, str]) -> set[str]:
    resp = client.get(f"/ogc/collections/{collection_id}/items", query_string={"limit": "10000", **params},
                      headers=city.whole)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"])
    return {f["id"] for f in body["features"]}


@pytest.mark.parametrize(("collection_id", "text", "predicate"), CASES, ids=[c[1][:60] for c in CASES])
def test_a_filter_selects_what_python_selects(client, city, collection_id, text, predicate):
    expected = {str(getattr(r, "id", None) or r.code) for r in _all(city, collection_id) if predicate(r)}
    assert _ids(client, city, collection_id, {"filter": text}) == expected
    # The same filter in CQL2 JSON, as the parser writes it.
    as_json = json.dumps(cql2.parse_text(text).to_json())
    assert _ids(client, city, collection_id, {"filter": as_json, "filter-lang": "cql2-json"}) == expected


def test_the_table_selects_something_and_not_everything(city):
    sizes = [sum(map(p, _all(city, c))) for c, _, p in CASES]
    assert sum(1 for s in sizes if s > 0) >= 30
    narrowing = [s < len(_all(city, c)) for (c, _, _), s in zip(CASES, sizes, strict=True) if c == "incidents"]
    assert sum(narrowing) >= len(narrowing) - 1  # all but version BETWEEN 1 AND 1, which every record meets


def test_filters_keep_the_jurisdiction(client, city):
    resp = client.get("/ogc/collections/addresses/items", headers=city.community,
                      query_string={"filter": "text LIKE '%院'", "limit": "10000"})
    ids = {f["id"] for f in resp.get_json()["features"]}
    community = city.store.grids.jurisdiction(samples.COMMUNITY.code)
    inside = {a.code for a in city.store.layers.query("addresses", within=community) if a.text.endswith("院")}
    assert ids == inside and 0 < len(ids) < sum(a.text.endswith("院") for a in _all(city, "addresses"))


def test_paging_a_filter_keeps_it(client, city):
    text = "category IN ('disputes', 'security')"
    expected = {r.id for r in _all(city, "incidents") if r.category in ("disputes", "security")}
    url, seen = f"/ogc/collections/incidents/items?limit=50&filter={text}", []
    while url:
        body = client.get(url, headers=city.whole).get_json()
        assert body["numberMatched"] == len(expected)
        seen += [f["id"] for f in body["features"]]
        url = {link["rel"]: link["href"] for link in body["links"]}.get("next", "").replace("http://localhost", "")
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_queryables_name_the_properties_and_their_types(client, city):
    resp = client.get("/ogc/collections/incidents/queryables", headers=city.whole)
    assert resp.status_code == 200 and resp.mimetype == "application/schema+json"
    doc = resp.get_json()
    props = doc["properties"]
    assert doc["type"] == "object" and doc["$id"].endswith("/ogc/collections/incidents/queryables")
    assert props["category"]["type"] == "string" and props["version"]["type"] == "integer"
    assert props["reported_at"] == {"title": "reported_at", "type": "string", "format": "date-time"}
    assert props["geometry"]["format"] == "geometry-point" and "extra" not in props
    roads = client.get("/ogc/collections/roads/queryables", headers=city.whole).get_json()["properties"]
    assert roads["oneway"]["type"] == "boolean" and roads["geometry"]["format"] == "geometry-linestring"
    rels = {link["rel"] for link in client.get("/ogc/collections/roads", headers=city.whole).get_json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/queryables" in rels


def test_conformance_declares_part_3_and_cql2(client, city):
    classes = client.get("/ogc/conformance", headers=city.whole).get_json()["conformsTo"]
    for name in FILTER_CLASSES:
        assert CONF_FILTER + name in classes
    for name in CQL2_CLASSES:
        assert CONF_CQL2 + name in classes


def _problem(client, city: City, params: dict[str, str], collection_id: str = "incidents") -> dict[str, Any]:
    resp = client.get(f"/ogc/collections/{collection_id}/items", query_string=params, headers=city.whole)
    assert resp.status_code == 400 and resp.mimetype == PROBLEM, (params, resp.status_code, resp.data[:300])
    return resp.get_json()


def test_an_unparseable_filter_names_the_position_and_what_was_expected(client, city):
    body = _problem(client, city, {"filter": "category = 'a' AND ("})
    assert body["position"] == {"line": 1, "column": 21} and "expected" in body["detail"]
    assert "line 1, column 21" in body["detail"] and body["param"] == "filter"
    body = _problem(client, city, {"filter": '{"op": "=", "args": [', "filter-lang": "cql2-json"})
    assert body["position"]["line"] == 1 and "column" in body["detail"]


def test_a_property_not_queryable_is_named(client, city):
    body = _problem(client, city, {"filter": "password = 'x'"})
    assert body["property"] == "password" and "'password' is not a queryable" in body["detail"]
    assert "category" in body["detail"]  # the ones there are
    body = _problem(client, city, {"filter": '{"op": "isNull", "args": [{"property": "extra"}]}',
                                   "filter-lang": "cql2-json"})
    assert body["property"] == "extra"


@pytest.mark.parametrize(("params", "words"), [
    ({"filter": "category = 3"}, "category is a string"),
    ({"filter": "reported_at > 'yesterday'"}, "date-time"),
    ({"filter": "category > version"}, "two properties"),
    ({"filter": "CASEI(category) = 'x'"}, "not supported"),
    ({"filter": "version + 1 > 3"}, "not supported"),
    ({"filter": "S_INTERSECTS(geometry, POLYGON((114 33, 115 33, 115 34)))"}, "closed"),
    ({"filter": "S_INTERSECTS(geometry, POLYGON((114 33, 115 34, 115 33, 114 34, 114 33)))"}, "not valid"),
    ({"filter": '{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", '
                '"coordinates": [NaN, 1]}]}', "filter-lang": "cql2-json"}, "NaN"),
    ({"filter": "S_INTERSECTS(geometry, POINT(NaN 1))"}, "expected"),
    ({"filter": "version = 1e400"}, "not finite"),
    ({"filter": "category = 'a'", "filter-lang": "ecql"}, "filter-lang"),
    ({"filter-lang": "cql2-text"}, "goes with a filter"),
    ({"filter": " "}, "empty"),
])
def test_bad_filters_are_400_saying_why(client, city, params, words):
    assert words in _problem(client, city, params)["detail"]


HOSTILE = [
    "category = 'x'' OR ''1''=''1'",
    "category = 'x''; DELETE FROM incidents; --'",
    "category = '\\'; DROP TABLE incidents; --'",
    'category = \'a" OR "1"="1\'',
    "category LIKE '%'' UNION SELECT token_hash FROM tokens --'",
    "\"category\" = 'disputes' --",
    "category = 'x' /* comment */",
    "category = 'x'; SELECT 1",
    "category = ?",
    "category = $1",
    "category = %s",
    "id = '\x00'",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_sql_fragments_stay_inert(client, city, text):
    before = city.store.layers.count("incidents")
    resp = client.get("/ogc/collections/incidents/items", query_string={"filter": text}, headers=city.whole)
    assert resp.status_code in (200, 400), resp.data[:300]
    if resp.status_code == 200:
        assert resp.get_json()["numberMatched"] == 0  # a literal that matches no stored text
    else:
        assert resp.mimetype == PROBLEM
    assert city.store.layers.count("incidents") == before


@pytest.mark.parametrize(("params", "words"), [
    ({"filter": "(" * 3000 + "category = 'a'" + ")" * 3000}, "nested deeper"),
    ({"filter": "NOT " * 1500 + "category = 'a'"}, "nested deeper"),
    ({"filter": "-" * 4000 + "1 = version"}, "nested deeper"),
    ({"filter": " AND ".join(["a = 1"] * 600)}, "more than 500"),
    ({"filter": "category IN (" + ",".join(f"'{k}'" for k in range(MAX_IN_VALUES + 1)) + ")"}, "at most"),
    ({"filter": "x" * 9000}, "at most 8000 characters"),
    ({"filter": '{"op": "not", "args": [' * 200 + '{"op": "isNull", "args": [{"property": "unit"}]}' + "]}" * 200,
      "filter-lang": "cql2-json"}, "nested deeper"),
    ({"filter": "S_INTERSECTS(geometry, POLYGON((" + ", ".join(f"{114 + k / 1e5} 33" for k in range(10_001))
      + ")))"}, "at most 8000 characters"),
])
def test_hostile_shapes_are_refused_not_crashed(client, city, params, words):
    assert words in _problem(client, city, params)["detail"]
    assert client.get("/ogc/collections/incidents/items?limit=1", headers=city.whole).status_code == 200


def test_a_long_in_list_within_the_limit_is_answered(client, city):
    values = ",".join(["'disputes'", "'security'", *(f"'{k}'" for k in range(MAX_IN_VALUES - 2))])
    body = client.get("/ogc/collections/incidents/items", headers=city.whole,
                      query_string={"filter": f"category IN ({values})", "limit": "1"}).get_json()
    assert body["numberMatched"] == sum(r.category in ("disputes", "security") for r in _all(city, "incidents"))


SLOW = {"sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) "
                  "SELECT count(*) FROM c",
        "postgis": "SELECT pg_sleep(5)"}


def test_a_read_past_the_time_limit_is_stopped_with_400(city):
    from mapserver.errors import Problem

    started = time.monotonic()
    with pytest.raises(Problem) as caught, city.store.layers.time_limit(0.2):
        city.store.database.fetch(SLOW[city.store.kind])
    assert caught.value.status == 400 and "stopped" in caught.value.detail
    assert time.monotonic() - started < 2
    assert city.store.layers.count("incidents") > 0  # the store answers again, on the same connections


# -- Part 2: output CRSs, bbox-crs, filter-crs ---------------------------------------------------------------------

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@functools.cache
def _to(code: int) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("OGC:CRS84", f"EPSG:{code}")


def _expected_position(code: int, lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in EPSG:code, in that CRS's own axis order, by pyproj directly."""
    return _to(code).transform(lon, lat)


@pytest.mark.parametrize("code", [4490, 4547, 4526])
def test_items_in_cgcs2000_and_projected_frames_match_pyproj_to_a_millimetre(client, city, code):
    resp = client.get("/ogc/collections/addresses/items", headers=city.whole,
                      query_string={"crs": f"{EPSG}{code}", "limit": "100"})
    assert resp.status_code == 200 and resp.headers["Content-Crs"] == f"<{EPSG}{code}>"
    stored = {a.code: a.geom for a in _all(city, "addresses")}
    features = resp.get_json()["features"]
    assert len(features) == len(stored)
    tolerance = 1e-8 if code == 4490 else 0.001  # degrees (about a millimetre) or metres
    for f in features:
        first, second = _expected_position(code, stored[f["id"]].x, stored[f["id"]].y)
        assert f["geometry"]["coordinates"] == pytest.approx((first, second), abs=tolerance)
    if code == 4490:  # latitude first, as EPSG defines CGCS2000's axes
        assert features[0]["geometry"]["coordinates"][0] == pytest.approx(stored[features[0]["id"]].y)


def test_one_item_and_a_line_in_epsg_4547(client, city):
    road = samples.ROADS[0]
    resp = client.get(f"/ogc/collections/roads/items/{road.code}", headers=city.whole,
                      query_string={"crs": f"{EPSG}4547"})
    assert resp.headers["Content-Crs"] == f"<{EPSG}4547>"
    coords = resp.get_json()["geometry"]["coordinates"]
    for (lon, lat), got in zip(road.geom.coords, coords, strict=True):
        assert got == pytest.approx(_expected_position(4547, lon, lat), abs=0.001)
    default = client.get(f"/ogc/collections/roads/items/{road.code}", headers=city.whole)
    assert default.headers["Content-Crs"] == f"<{CRS84}>"


def test_collections_list_their_crs_and_storage_crs(client, city):
    doc = client.get("/ogc/collections/incidents", headers=city.whole).get_json()
    assert doc["storageCrs"] == CRS84
    assert doc["crs"] == [CRS84, f"{EPSG}4326", f"{EPSG}4490", f"{EPSG}4547", f"{EPSG}4526"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in client.get(
        "/ogc/conformance", headers=city.whole).get_json()["conformsTo"]


@pytest.mark.parametrize("param", ["crs", "bbox-crs", "filter-crs"])
def test_a_crs_not_offered_is_400_listing_those_offered(client, city, param):
    params = {param: f"{EPSG}3857", "bbox": "1,2,3,4", "filter": "category = 'x'"}
    body = _problem(client, city, params)
    assert body["param"] == param and body["offered"][0] == CRS84 and f"{EPSG}4490" in body["detail"]


def test_bbox_and_filter_in_other_crss_select_the_same_incidents(client, city):
    from pyproj import Transformer

    west, south, east, north = 114.62, 33.62, 114.66, 33.67
    expected = {r.id for r in _all(city, "incidents") if box(west, south, east, north).intersects(r.geom)}
    lat_first = _ids(client, city, "incidents", {"bbox": f"{south},{west},{north},{east}",
                                                   "bbox-crs": f"{EPSG}4490"})
    assert lat_first == expected
    # The same box drawn in EPSG:4547 (northing, easting) is a little wider than its lon/lat corners: compare it
    # with the box pyproj makes of it.
    to_gk = Transformer.from_crs("OGC:CRS84", "EPSG:4547")
    (n1, e1), (n2, e2) = to_gk.transform(west, south), to_gk.transform(east, north)
    gk = _ids(client, city, "incidents", {"bbox": f"{n1},{e1},{n2},{e2}", "bbox-crs": f"{EPSG}4547"})
    back = Transformer.from_crs("EPSG:4547", "OGC:CRS84")
    gk_box = ShapelyPolygon([back.transform(n, e) for n, e in ((n1, e1), (n1, e2), (n2, e2), (n2, e1))])
    assert gk == {r.id for r in _all(city, "incidents") if gk_box.intersects(r.geom)}
    assert len(gk ^ expected) < len(expected) / 10
    in_4490 = f"S_INTERSECTS(geometry, POLYGON(({south} {west}, {south} {east}, {north} {east}, {north} {west}, " \
              f"{south} {west})))"
    assert _ids(client, city, "incidents", {"filter": in_4490, "filter-crs": f"{EPSG}4490"}) == expected


# -- GIS clients against a running server: GDAL's OAPIF driver and OWSLib ------------------------------------------

@pytest.fixture(scope="module")
def served(city: City) -> Iterator[str]:
    import threading

    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, city.app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def _ogrinfo(city: City, *args: str) -> str:
    import shutil
    import subprocess

    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "ogrinfo is missing: install Debian's gdal-bin (scripts/test does)"
    result = subprocess.run([ogrinfo, "-ro", *args, "--config", "GDAL_HTTP_HEADERS",
                             f"Authorization: {city.whole['Authorization']}"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr
    return result.stdout


def test_ogrinfo_where_and_spat_select_what_python_selects(city, served):
    # GDAL 3.6 evaluates -where itself, by OGR SQL, whose = on text ignores case (its OAPIF driver sends a CQL2
    # filter from 3.7 on), and sends -spat as bbox.
    out = _ogrinfo(city, "-so", f"OAPIF:{served}/ogc", "incidents", "-where",
                   "category = 'disputes' AND status <> 'closed'", "-spat", "114.60", "33.60", "114.65", "33.66")
    expected = sum(r.category.lower() == "disputes" and r.status != "closed" and AREA.intersects(r.geom)
                   for r in _all(city, "incidents"))
    assert f"Feature Count: {expected}" in out


def test_owslib_reads_queryables_and_filters_in_cgcs2000(city, served):
    from owslib.ogcapi.features import Features

    api = Features(f"{served}/ogc", headers=city.whole)
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in api.conformance()["conformsTo"]
    assert api.collection_queryables("incidents")["properties"]["category"]["type"] == "string"
    found = api.collection_items("incidents", filter="severity = 'urgent' AND category LIKE 'sec%'",
                                 crs=f"{EPSG}4490", limit=1000)
    chosen = {r.id: r for r in _all(city, "incidents") if r.severity == "urgent" and r.category.startswith("sec")}
    assert {f["id"] for f in found["features"]} == set(chosen) and chosen
    one = found["features"][0]
    assert one["geometry"]["coordinates"] == pytest.approx((chosen[one["id"]].geom.y, chosen[one["id"]].geom.x))
