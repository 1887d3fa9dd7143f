"""Logging in from a browser (or a script), logging out, and changing one's own password.

``GET /login`` shows the form; ``POST /login`` takes a form (with the login page's token,
:data:`~mapserver.sessions.LOGIN_FORM_COOKIE`) or JSON ``{"name", "password"}``. A login that succeeds gets a
new session every time, never one whose id the browser sent before (session fixation), and goes on (303) to
the form's ``next`` when that is a path on this server, else to the wall; JSON gets the person and the
session's CSRF token. Wrong name or password, the lock against guessing and everything the store keeps of it
are :mod:`mapserver.logins`. ``POST /logout`` and ``POST /account/password`` are writes of the session, so the
session's CSRF token and this origin are checked before they run (:func:`mapserver.sessions.check_csrf`); a GET
never logs out. A browser that asks for one of these pages without a live session goes to the login page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, redirect, request, url_for

from mapserver.api.desk_common import page_lang
from mapserver.api.problems import problem_response
from mapserver.app_state import state, store
from mapserver.auth import current_principal, request_actor
from mapserver.errors import Problem
from mapserver.i18n import login_word
from mapserver.login_pages import login_page, login_redirect, logout_page, password_page
from mapserver.logins import (
    Attempt,
    LockedOut,
    SamePassword,
    WrongCurrent,
    WrongLogin,
    begin_session,
    change_password,
    check_login,
    end_session,
    safe_next,
)
from mapserver.passwords import WeakPassword
from mapserver.principals import hash_token
from mapserver.screen.access import wants_html
from mapserver.sessions import (
    SESSION_COOKIE,
    check_login_form,
    check_origin,
    clear_session_cookie,
    current_session,
    login_form_token,
    new_csrf_token,
    new_session_id,
    set_login_form_cookie,
    set_session_cookie,
)
from mapserver.store.sessions import Session

bp = Blueprint("login", __name__)
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> Response:
    # A browser whose session ended (or never was) goes to the login page, and comes back here afterwards.
    if exc.status == 401 and request.endpoint != "login.login" and (wants_html() or _is_form()):
        return login_redirect(page_lang())
    return problem_response(exc)



def _is_form() -> bool:
    return request.mimetype in FORMS


def _body() -> dict[str, Any]:
    """The posted fields, from a form or a JSON object; 400 for anything else."""
    if _is_form():
        return request.form.to_dict()
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Problem(400, "the body must be a JSON object")
        return body
    raise Problem(400, "send a form (application/x-www-form-urlencoded) or a JSON object (application/json)")


def _text(body: dict[str, Any], field: str, *, required: bool = True) -> str:
    value = body.get(field, "")
    if not isinstance(value, str):
        raise Problem(400, f"'{field}' must be a string", param=field)
    if required and not value:
        raise Problem(400, f"'{field}' is required", param=field)
    return value


def _attempt(name: str) -> Attempt:
    return Attempt(name=name, remote_addr=request.remote_addr or "unknown", request_id=g.get("request_id"),
                   now=datetime.now(UTC))


def _home() -> str:
    return url_for("screen.page")


def _max_age_s() -> int:
    return int(state().settings.accounts.session_max_hours * 3600)


@bp.get("/login")
def login_form() -> Response:
    lang = page_lang()
    return _login_page(lang, next_path=safe_next(request.args.get("next"), default=_home()))


def _login_page(lang: str, *, next_path: str, name: str = "", error: str | None = None, status: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    token = login_form_token()
    resp = login_page(lang, next_path=next_path, form_token=token, name=name, error=error, status=status,
                      headers=headers)
    set_login_form_cookie(resp, token, path=url_for("login.login"))
    return resp


@bp.post("/login")
def login() -> Response:
    lang, form = page_lang(), _is_form()
    check_origin()
    body = _body()
    next_path = safe_next(body.get("next") if isinstance(body.get("next"), str) else None, default=_home())
    if form:
        try:
            check_login_form()
        except Problem:
            return _login_page(lang, next_path=next_path, error=login_word(lang, "form_expired"), status=403)
    try:
        name, password = _text(body, "name"), _text(body, "password")
    except Problem:
        if not form:
            raise
        return _login_page(lang, next_path=next_path, name=_text(body, "name", required=False),
                           error=login_word(lang, "missing"), status=400)
    settings, attempt = state().settings.accounts, _attempt(name)
    try:
        account = check_login(store(), settings, password=password, attempt=attempt)
    except LockedOut as exc:
        if not form:
            raise
        return _login_page(lang, next_path=next_path, name=name, error=login_word(lang, "locked", minutes=exc.minutes),
                           status=429, headers=exc.headers)
    except WrongLogin as exc:
        if not form:
            raise
        return _login_page(lang, next_path=next_path, name=name, error=login_word(lang, "wrong_login"), status=401,
                           headers=exc.headers)
    session_id, csrf = new_session_id(), new_csrf_token()  # new every login: never one the browser sent before
    before = request.cookies.get(SESSION_COOKIE)
    begin_session(store(), settings, account, password=password, id_hash=hash_token(session_id), csrf_token=csrf,
                  attempt=attempt, replaces=hash_token(before) if before else None)
    if form:
        resp = redirect(next_path, 303)
    else:
        resp = jsonify(name=account.name, display_name=account.display_name, role=account.role,
                       grid_code=account.grid_code, csrf_token=csrf, session_max_s=_max_age_s())
    resp.headers["Cache-Control"] = "no-store"
    set_session_cookie(resp, session_id, max_age_s=_max_age_s())
    return resp


@bp.get("/logout")
def logout_form() -> Response:
    session = current_session()
    if session is None:  # a token: it has no session to end
        return redirect(url_for("login.login_form"), 303)
    return logout_page(page_lang(), csrf_token=session.csrf_token, name=session.account.name,
                       role=session.account.role)


@bp.post("/logout")
def logout() -> Response:
    # authorize() checked the session's CSRF token and the origin before this runs.
    session = current_session()
    if session is None:  # a token: it has no session to end
        return Response(status=204)
    end_session(store(), session.id_hash, actor=request_actor())
    lang = page_lang()
    resp = redirect(url_for("login.login_form", **({"lang": "en"} if lang == "en" else {})), 303) \
        if _is_form() else Response(status=204)
    clear_session_cookie(resp)
    # What this browser kept for the person goes with them: the phone app's pages, service worker and outbox.
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp


def _own_session() -> Session:
    session = current_session()
    if session is None:
        name = getattr(current_principal(), "name", "?")
        raise Problem(400, f"'{name}' is a token: it has no password to change; log in as a person to change yours")
    return session


@bp.get("/account/password")
def password_form() -> Response:
    session = _own_session()
    return password_page(page_lang(), csrf_token=session.csrf_token,
                         min_length=state().settings.accounts.password_min_length)


@bp.post("/account/password", endpoint="change_password")
def password_change() -> Response:
    # authorize() checked the session's CSRF token and the origin before this runs.
    session, lang, form = _own_session(), page_lang(), _is_form()
    settings = state().settings.accounts
    body = _body()
    try:
        current, new = _text(body, "current_password"), _text(body, "new_password")
        if form and _text(body, "new_password_again") != new:
            raise Problem(422, "the two new passwords differ", param="new_password_again")
        session_id, csrf = new_session_id(), new_csrf_token()
        change_password(store(), settings, session.account, current=current, new=new,
                        id_hash=hash_token(session_id), csrf_token=csrf, attempt=_attempt(session.account.name))
    except Problem as exc:
        if not form:
            raise
        return password_page(lang, csrf_token=session.csrf_token, min_length=settings.password_min_length,
                             error=_say_why(lang, exc), status=exc.status, headers=exc.headers)
    if form:
        resp = password_page(lang, csrf_token=csrf, min_length=settings.password_min_length, done=True)
    else:
        resp = jsonify(name=session.account.name, csrf_token=csrf, session_max_s=_max_age_s())
        resp.headers["Cache-Control"] = "no-store"
    set_session_cookie(resp, session_id, max_age_s=_max_age_s())
    return resp


def _say_why(lang: str, exc: Problem) -> str:
    """The page's words for a refused password change."""
    if isinstance(exc, LockedOut):
        return login_word(lang, "locked", minutes=exc.minutes)
    if isinstance(exc, WrongCurrent):
        return login_word(lang, "wrong_current")
    if isinstance(exc, SamePassword):
        return login_word(lang, "same_password")
    if isinstance(exc, WeakPassword):
        return login_word(lang, f"pw_{exc.reason}", **exc.figures)
    if exc.param == "new_password_again":
        return login_word(lang, "mismatch")
    return login_word(lang, "fill_all")
