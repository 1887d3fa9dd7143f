"""Analysis over HTTP: heat per H3 cell, Getis-Ord Gi* hotspots on cells or grids, their trends (emerging
hotspots), camera coverage of hot cells and grid risk colours.

Times are ISO 8601 (without an offset: local time in ``incidents.timezone``);
``until`` is exclusive. Counts are incidents; centres and hexagons are WGS-84
degrees. Bad parameters are 400 problems naming the parameter; a window with
no incidents is an empty (or all-zero) answer, not an error.

Every answer counts the incidents of the asker's jurisdiction only (the store's queries carry it), and the
cells of Gi* are those of the jurisdiction's area; grids are those inside it, so a grid ``level`` coarser than
the jurisdiction's is a 422.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, request

from mapserver.analysis import trend
from mapserver.analysis.cells import MAX_RES, MIN_RES
from mapserver.analysis.coverage import coverage
from mapserver.analysis.heat import heat
from mapserver.analysis.hotspots import cell_hotspots, grid_hotspots
from mapserver.analysis.risk import grid_risk, risk_summary
from mapserver.analysis.study import study_for
from mapserver.app_state import derived, state, store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.incidents.lifecycle import STATUSES
from mapserver.model import GRID_LEVELS, SEVERITIES
from mapserver.parsing import parse_bbox, parse_choice, parse_int, parse_time, reject_unknown
from mapserver.store.incidents import IncidentFilter, grid_or_division

bp = Blueprint("analysis", __name__, url_prefix="/api")

HEAT_PARAMS = ("since", "until", "category", "severity", "status", "grid", "res", "bbox", "geometry")
HOTSPOT_PARAMS = ("since", "until", "category", "res", "level", "geometry", "significant")
TREND_PARAMS = ("periods", "period", "until", "category", "incident_category", "res", "confidence", "geometry")


def _filter(*, with_severity_status: bool) -> IncidentFilter:
    """The incident filter of the query string inside the asker's jurisdiction; 400 when since is not before
    until."""
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
                          category=parse_choice("category", args.get("category"), settings.categories),
                          within=request_jurisdiction(), **extra)


def _grid_level(default: int) -> int:
    """The ``level`` of the grids to answer for (``default`` when not given, or the jurisdiction's own when that
    is finer); 422 for a level coarser than the asker's jurisdiction, whose grids do not lie inside it."""
    within = request_jurisdiction()
    given = request.args.get("level")
    level = int(parse_int("level", given, default=max(default, within.level or 0), low=min(GRID_LEVELS),
                          high=max(GRID_LEVELS)))
    if within.level is not None and level < within.level:
        raise Problem(422, f"level {level} grids are larger than your jurisdiction {within.name} ({within.code}, "
                           f"level {within.level}); ask for level {within.level}–{max(GRID_LEVELS)}", param="level")
    return level


def _res() -> int:
    default = min(max(state().settings.incidents.h3_resolution, MIN_RES), MAX_RES)
    return int(parse_int("res", request.args.get("res"), default=default, low=MIN_RES, high=MAX_RES))


def _representable(end: datetime, span: timedelta) -> bool:
    """Whether ``end − span`` is a date the stores can hold (year 1 and up)."""
    return end - datetime.min.replace(tzinfo=UTC) > span


def _geometry() -> bool:
    return parse_choice("geometry", request.args.get("geometry"), ("true", "false")) == "true"


@bp.get("/heat")
def heat_cells() -> dict[str, Any]:
    """Incidents per H3 cell (of one grid's with ``grid``): ``cells`` {cell: count}, or hexagon Features with
    ``geometry=true``."""
    reject_unknown(request.args, HEAT_PARAMS)
    # A grid or a division, inside the jurisdiction.
    where = replace(_filter(with_severity_status=True), **grid_or_division(store().divisions, request.args.get("grid")))
    return heat(store(), where=where, res=_res(), bbox=parse_bbox(request.args.get("bbox")), geometry=_geometry())


