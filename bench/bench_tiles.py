"""Benchmark of the wall's vector tiles at a city's counts: per zoom, the slowest and median tile time and the
largest tile, for the cameras, incidents (30-day window), building grids and the ground, beside the naive
reference: the GeoJSON the wall's layer routes would send for the same rectangle (the store's query, every feature,
no cap) as ratios.

The store holds the demo city's map layers (tests/city_layers.py: ten Zhoukou districts, 22,503 grids, 12,268
cameras, 49,383 road edges, 781 key places) and N incidents (default 1,000,000) spread over the city's cameras'
extent and the last 365 days. Their statuses are a working loop's, whose cases are mostly handled within their 3 days:
one reported t days ago is still open with probability e^(-t / 1 day), but never below 1% (the cases that drag on),
spread over reported … handled; the rest closed. That leaves about 12,500 open of 1,000,000 (bench/bench_desk.py
keeps 10,000 open), some 3,500 of them in a 30-day window. Targets (issue 20): a tile ≤ 50 ms and ≤ 100 KB at any
zoom. A PostGIS store is analysed after loading (VACUUM ANALYZE), as autovacuum would have it by the time a wall
asks for tiles.

Usage: python bench/bench_tiles.py [--incidents N] [--tiles-per-zoom K] [--db PATH.db] [--pg URL] [--no-sqlite]
                                   [--zooms 8,9,10]
       MAPSERVER_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres  runs it on PostGIS too (a scratch database)
       --pg URL: a PostGIS database to keep (loaded once when empty, reused after)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg2
from machine import cpu_count, cpu_model  # bench/machine.py (scripts run from bench/)
from scratch import scratch_database
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from layers import cameras as camera_layer
from layers import grids as grid_layer
from layers import incidents as incident_layer
from mapserver.maplayers.features import collection, feature
from mapserver.maplayers.ground import ground_layers
from mapserver.maplayers.reads import incidents_between
from mapserver.model import Incident
from mapserver.store import Store, open_store
from mapserver.store.tile_grid import TileAddress
from mapserver.store.vector_tiles import TileLayer
from tests.city_layers import city_layers, load_layers

ZOOMS = (8, 9, 10, 11, 12, 13, 14, 15, 16)
CHUNK = 50_000
OPEN_STATUSES = np.array(["reported", "dispatched", "accepted", "handled"])
OPEN_DECAY_S = 86400
"""An incident reported t seconds ago is still open with probability e^(-t / OPEN_DECAY_S), but at least OLD_OPEN."""
OLD_OPEN = 0.01
CATEGORIES = np.array(["disputes", "public_security", "fire_hazard", "city_appearance", "roads_facilities"])


def load(store: Store, n: int, seed: int = 1) -> float:
    started = time.perf_counter()
    layers = city_layers()
    load_layers(store, layers)
    xs = np.array([c.geom.x for c in layers["cameras"]])
    ys = np.array([c.geom.y for c in layers["cameras"]])
    rng, now = np.random.default_rng(seed), datetime.now(UTC)
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        # Near cameras (within ~1 km), as cases come where people are; a year of them.
        pick = rng.integers(0, len(xs), size)
        lons, lats = xs[pick] + rng.normal(0, 0.01, size), ys[pick] + rng.normal(0, 0.008, size)
        ages = rng.uniform(0, 365 * 86400, size)
        open_share = np.maximum(np.exp(-ages / OPEN_DECAY_S), OLD_OPEN)
        statuses = np.where(rng.uniform(0, 1, size) < open_share, rng.choice(OPEN_STATUSES, size), "closed")
        batch = []
        for k in range(size):
            reported = now - timedelta(seconds=float(ages[k]))
            point = Point(round(lons[k], 6), round(lats[k], 6))
            batch.append(Incident(id=str(uuid.UUID(int=start + k + 1)), geom=point,
                                  reported_at=reported, category=str(rng.choice(CATEGORIES)), status=str(statuses[k]),
                                  warn_at=reported + timedelta(days=2.25), due_at=reported + timedelta(days=3)))
        store.layers.add("incidents", batch)
    return time.perf_counter() - started


def tile_at(lon: float, lat: float, z: int) -> TileAddress:
    n = 2**z
    row = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return TileAddress(z, int((lon + 180) / 360 * n), int(row))


def busiest_tiles(store: Store, z: int, k: int) -> list[TileAddress]:
    """The k tiles at zoom z holding the most cameras (the city's densest places)."""
    counts: dict[TileAddress, int] = {}
    for camera in store.layers.query("cameras"):
        address = tile_at(camera.geom.x, camera.geom.y, z)
        counts[address] = counts.get(address, 0) + 1
    return sorted(counts, key=lambda a: -counts[a])[:k]


def naive_geojson(store: Store, layer: str, address: TileAddress, since: datetime | None,
                  where: dict | None = None) -> bytes:
    if since is not None:  # as the wall's GeoJSON route reads them: the window in SQL
        records, _ = incidents_between(store, since=since, bbox=address.bounds())
    else:
        records = store.layers.query(layer, bbox=address.bounds(), where=where)
    key = "id" if layer == "incidents" else "code"
    return json.dumps(collection(feature(getattr(r, key), r.geom, {}) for r in records)).encode()


def run(store: Store, label: str, per_zoom: int, reference: bool = True, zooms: tuple[int, ...] = ZOOMS) -> None:
    now = datetime.now(UTC)
    since = now - timedelta(days=30)
    kinds = {
        "cameras": ([TileLayer(layer="cameras", detail_max=camera_layer.TILE_DETAIL_MAX)], "cameras", None, None),
        "incidents 30d": ([TileLayer(layer="incidents", since=since, detail_max=incident_layer.TILE_DETAIL_MAX)],
                          "incidents", since, None),
        "building grids": ([TileLayer(layer="grids", where={"level": 4}, detail_max=grid_layer.TILE_DETAIL_MAX)],
                           "grids", None, {"level": 4}),
    }
    print(f"\n## {label}\n")
    print("| zoom | layer | tiles | median ms | slowest ms | largest KB | aggregated | GeoJSON of the same tile: "
          "slowest ms, largest KB | ratio time, size |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst_ms = worst_kb = 0.0
    for z in zooms:
        tiles = busiest_tiles(store, z, per_zoom)
        for name, (specs, layer, tsince, where) in [*kinds.items(), ("ground", (None, "roads", None, None))]:
            times, sizes, naive_t, naive_s, agg = [], [], [], [], 0
            for address in tiles:
                used = specs if specs is not None else ground_layers(z, store_within())
                store.tiles.tile(address, used, now=now, offline_after_s=300)  # warm the database's cache
                started = time.perf_counter()
                tile = store.tiles.tile(address, used, now=now, offline_after_s=300)
                times.append((time.perf_counter() - started) * 1000)
                sizes.append(len(tile.data) / 1024)
                agg += any(tile.aggregated.values())
                if not reference:
                    naive_t.append(math.nan)
                    naive_s.append(math.nan)
                    continue
                started = time.perf_counter()
                body = naive_geojson(store, layer, address, tsince, where)
                naive_t.append((time.perf_counter() - started) * 1000)
                naive_s.append(len(body) / 1024)
            worst_ms, worst_kb = max(worst_ms, max(times)), max(worst_kb, max(sizes))
            print(f"| {z} | {name} | {len(tiles)} | {statistics.median(times):.1f} | {max(times):.1f} | "
                  f"{max(sizes):.1f} | {agg} | {max(naive_t):.0f}, {max(naive_s):.0f} | "
                  f"{max(times) / max(naive_t):.2f}, {max(sizes) / max(max(naive_s), 0.001):.2f} |", flush=True)
    print(f"\nslowest tile {worst_ms:.1f} ms (target 50), largest {worst_kb:.1f} KB (target 100)")


def analyse(url: str) -> None:
    """VACUUM ANALYZE the PostGIS database just loaded: its planner statistics and visibility map, as autovacuum
    leaves them soon after a load."""
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        conn.cursor().execute("VACUUM ANALYZE")
    finally:
        conn.close()


def store_within():
    from mapserver.jurisdiction import WHOLE

    return WHOLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--tiles-per-zoom", type=int, default=4)
    parser.add_argument("--db", help="a SQLite file to keep (loaded once, reused when it exists)")
    parser.add_argument("--pg", help="a PostGIS database URL to keep (loaded once when empty, reused after)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostGIS only")
    parser.add_argument("--no-reference", action="store_true", help="tiles only, no GeoJSON of the same tiles")
    parser.add_argument("--zooms", default=",".join(map(str, ZOOMS)), help="the zooms to time, e.g. 8,9,10")
    args = parser.parse_args()
    zooms = tuple(int(z) for z in args.zooms.split(","))
    print(f"{cpu_model()}, {cpu_count()} CPUs; load average {os.getloadavg()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if not args.no_sqlite:
        path = Path(args.db or Path(tempfile.mkdtemp()) / "tiles.db")
        fresh = not path.exists()
        store = open_store(f"sqlite:///{path}")
        if fresh:
            store.migrate()
            print(f"SQLite loaded in {load(store, args.incidents):.0f} s")
        run(store, f"SQLite, {store.layers.count('incidents'):,} incidents", args.tiles_per_zoom,
            not args.no_reference, zooms)
        store.close()
    if args.pg:
        pg = open_store(args.pg)
        pg.migrate()
        if pg.layers.count("cameras") == 0:
            print(f"PostGIS loaded in {load(pg, args.incidents):.0f} s")
            analyse(args.pg)
        run(pg, f"PostGIS, {pg.layers.count('incidents'):,} incidents", args.tiles_per_zoom,
            not args.no_reference, zooms)
        pg.close()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if admin:
        with scratch_database(admin, "bench_tiles") as url:
            pg = open_store(url)
            pg.migrate()
            print(f"PostGIS loaded in {load(pg, args.incidents):.0f} s")
            analyse(url)
            run(pg, f"PostGIS, {pg.layers.count('incidents'):,} incidents", args.tiles_per_zoom, zooms=zooms)
            pg.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
