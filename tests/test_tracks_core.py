"""Patrol tracks without a store: the checks and filter of a batch, GPX 1.1 read safely, a day's measures against
a track computed by hand, and a plan against a route walked in part."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import box

from mapserver.errors import Problem
from mapserver.tracks.fixes import answer, batch_items, decode_batch, sort_batch
from mapserver.tracks.gpx import track_points
from mapserver.tracks.measures import day_measures, track_geometry
from mapserver.tracks.plan_actual import plan_against_track

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"
LON, LAT = 114.605, 33.605
A, E2 = 6378137.0, 0.00669437999014  # WGS-84


def meridian_arc_m(lat1: float, lat2: float) -> float:
    """Metres along a meridian between two latitudes, by the radius of curvature at their mean (hand formula)."""
    phi = math.radians((lat1 + lat2) / 2)
    m = A * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5
    return m * math.radians(abs(lat2 - lat1))


def at(seconds: float) -> str:
    return (NOW - timedelta(hours=1) + timedelta(seconds=seconds)).isoformat()


def sorted_batch(items, previous=None):
    return sort_batch(items, now=NOW, zone=ZONE, previous=lambda t: previous)


def test_a_batch_is_checked_fix_by_fix_and_filtered_by_accuracy_and_speed():
    raw = ('{"fixes": ['
           f'{{"lon": {LON}, "lat": {LAT}, "t": "{at(0)}", "accuracy": 5}},'          # 0 kept
           f'{{"lon": {LON}, "lat": {LAT + 0.0001}, "t": "{at(10)}", "accuracy": 80}},'  # 1 inaccurate
           f'{{"lon": {LON + 0.05}, "lat": {LAT}, "t": "{at(20)}", "accuracy": 5}},'  # 2 ~4.6 km in 20 s: speed
           f'{{"lon": NaN, "lat": {LAT}, "t": "{at(30)}"}},'                          # 3 NaN
           f'{{"lon": 200, "lat": {LAT}, "t": "{at(40)}"}},'                          # 4 out of range
           f'{{"lon": {LON}, "lat": {LAT}, "t": "{(NOW + timedelta(hours=2)).isoformat()}"}},'  # 5 future
           f'{{"lon": {LON}, "lat": {LAT}, "t": "yesterday"}},'                       # 6 bad time
           f'{{"lon": {LON}, "lat": {LAT + 0.0003}, "t": {int((NOW - timedelta(minutes=59)).timestamp() * 1000)}}},'
           f'{{"lon": {LON}, "lat": {LAT + 0.0004}, "t": "{at(60)}", "accuracy": -1}},'  # 8 negative accuracy
           f'{{"lon": {LON}, "lat": {LAT}, "t": "{at(0)}", "accuracy": 3}},'          # 9 same time as 0
           '"not a fix"'                                                              # 10
           ']}')
    items, _ = batch_items(decode_batch(raw.encode()))
    out = sorted_batch(items)
    assert [f.index for f in out.kept] == [0, 7]  # 7: epoch milliseconds, 33 m in 60 s
    assert out.dropped_inaccurate == [1] and out.dropped_speed == [2] and out.repeated == [9]
    reasons = {r["index"]: r["reason"] for r in out.refused}
    assert set(reasons) == {3, 4, 5, 6, 8, 10}
    assert "finite" in reasons[3] and "−180" in reasons[4] and "future" in reasons[5] and "ISO 8601" in reasons[6]
    counts = answer(len(items), out, stored=2)
    assert (counts["accepted"], counts["dropped_inaccurate"], counts["dropped_speed"], counts["refused"],
            counts["repeated"], counts["duplicates"]) == (2, 1, 1, 6, 1, 0)
    assert [d["index"] for d in counts["dropped"]] == [1, 2, 9]


def test_numbers_too_large_for_a_float_are_refused_not_raised():
    items = [{"lon": 10 ** 400, "lat": LAT, "t": at(0)}, {"lon": LON, "lat": LAT, "t": 10 ** 400},
             {"lon": LON, "lat": LAT, "t": at(0), "accuracy": 10 ** 400}]
    out = sorted_batch(items)
    assert [r["reason"] for r in out.refused] == ["lon is out of range", "t is out of range",
                                                  "accuracy is out of range"]


def test_the_speed_check_starts_from_the_last_stored_fix():
    items = [{"lon": LON + 0.02, "lat": LAT, "t": at(100), "accuracy": 5}]  # 1.86 km in 100 s: 67 km/h
    assert len(sorted_batch(items, previous=(NOW - timedelta(hours=1), LON, LAT)).kept) == 1
    far = [{"lon": LON + 0.05, "lat": LAT, "t": at(100), "accuracy": 5}]  # 4.6 km in 100 s: 167 km/h
    assert sorted_batch(far, previous=(NOW - timedelta(hours=1), LON, LAT)).dropped_speed == [0]


def test_a_batch_in_gcj02_is_stored_in_wgs84():
    items, crs = batch_items({"fixes": [{"lon": LON, "lat": LAT, "t": at(0)}], "crs": "gcj02"})
    fix = sort_batch(items, now=NOW, zone=ZONE, previous=lambda t: None, crs=crs).kept[0]
    assert 0.004 < abs(fix.lon - LON) + abs(fix.lat - LAT) < 0.01  # hundreds of metres of offset removed


@pytest.mark.parametrize(("body", "status"), [([], 400), ({"fixes": {}}, 400), ({"fixes": []}, 422),
                                              ({"fixes": [{}] * 10001}, 413), ({"fixes": [], "x": 1}, 400)])
def test_a_batch_of_another_shape_is_refused_whole(body, status):
    with pytest.raises(Problem) as caught:
        batch_items(body)
    assert caught.value.status == status


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="phone" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>walk</name><trkseg>
    <trkpt lat="33.605" lon="114.605"><time>2026-12-07T03:00:00Z</time></trkpt>
    <trkpt lat="33.6055" lon="114.605"><ele>50</ele><time>2026-12-07T03:00:30Z</time></trkpt>
    <trkpt lat="33.606" lon="114.605"></trkpt>
  </trkseg></trk>
</gpx>"""


