"""The hotline intake desk page (``GET /desk/intake``) for a person who logged in: operators, dispatchers and
administrators (the role table says). A browser without a session is sent to log in and back."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request, url_for

from mapserver.api.problems import problem_response
from mapserver.app_state import state
from mapserver.config import Settings
from mapserver.errors import Problem
from mapserver.i18n import intake_words, parse_lang
from mapserver.intake_page import DeskView, desk_page
from mapserver.login_pages import login_redirect
from mapserver.model import SEVERITIES
from mapserver.screen.access import wants_html
from mapserver.sessions import current_session

bp = Blueprint("intake_desk", __name__)


def _lang() -> str:
    return parse_lang(request.args.get("lang"), state().settings.map.lang)


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> Response:
    if exc.status == 401 and request.method == "GET" and wants_html():
        return login_redirect(_lang())
    return problem_response(exc)


def basemap_config(settings: Settings) -> dict[str, Any]:
    """The basemap as the wall has it: none, an intranet XYZ template, or this server's MBTiles tiles."""
    basemap = settings.map.basemap
    if basemap.kind == "none":
        return {"kind": "none"}
    url = basemap.url if basemap.kind == "xyz" else request.script_root + "/tiles/{z}/{x}/{y}"
    return {"kind": basemap.kind, "url": url, "max_zoom": basemap.max_zoom, "attribution": basemap.attribution}


def tile_origins(settings: Settings) -> tuple[str, ...]:
    basemap = settings.map.basemap
    if basemap.kind != "xyz" or not basemap.url:
        return ()
    parts = urlsplit(basemap.url)
    return (f"{parts.scheme}://{parts.netloc}",)


@bp.get("/desk/intake")
def page() -> Response:
    session = current_session()
    if session is None:
        raise Problem(400, "the intake desk is for a person who logged in; a token uses /api/intake/…")
    settings, lang = state().settings, _lang()
    other = {} if lang == "en" else {"lang": "en"}
    config = {
        "lang": lang, "root": request.script_root, "words": intake_words(lang),
        "categories": [[code, intake_words(lang)["enums"]["category"].get(code, label)]
                       for code, label in settings.incidents.categories.items()],
        "severities": list(SEVERITIES),
        "map": {"center": list(settings.map.center), "zoom": settings.map.zoom, "min_zoom": settings.map.min_zoom,
                "max_zoom": settings.map.max_zoom},
        "basemap": basemap_config(settings),
        "person": {"name": session.account.display_name or session.account.name, "role": session.account.role},
        "links": {"screen": url_for("screen.page", **({"lang": "en"} if lang == "en" else {})),
                  "other_lang": url_for("intake_desk.page", **other), "logout": url_for("login.logout")},
    }
    return desk_page(DeskView(lang=lang, csrf_token=session.csrf_token, config=config,
                              tile_origins=tile_origins(settings)))
