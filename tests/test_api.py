"""HTTP behaviour shared by every route: problems, health, layers, tokens, limits."""

from __future__ import annotations

import pytest

from mapserver import create_app
from mapserver.config import ServerSettings, Settings, StoreSettings
from mapserver.store.database import SCHEMA_VERSION
from tests import samples

PROBLEM = "application/problem+json"


def assert_problem(resp, status: int, param: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM
    body = resp.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    if param is not None:
        assert body.get("param") == param
    return body


def test_healthz_reports_store_schema_counts_and_version(client, store):
    samples.load_all(store)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["store"] == store.kind
    assert body["schema_version"] == SCHEMA_VERSION
    assert body["counts"]["grids"] == len(samples.GRIDS) and body["counts"]["incidents"] == 1
    assert body["version"] == "0.1.0"


def test_unknown_route_is_a_404_problem_not_html(client, tokens):
    assert_problem(client.get("/api/nothing-here", headers=tokens["viewer"]), 404)
    assert_problem(client.get("/no/such/page"), 404)


def test_wrong_method_is_a_405_problem_with_allow(client, tokens):
    resp = client.put("/healthz")
    body = assert_problem(resp, 405)
    assert "GET" in resp.headers["Allow"] and "GET" in body["detail"]


def test_layer_listing_is_geojson_with_counts(client, store, tokens):
    samples.load_all(store)
    resp = client.get("/api/grids?level=3&bbox=114.6,33.6,114.7,33.7&limit=1", headers=tokens["viewer"])
    body = resp.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 2 and body["numberReturned"] == 1
    feature = body["features"][0]
    assert feature["id"] == samples.COMPOUND.code
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["name"] == "人和小区"


def test_one_feature_and_its_404(client, store, tokens):
    samples.load_all(store)
    body = client.get(f"/api/cameras/{samples.CAMERAS[0].code}", headers=tokens["viewer"]).get_json()
    assert body["properties"]["status"] == "offline"  # online, but its last heartbeat is long past
    assert body["properties"]["last_seen"].startswith("2026-11-20T08:00:00")
    assert client.get("/api/places/P001", headers=tokens["viewer"]).get_json()["properties"]["kind"] == "school"
    assert_problem(client.get("/api/cameras/0000", headers=tokens["viewer"]), 404, "code")
    assert_problem(client.get("/api/grid_staff/abc", headers=tokens["viewer"]), 400, "key")


@pytest.mark.parametrize("query, param", [
    ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("bbox=0,0,nan,1", "bbox"), ("bbox=10,0,5,1", "bbox"),
    ("limit=-1", "limit"), ("limit=x", "limit"), ("limit=99999999", "limit"), ("offset=-3", "offset"),
    ("level=two", "level"), ("colour=red", "colour"),
])
def test_bad_query_parameters_are_400_naming_them(client, tokens, query, param):
    assert_problem(client.get(f"/api/grids?{query}", headers=tokens["viewer"]), 400, param)


def test_untrusted_text_comes_back_as_json_data(client, store, tokens):
    samples.load_all(store)
    resp = client.get(f"/api/incidents/{samples.INCIDENTS[0].id}", headers=tokens["viewer"])
    assert resp.mimetype == "application/json"
    assert resp.get_json()["properties"]["description"] == samples.INCIDENTS[0].description


def test_token_api_creates_a_working_token_once(client, tokens):
    resp = client.post("/api/tokens", json={"name": "wall-2", "role": "viewer"}, headers=tokens["admin"])
    assert resp.status_code == 201
    secret = resp.get_json()["token"]
    assert client.get("/api/grids", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = client.get("/api/tokens", headers=tokens["admin"]).get_json()["tokens"]
    assert "wall-2" in {t["name"] for t in listed} and all("token" not in t for t in listed)
    assert_problem(client.post("/api/tokens", json={"name": "wall-2", "role": "viewer"}, headers=tokens["admin"]),
                   409, "name")
    assert client.delete("/api/tokens/wall-2", headers=tokens["admin"]).status_code == 204
    assert_problem(client.delete("/api/tokens/wall-2", headers=tokens["admin"]), 404, "name")


@pytest.mark.parametrize("body, status, param", [
    (b"{", 400, "body"), (b"[" * 100_000, 400, "body"), (b'{"name": NaN, "role": "viewer"}', 400, "body"),
    (b'["x"]', 400, "body"), (b'{"name": "a", "role": "root"}', 422, "role"), (b'{"name": 1, "role": "viewer"}', 400,
                                                                              "name"),
    (b'{"name": "a", "role": "viewer", "extra": 1}', 400, "extra"), (b"\xff\xfe", 400, "body"),
])
def test_bad_token_bodies(client, tokens, body, status, param):
    resp = client.post("/api/tokens", data=body, headers={**tokens["admin"], "Content-Type": "application/json"})
    assert_problem(resp, status, param)


def test_bodies_over_the_limit_are_413(store, tokens):
    settings = Settings(store=StoreSettings(url=store.url), server=ServerSettings(max_request_mb=0.001))
    small = create_app(settings, store=store).test_client()
    resp = small.post("/api/tokens", data=b"x" * 5000, headers={**tokens["admin"], "Content-Type": "application/json"})
    assert_problem(resp, 413)


def test_an_unmigrated_store_stops_start_up(tmp_path):
    from mapserver import StartupError

    with pytest.raises(StartupError, match="mapserver init"):
        create_app(Settings(store=StoreSettings(url=f"sqlite:///{tmp_path / 'empty.db'}")))


def test_readyz_says_ready_or_503(client, store, tmp_path):
    import os

    body = client.get("/readyz").get_json()
    # The worker that answered, and on PostGIS the database server process of its connection.
    assert body == {"ready": True, "store": store.kind, "pid": os.getpid(), "backend_pid": body["backend_pid"]}
    assert body["backend_pid"] is None if store.kind == "sqlite" else body["backend_pid"] > 0
    assert client.get("/readyz").status_code == 200


def test_every_response_carries_a_request_id_and_one_log_line(client, tokens, caplog):
    import json
    import logging

    with caplog.at_level(logging.INFO, logger="mapserver.request"):
        resp = client.get("/api/grids", headers={**tokens["viewer"], "X-Request-Id": "desk-7.call-42"})
        refused = client.get("/api/grids", headers={"X-Request-Id": "bad id\", \"forged\": \"1"})
    assert resp.headers["X-Request-Id"] == "desk-7.call-42"
    assert refused.status_code == 401 and len(refused.headers["X-Request-Id"]) == 32  # a new id, not the forged one
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mapserver.request"]
    assert [(line["path"], line["status"]) for line in lines] == [("/api/grids", 200), ("/api/grids", 401)]
    assert lines[0]["principal"].startswith("viewer-") and lines[0]["request_id"] == "desk-7.call-42"


def test_the_client_address_comes_from_a_trusted_proxy_only(store, tokens, caplog):
    import json
    import logging

    headers = {**tokens["viewer"], "X-Forwarded-For": "10.20.30.40"}
    for proxies, expected in ((0, "127.0.0.1"), (1, "10.20.30.40")):
        settings = Settings(store=StoreSettings(url=store.url), server=ServerSettings(trusted_proxies=proxies))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="mapserver.request"):
            create_app(settings, store=store).test_client().get("/api/grids", headers=headers,
                                                                  environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert json.loads(caplog.records[-1].getMessage())["client"] == expected


@pytest.mark.parametrize("environ, limit, expected, left", [
    ({"CONTENT_LENGTH": "5000"}, 1 << 20, 5000, b"tail"),  # what the client declared, not a byte more
    ({"CONTENT_LENGTH": ""}, 1 << 20, 0, b"x" * 5000 + b"tail"),  # no declared end: reading on could block
    ({"CONTENT_LENGTH": "", "wsgi.input_terminated": True}, 1 << 20, 5004, b""),  # de-chunked: read to its end
    ({"CONTENT_LENGTH": "9000000"}, 4096, 4096, b"x" * 904 + b"tail"),  # only up to the bound
])
def test_a_refused_body_is_read_to_its_declared_end_within_a_bound(environ, limit, expected, left):
    import io

    from mapserver.api.problems import drain_request_body

    stream = io.BytesIO(b"x" * 5000 + b"tail")
    assert drain_request_body({**environ, "wsgi.input": stream}, limit=limit) == expected
    assert stream.read() == left
