"""The hotline intake desk in a real browser (Debian's headless Chromium, Playwright) against a live server over
the hand-made samples: an operator logs in, types an uncertain address, chooses a candidate with the keyboard,
sees the grid card, opens a case there that is flagged as a possible duplicate, links it to the existing case, and
then saves another case; nothing is asked of another host, the console stays clean, and hostile text stays text.
The README's picture of the intake desk (static/screen/intake.jpg) is taken here (tests/browser/shots.py)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point

from mapserver import create_app
from mapserver.model import Incident
from mapserver.store import open_store
from tests import samples
from tests.browser.live import LiveServer, Watch
from tests.browser.shots import readme_shot
from tests.logins import add_person, login_settings
from tests.test_admin_browser import log_in
from tests.test_intake_api import MORE_ADDRESSES, NEAR_ROADS

HOSTILE = '<img src=x onerror="alert(1)">垃圾堆放'
PAGE = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('intake-city') / 'city.db'}")
    store.migrate()
    samples.load_all(store)
    store.layers.add("roads", NEAR_ROADS)
    store.layers.add("addresses", MORE_ADDRESSES)
    store.layers.add("incidents", [Incident(
        id=str(uuid.uuid4()), geom=Point(114.6116, 33.6112), reported_at=datetime.now(UTC) - timedelta(hours=1),
        category="city_appearance", grid_code=samples.COMPOUND.code, grid_l1=samples.STREET.code,
        grid_l2=samples.COMMUNITY.code, grid_l3=samples.COMPOUND.code, description=HOSTILE, address=HOSTILE)])
    add_person(store, "chen.jing", role="operator")
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    live = LiveServer(create_app(login_settings(city), store=city))
    yield live
    live.stop()


def test_an_operator_resolves_an_uncertain_address_and_links_a_repeat(browser, server, city):
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/intake")
    log_in(page, "chen.jing")
    assert page.url == f"{server.url}/desk/intake"
    page.wait_for_selector("html[data-desk=ready]", timeout=15_000)
    assert page.locator("h1").inner_text() == "12345 热线受理"

    page.fill("#q", "人和小区1单元101室")
    page.press("#q", "Enter")
    page.wait_for_selector("#candidates li", timeout=10_000)
    assert page.locator("#candidates li").count() >= 2 and page.locator("#card").is_hidden()
    page.keyboard.press("ArrowDown")  # the first is focused: move to the second, then back, and choose
    page.keyboard.press("ArrowUp")
    first = page.locator("#candidates li").first
    chosen_text = first.locator(".ms-text").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_selector("#card:not([hidden])", timeout=10_000)
    card = page.locator("#card").inner_text()
    assert "人和小区" in card and "13800000003" in card and chosen_text in card

    page.click("#new-case")
    page.select_option("#category", "city_appearance")
    page.wait_for_selector("#duplicates li[data-id]", timeout=10_000)
    duplicate = page.locator("#duplicates li[data-id]").first
    assert HOSTILE in duplicate.inner_text()  # shown as text
    earlier = city.incidents.get(duplicate.get_attribute("data-id")).reported_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert earlier.strftime("%m/%d %H:%M") in duplicate.locator(".ms-addr").inner_text()  # Beijing time, not ISO
    assert page.locator("#duplicates img").count() == 0
    page.fill("#reporter", "13900000000")
    duplicate.locator(".ms-link-note").fill("又来电")
    duplicate.locator("button.ms-link").click()
    page.wait_for_selector("#message[data-kind=done]", timeout=10_000)
    target = duplicate.get_attribute("data-id")
    assert city.incidents.link_count(target) == 1
    assert city.audit.records(action="incident.link", target=target)[0][0].actor == "chen.jing"

    page.click("#new-case")  # a different matter at the same place: a new case
    page.select_option("#category", "disputes")
    page.fill("#description", "楼上噪音 <b>扰民</b>")
    page.click("#save")
    page.wait_for_selector("#message[data-kind=done]", timeout=10_000)
    found, _ = city.incidents.query()
    saved = [i for i in found if i.category == "disputes" and i.source == "hotline"]
    assert len(saved) == 1 and saved[0].description == "楼上噪音 <b>扰民</b>"
    assert saved[0].grid_code == samples.COMPOUND.code and saved[0].address == chosen_text
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "mapserver-intake.png"))
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == []
    assert watch.failed == [], watch.failed
    context.close()


def test_a_crossing_and_the_english_page(browser, server):
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/intake?lang=en")
    log_in(page, "chen.jing")
    page.wait_for_selector("html[data-desk=ready]", timeout=15_000)
    assert page.locator("h1").inner_text() == "12345 Hotline intake"
    page.fill("#q", "文昌大道与七一路交叉口")
    page.press("#q", "Enter")
    page.wait_for_selector("#card:not([hidden])", timeout=10_000)
    assert "114.620000, 33.610000" in page.locator("#card").inner_text()
    page.fill("#q", "文昌大道与解放路交叉口")
    page.press("#q", "Enter")
    page.wait_for_selector("#message[data-kind=error]", timeout=10_000)
    assert "解放路" in page.locator("#message").inner_text()
    assert watch.foreign_hosts() == [] and watch.dialogs == []
    assert all("422" in e for e in watch.errors)
    context.close()


def test_screenshots_of_the_intake_desk(browser, server, city):
    city.layers.add("incidents", [Incident(
        id=str(uuid.uuid4()), geom=Point(114.6114, 33.6111), reported_at=datetime.now(UTC) - timedelta(hours=3),
        category="roads_facilities", grid_code=samples.COMPOUND.code, grid_l1=samples.STREET.code,
        grid_l2=samples.COMMUNITY.code, grid_l3=samples.COMPOUND.code, description="小区门口井盖缺失",
        address="人和小区东门")])  # an earlier call about the same matter: the desk offers to link to it
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    page.goto(f"{server.url}/desk/intake")
    log_in(page, "chen.jing")
    page.wait_for_selector("html[data-desk=ready]", timeout=15_000)
    page.fill("#q", "人和小区1单元101室")
    page.press("#q", "Enter")
    page.wait_for_selector("#candidates li", timeout=10_000)
    page.keyboard.press("Enter")
    page.wait_for_selector("#card:not([hidden])", timeout=10_000)
    page.click("#new-case")
    page.select_option("#category", "roads_facilities")
    page.fill("#reporter", "13900000000")
    page.fill("#description", "东门井盖缺失，夜间有行人跌倒危险")
    page.wait_for_selector("#duplicates li[data-id]", timeout=10_000)
    page.locator("#duplicates").scroll_into_view_if_needed()  # the form and the possible repeat in one picture
    readme_shot(page, "intake.jpg")
    context.close()
