"""Browser sessions of people who logged in: the cookie, its checks, and the CSRF token of every write.

The cookie holds a random 256-bit session id; the store keeps its SHA-256 only (:mod:`mapserver.store.sessions`),
so a copy of the database opens no session. The cookie is ``HttpOnly``, ``SameSite=Lax``, ``Path=/`` and
``Secure`` when the request came over TLS (directly or through the proxy the README describes). A session ends
when it has been idle ``accounts.session_idle_min`` or open ``accounts.session_max_hours``, at logout, and at once
when an administrator disables the person or changes their role, grid or password.

Every state-changing request authenticated by the cookie must carry the session's synchronizer token (the
``X-CSRF-Token`` header, or the ``csrf_token`` field of a form), and, when the browser sends an ``Origin``, come
from this server's own origin: otherwise 403 and nothing is written. Requests with a bearer token carry no
cookie's authority and are not concerned. The login form, posted before any session exists, has a token of its
own (:data:`LOGIN_FORM_COOKIE`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import Response, g, request

from mapserver.app_state import state, store
from mapserver.errors import Problem
from mapserver.principals import Principal, hash_token, jurisdiction_read
from mapserver.store.sessions import Session

SESSION_COOKIE = "mapserver_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOUCH_AFTER_S = 60.0
"""A session's last use is written at most this often (the idle time-out is counted in minutes)."""
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes


def new_session_id() -> str:
    """A fresh session id for a cookie; never stored."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    """A fresh synchronizer token for a session's forms."""
    return secrets.token_urlsafe(32)


def current_session() -> Session | None:
    """The session of the current request, once :func:`session_principal` found it."""
    return g.get("session")


def session_principal(method: str) -> Principal | None:
    """The person whose live session the request's cookie names, or None without a cookie; 401 for a session
    that ended, 403 for a write without the session's CSRF token or from another origin."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    settings = state().settings.accounts
    now = datetime.now(UTC)
    found = store().sessions.find(hash_token(session_id), now=now, idle_s=settings.session_idle_min * 60,
                                  absolute_s=settings.session_max_hours * 3600)
    if found is None:
        raise Problem(401, "your session has ended (logged out, timed out or closed by an administrator): log in "
                           "again", headers={"WWW-Authenticate": 'Cookie realm="mapserver"'})
    if method in _WRITES:
        check_csrf(found)
    if now - found.seen_at > timedelta(seconds=TOUCH_AFTER_S):
        store().sessions.touch(found.id_hash, now=now)
    g.session = found
    account = found.account
    return Principal(name=account.name, role=account.role, kind="account",
                     jurisdiction=jurisdiction_read(account.grid_code, found.grid_level, found.grid_name),
                     display_name=account.display_name)


def check_csrf(session: Session) -> None:
    """403 unless the request comes from this server's origin and carries ``session``'s synchronizer token."""
    check_origin()
    sent = request.headers.get(CSRF_HEADER) or _form_token()
    # As bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, so a 500).
    if not sent or not hmac.compare_digest(sent.encode("utf-8", "replace"), session.csrf_token.encode()):
        raise Problem(403, f"the CSRF token is missing or wrong: send the page's token in {CSRF_HEADER} or the "
                           f"'{CSRF_FIELD}' form field (reload the page if it is old)")


def check_origin() -> None:
    """403 when the browser says the request comes from another origin (a page of another site, or ``null``:
    a sandboxed frame or a ``data:`` page); a request without ``Origin`` (a script, an old browser) passes."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        raise Problem(403, f"a write from another origin ({origin[:100]}) is refused: use this server's own pages")


def _form_token() -> str | None:
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.get(CSRF_FIELD)
    return None


def set_session_cookie(resp: Response, session_id: str, *, max_age_s: int) -> None:
    """Give the browser its session cookie (flags as the module says)."""
    resp.set_cookie(SESSION_COOKIE, session_id, max_age=max_age_s, path="/", httponly=True, samesite="Lax",
                    secure=request.is_secure)


def clear_session_cookie(resp: Response) -> None:
    """Tell the browser to forget its session cookie."""
    resp.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=request.is_secure)


LOGIN_FORM_COOKIE = "mapserver_login_form"
"""The login form's own CSRF defence (no session exists yet to hold a token): a double-submit cookie.

The page puts a random value in this cookie (HttpOnly, SameSite=Strict, sent to ``/login`` only) and in the
form's ``csrf_token`` field; a form posted to ``/login`` must carry both, equal. Another site can make a
browser post a form, but can neither read the cookie nor have it sent (Strict), so it cannot log the browser
in as someone else; the origin check (:func:`check_origin`) refuses such a post too, and holds where a sibling
host could plant the cookie. Scripts that post JSON need no such token: a browser sends a JSON body to another
site only after a CORS preflight this server never grants.
"""


def login_form_token() -> str:
    """The value for the login form: the browser's cookie when it holds a well-formed one (several tabs share
    it), else a new one."""
    held = request.cookies.get(LOGIN_FORM_COOKIE, "")
    return held if _TOKEN_SHAPE.fullmatch(held) else new_csrf_token()


def set_login_form_cookie(resp: Response, token: str, *, path: str) -> None:
    """Give the browser the login form's cookie, for ``path`` only (the login route)."""
    resp.set_cookie(LOGIN_FORM_COOKIE, token, path=path, httponly=True, samesite="Strict", secure=request.is_secure)


def check_login_form() -> None:
    """403 unless a login form posted its ``csrf_token`` equal to the cookie the login page set."""
    held = request.cookies.get(LOGIN_FORM_COOKIE, "")
    sent = _form_token() or ""
    if not held or not hmac.compare_digest(sent.encode("utf-8", "replace"), held.encode("utf-8", "replace")):
        raise Problem(403, "the login form's token is missing or does not match its cookie: reload the login page "
                           "(cookies must be allowed for this server)")
