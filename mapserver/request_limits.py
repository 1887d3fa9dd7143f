"""How long a URL and how large the headers of a request may be, the same under every server, and the problem
answered past them.

A request whose target (path and query, as sent) is longer than :data:`MAX_URL_BYTES` is answered 414, and one
with a header field longer than :data:`MAX_HEADER_FIELD_BYTES` or headers longer than :data:`MAX_HEADER_BYTES` in
all 431, each as ``application/problem+json`` naming the limit. The app checks this itself (:class:`RequestLimits`,
around the WSGI app), so the answer is the same under gunicorn, uWSGI and werkzeug; gunicorn's own parser stops
longer request lines earlier and its workers answer them with the same problem
(:mod:`mapserver.gunicorn_workers`). uWSGI drops a query string that does not fit its packet without a word (a
20 KB URL then read as one without a query): a target whose query the server lost is answered 414 too. uWSGI
closes a request larger than its 64 KB buffer without an answer: nothing inside the process can answer it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from mapserver.errors import PROBLEM_MIME

MAX_URL_BYTES = 8000
"""The longest request target (path and query string, as sent), in bytes."""
MAX_HEADER_FIELD_BYTES = 8190
"""The longest header field (name, colon, space and value), in bytes: gunicorn's own limit."""
MAX_HEADER_BYTES = 16384
"""All header fields of a request together, in bytes."""

StartResponse = Callable[..., Any]


def problem_bytes(status: int, detail: str, **members: Any) -> bytes:
    """An RFC 9457 problem document as UTF-8 JSON."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **members}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def url_too_long(length: int | None) -> bytes:
    """The 414 problem's body."""
    sent = f"{length:,} bytes" if length is not None else "longer than this server reads"
    return problem_bytes(414, f"the URL (path and query) is {sent}; this server takes at most {MAX_URL_BYTES:,} "
                              "bytes: send fewer or shorter parameters", limit_bytes=MAX_URL_BYTES)


def headers_too_large(detail: str) -> bytes:
    """The 431 problem's body."""
    return problem_bytes(431, f"{detail}; this server takes header fields of at most {MAX_HEADER_FIELD_BYTES:,} "
                              f"bytes each and {MAX_HEADER_BYTES:,} bytes in all",
                         limit_bytes=MAX_HEADER_BYTES, field_limit_bytes=MAX_HEADER_FIELD_BYTES)


def _target(environ: dict[str, Any]) -> tuple[str, bool]:
    """The request target as the client sent it, and whether the server lost its query string on the way."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    query = environ.get("QUERY_STRING", "")
    if raw is None:
        return environ.get("PATH_INFO", "") + (f"?{query}" if query else ""), False
    sent_query = raw.partition("?")[2]
    return raw, bool(sent_query) and not query


def _header_sizes(environ: dict[str, Any]) -> Iterable[int]:
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            yield len(key.removeprefix("HTTP_")) + 2 + len(str(value).encode("latin-1", "replace"))


class RequestLimits:
    """WSGI middleware: 414 and 431 problems for requests past the limits, before the app reads them."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target, lost_query = _target(environ)
        length = len(target.encode("latin-1", "replace"))
        if length > MAX_URL_BYTES or lost_query:
            return _answer(start_response, 414, url_too_long(length))
        sizes = list(_header_sizes(environ))
        if sizes and max(sizes) > MAX_HEADER_FIELD_BYTES:
            return _answer(start_response, 431, headers_too_large(f"a header field is {max(sizes):,} bytes"))
        if sum(sizes) > MAX_HEADER_BYTES:
            return _answer(start_response, 431, headers_too_large(f"the headers are {sum(sizes):,} bytes"))
        return self.app(environ, start_response)


def _answer(start_response: StartResponse, status: int, body: bytes) -> list[bytes]:
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", PROBLEM_MIME), ("Content-Length", str(len(body)))])
    return [body]
