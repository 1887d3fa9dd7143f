"""The big screen (一屏统揽): the page at ``/``, its JSON endpoints under ``/api/screen/``, MBTiles at ``/tiles/``.

Every route needs a principal: a person logged in, or a token; the page also takes a wall's token once as
``?token=`` (see ``mapserver/screen/access.py``), and sends a browser with neither to the login page. JSON
answers carry an ETag built from the data versions they depend on, so the page's polls cost a 304 when nothing
changed. Coordinates are WGS-84 longitude/latitude degrees.

Everything but the locate lookup is of the asker's jurisdiction: layers,
measures and grid cards are asked of the store with it, their cache keys (and so
their ETags) name it, and the page of a grid-bound asker opens on its grid's
extent with its name in the title bar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, request, url_for

from mapserver.api.problems import problem_response
from mapserver.api.video_pages import page_video, stream_origins
from mapserver.app_state import derived, state, store
from mapserver.auth import current_principal, hash_token, request_jurisdiction
from mapserver.errors import Problem
from mapserver.i18n import parse_lang, word
from mapserver.login_pages import login_redirect
from mapserver.maplayers.spec import LayerQuery
from mapserver.parsing import parse_bbox, reject_unknown
from mapserver.roles import LIVE_POSITIONS, ROUTES, role_label
from mapserver.screen.access import (
    accepts_query_token,
    hand_off,
    no_store,
    token_from_browser,
    unauthorized_page,
    wants_html,
)
from mapserver.screen.answers import Encoded, etag_of
from mapserver.screen.csp import new_nonce, page_policy
from mapserver.screen.gridcard import grid_card
from mapserver.screen.locate import locate
from mapserver.screen.measures import SOURCES as MEASURE_SOURCES
from mapserver.screen.measures import measures
from mapserver.screen.modules import module_graph
from mapserver.screen.page import IMPORTS, SCREEN_JS, PageArea, PageContext, PagePerson, render_page
from mapserver.screen.panels import SOURCES as PANEL_SOURCES
from mapserver.screen.panels import panels
from mapserver.screen.screen_state import init_screen, screen_state
from mapserver.screen.window import parse_window, window_start
from mapserver.sessions import SESSION_COOKIE, current_session
from mapserver.store import Store

bp = Blueprint("screen", __name__)
bp.record_once(lambda setup: init_screen(setup.app))

CLOCK_BUCKET_S = 60  # answers that depend on the clock (warnings, stale cameras) are rebuilt once a minute


def _since(window: str) -> datetime:
    return window_start(window, now=datetime.now(UTC), timezone=screen_state().settings.timezone)


def _clock(now: datetime) -> int:
    return int(now.timestamp() // CLOCK_BUCKET_S)


def _window() -> str:
    return parse_window(request.args.get("window"), screen_state().settings.window)


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> Response:
    # A browser opening the page without a valid credential gets a page, not a blank map or raw JSON: a person
    # (no token, or a session that ended) the login page, which brings them back; a wall's bad token says so.
    if exc.status == 401 and request.endpoint == "screen.page" and wants_html():
        lang = parse_lang(request.args.get("lang"), screen_state().settings.lang)
        if SESSION_COOKIE in request.cookies or not _presents_token():
            return login_redirect(lang)
        return unauthorized_page(lang, headers=exc.headers)
    return problem_response(exc)


def _presents_token() -> bool:
    return "token" in request.args or token_from_browser() is not None or "Authorization" in request.headers


@bp.get("/")
@accepts_query_token
def page() -> Response:
    settings = screen_state().settings
    lang = parse_lang(request.args.get("lang"), settings.lang)
    window = _window()
    if "token" in request.args:
        return _take_token(request.args["token"], lang=lang, window=window)
    nonce = new_nonce()
    current = store()
    area = _page_area(current)
    ctx = PageContext(lang=lang, window=window, nonce=nonce, root=request.script_root, words=screen_state().words(lang),
                      static_url=lambda path: url_for("static", filename=path), area=area,
                      person=_page_person(lang, area), live=_sees_live(), video=page_video(lang),
                      preload=module_graph(current_app.static_folder or "", SCREEN_JS, IMPORTS))
    layers = [layer for layer in screen_state().layers if layer.available(current)]
    html = render_page(settings, layers, ctx, tiles=screen_state().tiles)
    resp = no_store(Response(html, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = page_policy(nonce, tile_origins=_tile_origins(),
                                                          stream_origins=stream_origins())
    # This page's URL never holds a token (that is the hand-off page's), and with no-referrer a browser would post
    # its logout form with "Origin: null", which the origin check refuses.
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


def _sees_live() -> bool:
    """Whether the asker may read the live positions (the wall's layer of people on patrol)."""
    principal = current_principal()
    return principal is not None and principal.role in LIVE_POSITIONS


def _page_person(lang: str, area: PageArea | None) -> PagePerson | None:
    """Who is logged in, for the title bar; None for a wall's token (it has nobody to show, nor a session)."""
    session = current_session()
    if session is None:
        return None
    account = session.account
    query = {"lang": "en"} if lang == "en" else {}
    return PagePerson(
        name=account.display_name or account.name, role=role_label(account.role, lang),
        area=area.name if area is not None else (request_jurisdiction().name or word(lang, "whole_area")),
        csrf_token=session.csrf_token, logout=url_for("login.logout", **query),
        password=url_for("login.password_form", **query),
        admin=url_for("admin.accounts", **query) if account.role in ROUTES["admin.accounts"]["GET"] else None,
        login=url_for("login.login_form"))


def _page_area(current: Store) -> PageArea | None:
    """The asker's jurisdiction as the page opens on it (None for the whole store: the configured view)."""
    within = request_jurisdiction()
    if within.whole:
        return None
    # A grid's own polygon; a division's streets (every grid in it lies inside them).
    where = {"level": 1} if within.is_division else {"code": within.code}
    bounds = current.layers.extent("grids", where=where, within=within)
    if bounds is None:  # the grid went since the request was authorised: the configured view, nothing more
        return None
    return PageArea(code=str(within.code), name=within.name or str(within.code), bounds=bounds)


def _tile_origins() -> list[str]:
    basemap = screen_state().settings.basemap
    if basemap.kind != "xyz" or not basemap.url:
        return []
    parts = urlsplit(basemap.url)
    return [f"{parts.scheme}://{parts.netloc}"]


def _take_token(token: str, *, lang: str, window: str) -> Response:
    # The header may have authorised this request; the token that goes into the cookie is checked on its own.
    if store().tokens.by_hash(hash_token(token)) is None:
        raise Problem(401, "the token is not known or was revoked",
                      headers={"WWW-Authenticate": 'Bearer realm="mapserver"'})
    query = {k: v for k, v in (("lang", request.args.get("lang")), ("window", request.args.get("window"))) if v}
    target = request.script_root + "/" + (f"?{urlencode(query)}" if query else "")
    return hand_off(token, lang=lang, target=target, days=screen_state().settings.token_cookie_days)


def _json_answer(key: tuple[Any, ...], make: Any) -> Response:
    """The answer for ``key``: 304 when the browser has it, else from the cache or ``make()``; gzip if accepted."""
    etag = etag_of(key)
    # Weak: the same answer goes out plain or gzipped, and a weak tag is equal across encodings.
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        encoded: Encoded = screen_state().cache.get_or_make(etag, make)
        gzip_ok = encoded.gzipped is not None and request.accept_encodings.quality("gzip") > 0
        resp = Response(encoded.gzipped if gzip_ok else encoded.plain, mimetype="application/json")
        if gzip_ok:
            resp.headers["Content-Encoding"] = "gzip"
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["Vary"] = "Accept-Encoding, Cookie, Authorization"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/api/screen/measures")
def screen_measures() -> Response:
    reject_unknown(request.args, {"window"})
    window, current, now, within = _window(), store(), datetime.now(UTC), request_jurisdiction()
    since = _since(window)
    versions = tuple(current.layers.data_version(source) for source in MEASURE_SOURCES)
    # The jurisdiction is part of the key: one street never gets another's answer, nor its ETag.
    key = ("measures", within.code or "", versions, since.isoformat(), _clock(now))  # overdue grows with the clock
    offline_after_s = state().settings.cameras.offline_after_s
    return _json_answer(key, lambda: {"window": window, **measures(current, since=since, now=now,
                                                                   offline_after_s=offline_after_s, within=within)})


@bp.get("/api/screen/panels")
def screen_panels() -> Response:
    reject_unknown(request.args, {"window"})
    window, current, now, within = _window(), store(), datetime.now(UTC), request_jurisdiction()
    since, timezone = _since(window), screen_state().settings.timezone
    versions = tuple(current.layers.data_version(source) for source in PANEL_SOURCES)
    # The clock: the feed's warning colours turn with it, and the trend's days with the date.
    key = ("panels", within.code or "", versions, since.isoformat(), _clock(now))
    return _json_answer(key, lambda: {"window": window, **panels(current, since=since, now=now, timezone=timezone,
                                                                 within=within)})


@bp.get("/api/screen/layers/<key>")
def screen_layer(key: str) -> Response:
    layer, current = screen_state().layer(key), store()
    reject_unknown(request.args, {"window", "bbox"})
    if not layer.available(current):
        raise Problem(404, f"map layer '{key}' has no data source on this server", param="layer")
    bbox = parse_bbox(request.args.get("bbox")) if layer.uses_bbox else None
    since = _since(_window()) if layer.uses_window else None
    now = datetime.now(UTC)
    clock = _clock(now) if layer.uses_clock else 0
    limit = screen_state().settings.max_features
    within = request_jurisdiction()
    # The jurisdiction is part of the key: one street never gets another's answer, nor its ETag.
    cache_key = ("layer", key, within.code or "", layer.data_versions(current), since.isoformat() if since else "",
                 bbox, clock, limit)
    query = LayerQuery(params=layer.params, bbox=bbox, since=since, limit=limit, now=now, settings=state().settings,
                       derived=derived(), within=within)
    return _json_answer(cache_key, lambda: layer.fetch(current, query))


@bp.get("/api/screen/grids/<code>")
def screen_grid(code: str) -> dict:
    reject_unknown(request.args, {"window"})
    return grid_card(store(), code, since=_since(_window()), scope=request_jurisdiction())


@bp.get("/api/screen/locate")
def screen_locate() -> dict:
    reject_unknown(request.args, {"lon", "lat", "crs"})
    values = []
    for name in ("lon", "lat"):
        try:
            values.append(float(request.args[name]))
        except KeyError:
            raise Problem(400, f"{name} is required", param=name) from None
        except ValueError:
            raise Problem(400, f"{name} must be a number, got {request.args[name][:40]!r}", param=name) from None
    return locate(store(), values[0], values[1], request.args.get("crs", "wgs84"))


@bp.get("/tiles/<z>/<x>/<y>")
def tile(z: str, x: str, y: str) -> Response:
    tiles = screen_state().tiles
    if tiles is None:
        raise Problem(404, "no MBTiles basemap is configured (map.basemap.kind is not 'mbtiles')")
    try:
        zxy = int(z), int(x), int(y.split(".", 1)[0])  # Leaflet templates may add an extension
    except ValueError:
        raise Problem(400, f"tile address must be whole numbers, got {z}/{x}/{y}", param="z") from None
    data = tiles.tile(*zxy)
    if data is None:
        raise Problem(404, f"the basemap has no tile {zxy[0]}/{zxy[1]}/{zxy[2]}")
    resp = Response(data, mimetype=tiles.mimetype)
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp
