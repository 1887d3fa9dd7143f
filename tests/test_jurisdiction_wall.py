"""The wall (一屏统揽) of a jurisdiction, on both backends: its layers, measures and grid cards keep to it, its
answers are cached apart from another street's, and its page opens on its grid. The city: tests/scoped_city.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from shapely.geometry import box, shape

from mapserver.model import Grid
from tests import scoped_city as city
from tests.scoped_city import A1, A2, COMPOUND, EAST, WEST, bound_token

CONFIG = re.compile(r'<script[^>]*id="screen-config">(.*?)</script>', re.S)
HOSTILE = "<img src=x onerror=alert(1)></script>"


@pytest.fixture
def viewers(store):
    city.load(store)
    return {code: bound_token(store, "viewer", code) for code in (A1, A2, WEST, EAST, None)}


def layer(client, viewer, key: str, query: str = "") -> set[str]:
    resp = client.get(f"/api/screen/layers/{key}?window=30d{query}", headers=viewer.headers)
    assert resp.status_code == 200, resp.get_json()
    return {f["id"] for f in resp.get_json()["features"]}


def page_config(client, viewer, query: str = "") -> tuple[str, dict]:
    html = client.get(f"/{query}", headers=viewer.headers).get_data(as_text=True)
    return html, json.loads(CONFIG.search(html).group(1))


@pytest.mark.parametrize("key, layer_name", [("cameras", "cameras"), ("places", "places"),
                                             ("incidents", "incidents"), ("grids_community", "grids")])
def test_wall_layers_show_the_jurisdiction_only(client, viewers, key, layer_name):
    a1, a2, east = (layer(client, viewers[code], key) for code in (A1, A2, EAST))
    level2 = {A1, A2, "410199"}
    expected = {code: {c for c in found[layer_name] if layer_name != "grids" or c in level2}
                for code, found in ((A1, city.IN_A1), (A2, city.IN_A2), (EAST, city.IN_EAST))}
    assert (a1, a2, east) == (expected[A1], expected[A2], expected[EAST])
    assert layer(client, viewers[WEST], key) == a1 | a2
    assert layer(client, viewers[WEST], key, "&bbox=114.59,33.59,114.615,33.65") == \
        layer(client, viewers[A1], key, "&bbox=114.59,33.59,114.615,33.65")


def test_the_outline_is_the_jurisdictions_own_grid(client, viewers):
    assert layer(client, viewers[A2], "district") == {"district"}
    outline = client.get("/api/screen/layers/district", headers=viewers[A2].headers).get_json()["features"][0]
    xs = [x for ring in outline["geometry"]["coordinates"] for x, _ in ring]
    assert min(xs) == pytest.approx(114.62) and max(xs) == pytest.approx(114.64)
    assert layer(client, viewers[WEST], "grids_street") == {WEST}
    assert layer(client, viewers[A1], "grids_compound") == {COMPOUND}


def test_the_whole_stores_outline_is_its_streets_and_follows_an_edit(client, store, viewers):
    def outline():
        resp = client.get("/api/screen/layers/district", headers=viewers[None].headers)
        return resp.headers["ETag"], shape(resp.get_json()["features"][0]["geometry"])

    etag, before = outline()
    assert before.symmetric_difference(box(*city.WEST_BOX).union(box(*city.EAST_BOX))).area < 1e-9
    store.layers.add("grids", [Grid(code="4103", level=1, name="北街道", geom=box(114.60, 33.64, 114.68, 33.66))])
    later_etag, after = outline()
    assert later_etag != etag and after.area == pytest.approx(before.area + 0.08 * 0.02)


def test_measures_are_the_jurisdictions(client, viewers):
    def measures(code) -> dict:
        return client.get("/api/screen/measures?window=30d", headers=viewers[code].headers).get_json()

    west, a2, everything = measures(WEST), measures(A2), measures(None)
    assert west["cameras"] == {"online": 3, "total": 4} and a2["cameras"] == {"online": 1, "total": 2}
    assert everything["cameras"]["total"] == 5
    assert west["grids_by_level"] == {"1": 1, "2": 2, "3": 1, "4": 0}
    assert a2["grids_by_level"] == {"1": 0, "2": 1, "3": 0, "4": 0}
    assert (west["values"]["open"], a2["values"]["open"], everything["values"]["open"]) == (2, 1, 3)
    assert [g["code"] for g in a2["values"]["hottest_grids"]] == [A2]


def test_a_grid_card_outside_is_a_404_and_the_locate_lookup_stays_global(client, viewers):
    own = client.get(f"/api/screen/grids/{A1}", headers=viewers[WEST].headers)
    assert own.status_code == 200 and own.get_json()["counts"]["cameras"] == 2
    outside = client.get("/api/screen/grids/410199", headers=viewers[WEST].headers)
    missing = client.get("/api/screen/grids/999999", headers=viewers[WEST].headers)
    assert outside.status_code == missing.status_code == 404
    assert outside.get_json()["title"] == missing.get_json()["title"]
    assert client.get(f"/api/screen/grids/{A2}", headers=viewers[A1].headers).status_code == 404
    located = client.get("/api/screen/locate?lon=114.66&lat=33.62", headers=viewers[A1].headers).get_json()
    assert [g["code"] for g in located["grids"]] == [EAST, "410199"]


def save_plans(store) -> None:
    """One saved plan per street, with a route for the wall's patrol layer."""
    for grid, x in ((WEST, 114.61), (EAST, 114.66)):
        route = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x, 33.61], [x, 33.62]]}}
        store.patrols.save({"mode": "walk", "window": "day", "budget_min": 30, "length_m": 1100.0,
                            "duration_min": 20.0, "route": route}, created_by=f"liaison-{grid}",
                           created_at=datetime.now(UTC), planner_grid=grid)


