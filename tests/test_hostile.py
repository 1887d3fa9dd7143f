"""A corpus of hostile requests: each must be refused with a 4xx problem+json, none may be a 5xx, and the
store must be exactly as it was afterwards.

Every request here is crafted to be refused (a wrong type, an unknown value, a
bad path, a body too large or too deep, …): a request that legitimately
succeeds is not hostile, so a 2xx is a failure too. Free-text filters that
match nothing (``?grid=1 OR 1=1`` → an empty list) are checked separately.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from mapserver import create_app
from mapserver.config import ServerSettings, Settings, StoreSettings
from mapserver.store import Store
from mapserver.store.common import LAYERS
from tests.conftest import make_token
from tests.samples import INCIDENTS, load_all

MAX_REQUEST_MB = 1  # small, so the 413 cases stay cheap
INCIDENT = INCIDENTS[0].id
CAMERA = "41160200001320000001"

SQL = ("'; DROP TABLE grids; --", "1 OR 1=1", "' OR '1'='1", "1; DELETE FROM incidents",
       "\" UNION SELECT * FROM tokens --")
SCRIPT = ("<script>alert(1)</script>", "${alert(1)}", "{{7*7}}", "javascript:alert(1)", "<img src=x onerror=alert(1)>")
PAYLOADS = SQL + SCRIPT


@dataclass(frozen=True)
class Hostile:
    """One request that must be refused."""

    name: str
    method: str
    path: str
    role: str = "viewer"
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _report(**fields: Any) -> dict[str, Any]:
    return {"category": "disputes", "point": {"lon": 114.612, "lat": 33.612}, **fields}


def _payload_cases() -> Iterator[Hostile]:
    """SQL and script payloads in every enum field, parameter name and path key, where they cannot be valid."""
    for i, p in enumerate(PAYLOADS):
        yield Hostile(f"report category {i}", "POST", "/api/incidents", "operator", _json(_report(category=p)))
        yield Hostile(f"report severity {i}", "POST", "/api/incidents", "operator", _json(_report(severity=p)))
        yield Hostile(f"report source {i}", "POST", "/api/incidents", "operator", _json(_report(source=p)))
        yield Hostile(f"report point.crs {i}", "POST", "/api/incidents", "operator",
                      _json(_report(point={"lon": 114.612, "lat": 33.612, "crs": p})))
        yield Hostile(f"report field name {i}", "POST", "/api/incidents", "operator", _json(_report(**{p: "x"})))
        yield Hostile(f"transition action {i}", "POST", f"/api/incidents/{INCIDENT}/transitions", "operator",
                      _json({"action": p, "note": p, "unit": p}))
        yield Hostile(f"transition level {i}", "POST", f"/api/incidents/{INCIDENT}/transitions", "operator",
                      _json({"action": "whistle", "level": p, "note": p}))
        yield Hostile(f"token role {i}", "POST", "/api/tokens", "admin", _json({"name": p, "role": p}))
        yield Hostile(f"heartbeats codes {i}", "POST", "/api/cameras/heartbeats", "operator", _json({"codes": [p]}))
        yield Hostile(f"heartbeat path {i}", "POST", f"/api/cameras/{_quote(p)}/heartbeat", "operator")
        yield Hostile(f"revoke path {i}", "DELETE", f"/api/tokens/{_quote(p)}", "admin")
        yield Hostile(f"incident list status {i}", "GET", f"/api/incidents?status={_quote(p)}")
        yield Hostile(f"incident list since {i}", "GET", f"/api/incidents?since={_quote(p)}")
        yield Hostile(f"kpis level {i}", "GET", f"/api/kpis?level={_quote(p)}")
        yield Hostile(f"cameras bbox {i}", "GET", f"/api/cameras?bbox={_quote(p)}")
        yield Hostile(f"grids limit {i}", "GET", f"/api/grids?limit={_quote(p)}")
        yield Hostile(f"grids level {i}", "GET", f"/api/grids?level={_quote(p)}")
        yield Hostile(f"parameter name {i}", "GET", f"/api/places?{_quote(p)}=1")
        yield Hostile(f"lookup lon {i}", "GET", f"/api/lookup?lon={_quote(p)}&lat=33.6")
        yield Hostile(f"lookup crs {i}", "GET", f"/api/lookup?lon=114.6&lat=33.6&crs={_quote(p)}")
        yield Hostile(f"bulk crs {i}", "POST", f"/api/lookup/bulk?crs={_quote(p)}", body=b"lon,lat\n114.6,33.6\n",
                      content_type="text/csv")
        yield Hostile(f"grid key {i}", "GET", f"/api/grids/{_quote(p)}")
        yield Hostile(f"incident key {i}", "GET", f"/api/incidents/{_quote(p)}")
        yield Hostile(f"export layer {i}", "GET", f"/api/export/{_quote(p)}.csv")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _body_cases() -> Iterator[Hostile]:
    """Malformed, huge, deep and non-finite JSON bodies, and wrong types."""
    routes = (("POST", "/api/incidents", "operator"), ("POST", f"/api/incidents/{INCIDENT}/transitions", "operator"),
              ("POST", "/api/cameras/heartbeats", "operator"), ("POST", "/api/tokens", "admin"))
    bodies = {
        "empty": b"", "not json": b"{not json", "truncated": b'{"codes": [', "trailing": b'{"codes": []} x',
        "not utf-8": b'{"codes": ["\xff\xfe"]}', "deep [": b"[" * 100_000, "deep {": b'{"a":' * 50_000,
        "NaN": b'{"codes": NaN}', "Infinity": b'{"codes": [Infinity]}', "-Infinity": b'{"version": -Infinity}',
        "a list": b"[]", "a string": b'"codes"', "null": b"null", "a number": b"42",
        "huge": b'{"codes": ["' + b"x" * (MAX_REQUEST_MB * 1024 * 1024 + 10) + b'"]}',
    }
    for method, path, role in routes:
        for name, body in bodies.items():
            yield Hostile(f"{name} → {path}", method, path, role, body)
    wrong = {
        "category number": _report(category=7), "point string": _report(point="114.6,33.6"),
        "lon string": _report(point={"lon": "114.6", "lat": 33.6}), "lon bool": _report(point={"lon": True, "lat": 1}),
        "lon 1e999": b'{"category": "disputes", "point": {"lon": 1e999, "lat": 33.6}}',
        "lon out of range": _report(point={"lon": 200.0, "lat": 33.6}),
        "lat out of range": _report(point={"lon": 114.6, "lat": -91.0}),
        "far outside every grid": _report(point={"lon": -70.0, "lat": -45.0}),
        "description too long": _report(description="长" * 5000), "no point, no address": {"category": "disputes"},
        "geojson point": _report(point={"type": "Point", "coordinates": [114.6, 33.6]}),
        "address unknown": {"category": "disputes", "address": "'; DROP TABLE addresses; --"},
    }
    for name, body in wrong.items():
        yield Hostile(f"report {name}", "POST", "/api/incidents", "operator",
                      body if isinstance(body, bytes) else _json(body))
    yield Hostile("transition version string", "POST", f"/api/incidents/{INCIDENT}/transitions", "operator",
                  _json({"action": "dispatch", "unit": "u", "version": "1"}))
    yield Hostile("transition illegal", "POST", f"/api/incidents/{INCIDENT}/transitions", "operator",
                  _json({"action": "close"}))
    yield Hostile("heartbeats number codes", "POST", "/api/cameras/heartbeats", "operator", _json({"codes": [1]}))
    yield Hostile("heartbeats unknown code", "POST", "/api/cameras/heartbeats", "operator", _json({"codes": ["nope"]}))
    yield Hostile("token name too long", "POST", "/api/tokens", "admin", _json({"name": "n" * 101, "role": "viewer"}))
    yield Hostile("token name taken", "POST", "/api/tokens", "admin", _json({"name": "taken", "role": "viewer"}))
    nul = "\x00"
    yield Hostile("NUL in description", "POST", "/api/incidents", "operator", _json(_report(description=nul)))
    yield Hostile("NUL in token name", "POST", "/api/tokens", "admin", _json({"name": f"a{nul}b", "role": "viewer"}))
    yield Hostile("NUL in a code", "POST", "/api/cameras/heartbeats", "operator", _json({"codes": [nul]}))
    yield Hostile("NUL in a note", "POST", f"/api/incidents/{INCIDENT}/transitions", "operator",
                  _json({"action": "dispatch", "unit": "u", "note": nul}))
    yield Hostile("NUL in a field name", "POST", "/api/tokens", "admin", _json({nul: 1}))
    yield Hostile("idempotency key too long", "POST", "/api/incidents", "operator", _json(_report()),
                  headers={"Idempotency-Key": "k" * 201})


def _feature(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


def _geojson_cases() -> Iterator[Hostile]:
    """GeoJSON the bulk lookup must refuse: crs members, other types, open rings, bad numbers, too many vertices."""
    ring_open = [[114.6, 33.6], [114.7, 33.6], [114.7, 33.7]]
    cases: dict[str, Any] = {
        "crs member": {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
                       "features": [_feature({"type": "Point", "coordinates": [114.6, 33.6]})]},
        "unclosed ring": {"type": "FeatureCollection",
                          "features": [_feature({"type": "Polygon", "coordinates": [ring_open]})]},
        "line string": {"type": "FeatureCollection",
                        "features": [_feature({"type": "LineString", "coordinates": ring_open})]},
        "too many vertices": {"type": "FeatureCollection", "features": [_feature(
            {"type": "MultiPoint", "coordinates": [[114.6, 33.6]] * 20_000})]},
        "lon 181": {"type": "FeatureCollection", "features": [_feature({"type": "Point", "coordinates": [181, 0]})]},
        "lat -90.5": {"type": "FeatureCollection",
                      "features": [_feature({"type": "Point", "coordinates": [0, -90.5]})]},
        "bool coordinates": {"type": "FeatureCollection",
                             "features": [_feature({"type": "Point", "coordinates": [True, False]})]},
        "one coordinate": {"type": "FeatureCollection",
                           "features": [_feature({"type": "Point", "coordinates": [114.6]})]},
        "null geometry": {"type": "FeatureCollection", "features": [_feature(None)]},  # type: ignore[arg-type]
        "a bare geometry": {"type": "Point", "coordinates": [114.6, 33.6]},
        "features not a list": {"type": "FeatureCollection", "features": {"0": 1}},
    }
    for name, body in cases.items():
        yield Hostile(f"bulk geojson {name}", "POST", "/api/lookup/bulk", body=_json(body),
                      content_type="application/geo+json")
    yield Hostile("bulk geojson 1e999", "POST", "/api/lookup/bulk", content_type="application/geo+json",
                  body=b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                       b'"geometry": {"type": "Point", "coordinates": [1e999, 33.6]}}]}')
    csvs = {"no header": b"114.6,33.6\n", "text lon": b"lon,lat\nabc,33.6\n", "nan": b"lon,lat\nnan,33.6\n",
            "inf": b"lon,lat\ninf,33.6\n", "deep": b"[" * 100_000, "binary": b"\x00\xff\xfe" * 100,
            "sql": b"lon,lat\n'; DROP TABLE grids; --,1 OR 1=1\n"}
    for name, body in csvs.items():
        yield Hostile(f"bulk csv {name}", "POST", "/api/lookup/bulk", body=body, content_type="text/csv")
    kinds = ("text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded")
    for kind in kinds:
        yield Hostile(f"bulk as {kind}", "POST", "/api/lookup/bulk", body=b"lon,lat\n114.6,33.6\n", content_type=kind)


def _path_cases() -> Iterator[Hostile]:
    """Traversal, encoded slashes, null bytes, overlong paths, and methods a route does not take."""
    paths = (
        "/api/grids/..%2f..%2fetc%2fpasswd", "/api/grids/../../etc/passwd", "/api/grids/%2e%2e%2f%2e%2e%2fetc",
        "/api/grids/a%2fb", "/api/grids/%00", "/api/grids/x%00y", "/api/incidents/%00", "/api/cameras/%00",
        "/api/places/%00", "/api/export/grids%00.csv", "/api/export/..%2fconfig.yaml", "/api/export/grids.exe",
        "/api/export/grids.csv%00.gpkg", "/api/" + "a" * 10_000, "/api/grids/" + "9" * 10_000,
"/api/%2e%2e/healthz", "/api/nosuchlayer", "/api/incidents/x/transitions/y",
        "/api/grid_staff/not-a-number", "/api/grid_staff/99999999999999999999999", "/api/grid_staff/-1",
        "/api/screen/layers/%00", "/api/screen/grids/%00", "/api/grids?limit=-1", "/api/grids?limit=10001",
        "/api/grids?offset=99999999999999999999999", "/api/grids?bbox=1,2,3", "/api/grids?bbox=nan,0,1,1",
        "/api/grids?bbox=0,0,1,inf", "/api/grids?bbox=0,0,200,1", "/api/grids?level=%00",
        "/api/incidents?since=2026-13-45", "/api/incidents?limit=1e3", "/api/lookup?lon=nan&lat=0",
        "/api/lookup?lon=inf&lat=0", "/api/lookup?lon=1e400&lat=0", "/api/lookup?lon=0&lat=0&address=x",
        "/api/screen/locate?lon=nan&lat=0", "/api/screen/locate?lon=0", "/api/cameras/online-rate?level=0",
        "/api/grids/check?x=1", "/openapi.json?x=1", "/api/incidents?grid=%00", "/api/kpis?code=a%00b",
        "/api/grid_staff?name=%00", "/api/lookup?address=%00", "/api/grids?%00=1",
    )
    for path in paths:
        yield Hostile(f"path {path[:60]}", "GET", path)
    for method, path in (("PUT", "/api/grids"), ("DELETE", "/api/incidents"), ("PATCH", f"/api/incidents/{INCIDENT}"),
                         ("POST", "/api/grids"), ("DELETE", "/api/cameras/heartbeats")):
        yield Hostile(f"{method} {path}", method, path, "admin", b"{}")


CORPUS: list[Hostile] = [*_payload_cases(), *_body_cases(), *_geojson_cases(), *_path_cases()]


def _digest(store: Store) -> dict[str, str]:
    """A digest of every layer, the tokens and the audit trail: any write shows up here."""
    out = {layer: hashlib.sha256(repr(store.layers.query(layer)).encode()).hexdigest() for layer in LAYERS}
    out["tokens"] = hashlib.sha256(repr(store.tokens.live()).encode()).hexdigest()
    out["timeline"] = hashlib.sha256(repr(store.incidents.timeline(INCIDENT)).encode()).hexdigest()
    out["audit"] = hashlib.sha256(repr(store.audit.records(limit=1000)).encode()).hexdigest()  # refusals leave none
    return out


@pytest.fixture
def hostile_app(store: Store) -> Flask:
    """An app on a store holding the samples, with a small request size limit."""
    load_all(store)
    settings = Settings(store=StoreSettings(url=store.url), server=ServerSettings(max_request_mb=MAX_REQUEST_MB))
    app = create_app(settings, store=store)
    app.config["TESTING"] = True
    return app


def _send(client, case: Hostile, tokens: dict[str, str]):
    headers = {"Authorization": f"Bearer {tokens[case.role]}", **case.headers}
    if case.body is not None:
        headers["Content-Type"] = case.content_type
    return client.open(case.path, method=case.method, data=case.body, headers=headers)


def _refused(resp) -> str | None:
    """Why the answer is not a proper refusal, or None when it is one."""
    if not 400 <= resp.status_code < 500:
        return f"status {resp.status_code}"
    if resp.mimetype != "application/problem+json":
        return f"type {resp.mimetype}"
    body = resp.get_json()
    if body.get("status") != resp.status_code or not body.get("detail"):
        return f"problem {body}"
    return None


def test_the_corpus_is_large_and_names_are_unique():
    assert len(CORPUS) >= 100
    assert len({case.name for case in CORPUS}) == len(CORPUS)


def test_every_hostile_request_is_refused_and_changes_nothing(hostile_app: Flask, store: Store):
    tokens = {role: make_token(store, role) for role in ("viewer", "operator", "admin")}
    store.tokens.add(name="taken", role="viewer", token_hash="0" * 64)
    before, counts = _digest(store), store.counts()
    client = hostile_app.test_client()
    failures = []
    for case in CORPUS:
        why = _refused(_send(client, case, tokens))
        if why:
            failures.append(f"{case.name}: {why}")
        elif store.counts() != counts:
            failures.append(f"{case.name}: changed the store counts")
            counts = store.counts()
    assert not failures, "\n".join(failures)
    assert _digest(store) == before


@pytest.mark.parametrize("param", ["grid", "code"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_free_text_filters_match_nothing(client, tokens, store: Store, payload: str, param: str):
    # A free-text filter is compared as a value, never spliced into SQL: it matches nothing and changes nothing.
    load_all(store)
    before = _digest(store)
    path = "/api/incidents" if param == "grid" else "/api/grids"
    resp = client.get(path, query_string={param: payload}, headers=tokens["viewer"])
    assert resp.status_code == 200
    assert resp.get_json()["features"] == []
    assert _digest(store) == before
