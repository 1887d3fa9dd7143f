"""The grid worker's phone app on both backends, without a browser: its pages and their policy, the manifest, the
service worker's script and headers, my tasks (my grid's cases to accept or handle, soonest due first, with their
colour), who may open it, and the endpoints the configuration names, each one the application serves."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from mapserver.auth import hash_token, new_token
from tests import samples
from tests.logins import BROWSER, add_person, json_login, login_app

IN_COMPOUND = {"lon": 114.611, "lat": 33.605}  # 人和小区 (level 3), the grid worker's grid
IN_COMMUNITY_ONLY = {"lon": 114.625, "lat": 33.63}  # 北关社区, outside 人和小区


@pytest.fixture
def city(store):
    samples.load_all(store)
    add_person(store, "li.na", role="field", grid_code=samples.COMPOUND.code)
    return store


@pytest.fixture
def app(city):
    return login_app(city)


@pytest.fixture
def phone(app):
    """A client logged in as the grid worker li.na of 人和小区, with the session's CSRF token."""
    client = app.test_client()
    resp = json_login(client, "li.na")
    assert resp.status_code == 200, resp.get_json()
    client.csrf = resp.get_json()["csrf_token"]
    return client


def bearer(store, role: str) -> dict[str, str]:
    token = new_token()
    store.tokens.add(name=f"{role}-{token[-6:]}", role=role, token_hash=hash_token(token))
    return {"Authorization": f"Bearer {token}"}


def config_of(html: str) -> dict:
    found = re.search(r'data-config="([^"]*)"', html)
    assert found, html[:500]
    return json.loads(unescape(found.group(1)))


