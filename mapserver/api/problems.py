"""Problems rendered for the web: every error raised while serving a request becomes ``application/problem+json``.

The core raises :class:`~mapserver.errors.Problem`; :func:`register_error_handlers` maps it, and every werkzeug
HTTP error, to an RFC 9457 response here, so no view needs a try/except of its own.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from mapserver.errors import PROBLEM_MIME, Problem

log = logging.getLogger(__name__)

DRAIN_REFUSED_BODY_BYTES = 64 * 1024 * 1024
"""How much of a refused request body is read and thrown away before the 413 is sent (bytes).

A server that answers before reading the body and then closes the socket makes the kernel reset the connection,
and a client still sending (urllib, requests, GDAL's curl) reports "broken pipe" instead of the 413 and its
reason. Reading the rest, up to this bound, lets the answer arrive; beyond it, the connection is dropped.
"""


def problem_response(problem: Problem) -> Response:
    """Serialise a :class:`Problem` as ``application/problem+json``."""
    body = problem.to_dict()
    body["instance"] = request.path if request else None
    resp = Response(json.dumps(body, ensure_ascii=False), status=problem.status, mimetype=PROBLEM_MIME)
    for key, value in problem.headers.items():
        resp.headers[key] = value
    return resp


def _from_http_exception(exc: HTTPException) -> Problem:
    status = exc.code or 500
    detail = exc.description or HTTPStatus(status).phrase
    headers: dict[str, str] = {}
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None) or []
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
            detail = f"{request.method} is not allowed on {request.path}; allowed: {', '.join(sorted(allowed))}"
    if status == 404:
        detail = f"no resource at {request.path}"
    if status == 413 and exc.response is None and request.max_content_length:
        sent = f"{request.content_length:,} bytes" if request.content_length is not None else "more"
        detail = (f"the request body is {sent}; this server accepts at most {request.max_content_length:,} bytes "
                  "(server.max_request_mb)")
    return Problem(status, detail, headers=headers)


def register_error_handlers(app: Flask) -> None:
    """Route every error raised while serving a request to a problem response."""

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if exc.code == 413:
            drain_request_body(request.environ)
        return problem_response(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug, not the client's fault: log the traceback, tell the client little.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem(500, "internal error; the server log has the details"))


def drain_request_body(environ: dict[str, Any], *, limit: int = DRAIN_REFUSED_BODY_BYTES) -> int:
    """Read and discard what is left of the request body, at most ``limit`` bytes; return how many were read.

    Only a body whose end the server marks is read: one with a ``Content-Length``, or a chunked one that the
    server de-chunks (``wsgi.input_terminated``); reading past the end of anything else could block.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return 0
    try:
        declared = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return 0
    if declared < 0 and not environ.get("wsgi.input_terminated"):
        return 0
    left = min(declared, limit) if declared >= 0 else limit
    read = 0
    try:
        while left > 0:
            chunk = stream.read(min(left, 1 << 16))
            if not chunk:
                break
            read += len(chunk)
            left -= len(chunk)
    except (OSError, ValueError):  # the client went away: nothing more to do for it
        pass
    return read
