"""The request limits of mapserver/request_limits.py under each server `mapserver serve` runs (gunicorn, uWSGI) and
in the app itself: a URL past 8,000 bytes gets a 414 problem, headers past theirs a 431 problem, each naming the
limit; never an HTML page, a reset connection, or an answer to the request without its query string."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from mapserver.request_limits import MAX_HEADER_BYTES, MAX_HEADER_FIELD_BYTES, MAX_URL_BYTES
from tests.served import KINDS, Served, start_server

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=KINDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp(request.param), request.param, workers=1)
    yield server
    server.stop()


def _raw(served: Served, target: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request over a plain socket (no client library trims or refuses it): status, headers, body."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                     + served.token.encode() + b"\r\n" + extra + b"Connection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _url(length: int) -> bytes:
    start = b"/ogc/collections/roads/items?limit=1&filter="
    return start + b"a" * (length - len(start))


@pytest.mark.parametrize("length", [MAX_URL_BYTES + 1, 9_000, 20_000, 60_000])
def test_a_long_url_is_a_414_problem_naming_the_limit(served, length):
    status, headers, body = _raw(served, _url(length))
    assert status == 414 and headers["content-type"] == PROBLEM, body[:200]
    problem = json.loads(body)
    assert problem["status"] == 414 and problem["limit_bytes"] == MAX_URL_BYTES
    assert f"{MAX_URL_BYTES:,} bytes" in problem["detail"]


def test_a_url_at_the_limit_reaches_the_app_whole(served):
    status, headers, body = _raw(served, _url(MAX_URL_BYTES))
    # The app saw the filter (the whole query string) and said what is wrong with it.
    assert status == 400 and headers["content-type"] == PROBLEM
    assert json.loads(body)["param"] == "filter"


@pytest.mark.parametrize("size", [MAX_HEADER_FIELD_BYTES + 100, 20_000, 60_000])
def test_a_large_header_is_a_431_problem_naming_the_limits(served, size):
    status, headers, body = _raw(served, b"/ogc", b"X-Big: " + b"a" * size + b"\r\n")
    assert status == 431 and headers["content-type"] == PROBLEM, body[:200]
    problem = json.loads(body)
    assert problem["limit_bytes"] == MAX_HEADER_BYTES and problem["field_limit_bytes"] == MAX_HEADER_FIELD_BYTES


def test_many_headers_past_the_total_are_431(served):
    extra = b"".join(b"X-Part-%d: %s\r\n" % (k, b"b" * 4000) for k in range(5))
    status, headers, body = _raw(served, b"/ogc", extra)
    assert status == 431 and headers["content-type"] == PROBLEM and b"in all" in body


def test_the_app_applies_the_limits_itself(client, tokens):
    resp = client.get("/ogc/collections/roads/items?filter=" + "a" * MAX_URL_BYTES, headers=tokens["viewer"])
    assert resp.status_code == 414 and resp.mimetype == PROBLEM and resp.get_json()["limit_bytes"] == MAX_URL_BYTES
    resp = client.get("/ogc", headers={**tokens["viewer"], "X-Big": "a" * MAX_HEADER_FIELD_BYTES})
    assert resp.status_code == 431 and resp.mimetype == PROBLEM
