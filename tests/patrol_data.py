"""A small city for the patrol tests: one street grid split into two communities with their police liaisons,
a street lattice of 200 m blocks (some one-way) plus a detached loop, a planted incident cluster, overdue open
incidents, key places and a camera. WGS-84 throughout; T0 is the instant the plans are made at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import numpy as np
from shapely.geometry import LineString, Point, box

from mapserver.gridindex.metric import metres_per_degree
from mapserver.model import Camera, Grid, GridStaff, Incident, Place, Road
from mapserver.patrol.lattice import street_lattice

T0 = datetime(2026, 10, 31, 12, tzinfo=UTC)
STREET = Grid(code="411602001000000", level=1, name="陈州回族街道", geom=box(114.60, 33.60, 114.66, 33.66))
WEST = Grid(code="411602001001000", level=2, name="西社区", geom=box(114.60, 33.60, 114.63, 33.66),
            parent_code=STREET.code)
EAST = Grid(code="411602001002000", level=2, name="东社区", geom=box(114.63, 33.60, 114.66, 33.66),
            parent_code=STREET.code)
FAR = Grid(code="411602002000000", level=1, name="无路街道", geom=box(114.80, 33.80, 114.81, 33.81))
CLUSTER = (114.615, 33.625)  # the planted hot spot, in the west community
SEEN_CLUSTER = (114.645, 33.645)  # a second hot spot, in the east community, watched by a camera
_MX, _MY = metres_per_degree(33.60)
# A detached loop of roads in the middle of one block of the east community: 100 m from the lattice streets.
LOOP_CENTRE = (114.60 + 25.5 * 200 / _MX, 33.60 + 1.5 * 200 / _MY)
OVERDUE_AT = (114.645, 33.61)

STAFF = [
    GridStaff(grid_code=WEST.code, role="police_liaison", name="李警官", phone="13900000001", unit="西关派出所"),
    GridStaff(grid_code=EAST.code, role="police_liaison", name="王警官", phone="13900000002", unit="东关派出所"),
    GridStaff(grid_code=WEST.code, role="grid_worker", name="赵网格", phone="13900000003"),
    GridStaff(grid_code=EAST.code, role="police_liaison", name="张伟", phone="13900000004", unit="东关派出所"),
    GridStaff(grid_code=FAR.code, role="police_liaison", name="张伟", phone="13900000005", unit="北关派出所"),
]
PLACES = [
    Place(code="P-SCHOOL", name="西关小学", kind="school", geom=Point(114.607, 33.641)),
    Place(code="P-HOSPITAL", name="东区医院", kind="hospital", geom=Point(114.652, 33.652)),
    Place(code="P-POST", name="西关警务室", kind="station", geom=Point(114.6101, 33.6101)),
    Place(code="P-LOOP", name="孤岛市场", kind="market", geom=Point(*LOOP_CENTRE)),
    Place(code="P-FAR", name="远郊站", kind="station", geom=Point(114.805, 33.805)),
]
# The camera stands at the centre of the H3 cell (res 9) holding the east cluster's centre, so it sees that cell.
_SEEN_CELL = h3.latlng_to_cell(SEEN_CLUSTER[1], SEEN_CLUSTER[0], 9)
CAMERA = Camera(code="C001", name="东区路口", geom=Point(h3.cell_to_latlng(_SEEN_CELL)[::-1]), range_m=120.0,
                status="online", last_seen=T0)


def roads() -> list[Road]:
    """The lattice over the street grid (27 × 33 blocks of about 200 m; every 4th street one-way) and a loop."""
    lattice = street_lattice(west=114.60, south=33.60, blocks_x=27, blocks_y=33, block_m=200.0, oneway_every=4)
    x, y = LOOP_CENTRE
    d = 0.0004  # about 37 m east–west, 44 m north–south: inside its block, touching no lattice street
    corners = [(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)]
    loop = [Road(code=f"LOOP{k}", name="孤岛环路", road_class="residential",
                 geom=LineString([corners[k], corners[(k + 1) % 4]])) for k in range(4)]
    return [*lattice, *loop]


def incidents(seed: int = 11) -> list[Incident]:
    """A background over the street, two tight clusters (σ ≈ 120 m) over 30 days before T0, most of the west
    cluster at night; and three open incidents long past their deadline near OVERDUE_AT."""
    rng = np.random.default_rng(seed)
    out: list[Incident] = []

    def add(lon: float, lat: float, at: datetime, **extra: object) -> None:
        out.append(Incident(id=f"00000000-0000-4000-9000-{len(out):012d}", geom=Point(round(lon, 7), round(lat, 7)),
                            reported_at=at, category="public_security",
                            status=str(extra.pop("status", "closed")),
                            h3_cell=h3.latlng_to_cell(lat, lon, 9), **extra))

    for _ in range(400):
        add(rng.uniform(114.601, 114.659), rng.uniform(33.601, 33.659),
            T0 - timedelta(minutes=int(rng.integers(1, 30 * 24 * 60))))
    for k in range(250):
        night_hour = 22 if k % 5 else 10  # 80 % at 22:00 Beijing time (14:00 UTC), the rest in the morning
        day = T0.replace(hour=0, minute=0) - timedelta(days=int(rng.integers(1, 29)))
        add(rng.normal(CLUSTER[0], 0.0012), rng.normal(CLUSTER[1], 0.0012), day + timedelta(hours=night_hour - 8))
    for _ in range(250):
        add(rng.normal(SEEN_CLUSTER[0], 0.0012), rng.normal(SEEN_CLUSTER[1], 0.0012),
            T0 - timedelta(minutes=int(rng.integers(1, 30 * 24 * 60))))
    for k in range(3):
        add(OVERDUE_AT[0] + 0.002 * k, OVERDUE_AT[1], T0 - timedelta(days=20), status="reported",
            due_at=T0 - timedelta(days=10), warn_at=T0 - timedelta(days=12), address=f"东区{k + 1}号")
    return out


def load_city(store) -> None:
    """Write the whole city into an empty store."""
    store.layers.add("grids", [STREET, WEST, EAST, FAR])
    store.layers.add("grid_staff", STAFF)
    store.layers.add("roads", roads())
    store.layers.add("places", PLACES)
    store.layers.add("cameras", [CAMERA])
    store.layers.add("incidents", incidents())
