"""Benchmark of a province on one PostGIS node: 100 districts' grids, 20,000,000 incidents over two years, 50,000
cameras; what one machine still answers within the single-node budgets, and where it stops.

Setup: a database of its own on the server named by ``MAPSERVER_BENCH_PG`` (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), created and dropped here. The demo generator's city (all ten
Zhoukou districts, seed 1: about 22,500 grids, 12,300 cameras and a year of 1,000,000 incidents, built once and kept
in ``--template``, ~3 min) is laid ``--cities`` times (default 10: 100 districts) side by side, each copy moved
east and north of the last and its codes renamed (the city part of the code: 4116, 4117, …), so every grid, camera
and incident is where its copy's grids are; each copy is a city division (411600, 411700, …) of the province 河南省
(410000) with its ten counties (411602 → 411702 …), which its streets name (``division_code``). Incidents: each
city's year twice (the second copy 364 days earlier, so weekdays stay), ``--incidents`` in all (default
20,000,000), each copy's rows an even sample of the template's; their H3 cells computed again at the moved points.
Cameras: ``--cameras`` in all, an even share per city.

Load: grids and cameras by the store's COPY; incidents by ``Incidents.add_columns`` (binary COPY, the importer's
write) one city-year at a time, the secondary indexes of incidents dropped before and built again after (what
the store does itself for one batch large next to the table); then VACUUM ANALYZE. The import rate counts the
whole: COPY, indexes, per-day summary and keys. The newest ``--open`` closed incidents are reopened for the desk
(as bench_desk.py does).

Then ``mapserver serve`` (``--workers``) and, over HTTP, the median of ``--repeats`` calls, each after a no-op
write to the incidents' data version so that no answer comes from the server's answer cache: /api/kpis over the
last 30 days of the data for the province, a city (a token bound to the city's division) and a street; heat for a
city (the city-bound token) and a street; hotspots (Gi*) for the province, a city (on the city's area, the union of
its streets) and a street, as the wall's hotspot layer asks (the significant cells), and for the city every cell's
z, p and q (the analysts' answer: a city's 100,000-odd cells at res 9 make it a download of megabytes); the
wall's data for a street (measures and map layers, as the wall asks, with a
street-bound viewer token); the desk's queue for a street (a street-bound dispatcher token). Reports/s: wrk for
``--seconds`` (bench_incidents.py). Store size: pg_total_relation_size of incidents (every partition), its keys
and the summary, and the database's size.

With ``--standby`` the database is in clusters of the bench's own (tests/pgcluster.py: fsync on, shared_buffers as a
stock cluster's): the load goes to a primary alone; once the reports and queries are timed, a standby is made
from it (``pg_basebackup -R``, streaming) and every query is timed again by a server whose ``store.read_url`` is
the standby, each call after the standby has replayed the no-op write.

Times are ms; ratio = figure ÷ budget (≤ 1 meets it); throughput ratios = figure ÷ target (≥ 1 meets it).
Usage: MAPSERVER_BENCH_PG=postgresql://postgres@127.0.0.1:5432/postgres PYTHONPATH=. \\
       python bench/bench_province.py [--incidents 20000000] [--cities 10] [--cameras 50000] [--workers 4] \\
       [--repeats 7] [--seconds 15] [--open 20000] [--template /tmp/mapserver-province-template.pkl] [--standby]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import h3
import numpy as np
import psycopg2
import shapely
from bench_desk import reopen
from bench_incidents import (
    BUDGET_KPIS_MS,
    TARGET_IMPORT_PER_S,
    TARGET_REPORTS_PER_S,
    bench_reports,
    get_json,
    machine,
    ratio_line,
    server,
    sql,
    timed,
)
from scratch import scratch_database

from mapserver.auth import hash_token, new_token
from mapserver.demo import AS_OF, build_city
from mapserver.demo.build import CITY
from mapserver.importing.incident_stream import months_of
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Division
from mapserver.store import Store, open_store
from mapserver.store.incident_batch import NAT, TIME_FIELDS, IncidentBatch
from mapserver.store.postgis_indexes import create_indexes
from tests.pgcluster import Pair

BUDGET_MS = 300.0  # a query concerning a street or a city (issue 21), as the single-node targets before it
YEAR_US = 364 * 86_400 * 1_000_000  # a year back, whole weeks
CODE_COLUMNS = ("grid_code", "grid_l1", "grid_l2", "grid_l3", "grid_l4")
PART_ROWS = 100_000
SAME_AS_DEFAULT = ("shared_buffers = 128MB",)  # the bench's own primary and standby sized as a stock cluster


def template(path: Path) -> dict[str, Any]:
    """The demo city's grids, cameras and incidents (as columns), built once and kept in ``path``."""
    if not path.exists():
        city = timed("build the demo city (ten districts)", lambda: build_city(seed=1, scale="city"))
        kept = {"grids": city.grids, "cameras": city.cameras, "incidents": IncidentBatch.from_records(city.incidents),
                "divisions": city.divisions}
        with path.open("wb") as fh:
            pickle.dump(kept, fh, protocol=5)
    with path.open("rb") as fh:
        kept = pickle.load(fh)
    if "divisions" not in kept:
        raise SystemExit(f"{path} was built before divisions: delete it and run again to build it anew")
    return kept


