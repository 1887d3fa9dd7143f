"""The wall's vector tiles on each store backend: a tile decodes (mapbox_vector_tile.decode) to the features the
store's own query finds in the tile's rectangle, with the colours the GeoJSON layers give them; clusters count
what a full tile holds; tiles keep to the asker's jurisdiction; bad addresses are problems, not 500s; the ground
tile carries the store's water, roads and boundaries. The city: tests/browser/city.py."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import mapbox_vector_tile
import psycopg2
import pytest
from shapely.geometry import Point, Polygon, box

from mapserver.auth import hash_token, new_token
from mapserver.cameras import effective_status
from mapserver.incidents.deadlines import warning_colour
from mapserver.model import Incident, Place
from mapserver.store import open_store
from mapserver.store.common import normalise
from mapserver.store.incident_batch import IncidentBatch
from mapserver.store.month_partitions import month_key
from mapserver.store.tile_grid import TileAddress
from mapserver.store.vector_tiles import TileLayer
from tests.browser.city import load_city
from tests.conftest import BACKENDS, empty_store, settings_for

NOW = datetime.now(UTC)
OFFLINE_AFTER_S = 300


def tile_at(lon: float, lat: float, z: int) -> TileAddress:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return TileAddress(z, x, y)


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True}) if data else {}


def features(data: bytes, name: str) -> list[dict]:
    return decode(data).get(name, {}).get("features", [])


@pytest.fixture(scope="module", params=BACKENDS)
def city(request, tmp_path_factory):
    """The city on each backend, once per module (the tests here only read it, or add what no other one counts)."""
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('tiles') / 'city.db'}")
        store.migrate()
    else:
        store = open_store(request.getfixturevalue("postgis_url"))
        empty_store(store)
    load_city(store, now=NOW - timedelta(minutes=1))
    # One camera whose heartbeats stopped: the tile must show it offline, as the wall's other layers do.
    camera = store.layers.query("cameras", where={"status": "online"}, limit=1)[0]
    store.cameras.heartbeats([camera.code], at=NOW - timedelta(hours=2))
    yield store
    store.close()


def sample_tiles(store, z: int) -> list[TileAddress]:
    grids = store.layers.query("grids", where={"level": 2})
    return sorted({tile_at(*g.geom.representative_point().coords[0], z) for g in grids[::5]},
                  key=lambda t: (t.x, t.y))


@pytest.mark.parametrize("z", [10, 13])
def test_a_tile_holds_exactly_what_the_store_finds_in_it(city, z):
    since = NOW - timedelta(days=30)
    checked = 0
    for address in sample_tiles(city, z):
        tile = city.tiles.tile(address, [TileLayer(layer="cameras"), TileLayer(layer="grids", where={"level": 2}),
                                         TileLayer(layer="incidents", since=since), TileLayer(layer="places"),
                                         TileLayer(layer="roads")],
                               now=NOW, offline_after_s=OFFLINE_AFTER_S)
        box_ = address.bounds()
        expected = {
            "cameras": {c.code for c in city.layers.query("cameras", bbox=box_)},
            "grids": {g.code for g in city.layers.query("grids", bbox=box_, where={"level": 2})},
            "incidents": {i.id for i in city.layers.query("incidents", bbox=box_) if i.reported_at >= since},
            "places": {p.code for p in city.layers.query("places", bbox=box_)},
            "roads": {r.code for r in city.layers.query("roads", bbox=box_)},
        }
        for name, ids in expected.items():
            got = [f["properties"]["id"] for f in features(tile.data, name)]
            assert sorted(got) == sorted(ids), (city.kind, address, name)
            assert tile.features[name] == len(ids) and tile.aggregated[name] is False
            checked += len(ids)
    assert checked > 50


def test_colours_in_a_tile_are_the_ones_the_wall_draws_now(city):
    cameras = {c.code: c for c in city.layers.query("cameras")}
    incidents = {i.id: i for i in city.layers.query("incidents")}
    seen_status, seen_warning = set(), set()
    for address in sample_tiles(city, 9):
        tile = city.tiles.tile(address, [TileLayer(layer="cameras"), TileLayer(layer="incidents")], now=NOW,
                               offline_after_s=OFFLINE_AFTER_S)
        for f in features(tile.data, "cameras"):
            p = f["properties"]
            status = effective_status(cameras[p["id"]], now=NOW, offline_after_s=OFFLINE_AFTER_S)
            assert p["status"] == status and p["name"] == cameras[p["id"]].name
            seen_status.add(status)
        for f in features(tile.data, "incidents"):
            p, i = f["properties"], incidents[f["properties"]["id"]]
            assert p.get("warning") == warning_colour(status=i.status, escalation=i.escalation, warn_at=i.warn_at,
                                                      due_at=i.due_at, now=NOW)
            assert p["reported_at"] == math.floor(i.reported_at.timestamp())
            seen_warning.add(p.get("warning"))
    assert {"online", "offline"} <= seen_status and len(seen_warning) >= 3


def test_a_full_tile_holds_clusters_that_count_every_feature(city):
    address = max(sample_tiles(city, 9), key=lambda t: city.layers.count("cameras", bbox=t.bounds()))
    tile = city.tiles.tile(address, [TileLayer(layer="cameras", detail_max=10)], now=NOW,
                           offline_after_s=OFFLINE_AFTER_S)
    in_tile = city.layers.query("cameras", bbox=address.bounds())
    assert len(in_tile) > 10 and tile.aggregated == {"cameras": True}
    decoded = decode(tile.data)
    assert "cameras" not in decoded
    clusters = decoded["cameras_clusters"]["features"]
    assert 1 < len(clusters) <= 64
    assert sum(f["properties"]["n"] for f in clusters) == len(in_tile)
    statuses = [effective_status(c, now=NOW, offline_after_s=OFFLINE_AFTER_S) for c in in_tile]
    for status in ("online", "offline"):
        assert sum(f["properties"].get(f"n_{status}", 0) for f in clusters) == statuses.count(status)
    for f in clusters:  # each cluster sits inside the tile, at the mean of its members
        x, y = f["geometry"]["coordinates"]
        assert 0 <= x <= 4096 and 0 <= y <= 4096


def test_a_window_over_the_whole_city_counts_its_incidents_by_colour(city):
    # A tile holding the whole city and a short window: SQLite reads it from the report time's index, not the box.
    since = NOW - timedelta(days=7)
    incidents = [i for i in city.layers.query("incidents") if i.reported_at >= since]
    lon, lat = incidents[0].geom.x, incidents[0].geom.y
    address = tile_at(lon, lat, 6)
    in_tile = [i for i in city.layers.query("incidents", bbox=address.bounds()) if i.reported_at >= since]
    assert 1 < len(in_tile) < city.layers.count("incidents", bbox=address.bounds())
    tile = city.tiles.tile(address, [TileLayer(layer="incidents", since=since, detail_max=1)], now=NOW)
    clusters = decode(tile.data)["incidents_clusters"]["features"]
    assert tile.aggregated == {"incidents": True}
    assert sum(f["properties"]["n"] for f in clusters) == len(in_tile)
    colours = [warning_colour(status=i.status, escalation=i.escalation, warn_at=i.warn_at, due_at=i.due_at, now=NOW)
               or ("closed" if i.status == "closed" else "open") for i in in_tile]
    for colour in set(colours):
        assert sum(f["properties"].get(f"n_{colour}", 0) for f in clusters) == colours.count(colour), colour


@pytest.mark.parametrize(("level", "z"), [(2, 11), (4, 9)])
def test_a_full_tile_of_areas_counts_the_grids_whose_box_meets_it(city, level, z):
    grids = city.layers.query("grids", where={"level": level})
    full = [a for a in sample_tiles(city, z) if city.layers.count("grids", bbox=a.bounds(), where={"level": level}) > 1]
    assert full
    for address in full[:4]:
        tile_box = box(*address.bounds())
        meeting = [g for g in grids if box(*g.geom.bounds).intersects(tile_box)]
        tile = city.tiles.tile(address, [TileLayer(layer="grids", where={"level": level}, detail_max=1)], now=NOW)
        clusters = decode(tile.data)["grids_clusters"]["features"]
        assert tile.aggregated == {"grids": True}
        assert sum(f["properties"]["n"] for f in clusters) == len(meeting), (city.kind, address)


@pytest.fixture(params=BACKENDS)
def town(request, tmp_path):
    """The city on each backend, for a test that changes its incidents."""
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'town.db'}")
        store.migrate()
    else:
        store = open_store(request.getfixturevalue("postgis_url"))
        empty_store(store)
    load_city(store, now=NOW - timedelta(minutes=1))
    yield store
    store.close()


def change(store, statement: str, params: tuple) -> None:
    """A write over a connection of the test's own, as another client would make it."""
    if store.kind == "sqlite":
        conn = sqlite3.connect(store.url.removeprefix("sqlite:///"))
        try:
            with conn:
                conn.execute(statement, params)
        finally:
            conn.close()
        return
    conn = psycopg2.connect(store.url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement.replace("?", "%s"), params)
    finally:
        conn.close()


