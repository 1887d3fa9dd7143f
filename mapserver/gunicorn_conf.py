"""gunicorn settings for running ``wsgi:app`` directly: ``gunicorn -c python:mapserver.gunicorn_conf wsgi:app``
(``mapserver serve`` runs gunicorn with the same settings in its own process).

The listen address and worker count come from ``MAPSERVER_BIND`` (default
127.0.0.1:8000) and ``MAPSERVER_WORKERS`` (default 2 per core); everything else
is :data:`mapserver.serving.GUNICORN_OPTIONS`.
"""

import os
from typing import Any

from mapserver.serving import GUNICORN_OPTIONS, configure_logging, prepare_for_workers

bind = os.environ.get("MAPSERVER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MAPSERVER_WORKERS", str(2 * (os.cpu_count() or 1))))
worker_class = GUNICORN_OPTIONS["worker_class"]
threads = GUNICORN_OPTIONS["threads"]
timeout = GUNICORN_OPTIONS["timeout"]
graceful_timeout = GUNICORN_OPTIONS["graceful_timeout"]
keepalive = GUNICORN_OPTIONS["keepalive"]
max_requests = GUNICORN_OPTIONS["max_requests"]
max_requests_jitter = GUNICORN_OPTIONS["max_requests_jitter"]
backlog = GUNICORN_OPTIONS["backlog"]
limit_request_line = GUNICORN_OPTIONS["limit_request_line"]
accesslog = GUNICORN_OPTIONS["accesslog"]
control_socket_disable = GUNICORN_OPTIONS["control_socket_disable"]
preload_app = True  # the app, its store check and its grid index are made once, in the master (see when_ready)


def on_starting(server: object) -> None:
    """Set up logging in the master before the workers fork."""
    configure_logging()


def when_ready(server: Any) -> None:
    """In the master, with the app loaded and before any worker forks: build the grid index, freeze the heap."""
    prepare_for_workers(server.app.wsgi())
