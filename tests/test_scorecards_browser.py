"""The unit scorecards in a real browser: Debian's headless Chromium, driven by Playwright, against a live server over
the hand-made cases of tests/scorecards_data.py, plus one case whose unit's name is HTML.

A viewer (the assessment office) logs in and sees the units worst first, each row coloured with its badge and
reasons; the hostile name stays text; the street tab regroups; the download links carry the same query; the page
asks no other host and raises no error. A row opens the work desk's queue filtered to its unit (or street) and the
period: by Enter on its name, or by a click on the row. The README's picture of the scorecards
(static/screen/scorecards.jpg) is taken here (tests/browser/shots.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from mapserver import create_app
from mapserver.store import open_store
from tests import scorecards_data as cards
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.browser.shots import PAGE, readme_shot
from tests.logins import PASSWORD, add_person, login_settings

HOSTILE = '<img src="x" onerror="window.__pwned = 1">考评单位'


def serve(folder, *, hostile: bool) -> Iterator[LiveServer]:
    """A live server over the scorecards' cases (and the case of the unit whose name is HTML, if ``hostile``)."""
    store = open_store(f"sqlite:///{folder / 'city.db'}")
    store.migrate()
    cards.load(store)
    if hostile:
        first = cards.cases()[0][0]
        store.layers.add("incidents", [replace(first, id="00000000-0000-4000-b000-000000000999", unit=HOSTILE)])
    add_person(store, "kao.ping", role="viewer")
    live = LiveServer(create_app(login_settings(store), store=store))
    yield live
    live.stop()
    store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("scorecards"), hostile=True)


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The README's picture shows the units' own names."""
    yield from serve(tmp_path_factory.mktemp("scorecards-plain"), hostile=False)


def logged_in(browser, server):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/scorecards")
    assert page.url.startswith(f"{server.url}/login?next=")
    page.fill("#name", "kao.ping")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/desk/scorecards"
    page.wait_for_selector("html[data-scorecards=live]", timeout=10_000)
    return context, page, watch


def test_a_viewer_sees_the_units_worst_first_with_their_reasons(browser, server):
    context, page, watch = logged_in(browser, server)
    rows = page.locator("#cards tbody tr")
    assert rows.count() == 5
    keys = [rows.nth(k).get_attribute("data-key") for k in range(5)]
    assert keys[:3] == [cards.RED, cards.YELLOW, cards.GREEN] and set(keys[3:]) == {cards.FEW, HOSTILE}
    red = rows.nth(0)
    assert red.get_attribute("class") == "ms-red"
    assert red.locator(".ms-badge").inner_text() == "红色 · 约谈"
    assert red.locator(".ms-reasons li").first.inner_text() == "按期办结率 71.4% 低于红色线 80%"
    assert rows.nth(1).locator(".ms-badge").inner_text() == "黄色 · 整改提示"
    assert HOSTILE in page.locator("#cards tbody").inner_text()
    assert page.locator("#cards tbody img").count() == 0 and page.evaluate("() => window.__pwned") is None
    assert "format=csv" in page.locator("#csv").get_attribute("href")
    assert "format=xlsx" in page.locator("#xlsx").get_attribute("href")

    page.click(".ms-tab[data-by=street]")
    page.wait_for_function("() => document.querySelectorAll('#cards tbody tr').length === 2", timeout=5_000)
    assert page.locator("#cards th[data-col=name]").inner_text() == "街道"
    assert "by=street" in page.locator("#csv").get_attribute("href")
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == [] and watch.failed == []
    context.close()


def queue_units(page) -> set[str]:
    """The unit column of the queue's rows."""
    return set(page.locator("#queue tbody tr td:nth-child(8)").all_inner_texts())


def test_a_row_opens_the_queue_filtered_to_its_unit_or_street_and_period(browser, server):
    context, page, watch = logged_in(browser, server)
    since, until = page.input_value("#f-since"), page.input_value("#f-until")
    red = page.locator(f"#cards tbody tr[data-key='{cards.RED}']")
    query = parse_qs(urlsplit(red.locator("a.ms-open").get_attribute("href")).query)
    assert query["unit"] == [cards.RED] and query["since"] == [since] and query["until"] == [until]

    # By keyboard: Tab reaches the row's name, Enter opens the queue on that unit and period.
    page.locator(".ms-tab[data-by=community]").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.closest('tr')?.dataset.key") == cards.RED:
            break
    assert page.evaluate("() => document.activeElement.className") == "ms-open"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/desk"
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    assert page.input_value("#f-unit") == cards.RED
    assert page.input_value("#f-since") == since and page.input_value("#f-until") == until
    tab = query.get("tab", ["dispatch"])[0]
    assert page.get_attribute(f".ms-tab[data-tab={tab}]", "aria-selected") == "true"
    page.wait_for_function("() => document.querySelector('[data-count=overdue]').textContent !== '–'")
    for other in ("handling", "overdue", "closed_today"):
        page.click(f".ms-tab[data-tab={other}]")
        page.wait_for_timeout(300)
        assert queue_units(page) <= {cards.RED}, other  # another unit's cases are not shown
    assert int(page.inner_text("[data-count=overdue]")) > 0 or "tab" not in query

    # By mouse: a click on a street's row (not on its name) opens the queue on that street's grid code.
    page.go_back()
    page.wait_for_selector("html[data-scorecards=live]", timeout=10_000)
    page.click(".ms-tab[data-by=street]")
    page.wait_for_function("() => document.querySelectorAll('#cards tbody tr').length === 2", timeout=5_000)
    street = page.locator("#cards tbody tr").first
    code = street.get_attribute("data-key")
    with page.expect_navigation():
        street.locator(".ms-badge").click()
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    assert page.input_value("#f-grid") == code and page.input_value("#f-unit") == ""
    assert parse_qs(urlsplit(page.url).query)["grid"] == [code]
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == [] and watch.failed == []
    context.close()


def test_screenshots_of_the_scorecards(browser, plain_server):
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    page.goto(f"{plain_server.url}/login?next=%2Fdesk%2Fscorecards")
    page.fill("#name", "kao.ping")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-scorecards=live]", timeout=10_000)
    page.locator("#cards tbody tr").nth(3).wait_for(timeout=5_000)  # red, yellow, green, and one with too few
    readme_shot(page, "scorecards.jpg")
    context.close()
