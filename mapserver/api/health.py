"""``GET /healthz``: is the server up, which store, which schema, how many rows."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint

from mapserver.auth import public
from mapserver.state import store

bp = Blueprint("health", __name__)


def package_version() -> str:
    """The installed version of this package."""
    try:
        return version("mapserver")
    except PackageNotFoundError:
        return "0+unknown"


@bp.get("/healthz")
@public
def healthz() -> dict:
    current = store()
    return {
        "status": "ok",
        "store": current.kind,
        "schema_version": current.schema_version(),
        "counts": current.counts(),
        "version": package_version(),
    }


@bp.get("/readyz")
@public
def readyz() -> dict:
    """Ready to serve: the store answers and its schema is the one this code needs (else 503)."""
    from mapserver.errors import Problem
    from mapserver.store.base import SCHEMA_VERSION

    try:
        found = store().schema_version()
    except Problem as exc:  # the database is down: say so as not-ready rather than as an error of ours
        raise Problem(503, f"the store does not answer: {exc.detail}", headers={"Retry-After": "5"}) from None
    if found != SCHEMA_VERSION:
        raise Problem(503, f"the store has schema version {found}; this server needs {SCHEMA_VERSION}")
    return {"ready": True, "store": store().kind}
