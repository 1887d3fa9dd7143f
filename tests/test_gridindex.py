"""The grid index (mapserver.gridindex) on small hand-made nested grids, on both store backends.

Layout (WGS-84 degrees, around lon 114.62, lat 33.61; 0.0025° ≈ 230 m east-west, 280 m north-south):
two streets side by side; street A split into 4 communities, community A-SW into 4
compounds (one with a courtyard hole), compound A-SW-SW into 3 buildings (its NE
quarter has none); street B has one community on its west half and, on its east
half, an orphan compound whose parent is missing. A school and a hospital (special
grids) overlap the middle. Codes are deliberately not in geographic order.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg2
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon, box

from mapserver.derived import DerivedData
from mapserver.errors import Problem
from mapserver.geo import transform_geometry
from mapserver.gridindex import GRID_INDEX, GridIndex, GridRef
from mapserver.gridindex.metric import metres_per_degree
from mapserver.model import Grid, GridStaff

ST_A, ST_B = "411602001000000", "411602002000000"
CM_SW, CM_SE, CM_NW, CM_NE = "411602001002000", "411602001001000", "411602001004000", "411602001003000"
CM_B = "411602002001000"
CP_SW, CP_SE, CP_NW, CP_NE = "411602001002002", "411602001002001", "411602001002004", "411602001002003"
BD_SW, BD_SE, BD_NW = "411602001002002004", "411602001002002001", "411602001002002003"
ORPHAN = "411602002099001"
SCHOOL, HOSPITAL = "411602001002901", "411602001002900"


def _grid(code: str, level: int, geom, parent: str | None, kind: str = "base", subtype: str | None = None) -> Grid:
    return Grid(code=code, level=level, name=f"网格{code[-6:]}", geom=geom, parent_code=parent, kind=kind,
                subtype=subtype)


def make_grids() -> list[Grid]:
    courtyard = Polygon(box(114.605, 33.605, 114.610, 33.610).exterior.coords,
                        [box(114.607, 33.607, 114.608, 33.608).exterior.coords])
    return [
        _grid(ST_A, 1, box(114.60, 33.60, 114.62, 33.62), None),
        _grid(ST_B, 1, box(114.62, 33.60, 114.64, 33.62), None),
        _grid(CM_SW, 2, box(114.60, 33.60, 114.61, 33.61), ST_A),
        _grid(CM_SE, 2, box(114.61, 33.60, 114.62, 33.61), ST_A),
        _grid(CM_NW, 2, box(114.60, 33.61, 114.61, 33.62), ST_A),
        _grid(CM_NE, 2, box(114.61, 33.61, 114.62, 33.62), ST_A),
        _grid(CM_B, 2, box(114.62, 33.60, 114.63, 33.62), ST_B),
        _grid(CP_SW, 3, box(114.600, 33.600, 114.605, 33.605), CM_SW),
        _grid(CP_SE, 3, box(114.605, 33.600, 114.610, 33.605), CM_SW),
        _grid(CP_NW, 3, box(114.600, 33.605, 114.605, 33.610), CM_SW),
        _grid(CP_NE, 3, courtyard, CM_SW),
        _grid(BD_SW, 4, box(114.6, 33.6, 114.6025, 33.6025), CP_SW),
        _grid(BD_SE, 4, box(114.6025, 33.6, 114.605, 33.6025), CP_SW),
        _grid(BD_NW, 4, box(114.6, 33.6025, 114.6025, 33.605), CP_SW),
        _grid(ORPHAN, 3, box(114.635, 33.61, 114.64, 33.62), "411602002099000"),
        _grid(SCHOOL, 3, box(114.604, 33.604, 114.606, 33.606), CM_SW, "special", "school"),
        _grid(HOSPITAL, 3, box(114.605, 33.605, 114.607, 33.607), CM_SW, "special", "hospital"),
    ]


STAFF = [
    GridStaff(grid_code=BD_SW, role="grid_worker", name="楼栋网格员", phone="13800000001"),
    GridStaff(grid_code=BD_SE, role="police_liaison", name="楼栋民警", phone="13800000002"),
    GridStaff(grid_code=CP_SW, role="grid_leader", name="小区网格长", phone="13800000003"),
    GridStaff(grid_code=CP_SW, role="police_liaison", name="小区民警", phone="13800000004"),
    GridStaff(grid_code=CM_SW, role="police_liaison", name="社区民警", phone="13800000005"),
    GridStaff(grid_code=ST_A, role="police_liaison", name="街道民警", phone="13800000006"),
]

# Points on shared edges and vertices, with the answer the smallest-code rule gives at the finest level.
EDGE_CASES = [
    ((114.6025, 33.601), BD_SE),  # edge between buildings SW and SE: level 4 tie, smaller code
    ((114.6025, 33.6025), BD_SE),  # vertex of three buildings (the fourth quarter has none)
    ((114.6025, 33.604), BD_NW),  # edge of building NW with the building-less quarter: level 4 beats 3
    ((114.605, 33.604), CP_SE),  # edge between compounds SW and SE: level 3 tie
    ((114.605, 33.605), CP_SE),  # vertex of four compounds
    ((114.61, 33.615), CM_NE),  # edge between communities NW and NE
    ((114.62, 33.615), CM_NE),  # edge between streets A and B: communities of both streets tie at level 2
    ((114.61, 33.61), CP_NE),  # vertex of four communities, also the courtyard compound's corner
    ((114.607, 33.6075), CP_NE),  # on the courtyard hole's edge: the boundary belongs to the compound
    ((114.64, 33.61), ORPHAN),  # outer corner of street B, shared with the orphan compound
    ((114.60, 33.60), BD_SW),  # outer corner of everything
]
EXTENT = (114.595, 33.595, 114.645, 33.625)  # the grids plus a margin with points outside every grid


def finest_reference(grids: list[Grid], lon: float, lat: float) -> str:
    """Brute force: the covering base grid of the highest level, smallest code on a tie ("" for none)."""
    covering = [g for g in grids if g.kind == "base" and g.geom.covers(Point(lon, lat))]
    return min(covering, key=lambda g: (-g.level, g.code)).code if covering else ""


def assign_reference(grids: list[Grid], lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """The same rule through shapely's STRtree (closed polygons: 'intersects' for points)."""
    base = sorted((g for g in grids if g.kind == "base"), key=lambda g: (-g.level, g.code))
    tree = shapely.STRtree([g.geom for g in base])
    point_idx, grid_idx = tree.query(shapely.points(lons, lats), predicate="intersects")
    best = np.full(len(lons), len(base))
    np.minimum.at(best, point_idx, grid_idx)
    return np.array([g.code for g in base] + [""])[best]


