"""The hotline intake desk page (``GET /desk/intake``) for a person who logged in: operators, dispatchers and
administrators (the role table says). A browser without a session is sent to log in and back."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from mapserver.api.desk_common import basemap_config, login_on_401, page_lang, tile_origins
from mapserver.app_state import state
from mapserver.desk_shell import MapView
from mapserver.errors import Problem
from mapserver.i18n import intake_words
from mapserver.intake_page import desk_page
from mapserver.model import SEVERITIES
from mapserver.sessions import current_session

bp = Blueprint("intake_desk", __name__)


login_on_401(bp)


@bp.get("/desk/intake")
def page() -> Response:
    session = current_session()
    if session is None:
        raise Problem(400, "the intake desk is for a person who logged in; a token uses /api/intake/…")
    settings, lang = state().settings, page_lang()
    other = {} if lang == "en" else {"lang": "en"}
    config = {
        "lang": lang, "root": request.script_root, "words": intake_words(lang),
        "categories": [[code, intake_words(lang)["enums"]["category"].get(code, label)]
                       for code, label in settings.incidents.categories.items()],
        "severities": list(SEVERITIES),
        "timezone": settings.incidents.timezone,
        "map": {"center": list(settings.map.center), "zoom": settings.map.zoom, "min_zoom": settings.map.min_zoom,
                "max_zoom": settings.map.max_zoom},
        "basemap": basemap_config(settings),
        "person": {"name": session.account.display_name or session.account.name, "role": session.account.role},
        "links": {"screen": url_for("screen.page", **({"lang": "en"} if lang == "en" else {})),
                  "other_lang": url_for("intake_desk.page", **other), "logout": url_for("login.logout")},
    }
    return desk_page(MapView(lang=lang, csrf_token=session.csrf_token, config=config,
                             tile_origins=tile_origins(settings)))
