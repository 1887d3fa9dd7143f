"""The grid worker's phone app in a real browser: Debian's headless Chromium as a 390×844 touch phone with a
position, driven by Playwright, against a live server over the sample district of tests/samples.py.

A grid worker of 人和小区 logs in and sees the case dispatched to their grid with its colour; reports a case at the
phone's position, seeing its grid and the position's accuracy before sending; loses the signal, reports again and
reads "待发送 1 条"; gets the signal back and the report goes out: exactly two cases, one per report, even when an
answer is lost on the way and the report is sent again. The app starts with no signal from its service worker. A
task is accepted online and handled offline, sent when the signal returns. A grid worker's day against the real
photo and track endpoints: two reports with photos, one of them offline (exactly two cases, every photo stored
with its file and thumbnail), a task handled with an after photo, and a patrol on a saved plan walked step by step
with a check-in at a stop, which the plan against the day's track then shows passed with the share of the route
walked. The layout fits 390 px with touch targets of at least 44 px; the page asks no other host and logs no error.
With ``MAPSERVER_README_SHOTS=1`` (``scripts/readme-screenshots``) the tasks, report and patrol screens of that
day are saved as static/screen/mobile-tasks.jpg, mobile-report.jpg and mobile-patrol.jpg.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.photos.files import PhotoFiles
from mapserver.photos.processing import EXTENSIONS
from mapserver.photos.settings import PhotoSettings
from mapserver.store import open_store
from mapserver.store.incidents import IncidentFilter
from tests import samples
from tests.browser.live import LiveServer, Watch
from tests.browser.shots import readme_shot
from tests.logins import PASSWORD, add_person, login_settings

PHONE = {"width": 390, "height": 844}
HERE = {"latitude": 33.605, "longitude": 114.611, "accuracy": 12}  # in 人和小区, the grid worker's grid


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('mobile-city') / 'city.db'}")
    store.migrate()
    samples.load_all(store)
    add_person(store, "li.na", role="field", grid_code=samples.COMPOUND.code)
    yield store
    store.close()


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mobile-photos")


@pytest.fixture(scope="module")
def server(city, photo_folder) -> Iterator[LiveServer]:
    settings = login_settings(city).model_copy(update={"photos": PhotoSettings(dir=str(photo_folder))})
    live = LiveServer(create_app(settings, store=city))
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


def dispatched_case(server: LiveServer, city, description: str, category: str = "fire_hazard",
                    severity: str = "important") -> str:
    """A case in 人和小区 dispatched to its community's work station: a task of the grid worker; its id."""
    case = api(server, city, "POST", "/api/incidents", {
        "category": category, "severity": severity, "description": description,
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
        # clients.claim() makes it this page's controller; waited for by an event (the policy forbids eval, which
        # a polled expression would need).
        page.evaluate("""async () => { if (!navigator.serviceWorker.controller) await new Promise((resolve) =>
            navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })); }""")
        context.set_offline(True)
        answer = page.goto(f"{server.url}/m/report")
        assert answer is not None and answer.from_service_worker
        page.wait_for_selector("html[data-m=ready]", timeout=10_000)
        assert page.is_visible("#net")
        assert page.inner_text("#grid") == "无网络：发送时由服务器确定网格"

        # Logging out with a report waiting asks first (the dialog dismissed: the worker stays).
        page.select_option("#category", "city_appearance")
        page.fill("#description", "登出前：井盖缺失")
        page.click("#send")
        page.wait_for_selector("#outbox[data-count='1']")
        page.click("#logout")
        assert watch.dialogs == ["confirm: 还有 1 条未发送，退出后将从本机删除。确定退出？"]
        assert page.url == f"{server.url}/m/report"
        watch.dialogs.clear()
        context.set_offline(False)
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        # Nothing waits: out without a question, and the phone keeps nothing of the person (Clear-Site-Data).
        page.click("#logout")
        page.wait_for_selector("form[action^='/logout'] button")
        with page.expect_navigation():
            page.click("form[action^='/logout'] button")
        assert urlsplit(page.url).path == "/login"
        kept = page.evaluate("""async () => ({ caches: await caches.keys(),
            workers: (await navigator.serviceWorker.getRegistrations()).length,
            databases: (await indexedDB.databases()).map((d) => d.name) })""")
        assert kept == {"caches": [], "workers": 0, "databases": []}
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


def jpeg(hue: int) -> bytes:
    """A small camera-like JPEG (640×480, a gradient tinted by ``hue``), as a phone would send."""
    ramp = Image.linear_gradient("L").resize((640, 480))
    tint = Image.new("L", (640, 480), hue)
    out = io.BytesIO()
    Image.merge("RGB", (ramp, tint, ramp.rotate(90, expand=False))).save(out, "JPEG", quality=85)
    return out.getvalue()


def chosen(photos: list[bytes], stem: str) -> list[dict[str, Any]]:
    return [{"name": f"{stem}{i}.jpg", "mimeType": "image/jpeg", "buffer": b} for i, b in enumerate(photos)]


def assert_stored(city, folder: Path, case_id: str, sent: list[bytes], kind: str, action: str) -> None:
    """The case's photos are those sent, of ``kind``, on its ``action`` entry, each file and thumbnail on disk."""
    photos = city.photos.for_incident(case_id)
    assert sorted(p.upload_sha256 for p in photos) == sorted(hashlib.sha256(b).hexdigest() for b in sent)
    [entry] = [e.seq for e in city.incidents.timeline(case_id) if e.action == action]
    files = PhotoFiles(folder)
    for photo in photos:
        assert photo.kind == kind and photo.event_seq == entry
        data = files.read(photo.sha256, EXTENSIONS[photo.format])
        assert data is not None and len(data) == photo.bytes > 0
        assert hashlib.sha256(data).hexdigest() == photo.sha256  # the re-encoded file, whole
        thumb = files.read(photo.sha256, EXTENSIONS[photo.format], thumb=True)
        assert thumb is not None and len(thumb) > 0


M_PER_DEG_LON = 111_319.49 * math.cos(math.radians(HERE["latitude"]))
STOPS_M = (0.0, 150.0, 300.0)  # the plan's stops, metres east of HERE along the route
STEP_M = 15.0


def east(metres: float) -> float:
    return HERE["longitude"] + metres / M_PER_DEG_LON


def saved_plan(city) -> str:
    """A foot patrol planned for 人和小区 today: 300 m east from HERE with three stops; its id."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    names = ("人和小区东门", "人和小区中心广场", "人和小区北侧")
    stops = [{"order": k + 1, "ref": f"s{k + 1}", "name": name, "lon": east(m), "lat": HERE["latitude"],
              "arrival_min": m / 80, "arrival_at": now, "weight": 1.0, "reasons": []}
             for k, (m, name) in enumerate(zip(STOPS_M, names, strict=True))]
    plan = {"mode": "foot", "window": "day", "budget_min": 30, "length_m": STOPS_M[-1], "duration_min": 4,
            "start_at": now, "start": {"lon": east(0), "lat": HERE["latitude"], "name": names[0]}, "stops": stops,
            "route": {"type": "Feature", "properties": {}, "geometry": {
                "type": "LineString", "coordinates": [[east(0), HERE["latitude"]], [east(STOPS_M[-1]),
                                                                                     HERE["latitude"]]]}}}
    return city.patrols.save(plan, created_by="dispatcher", created_at=datetime.now(UTC),
                             planner_grid=samples.COMPOUND.code, grids=[samples.COMPOUND.code]).id


def test_a_grid_workers_day_photos_offline_a_handled_task_and_a_patrol_on_its_plan(browser, server, city,
                                                                                  photo_folder):
    task = dispatched_case(server, city, "楼顶违建")
    dispatched_case(server, city, "3号楼邻里噪音纠纷", "disputes", "general")
    dispatched_case(server, city, "小区北门井盖松动", "roads_facilities", "urgent")
    plan_id = saved_plan(city)
    context, page, watch = phone(browser, server)
    try:
        page.wait_for_selector(f"li.m-task[data-id='{task}']")
        readme_shot(page, "mobile-tasks.jpg")
        # A report with two photos, online.
        page.click("nav.m-tabs a:has-text('上报')")
        page.wait_for_selector("html[data-m=ready]")
        page.wait_for_selector(f"#grid[data-code='{samples.COMPOUND.code}']", timeout=10_000)
        page.select_option("#category", "city_appearance")
        page.fill("#description", "走访一：路灯损坏")
        first_photos = [jpeg(40), jpeg(200)]
        page.set_input_files(".m-file", chosen(first_photos, "a"))
        page.wait_for_selector(".m-photos li:nth-child(2) img")
        readme_shot(page, "mobile-report.jpg")
        page.click("#send")
        page.wait_for_selector("#report-message.m-ok", timeout=10_000)
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)

        # Another with one photo, without signal: kept, then sent when the signal returns.
        context.set_offline(True)
        second_photos = [jpeg(120)]
        page.set_input_files(".m-file", chosen(second_photos, "b"))
        page.wait_for_selector(".m-photos li:nth-child(1) img")
        page.fill("#description", "走访二：垃圾满溢")
        page.click("#send")
        page.wait_for_selector("#report-message.m-queued")
        page.wait_for_selector("#outbox[data-count='2']")  # the report and its photo
        assert reports_by(city, "走访二") == []
        context.set_offline(False)
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        cases = {c.description[:3]: c for c in reports_by(city, "走访")}
        assert sorted(cases) == ["走访一", "走访二"]  # exactly two cases
        assert_stored(city, photo_folder, cases["走访一"].id, first_photos, "report", "report")
        assert_stored(city, photo_folder, cases["走访二"].id, second_photos, "report", "report")

        # A task accepted, then handled with a photo after.
        page.click("nav.m-tabs a:has-text('我的任务')")
        page.wait_for_selector("html[data-m=ready]")
        page.click(f"li.m-task[data-id='{task}'] a")
        page.wait_for_selector("html[data-m=ready]")
        page.click("#accept")
        page.wait_for_selector("#task-message.m-ok")
        after = [jpeg(90)]
        page.locator(".m-file").nth(1).set_input_files(chosen(after, "after"))
        page.wait_for_selector("#handle-form fieldset:nth-of-type(2) .m-photos li img")
        page.fill("#note", "已拆除，恢复原状")
        page.click("#handle")
        page.wait_for_selector("#task-message.m-ok:has-text('已提交处置结果')", timeout=10_000)
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)
        assert city.incidents.get(task).status == "handled"
        assert_stored(city, photo_folder, task, after, "after", "handle")

        # A patrol on the saved plan, walked east step by step past the second stop, with a check-in there.
        page.click("nav.m-tabs a:has-text('巡逻')")
        page.wait_for_selector("html[data-m=ready]")
        page.wait_for_selector(f"#plan[data-id='{plan_id}'] li[data-order='3']")
        page.click("#patrol-start")
        page.wait_for_selector("#patrol-message.m-ok", timeout=10_000)
        checkin = "button.m-checkin[data-order='2']"
        steps = int(STOPS_M[1] / STEP_M) + 1  # to 15 m past the second stop
        checked = False
        for k in range(1, steps + 1):
            page.wait_for_timeout(600)  # a brisk walk: 25 m/s at most, below what the server drops as a jump
            context.set_geolocation({"latitude": HERE["latitude"], "longitude": east(k * STEP_M), "accuracy": 5})
            page.wait_for_selector(f"#patrol-running[data-fixes='{k}']", state="attached")
            near = abs(k * STEP_M - STOPS_M[1]) <= 50
            assert page.is_enabled(checkin) == (near and not checked), k  # within 50 m, once
            if k * STEP_M == STOPS_M[1]:
                checked = True
                page.click(checkin)
                page.wait_for_selector("#patrol-message.m-ok:has-text('人和小区中心广场')", timeout=10_000)
                page.wait_for_selector("li[data-order='2'][data-checked='yes']")
                readme_shot(page, "mobile-patrol.jpg")
        assert page.is_disabled("button.m-checkin[data-order='3']")  # 135 m away
        page.click("#patrol-stop")
        page.wait_for_selector("#patrol-start")
        page.wait_for_selector("#outbox[data-count='0']", state="attached", timeout=10_000)

        day = datetime.now(ZoneInfo(login_settings(city).incidents.timezone)).date().isoformat()
        url = f"/api/tracks/people/li.na/days/{day}/plans/{plan_id}"
        answer = page.evaluate("async (url) => (await fetch(url, { credentials: 'same-origin' })).json()", url)
        assert answer["fixes"] == steps
        assert [s["passed"] for s in answer["stops"]] == [True, True, False]
        assert [c["stop"] for c in answer["check_ins"]] == [2]
        walked_to = steps * STEP_M + answer["near_m"]  # the track's reach: 50 m beyond its last fix
        assert answer["route_share"] == pytest.approx(walked_to / STOPS_M[-1], abs=0.03)
        clean(watch)
        assert watch.failed == []
    finally:
        context.close()
