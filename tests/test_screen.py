"""The big-screen page and its JSON endpoints at the Flask level, on both store backends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import folium
import pytest
from shapely.geometry import Point, box

from mapserver import create_app
from mapserver.cameras import effective_status
from mapserver.config import MapLayerSettings, MapSettings, Settings, StoreSettings
from mapserver.model import Camera, Grid, Incident
from mapserver.screen.window import window_start
from tests.conftest import make_token
from tests.samples import COMMUNITY, COMPOUND, STREET, load_all

HOSTILE = "<img src=x onerror=alert(1)>${alert(1)}</script>"
ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)\"""")


def page(client, headers, query: str = ""):
    return client.get(f"/{query}", headers=headers)


def csp_of(resp) -> dict[str, str]:
    parts = resp.headers["Content-Security-Policy"].split("; ")
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in parts}


def test_the_page_renders_a_full_screen_map_with_every_layer(client, tokens, store):
    load_all(store)
    resp = page(client, tokens["viewer"])
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "<title>网格化服务管理 · 一屏统揽</title>" in html
    assert 'class="folium-map"' in html and "L.control.layers" in html
    for title in ("辖区边界", "街道网格", "社区(村)网格", "重点场所", "视频点位", "事件"):
        assert title in html.encode("ascii", "backslashreplace").decode("unicode_escape") or title in html
    assert 'id="screen-config"' in html
    assert resp.headers["Cache-Control"] == "no-store"


def test_the_page_names_only_local_assets_and_no_url_at_all(client, tokens):
    html = page(client, tokens["viewer"]).get_data(as_text=True)
    assets = ASSET.findall(html)
    assert {"/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css", "/static/screen/main.js",
            "/static/screen/screen.css", "/static/screen/icon.svg"} <= set(assets)
    assert all(url.startswith("/static/") for url in assets), assets
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)


def test_every_asset_the_page_names_is_served(client, tokens):
    for url in ASSET.findall(page(client, tokens["viewer"]).get_data(as_text=True)):
        assert client.get(url).status_code == 200, url


def test_folium_class_defaults_are_left_alone(client, tokens):
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    page(client, tokens["viewer"])
    page(client, tokens["viewer"])
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert any("cdn.jsdelivr.net" in url for _, url in folium.Map.default_js)  # still folium's own, untouched


def test_the_csp_has_no_external_origin_no_eval_and_a_fresh_nonce_on_every_inline_tag(client, tokens):
    first, second = page(client, tokens["viewer"]), page(client, tokens["viewer"])
    policy = csp_of(first)
    nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{20,})'", policy["script-src"]).group(1)
    assert policy["style-src"] == f"'self' 'nonce-{nonce}'"
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["img-src"] == "'self' data:"
    header = first.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in header and "unsafe-inline" not in header and "http" not in header
    html = first.get_data(as_text=True)
    tags = re.findall(r"<(?:script|style)\b[^>]*>", html)
    assert tags and all(f'nonce="{nonce}"' in tag for tag in tags)
    assert csp_of(second)["script-src"] != policy["script-src"]


def test_the_page_carries_no_stored_text(client, tokens, store):
    store.layers.add("grids", [Grid(code="411602009000000", level=1, name=HOSTILE, geom=box(114.8, 33.6, 114.9, 33.7))])
    html = page(client, tokens["viewer"]).get_data(as_text=True)
    assert "onerror" not in html and "alert(1)" not in html


