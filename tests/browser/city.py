"""A small, deterministic district for the browser tests: Chuanhui's real outline (GCJ-02 → WGS-84) cut into grids.

Streets are a 4 × 3 lattice clipped to the outline, each split 2 × 2 into
communities; cameras, key places, staff and incidents of the last 30 days are
scattered inside. One community and one incident carry hostile text.
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
from mapserver.incidents.deadlines import deadlines
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Camera, Grid, GridStaff, Incident, Place

BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "411600_zhoukou_districts_gcj02.geojson"
HOSTILE_NAME = "<img src=x onerror=alert(1)>${alert(1)}</script>社区"
HOSTILE_DESCRIPTION = "${globalThis.PWNED=1}</script><img src=x onerror=alert(1)>"
HOSTILE_INCIDENT = "00000000-0000-4000-8000-00000000bad1"
FINE_COMMUNITY = (2, 1)  # (street, community) that gets compound and building grids
STATUSES = ["reported"] * 3 + ["dispatched", "accepted", "handled", "closed", "closed", "returned"]
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
    layers["incidents"] = incidents(outline, layers["grids"], rng, now)
    layers["grid_staff"] = [GridStaff(grid_code=g.code, role=role, name=f"{g.code[-6:]}{role[:4]}", phone="13800000000")
                            for g in layers["grids"] if g.level == 2 for role in ("grid_leader", "grid_worker")]
    for layer, records in layers.items():
        store.add(layer, records)
    return {layer: len(records) for layer, records in layers.items()}