@bp.get("/hotspots")
def hotspots() -> dict[str, Any]:
    """Gi* z, p, FDR q and class per district cell at ``res``, or per base grid of ``level`` (not both)."""
    reject_unknown(request.args, HOTSPOT_PARAMS)
    where = _filter(with_severity_status=False)
    significant = parse_choice("significant", request.args.get("significant"), ("true", "false")) == "true"
    if "level" in request.args:
        if "res" in request.args:
            raise Problem(400, "give res (H3 cells) or level (grids), not both", param="level")
        return grid_hotspots(store(), where=where, level=_grid_level(min(GRID_LEVELS)), significant=significant)
    res, geometry = _res(), _geometry()
    return cell_hotspots(store(), study_for(derived(), res, where.within), where=where, geometry=geometry,
                         significant=significant)


@bp.get("/hotspots/trend")
def hotspot_trend() -> dict[str, Any]:
    """Emerging hotspots over the latest periods ending at ``until`` (default now): each cell of a category other
    than none (or of ``category``), and how many cells fell in each; hexagon Features with ``geometry=true``."""
    reject_unknown(request.args, TREND_PARAMS)
    args, settings = request.args, state().settings.incidents
    until = parse_time("until", args.get("until"), zone=settings.timezone) or datetime.now(UTC)
    periods = int(parse_int("periods", args.get("periods"), default=8, low=trend.MIN_PERIODS, high=trend.MAX_PERIODS))
    period = parse_choice("period", args.get("period"), trend.PERIOD_LENGTHS) or "week"
    if not _representable(until, trend.PERIOD_LENGTHS[period] * periods):
        raise Problem(400, f"until {until.isoformat()} leaves no room for {periods} periods before it", param="until")
    res = _res()
    category = parse_choice("category", args.get("category"), trend.CATEGORIES)
    confidence = int(parse_choice("confidence", args.get("confidence"), map(str, trend.CONFIDENCES)) or 95)
    incident_category = parse_choice("incident_category", args.get("incident_category"), settings.categories)
    geometry = _geometry()  # every parameter checked before the study is built (seconds, the first time)
    within = request_jurisdiction()
    answer = trend.emerging_hotspots(store(), study_for(derived(), res, within), until=until, periods=periods,
                                     period=period, category=category, confidence=confidence,
                                     incident_category=incident_category, within=within)
    return answer.feature_collection() if geometry else answer.to_json()


@bp.get("/grids/risk")
def risk_colours() -> dict[str, Any]:
    """Red / yellow / green per base grid of ``level`` at ``as_of`` (default now), with reasons and figures."""
    reject_unknown(request.args, ("level", "as_of"))
    settings = state().settings
    level = _grid_level(settings.risk.level)
    as_of = parse_time("as_of", request.args.get("as_of"), zone=settings.incidents.timezone) or datetime.now(UTC)
    if not _representable(as_of, timedelta(days=settings.risk.window_days)):
        raise Problem(400, f"as_of {as_of.isoformat()} leaves no room for the {settings.risk.window_days}-day window",
                      param="as_of")
    within = request_jurisdiction()
    risks = grid_risk(store(), study_for(derived(), settings.risk.hot_res, within), settings.risk, level=level,
                      as_of=as_of, within=within)
    return {"type": "FeatureCollection", "level": level, "as_of": as_of.isoformat(),
            "window_days": settings.risk.window_days, "colours": risk_summary(risks),
            "features": [r.to_feature() for r in risks]}


@bp.get("/coverage")
def camera_coverage() -> dict[str, Any]:
    """Share of hot cells covered by online cameras now, and the blind spots ranked by z then count: of the
    asker's jurisdiction (its incidents, cells and cameras)."""
    reject_unknown(request.args, ("since", "until", "category", "res"))
    where = _filter(with_severity_status=False)
    return coverage(store(), study_for(derived(), _res(), where.within), where=where, now=datetime.now(UTC),
                    offline_after_s=state().settings.cameras.offline_after_s)
