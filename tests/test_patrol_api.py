"""Patrol plans over HTTP, on the command line, in the store and on the wall: plan (liaison), save with its
audit record, list and read (viewer), GPX and GeoJSON, problems for bad input."""

from __future__ import annotations

import gc
import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from mapserver import create_app, serving
from mapserver.analysis import study as study_module
from mapserver.auth import hash_token, new_token
from mapserver.cli import main
from mapserver.patrol import networks
from mapserver.patrol.gpx import GPX_NS
from mapserver.store import open_store
from tests.conftest import settings_for
from tests.patrol_data import EAST, STREET, WEST, load_city
from tests.scoped_city import bound_token

WINDOW = {"since": "2026-09-01", "until": "2026-11-01"}
BODY = {"area": {"liaison": "李警官"}, "start": {"place": "P-POST"}, "budget_min": 60, **WINDOW}


def post_plan(client, headers, body=BODY):
    return client.post("/api/patrols/plan", json=body, headers=headers)


def test_a_liaison_plans_and_saves_and_a_viewer_reads_it_back(client, tokens, store):
    load_city(store)
    resp = post_plan(client, tokens["liaison"])
    assert resp.status_code == 201, resp.get_json()
    planned = resp.get_json()
    assert resp.headers["Location"] == f"/api/patrols/{planned['id']}"
    assert planned["duration_min"] <= 60 and planned["stops"] and planned["created_by"].startswith("liaison-")
    assert planned["route"]["geometry"]["type"] == "LineString"
    read = client.get(f"/api/patrols/{planned['id']}", headers=tokens["viewer"])
    assert read.status_code == 200 and read.get_json() == planned
    listing = client.get("/api/patrols?liaison=李警官", headers=tokens["viewer"]).get_json()
    assert listing["numberMatched"] == 1 and listing["plans"][0]["id"] == planned["id"]
    assert listing["plans"][0]["window"] == "day" and "route" not in listing["plans"][0]
    assert client.get("/api/patrols?liaison=王警官", headers=tokens["viewer"]).get_json()["numberMatched"] == 0
    # The day's plans: made since the local midnight of a day (Beijing time without an offset).
    made = datetime.fromisoformat(planned["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    for since, count in ((made.date().isoformat(), 1), ((made.date() + timedelta(days=1)).isoformat(), 0),
                         ((made - timedelta(seconds=1)).isoformat(), 1), ("2026-13-01", None)):
        answer = client.get(f"/api/patrols?since={quote(since)}", headers=tokens["viewer"])
        assert (answer.status_code, answer.get_json().get("numberMatched")) == ((400, None) if count is None
                                                                               else (200, count)), since
    records, _ = store.audit.records(action="patrol.plan")
    assert [r.target for r in records] == [planned["id"]] and records[0].detail["stops"] == len(planned["stops"])


def test_plans_download_as_gpx_and_geojson(client, tokens, store):
    load_city(store)
    planned = post_plan(client, tokens["liaison"]).get_json()
    for url in (f"/api/patrols/{planned['id']}.gpx", f"/api/patrols/{planned['id']}?format=gpx"):
        resp = client.get(url, headers=tokens["viewer"])
        assert resp.status_code == 200 and resp.mimetype == "application/gpx+xml"
        root = ET.fromstring(resp.data)
        ns = {"g": GPX_NS}
        assert root.get("version") == "1.1"
        waypoints = root.findall("g:wpt", ns)
        assert len(waypoints) == len(planned["stops"]) + 1
        assert waypoints[1].find("g:name", ns).text.startswith("1. ")
        points = root.findall("g:trk/g:trkseg/g:trkpt", ns)
        coords = planned["route"]["geometry"]["coordinates"]
        assert len(points) == len(coords)
        assert float(points[5].get("lon")) == pytest.approx(coords[5][0], abs=1e-7)
    for url in (f"/api/patrols/{planned['id']}.geojson", f"/api/patrols/{planned['id']}?format=geojson"):
        resp = client.get(url, headers=tokens["viewer"])
        assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
        features = resp.get_json()["features"]
        assert features[0]["geometry"] == planned["route"]["geometry"]
        assert [f["properties"]["order"] for f in features[1:]] == list(range(len(planned["stops"]) + 1))


def test_roles_and_problems(client, tokens, store):
    load_city(store)
    assert post_plan(client, tokens["viewer"]).status_code == 403
    assert client.post("/api/patrols/plan", json=BODY).status_code == 401
    cases = [
        ({**BODY, "area": {"liaison": "无名氏"}}, 404, "area.liaison"),
        ({**BODY, "budget_min": 0}, 422, "budget_min"),
        ({**BODY, "start": {"lon": 114.62, "lat": 33.70}}, 422, "start"),
        ({**BODY, "area": {"grids": ["411602002000000"]}}, 422, "area"),
        ({**BODY, "budget_min": 1}, 422, "budget_min"),
        ({**BODY, "mode": "tank"}, 400, "mode"),
        ({**{k: v for k, v in BODY.items() if k != "since"}, "until": "0001-01-01T00:00:00-03:00"}, 400,
         "until"),  # no hotspot window fits before it
    ]
    for body, status, param in cases:
        resp = post_plan(client, tokens["liaison"], body)
        assert resp.status_code == status, (body, resp.get_json())
        assert resp.mimetype == "application/problem+json" and resp.get_json()["param"] == param
    resp = client.post("/api/patrols/plan", data=b"{not json", headers=tokens["liaison"],
                       content_type="application/json")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    for url in ("/api/patrols/0123456789abcdef", "/api/patrols/nope.gpx", "/api/patrols/nope.geojson"):
        resp = client.get(url, headers=tokens["viewer"])
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert client.get("/api/patrols?limit=5000", headers=tokens["viewer"]).status_code == 400
    assert client.get("/api/patrols/x?format=kml", headers=tokens["viewer"]).status_code == 400
    assert store.patrols.list()[1] == 0  # nothing refused was saved


def test_the_store_keeps_plans_whole_and_lists_them_newest_first(store):
    t0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
    plan = {"mode": "foot", "window": "night", "budget_min": 60.0, "length_m": 4200.5, "duration_min": 58.25,
            "liaison": "李警官", "stops": [{"order": 1, "name": "西关小学", "reasons": [{"kind": "key_place"}]}],
            "route": {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[114.6, 33.6],
                                                                                            [114.61, 33.6]]}}}
    first = store.patrols.save(plan, created_by="a", created_at=t0)
    second = store.patrols.save({**plan, "liaison": None}, created_by="b", created_at=t0 + timedelta(hours=1))
    read = store.patrols.get(first.id)
    assert read.plan == first.plan and read.plan["stops"][0]["name"] == "西关小学"
    assert read.created_at == t0 and read.time_window == "night" and read.length_m == 4200.5
    rows, total = store.patrols.list()
    assert total == 2 and [r.id for r in rows] == [second.id, first.id] and rows[0].plan is None
    assert [r.id for r in store.patrols.list(liaison="李警官")[0]] == [first.id]
    assert [r.id for r in store.patrols.list(since=t0 + timedelta(minutes=30))[0]] == [second.id]
    assert [r.id for r in store.patrols.list(limit=1, offset=1)[0]] == [first.id]
    assert store.patrols.list(whole=True)[0][0].plan["route"]["geometry"]["type"] == "LineString"
    assert store.patrols.get("missing") is None
    version = store.patrols.version()
    store.patrols.save(plan, created_by="c", created_at=t0)
    assert store.patrols.version() > version


