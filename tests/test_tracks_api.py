"""Patrol tracks over HTTP on both backends: batches and their counts, idempotent replays, GPX uploads, a person's
day and who may read it, plan against actual, patrols and check-ins, the live layer by jurisdiction; and on PostGIS
the month partitions made on demand (also by two writers at once) and a day's query reading only its month."""

from __future__ import annotations

import io
import json
import math
import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import pytest

from mapserver.errors import Problem
from mapserver.store import open_store
from mapserver.store.month_partitions import partition_name
from tests.conftest import make_token
from tests.logins import BROWSER, add_person, form_login, login_app, token_in
from tests.scoped_city import A1, B1, EAST, GRIDS, WEST

ZONE = ZoneInfo("Asia/Shanghai")
LON, LAT = 114.605, 33.605  # in community A1 (street West)
DEG_PER_M_LAT = 1 / 110_922.0


def yesterday_noon() -> datetime:
    local = datetime.combine(datetime.now(ZONE).date() - timedelta(days=1), time(12), ZONE)
    return local.astimezone(UTC)


@pytest.fixture
def city(store):
    store.layers.add("grids", GRIDS)
    add_person(store, "w.a1", role="field", grid_code=A1)
    add_person(store, "w.b1", role="field", grid_code=B1)
    add_person(store, "disp.west", role="dispatcher", grid_code=WEST)
    add_person(store, "li.east", role="liaison", grid_code=EAST)
    add_person(store, "view.west", role="viewer", grid_code=WEST)
    add_person(store, "chief", role="admin")
    return store


@pytest.fixture
def app(city):
    return login_app(city)


class Person:
    """A test client logged in as one person, sending the session's CSRF token with each write."""

    def __init__(self, app, name: str) -> None:
        self.client = app.test_client()
        assert form_login(self.client, name).status_code in (302, 303)
        self.csrf = token_in(self.client.get("/logout", headers=BROWSER).get_data(as_text=True))

    def post(self, path: str, **kwargs):
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def get(self, path: str):
        return self.client.get(path)


def walk(t0: datetime, n: int, *, step_s: int = 10, north_m: float = 10.0, lon: float = LON, lat: float = LAT):
    """n fixes walking north from (lon, lat), ``north_m`` metres every ``step_s`` seconds, accuracy 5 m."""
    return [{"lon": lon, "lat": lat + k * north_m * DEG_PER_M_LAT,
             "t": (t0 + timedelta(seconds=step_s * k)).isoformat(), "accuracy": 5} for k in range(n)]


