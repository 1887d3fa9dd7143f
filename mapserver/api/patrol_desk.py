"""The patrol planner page (``GET /desk/patrols``) for a person who logged in: police liaisons, dispatchers and
administrators plan; a viewer opens it read-only (the saved plans, no form). A browser without a session is sent
to log in and back; a token is told to use /api/patrols."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from mapserver.api.desk_common import basemap_config, login_on_401, page_lang, tile_origins
from mapserver.app_state import state
from mapserver.desk_shell import MapView
from mapserver.errors import Problem
from mapserver.i18n import live_words, patrol_words
from mapserver.patrol.request import MAX_BUDGET_MIN, MAX_MUST_VISIT
from mapserver.patrol.settings import MODES, WINDOWS
from mapserver.patrol_page import patrol_page
from mapserver.roles import LIVE_POSITIONS, PATROL_PLANNERS
from mapserver.screen.page import LIVE_POLL_S
from mapserver.sessions import current_session

bp = Blueprint("patrol_desk", __name__)


login_on_401(bp)


@bp.get("/desk/patrols")
def page() -> Response:
    session = current_session()
    if session is None:
        raise Problem(400, "the patrol planner is for a person who logged in; a token uses /api/patrols")
    settings, lang = state().settings, page_lang()
    account = session.account
    other = {} if lang == "en" else {"lang": "en"}
    config = {
        "lang": lang, "root": request.script_root, "words": patrol_words(lang),
        "timezone": settings.incidents.timezone,
        "can_plan": account.role in PATROL_PLANNERS,
        "modes": list(MODES), "windows": list(WINDOWS), "max_budget_min": MAX_BUDGET_MIN,
        "max_must_visit": MAX_MUST_VISIT,
        "map": {"center": list(settings.map.center), "zoom": settings.map.zoom, "min_zoom": settings.map.min_zoom,
                "max_zoom": settings.map.max_zoom},
        "basemap": basemap_config(settings),
        "person": {"name": account.display_name or account.name, "role": account.role},
        # The people on patrol on the map, for those who may see them.
        "live": {"words": live_words(lang), "poll_s": LIVE_POLL_S} if account.role in LIVE_POSITIONS else None,
        "links": {"screen": url_for("screen.page", **({"lang": "en"} if lang == "en" else {})),
                  "other_lang": url_for("patrol_desk.page", **other)},
    }
    return patrol_page(MapView(lang=lang, csrf_token=session.csrf_token, config=config,
                               tile_origins=tile_origins(settings)))