def move(store, incident: Incident, lon: float, lat: float) -> None:
    if store.kind == "sqlite":  # the R*Tree box follows the point, as the store writes it
        change(store, "UPDATE incidents SET geom = ? WHERE id = ?", (Point(lon, lat).wkb, incident.id))
        change(store, "UPDATE incidents_rtree SET minx = ?, maxx = ?, miny = ?, maxy = ? WHERE id = "
                      "(SELECT rowid FROM incidents WHERE id = ?)", (lon, lon, lat, lat, incident.id))
    else:
        change(store, "UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(?, ?), 4326) WHERE id = ?",
               (lon, lat, incident.id))


def clusters_both_ways(store, address: TileAddress, since: datetime) -> tuple[list[dict], list[dict]]:
    """The tile's incident clusters as the wall's layer gets them (from the stored cells at zoom ≤ 11) and as a
    filtered layer does (every row read: a filter that keeps every incident)."""
    wall = TileLayer(layer="incidents", since=since, detail_max=1)
    every_row = replace(wall, none_of={"category": ["no_such_category"]})
    return [decode(store.tiles.tile(address, [spec], now=NOW).data).get("incidents_clusters", {}).get("features", [])
            for spec in (wall, every_row)]


def assert_same_clusters(store, since: datetime) -> int:
    in_window = [i for i in store.layers.query("incidents") if i.reported_at >= since]
    checked = 0
    for z in (7, 8, 9, 10, 11):
        tiles = sorted({tile_at(i.geom.x, i.geom.y, z) for i in in_window}, key=lambda t: (t.x, t.y))
        for address in tiles[:6]:
            stored, every_row = clusters_both_ways(store, address, since)
            assert len(stored) == len(every_row), (store.kind, address)
            for a, b in zip(stored, every_row, strict=True):
                assert a["properties"] == b["properties"], (store.kind, address)
                assert all(abs(p - q) <= 1 for p, q in zip(a["geometry"]["coordinates"], b["geometry"]["coordinates"],
                                                            strict=True)), (store.kind, address)
            checked += sum(f["properties"].get("n_closed", 0) for f in stored)
    return checked


