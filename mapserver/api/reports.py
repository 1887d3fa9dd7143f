"""``GET /api/reports/weekly?week=2026-W47[&lang=en][&level=3]``: the weekly bulletin as one HTML page (viewer).

The same page as ``mapserver bulletin``, for the asker's jurisdiction: its incidents, its area and the grids in
it (a ``level`` coarser than the jurisdiction's is a 422). A malformed week, a week its year does
not have, or one not yet begun is a 422 problem naming ``week``. The page's
Content-Security-Policy allows its own inline style sheet (by hash) and nothing
else: no script, no fetch, no image from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from flask import Blueprint, Response, request

from mapserver.app_state import derived, state
from mapserver.auth import request_jurisdiction
from mapserver.bulletin.render import style_sheet
from mapserver.bulletin.week import parse_week
from mapserver.bulletin.weekly import HOT_GRID_LEVELS, weekly_bulletin
from mapserver.bulletin.words import LANGS
from mapserver.errors import Problem
from mapserver.parsing import parse_choice, parse_int, reject_unknown

bp = Blueprint("reports", __name__, url_prefix="/api/reports")
PARAMS = ("week", "lang", "level")


def page_policy() -> str:
    """No source at all but the page's own style sheet, named by its SHA-256."""
    digest = base64.b64encode(hashlib.sha256(style_sheet().encode("utf-8")).digest()).decode("ascii")
    return "; ".join(["default-src 'none'", f"style-src 'sha256-{digest}'", "base-uri 'none'",
                      "form-action 'none'", "frame-ancestors 'self'"])


@bp.get("/weekly")
def weekly() -> Response:
    """The bulletin of one ISO week against the four before it."""
    reject_unknown(request.args, PARAMS)
    settings = state().settings
    now = datetime.now(UTC)
    week = parse_week(request.args.get("week"), zone=settings.map.timezone, now=now)
    lang = parse_choice("lang", request.args.get("lang"), LANGS) or settings.map.lang
    within = request_jurisdiction()
    level = parse_int("level", request.args.get("level"), default=max(HOT_GRID_LEVELS[0], within.level or 0),
                      low=min(HOT_GRID_LEVELS), high=max(HOT_GRID_LEVELS))
    if within.level is not None and level < within.level:
        raise Problem(422, f"level {level} grids are larger than your jurisdiction {within.name} ({within.code}, "
                           f"level {within.level}); ask for level {within.level}", param="level")
    page = weekly_bulletin(derived(), settings, week=week, now=now, lang=lang, hot_level=int(level), within=within)
    resp = Response(page, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = page_policy()
    resp.headers["Content-Disposition"] = f'inline; filename="bulletin-{week.label}.html"'
    return resp
