"""Camera views as sectors and circles, and coverage of hot cells with known answers, on both backends."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyproj
import pytest
from shapely.geometry import Point

from mapserver.analysis.coverage import coverage, covered, views
from mapserver.analysis.hotspots import cell_hotspots
from mapserver.model import Camera
from mapserver.store.incidents import IncidentFilter
from tests.analysis_data import CLUSTER, STREET, incidents, study

GEOD = pyproj.Geod(ellps="WGS84")
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def offset(lon: float, lat: float, bearing: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, bearing, metres)
    return x, y


def camera(code: str, where: tuple[float, float], **kw) -> Camera:
    return Camera(code=code, name=code, geom=Point(*where), **kw)


def test_a_sector_faces_its_direction_and_a_circle_has_no_direction():
    east = camera("c1", CLUSTER, direction_deg=90.0, fov_deg=60.0, range_m=100.0)
    round_ = camera("c2", CLUSTER, range_m=50.0)
    sector, circle = views([east, round_])
    probes = {"80 m east": offset(*CLUSTER, 90, 80), "80 m at 115°": offset(*CLUSTER, 115, 80),
              "80 m at 125°": offset(*CLUSTER, 125, 80), "80 m north": offset(*CLUSTER, 0, 80),
              "120 m east": offset(*CLUSTER, 90, 120)}
    inside = {k: sector.contains(Point(p)) for k, p in probes.items()}
    assert inside == {"80 m east": True, "80 m at 115°": True, "80 m at 125°": False, "80 m north": False,
                      "120 m east": False}
    assert circle.contains(Point(offset(*CLUSTER, 200, 45))) and not circle.contains(Point(offset(*CLUSTER, 200, 55)))
    assert covered([offset(*CLUSTER, 90, 50), offset(*CLUSTER, 270, 90)], [sector, circle]).tolist() == [True, False]


def test_an_arc_lies_at_its_range_on_the_ellipsoid_for_cameras_far_apart():
    # Two cameras 3 km apart: the projection is centred between them, and each view is still true to a centimetre.
    west = camera("w", CLUSTER, direction_deg=45.0, fov_deg=90.0, range_m=150.0)
    east = camera("e", offset(*CLUSTER, 90, 3000), range_m=80.0)
    for cam, view in zip((west, east), views([west, east]), strict=True):
        ring = list(view.exterior.coords)
        far = [GEOD.inv(cam.geom.x, cam.geom.y, x, y)[2] for x, y in ring]
        arc = [d for d in far if d > 1.0]  # the sector's apex is the camera itself
        assert len(arc) > 8 and max(abs(d - cam.range_m) for d in arc) < 0.01, (cam.code, min(arc), max(arc))


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", incidents())
    return store


def test_coverage_of_hot_cells_by_online_cameras_only(loaded):
    loaded.layers.add("cameras", [
        camera("on", CLUSTER, range_m=300.0, status="online", last_seen=NOW - timedelta(minutes=1)),
        camera("off", CLUSTER, range_m=5000.0, status="offline"),
        camera("stale", CLUSTER, range_m=5000.0, status="online", last_seen=NOW - timedelta(days=2)),
    ])
    answer = coverage(loaded, study(loaded), where=IncidentFilter(), now=NOW, offline_after_s=300)
    hot = [c for c in cell_hotspots(loaded, study(loaded), where=IncidentFilter())["cells"]
           if c["class"].startswith("hot")]
    near = {c["id"] for c in hot if GEOD.inv(*CLUSTER, c["lon"], c["lat"])[2] < 299}
    far = {c["id"] for c in hot if GEOD.inv(*CLUSTER, c["lon"], c["lat"])[2] > 301}
    assert answer["basis"] == "hot" and answer["cameras_online"] == 1 and answer["cells"] == len(hot)
    assert near and far and answer["covered"] >= len(near) and answer["covered"] <= len(hot) - len(far)
    blind = [b["id"] for b in answer["blind_spots"]]
    assert far <= set(blind) and not near & set(blind)
    zs = [b["z"] for b in answer["blind_spots"]]
    assert zs == sorted(zs, reverse=True)
    assert math.isclose(answer["share"], answer["covered"] / answer["cells"], abs_tol=1e-6)


def test_without_hot_cells_the_top_cells_by_count_are_the_targets(store):
    store.layers.add("grids", [STREET])
    answer = coverage(store, study(store), where=IncidentFilter(), now=NOW, offline_after_s=300)
    assert answer["basis"] == "top" and answer["cells"] == 0 and answer["share"] is None


def test_coverage_api(client, tokens, loaded):
    answer = client.get("/api/coverage?res=9", headers=tokens["viewer"]).get_json()
    assert answer["cameras_online"] == 0 and answer["covered"] == 0 and len(answer["blind_spots"]) == answer["cells"]
    assert client.get("/api/coverage?res=3", headers=tokens["viewer"]).status_code == 400