def boundary_points(grids: list[Grid]) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex of every grid, and points at tenths along each of its (axis-parallel) edges.

    Along an axis-parallel edge one coordinate is copied, so the points lie exactly on the edge.
    """
    coords = shapely.get_coordinates(shapely.boundary(np.array([g.geom for g in grids], dtype=object)))
    out = [coords]
    for t in np.arange(1, 10) / 10:
        a, b = coords[:-1], coords[1:]
        mid = a + t * (b - a)
        mid[a[:, 0] == b[:, 0], 0] = a[a[:, 0] == b[:, 0], 0]
        mid[a[:, 1] == b[:, 1], 1] = a[a[:, 1] == b[:, 1], 1]
        out.append(mid)
    xy = np.unique(np.concatenate(out), axis=0)
    return xy[:, 0], xy[:, 1]


def random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(EXTENT[0], EXTENT[2], n), rng.uniform(EXTENT[1], EXTENT[3], n)


def metres_east(lon: float, lat: float, metres: float) -> float:
    return lon + metres / metres_per_degree(lat)[0]


def geodesic(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture
def grids() -> list[Grid]:
    return make_grids()


@pytest.fixture
def loaded(store, grids):
    store.layers.add("grids", grids)
    store.layers.add("grid_staff", STAFF)
    return store


@pytest.fixture
def index(loaded) -> GridIndex:
    return GridIndex.from_store(loaded)


# -- lookup -----------------------------------------------------------------------


def test_lookup_inside_a_building_gives_the_chain_staff_and_liaison_fallback(index):
    found = index.lookup(114.601, 33.601)
    assert [ref.code for ref in found.chain] == [ST_A, CM_SW, CP_SW, BD_SW]
    assert [ref.level for ref in found.chain] == [1, 2, 3, 4]
    assert found.chain[-1] == GridRef(BD_SW, f"网格{BD_SW[-6:]}", 4, "base", None)
    assert found.finest.code == BD_SW
    assert [p.name for p in found.staff] == ["楼栋网格员"]
    assert found.police_liaison.name == "小区民警"  # the building has none: the compound's
    assert (found.match, found.distance_m, found.special) == ("within", 0.0, ())


def test_own_liaison_wins_and_fallback_skips_levels(index):
    assert index.lookup(114.604, 33.601).police_liaison.name == "楼栋民警"
    in_compound_nw = index.lookup(114.601, 33.607)
    assert in_compound_nw.finest.code == CP_NW and in_compound_nw.staff == ()
    assert in_compound_nw.police_liaison.name == "社区民警"
    assert index.lookup(114.615, 33.615).police_liaison.name == "街道民警"
    assert index.lookup(114.625, 33.605).police_liaison is None  # street B has nobody


def test_finest_level_is_whatever_covers_the_point(index):
    assert index.lookup(114.604, 33.604).finest.code == CP_SW  # the quarter without a building
    assert index.lookup(114.6075, 33.6075).finest.code == CM_SW  # inside the courtyard hole
    assert [r.code for r in index.lookup(114.635, 33.605).chain] == [ST_B]  # no community there


def test_chain_stops_at_a_missing_parent(index):
    assert [r.code for r in index.lookup(114.638, 33.615).chain] == [ORPHAN]


def test_special_grids_are_listed_apart_by_code(index):
    found = index.lookup(114.6055, 33.6055)
    assert [r.code for r in found.special] == [HOSPITAL, SCHOOL]
    assert found.special[1].subtype == "school" and found.special[1].kind == "special"
    assert found.finest.code == CP_NE
    assert [r.code for r in index.lookup(114.6045, 33.6045).special] == [SCHOOL]
    assert [r.code for r in index.lookup(114.6065, 33.6065).special] == [HOSPITAL]
    assert index.lookup(114.601, 33.601).special == ()
    assert index.assign(np.array([114.6055]), np.array([33.6055]))[0] == CP_NE


@pytest.mark.parametrize(("point", "expected"), EDGE_CASES)
def test_edges_and_vertices_get_the_smallest_code_at_the_finest_level(index, grids, point, expected):
    assert finest_reference(grids, *point) == expected  # the rule itself, by brute force
    answers = {index.lookup(*point).finest.code for _ in range(3)}
    assigned = index.assign(np.array([point[0]] * 3), np.array([point[1]] * 3))
    assert answers == {expected}
    assert set(assigned.tolist()) == {expected}


def test_snaps_to_the_nearest_grid_within_the_limit(index):
    lon = metres_east(114.64, 33.605, 20.0)
    found = index.lookup(lon, 33.605)
    assert (found.match, found.finest.code) == ("nearest", ST_B)
    assert found.distance_m == pytest.approx(geodesic(lon, 33.605, 114.64, 33.605), rel=0.01)
    assert found.distance_m == pytest.approx(20.0, rel=0.01)
    # Beyond the shared outer corner of street B and the orphan: a tie, the finer grid wins.
    corner = index.lookup(metres_east(114.64, 33.62, 10.0), 33.62 + 10.0 / metres_per_degree(33.62)[1])
    assert corner.finest.code == ORPHAN and corner.distance_m == pytest.approx(14.14, rel=0.01)
    assert index.assign(np.array([lon]), np.array([33.605]))[0] == ""  # assign never snaps


def test_beyond_the_limit_is_a_404_with_the_distance(index):
    lat = 33.60 - 200.0 / metres_per_degree(33.60)[1]
    with pytest.raises(Problem) as caught:
        index.lookup(114.601, lat)
    problem = caught.value
    assert problem.status == 404 and problem.param == "lon"
    assert BD_SW in problem.detail and "(limit 50 m)" in problem.detail
    distance = float(re.search(r"is ([\d.]+) m away", problem.detail).group(1))
    assert distance == pytest.approx(geodesic(114.601, lat, 114.601, 33.60), rel=0.01)
    assert index.lookup(114.601, lat, max_snap_m=250.0).distance_m == pytest.approx(distance, abs=0.1)


@pytest.mark.parametrize(("lon", "lat", "param"), [(float("nan"), 33.6, "lon"), (114.6, 91.0, "lat"),
                                                   ("east", 33.6, "lon"), (181.0, 0.0, "lon")])
def test_bad_coordinates_are_a_400(index, lon, lat, param):
    with pytest.raises(Problem) as caught:
        index.lookup(lon, lat)
    assert (caught.value.status, caught.value.param) == (400, param)


def test_an_empty_index_finds_nothing():
    empty = GridIndex([])
    assert empty.lookup(114.6, 33.6) is None
    assert empty.assign(np.array([114.6, np.nan]), np.array([33.6, 0.0])).tolist() == ["", ""]


# -- the nearest grid, against brute force ------------------------------------------


def nearest_reference(grids: list[Grid], lon: float, lat: float) -> tuple[str, float]:
    """Brute force with shapely and pyproj: every base grid measured in the point's equirectangular frame
    (metres per degree at its latitude); within 1 mm of the nearest, the finest then smallest code; the geodesic
    distance (metres) from the point to that grid's nearest point."""
    mx, my = metres_per_degree(lat)
    base = [g for g in grids if g.kind == "base"]
    projected = shapely.transform(np.array([g.geom for g in base], dtype=object),
                                  lambda xy: (xy - [lon, lat]) * [mx, my])
    metres = shapely.distance(projected, Point(0, 0))
    tied = [k for k in range(len(base)) if metres[k] <= metres.min() + 1e-3]
    k = min(tied, key=lambda k: (-base[k].level, base[k].code))
    east, north = shapely.get_coordinates(shapely.shortest_line(Point(0, 0), projected[k]))[-1]
    return base[k].code, geodesic(lon, lat, lon + east / mx, lat + north / my)


