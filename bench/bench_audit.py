"""The audit trail's costs: what one record adds to a write, and ``GET /api/audit`` over a large trail.

Usage: python bench/bench_audit.py [--writes N] [--records N]
SQLite always (a scratch file); PostGIS too when MAPSERVER_BENCH_PG holds an
admin URL (postgresql://postgres@127.0.0.1:5432/postgres; a scratch database,
dropped afterwards).

- write: a one-camera heartbeat in its own transaction, alone and with its
  audit record in the same transaction (as the routes do), alternating in
  blocks; microseconds per write (median of blocks), and the ratio.
- read: ``GET /api/audit`` in-process (Flask test client, admin token) over a
  trail of ``--records`` records (50 actors, 8 actions, one minute apart):
  the newest page, by actor, by action, by target, and the last hour;
  milliseconds per call (median of 5). Issue 9 sets no figure for these; they
  are shown against 300 ms, the target the other read routes (``/api/kpis``) are held to.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_demo import machine
from scratch import scratch_database

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import Settings, StoreSettings
from mapserver.store import Store, open_store
from mapserver.store.audit import AuditRecord
from tests.samples import CAMERAS, load_all

READ_REFERENCE_MS = 300.0
BLOCK = 100  # writes per block; blocks of the two variants alternate so drift hits both alike
ACTIONS = ("import", "incident.report", "incident.transition", "camera.heartbeats", "token.create", "token.revoke",
           "incidents.reassign", "demo.load")
START = datetime(2025, 11, 1, tzinfo=UTC)


def write_costs(store: Store, writes: int) -> tuple[float, float]:
    """Microseconds per heartbeat write without and with its audit record (median of blocks)."""
    code = CAMERAS[0].code

    def block(audited: bool) -> float:
        started = time.perf_counter()
        for _ in range(BLOCK):
            now = datetime.now(UTC)
            with store.transaction():
                store.cameras.heartbeats([code], at=now)
                if audited:
                    store.audit.append(AuditRecord(at=now, actor="bench", role="operator", action="camera.heartbeats",
                                                   target=code, detail={"count": 1}, remote_addr="10.0.0.1",
                                                   request_id=uuid.uuid4().hex))
        return (time.perf_counter() - started) / BLOCK * 1e6

    block(False), block(True)  # warm up both paths
    plain, audited = [], []
    for _ in range(max(1, writes // BLOCK)):
        plain.append(block(False))
        audited.append(block(True))
    return statistics.median(plain), statistics.median(audited)


def _rows(count: int) -> Iterator[tuple]:
    for i in range(count):
        yield ((START + timedelta(minutes=i)).isoformat(timespec="microseconds"), f"user-{i % 50}", "operator",
               ACTIONS[i % len(ACTIONS)], f"target-{i % 10_000}", '{"count": 1}', "10.0.0.1", f"req-{i}")


def fill_trail(store: Store, count: int) -> None:
    """``count`` records straight into the table (the bench measures reads, not this)."""
    if store.kind == "sqlite":
        conn = store.database._connection()
        with store.transaction():
            conn.executemany("INSERT INTO audit_log (at, actor, role, action, target, detail, remote_addr, "
                             "request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _rows(count))
        return
    actions = sql.SQL(", ").join(sql.Literal(a) for a in ACTIONS)
    with store.transaction(), store.database._cursor() as cur:
        cur.execute(sql.SQL(
            "INSERT INTO audit_log (at, actor, role, action, target, detail, remote_addr, request_id) "
            "SELECT %s::timestamptz + i * interval '1 minute', 'user-' || (i %% 50), 'operator', "
            "(ARRAY[{}])[1 + i %% {}], 'target-' || (i %% 10000), '{{\"count\": 1}}', '10.0.0.1', 'req-' || i "
            "FROM generate_series(0, %s - 1) AS i").format(actions, sql.Literal(len(ACTIONS))), (START, count))
        cur.execute("ANALYZE audit_log")


def read_costs(store: Store, count: int) -> dict[str, float]:
    """Milliseconds per ``GET /api/audit`` call (median of 5) for each kind of query."""
    app = create_app(Settings(store=StoreSettings(url=store.url)), store=store)
    secret = new_token()
    store.tokens.add(name=f"bench-{uuid.uuid4().hex[:6]}", role="admin", token_hash=hash_token(secret))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    last_hour = (START + timedelta(minutes=count - 60)).isoformat()
    queries = {"newest 100": "", "by actor": "actor=user-7", "by action": "action=token.revoke",
               "by target": "target=target-42", "last hour": f"since={last_hour.replace('+', '%2B')}"}
    out = {}
    for name, query in queries.items():
        times = []
        for _ in range(5):
            started = time.perf_counter()
            resp = client.get(f"/api/audit?{query}", headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if resp.status_code != 200:
                raise SystemExit(f"{name}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
        out[name] = statistics.median(times)
    return out


def measure(label: str, store: Store, args: argparse.Namespace) -> None:
    load_all(store)
    plain, audited = write_costs(store, args.writes)
    print(f"{label}: heartbeat write {plain:,.0f} µs alone, {audited:,.0f} µs with its audit record "
          f"(+{audited - plain:,.0f} µs, ×{audited / plain:.2f})", flush=True)
    started = time.perf_counter()
    fill_trail(store, args.records)
    print(f"{label}: {args.records:,} records written in {time.perf_counter() - started:.1f} s (setup)", flush=True)
    for name, ms in read_costs(store, args.records).items():
        print(f"{label}: GET /api/audit {name}: {ms:,.1f} ms (÷ {READ_REFERENCE_MS:.0f} ms = "
              f"{ms / READ_REFERENCE_MS:.2f})", flush=True)


def _with_postgis(admin: str, run: Callable[[Store], None]) -> None:
    with scratch_database(admin, "mapserver_bench_audit") as url:
        store = open_store(url)
        store.migrate()
        try:
            run(store)
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000, help="writes per variant")
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the trail for the reads")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'audit.db'}")
        store.migrate()
        measure("SQLite", store, args)
        store.close()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if admin:
        _with_postgis(admin, lambda store: measure("PostGIS", store, args))
    else:
        print("PostGIS skipped (set MAPSERVER_BENCH_PG to an admin URL)")


if __name__ == "__main__":
    main()
