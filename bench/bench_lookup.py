"""Benchmark of the grid index (mapserver.gridindex) at city scale, side by side with its references.

Two cities, WGS-84 (EPSG:4326) degrees:

* ``demo`` (default when :mod:`mapserver.demo` is there): ``build_city(seed=…,
  scale="city")``, the ten Zhoukou districts (~22,000 grids); points are its
  incidents (clustered where people live, as real reports are);
* ``synthetic``: ~17,000 level-4 grids, Voronoi cells of random points in a
  60 km × 60 km square around lon 114.65, lat 33.62, grouped by nearest seed
  into ~3,600 level-3, ~140 level-2 and 12 level-1 grids, plus 200 round special
  grids; points uniform over the square.

Prints machine and date; index build time and cover figures; ``lookup`` median
and p99 µs per call over 100,000 points; ``lookup`` of points outside every grid
(snapped within ``max_snap_m``, or a 404 naming the nearest grid and its distance),
near the city (≤ 2 km), far from it (up to ~100 km) and at (0°, 0°), each
checked against brute force (every base grid measured with shapely in the
point's frame), whose time per point is printed beside; ``assign`` on 1,000,000 points against
``shapely.STRtree(level-4 polygons).query(points, predicate="within")`` (answers
checked identical away from boundaries) and against an STRtree over all base
grids reduced to the finest (the question ``assign`` answers); and against a
PostGIS ``ST_Covers`` join when ``MAPSERVER_BENCH_PG`` is a ``postgresql://``
URL (a database of its own is created there, loaded with COPY, and dropped).

Usage: python bench/bench_lookup.py [--city demo|synthetic] [--points N] [--lookups N] [--outside N] [--seed N]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import shapely
from machine import cpu_count, cpu_model  # bench/machine.py (scripts run from bench/)
from scratch import scratch_database
from shapely.geometry import MultiPoint, box

from mapserver.errors import Problem
from mapserver.gridindex import GridIndex
from mapserver.gridindex.metric import LocalFrame, metres_per_degree
from mapserver.model import Grid, GridStaff

CENTRE = (114.65, 33.62)
SIDE_M = 60_000.0
LEVEL_COUNTS = {3: 3600, 2: 140, 1: 12}
SPECIALS = 200


# -- machine ----------------------------------------------------------------------


def machine() -> str:
    """nproc, CPU model, Python and library versions, date."""
    model = cpu_model()
    nproc = cpu_count()
    return (f"machine: nproc={nproc}, CPU {model}, Python {platform.python_version()}, shapely {shapely.__version__}"
            f" (GEOS {shapely.geos_version_string}), numpy {np.__version__}; "
            f"date {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")


# -- synthetic city ---------------------------------------------------------------


def extent() -> tuple[float, float, float, float]:
    """The 60 km square around CENTRE, degrees."""
    mx, my = metres_per_degree(CENTRE[1])
    half_lon, half_lat = SIDE_M / 2 / mx, SIDE_M / 2 / my
    return CENTRE[0] - half_lon, CENTRE[1] - half_lat, CENTRE[0] + half_lon, CENTRE[1] + half_lat


def voronoi_cells(seeds: np.ndarray, frame: tuple[float, float, float, float]) -> np.ndarray:
    """The Voronoi cell of every seed (in seed order), clipped to the frame, on a 1e-7° grid."""
    outline = box(*frame)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline))
    seed_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(seeds), predicate="within")
    ordered = np.empty(len(seeds), dtype=object)
    ordered[seed_idx] = cells[cell_idx]
    # A shared precision grid keeps neighbours' shared vertices identical after clipping.
    return shapely.set_precision(shapely.intersection(ordered, outline), 1e-7)


def group_up(seeds: np.ndarray, cells: np.ndarray, count: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parents for ``cells``: ``count`` of the seeds become parent seeds; each cell joins the nearest one.

    Returns the parent seeds, the parent polygons (unions of their children) and each cell's parent.
    """
    chosen = rng.choice(len(seeds), count, replace=False)
    tree = shapely.STRtree(shapely.points(seeds[chosen]))
    child, parent = tree.query_nearest(shapely.points(seeds), return_distance=False, all_matches=False)
    owner = np.empty(len(seeds), dtype=np.int64)
    owner[child] = parent
    polys = np.empty(count, dtype=object)
    for g in range(count):
        polys[g] = shapely.coverage_union_all(cells[owner == g])
    return seeds[chosen], polys, owner


