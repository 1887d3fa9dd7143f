"""The hotline intake desk's API on both backends: resolving coordinates, addresses (certain or not) and road
crossings; possible duplicates within radius, time, category and jurisdiction only; linking a repeat, recorded in
the timeline and the audit trail; bad input answered with problem+json."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import LineString, Point

from mapserver import create_app
from mapserver.addressing import AddressCandidate
from mapserver.config import LookupSettings, Settings, StoreSettings
from mapserver.intake.resolve import Certainty
from mapserver.model import Address, Incident, Road
from tests import samples
from tests.jurisdiction_data import token
from tests.test_api import assert_problem

NEAR_ROADS = [
    Road(code="R003", name="文昌大道", road_class="primary", geom=LineString([(114.62, 33.60), (114.62, 33.64)])),
    # stops 0.0002° (≈ 19 m) short of 七一路 (lat 33.61): drawn apart, still a crossing
    Road(code="R004", name="八一路", road_class="secondary", geom=LineString([(114.64, 33.6102), (114.64, 33.64)])),
    Road(code="R005", name="远郊路", road_class="secondary", geom=LineString([(114.69, 33.65), (114.69, 33.69)])),
]
MORE_ADDRESSES = [
    Address(code="A002", text="川汇区七一路20号人和小区5号楼1单元101室", geom=Point(114.6115, 33.6112)),
    Address(code="A003", text="川汇区七一路22号人和小区6号楼1单元101室", geom=Point(114.6118, 33.6114)),
]


@pytest.fixture
def city(store):
    samples.load_all(store)
    store.layers.add("roads", NEAR_ROADS)
    store.layers.add("addresses", MORE_ADDRESSES)
    return store


def _incident(at: datetime, lon: float, lat: float, *, category: str = "city_appearance", status: str = "reported",
              chain: tuple[str | None, ...] = (samples.STREET.code, samples.COMMUNITY.code, None)) -> Incident:
    return Incident(id=str(uuid.uuid4()), geom=Point(lon, lat), reported_at=at, category=category, status=status,
                    grid_code=[c for c in chain if c][-1], grid_l1=chain[0], grid_l2=chain[1], grid_l3=chain[2],
                    description="垃圾堆放")


# -- resolving ----------------------------------------------------------------------------------------------


def test_coordinates_give_the_grid_card(client, city, tokens):
    body = client.get("/api/intake/resolve?q=114.6005, 33.6005", headers=tokens["operator"]).get_json()
    assert body["kind"] == "point" and body["certain"] is True and body["candidates"] == []
    assert body["card"]["grid"]["code"] == samples.COMPOUND.code
    assert body["card"]["police_liaison"]["phone"] == "13800000003"
    gcj = client.get("/api/intake/resolve?q=114.6065,33.6000&crs=gcj02", headers=tokens["operator"]).get_json()
    assert gcj["kind"] == "point" and abs(gcj["point"]["lon"] - 114.6065) > 1e-4  # converted to WGS-84


def test_a_certain_address_is_taken(client, city, tokens):
    body = client.get("/api/intake/resolve?q=七一路18号人和小区3栋2单元501", headers=tokens["operator"]).get_json()
    assert body["kind"] == "address" and body["certain"] is True
    assert body["candidates"][0]["code"] == "A001" and body["candidates"][0]["score"] >= 90
    assert body["candidates"][0]["score"] - body["candidates"][1]["score"] >= 8
    assert body["card"]["grid"]["code"] == samples.COMPOUND.code
    assert body["candidates"][0]["grid_code"] == samples.COMPOUND.code


def test_an_uncertain_address_lists_candidates_and_picks_none(client, city, tokens):
    body = client.get("/api/intake/resolve?q=人和小区1单元101室", headers=tokens["operator"]).get_json()
    assert body["kind"] == "address" and body["certain"] is False
    assert "card" not in body and "point" not in body
    codes = [c["code"] for c in body["candidates"]]
    assert {"A002", "A003"} <= set(codes) and len(codes) <= 5
    for c in body["candidates"]:
        assert 0 <= c["score"] <= 100 and c["grid_code"] == samples.COMPOUND.code and c["lon"] and c["lat"]


def test_the_certainty_rule_comes_from_config(city, tokens):
    strict = Settings(store=StoreSettings(url=city.url), lookup=LookupSettings(certain_score=100.0))
    client = create_app(strict, store=city).test_client()
    body = client.get("/api/intake/resolve?q=七一路18号人和小区3栋2单元501", headers=tokens["operator"]).get_json()
    assert body["candidates"][0]["score"] < 100 and body["certain"] is False and "card" not in body


def test_certain_needs_a_high_score_and_a_clear_lead():
    rule = Certainty(min_score=90, min_lead=8)
    def of(*scores):
        return [AddressCandidate(code=str(i), text="", lon=0, lat=0, score=s) for i, s in enumerate(scores)]
    assert rule.holds(of(95, 80)) and rule.holds(of(90)) and rule.holds(of(98, 90))
    assert not rule.holds(of(95, 88)) and not rule.holds(of(89.9, 10)) and not rule.holds([])


@pytest.mark.parametrize("q", ["文昌大道与七一路交叉口", "七一路和文昌大道路口", "文昌大道与七一路",
                               "文昌大道 & 七一路"])
def test_a_crossing_of_two_roads(client, city, tokens, q):
    body = client.get("/api/intake/resolve", query_string={"q": q}, headers=tokens["operator"]).get_json()
    assert body["kind"] == "crossing" and body["certain"] is True
    assert body["point"] == {"lon": 114.62, "lat": 33.61} and body["crossing"]["gap_m"] == 0
    assert body["card"]["grid"]["code"] == samples.STREET.code or body["card"]["chain"]


def test_roads_that_stop_short_meet_at_their_nearest_approach(client, city, tokens):
    body = client.get("/api/intake/resolve?q=八一路与七一路交叉口", headers=tokens["operator"]).get_json()
    assert body["kind"] == "crossing" and 15 < body["crossing"]["gap_m"] < 30
    assert body["point"]["lon"] == 114.64 and abs(body["point"]["lat"] - 33.6101) < 1e-6


def test_a_missing_road_or_roads_apart_are_422(client, city, tokens):
    missing = assert_problem(client.get("/api/intake/resolve?q=文昌大道与解放路交叉口", headers=tokens["operator"]),
                             422, "q")
    assert "解放路" in missing["detail"] and "文昌大道" not in missing["detail"]
    apart = assert_problem(client.get("/api/intake/resolve?q=远郊路与文昌大道交叉口", headers=tokens["operator"]),
                           422, "q")
    assert "do not meet" in apart["detail"]


def test_an_address_with_and_in_it_is_not_a_crossing(client, city, tokens):
    body = client.get("/api/intake/resolve?q=人和小区3号楼", headers=tokens["operator"]).get_json()
    assert body["kind"] == "address"


@pytest.mark.parametrize("query, status, param", [
    ("", 400, "q"), ("q=", 400, "q"), ("q=" + "路" * 201, 400, "q"), ("q=114.6,33.6&crs=wgs85", 400, "crs"),
    ("q=200,95", 400, "q"), ("q=x&lng=1", 400, "lng"), ("q=a", 400, "address"),
])
def test_bad_resolves(client, city, tokens, query, status, param):
    assert_problem(client.get(f"/api/intake/resolve?{query}", headers=tokens["operator"]), status, param)


def test_who_may_use_the_desk(client, city, tokens):
    for role in ("operator", "dispatcher", "admin"):
        assert client.get("/api/intake/resolve?q=114.6,33.6", headers=tokens[role]).status_code == 200
    for role in ("viewer", "field", "liaison"):
        assert_problem(client.get("/api/intake/resolve?q=114.6,33.6", headers=tokens[role]), 403)
    assert_problem(client.get("/api/intake/resolve?q=114.6,33.6"), 401)


# -- duplicates ---------------------------------------------------------------------------------------------


@pytest.fixture
def cases(city):
    now = datetime.now(UTC)
    made = {
        "near": _incident(now - timedelta(hours=2), 114.6496, 33.6100),  # ≈ 9 m east of the query
        "nearer": _incident(now - timedelta(hours=1), 114.6495, 33.6101),  # ≈ 11 m north
        "far": _incident(now - timedelta(hours=1), 114.6520, 33.6100),  # ≈ 232 m east: outside 200 m
        "old": _incident(now - timedelta(hours=30), 114.6495, 33.6100),
        "other_category": _incident(now - timedelta(hours=1), 114.6495, 33.6100, category="disputes"),
        "closed": _incident(now - timedelta(hours=1), 114.6495, 33.6100, status="closed"),
        # in the street but not in its community, ≈ 93 m away: outside a community operator's jurisdiction
        "outside": _incident(now - timedelta(hours=1), 114.6505, 33.6100, chain=(samples.STREET.code, None, None)),
    }
    city.layers.add("incidents", list(made.values()))
    return {name: incident.id for name, incident in made.items()}


def _dupes(client, headers, **extra):
    query = {"lon": 114.6495, "lat": 33.6100, "category": "city_appearance", **extra}
    resp = client.get("/api/intake/duplicates", query_string=query, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_duplicates_within_radius_time_and_category_nearest_first(client, cases, tokens):
    body = _dupes(client, tokens["operator"])
    ids = [f["id"] for f in body["features"]]
    assert ids == [cases["near"], cases["nearer"], cases["outside"]]
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert distances == sorted(distances) and 8 < distances[0] < 10 and 90 < distances[2] < 96
    wider = [f["id"] for f in _dupes(client, tokens["operator"], radius_m=300, hours=48)["features"]]
    assert set(wider) == {cases[k] for k in ("near", "nearer", "outside", "far", "old")}
    assert [f["id"] for f in _dupes(client, tokens["operator"], radius_m=10)["features"]] == [cases["near"]]


def test_duplicates_stay_in_the_jurisdiction(client, city, cases):
    community_operator = token(city, "operator", samples.COMMUNITY, "operator-community")
    ids = [f["id"] for f in _dupes(client, community_operator)["features"]]
    assert ids == [cases["near"], cases["nearer"]]


@pytest.mark.parametrize("query, param", [
    ({"lat": 33.61, "category": "city_appearance"}, "lon"), ({"lon": "x", "lat": 33.61, "category": "disputes"}, "lon"),
    ({"lon": 114.6, "lat": 33.61}, "category"), ({"lon": 114.6, "lat": 33.61, "category": "aliens"}, "category"),
    ({"lon": 114.6, "lat": 33.61, "category": "disputes", "radius_m": 0}, "radius_m"),
    ({"lon": 114.6, "lat": 33.61, "category": "disputes", "hours": "a"}, "hours"),
    ({"lon": 114.6, "lat": 99, "category": "disputes"}, "lon"), ({"lon": "nan", "lat": 33.6, "category": "x"}, "lon"),
    ({"lon": 114.6, "lat": 33.61, "category": "disputes", "within": 1}, "within"),
])
def test_bad_duplicate_queries(client, city, tokens, query, param):
    assert_problem(client.get("/api/intake/duplicates", query_string=query, headers=tokens["operator"]), 400, param)


# -- linking ------------------------------------------------------------------------------------------------


def test_linking_a_repeat_is_recorded_counted_and_audited(client, city, cases, tokens):
    target = cases["near"]
    resp = client.post(f"/api/incidents/{target}/links", json={"note": "又来电催办", "phone": "139 0000 0000"},
                       headers=tokens["operator"])
    assert resp.status_code == 201 and resp.get_json() == {"id": target, "status": "reported", "links": 1}
    again = client.post(f"/api/incidents/{target}/links", json={}, headers=tokens["dispatcher"]).get_json()
    assert again["links"] == 2
    timeline = client.get(f"/api/incidents/{target}", headers=tokens["viewer"]).get_json()["properties"]["timeline"]
    links = [e for e in timeline if e["action"] == "link"]
    assert len(links) == 2 and links[0]["note"] == "来电 139 0000 0000 · 又来电催办"
    assert links[0]["from"] == links[0]["to"] == "reported"
    assert city.incidents.get(target).version == 0 or city.incidents.get(target).status == "reported"
    records, total = city.audit.records(action="incident.link", target=target)
    assert total == 2 and records[0].detail["links"] in (1, 2)


def test_linking_refusals_write_nothing(client, city, cases, tokens):
    community_operator = token(city, "operator", samples.COMMUNITY, "operator-community")
    assert_problem(client.post(f"/api/incidents/{cases['outside']}/links", json={}, headers=community_operator),
                   404, "id")
    assert_problem(client.post(f"/api/incidents/{cases['closed']}/links", json={}, headers=tokens["operator"]),
                   409, "id")
    assert_problem(client.post("/api/incidents/nope/links", json={}, headers=tokens["operator"]), 404, "id")
    assert_problem(client.post(f"/api/incidents/{cases['near']}/links", json={"phone": "<b>"},
                               headers=tokens["operator"]), 400, "phone")
    assert_problem(client.post(f"/api/incidents/{cases['near']}/links", json={"note": 5},
                               headers=tokens["operator"]), 400, "note")
    assert_problem(client.post(f"/api/incidents/{cases['near']}/links", json={"note": "x" * 501},
                               headers=tokens["operator"]), 413, "note")
    assert_problem(client.post(f"/api/incidents/{cases['near']}/links", json={"dup": 1},
                               headers=tokens["operator"]), 400, "dup")
    assert_problem(client.post(f"/api/incidents/{cases['near']}/links", json={}, headers=tokens["viewer"]), 403)
    assert city.incidents.link_count(cases["near"]) == 0
    assert city.audit.records(action="incident.link")[1] == 0


# -- the page -----------------------------------------------------------------------------------------------


def test_the_page_needs_a_person_and_sends_a_browser_to_log_in(client, city, tokens):
    assert_problem(client.get("/desk/intake", headers=tokens["operator"]), 400)
    resp = client.get("/desk/intake?lang=en", headers={"Accept": "text/html"})
    assert resp.status_code == 303 and "/login?next=%2Fdesk%2Fintake" in resp.headers["Location"]
