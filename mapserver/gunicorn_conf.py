"""gunicorn settings for running ``wsgi:app`` directly: ``gunicorn -c python:mapserver.gunicorn_conf wsgi:app``
(``mapserver serve`` runs gunicorn with the same settings in its own process).

The listen address, worker count and threads per worker come from ``MAPSERVER_BIND`` (default
127.0.0.1:8000), ``MAPSERVER_WORKERS`` (default 2 per core) and ``MAPSERVER_THREADS`` (default 1); everything else
is :data:`mapserver.serving.GUNICORN_OPTIONS`.
"""

import os
from typing import Any

from mapserver.serving import GUNICORN_OPTIONS, configure_logging, prepare_for_workers
from mapserver.serving import worker_class as worker_class_for

bind = os.environ.get("MAPSERVER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MAPSERVER_WORKERS", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("MAPSERVER_THREADS", str(GUNICORN_OPTIONS["threads"])))
worker_class = worker_class_for(threads)
timeout = GUNICORN_OPTIONS["timeout"]
graceful_timeout = GUNICORN_OPTIONS["graceful_timeout"]
keepalive = GUNICORN_OPTIONS["keepalive"]
max_requests = GUNICORN_OPTIONS["max_requests"]
max_requests_jitter = GUNICORN_OPTIONS["max_requests_jitter"]
backlog = GUNICORN_OPTIONS["backlog"]
limit_request_line = GUNICORN_OPTIONS["limit_request_line"]
limit_request_field_size = GUNICORN_OPTIONS["limit_request_field_size"]
accesslog = GUNICORN_OPTIONS["accesslog"]
control_socket_disable = GUNICORN_OPTIONS["control_socket_disable"]
preload_app = True  # the app, its store check and its grid index are made once, in the master (see when_ready)


def on_starting(server: object) -> None:
    """Set up logging in the master before the workers fork."""
    configure_logging()


def when_ready(server: Any) -> None:
    """In the master, with the app loaded and before any worker forks: build the grid index, freeze the heap."""
    prepare_for_workers(server.app.wsgi())
