"""The work desk in a real browser: Debian's headless Chromium, driven by Playwright, against a live server over
the district of tests/browser/city.py.

A dispatcher logs in through the form and lands on the desk with every tab's count; a report made through the API
appears in 待派单 with its count within 3 s, without a reload; a description written as HTML stays text; the keys
switch tabs, focus the search and move the selection; the page fits 1366×768 and asks no other host. The README's
picture of the desk (static/screen/desk.jpg) is taken here (tests/browser/shots.py).
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mapserver import create_app
from mapserver.api.desk import CLOCK_BUCKET_S
from mapserver.auth import hash_token, new_token
from mapserver.incidents.queue import TABS, today_start
from mapserver.store import open_store
from mapserver.store.desk import DeskFilter
from tests.browser.city import load_city
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.browser.shots import PAGE, readme_shot
from tests.logins import PASSWORD, add_person, login_settings

HOSTILE = '<img src="x" onerror="window.__pwned = 1">楼道堆物'
SMALL = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('desk-city') / 'city.db'}")
    store.migrate()
    load_city(store)
    add_person(store, "zhang.wei", role="dispatcher")
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    live = LiveServer(create_app(login_settings(city), store=city))
    yield live
    live.stop()


def report(server: LiveServer, city, description: str) -> str:
    """Report an urgent case through the API with an operator's token; its id."""
    token = new_token()
    city.tokens.add(name=f"hotline-{token[-6:]}", role="operator", token_hash=hash_token(token))
    compound = city.layers.query("grids", where={"level": 3}, limit=1)[0]
    point = compound.geom.representative_point()
    body = {"category": "fire_hazard", "severity": "urgent", "description": description,
            "point": {"lon": point.x, "lat": point.y}}
    req = urllib.request.Request(f"{server.url}/api/incidents", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201
        return json.loads(resp.read())["id"]


def store_counts(city) -> dict[str, int]:
    """The counts as the server works them out this minute (its clock moves in whole minutes)."""
    now = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) // CLOCK_BUCKET_S * CLOCK_BUCKET_S, UTC)
    return city.desk.counts(TABS, DeskFilter(), now=now, today=today_start(now, "Asia/Shanghai"))


def count_on_page(page, tab: str) -> int:
    return int(page.locator(f"[data-count={tab}]").inner_text())


def test_a_dispatcher_sees_the_counts_and_a_new_report_arrives_without_reload(browser, server, city):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk")
    assert page.url.startswith(f"{server.url}/login?next=")
    page.fill("#name", "zhang.wei")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/desk"
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    assert page.locator("h1").inner_text() == "工单台"
    expected = store_counts(city)
    assert {tab.key: count_on_page(page, tab.key) for tab in TABS} == expected
    assert page.locator(".ms-tab[aria-selected=true] .ms-tab-name").inner_text() == "待派单"
    before = expected["dispatch"]
    page.evaluate("() => { window.__loads = performance.getEntriesByType('navigation').length; }")

    incident_id = report(server, city, HOSTILE)
    page.wait_for_function(f"() => document.querySelector('[data-count=dispatch]').textContent === '{before + 1}'",
                           timeout=3_000)
    row = page.locator(f"tr[data-id='{incident_id}']")
    row.wait_for(timeout=3_000)  # urgent: due in hours, so near the top of 待派单
    assert HOSTILE in row.inner_text()
    assert page.locator("#queue tbody img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => window.__loads") == 1  # the same page: no reload

    page.keyboard.press("2")
    assert page.locator(".ms-tab[aria-selected=true] .ms-tab-name").inner_text() == "待签收"
    page.keyboard.press("1")
    page.locator(f"tr[data-id='{incident_id}']").wait_for(timeout=3_000)
    page.keyboard.press("j")
    assert page.locator("tr.ms-selected").get_attribute("data-index") == "1"
    page.keyboard.press("k")
    assert page.locator("tr.ms-selected").get_attribute("data-index") == "0"
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "f-q"
    page.keyboard.type(incident_id[:8])
    page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 1", timeout=3_000)
    page.keyboard.press("Escape")
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == [] and watch.failed == []
    first = page.locator("#queue tbody tr").first.get_attribute("data-id")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{server.url}/desk/cases/{first}"  # the case page comes later
    context.close()


def test_the_desk_fits_1366_by_768_in_english(browser, server, city):
    context = browser.new_context(viewport=SMALL)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/login?next=%2Fdesk%3Flang%3Den&lang=en")
    page.fill("#name", "zhang.wei")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    assert page.locator("h1").inner_text() == "Work desk"
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("7")
    assert page.locator(".ms-tab[aria-selected=true] .ms-tab-name").inner_text() == "Closed today"
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "mapserver-desk-1366.png"))
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.failed == []
    context.close()


def test_screenshots_of_the_desk(browser, server, city):
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    page.goto(f"{server.url}/login?next=%2Fdesk")
    page.fill("#name", "zhang.wei")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    page.locator("#queue tbody tr").first.wait_for(timeout=5_000)
    page.keyboard.press("j")  # a row selected, as a dispatcher working down the list has
    readme_shot(page, "desk.jpg")
    context.close()
