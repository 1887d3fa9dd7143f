"""Production serving: ``mapserver serve`` runs gunicorn, or uWSGI (the ``mapserver[uwsgi]`` extra), in this process.

Both fork ``workers`` processes from this one, which made the app. gunicorn is the default: pure Python and actively
maintained, while uWSGI's project is in maintenance mode (bug fixes only); holding long-lived browser connections or
polling from many consoles, as the next features need, is then a matter of gunicorn's worker class (threads, gevent,
or asyncio for an ASGI app), not of another server. Its sync workers answer one request per connection, so no worker
can hoard a client pool's keep-alive connections while the others idle, as its threaded workers can (BENCHMARKS.md);
given more than one thread, gunicorn runs those instead. uWSGI parses HTTP in C and costs less CPU per request
(BENCHMARKS.md): it stays, as an extra, for a machine where that decides.

Store connections are opened per process after the fork (both backends check the process id), so workers
never share a socket. uWSGI forks from C, so it is asked to run Python's after-fork hooks in each worker
(``py-call-osafterfork``): the app's derived data renews its locks there.

Before forking, :func:`prepare_for_workers` builds the grid index in the master and freezes the garbage
collector's view of the heap (``gc.freeze``): every worker starts with the index (shared copy-on-write)
instead of stalling on its first lookup to build its own, and no worker's full collection walks the app's and
the index's objects again (one such collection holds the whole worker; BENCHMARKS.md). The rest of the app's
derived data is built there too (:func:`warm_store_caches`): the road layer's network and the hotspot study areas,
so a worker's first patrol plan or hotspot answer does not build them.
"""

from __future__ import annotations

import gc
import logging
import os
import weakref
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from mapserver.config import ServerKind, Settings
from mapserver.derived import DerivedData, Kind
from mapserver.request_limits import MAX_HEADER_FIELD_BYTES

THREADS_PER_WORKER = 1
"""Request threads in each worker process. One: on a small machine more processes of one thread answered lookups with
a lower p99 and took more reports than fewer processes of more threads, which wait for each other's GIL
(BENCHMARKS.md). More threads keep a slow client (a wall on a weak link, no nginx in front) from holding a whole
process."""

GRACEFUL_STOP_S = 30
"""On SIGTERM, how long requests in flight may take to finish before their worker is killed (seconds)."""

LISTEN_BACKLOG = 1024
"""Connections the kernel queues for the workers (capped by ``net.core.somaxconn``, which uWSGI checks)."""

GUNICORN_OPTIONS: dict[str, Any] = {
    # One request per connection, as under uWSGI: gunicorn's threaded workers keep a client's connection open,
    # and the worker that wakes first accepts a burst of new ones, so one of them can end up serving a whole
    # client pool while the others idle (BENCHMARKS.md). gunicorn itself runs threaded workers when given more
    # than one thread.
    # gunicorn's sync worker, answering a request line or headers past its limits with a problem document
    # (mapserver/gunicorn_workers.py); with more than one thread, its threaded worker likewise (worker_class).
    "worker_class": "mapserver.gunicorn_workers.ProblemSyncWorker",
    "threads": THREADS_PER_WORKER,
    "timeout": 60,  # seconds a worker may stay silent; a bulk lookup of 1,000,000 points takes a few
    "graceful_timeout": GRACEFUL_STOP_S,
    "keepalive": 5,  # seconds an idle connection is kept open by threaded workers (sync workers close each)
    # No recycling: a new worker builds the grid index again, which costs more in pauses and CPU than any slow
    # leak it guards against (bench/bench_lookup_http.py).
    "max_requests": 0,
    "max_requests_jitter": 0,
    "backlog": LISTEN_BACKLOG,
    # The most gunicorn allows short of no limit: past the app's own limit on a URL (MAX_URL_BYTES, a few bytes
    # less), so the app answers up to there and the worker beyond, both with the same problem.
    "limit_request_line": 8190,
    "limit_request_field_size": MAX_HEADER_FIELD_BYTES,
    "accesslog": None,  # mapserver.request logs one JSON line per request instead
    # No control socket for gunicornc: its default is one path per user, which a second server on the machine
    # (another district, a test) takes over, so that gunicornc would then resize or stop the wrong one.
    "control_socket_disable": True,
}
"""gunicorn's settings, for ``mapserver serve`` and for those who run ``gunicorn wsgi:app`` themselves
(:mod:`mapserver.gunicorn_conf`)."""

