"""Production serving with gunicorn: ``mapserver serve``, or ``gunicorn -c python:mapserver.gunicorn_conf wsgi:app``.

Store connections are opened per process after the fork (both backends check
the process id), so workers never share a socket; gthread workers let slow
clients (a wall on a weak link) not hold a whole process.

Before forking, :func:`prepare_for_workers` builds the grid index in the master
and freezes the garbage collector's view of the heap (``gc.freeze``): every
worker starts with the index (shared copy-on-write) instead of stalling 0.6–0.8 s
on its first lookup to build its own, and no worker's full collection walks the
~190,000 objects of a district's app and index again (one such collection held a
worker for 114 ms; frozen, a worker tracks ~3,500; bench/bench_lookup_http.py).
"""

from __future__ import annotations

import gc
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


PREPARE_BEFORE_FORK = True
"""Build the grid index and freeze the heap in the master (False: each worker builds its own on first use)."""


def settle_heap() -> None:
    """Collect garbage once, then exempt every object alive now from later collections (``gc.freeze``).

    For long-lived structures such as the grid index: they are freed by reference counting when replaced,
    but a full collection would otherwise walk all of them each time, pausing the whole process.
    """
    gc.collect()
    gc.freeze()


def prepare_for_workers(app: Flask) -> None:
    """In the gunicorn master, before forking: build what every worker needs, then :func:`settle_heap`.

    A grid index that cannot be built here does not stop the server: the workers build it on first use
    and report the error to the request that needs it, as they would without this step.
    """
    if not PREPARE_BEFORE_FORK:
        return
    try:
        app.extensions["mapserver"].grid_index()
    except Exception:  # any failure is the lookup's to report, not a reason to refuse health checks and the map
        logging.getLogger("mapserver").exception("grid index not built before the fork; workers will build it")
    settle_heap()


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
    prepare_for_workers(app)
    _Server().run()
