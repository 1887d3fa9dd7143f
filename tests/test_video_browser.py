"""Video linkage in a real browser: Debian's headless Chromium, driven by Playwright, against a live server, with a
live HLS stream made for the test by Debian's ffmpeg (a test pattern, H.264 in MPEG-TS segments) and served by a
local HTTP server on another port, as an intranet video platform would serve it.

A camera clicked on the wall plays in the video panel (the video element's time advances); a camera whose stream
server has stopped shows the offline message, and the page goes on working; a case lists the cameras whose view
covers it (checked by this file's own sector test), each one click from its video; a role without video rights is
offered no video and asks no stream host for anything. One live server, one stream and one browser per module.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.model import Camera, CameraVideo
from mapserver.store import open_store
from mapserver.video.settings import VideoSettings
from tests import samples
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.browser.shots import PAGE, readme_shot
from tests.logins import PASSWORD, add_person, login_settings

FFMPEG = "/usr/bin/ffmpeg"
STREAM_S = 12  # seconds of test pattern: the tests watch two of them
COVERED = {"lon": 114.6105, "lat": 33.61}  # inside the view of the sample camera at (114.61, 33.61)
LIVE, DEAD = samples.CAMERAS  # the first plays; the second's stream server has stopped


def make_stream(folder: Path) -> None:
    """A few seconds of ffmpeg's test pattern as an HLS playlist of 1 s MPEG-TS segments, H.264 Constrained
    Baseline (what cameras and GB/T 28181 gateways send; Debian's Chromium plays it), and a snapshot."""
    assert Path(FFMPEG).exists(), f"{FFMPEG} is missing: apt-get install ffmpeg (scripts/test does)"
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=640x360:rate=25:duration={STREAM_S}", "-c:v", "libx264", "-profile:v",
                    "baseline", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-sc_threshold", "0",
                    "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(folder / "seg%03d.ts"), str(folder / "index.m3u8")],
                   check=True, timeout=60)
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=1:duration=1", "-frames:v", "1", str(folder / "snapshot.jpg")],
                   check=True, timeout=60)


class _StreamFiles(SimpleHTTPRequestHandler):
    """The video platform's HTTP answers: the stream's files, readable by pages of another origin (CORS)."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args: Any) -> None:  # quiet: the test reads the browser's requests instead
        pass


class StreamServer:
    """The stream's folder over HTTP on 127.0.0.1 at a free port, until :meth:`stop`."""

    def __init__(self, folder: Path) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_StreamFiles, directory=str(folder)))
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StreamServer, str]]:
    """The live stream's server, and the origin of a stream server that has stopped (its port refuses)."""
    folder = tmp_path_factory.mktemp("hls")
    make_stream(folder)
    live = StreamServer(folder)
    stopped = StreamServer(folder)
    stopped.stop()
    yield live, stopped.origin
    live.stop()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory, streams) -> Iterator[Any]:
    live, dead = streams
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('video-city') / 'city.db'}")
    store.migrate()
    samples.load_all(store)
    store.cameras.heartbeats([LIVE.code], at=datetime.now(UTC))
    store.camera_video.set(CameraVideo(LIVE.code, f"{live.origin}/index.m3u8", f"{live.origin}/snapshot.jpg"),
                           at=datetime.now(UTC))
    store.camera_video.set(CameraVideo(DEAD.code, f"{dead}/index.m3u8"), at=datetime.now(UTC))
    add_person(store, "zhang.wei", role="dispatcher")
    add_person(store, "wang.fang", role="operator")
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(city, streams) -> Iterator[LiveServer]:
    live, dead = streams
    settings = login_settings(city).model_copy(update={"video": VideoSettings(stream_origins=[live.origin, dead])})
    server = LiveServer(create_app(settings, store=city))
    yield server
    server.stop()


def token(city, role: str) -> str:
    secret = new_token()
    city.tokens.add(name=f"{role}-{secret[-6:]}", role=role, token_hash=hash_token(secret))
    return secret


