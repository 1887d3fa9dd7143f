"""One structured log line per request, with a request id the client may pass in ``X-Request-Id``.

Lines are JSON (method, path, status, duration in milliseconds, the name of
the token or person the request acted as, client address, request id) on the ``mapserver.request`` logger, so an
intranet's log collector can parse them; the id comes back in the response's
``X-Request-Id`` header to tie a user's report to the server's log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time

from flask import Flask, Response, g, request

log = logging.getLogger("mapserver.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # a client's id is echoed only if it cannot forge log lines


def _new_id() -> str:
    """A random request id (32 hex digits, as a UUID4's hex, without building a UUID)."""
    return os.urandom(16).hex()


def _start() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _SAFE_ID.match(given) else _new_id()
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    # The request and g are read through their proxies once (each proxied read is a context lookup).
    req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
    request_id = ctx.get("request_id") or _new_id()
    response.headers["X-Request-Id"] = request_id
    principal, started = ctx.get("principal"), ctx.get("started")
    log.info(json.dumps({
        "request_id": request_id, "method": req.method, "path": req.path, "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 2) if started is not None else 0.0,
        "principal": principal.name if principal else None, "client": req.remote_addr,
    }, ensure_ascii=False))
    return response


def register_request_log(app: Flask) -> None:
    """Give every request an id and log one JSON line when it is answered."""
    app.before_request(_start)
    app.after_request(_finish)
