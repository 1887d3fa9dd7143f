"""The audit trail on both backends: every write leaves exactly one record (who, what, target, address, request),
a refused write leaves none, ``GET /api/audit`` is for admins and read-only, and the store refuses to change one.
"""

from __future__ import annotations

import getpass
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
from click.testing import CliRunner
from flask import Flask

from mapserver import audit, create_app
from mapserver.auth import hash_token, new_token
from mapserver.cli import main
from mapserver.config import ServerSettings, Settings, StoreSettings
from mapserver.errors import Problem
from mapserver.store import Store
from mapserver.store.audit import AuditRecord
from tests import samples
from tests.test_api import assert_problem

CLIENT = "10.20.30.40"  # the address nginx saw, passed on in X-Forwarded-For
CAMERA = samples.CAMERAS[0].code
INSIDE = {"lon": 114.6005, "lat": 33.6005}  # in the compound grid 人和小区


def _actor_for_cli() -> str:
    return f"cli:{getpass.getuser()}"


@pytest.fixture
def names() -> dict[str, str]:
    """A token name per role, fresh for each test."""
    return {role: f"{role}-{uuid.uuid4().hex[:6]}" for role in ("viewer", "operator", "dispatcher", "admin")}


@pytest.fixture
def headers(store: Store, names: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers per role, with tokens of known names (written straight to the store: not audited)."""
    out = {}
    for role, name in names.items():
        secret = new_token()
        store.tokens.add(name=name, role=role, token_hash=hash_token(secret))
        out[role] = {"Authorization": f"Bearer {secret}", "X-Forwarded-For": CLIENT}
    return out


@pytest.fixture
def proxied(store: Store) -> Flask:
    """An app behind one trusted proxy, on a store holding the samples."""
    samples.load_all(store)
    settings = Settings(store=StoreSettings(url=store.url), server=ServerSettings(trusted_proxies=1))
    app = create_app(settings, store=store)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def web(proxied: Flask):
    return proxied.test_client()


def _all(store: Store) -> list[AuditRecord]:
    return store.audit.records(limit=1000)[0]


def _one_new(store: Store, before: int) -> AuditRecord:
    records, total = store.audit.records(limit=1000)
    assert total == before + 1, [(r.action, r.target) for r in records]
    return records[0]


def _report(web, headers: dict[str, str], **extra):
    body = {"category": "disputes", "severity": "important", "description": "楼上漏水", "point": INSIDE, **extra}
    return web.post("/api/incidents", json=body, headers=headers)


# --- writes over HTTP ---------------------------------------------------------------------------------------------


def _create_token(web, h, store):
    return web.post("/api/tokens", json={"name": "wall-9", "role": "viewer"}, headers=h["admin"]), "wall-9"


def _revoke_token(web, h, store):
    store.tokens.add(name="old-wall", role="viewer", token_hash="1" * 64)
    return web.delete("/api/tokens/old-wall", headers=h["admin"]), "old-wall"


def _report_incident(web, h, store):
    resp = _report(web, h["operator"])
    return resp, resp.get_json()["id"]


def _transition(web, h, store):
    incident = samples.INCIDENTS[0].id
    return web.post(f"/api/incidents/{incident}/transitions", json={"action": "dispatch", "unit": "北关社区"},
                    headers=h["dispatcher"]), incident


def _heartbeat(web, h, store):
    return web.post(f"/api/cameras/{CAMERA}/heartbeat", headers=h["operator"]), CAMERA


def _heartbeats(web, h, store):
    codes = [c.code for c in samples.CAMERAS]
    return web.post("/api/cameras/heartbeats", json={"codes": codes * 2}, headers=h["operator"]), None


API_WRITES = {
    "token.create": (_create_token, "admin", {"role": "viewer", "grid": None}),
    "token.revoke": (_revoke_token, "admin", {}),
    "incident.report": (_report_incident, "operator", {"category": "disputes", "severity": "important",
                                                       "grid_code": samples.COMPOUND.code}),
    "incident.transition": (_transition, "dispatcher", {"action": "dispatch", "status": "dispatched", "version": 2}),
    "camera.heartbeats": (_heartbeat, "operator", {"count": 1}),
    "camera.heartbeats batch": (_heartbeats, "operator", {"count": 2}),
}


@pytest.mark.parametrize("kind", API_WRITES)
def test_each_write_over_http_leaves_one_record(web, store, headers, names, kind):
    write, role, detail = API_WRITES[kind]
    before = store.audit.records()[1]
    started = datetime.now(UTC)
    resp, target = write(web, {r: {**h, "X-Request-Id": f"req-{kind.replace(' ', '-')}"} for r, h in headers.items()},
                         store)
    assert 200 <= resp.status_code < 300, resp.get_data(as_text=True)
    found = _one_new(store, before)
    assert (found.actor, found.role, found.action, found.target) == (names[role], role, kind.split()[0], target)
    assert found.remote_addr == CLIENT  # the client's address, not the proxy's
    assert found.request_id == resp.headers["X-Request-Id"] == f"req-{kind.replace(' ', '-')}"
    assert found.detail == detail
    assert started - timedelta(seconds=1) <= found.at <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_repeated_report_with_the_same_idempotency_key_leaves_one_record(web, store, headers):
    key = {**headers["operator"], "Idempotency-Key": "phone-42-report-7"}
    assert _report(web, key).status_code == 201
    assert _report(web, key).status_code == 200  # the same report again: nothing written
    assert [r.action for r in _all(store)] == ["incident.report"]


REFUSED = [
    ("token name taken", "admin", "POST", "/api/tokens", {"name": "taken", "role": "viewer"}, 409),
    ("token bad role", "admin", "POST", "/api/tokens", {"name": "n", "role": "root"}, 422),
    ("revoke unknown token", "admin", "DELETE", "/api/tokens/nobody", None, 404),
    ("token by an operator", "operator", "POST", "/api/tokens", {"name": "x", "role": "admin"}, 403),
    ("report unknown category", "operator", "POST", "/api/incidents", {"category": "nope", "point": INSIDE}, 422),
    ("report outside every grid", "operator", "POST", "/api/incidents",
     {"category": "disputes", "point": {"lon": -70.0, "lat": -45.0}}, 404),
    ("report by a viewer", "viewer", "POST", "/api/incidents", {"category": "disputes", "point": INSIDE}, 403),
    ("illegal transition", "dispatcher", "POST", f"/api/incidents/{samples.INCIDENTS[0].id}/transitions",
     {"action": "close"}, 409),
    ("raced transition", "dispatcher", "POST", f"/api/incidents/{samples.INCIDENTS[0].id}/transitions",
     {"action": "dispatch", "unit": "u", "version": 7}, 409),
    ("transition of no incident", "dispatcher", "POST", "/api/incidents/nope/transitions", {"action": "dispatch"}, 404),
    ("heartbeat of no camera", "operator", "POST", "/api/cameras/nope/heartbeat", None, 404),
    ("heartbeats with one unknown", "operator", "POST", "/api/cameras/heartbeats", {"codes": [CAMERA, "nope"]}, 404),
    ("heartbeats empty", "operator", "POST", "/api/cameras/heartbeats", {"codes": []}, 400),
]


@pytest.mark.parametrize(("name", "role", "method", "path", "body", "status"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_refused_write_leaves_no_record(web, store, headers, name, role, method, path, body, status):
    store.tokens.add(name="taken", role="viewer", token_hash="0" * 64)
    camera_before = store.layers.get("cameras", CAMERA)
    resp = web.open(path, method=method, json=body, headers=headers[role])
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert store.audit.records() == ([], 0)
    assert store.layers.get("cameras", CAMERA) == camera_before  # the known camera of a refused batch was not touched


@pytest.mark.parametrize("broken", ["", "x" * 101])
def test_a_write_whose_record_cannot_be_kept_does_not_land(store, broken):
    # The record is part of the write's transaction: if it fails, the write goes too.
    with pytest.raises(Problem) as caught, store.transaction():
        store.tokens.add(name="ghost", role="viewer", token_hash="2" * 64)
        audit.record(store, actor=audit.cli_actor(), action=broken, target="ghost", detail={})
    assert caught.value.status == 422
    assert [t.name for t in store.tokens.live()] == [] and store.audit.records()[1] == 0


# --- writes from the command line ----------------------------------------------------------------------------------


@pytest.fixture
def cli(store: Store, tmp_path: Path):
    """Run ``mapserver …`` against the test's store."""
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")

    def run(*args: str):
        return CliRunner().invoke(main, ["--config", str(config), *map(str, args)])

    return run


def _street_file(tmp_path: Path, code: str, ring_lat: float = 33.60) -> Path:
    ring = [[114.60, ring_lat], [114.70, ring_lat], [114.70, ring_lat + 0.1], [114.60, ring_lat + 0.1],
            [114.60, ring_lat]]
    path = tmp_path / f"{code}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"code": code, "level": 1, "name": "陈州回族街道"}}]}, ensure_ascii=False), encoding="utf-8")
    return path


def test_cli_token_create_and_revoke_leave_one_record_each(cli, store):
    created = cli("token", "create", "--role", "operator", "--name", "phone-7")
    assert created.exit_code == 0, created.output
    found = _one_new(store, 0)
    assert (found.actor, found.role, found.action, found.target, found.detail) == (
        _actor_for_cli(), None, "token.create", "phone-7", {"role": "operator", "grid": None})
    assert found.remote_addr is None and found.request_id is None
    assert cli("token", "revoke", "phone-7").exit_code == 0
    assert (_one_new(store, 1).action, _one_new(store, 1).target) == ("token.revoke", "phone-7")
    assert cli("token", "revoke", "phone-7").exit_code == 1  # no live token: nothing written, nothing recorded
    assert cli("token", "create", "--role", "viewer", "--name", "phone-7").exit_code == 1  # the name stays taken
    assert store.audit.records()[1] == 2


def test_cli_import_of_grids_leaves_one_record_and_a_refused_file_none(cli, store, tmp_path):
    good = _street_file(tmp_path, "411602001000000")
    result = cli("import", "grids", good)
    assert result.exit_code == 0, result.output
    found = _one_new(store, 0)
    assert (found.actor, found.action, found.target) == (_actor_for_cli(), "import", "grids")
    assert found.detail == {"file": good.name, "source_layer": good.stem, "crs": "EPSG:4326", "rows": 1,
                            "written": 1, "repaired": 0}
    overlapping = _street_file(tmp_path, "411602002000000", ring_lat=33.65)  # overlaps the stored street
    refused = cli("import", "grids", overlapping)
    assert refused.exit_code == 1 and "nothing was written" in refused.output
    duplicate = cli("import", "grids", good)  # the same code again
    assert duplicate.exit_code == 1
    assert store.layers.count("grids") == 1 and store.audit.records()[1] == 1


def test_cli_reassign_leaves_one_record_when_incidents_move(cli, store):
    samples.load_all(store)
    result = cli("reassign")  # the sample incident has no grid chain yet: it moves
    assert result.exit_code == 0, result.output
    found = _one_new(store, 0)
    assert (found.action, found.target, found.detail) == ("incidents.reassign", "incidents",
                                                          {"checked": 1, "moved": 1, "outside": 0})
    assert cli("reassign").exit_code == 0  # nothing moves: nothing written, nothing recorded
    assert store.audit.records()[1] == 1


def test_cli_demo_load_leaves_one_record(cli, store, monkeypatch):
    from mapserver.cli import demo as demo_cli
    from mapserver.demo import AS_OF, DemoCity

    small = DemoCity(seed=3, scale="district", as_of=AS_OF, outlines={}, **samples.ALL)
    monkeypatch.setattr(demo_cli, "build_city", lambda **kwargs: small)  # the generator takes seconds; not tested here
    result = cli("demo", "--seed", "3")
    assert result.exit_code == 0, result.output
    found = _one_new(store, 0)
    assert (found.actor, found.action, found.target) == (_actor_for_cli(), "demo.load", "district")
    assert found.detail["seed"] == 3 and found.detail["written"] == small.counts() and found.detail["replaced"] == {}
    assert cli("demo", "--if-empty").exit_code == 0  # already holds data: not loaded, not recorded
    assert cli("demo").exit_code == 1  # refused without --replace
    assert store.audit.records()[1] == 1
    bad = replace(small, incidents=[replace(samples.INCIDENTS[0], severity="catastrophic")])
    monkeypatch.setattr(demo_cli, "build_city", lambda **kwargs: bad)
    assert cli("demo", "--replace").exit_code == 1  # the load fails: the old data and the trail stay as they were
    assert store.audit.records()[1] == 1 and store.layers.count("grids") == len(samples.GRIDS)


# --- reading the trail ---------------------------------------------------------------------------------------------


def _seed_trail(store: Store) -> list[AuditRecord]:
    """Five records by two actors, appended one after another, one hour apart from 2026-11-20 08:00 UTC."""
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    made = [AuditRecord(at=start + timedelta(hours=i), actor="alice" if i % 2 == 0 else "bob",
                        action="token.create" if i < 3 else "token.revoke", target=f"t{i}", role="admin",
                        detail={"i": i, "名": "值"}) for i in range(5)]
    for item in made:
        store.audit.append(item)
    return made


def test_the_store_lists_newest_first_with_filters_and_paging(store):
    _seed_trail(store)
    records, total = store.audit.records()
    assert total == 5 and [r.target for r in records] == ["t4", "t3", "t2", "t1", "t0"]
    assert [r.seq for r in records] == sorted((r.seq for r in records), reverse=True)
    assert records[-1].detail == {"i": 0, "名": "值"} and records[-1].at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert [r.target for r in store.audit.records(actor="alice")[0]] == ["t4", "t2", "t0"]
    assert [r.target for r in store.audit.records(action="token.revoke")[0]] == ["t4", "t3"]
    assert [r.target for r in store.audit.records(target="t1")[0]] == ["t1"]
    window = store.audit.records(since=datetime(2026, 11, 20, 9, tzinfo=UTC), until=datetime(2026, 11, 20, 11,
                                                                                              tzinfo=UTC))
    assert [r.target for r in window[0]] == ["t2", "t1"] and window[1] == 2
    page, total = store.audit.records(actor="alice", limit=2, offset=1)
    assert [r.target for r in page] == ["t2", "t0"] and total == 3
    assert store.audit.records(limit=0) == ([], 5)


def test_the_store_refuses_to_change_or_delete_a_record(store):
    made = _seed_trail(store)
    before = store.audit.records()
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "UPDATE audit_log SET detail = '{}' WHERE seq = 1",
                      "DELETE FROM audit_log", "DELETE FROM audit_log WHERE actor = 'bob'"):
        with pytest.raises((Problem, psycopg2.Error), match="append-only"):
            store.database.execute(statement)
    assert store.audit.records() == before and len(made) == before[1]


