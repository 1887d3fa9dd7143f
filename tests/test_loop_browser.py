"""One case through the whole loop (一单一反馈一考评), by clicking, in a real browser: Debian's headless Chromium,
driven by Playwright, against a live server over the sample district of tests/samples.py, on each store.

Each person finds the case in their own queue: the dispatcher in 待派单 dispatches it to a unit; the grid worker
of its grid (the unit's account) finds it in 待签收, accepts it and records the handling; the dispatcher verifies
and closes it; the hotline operator calls the reporter back, who is unsatisfied, which reopens the case to the
unit; handled, verified and closed again, the second follow-up is satisfied and the case stays closed. A duty
officer's browser, open on the case the whole time, shows every change within 3 s without a reload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mapserver import create_app
from mapserver.store import open_store
from tests import samples
from tests.browser.live import LiveServer
from tests.conftest import BACKENDS, empty_store
from tests.logins import add_person, login_settings
from tests.test_case_browser import fact, live, logged_in, report

UNIT = "北关社区工作站"
FOLLOWS_WITHIN_MS = 3_000


@pytest.fixture(scope="module", params=BACKENDS)
def city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('loop-city') / 'city.db'}")
        store.migrate()
    else:
        store = open_store(request.getfixturevalue("postgis_url"))
        empty_store(store)
    samples.load_all(store)
    add_person(store, "zhang.wei", role="dispatcher")
    add_person(store, "chen.jing", role="operator")
    add_person(store, "zhao.lei", role="viewer")
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    live_server = LiveServer(create_app(login_settings(city), store=city))
    yield live_server
    live_server.stop()


def status_is(page, label: str, timeout: int = 5_000) -> None:
    page.wait_for_function("(label) => document.querySelector('[data-fact=status]').textContent === label",
                           arg=label, timeout=timeout)


def open_from_queue(browser, server, name: str, tab: str, case: str) -> tuple[Any, Any, Any]:
    """Log ``name`` in at the desk, pick ``tab``, click the case's row and open it with Enter."""
    context, page, watch = logged_in(browser, server, name, "/desk")
    page.wait_for_selector("html[data-desk=live]", timeout=10_000)
    page.click(f".ms-tab[data-tab={tab}]")
    row = page.locator(f"tr[data-id='{case}']")
    row.wait_for(timeout=5_000)
    row.click()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{server.url}/desk/cases/{case}"
    live(page)
    return context, page, watch


def act(page, action: str, **fields: str) -> None:
    """Click the action's button, fill its form (select or type by field id) and send it; wait for the answer."""
    page.click(f"#act-{action}")
    for field, value in fields.items():
        control = page.locator(f"#f-{field}")
        if control.evaluate("(e) => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    page.click("#f-submit")
    page.wait_for_function("() => document.querySelector('#message').dataset.kind === 'good'", timeout=5_000)
    page.evaluate("() => { document.querySelector('#message').dataset.kind = ''; }")


def buttons(page) -> list[str]:
    return page.locator(".ms-act").all_inner_texts()


def test_one_case_goes_round_the_whole_loop_by_clicking(browser, server, city):
    case = report(server, city, "消防通道堆放杂物")
    grid = city.incidents.get(case).grid_code
    add_person(city, "wang.fang", role="field", grid_code=grid)  # the grid worker of the case's grid

    watcher, duty, duty_watch = logged_in(browser, server, "zhao.lei", f"/desk/cases/{case}")
    live(duty)
    assert fact(duty, "status") == "已上报" and buttons(duty) == []  # a viewer reads, takes no action
    duty.evaluate("() => { window.__loads = performance.getEntriesByType('navigation').length; }")

    def follows(label: str) -> None:
        status_is(duty, label, timeout=FOLLOWS_WITHIN_MS)

    desk, dispatcher, dispatcher_watch = open_from_queue(browser, server, "zhang.wei", "dispatch", case)
    act(dispatcher, "dispatch", unit=UNIT, note="请社区工作站两小时内清理")
    status_is(dispatcher, "已派单")
    follows("已派单")
    assert fact(duty, "unit") == UNIT

    phone, worker, worker_watch = open_from_queue(browser, server, "wang.fang", "sign", case)
    assert buttons(worker) == ["签收", "返单"]  # a grid worker neither whistles nor dispatches
    act(worker, "accept")
    follows("已签收")
    assert buttons(worker) == ["返单", "处置"]
    act(worker, "handle", note="杂物已清运，通道畅通")
    follows("已处置")

    status_is(dispatcher, "已处置")  # the dispatcher's open page followed too
    act(dispatcher, "verify", note="现场核查通过")
    follows("已核查")
    act(dispatcher, "close")
    follows("已办结")
    assert buttons(dispatcher)[0] == "回访"

    hotline, operator, operator_watch = open_from_queue(browser, server, "chen.jing", "closed_today", case)
    assert buttons(operator) == ["回访"]
    act(operator, "follow_up", satisfaction="unsatisfied", comment="杂物又堆回来了")
    follows("已签收")  # unsatisfied: back to the unit that had it
    assert fact(duty, "unit") == UNIT
    assert "不满意" in duty.locator("#follow-up").inner_text()

    status_is(worker, "已签收")
    act(worker, "handle", note="再次清运并张贴告示")
    follows("已处置")
    act(dispatcher, "verify")
    follows("已核查")
    act(dispatcher, "close")
    follows("已办结")
    status_is(operator, "已办结")
    act(operator, "follow_up", satisfaction="satisfied", comment="已清理干净")
    duty.wait_for_function("() => document.querySelector('#follow-up').textContent.includes('满意')",
                           timeout=FOLLOWS_WITHIN_MS)
    operator.wait_for_function("() => document.querySelectorAll('.ms-act').length === 0")  # nothing left to do
    assert fact(duty, "status") == "已办结"

    actions = [e.action for e in city.incidents.timeline(case)]
    assert actions == ["report", "dispatch", "accept", "handle", "verify", "close", "follow_up",
                       "handle", "verify", "close", "follow_up"]
    assert city.incidents.get(case).status == "closed"
    assert duty.evaluate("() => window.__loads") == 1
    for w in (duty_watch, dispatcher_watch, worker_watch, operator_watch):
        assert w.foreign_hosts() == [] and w.errors == [] and w.dialogs == [] and w.failed == []
    for context in (watcher, desk, phone, hotline):
        context.close()
