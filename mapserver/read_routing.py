"""Which requests may read from a standby (``store.read_url``), and reading one's own writes from the primary.

A GET of one of :data:`STALE_TOLERANT` (the wall's data, panels and vector tiles, heat, hotspots, trends, coverage,
risk, measures, layers, the OGC API, exports, the weekly bulletin) runs inside :meth:`Store.stale_reads`: its reads
outside a transaction may come from a standby at most ``store.max_replica_lag_s`` behind. Every other request
(writes, the desk, case pages, accounts, token and session checks) reads from the primary.

After a write (a POST, PUT, PATCH or DELETE answered below 400) the writer's requests read from the primary for
:func:`own_writes_window_s` seconds, so a person sees what they just did: the answer carries a cookie saying until
when (any node honours it, so it holds behind a load balancer), and this process also remembers it by the
token or person (for a client that keeps no cookies but comes back to the same process). The window is the lag a
standby may have plus the second its lag is measured in, plus a second for the clocks of two machines: a standby
used after it has replayed the write.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

from flask import Flask, Response, g, request

from mapserver.app_state import AppState

STALE_TOLERANT: frozenset[str] = frozenset({
    "screen.page", "screen.screen_layer", "screen.screen_measures", "screen.screen_grid", "screen.screen_panels",
    "tiles.layer_tile", "tiles.ground_tile",
    "analysis.heat_cells", "analysis.hotspots", "analysis.hotspot_trend", "analysis.camera_coverage",
    "analysis.risk_colours", "incidents.kpis", "scorecards.table",
    "layers.list_features", "layers.get_feature", "cameras.list_cameras", "cameras.online_rate",
    "export.download", "reports.weekly",
    "ogc.landing", "ogc.conformance", "ogc.collections", "ogc.collection", "ogc.items", "ogc.item", "ogc.queryables",
})
"""The endpoints whose answers may be a little stale: served from a standby when one is near enough."""

COOKIE = "mapserver_primary_until"
"""The cookie holding until when (Unix seconds) its holder's reads go to the primary."""
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REMEMBERED_MAX = 10_000  # writers remembered by this process at most; beyond, the expired ones are dropped


def own_writes_window_s(max_replica_lag_s: float) -> float:
    """Seconds a writer's reads stay on the primary after a write (see the module docstring)."""
    return max_replica_lag_s + 2.0


class _Writers:
    """Until when (Unix seconds) each token or person's reads go to the primary, in this process."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def wrote(self, key: tuple[str, str], until: float) -> None:
        with self._lock:
            if len(self._until) >= _REMEMBERED_MAX:
                now = time.time()
                self._until = {k: v for k, v in self._until.items() if v > now}
            self._until[key] = until

    def fresh(self, key: tuple[str, str]) -> bool:
        return self._until.get(key, 0.0) > time.time()


def register_read_routing(app: Flask) -> None:
    """Route the stale-tolerant requests of ``app`` to standbys (after :func:`~mapserver.auth.authorize`, which
    reads the token or session from the primary), and keep a writer's reads on the primary for a while."""
    app_state: AppState = app.extensions["mapserver"]
    if not app_state.store.replica_lags():  # no standbys: nothing to route (checked once, at start)
        return
    store, window = app_state.store, own_writes_window_s(app_state.settings.store.max_replica_lag_s)
    writers = _Writers()

    def principal_key() -> tuple[str, str] | None:
        principal = g.get("principal")
        return None if principal is None else (principal.kind, principal.name)

    def own_write_recent() -> bool:
        try:
            if float(request.cookies.get(COOKIE, "0")) > time.time():
                return True
        except ValueError:
            pass  # not a number: not ours
        key = principal_key()
        return key is not None and writers.fresh(key)

    def enter() -> None:
        if request.endpoint in STALE_TOLERANT and request.method == "GET" and not own_write_recent():
            stack = ExitStack()
            stack.enter_context(store.stale_reads())
            g.stale_reads = stack

    def mark_writer(response: Response) -> Response:
        if request.method in WRITES and response.status_code < 400:
            until = time.time() + window
            key = principal_key()
            if key is not None:
                writers.wrote(key, until)
            response.set_cookie(COOKIE, f"{until:.3f}", max_age=int(window) + 1, httponly=True, samesite="Lax",
                                secure=request.is_secure)
        return response

    def leave(_exc: BaseException | None) -> None:
        stack = g.pop("stale_reads", None)
        if stack is not None:
            stack.close()

    app.before_request(enter)
    app.after_request(mark_writer)
    app.teardown_request(leave)
