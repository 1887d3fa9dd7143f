"""Benchmark of the work desk on PostGIS behind `mapserver serve`: the first page of 待派单 with every tab's count,
the data of a case page, and the CPU that idle desks polling every 2 s cost.

Targets: the answer (counts and the first 50 cases of 待派单, for a whole-district dispatcher and for a street's)
built in at most 150 ms and at most 200 KB over the wire; a case page's data (the requests the page makes on
opening one case, timed one after another: the browser asks for the case and its cameras together once the page is
in, so their sum is the pessimistic figure) in at most 100 ms; ``--pollers`` idle desks (default 200) polling every
2 s, each answered 304, cost at most a quarter of one core (server processes and PostgreSQL backends together).

Setup: a database of its own on the server named by ``MAPSERVER_BENCH_PG`` (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), created and dropped here; the demo district (川汇区, seed 1) loaded
as ``bench_incidents.py`` loads it, its incidents topped up with shifted copies until the table holds
``--incidents``. The demo keeps almost every incident closed (its closure rate), so the newest closed ones are
reopened until ``--open`` are open: spread over the open statuses (40% waiting for dispatch), due between a day
ago and five days ahead (so some are overdue), 3% whistled; then VACUUM ANALYZE and ``mapserver serve`` with
``--workers`` workers.

The people are logged in (a session cookie each, as the page polls): a district dispatcher and one operator per
street. Build time: the data version is bumped before each call (a no-op write), so every call builds its answer
instead of reading the server's answer cache; the figure is the median of ``--repeats`` calls over HTTP, with gzip
accepted as a browser does. Case page: for ``--cases`` open and as many closed cases (a sample spread over the
table by a hash of the id), the page ``/desk/cases/<id>`` (its configuration carries the grid card and the grid's
outline), the case with its timeline ``/api/incidents/<id>`` and the cameras that see it
``/api/incidents/<id>/cameras``, each asked by the district dispatcher and by the case's street operator (each
sampled case is first given the loop's timeline up to its status: the demo writes none); the figure per request is
the median over the sample of the median of ``--repeats`` calls, the page's data the median of the three requests'
sum. Idle CPU: ``--pollers`` threads, each one desk of those people, send If-None-Match
every 2 s for ``--seconds``; the CPU seconds of the server's process group and of every ``postgres`` process over
that time, divided by the time, is the share of one core.

Usage: MAPSERVER_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres PYTHONPATH=. \\
       python bench/bench_desk.py [--incidents 1000000] [--open 10000] [--repeats 9] [--pollers 200] \\
       [--seconds 30] [--workers 2] [--cases 20]

``--pollers 0`` leaves the idle desks out.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench_incidents import load_demo, machine, server, sql, timed, top_up  # bench/bench_incidents.py
from machine import command_cpu_s, group_cpu_s
from scratch import scratch_database

from mapserver.auth import hash_token, new_token
from mapserver.config import PasswordHashSettings
from mapserver.passwords import PasswordHasher
from mapserver.store import open_store

TARGET_MS = 150
TARGET_BYTES = 200 * 1024
TARGET_CORE_SHARE = 0.25
TARGET_CASE_MS = 100
CASE_REQUESTS = {"page": "/desk/cases/{id}", "case + timeline": "/api/incidents/{id}",
                 "cameras": "/api/incidents/{id}/cameras"}  # what static/case/case.js asks for on opening a case
POLL_S = 2.0
QUEUE = "/api/desk/queue?tab=dispatch"
OPEN_STATUSES = ("reported", "reported", "reported", "returned", "dispatched", "grabbed", "accepted", "joint",
                 "handled", "verified")  # 40% waiting for dispatch


def reopen(url: str, target: int) -> int:
    """Reopen the newest closed incidents until ``target`` are open; how many are open."""
    have = int(sql(url, "SELECT count(*) FROM incidents WHERE status <> 'closed'")[0][0])
    if have < target:
        statuses = "ARRAY[" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + "]"
        sql(url, f"UPDATE incidents SET status = ({statuses})[1 + abs(hashtext(id)) %% {len(OPEN_STATUSES)}], "
                 "closed_at = NULL, "
                 "due_at = now() + (abs(hashtext(id || 'due')) %% 6000 / 1000.0 - 1) * interval '1 day', "
                 "escalation = CASE WHEN abs(hashtext(id || 'w')) %% 100 < 3 THEN 'routine' END "
                 "WHERE id IN (SELECT id FROM incidents WHERE status = 'closed' ORDER BY reported_at DESC LIMIT %s)",
            (target - have,))
        sql(url, "UPDATE incidents SET warn_at = due_at - interval '6 hours' WHERE status <> 'closed'")
    sql(url, "VACUUM ANALYZE incidents")
    return int(sql(url, "SELECT count(*) FROM incidents WHERE status <> 'closed'")[0][0])  # psycopg2: %% is %


def people(store, url: str) -> dict[str, str]:
    """Session cookies of the people: label → cookie value (a district dispatcher, an operator per street)."""
    hasher = PasswordHasher(PasswordHashSettings(time_cost=1, memory_kib=8192, parallelism=1))
    now = datetime.now(UTC)
    streets = [str(r[0]) for r in sql(url, "SELECT code FROM grids WHERE level = 1 AND kind = 'base' ORDER BY code")]
    out = {}
    for name, role, grid in [("dispatcher", "dispatcher", None),
                             *((f"operator-{code}", "operator", code) for code in streets)]:
        store.accounts.add(name=name, role=role, grid_code=grid, password_hash=hasher.hash(new_token()), now=now,
                           display_name=name)
        session = new_token()
        store.sessions.begin(id_hash=hash_token(session), account=name, csrf_token=new_token(), now=now,
                             remote_addr="127.0.0.1")
        out[name] = session
    return out


def get(base: str, session: str, etag: str | None = None, path: str = QUEUE) -> tuple[int, bytes, str]:
    """(status, bytes on the wire, ETag) of one poll of the queue, or of another ``path``."""
    headers = {"Cookie": f"mapserver_session={session}", "Accept": "application/json", "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=30) as resp:
            return resp.status, resp.read(), resp.headers.get("ETag", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("ETag", "")


def build_times(base: str, url: str, session: str, repeats: int) -> tuple[float, int, int]:
    """(median ms, gzipped bytes, cases counted in 待派单) of answers built afresh."""
    times, size = [], 0
    for k in range(repeats + 1):
        sql(url, "UPDATE data_versions SET version = version + 1 WHERE layer = 'incidents'")  # a new answer
        started = time.perf_counter()
        status, body, _ = get(base, session)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"the queue answered {status}: {body[:200]!r}")
        if k:  # the first call warms the worker
            times.append(elapsed)
        size = len(body)
    counted = json.loads(gzip.decompress(body))["counts"]["dispatch"]
    return statistics.median(times), size, counted


def give_timelines(url: str, ids: list[str]) -> None:
    """A timeline for each of ``ids`` that has none (the demo writes none): the loop's steps up to the case's status,
    a day apart from its report, as a case worked on the desk has."""
    steps = [(None, "reported", "report"), ("reported", "dispatched", "dispatch"), ("dispatched", "accepted", "accept"),
             ("accepted", "handled", "handle"), ("handled", "verified", "verify"), ("verified", "closed", "close")]
    order = [to for _, to, _ in steps]
    for incident_id in ids:
        status, reported_at = sql(url, "SELECT status, reported_at FROM incidents WHERE id = %s", (incident_id,))[0]
        if sql(url, "SELECT 1 FROM incident_events WHERE incident_id = %s", (incident_id,)):
            continue
        upto = order.index(status) + 1 if status in order else 3  # returned, grabbed, joint: three steps in
        for k, (source, target, action) in enumerate(steps[:upto]):
            sql(url, "INSERT INTO incident_events (incident_id, at, actor, action, from_status, to_status, note, unit) "
                     "VALUES (%s, %s + %s * interval '1 hour', 'dispatcher', %s, %s, %s, '', %s)",
                (incident_id, reported_at, 4 * k, action, source, target, "城管执法中队" if k else None))


def case_sample(url: str, per_kind: int) -> dict[str, list[tuple[str, str, int]]]:
    """``per_kind`` open and as many closed cases spread over the table, each given a timeline: kind → [(id, street
    code, timeline events)]."""
    out = {}
    for kind, condition in (("open", "status <> 'closed'"), ("closed", "status = 'closed'")):
        ids = [str(r[0]) for r in sql(url, f"SELECT id FROM incidents WHERE {condition} AND grid_l1 IS NOT NULL "
                                           "ORDER BY md5(id) LIMIT %s", (per_kind,))]
        give_timelines(url, ids)
        out[kind] = [(str(r[0]), str(r[1]), int(r[2])) for r in sql(
            url, "SELECT i.id, i.grid_l1, (SELECT count(*) FROM incident_events e WHERE e.incident_id = i.id) "
                 "FROM incidents i WHERE i.id = ANY(%s) ORDER BY md5(i.id)", (ids,))]
    return out


def case_times(base: str, session: str, incident_id: str, repeats: int) -> dict[str, float]:
    """Median ms of each request the case page makes on opening ``incident_id``, and of their sum (``total``)."""
    runs: dict[str, list[float]] = {label: [] for label in CASE_REQUESTS}
    totals = []
    for k in range(repeats + 1):
        total = 0.0
        for label, path in CASE_REQUESTS.items():
            started = time.perf_counter()
            status, body, _ = get(base, session, path=path.format(id=incident_id))
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise SystemExit(f"{path.format(id=incident_id)} answered {status}: {body[:200]!r}")
            total += elapsed
            if k:  # the first round warms the worker
                runs[label].append(elapsed)
        if k:
            totals.append(total)
    return {**{label: statistics.median(t) for label, t in runs.items()}, "total": statistics.median(totals)}


def case_page_times(base: str, sessions: dict[str, str], sample: dict[str, list[tuple[str, str, int]]],
                    repeats: int) -> dict[tuple[str, str], dict[str, float]]:
    """(kind of case, asker) → the median over the sample of each request's median ms (and ``total``, ``max``
    the slowest case's sum, ``events`` the mean timeline length)."""
    out = {}
    for kind, cases in sample.items():
        for asker in ("dispatcher", "operator"):
            per_case = [case_times(base, sessions["dispatcher" if asker == "dispatcher" else f"operator-{street}"],
                                   incident_id, repeats) for incident_id, street, _ in cases]
            out[kind, asker] = {**{label: statistics.median(c[label] for c in per_case)
                                   for label in (*CASE_REQUESTS, "total")},
                                "max": max(c["total"] for c in per_case),
                                "events": statistics.mean(events for _, _, events in cases)}
    return out


