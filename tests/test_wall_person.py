"""The wall for a person logged in, with the Flask client, on both backends: the page hands main.js who they are
(display name, role label, jurisdiction name), the session's CSRF token for the logout form and their links (the
accounts page for an admin only); a wall's token gets none of it. The page's Referrer-Policy lets its logout form
post with this origin."""

from __future__ import annotations

import json
import re

import pytest

from mapserver.store import Store
from tests.accounts_data import NORTH, load_grids
from tests.conftest import make_token
from tests.logins import BROWSER, add_person, form_login, login_app, token_in

HOSTILE = "</script><script>alert(1)</script>"


@pytest.fixture
def people(store: Store) -> Store:
    load_grids(store)
    add_person(store, "boss", role="admin")
    add_person(store, "north.worker", role="field", grid_code=NORTH.code)
    store.accounts.set_display_name("north.worker", display_name=HOSTILE)
    return store


@pytest.fixture
def app(people: Store):
    return login_app(people)


def config(html: str) -> dict:
    found = re.search(r'<script[^>]*id="screen-config">(.*?)</script>', html, re.S)
    assert found, "the page has no settings block"
    return json.loads(found.group(1))


def wall(client, query: str = "") -> tuple[dict, dict]:
    resp = client.get(f"/{query}", headers=BROWSER)
    assert resp.status_code == 200, resp.status_code
    return config(resp.get_data(as_text=True)), dict(resp.headers)


def test_an_admin_sees_who_they_are_and_the_accounts_link(client, people):
    form_login(client, "boss")
    cfg, headers = wall(client)
    person = cfg["person"]
    assert (person["name"], person["role"], person["area"]) == ("boss (test)", "系统管理", "全区")
    assert person["links"] == {"logout": "/logout", "password": "/account/password", "admin": "/admin/accounts",
                               "login": "/login"}
    assert person["csrf_token"] == token_in(client.get("/logout", headers=BROWSER).get_data(as_text=True))
    assert headers["Referrer-Policy"] == "same-origin" and headers["Cache-Control"] == "no-store"
    cfg, _ = wall(client, "?lang=en")
    assert (cfg["person"]["role"], cfg["person"]["area"]) == ("administrator", "whole district")
    assert cfg["person"]["links"]["logout"] == "/logout?lang=en"


def test_the_csrf_token_on_the_wall_logs_the_person_out(client, people):
    form_login(client, "boss")
    cfg, _ = wall(client)
    resp = client.post("/logout", data={"csrf_token": cfg["person"]["csrf_token"]}, headers=BROWSER)
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"
    assert client.get("/", headers=BROWSER).status_code == 303  # to the login page


def test_a_grid_worker_sees_their_grid_and_no_accounts_link_and_their_name_stays_data(client, people):
    form_login(client, "north.worker")
    resp = client.get("/", headers=BROWSER)
    html = resp.get_data(as_text=True)
    assert HOSTILE not in html  # the display name cannot end the settings block
    person = config(html)["person"]
    assert (person["name"], person["role"], person["area"]) == (HOSTILE, "网格员", NORTH.name)
    assert person["links"]["admin"] is None


def test_a_wall_token_has_no_person(client, people):
    assert client.get(f"/?token={make_token(people, 'viewer')}", headers=BROWSER).status_code == 200  # the hand-off
    cfg, _ = wall(client)
    assert cfg["person"] is None and "csrf" not in json.dumps(cfg)