def outside_points(grids: list[Grid], n: int, seed: int) -> list[tuple[float, float]]:
    """Points no base grid covers: half within 0–100 m of the grids (either side of the 50 m limit), half
    anywhere from next door to the far side of the Earth."""
    union = shapely.union_all([g.geom for g in grids if g.kind == "base"])
    x0, y0, x1, y1 = union.bounds
    rng = np.random.default_rng(seed)
    mx, my = metres_per_degree((y0 + y1) / 2)
    near: list[tuple[float, float]] = []
    while len(near) < n // 2:
        x, y = rng.uniform(x0 - 100 / mx, x1 + 100 / mx), rng.uniform(y0 - 100 / my, y1 + 100 / my)
        if not union.covers(Point(x, y)) and union.distance(Point(x, y)) * mx < 100:
            near.append((float(x), float(y)))
    scales = rng.choice([0.01, 0.1, 1.0, 10.0, 100.0], n - len(near))
    far = [(float(np.clip(x1 + rng.normal() * s, -180, 180)), float(np.clip(y1 + rng.normal() * s / 2, -90, 90)))
           for s in scales]
    outside = [p for p in far if not union.covers(Point(p))]
    return [*near, (0.0, 0.0), *outside[:n - len(near) - 1]]


def assert_nearest_as_brute_force(index: GridIndex, grids: list[Grid], points: list[tuple[float, float]]) -> None:
    snapped = refused = 0
    for lon, lat in points:
        code, metres = nearest_reference(grids, lon, lat)
        found = index.lookup(lon, lat, max_snap_m=math.inf)
        assert (found.match, found.finest.code) == ("nearest", code), (lon, lat)
        assert found.distance_m == pytest.approx(metres, rel=1e-12, abs=1e-9), (lon, lat)
        if metres <= index.max_snap_m:
            assert index.lookup(lon, lat).finest.code == code
            snapped += 1
            continue
        with pytest.raises(Problem) as caught:
            index.lookup(lon, lat)
        assert caught.value.status == 404 and f"nearest grid {code} is {metres:.1f} m away" in caught.value.detail
        refused += 1
    assert snapped >= 5 and refused >= 5  # both sides of the limit exercised


