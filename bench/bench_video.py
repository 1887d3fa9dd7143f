"""The cameras that see a case among 50,000 cameras, against a 20 ms budget (issue 20).

Usage: python bench/bench_video.py [--cameras N] [--cases N]
SQLite (a scratch file); PostGIS too when MAPSERVER_BENCH_PG holds an admin URL
(postgresql://postgres@127.0.0.1:5432/postgres; a scratch database, dropped afterwards).

A city's cameras: ``--cameras`` (50,000) spread over Zhoukou's ten district seats, dense in their centres (a normal
spread of 2.5 km around each, so the busiest square kilometre holds several hundred), with directions, fields of
view and ranges of street cameras, 98.5 % online, a third with a stream address. The cases lie where cases lie:
beside a camera (within 150 m of one drawn at random). Timed: :func:`mapserver.analysis.seeing.cameras_seeing` as
``GET /api/incidents/<id>/cameras`` calls it for a role with video rights (the store's box query, the views, the
cover test, the nearby cameras, which of them have a stream), in process, each case once after a warm-up;
median, p90 and slowest in milliseconds, beside the budget as ratios (÷ 20 ms).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_demo import machine
from scratch import scratch_database

from mapserver.analysis.seeing import cameras_seeing
from mapserver.model import Camera, CameraVideo
from mapserver.store import Store, open_store

BUDGET_MS = 20.0
SEATS = [(114.650, 33.625), (114.640, 33.735), (114.880, 33.950), (114.635, 33.500), (114.930, 33.060),
         (114.430, 33.660), (115.240, 33.400), (115.080, 33.810), (115.520, 33.610), (115.640, 33.400)]
"""Zhoukou's district and county seats (WGS-84, approximately): where its cameras crowd."""
SPREAD_M = 2500.0
NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)


def city_cameras(n: int, seed: int = 20) -> list[Camera]:
    """``n`` street cameras around the ten seats (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    seat = rng.integers(0, len(SEATS), n)
    north = rng.normal(0, SPREAD_M, n)
    east = rng.normal(0, SPREAD_M, n)
    lat = np.array([SEATS[s][1] for s in seat]) + np.degrees(north / 6_371_000)
    lon = np.array([SEATS[s][0] for s in seat]) + np.degrees(east / (6_371_000 * np.cos(np.radians(lat))))
    circle = rng.random(n) < 0.2  # dome cameras: a circle of their range
    direction = rng.uniform(0, 360, n)
    fov = rng.uniform(30, 110, n)
    reach = rng.choice([30.0, 50.0, 80.0, 120.0, 200.0], n)
    online = rng.random(n) < 0.985
    return [Camera(code=f"41160200001320{i:06d}", name=f"点位{i}", geom=Point(float(lon[i]), float(lat[i])),
                   direction_deg=None if circle[i] else float(direction[i]),
                   fov_deg=None if circle[i] else float(fov[i]), range_m=float(reach[i]),
                   status="online" if online[i] else "offline") for i in range(n)]


def cases_beside(cameras: list[Camera], n: int, seed: int = 7) -> list[tuple[float, float]]:
    """``n`` points, each within 150 m of a camera drawn at random."""
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.integers(0, len(cameras), n):
        c = cameras[int(i)]
        d, a = 150 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        out.append((c.geom.x + math.degrees(d * math.sin(a) / (6_371_000 * math.cos(math.radians(c.geom.y)))),
                    c.geom.y + math.degrees(d * math.cos(a) / 6_371_000)))
    return out


def load(store: Store, cameras: list[Camera]) -> None:
    store.migrate()
    started = time.perf_counter()
    store.layers.add("cameras", cameras)
    store.camera_video.put_many([CameraVideo(c.code, f"http://10.20.1.5:8080/live/{c.code}/index.m3u8")
                                 for c in cameras[::3]], at=NOW)
    print(f"  loaded {len(cameras):,} cameras ({len(cameras[::3]):,} with a stream) in "
          f"{time.perf_counter() - started:.1f} s")


def measure(label: str, store: Store, cases: list[tuple[float, float]]) -> None:
    def ask(lon: float, lat: float) -> dict:
        return cameras_seeing(store, lon, lat, now=NOW, offline_after_s=300,
                              with_stream=store.camera_video.with_stream)

    for lon, lat in cases[:20]:  # warm-up: connections, caches, PROJ
        ask(lon, lat)
    times, covering, listed = [], [], []
    for lon, lat in cases:
        started = time.perf_counter()
        answer = ask(lon, lat)
        times.append((time.perf_counter() - started) * 1000)
        covering.append(len(answer["covering"]))
        listed.append(len(answer["covering"]) + len(answer["nearby"]))
    median, p90 = statistics.median(times), statistics.quantiles(times, n=10, method="inclusive")[-1]
    print(f"{label}: cameras that see a case: median {median:.2f} ms (÷ {BUDGET_MS:.0f} ms = "
          f"{median / BUDGET_MS:.2f}), p90 {p90:.2f} ms ({p90 / BUDGET_MS:.2f}), slowest {max(times):.2f} ms "
          f"({max(times) / BUDGET_MS:.2f}); {len(cases)} cases, covering cameras per case median "
          f"{statistics.median(covering):.0f} (max {max(covering)}), listed median {statistics.median(listed):.0f}; "
          f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50_000)
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {machine()}, load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    cameras = city_cameras(args.cameras)
    cases = cases_beside(cameras, args.cases)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'video.db'}")
        try:
            load(store, cameras)
            measure("SQLite", store, cases)
        finally:
            store.close()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if admin:
        with scratch_database(admin, "bench_video") as url:
            store = open_store(url)
            try:
                load(store, cameras)
                measure("PostGIS", store, cases)
            finally:
                store.close()
    else:
        print("PostGIS: not measured (set MAPSERVER_BENCH_PG to an admin URL)")


if __name__ == "__main__":
    main()
