"""Production serving with gunicorn, started from ``mapserver serve``."""

from __future__ import annotations

from typing import Any

from flask import Flask


def run_gunicorn(app: Flask, *, bind: str, workers: int) -> None:
    """Serve ``app`` with gunicorn until stopped; the app is built once and forked into the workers.

    Store connections are opened per process after the fork (both backends
    check the process id), so workers never share a socket.
    """
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                "worker_class": "gthread",
                "threads": 4,
                "timeout": 60,
                "max_requests": 10_000,  # recycle workers now and then so slow leaks cannot pile up
                "max_requests_jitter": 1_000,
                "accesslog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _Server().run()
