"""Deny by default: walk every route of the app and check who may use it."""

from __future__ import annotations

import re

import pytest

from mapserver.auth import SAFE_METHODS, hash_token, needed_role, new_token

SAMPLE_ARGS = {"layer": "grids", "key": "1", "name": "nobody", "filename": "x.js"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLE_ARGS.get(m.group(1), "x"), rule.rule)
        url = re.sub(r"<any\(.*?\):(\w+)>", lambda m: SAMPLE_ARGS[m.group(1)], rule.rule) if "any(" in rule.rule \
            else url
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, url, method, view


def test_the_app_has_routes_beyond_health(app):
    endpoints = {endpoint for endpoint, *_ in _routes(app)}
    assert {"health.healthz", "tokens.create_token", "layers.list_features"} <= endpoints


def test_every_non_public_route_needs_a_token(client, app):
    checked = 0
    for endpoint, url, method, view in _routes(app):
        if needed_role(endpoint, view, method) is None:
            continue
        resp = client.open(url, method=method)
        assert resp.status_code == 401, (endpoint, method, url, resp.status_code)
        assert resp.mimetype == "application/problem+json"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        checked += 1
    assert checked >= 4


def test_a_wrong_token_is_401(client):
    resp = client.get("/api/grids", headers={"Authorization": "Bearer msk_not-a-real-token"})
    assert resp.status_code == 401


def test_every_write_refuses_a_viewer_token(client, app, tokens):
    checked = 0
    for endpoint, url, method, view in _routes(app):
        if method in SAFE_METHODS or needed_role(endpoint, view, method) is None or getattr(view, "reads_only", False):
            continue
        resp = client.open(url, method=method, headers=tokens["viewer"], json={})
        assert resp.status_code == 403, (endpoint, method, url, resp.status_code)
        checked += 1
    assert checked >= 2


def test_only_bulk_lookup_is_a_post_that_reads(app):
    reading = {endpoint for endpoint, _, method, view in _routes(app)
               if method not in SAFE_METHODS and getattr(view, "reads_only", False)}
    assert reading == {"lookup.bulk"}


def test_admin_routes_refuse_an_operator(client, tokens):
    assert client.get("/api/tokens", headers=tokens["operator"]).status_code == 403
    assert client.get("/api/tokens", headers=tokens["admin"]).status_code == 200


def test_only_health_and_static_are_public(app):
    public = {endpoint for endpoint, _, method, view in _routes(app) if needed_role(endpoint, view, method) is None}
    assert public == {"health.healthz", "health.readyz", "static"}


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
