"""Planning against a real store (SQLite and PostGIS): stops and their reasons, the budget kept on the real
paths, routes along the roads, night weights, disconnected pieces, and every bad request as a problem."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from shapely.geometry import LineString, Point

from mapserver.derived import DerivedData
from mapserver.errors import Problem
from mapserver.model import Road
from mapserver.patrol.networks import LAYER_NETWORK, road_network
from mapserver.patrol.planner import PlanContext, plan_patrol
from mapserver.patrol.request import parse_plan_request
from mapserver.patrol.settings import PatrolSettings
from tests.patrol_data import CLUSTER, LOOP_CENTRE, OVERDUE_AT, SEEN_CLUSTER, T0, load_city, roads

ZONE = "Asia/Shanghai"


def plan(store, body: dict[str, Any], *, derived: DerivedData | None = None, **settings: Any) -> dict[str, Any]:
    """The plan for ``body``, on what ``derived`` keeps (default: nothing kept, as in a new process)."""
    patrol = PatrolSettings(**settings)
    request = parse_plan_request(body, zone=ZONE, now=T0, hotspot_days=patrol.hotspot_days)
    return plan_patrol(derived or DerivedData(store), request,
                       PlanContext(settings=patrol, timezone=ZONE, offline_after_s=300, now=T0))


def problem(store, body: dict[str, Any], **settings: Any) -> Problem:
    with pytest.raises(Problem) as caught:
        plan(store, body, **settings)
    return caught.value


def on_roads(coords: list[list[float]]) -> float:
    """The farthest any route vertex lies from a road, in degrees."""
    lines = shapely.STRtree([r.geom for r in roads()])
    points = shapely.points(coords)
    nearest = lines.query_nearest(points, return_distance=True)[1]
    return float(max(nearest))


def test_a_liaison_plan_is_a_closed_route_within_budget_through_the_hot_blind_spots(store):
    load_city(store)
    body = {"area": {"liaison": "李警官"}, "start": {"place": "P-POST"}, "budget_min": 90}
    found = plan(store, body)
    assert found["liaison"] == "李警官" and found["grids"] == ["411602001001000"] and found["unit"] == "西关派出所"
    assert 0 < found["duration_min"] <= 90 and found["length_m"] > 0
    coords = found["route"]["geometry"]["coordinates"]
    assert coords[0] == coords[-1] == found["start"]["road_point"]
    assert on_roads(coords) < 1e-6
    assert LineString(coords).length > 0
    stops = found["stops"]
    assert stops and [s["order"] for s in stops] == list(range(1, len(stops) + 1))
    arrivals = [s["arrival_min"] for s in stops]
    assert arrivals == sorted(arrivals) and arrivals[-1] < found["duration_min"]
    hot = [r for s in stops for r in s["reasons"] if r["kind"] == "hot_cell"]
    assert hot and all(r["blind_spot"] and r["z"] > 1.6 for r in hot)  # the west cluster has no camera
    nearest_hot = min(Point(s["lon"], s["lat"]).distance(Point(CLUSTER)) for s in stops)
    assert nearest_hot < 0.003
    assert 0 < found["hotspot"]["share"] <= 1
    assert found["hotspot"]["collected"] <= found["hotspot"]["total"]
    # Walking the route at the configured speed, with the dwell at each stop, takes what the plan says.
    speed = PatrolSettings().speed_mps("foot")
    walked = found["length_m"] / speed / 60 + len(stops) * PatrolSettings().dwell_min
    assert walked == pytest.approx(found["duration_min"], rel=1e-3)
    assert found["solver"]["weight"] >= found["solver"]["greedy_weight"]


def test_a_camera_makes_a_hot_cell_weigh_less_and_the_budget_is_never_broken(store):
    load_city(store)
    found = plan(store, {"area": {"grids": ["411602001002000"]}, "start": {"lon": 114.645, "lat": 33.63},
                         "budget_min": 240, "mode": "bike"})
    reasons = [r for s in found["stops"] for r in s["reasons"]]
    seen = [r for r in reasons if r["kind"] == "hot_cell" and not r["blind_spot"]]
    assert seen, "the camera at the east cluster sees its hottest cell"
    assert all(r["weight"] == pytest.approx(r["z"] * 1.0, rel=1e-3) for r in seen)
    blind = [r for r in reasons if r["kind"] == "hot_cell" and r["blind_spot"]]
    assert all(r["weight"] == pytest.approx(r["z"] * 3.0, rel=1e-3) for r in blind)
    overdue = [r for r in reasons if r["kind"] == "overdue_incident"]
    assert len(overdue) == 3 and all(r["overdue_h"] == pytest.approx(240.0) for r in overdue)
    assert {r["place"] for r in reasons if r["kind"] == "key_place"} >= {"P-HOSPITAL"}
    assert found["duration_min"] <= 240
    for budget in (20, 45):
        short = plan(store, {"area": {"grids": ["411602001002000"]}, "start": {"lon": OVERDUE_AT[0], "lat": 33.611},
                             "budget_min": budget})
        assert short["duration_min"] <= budget and short["stops"]


def test_night_windows_weigh_night_time_hot_cells_more(store):
    load_city(store)
    body = {"area": {"liaison": "李警官"}, "start": {"lon": CLUSTER[0], "lat": CLUSTER[1]}, "budget_min": 60}
    day, night = plan(store, body), plan(store, {**body, "window": "night"})

    def weights(found: dict[str, Any]) -> dict[str, float]:
        return {r["cell"]: r["weight"] for s in found["stops"] for r in s["reasons"] if r["kind"] == "hot_cell"}

    common = set(weights(day)) & set(weights(night))
    assert common
    # 80 % of the west cluster came at 22:00 local time: its cells weigh up to night_factor (2) times more.
    ratios = [weights(night)[c] / weights(day)[c] for c in common]
    assert all(1.0 <= r <= 2.0 for r in ratios) and max(ratios) > 1.5


def test_stops_off_the_start_piece_are_dropped_with_a_reason(store):
    load_city(store)
    found = plan(store, {"area": {"liaison": "王警官"}, "start": {"lon": 114.645, "lat": 33.63}, "budget_min": 120},
                 snap_m=60)
    dropped = {d["ref"]: d["reason"] for d in found["dropped"]}
    assert "not connected" in dropped["place:P-LOOP"]
    assert found["network"]["pieces"] >= 2 and found["network"]["junctions_off_start_piece"] >= 4
    assert "place:P-LOOP" not in {s["ref"] for s in found["stops"]}
    # Started on the detached loop, the patrol can only walk the loop: everything else is dropped, and says why.
    island = plan(store, {"area": {"liaison": "王警官"}, "start": {"lon": LOOP_CENTRE[0], "lat": LOOP_CENTRE[1]},
                          "budget_min": 60}, snap_m=60)
    assert [s["ref"] for s in island["stops"]] == ["place:P-LOOP"]
    assert island["network"]["start_piece_junctions"] == 4
    reasons = [d["reason"] for d in island["dropped"]]
    assert sum("not connected" in r for r in reasons) >= 3
    assert all("not connected" in r or "from any road" in r for r in reasons)


def test_must_visit_stops_are_on_the_route(store):
    load_city(store)
    far_corner = {"lon": 114.6405, "lat": 33.6555, "name": "检查点"}
    found = plan(store, {"area": {"liaison": "王警官"}, "start": {"lon": 114.645, "lat": 33.63}, "budget_min": 120,
                         "must_visit": [far_corner]})
    assert any(s["ref"] == "requested:1" and s["name"] == "检查点" for s in found["stops"])
    assert found["duration_min"] <= 120
    refused = problem(store, {"area": {"liaison": "王警官"}, "start": {"lon": 114.645, "lat": 33.63},
                              "budget_min": 5, "must_visit": [far_corner]})
    assert refused.status == 422 and refused.param in ("must_visit", "budget_min")


def test_bad_requests_are_problems_that_say_why(store):
    load_city(store)
    start = {"lon": 114.645, "lat": 33.63}
    unknown = problem(store, {"area": {"liaison": "无名氏"}, "start": start, "budget_min": 60})
    assert (unknown.status, unknown.param) == (404, "area.liaison")
    twice = problem(store, {"area": {"liaison": "张伟"}, "start": start, "budget_min": 60})
    assert twice.status == 422 and "2 police liaisons" in twice.detail
    grid = problem(store, {"area": {"grids": ["411602001002000", "999"]}, "start": start, "budget_min": 60})
    assert grid.status == 404 and "999" in grid.detail
    empty = problem(store, {"area": {"grids": []}, "start": start, "budget_min": 60})
    assert empty.status == 422
    roadless = problem(store, {"area": {"grids": ["411602002000000"]}, "start": start, "budget_min": 60})
    assert roadless.status == 422 and "no roads" in roadless.detail
    off = problem(store, {"area": {"liaison": "王警官"}, "start": {"lon": 114.645, "lat": 33.70}, "budget_min": 60})
    assert off.status == 422 and off.param == "start" and "snap distance" in off.detail
    tiny = problem(store, {"area": {"liaison": "王警官"}, "start": {"lon": SEEN_CLUSTER[0] + 0.012, "lat": 33.6015},
                           "budget_min": 1})
    assert tiny.status == 422 and tiny.param == "budget_min" and "too small to leave the start" in tiny.detail
    place = problem(store, {"area": {"liaison": "王警官"}, "start": {"place": "P-NONE"}, "budget_min": 60})
    assert place.status == 404 and place.param == "start.place"


@pytest.mark.parametrize(("body", "param"), [
    ({"start": {"lon": 1, "lat": 2}, "budget_min": 5}, "area"),
    ({"area": {"grids": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": 5}, "area"),
    ({"area": {"liaison": "x"}, "start": {"lon": "1", "lat": 2}, "budget_min": 5}, "start.lon"),
    ({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2, "crs": "moon"}, "budget_min": 5}, "crs"),
    ({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": True}, "budget_min"),
    ({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": 5, "mode": "boat"}, "mode"),
    ({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": 5, "since": "yesterday"}, "since"),
    ({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": 5, "colour": "red"}, "colour"),
    ({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": 5, "since": "2026-10-02",
      "until": "2026-10-01"}, "since"),
])
def test_malformed_requests_are_400_naming_the_field(body, param):
    with pytest.raises(Problem) as caught:
        parse_plan_request(body, zone=ZONE, now=T0, hotspot_days=90)
    assert caught.value.status == 400 and param in (caught.value.param or "")


def test_a_budget_of_no_minutes_is_422():
    with pytest.raises(Problem) as caught:
        parse_plan_request({"area": {"liaison": "x"}, "start": {"lon": 1, "lat": 2}, "budget_min": 0}, zone=ZONE,
                           now=T0, hotspot_days=90)
    assert caught.value.status == 422 and caught.value.param == "budget_min"


def test_start_points_in_gcj02_are_converted(store):
    from mapserver.geo import from_wgs84

    load_city(store)
    lon, lat = (float(v) for v in from_wgs84(114.645, 33.63, "gcj02"))
    found = plan(store, {"area": {"liaison": "王警官"}, "start": {"lon": lon, "lat": lat, "crs": "gcj02"},
                         "budget_min": 60})
    assert found["start"]["lon"] == pytest.approx(114.645, abs=1e-6)
    assert found["start"]["lat"] == pytest.approx(33.63, abs=1e-6)


def test_the_road_layer_is_read_once_and_again_when_the_roads_change(store):
    load_city(store)
    derived = DerivedData(store)
    layer = derived.get(LAYER_NETWORK)
    assert layer.road_count == store.layers.count("roads") and layer.codes.tolist() == [r.code for r in roads()]
    assert [g.equals_exact(r.geom, 0) for g, r in zip(layer.geoms, store.layers.query("roads"), strict=True)] \
        == [True] * layer.road_count
    found = plan(store, {"area": {"liaison": "李警官"}, "start": {"place": "P-POST"}, "budget_min": 30},
                 derived=derived)
    assert derived.get(LAYER_NETWORK) is layer and found["network"]["roads"] < layer.road_count
    part = road_network(derived, (114.60, 33.60, 114.62, 33.62))
    assert road_network(derived, (114.60, 33.60, 114.62, 33.62)) is part and part.frame == layer.frame
    store.layers.add("roads", [Road(code="NEW1", name="新路", road_class="residential",
                             geom=LineString([(114.601, 33.6005), (114.6015, 33.6005)]))])
    renewed = derived.get(LAYER_NETWORK)
    assert renewed is not layer and renewed.road_count == layer.road_count + 1
    assert road_network(derived, (114.60, 33.60, 114.62, 33.62)).road_count == part.road_count + 1
