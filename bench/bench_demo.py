"""How long the demo city takes: build 川汇区 in memory, load it into SQLite (and PostGIS), build the city.

Usage: python bench/bench_demo.py [--no-city]
PostGIS is measured when MAPSERVER_BENCH_PG holds an admin URL (e.g.
postgresql://postgres@127.0.0.1:5432/postgres): a scratch database is created
there and dropped afterwards. Each figure is printed beside its reference, a
time budget for the step, as a ratio (below 1 is within budget).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from machine import cpu_count, cpu_model  # bench/machine.py (scripts run from bench/)
from scratch import scratch_database

from mapserver.demo import DemoCity, build_city, load_city
from mapserver.store import Store, open_store

BUDGET_S = {"district build": 15.0, "load sqlite": 60.0, "load postgis": 60.0, "city build": 300.0}


def timed(label: str, step: Callable[[], Any]) -> Any:
    """Run ``step``, print its time beside the budget, and return its result."""
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    budget = BUDGET_S[label]
    print(f"{label:16s} {seconds:8.1f} s   reference {budget:6.0f} s   ratio {seconds / budget:5.2f}", flush=True)
    return result


def machine() -> str:
    """CPUs, CPU model, Python, shapely/GEOS versions and the date, for BENCHMARKS.md entries."""
    model = cpu_model()
    cpus = cpu_count()
    return (f"{cpus} × {model}, Python {platform.python_version()}, shapely {shapely.__version__} "
            f"(GEOS {shapely.geos_version_string}), {datetime.now(UTC):%Y-%m-%d}")


def records(city: DemoCity) -> str:
    """Counts per layer, one line."""
    return ", ".join(f"{n:,} {layer}" for layer, n in city.counts().items())


def load_into(store: Store, city: DemoCity, label: str) -> None:
    store.migrate()
    try:
        timed(label, lambda: load_city(store, city, progress=False))
    finally:
        store.close()


def bench_postgis(admin_url: str, city: DemoCity) -> None:
    with scratch_database(admin_url, "mapserver_bench_demo") as url:
        load_into(open_store(url), city, "load postgis")


def main(argv: list[str]) -> int:
    print(machine(), flush=True)
    city = timed("district build", lambda: build_city(seed=1, scale="district"))
    print(f"  {records(city)}")
    with tempfile.TemporaryDirectory() as folder:
        load_into(open_store(f"sqlite:///{Path(folder) / 'demo.db'}"), city, "load sqlite")
    admin_url = os.environ.get("MAPSERVER_BENCH_PG")
    if admin_url:
        bench_postgis(admin_url, city)
    else:
        print("load postgis     skipped (set MAPSERVER_BENCH_PG to an admin URL)")
    if "--no-city" not in argv:
        del city  # the city needs about 2 GB; do not hold both
        big = timed("city build", lambda: build_city(seed=1, scale="city"))
        print(f"  {records(big)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