def test_low_zoom_incident_clusters_from_the_stored_cells_are_those_of_every_row(town):
    since = NOW - timedelta(days=30, hours=5, minutes=17)  # a window starting mid-day
    assert assert_same_clusters(town, since) > 20
    incidents = sorted((i for i in town.layers.query("incidents") if i.reported_at >= since), key=lambda i: i.id)
    open_ = [i for i in incidents if i.status != "closed"]
    closed = [i for i in incidents if i.status == "closed"]
    assert len(open_) > 8 and len(closed) > 8
    for i in open_[:4]:  # closed now
        change(town, "UPDATE incidents SET status = 'closed', closed_at = ? WHERE id = ?", (NOW.isoformat(), i.id))
    for i in closed[:3]:  # reopened
        change(town, "UPDATE incidents SET status = 'handled', closed_at = NULL WHERE id = ?", (i.id,))
    for i in closed[3:6]:  # moved, one of them out of the city's tiles
        move(town, i, i.geom.x + 0.07, i.geom.y - 0.05)
    move(town, closed[6], closed[6].geom.x + 3.1, closed[6].geom.y)
    for i in closed[7:9]:
        change(town, "DELETE FROM incidents WHERE id = ?", (i.id,))
    if town.kind == "sqlite":  # PostGIS refuses a new report time (it would move the row between partitions)
        change(town, "UPDATE incidents SET reported_at = ? WHERE id = ?",
               ((NOW - timedelta(days=2)).isoformat(timespec="microseconds"), closed[9].id))
    # A bulk import (one COPY on PostGIS) and a report one by one, closed and open, on the window's first (partial)
    # day, just before the window, and in its whole days.
    base = closed[10]
    new = [normalise(replace(base, id=f"imported-{k}", reported_at=when, status=status, closed_at=None,
                             geom=Point(base.geom.x + 0.01 * (k % 7), base.geom.y - 0.004 * k)))
           for k, (when, status) in enumerate([(since + timedelta(hours=1), "closed"),
                                               (since - timedelta(minutes=5), "closed"),
                                               (since + timedelta(days=3), "closed"),
                                               (since + timedelta(days=9), "reported"),
                                               (NOW - timedelta(hours=1), "closed")] * 3)]
    town.incidents.add_columns([IncidentBatch.from_records(new)], rows=len(new),
                               months={month_key(i.reported_at) for i in new})
    town.layers.add("incidents", [replace(base, id="one-by-one", reported_at=since + timedelta(days=5))])
    assert assert_same_clusters(town, since) > 20
    assert assert_same_clusters(town, NOW - timedelta(days=7)) > 0  # a window starting at midnight's other side
    if town.kind == "postgis":
        change(town, "TRUNCATE incidents CASCADE", ())
        assert sql_count(town, "SELECT count(*) FROM incident_tile_cells") == 0