def test_the_page_json_block_cannot_close_its_script_element():
    from mapserver.screen.page import script_json

    text = script_json({"name": HOSTILE, "amp": "a&b"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\\u003c/script\\u003e" in text


def test_layer_json_returns_names_verbatim_as_data(client, tokens, store):
    store.layers.add("grids", [Grid(code="411602009000000", level=1, name=HOSTILE, geom=box(114.8, 33.6, 114.9, 33.7))])
    resp = client.get("/api/screen/layers/grids_street", headers=tokens["viewer"])
    assert resp.mimetype == "application/json" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert [f["properties"]["name"] for f in resp.get_json()["features"]] == [HOSTILE]


def test_english_labels_and_unknown_lang_or_window_fall_back(client, tokens):
    html = page(client, tokens["viewer"], "?lang=en&window=7d").get_data(as_text=True)
    assert '<html lang="en">' in html and "Grid governance" in html and '"window":"7d"' in html
    html = page(client, tokens["viewer"], "?lang=xx&window=forever").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and '"window":"today"' in html


def _incidents_at(store, now: datetime) -> dict[str, datetime]:
    """Incidents at known times (and one closed), keyed by id."""
    times = {"a": now - timedelta(minutes=30), "b": now - timedelta(days=3), "c": now - timedelta(days=20),
             "d": now - timedelta(days=45)}
    store.layers.add("incidents", [Incident(id=f"00000000-0000-4000-8000-00000000000{k}", geom=Point(114.612, 33.612),
                                            reported_at=t, category="disputes", grid_code=COMPOUND.code,
                                            grid_l1=STREET.code, grid_l2=COMMUNITY.code, grid_l3=COMPOUND.code,
                                            status="closed" if k == "b" else "reported",
                                            closed_at=t + timedelta(hours=1) if k == "b" else None)
                                   for k, t in times.items()])
    return times


@pytest.mark.parametrize("window", ["today", "7d", "30d"])
def test_measures_agree_with_the_store(client, tokens, store, window):
    load_all(store)
    now = datetime.now(UTC)
    times = _incidents_at(store, now)
    since = window_start(window, now=now, timezone="Asia/Shanghai")
    every = store.layers.query("incidents")
    body = client.get(f"/api/screen/measures?window={window}", headers=tokens["viewer"]).get_json()
    values = body["values"]
    assert body["window"] == window and body["since"] == since.isoformat()
    assert values["reports"] == sum(1 for i in every if i.reported_at >= since)
    assert values["reports"] >= sum(1 for t in times.values() if t >= since)
    assert values["open"] == sum(1 for i in every if i.status != "closed")
    # The sample's online camera last sent a heartbeat on 2026-11-20: stale, so offline now.
    online = sum(1 for c in store.layers.query("cameras")
                 if effective_status(c, now=now, offline_after_s=300) == "online")
    assert body["cameras"] == {"online": online, "total": 2}
    assert values["camera_online_rate"] == pytest.approx(online / 2)
    assert body["grids_by_level"] == {"1": 1, "2": 1, "3": 1, "4": 0}  # the special school grid is not counted
    closed = sum(1 for i in every if i.reported_at >= since and i.status == "closed")
    assert values["closure_rate"] == (pytest.approx(closed / values["reports"]) if values["reports"] else None)
    assert body["pending"] == []


def test_cameras_show_their_status_now_and_the_rate_follows(client, tokens, store):
    now = datetime.now(UTC)
    store.layers.add("cameras", [Camera(code="C1", name="fresh", geom=Point(114.61, 33.61), status="online",
                                        last_seen=now - timedelta(seconds=30)),
                                 Camera(code="C2", name="stale", geom=Point(114.62, 33.61), status="online",
                                        last_seen=now - timedelta(hours=2)),
                                 Camera(code="C3", name="never heard", geom=Point(114.63, 33.61), status="online")])
    body = client.get("/api/screen/layers/cameras", headers=tokens["viewer"]).get_json()
    assert {f["id"]: f["properties"]["status"] for f in body["features"]} == {
        "C1": "online", "C2": "offline", "C3": "online"}
    measures = client.get("/api/screen/measures", headers=tokens["viewer"]).get_json()
    assert measures["cameras"] == {"online": 2, "total": 3}


def test_measures_name_the_hottest_communities(client, tokens, store):
    load_all(store)
    _incidents_at(store, datetime.now(UTC))
    body = client.get("/api/screen/measures?window=30d", headers=tokens["viewer"]).get_json()
    assert body["values"]["hottest_grids"] == [{"code": COMMUNITY.code, "name": COMMUNITY.name, "incidents": 3}]


def test_polls_cost_a_304_until_the_data_changes(client, tokens, store):
    load_all(store)
    first = client.get("/api/screen/layers/cameras", headers=tokens["viewer"])
    tag = first.headers["ETag"]
    again = client.get("/api/screen/layers/cameras", headers={**tokens["viewer"], "If-None-Match": tag})
    assert again.status_code == 304
    store.layers.delete("cameras", keys=["41160200001320000002"])
    changed = client.get("/api/screen/layers/cameras", headers={**tokens["viewer"], "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert len(changed.get_json()["features"]) == 1


def test_layer_answers_are_gzipped_when_asked(client, tokens, store):
    store.layers.add("grids", [Grid(code=f"41160200{k:03d}0000", level=1, name=f"街道{k}", geom=box(114 + k / 100, 33.6,
                                                                                      114 + (k + 1) / 100, 33.7))
                               for k in range(40)])
    resp = client.get("/api/screen/layers/grids_street", headers={**tokens["viewer"], "Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    import gzip
    import json

    assert len(json.loads(gzip.decompress(resp.data))["features"]) == 40


def test_incidents_layer_follows_the_window_and_the_view(client, tokens, store):
    load_all(store)
    now = datetime.now(UTC)
    times = _incidents_at(store, now)
    url = "/api/screen/layers/incidents"
    for window in ("today", "7d", "30d"):
        since = window_start(window, now=now, timezone="Asia/Shanghai")
        body = client.get(f"{url}?window={window}", headers=tokens["viewer"]).get_json()
        expected = sorted((k for k, t in times.items() if t >= since), key=lambda k: times[k], reverse=True)
        got = [f["id"][-1] for f in body["features"] if f["id"].startswith("00000000-0000-4000-8000-0")]
        assert got == expected  # newest first
    outside = client.get(f"{url}?window=30d&bbox=100,20,101,21", headers=tokens["viewer"]).get_json()
    assert outside["features"] == [] and outside["numberMatched"] == 0


def test_incident_markers_carry_their_warning_colour(client, tokens, store):
    store.layers.add("incidents", [Incident(id="00000000-0000-4000-8000-0000000000e1", geom=Point(114.61, 33.61),
                                            reported_at=datetime.now(UTC) - timedelta(hours=2), category="disputes",
                                            warn_at=datetime.now(UTC) - timedelta(hours=1),
                                            due_at=datetime.now(UTC) + timedelta(hours=1))])
    # the default window is today in Beijing, which two hours ago was not after midnight there
    feature = client.get("/api/screen/layers/incidents?window=7d", headers=tokens["viewer"]).get_json()["features"][0]
    assert feature["properties"]["warning"] == "yellow"
    assert "description" not in feature["properties"]  # details are fetched on click


def test_layer_endpoint_refuses_unknown_layers_and_parameters(client, tokens):
    assert client.get("/api/screen/layers/heatmap", headers=tokens["viewer"]).status_code == 404
    resp = client.get("/api/screen/layers/cameras?colour=red", headers=tokens["viewer"])
    assert resp.status_code == 400 and resp.get_json()["param"] == "colour"
    assert client.get("/api/screen/layers/cameras?bbox=1,2,3", headers=tokens["viewer"]).status_code == 400


def test_a_layer_sends_at_most_max_features_and_says_how_many_there_are(store):
    settings = Settings(store=StoreSettings(url=store.url), map=MapSettings(max_features=1))
    load_all(store)
    client = create_app(settings, store=store).test_client()
    token = make_token(store, "viewer")
    body = client.get("/api/screen/layers/cameras", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["numberReturned"] == 1 and body["numberMatched"] == 2


def test_the_grid_card_gives_chain_and_counts(client, tokens, store):
    load_all(store)
    _incidents_at(store, datetime.now(UTC))
    card = client.get(f"/api/screen/grids/{COMPOUND.code}?window=30d", headers=tokens["viewer"]).get_json()
    assert [g["code"] for g in card["chain"]] == [STREET.code, COMMUNITY.code, COMPOUND.code]
    assert card["name"] == COMPOUND.name and card["households"] == 420
    in_window = [i for i in store.layers.query("incidents", bbox=COMPOUND.geom.bounds)
                 if COMPOUND.geom.intersects(i.geom) and i.reported_at >= window_start("30d", now=datetime.now(UTC),
                                                                                      timezone="Asia/Shanghai")]
    assert len(in_window) >= 3  # three made here, perhaps one from the samples
    assert card["counts"] == {"incidents": len(in_window), "open": sum(1 for i in in_window if i.status != "closed"),
                              "cameras": 2, "cameras_online": 1, "children": 0}
    resp = client.get("/api/screen/grids/nope", headers=tokens["viewer"])
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_locate_converts_pasted_coordinates_and_finds_the_grids(client, tokens, store):
    load_all(store)
    from mapserver.geo import wgs84_to_bd09, wgs84_to_gcj02

    for crs, convert in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09), ("cgcs2000", lambda x, y: (x, y))):
        lon, lat = convert(114.611, 33.611)
        body = client.get(f"/api/screen/locate?lon={lon}&lat={lat}&crs={crs}", headers=tokens["viewer"]).get_json()
        assert body["lon"] == pytest.approx(114.611, abs=1e-6) and body["lat"] == pytest.approx(33.611, abs=1e-6)
        assert [g["code"] for g in body["grids"]] == [STREET.code, COMMUNITY.code, COMPOUND.code, SCHOOL_CODE]
    bad = client.get("/api/screen/locate?lon=abc&lat=33&crs=wgs84", headers=tokens["viewer"])
    assert bad.status_code == 400 and bad.get_json()["param"] == "lon"
    assert client.get("/api/screen/locate?lon=1&lat=2&crs=mars2", headers=tokens["viewer"]).get_json()["param"] == "crs"


SCHOOL_CODE = "411602001001901"


def test_a_layer_without_its_data_source_is_left_off_the_page(store, monkeypatch):
    import layers.places as places_module

    monkeypatch.setattr(places_module, "available", lambda store: False, raising=False)
    client = create_app(Settings(store=StoreSettings(url=store.url)), store=store).test_client()
    headers = {"Authorization": f"Bearer {make_token(store, 'viewer')}"}
    html = client.get("/", headers=headers).get_data(as_text=True)
    keys = re.findall(r'\{"key":"(\w+)"', html)
    assert "places" not in keys and "cameras" in keys
    assert client.get("/api/screen/layers/places", headers=headers).status_code == 404


def test_layer_order_and_style_come_from_config(store):
    layers = [MapLayerSettings(name="incidents", style={"radius": 9.0}),
              MapLayerSettings(name="grids", id="streets", params={"level": 1}, style={"color": "#123456"})]
    client = create_app(Settings(store=StoreSettings(url=store.url), map=MapSettings(layers=layers)),
                        store=store).test_client()
    html = client.get("/", headers={"Authorization": f"Bearer {make_token(store, 'viewer')}"}).get_data(as_text=True)
    keys = re.findall(r'\{"key":"(\w+)"', html)
    assert keys == ["incidents", "streets"]
    assert '"radius":9.0' in html and '"color":"#123456"' in html