SERVED_APP: Flask | None = None
"""The app :func:`run_uwsgi` hands to uWSGI (``--module mapserver.serving:SERVED_APP``): made before the fork."""

UWSGI_MISSING = ("uWSGI is not installed: pip install 'mapserver[uwsgi]' for `--server uwsgi`, "
                 "or serve with gunicorn (server.kind: gunicorn, the default)")


def configure_logging() -> None:
    """Log lines as they come (JSON request lines are already structured) to stderr at INFO."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")


STUDY_LAYERS = ("hotspots", "blindspots", "trend")
"""Map layers whose answer is a Gi* over the district's H3 cells at their ``res`` parameter."""

def settle_heap() -> None:
    """Collect garbage once, then exempt every object alive now from later collections (``gc.freeze``).

    For long-lived structures such as the grid index: they are freed by reference counting when replaced,
    but a full collection would otherwise walk all of them each time, pausing the whole process.
    """
    gc.collect()
    gc.freeze()


def study_resolutions(settings: Settings) -> list[int]:
    """The H3 resolutions at which the configuration asks for Gi* over the district's cells: the patrol's hot cells,
    the risk colours' hot cells and the map's hotspot, blind-spot and trend layers; none finer than the incidents'
    stored cells (such answers are refused, so their studies would only take memory)."""
    from layers import configure  # each layer's default res is its module's; imported when asked, as config.py does

    wanted = {settings.patrol.hotspot_res, settings.risk.hot_res}
    wanted |= {int(layer.params["res"]) for layer in configure(settings.map.layers) if layer.name in STUDY_LAYERS}
    return sorted(res for res in wanted if res <= settings.incidents.h3_resolution)


def warmed_before_fork(settings: Settings) -> list[tuple[Kind[Any], tuple[Any, ...]]]:
    """What every worker would otherwise build on first use: the grid index, the road layer's network (a worker's
    first patrol plan) and the hotspot study areas at :func:`study_resolutions`."""
    from mapserver.analysis.study import STUDY
    from mapserver.gridindex import GRID_INDEX
    from mapserver.patrol.networks import LAYER_NETWORK

    return [(GRID_INDEX, (settings.lookup.max_snap_m,)), (LAYER_NETWORK, ()),
            *((STUDY, (res,)) for res in study_resolutions(settings))]


def warm_store_caches(derived: DerivedData, settings: Settings) -> None:
    """Build :func:`warmed_before_fork` in ``derived``. What cannot be built here does not stop the server: the first
    request that needs it builds it and reports what went wrong."""
    derived.warm(warmed_before_fork(settings))


def _renew_locks_in_workers(derived: DerivedData) -> None:
    kept = weakref.ref(derived)  # the hook must not keep an app alive once it is gone

    def renew() -> None:
        found = kept()
        if found is not None:
            found.after_fork()

    os.register_at_fork(after_in_child=renew)


def prepare_for_workers(app: Flask) -> None:
    """In the server's master process, before forking: build what every worker needs, have each worker renew the
    locks of the app's derived data once, then :func:`settle_heap`."""
    state = app.extensions["mapserver"]
    warm_store_caches(state.derived, state.settings)
    _renew_locks_in_workers(state.derived)
    settle_heap()


def worker_class(threads: int) -> str:
    """The gunicorn worker for ``threads`` request threads: the sync one for one thread, else the threaded one (as
    gunicorn itself picks for its own ``sync``), each answering past the request limits with a problem."""
    return GUNICORN_OPTIONS["worker_class"] if threads <= 1 else "mapserver.gunicorn_workers.ProblemThreadWorker"


def gunicorn_settings(*, bind: str, workers: int, threads: int = THREADS_PER_WORKER) -> dict[str, Any]:
    """gunicorn's settings for serving on ``bind`` (``host:port``): :data:`GUNICORN_OPTIONS` and these."""
    return {**GUNICORN_OPTIONS, "bind": [bind], "workers": workers, "threads": threads, "preload_app": True,
            "worker_class": worker_class(threads)}