def sql_count(store, statement: str) -> int:
    conn = psycopg2.connect(store.url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def viewer_of(store, code: str | None) -> dict[str, str]:
    secret = new_token()
    store.tokens.add(name=f"viewer-{code}-{secret[-6:]}", role="viewer", token_hash=hash_token(secret), grid_code=code)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def client(city):
    from mapserver import create_app

    app = create_app(settings_for(city), store=city)
    app.config["TESTING"] = True
    return app.test_client()


def test_a_tile_keeps_to_the_askers_jurisdiction(city, client):
    streets = city.grids.of_level(1)
    mine, other = streets[0], streets[-1]
    headers = viewer_of(city, mine.code)
    within = city.grids.jurisdiction(mine.code)
    inside = tile_at(*mine.geom.representative_point().coords[0], 13)
    outside = tile_at(*other.geom.representative_point().coords[0], 13)
    assert not box(*outside.bounds()).intersects(mine.geom)
    for key in ("cameras", "grids_community", "places"):
        resp = client.get(f"/api/screen/tiles/{key}/{outside.z}/{outside.x}/{outside.y}.mvt", headers=headers)
        assert resp.status_code == 200 and resp.mimetype == "application/vnd.mapbox-vector-tile"
        assert decode(resp.data) == {}, key
        whole = client.get(f"/api/screen/tiles/{key}/{outside.z}/{outside.x}/{outside.y}.mvt",
                           headers=viewer_of(city, None))
        assert key == "places" or decode(whole.data) != {}, key  # the whole store's viewer sees something there
    resp = client.get(f"/api/screen/tiles/cameras/{inside.z}/{inside.x}/{inside.y}.mvt", headers=headers)
    got = {f["properties"]["id"] for f in features(resp.data, "cameras")}
    assert got == {c.code for c in city.layers.query("cameras", bbox=inside.bounds(), within=within)}
    ground = client.get(f"/api/screen/ground/{outside.z}/{outside.x}/{outside.y}.mvt", headers=headers)
    assert ground.status_code == 200 and decode(ground.data) == {}


def test_tiles_are_etagged_and_polls_cost_a_304(city, client):
    headers = viewer_of(city, None)
    address = sample_tiles(city, 11)[0]
    url = f"/api/screen/tiles/incidents/{address.z}/{address.x}/{address.y}.mvt?window=30d"
    first = client.get(url, headers=headers)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    again = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


BAD_ADDRESSES = [
    ("/api/screen/tiles/cameras/a/1/2.mvt", 400, "z"),
    ("/api/screen/tiles/cameras/12/1.5/2.mvt", 400, "z"),
    ("/api/screen/tiles/cameras/23/0/0.mvt", 404, "z"),
    ("/api/screen/tiles/cameras/-1/0/0.mvt", 404, "z"),
    ("/api/screen/tiles/cameras/3/8/0.mvt", 404, "x"),
    ("/api/screen/tiles/cameras/3/0/-1.mvt", 404, "x"),
    ("/api/screen/tiles/nosuchlayer/3/0/0.mvt", 404, "layer"),
    ("/api/screen/tiles/hotspots/3/0/0.mvt", 404, "layer"),
    ("/api/screen/tiles/cameras/3/0/0.mvt?window=7d", 400, "window"),
    ("/api/screen/ground/3/0/9.mvt", 404, "x"),
    ("/api/screen/ground/x/0/0.mvt", 400, "z"),
]


def test_bad_tile_addresses_are_problems(city, client):
    headers = viewer_of(city, None)
    for path, status, param in BAD_ADDRESSES:
        resp = client.get(path, headers=headers)
        assert resp.status_code == status, (path, resp.data)
        assert resp.mimetype == "application/problem+json", path
        assert resp.json["status"] == status and resp.json.get("param") == param and resp.json["detail"], path


def test_the_ground_tile_holds_water_roads_and_boundaries_but_water_is_no_key_place(city, client):
    roads = city.layers.query("roads")
    lon, lat = roads[len(roads) // 2].geom.coords[0]
    lake = Polygon([(lon - 0.002, lat - 0.001), (lon + 0.002, lat - 0.001), (lon + 0.002, lat + 0.001),
                    (lon - 0.002, lat + 0.001)])
    city.layers.add("places", [Place(code="W001", name="东湖", kind="water", geom=lake)])
    address = tile_at(lon, lat, 15)
    headers = viewer_of(city, None)
    ground = decode(client.get(f"/api/screen/ground/{address.z}/{address.x}/{address.y}.mvt", headers=headers).data)
    assert [f["properties"]["id"] for f in ground["water"]["features"]] == ["W001"]
    assert {f["properties"]["id"] for f in ground["roads"]["features"]} == \
        {r.code for r in city.layers.query("roads", bbox=address.bounds())}
    assert {f["properties"]["level"] for f in ground["boundaries"]["features"]} <= {1, 2}
    assert ground["boundaries"]["features"]
    places = decode(client.get(f"/api/screen/tiles/places/{address.z}/{address.x}/{address.y}.mvt",
                               headers=headers).data)
    assert "W001" not in {f["properties"]["id"] for f in places.get("places", {}).get("features", [])}
    # At district zoom the residential streets of the city are left to closer zooms.
    far = tile_at(lon, lat, 10)
    far_ground = decode(client.get(f"/api/screen/ground/{far.z}/{far.x}/{far.y}.mvt", headers=headers).data)
    assert "roads" not in far_ground and far_ground["water"]["features"]


# -- one request for several layers' tiles --------------------------------------------------------------------------

WALL_KEYS = ("grids_street", "grids_community", "places", "cameras", "incidents")


def layers_url(keys, address: TileAddress, query: str = "?window=30d") -> str:
    return f"/api/screen/tiles/{','.join(keys)}/{address.z}/{address.x}/{address.y}.mvt{query}"


def test_a_layers_tile_holds_each_layer_as_its_own_tile_does(city, client):
    headers = viewer_of(city, None)
    checked = 0
    for address in sample_tiles(city, 12)[:4]:
        resp = client.get(layers_url(WALL_KEYS, address), headers=headers)
        assert resp.status_code == 200 and resp.mimetype == "application/vnd.mapbox-vector-tile"
        batched = decode(resp.data)
        assert set(batched) <= {*WALL_KEYS, *(f"{k}_clusters" for k in WALL_KEYS)}
        for key in WALL_KEYS:
            alone = decode(client.get(layers_url([key], address, "?window=30d" if key == "incidents" else ""),
                                      headers=headers).data)
            for name in (key, f"{key}_clusters"):
                assert batched.get(name) == alone.get(name), (address, name)
        # The two wall layers on the store's grids stay apart, each with its own level.
        box_ = address.bounds()
        for key, level in (("grids_street", 1), ("grids_community", 2)):
            expected = {g.code for g in city.layers.query("grids", bbox=box_, where={"level": level})}
            assert {f["properties"]["id"] for f in batched.get(key, {}).get("features", [])} == expected, key
        named = {name for name in resp.headers["X-Tile-Aggregated"].split(",") if name}
        assert named == {name[:-len("_clusters")] for name in batched if name.endswith("_clusters")}
        checked += bool(batched.get("grids_community", {}).get("features")) and bool(batched.get("cameras"))
    assert checked  # some sampled tile held community grids and cameras at once


def test_a_layers_tile_is_etagged_and_tags_each_layer(city, client):
    headers = viewer_of(city, None)
    camera = city.layers.query("cameras", limit=1)[0]
    address = tile_at(*camera.geom.coords[0], 13)
    url = layers_url(("grids_street", "cameras", "incidents"), address)
    first = client.get(url, headers=headers)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    tags = dict(item.split("=") for item in first.headers["X-Tile-Layer-Tags"].split(","))
    assert list(tags) == ["grids_street", "cameras", "incidents"]
    again = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["X-Tile-Layer-Tags"] == first.headers["X-Tile-Layer-Tags"]
    # Another set of layers is another answer, with the same tag for a layer in both.
    other = client.get(layers_url(("cameras", "places"), address, ""), headers={
        **headers, "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]
    assert dict(item.split("=") for item in other.headers["X-Tile-Layer-Tags"].split(","))["cameras"] == \
        tags["cameras"]
    # A new incident in the tile: the tile is new, and only the incidents' tag moved.
    city.layers.add("incidents", [Incident(id="00000000-0000-4000-8000-0000000000c7", geom=camera.geom,
                                           reported_at=NOW, category="fire_hazard", description="批量瓦片")])
    after = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    moved = dict(item.split("=") for item in after.headers["X-Tile-Layer-Tags"].split(","))
    assert moved["grids_street"] == tags["grids_street"] and moved["incidents"] != tags["incidents"]
    assert "00000000-0000-4000-8000-0000000000c7" in {
        f["properties"]["id"] for f in features(after.data, "incidents")}


BAD_LAYER_LISTS = [
    ("cameras,nosuchlayer", 404, "nosuchlayer"),
    ("cameras,hotspots", 404, "hotspots"),  # a configured layer, not served as tiles
    ("cameras,places,cameras", 400, "cameras"),
    (",".join(["cameras"] + [f"layer{i}" for i in range(16)]), 400, "16"),
    ("cameras,", 404, "''"),
]


def test_bad_layer_lists_are_problems_naming_the_key(city, client):
    headers = viewer_of(city, None)
    for keys, status, named in BAD_LAYER_LISTS:
        resp = client.get(f"/api/screen/tiles/{keys}/3/0/0.mvt", headers=headers)
        assert resp.status_code == status, (keys, resp.data)
        assert resp.mimetype == "application/problem+json", keys
        assert resp.json["param"] == "layer" and named in resp.json["detail"], (keys, resp.json)
    # The window is taken when one of the layers uses it, and refused when none does.
    assert client.get("/api/screen/tiles/cameras,incidents/3/0/0.mvt?window=7d", headers=headers).status_code == 200
    refused = client.get("/api/screen/tiles/cameras,places/3/0/0.mvt?window=7d", headers=headers)
    assert refused.status_code == 400 and refused.json["param"] == "window"


def test_a_layers_tile_keeps_to_the_askers_jurisdiction(city, client):
    streets = city.grids.of_level(1)
    mine, other = streets[0], streets[-1]
    street, whole = viewer_of(city, mine.code), viewer_of(city, None)
    within = city.grids.jurisdiction(mine.code)
    inside = tile_at(*mine.geom.representative_point().coords[0], 13)
    outside = tile_at(*other.geom.representative_point().coords[0], 13)
    resp = client.get(layers_url(WALL_KEYS, outside), headers=street)
    assert resp.status_code == 200 and decode(resp.data) == {}
    assert decode(client.get(layers_url(WALL_KEYS, outside), headers=whole).data) != {}
    mine_tile = client.get(layers_url(WALL_KEYS, inside), headers=street)
    assert {f["properties"]["id"] for f in features(mine_tile.data, "cameras")} == \
        {c.code for c in city.layers.query("cameras", bbox=inside.bounds(), within=within)}
    assert {f["properties"]["id"] for f in features(mine_tile.data, "grids_community")} == \
        {g.code for g in city.layers.query("grids", bbox=inside.bounds(), where={"level": 2}, within=within)}
    # The whole store's answer is not the street's, nor is its tag.
    whole_tile = client.get(layers_url(WALL_KEYS, inside),
                            headers={**whole, "If-None-Match": mine_tile.headers["ETag"]})
    assert whole_tile.status_code == 200 and whole_tile.headers["ETag"] != mine_tile.headers["ETag"]