def shift(k: int) -> tuple[float, float]:
    """Where copy ``k`` lies from the template: a row of five cities, two rows (degrees lon, lat)."""
    return (k % 5) * 1.7, (k // 5) * 1.4


def recode(code: str | None, k: int) -> str | None:
    """A template code in copy ``k``: the city part (digits 3–4) renamed; codes of another form get a suffix."""
    if code is None or k == 0:
        return code
    if code[:4] == "4116":
        return f"41{16 + k:02d}{code[4:]}"
    return f"{code}-{k}"


def moved(geoms: list[Any], k: int) -> np.ndarray:
    dlon, dlat = shift(k)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: xy + np.array([dlon, dlat]))


def province_grids(base: list[Any], cities: int) -> list[Any]:
    out = []
    for k in range(cities):
        geoms = moved([g.geom for g in base], k)
        out += [dataclasses.replace(g, code=recode(g.code, k), parent_code=recode(g.parent_code, k), geom=geom,
                                    division_code=recode(g.division_code, k))
                for g, geom in zip(base, geoms, strict=True)]
    return out


def province_divisions(base: list[Division], cities: int) -> list[Division]:
    """The province once, and each copy's city and counties, renamed as its grids are."""
    out = [d for d in base if d.level == "province"]
    for k in range(cities):
        suffix = "" if k == 0 else f" {k + 1}"
        out += [dataclasses.replace(d, code=recode(d.code, k), name=f"{d.name}{suffix}",
                                    parent_code=d.parent_code if d.level == "city" else recode(d.parent_code, k))
                for d in base if d.level != "province"]
    return out


def province_cameras(base: list[Any], cities: int, total: int) -> list[Any]:
    each = total // cities
    chosen = [base[i] for i in np.linspace(0, len(base) - 1, each).astype(int)]
    out = []
    for k in range(cities):
        geoms = moved([c.geom for c in chosen], k)
        out += [dataclasses.replace(c, code=f"{c.code}-{k}", geom=geom) for c, geom in zip(chosen, geoms, strict=True)]
    return out


def incident_copy(base: IncidentBatch, k: int, year: int, rows: int, resolution: int) -> IncidentBatch:
    """City ``k``'s incidents of year ``year`` back (0: the template's year): ``rows`` of the template's, evenly."""
    part = base.take(np.linspace(0, len(base) - 1, rows).astype(np.int64)) if rows < len(base) else base
    dlon, dlat = shift(k)
    lon, lat = part.lon + dlon, part.lat + dlat
    changes: dict[str, np.ndarray] = {}
    if k:
        for column in CODE_COLUMNS:
            changes[column] = np.array([recode(c, k) for c in part[column].tolist()], dtype=object)
        changes["h3_cell"] = np.array([h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon, strict=True)],
                                      dtype=object)
    if k or year:
        changes["id"] = np.array([f"{i}-{k}{year}" for i in part["id"].tolist()], dtype=object)
    if year:
        for column in TIME_FIELDS:
            values = part[column]
            changes[column] = np.where(values == NAT, NAT, values - year * YEAR_US)
    return dataclasses.replace(part.replaced(changes), lon=lon, lat=lat)


