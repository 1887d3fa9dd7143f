"""Logging in and out in a real browser: Debian's headless Chromium, driven by Playwright, against a live server.

A person opens the wall, is sent to the login form, logs in and sees the wall, logs out and is sent back; the
session cookie's flags as the browser keeps them; a cookie planted before login is not the session's; and a
page of another origin (a second HTTP server on this machine, or a ``data:`` page) that posts a form to change
the password or log out is refused and changes nothing. The live server shares the district of
tests/browser/city.py.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page

from mapserver import create_app
from mapserver.sessions import SESSION_COOKIE
from mapserver.store import open_store
from tests.browser.city import load_city
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.logins import PASSWORD, add_person, login_settings

SCREENSHOT = Path(tempfile.gettempdir()) / "mapserver-login.png"
NEW_PASSWORD = "quiet-orchard-2095"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('login-city') / 'city.db'}")
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


class _Elsewhere(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def elsewhere() -> Iterator[Any]:
    """Another origin on this machine (another port: cross-origin, though the same site for cookies); set its
    page with ``elsewhere(html)``, which returns its URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Elsewhere)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        _Elsewhere.page = html.encode()
        return f"http://127.0.0.1:{httpd.server_port}/"

    yield serve
    httpd.shutdown()
    thread.join(timeout=5)


def log_in(page: Page, name: str = "zhang.wei", password: str = PASSWORD) -> None:
    page.fill("#name", name)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def session_cookies(page: Page, server: LiveServer) -> list[dict[str, Any]]:
    return [c for c in page.context.cookies(server.url) if c["name"] == SESSION_COOKIE]


def test_log_in_through_the_form_see_the_wall_and_log_out(browser, server):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/?window=7d")
    assert page.url == f"{server.url}/login?next={quote('/?window=7d', safe='')}"
    assert page.locator("html").get_attribute("lang") == "zh-CN" and page.locator("h1").inner_text() == "登录"
    page.screenshot(path=str(SCREENSHOT))
    log_in(page)
    assert page.url == f"{server.url}/?window=7d"
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    (cookie,) = session_cookies(page, server)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax" and cookie["secure"] is False
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
    page.wait_for_load_state("networkidle")  # leaving while the icon still loads would abort it: not a failure
    page.goto(f"{server.url}/logout")
    assert "zhang.wei" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/login" and session_cookies(page, server) == []
    page.goto(f"{server.url}/")
    assert page.url == f"{server.url}/login?next=%2F"  # the wall sends the browser back to the login
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == []
    assert watch.failed == [], watch.failed
    context.close()


def test_a_wrong_password_shows_the_message_and_no_session(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/login?lang=en")
    log_in(page, password="not-the-password")
    assert page.locator("[role=alert]").inner_text() == "Wrong name or password"
    assert page.locator("#name").input_value() == "zhang.wei" and page.locator("#password").input_value() == ""
    assert session_cookies(page, server) == []
    context.close()


def test_a_cookie_planted_before_login_is_not_the_session_after(browser, server):
    context = browser.new_context()
    context.add_cookies([{"name": SESSION_COOKIE, "value": "planted-by-someone-else", "url": server.url}])
    page = context.new_page()
    page.goto(f"{server.url}/")
    assert "/login" in page.url  # the planted value opens nothing
    log_in(page)
    (cookie,) = session_cookies(page, server)
    assert cookie["value"] != "planted-by-someone-else" and len(cookie["value"]) >= 40
    context.close()


def test_a_form_posted_from_another_origin_is_refused_and_changes_nothing(browser, server, city, elsewhere):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/login")
    log_in(page)
    before = session_cookies(page, server)
    changed_at = city.accounts.get("zhang.wei").password_changed_at
    fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD,
              "csrf_token": "a-guess"}
    inputs = "".join(f'<input name="{k}" value="{escape(v)}">' for k, v in fields.items())
    for target in ("/account/password", "/logout"):
        form = (f'<!DOCTYPE html><form method="post" action="{server.url}{target}">{inputs}'
                '<button id="go">go</button></form>')
        # Another port of 127.0.0.1: the same site, so the Lax cookie goes along, and the CSRF token and the
        # origin check refuse it.
        url = elsewhere(form)
        page.goto(url)
        with page.expect_navigation() as navigation:
            page.click("#go")
        response = navigation.value
        assert response is not None and response.status == 403, (target, response and response.status)
        assert response.request.headers.get("origin") == url.rstrip("/")
        # A data: page is another site (Origin: null): the Lax cookie stays home, so no session is found and the
        # browser is sent to log in.
        page.goto("data:text/html," + quote(form))
        with page.expect_navigation() as navigation:
            page.click("#go")
        response = navigation.value
        assert response is not None and response.url.startswith(f"{server.url}/login")
        posted = response.request.redirected_from
        assert posted is not None and posted.method == "POST" and posted.headers.get("origin") == "null"
    assert city.accounts.get("zhang.wei").password_changed_at == changed_at
    assert session_cookies(page, server) == before  # still logged in, the same session
    page.goto(f"{server.url}/api/grids")
    assert page.evaluate("document.body.innerText").startswith("{")  # the session still reads
    context.close()