def test_nearest_grid_is_the_brute_force_one_near_and_far(index, grids):
    assert_nearest_as_brute_force(index, grids, outside_points(grids, 200, seed=11))


def test_nearest_grid_after_edits_in_place(index, grids):
    index.remove_grid(BD_SW)  # the south-west corner is now compound SW's
    moved = _grid(ORPHAN, 3, box(114.6405, 33.6195, 114.6425, 33.6215), "411602002099000")  # sticks out north-east
    index.update_grid(moved)
    added = _grid("411602002099002", 4, box(114.641, 33.5995, 114.6415, 33.600), ORPHAN)  # outside, south-east
    index.update_grid(added)
    edited = [moved if g.code == ORPHAN else g for g in grids if g.code != BD_SW] + [added]
    corner = [(114.6 - k * 1e-4, 33.6 - k * 1e-4) for k in (1, 3, 10, 100)]  # where the removed building was
    assert_nearest_as_brute_force(index, edited, corner + outside_points(edited, 200, seed=12))


def test_nearest_grid_when_the_nearest_box_is_a_removed_grid(grids):
    outlier = _grid("411602001002002099", 4, box(114.61, 33.59, 114.611, 33.591), CP_SW)  # south of everything
    index = GridIndex([*grids, outlier])
    assert index.lookup(114.6105, 33.5905).finest.code == outlier.code
    index.remove_grid(outlier.code)  # its box stays in its group: the search must skip it and go on
    around = [(114.6105 + dx, 33.5905 + dy) for dx in (-2e-3, 0.0, 2e-3) for dy in (-2e-3, 0.0, 2e-3)]
    assert_nearest_as_brute_force(index, grids, around + outside_points(grids, 40, seed=14))


# -- assign -----------------------------------------------------------------------