def test_get_audit_is_for_admins_only(web, store, headers):
    _seed_trail(store)
    for role in ("viewer", "operator"):
        assert_problem(web.get("/api/audit", headers=headers[role]), 403)
    assert_problem(web.get("/api/audit"), 401)
    resp = web.get("/api/audit", headers=headers["admin"])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"] == 5 and body["returned"] == 5
    assert body["records"][0] == {"seq": body["records"][0]["seq"], "at": "2026-11-20T12:00:00+00:00",
                                  "actor": "alice", "role": "admin", "action": "token.revoke", "target": "t4",
                                  "detail": {"i": 4, "名": "值"}, "remote_addr": None, "request_id": None}


def test_get_audit_filters_and_pages(web, store, headers):
    _seed_trail(store)

    def targets(query: str) -> tuple[list[str], int]:
        resp = web.get(f"/api/audit?{query}", headers=headers["admin"])
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return [r["target"] for r in resp.get_json()["records"]], resp.get_json()["total"]

    assert targets("actor=bob") == (["t3", "t1"], 2)
    assert targets("action=token.create&limit=2") == (["t2", "t1"], 3)
    assert targets("action=token.create&limit=2&offset=2") == (["t0"], 3)
    assert targets("target=t3") == (["t3"], 1)
    # A time without an offset is local time (Asia/Shanghai, UTC+8): 17:00 there is 09:00 UTC.
    assert targets("since=2026-11-20T17:00:00&until=2026-11-20T11:00:00Z") == (["t2", "t1"], 2)
    assert targets("actor=nobody") == ([], 0)


@pytest.mark.parametrize(("query", "param"), [
    ("limit=-1", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"), ("offset=-5", "offset"),
    ("since=2026-13-45", "since"), ("until=yesterday", "until"), ("actor=" + "a" * 201, "actor"), ("action=", "action"),
    ("who=alice", "who"), ("target=" + "t" * 501, "target"),
    ("since=0001-01-01", "since"), ("until=9999-12-31T23:00:00-05:00", "until"),  # no UTC instant: 400, not 500
])
def test_get_audit_refuses_bad_parameters(web, headers, query, param):
    assert_problem(web.get(f"/api/audit?{query}", headers=headers["admin"]), 400, param)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/audit", "/api/audit?seq=1"])
def test_no_route_changes_or_deletes_a_record(web, store, headers, method, path):
    _seed_trail(store)
    before = store.audit.records()
    resp = web.open(path, method=method, json={"actor": "mallory"}, headers=headers["admin"])
    assert resp.status_code == 405 and resp.mimetype == "application/problem+json"
    assert set(resp.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    for path_with_key in ("/api/audit/1", "/api/audit/0"):
        assert web.open(path_with_key, method=method, headers=headers["admin"]).status_code == 404
    assert store.audit.records() == before
