"""Benchmark of incidents on PostGIS behind `mapserver serve`: reports over HTTP, batch import, /api/kpis over 1M.

Targets (issue 5), on this 2-core machine:
  * ≥ 1,000 reports/s through HTTP, each assigned to its grid and committed;
  * batch import ≥ 50,000 incidents/s (``mapserver import incidents FILE``: import_layer with the
    incident preparation hook, written with COPY);
  * ``GET /api/kpis`` over 1,000,000 incidents ≤ 300 ms.

Setup: a database of its own on the server named by ``MAPSERVER_BENCH_PG`` (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), created and dropped here; the demo district (川汇区,
2,197 grids, staff, 50,000 addresses, a year of 120,000 incidents) loaded with build_city + load_city;
``mapserver serve`` (gunicorn, sync workers) or, with ``--server uwsgi``, ``mapserver serve --server uwsgi`` (the
``mapserver[uwsgi]`` extra), or with ``--server gunicorn-gthread`` ``gunicorn wsgi:app`` with the project's settings but
threaded workers (``--workers`` each) in a subprocess on a free loopback port, stopped by SIGTERM to every process of
the server.

* Reports: ``wrk`` (Debian package ``wrk``; one thread, so the load generator leaves the two cores to
  the server and PostgreSQL) POSTs reports at points inside the district's base grids for ``--seconds``
  after a warm-up; every 201 is checked afterwards against the database (one new row each, with its grid).
* Import: a CSV of ``--import-rows`` incidents (points in the grids, times over the year before the
  demo's end, no grid codes or deadlines) imported in this process as the command does (one
  transaction with its audit record), with the time of each stage.
* Measures: the table is topped up to ``--kpi-incidents`` with copies of the demo's incidents (new
  ids, times shifted by minutes, so the closed loop's durations stay realistic), then VACUUM ANALYZE;
  each query's median over 7 calls over HTTP: the whole table, the last 30 days, 30 days by
  community (level 2), and one street for 30 days.

Times are seconds unless marked ms. Ratios: throughput ÷ target (≥ 1 meets it); time ÷ budget (≤ 1 meets it).
Each line also shows a reference figure (``BEFORE``, from BENCHMARKS.md, same bench) and this run ÷ that one
(higher is better for throughput, lower for times). Measures
state whether their percentiles are exact or read from the per-day summary's histograms (within 2.2%).
Usage: MAPSERVER_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres python bench/bench_incidents.py
       [--seconds 15] [--connections 16] [--workers 4] [--server gunicorn|uwsgi|gunicorn-gthread]
       [--import-rows 200000] [--kpi-incidents 1000000]
       [--only import|reports] [--profile import.prof]
``--only import`` runs the import alone (demo district loaded, no server, no wrk, no measures); ``--only reports``
the reports over HTTP alone.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg2
import shapely
from machine import busy_cpu_s, command_cpu_s, cpu_count, cpu_model, group_cpu_s  # bench/machine.py
from scratch import scratch_database

from mapserver import audit
from mapserver.auth import hash_token, new_token
from mapserver.demo import AS_OF, build_city, load_city
from mapserver.gridindex import GridIndex
from mapserver.importer import ImportReport, import_layer
from mapserver.incidents.enrich import prepare_incidents
from mapserver.incidents.settings import DEFAULT_CATEGORIES, IncidentSettings
from mapserver.model import SEVERITIES
from mapserver.store import Store, open_store, postgis

TARGET_REPORTS_PER_S = 1_000
TARGET_IMPORT_PER_S = 50_000
BUDGET_KPIS_MS = 300.0
WARM_UP_S = 3
ROOT = Path(__file__).resolve().parents[1]  # where wsgi.py is
SERVERS = {"gunicorn": "mapserver serve (gunicorn, sync workers)", "uwsgi": "mapserver serve --server uwsgi",
           "gunicorn-gthread": "gunicorn wsgi:app (gthread workers)"}
KPI_REPEATS = 7
# Reference figures printed beside this run's: BENCHMARKS.md, 2026-12-06 evening, the "before" run under uWSGI.
BEFORE: dict[str, float] = {
    "reports": 1_881.0, "import": 47_159.0, "whole table": 97.0, "30 days": 65.0,
    "30 days by community (level=2)": 99.0, "30 days, one street": 30.0,
}
TIME_COLUMNS = ("reported_at", "due_at", "warn_at", "dispatched_at", "closed_at")


# --- machine and database ------------------------------------------------------------------------------


def machine() -> str:
    """CPUs, CPU model, Python, PostgreSQL, load average and the date, for BENCHMARKS.md entries."""
    model = cpu_model()
    cpus = cpu_count()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{cpus} × {model}, Python {platform.python_version()}, {datetime.now().astimezone():%Y-%m-%d}; "
            f"load average at start {load}")


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit (VACUUM needs it); its rows, if any."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def timed(label: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = step()
    print(f"   {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


# --- points inside the grids -----------------------------------------------------------------------------


def points_in_grids(store: Store, n: int, seed: int) -> np.ndarray:
    """``n`` (lon, lat) points, uniform over the district, each inside some base grid (WGS-84 degrees)."""
    index = GridIndex.from_store(store)
    streets = shapely.union_all([g.geom for g in store.layers.query("grids", where={"level": 1})])
    west, south, east, north = streets.bounds
    rng, out = np.random.default_rng(seed), []
    while sum(len(p) for p in out) < n:
        lons, lats = rng.uniform(west, east, n), rng.uniform(south, north, n)
        inside = index.assign(lons, lats) != ""
        out.append(np.column_stack([lons[inside], lats[inside]]))
    return np.concatenate(out)[:n]


# --- the server --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(url: str, workers: int, folder: Path, kind: str = "gunicorn",
           ready_s: float = 60.0, read_url: str | None = None) -> Iterator[tuple[str, int]]:
    """The server in a subprocess (its own process group): ``mapserver serve --server KIND`` (gunicorn or uwsgi) or
    ``gunicorn -c python:mapserver.gunicorn_conf wsgi:app`` with threaded workers; yields its base URL and process
    group id once /readyz answers (waiting up to about ``ready_s``). ``read_url``: a standby serving the reads."""
    config, port = folder / "config.yaml", free_port()
    reads = f"  read_url: {read_url}\n" if read_url else ""
    config.write_text(f"store:\n  url: {url}\n{reads}server:\n  workers: {workers}\n", encoding="utf-8")
    bin_dir = str(Path(sys.executable).parent)
    log = (folder / "server.log").open("w")
    if kind in ("gunicorn", "uwsgi"):
        command = [shutil.which("mapserver", path=bin_dir) or "mapserver", "--config", str(config), "serve",
                   "--server", kind, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    else:
        command = [shutil.which("gunicorn", path=bin_dir) or "gunicorn", "-c", "python:mapserver.gunicorn_conf",
                   "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                   "--chdir", str(ROOT), "wsgi:app"]
    env = {**os.environ, "MAPSERVER_CONFIG": str(config)}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(int(ready_s * 10)):
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None:
                    raise RuntimeError(f"the server stopped: see {folder / 'server.log'}") from None
                time.sleep(0.1)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # every process, as a service manager stops a service
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # never leave a server behind to skew the next run
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            print("   !! the server did not stop within 60 s of SIGTERM: killed")
        log.close()


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.loads(resp.read())


# --- reports over HTTP -----------------------------------------------------------------------------------

LUA = """
local points = {%(points)s}
local categories = {%(categories)s}
local severities = {%(severities)s}
local counter = 0
local statuses = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"

