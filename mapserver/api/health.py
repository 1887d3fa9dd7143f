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