def test_the_wall_draws_recent_routes(client, tokens, store):
    load_city(store)
    planned = post_plan(client, tokens["liaison"]).get_json()
    layer = client.get("/api/screen/layers/patrols", headers=tokens["viewer"]).get_json()
    assert [f["id"] for f in layer["features"]] == [planned["id"]]
    assert layer["features"][0]["geometry"] == planned["route"]["geometry"]
    assert layer["features"][0]["properties"]["liaison"] == "李警官"


def test_the_command_plans_writes_gpx_and_geojson_and_lists(tmp_path: Path, store):
    load_city(store)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    gpx, geojson = tmp_path / "route.gpx", tmp_path / "route.geojson"
    result = CliRunner().invoke(main, ["--config", str(config), "patrol", "plan", "--liaison", "李警官",
                                       "--start-place", "P-POST", "--budget-min", "45", "--window", "night",
                                       "--since", WINDOW["since"], "--until", WINDOW["until"],
                                       "--gpx", str(gpx), "--geojson", str(geojson)])
    assert result.exit_code == 0, result.output
    plan_id = result.output.split(":")[0]
    assert "stops" in result.output
    root = ET.fromstring(gpx.read_bytes())
    assert root.tag == f"{{{GPX_NS}}}gpx"
    collection = json.loads(geojson.read_text(encoding="utf-8"))
    assert collection["features"][0]["id"] == plan_id
    saved = store.patrols.get(plan_id)
    assert saved is not None and saved.time_window == "night" and saved.duration_min <= 45
    assert saved.created_by.startswith("cli:")
    listed = CliRunner().invoke(main, ["--config", str(config), "patrol", "list"])
    assert listed.exit_code == 0 and plan_id in listed.output
    again = tmp_path / "again.gpx"
    exported = CliRunner().invoke(main, ["--config", str(config), "patrol", "export", plan_id, "--gpx", str(again)])
    assert exported.exit_code == 0 and again.read_bytes() == gpx.read_bytes()
    bad = CliRunner().invoke(main, ["--config", str(config), "patrol", "plan", "--liaison", "无名氏",
                                    "--start-place", "P-POST", "--budget-min", "45"])
    assert bad.exit_code == 1 and "no police liaison named" in bad.output
    both = CliRunner().invoke(main, ["--config", str(config), "patrol", "plan", "--budget-min", "45",
                                     "--start", "114.6,33.6"])
    assert both.exit_code == 2


