"""Incidents over HTTP on both backends: report, idempotency, list filters, transitions, measures, bad input."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from mapserver.errors import Problem
from mapserver.geo import from_wgs84
from tests import samples
from tests.test_api import assert_problem

INSIDE = {"lon": 114.6005, "lat": 33.6005}  # in the compound grid 人和小区 of tests/samples.py


@pytest.fixture
def city(store):
    samples.load_all(store)
    return store


def report(client, headers, **body):
    payload = {"category": "disputes", "severity": "important", "description": "楼上漏水", "point": INSIDE, **body}
    return client.post("/api/incidents", json=payload, headers=headers)


def test_a_report_is_assigned_to_its_grid_with_deadlines(client, city, tokens):
    resp = report(client, tokens["dispatcher"])
    assert resp.status_code == 201
    props = resp.get_json()["properties"]
    assert props["grid_code"] == samples.COMPOUND.code
    assert [props["grid_l1"], props["grid_l2"], props["grid_l3"]] == [
        samples.STREET.code, samples.COMMUNITY.code, samples.COMPOUND.code]
    assert props["status"] == "reported" and props["warning"] == "green" and props["due_at"] > props["reported_at"]
    assert props["h3_cell"] and props["next_actions"] == ["dispatch", "grab", "whistle"]
    assert resp.headers["Location"] == f"/api/incidents/{props['id']}"


def test_report_ids_are_uuid7_ordered_by_report_time(client, city, tokens):
    ids, times = [], []
    for _ in range(5):
        props = report(client, tokens["dispatcher"]).get_json()["properties"]
        ids.append(props["id"])
        times.append(datetime.fromisoformat(props["reported_at"]).timestamp())
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    # The first 48 bits: the report time in Unix milliseconds.
    assert [uuid.UUID(i).int >> 80 for i in ids] == [int(t * 1000) for t in times]
    assert len(set(ids)) == 5


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "cgcs2000"])
def test_points_in_chinese_coordinate_systems_land_in_the_same_grid(client, city, tokens, crs):
    lon, lat = from_wgs84(INSIDE["lon"], INSIDE["lat"], crs)
    resp = report(client, tokens["dispatcher"], point={"lon": lon, "lat": lat, "crs": crs})
    geometry = resp.get_json()["geometry"]["coordinates"]
    assert resp.get_json()["properties"]["grid_code"] == samples.COMPOUND.code
    assert geometry == pytest.approx([INSIDE["lon"], INSIDE["lat"]], abs=1e-7)


def test_an_address_alone_is_geocoded(client, city, tokens):
    resp = report(client, tokens["dispatcher"], point=None, address="七一路十八号人和小区三栋二单元五零一室")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["geometry"]["coordinates"] == pytest.approx([114.611, 33.611])


def test_idempotency_key(client, city, tokens):
    headers = {**tokens["dispatcher"], "Idempotency-Key": "phone-42-report-7"}
    first = report(client, headers)
    again = report(client, headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"]
    assert_problem(report(client, headers, description="another body"), 422, "Idempotency-Key")
    assert city.layers.count("incidents") == 2  # the sample incident and this one


def test_a_transition_resent_with_its_idempotency_key_moves_nothing_again(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    url = f"/api/incidents/{incident_id}/transitions"
    grab = {"action": "grab", "unit": "陈州街道", "version": 1}
    headers = {**tokens["dispatcher"], "Idempotency-Key": "phone-42-grab"}
    first = client.post(url, json=grab, headers=headers)
    assert first.status_code == 200 and first.get_json()["properties"]["status"] == "grabbed"
    again = client.post(url, json=grab, headers=headers)  # the answer was lost: the phone sends it again
    assert again.status_code == 200 and again.get_json()["properties"] == first.get_json()["properties"]
    assert [e.action for e in city.incidents.timeline(incident_id)] == ["report", "grab"]
    # Without the key the stale version is a conflict; with the key and another body, a misuse of the key.
    assert_problem(client.post(url, json=grab, headers=tokens["dispatcher"]), 409, None)
    assert_problem(client.post(url, json={**grab, "unit": "别处"}, headers=headers), 422, "Idempotency-Key")
    other = report(client, tokens["dispatcher"]).get_json()["id"]
    assert_problem(client.post(f"/api/incidents/{other}/transitions", json=grab, headers=headers), 422,
                   "Idempotency-Key")
    # A step refused frees its key: the same key works once the step is possible.
    accept = {"action": "accept", "version": 5}
    refused = client.post(url, json=accept, headers={**tokens["dispatcher"], "Idempotency-Key": "phone-42-accept"})
    assert refused.status_code == 409
    accept["version"] = 2
    done = client.post(url, json=accept, headers={**tokens["dispatcher"], "Idempotency-Key": "phone-42-accept"})
    assert done.status_code == 200 and done.get_json()["properties"]["status"] == "accepted"
    assert_problem(client.post(url, json=grab, headers={**tokens["dispatcher"], "Idempotency-Key": "k" * 300}),
                   400, "Idempotency-Key")


@pytest.mark.parametrize("body, status, param", [
    ({"category": "aliens"}, 422, "category"),
    ({"severity": "extreme"}, 422, "severity"),
    ({"point": None}, 422, "point"),
    ({"point": {"lon": "x", "lat": 1}}, 400, "point.lon"),
    ({"point": {"lon": 114.6, "lat": 33.6, "crs": "mars2000"}}, 400, "crs"),
    ({"point": {"lon": 10.0, "lat": 50.0}}, 404, None),
    ({"description": "长" * 2001}, 422, "description"),
    ({"colour": "red"}, 400, "colour"),
    ({"point": None, "address": "火星基地1号"}, 404, "address"),
])
def test_bad_reports_write_nothing(client, city, tokens, body, status, param):
    before = city.layers.count("incidents")
    assert_problem(report(client, tokens["dispatcher"], **body), status, param)
    assert city.layers.count("incidents") == before


def test_the_closed_loop_and_its_timeline(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    url = f"/api/incidents/{incident_id}/transitions"
    steps = [({"action": "grab", "unit": "陈州街道"}, "grabbed"), ({"action": "accept"}, "accepted"),
             ({"action": "whistle", "level": "key", "note": "需住建局协同"}, "accepted"),
             ({"action": "joint", "unit": "住建局"}, "joint"), ({"action": "handle"}, "handled"),
             ({"action": "verify"}, "verified"), ({"action": "close"}, "closed")]
    for body, status in steps:
        resp = client.post(url, json=body, headers=tokens["dispatcher"])
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["properties"]["status"] == status
    detail = client.get(f"/api/incidents/{incident_id}", headers=tokens["viewer"]).get_json()["properties"]
    assert [e["action"] for e in detail["timeline"]] == ["report", "grab", "accept", "whistle", "joint", "handle",
                                                         "verify", "close"]
    assert detail["escalation"] == "key" and detail["closed_at"] and detail["warning"] is None
    assert_problem(client.post(url, json={"action": "grab", "unit": "x"}, headers=tokens["dispatcher"]), 409, "action")


def test_illegal_transition_lists_the_allowed_ones(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    body = assert_problem(client.post(f"/api/incidents/{incident_id}/transitions", json={"action": "close"},
                                      headers=tokens["dispatcher"]), 409, "action")
    assert "dispatch, grab, whistle" in body["detail"]
    assert_problem(client.post(f"/api/incidents/{incident_id}/transitions", json={"action": "dispatch"},
                               headers=tokens["dispatcher"]), 422, "unit")
    assert_problem(client.post(f"/api/incidents/{incident_id}/transitions", json={"action": "fly"},
                               headers=tokens["dispatcher"]), 422, "action")
    assert_problem(client.post("/api/incidents/nope/transitions", json={"action": "grab", "unit": "x"},
                               headers=tokens["dispatcher"]), 404, "id")
    assert_problem(client.post(f"/api/incidents/{incident_id}/transitions",
                               json={"action": "grab", "unit": "x", "version": 99},
                               headers=tokens["dispatcher"]), 409, "version")


def test_a_problems_members_extend_it_and_never_hide_a_standard_one():
    body = Problem(409, "taken", param="version", members={"reason": "changed_meanwhile", "acted_by": "li"}).to_dict()
    assert body == {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "taken", "param": "version",
                    "reason": "changed_meanwhile", "acted_by": "li"}
    for reserved in ("status", "detail", "param"):
        with pytest.raises(ValueError, match="reserved"):
            Problem(409, "taken", members={reserved: "x"})


def test_a_refused_transition_carries_its_reason_and_facts_for_a_page_to_word(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    url = f"/api/incidents/{incident_id}/transitions"
    grabbed = client.post(url, json={"action": "grab", "unit": "城管中队", "version": 1}, headers=tokens["dispatcher"])
    assert grabbed.status_code == 200
    # A second person acting on the version they saw: who moved it, how, when, and where it stands now.
    body = assert_problem(client.post(url, json={"action": "dispatch", "unit": "派出所", "version": 1},
                                      headers=tokens["dispatcher"]), 409, "version")
    assert {k: body[k] for k in ("reason", "action", "current_status", "current_version", "last_action")} == {
        "reason": "changed_meanwhile", "action": "dispatch", "current_status": "grabbed", "current_version": 2,
        "last_action": "grab"}
    assert body["acted_by"].startswith("dispatcher") and datetime.fromisoformat(body["acted_at"]).tzinfo
    assert "grabbed" in body["detail"] and body["acted_by"] in body["detail"]  # English stays for machine clients
    body = assert_problem(client.post(url, json={"action": "close"}, headers=tokens["dispatcher"]), 409, "action")
    assert {k: body[k] for k in ("reason", "action", "current_status")} == {
        "reason": "not_allowed_now", "action": "close", "current_status": "grabbed"}
    assert body["allowed"] == ["accept", "return", "split", "whistle"]
    body = assert_problem(client.post(url, json={"action": "split"}, headers=tokens["field"]), 403, "action")
    assert {k: body[k] for k in ("reason", "action", "role", "roles")} == {
        "reason": "role_may_not", "action": "split", "role": "field", "roles": ["admin", "dispatcher"]}
    body = assert_problem(client.post(url, json={"action": "split"}, headers=tokens["dispatcher"]), 422, "unit")
    assert body["reason"] == "unit_required" and body["action"] == "split"
    body = assert_problem(client.post(url, json={"action": "fly"}, headers=tokens["dispatcher"]), 422, "action")
    assert body["reason"] == "unknown_action" and body["action"] == "fly"
    body = assert_problem(client.post(url, json={"action": "report_in", "unit": "区城管局"},
                                      headers=tokens["dispatcher"]), 409, "action")
    assert body["reason"] == "none_pending"
    assert client.get(f"/api/incidents/{incident_id}", headers=tokens["viewer"]).get_json()["properties"][
        "version"] == 2  # nothing refused was written


def test_the_listing_offers_each_asker_the_actions_of_their_role(client, city, tokens):
    reported = report(client, tokens["dispatcher"]).get_json()
    assert reported["properties"]["my_actions"] == ["dispatch", "grab", "whistle"]
    grabbed = report(client, tokens["operator"]).get_json()
    assert grabbed["properties"]["my_actions"] == []  # an operator reports; the loop is the dispatchers'
    resp = client.post(f"/api/incidents/{grabbed['id']}/transitions", json={"action": "grab", "unit": "城管中队"},
                       headers=tokens["dispatcher"])
    assert resp.status_code == 200

    def listed(role: str) -> dict[str, tuple[list[str], list[str]]]:
        body = client.get("/api/incidents", headers=tokens[role]).get_json()
        return {f["id"]: (f["properties"]["next_actions"], f["properties"]["my_actions"]) for f in body["features"]}

    everyone = {"next": {reported["id"]: ["dispatch", "grab", "whistle"],
                         grabbed["id"]: ["accept", "return", "split", "whistle"]}}
    mine = {"dispatcher": {reported["id"]: ["dispatch", "grab", "whistle"],
                           grabbed["id"]: ["accept", "return", "split", "whistle"]},
            "admin": {reported["id"]: ["dispatch", "grab", "whistle"],
                      grabbed["id"]: ["accept", "return", "split", "whistle"]},
            "field": {reported["id"]: [], grabbed["id"]: ["accept", "return"]},
            "operator": {reported["id"]: [], grabbed["id"]: []},
            "viewer": {reported["id"]: [], grabbed["id"]: []}}
    for role, expected in mine.items():
        got = listed(role)
        for incident_id, actions in expected.items():
            assert got[incident_id] == (everyone["next"][incident_id], actions), (role, incident_id)
            # The same as the case's own view tells this role.
            one = client.get(f"/api/incidents/{incident_id}", headers=tokens[role]).get_json()["properties"]
            assert one["my_actions"] == actions, (role, incident_id)


def test_listing_filters(client, city, tokens):
    for category in ("disputes", "fire_hazard", "fire_hazard"):
        report(client, tokens["dispatcher"], category=category)
    body = client.get("/api/incidents?category=fire_hazard&limit=1", headers=tokens["viewer"]).get_json()
    assert body["numberMatched"] == 2 and body["numberReturned"] == 1
    assert client.get(f"/api/incidents?grid={samples.STREET.code}&status=reported&warning=green",
                      headers=tokens["viewer"]).get_json()["numberMatched"] == 3
    assert client.get("/api/incidents?since=2999-01-01", headers=tokens["viewer"]).get_json()["numberMatched"] == 0
    for query, param in (("since=yesterday", "since"), ("warning=blue", "warning"), ("status=lost", "status"),
                         ("bbox=1,2", "bbox"), ("grid_code=1", "grid_code")):
        assert_problem(client.get(f"/api/incidents?{query}", headers=tokens["viewer"]), 400, param)


def test_measures_endpoint(client, city, tokens):
    for _ in range(3):
        report(client, tokens["dispatcher"])
    body = client.get(f"/api/kpis?level=2&code={samples.STREET.code}", headers=tokens["viewer"]).get_json()
    assert body["total"] == 3 and body["by_grid"] == {samples.COMMUNITY.code: 3}
    assert body["by_status"] == {"reported": 3} and body["closure_rate"] == 0.0
    assert_problem(client.get("/api/kpis?level=9", headers=tokens["viewer"]), 400, "level")


def test_viewers_cannot_report_or_move(client, city, tokens):
    assert report(client, tokens["viewer"]).status_code == 403
