"""Benchmark of reads within a jurisdiction on PostGIS behind `mapserver serve`: one street's incidents, measures
and heat asked by a token bound to that street, against the same reads by a whole-store token naming the street
(``grid=`` / ``code=``).

Target: the scoped read takes at most 1.2 × the explicit one (the jurisdiction is a condition of the same
query, ``grid_l1 = street``, on an indexed column; the explicit filter is ``grid_code = ? OR grid_l1 = ? OR …``).

Setup: a database of its own on the server named by ``MAPSERVER_BENCH_PG`` (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), created and dropped here; the demo district (川汇区, seed 1) loaded
as ``bench_incidents.py`` loads it, then its incidents topped up with shifted copies (or trimmed to the newest)
until the table holds ``--incidents``, then VACUUM ANALYZE; ``mapserver serve`` with ``--workers`` workers.
The street is the demo's street with the most incidents.

Each read is timed over HTTP, scoped and explicit in turn, ``--repeats`` times after one warm-up each; the
figure is the median, in milliseconds. Reads: ``/api/incidents`` (the newest 1,000 and the count),
``/api/kpis`` and ``/api/heat`` (res 8), each over the whole table and over the last 30 days of the data. The
scoped and explicit answers are compared (same count, total, cells), so a fast wrong answer cannot pass.

Usage: MAPSERVER_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres PYTHONPATH=. \\
       python bench/bench_jurisdiction.py [--incidents 1000000] [--repeats 7] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench_incidents import get_json, load_demo, machine, server, sql, timed, top_up  # bench/bench_incidents.py
from scratch import scratch_database

from mapserver.auth import hash_token, new_token
from mapserver.demo import AS_OF
from mapserver.store import open_store

TARGET_RATIO = 1.2


def trim(url: str, target: int) -> int:
    """Keep the newest ``target`` incidents (their timelines with them), the table rewritten; how many are left."""
    sql(url, "DELETE FROM incident_events WHERE incident_id IN (SELECT id FROM incidents ORDER BY reported_at DESC "
             "OFFSET %s)", (target,))
    sql(url, "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents ORDER BY reported_at DESC OFFSET %s)",
        (target,))
    sql(url, "VACUUM FULL ANALYZE incidents")  # rewritten: a scan must not read the pages the deleted rows left
    return int(sql(url, "SELECT count(*) FROM incidents")[0][0])


def busiest_street(url: str) -> tuple[str, str, int]:
    """(code, name, incidents) of the street with the most incidents."""
    code, n = sql(url, "SELECT grid_l1, count(*) FROM incidents WHERE grid_l1 IS NOT NULL GROUP BY grid_l1 "
                       "ORDER BY 2 DESC LIMIT 1")[0]
    name = sql(url, "SELECT name FROM grids WHERE code = %s", (code,))[0][0]
    return str(code), str(name), int(n)


def reads(street: str, since: str, until: str) -> dict[str, tuple[str, str, Any]]:
    """label → (scoped query, explicit query, what must agree) for each read."""
    window = f"since={urllib.parse.quote(since)}&until={urllib.parse.quote(until)}"
    out: dict[str, tuple[str, str, Any]] = {}
    for span, query in (("whole table", ""), ("30 days", window)):
        out[f"/api/incidents, {span}"] = (f"/api/incidents?{query}", f"/api/incidents?{query}&grid={street}",
                                          lambda body: (body["numberMatched"], [f["id"] for f in body["features"]]))
        out[f"/api/kpis, {span}"] = (f"/api/kpis?{query}", f"/api/kpis?{query}&code={street}",
                                     lambda body: {k: v for k, v in body.items() if k != "generated_at"})
        out[f"/api/heat res 8, {span}"] = (f"/api/heat?res=8&{query}", f"/api/heat?res=8&{query}&grid={street}",
                                          lambda body: body["cells"])
    return out


def timed_get(base: str, path: str, token: str) -> tuple[float, Any]:
    """Milliseconds of one GET over HTTP, and its JSON answer."""
    started = time.perf_counter()
    body = get_json(f"{base}{path}", token)
    return (time.perf_counter() - started) * 1000, body


def bench(base: str, scoped_token: str, whole_token: str, street: str, repeats: int) -> list[tuple[str, float, float]]:
    """(label, scoped ms, explicit ms) per read: medians, the two taken in turn so drift touches both alike."""
    since, until = (AS_OF - timedelta(days=30)).isoformat(), AS_OF.isoformat()
    rows = []
    for label, (scoped, explicit, agree) in reads(street, since, until).items():
        _, scoped_body = timed_get(base, scoped, scoped_token)  # warm: plans cached, pages in memory
        _, explicit_body = timed_get(base, explicit, whole_token)
        if agree(scoped_body) != agree(explicit_body):
            raise SystemExit(f"{label}: the scoped answer differs from the explicit one")
        times: dict[str, list[float]] = {"scoped": [], "explicit": []}
        for _ in range(repeats):
            times["scoped"].append(timed_get(base, scoped, scoped_token)[0])
            times["explicit"].append(timed_get(base, explicit, whole_token)[0])
        rows.append((label, statistics.median(times["scoped"]), statistics.median(times["explicit"])))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="incidents in the table")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls of each read, scoped and explicit")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if not admin:
        print("skipped: set MAPSERVER_BENCH_PG to an admin URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
        return 0
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, scratch_database(admin, "mapserver_bench_jurisdiction") as url:
        store = open_store(url)
        try:
            city = load_demo(store, url)
            have = int(sql(url, "SELECT count(*) FROM incidents")[0][0])
            if have < args.incidents:
                total = timed(f"top up to {args.incidents:,} incidents and VACUUM ANALYZE",
                              lambda: top_up(url, args.incidents, [i.id for i in city.incidents]))
            else:
                total = timed(f"keep the newest {args.incidents:,} incidents", lambda: trim(url, args.incidents))
            street, name, in_street = busiest_street(url)
            scoped_token, whole_token = new_token(), new_token()
            store.tokens.add(name="bench-street", role="viewer", token_hash=hash_token(scoped_token), grid_code=street)
            store.tokens.add(name="bench-district", role="viewer", token_hash=hash_token(whole_token))
            with server(url, args.workers, Path(tmp)) as (base, _):
                rows = bench(base, scoped_token, whole_token, street, args.repeats)
        finally:
            store.close()
    print(f"-- {name} ({street}): {in_street:,} of {total:,} incidents; median of {args.repeats} calls over HTTP, "
          f"{args.workers} workers; scoped = a token bound to the street, explicit = a whole-store token with "
          "grid= / code=")
    worst = 0.0
    for label, scoped_ms, explicit_ms in rows:
        ratio = scoped_ms / explicit_ms
        worst = max(worst, ratio)
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"{label:34s} scoped {scoped_ms:8.1f} ms  explicit {explicit_ms:8.1f} ms  ratio {ratio:5.2f} "
              f"(target ≤ {TARGET_RATIO}: {verdict})")
    print(f"worst ratio {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