def idle_cpu(base: str, pgid: int, sessions: list[str], pollers: int, seconds: float) -> tuple[float, float, int, int]:
    """(server CPU s, PostgreSQL CPU s, polls answered 304, other answers) of ``pollers`` desks polling."""
    first = {s: get(base, s)[2] for s in set(sessions)}  # each desk has its answer already
    stop = threading.Event()
    counts = {"304": 0, "other": 0}
    lock = threading.Lock()

    def desk(session: str, offset: float) -> None:
        tag = first[session]
        time.sleep(offset)
        while not stop.is_set():
            started = time.monotonic()
            status, _, new_tag = get(base, session, tag)
            tag = new_tag or tag  # a new minute: the answer is built once more, then 304 again
            with lock:
                counts["304" if status == 304 else "other"] += 1
            stop.wait(max(0.0, POLL_S - (time.monotonic() - started)))

    threads = [threading.Thread(target=desk, args=(sessions[i % len(sessions)], POLL_S * i / pollers), daemon=True)
               for i in range(pollers)]
    for thread in threads:
        thread.start()
    time.sleep(POLL_S + 1)  # every desk polling
    server0, pg0 = group_cpu_s(pgid), command_cpu_s("postgres")
    time.sleep(seconds)
    server_s, pg_s = group_cpu_s(pgid) - server0, command_cpu_s("postgres") - pg0
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    return server_s, pg_s, counts["304"], counts["other"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="incidents in the table")
    parser.add_argument("--open", type=int, default=10_000, help="open incidents among them")
    parser.add_argument("--repeats", type=int, default=9, help="timed calls of each answer")
    parser.add_argument("--pollers", type=int, default=200, help="idle desks polling every 2 s")
    parser.add_argument("--seconds", type=float, default=30, help="how long the idle CPU is measured")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--cases", type=int, default=20, help="open cases and closed cases whose page is timed")
    args = parser.parse_args()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if not admin:
        print("skipped: set MAPSERVER_BENCH_PG to an admin URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
        return 0
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, scratch_database(admin, "mapserver_bench_desk") as url:
        store = open_store(url)
        try:
            city = load_demo(store, url)
            total = int(sql(url, "SELECT count(*) FROM incidents")[0][0])
            if total < args.incidents:
                total = timed(f"top up to {args.incidents:,} incidents and VACUUM ANALYZE",
                              lambda: top_up(url, args.incidents, [i.id for i in city.incidents]))
            was_open = int(sql(url, "SELECT count(*) FROM incidents WHERE status <> 'closed'")[0][0])
            opened = timed(f"reopen the newest closed incidents up to {args.open:,} open",
                           lambda: reopen(url, args.open))
            sessions = people(store, url)
            street = next(name for name in sessions if name.startswith("operator-"))
            sample = case_sample(url, args.cases)
            with server(url, args.workers, Path(tmp)) as (base, pgid):
                built = {label: build_times(base, url, sessions[name], args.repeats)
                         for label, name in (("district dispatcher", "dispatcher"), (f"street {street[9:]}", street))}
                cases = case_page_times(base, sessions, sample, args.repeats)
                idle = (idle_cpu(base, pgid, list(sessions.values()), args.pollers, args.seconds)
                        if args.pollers else None)
        finally:
            store.close()
    print(f"-- {total:,} incidents, {opened:,} open (the demo had {was_open:,}); {args.workers} workers; "
          f"median of {args.repeats} answers built afresh, over HTTP with gzip")
    for label, (ms, size, counted) in built.items():
        print(f"待派单 page 1 + counts, {label:28s} {ms:7.1f} ms (target ≤ {TARGET_MS}: "
              f"{'meets' if ms <= TARGET_MS else 'misses'})  {size / 1024:6.1f} KB (target ≤ {TARGET_BYTES // 1024}: "
              f"{'meets' if size <= TARGET_BYTES else 'misses'})  待派单 {counted:,}")
    print(f"-- a case page's data: {args.cases} open and {args.cases} closed cases, each request's median of "
          f"{args.repeats} calls, median over the cases (slowest case's sum in brackets)")
    print(f"{'cases, asker':34s} {'timeline':>8s} " + " ".join(f"{label:>16s}" for label in CASE_REQUESTS)
          + f" {'sum':>9s}   ÷ {TARGET_CASE_MS} ms")
    for (kind, asker), figures in cases.items():
        who = "district dispatcher" if asker == "dispatcher" else "the case's street operator"
        print(f"{kind + ', ' + who:34s} {figures['events']:8.1f} "
              + " ".join(f"{figures[label]:13.1f} ms" for label in CASE_REQUESTS)
              + f" {figures['total']:6.1f} ms   {figures['total'] / TARGET_CASE_MS:4.2f} "
                f"({'meets' if figures['total'] <= TARGET_CASE_MS else 'misses'}; slowest {figures['max']:.1f} ms)")
    if idle is None:
        return 0
    server_s, pg_s, not_modified, other = idle
    share = (server_s + pg_s) / args.seconds
    print(f"{args.pollers} idle desks polling every {POLL_S:.0f} s for {args.seconds:.0f} s: {not_modified:,} × 304, "
          f"{other} other; CPU server {server_s:.2f} s + PostgreSQL {pg_s:.2f} s = {share:.3f} of one core "
          f"(target ≤ {TARGET_CORE_SHARE}: {'meets' if share <= TARGET_CORE_SHARE else 'misses'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
