"""A small, deterministic district for the browser tests: Chuanhui's real outline (GCJ-02 → WGS-84) cut into grids.

Streets are a 4 × 3 lattice clipped to the outline, each split 2 × 2 into
communities; cameras, key places, staff and incidents of the last 30 days are
scattered inside. One community and one incident carry hostile text.

So that every layer of the screen has something to draw, the city also holds:
incidents of the eight weeks before that (the trend layer's periods), a cell
that grows every week (an intensifying hotspot) and one busy only in the last
week (a new hotspot); and a lattice of roads over the community of the
intensifying cell, for a patrol plan (``patrol_plan_request``, posted through the API).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape

from mapserver.geo import transform_geometry
from mapserver.gridindex.metric import metres_per_degree
from mapserver.incidents.deadlines import deadlines
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Camera, Grid, GridStaff, Incident, Place, Road
from mapserver.patrol.lattice import street_lattice

BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "411600_zhoukou_districts_gcj02.geojson"
HOSTILE_NAME = "<img src=x onerror=alert(1)>${alert(1)}</script>社区"
HOSTILE_DESCRIPTION = "${globalThis.PWNED=1}</script><img src=x onerror=alert(1)>"
HOSTILE_INCIDENT = "00000000-0000-4000-8000-00000000bad1"
FINE_COMMUNITY = (2, 1)  # (street, community) that gets compound and building grids
STATUSES = ["reported"] * 3 + ["dispatched", "accepted", "handled", "closed", "closed", "returned"]
TREND_RES = 9  # the trend layer's default H3 resolution
ROAD_BLOCK_M = 200.0
RISING = (2, 4, 6, 9, 13, 18, 24, 31)  # incidents per week, oldest first, in the intensifying cell
CATEGORIES = ["disputes", "public_security", "fire_hazard", "city_appearance", "roads_facilities", "environment"]


def district_outline() -> MultiPolygon:
    """Chuanhui district (411602) in WGS-84."""
    features = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    found = next(f for f in features if f["properties"]["adcode"] == 411602)
    geom = shapely.make_valid(transform_geometry(shape(found["geometry"]), "gcj02"))
    return MultiPolygon([geom]) if isinstance(geom, Polygon) else geom


def _polygonal(geom: shapely.Geometry) -> MultiPolygon | None:
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and g.area > 1e-7]
    return MultiPolygon(parts) if parts else None


def _cells(area: MultiPolygon, cols: int, rows: int) -> list[MultiPolygon]:
    minx, miny, maxx, maxy = area.bounds
    dx, dy = (maxx - minx) / cols, (maxy - miny) / rows
    cells = []
    for j in range(rows):
        for i in range(cols):
            cell = _polygonal(area.intersection(box(minx + i * dx, miny + j * dy, minx + (i + 1) * dx,
                                                     miny + (j + 1) * dy)))
            if cell is not None:
                cells.append(cell)
    return cells


def grids(outline: MultiPolygon) -> list[Grid]:
    out = []
    for s, street in enumerate(_cells(outline, 4, 3), start=1):
        street_code = f"411602{s:03d}000000"
        out.append(Grid(code=street_code, level=1, name=f"第{s}街道", geom=street, households=9000, population=27000))
        for c, community in enumerate(_cells(street, 2, 2), start=1):
            name = HOSTILE_NAME if (s, c) == (1, 1) else f"第{s}街道第{c}社区"
            out.append(Grid(code=f"411602{s:03d}{c:03d}000", level=2, parent_code=street_code, name=name,
                            geom=community, households=2200, population=6600))
            if (s, c) == FINE_COMMUNITY:
                out += _fine_grids(f"411602{s:03d}{c:03d}000", community)
    return out


def _fine_grids(community_code: str, community: MultiPolygon) -> list[Grid]:
    # Compounds (level 3) in one community and buildings (level 4) in one compound: enough to draw every level.
    out = []
    for k, compound in enumerate(_cells(community, 2, 2), start=1):
        code = community_code[:12] + f"{k:03d}"
        out.append(Grid(code=code, level=3, parent_code=community_code, name=f"第{k}小区", geom=compound))
        if k == 1:
            out += [Grid(code=f"{code}B{b:02d}", level=4, parent_code=code, name=f"{b}号楼", geom=building)
                    for b, building in enumerate(_cells(compound, 3, 3), start=1)]
    return out


def _inside(outline: MultiPolygon, rng: random.Random) -> Point:
    minx, miny, maxx, maxy = outline.bounds
    while True:
        point = Point(round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6))
        if outline.contains(point):
            return point


def cameras(outline: MultiPolygon, rng: random.Random, n: int = 120) -> list[Camera]:
    return [Camera(code=f"4116020000132{k:07d}", name=f"视频点位{k}", geom=_inside(outline, rng),
                   direction_deg=float(rng.randrange(0, 360)), fov_deg=60.0, range_m=80.0,
                   status="offline" if k % 12 == 0 else "online") for k in range(1, n + 1)]


def _chain(point: Point, grid_list: list[Grid]) -> list[str | None]:
    """Codes of the base grids covering the point, level 1 first, padded to four levels."""
    covering = sorted((g for g in grid_list if g.geom.covers(point)), key=lambda g: g.level)
    codes: list[str | None] = [g.code for g in covering]
    return codes + [None] * (4 - len(codes))


def _incident(number: int, point: Point, reported_at: datetime, grid_list: list[Grid], rng: random.Random,
              **fields: object) -> Incident:
    category, severity = fields.pop("category", rng.choice(CATEGORIES)), fields.pop("severity", "general")
    warn_at, due_at = deadlines(IncidentSettings(), category=category, severity=severity, reported_at=reported_at)
    status = fields.pop("status", rng.choice(STATUSES))
    chain = _chain(point, grid_list)
    timing = {"dispatched_at": reported_at + timedelta(hours=1)} if status != "reported" else {}
    if status == "closed":
        timing["closed_at"] = reported_at + timedelta(hours=rng.uniform(2, 200))
    cell = h3.latlng_to_cell(point.y, point.x, IncidentSettings().h3_resolution)
    return Incident(id=fields.pop("id", f"00000000-0000-4000-8000-{number:012d}"), geom=point, h3_cell=cell,
                    reported_at=reported_at, category=category, severity=severity, status=status,
                    grid_code=next((c for c in reversed(chain) if c), None), grid_l1=chain[0], grid_l2=chain[1],
                    grid_l3=chain[2], grid_l4=chain[3], warn_at=warn_at, due_at=due_at, **timing, **fields)


def incidents(outline: MultiPolygon, grid_list: list[Grid], rng: random.Random, now: datetime,
              n: int = 90) -> list[Incident]:
    out = [_incident(k, _inside(outline, rng), now - timedelta(hours=rng.uniform(0.1, 24 * 29)), grid_list, rng,
                     description=f"测试事件{k}", escalation="routine" if k % 15 == 0 else None)
           for k in range(1, n + 1)]
    # A cluster of 40 within ~400 m over the month, so heat has cells of many counts and Gi* a hot spot.
    centre = outline.representative_point()
    out += [_incident(1000 + k, Point(centre.x + rng.gauss(0, 0.003), centre.y + rng.gauss(0, 0.003)),
                      now - timedelta(hours=rng.uniform(0.1, 24 * 29)), grid_list, rng, description=f"聚集事件{k}")
            for k in range(40)]
    out.append(_incident(0, outline.representative_point(), now - timedelta(minutes=5), grid_list, rng,
                         id=HOSTILE_INCIDENT, category="disputes", severity="urgent", status="reported",
                         description=HOSTILE_DESCRIPTION))
    return out


def earlier_weeks(outline: MultiPolygon, grid_list: list[Grid], rng: random.Random, now: datetime,
                  n: int = 120) -> list[Incident]:
    """Closed incidents 31–56 days old, outside every window of the wall: Gi* of the trend's early weeks."""
    return [_incident(2000 + k, _inside(outline, rng), now - timedelta(days=rng.uniform(31, 56)), grid_list, rng,
                      status="closed", description=f"往期事件{k}") for k in range(n)]