def wait_until(page, script: str, timeout_s: float = 10.0) -> None:
    """Poll a JS function until it returns true (the pages' CSP rightly forbids evaluating strings in them)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not true within {timeout_s} s: {script}")


def open_wall(browser, server: LiveServer, secret: str, query: str = "", viewport=SCREEN) -> tuple[Any, Watch]:
    page = browser.new_context(viewport=viewport).new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}/?token={secret}{query}")
    page.wait_for_selector("html[data-screen=live]", timeout=15_000)
    return page, watch


def click_camera(page, camera: Camera) -> None:
    """Centre the wall on the camera at street zoom and click its dot."""
    page.evaluate("([lon, lat]) => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                  " window[cfg.map].setView([lat, lon], 17, {animate: false}); }", [camera.geom.x, camera.geom.y])
    page.wait_for_timeout(800)
    xy = page.evaluate("([lon, lat]) => { const cfg = JSON.parse(document.getElementById('screen-config').textContent);"
                       " const m = window[cfg.map]; const p = m.latLngToContainerPoint([lat, lon]);"
                       " const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
                       [camera.geom.x, camera.geom.y])
    page.mouse.click(*xy)


def open_camera(page, camera: Camera) -> None:
    """Click the camera until its video panel names it: its dot comes with its tile, which a busy machine may not
    have drawn by the first click."""
    title = f"() => document.querySelector('.ms-video .ms-video-title')?.textContent === {json.dumps(camera.name)}"
    for _ in range(4):
        click_camera(page, camera)
        for _ in range(30):
            if page.evaluate(title):
                return
            page.wait_for_timeout(100)
    raise AssertionError(f"the video panel never named {camera.name}")


def video_state(page) -> str | None:
    return page.evaluate("() => document.querySelector('.ms-video')?.dataset.videoState ?? null")


def assert_plays(page) -> None:
    """The panel says it is live and the video's time advances by over a second in 1.5 s."""
    wait_until(page, "() => document.querySelector('.ms-video')?.dataset.videoState === 'playing'", 30)
    before = page.evaluate("() => document.querySelector('.ms-video video').currentTime")
    page.wait_for_timeout(1500)
    after = page.evaluate("() => document.querySelector('.ms-video video').currentTime")
    assert after - before > 1.0, (before, after)
    assert page.evaluate("() => document.querySelector('.ms-video video').videoWidth") == 640


def stream_requests(watch: Watch, origin: str) -> list[str]:
    return [u for u in watch.requests if u.startswith(origin)]


def test_a_camera_clicked_on_the_wall_plays_its_live_stream(browser, server, city, streams):
    live, _ = streams
    page, watch = open_wall(browser, server, token(city, "viewer"), viewport=PAGE)  # the README's picture's size
    open_camera(page, LIVE)
    page.wait_for_selector(".ms-card .ms-title", timeout=5_000)
    assert_plays(page)
    assert any(u.endswith(".ts") for u in stream_requests(watch, live.origin))  # segments, straight from the platform
    assert watch.foreign_hosts() == [] and watch.failed == [] and watch.errors == [], (watch.failed, watch.errors)
    readme_shot(page, "video.jpg")
    # Closed, it lets the stream go.
    page.click(".ms-video-close")
    assert video_state(page) == "closed" and page.locator(".ms-video").is_hidden()
    page.context.close()


