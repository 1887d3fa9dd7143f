"""``GET /healthz``: is the server up, which store, which schema, how many rows; ``GET /readyz``: may it serve."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint

from mapserver.app_state import store

bp = Blueprint("health", __name__)


def package_version() -> str:
    """The installed version of this package."""
    try:
        return version("mapserver")
    except PackageNotFoundError:
        return "0+unknown"


@bp.get("/healthz")
def healthz() -> dict:
    current = store()
    answer = {
        "status": "ok",
        "store": current.kind,
        "schema_version": current.schema_version(),
        "counts": current.counts(),
        "version": package_version(),
    }
    if lags := current.replica_lags():  # standbys of store.read_url: each one's last lag (s), None = not usable
        answer["replicas"] = lags
    return answer


@bp.get("/readyz")
def readyz() -> dict:
    """Ready to serve: the store answers and its schema is the one this code needs (else 503).

    Says which worker process answered (``pid``) and, on PostGIS, the server process of the database
    connection that answered (``backend_pid``): distinct workers must show distinct backends, as each
    opens its own connections after the fork.
    """
    from mapserver.errors import Problem
    from mapserver.store.database import SCHEMA_VERSION, StoreUnavailable

    try:
        found, backend = store().ping()
    except Problem as exc:  # the database is down: say so as not-ready rather than as an error of ours
        raise Problem(503, f"the store does not answer: {exc.detail}", headers={"Retry-After": "5"}) from None
    except StoreUnavailable as exc:  # a store this program cannot read (made before its baseline, or by another)
        raise Problem(503, f"the store cannot serve: {exc}") from None
    if found != SCHEMA_VERSION:
        raise Problem(503, f"the store has schema version {found}; this server needs {SCHEMA_VERSION}")
    return {"ready": True, "store": store().kind, "pid": os.getpid(), "backend_pid": backend}
