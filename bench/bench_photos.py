"""What accepting a photo costs: one 4 MB, 12-megapixel phone JPEG (EXIF with GPS, orientation 6) checked by its
content, fully decoded, turned upright, re-encoded without metadata and thumbnailed, against a 500 ms budget.

Usage: python bench/bench_photos.py [--rounds N]
SQLite (a scratch file and a scratch photo folder); PostGIS too when MAPSERVER_BENCH_PG holds an admin URL
(postgresql://postgres@127.0.0.1:5432/postgres; a scratch database, dropped afterwards).

Two figures, each as median and p90 in milliseconds and beside the budget as a ratio (÷ 500 ms):

- core: :func:`mapserver.photos.service.prepare` alone, wall-clock and CPU time (structure walk, metadata scan,
  Pillow decode of every pixel, EXIF orientation, re-encoding, thumbnail, SHA-256): "accepted, checked and
  thumbnailed";
- upload: ``POST /api/incidents/<id>/photos`` whole through the app (multipart parsed, the above, both files
  written with fsync and renamed, the row and its audit record committed), each round a new photo (a new seed,
  so nothing is deduplicated).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_demo import machine
from scratch import scratch_database

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import Settings, StoreSettings
from mapserver.photos.service import prepare
from mapserver.photos.settings import PhotoSettings
from mapserver.store import Store, open_store

BUDGET_MS = 500.0
WIDTH, HEIGHT = 4000, 3000  # 12 megapixels, a phone's main camera
TARGET_MB = 4.0


def phone_jpeg(seed: int) -> bytes:
    """A photo-like 12 MP JPEG of about 4 MB: smooth shading with texture (compresses as a photo does), EXIF with
    an orientation of 6 (the phone held upright) and a GPS position."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    shade = 110 + 60 * np.sin(x / 370 + seed) * np.cos(y / 290)
    texture = rng.normal(0, 11, (HEIGHT, WIDTH, 3)).astype(np.float32)
    pixels = np.clip(shade[..., None] + texture + np.array([8, 0, -10], np.float32), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (33.0, 37.0, 12.5), "E", (114.0, 38.0, 40.1)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _line(label: str, what: str, values: list[float]) -> str:
    median, p90 = statistics.median(values), _p90(values)
    return (f"{label}: {what}: median {median:,.0f} ms (÷ {BUDGET_MS:.0f} ms = {median / BUDGET_MS:.2f}), "
            f"p90 {p90:,.0f} ms (÷ {BUDGET_MS:.0f} ms = {p90 / BUDGET_MS:.2f}), {len(values)} photos")


def core_times(photos: list[bytes]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each photo's checks and preparation (CPU time: the figure a busy shared
    machine distorts least)."""
    settings = PhotoSettings()
    prepare(photos[0], settings)  # warm up (codecs loaded)
    wall, cpu = [], []
    for data in photos:
        started, started_cpu = time.perf_counter(), time.process_time()
        prepare(data, settings)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def upload_times(store: Store, photos: list[bytes], folder: Path) -> list[float]:
    from shapely.geometry import Point, box

    from mapserver.model import Grid

    store.layers.add("grids", [Grid(code="411602001000000", level=1, name="陈州回族街道",
                                    geom=box(114.60, 33.60, 114.70, 33.70))])
    app = create_app(Settings(store=StoreSettings(url=store.url), photos=PhotoSettings(dir=str(folder))), store=store)
    client = app.test_client()
    secret = new_token()
    store.tokens.add(name="bench-field", role="field", token_hash=hash_token(secret))
    auth = {"Authorization": f"Bearer {secret}"}
    point = Point(114.65, 33.65)
    case = client.post("/api/incidents", headers=auth, json={
        "category": "city_appearance", "severity": "general", "point": {"lon": point.x, "lat": point.y}})
    if case.status_code != 201:
        raise SystemExit(f"report: {case.status_code} {case.get_data(as_text=True)[:300]}")
    url = f"/api/incidents/{case.get_json()['id']}/photos"
    times = []
    for n, data in enumerate(photos):
        started = time.perf_counter()
        # kind other: on the case as a whole, so more than a timeline entry's nine may be sent
        resp = client.post(url, headers={**auth, "Idempotency-Key": f"bench-{n}"}, content_type="multipart/form-data",
                           data={"kind": "other", "photo": (io.BytesIO(data), "IMG_0001.jpg")})
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status_code != 201:
            raise SystemExit(f"upload: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        times.append(elapsed)
    return times


def measure(label: str, store: Store, photos: list[bytes]) -> None:
    wall, cpu = core_times(photos)
    print(_line(label, "accepted, checked and thumbnailed (core)", wall), flush=True)
    print(_line(label, "the same in CPU time", cpu), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        print(_line(label, "POST /api/incidents/<id>/photos whole", upload_times(store, photos, Path(folder))),
              flush=True)


def _with_postgis(admin: str, run: Callable[[Store], None]) -> None:
    with scratch_database(admin, "mapserver_bench_photos") as url:
        store = open_store(url)
        store.migrate()
        try:
            run(store)
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="photos measured (each a different one)")
    args = parser.parse_args()
    print(machine())
    photos = [phone_jpeg(seed) for seed in range(max(2, args.rounds))]
    sizes = [len(p) / 1e6 for p in photos]
    print(f"photos: {WIDTH} × {HEIGHT} JPEG, {min(sizes):.1f}–{max(sizes):.1f} MB (target ≈ {TARGET_MB:.0f} MB)")
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'photos.db'}")
        store.migrate()
        measure("SQLite", store, photos)
        store.close()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if admin:
        _with_postgis(admin, lambda store: measure("PostGIS", store, photos))
    else:
        print("PostGIS skipped (set MAPSERVER_BENCH_PG to an admin URL)")


if __name__ == "__main__":
    main()
