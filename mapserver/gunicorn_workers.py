"""gunicorn's workers, answering a request line or header past gunicorn's limits with the app's problem document.

gunicorn stops a request line longer than its ``limit_request_line`` and a header field longer than
``limit_request_field_size`` before the app sees them, and answers with an HTML page of its own. These workers
answer ``application/problem+json`` instead, naming the limits of :mod:`mapserver.request_limits` (which the app
applies to whatever gunicorn lets through), so every refusal of the server reads alike. Everything else is
gunicorn's.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from mapserver.errors import PROBLEM_MIME
from mapserver.request_limits import headers_too_large, url_too_long


class ProblemAnswers:
    """A mixin for gunicorn workers: 414 and 431 as problem documents."""

    log: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, LimitRequestLine):
            status, body = 414, url_too_long(None)
        elif isinstance(exc, LimitRequestHeaders):
            status, body = 431, headers_too_large("a header field or the headers are too large")
        else:
            super().handle_error(req, client, addr, exc)  # type: ignore[misc]
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nConnection: close\r\n"
                f"Content-Type: {PROBLEM_MIME}\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1")
        try:
            util.write_nonblock(client, head + body)  # as gunicorn sends its own error pages
        except OSError:
            self.log.debug("Failed to send the problem to a refused request.")


class ProblemSyncWorker(ProblemAnswers, SyncWorker):
    """gunicorn's sync worker (one request per connection), with problem answers."""


class ProblemThreadWorker(ProblemAnswers, ThreadWorker):
    """gunicorn's threaded worker, with problem answers."""
