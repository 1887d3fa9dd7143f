"""Grid-level views beyond plain listing: the topology check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from mapserver.app_state import store
from mapserver.parsing import reject_unknown
from mapserver.topology import check_grids, is_clean

bp = Blueprint("grids", __name__, url_prefix="/api/grids")


@bp.get("/check")
def check() -> dict[str, Any]:
    """Gaps and overlaps per level, children outside their parent, household warnings (areas in m²)."""
    reject_unknown(request.args, ())
    report = check_grids(store().layers.query("grids"))
    return {"clean": is_clean(report), **report}
