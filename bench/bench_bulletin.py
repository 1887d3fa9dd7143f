"""How long the weekly bulletin takes on the demo district (120,000 incidents): HTML, and HTML + PDF.

Usage: python bench/bench_bulletin.py [--store URL] [--week 2026-W43]
Without --store the demo district (seed 1) is built and loaded into a scratch
SQLite file first (about two minutes, not timed here: bench_demo.py times it).
With MAPSERVER_BENCH_PG (an admin URL) the same city is also loaded into a
scratch PostGIS database, created and dropped here. The issue names no time
for the bulletin; the reference is ours: a meeting's bulletin within
:data:`BUDGET_S` seconds on this machine. Figures are medians of
:data:`ROUNDS` runs, printed beside the reference as ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from machine import cpu_count, cpu_model  # bench/machine.py (scripts run from bench/)
from scratch import scratch_database

from mapserver.bulletin.pdf import html_to_pdf
from mapserver.bulletin.week import parse_week
from mapserver.bulletin.weekly import weekly_bulletin
from mapserver.config import Settings, StoreSettings
from mapserver.demo import build_city, load_city
from mapserver.derived import DerivedData
from mapserver.store import Store, open_store

BUDGET_S = {"html": 10.0, "html + pdf": 20.0}
ROUNDS = 3
DEMO_WEEK = "2026-W43"  # inside the demo's year of incidents, which ends 2026-11-01


def measure(store: Store, week_text: str, label: str) -> None:
    settings = Settings(store=StoreSettings(url=store.url))
    now = datetime.now(UTC)
    week = parse_week(week_text, zone=settings.map.timezone, now=now)
    seconds: dict[str, list[float]] = {"html": [], "html + pdf": []}
    derived = DerivedData(store)  # as a server keeps it: the first round builds the studies, the others reuse them
    size = pdf_size = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        page = weekly_bulletin(derived, settings, week=week, now=now)
        middle = time.perf_counter()
        pdf = html_to_pdf(page)
        ended = time.perf_counter()
        seconds["html"].append(middle - started)
        seconds["html + pdf"].append(ended - started)
        size, pdf_size = len(page.encode("utf-8")), len(pdf)
    print(f"{label}: {week.label}, HTML {size / 1024:.0f} KB, PDF {pdf_size / 1024:.0f} KB")
    for name, values in seconds.items():
        median, budget = statistics.median(values), BUDGET_S[name]
        print(f"  {name:11s} {median:6.2f} s   reference {budget:5.1f} s   ratio {median / budget:5.2f}", flush=True)


def on_postgis(admin_url: str, city, week_text: str) -> None:
    with scratch_database(admin_url, "mapserver_bench_report") as url:
        store = open_store(url)
        store.migrate()
        load_city(store, city, progress=False)
        measure(store, week_text, "demo district, PostGIS")
        store.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a store already holding the demo district (skips building it)")
    parser.add_argument("--week", default=DEMO_WEEK)
    args = parser.parse_args(argv)
    print(f"{cpu_count()} × {cpu_model()}, {datetime.now(UTC):%Y-%m-%d}", flush=True)
    if args.store:
        store = open_store(args.store)
        measure(store, args.week, f"given store ({store.layers.count('incidents'):,} incidents)")
        store.close()
        return 0
    city = build_city(seed=1, scale="district")
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'demo.db'}")
        store.migrate()
        load_city(store, city, progress=False)
        measure(store, args.week, "demo district, SQLite")
        store.close()
    admin_url = os.environ.get("MAPSERVER_BENCH_PG")
    if admin_url:
        on_postgis(admin_url, city, args.week)
    else:
        print("PostGIS skipped (set MAPSERVER_BENCH_PG to an admin URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
