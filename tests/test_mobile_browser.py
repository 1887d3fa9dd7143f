"""The grid worker's phone app in a real browser: Debian's headless Chromium as a 390×844 touch phone with a
position, driven by Playwright, against a live server over the sample district of tests/samples.py.

A grid worker of 人和小区 logs in and sees the case dispatched to their grid with its colour; reports a case at the
phone's position, seeing its grid and the position's accuracy before sending; loses the signal, reports again and
reads "待发送 1 条"; gets the signal back and the report goes out: exactly two cases, one per report, even when an
answer is lost on the way and the report is sent again. The app starts with no signal from its service worker. A
task is accepted online and handled offline, sent when the signal returns. The patrol screen shows that the server
keeps no tracks yet; photos chosen offline follow their report once a photo endpoint is served (a stand-in for it
here). The layout fits 390 px with touch targets of at least 44 px; the page asks no other host and logs no error.
With ``MAPSERVER_README_SHOTS=1`` the report screen is saved as static/screen/mobile.jpg.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Blueprint, jsonify, request
from PIL import Image

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.roles import MOBILE, ROUTES
from mapserver.store import open_store
from mapserver.store.incidents import IncidentFilter
from tests import samples
from tests.browser.live import LiveServer, Watch
from tests.logins import PASSWORD, add_person, login_settings

PHONE = {"width": 390, "height": 844}
HERE = {"latitude": 33.605, "longitude": 114.611, "accuracy": 12}  # in 人和小区, the grid worker's grid
README_SHOTS = os.environ.get("MAPSERVER_README_SHOTS") == "1"
SHOTS = (Path(__file__).resolve().parents[1] / "static" / "screen" if README_SHOTS
         else Path(tempfile.mkdtemp(prefix="mobile-shots-")))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('mobile-city') / 'city.db'}")
    store.migrate()
    samples.load_all(store)
    add_person(store, "li.na", role="field", grid_code=samples.COMPOUND.code)
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    live = LiveServer(create_app(login_settings(city), store=city))
    yield live
    live.stop()


def api(server: LiveServer, city, method: str, path: str, body: dict) -> dict:
    """A dispatcher's call through the API with a token; the answer."""
    token = new_token()
    city.tokens.add(name=f"centre-{token[-6:]}", role="dispatcher", token_hash=hash_token(token))
    req = urllib.request.Request(f"{server.url}{path}", data=json.dumps(body).encode(), method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def dispatched_case(server: LiveServer, city, description: str) -> str:
    """A case in 人和小区 dispatched to its community's work station: a task of the grid worker; its id."""
    case = api(server, city, "POST", "/api/incidents", {
        "category": "fire_hazard", "severity": "important", "description": description,
        "point": {"lon": 114.612, "lat": 33.606}})
    api(server, city, "POST", f"/api/incidents/{case['id']}/transitions",
        {"action": "dispatch", "unit": "北关社区工作站"})
    return case["id"]


def reports_by(city, name: str) -> list[Any]:
    found, _ = city.incidents.query(bbox=None, where=IncidentFilter(), limit=1000, offset=0)
    return [i for i in found if i.source == "grid_worker" and i.description.startswith(name)]


def phone(browser, server) -> tuple[Any, Any, Watch]:
    """A logged-in grid worker's phone on /m/."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                  geolocation=HERE, permissions=["geolocation"], locale="zh-CN")
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/m/")
    assert page.url.startswith(f"{server.url}/login?next=%2Fm%2F")
    page.fill("#name", "li.na")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-m=ready]", timeout=10_000)
    return context, page, watch


def clean(watch: Watch) -> None:
    # A photo's preview is a blob: URL of the page's own memory (blob:http://127.0.0.1:port/…), not another host.
    own_blobs = f"blob:{urlsplit(watch.requests[0]).scheme}://{urlsplit(watch.requests[0]).netloc}/"
    assert [u for u in watch.foreign_hosts() if not u.startswith(own_blobs)] == []
    assert watch.errors == []
    assert watch.dialogs == []


def test_my_tasks_report_online_and_offline_one_case_per_report(browser, server, city):
    task = dispatched_case(server, city, "电动车楼道充电")
    context, page, watch = phone(browser, server)
    try:
        card = page.wait_for_selector(f"li.m-task[data-id='{task}']")
        assert "m-warn-green" in card.get_attribute("class")
        assert "电动车楼道充电" in card.inner_text()
        assert "消防隐患" in card.inner_text()

        page.click("nav.m-tabs a:has-text('上报')")
        page.wait_for_selector("html[data-m=ready]")
        page.wait_for_selector(f"#grid[data-code='{samples.COMPOUND.code}']", timeout=10_000)
        assert page.inner_text("#where") == "手机定位，精度约 12 米"
        assert "人和小区" in page.inner_text("#grid")
        page.select_option("#category", "city_appearance")
        page.fill("#description", "巡查一：楼道堆放杂物")
        page.screenshot(path=str(SHOTS / "mobile.jpg"), quality=80, type="jpeg")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        for target in ("#send", "#locate", "#category", ".m-choice span", "nav.m-tabs a", ".m-links a"):
            for box in (e.bounding_box() for e in page.query_selector_all(target)):
                assert box is not None and box["height"] >= 44, target  # a thumb's touch target
        page.click("#send")
        page.wait_for_selector("#report-message.m-ok")
        assert samples.COMPOUND.code in page.inner_text("#report-message")
        first = reports_by(city, "巡查一")
        assert len(first) == 1 and first[0].extra == {"accuracy_m": 12.0}

        context.set_offline(True)
        page.fill("#description", "巡查二：消防通道被占")
        page.click("#send")
        page.wait_for_selector("#report-message.m-queued")
        page.wait_for_selector("#outbox[data-count='1']")
        assert "待发送 1 条" in page.inner_text("#outbox")
        assert reports_by(city, "巡查二") == []

        context.set_offline(False)  # the browser fires `online`: the outbox sends what waits
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        assert page.is_hidden("#outbox"), page.inner_text("#outbox")
        kept = reports_by(city, "巡查二")
        assert len(kept) == 1 and kept[0].grid_code == samples.COMPOUND.code
        assert len(reports_by(city, "巡查")) == 2
        clean(watch)
        assert watch.failed == []
    finally:
        context.close()


def test_a_report_whose_answer_is_lost_is_sent_again_and_makes_one_case(browser, server, city):
    context, page, watch = phone(browser, server)
    lost = []

    def lose_the_first_answer(route: Any) -> None:
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch())  # the server writes the case; the phone never hears of it
            route.abort("connectionreset")
        else:
            route.continue_()

    try:
        page.goto(f"{server.url}/m/report")
        page.wait_for_selector("html[data-m=ready]")
        page.wait_for_selector(f"#grid[data-code='{samples.COMPOUND.code}']", timeout=10_000)
        page.route("**/api/incidents", lose_the_first_answer)
        page.fill("#description", "巡查三：井盖缺失")
        page.click("#send")
        page.wait_for_selector("#report-message.m-queued")
        assert lost[0].status == 201 and len(reports_by(city, "巡查三")) == 1
        assert page.get_attribute("#outbox", "data-count") == "1"
        page.evaluate("window.dispatchEvent(new Event('online'))")  # as when the signal returns
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        assert len(reports_by(city, "巡查三")) == 1  # the same Idempotency-Key: the same case, not a second one
        # The lost answer is the one failure, and the browser's own line about it the one console error.
        assert watch.failed == [f"{server.url}/api/incidents net::ERR_CONNECTION_RESET"]
        assert watch.errors == ["Failed to load resource: net::ERR_CONNECTION_RESET"]
        assert watch.foreign_hosts() == [] and watch.dialogs == []
    finally:
        context.close()


def test_the_app_starts_without_signal_from_its_service_worker(browser, server):
    context, page, watch = phone(browser, server)
    try:
        page.evaluate("async () => { await navigator.serviceWorker.ready; }")
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)  # clients.claim()
        context.set_offline(True)
        answer = page.goto(f"{server.url}/m/report")
        assert answer is not None and answer.from_service_worker
        page.wait_for_selector("html[data-m=ready]", timeout=10_000)
        assert page.is_visible("#net")
        assert page.inner_text("#grid") == "无网络：发送时由服务器确定网格"
        context.set_offline(False)
        clean(watch)
    finally:
        context.close()


def test_accept_online_and_handle_offline(browser, server, city):
    task = dispatched_case(server, city, "小区门口占道经营")
    context, page, watch = phone(browser, server)
    try:
        page.click(f"li.m-task[data-id='{task}'] a")
        page.wait_for_selector("html[data-m=ready]")
        assert page.get_attribute("#status", "data-status") == "dispatched"
        page.click("#accept")
        page.wait_for_selector("#task-message.m-ok")
        assert page.get_attribute("#status", "data-status") == "accepted"
        assert city.incidents.get(task).status == "accepted"

        context.set_offline(True)
        page.fill("#note", "已劝离，恢复通行")
        page.click("#handle")
        page.wait_for_selector("#task-message.m-queued")
        page.wait_for_selector("#outbox[data-count='1']")
        assert city.incidents.get(task).status == "accepted"
        context.set_offline(False)
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        handled = city.incidents.get(task)
        assert handled.status == "handled"
        notes = [e.note for e in city.incidents.timeline(task) if e.action == "handle"]
        assert notes == ["已劝离，恢复通行"]
        clean(watch)
        assert watch.failed == []
    finally:
        context.close()


def test_the_patrol_screen_shows_the_plan_and_waits_for_the_tracks_the_server_does_not_offer_yet(browser, server):
    context, page, watch = phone(browser, server)
    try:
        page.click("nav.m-tabs a:has-text('巡逻')")
        page.wait_for_selector("html[data-m=ready]")
        assert page.inner_text("#tracks-unavailable") == "服务器尚未开通此功能"
        assert page.inner_text("#plan") == "暂无巡逻计划"
        assert page.get_attribute("nav.m-tabs a[aria-current=page]", "href") == "/m/patrol"
        clean(watch)
        assert watch.failed == []
    finally:
        context.close()


def photo_stand_in(received: dict[str, tuple[str, str, str]]) -> Blueprint:
    """``POST /api/incidents/<id>/photos`` as its contract says (multipart ``photo`` and ``kind``, an
    Idempotency-Key, 201 then 200 for the same key), keeping what it got in ``received`` by key."""
    bp = Blueprint("photo_stand_in", __name__)

    @bp.post("/api/incidents/<incident_id>/photos")
    def photos(incident_id: str) -> Any:
        key = request.headers["Idempotency-Key"]
        digest = hashlib.sha256(request.files["photo"].read()).hexdigest()
        status = 200 if key in received else 201
        received.setdefault(key, (incident_id, request.form["kind"], digest))
        return jsonify({"sha256": digest, "url": f"/photos/{digest}", "thumb_url": f"/photos/{digest}?thumb"}), status

    return bp


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def test_photos_taken_offline_follow_their_report_once_the_server_takes_photos(browser, city, monkeypatch):
    received: dict[str, tuple[str, str, str]] = {}
    app = create_app(login_settings(city), store=city)
    app.register_blueprint(photo_stand_in(received))
    monkeypatch.setitem(ROUTES, "photo_stand_in.photos", {"POST": MOBILE})
    live = LiveServer(app)
    context, page, watch = phone(browser, live)
    try:
        page.goto(f"{live.url}/m/report")
        page.wait_for_selector("html[data-m=ready]")
        page.wait_for_selector(f"#grid[data-code='{samples.COMPOUND.code}']", timeout=10_000)
        photos = [{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": jpeg(c)}
                  for i, c in enumerate(("red", "green"))]
        page.set_input_files(".m-file", photos)
        page.wait_for_selector(".m-photos li:nth-child(2) img")
        context.set_offline(True)
        page.fill("#description", "巡查四：墙体裂缝")
        page.click("#send")
        page.wait_for_selector("#outbox[data-count='3']")  # the report and its two photos
        assert "待发送 3 条" in page.inner_text("#outbox")
        context.set_offline(False)
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        [case] = reports_by(city, "巡查四")
        assert sorted(received.values()) == sorted(
            (case.id, "report", hashlib.sha256(p["buffer"]).hexdigest()) for p in photos)
        clean(watch)
        assert watch.failed == []
    finally:
        context.close()
        live.stop()