def synthetic_city(level4: int, seed: int) -> list[Grid]:
    """Nested base grids (levels 1–4) plus special grids; codes 411602 + 3 digits per level."""
    rng = np.random.default_rng(seed)
    frame = extent()
    seeds = np.column_stack([rng.uniform(frame[0], frame[2], level4), rng.uniform(frame[1], frame[3], level4)])
    levels = {4: (seeds, voronoi_cells(seeds, frame))}
    owners = {}
    for level in (3, 2, 1):
        child_seeds, child_polys = levels[level + 1]
        parent_seeds, parent_polys, owners[level + 1] = group_up(child_seeds, child_polys, LEVEL_COUNTS[level], rng)
        levels[level] = (parent_seeds, parent_polys)
    codes = {1: [f"411602{i + 1:03d}" for i in range(LEVEL_COUNTS[1])]}
    for level in (2, 3, 4):
        counters: dict[int, int] = {}
        codes[level] = []
        for parent in owners[level]:
            counters[parent] = counters.get(parent, 0) + 1
            codes[level].append(f"{codes[level - 1][parent]}{counters[parent]:03d}")
    grids = [Grid(code=codes[level][i], level=level, name=f"L{level}-{i}", geom=geom,
                  parent_code=codes[level - 1][owners[level][i]] if level > 1 else None)
             for level in (1, 2, 3, 4) for i, geom in enumerate(levels[level][1])]
    return grids + special_grids(frame, rng)


def special_grids(frame: tuple[float, float, float, float], rng: np.random.Generator) -> list[Grid]:
    """Round special grids (schools, hospitals, markets) of 80–250 m radius anywhere in the frame."""
    mx, my = metres_per_degree(CENTRE[1])
    out = []
    for k in range(SPECIALS):
        lon, lat = rng.uniform(frame[0] + 0.01, frame[2] - 0.01), rng.uniform(frame[1] + 0.01, frame[3] - 0.01)
        radius = rng.uniform(80, 250)
        circle = shapely.affinity.scale(shapely.Point(0, 0).buffer(radius, 16), 1 / mx, 1 / my, origin=(0, 0))
        geom = shapely.affinity.translate(circle, lon, lat)
        out.append(Grid(code=f"411602999{k:06d}", level=3, name=f"special-{k}", geom=geom, parent_code="411602001",
                        kind="special", subtype=("school", "hospital", "market")[k % 3]))
    return out


@dataclass(frozen=True)
class City:
    """Grids and staff to index, and where points come from (lon/lat arrays to sample, or a box)."""

    name: str
    grids: list[Grid]
    staff: list[GridStaff]
    points: tuple[np.ndarray, np.ndarray] | None  # None: uniform over extent()
    made_s: float

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        if self.points is None:
            frame = extent()
            return rng.uniform(frame[0], frame[2], n), rng.uniform(frame[1], frame[3], n)
        pick = rng.choice(len(self.points[0]), n, replace=n > len(self.points[0]))
        return self.points[0][pick], self.points[1][pick]


def make_city(kind: str, level4: int, seed: int) -> City:
    """The demo city (grids, staff, incident points) or the synthetic one."""
    start = time.perf_counter()
    if kind == "demo":
        from mapserver.demo.build import build_city

        demo = build_city(seed=seed, scale="city")
        xy = shapely.get_coordinates(np.array([i.geom for i in demo.incidents], dtype=object))
        return City("demo city (build_city, scale='city'), points: its incidents", demo.grids, demo.grid_staff,
                    (xy[:, 0].copy(), xy[:, 1].copy()), time.perf_counter() - start)
    grids = synthetic_city(level4, seed)
    return City("synthetic Voronoi city, points: uniform over the 60 km square", grids, [], None,
                time.perf_counter() - start)


