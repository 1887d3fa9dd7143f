"""Deny by default, by the one role table: walk every route of the app, for every role, against mapserver/roles.py."""

from __future__ import annotations

import re

import pytest

from mapserver.auth import SAFE_METHODS, hash_token, new_token
from mapserver.incidents.lifecycle import ACTIONS
from mapserver.roles import INCIDENT_ACTIONS, PUBLIC, ROLES, ROUTES, allowed_roles

SAMPLE_ARGS = {"layer": "grids", "key": "1", "name": "nobody", "filename": "x.js"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLE_ARGS.get(m.group(1), "x"), rule.rule)
        url = re.sub(r"<any\(.*?\):(\w+)>", lambda m: SAMPLE_ARGS[m.group(1)], rule.rule) if "any(" in rule.rule \
            else url
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, url, method


def test_the_app_has_routes_beyond_health(app):
    endpoints = {endpoint for endpoint, *_ in _routes(app)}
    assert {"health.healthz", "tokens.create_token", "layers.list_features"} <= endpoints


def test_the_role_table_names_every_route_and_nothing_else(app):
    served = {(endpoint, method) for endpoint, _, method in _routes(app)}
    listed = {(endpoint, method) for endpoint, methods in ROUTES.items() for method in methods}
    assert served - listed == set(), "routes missing from mapserver/roles.py: nobody may call them"
    assert listed - served == set(), "the role table names routes the app does not have"


def test_every_route_answers_every_role_as_the_table_says(client, app, tokens):
    checked = 0
    for endpoint, url, method in _routes(app):
        allowed = allowed_roles(endpoint, method)
        if allowed == PUBLIC:
            continue
        for role in ROLES:
            resp = client.open(url, method=method, headers=tokens[role], json={})
            if role in allowed:
                assert resp.status_code not in (401, 403), (endpoint, method, role, resp.status_code)
            else:
                assert resp.status_code == 403, (endpoint, method, role, resp.status_code)
                assert resp.mimetype == "application/problem+json"
                assert role in resp.get_json()["detail"]
            checked += 1
    assert checked >= 40 * len(ROLES)


def test_every_non_public_route_needs_a_principal(client, app):
    checked = 0
    for endpoint, url, method in _routes(app):
        if allowed_roles(endpoint, method) == PUBLIC:
            continue
        resp = client.open(url, method=method)
        assert resp.status_code == 401, (endpoint, method, url, resp.status_code)
        assert resp.mimetype == "application/problem+json"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        checked += 1
    assert checked >= 40


def test_every_write_refuses_a_viewer_but_the_bulk_lookup_and_their_own_session(app):
    writes = {endpoint for endpoint, _, method in _routes(app)
              if method not in SAFE_METHODS and "viewer" in allowed_roles(endpoint, method)}
    # Logging out and changing one's own password write nothing but the person's own session and password.
    assert writes == {"lookup.bulk", "login.logout", "login.change_password"}


def test_every_incident_action_has_its_roles_and_only_loop_roles_take_any():
    assert set(INCIDENT_ACTIONS) == set(ACTIONS)
    loop = allowed_roles("incidents.transition", "POST")
    for action, roles in INCIDENT_ACTIONS.items():
        assert roles and roles <= loop, action
    assert not any("viewer" in roles or "liaison" in roles for roles in INCIDENT_ACTIONS.values())
    # The hotline calls reporters back (回访) and takes no other step of the loop.
    assert {action for action, roles in INCIDENT_ACTIONS.items() if "operator" in roles} == {"follow_up"}


def test_only_health_static_and_the_login_are_public(app):
    public = {endpoint for endpoint, _, method in _routes(app) if allowed_roles(endpoint, method) == PUBLIC}
    # The phone app's manifest and service worker are fixed files: a browser fetches the manifest without cookies.
    assert public == {"health.healthz", "health.readyz", "static", "login.login_form", "login.login",
                      "mobile.manifest_file", "mobile.worker"}


def test_a_wrong_token_is_401(client):
    resp = client.get("/api/grids", headers={"Authorization": "Bearer msk_not-a-real-token"})
    assert resp.status_code == 401


def test_a_revoked_token_stops_working(client, store):
    secret = new_token()
    store.tokens.add(name="wall-9", role="viewer", token_hash=hash_token(secret))
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/grids", headers=headers).status_code == 200
    assert store.tokens.revoke(name="wall-9")
    assert client.get("/api/grids", headers=headers).status_code == 401


def test_static_files_need_no_token(client):
    assert client.get("/static/no-such-file.js").status_code == 404


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "bearer  ", "Token abc"])
def test_malformed_authorization_headers_are_401(client, header):
    assert client.get("/api/grids", headers={"Authorization": header}).status_code == 401
