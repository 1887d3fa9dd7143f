"""How the video wall's browser presents its viewer token: once in the URL, then as a cookie.

A wall browser cannot add an ``Authorization`` header, so ``/?token=…`` is
accepted once on the page view; the answer stores the token in an HttpOnly,
SameSite=Strict cookie and moves on to the same page without the token, so it
leaves the address bar, history and any Referer. The cookie holds the token
itself: it is a 256-bit random secret checked against the store (by hash) on
every request, so it cannot be forged and revoking the token ends the cookie
at once; a signature would add nothing. The cookie authorises reads only
(see ``mapserver.auth._bearer_token``), so no other site can make the wall's
browser write anything.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TypeVar

from flask import Response, current_app, request

from mapserver.i18n import HTML_LANG, word
from mapserver.screen.csp import new_nonce, plain_page_policy

TOKEN_COOKIE = "mapserver_token"  # noqa: S105 - the cookie's name, not a secret
_QUERY_TOKEN = "accepts_query_token"  # noqa: S105 - the name of a view attribute, not a secret
F = TypeVar("F", bound=Callable[..., object])


def accepts_query_token(view: F) -> F:
    """Mark a page view as taking ``?token=`` (the first visit of a wall browser)."""
    setattr(view, _QUERY_TOKEN, True)
    return view


def token_from_browser() -> str | None:
    """The token a browser presents without a header: ``?token=`` on a view that takes it, else the cookie."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, _QUERY_TOKEN, False) and request.args.get("token"):
        return request.args["token"]
    return request.cookies.get(TOKEN_COOKIE) or None


def _plain_page(lang: str, title: str, body: str, *, status: int, head: str = "") -> Response:
    nonce = new_nonce()
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width"><title>{escape(title)}</title>{head}'
            '<link rel="icon" href="data:,">'  # no favicon request: the hand-off page is left at once
            f'<style nonce="{nonce}">body{{margin:0;height:100vh;display:grid;place-items:center;background:#06101c;'
            f'color:#cfe8ff;font:1.4rem/1.6 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}}'
            f'main{{max-width:40rem;padding:2rem;border:1px solid #1e4a7a;border-radius:.5rem}}'
            f'h1{{color:#4fc3f7;font-size:2rem;margin:0 0 1rem}}</style></head>'
            f'<body><main><h1>{escape(title)}</h1><p>{escape(body)}</p></main></body></html>')
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = plain_page_policy(nonce)
    no_store(resp)
    return resp


def no_store(resp: Response) -> Response:
    """Headers for pages that must not be cached or leak their URL (it may have carried a token)."""
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def unauthorized_page(lang: str, *, headers: dict[str, str] | None = None) -> Response:
    """The 401 a browser sees instead of a blank map: what is missing and what to do."""
    resp = _plain_page(lang, word(lang, "unauthorized_title"), word(lang, "unauthorized_body"), status=401)
    resp.headers.update(headers or {})
    return resp


def wants_html() -> bool:
    """Whether the client is a browser asking for a page (not a script asking for JSON)."""
    best = request.accept_mimetypes.best_match(["application/json", "application/problem+json", "text/html"])
    return best == "text/html"


def hand_off(token: str, *, lang: str, target: str, days: int) -> Response:
    """Store ``token`` in the cookie and go on to ``target`` (a local path without the token).

    A meta refresh rather than a redirect: a SameSite=Strict cookie is not sent on a redirect that
    follows a link from another site (an intranet portal), but it is on a navigation this page starts.
    """
    refresh = f'<meta http-equiv="refresh" content="0; url={escape(target)}">'
    resp = _plain_page(lang, word(lang, "page_title"), "…", status=200, head=refresh)
    resp.set_cookie(TOKEN_COOKIE, token, max_age=days * 86400 if days else None, path="/",
                    httponly=True, samesite="Strict", secure=request.is_secure)
    return resp