request = function()
  counter = counter + 1
  local p = points[(counter %% #points) + 1]
  local body = string.format(
    '{"category":"%%s","severity":"%%s","description":"bench %%d","point":{"lon":%%.7f,"lat":%%.7f}}',
    categories[(counter %% #categories) + 1], severities[(counter %% #severities) + 1], counter, p[1], p[2])
  return wrk.format(nil, nil, nil, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%%d duration_us=%%d status_errors=%%d connect=%%d read=%%d write=%%d "
    .. "timeout=%%d p50_us=%%d p99_us=%%d\\n", summary.requests, summary.duration, e.status, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_script(folder: Path, token: str, points: np.ndarray) -> Path:
    path = folder / "report.lua"
    path.write_text(LUA % {
        "points": ",".join(f"{{{lon:.7f},{lat:.7f}}}" for lon, lat in points),
        "categories": ",".join(f'"{c}"' for c in DEFAULT_CATEGORIES),
        "severities": ",".join(f'"{s}"' for s in SEVERITIES),
        "token": token,
    }, encoding="utf-8")
    return path


def run_wrk(base: str, script: Path, seconds: int, connections: int) -> dict[str, int]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                          f"{base}/api/incidents"], capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout
    match = re.search(r"RESULT (.*)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return {key: int(value) for key, value in (item.split("=") for item in match.group(1).split())}


def bench_reports(url: str, base: str, pgid: int, folder: Path, token: str, points: np.ndarray, seconds: int,
                  connections: int) -> dict[str, float]:
    """Reports/s with every acknowledged report checked in the database: one new row each, with its grid; and the
    CPU each report took in the server's processes, in PostgreSQL's and in the whole machine (wrk included)."""
    script = wrk_script(folder, token, points)
    run_wrk(base, script, WARM_UP_S, connections)
    time.sleep(1)  # let the warm-up's last requests (sent, not waited for by wrk) land
    before = sql(url, "SELECT count(*) FROM incidents")[0][0]
    cpu = (group_cpu_s(pgid), command_cpu_s("postgres"), busy_cpu_s())
    result = run_wrk(base, script, seconds, connections)
    cpu = tuple(after - start for after, start in zip((group_cpu_s(pgid), command_cpu_s("postgres"), busy_cpu_s()),
                                                         cpu, strict=True))
    after, placed = sql(url, "SELECT count(*), count(grid_code) FROM incidents WHERE description LIKE 'bench %' "
                             "AND reported_at > now() - interval '1 hour'")[0]
    total = sql(url, "SELECT count(*) FROM incidents")[0][0]
    failed = sum(result[k] for k in ("status_errors", "connect", "read", "write", "timeout"))
    acknowledged = result["requests"] - failed
    # wrk stops without waiting for the requests in flight, which the server still commits: a few more rows.
    if not acknowledged <= total - before <= acknowledged + connections:
        print(f"   !! {acknowledged} reports acknowledged but {total - before} rows added")
    return {"per_s": acknowledged / (result["duration_us"] / 1e6), "acknowledged": acknowledged, "failed": failed,
            "unplaced": after - placed, "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "rows_added": total - before, "server_us": 1e6 * cpu[0] / max(acknowledged, 1),
            "postgres_us": 1e6 * cpu[1] / max(acknowledged, 1), "machine_us": 1e6 * cpu[2] / max(acknowledged, 1)}


# --- batch import ------------------------------------------------------------------------------------------


def write_history(path: Path, points: np.ndarray, seed: int) -> None:
    """A CSV of historical incidents: lon, lat, category, severity, reported_at (with offset), description."""
    rng = np.random.default_rng(seed)
    n = len(points)
    start = AS_OF - timedelta(days=365)
    offsets = np.sort(rng.integers(0, 365 * 86_400, n))  # an export is in time order, as incidents arrive
    categories = rng.choice(list(DEFAULT_CATEGORIES), n)
    severities = rng.choice(SEVERITIES, n)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["lon", "lat", "category", "severity", "reported_at", "description", "address", "reporter"])
        for k in range(n):
            when = (start + timedelta(seconds=int(offsets[k]))).isoformat()
            out.writerow([f"{points[k, 0]:.7f}", f"{points[k, 1]:.7f}", categories[k], severities[k], when,
                          f"历史事件{k}", "川汇区", "网格员"])


def bench_import(store: Store, path: Path, rows: int, profile: Path | None = None) -> dict[str, float]:
    """Import as ``mapserver import incidents FILE`` does (one transaction with its audit record); the seconds
    of each stage, and a cProfile of the whole import in ``profile`` if given.

    Stages follow the import's progress: reading the file; the vectorised checks of points, then of fields
    (with the per-row checks of the rows they do not vouch for); the write, in which content ids, the
    preparation hook (grid chain, H3, deadlines) and the COPY overlap (the hook's own seconds are given apart,
    "of which"), then the index rebuild of a large batch; the audit record and the commit.
    """
    stages: dict[str, float] = {}
    mark = {"stage": "reading", "at": time.perf_counter()}
    inside = {"preparing": 0.0}

    def switch(stage: str) -> None:
        now = time.perf_counter()
        stages[mark["stage"]] = stages.get(mark["stage"], 0.0) + now - mark["at"]
        mark.update(stage=stage, at=now)

    def progress(stage: str, done: int, total: int) -> None:
        names = {"checking geometries": "checking points", "checking rows": "checking fields"}
        if stage in names and mark["stage"] != names[stage] and mark["stage"] in ("reading", "checking points"):
            switch(names[stage])
        if stage == "checking rows" and done == total and mark["stage"] == "checking fields":
            switch("writing: ids, hook and COPY")

    hook = prepare_incidents(store, IncidentSettings())

    class Prepare:
        """The command's hook (on columns, as the import uses it), its seconds added up."""

        def __call__(self, records: list[Any]) -> list[Any]:
            started = time.perf_counter()
            out = hook(records)
            inside["preparing"] += time.perf_counter() - started
            return out

        def columns(self, batch: Any) -> Any:
            started = time.perf_counter()
            out = hook.columns(batch)
            inside["preparing"] += time.perf_counter() - started
            return out

    prepare = Prepare()

    def run() -> ImportReport:
        with store.transaction():  # as the command: the audit record commits with the rows, or neither does
            report = import_layer(store, "incidents", path, prepare=prepare, progress=progress)
            switch("audit record and commit")
            audit.record(store, actor=audit.cli_actor(), action="import", target="incidents", detail={"file": path.name,
                                                                              "written": report.written})
        return report

    # The write's index rebuild (a batch large next to the table, mapserver/store/postgis_indexes.py) timed apart.
    rebuild = postgis.create_indexes

    def timed_rebuild(cur: Any, indexes: list[tuple[str, str]]) -> None:
        if indexes:
            switch(f"writing: {len(indexes)} indexes built again")
        rebuild(cur, indexes)

    postgis.create_indexes = timed_rebuild
    profiler = cProfile.Profile() if profile is not None else None
    started = time.perf_counter()
    mark["at"] = started
    try:
        report = profiler.runcall(run) if profiler is not None else run()
    finally:
        postgis.create_indexes = rebuild
    seconds = time.perf_counter() - started
    switch("done")
    if profiler is not None:
        profiler.dump_stats(profile)
    assert report.written == rows, report.summary()
    return {"seconds": seconds, "per_s": rows / seconds, **stages,
            "of which the hook (grid chain, H3, deadlines)": inside["preparing"]}


# --- measures ---------------------------------------------------------------------------------------------


def top_up(url: str, target: int, demo_ids: list[str]) -> int:
    """Copies of the demo's incidents (new ids, times shifted k × 17 minutes) until the table holds ``target``.

    Each copy is written in time order, as incidents arrive, so a time window's rows lie together on disk.
    """
    columns = [r[0] for r in sql(url, "SELECT column_name FROM information_schema.columns WHERE table_name = "
                                      "'incidents' AND column_name <> 'id' ORDER BY ordinal_position")]
    have = sql(url, "SELECT count(*) FROM incidents")[0][0]
    k = 0
    while have < target:
        k += 1
        values = ", ".join(f"{c} + interval '{17 * k} minutes'" if c in TIME_COLUMNS else c for c in columns)
        sql(url, f"INSERT INTO incidents (id, {', '.join(columns)}) SELECT md5(id || '{k}')::uuid::text, {values} "
                 f"FROM incidents WHERE id = ANY(%s) ORDER BY reported_at LIMIT {target - have}", (demo_ids,))
        have = sql(url, "SELECT count(*) FROM incidents")[0][0]
    sql(url, "VACUUM ANALYZE incidents")
    return have


def bench_kpis(base: str, token: str, street: str) -> dict[str, float]:
    """Median milliseconds of /api/kpis per query, over HTTP."""
    since, until = (AS_OF - timedelta(days=30)).isoformat(), AS_OF.isoformat()
    window = f"since={urllib.request.quote(since)}&until={urllib.request.quote(until)}"
    queries = {"whole table": "", "30 days": window, "30 days by community (level=2)": f"{window}&level=2",
               "30 days, one street": f"{window}&code={street}"}
    out = {}
    for label, query in queries.items():
        get_json(f"{base}/api/kpis?{query}", token)  # warm: plans cached, pages in memory
        times = []
        for _ in range(KPI_REPEATS):
            started = time.perf_counter()
            body = get_json(f"{base}/api/kpis?{query}", token)
            times.append((time.perf_counter() - started) * 1000)
        out[label] = statistics.median(times)
        out[f"{label} rows"] = body["total"]
        out[f"{label} exact"] = body.get("percentiles_exact", True)
    return out


# --- the run ----------------------------------------------------------------------------------------------


def ratio_line(label: str, value: float, unit: str, target: float, higher_is_better: bool,
               before: float | None = None) -> str:
    ratio = value / target
    verdict = "meets" if (ratio >= 1 if higher_is_better else ratio <= 1) else "misses"
    sign = "≥" if higher_is_better else "≤"
    was = f"; before {before:,.0f} {unit}, now ÷ before {value / before:5.2f}" if before else ""
    return (f"{label:44s} {value:>10,.0f} {unit:4s} target {sign} {target:,.0f} {unit:4s} ratio {ratio:5.2f} "
            f"({verdict}){was}")


def servers_arg(text: str) -> str:
    """``--server``: one of :data:`SERVERS`, or several separated by commas."""
    unknown = [kind for kind in text.split(",") if kind not in SERVERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown server {unknown[0]!r}; choose from {', '.join(SERVERS)}")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="length of the measured report run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=4, help="server worker processes (server.workers)")
    parser.add_argument("--server", default="gunicorn", type=servers_arg,
                        help=f"the server the reports go to ({', '.join(SERVERS)}); with --only reports, a "
                             "comma-separated list runs each in turn over one loaded database")
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--kpi-incidents", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("all", "import", "reports"), default="all",
                        help="import: the batch import alone, in this process (no server, no wrk, no measures); "
                             "reports: the reports over HTTP alone")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="write a cProfile of the import to FILE (view with python -m pstats FILE)")
    args = parser.parse_args()
    if "," in args.server and args.only != "reports":
        parser.error("several servers only with --only reports")
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if not admin:
        print("skipped: set MAPSERVER_BENCH_PG to an admin URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
        return 0
    if args.only == "import":
        return main_import(admin, args.import_rows, args.profile)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk")
        return 1
    if args.only == "reports":
        return main_reports(admin, args.seconds, args.connections, args.workers, args.server.split(","))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, scratch_database(admin, "mapserver_bench_incidents") as url:
        folder = Path(tmp)
        store = open_store(url)
        try:
            city = load_demo(store, url)
            demo_ids = [i.id for i in city.incidents]
            operator, viewer = new_token(), new_token()
            store.tokens.add(name="bench-operator", role="operator", token_hash=hash_token(operator))
            store.tokens.add(name="bench-viewer", role="viewer", token_hash=hash_token(viewer))
            street = city.grids[0].code if city.grids[0].level == 1 else next(g.code for g in city.grids
                                                                              if g.level == 1)
            with server(url, args.workers, folder, args.server) as (base, pgid):
                reports = bench_reports(url, base, pgid, folder, operator, points_in_grids(store, 5000, seed=3),
                                        args.seconds, args.connections)
                path = folder / "history.csv"
                write_history(path, points_in_grids(store, args.import_rows, seed=4), seed=5)
                imported = bench_import(store, path, args.import_rows, args.profile)
                total = timed(f"top up to {args.kpi_incidents:,} incidents and VACUUM ANALYZE",
                              lambda: top_up(url, args.kpi_incidents, demo_ids))
                kpis = bench_kpis(base, viewer, street)
        finally:
            store.close()
    print_reports(reports, args.seconds, args.connections, args.workers, args.server)
    print_import(imported, args.import_rows)
    print(f"-- /api/kpis over {total:,} incidents (median of {KPI_REPEATS}, over HTTP):")
    for label, value in kpis.items():
        if not label.endswith((" rows", " exact")):
            how = "exact" if kpis[f"{label} exact"] else "histogram percentiles"
            print(ratio_line(f"{label} ({kpis[label + ' rows']:,} incidents, {how})", value, "ms", BUDGET_KPIS_MS,
                             False, BEFORE.get(label)))
    return 0


def load_demo(store: Store, url: str) -> Any:
    """The demo district (川汇区, seed 1) built and loaded into the migrated, analysed store; the city."""
    store.migrate()
    city = timed("build the demo district", lambda: build_city(seed=1, scale="district"))
    timed("load it (grids, staff, addresses, 120,000 incidents)", lambda: load_city(store, city, progress=False))
    sql(url, "VACUUM ANALYZE")
    return city


def print_reports(reports: dict[str, float], seconds: int, connections: int, workers: int, kind: str) -> None:
    print(f"-- reports: wrk -t1 -c{connections}, {seconds} s, {SERVERS[kind]}, {workers} workers: "
          f"{reports['acknowledged']:,} acknowledged (201), {reports['failed']} failed, {reports['rows_added']:,} "
          f"rows added, {reports['unplaced']} without a grid; latency p50 {reports['p50_ms']:.1f} ms, "
          f"p99 {reports['p99_ms']:.1f} ms; CPU per report: server {reports['server_us']:.0f} µs, PostgreSQL "
          f"{reports['postgres_us']:.0f} µs, whole machine {reports['machine_us']:.0f} µs (wrk and any other "
          "process included)")
    print(ratio_line("reports through HTTP, assigned and committed", reports["per_s"], "/s", TARGET_REPORTS_PER_S,
                     True, BEFORE["reports"]))


def main_reports(admin: str, seconds: int, connections: int, workers: int, kinds: list[str]) -> int:
    """The reports over HTTP alone: the demo district loaded once, then each server in ``kinds`` in turn (a new
    process each time) driven by wrk, so that servers run turn about in the same minutes are compared."""
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, scratch_database(admin, "mapserver_bench_reports") as url:
        store = open_store(url)
        try:
            load_demo(store, url)
            operator = new_token()
            store.tokens.add(name="bench-operator", role="operator", token_hash=hash_token(operator))
            points = points_in_grids(store, 5000, seed=3)
            for kind in kinds:
                with server(url, workers, Path(tmp), kind) as (base, pgid):
                    started = datetime.now().strftime("%H:%M:%S")
                    reports = bench_reports(url, base, pgid, Path(tmp), operator, points, seconds, connections)
                print(f"   {started}, load average after the run: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
                print_reports(reports, seconds, connections, workers, kind)
        finally:
            store.close()
    return 0


def print_import(imported: dict[str, float], rows: int) -> None:
    hook = "of which the hook (grid chain, H3, deadlines)"
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in imported.items() if k not in ("seconds", "per_s", "done", hook))
    print(f"-- import of {rows:,} incidents from CSV in {imported['seconds']:.1f} s: {stages}; the preparation "
          f"hook (grid chain, H3, deadlines) took {imported[hook]:.1f} s of the write")
    print(ratio_line("batch import", imported["per_s"], "/s", TARGET_IMPORT_PER_S, True, BEFORE["import"]))


def main_import(admin: str, rows: int, profile: Path | None) -> int:
    """The batch import alone: the demo district loaded, then ``rows`` incidents imported from CSV."""
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp, scratch_database(admin, "mapserver_bench_import") as url:
        store = open_store(url)
        try:
            load_demo(store, url)
            path = Path(tmp) / "history.csv"
            write_history(path, points_in_grids(store, rows, seed=4), seed=5)
            imported = bench_import(store, path, rows, profile)
            print(f"   load average after the import: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
        finally:
            store.close()
    print_import(imported, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
