"""The wall at a city's counts (the demo city, ``--scale city``: 12,268 cameras, 22,503 grids): no layer is cut.

Headless Chromium draws every camera of the city at once, from vector tiles fetched from this server only, with
no request failing; the tiles it decoded hold every camera too. On each store backend, city tiles at every zoom
hold exactly what the store finds in them, or clusters that count it. The city's map layers come from
tests/city_layers.py (built once, then kept in the temporary folder).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import mapbox_vector_tile
import pytest
from shapely.geometry import box

from mapserver import create_app
from mapserver.config import MapLayerSettings, MapSettings, Settings, StoreSettings
from mapserver.store import Store, open_store
from mapserver.store.tile_grid import TileAddress
from tests.browser.dots import painted, painted_dots
from tests.browser.live import LiveServer, Watch
from tests.city_layers import city_layers, load_layers
from tests.conftest import empty_store, make_token

DETAIL_ZOOM = 12  # map zoom at which every 512-pixel tile (zoom 11) holds the city's cameras one by one
WALL_LAYERS = ("grids", "cameras", "places")  # what these tests read (the roads only add loading time)
CONFIG = "() => JSON.parse(document.getElementById('screen-config').textContent)"


@pytest.fixture(scope="module")
def layers() -> dict[str, list[Any]]:
    return city_layers()


@pytest.fixture(scope="module")
def sqlite_city(layers, tmp_path_factory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('city-scale') / 'city.db'}")
    store.migrate()
    load_layers(store, layers, only=WALL_LAYERS)
    yield store
    store.close()


def tile_at(lon: float, lat: float, z: int) -> TileAddress:
    n = 2**z
    return TileAddress(z, int((lon + 180) / 360 * n),
                       int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def decode(data: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True}) if data else {}


def test_the_wall_draws_every_camera_of_the_city(browser, sqlite_city, layers):
    cameras = {c.code for c in layers["cameras"]}
    assert len(cameras) >= 12_000
    west = min(c.geom.x for c in layers["cameras"])
    east = max(c.geom.x for c in layers["cameras"])
    south = min(c.geom.y for c in layers["cameras"])
    north = max(c.geom.y for c in layers["cameras"])
    # A view that holds the whole city at DETAIL_ZOOM (about 4,450 × 4,450 pixels: a wall of four 4K screens), which
    # the page opens one zoom deeper than configured (it is over 1.5 × 1920 wide); the cameras layer alone.
    size = 256 * 2**DETAIL_ZOOM
    width = math.ceil((east - west) / 360 * size) + 160
    height = math.ceil((tile_at(west, south, DETAIL_ZOOM).y - tile_at(west, north, DETAIL_ZOOM).y + 1) * 256) + 160
    centre = ((west + east) / 2, (south + north) / 2)
    settings = Settings(store=StoreSettings(url=sqlite_city.url), map=MapSettings(
        center=centre, zoom=DETAIL_ZOOM - 1, layers=[MapLayerSettings(name="district"),
                                                     MapLayerSettings(name="cameras")]))
    live = LiveServer(create_app(settings, store=sqlite_city))
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = Watch().attach(page)
    decoded: set[str] = set()

    def keep(response: Any) -> None:
        if "/api/screen/tiles/cameras/" in response.url and response.status == 200:
            for f in decode(response.body()).get("cameras", {}).get("features", []):
                decoded.add(f["properties"]["id"])

    page.on("response", keep)
    try:
        started = time.monotonic()
        page.goto(f"{live.url}/?token={make_token(sqlite_city, 'viewer')}")
        page.wait_for_selector("html[data-screen=live]", timeout=60_000)
        assert page.evaluate(f"() => window[({CONFIG})().map].getZoom()") == DETAIL_ZOOM
        dots = painted_dots(page, "cameras")
        drawn = sum("ms-camera" in d["classes"].split() for d in dots)
        print(f"{drawn} cameras drawn {time.monotonic() - started:.1f} s after the page was asked for "
              f"({width}×{height})")
        assert drawn == len(cameras)
        assert painted(page, "ms-cluster-cameras") == 0  # every one in detail, none in a cluster
        assert {d["id"] for d in dots} == cameras  # each camera painted once, by its own tile
        assert decoded == cameras
        assert watch.foreign_hosts() == [] and watch.failed == [] and watch.errors == []
    finally:
        context.close()
        live.stop()


def city_tiles(layers: dict[str, list[Any]]) -> list[TileAddress]:
    """Tiles over the city's busiest and quietest parts, from the city's whole extent (zoom 8) to streets (15)."""
    points = [c.geom for c in layers["cameras"][:: max(1, len(layers["cameras"]) // 6)]]
    return sorted({tile_at(p.x, p.y, z) for p in points for z in (8, 10, 12, 15)}, key=lambda t: (t.z, t.x, t.y))


@pytest.fixture(scope="module")
def postgis_city(layers, postgis_url) -> Iterator[Store]:
    store = open_store(postgis_url)
    empty_store(store)
    load_layers(store, layers, only=WALL_LAYERS)
    yield store
    empty_store(store)
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgis"])
def test_city_tiles_hold_what_the_store_finds_or_count_it(request, layers, backend):
    from layers import cameras as camera_layer
    from layers import grids as grid_layer
    from mapserver.store.vector_tiles import TileLayer

    store: Store = request.getfixturevalue(f"{backend}_city")
    now = datetime.now(UTC)
    specs = [TileLayer(layer="cameras", detail_max=camera_layer.TILE_DETAIL_MAX),
             TileLayer(layer="grids", name="buildings", where={"level": 4}, detail_max=grid_layer.TILE_DETAIL_MAX)]
    aggregated = detailed = 0
    for address in city_tiles(layers):
        for spec, key, where in ((specs[0], "code", {}), (specs[1], "code", {"level": 4})):
            tile = store.tiles.tile(address, [spec], now=now, offline_after_s=300)
            got = decode(tile.data)
            assert len(tile.data) <= 100 * 1024, (address, spec.mvt_name, len(tile.data))
            expected = {getattr(r, key) for r in store.layers.query(spec.layer, bbox=address.bounds(), where=where)}
            name = spec.mvt_name
            if tile.aggregated[name]:
                aggregated += 1
                clusters = got[f"{name}_clusters"]["features"]
                if spec.layer == "grids":  # a cluster of areas counts those whose box meets the tile
                    expected = {g.code for g in layers["grids"] if g.level == 4
                                and box(*g.geom.bounds).intersects(box(*address.bounds()))}
                assert sum(f["properties"]["n"] for f in clusters) == len(expected)
            else:
                detailed += 1
                assert {f["properties"]["id"] for f in got.get(name, {}).get("features", [])} == expected, address
    assert aggregated and detailed