class EmbeddedGunicorn(BaseApplication):
    """gunicorn serving an app made in this process, rather than one it imports from a module path."""

    def __init__(self, app: Flask, settings: dict[str, Any]) -> None:
        self.flask_app, self.gunicorn_settings = app, settings
        super().__init__()  # reads the settings: load_config

    def load_config(self) -> None:
        for name, value in self.gunicorn_settings.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.flask_app


def run_gunicorn(app: Flask, *, bind: str, workers: int, threads: int = THREADS_PER_WORKER) -> None:
    """Serve ``app`` with gunicorn's master in this process until stopped (SIGTERM: requests in flight finish)."""
    EmbeddedGunicorn(app, gunicorn_settings(bind=bind, workers=workers, threads=threads)).run()


def uwsgi_arguments(*, bind: str, workers: int, threads: int = THREADS_PER_WORKER) -> list[str]:
    """uWSGI's command line for serving :data:`SERVED_APP` on ``bind`` (``host:port``)."""
    return [
        "--strict",  # an option uWSGI does not know is an error, not a warning lost in the banner
        "--master", "--need-app", "--single-interpreter",
        "--http-socket", bind,
        "--module", f"{__name__}:SERVED_APP",  # already imported here, so the app made before the fork is used
        "--processes", str(workers), "--threads", str(threads), "--enable-threads", "--thunder-lock",
        "--py-call-osafterfork",  # os.register_at_fork hooks run in each worker, as after os.fork()
        "--listen", str(min(LISTEN_BACKLOG, _somaxconn())),
        # One request per connection, said so: a client that kept the connection for another request would
        # find it closed (GDAL's curl reported "connection reset"), and a thread kept for an idle client
        # would be a thread fewer for requests. Behind nginx this is nginx's default towards upstreams too.
        "--add-header", "Connection: close",
        # Request line and headers, and the WSGI variables made of them (the URL twice, as REQUEST_URI and
        # QUERY_STRING): the most uWSGI takes, so that a request past the app's limits (mapserver.request_limits)
        # still reaches the app whole and gets its 414 or 431 problem rather than losing its query string.
        "--buffer-size", "65535",
        "--disable-logging",  # mapserver.request logs one JSON line per request instead
        "--hook-master-start", "unix_signal:15 gracefully_kill_them_all",  # SIGTERM: finish requests, then stop
        # Workers ignore SIGTERM (set once each is ready to accept, after uWSGI has set its own handlers): a
        # service manager sends it to every process at once (systemd's default KillMode=control-group), and a
        # worker took its own as "exit now", dropping its requests in flight; the master's graceful stop then
        # ran uWSGI's exit path again inside the first one, and the worker locked up in free() for good.
        # The master alone turns SIGTERM into the graceful stop of every worker.
        "--hook-accepting", "callint:sigignore 15",
        "--worker-reload-mercy", str(GRACEFUL_STOP_S), "--reload-mercy", str(GRACEFUL_STOP_S),
    ]


def _somaxconn() -> int:
    try:
        return int(Path("/proc/sys/net/core/somaxconn").read_text())
    except (OSError, ValueError):  # not Linux: uWSGI does not check it there
        return LISTEN_BACKLOG


def run_uwsgi(app: Flask, *, bind: str, workers: int, threads: int = THREADS_PER_WORKER) -> None:
    """Serve ``app`` with uWSGI's master in this process until stopped (SIGTERM: requests in flight finish)."""
    import pyuwsgi

    global SERVED_APP
    SERVED_APP = app
    pyuwsgi.run(uwsgi_arguments(bind=bind, workers=workers, threads=threads))


def check_server(kind: ServerKind) -> None:
    """Raise :class:`~mapserver.StartupError` naming the extra to install when ``kind`` is not installed."""
    from importlib.util import find_spec

    from mapserver import StartupError

    if kind == "uwsgi" and find_spec("pyuwsgi") is None:
        raise StartupError(UWSGI_MISSING)


def run_server(app: Flask, *, kind: ServerKind = "gunicorn", bind: str, workers: int,
               threads: int = THREADS_PER_WORKER) -> None:
    """Serve ``app`` with ``kind`` until stopped; the app is built once, here, and forked into the workers."""
    check_server(kind)
    configure_logging()
    prepare_for_workers(app)
    serve = run_uwsgi if kind == "uwsgi" else run_gunicorn
    serve(app, bind=bind, workers=workers, threads=threads)
