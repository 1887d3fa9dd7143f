"""``mapserver serve`` under each server it runs (gunicorn, the default; uWSGI, the ``mapserver[uwsgi]`` extra):
what the in-process tests cannot see.

One server of each kind for the module (tests/served.py: SQLite, the hand-made nested grids of tests/test_gridindex.py
in WGS-84 degrees, 2 workers) with a 1 MB request limit. It checks what passes through the server's own HTTP
handling: files sent through its file wrapper, bodies over the limit, a streamed answer, problem documents, request
ids, HEAD, GDAL's OGC client, and a graceful stop with a request still in flight.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mapserver.gridindex import GridIndex
from mapserver.store import open_store
from tests.served import KINDS, Served, start_server
from tests.test_gridindex import BD_SW

ROOT = Path(__file__).resolve().parents[1]
LEAFLET = ROOT / "static" / "vendor" / "leaflet" / "leaflet.js"


@pytest.fixture(scope="module", params=KINDS)
def served(request, tmp_path_factory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp(request.param), request.param, server_config="  max_request_mb: 1\n")
    yield server
    server.stop()


def test_a_vendored_script_arrives_byte_for_byte(served):
    status, headers, body = served.request("/static/vendor/leaflet/leaflet.js")
    assert status == 200 and body == LEAFLET.read_bytes()
    assert headers["content-type"].startswith("text/javascript") and int(headers["content-length"]) == len(body)


def test_head_answers_without_a_body(served):
    status, headers, body = served.request("/healthz", method="HEAD")
    assert status == 200 and body == b"" and headers["content-type"] == "application/json"


def test_a_request_line_of_6_kb_is_answered(served):
    # gunicorn's default limit is 4,094 bytes; a bbox and filters of many OGC or map queries pass it
    status, _, body = served.request("/healthz?" + "pad=" + "x" * 6000)
    assert status == 200 and json.loads(body)["status"] == "ok"


@pytest.mark.parametrize("rows", [80_000, 600_000])  # 1.2 MB and 8.4 MB against a 1 MB limit
def test_a_body_over_the_limit_is_refused_with_413_and_the_server_goes_on(served, rows):
    # The larger body is more than the sockets' buffers hold: unless the server reads what it refuses, the
    # client is still sending when the connection is closed and sees "broken pipe" instead of the 413.
    big = b"lon,lat\n" + b"114.601,33.601\n" * rows
    status, headers, body = served.request("/api/incidents", method="POST", data=big,
                                           headers={"Content-Type": "application/json"})
    assert status == 413 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["detail"] == (f"the request body is {len(big):,} bytes; this server accepts at most "
                                          "1,048,576 bytes (server.max_request_mb)")
    status, headers, body = served.request("/api/lookup?lon=114.601&lat=33.601")
    assert status == 200 and json.loads(body)["grid"]["code"] == BD_SW


def test_a_bulk_lookup_streams_every_point_in_order(served):
    rng = np.random.default_rng(5)
    # the coordinates as sent, 7 decimals, so that the expected answer is for the same points
    lons = np.round(rng.uniform(114.595, 114.625, 20_000), 7)
    lats = np.round(rng.uniform(33.595, 33.625, 20_000), 7)
    sent = "lon,lat\n" + "".join(f"{x:.7f},{y:.7f}\n" for x, y in zip(lons, lats, strict=True))
    status, headers, body = served.request("/api/lookup/bulk", method="POST", data=sent.encode(),
                                           headers={"Content-Type": "text/csv"})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    store = open_store(served.db)
    try:
        expected = GridIndex.from_store(store).assign(lons, lats)
    finally:
        store.close()
    assert len(rows) == 20_000 == int(headers["x-points"])
    assert [r["grid_code"] for r in rows] == expected.tolist()


def test_bad_input_gets_a_problem_document_with_its_request_id(served):
    status, headers, body = served.request("/api/lookup?lon=abc&lat=33.6", headers={"X-Request-Id": "desk-7"})
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"] == "desk-7" and "lon" in json.loads(body)["detail"]


def test_gdal_reads_the_collections_through_the_server(served):
    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "ogrinfo is missing: install Debian's gdal-bin (scripts/test does)"
    result = subprocess.run([ogrinfo, "-ro", "-so", f"OAPIF:{served.base}/ogc", "--config", "GDAL_HTTP_HEADERS",
                             f"Authorization: Bearer {served.token}"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr
    assert "grids" in result.stdout


@pytest.mark.parametrize("every_process", [False, True], ids=["master", "every-process"])
@pytest.mark.parametrize("kind", KINDS)
def test_sigterm_lets_a_request_in_flight_finish_then_stops(tmp_path, kind, every_process):
    server = start_server(tmp_path, kind, own_group=every_process)
    body = b"lon,lat\n" + b"114.601,33.601\n" * 1000
    head = (f"POST /api/lookup/bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(head + body[:100])  # a slow client: the worker is now reading this request
        time.sleep(0.5)
        server.sigterm(every_process=every_process)
        time.sleep(1.0)
        assert server.process.poll() is None  # still waiting for the request in flight
        client.sendall(body[100:])
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    output, _ = server.process.communicate(timeout=60)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert answer.count(BD_SW.encode()) == 1000
    assert server.process.returncode == 0, output[-2000:]
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{server.base}/healthz", timeout=2)