def test_assign_equals_the_strtree_reference_and_lookup(index, grids):
    lons, lats = random_points(100_000, seed=1)
    edge_lons, edge_lats = boundary_points(grids)
    lons, lats = np.concatenate([lons, edge_lons]), np.concatenate([lats, edge_lats])
    assigned = index.assign(lons, lats)
    assert assigned.dtype.kind == "U" and assigned.shape == lons.shape
    assert (assigned == assign_reference(grids, lons, lats)).all()
    assert (assigned != "").mean() > 0.5 and (assigned == "").any()
    for lon, lat, code in zip(lons[-3000:].tolist(), lats[-3000:].tolist(), assigned[-3000:].tolist(), strict=True):
        if code:
            assert index.lookup(lon, lat).finest.code == code


def test_assign_keeps_the_shape_and_skips_non_finite(index):
    lons = np.array([[114.601, np.nan], [np.inf, 114.625]])
    lats = np.array([[33.601, 33.6], [33.6, 33.605]])
    assert index.assign(lons, lats).tolist() == [[BD_SW, ""], ["", CM_B]]
    with pytest.raises(Problem):
        index.assign(np.zeros(3), np.zeros(2))


# -- agreement with PostGIS ST_Covers ---------------------------------------------


def _copy(cur, table: str, lines) -> None:
    cur.copy_expert(f"COPY {table} FROM STDIN", io.StringIO("".join(lines)))


def _postgis_covering(cur, grid_table: str, lons: np.ndarray, lats: np.ndarray) -> list[list[tuple[int, str]]]:
    """Per point, the (level, code) of every base grid PostGIS says covers it."""
    cur.execute("CREATE TEMP TABLE gi_pts (id int, geom geometry(Point, 4326)) ON COMMIT DROP")
    wkb = shapely.to_wkb(shapely.points(lons, lats), hex=True)
    _copy(cur, "gi_pts", (f"{k}\tSRID=4326;{w}\n" for k, w in enumerate(wkb)))
    cur.execute(f"SELECT p.id, g.level, g.code FROM gi_pts p JOIN {grid_table} g "
                "ON ST_Covers(g.geom, p.geom) WHERE g.kind = 'base'")
    covering: list[list[tuple[int, str]]] = [[] for _ in range(len(lons))]
    for point, level, code in cur.fetchall():
        covering[point].append((level, code))
    return covering


def _covering_via(store, postgis_url, grids, lons, lats):
    conn = psycopg2.connect(postgis_url)  # the PostGIS store's own database, or one to load the grids into
    try:
        with conn.cursor() as cur:
            if store.kind == "postgis":  # the grids as the postgis store holds them
                return _postgis_covering(cur, "grids", lons, lats)
            # the same polygons, loaded into PostGIS for the comparison
            cur.execute("CREATE TEMP TABLE gi_grids (code text, level int, kind text, geom geometry) ON COMMIT DROP")
            wkb = shapely.to_wkb(np.array([g.geom for g in grids], dtype=object), hex=True)
            _copy(cur, "gi_grids", (f"{g.code}\t{g.level}\t{g.kind}\tSRID=4326;{w}\n"
                                    for g, w in zip(grids, wkb, strict=True)))
            return _postgis_covering(cur, "gi_grids", lons, lats)
    finally:
        conn.rollback()
        conn.close()


def test_agrees_with_postgis_st_covers(loaded, index, grids, postgis_url):
    lons, lats = random_points(20_000, seed=2)
    edge_lons, edge_lats = boundary_points(grids)
    lons, lats = np.concatenate([lons, edge_lons]), np.concatenate([lats, edge_lats])
    covering = _covering_via(loaded, postgis_url, grids, lons, lats)
    assigned = index.assign(lons, lats)
    on_edges = 0
    for k, found in enumerate(covering):
        if not found:
            assert assigned[k] == "", (lons[k], lats[k])
            continue
        top = max(level for level, _ in found)
        on_edges += sum(1 for level, _ in found if level == top) > 1
        assert assigned[k] in {code for _, code in found}, (lons[k], lats[k])
        assert assigned[k] == min(code for level, code in found if level == top), (lons[k], lats[k])
    assert on_edges > 100  # the shared edges and vertices really were exercised


# -- edits in place ---------------------------------------------------------------


def _same_as_rebuilt(index: GridIndex, grids: list[Grid]) -> None:
    """The edited index answers like one built from scratch, and like brute force, on edges too."""
    lons, lats = random_points(30_000, seed=3)
    edge_lons, edge_lats = boundary_points(grids)
    lons, lats = np.concatenate([lons, edge_lons]), np.concatenate([lats, edge_lats])
    assert (index.assign(lons, lats) == GridIndex(grids).assign(lons, lats)).all()
    assert (index.assign(lons, lats) == assign_reference(grids, lons, lats)).all()


