"""GDAL's OAPIF driver reads every OGC collection: ``ogrinfo`` (Debian ``gdal-bin``) against a live server.

The app runs in a real HTTP server (werkzeug, a thread, a free loopback port)
on each backend, loaded with ``tests/samples.py`` plus enough addresses to
need several pages (the driver asks for 10 features a page). ``ogrinfo``
sends the viewer token through ``GDAL_HTTP_HEADERS`` (GDAL ≥ 3.6). A missing
``ogrinfo`` fails the test: a skipped client is not a pass.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest
from shapely.geometry import Point
from werkzeug.serving import make_server

from mapserver.model import Address
from mapserver.ogc.collections import COLLECTIONS
from tests import samples

LAYER_RE = re.compile(r"^Layer name: (\S+)$", re.MULTILINE)
COUNT_RE = re.compile(r"^Feature Count: (-?\d+)$", re.MULTILINE)


@pytest.fixture
def server(app, store) -> Iterator[str]:
    """The app served on 127.0.0.1 at a free port, in a daemon thread; yields the base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def _counts(output: str) -> dict[str, int]:
    """Layer name → feature count from ``ogrinfo -so`` output (each layer's block in order)."""
    blocks = re.split(r"(?=^Layer name: )", output, flags=re.MULTILINE)
    counts = {}
    for block in blocks:
        name, count = LAYER_RE.search(block), COUNT_RE.search(block)
        if name:
            assert count, block[:500]
            counts[name.group(1)] = int(count.group(1))
    return counts


def _store_count(store, collection_id: str) -> int:
    item = COLLECTIONS[collection_id]
    return store.layers.count(item.layer, where=item.where)


def test_ogrinfo_reads_every_collection_with_its_count(server, store, tokens):
    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "ogrinfo is missing: install Debian's gdal-bin (scripts/test does)"
    samples.load_all(store)
    store.layers.add("addresses", [Address(code=f"B{i:03d}", text=f"七一路{i}号", geom=Point(114.62 + i / 1000, 33.62))
                                   for i in range(23)])
    result = subprocess.run(
        [ogrinfo, "-ro", "-al", "-so", f"OAPIF:{server}/ogc",
         "--config", "GDAL_HTTP_HEADERS", f"Authorization: {tokens['viewer']['Authorization']}",
         "--config", "GDAL_HTTP_TIMEOUT", "30"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr, result.stderr
    counts = _counts(result.stdout)
    assert list(counts) == list(COLLECTIONS)
    assert counts == {cid: _store_count(store, cid) for cid in COLLECTIONS}
    assert counts["addresses"] == 24 and counts["grids_level4"] == 0


def test_ogrinfo_without_a_token_is_refused(server):
    result = subprocess.run([shutil.which("ogrinfo") or "ogrinfo", "-ro", "-so", f"OAPIF:{server}/ogc"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and "401" in result.stderr
