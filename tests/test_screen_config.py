"""The screen's settings, layer registry, window, CSP helpers and basemaps (MBTiles route, intranet XYZ)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

import layers
from mapserver import StartupError, create_app
from mapserver.config import ConfigError, MapSettings, Settings, StoreSettings, load_settings
from mapserver.maplayers.spec import missing_attributes
from mapserver.screen.csp import add_nonce
from mapserver.screen.window import parse_window, window_start
from tests.conftest import make_token

PNG = b"\x89PNG\r\n\x1a\n" + b"tile"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_has_every_layer_module_in_order():
    settings = load_settings(env={})
    assert [entry.key for entry in settings.map.layers] == [
        "district", "grids_street", "grids_community", "grids_compound", "grids_building", "risk", "heat",
        "hotspots", "trend_new", "trend_intensifying", "blindspots", "patrols", "places", "cameras", "incidents"]
    assert settings.map.basemap.kind == "none" and settings.map.lang == "zh"
    assert settings.map == MapSettings()  # the documented file and the defaults agree


def test_every_module_in_layers_honours_the_contract():
    assert set(layers.names()) >= {"district", "grids", "places", "cameras", "incidents"}
    for name in layers.names():
        assert missing_attributes(layers.load(name)) == [], name


def test_an_unknown_layer_stops_the_start_naming_it(tmp_path):
    path = write(tmp_path, "map:\n  layers:\n    - name: grids\n    - name: heatmap\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert "map.layers.1" in message and "'heatmap'" in message and "cameras" in message and str(path) in message


def test_a_layer_of_another_package_is_named_by_its_dotted_path(store, tmp_path):
    from shapely.geometry import Point

    from mapserver.model import Place

    store.layers.add("places", [Place(code="P1", name="第一中学", kind="school", geom=Point(114.65, 33.62)),
                         Place(code="P2", name="人民医院", kind="hospital", geom=Point(114.66, 33.63))])
    config = write(tmp_path, "map:\n  layers: [{name: grids}, {name: tests.citylayers.schools, id: schools}]\n")
    settings = load_settings(config, env={"MAPSERVER_STORE": store.url})
    client = create_app(settings, store=store).test_client()
    body = client.get("/api/screen/layers/schools", headers={"Authorization": f"Bearer {make_token(store, 'viewer')}"})
    assert body.status_code == 200, body.get_json()
    assert [f["properties"]["name"] for f in body.get_json()["features"]] == ["第一中学"]


@pytest.mark.parametrize("name", ["tests.citylayers.parking", "tests.citylayers"])
def test_a_dotted_layer_that_is_missing_or_incomplete_stops_the_start(tmp_path, name):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, f"map:\n  layers: [{{name: {name}}}]\n"), env={})
    assert name in str(caught.value) and ("cannot be imported" in str(caught.value)
                                          or "does not define RENDERER" in str(caught.value))


@pytest.mark.parametrize(("entry", "words"), [
    ("{name: cameras, style: {colour: red}}", ["unknown style key 'colour'", "status_colors"]),
    ("{name: cameras, style: {radius: big}}", ["style 'radius' must be like 3.5"]),
    ("{name: grids, params: {level: 7}}", ["params 'level' must be one of [1, 2, 3, 4]"]),
    ("{name: places, params: {kind: school}}", ["unknown params key 'kind'"]),
    ("{name: grids, id: Bad-Id}", ["map.layers.0.id"]),
])
def test_bad_layer_entries_are_refused_with_the_key(tmp_path, entry, words):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, f"map:\n  layers:\n    - {entry}\n"), env={})
    for word in words:
        assert word in str(caught.value)


def test_a_colour_table_given_in_part_keeps_the_other_colours(tmp_path):
    settings = load_settings(write(tmp_path, "map:\n  layers: [{name: cameras, style: {status_colors: "
                                             "{online: '#00ff00'}}}]\n"), env={})
    style = layers.configure(settings.map.layers)[0].style
    assert style["status_colors"]["online"] == "#00ff00" and style["status_colors"]["offline"] == "#ff5252"


def test_two_entries_need_two_ids(tmp_path):
    with pytest.raises(ConfigError, match="layer id 'grids' is used twice"):
        load_settings(write(tmp_path, "map:\n  layers: [{name: grids}, {name: grids, params: {level: 2}}]\n"), env={})


@pytest.mark.parametrize(("basemap", "word"), [
    ("{kind: xyz}", "needs url"),
    ("{kind: xyz, url: 'http://10.1.2.3/tiles.png'}", "{z}, {x} and {y}"),
    ("{kind: mbtiles}", "needs path"),
    ("{kind: google}", "map.basemap.kind"),
])
def test_bad_basemaps_are_refused(tmp_path, basemap, word):
    with pytest.raises(ConfigError, match=word.replace("{", r"\{").replace("}", r"\}")):
        load_settings(write(tmp_path, f"map:\n  basemap: {basemap}\n"), env={})


def test_other_map_settings_are_checked(tmp_path):
    for text, word in (("timezone: Mars/Olympus", "unknown time zone"), ("center: [200, 33]", "center is lon, lat"),
                       ("zoom: 3", "zoom must lie between"), ("lang: fr", "map.lang"), ("refresh_s: 0", "refresh_s")):
        with pytest.raises(ConfigError, match=word):
            load_settings(write(tmp_path, f"map:\n  {text}\n"), env={})


def test_windows_start_at_local_midnight():
    # 2026-11-21 17:30 UTC is 01:30 on the 22nd in Shanghai: "today" began at 16:00 UTC on the 21st.
    now = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    assert window_start("today", now=now, timezone="Asia/Shanghai") == datetime(2026, 11, 21, 16, tzinfo=UTC)
    assert window_start("7d", now=now, timezone="Asia/Shanghai") == datetime(2026, 11, 15, 16, tzinfo=UTC)
    assert window_start("30d", now=now, timezone="Asia/Shanghai") == datetime(2026, 10, 23, 16, tzinfo=UTC)
    assert parse_window("7d", "today") == "7d" and parse_window("1y", "today") == "today"
    assert parse_window(None, "30d") == "30d"


def test_the_nonce_goes_on_every_script_and_style_tag_and_nowhere_else():
    html = '<script>a</script><script src="/x.js"></script><style>b</style><SCRIPT type="module"></SCRIPT><scripts>'
    stamped = add_nonce(html, "N0nce")
    assert stamped.count('nonce="N0nce"') == 4 and "<scripts>" in stamped


def _mbtiles(path: Path, fmt: str = "png") -> Path:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE metadata (name text, value text);"
                       "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
                       "tile_data blob);")
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("format", fmt), ("bounds", "114.5,33.5,114.9,33.8"),
                                                          ("minzoom", "10"), ("maxzoom", "12")])
    # XYZ tile 12/3352/1643 is TMS row 2**12 - 1 - 1643 = 2452.
    conn.execute("INSERT INTO tiles VALUES (12, 3352, 2452, ?)", (PNG,))
    conn.commit()
    conn.close()
    return path


def _app_with_basemap(store, basemap: dict, tmp_path: Path):
    config = write(tmp_path, "map:\n  basemap: " + repr(basemap).replace("'", '"') + "\n")
    settings = load_settings(config, env={"MAPSERVER_STORE": store.url})
    return create_app(settings, store=store)


def test_mbtiles_tiles_are_served_with_the_row_flipped(store, tmp_path):
    _mbtiles(tmp_path / "base.mbtiles")
    client = _app_with_basemap(store, {"kind": "mbtiles", "path": "base.mbtiles"}, tmp_path).test_client()
    headers = {"Authorization": f"Bearer {make_token(store, 'viewer')}"}
    tile = client.get("/tiles/12/3352/1643", headers=headers)
    assert tile.status_code == 200 and tile.mimetype == "image/png" and tile.data == PNG
    assert client.get("/tiles/12/3352/1643.png", headers=headers).data == PNG
    missing = client.get("/tiles/12/3352/2452", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/tiles/12/99999/1", headers=headers).status_code == 404
    assert client.get("/tiles/a/b/c", headers=headers).status_code == 400
    assert client.get("/tiles/12/3352/1643").status_code == 401
    html = client.get("/", headers=headers).get_data(as_text=True)
    compact = "".join(html.split())
    assert '"/tiles/{z}/{x}/{y}"' in compact and '"maxNativeZoom":12' in compact and '"minNativeZoom":10' in compact
    assert '"bounds":[[33.5,114.5,],[33.8,114.9,],]' in compact  # Leaflet asks only for tiles the file has


def test_no_tiles_route_without_an_mbtiles_basemap(client, tokens):
    assert client.get("/tiles/1/0/0", headers=tokens["viewer"]).status_code == 404


def test_a_missing_or_vector_mbtiles_file_stops_the_start(store, tmp_path):
    with pytest.raises(StartupError, match="does not exist"):
        _app_with_basemap(store, {"kind": "mbtiles", "path": "nope.mbtiles"}, tmp_path)
    _mbtiles(tmp_path / "vector.mbtiles", fmt="pbf")
    with pytest.raises(StartupError, match="raster tiles only"):
        _app_with_basemap(store, {"kind": "mbtiles", "path": "vector.mbtiles"}, tmp_path)


def test_an_intranet_xyz_basemap_is_the_one_origin_images_may_come_from(store, tmp_path):
    basemap = {"kind": "xyz", "url": "http://10.20.30.40:8080/tiles/{z}/{x}/{y}.png", "attribution": "市测绘院"}
    client = _app_with_basemap(store, basemap, tmp_path).test_client()
    resp = client.get("/", headers={"Authorization": f"Bearer {make_token(store, 'viewer')}"})
    policy = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: http://10.20.30.40:8080;" in policy
    assert policy.count("http") == 1
    assert "http://10.20.30.40:8080/tiles/{z}/{x}/{y}.png" in resp.get_data(as_text=True)


def test_the_default_settings_build_an_app(store):
    app = create_app(Settings(store=StoreSettings(url=store.url)), store=store)
    assert "screen.page" in app.view_functions and "screen.tile" in app.view_functions


def test_the_answer_cache_keeps_to_its_byte_budget():
    from mapserver.screen.answers import AnswerCache

    cache, made = AnswerCache(max_bytes=10_000), []
    for n in range(20):
        cache.get_or_make(f"tag{n}", lambda n=n: made.append(n) or {"n": n, "pad": "x" * 3000})
    assert len(made) == 20
    cache.get_or_make("tag19", lambda: made.append("again"))  # the newest answers stay
    cache.get_or_make("tag0", lambda: made.append("again") or {})  # the oldest went
    assert made[20:] == ["again"]
    assert cache._bytes <= 10_000


def test_callers_asking_at_once_share_one_build():
    import threading
    import time as clock

    from mapserver.screen.answers import AnswerCache

    cache, builds = AnswerCache(), []

    def slow() -> dict:
        builds.append(1)
        clock.sleep(0.2)
        return {"ok": True}

    threads = [threading.Thread(target=cache.get_or_make, args=("same", slow)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [1]
