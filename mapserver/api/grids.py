"""Grid-level views beyond plain listing: the topology check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from mapserver.app_state import state, store
from mapserver.auth import request_jurisdiction
from mapserver.parsing import reject_unknown
from mapserver.topology import check_grids, is_clean

bp = Blueprint("grids", __name__, url_prefix="/api/grids")


@bp.get("/check")
def check() -> dict[str, Any]:
    """Gaps and overlaps per level, children outside their parent, household warnings (areas in m²), over the
    grids of the asker's jurisdiction (its grid and those below it: gaps are holes in its own grid)."""
    reject_unknown(request.args, ())
    report = check_grids(store().layers.query("grids", within=request_jurisdiction()),
                         households=state().settings.grids.households_per_base_grid)
    return {"clean": is_clean(report), **report}