def test_update_and_remove_grids_in_place(index, grids):
    assert index.remove_grid(BD_SW) is True
    assert index.remove_grid(BD_SW) is False
    assert index.lookup(114.601, 33.601).finest.code == CP_SW
    smaller = _grid(BD_SW, 4, box(114.6, 33.6, 114.601, 33.601), CP_SW)
    index.update_grid(smaller)
    assert index.lookup(114.6005, 33.6005).finest.code == BD_SW
    assert index.lookup(114.6015, 33.6015).finest.code == CP_SW
    renamed = Grid(code=CM_SW, level=2, name="新名社区", geom=grids[2].geom, parent_code=ST_A)
    index.update_grid(renamed)
    assert index.lookup(114.6005, 33.6005).chain[1].name == "新名社区"  # descendants see the new name
    moved_school = _grid(SCHOOL, 3, box(114.612, 33.612, 114.613, 33.613), CM_NE, "special", "school")
    index.update_grid(moved_school)
    assert [r.code for r in index.lookup(114.6125, 33.6125).special] == [SCHOOL]
    assert [r.code for r in index.lookup(114.6045, 33.6045).special] == []
    edited = [smaller if g.code == BD_SW else renamed if g.code == CM_SW else moved_school if g.code == SCHOOL
              else g for g in grids]
    _same_as_rebuilt(index, edited)
    assert index.grid(BD_SW) == smaller and len(index) == len(grids)


def test_a_grid_beyond_the_cover_rebuilds_it(index, grids):
    far = _grid("411602003000000", 1, box(114.70, 33.70, 114.71, 33.71), None)
    index.update_grid(far)
    assert index.lookup(114.705, 33.705).finest.code == far.code
    assert index.lookup(114.601, 33.601).finest.code == BD_SW
    _same_as_rebuilt(index, [*grids, far])


def test_readers_never_see_a_half_made_edit(grids):
    index = GridIndex(grids)
    lons, lats = random_points(2_000, seed=4)
    allowed = {g.code for g in grids} | {""}
    failures: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                assert set(index.assign(lons, lats).tolist()) <= allowed
                for lon, lat in zip(lons[:200].tolist(), lats[:200].tolist(), strict=True):
                    with contextlib.suppress(Problem):  # a point too far from every grid
                        assert index.lookup(lon, lat).finest.code in allowed
            except Exception as exc:  # any error in a reader thread is a failure of the test
                failures.append(repr(exc))
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for k in range(30):
        if k % 2:
            index.remove_grid(BD_SW)
        else:
            index.update_grid(grids[11])
    stop.set()
    for reader in readers:
        reader.join()
    assert failures == []


def test_cell_size_follows_the_rule(index, grids):
    mx, my = metres_per_degree((33.60 + 33.62) / 2)  # at the middle latitude of all the grids
    buildings = [g.geom.area * mx * my for g in grids if g.level == 4]
    assert index.cell_m == pytest.approx(math.sqrt(float(np.median(buildings))) / 8, rel=1e-9)
    assert 30 < index.cell_m < 33


def test_update_refuses_a_bad_grid(index):
    with pytest.raises(Problem) as caught:
        index.update_grid(Grid(code="X", level=7, name="bad", geom=box(114.6, 33.6, 114.61, 33.61), parent_code="Y"))
    assert caught.value.status == 422 and caught.value.param == "level"


# -- freshness --------------------------------------------------------------------


def test_refresh_follows_the_store(loaded, grids):
    index = GridIndex.from_store(loaded)
    assert index.refresh(loaded) is False  # nothing changed
    loaded.layers.delete("grids", keys=[BD_SW])
    assert index.refresh(loaded) is True
    assert index.refresh(loaded) is False  # caught up
    assert index.lookup(114.601, 33.601).finest.code == CP_SW
    loaded.layers.add("grid_staff", [GridStaff(grid_code=CP_SW, role="grid_worker", name="新网格员")])
    assert index.refresh(loaded) is True
    assert [p.name for p in index.lookup(114.601, 33.601).staff] == ["小区网格长", "小区民警", "新网格员"]
    many = [_grid(f"411602002001{k + 100:03d}", 3, box(114.630 + k * 0.0002, 33.600, 114.6302 + k * 0.0002, 33.601),
                  CM_B) for k in range(20)]  # more changes than are applied one by one: a rebuild
    loaded.layers.add("grids", many)
    assert index.refresh(loaded) is True
    assert index.lookup(114.6301, 33.6005).finest.code == many[0].code
    _same_as_rebuilt(index, [g for g in grids if g.code != BD_SW] + many)


