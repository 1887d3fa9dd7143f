"""``mapserver serve`` as shipped (uWSGI in front of the app): what the in-process tests cannot see.

One server for the module: SQLite, the hand-made nested grids of tests/test_gridindex.py (WGS-84 degrees),
2 workers × 2 threads, a 1 MB request limit. It checks what passes through uWSGI's own HTTP handling: files
sent through the server's file wrapper, bodies over the limit, a streamed answer, problem documents, request
ids, HEAD, GDAL's OGC client, and a graceful stop with a request still in flight.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mapserver.auth import hash_token, new_token
from mapserver.gridindex import GridIndex
from mapserver.store import open_store
from tests.test_cli import free_port, wait_for
from tests.test_gridindex import BD_SW, STAFF, make_grids

ROOT = Path(__file__).resolve().parents[1]
LEAFLET = ROOT / "static" / "vendor" / "leaflet" / "leaflet.js"


class Served:
    def __init__(self, base: str, token: str, process: subprocess.Popen, db: str) -> None:
        self.base, self.token, self.process, self.db = base, token, process, db

    def request(self, path: str, *, method: str = "GET", data: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body; error statuses are answers too."""
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def _start(tmp: Path, *, own_group: bool = False) -> Served:
    db = tmp / "served.db"
    store = open_store(f"sqlite:///{db}")
    store.migrate()
    store.layers.add("grids", make_grids())
    store.layers.add("grid_staff", STAFF)
    token = new_token()
    store.tokens.add(name="desk", role="operator", token_hash=hash_token(token))
    store.close()
    config = tmp / "config.yaml"
    config.write_text(f"store:\n  url: sqlite:///{db}\nserver:\n  max_request_mb: 1\n", encoding="utf-8")
    port = free_port()
    exe = Path(sys.executable).parent / "mapserver"
    process = subprocess.Popen([exe, "--config", config, "serve", "--port", str(port), "--workers", "2",
                                "--threads", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=own_group)
    base = f"http://127.0.0.1:{port}"
    if wait_for(f"{base}/healthz", seconds=60) is None:
        process.kill()
        raise AssertionError(f"the server did not answer: {process.communicate(timeout=10)[0][-3000:]}")
    return Served(base, token, process, f"sqlite:///{db}")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    server = _start(tmp_path_factory.mktemp("uwsgi"))
    yield server
    if server.process.poll() is None:
        server.process.terminate()
        server.process.communicate(timeout=60)


def test_a_vendored_script_arrives_byte_for_byte(served):
    status, headers, body = served.request("/static/vendor/leaflet/leaflet.js")
    assert status == 200 and body == LEAFLET.read_bytes()
    assert headers["content-type"].startswith("text/javascript") and int(headers["content-length"]) == len(body)


def test_head_answers_without_a_body(served):
    status, headers, body = served.request("/healthz", method="HEAD")
    assert status == 200 and body == b"" and headers["content-type"] == "application/json"


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


def _stop(server: Served, whole_group: bool) -> None:
    if whole_group:  # as systemd stops a service by default (KillMode=control-group): every process at once
        os.killpg(server.process.pid, signal.SIGTERM)
    else:
        server.process.send_signal(signal.SIGTERM)


@pytest.mark.parametrize("whole_group", [False, True], ids=["master", "every-process"])
def test_sigterm_lets_a_request_in_flight_finish_then_stops(tmp_path, whole_group):
    server = _start(tmp_path, own_group=whole_group)
    body = b"lon,lat\n" + b"114.601,33.601\n" * 1000
    head = (f"POST /api/lookup/bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])), timeout=30) as client:
        client.sendall(head + body[:100])  # a slow client: the worker is now reading this request
        time.sleep(0.5)
        _stop(server, whole_group)
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
