"""The OpenAPI document at /openapi.json: valid, complete against the routes, and true (checked by schemathesis).

schemathesis runs in-process over WSGI against a store holding tests/samples.py,
on both backends, with the least token each operation needs; it checks that no
answer is a 5xx and that every answer's status, content type and body are the
ones the document declares.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.exceptions import MethodNotAllowed, NotFound

from layers import configure
from mapserver.api.health import package_version
from mapserver.api.openapi_doc import build_document
from mapserver.config import Settings, StoreSettings
from mapserver.roles import PUBLIC, ROLES, allowed_roles
from mapserver.store import Store
from tests.samples import load_all

SAMPLE = "x"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.serializer("text/csv")
def _csv(ctx: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    # The bulk lookup's CSV body is described as a string; send it as it is.
    return {"data": value if isinstance(value, bytes) else str(value).encode("utf-8")}


def _document(client, headers: dict[str, str]) -> dict[str, Any]:
    resp = client.get("/openapi.json", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _api_endpoints(app: Flask) -> set[tuple[str, str]]:
    """(endpoint, method) of every /api route the app serves."""
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def _endpoint_of(app: Flask, path: str, method: str) -> str | None:
    # A documented path with its templates filled in must route to a view: which one?
    url = re.sub(r"\{[^}]+\}", SAMPLE, path)
    try:
        endpoint, _ = app.url_map.bind("localhost").match(url, method=method.upper())
    except (NotFound, MethodNotAllowed):
        return None
    return endpoint


def test_the_document_is_valid_openapi(client, tokens):
    document = _document(client, tokens["viewer"])
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a token from `mapserver token create`"}


def test_every_api_route_is_described_and_nothing_else(client, tokens, app):
    document = _document(client, tokens["viewer"])
    described: set[tuple[str, str]] = set()
    for path, item in document["paths"].items():
        for method in item:
            endpoint = _endpoint_of(app, path, method)
            assert endpoint is not None, f"{method.upper()} {path} is described but no route serves it"
            described.add((endpoint, method.upper()))
    missing = _api_endpoints(app) - described
    assert not missing, f"routes without a description in mapserver/api/openapi_doc/routes.py: {sorted(missing)}"


def _roles_of(app: Flask, path: str, method: str) -> frozenset[str] | None:
    """The roles the role table gives the route that serves ``method path`` (None: no route serves it)."""
    endpoint = _endpoint_of(app, path, method)
    return allowed_roles(endpoint, method.upper()) if endpoint is not None else None


def test_each_operation_names_its_problems_and_exactly_the_roles_of_the_table(client, tokens, app):
    document = _document(client, tokens["viewer"])
    checked = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            allowed = _roles_of(app, path, method)
            assert allowed is not None and allowed != PUBLIC, (method, path)  # no /api route is public yet
            assert "401" in responses and "400" in responses, (method, path)
            named = re.findall(r"\*\*(\w+)\*\*", op["description"])
            assert op["description"].startswith("Roles: ") and named == [r for r in ROLES if r in allowed], (
                method, path, named, sorted(allowed))
            assert ("403" in responses) == (allowed != set(ROLES)), (method, path)
            checked += 1
    assert checked >= 40
    problem = document["components"]["responses"]["Problem401"]["content"]
    assert list(problem) == ["application/problem+json"]


def test_the_description_says_who_may_report_and_who_works_the_loop(client, tokens):
    paths = _document(client, tokens["viewer"])["paths"]
    assert paths["/api/incidents/{incident_id}/transitions"]["post"]["description"] == (
        "Roles: **operator**, **dispatcher**, **field**, **admin**.")  # operators: the follow-up (回访) only
    assert paths["/api/accounts/{name}"]["patch"]["description"] == "Roles: **admin**."
    assert "403" not in paths["/api/incidents"]["get"]["responses"]


def test_tokens_and_accounts_carry_their_grid(client, tokens):
    document = _document(client, tokens["viewer"])
    create = document["paths"]["/api/tokens"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["properties"]["grid"]["nullable"] is True and "grid" in document["components"]["schemas"][
        "Token"]["properties"]
    change = document["paths"]["/api/accounts/{name}"]["patch"]["requestBody"]["content"]["application/json"]
    assert set(change["schema"]["properties"]) == {"role", "grid", "display_name", "enabled"}
    assert "password" not in document["components"]["schemas"]["Account"]["properties"]


def test_the_document_needs_a_token(client):
    resp = client.get("/openapi.json")
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"


def test_enums_follow_the_configuration(client, tokens, app):
    document = _document(client, tokens["viewer"])
    report = document["paths"]["/api/incidents"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    categories = app.extensions["mapserver"].settings.incidents.categories
    assert report["properties"]["category"]["enum"] == list(categories)


def test_the_bulk_lookup_takes_csv_and_geojson(client, tokens):
    body = _document(client, tokens["viewer"])["paths"]["/api/lookup/bulk"]["post"]["requestBody"]
    assert {"text/csv", "application/geo+json"} <= set(body["content"])


# -- schemathesis ---------------------------------------------------------------------------------------------


@pytest.fixture
def loaded(store: Store, tokens: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The sample records in the store; the tokens per role."""
    load_all(store)
    return tokens


def _expected_document() -> dict[str, Any]:
    # Built without an app: schemathesis's lazy (fixture) schemas do not run under this pytest, so the schema
    # is made at import from the default settings; a test checks the served document is this one.
    settings = Settings(store=StoreSettings(url="sqlite:///unused.db"))
    keys = [layer.key for layer in configure(settings.map.layers)]
    return build_document(settings, version=package_version(), layer_keys=keys, with_analysis=True)


schema = schemathesis.openapi.from_dict(_expected_document())


def test_the_served_document_is_the_one_schemathesis_checks(client, tokens):
    assert _document(client, tokens["viewer"]) == _expected_document()


def _headers_for(app: Flask, case: schemathesis.Case, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    # A role the table allows on the route, so a 403 for the role is never the (documented but useless) answer;
    # the first such in the order of ROLES, so reads go as a viewer and the admin routes as an admin.
    allowed = _roles_of(app, case.operation.path, case.method) or ROLES
    return dict(tokens[next(role for role in ROLES if role in allowed)])


def _call(case: schemathesis.Case, app: Flask, tokens: dict[str, dict[str, str]]) -> None:
    # Plain bodies: schemathesis's WSGI transport does not decode gzip, which the wall's answers over 1 KB use.
    headers = {**(case.headers or {}), **_headers_for(app, case, tokens), "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, checks=CHECKS, app=app)


# SQLite gets the full run; PostGIS a shorter one (its round trips make 25 examples per operation take minutes).
@schema.parametrize()
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(case: schemathesis.Case, app: Flask, loaded: dict[str, dict[str, str]]):
    _call(case, app, loaded)


@schema.parametrize()
@pytest.mark.parametrize("store", ["postgis"], indirect=True)
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document_on_postgis(case: schemathesis.Case, app: Flask,
                                               loaded: dict[str, dict[str, str]]):
    _call(case, app, loaded)
