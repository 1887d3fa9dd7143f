"""Benchmark of the wall's first full draw at a city's counts: ``mapserver serve`` (gunicorn, W workers) on a store
loaded by ``bench/bench_tiles.py`` (the demo city's map layers and 1,000,000 incidents), headless Chromium opening
the wall at a 4K view; reported: the time from asking for the page to every layer drawn (``html[data-screen=live]``,
set when the first round of every layer's answers is drawn), the requests made (tiles among them), failures, and
the same for a second browser right after (the server's tile cache warm). Target (issue 20): ≤ 3 s.

Usage: python bench/bench_wall_draw.py --store URL [--workers W] [--width PX --height PX] [--zoom Z] [--layers LIST]
       (the store: e.g. the PostGIS database kept by ``bench_tiles.py --pg URL``, or its SQLite file sqlite:///PATH)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from bench_lookup_http import running_server  # bench/ (scripts run from bench/)
from machine import cpu_count, cpu_model
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mapserver.auth import hash_token, new_token
from mapserver.store import open_store
from tests.browser.live import launch_chromium

TARGET_S = 3.0
ROOT = Path(__file__).resolve().parents[1]
WALL_LAYERS = "district,grids_street,grids_community,places,cameras,incidents"


def config_text(store_url: str, centre: tuple[float, float], zoom: int, layers: list[str]) -> str:
    entries = {"district": "- name: district", "grids_street": "- {name: grids, id: grids_street, params: {level: 1}}",
               "grids_community": "- {name: grids, id: grids_community, params: {level: 2}}",
               "places": "- name: places", "cameras": "- name: cameras", "incidents": "- name: incidents"}
    body = "\n".join(f"    {entries[name]}" for name in layers)
    return (f"store:\n  url: {store_url}\nmap:\n  center: [{centre[0]}, {centre[1]}]\n  zoom: {zoom}\n"
            f"  window: 30d\n  layers:\n{body}\n")


# What the wall's canvas tiles painted (static/screen/dots.js: each lists its dots, with their classes): the cameras
# and incidents in their own layers' panes, the clusters of every layer, and the tiles that painted them.
PAINTED = """() => {
  const painted = (pane) => [...document.querySelectorAll(`${pane} canvas.ms-dots-tile`)].flatMap((c) => c.painted);
  const has = (cls) => (d) => d.classes.split(' ').includes(cls);
  return { cameras: painted(".leaflet-pane[data-layer='cameras']").filter(has('ms-camera')).length,
    incidents: painted(".leaflet-pane[data-layer='incidents']").filter(has('ms-incident')).length,
    clusters: painted('.leaflet-map-pane').filter(has('ms-cluster')).length,
    canvases: document.querySelectorAll('.leaflet-map-pane canvas.ms-dots-tile').length };
}"""


def tile_kind(parts: list[str]) -> str:
    """What a tile URL's path (split at /) asks for: the layer ids of a layers tile (``a,b,c``), or ``ground``."""
    return unquote(parts[-4]) if parts[-5] == "tiles" else "ground"


