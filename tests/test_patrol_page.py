"""The patrol planner page (/desk/patrols) on both backends: who may open it (liaisons, dispatchers and
administrators plan; a viewer reads the saved plans; operators and grid workers are refused), that it is a shell
with no inline script under a strict policy, carries the session's CSRF token, escapes what it carries, and that a
liaison logged in by cookie plans with the token from the page (and is refused without it)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

import pytest

from mapserver.passwords import PasswordHasher
from mapserver.sessions import CSRF_HEADER
from tests.logins import BROWSER, CHEAP, PASSWORD, add_person, form_login, json_login, login_app
from tests.patrol_data import STREET, load_city

META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CONFIG = re.compile(r'data-config="([^"]*)"')
BODY = {"area": {"liaison": "李警官"}, "start": {"place": "P-POST"}, "budget_min": 60,
        "since": "2026-09-01", "until": "2026-11-01"}


@pytest.fixture
def app(store):
    return login_app(store)


def config_of(html: str) -> dict:
    found = CONFIG.search(html)
    assert found, "the page carries no data-config"
    return json.loads(unescape(found.group(1)))


def test_a_token_is_told_to_use_the_api_and_a_browser_without_a_session_logs_in(client, store, tokens):
    resp = client.get("/desk/patrols", headers=tokens["liaison"])
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert "/api/patrols" in resp.get_json()["detail"]
    resp = client.get("/desk/patrols?lang=en", headers=BROWSER)
    assert resp.status_code == 303 and "/login?next=%2Fdesk%2Fpatrols" in resp.headers["Location"]
    assert client.get("/desk/patrols").status_code == 401  # a script without a session


@pytest.mark.parametrize(("role", "plans"), [("liaison", True), ("dispatcher", True), ("admin", True),
                                             ("viewer", False)])
def test_the_page_for_each_role_that_may_open_it(client, store, role, plans):
    add_person(store, f"p.{role}", role=role)
    assert form_login(client, f"p.{role}").status_code == 303
    resp = client.get("/desk/patrols", headers=BROWSER)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert resp.headers["X-Frame-Options"] == "DENY" and "no-store" in resp.headers["Cache-Control"]
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/vendor/leaflet/leaflet.js" defer>',
        '<script type="module" src="/static/patrols/patrols.js">']  # no inline script, nothing from another host
    assert "http://" not in html and "https://" not in html
    token = META.search(html).group(1)
    assert len(token) >= 40
    config = config_of(html)
    assert config["can_plan"] is plans and config["words"]["title"] == "巡逻路线规划"
    assert '<html lang="zh-CN">' in html and "<title>巡逻路线规划</title>" in html


@pytest.mark.parametrize("role", ["operator", "field"])
def test_operators_and_grid_workers_are_refused(client, store, role):
    add_person(store, f"p.{role}", role=role)
    form_login(client, f"p.{role}")
    resp = client.get("/desk/patrols", headers=BROWSER)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"


def test_english_and_what_the_page_carries_is_escaped(client, store):
    hostile = '"><script>alert(1)</script>'
    store.accounts.add(name="li.na", role="liaison", grid_code=None, now=datetime.now(UTC), display_name=hostile,
                       password_hash=PasswordHasher(CHEAP).hash(PASSWORD))
    form_login(client, "li.na")
    html = client.get("/desk/patrols?lang=en", headers=BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in html and "<title>Patrol planner</title>" in html
    assert "<script>alert" not in html
    config = config_of(html)
    assert config["person"]["name"] == hostile and config["words"]["plan"] == "Plan the route"


def test_a_liaison_logged_in_plans_with_the_pages_csrf_token(client, store):
    load_city(store)
    add_person(store, "li.jing", role="liaison", grid_code=STREET.code)
    form_login(client, "li.jing")
    token = META.search(client.get("/desk/patrols", headers=BROWSER).get_data(as_text=True)).group(1)
    refused = client.post("/api/patrols/plan", json=BODY)
    assert refused.status_code == 403 and store.patrols.list()[1] == 0
    resp = client.post("/api/patrols/plan", json=BODY, headers={CSRF_HEADER: token})
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    assert plan["stops"] and plan["created_by"] == "li.jing"
    listing = client.get("/api/patrols").get_json()
    assert [p["id"] for p in listing["plans"]] == [plan["id"]]
    assert client.get(f"/api/patrols/{plan['id']}.gpx").status_code == 200


def test_a_script_session_token_is_the_pages(client, store):
    add_person(store, "wang.li", role="dispatcher")
    token = json_login(client, "wang.li").get_json()["csrf_token"]
    html = client.get("/desk/patrols", headers=BROWSER).get_data(as_text=True)
    assert META.search(html).group(1) == token