def load(store: Store, url: str, base: dict[str, Any], *, cities: int, incidents: int, cameras: int,
         resolution: int) -> dict[str, float]:
    """Grids, cameras and incidents into the migrated store; the seconds and rows of each step."""
    out: dict[str, float] = {}
    grids = province_grids(base["grids"], cities)
    store.divisions.put_many(province_divisions(base["divisions"], cities))
    started = time.perf_counter()
    for start in range(0, len(grids), 20_000):
        store.layers.add("grids", grids[start:start + 20_000], checked=True)
    out["grids"], out["grids_s"] = len(grids), time.perf_counter() - started
    placed = province_cameras(base["cameras"], cities, cameras)
    store.layers.add("cameras", placed, checked=True)
    out["cameras"] = len(placed)
    print(f"   {len(grids):,} grids in {out['grids_s']:.1f} s; {len(placed):,} cameras", flush=True)

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:  # the store's own rebuild, once for the whole load rather than per batch
        cur.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = 'incidents'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                    "WHERE c.conindid = i.indexrelid)")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    each = incidents // (cities * 2)
    written, copy_s, started = 0, 0.0, time.perf_counter()
    for k in range(cities):
        for year in (1, 0):  # the older year first, as a history arrives
            batch = incident_copy(base["incidents"], k, year, each, resolution)
            parts = (batch.take(slice(s, s + PART_ROWS)) for s in range(0, len(batch), PART_ROWS))
            began = time.perf_counter()
            written += store.incidents.add_columns(parts, rows=len(batch), months=months_of(batch["reported_at"]))
            copy_s += time.perf_counter() - began
            print(f"   city {k + 1}/{cities}, year -{year}: {written:,} incidents, COPY "
                  f"{len(batch) / (time.perf_counter() - began):,.0f}/s", flush=True)
    out["incidents"], out["copy_s"], out["generate_s"] = written, copy_s, time.perf_counter() - started - copy_s
    began = time.perf_counter()
    with conn, conn.cursor() as cur:
        create_indexes(cur, indexes)
    out["index_s"] = time.perf_counter() - began
    conn.close()
    began = time.perf_counter()
    sql(url, "VACUUM ANALYZE")
    out["vacuum_s"] = time.perf_counter() - began
    return out


def sizes(url: str) -> dict[str, float]:
    """Bytes on disk: incidents (all partitions and their indexes), its keys, the per-day summary, the database."""
    row = sql(url, "SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                   "WHERE inhparent = 'incidents'::regclass), pg_total_relation_size('incident_keys'), "
                   "pg_total_relation_size('incident_daily') + pg_total_relation_size('incident_daily_streets') + "
                   "pg_total_relation_size('incident_daily_durations'), pg_database_size(current_database()), "
                   "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'incidents'::regclass)")[0]
    return {"incidents": float(row[0]), "keys": float(row[1]), "summary": float(row[2]), "database": float(row[3]),
            "partitions": float(row[4])}


def median_ms(url: str, base: str, path: str, token: str, repeats: int,
              settle: Callable[[], None] = lambda: None) -> tuple[float, Any]:
    """Median ms of GET ``path``, each call after a no-op write to the incidents' data version (no cached answer)
    and ``settle`` (with a standby serving reads: until it has replayed that write)."""
    times, body = [], None
    for attempt in range(repeats + 1):
        sql(url, "UPDATE data_versions SET version = version + 1 WHERE layer = 'incidents'")
        settle()
        started = time.perf_counter()
        body = get_json(f"{base}{path}", token)
        if attempt:  # the first warms plans and pages
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), body


def bbox_of(url: str, where: str, params: tuple) -> str:
    row = sql(url, f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM grids "
                   f"WHERE {where}) s", params)[0]
    return ",".join(f"{v:.5f}" for v in row)


UNBUDGETED = {
    "hotspots (Gi*), city, 30 days, every cell": "a download of every cell's z, p and q, not an interactive answer",
    "hotspots (Gi*), province, 30 days, significant cells": "neither a street's nor a city's question",
}
"""Queries timed for the record whose answers the 300 ms budget of a street's or a city's question does not bind."""


