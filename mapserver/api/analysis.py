"""Analysis over HTTP: heat per H3 cell, Getis-Ord Gi* hotspots on cells or grids, camera coverage of hot cells.

Times are ISO 8601 (without an offset: local time in ``incidents.timezone``);
``until`` is exclusive. Counts are incidents; centres and hexagons are WGS-84
degrees. Bad parameters are 400 problems naming the parameter; a window with
no incidents is an empty (or all-zero) answer, not an error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from mapserver.analysis.cells import MAX_RES, MIN_RES
from mapserver.analysis.coverage import coverage
from mapserver.analysis.heat import heat
from mapserver.analysis.hotspots import cell_hotspots, grid_hotspots
from mapserver.api.params import parse_bbox, parse_choice, parse_int, parse_time, reject_unknown
from mapserver.errors import Problem
from mapserver.incidents.lifecycle import STATUSES
from mapserver.model import GRID_LEVELS, SEVERITIES
from mapserver.state import state, store
from mapserver.store.incident_store import IncidentFilter

bp = Blueprint("analysis", __name__, url_prefix="/api")

HEAT_PARAMS = ("since", "until", "category", "severity", "status", "res", "bbox", "geometry")
HOTSPOT_PARAMS = ("since", "until", "category", "res", "level", "geometry")


def _filter(*, with_severity_status: bool) -> IncidentFilter:
    """The incident filter of the query string; 400 when since is not before until."""
    args, settings = request.args, state().settings.incidents
    since = parse_time("since", args.get("since"), zone=settings.timezone)
    until = parse_time("until", args.get("until"), zone=settings.timezone)
    if since is not None and until is not None and since >= until:
        raise Problem(400, f"since ({since.isoformat()}) must be before until ({until.isoformat()})", param="since")
    extra: dict[str, Any] = {}
    if with_severity_status:
        extra = {"severity": parse_choice("severity", args.get("severity"), SEVERITIES),
                 "status": parse_choice("status", args.get("status"), STATUSES)}
    return IncidentFilter(since=since, until=until,
                          category=parse_choice("category", args.get("category"), settings.categories), **extra)


def _res() -> int:
    default = min(max(state().settings.incidents.h3_resolution, MIN_RES), MAX_RES)
    return int(parse_int("res", request.args.get("res"), default=default, low=MIN_RES, high=MAX_RES))


def _geometry() -> bool:
    return parse_choice("geometry", request.args.get("geometry"), ("true", "false")) == "true"


@bp.get("/heat")
def heat_cells() -> dict[str, Any]:
    """Incidents per H3 cell: ``cells`` {cell: count}, or hexagon Features with ``geometry=true``."""
    reject_unknown(request.args, HEAT_PARAMS)
    where = _filter(with_severity_status=True)
    return heat(store(), where=where, res=_res(), bbox=parse_bbox(request.args.get("bbox")), geometry=_geometry())


@bp.get("/hotspots")
def hotspots() -> dict[str, Any]:
    """Gi* z, p, FDR q and class per district cell at ``res``, or per base grid of ``level`` (not both)."""
    reject_unknown(request.args, HOTSPOT_PARAMS)
    where = _filter(with_severity_status=False)
    if "level" in request.args:
        if "res" in request.args:
            raise Problem(400, "give res (H3 cells) or level (grids), not both", param="level")
        level = int(parse_int("level", request.args.get("level"), low=min(GRID_LEVELS), high=max(GRID_LEVELS)))
        return grid_hotspots(store(), where=where, level=level)
    return cell_hotspots(store(), where=where, res=_res(), geometry=_geometry())


@bp.get("/coverage")
def camera_coverage() -> dict[str, Any]:
    """Share of hot cells covered by online cameras now, and the blind spots ranked by z then count."""
    reject_unknown(request.args, ("since", "until", "category", "res"))
    where = _filter(with_severity_status=False)
    return coverage(store(), where=where, res=_res(), now=datetime.now(UTC),
                    offline_after_s=state().settings.cameras.offline_after_s)
