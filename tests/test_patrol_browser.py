"""The patrol planner in a real browser (Debian's headless Chromium, Playwright) against a live server over the
patrol city of tests/patrol_data.py (its incidents filed under their communities, as tests/test_patrol_jurisdiction.py
has them): a police liaison bound to the street logs in, picks a start on the map and a must-visit point
(shift-click), plans, sees the numbered stops with why each was chosen, downloads the GPX (which parses, with a
track), finds the plan among the saved ones and reopens it; the print layout drops the form; a viewer reads the saved
plan without a form. Nothing is asked of another host and the console stays clean. The README's picture of the
planner (static/screen/patrols.jpg) is taken with the plan on the map (tests/browser/shots.py)."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from mapserver import create_app
from mapserver.config import MapSettings
from mapserver.gridindex.metric import metres_per_degree
from mapserver.model import Place
from mapserver.patrol.gpx import GPX_NS
from mapserver.store import open_store
from tests.browser.live import LiveServer, Watch
from tests.browser.shots import readme_shot
from tests.logins import add_person, login_settings
from tests.patrol_data import CAMERA, EAST, PLACES, STAFF, STREET, WEST, roads
from tests.test_admin_browser import log_in
from tests.test_patrol_jurisdiction import incidents as filed_incidents

PAGE = {"width": 1366, "height": 768}
HOSTILE = '<img src=x onerror="alert(1)">菜市场'
_MX, _MY = metres_per_degree(33.60)
# A crossing of the lattice's streets (200 m blocks from 114.60, 33.60) in the west community: the map opens on
# it, so a click at the map's centre lands on a road.
JUNCTION = (114.60 + 8 * 200 / _MX, 33.60 + 12 * 200 / _MY)
HOSTILE_AT = (114.60 + 10 * 200 / _MX, 33.60 + 12 * 200 / _MY)  # a key place on the same street, 400 m east


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('patrol-city') / 'city.db'}")
    store.migrate()
    store.layers.add("grids", [STREET, WEST, EAST])
    store.layers.add("grid_staff", [s for s in STAFF if s.grid_code in (WEST.code, EAST.code)])
    store.layers.add("roads", roads())
    store.layers.add("places", [*(p for p in PLACES if p.code != "P-FAR"),
                                Place(code="P-HOSTILE", name=HOSTILE, kind="market", geom=Point(*HOSTILE_AT))])
    store.layers.add("cameras", [CAMERA])
    store.layers.add("incidents", filed_incidents())  # filed under their communities: the liaison's to see
    add_person(store, "li.jing", role="liaison", grid_code=STREET.code)
    add_person(store, "zhou.kan", role="viewer", grid_code=STREET.code)
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    settings = login_settings(city)
    settings = settings.model_copy(update={"map": MapSettings(center=JUNCTION, zoom=15)})
    live = LiveServer(create_app(settings, store=city))
    yield live
    live.stop()


def test_a_liaison_plans_a_patrol_downloads_it_and_finds_it_saved(browser, server, city):
    context = browser.new_context(viewport=PAGE, accept_downloads=True)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/patrols")
    log_in(page, "li.jing")
    assert page.url == f"{server.url}/desk/patrols"
    page.wait_for_selector("html[data-desk=ready]", timeout=15_000)
    assert page.locator("h1").inner_text() == "巡逻路线规划"
    assert page.locator("#saved li").count() == 0
    page.select_option("#liaison", "李警官")

    box = page.locator("#map").bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(*centre)
    assert "出发点" in page.locator("#start-text").inner_text()
    page.keyboard.down("Shift")  # a must-visit point 3 blocks east along the same street
    page.mouse.click(centre[0] + 600 / 3.97, centre[1])
    page.keyboard.up("Shift")
    assert page.locator("#must-count").inner_text() == "1 个必到点"
    page.fill("#budget", "90")
    page.select_option("#mode", "foot")
    page.select_option("#window", "night")
    page.click("#plan")
    page.wait_for_selector("#message[data-kind=done]", timeout=60_000)

    rows, total = city.patrols.list()
    assert total == 1
    plan_id = rows[0].id
    plan = city.patrols.get(plan_id).plan
    assert page.locator("#plan-id").inner_text() == plan_id
    assert plan["request"]["start"]["lon"] == pytest.approx(JUNCTION[0], abs=2e-4)
    assert [p["name"] for p in plan["request"]["must_visit"]] == ["必到点 1"]
    stops = page.locator("#stops tbody tr:not(.ms-start-row)")
    assert stops.count() == len(plan["stops"]) > 1
    assert [stops.nth(k).locator(".ms-order").inner_text() for k in range(stops.count())] == [
        str(n) for n in range(1, len(plan["stops"]) + 1)]
    reasons = page.locator("#stops .ms-reasons").all_inner_texts()
    assert any("指定必到" in r for r in reasons)
    assert any(word in r for r in reasons for word in ("事件热点", "监控盲区", "重点场所", "超期事件"))
    assert page.locator(".ms-pin-stop").count() == len(plan["stops"])
    assert any(HOSTILE in r for r in reasons) and page.locator("img[src=x]").count() == 0  # text, never markup
    assert HOSTILE in page.locator("#place").inner_text()
    assert page.locator("#map path.leaflet-interactive").count() >= 1  # the route line
    totals = page.locator("#totals").inner_text()
    assert f"/ {plan['budget_min']:g} 分钟" in totals and f"{plan['length_m'] / 1000:.2f} 公里" in totals

    with page.expect_download() as download:
        page.click("#gpx")
    gpx = ET.parse(download.value.path()).getroot()
    ns = {"g": GPX_NS}
    assert len(gpx.findall("g:trk/g:trkseg/g:trkpt", ns)) > 1
    assert len(gpx.findall("g:wpt", ns)) == len(plan["stops"]) + 1

    page.wait_for_selector(f"#saved li[data-id='{plan_id}']", timeout=10_000)
    page.emulate_media(media="print")
    assert page.locator("#plan-form").is_hidden() and page.locator("#stops").is_visible()
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "mapserver-patrols-print.png"))
    page.emulate_media(media="screen")
    readme_shot(page, "patrols.jpg")

    page.goto(f"{server.url}/desk/patrols?lang=en")  # a fresh page: open the plan from the saved list
    page.wait_for_selector("html[data-desk=ready]", timeout=15_000)
    assert page.locator("#result").is_hidden()
    page.click(f"#saved li[data-id='{plan_id}'] button")
    page.wait_for_selector("#result:not([hidden])", timeout=10_000)
    assert page.locator("#plan-id").inner_text() == plan_id
    assert page.locator("#stops tbody tr:not(.ms-start-row)").count() == len(plan["stops"])
    assert "must visit" in page.locator("#stops").inner_text()
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == []
    assert watch.failed == [], watch.failed
    context.close()


def test_a_viewer_reads_the_saved_plans_without_a_form(browser, server, city):
    rows, _ = city.patrols.list()
    assert rows, "runs after the liaison's plan"
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/patrols")
    log_in(page, "zhou.kan")
    page.wait_for_selector("html[data-desk=ready]", timeout=15_000)
    assert page.locator("#plan-form").is_hidden() and page.locator(".ms-readonly").is_visible()
    page.goto(f"{server.url}/desk/patrols#plan={rows[0].id}")
    page.wait_for_selector("#result:not([hidden])", timeout=10_000)
    assert page.locator("#plan-id").inner_text() == rows[0].id
    # The people on patrol have their key on the map, with a count once the first answer came (nobody here).
    page.wait_for_selector(".ms-live-count[data-count='0']", timeout=10_000)
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.failed == []
    context.close()
