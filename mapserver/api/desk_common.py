"""What the desk pages' views share: the page's language, sending a browser whose session ended to log in, a JSON
answer with its ETag (304 when the browser has it), and the basemap as the map pages' scripts and policies need
it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
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
from mapserver.screen.answers import AnswerCache, Encoded, etag_of


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


def json_answer(key: Hashable, make: Callable[[], Any], cache: AnswerCache) -> Response:
    """The JSON answer for ``key`` (everything it depends on): 304 when the browser has it (If-None-Match, weak
    comparison), else from ``cache`` or ``make()``; gzip if accepted. Private to the asker and revalidated on each
    use: the key must name the asker's jurisdiction when the answer depends on it."""
    etag = etag_of(key)
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        encoded: Encoded = cache.get_or_make(etag, make)
        gzip_ok = encoded.gzipped is not None and request.accept_encodings.quality("gzip") > 0
        resp = Response(encoded.gzipped if gzip_ok else encoded.plain, mimetype="application/json")
        if gzip_ok:
            resp.headers["Content-Encoding"] = "gzip"
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["Vary"] = "Accept-Encoding, Cookie, Authorization"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


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
