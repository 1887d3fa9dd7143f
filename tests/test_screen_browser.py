"""The big screen in a real browser: Debian's headless Chromium, driven by Playwright, against a live server.

Most tests share one SQLite district (tests/browser/city.py) and one browser;
one test runs the page on each store backend. Chromium missing is a failure.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from shapely.geometry import Point

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.geo import wgs84_to_gcj02
from mapserver.model import Incident
from mapserver.screen.window import window_start
from mapserver.store import open_store
from tests.browser.city import HOSTILE_DESCRIPTION, HOSTILE_INCIDENT, HOSTILE_NAME, load_city, patrol_plan_request
from tests.browser.dots import alpha_at_dot, painted, painted_dots, painted_js
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.conftest import make_token, settings_for

SCREENSHOT = Path(tempfile.gettempdir()) / "mapserver-screen-1920x1080.png"
LIVE_WITHIN_S = 5.0
# Whether every layer named in a list has a path, or a painted dot, in its pane (main.js marks each pane with its key).
EVERY_LAYER_DRAWN = ("(keys) => keys.every((k) => "
                     "document.querySelectorAll(`.leaflet-pane[data-layer='${k}'] path`).length + "
                     "[...document.querySelectorAll(`.leaflet-pane[data-layer='${k}'] canvas.ms-dots-tile`)]"
                     ".reduce((n, c) => n + c.painted.length, 0))")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('city') / 'city.db'}")
    store.migrate()
    load_city(store)
    yield store
    store.close()


def post(server: LiveServer, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    """POST JSON with a bearer token; the JSON answer."""
    request = urllib.request.Request(f"{server.url}{path}", data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    live = LiveServer(create_app(settings_for(city), store=city))
    # A patrol planned (and saved) through the API before any page opens, for the patrol-routes layer.
    post(live, "/api/patrols/plan", patrol_plan_request(city), make_token(city, "liaison"))
    yield live
    live.stop()


def open_screen(browser, server: LiveServer, token: str, query: str = "") -> tuple[Page, Watch]:
    """A fresh 1920×1080 browser context on the page, entered with ``?token=``, once its data is drawn."""
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/?token={token}{query}")
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    return page, watch


@pytest.fixture
def screen(browser, server, city) -> Iterator[tuple[Page, Watch]]:
    page, watch = open_screen(browser, server, make_token(city, "viewer"))
    yield page, watch
    page.context.close()


def wait_until(page: Page, script: str, timeout_s: float = 5.0) -> float:
    """Poll a JS function until it returns true; the seconds it took. (Playwright's wait_for_function evaluates
    a string in the page, which the page's CSP forbids, rightly: no 'unsafe-eval'.)"""
    started = time.monotonic()
    while not page.evaluate(script):
        assert time.monotonic() - started < timeout_s, f"not true within {timeout_s} s: {script}"
        page.wait_for_timeout(100)
    return time.monotonic() - started


def wait_until_all(page: Page, script: str, keys: list[str], timeout_s: float = 10.0) -> None:
    """Like wait_until, for a JS function of a list of layer keys; the failure names the layers with nothing."""
    started = time.monotonic()
    while not page.evaluate(script, keys):
        empty = [k for k in keys if not page.evaluate(script, [k])]
        assert time.monotonic() - started < timeout_s, f"layers with no features after {timeout_s} s: {empty}"
        page.wait_for_timeout(200)


def count(page: Page, selector: str) -> int:
    return page.locator(selector).count()


def in_window(store, window: str) -> int:
    since = window_start(window, now=datetime.now(UTC), timezone="Asia/Shanghai")
    return sum(1 for i in store.layers.query("incidents") if i.reported_at >= since)


def assert_clean(watch: Watch) -> None:
    assert watch.foreign_hosts() == []
    assert watch.failed == [], watch.failed
    assert watch.errors == []
    assert watch.dialogs == []


def fly(page: Page, lon: float, lat: float, zoom: int) -> None:
    """Move the map without animation and wait for the redraw that follows."""
    page.evaluate("([lon, lat, zoom]) => { const cfg = JSON.parse(document.getElementById('screen-config')"
                  ".textContent); window[cfg.map].setView([lat, lon], zoom, {animate: false}); }", [lon, lat, zoom])
    page.wait_for_timeout(600)


def pixel(page: Page, lon: float, lat: float) -> tuple[float, float]:
    """Where a WGS-84 point is on the screen."""
    xy = page.evaluate("([lon, lat]) => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                       " const m = window[cfg.map]; const p = m.latLngToContainerPoint([lat, lon]);"
                       " const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
                       [lon, lat])
    return xy[0], xy[1]


def test_the_page_draws_every_layer_from_this_server_only(screen, city):
    page, watch = screen
    page.wait_for_timeout(300)
    assert count(page, "path.ms-outline") >= 1
    assert count(page, "path.ms-grid-l1") == city.layers.count("grids", where={"level": 1})
    assert count(page, "path.ms-grid-l2") == city.layers.count("grids", where={"level": 2})
    assert painted(page, "ms-camera", "cameras") == city.layers.count("cameras")
    assert painted(page, "ms-camera-offline", "cameras") == city.layers.count("cameras", where={"status": "offline"})
    assert painted(page, "ms-place", "places") == city.layers.count("places")
    assert painted(page, "ms-incident", "incidents") == in_window(city, "today") > 0
    assert page.locator(".ms-tile[data-measure=reports] .ms-value").inner_text() == str(in_window(city, "today"))
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000
    assert_clean(watch)


# The page's resources at the moment it first says it is live: the requests of its first round, and no other's.
FIRST_ROUND = """
performance.setResourceTimingBufferSize(5000);
new MutationObserver((_, observer) => {
  if (!document.documentElement.dataset.screen) return;
  window.__firstRound = performance.getEntriesByType('resource').map((e) => e.name);
  observer.disconnect();
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-screen'] });
"""


def test_the_first_draw_asks_once_per_tile_address_for_every_tiled_layer_shown(browser, server, city):
    context = browser.new_context(viewport=SCREEN)
    context.add_init_script(FIRST_ROUND)
    page = context.new_page()
    watch = Watch().attach(page)
    try:
        page.goto(f"{server.url}/?token={make_token(city, 'viewer')}")
        page.wait_for_selector("html[data-screen=live]", timeout=15_000)
        zoom = page.evaluate("() => window[JSON.parse(document.getElementById('screen-config').textContent).map]"
                             ".getZoom()")
        shown = [spec["key"] for spec in configured_layers(page)
                 if spec["tiled"] and spec["visible"] and spec["min_zoom"] <= zoom]
        assert len(shown) >= 3, shown
        tiles = [urllib.parse.urlsplit(url).path.split("/")[-4:]
                 for url in page.evaluate("() => window.__firstRound") if "/api/screen/tiles/" in url]
        addresses = [tuple(parts[1:]) for parts in tiles]
        assert addresses and len(addresses) == len(set(addresses)), addresses  # each address once, not per layer
        assert {parts[0] for parts in tiles} == {",".join(shown)}  # every tiled layer shown, in one request
        assert painted(page, "ms-camera", "cameras") == city.layers.count("cameras")
        assert count(page, "path.ms-grid-l2") == city.layers.count("grids", where={"level": 2})
        assert_clean(watch)
    finally:
        context.close()


def test_the_fine_grid_levels_draw_when_zoomed_in_and_switched_on(screen, city):
    page, watch = screen
    camera = city.layers.query("cameras", limit=1)[0]
    fly(page, camera.geom.x, camera.geom.y, 15)
    assert count(page, "path.ms-sector") == 0  # view sectors only from sector_min_zoom (16) on
    fly(page, camera.geom.x, camera.geom.y, 16)
    wait_until(page, "() => document.querySelectorAll('path.ms-sector').length >= 1")  # once its tiles are in
    compound = next(g for g in city.layers.query("grids", where={"level": 3}))
    centre = compound.geom.representative_point()
    fly(page, centre.x, centre.y, 16)
    for layer in ("小区(自然村)网格", "楼栋(小组)网格"):
        page.locator(".leaflet-control-layers-overlays label", has_text=layer).locator("input").check()
    wait_until(page, "() => document.querySelectorAll('path.ms-grid-l3').length > 0 && "
                     "document.querySelectorAll('path.ms-grid-l4').length > 0")
    assert_clean(watch)


def test_heat_cells_are_graded_by_their_count_when_switched_on(screen, city):
    page, watch = screen
    assert count(page, "[data-layer=heat] path.ms-cell") == 0  # off until switched on
    # The window first, so the first cells drawn are the month's (today's few cells would race them).
    page.locator("button.ms-window[data-window='30d']").click()
    page.locator(".leaflet-control-layers-overlays label", has_text="事件热力").locator("input").check()
    wait_until(page, "() => document.querySelectorAll('[data-layer=heat] path.ms-cell').length > 0")
    fills = page.evaluate("() => [...document.querySelectorAll('[data-layer=heat] path.ms-cell')]"
                          ".map((p) => p.getAttribute('fill'))")
    assert len(set(fills)) >= 3, fills[:10]  # graded by count, not one flat colour
    assert_clean(watch)


def configured_layers(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("() => JSON.parse(document.getElementById('screen-config').textContent).layers")


def test_every_configured_layer_draws_features_when_every_overlay_is_switched_on(screen, city):
    page, watch = screen
    layers = configured_layers(page)
    assert {"risk", "trend_new", "trend_intensifying", "patrols", "heat"} <= {spec["key"] for spec in layers}
    page.locator("button.ms-window[data-window='30d']").click()
    boxes = page.locator(".leaflet-control-layers-overlays input")
    # One switch per configured layer, and one for the people on patrol (a viewer sees them).
    assert boxes.count() == len(layers) + 1
    for k in range(boxes.count()):
        boxes.nth(k).check()
    opening = page.evaluate("() => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                            " return window[cfg.map].getZoom(); }")
    # The opening view holds the whole district: every layer drawn from that zoom on must have features there;
    # the fine grid levels are checked close up, at the zoom they start from, inside the building grids.
    wide = [spec["key"] for spec in layers if spec["min_zoom"] <= opening]
    wait_until_all(page, EVERY_LAYER_DRAWN, wide)
    # The risk colours really colour: some community is lit red or yellow by the risk rules.
    lit = page.evaluate("() => [...document.querySelectorAll(\".leaflet-pane[data-layer='risk'] path\")]"
                        ".filter((p) => Number(p.getAttribute('fill-opacity')) > 0.1)"
                        ".map((p) => p.getAttribute('fill'))")
    risk_style = next(spec["style"] for spec in layers if spec["key"] == "risk")
    assert {risk_style["risk_colors"]["red"], risk_style["risk_colors"]["yellow"]} & set(lit), set(lit)
    assert count(page, "path.ms-trend") >= 2 and count(page, "path.ms-route") == 1
    building = next(iter(city.layers.query("grids", where={"level": 4}))).geom.representative_point()
    close = [spec for spec in layers if spec["min_zoom"] > opening]
    fly(page, building.x, building.y, max(spec["min_zoom"] for spec in close))
    wait_until_all(page, EVERY_LAYER_DRAWN, [spec["key"] for spec in close])
    assert_clean(watch)


def test_an_incident_added_to_the_store_appears_without_a_reload(screen, city):
    page, watch = screen
    page.evaluate("window.__sameDocument = true")
    before = painted(page, "ms-incident", "incidents")
    district = city.layers.query("grids", where={"level": 1})[0].geom.representative_point()
    city.layers.add("incidents", [Incident(id="00000000-0000-4000-8000-0000000000a1",
                                           geom=Point(district.x, district.y), reported_at=datetime.now(UTC),
                                           category="fire_hazard", description="新上报")])
    took = wait_until(page, f"() => {painted_js('ms-incident', 'incidents')} > {before}", LIVE_WITHIN_S)
    assert took < LIVE_WITHIN_S
    print(f"new incident drawn {took:.2f} s after it was stored (poll every 3 s)")
    assert page.evaluate("window.__sameDocument") is True
    new = [d for d in painted_dots(page, "incidents") if "ms-new" in d["classes"].split()]
    assert [d["id"] for d in new] == ["00000000-0000-4000-8000-0000000000a1"]  # the one new since the last poll
    assert count(page, "[data-layer=incidents] path.ms-pulse") == 1  # … with its ring pulsing under it
    wait_until(page, f"() => document.querySelector('.ms-tile[data-measure=reports] .ms-value').textContent"
                     f" === '{before + 1}'", LIVE_WITHIN_S)
    assert_clean(watch)


def test_a_hostile_report_posted_through_the_api_appears_and_runs_nothing(screen, city, server):
    page, watch = screen
    before = painted(page, "ms-incident", "incidents")
    street = city.layers.query("grids", where={"level": 1})[5].geom.representative_point()
    body = json.dumps({"category": "disputes", "description": HOSTILE_DESCRIPTION,
                       "point": {"lon": street.x, "lat": street.y}}).encode()
    request = urllib.request.Request(f"{server.url}/api/incidents", data=body, method="POST", headers={
        "Authorization": f"Bearer {make_token(city, 'operator')}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        posted = json.loads(resp.read())
    took = wait_until(page, f"() => {painted_js('ms-incident', 'incidents')} > {before}", LIVE_WITHIN_S)
    print(f"incident posted through the API drawn after {took:.2f} s")
    fly(page, street.x, street.y, 18)
    page.mouse.click(*pixel(page, street.x, street.y))
    wait_until(page, "() => !!document.querySelector('.ms-card .ms-description')?.textContent.includes('PWNED')")
    assert page.locator(".ms-card .ms-description").inner_text() == HOSTILE_DESCRIPTION
    assert page.evaluate("typeof globalThis.PWNED") == "undefined"
    assert posted["properties"]["status"] == "reported"
    assert "已上报" in page.locator(".ms-card .ms-rows").inner_text()  # the card of the posted incident
    assert_clean(watch)


def lonely_camera(city) -> Any:
    """A camera with no other camera and no incident within about 60 m: the only dot under the pointer."""
    cameras = city.layers.query("cameras")
    others = [c.geom for c in cameras] + [i.geom for i in city.layers.query("incidents")]
    near = 60 / 111_000
    return next(c for c in cameras if sum(abs(o.x - c.geom.x) < near and abs(o.y - c.geom.y) < near
                                          for o in others) == 1)


def test_a_dot_shows_its_tooltip_and_the_pointer_on_hover_and_its_own_card_on_click(screen, city):
    page, watch = screen
    camera = lonely_camera(city)
    fly(page, camera.geom.x, camera.geom.y, 17)
    wait_until(page, f"() => {painted_js('ms-camera', 'cameras')} > 0")
    dot = next(d for d in painted_dots(page, "cameras") if d["id"] == camera.code)
    assert abs(dot["lng"] - camera.geom.x) < 1e-6 and abs(dot["lat"] - camera.geom.y) < 1e-6
    # Painted where the map projects the camera: its canvas tile's record is in the map's pixels at this zoom.
    projected = page.evaluate("([lon, lat]) => { const cfg = JSON.parse(document.getElementById('screen-config')"
                              ".textContent); const m = window[cfg.map]; const p = m.project([lat, lon], m.getZoom());"
                              " return [p.x, p.y]; }", [camera.geom.x, camera.geom.y])
    assert abs(dot["x"] - projected[0]) < 1 and abs(dot["y"] - projected[1]) < 1
    # And drawn there: the canvas is opaque at the dot's centre and rim on the page, clear just beyond it.
    seen = alpha_at_dot(page, "cameras", camera.code)
    assert seen is not None and seen["centre"] > 0 and seen["rim"] > 0 and seen["beside"] == 0, seen
    x, y = pixel(page, camera.geom.x, camera.geom.y)
    page.mouse.move(x, y)
    page.locator(".leaflet-tooltip.ms-tip-dot", has_text=camera.name).wait_for(timeout=3_000)
    cursor = "() => getComputedStyle(document.querySelector('.leaflet-container')).cursor"
    assert page.evaluate(cursor) == "pointer"
    page.mouse.click(x, y)
    wait_until(page, f"() => document.querySelector('.ms-card .ms-title')?.textContent === {json.dumps(camera.name)}")
    page.wait_for_timeout(800)  # the grid under the dot must not have taken the click too (its card would follow)
    assert page.locator(".ms-card .ms-title").inner_text() == camera.name
    # Off the dot: its tooltip goes, and the grid under the pointer takes the click.
    page.mouse.move(x + 45, y + 45)
    page.locator(".leaflet-tooltip.ms-tip-dot").wait_for(state="detached", timeout=3_000)
    page.mouse.click(x + 45, y + 45)
    wait_until(page, "() => !!document.querySelector('.ms-card .ms-chain')")
    assert_clean(watch)


def test_dots_stay_on_their_places_through_a_flight(screen, city):
    """flyTo (the feed's and the search's move) zooms frame by frame with no zoom animation event: the canvases
    must follow each frame, not wait for its end."""
    page, watch = screen
    camera = lonely_camera(city)
    fly(page, camera.geom.x, camera.geom.y, 15)
    wait_until(page, f"() => {painted_js('ms-camera', 'cameras')} > 0")
    page.evaluate("([lon, lat]) => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                  " window[cfg.map].flyTo([lat + 0.0005, lon + 0.0005], 17, {duration: 2}); }",
                  [camera.geom.x, camera.geom.y])
    page.wait_for_timeout(900)
    during = alpha_at_dot(page, "cameras", camera.code)
    assert page.evaluate("() => window[JSON.parse(document.getElementById('screen-config').textContent).map]"
                         ".getZoom() % 1") != 0  # still on its way
    assert during is not None and during["centre"] > 0 and during["rim"] > 0, during
    assert_clean(watch)


# At zoom 16 over what was painted at 15 (the same dots, no new tiles yet), a camera that was near the view's edge is
# out of view, so not painted; a pan that brings it back paints its tile at once, before any answer comes.
PAINTED_WHEN_IN_VIEW = """(zoom) => {
  const m = window[JSON.parse(document.getElementById('screen-config').textContent).map];
  const dots = () => [...document.querySelectorAll(".leaflet-pane[data-layer='cameras'] canvas.ms-dots-tile")]
    .flatMap((c) => c.painted);
  const size = m.getSize();
  const edge = dots().find((d) => { const p = m.latLngToContainerPoint([d.lat, d.lng]);
    return p.x > size.x * 0.8 && p.x < size.x - 20 && p.y > size.y * 0.3 && p.y < size.y * 0.7; });
  if (!edge) return null;
  m.setZoom(zoom + 1, { animate: false });
  const out = m.latLngToContainerPoint([edge.lat, edge.lng]);
  const hiddenPainted = dots().some((d) => d.id === edge.id);
  m.panBy([out.x - size.x / 2, out.y - size.y / 2], { animate: false });
  return { id: edge.id, outside: out.x > size.x, hiddenPainted, shownPainted: dots().some((d) => d.id === edge.id) };
}"""


def test_a_move_paints_the_tiles_it_brings_into_view_at_once(screen, city):
    page, watch = screen
    camera = lonely_camera(city)
    fly(page, camera.geom.x, camera.geom.y, 15)
    wait_until(page, f"() => {painted_js('ms-camera', 'cameras')} > 0")
    page.wait_for_timeout(500)
    found = page.evaluate(PAINTED_WHEN_IN_VIEW, 15)
    assert found is not None and found["outside"], found
    assert found["hiddenPainted"] is False and found["shownPainted"] is True, found
    assert_clean(watch)


def test_the_window_switch_shows_seven_and_thirty_days(screen, city):
    page, watch = screen
    for window, label in (("30d", "近30日"), ("7d", "近7日"), ("today", "今日")):
        page.locator("button.ms-window", has_text=label).click()
        expected = in_window(city, window)
        wait_until(page, f"() => {painted_js('ms-incident', 'incidents')} === {expected}")
        wait_until(page, f"() => document.querySelector('.ms-tile[data-measure=reports] .ms-value').textContent"
                         f" === '{expected}'")
        assert f"window={window}" in page.url
    assert in_window(city, "30d") > in_window(city, "7d") > in_window(city, "today")
    assert_clean(watch)


def test_hostile_names_and_descriptions_show_as_text_and_run_nothing(screen, city):
    page, watch = screen
    grid = next(g for g in city.layers.query("grids", where={"level": 2}) if g.name == HOSTILE_NAME)
    inside = grid.geom.representative_point()
    fly(page, inside.x, inside.y, 14)
    x, y = pixel(page, inside.x, inside.y)
    page.mouse.move(x, y)
    tip = page.locator(".leaflet-tooltip", has_text="onerror")
    tip.wait_for(timeout=3_000)
    assert tip.inner_text().startswith(HOSTILE_NAME)
    page.mouse.click(x, y)
    wait_until(page, "() => !!document.querySelector('.ms-card .ms-title')?.textContent.includes('alert')")
    page.wait_for_selector(".ms-card .ms-staff")
    assert page.locator(".ms-card .ms-title").inner_text() == HOSTILE_NAME

    incident = city.layers.get("incidents", HOSTILE_INCIDENT)
    fly(page, incident.geom.x, incident.geom.y, 18)
    page.mouse.click(*pixel(page, incident.geom.x, incident.geom.y))
    page.wait_for_selector(".ms-card .ms-description", timeout=3_000)
    wait_until(page, "() => !!document.querySelector('.ms-card .ms-description')?.textContent.includes('PWNED')")
    assert page.locator(".ms-card .ms-description").inner_text() == HOSTILE_DESCRIPTION
    assert page.evaluate("typeof globalThis.PWNED") == "undefined"
    assert page.locator("#screen-ui img, .leaflet-container img").count() == 0
    assert_clean(watch)


def test_the_search_box_flies_to_pasted_gcj02_coordinates_and_shows_the_grid(screen, city):
    page, watch = screen
    street = city.layers.query("grids", where={"level": 1})[3]
    inside = street.geom.representative_point()
    gcj_lon, gcj_lat = wgs84_to_gcj02(inside.x, inside.y)
    page.locator(".ms-crs").select_option("gcj02")
    page.locator(".ms-search-input").fill(f"{gcj_lon:.7f},{gcj_lat:.7f}")
    page.locator(".ms-search button").click()
    page.wait_for_selector(".ms-card .ms-chain", timeout=5_000)
    assert street.name in page.locator(".ms-card .ms-chain").inner_text()
    wait_until(page, "() => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                     " return window[cfg.map].getZoom() >= 16; }")
    page.wait_for_timeout(1500)  # the fly animation
    centre = page.evaluate("(() => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                           " const c = window[cfg.map].getCenter(); return [c.lng, c.lat]; })()")
    assert abs(centre[0] - inside.x) < 1e-4 and abs(centre[1] - inside.y) < 1e-4  # GCJ-02 offset undone
    page.locator(".ms-search-input").fill("七一路18号")
    page.locator(".ms-search button").click()
    page.wait_for_selector(".ms-search-message:not(:empty)", timeout=5_000)
    # Until the grid index serves /api/lookup the box says address search is not there yet; after, "not found".
    assert "地址" in page.locator(".ms-search-message").inner_text()
    # The one failed request here is the address lookup whose route is not installed yet (grid index issue).
    watch.failed = [f for f in watch.failed if "/api/lookup" not in f]
    watch.errors = [e for e in watch.errors if "404" not in e]
    assert_clean(watch)


def test_the_token_leaves_the_url_for_an_http_only_strict_cookie(screen, server):
    page, watch = screen
    assert "token" not in page.url
    cookies = page.context.cookies(server.url)
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("mapserver_token", True, "Strict")]
    assert page.evaluate("document.cookie") == ""
    page.reload()
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    assert_clean(watch)


def test_a_bad_token_gets_a_401_page_not_a_blank_map(browser, server):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    resp = page.goto(f"{server.url}/?token=msk_not-a-token")
    assert resp.status == 401
    assert "需要授权" in page.locator("h1").inner_text()
    resp = page.goto(f"{server.url}/?lang=en&token=msk_not-a-token")
    assert resp.status == 401 and "Authorisation" in page.locator("h1").inner_text()
    context.close()


def test_a_browser_without_a_token_goes_to_the_login_page(browser, server):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    resp = page.goto(f"{server.url}/?lang=en")
    assert resp.status == 200 and page.url == f"{server.url}/login?next=%2F%3Flang%3Den&lang=en"
    assert page.locator("h1").inner_text() == "Log in"
    context.close()


def test_english_labels(browser, server, city):
    page, watch = open_screen(browser, server, make_token(city, "viewer"), "&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".ms-brand").inner_text().startswith("Command centre")
    assert "Street grids" in page.locator(".leaflet-control-layers").inner_text()
    assert_clean(watch)
    page.context.close()


def test_the_page_is_live_on_each_store_backend(store, browser):
    load_city(store, now=datetime.now(UTC) - timedelta(minutes=1))
    live = LiveServer(create_app(settings_for(store), store=store))
    try:
        page, watch = open_screen(browser, live, make_token(store, "viewer"))
        assert count(page, "path.ms-grid-l1") == store.layers.count("grids", where={"level": 1})
        assert painted(page, "ms-camera", "cameras") == store.layers.count("cameras")
        before = painted(page, "ms-incident", "incidents")
        camera = store.layers.query("cameras", limit=1)[0]
        store.layers.add("incidents", [Incident(id="00000000-0000-4000-8000-0000000000b2",
                                                geom=Point(*camera.geom.coords[0]), reported_at=datetime.now(UTC),
                                                category="other")])
        wait_until(page, f"() => {painted_js('ms-incident', 'incidents')} > {before}", LIVE_WITHIN_S)
        assert_clean(watch)
        page.context.close()
    finally:
        live.stop()


def test_a_street_token_opens_on_its_street_and_draws_only_what_lies_in_it(browser, server, city):
    street = city.grids.of_level(1)[4]
    secret = new_token()
    city.tokens.add(name=f"street-wall-{street.code}", role="viewer", token_hash=hash_token(secret),
                    grid_code=street.code)
    page, watch = open_screen(browser, server, secret)
    assert street.name in page.locator(".ms-jurisdiction").inner_text()
    assert street.name in page.title()
    view = page.evaluate("() => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                         " const m = window[cfg.map]; const c = m.getCenter(); const b = m.getBounds();"
                         " return [c.lng, c.lat, b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    west, south, east, north = street.geom.bounds
    assert west < view[0] < east and south < view[1] < north  # centred on the street …
    assert view[2] <= west and view[3] <= south and view[4] >= east and view[5] >= north  # … all of it in view
    wait_until(page, "() => document.querySelectorAll(\".leaflet-pane[data-layer='grids_street'] path\").length "
                     "=== 1")  # its own outline, no neighbour's
    within = city.grids.jurisdiction(street.code)
    cameras = city.layers.count("cameras", within=within)
    assert 0 < cameras < city.layers.count("cameras")
    wait_until(page, f"() => {painted_js('ms-camera', 'cameras')} === {cameras}")
    page.screenshot(path=str(SCREENSHOT.with_name("mapserver-screen-street.png")))
    assert_clean(watch)
    page.context.close()
