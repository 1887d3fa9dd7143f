"""What a street sees of hot cells, on both backends: the wall's hotspot, emerging-hotspot, blind-spot and risk
layers, /api/coverage, the weekly bulletin's blind spots and the grid topology check are the street's alone, and
the wall says what the API says to the same person.

The city: two streets side by side, each with a tight cluster of incidents (West's 330 m from the shared edge, so
that a Gi* over the whole district would light cells of East beside it) and a camera. East's camera stands just
across the edge and sees West's cluster: for the district those cells are watched, for West they are blind. All
incidents are reported in the current ISO week (Asia/Shanghai), within the last two days.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import h3
import numpy as np
import pytest
from shapely.geometry import Point, box

from mapserver.bulletin.render import BLIND_LISTED
from mapserver.bulletin.week import IsoWeek
from mapserver.model import Camera, Grid, Incident
from tests.scoped_city import bound_token

ZONE = "Asia/Shanghai"
WEST, EAST = "5101", "5102"
W1, W2, E1, E2 = "5101-1", "5101-2", "5102-1", "5102-2"  # each street's west and east community
WEST_BOX, EAST_BOX = (114.60, 33.60, 114.63, 33.63), (114.63, 33.60, 114.66, 33.63)
WEST_CLUSTER, EAST_CLUSTER = (114.6265, 33.615), (114.65, 33.622)
GRIDS = [Grid(code=WEST, level=1, name="西街道", geom=box(*WEST_BOX)),
         Grid(code=EAST, level=1, name="东街道", geom=box(*EAST_BOX)),
         Grid(code=W1, level=2, parent_code=WEST, name="西一社区", geom=box(114.600, 33.60, 114.615, 33.63)),
         Grid(code=W2, level=2, parent_code=WEST, name="西二社区", geom=box(114.615, 33.60, 114.630, 33.63)),
         Grid(code=E1, level=2, parent_code=EAST, name="东一社区", geom=box(114.630, 33.60, 114.645, 33.63)),
         Grid(code=E2, level=2, parent_code=EAST, name="东二社区", geom=box(114.645, 33.60, 114.660, 33.63))]
COMMUNITIES = [g for g in GRIDS if g.level == 2]


def this_week(now: datetime) -> IsoWeek:
    """The ISO week (local time) ``now`` falls in."""
    return IsoWeek(*now.astimezone(ZoneInfo(ZONE)).isocalendar()[:2], ZONE)


def _chain(lon: float, lat: float) -> tuple[str, str]:
    community = next(g for g in COMMUNITIES if g.geom.covers(Point(lon, lat)))
    return str(community.parent_code), community.code


def incidents(now: datetime) -> list[Incident]:
    """120 incidents spread over each street and 150 in each cluster (σ ≈ 110 m), in this week's last two days."""
    rng = np.random.default_rng(5)
    week_start = this_week(now).start
    lo, hi = max(week_start, now - timedelta(days=2)).timestamp(), (now - timedelta(seconds=1)).timestamp()
    points = []
    for west, south, east, north in (WEST_BOX, EAST_BOX):
        points += zip(rng.uniform(west + 1e-3, east - 1e-3, 120), rng.uniform(south + 1e-3, north - 1e-3, 120),
                      strict=True)
    for lon, lat in (WEST_CLUSTER, EAST_CLUSTER):
        points += zip(rng.normal(lon, 0.0012, 150), rng.normal(lat, 0.0012, 150), strict=True)
    out = []
    for n, (lon, lat) in enumerate(points):
        lon, lat = round(float(lon), 7), round(float(lat), 7)
        l1, l2 = _chain(lon, lat)
        reported = datetime.fromtimestamp(float(rng.uniform(lo, hi)), UTC).replace(microsecond=0)
        out.append(Incident(id=f"00000000-0000-4000-b000-{n:012d}", geom=Point(lon, lat), reported_at=reported,
                            category="public_security", grid_code=l2, grid_l1=l1, grid_l2=l2,
                            h3_cell=h3.latlng_to_cell(lat, lon, 9), due_at=reported + timedelta(days=5),
                            warn_at=reported + timedelta(days=4)))
    return out


def cameras(now: datetime) -> list[Camera]:
    """West's camera at its cluster (120 m), East's just across the edge seeing 600 m around, both online."""
    return [Camera(code="CAM-W", name="西口", geom=Point(*WEST_CLUSTER), range_m=120.0, status="online",
                   last_seen=now),
            Camera(code="CAM-E", name="东口", geom=Point(114.6305, 33.615), range_m=600.0, status="online",
                   last_seen=now)]


@pytest.fixture
def people(store):
    now = datetime.now(UTC).replace(microsecond=0)
    store.layers.add("grids", GRIDS)
    store.layers.add("incidents", incidents(now))
    store.layers.add("cameras", cameras(now))
    return {code: bound_token(store, "viewer", code).headers for code in (WEST, EAST, None)}


def get(client, headers, url: str) -> dict:
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def layer(client, headers, key: str) -> list[dict]:
    return get(client, headers, f"/api/screen/layers/{key}?window=30d")["features"]


def centre(cell: str) -> Point:
    lat, lon = h3.cell_to_latlng(cell)
    return Point(lon, lat)


def in_street(cells, code: str) -> bool:
    return all(box(*(WEST_BOX if code == WEST else EAST_BOX)).contains(centre(c)) for c in cells)


def hot_cells(answer: dict) -> dict[str, float]:
    """Cell → z of the hot cells (90 % or stricter) of a /api/hotspots answer."""
    return {c["id"]: c["z"] for c in answer["cells"] if c["class"].startswith("hot")}