def _cell_point(point: Point, rng: random.Random) -> Point:
    """A point within a few metres of the centre of the trend cell that holds ``point``."""
    lat, lon = h3.cell_to_latlng(h3.latlng_to_cell(point.y, point.x, TREND_RES))
    return Point(round(lon + rng.uniform(-5e-5, 5e-5), 6), round(lat + rng.uniform(-5e-5, 5e-5), 6))


def trend_cells(grid_list: list[Grid], rng: random.Random, now: datetime) -> list[Incident]:
    """A cell with RISING incidents in the 8 weeks before now (hot every week, rising: intensifying) and
    one with 6 in the last 6 days only (new). Both sit in communities far from the cluster and the streets
    the other tests click on."""
    communities = [g for g in grid_list if g.level == 2]
    rising = communities[-1].geom.representative_point()
    fresh = communities[-3].geom.representative_point()
    out = [_incident(3000 + 100 * week + k, _cell_point(rising, rng),
                     now - timedelta(days=7 * (7 - week) + rng.uniform(0.2, 6.8)), grid_list, rng,
                     status="closed", description=f"加剧事件{week}-{k}")
           for week in range(8) for k in range(RISING[week])]
    out += [_incident(4000 + k, _cell_point(fresh, rng), now - timedelta(days=rng.uniform(0.2, 6)), grid_list,
                      rng, status="closed", description=f"新增事件{k}") for k in range(6)]
    return out