def report(client, headers, point, severity="general") -> str:
    body = {"category": "city_appearance", "severity": severity, "description": "楼道堆物", "point": point}
    resp = client.post("/api/incidents", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def dispatch(client, headers, incident_id) -> None:
    resp = client.post(f"/api/incidents/{incident_id}/transitions",
                       json={"action": "dispatch", "unit": "北关社区工作站"}, headers=headers)
    assert resp.status_code == 200, resp.get_json()


def test_the_tasks_page_is_a_shell_under_a_policy_fit_for_an_installable_offline_app(phone):
    resp = phone.get("/m/", headers=BROWSER)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy and "blob:" in policy
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN" data-m="loading">' in html
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in html
    assert '<script type="module" src="/static/m/m.js">' in html
    assert "<script>" not in html  # nothing inline
    config = config_of(html)
    assert config["screen"] == "tasks"
    assert config["person"]["grid"] == samples.COMPOUND.name
    assert "features" not in config  # photos and tracks are always served
    assert config["words"]["outbox"] == "待发送 {n} 条"
    assert config["sw"] == "/m/sw.js" and config["scope"] == "/m/"


def test_each_screen_and_english(phone):
    for path, screen in (("/m/report", "report"), ("/m/patrol", "patrol"), ("/m/?lang=en", "tasks")):
        resp = phone.get(path, headers=BROWSER)
        assert resp.status_code == 200, path
        assert config_of(resp.get_data(as_text=True))["screen"] == screen
    english = config_of(phone.get("/m/report?lang=en").get_data(as_text=True))
    assert english["words"]["outbox"] == "{n} waiting to send"
    assert english["categories"]["city_appearance"] == "city appearance"
    assert phone.get("/m/?nope=1").status_code == 400


def test_the_manifest_is_public_and_installs_the_tasks_page(app):
    resp = app.test_client().get("/m/manifest.webmanifest")  # browsers fetch it without the session's cookie
    assert resp.status_code == 200
    assert resp.mimetype == "application/manifest+json"
    manifest = resp.get_json(force=True)
    assert manifest["start_url"] == "/m/" and manifest["scope"] == "/m/" and manifest["display"] == "standalone"
    assert manifest["lang"] == "zh-CN" and manifest["name"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = app.test_client().get(icon["src"])
        assert got.status_code == 200 and got.mimetype == icon["type"], icon
        got.close()
    assert app.test_client().get("/m/manifest.webmanifest?lang=en").get_json(force=True)["start_url"] == "/m/?lang=en"


def test_the_service_worker_covers_m_and_lists_a_shell_that_exists(app):
    client = app.test_client()
    resp = client.get("/m/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/m/"
    assert resp.headers["Cache-Control"] == "no-cache"
    code = resp.get_data(as_text=True)
    head = code.split("\n", 1)[0]
    assert head.startswith("const SW_CONFIG = ") and head.endswith(";")
    config = json.loads(head[len("const SW_CONFIG = "):-1])
    assert config["scope"] == "/m/" and config["pages"] == ["/m/", "/m/report", "/m/patrol"]
    assert "/static/m/m.js" in config["shell"] and "/static/desk/common.js" in config["shell"]
    for url in config["shell"]:
        got = client.get(url)
        assert got.status_code == 200, url
        got.close()
    assert "addEventListener('fetch'" in code


def test_my_tasks_are_my_grids_cases_to_accept_or_handle_soonest_due_first(app, city, phone):
    client = app.test_client()
    dispatcher = bearer(city, "dispatcher")
    general = report(client, dispatcher, IN_COMPOUND)
    urgent = report(client, dispatcher, IN_COMPOUND, severity="urgent")
    waiting = report(client, dispatcher, IN_COMPOUND)  # reported, not yet dispatched: nobody's task yet
    elsewhere = report(client, dispatcher, IN_COMMUNITY_ONLY)
    for case in (general, urgent, elsewhere):
        dispatch(client, dispatcher, case)
    resp = phone.get("/api/m/tasks")
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [i["id"] for i in items] == [urgent, general]  # urgent is due sooner; the other grid's is not mine
    assert waiting not in {i["id"] for i in items}
    assert {i["warning"] for i in items} == {"green"}
    assert all(i["status"] == "dispatched" for i in items)


def test_the_task_page_carries_the_case_and_my_actions_and_refuses_another_grids(app, city, phone):
    client = app.test_client()
    dispatcher = bearer(city, "dispatcher")
    mine, other = report(client, dispatcher, IN_COMPOUND), report(client, dispatcher, IN_COMMUNITY_ONLY)
    dispatch(client, dispatcher, mine)
    config = config_of(phone.get(f"/m/tasks/{mine}", headers=BROWSER).get_data(as_text=True))
    assert config["screen"] == "task" and config["id"] == mine
    assert config["case"]["properties"]["my_actions"] == ["accept", "return"]
    assert config["case"]["properties"]["version"] == 2
    missing = phone.get(f"/m/tasks/{other}")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_me_answers_the_sessions_csrf_token_for_the_outbox(phone):
    me = phone.get("/api/m/me").get_json()
    assert me["name"] == "li.na" and me["role"] == "field" and me["csrf_token"] == phone.csrf
    assert me["grid"] == {"code": samples.COMPOUND.code, "name": samples.COMPOUND.name}


def test_only_grid_workers_and_administrators_open_the_phone_app(app, city):
    client = app.test_client()
    for role in ("viewer", "operator", "dispatcher", "liaison"):
        resp = client.get("/m/", headers=bearer(city, role))
        assert resp.status_code == 403, role
        assert client.get("/api/m/tasks", headers=bearer(city, role)).status_code == 403
    assert client.get("/m/", headers=bearer(city, "admin")).status_code == 200
    assert client.get("/api/m/tasks", headers=bearer(city, "admin")).get_json()["items"] == []


def test_a_browser_without_a_session_goes_to_log_in_and_comes_back(app):
    resp = app.test_client().get("/m/report", headers=BROWSER)
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("/login?next=%2Fm%2Freport")


ENDPOINT_VIEWS = {
    "tasks": ("GET", "mobile.tasks"), "me": ("GET", "mobile.me"), "report": ("POST", "incidents.report"),
    "incident": ("GET", "incidents.get_incident"), "transition": ("POST", "incidents.transition"),
    "lookup": ("GET", "lookup.lookup"), "photos": ("POST", "photos.upload"), "plans": ("GET", "patrols.list_plans"),
    "plan": ("GET", "patrols.get_plan"), "positions": ("POST", "tracks.post_positions"),
    "patrol_start": ("POST", "tracks.start_patrol"), "patrol_current": ("GET", "tracks.current_patrol"),
    "patrol_stop": ("POST", "tracks.stop_patrol"), "checkin": ("POST", "tracks.check_in"),
}


def test_every_endpoint_the_phone_calls_is_served_by_its_view(app, phone):
    endpoints = config_of(phone.get("/m/patrol", headers=BROWSER).get_data(as_text=True))["endpoints"]
    assert set(endpoints) == set(ENDPOINT_VIEWS)
    assert endpoints["photos"] == "/api/incidents/{id}/photos"
    assert endpoints["checkin"] == "/api/tracks/patrols/{id}/checkins"
    urls = app.url_map.bind("localhost")
    for name, url in endpoints.items():
        method, view = ENDPOINT_VIEWS[name]
        assert urls.match(url.replace("{id}", "abc123"), method=method)[0] == view, name


def test_a_report_keeps_the_accuracy_the_phone_gave_for_its_point(app, city, phone):
    body = {"category": "city_appearance", "description": "井盖缺失", "point": IN_COMPOUND, "accuracy_m": 12.34}
    resp = phone.post("/api/incidents", json=body, headers={"X-CSRF-Token": phone.csrf})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["properties"]["extra"] == {"accuracy_m": 12.3}
    assert city.incidents.get(resp.get_json()["id"]).extra == {"accuracy_m": 12.3}
    for bad, status in ((-1, 422), (1e9, 422), ("12", 400), (True, 400)):
        refused = phone.post("/api/incidents", json={**body, "accuracy_m": bad}, headers={"X-CSRF-Token": phone.csrf})
        assert refused.status_code == status, bad
        assert refused.get_json()["param"] == "accuracy_m"
