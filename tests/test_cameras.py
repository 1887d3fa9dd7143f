"""Camera heartbeats and online rates on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point

from mapserver.cameras import effective_status
from mapserver.errors import Problem
from mapserver.model import Camera
from tests import samples
from tests.test_api import assert_problem

NOW = datetime(2026, 11, 21, 8, tzinfo=UTC)


def cam(n: int, **changes) -> Camera:
    return replace(Camera(code=f"411602000013200{n:05d}", name=f"点位{n}", geom=Point(114.601 + n * 1e-4, 33.601),
                          status="online"), **changes)


@pytest.mark.parametrize("camera, status", [
    (cam(1), "online"),                                              # never heard from: as imported
    (cam(2, last_seen=NOW - timedelta(seconds=60)), "online"),
    (cam(3, last_seen=NOW - timedelta(seconds=301)), "offline"),    # heartbeat too old
    (cam(4, status="offline", last_seen=NOW), "offline"),
    (cam(5, status="fault", last_seen=NOW - timedelta(days=1)), "fault"),
])
def test_effective_status(camera, status):
    assert effective_status(camera, now=NOW, offline_after_s=300) == status


def test_heartbeats_bring_cameras_online_all_or_nothing(store):
    store.layers.add("cameras", [cam(1, status="offline"), cam(2, status="fault"), cam(3)])
    assert store.cameras.heartbeats([cam(1).code, cam(2).code, cam(1).code], at=NOW) == 2
    assert store.layers.get("cameras", cam(1).code).status == "online"
    assert store.layers.get("cameras", cam(1).code).last_seen == NOW
    assert store.layers.get("cameras", cam(2).code).status == "fault"  # a fault is cleared by hand, not by a heartbeat
    with pytest.raises(Problem) as caught:
        store.cameras.heartbeats([cam(3).code, "nope"], at=NOW + timedelta(seconds=5))
    assert caught.value.status == 404 and caught.value.errors == [{"code": "nope", "reason": "no such camera"}]
    assert store.layers.get("cameras", cam(3).code).last_seen is None


def test_status_filter_counts_stale_heartbeats_as_offline(store):
    store.layers.add("cameras", [cam(1), cam(2, last_seen=NOW - timedelta(hours=1)), cam(3, status="offline")])
    online, n_online = store.cameras.query(status="online", now=NOW, offline_after_s=300)
    offline, n_offline = store.cameras.query(status="offline", now=NOW, offline_after_s=300)
    assert [c.code for c in online] == [cam(1).code] and n_online == 1
    assert [c.code for c in offline] == [cam(2).code, cam(3).code] and n_offline == 2


def test_heartbeat_api_and_online_rate(client, store, tokens):
    samples.load_all(store)  # one online, one offline camera, both in the compound grid's street
    code = samples.CAMERAS[1].code
    resp = client.post(f"/api/cameras/{code}/heartbeat", headers=tokens["operator"])
    assert resp.status_code == 200 and resp.get_json()["properties"]["status"] == "online"
    rate = client.get("/api/cameras/online-rate?level=1", headers=tokens["viewer"]).get_json()
    assert rate["cameras"] == 2 and rate["level"] == 1
    assert rate["by_grid"][samples.STREET.code]["cameras"] == 2
    listing = client.get("/api/cameras?status=online", headers=tokens["viewer"]).get_json()
    assert listing["numberMatched"] == len(listing["features"])
    assert_problem(client.post("/api/cameras/nope/heartbeat", headers=tokens["operator"]), 404, "code")
    assert_problem(client.post("/api/cameras/heartbeats", json={"codes": "x"}, headers=tokens["operator"]), 400,
                   "codes")
    assert client.post("/api/cameras/heartbeats", json={"codes": [code]}, headers=tokens["operator"]).get_json() == \
        {"recorded": 1}
    assert client.post(f"/api/cameras/{code}/heartbeat", headers=tokens["viewer"]).status_code == 403
    assert_problem(client.get("/api/cameras?status=sleeping", headers=tokens["viewer"]), 400, "status")