def patrol_community(grid_list: list[Grid]) -> Grid:
    """The community of the intensifying cell (the district's strongest hot spot): where the roads are and the
    patrol goes."""
    return [g for g in grid_list if g.level == 2][-1]


def roads(community: Grid) -> list[Road]:
    """A lattice of 200 m blocks over the community's bounding box (every 4th street one-way)."""
    minx, miny, maxx, maxy = community.geom.bounds
    mx, my = metres_per_degree(miny)
    return street_lattice(west=minx, south=miny, blocks_x=max(2, int((maxx - minx) * mx / ROAD_BLOCK_M)),
                          blocks_y=max(2, int((maxy - miny) * my / ROAD_BLOCK_M)), block_m=ROAD_BLOCK_M,
                          oneway_every=4)


def patrol_plan_request(store) -> dict[str, object]:
    """A foot patrol of an hour and a half through the community of the intensifying cell, from the middle of
    its roads (the body of POST /api/patrols/plan)."""
    community = patrol_community(store.layers.query("grids", where={"level": 2}))
    minx, miny, maxx, maxy = community.geom.bounds
    return {"area": {"grids": [community.code]}, "start": {"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2},
            "budget_min": 90, "mode": "foot"}


def load_city(store, *, now: datetime | None = None) -> dict[str, int]:
    """Write the district into an empty store; return how many records each layer got."""
    rng = random.Random(20261122)
    now = now or datetime.now(UTC)
    outline = district_outline()
    layers: dict[str, list] = {
        "grids": grids(outline),
        "cameras": cameras(outline, rng),
        "places": [Place(code=f"P{k:03d}", name=f"重点场所{k}", kind=kind, geom=_inside(outline, rng))
                   for k, kind in enumerate(["school", "hospital", "market", "station"] * 3, start=1)],
    }
    layers["incidents"] = (incidents(outline, layers["grids"], rng, now)
                           + earlier_weeks(outline, layers["grids"], rng, now) + trend_cells(layers["grids"], rng, now))
    layers["roads"] = roads(patrol_community(layers["grids"]))
    layers["grid_staff"] = [GridStaff(grid_code=g.code, role=role, name=f"{g.code[-6:]}{role[:4]}", phone="13800000000")
                            for g in layers["grids"] if g.level == 2 for role in ("grid_leader", "grid_worker")]
    for layer, records in layers.items():
        store.layers.add(layer, records)
    return {layer: len(records) for layer, records in layers.items()}
