"""The people on patrol on the wall, in a real browser: a grid worker's fixes appear as a dot in the grid workers'
colour within a poll, with a faded trail and a text-only tooltip; a wall of one street shows its own people only;
the legend counts them. Reuses the wall's district, server and helpers (tests/test_screen_browser.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from mapserver.auth import hash_token, new_token
from tests.browser.city import HOSTILE_NAME
from tests.conftest import make_token
from tests.test_screen_browser import assert_clean, city, count, fly, open_screen, pixel, server, wait_until

__all__ = ["city", "server"]  # the wall's module fixtures, shared

POLL_S = 5  # mapserver.screen.page.LIVE_POLL_S
FIELD_COLOUR = "#ffca28"  # static/desk/positions.js ROLE_COLOURS.field
LIAISON_COLOUR = "#40c4ff"


def walking(store, name: str, *, role: str, grid_code: str, display_name: str, lon: float, lat: float,
            seconds_ago: int = 20) -> None:
    """An account of ``role`` in ``grid_code`` with five fixes walking north, the last ``seconds_ago``."""
    store.accounts.add(name=name, role=role, grid_code=grid_code, password_hash="!", now=datetime.now(UTC),
                       display_name=display_name)
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds_ago)
    times = [last - timedelta(seconds=10 * k) for k in range(4, -1, -1)]
    assert store.tracks.add_fixes(name, times, [lon] * 5, [lat + 0.0001 * k for k in range(5)], [5.0] * 5) == 5


def dot(person: str) -> str:
    return f".leaflet-pane[data-layer='live'] path.ms-live[data-person='{person}']"


def test_the_walls_positions_layer_shows_the_worker_in_the_role_colour_and_only_within_the_jurisdiction(
        browser, server, city):
    streets = city.grids.of_level(1)
    inside, outside = streets[4], streets[5]
    here, there = inside.geom.representative_point(), outside.geom.representative_point()
    secret = new_token()
    city.tokens.add(name=f"live-wall-{inside.code}", role="viewer", token_hash=hash_token(secret),
                    grid_code=inside.code)
    page, watch = open_screen(browser, server, secret)
    assert page.locator(".ms-live-count").get_attribute("data-count") in ("", "0")  # nobody on patrol yet
    # Fixes stored after the page opened: the worker appears within a poll.
    walking(city, "live.worker", role="field", grid_code=inside.code, display_name=HOSTILE_NAME,
            lon=here.x, lat=here.y)
    walking(city, "live.police", role="liaison", grid_code=inside.code, display_name="李警官", lon=here.x + 0.001,
            lat=here.y)
    walking(city, "live.away", role="field", grid_code=outside.code, display_name="王五", lon=there.x, lat=there.y)
    walking(city, "live.stale", role="field", grid_code=inside.code, display_name="赵六", lon=here.x, lat=here.y,
            seconds_ago=6 * 60)
    took = wait_until(page, f"() => !!document.querySelector(\"{dot('live.worker')}\")", POLL_S + 3)
    assert took <= POLL_S + 3
    assert page.locator(dot("live.worker")).get_attribute("fill") == FIELD_COLOUR
    assert page.locator(dot("live.police")).get_attribute("fill") == LIAISON_COLOUR
    assert count(page, dot("live.away")) == 0 and count(page, dot("live.stale")) == 0  # another street; too old
    assert count(page, ".leaflet-pane[data-layer='live'] path.ms-live-trail") == 2
    assert page.locator(".ms-live-count").get_attribute("data-count") == "2"
    # The hostile display name shows as text in the tooltip and runs nothing.
    fly(page, here.x, here.y + 0.0004, 17)
    page.mouse.move(*pixel(page, here.x, here.y + 0.0004))
    tip = page.locator(".ms-live-tip")
    tip.wait_for(timeout=3000)
    assert HOSTILE_NAME in tip.inner_text() and tip.locator("img, script").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
    assert_clean(watch)
    page.context.close()


def test_the_whole_walls_legend_counts_the_people_on_patrol_and_an_unchanged_poll_is_a_304(browser, server, city,
                                                                                            caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")  # the live server's access log: what it answered
    page, watch = open_screen(browser, server, make_token(city, "viewer"))
    wait_until(page, "() => document.querySelector('.ms-live-count').dataset.count !== ''", POLL_S + 3)
    shown = int(page.locator(".ms-live-count").get_attribute("data-count"))
    assert shown == count(page, ".leaflet-pane[data-layer='live'] path.ms-live")
    page.wait_for_timeout((POLL_S + 1) * 1000)
    answered = [r.getMessage() for r in caplog.records if "/api/positions/live" in r.getMessage()]
    assert any('" 200 ' in line for line in answered) and any('" 304 ' in line for line in answered)
    assert_clean(watch)
    page.context.close()


def test_switching_the_layer_off_and_on_hides_and_counts_again(browser, server, city):
    page, watch = open_screen(browser, server, make_token(city, "viewer"))
    wait_until(page, "() => document.querySelector('.ms-live-count').dataset.count !== ''", POLL_S + 3)
    shown = page.locator(".ms-live-count").get_attribute("data-count")
    box = page.locator(".leaflet-control-layers-overlays label", has_text="巡查人员").locator("input")
    box.uncheck()
    assert count(page, ".leaflet-pane[data-layer='live'] path.ms-live") == 0
    assert page.locator(".ms-live-count").get_attribute("data-count") == ""
    box.check()
    wait_until(page, f"() => document.querySelector('.ms-live-count').dataset.count === '{shown}'", POLL_S + 3)
    assert_clean(watch)
    page.context.close()