def queries(url: str, street: str) -> dict[str, tuple[str, str]]:
    """Label → (who asks, path): the province's, a city's and a street's questions over the data's last 30 days."""
    since, until = (AS_OF - timedelta(days=30)).isoformat(), AS_OF.isoformat()
    window = f"since={urllib.parse.quote(since)}&until={urllib.parse.quote(until)}"
    street_box = bbox_of(url, "code = %s", (street,))
    wall = "&".join(("window=30d", f"bbox={street_box}"))
    significant = "significant=true"  # what the wall's hotspot layer and the patrol planner ask for
    return {
        "kpis, province, 30 days": ("viewer", f"/api/kpis?{window}"),
        "kpis, city, 30 days": ("city viewer", f"/api/kpis?{window}"),
        "kpis, street, 30 days": ("viewer", f"/api/kpis?{window}&code={street}"),
        "heat, city, 30 days": ("city viewer", f"/api/heat?{window}"),
        "heat, street, 30 days": ("viewer", f"/api/heat?{window}&grid={street}"),
        "hotspots (Gi*), city, 30 days, significant cells": ("city viewer", f"/api/hotspots?{window}&{significant}"),
        "hotspots (Gi*), city, 30 days, every cell": ("city viewer", f"/api/hotspots?{window}"),
        "hotspots (Gi*), street, 30 days, significant cells": ("street viewer",
                                                               f"/api/hotspots?{window}&{significant}"),
        "hotspots (Gi*), province, 30 days, significant cells": ("viewer", f"/api/hotspots?{window}&{significant}"),
        "wall: measures, street": ("street viewer", "/api/screen/measures?window=30d"),
        "wall: incidents layer, street": ("street viewer", f"/api/screen/layers/incidents?{wall}"),
        "wall: cameras layer, street": ("street viewer", f"/api/screen/layers/cameras?{wall}"),
        "desk queue (待派单), street": ("street dispatcher", "/api/desk/queue?tab=dispatch"),
    }


@contextmanager
def database(admin: str, standby: Pair | None) -> Iterator[str]:
    """The bench's database: the primary's of ``standby`` (its own clusters), else a scratch one on ``admin``."""
    if standby is None:
        with scratch_database(admin, "mapserver_bench_province") as url:
            yield url
        return
    try:
        yield standby.create_primary().primary.url
    finally:
        standby.destroy()


def timed_queries(url: str, street: str, secrets: dict[str, str], args: argparse.Namespace, folder: Path,
                  pair: Pair | None = None) -> dict[str, tuple[float, Any]]:
    """Label → (median ms, last answer) of every query, the server on ``url`` alone or, with ``pair``, reading from
    its standby (``store.read_url``)."""
    read_url = pair.standby.url if pair else None
    settle = pair.wait_replayed if pair else (lambda: None)
    timings = {}
    with server(url, args.workers, folder, ready_s=900, read_url=read_url) as (http, _):
        for label, (who, path) in queries(url, street).items():
            timings[label] = median_ms(url, http, path, secrets[who], args.repeats, settle)
            print(f"   {label}{' (standby)' if pair else ''}: {timings[label][0]:.0f} ms", flush=True)
    return timings


