"""Photos on the case page in a real browser (Debian's headless Chromium, Playwright) against a live server over the
sample district: a grid worker's report photo and a handling's after photo, uploaded through the API as the phone
app does, show as thumbnails in the photo box and in the timeline entries they belong to; each thumbnail loads under
the page's policy (images from this server only) and opens the full photo."""

from __future__ import annotations

import io
import json
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.photos.settings import PhotoSettings
from mapserver.store import open_store
from tests import photo_corpus as corpus
from tests import samples
from tests.browser.live import LiveServer, Watch
from tests.logins import PASSWORD, add_person, login_settings

POINT = {"lon": 114.6105, "lat": 33.61}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('photo-city') / 'city.db'}")
    store.migrate()
    samples.load_all(store)
    add_person(store, "zhao.lei", role="dispatcher")
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city) -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory() as folder:
        settings = login_settings(city).model_copy(update={"photos": PhotoSettings(dir=folder)})
        live = LiveServer(create_app(settings, store=city))
        yield live
        live.stop()


def call(server: LiveServer, token: str, path: str, *, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(f"{server.url}{path}", data=body, method="POST" if body is not None else "GET",
                                 headers={"Authorization": f"Bearer {token}", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="IMG_0001.jpg"\r\n'
              "Content-Type: image/jpeg\r\n\r\n".encode())
    out.write(photo + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(server: LiveServer, token: str, case: str, photo: bytes, **fields: str) -> dict[str, Any]:
    body, content_type = multipart(fields, photo)
    status, answer = call(server, token, f"/api/incidents/{case}/photos", body=body,
                          headers={"Content-Type": content_type, "Idempotency-Key": uuid.uuid4().hex})
    assert status == 201
    return answer


def test_the_case_page_shows_the_photos_and_opens_the_full_one(browser, server, city):
    token = new_token()
    city.tokens.add(name="phone-app", role="dispatcher", token_hash=hash_token(token))
    report = {"category": "city_appearance", "severity": "general", "description": "楼道堆物", "point": POINT}
    status, created = call(server, token, "/api/incidents", body=json.dumps(report).encode(),
                           headers={"Content-Type": "application/json"})
    assert status == 201
    case = created["id"]
    scene = upload(server, token, case, corpus.jpeg(800, 600, exif=corpus.exif_with_gps()), kind="report")
    extra = upload(server, token, case, corpus.jpeg(640, 480, seed=4), kind="other")

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/desk/cases/{case}")
    page.fill("#name", "zhao.lei")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-case=live]", timeout=10_000)

    box = page.locator("#photos a.ms-photo")
    assert box.count() == 2
    assert [box.nth(i).get_attribute("data-sha256") for i in range(2)] == [scene["sha256"], extra["sha256"]]
    first = box.first.locator("img")
    first.evaluate("img => img.decode()")  # loaded and decodable under the page's policy
    assert first.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [240, 320]  # upright thumbnail
    assert first.get_attribute("src") == scene["thumb_url"] and box.first.get_attribute("href") == scene["url"]
    # The report photo sits in the report's timeline entry; the other photo belongs to no entry.
    entry = page.locator(f"#timeline li[data-seq='{scene['event']}'] a.ms-photo")
    assert entry.count() == 1 and entry.get_attribute("data-sha256") == scene["sha256"]
    assert page.locator("#timeline a.ms-photo").count() == 1

    with context.expect_page() as opened:
        box.first.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url == f"{server.url}{scene['url']}"
    assert full.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]") == [600, 800]
    assert watch.foreign_hosts() == [] and watch.errors == [] and watch.failed == []
    context.close()
