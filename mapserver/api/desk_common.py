"""What the desk pages' views share: the page's language, sending a browser whose session ended to log in, and the
basemap as the map pages' scripts and policies need it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request

from mapserver.api.problems import problem_response
from mapserver.app_state import state
from mapserver.config import Settings
from mapserver.errors import Problem
from mapserver.i18n import parse_lang
from mapserver.login_pages import login_redirect
from mapserver.screen.access import wants_html


def page_lang() -> str:
    """The request's ``?lang=`` (zh or en), else the configured default."""
    return parse_lang(request.args.get("lang"), state().settings.map.lang)


def login_on_401(bp: Blueprint, *, is_page: Callable[[str], bool] = lambda _path: True) -> None:
    """Answer ``bp``'s problems as problem+json, except a 401 to a browser's GET of a page (``is_page(path)``):
    its session ended, so it goes to the login page and comes back afterwards."""

    def answer(exc: Problem) -> Response:
        if exc.status == 401 and request.method == "GET" and is_page(request.path) and wants_html():
            return login_redirect(page_lang())
        return problem_response(exc)

    bp.register_error_handler(Problem, answer)


def basemap_config(settings: Settings) -> dict[str, Any]:
    """The basemap as the wall has it: none, an intranet XYZ template, or this server's MBTiles tiles."""
    basemap = settings.map.basemap
    if basemap.kind == "none":
        return {"kind": "none"}
    url = basemap.url if basemap.kind == "xyz" else request.script_root + "/tiles/{z}/{x}/{y}"
    return {"kind": basemap.kind, "url": url, "max_zoom": basemap.max_zoom, "attribution": basemap.attribution}


def tile_origins(settings: Settings) -> tuple[str, ...]:
    """``scheme://host[:port]`` of an intranet XYZ basemap, which the map pages' policy lets images come from."""
    basemap = settings.map.basemap
    if basemap.kind != "xyz" or not basemap.url:
        return ()
    parts = urlsplit(basemap.url)
    return (f"{parts.scheme}://{parts.netloc}",)