def demo_available() -> bool:
    try:
        from mapserver.demo.build import build_city  # noqa: F401
    except ImportError:
        return False
    return True


# -- measurements -----------------------------------------------------------------


def bench_lookup(index: GridIndex, lons: list[float], lats: list[float]) -> dict[str, float]:
    """Per-call lookup times in µs (each call timed alone)."""
    lookup, clock = index.lookup, time.perf_counter_ns
    for lon, lat in zip(lons[:1000], lats[:1000], strict=True):  # warm caches
        lookup(lon, lat)
    times = []
    for lon, lat in zip(lons, lats, strict=True):
        start = clock()
        lookup(lon, lat)
        times.append(clock() - start)
    times.sort()
    return {"median": statistics.median(times) / 1000, "p99": times[int(len(times) * 0.99)] / 1000,
            "mean": sum(times) / len(times) / 1000}


def timed(fn, *args, repeat: int = 1):
    """(best seconds over ``repeat`` runs, last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def strtree_within(polys: np.ndarray, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """The reference query: point index, polygon index pairs with the point strictly within the polygon."""
    return shapely.STRtree(polys).query(shapely.points(lons, lats), predicate="within")


def finest_by_strtree(grids: list[Grid], lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Finest base grid code per point via an STRtree over all base grids (closed polygons), "" for none."""
    base = sorted((g for g in grids if g.kind == "base"), key=lambda g: (-g.level, g.code))
    polys = np.array([g.geom for g in base], dtype=object)
    point_idx, poly_idx = shapely.STRtree(polys).query(shapely.points(lons, lats), predicate="intersects")
    best = np.full(len(lons), len(base), dtype=np.int64)
    np.minimum.at(best, point_idx, poly_idx)
    return np.array([g.code for g in base] + [""])[best]


def check_within(pairs: np.ndarray, codes: list[str], assigned: np.ndarray) -> tuple[int, int]:
    """(points compared, mismatches) where the STRtree found exactly one polygon (away from boundaries)."""
    point_idx, poly_idx = pairs
    hits = np.bincount(point_idx, minlength=len(assigned))
    single = hits[point_idx] == 1
    expected = np.array(codes)[poly_idx[single]]
    return int(single.sum()), int((assigned[point_idx[single]] != expected).sum())


# -- PostGIS ----------------------------------------------------------------------


def copy_rows(cur, table: str, rows: Iterator[str]) -> None:
    cur.copy_expert(f"COPY {table} FROM STDIN", io.StringIO("".join(rows)))


def bench_postgis(admin_url: str, grids: list[Grid], lons: np.ndarray, lats: np.ndarray,
                  assigned: np.ndarray) -> dict[str, float]:
    """Load base grids and points with COPY, time the ST_Covers join reduced to the finest grid per point."""
    import psycopg2

    base = sorted((g for g in grids if g.kind == "base"), key=lambda g: (-g.level, g.code))
    with scratch_database(admin_url, "mapserver_bench_lookup") as url:
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cur.execute("CREATE TABLE g (prio int, code text, geom geometry(MultiPolygon, 4326))")
            cur.execute("CREATE TABLE p (id int, geom geometry(Point, 4326))")
            start = time.perf_counter()
            parts, owner = shapely.get_parts(np.array([g.geom for g in base], dtype=object), return_index=True)
            wkb = shapely.to_wkb(shapely.multipolygons(parts, indices=owner), hex=True)
            copy_rows(cur, "g (prio, code, geom)", (f"{k}\t{g.code}\tSRID=4326;{w}\n"
                                                     for k, (g, w) in enumerate(zip(base, wkb, strict=True))))
            pts = shapely.to_wkb(shapely.points(lons, lats), hex=True)
            copy_rows(cur, "p (id, geom)", (f"{k}\tSRID=4326;{w}\n" for k, w in enumerate(pts)))
            cur.execute("CREATE INDEX ON g USING gist (geom)")
            cur.execute("ANALYZE g")
            cur.execute("ANALYZE p")
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            cur.execute("CREATE TABLE r AS SELECT DISTINCT ON (p.id) p.id, g.code FROM p JOIN g "
                        "ON ST_Covers(g.geom, p.geom) ORDER BY p.id, g.prio")
            join_s = time.perf_counter() - start
            cur.execute("SELECT id, code FROM r")
            found = dict(cur.fetchall())
        conn.close()
    expected = np.array([found.get(k, "") for k in range(len(lons))])
    return {"load_s": load_s, "join_s": join_s, "mismatches": int((expected != assigned).sum())}


