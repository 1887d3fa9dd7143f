"""Benchmark of CQL2 filters on the OGC API over 1,000,000 incidents on PostGIS, against the same query written by hand.

Targets (issue 22), on this 2-core machine: a CQL2 filter on category, status and a 30-day window, first page of
100, ≤ 150 ms; the same with an ``S_INTERSECTS`` on a street polygon ≤ 250 ms.

Setup: a database of its own on the server named by ``MAPSERVER_BENCH_PG`` (default
postgresql://postgres@127.0.0.1:5432/postgres), created and dropped here; ``--incidents`` incidents (default
1,000,000) written by one INSERT … SELECT over generate_series (points over the Chuanhui district's box, a year of
times, five categories, nine statuses), then VACUUM ANALYZE. Each request goes through the app
(``GET /ogc/collections/incidents/items?limit=100&filter=…``, Flask's test client, a viewer token: the page and
numberMatched, as a client gets them); the reference is the same page and count written by hand in SQL over
psycopg2. Median of 7 after one warm-up. Times in ms; ratio = time ÷ budget (≤ 1 meets it), and app ÷ hand-written.

Usage: python bench/bench_ogc_filter.py [--incidents 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from machine import cpu_count, cpu_model  # noqa: E402  (bench/machine.py; scripts run from bench/)

from mapserver import create_app  # noqa: E402
from mapserver.auth import hash_token, new_token  # noqa: E402
from mapserver.config import Settings, StoreSettings  # noqa: E402
from mapserver.store import open_store  # noqa: E402

ADMIN = os.environ.get("MAPSERVER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SINCE, UNTIL = "2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"
STREET = ("POLYGON((114.62 33.60, 114.66 33.60, 114.67 33.62, 114.66 33.64, 114.63 33.645, 114.61 33.63, "
          "114.62 33.60))")
FILTERS = {
    "category, status, 30 days": (
        f"category = 'disputes' AND status IN ('reported', 'dispatched', 'accepted') AND "
        f"T_INTERSECTS(reported_at, INTERVAL('{SINCE}', '{UNTIL}'))", 150.0,
        "category = 'disputes' AND status IN ('reported', 'dispatched', 'accepted') AND "
        "reported_at >= %(since)s AND reported_at <= %(until)s"),
    "… and S_INTERSECTS a street": (
        f"category = 'disputes' AND status IN ('reported', 'dispatched', 'accepted') AND "
        f"T_INTERSECTS(reported_at, INTERVAL('{SINCE}', '{UNTIL}')) AND S_INTERSECTS(geometry, {STREET})", 250.0,
        "category = 'disputes' AND status IN ('reported', 'dispatched', 'accepted') AND "
        "reported_at >= %(since)s AND reported_at <= %(until)s AND "
        "ST_Intersects(geom, ST_GeomFromText(%(street)s, 4326))"),
}
COLUMNS = ("id, ST_AsBinary(geom), reported_at, category, severity, status, grid_code, description, extra::text, "
           "source, address, reporter, unit, due_at, warn_at, dispatched_at, closed_at, escalation, version")
FILL = """
INSERT INTO incidents (id, geom, reported_at, category, severity, status, description, extra, source, address,
                       reporter, version, reopen_count)
SELECT md5(g::text), ST_SetSRID(ST_MakePoint(114.55 + random() * 0.2, 33.55 + random() * 0.15), 4326),
       timestamptz '2026-01-01 00:00:00+00' + random() * interval '365 days',
       (ARRAY['disputes','security','sanitation','traffic','facilities'])[1 + (g %% 5)],
       (ARRAY['general','important','urgent'])[1 + (g %% 3)],
       (ARRAY['reported','dispatched','grabbed','accepted','joint','handled','verified','closed','returned'])
           [1 + (g %% 9)],
       '', '{}', 'grid_worker', '', '', 1, 0
FROM generate_series(1, %s) AS g
"""


def _median_ms(run, times: int = 7) -> float:
    run()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    args = parser.parse_args()
    name = f"mapserver_bench_ogc_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        store = open_store(url)
        store.migrate()
        conn = psycopg2.connect(url)
        conn.autocommit = True
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(FILL, (args.incidents,))
            cur.execute("VACUUM ANALYZE incidents")
        print(f"{args.incidents:,} incidents written and analysed in {time.perf_counter() - started:.1f} s")
        secret = new_token()
        store.tokens.add(name="bench", role="viewer", token_hash=hash_token(secret))
        app = create_app(Settings(store=StoreSettings(url=url)), store=store)
        client, headers = app.test_client(), {"Authorization": f"Bearer {secret}"}
        print(f"{cpu_model()}, {cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        print(f"{'filter':32} {'app ms':>8} {'budget':>7} {'ratio':>6} {'hand ms':>8} {'app/hand':>8} matched")
        for label, (cql, budget, where) in FILTERS.items():
            path = f"/ogc/collections/incidents/items?limit=100&filter={quote(cql)}"
            body = client.get(path, headers=headers).get_json()
            assert "features" in body, body
            app_ms = _median_ms(lambda path=path: client.get(path, headers=headers).get_data())
            values = {"since": SINCE, "until": UNTIL, "street": STREET}

            def by_hand(where: str = where, values: dict = values) -> None:
                with conn.cursor() as cur:
                    cur.execute(f"SELECT {COLUMNS} FROM incidents WHERE {where} "
                                "ORDER BY reported_at DESC, id LIMIT 100", values)
                    cur.fetchall()
                    cur.execute(f"SELECT count(*) FROM incidents WHERE {where}", values)
                    cur.fetchone()

            hand_ms = _median_ms(by_hand)
            print(f"{label:32} {app_ms:8.1f} {budget:7.0f} {app_ms / budget:6.2f} {hand_ms:8.1f} "
                  f"{app_ms / hand_ms:8.2f} {body['numberMatched']:,}")
        conn.close()
        store.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
