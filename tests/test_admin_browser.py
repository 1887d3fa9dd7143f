"""The accounts page and the wall's title bar in a real browser: Debian's headless Chromium, driven by Playwright,
against a live server over the district of tests/browser/city.py.

An administrator logs in, goes from the wall to the accounts page and adds a person; the new person logs in with
that password, sees the wall with their name, role and jurisdiction in the title bar, and logs out with its
button. A person whose session ends while the wall is open is sent to log in, and back; a wall whose token is
revoked says so instead. The login page and the accounts page (with a few people) are photographed at 1366×768:
to a temporary folder, or, with ``MAPSERVER_README_SHOTS=1`` (``scripts/readme-screenshots``), to the README's
``static/screen/login.jpg`` and ``accounts.jpg`` (tests/browser/shots.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from mapserver import account_admin, create_app
from mapserver.audit import Actor
from mapserver.auth import hash_token, new_token
from mapserver.sessions import SESSION_COOKIE
from mapserver.store import open_store
from tests.browser.city import load_city
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.browser.shots import PAGE, readme_shot
from tests.logins import PASSWORD, add_person, login_settings

STREET, STREET_NAME = "411602002000000", "第2街道"
COMMUNITY = "411602002001000"
NEW_PASSWORD = "willow-canyon-3384"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('admin-city') / 'city.db'}")
    store.migrate()
    load_city(store)
    add_person(store, "wang.jianguo", role="admin")
    store.accounts.set_display_name("wang.jianguo", display_name="王建国")
    add_person(store, "zhang.wei", role="dispatcher")
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    live = LiveServer(create_app(login_settings(city), store=city))
    yield live
    live.stop()


def log_in(page: Page, name: str, password: str = PASSWORD) -> None:
    page.fill("#name", name)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def session_cookies(page: Page, server: LiveServer) -> list[dict[str, Any]]:
    return [c for c in page.context.cookies(server.url) if c["name"] == SESSION_COOKIE]


def test_an_admin_adds_a_person_who_logs_in_sees_the_wall_as_themselves_and_logs_out(browser, server, city):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/")
    log_in(page, "wang.jianguo")
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    assert page.locator(".ms-person-name").inner_text() == "王建国"
    assert page.locator(".ms-person-role").inner_text() == "系统管理 · 全区"
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "mapserver-wall-person.png"))
    with page.expect_navigation():
        page.click(".ms-admin-link")
    assert page.url == f"{server.url}/admin/accounts"
    assert page.locator("h1").inner_text() == "账号管理"
    page.fill("#new-name", "li.na")
    page.fill("#new-display-name", "李娜")
    page.select_option("#new-role", "dispatcher")
    page.fill("#new-grid", STREET)
    page.fill("#new-password", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("#add-person button[type=submit]")
    assert page.locator("[role=status]").inner_text() == "已添加 li.na。"
    row = page.locator("tr[data-name='li.na']").inner_text()
    assert "李娜" in row and "指挥调度" in row and f"{STREET} {STREET_NAME}" in row
    (record,), _ = city.audit.records(action="account.create", target="li.na")
    assert record.actor == "wang.jianguo"
    with page.expect_navigation():
        page.click(".ms-top button.ms-logout")
    assert page.url == f"{server.url}/login" and session_cookies(page, server) == []

    log_in(page, "li.na", NEW_PASSWORD)
    assert page.url == f"{server.url}/"
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    assert page.locator(".ms-person-name").inner_text() == "李娜"
    assert page.locator(".ms-person-role").inner_text() == f"指挥调度 · {STREET_NAME}"
    assert page.locator(".ms-jurisdiction").inner_text() == f" · {STREET_NAME}"
    assert page.locator(".ms-admin-link").count() == 0  # not an administrator
    with page.expect_navigation():
        page.click(".ms-person .ms-logout button")  # a form with the session's token, posted from this origin
    assert page.url == f"{server.url}/login" and session_cookies(page, server) == []
    assert city.sessions.count("li.na") == 0
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.dialogs == []
    assert watch.failed == [], watch.failed
    context.close()


def test_a_person_whose_session_ends_is_sent_to_log_in_and_back(browser, server, city):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/?window=7d&lang=en")
    log_in(page, "zhang.wei")
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    assert page.locator(".ms-person-role").inner_text() == "dispatcher · whole district"
    city.sessions.end_all("zhang.wei")  # as an administrator's change, or the idle time-out, ends it
    page.wait_for_url(f"{server.url}/login?next=%2F%3Fwindow%3D7d%26lang%3Den&lang=en", timeout=15_000)
    assert page.locator("h1").inner_text() == "Log in"
    log_in(page, "zhang.wei")
    assert page.url == f"{server.url}/?window=7d&lang=en"
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    # The polls answered 401 are the only complaints (Chromium logs every failed load).
    assert all("status of 401" in e for e in watch.errors) and watch.dialogs == []
    context.close()


def test_a_wall_whose_token_is_revoked_says_so_and_stays(browser, server, city):
    token = new_token()
    city.tokens.add(name="wall-revoked", role="viewer", token_hash=hash_token(token))
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    page.goto(f"{server.url}/?token={token}")
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    assert page.locator(".ms-person").count() == 0  # a token shows nobody
    city.tokens.revoke(name="wall-revoked")
    page.wait_for_selector(".ms-banner:not([hidden])", timeout=15_000)
    assert page.locator(".ms-banner").inner_text() == "访问令牌已失效，请联系管理员重新授权"
    assert page.url == f"{server.url}/"
    context.close()


def _demo_people(city) -> None:
    actor = Actor(name="cli:demo")
    settings = login_settings(city).accounts
    for name, display, role, grid in (("li.na", "李娜", "dispatcher", STREET), ("zhao.lei", "赵磊", "field", COMMUNITY),
                                      ("chen.jing", "陈静", "viewer", None), ("sun.hao", "孙浩", "liaison", STREET)):
        if city.accounts.get(name) is None:
            account_admin.create(city, settings, name=name, role=role, grid_code=grid, password=NEW_PASSWORD,
                                 actor=actor, display_name=display)
    account_admin.update(city, "sun.hao", actor=actor, enabled=False)
    account_admin.update(city, "zhang.wei", actor=actor, display_name="张伟")
    for name, role, grid in (("指挥中心大屏", "viewer", None), ("视频平台接入", "operator", None),
                             ("第2街道大屏", "viewer", STREET)):
        account_admin.create_token(city, name=name, role=role, grid_code=grid, token_hash=hash_token(new_token()),
                                   actor=actor)


def test_screenshots_of_the_login_and_accounts_pages(browser, server, city):
    _demo_people(city)
    context = browser.new_context(viewport=PAGE)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#name", "wang.jianguo")
    readme_shot(page, "login.jpg")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{server.url}/admin/accounts?done=created&name=zhao.lei")
    readme_shot(page, "accounts.jpg")
    context.close()
