"""Benchmark of the wall's panels (GET /api/screen/panels) at city scale on PostGIS: ≤ 150 ms for the answer.

Setup: a database of its own on the server named by ``MAPSERVER_BENCH_PG`` (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), created and dropped here; the demo city at ``--scale city`` (all
ten Zhoukou districts: about 17,000 building grids and 1,000,000 incidents over a year) built with its year ending
now, so the panels' 60 days hold about 165,000 incidents; then VACUUM ANALYZE.

Each figure is the server time of the answer through the Flask test client (the app as ``mapserver serve`` runs
it, without the HTTP server), median of ``--repeats`` calls, for a viewer of the whole city, of one street and of
one community, for each window (today, 7 days, 30 days). Before each call the incidents' data version is bumped (a
no-op write), so every call builds its answer rather than reading the server's answer cache; the nothing-changed
poll (If-None-Match, 304) is timed apart.

Usage: cd bench && MAPSERVER_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres PYTHONPATH=..:. \\
       python bench_panels.py [--repeats 9] [--seed 1]
       PYTHONPATH=..:. python bench_panels.py --store postgresql://…/db   measures a store loaded before (by this
       script's load or ``mapserver demo --scale city --as-of now``), leaving its data as it was but for a token each
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

from bench_incidents import machine, sql, timed  # bench/bench_incidents.py
from scratch import scratch_database

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import Settings, StoreSettings
from mapserver.demo import build_city, load_city
from mapserver.store import Store, open_store

TARGET_MS = 150.0
WINDOWS = ("today", "7d", "30d")


def token(store: Store, name: str, grid: str | None) -> dict[str, str]:
    secret = new_token()
    store.tokens.add(name=name, role="viewer", token_hash=hash_token(secret), grid_code=grid)
    return {"Authorization": f"Bearer {secret}", "Accept-Encoding": "gzip"}


def busiest(url: str, level: int) -> str:
    """The grid of ``level`` with the most incidents over the last 30 days (the heaviest answer of its kind)."""
    column = f"grid_l{level}"
    return sql(url, f"SELECT {column} FROM incidents WHERE reported_at >= now() - interval '30 days' "
                    f"AND {column} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]


def build_ms(client, store: Store, headers: dict[str, str], window: str, repeats: int) -> tuple[float, int]:
    """Median milliseconds of a fresh answer, and its size in bytes over the wire (gzip)."""
    times, size = [], 0
    for _ in range(repeats):
        store.database.bump_version("incidents")
        started = time.perf_counter()
        resp = client.get(f"/api/screen/panels?window={window}", headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.data[:300]
        size = len(resp.data)
    return statistics.median(times), size


def poll_ms(client, headers: dict[str, str], repeats: int) -> float:
    """Median milliseconds of a poll with nothing changed (304)."""
    tag = client.get("/api/screen/panels?window=30d", headers=headers).headers["ETag"]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        resp = client.get("/api/screen/panels?window=30d", headers={**headers, "If-None-Match": tag})
        times.append((time.perf_counter() - started) * 1000)
        if resp.status_code == 200:  # the clock's minute turned: a new answer, polled again
            tag = resp.headers["ETag"]
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", help="a PostGIS store holding the city already (nothing is built or dropped)")
    args = parser.parse_args()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if not admin and not args.store:
        print("skipped: set MAPSERVER_BENCH_PG to an admin URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
        return 0
    print(f"machine: {machine()}")
    if args.store:
        return measure(args.store, args.repeats, build=None)
    with scratch_database(admin, "mapserver_bench_panels") as url:
        return measure(url, args.repeats, build=args.seed)


def measure(url: str, repeats: int, *, build: int | None) -> int:
    """Build the city with seed ``build`` into the empty database at ``url`` (None: it is there), then measure."""
    store = open_store(url)
    try:
        if build is not None:
            store.migrate()
            city = timed("build the demo city (ten districts), its year ending now",
                         lambda: build_city(seed=build, scale="city", as_of=datetime.now(UTC)))
            timed("load it", lambda: load_city(store, city, progress=False))
            sql(url, "VACUUM ANALYZE")
        incidents, grids = (sql(url, f"SELECT count(*) FROM {t}")[0][0] for t in ("incidents", "grids"))
        recent = sql(url, "SELECT count(*) FROM incidents WHERE reported_at >= now() - interval '60 days'")[0][0]
        print(f"   {incidents:,} incidents ({recent:,} in the last 60 days), {grids:,} grids")
        app = create_app(Settings(store=StoreSettings(url=url)), store=store)
        client = app.test_client()
        suffix = uuid.uuid4().hex[:6]
        viewers = {"whole city": token(store, f"bench-city-{suffix}", None),
                   "one street": token(store, f"bench-street-{suffix}", busiest(url, 1)),
                   "one community": token(store, f"bench-community-{suffix}", busiest(url, 2))}
        worst = 0.0
        for who, headers in viewers.items():
            build_ms(client, store, headers, "30d", 2)  # warm the connection and the caches of the database
            for window in WINDOWS:
                ms, size = build_ms(client, store, headers, window, repeats)
                worst = max(worst, ms)
                print(f"   {who:>13}, window {window:>5}: {ms:6.1f} ms ({ms / TARGET_MS:.2f} of the "
                      f"{TARGET_MS:.0f} ms budget), {size / 1024:.1f} KB gzipped")
            print(f"   {who:>13}, nothing changed: {poll_ms(client, headers, repeats):.2f} ms (304)")
        print(f"slowest answer {worst:.1f} ms: {worst / TARGET_MS:.2f} of the budget "
              f"({'meets' if worst <= TARGET_MS else 'misses'} it); load average now "
              f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
