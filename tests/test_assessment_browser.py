"""The grid workers' assessment in a real browser: Debian's headless Chromium, driven by Playwright, against a live
server over the hand-made month of tests/assessment_data.py, plus a grid worker whose name is HTML.

A viewer (the assessment office) logs in and sees the workers worst first, each with their grade; the hostile name
stays text; a header sorts the table (again: the other way); a row opens the worker's month day by day by Enter
(keyboard) or by a click, and Escape closes it; the download links carry the same month; the page asks no other
host and raises no error.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mapserver import create_app
from mapserver.store import open_store
from tests import assessment_data as ad
from tests import jurisdiction_data as data
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.logins import PASSWORD, add_person, login_settings

HOSTILE = '<img src="x" onerror="window.__pwned = 1">网格员'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('assessment') / 'city.db'}")
    store.migrate()
    ad.load(store)
    store.accounts.add(name="hostile", role="field", grid_code=data.COMMUNITY_B2.code, password_hash="x",
                       now=ad.T0, display_name=HOSTILE)
    add_person(store, "kao.he", role="viewer")
    live = LiveServer(create_app(login_settings(store), store=store))
    yield live
    live.stop()
    store.close()


def logged_in(browser, server):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/assessment?month={ad.MONTH}")
    assert page.url.startswith(f"{server.url}/login?next=")
    page.fill("#name", "kao.he")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/desk/assessment?month={ad.MONTH}"
    page.wait_for_selector("html[data-assessment=live]", timeout=10_000)
    return context, page, watch


def people(page) -> list[str]:
    return page.eval_on_selector_all("#workers tbody tr", "rows => rows.map(r => r.dataset.person)")


def test_a_viewer_sorts_the_workers_and_opens_a_month(browser, server):
    context, page, watch = logged_in(browser, server)
    assert page.input_value("#f-month") == ad.MONTH
    assert people(page)[-1] == ad.LI and set(people(page)) == {ad.LI, ad.WANG, ad.ZHAO, "hostile"}
    li = page.locator(f"#workers tbody tr[data-person='{ad.LI}']")
    assert li.locator(".ms-badge").inner_text() == "不合格"
    assert li.get_attribute("class") == "ms-red"
    assert "35.1" in li.inner_text() and "3 (2/1)" in li.inner_text()
    assert HOSTILE in page.locator("#workers tbody").inner_text()
    assert page.locator("#workers tbody img").count() == 0 and page.evaluate("() => window.__pwned") is None
    assert f"month={ad.MONTH}" in page.locator("#xlsx").get_attribute("href")
    assert "format=csv" in page.locator("#csv").get_attribute("href")

    # A header sorts by its column, highest first; again, the other way.
    page.click("#workers th[data-col=reported] button")
    assert people(page)[0] == ad.LI
    assert page.get_attribute("#workers th[data-col=reported]", "aria-sort") == "descending"
    page.click("#workers th[data-col=reported] button")
    assert people(page)[-1] == ad.LI
    assert page.get_attribute("#workers th[data-col=reported]", "aria-sort") == "ascending"

    # By keyboard: Tab reaches Li's row, Enter opens her month day by day, Escape closes it.
    page.locator("#xlsx").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.person") == ad.LI:
            break
    assert page.evaluate("() => document.activeElement.dataset.person") == ad.LI
    page.keyboard.press("Enter")
    page.wait_for_selector("#person:not([hidden])", timeout=5_000)
    assert page.locator("#days tbody tr").count() == 31
    day_10 = page.locator("#days tbody tr").nth(9).inner_text()
    assert "2026-03-10" in day_10 and "61" in day_10
    assert "不合格" in page.inner_text("#person-title")
    page.keyboard.press("Escape")
    assert page.locator("#person").is_hidden()
    assert page.evaluate("() => document.activeElement.dataset.person") == ad.LI

    # By mouse: a click on the hostile worker's row opens their month, the name still text.
    page.locator("#workers tbody tr[data-person=hostile]").click()
    page.wait_for_selector("#person:not([hidden])", timeout=5_000)
    assert HOSTILE in page.inner_text("#person-title") and page.locator("#person img").count() == 0
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == [] and watch.failed == []
    context.close()


def test_the_desk_links_the_assessment(browser, server):
    context, page, watch = logged_in(browser, server)
    page.goto(f"{server.url}/desk")
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    with page.expect_navigation():
        page.click("a[href='/desk/assessment']")
    page.wait_for_selector("html[data-assessment=live]", timeout=10_000)
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.failed == []
    context.close()