def test_gpx_track_points_are_read_with_their_times():
    points = track_points(GPX.encode())
    assert points == [{"lon": "114.605", "lat": "33.605", "t": "2026-12-07T03:00:00Z"},
                      {"lon": "114.605", "lat": "33.6055", "t": "2026-12-07T03:00:30Z"},
                      {"lon": "114.605", "lat": "33.606", "t": None}]
    out = sorted_batch(points)
    assert len(out.kept) == 2 and out.refused == [{"index": 2, "reason": "t is missing"}]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&d;</name></trk></gpx>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE gpx SYSTEM "file:///etc/passwd">
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&x;</name></trk></gpx>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&x;</name></trk></gpx>"""


@pytest.mark.parametrize(("document", "says"), [
    (BILLION_LAUGHS, "document type"),
    (EXTERNAL, "document type"),
    (EXTERNAL_ENTITY, "document type"),
    ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>', "not GPX: its root element is <kml>"),
    ('<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0"><trk/></gpx>', "only GPX 1.1"),
    ('<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk>', "not well-formed"),
    ('<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="1" lon="2"/></gpx>', "no track points"),
])
def test_hostile_or_foreign_documents_are_refused_naming_the_problem(document, says):
    with pytest.raises(Problem) as caught:
        track_points(document.encode())
    assert caught.value.status == 422 and says in caught.value.detail


def test_a_days_measures_match_a_track_computed_by_hand():
    t0 = NOW - timedelta(hours=3)
    # North along a meridian: 0.0005° of latitude every 30 s for 20 stretches (about 55 m each, 1.85 m/s) ...
    walk = [(t0 + timedelta(seconds=30 * k), LON, LAT + 0.0005 * k) for k in range(21)]
    # ... then five minutes standing at the end (fixes a minute apart, not moving) ...
    end = walk[-1]
    stand = [(end[0] + timedelta(minutes=k), LON, end[2]) for k in range(1, 6)]
    # ... then a gap of 20 minutes, and 2 stretches north again.
    back = stand[-1][0] + timedelta(minutes=20)
    again = [(back + timedelta(seconds=30 * k), LON, end[2] + 0.0005 * k) for k in range(3)]
    fixes = walk + stand + again
    times, lon, lat = [f[0].timestamp() for f in fixes], [f[1] for f in fixes], [f[2] for f in fixes]
    # The grid holds the first half of the walk (up to 0.005° north of the start, exactly fix 10).
    grid = box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.005)
    measures = day_measures(times, lon, lat, grid)
    walked = meridian_arc_m(LAT, LAT + 0.01) + meridian_arc_m(LAT + 0.01, LAT + 0.011)
    assert measures.distance_m == pytest.approx(walked, rel=1e-6)
    assert measures.moving_s == 20 * 30 + 2 * 30  # standing and the gap count for nothing
    assert measures.inside_grid_s == 10 * 30  # stretches with both ends inside
    assert measures.fixes == 29 and measures.first_at == t0
    geometry = track_geometry(times, lon, lat)
    assert geometry["type"] == "MultiLineString" and [len(p) for p in geometry["coordinates"]] == [26, 3]


def _plan(route_east_m: float = 1000.0) -> dict:
    # A straight route east from (LON, LAT); stops at 0, 500 and 1000 m along it.
    deg_per_m = 1 / (math.radians(1) * A / math.sqrt(1 - E2 * math.sin(math.radians(LAT)) ** 2)
                     * math.cos(math.radians(LAT)))
    stops = [{"order": k + 1, "name": f"S{k + 1}", "lon": LON + d * deg_per_m, "lat": LAT}
             for k, d in enumerate((0.0, 500.0, 1000.0))]
    return {"start": {"lon": LON, "lat": LAT}, "stops": stops,
            "route": {"type": "Feature", "geometry": {"type": "LineString",
                                                      "coordinates": [[LON, LAT], [LON + route_east_m * deg_per_m,
                                                                                    LAT]]}},
            "deg_per_m": deg_per_m}


def test_a_route_walked_in_part_passes_the_stops_it_came_near_and_a_share_of_the_route():
    plan = _plan()
    north_20m = 20 / meridian_arc_m(0, 1) * 1  # degrees of latitude for 20 m
    t0 = NOW - timedelta(hours=2)
    # Walked 20 m north of the route, east from 0 to 600 m, 1 m/s, a fix every 10 s.
    times = [(t0 + timedelta(seconds=10 * k)).timestamp() for k in range(61)]
    lon = [LON + 10 * k * plan["deg_per_m"] for k in range(61)]
    lat = [LAT + north_20m] * 61
    result = plan_against_track(plan, times, lon, lat)
    assert [s["passed"] for s in result["stops"]] == [True, True, False]
    assert result["stops_passed"] == 2 and result["stops_planned"] == 3
    # Stop 2 (500 m) is first within 50 m where (500 − x)² + 20² = 50²: x = 500 − √2100 ≈ 454.17 m, at 454.17 s.
    first = datetime.fromisoformat(result["stops"][1]["first_at"])
    assert (first - t0).total_seconds() == pytest.approx(500 - math.sqrt(2100), abs=0.5)
    assert result["stops"][0]["first_at"] == t0.isoformat()
    assert result["stops"][2]["closest_m"] == pytest.approx(math.hypot(400, 20), abs=1)
    # Within 50 m of the track: route from 0 to 600 + √(50² − 20²) ≈ 645.8 m of 1000 m.
    assert result["route_length_m"] == pytest.approx(1000, abs=1)
    assert result["route_share"] == pytest.approx((600 + math.sqrt(2100)) / 1000, abs=0.01)


def test_nothing_walked_passes_nothing():
    result = plan_against_track(_plan(), [], [], [])
    assert result["stops_passed"] == 0 and result["route_share"] == 0.0
