"""Patrol tracks on PostGIS: ingest rate of position batches, one person's day track with its measures over a year
of stored tracks, and the live positions layer for 2,000 workers, each beside its budget.

Usage: python bench/bench_tracks.py [--workers 2000] [--days 365] [--per-day 24] [--pg postgresql://…/postgres]

A database of its own is created on the server (``--pg``, default $MAPSERVER_TEST_PG or the local one) and
dropped after. The history is loaded by the store's bulk path (COPY, ``store.tracks.copy_fixes``): ``--workers``
people × ``--days`` days before today, ``--per-day`` fixes each day (one every 5 minutes from 09:00 local), so
the table holds a year of months with the partitions and indexes a real one has. The day measured is a dense
one: one worker's 8-hour patrol yesterday at a fix every 10 s (2,880 fixes), stored with the history.

1. Ingest: batches of 5,000 fixes (20 workers, each 10 batches of a walk at 1 fix/s), through what the
   positions endpoint runs: JSON decode, per-fix checks and the filter against the last stored fix, then the
   store's INSERT (``ON CONFLICT DO NOTHING``). Budget ≥ 20,000 fixes/s.
2. Day: the store's read of the dense day, its measures (distance on the ellipsoid, time moving, time inside
   the worker's grid) and its line, as the day endpoint computes them; median and slowest of 30 runs. Budget
   ≤ 50 ms.
3. Live: every worker with 30 fixes in the last 5 minutes; ``GET /api/positions/live`` for the whole store
   through the app (an admin token), median and slowest of 30. Budget ≤ 100 ms.
4. The monthly assessment of last month for every grid worker: the first ask (which measures and keeps each
   finished day) and later ones (which sum the kept days). No budget is set; the figures say what a page costs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time as clock
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import psycopg2
from psycopg2 import sql
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_count, cpu_model

from mapserver import create_app
from mapserver.assessment.month import parse_month
from mapserver.assessment.monthly import assess_month
from mapserver.auth import hash_token, new_token
from mapserver.config import AssessmentSettings, Settings, StoreSettings
from mapserver.model import Grid
from mapserver.store import open_store
from mapserver.store.assessment import WorkerScope
from mapserver.store.month_partitions import month_key
from mapserver.tracks.fixes import batch_items, decode_batch, sort_batch
from mapserver.tracks.measures import day_measures, day_window, track_geometry

ZONE = "Asia/Shanghai"
LON0, LAT0 = 114.60, 33.60
GRID = "4101"


def admin_url(pg: str, database: str) -> str:
    return pg.rsplit("/", 1)[0] + "/" + database


def worker_name(k: int) -> str:
    return f"w{k:04d}"


def history_rows(workers: int, days: int, per_day: int, rng: np.random.Generator):
    """(person, time, lon, lat, accuracy) for each worker and day, oldest day first; and the months they touch."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    months = set()
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(9), ZoneInfo(ZONE)).astimezone(UTC)
        months.add(month_key(start))
    steps = [timedelta(minutes=5 * j) for j in range(per_day)]

    def rows():
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            start = datetime.combine(day, time(9), ZoneInfo(ZONE)).astimezone(UTC)
            times = [start + s for s in steps]
            for k in range(workers):
                lon = LON0 + (k % 50) * 0.001 + np.cumsum(rng.normal(0, 0.0004, per_day))
                lat = LAT0 + (k // 50) * 0.001 + np.cumsum(rng.normal(0, 0.0004, per_day))
                person = worker_name(k)
                yield from zip([person] * per_day, times, lon.tolist(), lat.tolist(), [8.0] * per_day, strict=True)

    return rows(), months


def dense_day(person: str, day: date) -> list[tuple]:
    """An 8-hour walk from 08:00 local at 1.2 m/s, a fix every 10 s, inside the grid (WGS-84)."""
    start = datetime.combine(day, time(8), ZoneInfo(ZONE)).astimezone(UTC)
    rng = np.random.default_rng(7)
    heading = np.cumsum(rng.normal(0, 0.3, 2880))
    step = 12.0 / 111_000
    lon = LON0 + 0.02 + np.cumsum(np.cos(heading) * step / np.cos(np.radians(LAT0))) * 0.2
    lat = LAT0 + 0.02 + np.cumsum(np.sin(heading) * step) * 0.2
    return [(person, start + timedelta(seconds=10 * j), float(lon[j]), float(lat[j]), 5.0) for j in range(2880)]


def timed(fn, runs: int) -> tuple[float, float]:
    laps = []
    for _ in range(runs):
        t = clock.perf_counter()
        fn()
        laps.append((clock.perf_counter() - t) * 1000)
    return statistics.median(laps), max(laps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=24)
    parser.add_argument("--pg", default=os.environ.get("MAPSERVER_TEST_PG",
                                                       "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    name = f"mapserver_bench_tracks_{uuid.uuid4().hex[:6]}"
    admin = psycopg2.connect(args.pg)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin_url(args.pg, name)
    print(f"machine: {cpu_model()}, {cpu_count()} CPUs; PostGIS database {name}")
    try:
        run(url, args)
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def run(url: str, args: argparse.Namespace) -> None:
    store = open_store(url, pool_max=4)
    store.migrate()
    store.layers.add("grids", [Grid(code=GRID, level=1, name="西街道", geom=box(LON0 - 0.05, LAT0 - 0.05, LON0 + 0.15,
                                                                               LAT0 + 0.15))])
    now = datetime.now(UTC)
    with store.transaction():
        for k in range(args.workers):
            store.accounts.add(name=worker_name(k), role="field" if k % 4 else "liaison", grid_code=GRID,
                               password_hash="x", now=now)
    # -- the year of history, by COPY
    rng = np.random.default_rng(1)
    rows, months = history_rows(args.workers, args.days, args.per_day, rng)
    t = clock.perf_counter()
    loaded = store.tracks.copy_fixes(rows, months)
    yesterday = datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=1)
    dense = dense_day("dense", yesterday)
    loaded += store.tracks.copy_fixes(iter(dense), {month_key(dense[0][1]), month_key(dense[-1][1])})
    store.accounts.add(name="dense", role="field", grid_code=GRID, password_hash="x", now=now)
    build_s = clock.perf_counter() - t
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE positions")
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('positions')), "
                    "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass)")
        _, partitions = cur.fetchone()
        cur.execute("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
                    "WHERE inhparent = 'positions'::regclass")
        total_bytes = int(cur.fetchone()[0])
    conn.close()
    print(f"history: {loaded:,} fixes ({args.workers} workers × {args.days} days × {args.per_day} fixes, plus one "
          f"dense day of 2,880) loaded by COPY in {build_s:.0f} s ({loaded / build_s:,.0f} fixes/s); "
          f"{partitions} monthly partitions, {total_bytes / 2**30:.2f} GiB with indexes")

    # -- 1. ingest through the endpoint's path
    batches = []
    base = datetime.now(UTC) - timedelta(hours=20)
    for k in range(20):
        for b in range(10):
            t0 = base + timedelta(seconds=5000 * b)
            fixes = [{"lon": LON0 + 0.00001 * (5000 * b + j), "lat": LAT0 + 0.001 * k,
                      "t": (t0 + timedelta(seconds=j)).isoformat(), "accuracy": 6} for j in range(5000)]
            batches.append((f"ingest{k:02d}", json.dumps({"fixes": fixes}).encode()))
    t = clock.perf_counter()
    stored = 0
    for person, raw in batches:
        items, crs = batch_items(decode_batch(raw))

        def previous(when: datetime, person: str = person) -> tuple[datetime, float, float] | None:
            fix = store.tracks.fix_before(person, when)
            return None if fix is None else (fix.t, fix.lon, fix.lat)

        kept = sort_batch(items, now=datetime.now(UTC), zone=ZONE, previous=previous,
                          crs=crs).kept
        stored += store.tracks.add_fixes(person, [f.t for f in kept], [f.lon for f in kept], [f.lat for f in kept],
                                         [f.accuracy_m for f in kept])
    ingest_s = clock.perf_counter() - t
    rate = stored / ingest_s
    print(f"1. ingest: {stored:,} fixes in {len(batches)} batches of 5,000 in {ingest_s:.1f} s = {rate:,.0f} fixes/s "
          f"(budget ≥ 20,000; ratio {rate / 20000:.2f})")

    # -- 2. one person's day and its measures
    grid = store.grids.area(store.grids.jurisdiction(GRID))
    since, until = day_window(yesterday, ZONE)

    def day() -> None:
        track = store.tracks.track("dense", since, until)
        day_measures(track.seconds, track.lon, track.lat, grid)
        track_geometry(track.seconds, track.lon, track.lat)
        assert len(track) == 2880

    def sparse_day() -> None:
        store.tracks.track(worker_name(7), since, until)

    store_only, _ = timed(lambda: store.tracks.track("dense", since, until), 30)
    median, worst = timed(day, 30)
    sparse_median, _ = timed(sparse_day, 30)
    print(f"2. day track + measures (2,880 fixes): median {median:.1f} ms, slowest {worst:.1f} ms "
          f"(budget ≤ 50 ms; ratio {median / 50:.2f}); of which the store's read {store_only:.1f} ms; a sparse "
          f"worker's day read: {sparse_median:.1f} ms")

    # -- 3. live positions for every worker
    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=290)

    def live_rows():
        for k in range(args.workers):
            for j in range(30):
                yield (worker_name(k), recent + timedelta(seconds=10 * j), LON0 + (k % 50) * 0.001 + j * 1e-5,
                       LAT0 + (k // 50) * 0.001, 6.0)

    store.tracks.copy_fixes(live_rows(), {month_key(recent), month_key(datetime.now(UTC))})
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ANALYZE positions")
    conn.close()
    app = create_app(Settings(store=StoreSettings(url=url)), store=store)
    secret = new_token()
    store.tokens.add(name="bench-admin", role="admin", token_hash=hash_token(secret))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    first = client.get("/api/positions/live", headers=headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    count = len(first.get_json()["features"])

    def live() -> None:
        assert client.get("/api/positions/live", headers=headers).status_code == 200

    median, worst = timed(live, 30)

    def features() -> None:
        store.tracks.live_features(now=datetime.now(UTC), minutes=5, trail=10)

    def unchanged() -> None:
        tagged = {**headers, "If-None-Match": first.headers["ETag"]}
        assert client.get("/api/positions/live", headers=tagged).status_code in (200, 304)

    (made, _), (polled, _) = timed(features, 30), timed(unchanged, 30)
    print(f"3. live positions ({count:,} people on patrol, trail of 10): median {median:.1f} ms, slowest "
          f"{worst:.1f} ms (budget ≤ 100 ms; ratio {median / 100:.2f}); of which the store's one statement "
          f"(layer and version) {made:.1f} ms; a poll with the ETag {polled:.1f} ms")
    assessment(store, args)
    store.close()


def assessment(store, args: argparse.Namespace) -> None:
    """4. The last whole month assessed for every grid worker of the store: the first ask measures and keeps each
    finished day (``track_days``), later asks sum the kept days."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    month = parse_month((today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"), today)

    def ask() -> int:
        result = assess_month(store, AssessmentSettings(), WorkerScope(), month, zone=ZONE, today=today)
        return len(result.rows)

    t = clock.perf_counter()
    people = ask()
    first = (clock.perf_counter() - t) * 1000
    median, worst = timed(ask, 10)
    print(f"4. monthly assessment of {month.key} ({people:,} grid workers, {len(month.days())} days, "
          f"{args.per_day} fixes a day each): first ask, measuring and keeping every day, {first:,.0f} ms; "
          f"later asks from the kept days: median {median:.1f} ms, slowest {worst:.1f} ms")


if __name__ == "__main__":
    main()