# -- report -----------------------------------------------------------------------


def row(label: str, seconds: float, n: int, ours: float | None = None) -> str:
    ratio = f"   × {seconds / ours:6.1f} slower than assign" if ours else ""
    return f"  {label:<58} {seconds:8.3f} s  {n / seconds / 1e6:7.2f} M points/s{ratio}"


def report_index(city: City) -> GridIndex:
    counts = {lvl: sum(1 for g in city.grids if g.kind == "base" and g.level == lvl) for lvl in (1, 2, 3, 4)}
    special = sum(1 for g in city.grids if g.kind == "special")
    print(f"city: {city.name}\n  {len(city.grids)} grids (levels 1–4: {counts[1]}, {counts[2]}, {counts[3]}, "
          f"{counts[4]}; {special} special), {len(city.staff)} staff; made in {city.made_s:.1f} s", flush=True)
    build_s, index = timed(GridIndex, city.grids, city.staff)
    st = index.stats()
    print(f"index build: {build_s:.2f} s — cell {st['cell_m']:.1f} m, {st['cells'] / 1e6:.2f} M cells, "
          f"{st['mixed_share']:.1%} of them mixed", flush=True)
    return index


def report_lookup(index: GridIndex, city: City, n: int, seed: int) -> None:
    lons, lats = city.sample(n, seed)
    lk = bench_lookup(index, lons.tolist(), lats.tolist())
    print(f"lookup ({n:,} points, each call timed): median {lk['median']:.2f} µs, p99 {lk['p99']:.2f} µs, "
          f"mean {lk['mean']:.2f} µs", flush=True)