def test_a_stopped_stream_shows_the_offline_message_and_the_page_goes_on(browser, server, city, streams):
    _, dead = streams
    page, watch = open_wall(browser, server, token(city, "viewer"))
    open_camera(page, DEAD)
    wait_until(page, "() => document.querySelector('.ms-video')?.dataset.videoState === 'offline'", 12)
    assert page.locator(".ms-video-message").inner_text() == "视频离线或无法连接，请稍后重试或联系视频平台。"
    assert page.locator(".ms-video-retry").is_visible()
    assert stream_requests(watch, dead)  # it was tried, and refused
    # The wall lives on: the card shows the camera, the next camera plays.
    assert page.locator(".ms-card .ms-title").inner_text() == DEAD.name
    open_camera(page, LIVE)  # named by the panel first: the offline camera's state is not the next one's
    assert_plays(page)
    assert page.evaluate("() => document.documentElement.dataset.screen") == "live"
    assert [e for e in watch.errors if dead.split("//")[1] not in e and "ERR_CONNECTION_REFUSED" not in e] == []
    assert all(dead in f for f in watch.failed), watch.failed
    page.context.close()

    # In English too.
    page, _ = open_wall(browser, server, token(city, "viewer"), "&lang=en")
    open_camera(page, DEAD)
    wait_until(page, "() => document.querySelector('.ms-video')?.dataset.videoState === 'offline'", 12)
    assert page.locator(".ms-video-message").inner_text().startswith("The stream is offline or unreachable")
    page.context.close()


def sees(camera: Camera, lon: float, lat: float) -> bool:
    """Whether the camera's view covers (lon, lat): plane trigonometry on a local equirectangular plane."""
    east = math.radians(lon - camera.geom.x) * 6_371_000 * math.cos(math.radians(lat))
    north = math.radians(lat - camera.geom.y) * 6_371_000
    if math.hypot(east, north) > (camera.range_m or 50.0):
        return False
    if camera.direction_deg is None or camera.fov_deg is None:
        return True
    bearing = math.degrees(math.atan2(east, north)) % 360
    return abs((bearing - camera.direction_deg + 180) % 360 - 180) <= camera.fov_deg / 2


def report(server: LiveServer, city) -> str:
    body = {"category": "fire_hazard", "severity": "urgent", "description": "楼道堆物", "point": COVERED}
    req = urllib.request.Request(f"{server.url}/api/incidents", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token(city, 'operator')}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["id"]


def logged_in(browser, server, name: str, path: str) -> tuple[Any, Watch]:
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    watch = Watch().attach(page)
    page.goto(f"{server.url}{path}")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-case=live]", timeout=10_000)
    return page, watch


def test_a_case_lists_the_cameras_that_see_it_one_click_from_their_video(browser, server, city, streams):
    live, _ = streams
    case = report(server, city)
    page, watch = logged_in(browser, server, "zhang.wei", f"/desk/cases/{case}")
    page.locator("#cameras-covering li[data-code]").first.wait_for(timeout=5_000)
    listed = page.locator("#cameras-covering li[data-code]").evaluate_all("(items) => items.map((i) => i.dataset.code)")
    assert listed == [c.code for c in city.layers.query("cameras") if sees(c, COVERED["lon"], COVERED["lat"])]
    assert listed == [LIVE.code]
    page.click(f"#cameras-covering button[data-play='{LIVE.code}']")
    assert_plays(page)
    assert stream_requests(watch, live.origin) and watch.foreign_hosts() == []
    assert watch.failed == [] and watch.errors == [], (watch.failed, watch.errors)
    page.context.close()


def test_a_role_without_video_rights_is_offered_no_video(browser, server, city, streams):
    live, dead = streams
    case = report(server, city)
    page, watch = logged_in(browser, server, "wang.fang", f"/desk/cases/{case}")
    page.locator("#cameras li[data-code]").first.wait_for(timeout=5_000)
    assert page.locator("[data-play]").count() == 0
    page.context.close()
    page, watch = open_wall(browser, server, token(city, "operator"))
    click_camera(page, LIVE)
    page.wait_for_selector(".ms-card .ms-title", timeout=5_000)
    page.wait_for_timeout(500)
    assert page.locator(".ms-video").count() == 0
    assert not stream_requests(watch, live.origin) and not stream_requests(watch, dead)
    assert watch.errors == []
    page.context.close()
