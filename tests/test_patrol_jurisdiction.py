"""A patrol planned by someone bound to a grid is planned from that grid's own hot cells, blind spots, key places and
overdue incidents, on both backends (the city of tests/patrol_data.py, its incidents filed under the community
they lie in).

East's incidents cluster 170 m beyond the edge with West, so a Gi* over the whole district finds West's cells
beside them hot; East's camera stands 20 m beyond the edge and sees much of West's own cluster, so for the
district those cells are watched. For West's liaison, neither: its hot cells are those /api/hotspots gives West,
and none of its cameras sees them. One overdue incident near West's start is filed under East (as when a border
moved after it was filed): East's to handle, so never a stop of West's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import numpy as np
import pytest
from shapely.geometry import Point

from mapserver.model import Camera, Incident
from mapserver.patrol.settings import PatrolSettings
from tests.patrol_data import EAST, PLACES, STAFF, STREET, T0, WEST, roads
from tests.scoped_city import bound_token

WINDOW = {"since": "2026-09-01", "until": "2026-11-01"}
BODY = {"area": {"liaison": "李警官"}, "start": {"lon": 114.624, "lat": 33.622}, "budget_min": 60, **WINDOW}
WEST_CLUSTER, EAST_CLUSTER = (114.6255, 33.625), (114.6318, 33.650)
EDGE_LON = 114.63  # West lies west of it, East east
MISFILED = (114.6245, 33.6205)  # in West, filed under East


def incidents() -> list[Incident]:
    """300 over the street, 200 in each cluster (σ ≈ 75 m) over the 30 days before T0, and two overdue open
    incidents on each side; each filed under the street and the community it lies in, but the last (overdue, at
    MISFILED) under East."""
    rng = np.random.default_rng(3)
    points = [*zip(rng.uniform(114.601, 114.659, 300), rng.uniform(33.601, 33.659, 300), strict=True)]
    for lon, lat in (WEST_CLUSTER, EAST_CLUSTER):
        points += zip(rng.normal(lon, 0.0008, 200), rng.normal(lat, 0.0008, 200), strict=True)
    out = []
    overdue_at = [(114.6232, 33.6207), (114.6222, 33.6195), (114.64, 33.61), (114.641, 33.611), MISFILED]
    for n, (lon, lat) in enumerate([*points, *overdue_at]):
        lon, lat = round(float(lon), 7), round(float(lat), 7)
        overdue = n >= len(points)
        reported = T0 - timedelta(days=20) if overdue else T0 - timedelta(minutes=int(rng.integers(1, 30 * 24 * 60)))
        community = WEST if lon < EDGE_LON and (lon, lat) != MISFILED else EAST
        out.append(Incident(id=f"00000000-0000-4000-c000-{n:012d}", geom=Point(lon, lat), reported_at=reported,
                            category="public_security", status="reported" if overdue else "closed",
                            grid_code=community.code, grid_l1=STREET.code, grid_l2=community.code,
                            h3_cell=h3.latlng_to_cell(lat, lon, 9),
                            due_at=T0 - timedelta(days=10) if overdue else None,
                            warn_at=T0 - timedelta(days=12) if overdue else None))
    return out


@pytest.fixture
def city(store):
    store.layers.add("grids", [STREET, WEST, EAST])
    store.layers.add("grid_staff", [s for s in STAFF if s.grid_code in (WEST.code, EAST.code)])
    store.layers.add("roads", roads())
    store.layers.add("places", [p for p in PLACES if p.code != "P-FAR"])
    store.layers.add("incidents", incidents())
    store.layers.add("cameras", [Camera(code="CAM-E", name="东口", geom=Point(114.6302, 33.625), range_m=500.0,
                                        status="online", last_seen=datetime.now(UTC))])
    return store


def plan(client, headers) -> dict:
    resp = client.post("/api/patrols/plan", json=BODY, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def reasons(planned: dict, kind: str) -> list[dict]:
    return [r for stop in planned["stops"] for r in stop["reasons"] if r["kind"] == kind]


def test_a_liaison_bound_to_a_community_plans_from_its_own_hot_cells_and_cameras(client, city):
    west, district = (bound_token(city, "liaison", code).headers for code in (WEST.code, None))
    own = plan(client, west)
    query = f"/api/hotspots?res=9&significant=true&since={WINDOW['since']}&until={WINDOW['until']}"
    hot = {c["id"]: c["z"] for c in client.get(query, headers=west).get_json()["cells"] if c["class"].startswith("hot")}
    assert hot and all(WEST.geom.contains(Point(h3.cell_to_latlng(c)[::-1])) for c in hot)
    # Every one of West's hot cells is on offer, blind (West has no camera), and nothing else.
    blind_weight = PatrolSettings().weights.blind_spot
    assert own["hotspot"]["total"] == pytest.approx(blind_weight * sum(hot.values()), abs=1e-3)
    cells = reasons(own, "hot_cell")
    assert cells and all(r["cell"] in hot and r["blind_spot"] for r in cells)
    assert all(r["z"] == pytest.approx(hot[r["cell"]], abs=1e-3) for r in cells)
    # The district's liaison, planning the same area, weighs it by the district's cells and cameras.
    whole = plan(client, district)
    assert whole["hotspot"]["total"] != pytest.approx(own["hotspot"]["total"], abs=1e-3)
    assert {r["cell"] for r in reasons(whole, "hot_cell")} - set(hot) or \
        not all(r["blind_spot"] for r in reasons(whole, "hot_cell"))


def test_its_overdue_incidents_and_places_are_its_own(client, city):
    west = bound_token(city, "liaison", WEST.code).headers
    own = plan(client, west)
    overdue = {r["incident"] for r in reasons(own, "overdue_incident")}
    west_overdue = {i.id for i in incidents() if i.status == "reported" and i.grid_l2 == WEST.code}
    assert overdue and overdue <= west_overdue
    misfiled = incidents()[-1].id
    assert client.get(f"/api/incidents/{misfiled}", headers=west).status_code == 404  # not West's to read either
    places = {r["place"] for r in reasons(own, "key_place")}
    assert places <= {"P-SCHOOL", "P-POST"}