def outside_points(index: GridIndex, grids: list[Grid], n: int, margin_deg: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points no base grid covers within ``margin_deg`` degrees around the grids' bounding box."""
    x0, y0, x1, y1 = shapely.total_bounds(np.array([g.geom for g in grids if g.kind == "base"], dtype=object))
    lons, lats = np.empty(0), np.empty(0)
    while len(lons) < n:
        x = rng.uniform(x0 - margin_deg, x1 + margin_deg, 4 * n)
        y = rng.uniform(y0 - margin_deg, y1 + margin_deg, 4 * n)
        keep = index.assign(x, y) == ""
        lons, lats = np.concatenate([lons, x[keep]]), np.concatenate([lats, y[keep]])
    return lons[:n], lats[:n]


def nearest_brute_force(base: list[Grid], lon: float, lat: float) -> tuple[str, float]:
    """Every base grid measured in the point's frame (shapely, vectorised); ties within 1 mm: finest, smallest
    code; the winner's geodesic distance (what the index reports)."""
    frame = LocalFrame(lon, lat)
    projected = shapely.transform(np.array([g.geom for g in base], dtype=object),
                                  lambda xy: (xy - [lon, lat]) * [frame.mx, frame.my])
    metres = shapely.distance(projected, shapely.Point(0, 0))
    tied = np.flatnonzero(metres <= metres.min() + 1e-3)
    k = min(tied.tolist(), key=lambda k: (-base[k].level, base[k].code))
    return base[k].code, frame.nearest(base[k].geom)[2]


def report_outside(index: GridIndex, city: City, n: int, seed: int) -> int:
    """Lookups of points outside every grid, timed, and checked against brute force; returns mismatches."""
    rng = np.random.default_rng(seed)
    base = [g for g in city.grids if g.kind == "base"]
    near = outside_points(index, city.grids, n, 0.02, rng)
    far = outside_points(index, city.grids, n, 1.0, rng)
    wrong = 0
    print(f"lookup outside every grid (limit {index.max_snap_m:g} m; each call timed; brute force on 20 points "
          "of each kind):", flush=True)
    for label, (lons, lats) in (("within ~2 km of the grids", near), ("within ~100 km", far),
                                ("at (0°, 0°)", (np.zeros(n), np.zeros(n)))):
        times, snapped = [], 0
        for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
            start = time.perf_counter_ns()
            try:
                index.lookup(lon, lat)
                snapped += 1
            except Problem:
                pass
            times.append(time.perf_counter_ns() - start)
        brute_s = []
        for lon, lat in zip(lons[:20].tolist(), lats[:20].tolist(), strict=True):
            start = time.perf_counter()
            code, metres = nearest_brute_force(base, lon, lat)
            brute_s.append(time.perf_counter() - start)
            found = index.lookup(lon, lat, max_snap_m=float("inf"))
            wrong += found.finest.code != code or abs(found.distance_m - metres) > 1e-6
        times.sort()
        median_us = times[len(times) // 2] / 1000
        brute_us = statistics.median(brute_s) * 1e6
        print(f"  {label:<26} median {median_us:8.1f} µs, p99 {times[int(len(times) * 0.99)] / 1000:8.1f} µs "
              f"({snapped} of {n} snapped, the rest 404); brute force {brute_us:,.0f} µs per point "
              f"(× {brute_us / median_us:,.0f})", flush=True)
    print(f"    answers: {wrong} of 60 differ from brute force (grid or distance)", flush=True)
    return wrong


def report_assign(index: GridIndex, city: City, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                             float, int]:
    """Prints the assign comparison; returns the points, the answers, assign seconds and mismatches."""
    lons, lats = city.sample(n, seed)
    assign_s, assigned = timed(index.assign, lons, lats, repeat=3)
    level4 = [g for g in city.grids if g.kind == "base" and g.level == 4]
    tree_s, pairs = timed(strtree_within, np.array([g.geom for g in level4], dtype=object), lons, lats)
    compared, wrong = check_within(pairs, [g.code for g in level4], assigned)
    all_s, finest = timed(finest_by_strtree, city.grids, lons, lats)
    print(f"assign, {n:,} points ({(assigned != '').mean():.1%} inside a grid):", flush=True)
    print(row("GridIndex.assign (best of 3)", assign_s, n))
    print(row("STRtree(level-4 polys).query(points, predicate='within')", tree_s, n, assign_s))
    print(f"    answers: {compared:,} points with one 'within' polygon compared, {wrong} differ")
    print(row("STRtree(all base grids) 'intersects' + finest per point", all_s, n, assign_s))
    wrong_all = int((finest != assigned).sum())
    print(f"    answers: {wrong_all} of {n:,} differ", flush=True)
    return lons, lats, assigned, assign_s, wrong + wrong_all


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--city", choices=("demo", "synthetic"), default="demo" if demo_available() else "synthetic")
    parser.add_argument("--level4", type=int, default=17_000, help="synthetic level-4 grids (default 17000)")
    parser.add_argument("--points", type=int, default=1_000_000, help="points for assign (default 1e6)")
    parser.add_argument("--lookups", type=int, default=100_000, help="points for lookup (default 1e5)")
    parser.add_argument("--outside", type=int, default=2_000, help="points of each kind outside every grid")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine(), flush=True)
    city = make_city(args.city, args.level4, args.seed)
    index = report_index(city)
    report_lookup(index, city, args.lookups, args.seed + 1)
    wrong = report_outside(index, city, args.outside, args.seed + 3)
    lons, lats, assigned, assign_s, wrong_assign = report_assign(index, city, args.points, args.seed + 2)
    wrong += wrong_assign
    admin_url = os.environ.get("MAPSERVER_BENCH_PG")
    if admin_url:
        pg = bench_postgis(admin_url, city.grids, lons, lats, assigned)
        print(row("PostGIS ST_Covers join + finest per point (GiST)", pg["join_s"], args.points, assign_s))
        print(f"    load with COPY + index: {pg['load_s']:.1f} s; answers: {pg['mismatches']} of "
              f"{args.points:,} differ")
        wrong += pg["mismatches"]
    else:
        print("  PostGIS: skipped (set MAPSERVER_BENCH_PG=postgresql://… to compare)")
    return 0 if wrong == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
