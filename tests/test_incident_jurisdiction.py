"""Incidents within a jurisdiction, on both backends: two communities' operators and two streets' dispatchers over
one store each see, measure and move only their own incidents; the areas' figures add up to the district's; an
id outside is a 404 that writes nothing; reports outside are refused; units serve jurisdictions."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import h3
import pytest
from shapely.geometry import Point

from mapserver import create_app
from mapserver.config import Settings, StoreSettings
from mapserver.errors import Problem
from mapserver.incidents.settings import IncidentSettings
from mapserver.jurisdiction import Jurisdiction
from mapserver.model import IncidentEvent
from mapserver.store.incidents import IncidentFilter
from tests import jurisdiction_data as data
from tests.test_api import assert_problem

A, B = data.STREET_A, data.STREET_B
A1, A2, B1 = data.COMMUNITY_A1, data.COMMUNITY_A2, data.COMMUNITY_B1
A1_SOUTH = data.COMPOUNDS[0]


@pytest.fixture
def district(store):
    data.load(store)
    return store


@pytest.fixture
def people(district):
    """Headers per person: the operators of communities A1 and B1, the dispatchers of streets A and B, a grid worker
    of compound A1-south, and a district viewer and dispatcher."""
    return {
        "operator_a1": data.token(district, "operator", A1, "operator-a1"),
        "operator_b1": data.token(district, "operator", B1, "operator-b1"),
        "dispatcher_a": data.token(district, "dispatcher", A, "dispatcher-a"),
        "dispatcher_b": data.token(district, "dispatcher", B, "dispatcher-b"),
        "field_a1s": data.token(district, "field", A1_SOUTH, "field-a1s"),
        "viewer": data.token(district, "viewer", None, "viewer-district"),
        "dispatcher": data.token(district, "dispatcher", None, "dispatcher-district"),
    }


def listed(client, headers, query=""):
    resp = client.get(f"/api/incidents?limit=10000{query}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    return body["numberMatched"], {f["id"] for f in body["features"]}


def ids(code):
    return {i.id for i in data.in_area(code)}


def without_clock(body):
    return {k: v for k, v in body.items() if k != "generated_at"}


# -- reads ------------------------------------------------------------------------------------------------------


def test_each_lists_only_its_own_incidents(client, people):
    for who, grid in (("operator_a1", A1), ("operator_b1", B1), ("dispatcher_a", A), ("dispatcher_b", B),
                      ("field_a1s", A1_SOUTH)):
        total, found = listed(client, people[who])
        assert found == ids(grid.code) and total == len(found), who
    total, everything = listed(client, people["viewer"])
    assert total == len(data.INCIDENTS) and everything == ids(A.code) | ids(B.code)
    assert ids(A.code) and ids(B.code) and not ids(A.code) & ids(B.code)


def test_a_grid_filter_works_inside_the_jurisdiction_and_finds_nothing_outside(client, people):
    assert listed(client, people["dispatcher_a"], f"&grid={A1.code}")[1] == ids(A1.code)
    assert listed(client, people["dispatcher_a"], f"&grid={B1.code}") == (0, set())
    assert listed(client, people["operator_a1"], f"&grid={A.code}")[1] == ids(A1.code)  # the street, within A1
    assert listed(client, people["operator_a1"], "&status=closed")[1] == {
        i.id for i in data.in_area(A1.code) if i.status == "closed"}


def test_an_incident_outside_is_404_exactly_as_one_that_does_not_exist(client, people):
    theirs = next(iter(ids(B.code)))
    outside = assert_problem(client.get(f"/api/incidents/{theirs}", headers=people["dispatcher_a"]), 404, "id")
    missing = assert_problem(client.get("/api/incidents/00000000-0000-4000-a000-999999999999",
                                        headers=people["dispatcher_a"]), 404, "id")
    assert outside["detail"].replace(theirs, "X") == missing["detail"].replace("00000000-0000-4000-a000-999999999999",
                                                                                "X")
    assert "timeline" not in outside
    ours = client.get(f"/api/incidents/{theirs}", headers=people["dispatcher_b"])
    assert ours.status_code == 200 and ours.get_json()["properties"]["timeline"] == []
    assert client.get(f"/api/incidents/{theirs}", headers=people["viewer"]).status_code == 200


def test_kpis_of_the_streets_add_up_to_the_district(client, people):
    window = f"since={(data.START - timedelta(days=1)).date()}T00:00:00%2B00:00&until=" \
             f"{(data.NOW + timedelta(days=1)).date()}T00:00:00%2B00:00"
    for query in ("", window):  # no window; whole UTC days (the district's answer comes from the summary)
        a = client.get(f"/api/kpis?{query}", headers=people["dispatcher_a"]).get_json()
        b = client.get(f"/api/kpis?{query}", headers=people["dispatcher_b"]).get_json()
        district = client.get(f"/api/kpis?{query}", headers=people["viewer"]).get_json()
        assert a["total"] == len(ids(A.code)) and b["total"] == len(ids(B.code)) and a["total"] != b["total"]
        assert a["total"] + b["total"] == district["total"]
        assert a["closed"] + b["closed"] == district["closed"]
        assert a["overdue_now"] + b["overdue_now"] == district["overdue_now"]
        for key in ("by_category", "by_severity", "by_status"):
            assert Counter(a[key]) + Counter(b[key]) == Counter(district[key]), key
        # A street's own token and the district's with the street's code: the same answer.
        for who, street in (("dispatcher_a", A), ("dispatcher_b", B), ("operator_a1", A1)):
            scoped = client.get(f"/api/kpis?{query}&level=3", headers=people[who]).get_json()
            explicit = client.get(f"/api/kpis?{query}&level=3&code={street.code}", headers=people["viewer"]).get_json()
            assert without_clock(scoped) == without_clock(explicit), who


def test_kpis_for_a_code_outside_count_nothing(client, people):
    body = client.get(f"/api/kpis?code={B.code}", headers=people["dispatcher_a"]).get_json()
    assert body["total"] == 0 and body["by_category"] == {}


def test_heat_of_the_streets_adds_up_to_the_district(client, people):
    heat = {who: client.get("/api/heat?res=9", headers=people[who]).get_json()
            for who in ("dispatcher_a", "dispatcher_b", "viewer", "operator_a1")}
    assert heat["dispatcher_a"]["incidents"] == len(ids(A.code))
    assert heat["operator_a1"]["incidents"] == len(ids(A1.code))
    assert Counter(heat["dispatcher_a"]["cells"]) + Counter(heat["dispatcher_b"]["cells"]) == Counter(
        heat["viewer"]["cells"])
    assert set(heat["operator_a1"]["cells"]) <= set(heat["dispatcher_a"]["cells"])
    # A grid filter narrows inside the jurisdiction; one outside finds nothing.
    explicit = client.get(f"/api/heat?res=9&grid={A.code}", headers=people["viewer"]).get_json()
    assert explicit["cells"] == heat["dispatcher_a"]["cells"]
    assert client.get(f"/api/heat?res=9&grid={A1.code}", headers=people["dispatcher_a"]).get_json()[
        "cells"] == heat["operator_a1"]["cells"]
    assert client.get(f"/api/heat?res=9&grid={B.code}", headers=people["dispatcher_a"]).get_json()["incidents"] == 0


def test_hotspots_run_on_the_jurisdictions_own_cells(client, people):
    a = client.get("/api/hotspots?res=9", headers=people["dispatcher_a"]).get_json()
    b = client.get("/api/hotspots?res=9", headers=people["dispatcher_b"]).get_json()
    district = client.get("/api/hotspots?res=9", headers=people["viewer"]).get_json()
    assert a["incidents"] == len(ids(A.code)) and b["incidents"] == len(ids(B.code))
    assert a["incidents"] + b["incidents"] == district["incidents"]
    assert a["units"] + b["units"] == district["units"]  # the streets' cells tile the district's
    assert all(A.geom.contains(Point(c["lon"], c["lat"])) for c in a["cells"])
    assert not {c["id"] for c in a["cells"]} & {c["id"] for c in b["cells"]}


def test_grid_hotspots_and_risk_cover_the_grids_inside_only(client, people):
    grids = client.get("/api/hotspots?level=2", headers=people["dispatcher_a"]).get_json()
    assert [g["id"] for g in grids["grids"]] != [] and {g["id"] for g in grids["grids"]} == {A1.code, A2.code}
    assert grids["incidents"] == len(ids(A.code))
    assert_problem(client.get("/api/hotspots?level=1", headers=people["operator_a1"]), 422, "level")
    risk_a = client.get("/api/grids/risk?level=3", headers=people["dispatcher_a"]).get_json()
    risk_all = client.get("/api/grids/risk?level=3", headers=people["viewer"]).get_json()
    compounds_a = {g.code for g in data.COMPOUNDS if g.code.startswith(A.code[:9])}
    assert {f["id"] for f in risk_a["features"]} == compounds_a
    every = {f["id"]: f["properties"] for f in risk_all["features"]}
    for feature in risk_a["features"]:
        mine, whole = feature["properties"], every[feature["id"]]
        assert (mine["incidents"], mine["overdue"]) == (whole["incidents"], whole["overdue"])
        assert mine["incidents"] == len(ids(feature["id"]))
    # The default level is the configured one (2), or the jurisdiction's own when finer.
    assert {f["id"] for f in client.get("/api/grids/risk", headers=people["dispatcher_a"]).get_json()[
        "features"]} == {A1.code, A2.code}
    assert {f["id"] for f in client.get("/api/grids/risk", headers=people["field_a1s"]).get_json()[
        "features"]} == {A1_SOUTH.code}
    assert_problem(client.get("/api/grids/risk?level=2", headers=people["field_a1s"]), 422, "level")


def test_trends_count_the_jurisdictions_incidents_on_its_cells(client, people):
    until = (data.NOW + timedelta(days=1)).date().isoformat()
    a = client.get(f"/api/hotspots/trend?period=day&periods=12&until={until}", headers=people["dispatcher_a"])
    district = client.get(f"/api/hotspots/trend?period=day&periods=12&until={until}", headers=people["viewer"])
    assert a.status_code == 200 and district.status_code == 200
    a, district = a.get_json(), district.get_json()
    assert 0 < a["units"] < district["units"]
    assert sum(sum(c["counts"]) for c in a["cells"]) <= len(ids(A.code))
    assert all(A.geom.contains(Point(c["lon"], c["lat"])) for c in a["cells"])


def test_the_weekly_bulletin_covers_the_jurisdiction(client, people):
    week = data.NOW.date().isocalendar()
    url = f"/api/reports/weekly?week={week.year}-W{week.week:02d}"
    page_a = client.get(url, headers=people["dispatcher_a"])
    assert page_a.status_code == 200, page_a.get_data(as_text=True)
    html = page_a.get_data(as_text=True)
    assert A.name in html and B.name not in html and f'data-code="{B.code}"' not in html
    district = client.get(url, headers=people["viewer"]).get_data(as_text=True)
    assert A.name in district and B.name in district
    assert_problem(client.get(f"{url}&level=2", headers=people["field_a1s"]), 422, "level")
    assert client.get(url, headers=people["field_a1s"]).status_code == 200


# -- writes -----------------------------------------------------------------------------------------------------


def open_incident(code):
    return next(i for i in data.INCIDENTS if i.status == "reported" and code in (i.grid_l1, i.grid_l2, i.grid_l3))


def test_a_transition_outside_is_404_and_writes_nothing(client, district, people):
    theirs = open_incident(B.code)
    before = district.incidents.get(theirs.id)
    audited = district.audit.records()
    resp = client.post(f"/api/incidents/{theirs.id}/transitions", headers=people["dispatcher_a"],
                       json={"action": "dispatch", "unit": "七一路街道办事处"})
    assert_problem(resp, 404, "id")
    assert district.incidents.get(theirs.id) == before and district.incidents.timeline(theirs.id) == []
    assert district.audit.records() == audited
    moved = client.post(f"/api/incidents/{theirs.id}/transitions", headers=people["dispatcher_b"],
                        json={"action": "dispatch", "unit": "七一路街道办事处"})
    assert moved.status_code == 200 and moved.get_json()["properties"]["status"] == "dispatched"


def test_the_store_moves_nothing_outside_even_at_the_right_version(district):
    theirs = open_incident(B.code)
    street_a = Jurisdiction(code=A.code, level=1, name=A.name)
    event = IncidentEvent(incident_id=theirs.id, at=data.NOW, actor="x", action="dispatch", from_status="reported",
                          to_status="dispatched", unit="u")
    with pytest.raises(Problem) as raised:
        district.incidents.transition(incident_id=theirs.id, expected_version=theirs.version, event=event,
                                      changes={"unit": "u"}, within=street_a)
    assert raised.value.status == 404
    assert district.incidents.get(theirs.id).version == theirs.version
    assert district.incidents.get(theirs.id, within=street_a) is None
    assert district.incidents.get(open_incident(A.code).id, within=street_a) is not None


def test_a_grid_worker_accepts_and_handles_in_their_grid_but_does_not_dispatch(client, people):
    ours = open_incident(A1_SOUTH.code)
    assert_problem(client.post(f"/api/incidents/{ours.id}/transitions", headers=people["field_a1s"],
                               json={"action": "dispatch", "unit": "北关社区"}), 403, "action")
    assert client.post(f"/api/incidents/{ours.id}/transitions", headers=people["dispatcher_a"],
                       json={"action": "dispatch", "unit": "北关社区"}).status_code == 200
    for action in ("accept", "handle"):
        resp = client.post(f"/api/incidents/{ours.id}/transitions", headers=people["field_a1s"],
                           json={"action": action})
        assert resp.status_code == 200, resp.get_json()
    elsewhere = open_incident(data.COMPOUNDS[1].code)  # A1's other compound
    client.post(f"/api/incidents/{elsewhere.id}/transitions", headers=people["dispatcher_a"],
                json={"action": "dispatch", "unit": "北关社区"})
    assert_problem(client.post(f"/api/incidents/{elsewhere.id}/transitions", headers=people["field_a1s"],
                               json={"action": "accept"}), 404, "id")


def report(client, headers, lon, lat):
    return client.post("/api/incidents", headers=headers, json={
        "category": "disputes", "severity": "general", "description": "楼道堆物", "point": {"lon": lon, "lat": lat}})


def test_a_report_outside_the_reporters_jurisdiction_is_refused(client, district, people):
    before = district.layers.count("incidents")
    in_a1, in_a2, in_b1 = (114.61, 33.61), (114.66, 33.61), (114.71, 33.61)
    refused = assert_problem(report(client, people["operator_a1"], *in_a2), 422, "point")
    assert "(114.660000, 33.610000)" in refused["detail"] and A1.name in refused["detail"]
    assert A1.code in refused["detail"] and "another street" not in refused["detail"]
    other_street = assert_problem(report(client, people["operator_a1"], *in_b1), 422, "point")
    assert "another street" in other_street["detail"] and B.name in other_street["detail"]
    assert B1.code[:12] in other_street["detail"]  # the grid it belongs to is named
    hotline = data.token(district, "operator", A, "hotline-a")  # a street's hotline operator
    street = assert_problem(report(client, hotline, *in_b1), 422, "point")
    assert "another street" in street["detail"] and A.name in street["detail"] and B.name in street["detail"]
    assert district.layers.count("incidents") == before
    for who, point in (("operator_a1", in_a1), ("dispatcher_a", in_a2), ("dispatcher", in_b1)):
        assert report(client, people[who], *point).status_code == 201, who


# -- units --------------------------------------------------------------------------------------------------------

UNITS = {"陈州回族街道办事处": [A.code], "七一路街道办事处": [B.code], "陈州西社区工作站": [A1.code],
         "区住房和城乡建设局": []}


@pytest.fixture
def unit_client(district):
    settings = Settings(store=StoreSettings(url=district.url), incidents=IncidentSettings(units=UNITS))
    app = create_app(settings, store=district)
    app.config["TESTING"] = True
    return app.test_client()


def dispatch(client, headers, incident, unit):
    return client.post(f"/api/incidents/{incident.id}/transitions", headers=headers,
                       json={"action": "dispatch", "unit": unit})


def test_units_not_configured_are_refused_with_near_names(unit_client, people):
    body = assert_problem(dispatch(unit_client, people["dispatcher_a"], open_incident(A.code), "住建局"), 422, "unit")
    assert "区住房和城乡建设局" in body["detail"]
    assert body["reason"] == "unit_unknown" and body["unit"] == "住建局" and "区住房和城乡建设局" in body["near"]


def test_a_unit_must_lie_in_or_serve_the_jurisdiction(unit_client, district, people):
    a_items = [i for i in data.INCIDENTS if i.status == "reported" and i.grid_l1 == A.code]
    body = assert_problem(dispatch(unit_client, people["dispatcher_a"], a_items[0], "七一路街道办事处"), 403, "unit")
    assert B.code in body["detail"] and A.name in body["detail"]
    assert body["reason"] == "unit_out_of_reach" and body["unit"] == "七一路街道办事处"
    assert district.incidents.get(a_items[0].id).status == "reported"
    assert dispatch(unit_client, people["dispatcher_a"], a_items[0], "陈州回族街道办事处").status_code == 200
    assert dispatch(unit_client, people["dispatcher_a"], a_items[1], "陈州西社区工作站").status_code == 200  # inside
    assert dispatch(unit_client, people["dispatcher_a"], a_items[2], "区住房和城乡建设局").status_code == 200  # whole
    assert dispatch(unit_client, people["dispatcher"], a_items[3], "七一路街道办事处").status_code == 200  # district's


def test_a_community_dispatcher_may_send_to_its_streets_office_but_not_to_a_sibling_communitys(unit_client, district):
    headers = data.token(district, "dispatcher", A1, "dispatcher-a1")
    a1_items = [i for i in data.INCIDENTS if i.status == "reported" and i.grid_l2 == A1.code]
    assert dispatch(unit_client, headers, a1_items[0], "陈州回族街道办事处").status_code == 200  # serves A1
    assert dispatch(unit_client, headers, a1_items[1], "陈州西社区工作站").status_code == 200
    headers_a2 = data.token(district, "dispatcher", A2, "dispatcher-a2")
    a2_item = next(i for i in data.INCIDENTS if i.status == "reported" and i.grid_l2 == A2.code)
    assert_problem(dispatch(unit_client, headers_a2, a2_item, "陈州西社区工作站"), 403, "unit")


def test_without_configured_units_any_name_goes(client, people):
    assert dispatch(client, people["dispatcher_a"], open_incident(A.code), "任意单位").status_code == 200


@pytest.mark.parametrize("units", [{"": []}, {" ": ["411602001000000"]}, {"区信访局": [""]}])
def test_units_need_names_and_codes(units):
    with pytest.raises(ValueError, match="units"):
        IncidentSettings(units=units)


# -- the store ----------------------------------------------------------------------------------------------------


def test_grids_of_a_level_within_a_jurisdiction(district):
    street_a = Jurisdiction(code=A.code, level=1, name=A.name)
    community = Jurisdiction(code=A1.code, level=2, name=A1.name)
    assert [g.code for g in district.grids.of_level(2, within=street_a)] == [A1.code, A2.code]
    assert [g.code for g in district.grids.of_level(3, within=community)] == [
        g.code for g in data.COMPOUNDS if g.parent_code == A1.code]
    assert [g.code for g in district.grids.of_level(1, within=street_a)] == [A.code]
    assert district.grids.of_level(1, within=community) == []
    assert len(district.grids.of_level(3)) == len(data.COMPOUNDS)
    assert district.grids.ancestors(A1_SOUTH.code) == [A1.code, A.code]
    assert district.grids.ancestors(A.code) == [] and district.grids.ancestors("nowhere") == []


def test_scoped_measures_equal_the_unscoped_path_with_a_grid_filter(district):
    """A street's whole-day window is counted from incidents, never from the district's per-day summary."""
    since = (data.START - timedelta(days=1)).replace(hour=0, minute=0, second=0)
    until = (data.NOW + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    for grid in (A, B, A1):
        within = district.grids.jurisdiction(grid.code)
        scoped = district.measures.kpis(where=IncidentFilter(since=since, until=until, within=within), now=data.NOW,
                                        group_level=1)
        explicit = district.measures.kpis(where=IncidentFilter(since=since, until=until, grid=grid.code),
                                          now=data.NOW, group_level=1)
        assert scoped == explicit and scoped["total"] == len(ids(grid.code))
        cells = district.measures.cell_counts(where=IncidentFilter(within=within))
        assert sum(cells.values()) == len(ids(grid.code))
        assert cells == dict(Counter(h3.latlng_to_cell(i.geom.y, i.geom.x, data.RES) for i in data.in_area(grid.code)))
    whole = district.measures.kpis(where=IncidentFilter(since=since, until=until), now=data.NOW, group_level=1)
    assert whole["by_grid"] == {A.code: len(ids(A.code)), B.code: len(ids(B.code))}
    risk = district.measures.grid_risk_counts(level=2, since=since, as_of=data.NOW,
                                             within=district.grids.jurisdiction(A.code))
    assert set(risk) == {A1.code, A2.code}