def test_the_kept_index_is_refreshed_in_place_within_a_second(loaded):
    derived = DerivedData(loaded)
    first = derived.get(GRID_INDEX, 50.0)
    assert derived.get(GRID_INDEX, 50.0) is first and first.max_snap_m == 50.0
    assert first.lookup(114.601, 33.601).finest.code == BD_SW
    loaded.layers.delete("grids", keys=[BD_SW])
    assert derived.get(GRID_INDEX, 50.0).lookup(114.601, 33.601).finest.code == BD_SW  # checked under a second ago
    time.sleep(1.05)
    assert derived.get(GRID_INDEX, 50.0) is first  # the same index, edited
    assert first.lookup(114.601, 33.601).finest.code == CP_SW


# -- agreement with PostGIS ST_Covers on real-like data: the demo district and the real Zhoukou districts ------
#
# 100,000 random points over each city's bounding box, plus every vertex of its finest base grids and the
# midpoint of every edge two of them share (a vertex lies exactly on the boundary; a midpoint of a slanted
# edge lies within an ulp of it, on whichever side rounding puts it). PostGIS decides which of the finest
# grids cover each point (``ST_Covers``, closed polygons); the index must answer one of them, "" exactly where
# there is none, and the same from ``assign`` and ``lookup``, call after call.

REAL_RANDOM_POINTS = 100_000
ZHOUKOU_FILE = Path(__file__).resolve().parents[1] / "data/boundaries/411600_zhoukou_districts_gcj02.geojson"


@dataclass(frozen=True)
class RealCase:
    """One city: its grids, the index over them, and the points to try (WGS-84 degrees)."""

    grids: list[Grid]
    finest: list[Grid]  # the base grids of the finest level, which tile the city
    index: GridIndex
    lons: np.ndarray
    lats: np.ndarray
    on_boundary: int  # the last this many points are vertices and shared-edge midpoints


def demo_district_grids() -> list[Grid]:
    from mapserver.demo.build import build_city

    return list(build_city(seed=1, scale="district").grids)


def zhoukou_grids() -> list[Grid]:
    """The ten districts of Zhoukou as level-1 grids, GCJ-02 converted to WGS-84 as the importer does."""
    frame = gpd.read_file(ZHOUKOU_FILE)
    return [Grid(code=str(code), level=1, name=name, geom=transform_geometry(geom, "gcj02"))
            for code, name, geom in zip(frame["adcode"], frame["name"], frame.geometry, strict=True)]


def shared_edge_points(geoms: list) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex of the polygons, and the midpoint of every edge that two or more of them share."""
    rings = shapely.get_rings(shapely.get_parts(np.array(geoms, dtype=object)))
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_of[1:] == ring_of[:-1]
    a, b = coords[:-1][same_ring], coords[1:][same_ring]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))  # one direction per edge
    edges = np.where(swap[:, None], np.hstack([b, a]), np.hstack([a, b]))
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    shared = unique[counts > 1]
    middle = (shared[:, :2] + shared[:, 2:]) / 2
    points = np.unique(np.concatenate([coords, middle]), axis=0)
    return points[:, 0], points[:, 1]


def real_case(grids: list[Grid], seed: int) -> RealCase:
    base = [g for g in grids if g.kind == "base"]
    top = max(g.level for g in base)
    finest = [g for g in base if g.level == top]
    x0, y0, x1, y1 = shapely.total_bounds([g.geom for g in finest])
    rng = np.random.default_rng(seed)
    edge_lons, edge_lats = shared_edge_points([g.geom for g in finest])
    lons = np.concatenate([rng.uniform(x0, x1, REAL_RANDOM_POINTS), edge_lons])
    lats = np.concatenate([rng.uniform(y0, y1, REAL_RANDOM_POINTS), edge_lats])
    return RealCase(grids, finest, GridIndex(grids), lons, lats, len(edge_lons))


def postgis_covering(url: str, grids: list[Grid], lons: np.ndarray, lats: np.ndarray) -> list[set[str]]:
    """Per point, the codes of the grids PostGIS says cover it, from a scratch table dropped afterwards."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE gi_real (code text, geom geometry(Geometry, 4326)) ON COMMIT DROP")
            wkb = shapely.to_wkb(np.array([g.geom for g in grids], dtype=object), hex=True)  # exact doubles
            _copy(cur, "gi_real", (f"{g.code}\tSRID=4326;{w}\n" for g, w in zip(grids, wkb, strict=True)))
            cur.execute("CREATE INDEX ON gi_real USING gist (geom); ANALYZE gi_real")
            # psycopg2 sends floats as repr(), which PostgreSQL reads back to the very same doubles.
            cur.execute("SELECT p.k, g.code FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, k) "
                        "JOIN gi_real g ON ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))",
                        (lons.tolist(), lats.tolist()))
            covering: list[set[str]] = [set() for _ in range(len(lons))]
            for k, code in cur.fetchall():
                covering[k - 1].add(code)  # WITH ORDINALITY counts from 1
            return covering
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture(scope="module", params=["demo district", "zhoukou"])
def real(request: pytest.FixtureRequest) -> RealCase:
    """Built once per module: building the demo district takes seconds."""
    if request.param == "demo district":
        return real_case(demo_district_grids(), seed=5)
    return real_case(zhoukou_grids(), seed=6)


