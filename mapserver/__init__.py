"""A GIS map server for grid-governance command centres (网格化管理, 综治中心).

:func:`create_app` is the only place an application is built; importing this
package builds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from mapserver.config import Settings
    from mapserver.store import Store


class StartupError(Exception):
    """The server cannot start; the message says why and what to do."""


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Flask:
    """Build the Flask app from settings (default: ``load_settings()``) and an open store.

    Raises :class:`~mapserver.config.ConfigError`, :class:`StartupError` or
    :class:`~mapserver.store.StoreUnavailable` with a message fit for an operator.
    """
    from flask import Flask

    from mapserver.api import register_blueprints
    from mapserver.api.params import refuse_nul_in_url
    from mapserver.api.problems import register_error_handlers
    from mapserver.app_state import AppState
    from mapserver.auth import authorize
    from mapserver.config import PROJECT_ROOT, load_settings
    from mapserver.read_routing import register_read_routing
    from mapserver.requestlog import register_request_log
    from mapserver.store import open_store
    from mapserver.store.database import SCHEMA_VERSION
    from mapserver.store.migrations import schema_mismatch

    settings = settings or load_settings()
    if store is None:
        store = open_store(settings.store.url, pool_max=settings.store.pool_max,
                           connect_timeout_s=settings.store.connect_timeout_s, read_urls=settings.store.read_url,
                           max_replica_lag_s=settings.store.max_replica_lag_s)
    if mismatch := schema_mismatch(store.schema_version(), SCHEMA_VERSION, store.display_url):
        raise StartupError(mismatch)

    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "static"), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = int(settings.server.max_request_mb * 1024 * 1024)
    app.json.ensure_ascii = False  # Chinese names stay readable in responses
    app.extensions["mapserver"] = AppState(settings=settings, store=store)
    if settings.server.trusted_proxies:  # the client's address for logs, from the proxy's X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    from mapserver.request_limits import RequestLimits

    # Outermost: a URL or headers past the limits get their problem whichever server runs the app.
    app.wsgi_app = RequestLimits(app.wsgi_app)  # type: ignore[method-assign]
    register_request_log(app)  # first, so even a refused request gets an id and a log line
    app.before_request(authorize)
    register_read_routing(app)  # after authorize: tokens and sessions are read from the primary
    # PostgreSQL text cannot hold NUL: refuse it in any URL before a view hands it to the store (else a 500).
    app.before_request(refuse_nul_in_url)
    register_error_handlers(app)
    register_blueprints(app)
    return app
