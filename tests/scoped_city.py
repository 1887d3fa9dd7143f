"""A small city of two streets for jurisdiction tests, near Chuanhui (WGS-84 degrees), and tokens bound to its grids.

Codes are deliberately not prefix-coded: community ``410199`` belongs to street ``4102`` although its code starts
with street ``4101``'s, so a rule reading codes as prefixes would hand street 4101 a community of street 4102.

==========  =====  ========  ===========================================  ==================================
code        level  parent    area (lon, lat box)                          holds
==========  =====  ========  ===========================================  ==================================
4101        1      —         114.60–114.64, 33.60–33.64 (street West)     —
7702        2      4101      114.60–114.62 (community A1)                 cameras C-A1-1, C-A1-2; place P-A1
5504        3      7702      114.60–114.61, 33.60–33.61 (compound)        staff; address AD-A1; incident I-A1
3303        2      4101      114.62–114.64 (community A2)                 cameras C-A2-1, C-A2-2; I-A2
4102        1      —         114.64–114.68, 33.60–33.64 (street East)     —
410199      2      4102      the whole of street 4102 (community B1)      camera C-B1-1; place P-B1; I-B1
==========  =====  ========  ===========================================  ==================================

Roads: R-A1 inside A1, R-A12 across A1 and A2 (both see it), R-B1 inside B1.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from shapely.geometry import LineString, Point, box

from mapserver.auth import hash_token, new_token
from mapserver.model import Address, Camera, Grid, GridStaff, Incident, Place, Road
from mapserver.store import Store

WEST, A1, COMPOUND, A2, EAST, B1 = "4101", "7702", "5504", "3303", "4102", "410199"
WEST_BOX = (114.60, 33.60, 114.64, 33.64)
EAST_BOX = (114.64, 33.60, 114.68, 33.64)
NOW = datetime.now(UTC).replace(microsecond=0)

GRIDS = [
    Grid(code=WEST, level=1, name="西街道", geom=box(*WEST_BOX)),
    Grid(code=A1, level=2, parent_code=WEST, name="甲一社区", geom=box(114.60, 33.60, 114.62, 33.64)),
    Grid(code=COMPOUND, level=3, parent_code=A1, name="甲一小区", geom=box(114.60, 33.60, 114.61, 33.61)),
    Grid(code=A2, level=2, parent_code=WEST, name="甲二社区", geom=box(114.62, 33.60, 114.64, 33.64)),
    Grid(code=EAST, level=1, name="东街道", geom=box(*EAST_BOX)),
    Grid(code=B1, level=2, parent_code=EAST, name="乙一社区", geom=box(*EAST_BOX)),
]
CAMERAS = [
    Camera(code="C-A1-1", name="甲一北门", geom=Point(114.605, 33.605), status="online", last_seen=NOW),
    Camera(code="C-A1-2", name="甲一南门", geom=Point(114.615, 33.635), status="online", last_seen=NOW),
    Camera(code="C-A2-1", name="甲二东门", geom=Point(114.625, 33.61), status="online", last_seen=NOW),
    Camera(code="C-A2-2", name="甲二西门", geom=Point(114.635, 33.62), status="offline"),
    Camera(code="C-B1-1", name="乙一路口", geom=Point(114.66, 33.62), status="online", last_seen=NOW),
]
PLACES = [Place(code="P-A1", name="甲一小学", kind="school", geom=box(114.603, 33.603, 114.606, 33.606)),
          Place(code="P-B1", name="乙一医院", kind="hospital", geom=Point(114.67, 33.63))]
ADDRESSES = [Address(code="AD-A1", text="甲一小区1号楼", geom=Point(114.604, 33.604)),
             Address(code="AD-B1", text="乙一路2号", geom=Point(114.65, 33.61))]
ROADS = [Road(code="R-A1", name="甲一路", road_class="residential",
              geom=LineString([(114.601, 33.62), (114.61, 33.62)])),
         Road(code="R-A12", name="甲字大街", road_class="primary",
              geom=LineString([(114.605, 33.625), (114.635, 33.625)])),
         Road(code="R-B1", name="乙一路", road_class="secondary", geom=LineString([(114.65, 33.61), (114.67, 33.61)]))]
STAFF = [GridStaff(grid_code=COMPOUND, role="grid_worker", name="赵一"),
         GridStaff(grid_code=A2, role="grid_worker", name="钱二"),
         GridStaff(grid_code=B1, role="grid_worker", name="孙三")]


def _incident(n: int, point: Point, chain: tuple[str | None, ...]) -> Incident:
    return Incident(id=f"00000000-0000-4000-8000-{n:012d}", geom=point, reported_at=NOW - timedelta(hours=n),
                    category="disputes", severity="general", grid_code=next(c for c in reversed(chain) if c),
                    grid_l1=chain[0], grid_l2=chain[1], grid_l3=chain[2], due_at=NOW + timedelta(days=3),
                    warn_at=NOW + timedelta(days=2))


INCIDENTS = [_incident(1, Point(114.605, 33.606), (WEST, A1, COMPOUND)),
             _incident(2, Point(114.63, 33.62), (WEST, A2, None)),
             _incident(3, Point(114.66, 33.62), (EAST, B1, None))]
IN_A1 = {"cameras": {"C-A1-1", "C-A1-2"}, "places": {"P-A1"}, "addresses": {"AD-A1"}, "roads": {"R-A1", "R-A12"},
         "grids": {A1, COMPOUND}, "incidents": {INCIDENTS[0].id}}
IN_A2 = {"cameras": {"C-A2-1", "C-A2-2"}, "places": set(), "addresses": set(), "roads": {"R-A12"}, "grids": {A2},
         "incidents": {INCIDENTS[1].id}}
IN_EAST = {"cameras": {"C-B1-1"}, "places": {"P-B1"}, "addresses": {"AD-B1"}, "roads": {"R-B1"},
           "grids": {EAST, B1}, "incidents": {INCIDENTS[2].id}}

LAYERS = {"grids": GRIDS, "grid_staff": STAFF, "cameras": CAMERAS, "places": PLACES, "addresses": ADDRESSES,
          "roads": ROADS, "incidents": INCIDENTS}


def load(store: Store) -> None:
    """Write the city into ``store``; the online cameras were last seen now (not at import: a long test run would
    find them offline)."""
    seen = datetime.now(UTC).replace(microsecond=0)
    for layer, records in LAYERS.items():
        if layer == "cameras":
            records = [replace(c, last_seen=seen) if c.last_seen is not None else c for c in records]
        store.layers.add(layer, records)


@dataclass(frozen=True)
class Bound:
    """A token bound to a grid: its name and the Authorization header that presents it."""

    name: str
    headers: dict[str, str]


def bound_token(store: Store, role: str, grid_code: str | None) -> Bound:
    """A fresh token of ``role`` bound to ``grid_code`` (None: the whole store)."""
    secret = new_token()
    name = f"{role}-{grid_code or 'all'}-{uuid.uuid4().hex[:6]}"
    store.tokens.add(name=name, role=role, token_hash=hash_token(secret), grid_code=grid_code)
    return Bound(name=name, headers={"Authorization": f"Bearer {secret}"})
