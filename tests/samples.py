"""Small hand-made records of every layer, near Chuanhui (lon ≈ 114.65, lat ≈ 33.62, WGS-84)."""

from __future__ import annotations

from datetime import UTC, datetime

from shapely.geometry import LineString, MultiPolygon, Point, box

from mapserver.model import Address, Camera, Grid, GridStaff, Incident, Place, Road

STREET = Grid(code="411602001000000", level=1, name="陈州回族街道", geom=box(114.60, 33.60, 114.70, 33.70),
              households=12000, population=36000)
COMMUNITY = Grid(code="411602001001000", level=2, parent_code=STREET.code, name="北关社区",
                 geom=box(114.60, 33.60, 114.65, 33.65), households=2400, population=7200)
COMPOUND = Grid(code="411602001001001", level=3, parent_code=COMMUNITY.code, name="人和小区",
                geom=MultiPolygon([box(114.60, 33.60, 114.62, 33.62), box(114.63, 33.60, 114.64, 33.61)]),
                households=420, population=1260)
SCHOOL = Grid(code="411602001001901", level=3, parent_code=COMMUNITY.code, name="周口市第一初级中学",
              kind="special", subtype="school", geom=box(114.61, 33.61, 114.615, 33.615))

GRIDS = [STREET, COMMUNITY, COMPOUND, SCHOOL]
STAFF = [
    GridStaff(grid_code=COMPOUND.code, role="grid_leader", name="张伟", phone="13800000001", unit="北关社区"),
    GridStaff(grid_code=COMPOUND.code, role="grid_worker", name="李娜", phone="13800000002"),
    GridStaff(grid_code=COMPOUND.code, role="police_liaison", name="王强", phone="13800000003", unit="七一路派出所"),
]
CAMERAS = [
    Camera(code="41160200001320000001", name="七一路与八一路口", geom=Point(114.61, 33.61), direction_deg=90.0,
           fov_deg=60.0, range_m=80.0, status="online", last_seen=datetime(2026, 11, 20, 8, tzinfo=UTC)),
    Camera(code="41160200001320000002", name="人和小区东门", geom=Point(114.63, 33.605), status="offline"),
]
PLACES = [Place(code="P001", name="周口市第一初级中学", kind="school", geom=box(114.61, 33.61, 114.615, 33.615)),
          Place(code="P002", name="川汇区人民医院", kind="hospital", geom=Point(114.66, 33.66))]
ADDRESSES = [Address(code="A001", text="川汇区七一路18号人和小区3号楼2单元501室", geom=Point(114.611, 33.611))]
ROADS = [Road(code="R001", name="七一路", road_class="primary", geom=LineString([(114.60, 33.61), (114.70, 33.61)])),
         Road(code="R002", name="人和街", road_class="residential", oneway=True,
              geom=LineString([(114.61, 33.60), (114.61, 33.65)]))]
INCIDENTS = [
    Incident(id="8f14e45f-ceea-467f-a8f5-000000000001", geom=Point(114.612, 33.612),
             reported_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), category="disputes",
             severity="important", grid_code=COMPOUND.code, description="邻里噪音纠纷\t<script>alert(1)</script>",
             extra={"source": "grid_worker"}),
]

ALL = {"grids": GRIDS, "grid_staff": STAFF, "cameras": CAMERAS, "places": PLACES, "addresses": ADDRESSES,
       "roads": ROADS, "incidents": INCIDENTS}


def load_all(store) -> None:
    """Write every sample layer into ``store``."""
    for layer, records in ALL.items():
        store.layers.add(layer, records)