# -- the wall ---------------------------------------------------------------------------------------------------

def test_the_hotspot_layer_shows_the_streets_own_hot_cells_as_the_api_does(client, people):
    for code in (WEST, EAST):
        shown = {f["id"]: f["properties"]["z"] for f in layer(client, people[code], "hotspots")}
        asked = hot_cells(get(client, people[code], "/api/hotspots?res=9"))
        assert shown and in_street(shown, code)
        assert shown == {cell: round(z, 2) for cell, z in asked.items()}
    district = {f["id"] for f in layer(client, people[None], "hotspots")}
    assert not in_street(district, WEST) and not in_street(district, EAST)  # the district's spans both


def test_the_risk_layer_colours_the_streets_own_grids_as_the_api_does(client, people):
    for code, own in ((WEST, {W1, W2}), (EAST, {E1, E2})):
        shown = {f["id"]: f["properties"] for f in layer(client, people[code], "risk")}
        asked = {f["id"]: f["properties"] for f in get(client, people[code], "/api/grids/risk?level=2")["features"]}
        assert set(shown) == set(asked) == own
        for grid, props in shown.items():
            assert {k: props[k] for k in ("risk", "incidents", "hot_cells", "overdue")} == \
                {k: asked[grid][k] for k in ("risk", "incidents", "hot_cells", "overdue")}
    assert {f["id"] for f in layer(client, people[None], "risk")} == {W1, W2, E1, E2}


def test_the_new_hotspot_layer_shows_the_streets_own_cells_as_the_trend_api_does(client, people):
    for code in (WEST, EAST):
        shown = {f["id"] for f in layer(client, people[code], "trend_new")}
        asked = get(client, people[code], "/api/hotspots/trend?res=9&period=week&periods=8&category=new&confidence=95")
        assert shown and in_street(shown, code)
        assert shown == {c["id"] for c in asked["cells"]}
    district = {f["id"] for f in layer(client, people[None], "trend_new")}
    assert not in_street(district, WEST) and not in_street(district, EAST)


def test_the_blind_spot_layer_shows_the_streets_unwatched_hot_cells_as_coverage_does(client, people):
    west = {f["id"]: f["properties"]["z"] for f in layer(client, people[WEST], "blindspots")}
    coverage = get(client, people[WEST], "/api/coverage?res=9")
    hot = hot_cells(get(client, people[WEST], "/api/hotspots?res=9"))
    assert coverage["basis"] == "hot" and west and in_street(west, WEST)
    assert west == {b["id"]: round(b["z"], 2) for b in coverage["blind_spots"]}
    assert west == {cell: round(hot[cell], 2) for cell in west}  # Gi* over West's own cells
    # East's camera sees West's cluster, but it is not West's: the district finds those cells watched.
    district = {f["id"] for f in layer(client, people[None], "blindspots")}
    assert set(west) - district


# -- /api/coverage ----------------------------------------------------------------------------------------------

def test_coverage_judges_the_streets_hot_cells_with_its_own_cameras(client, people):
    for code in (WEST, EAST):
        answer = get(client, people[code], "/api/coverage?res=9")
        hot = hot_cells(get(client, people[code], "/api/hotspots?res=9"))
        assert answer["basis"] == "hot" and answer["cells"] == len(hot) and answer["cameras_online"] == 1
        blind = {b["id"]: b["z"] for b in answer["blind_spots"]}
        assert blind and in_street(blind, code)
        assert blind == {cell: hot[cell] for cell in blind}  # the street's own Gi*, not the district's
    district = get(client, people[None], "/api/coverage?res=9")
    assert district["cameras_online"] == 2


# -- the weekly bulletin ----------------------------------------------------------------------------------------

def test_the_bulletins_blind_spots_are_the_streets(client, people):
    week = this_week(datetime.now(UTC))
    for code in (WEST, EAST, None):
        resp = client.get(f"/api/reports/weekly?week={week.label}", headers=people[code])
        assert resp.status_code == 200, resp.get_data(as_text=True)
        html = resp.get_data(as_text=True)
        online = int(re.search(r"在线视频 (\d+) 路", html).group(1))
        table = re.search(r'<table id="blind-spots">.*?</table>', html, re.S)
        listed = re.findall(r'data-code="([^"]+)"', table.group(0)) if table else []
        coverage = get(client, people[code], "/api/coverage?res=9")
        assert online == coverage["cameras_online"] == (2 if code is None else 1)
        assert listed == [b["id"] for b in coverage["blind_spots"][:BLIND_LISTED]]
        if code is not None:
            assert listed and in_street(listed, code)


# -- the grid topology check ------------------------------------------------------------------------------------

def test_the_grid_check_reads_the_streets_own_grids(client, store, people):
    # East's second community overlaps its first by 100 m: East's and the district's finding, not West's.
    store.layers.add("grids", [Grid(code="5102-3", level=2, parent_code=EAST, name="东三社区",
                                    geom=box(114.644, 33.60, 114.646, 33.63))])
    west = get(client, people[WEST], "/api/grids/check")
    east = get(client, people[EAST], "/api/grids/check")
    district = get(client, people[None], "/api/grids/check")
    assert west["clean"] is True and west["grids"] == 3 and west["levels"]["2"]["grids"] == 2
    assert east["clean"] is False and district["clean"] is False
    assert {(o["a"], o["b"]) for o in east["levels"]["2"]["overlaps"]} == \
        {(o["a"], o["b"]) for o in district["levels"]["2"]["overlaps"]} == {(E1, "5102-3"), (E2, "5102-3")}
    assert EAST not in str(west) and "5102" not in str(west)