def report(loaded: dict[str, float], size: dict[str, float], opened: int, ready_s: float,
           timings: dict[str, tuple[float, Any]], standby: dict[str, tuple[float, Any]] | None,
           reports: dict[str, float] | None, cities: int) -> None:
    total_s = loaded["copy_s"] + loaded["index_s"] + loaded["vacuum_s"]
    print(f"-- province: {cities * 10} districts, {int(loaded['grids']):,} grids, {int(loaded['cameras']):,} "
          f"cameras, {int(loaded['incidents']):,} incidents over two years in {int(size['partitions'])} monthly "
          f"partitions; {opened:,} open")
    print(f"   load: COPY {loaded['copy_s']:.0f} s, indexes {loaded['index_s']:.0f} s, VACUUM ANALYZE "
          f"{loaded['vacuum_s']:.0f} s (making the rows in Python: {loaded['generate_s']:.0f} s, not counted)")
    print(ratio_line("import (COPY + indexes + VACUUM ANALYZE)", loaded["incidents"] / total_s, "/s",
                     TARGET_IMPORT_PER_S, True))
    gib = 1 << 30
    print(f"   on disk: incidents {size['incidents'] / gib:.1f} GiB (with indexes), keys {size['keys'] / gib:.2f} GiB, "
          f"per-day summary {size['summary'] / gib:.3f} GiB, database {size['database'] / gib:.1f} GiB; "
          f"{size['incidents'] / loaded['incidents']:.0f} B an incident")
    print(f"   server ready (grid index, study areas built) {ready_s:.0f} s after start")
    for label, (ms, body) in timings.items():
        rows = f" ({body['total']:,} incidents)" if isinstance(body, dict) and "total" in body else ""
        budget = BUDGET_MS if "province" not in label else BUDGET_KPIS_MS
        if label in UNBUDGETED:
            line = f"{label + rows:44s} {ms:>10,.0f} ms   no target: {UNBUDGETED[label]}"
        else:
            line = ratio_line(f"{label}{rows}", ms, "ms", budget, False)
        if standby:
            line += f"; from the standby {standby[label][0]:,.0f} ms"
            line += "" if label in UNBUDGETED else f" ({standby[label][0] / budget:.2f})"
        print(line)
    if reports:
        print(ratio_line("reports through HTTP, assigned and committed", reports["per_s"], "/s", TARGET_REPORTS_PER_S,
                         True) + f"; p99 {reports['p99_ms']:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000_000)
    parser.add_argument("--cities", type=int, default=10, help="copies of the ten-district demo city")
    parser.add_argument("--cameras", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=15, help="length of the measured report run (0: none)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--open", type=int, default=20_000, help="incidents reopened for the desk")
    parser.add_argument("--standby", action="store_true",
                        help="clusters of the bench's own (a primary, then a standby made after the load), every "
                             "query asked again with the standby serving reads")
    parser.add_argument("--template", type=Path,
                        default=Path(tempfile.gettempdir()) / "mapserver-province-template.pkl")
    args = parser.parse_args()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if not admin and not args.standby:
        print("skipped: set MAPSERVER_BENCH_PG to an admin URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
        return 0
    if args.seconds and shutil.which("wrk") is None:  # found out before the load, not after it
        print("wrk is missing (apt-get install wrk), or give --seconds 0")
        return 1
    print(f"machine: {machine()}", flush=True)
    base = template(args.template)
    resolution = IncidentSettings().h3_resolution
    pair = Pair(synchronous=False, durable=True, settings=SAME_AS_DEFAULT) if args.standby else None
    standby = None
    with tempfile.TemporaryDirectory() as tmp, database(admin or "", pair) as url:
        store = open_store(url)
        try:
            store.migrate()
            loaded = load(store, url, base, cities=args.cities, incidents=args.incidents, cameras=args.cameras,
                          resolution=resolution)
            opened = timed(f"reopen {args.open:,} for the desk", lambda: reopen(url, args.open))
            size = sizes(url)
            city = str(recode(CITY[0], min(1, args.cities - 1)))  # the second city, as the street before
            street = str(sql(url, "SELECT code FROM grids WHERE level = 1 AND division_code IN (SELECT code FROM "
                                  "divisions WHERE parent_code = %s) ORDER BY code LIMIT 1", (city,))[0][0])
            tokens = {"viewer": (None, "viewer"), "city viewer": (city, "viewer"), "street viewer": (street, "viewer"),
                      "street dispatcher": (street, "dispatcher"), "operator": (None, "operator")}
            secrets = {}
            for label, (grid, role) in tokens.items():
                secrets[label] = new_token()
                store.tokens.add(name=f"bench-{label.replace(' ', '-')}", role=role, grid_code=grid,
                                 token_hash=hash_token(secrets[label]))
            started = time.perf_counter()
            with server(url, args.workers, Path(tmp), ready_s=900) as (http, pgid):
                ready_s = time.perf_counter() - started
                points = np.column_stack([base["incidents"].lon[:5000] + shift(1)[0],
                                          base["incidents"].lat[:5000] + shift(1)[1]])
                reports = (bench_reports(url, http, pgid, Path(tmp), secrets["operator"], points, args.seconds,
                                         args.connections) if args.seconds else None)
            timings = timed_queries(url, street, secrets, args, Path(tmp))
            if pair is not None:
                timed("make the standby (pg_basebackup)", pair.create_standby)
                standby = timed_queries(url, street, secrets, args, Path(tmp), pair)
        finally:
            store.close()
    report(loaded, size, opened, ready_s, timings, standby, reports, args.cities)
    return 0

if __name__ == "__main__":
    sys.exit(main())