def test_the_road_network_and_hotspot_study_built_before_the_fork_serve_the_workers_plans(tmp_path: Path,
                                                                                           monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'fork.db'}")
    store.migrate()
    load_city(store)
    secret = new_token()
    store.tokens.add(name="op", role="liaison", token_hash=hash_token(secret))
    app = create_app(settings_for(store), store=store)
    try:
        serving.prepare_for_workers(app)
    finally:
        gc.unfreeze()

    def unread(*args, **kwargs):
        raise AssertionError("the roads were read again")

    def unbuilt(*args, **kwargs):
        raise AssertionError("the study was built again")

    monkeypatch.setattr(networks, "read_network", unread)
    monkeypatch.setattr(study_module, "build_study", unbuilt)
    derived = app.extensions["mapserver"].derived
    built = derived.get(networks.LAYER_NETWORK)  # kept by prepare_for_workers: not read here
    assert built.road_count == store.layers.count("roads")
    res = app.extensions["mapserver"].settings.patrol.hotspot_res
    study = derived.get(study_module.STUDY, res)  # the district's cells and weights, built by prepare_for_workers too
    assert study.cells
    pid = os.fork()
    if pid == 0:  # the worker: exit status 0 only if it planned on the master's network, with its own connection
        code = 1
        try:
            resp = app.test_client().post("/api/patrols/plan", json=BODY, headers={"Authorization": f"Bearer {secret}"})
            same = derived.get(networks.LAYER_NETWORK) is built and derived.get(study_module.STUDY, res) is study
            code = 0 if resp.status_code == 201 and resp.get_json()["stops"] and same else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.close()


def test_answers_keep_the_openapi_document(client, tokens, store):
    import schemathesis

    from layers import configure
    from mapserver.api.health import package_version
    from mapserver.api.openapi_doc import build_document

    settings = client.application.extensions["mapserver"].settings
    keys = [layer.key for layer in configure(settings.map.layers)]
    schema = schemathesis.openapi.from_dict(build_document(settings, version=package_version(), layer_keys=keys,
                                                           with_analysis=True))
    load_city(store)
    planned = post_plan(client, tokens["liaison"])
    schema["/api/patrols/plan"]["POST"].validate_response(planned)
    plan_id = planned.get_json()["id"]
    for path, url in (("/api/patrols", "/api/patrols"), ("/api/patrols/{plan_id}", f"/api/patrols/{plan_id}"),
                      ("/api/patrols/{plan_id}.gpx", f"/api/patrols/{plan_id}.gpx"),
                      ("/api/patrols/{plan_id}.geojson", f"/api/patrols/{plan_id}.geojson")):
        schema[path]["GET"].validate_response(client.get(url, headers=tokens["viewer"]))
    # The check has teeth: a plan is not what the listing promises.
    with pytest.raises(Exception, match="numberMatched"):
        schema["/api/patrols"]["GET"].validate_response(client.get(f"/api/patrols/{plan_id}", headers=tokens["viewer"]))


def test_a_planner_bound_to_a_grid_plans_there_only_and_plans_are_read_where_they_lie(client, store):
    load_city(store)
    outside = post_plan(client, bound_token(store, "liaison", EAST.code).headers)  # 李警官 serves West
    assert outside.status_code == 404 and outside.get_json()["param"] == "area.liaison"
    by_grids = post_plan(client, bound_token(store, "liaison", EAST.code).headers,
                         {**BODY, "area": {"grids": [WEST.code]}, "start": {"lon": 114.64, "lat": 33.63}})
    assert by_grids.status_code == 404 and by_grids.get_json()["param"] == "area.grids"
    from_west = post_plan(client, bound_token(store, "liaison", WEST.code).headers)
    from_district = post_plan(client, bound_token(store, "liaison", None).headers)
    assert from_west.status_code == from_district.status_code == 201
    viewers = {code: bound_token(store, "viewer", code).headers for code in (WEST.code, EAST.code, STREET.code)}
    for plan in (from_west.get_json(), from_district.get_json()):  # the district's covers West's grids
        assert client.get(f"/api/patrols/{plan['id']}", headers=viewers[WEST.code]).status_code == 200
        assert client.get(f"/api/patrols/{plan['id']}", headers=viewers[STREET.code]).status_code == 200
        assert client.get(f"/api/patrols/{plan['id']}", headers=viewers[EAST.code]).status_code == 404
    assert client.get("/api/patrols", headers=viewers[EAST.code]).get_json()["numberMatched"] == 0
    assert client.get("/api/patrols", headers=viewers[WEST.code]).get_json()["numberMatched"] == 2