def test_a_batch_is_answered_with_its_counts_and_a_replay_stores_nothing_twice(app, city):
    worker = Person(app, "w.a1")
    t0 = yesterday_noon()
    fixes = walk(t0, 10)
    fixes.insert(3, {"lon": LON, "lat": LAT, "t": (t0 + timedelta(seconds=25)).isoformat(), "accuracy": 120})
    fixes.append({"lon": LON + 0.1, "lat": LAT, "t": (t0 + timedelta(seconds=95)).isoformat(), "accuracy": 5})
    fixes.append({"lon": LON, "lat": 95, "t": (t0 + timedelta(seconds=99)).isoformat()})
    fixes.append({"lon": LON, "lat": LAT, "t": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    resp = worker.post("/api/tracks/positions", json={"fixes": fixes})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["received"], body["accepted"], body["dropped_inaccurate"], body["dropped_speed"],
            body["refused"]) == (14, 10, 1, 1, 2)
    assert [r["index"] for r in body["refusals"]] == [12, 13]
    again = worker.post("/api/tracks/positions", json={"fixes": fixes}).get_json()
    assert again["accepted"] == 0 and again["duplicates"] == 10
    since = t0 - timedelta(hours=1)
    assert len(city.tracks.fixes("w.a1", since, since + timedelta(hours=3))) == 10
    # With an Idempotency-Key, a replay gets the first answer again, and a different body under it is refused.
    more = walk(t0 + timedelta(minutes=10), 5)
    first = worker.post("/api/tracks/positions", json={"fixes": more}, headers={"Idempotency-Key": "b-1"})
    replay = worker.post("/api/tracks/positions", json={"fixes": more}, headers={"Idempotency-Key": "b-1"})
    assert first.get_json() == replay.get_json() and first.get_json()["accepted"] == 5
    other = worker.post("/api/tracks/positions", json={"fixes": more[:2]}, headers={"Idempotency-Key": "b-1"})
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert len(city.tracks.fixes("w.a1", since, since + timedelta(hours=3))) == 15


def test_nan_and_bad_bodies_are_refused_without_a_500(app):
    worker = Person(app, "w.a1")
    t = yesterday_noon().isoformat()
    resp = worker.post("/api/tracks/positions", data=f'{{"fixes": [{{"lon": NaN, "lat": 33.6, "t": "{t}"}}, '
                                                   f'{{"lon": 114.6, "lat": Infinity, "t": "{t}"}}]}}',
                       content_type="application/json")
    assert resp.status_code == 200 and resp.get_json()["refused"] == 2 and resp.get_json()["accepted"] == 0
    assert worker.post("/api/tracks/positions", data="[" * 100000, content_type="application/json").status_code == 400
    assert worker.post("/api/tracks/positions", json={"fixes": "x"}).status_code == 400


def test_a_token_is_no_person_and_sends_no_positions(app, city):
    headers = {"Authorization": f"Bearer {make_token(city, 'field')}"}
    resp = app.test_client().post("/api/tracks/positions", json={"fixes": walk(yesterday_noon(), 2)},
                                  headers=headers)
    assert resp.status_code == 400 and "no person" in resp.get_json()["detail"]


def test_a_gpx_upload_is_stored_as_fixes_and_a_hostile_one_is_refused(app, city):
    worker = Person(app, "w.a1")
    t0 = yesterday_noon()
    points = "".join(f'<trkpt lat="{LAT + k * 0.0001:.7f}" lon="{LON}"><time>'
                     f'{(t0 + timedelta(seconds=10 * k)).isoformat().replace("+00:00", "Z")}</time></trkpt>'
                     for k in range(6))
    gpx = (f'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
           f"<trk><trkseg>{points}</trkseg></trk></gpx>")
    resp = worker.post("/api/tracks/gpx", data=gpx, content_type="application/gpx+xml")
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 6, resp.get_data(as_text=True)
    upload = worker.post("/api/tracks/gpx", data={"file": (io.BytesIO(gpx.encode()), "walk.gpx")},
                         content_type="multipart/form-data")
    assert upload.status_code == 200 and upload.get_json()["duplicates"] == 6
    laughs = ('<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&b;</name></trk></gpx>')
    refused = worker.post("/api/tracks/gpx", data=laughs, content_type="application/gpx+xml")
    assert refused.status_code == 422 and "document type" in refused.get_json()["detail"]
    assert worker.post("/api/tracks/gpx", data="x", content_type="text/plain").status_code == 415


def test_a_persons_day_has_its_line_and_measures_and_only_their_jurisdiction_reads_it(app, city):
    worker = Person(app, "w.a1")
    t0 = yesterday_noon()
    assert worker.post("/api/tracks/positions", json={"fixes": walk(t0, 31)}).get_json()["accepted"] == 31
    day = t0.astimezone(ZONE).date().isoformat()
    path = f"/api/tracks/people/w.a1/days/{day}"
    own = worker.get(path)
    assert own.status_code == 200 and own.mimetype == "application/geo+json"
    feature = own.get_json()
    assert feature["geometry"]["type"] == "LineString" and len(feature["geometry"]["coordinates"]) == 31
    props = feature["properties"]
    assert props["fixes"] == 31 and props["distance_m"] == pytest.approx(300, rel=0.01)
    assert props["moving_s"] == 300 and props["inside_grid_s"] == 300 and props["grid_code"] == A1
    assert Person(app, "disp.west").get(path).status_code == 200  # A1 lies in street West
    assert Person(app, "chief").get(path).status_code == 200  # the whole store
    for outsider in ("li.east", "w.b1", "view.west"):  # another street; another worker; a viewer reads no one's
        resp = Person(app, outsider).get(path)
        assert resp.status_code == 404, outsider
    assert worker.get(f"/api/tracks/people/w.a1/days/{day}x").status_code == 400
    empty = worker.get("/api/tracks/people/w.a1/days/2020-01-01").get_json()
    assert empty["geometry"] is None and empty["properties"]["distance_m"] == 0


def _save_plan(store, t0: datetime) -> str:
    deg_per_m_lon = 1 / (111_319.49 * math.cos(math.radians(LAT)))
    stops = [{"order": k + 1, "ref": f"s{k + 1}", "name": f"S{k + 1}", "lon": LON + d * deg_per_m_lon, "lat": LAT,
              "arrival_min": k * 5, "arrival_at": t0.isoformat(), "weight": 1.0, "reasons": []}
             for k, d in enumerate((0.0, 500.0, 1000.0))]
    plan = {"mode": "walk", "window": "day", "budget_min": 60, "length_m": 1000, "duration_min": 20,
            "start": {"lon": LON, "lat": LAT}, "stops": stops,
            "route": {"type": "Feature", "properties": {}, "geometry": {
                "type": "LineString", "coordinates": [[LON, LAT], [LON + 1000 * deg_per_m_lon, LAT]]}}}
    return store.patrols.save(plan, created_by="chief", created_at=t0, planner_grid=A1, grids=[A1]).id


def test_plan_against_actual_and_a_patrol_with_check_ins(app, city):
    worker = Person(app, "w.a1")
    plan_id = _save_plan(city, yesterday_noon())
    patrol = worker.post("/api/tracks/patrols", json={"plan_id": plan_id})
    assert patrol.status_code == 201, patrol.get_data(as_text=True)
    patrol_id = patrol.get_json()["id"]
    assert worker.post("/api/tracks/patrols", json={}).status_code == 409  # one patrol at a time
    # Yesterday: walked east along the route for 600 m (1 m/s, a fix every 10 s).
    deg_per_m_lon = 1 / (111_319.49 * math.cos(math.radians(LAT)))
    t0 = yesterday_noon()
    fixes = [{"lon": LON + 10 * k * deg_per_m_lon, "lat": LAT, "t": (t0 + timedelta(seconds=10 * k)).isoformat(),
              "accuracy": 4} for k in range(61)]
    assert worker.post("/api/tracks/positions", json={"fixes": fixes}).get_json()["accepted"] == 61
    at_stop = (t0 + timedelta(seconds=480)).isoformat()
    near = worker.post(f"/api/tracks/patrols/{patrol_id}/checkins",
                       json={"stop": 2, "lon": LON + 480 * deg_per_m_lon, "lat": LAT, "accuracy": 5, "t": at_stop})
    assert near.status_code == 201 and near.get_json()["distance_m"] == pytest.approx(20, abs=0.5)
    assert worker.post(f"/api/tracks/patrols/{patrol_id}/checkins",
                       json={"stop": 2, "lon": LON + 490 * deg_per_m_lon, "lat": LAT}).status_code == 200
    far = worker.post(f"/api/tracks/patrols/{patrol_id}/checkins",
                      json={"stop": 3, "lon": LON + 600 * deg_per_m_lon, "lat": LAT})
    assert far.status_code == 422 and "400 m from stop 3" in far.get_json()["detail"]
    assert worker.post(f"/api/tracks/patrols/{patrol_id}/checkins",
                       json={"stop": 9, "lon": LON, "lat": LAT}).status_code == 422
    day = t0.astimezone(ZONE).date().isoformat()
    result = worker.get(f"/api/tracks/people/w.a1/days/{day}/plans/{plan_id}")
    assert result.status_code == 200, result.get_data(as_text=True)
    body = result.get_json()
    assert [s["passed"] for s in body["stops"]] == [True, True, False]
    assert body["route_share"] == pytest.approx(0.65, abs=0.01)
    assert [c["stop"] for c in body["check_ins"]] == [2]
    # Now: twelve fixes over the last two minutes. Live: the worker is on patrol, seen by West's dispatcher and the
    # wall's viewer of West, not by East.
    now = datetime.now(UTC).replace(microsecond=0)
    recent = walk(now - timedelta(seconds=120), 12, lon=LON + 600 * deg_per_m_lon)
    assert worker.post("/api/tracks/positions", json={"fixes": recent}).get_json()["accepted"] == 12
    live = Person(app, "disp.west").get("/api/positions/live")
    assert live.status_code == 200 and live.mimetype == "application/geo+json"
    [feature] = live.get_json()["features"]
    assert feature["id"] == "w.a1" and feature["properties"]["role"] == "field"
    assert feature["properties"]["patrol_id"] == patrol_id and len(feature["properties"]["trail"]) == 10
    assert feature["properties"]["trail"][-1] == feature["geometry"]["coordinates"]
    assert feature["geometry"]["coordinates"] == pytest.approx([recent[-1]["lon"], recent[-1]["lat"]], abs=1e-6)
    assert feature["properties"]["trail_s"][-1] == feature["properties"]["age_s"] * -1
    assert [f["id"] for f in Person(app, "view.west").get("/api/positions/live").get_json()["features"]] == ["w.a1"]
    assert Person(app, "li.east").get("/api/positions/live").get_json()["features"] == []
    assert worker.get("/api/positions/live").status_code == 403  # a grid worker has no wall
    current = worker.get("/api/tracks/patrols/current").get_json()
    assert current["patrol"]["id"] == patrol_id and [c["stop"] for c in current["check_ins"]] == [2]
    stopped = worker.post(f"/api/tracks/patrols/{patrol_id}/stop")
    assert stopped.status_code == 200 and stopped.get_json()["ended_at"] is not None
    assert worker.post(f"/api/tracks/patrols/{patrol_id}/stop").status_code == 409
    assert Person(app, "w.b1").post(f"/api/tracks/patrols/{patrol_id}/stop").status_code == 404
    assert worker.get("/api/tracks/patrols/current").get_json() == {"patrol": None, "check_ins": []}
    # A patrol without a plan has no stop to check in at.
    free = worker.post("/api/tracks/patrols", json={}).get_json()["id"]
    assert worker.post(f"/api/tracks/patrols/{free}/checkins",
                       json={"stop": 1, "lon": LON, "lat": LAT}).status_code == 422


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_new_month_gets_its_partition_and_a_day_reads_only_it(store, city):
    month = (datetime.now(UTC) - timedelta(days=300)).replace(day=15, hour=4, minute=0, second=0, microsecond=0)
    name = partition_name(month.year, month.month)
    conn = psycopg2.connect(store.url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        # Two writers, each with a store of its own, need the new month at once: both succeed, one partition.
        stores = [open_store(store.url) for _ in range(2)]
        errors: list[BaseException] = []

        def write(k: int) -> None:
            try:
                stores[k].tracks.add_fixes(f"p{k}", [month + timedelta(seconds=j) for j in range(50)],
                                           [LON] * 50, [LAT] * 50, [5.0] * 50)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(k,)) for k in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for opened in stores:
            opened.close()
        assert errors == []
        with conn.cursor() as cur:
            cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = 'positions'::regclass AND c.relname = %s", (name,))
            assert cur.fetchall() == [(name,)]
            cur.execute(f"SELECT count(*) FROM {name}")
            assert cur.fetchone()[0] == 100
            cur.execute("EXPLAIN SELECT t, lon, lat FROM positions WHERE person = 'p0' AND t >= %s AND t < %s "
                        "ORDER BY t", (month - timedelta(hours=4), month + timedelta(hours=20)))
            plan = "\n".join(row[0] for row in cur.fetchall())
        assert name in plan
        assert [word for word in plan.split() if word.startswith("positions_") and not word.startswith(name)] == []
        assert len(store.tracks.fixes("p0", month - timedelta(hours=1), month + timedelta(hours=1))) == 50
    finally:
        conn.close()


def test_a_bulk_load_writes_every_fix_and_refuses_a_stored_one_whole(store):
    t0 = yesterday_noon()
    rows = [("bulk", t0 + timedelta(seconds=k), LON, LAT + k * 1e-5, None if k % 2 else 4.0) for k in range(100)]
    months = {(t0.year, t0.month)}
    assert store.tracks.copy_fixes(iter(rows), months) == 100
    track = store.tracks.track("bulk", t0, t0 + timedelta(minutes=5))
    assert len(track) == 100 and track.seconds[0] == pytest.approx(t0.timestamp(), abs=1e-3)
    assert track.lat[-1] == pytest.approx(LAT + 99e-5)
    with pytest.raises(Problem) as caught:
        store.tracks.copy_fixes(iter([*rows[:1], ("bulk", t0 + timedelta(hours=1), LON, LAT, 3.0)]), months)
    assert caught.value.status == 409
    assert len(store.tracks.fixes("bulk", t0, t0 + timedelta(hours=2))) == 100  # nothing of the refused load


def test_the_live_layer_has_an_etag_and_an_unchanged_poll_is_a_304(app, city):
    """The live layer's weak ETag names the jurisdiction and the newest fix: the same poll again is a 304 without a
    body, a new fix or a patrol started changes it, and another jurisdiction never gets the same tag."""
    worker, west, east = Person(app, "w.a1"), Person(app, "disp.west"), Person(app, "li.east")
    now = datetime.now(UTC).replace(microsecond=0)
    assert worker.post("/api/tracks/positions", json={"fixes": walk(now - timedelta(seconds=60), 3)}).status_code == 200
    first = west.get("/api/positions/live")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"') and "no-cache" in first.headers["Cache-Control"]
    again = west.client.get("/api/positions/live", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == tag
    other = east.get("/api/positions/live")
    assert other.headers["ETag"] != tag and other.get_json()["features"] == []
    assert east.client.get("/api/positions/live", headers={"If-None-Match": tag}).status_code == 200
    # A newer fix: a new answer with it.
    assert worker.post("/api/tracks/positions", json={"fixes": walk(now - timedelta(seconds=5), 1)}).status_code == 200
    moved = west.client.get("/api/positions/live", headers={"If-None-Match": tag})
    assert moved.status_code == 200 and moved.headers["ETag"] != tag
    assert len(moved.get_json()["features"][0]["properties"]["trail"]) == 4
    # A patrol started (no new fix): a new answer naming it.
    tag = moved.headers["ETag"]
    patrol_id = worker.post("/api/tracks/patrols", json={}).get_json()["id"]
    started = west.client.get("/api/positions/live", headers={"If-None-Match": tag})
    assert started.status_code == 200 and started.get_json()["features"][0]["properties"]["patrol_id"] == patrol_id
    # The worker's last fix ageing out of the window changes the version, as it changes the layer.
    features, version = city.tracks.live_features(now=datetime.now(UTC), minutes=5, trail=10)
    assert version[1] == "1" and version[3] == "1"  # one person with a fix in the window, on one patrol
    assert [f["properties"]["patrol_id"] for f in json.loads(features)] == [patrol_id]
    later = city.tracks.live_features(now=datetime.now(UTC) + timedelta(minutes=5, seconds=30), minutes=5, trail=10)
    assert later == ("[]", ("", "0", "", "0"))
    # The patrol stopped: a new answer without it.
    tag = started.headers["ETag"]
    assert worker.post(f"/api/tracks/patrols/{patrol_id}/stop", json={}).status_code == 200
    stopped = west.client.get("/api/positions/live", headers={"If-None-Match": tag})
    assert stopped.status_code == 200 and stopped.get_json()["features"][0]["properties"]["patrol_id"] is None
