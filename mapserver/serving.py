"""Production serving with gunicorn: ``mapserver serve``, or ``gunicorn -c python:mapserver.gunicorn_conf wsgi:app``.

Store connections are opened per process after the fork (both backends check
the process id), so workers never share a socket; gthread workers let slow
clients (a wall on a weak link) not hold a whole process.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

GUNICORN_OPTIONS: dict[str, Any] = {
    "worker_class": "gthread",
    "threads": 4,
    "timeout": 60,  # seconds; a bulk lookup of 1,000,000 points takes a few
    "graceful_timeout": 30,
    "keepalive": 5,
    # No recycling: a new worker rebuilds the grid index (0.4 s for a district, 3–4 s for a city), which
    # cost more in pauses and CPU than any slow leak it guards against (bench/bench_lookup_http.py).
    "max_requests": 0,
    "max_requests_jitter": 0,
    "accesslog": None,  # mapserver.request logs one JSON line per request instead
}


def configure_logging() -> None:
    """Log lines as they come (JSON request lines are already structured) to stderr at INFO."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")


def run_gunicorn(app: Flask, *, bind: str, workers: int) -> None:
    """Serve ``app`` with gunicorn until stopped; the app is built once and forked into the workers."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {**GUNICORN_OPTIONS, "bind": bind, "workers": workers}.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    configure_logging()
    _Server().run()
