"""The wall that README command (1) serves, in a real browser: the demo city (川汇区, seed 1, incidents up to now)
in the embedded store under the shipped config.yaml, opened with a viewer's token at 1920×1080 in Debian's headless
Chromium. Its layers, measures and panels draw from this server only, the panels' figures are the API's, and a
camera clicked plays its live stream (ffmpeg's test pattern, as in tests/test_video_browser.py). The README's
picture of the wall (static/screen/overview.jpg) is taken here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import load_settings
from mapserver.demo import build_city, load_city
from mapserver.model import Camera, CameraVideo
from mapserver.store import open_store
from mapserver.video.settings import VideoSettings
from tests.browser.live import SCREEN, LiveServer, Watch
from tests.browser.shots import readme_shot
from tests.test_video_browser import StreamServer, assert_plays, make_stream, open_camera

SHIPPED = Path(__file__).resolve().parents[1] / "config.yaml"


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamServer]:
    folder = tmp_path_factory.mktemp("demo-hls")
    make_stream(folder)
    live = StreamServer(folder)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, stream: StreamServer) -> Iterator[tuple[Any, Camera]]:
    """The store `scripts/serve` makes on first start, and its one online camera given the test's stream."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo-wall') / 'mapserver.db'}")
    store.migrate()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    load_city(store, build_city(seed=1, scale="district", as_of=now), progress=False)
    cameras = store.layers.query("cameras")
    names = Counter(c.name for c in cameras)
    # One alone at its crossing: several cameras at one spot would take the click in turn.
    camera = next(c for c in cameras if names[c.name] == 1 and
                  not any(o is not c and o.geom.distance(c.geom) < 0.0005 for o in cameras))
    store.cameras.heartbeats([camera.code], at=datetime.now(UTC))
    store.camera_video.set(CameraVideo(camera.code, f"{stream.origin}/index.m3u8"), at=datetime.now(UTC))
    yield store, camera
    store.close()


@pytest.fixture(scope="module")
def server(demo, stream: StreamServer) -> Iterator[LiveServer]:
    store, _ = demo
    shipped = load_settings(SHIPPED, env={"MAPSERVER_STORE": store.url})
    settings = shipped.model_copy(update={"video": VideoSettings(stream_origins=[stream.origin])})
    live = LiveServer(create_app(settings, store=store))
    yield live
    live.stop()


def test_the_demo_citys_wall_draws_its_panels_and_plays_a_cameras_video(browser, server, demo):
    store, camera = demo
    secret = new_token()
    store.tokens.add(name=f"wall-{secret[-6:]}", role="viewer", token_hash=hash_token(secret))
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    watch = Watch().attach(page)
    try:
        page.goto(f"{server.url}/?token={secret}")
        page.wait_for_selector("html[data-screen=live]", timeout=30_000)
        page.wait_for_selector(".ms-feed-item", timeout=30_000)
        # The feed holds the newest cases the API names, in its order; the charts are drawn.
        panels = page.evaluate("async () => (await fetch('/api/screen/panels', { credentials: 'same-origin' }))"
                               ".json()")
        shown = page.evaluate("() => [...document.querySelectorAll('.ms-feed-item')].map((li) => li.dataset.id)")
        assert shown and shown == [case["id"] for case in panels["feed"]][:len(shown)]
        for name in ("trend", "categories", "sources"):
            assert page.locator(f".ms-chart-{name} svg text").count() > 0, name

        home = page.evaluate("() => { const m = window[JSON.parse(document.getElementById('screen-config')"
                             ".textContent).map]; const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }")
        open_camera(page, camera)
        assert_plays(page)
        assert watch.foreign_hosts() == []  # the stream's server is this machine's too
        assert watch.failed == [] and watch.errors == [], (watch.failed, watch.errors)
        # Back to the whole district, the video playing on.
        page.evaluate("([lat, lon, zoom]) => window[JSON.parse(document.getElementById('screen-config').textContent)"
                      ".map].setView([lat, lon], zoom, { animate: false })", home)
        page.wait_for_timeout(1500)
        assert page.evaluate("() => document.querySelector('.ms-video').dataset.videoState") == "playing"
        readme_shot(page, "overview.jpg")
    finally:
        context.close()