@pytest.mark.parametrize("path", ["/api/screen/layers/cameras", "/api/screen/layers/grids_street",
                                  "/api/screen/layers/patrols", "/api/screen/measures?window=7d"])
def test_two_streets_never_get_each_others_cached_answers(client, store, viewers, path):
    save_plans(store)
    west, east = viewers[WEST], viewers[EAST]
    first = client.get(path, headers=west.headers)
    tag_west = first.headers["ETag"]
    other = client.get(path, headers={**east.headers, "If-None-Match": tag_west})
    assert other.status_code == 200 and other.headers["ETag"] != tag_west
    tag_east = other.headers["ETag"]
    assert other.get_data() != first.get_data()
    for _ in range(2):  # alternate: each street's own tag is a 304, the other's never
        assert client.get(path, headers={**west.headers, "If-None-Match": tag_east}).get_data() == first.get_data()
        assert client.get(path, headers={**east.headers, "If-None-Match": tag_west}).get_data() == other.get_data()
        assert client.get(path, headers={**west.headers, "If-None-Match": tag_west}).status_code == 304
        assert client.get(path, headers={**east.headers, "If-None-Match": tag_east}).status_code == 304


def test_a_street_token_opens_the_page_on_its_street_with_its_name(client, viewers):
    html, cfg = page_config(client, viewers[WEST])
    assert cfg["jurisdiction"]["code"] == WEST and cfg["jurisdiction"]["name"] == "西街道"
    (south, west), (north, east) = cfg["jurisdiction"]["bounds"]
    assert (south, west, north, east) == pytest.approx((33.60, 114.60, 33.64, 114.64), abs=1e-4)
    assert "<title>网格化服务管理 · 一屏统揽 · 西街道</title>" in html
    center = re.search(r"center: \[([-\d.]+), ([-\d.]+)\]", html)
    assert (float(center.group(1)), float(center.group(2))) == pytest.approx((33.62, 114.62), abs=1e-4)
    whole_html, whole = page_config(client, viewers[None])
    assert whole["jurisdiction"] is None and "<title>网格化服务管理 · 一屏统揽</title>" in whole_html
    east_html, east = page_config(client, viewers[EAST], "?lang=en")
    assert east["jurisdiction"]["name"] == "东街道" and east["jurisdiction"]["bounds"][0] == \
        pytest.approx([33.60, 114.64], abs=1e-4)
    assert re.search(r"<title>[A-Za-z][^<]* · 东街道</title>", east_html)


def test_a_grids_name_reaches_the_page_as_text_only(client, store):
    store.layers.add("grids", [Grid(code="H1", level=1, name=HOSTILE, geom=box(114.7, 33.6, 114.71, 33.61))])
    html, cfg = page_config(client, bound_token(store, "viewer", "H1"))
    assert cfg["jurisdiction"]["name"] == HOSTILE
    assert "<img" not in html and HOSTILE not in html