def draw_once(browser, url: str, width: int, height: int) -> dict:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script("performance.setResourceTimingBufferSize(5000)")  # the default keeps 250
    page = context.new_page()
    requests, failed, tiles = [], [], []
    t0, trace = time.monotonic(), os.environ.get("BENCH_TRACE")  # BENCH_TRACE=cameras/: print those requests' times

    def asked(r) -> None:
        requests.append(r.url)
        if trace and trace in r.url:
            print(f"  {time.monotonic() - t0:.2f} {r.url[-60:]}")

    page.on("request", asked)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: (tiles.append(r.url) if ".mvt" in r.url else None,
                                   failed.append(f"{r.status} {r.url}") if r.status >= 400 else None))
    started = time.monotonic()
    page.goto(url)
    page.wait_for_selector("html[data-screen=live], html[data-screen=error]", timeout=120_000)
    took = time.monotonic() - started
    state = page.evaluate("() => document.documentElement.dataset.screen")
    timings = page.evaluate("""() => performance.getEntriesByType('resource').map((e) => [e.name, e.startTime,
        e.responseStart - e.requestStart, e.responseEnd])""")
    waits: dict[str, list[float]] = {}
    for name, _, wait, _ in timings:
        parts = name.split("?")[0].split("/")
        waits.setdefault(tile_kind(parts) if ".mvt" in name else parts[-1], []).append(wait)
    drawn = page.evaluate(PAINTED)
    cameras, incidents, clusters = drawn["cameras"], drawn["incidents"], drawn["clusters"]
    svg_paths = page.locator(".leaflet-map-pane svg path").count()
    context.close()
    kinds: dict[str, int] = {}
    addresses: set[tuple[str, ...]] = set()
    for u in tiles:
        parts = u.split("?")[0].split("/")
        kind = f"{tile_kind(parts)} z{parts[-3]}"
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind.split()[0] != "ground":
            addresses.add(tuple(parts[-3:]))
    return {"waits": {k: (len(v), round(sorted(v)[len(v) // 2]), round(max(v))) for k, v in waits.items()},
            "last": max(t[3] for t in timings) / 1000, "kinds": kinds, "s": took, "state": state,
            "requests": len(requests), "tiles": len(tiles), "addresses": len(addresses), "failed": failed,
            "cameras": cameras, "incidents": incidents, "clusters": clusters, "svg_paths": svg_paths,
            "canvases": drawn["canvases"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="per worker (more than 1: gunicorn's threaded workers)")
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--zoom", type=int, default=12)
    parser.add_argument("--layers", default=WALL_LAYERS)
    args = parser.parse_args()
    print(f"{cpu_model()}, {cpu_count()} CPUs; load average {os.getloadavg()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    store = open_store(args.store)
    try:
        cams = store.layers.query("cameras")
        centre = (sum(c.geom.x for c in cams) / len(cams), sum(c.geom.y for c in cams) / len(cams))
        secret = new_token()
        store.tokens.add(name=f"bench-wall-{secret[:6]}", role="viewer", token_hash=hash_token(secret))
        incidents = store.layers.count("incidents")
    finally:
        store.close()
    layers = args.layers.split(",")
    # The server runs this tree's code, not the one the interpreter's environment was installed from.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    work = Path(tempfile.mkdtemp())
    (work / "config.yaml").write_text(config_text(args.store, centre, args.zoom, layers), encoding="utf-8")
    print(f"{len(cams):,} cameras, {incidents:,} incidents; layers {', '.join(layers)}; view {args.width}×"
          f"{args.height} at zoom {args.zoom}; serve: {args.workers} workers × {args.threads} threads")
    spec = f"serve:{args.workers}" + (f":{args.threads}" if args.threads > 1 else "")
    with running_server(spec, work / "config.yaml", work / "server.log") as server, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            for label in ("first (cold server cache)", "second (warm server cache)"):
                r = draw_once(browser, f"{server.base}/?token={secret}", args.width, args.height)
                print(f"{label}: all layers drawn in {r['s']:.2f} s (target {TARGET_S:.0f} s, ratio "
                      f"{r['s'] / TARGET_S:.2f}); page state {r['state']}; {r['requests']} requests, {r['tiles']} "
                      f"tiles; {r['cameras']:,} cameras, {r['incidents']:,} incidents, {r['clusters']:,} clusters "
                      f"painted on {r['canvases']} canvas tiles ({r['svg_paths']:,} SVG paths); "
                      f"failed: {r['failed'][:5] or 'none'}", flush=True)
                print(f"  tiles by layer and zoom: {r['kinds']} ({r['addresses']} addresses of the layers' tiles); "
                      f"last response {r['last']:.2f} s after navigation")
                print(f"  per resource: count, median and slowest wait for the first byte (ms): {r['waits']}")
        finally:
            browser.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
