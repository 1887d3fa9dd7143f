"""The wall's panels in Debian's headless Chromium against a live server: the charts and figures show the API's
numbers, a case reported through the API reaches the feed within the poll interval and a click on it flies the
map there, hostile texts stay text, and the panels are legible on a 3840×2160 wall. The city: tests/browser/city.py
(the wall's browser tests' fixtures)."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Page
from shapely.geometry import Point

from mapserver.model import Incident
from tests import test_screen_browser as wall
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.conftest import make_token
from tests.test_screen_browser import assert_clean, post, wait_until

city = wall.city  # the wall's browser tests' fixtures: their city (SQLite) and its live server
server = wall.server

POLL_S = 3.0  # the wall's refresh_s (config default)
HOSTILE_CATEGORY = "<img src=x onerror=alert(1)>{a|b}${globalThis.PWNED=1}"
HOSTILE_TEXT = "</li><script>globalThis.PWNED=1</script><img src=x onerror=alert(2)>"
WALL_4K = {"width": 3840, "height": 2160}
MIN_TEXT_PX_4K = 24  # ≥ 0.75 % of the wall's height: read from across a control room
MIN_FIGURE_PX_4K = 48
DRAWN = "() => !!document.querySelector('.ms-chart-trend[data-drawn]')"


def open_wall(browser, server: LiveServer, token: str, query: str = "", viewport: dict[str, int] = SCREEN
              ) -> tuple[Page, Watch]:
    """A fresh browser context on the wall, entered with ``?token=``, once its panels are drawn."""
    page = browser.new_context(viewport=viewport).new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/?token={token}{query}")
    # A 4K wall draws four times the map (and the ground's tiles) before the browser calls its page loaded.
    page.wait_for_selector("html[data-screen=live]", timeout=30_000 if viewport is WALL_4K else 15_000)
    wait_until(page, DRAWN, 10)
    return page, watch


def api(server: LiveServer, token: str, window: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{server.url}/api/screen/panels?window={window}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def chart(page: Page, name: str) -> dict[str, Any]:
    """What a chart draws: the option ECharts holds, and the texts of its SVG."""
    return page.evaluate("(name) => { const node = document.querySelector(`.ms-chart-${name}`);"
                         " const option = echarts.getInstanceByDom(node).getOption();"
                         " return { y: option.yAxis[0].data, x: option.xAxis[0].data,"
                         " series: option.series.map((s) => s.data),"
                         " texts: [...node.querySelectorAll('svg text')].map((t) => t.textContent) }; }", name)


def test_the_charts_and_figures_show_the_apis_numbers(browser, server, city):
    token = make_token(city, "viewer")
    page, watch = open_wall(browser, server, token, "&window=30d")
    wanted = api(server, token, "30d")
    words = page.evaluate("() => JSON.parse(document.getElementById('screen-config').textContent).words")
    trend = chart(page, "trend")
    assert trend["series"] == [wanted["trend"]["current"], wanted["trend"]["previous"]]
    assert trend["x"] == [day[5:] for day in wanted["trend"]["days"]]
    note = page.locator(".ms-box-trend .ms-chart-note")
    assert (note.get_attribute("data-current"), note.get_attribute("data-previous")) == (
        str(wanted["trend"]["total"]), str(wanted["trend"]["previous_total"]))
    assert sum(wanted["trend"]["current"]) > 0 and sum(wanted["trend"]["previous"]) > 0
    for name, rows, labels in (("categories", wanted["breakdown"]["by_category"], words["enums"]["category"]),
                               ("sources", wanted["breakdown"]["by_source"], words["panels"]["sources"])):
        drawn = chart(page, name)
        assert drawn["y"] == [labels.get(r["key"], r["key"]) for r in rows]
        assert drawn["series"] == [[r["count"] for r in rows]]
        # Each bar's count is written at its end, in the SVG itself.
        numbers = sorted(int(t) for t in drawn["texts"] if t.isdigit())
        assert numbers == sorted(r["count"] for r in rows), (name, drawn["texts"])
    times = wanted["times"]
    for key, value in (("response_median", times["response_s"]["median"]), ("response_p90", times["response_s"]["p90"]),
                       ("handling_median", times["handling_s"]["median"]), ("handling_p90", times["handling_s"]["p90"]),
                       ("closure_rate", times["closure_rate"]), ("on_time_rate", times["on_time_rate"])):
        shown = page.locator(f".ms-figure[data-figure={key}] .ms-figure-value")
        assert float(shown.get_attribute("data-value")) == value, key
        assert shown.inner_text() not in ("", "—")
    closure = page.locator(".ms-tile[data-measure=closure_rate] .ms-value").inner_text()
    assert page.locator(".ms-figure[data-figure=closure_rate] .ms-figure-value").inner_text() == closure
    feed = page.evaluate("() => [...document.querySelectorAll('.ms-feed-item')].map((li) => li.dataset.id)")
    assert feed == [row["id"] for row in wanted["feed"]]
    assert_clean(watch)


def test_a_new_case_reaches_the_feed_within_the_poll_interval_and_a_click_flies_there(browser, server, city):
    page, watch = open_wall(browser, server, make_token(city, "viewer"))
    street = city.layers.query("grids", where={"level": 1})[3].geom.representative_point()
    posted = post(server, "/api/incidents", {"category": "fire_hazard", "source": "hotline", "description": "楼道堆物",
                                             "point": {"lon": street.x, "lat": street.y}},
                  make_token(city, "operator"))
    started = time.monotonic()
    took = wait_until(page, f"() => document.querySelector('.ms-feed-item')?.dataset.id === '{posted['id']}'",
                      POLL_S + 2)
    print(f"new case in the feed {took:.2f} s after it was posted (poll every {POLL_S:.0f} s)")
    assert time.monotonic() - started <= POLL_S + 2
    first = page.locator(".ms-feed-item").first
    assert "12345热线" in first.inner_text() and "消防隐患" in first.inner_text() and "楼道堆物" in first.inner_text()
    assert "ms-new" in first.get_attribute("class")
    first.click()
    wait_until(page, "() => !document.querySelector('.ms-card').hidden && "
                     "document.querySelector('.ms-card .ms-description')?.textContent === '楼道堆物'")
    # The map flies there: the case ends in the middle of the map that no panel (nor the card) covers.
    page.wait_for_timeout(1500)  # the flight takes 1.2 s
    where = page.evaluate("([lon, lat]) => { const cfg = JSON.parse(document.getElementById('screen-config')"
                          ".textContent); const m = window[cfg.map]; const p = m.latLngToContainerPoint([lat, lon]);"
                          " const r = m.getContainer().getBoundingClientRect(); const edge = (s, k) =>"
                          " document.querySelector(s).getBoundingClientRect()[k];"
                          " return { x: p.x + r.left, y: p.y + r.top, zoom: m.getZoom(),"
                          " left: edge('.ms-measures', 'right'), right: edge('.ms-card', 'left'),"
                          " top: edge('.ms-bar', 'bottom'), bottom: edge('.ms-charts', 'top') }; }",
                          [street.x, street.y])
    assert where["zoom"] >= 16
    assert abs(where["x"] - (where["left"] + where["right"]) / 2) < 2, where
    assert abs(where["y"] - (where["top"] + where["bottom"]) / 2) < 2, where
    assert_clean(watch)


def test_hostile_category_and_description_stay_text(browser, server, city):
    street = city.layers.query("grids", where={"level": 1})[4]
    spot = street.geom.representative_point()
    city.layers.add("incidents", [Incident(
        id="00000000-0000-4000-8000-0000000bad20", geom=Point(spot.x, spot.y), reported_at=datetime.now(UTC),
        category=HOSTILE_CATEGORY, source="public_app", description=HOSTILE_TEXT, address=HOSTILE_TEXT,
        grid_code=street.code, grid_l1=street.code)])
    page, watch = open_wall(browser, server, make_token(city, "viewer"), "&window=today")
    row = page.locator(".ms-feed-item[data-id='00000000-0000-4000-8000-0000000bad20']")
    assert row.locator(".ms-feed-category").inner_text() == HOSTILE_CATEGORY
    assert row.locator(".ms-feed-text").inner_text() == HOSTILE_TEXT
    assert HOSTILE_TEXT in row.locator(".ms-feed-place").inner_text()
    drawn = chart(page, "categories")
    assert HOSTILE_CATEGORY in drawn["y"]
    # The label is drawn as text (cut to the panel's width), never as markup.
    assert any(t.startswith("<img src=x") for t in drawn["texts"]), drawn["texts"]
    assert page.evaluate("() => document.querySelectorAll('img[src=x], #screen-ui script, svg image').length") == 0
    assert page.evaluate("typeof globalThis.PWNED") == "undefined"
    assert_clean(watch)  # an <img src=x> would have failed to load, an alert opened a dialog


def test_the_panels_are_legible_on_a_4k_wall_in_english(browser, server, city):
    page, watch = open_wall(browser, server, make_token(city, "viewer"), "&lang=en", viewport=WALL_4K)
    sizes = page.evaluate("""() => [...document.querySelectorAll('.ms-side *, .ms-charts *')]
        .filter((n) => [...n.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim()))
        .map((n) => [n.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(n).fontSize),
                     n.getBoundingClientRect().height])""")
    assert len(sizes) > 40 and any(text.isdigit() for text, _, _ in sizes)  # the charts' own texts are counted
    small = [(text, px) for text, px, height in sizes if height > 0 and px < MIN_TEXT_PX_4K]
    assert small == [], small
    figures = page.evaluate("() => [...document.querySelectorAll('.ms-figure-value')]"
                            ".map((n) => parseFloat(getComputedStyle(n).fontSize))")
    assert min(figures) >= MIN_FIGURE_PX_4K
    assert page.locator(".ms-box-trend h3").inner_text() == "Cases per day, 30 days"
    assert page.locator(".ms-side h2").last.inner_text() == "Latest cases"
    # Nothing of the panels lies under another panel: measures, the side column and the charts apart.
    boxes = page.evaluate("() => ['.ms-measures', '.ms-side', '.ms-charts'].map((s) => {"
                          " const r = document.querySelector(s).getBoundingClientRect();"
                          " return [r.left, r.top, r.right, r.bottom]; })")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert boxes[2][3] <= WALL_4K["height"] and boxes[1][2] <= WALL_4K["width"]
    assert_clean(watch)
