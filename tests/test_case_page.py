"""The work desk's case page and its API on both backends: the actions each role may take now, the case's ETag,
the cameras whose view covers the case, the page shell, and 404 outside the jurisdiction."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from mapserver import create_app
from mapserver.config import Settings, StoreSettings
from mapserver.incidents.settings import IncidentSettings
from tests import jurisdiction_data as data
from tests import samples
from tests.test_api import assert_problem

COVERED = {"lon": 114.6105, "lat": 33.61}  # ~46 m east of the camera at (114.61, 33.61) looking east, 60°, 80 m
BEHIND = {"lon": 114.6097, "lat": 33.6098}  # ~40 m south-west of it: behind the camera, outside its view
CAMERA = samples.CAMERAS[0].code


@pytest.fixture
def city(store):
    samples.load_all(store)
    return store


def report(client, headers, point=COVERED) -> str:
    body = {"category": "disputes", "severity": "important", "description": "楼上漏水", "point": point}
    resp = client.post("/api/incidents", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def mine(client, headers, incident_id) -> list[str]:
    resp = client.get(f"/api/incidents/{incident_id}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["properties"]["my_actions"]


def act(client, headers, incident_id, action, **body):
    version = client.get(f"/api/incidents/{incident_id}", headers=headers).get_json()["properties"]["version"]
    resp = client.post(f"/api/incidents/{incident_id}/transitions", json={"action": action, "version": version,
                                                                          **body}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_each_role_sees_only_the_actions_it_may_take_now(client, city, tokens):
    case = report(client, tokens["dispatcher"])
    assert mine(client, tokens["dispatcher"], case) == ["dispatch", "grab", "whistle"]
    assert mine(client, tokens["admin"], case) == ["dispatch", "grab", "whistle"]
    for role in ("viewer", "operator", "field", "liaison"):
        assert mine(client, tokens[role], case) == [], role
    moved = act(client, tokens["dispatcher"], case, "dispatch", unit="北关社区工作站")
    assert moved["properties"]["my_actions"] == ["accept", "return", "whistle"]  # the transition's answer too
    assert mine(client, tokens["field"], case) == ["accept", "return"]  # a grid worker accepts, never dispatches
    assert mine(client, tokens["viewer"], case) == []
    act(client, tokens["field"], case, "accept")
    assert mine(client, tokens["field"], case) == ["return", "handle"]
    assert mine(client, tokens["dispatcher"], case) == ["return", "split", "joint", "handle", "whistle"]


def test_report_in_only_while_a_department_is_pending_and_follow_up_only_when_due(client, city, tokens):
    case = report(client, tokens["dispatcher"])
    by = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    act(client, tokens["dispatcher"], case, "whistle", level="key", departments=["区城管局"], report_by=by)
    assert "report_in" in mine(client, tokens["dispatcher"], case)
    act(client, tokens["dispatcher"], case, "report_in", unit="区城管局")
    assert "report_in" not in mine(client, tokens["dispatcher"], case)
    for action, extra in (("dispatch", {"unit": "北关社区工作站"}), ("accept", {}), ("handle", {"note": "已清理"}),
                          ("verify", {}), ("close", {})):
        act(client, tokens["dispatcher"], case, action, **extra)
    assert mine(client, tokens["operator"], case) == ["follow_up"]
    assert mine(client, tokens["field"], case) == []
    act(client, tokens["operator"], case, "follow_up", satisfaction="satisfied", comment="满意")
    assert mine(client, tokens["operator"], case) == []


def test_the_case_answers_304_until_it_changes(client, city, tokens):
    case = report(client, tokens["dispatcher"])
    first = client.get(f"/api/incidents/{case}", headers=tokens["dispatcher"])
    etag = first.headers["ETag"]
    assert etag
    again = client.get(f"/api/incidents/{case}", headers={**tokens["dispatcher"], "If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    # Another role's answer differs (its actions): never the same tag.
    assert client.get(f"/api/incidents/{case}", headers=tokens["field"]).headers["ETag"] != etag
    act(client, tokens["dispatcher"], case, "grab", unit="北关社区工作站")
    moved = client.get(f"/api/incidents/{case}", headers={**tokens["dispatcher"], "If-None-Match": etag})
    assert moved.status_code == 200 and moved.get_json()["properties"]["status"] == "grabbed"
    assert moved.headers["ETag"] != etag


def test_the_cameras_whose_view_covers_the_case(client, city, tokens):
    case = report(client, tokens["dispatcher"], COVERED)
    resp = client.get(f"/api/incidents/{case}/cameras", headers=tokens["viewer"])
    assert resp.status_code == 200
    body = resp.get_json()
    assert [c["code"] for c in body["covering"]] == [CAMERA] and body["nearby"] == []
    seen = body["covering"][0]
    assert seen["covers"] and 40 < seen["distance_m"] < 52 and seen["view"]["type"] == "Polygon"
    assert seen["status"] == "offline"  # its last heartbeat is long past


def test_behind_the_camera_the_nearest_online_ones_are_offered(client, city, tokens):
    case = report(client, tokens["dispatcher"], BEHIND)
    assert client.get(f"/api/incidents/{case}/cameras", headers=tokens["viewer"]).get_json()["nearby"] == []
    city.cameras.heartbeats([CAMERA], at=datetime.now(UTC))  # online now
    body = client.get(f"/api/incidents/{case}/cameras", headers=tokens["viewer"]).get_json()
    assert body["covering"] == []
    assert [(c["code"], c["status"], c["covers"]) for c in body["nearby"]] == [(CAMERA, "online", False)]
    assert body["nearby"][0]["distance_m"] < body["nearby_m"]


def _config(resp) -> dict:
    found = re.search(r'data-config="([^"]*)"', resp.get_data(as_text=True))
    assert found
    return json.loads(unescape(found.group(1)))


def test_the_page_is_a_shell_for_the_desks_roles(client, city, tokens):
    case = report(client, tokens["dispatcher"])
    for role in ("viewer", "operator", "dispatcher", "field", "admin"):
        resp = client.get(f"/desk/cases/{case}", headers=tokens[role])
        assert resp.status_code == 200, role
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN"' in html and "<script>" not in html and "楼上漏水" not in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    config = _config(resp)
    assert config["id"] == case and config["card"]["grid"]["code"] == samples.COMPOUND.code
    assert config["outline"]["type"] == "MultiPolygon" and config["words"]["title"] == "工单"
    english = client.get(f"/desk/cases/{case}?lang=en", headers=tokens["viewer"])
    assert '<html lang="en"' in english.get_data(as_text=True) and _config(english)["words"]["title"] == "Case"
    assert client.get(f"/desk/cases/{case}", headers=tokens["liaison"]).status_code == 403
    assert_problem(client.get("/desk/cases/no-such-case", headers=tokens["viewer"]), 404, "id")
    assert_problem(client.get("/api/incidents/no-such-case/cameras", headers=tokens["viewer"]), 404, "id")


def test_a_case_outside_the_jurisdiction_is_404_everywhere(client, store):
    data.load(store)
    theirs = data.in_area(data.STREET_A.code)[0].id
    ours = data.in_area(data.STREET_B.code)[0].id
    headers = data.token(store, "dispatcher", data.STREET_B, "dispatcher-b")
    for path in (f"/desk/cases/{theirs}", f"/api/incidents/{theirs}/cameras", f"/api/incidents/{theirs}"):
        assert_problem(client.get(path, headers=headers), 404, "id")
    assert client.get(f"/desk/cases/{ours}", headers=headers).status_code == 200
    assert client.get(f"/api/incidents/{ours}/cameras", headers=headers).status_code == 200


def test_a_linked_call_changes_the_cases_etag(client, city, tokens):
    case = report(client, tokens["dispatcher"])
    etag = client.get(f"/api/incidents/{case}", headers=tokens["dispatcher"]).headers["ETag"]
    linked = client.post(f"/api/incidents/{case}/links", json={"note": "同一来电人再次来电"},
                         headers=tokens["operator"])
    assert linked.status_code in (200, 201), linked.get_json()
    again = client.get(f"/api/incidents/{case}", headers={**tokens["dispatcher"], "If-None-Match": etag})
    assert again.status_code == 200
    assert again.get_json()["properties"]["timeline"][-1]["action"] == "link"


def test_the_page_offers_the_configured_units_that_serve_the_person(store):
    data.load(store)
    units = {"陈州回族街道办事处": [data.STREET_A.code], "七一路街道办事处": [data.STREET_B.code],
             "区住房和城乡建设局": []}
    app = create_app(Settings(store=StoreSettings(url=store.url), incidents=IncidentSettings(units=units)),
                     store=store)
    client = app.test_client()
    ours = data.in_area(data.STREET_B.code)[0].id
    headers = data.token(store, "dispatcher", data.STREET_B, "dispatcher-b")
    assert _config(client.get(f"/desk/cases/{ours}", headers=headers))["units"] == ["七一路街道办事处",
                                                                                     "区住房和城乡建设局"]
    whole = data.token(store, "dispatcher", None, "dispatcher-district")
    assert len(_config(client.get(f"/desk/cases/{ours}", headers=whole))["units"]) == 3