def _where(case: RealCase, k: int) -> str:
    return f"point {k} ({case.lons[k]!r}, {case.lats[k]!r})"


def test_real_grids_assign_agrees_with_postgis_st_covers(real, postgis_url):
    covering = postgis_covering(postgis_url, real.finest, real.lons, real.lats)
    assigned = real.index.assign(real.lons, real.lats)
    wrong = [f"{_where(real, k)}: index {assigned[k]!r}, PostGIS {sorted(found)}"
             for k, found in enumerate(covering)
             if (assigned[k] not in found if found else assigned[k] != "")]
    assert wrong == [], f"{len(wrong)} disagreements, e.g. {wrong[:5]}"
    # The tie-break rule (smallest code among the finest) holds on PostGIS's own answer, too.
    assert all(assigned[k] == min(found) for k, found in enumerate(covering) if found)
    shared = sum(len(found) > 1 for found in covering[-real.on_boundary:])
    inside, outside = sum(bool(f) for f in covering), sum(not f for f in covering)
    assert shared > 1_000 and inside > 50_000 and outside > 1_000  # edges, insides and outsides all exercised
    assert (real.index.assign(real.lons, real.lats) == assigned).all()  # the same on a second call


def _outside_sample(case: RealCase, assigned: np.ndarray, near: int = 200, far: int = 100) -> np.ndarray:
    """Points no grid covers: the ``near`` closest to the city (snapped) and ``far`` others (404).

    Not all of them: the demo district's bounding box holds ~45,000 such points.
    """
    outside = np.flatnonzero(assigned == "")
    city = shapely.union_all([g.geom for g in case.finest])
    away = shapely.distance(city, shapely.points(case.lons[outside], case.lats[outside]))
    order = outside[np.argsort(away, kind="stable")]
    rest = np.random.default_rng(7).choice(order[near:], size=min(far, max(len(order) - near, 0)), replace=False)
    return np.concatenate([order[:near], rest])


def test_real_grids_lookup_gives_the_assigned_grid_on_every_call(real):
    assigned = real.index.assign(real.lons, real.lats)
    boundary_from = len(real.lons) - real.on_boundary
    asked = np.concatenate([np.flatnonzero(assigned != ""), _outside_sample(real, assigned)])
    snapped = 0
    for k in asked.tolist():
        lon, lat, code = float(real.lons[k]), float(real.lats[k]), str(assigned[k])
        calls = 2 if k >= boundary_from else 1  # points on edges and vertices are asked twice
        for _ in range(calls):
            try:
                found = real.index.lookup(lon, lat)
            except Problem:  # outside every grid and beyond the snapping limit
                assert code == "", _where(real, k)
                continue
            if code:
                assert (found.match, found.finest.code) == ("within", code), _where(real, k)
            else:
                assert found.match == "nearest", _where(real, k)
                snapped += 1
    assert snapped > 100  # the snapping path was exercised, not only the 404


def test_real_grids_index_from_either_store_answers_alike(real, store):
    store.layers.add("grids", real.grids)
    from_store = GridIndex.from_store(store)
    assert (from_store.assign(real.lons, real.lats) == real.index.assign(real.lons, real.lats)).all()


def test_real_grids_nearest_is_the_brute_force_one_and_cheap(real):
    base = [g for g in real.grids if g.kind == "base"]
    points = outside_points(base, 60, seed=13)
    assert_nearest_as_brute_force(real.index, real.grids, points)
    # Far or near, a snap measures a handful of grids, not every grid within reach.
    far = [p for p in points if nearest_reference(base, *p)[1] > 10_000][:10]
    times = []
    for lon, lat in far * 5:
        started = time.perf_counter()
        real.index.lookup(lon, lat, max_snap_m=math.inf)
        times.append(time.perf_counter() - started)
    assert len(far) >= 5 and sorted(times)[len(times) // 2] < 0.005
