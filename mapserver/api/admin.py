"""The accounts page for administrators who log in (``/admin/accounts``): its view and the forms it posts.

Each form posts to one endpoint here, which calls :mod:`mapserver.account_admin` (the same rules, jurisdiction and
audit trail as ``/api/accounts`` and ``/api/tokens``) and then goes back to the page (303) with what was done in
the query; a refusal shows the page again at once with the reason in the page's language and nothing written. A
new token is shown on the answer to its form, this once, and never put in a URL. The session's CSRF token and
this origin were checked before any of these runs (:func:`mapserver.sessions.check_csrf`); the page needs a
session, since only a person has one to post from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request, url_for

from mapserver import account_admin
from mapserver.account_admin import KEEP, SelfLockout
from mapserver.admin_pages import AccountsView, Place, accounts_page
from mapserver.api.desk_common import login_on_401, page_lang
from mapserver.app_state import state, store
from mapserver.auth import acting_person, hash_token, new_token, request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.i18n import admin_word, login_word
from mapserver.jurisdiction import Jurisdiction
from mapserver.passwords import WeakPassword
from mapserver.sessions import current_session
from mapserver.store import Store

bp = Blueprint("admin", __name__, url_prefix="/admin")
DONE = frozenset({"created", "changed", "disabled", "enabled", "password", "revoked"})
"""What a form's redirect may say was done (anything else in ``?done=`` is ignored)."""


login_on_401(bp)  # a browser whose session ended goes to the login page, and comes back here afterwards


def _csrf() -> str:
    session = current_session()
    if session is None:  # an admin token: it has no session to post the page's forms from
        raise Problem(400, "the accounts page is for a person who logged in; a token uses /api/accounts and "
                           "/api/tokens")
    return session.csrf_token


def _place(current: Store, code: str | None) -> Place:
    if code is None:
        return Place(None, "")
    try:
        return Place(code, current.grids.jurisdiction(code).name or code)
    except Problem:  # a grid gone since (a re-import without it): its code says enough
        return Place(code, "?")


def _view(*, done: str | None = None, error: str | None = None, secret: tuple[str, str] | None = None,
          typed: dict[str, str] | None = None) -> AccountsView:
    current, reach, lang = store(), request_jurisdiction(), page_lang()
    places: dict[str | None, Place] = {}

    def place(code: str | None) -> Place:
        if code not in places:
            places[code] = _place(current, code)
        return places[code]

    return AccountsView(
        lang=lang, csrf_token=_csrf(), me=acting_person() or "", reach=place(reach.code),
        people=[(a, place(a.grid_code)) for a in account_admin.visible(current, reach)],
        tokens=[(t, place(t.grid_code)) for t in account_admin.live_tokens(current, reach)],
        timezone=state().settings.map.timezone, done=done, error=error, secret=secret, typed=typed or {})


@bp.get("/accounts")
def accounts() -> Response:
    lang, done, name = page_lang(), request.args.get("done"), request.args.get("name", "")
    message = admin_word(lang, f"done_{done}", name=name) if done in DONE else None
    return accounts_page(_view(done=message))


def _back(done: str, name: str) -> Response:
    query = {"done": done, "name": name, **({"lang": "en"} if page_lang() == "en" else {})}
    return redirect(url_for("admin.accounts") + "?" + urlencode(query), 303)


def _field(name: str, *, required: bool = True) -> str:
    value = request.form.get(name, "")
    if required and not value:
        raise Problem(422, f"'{name}' is required", param=name)
    return value


def _grid(text: str) -> str | None:
    """A grid code typed in a form: empty is the whole store."""
    return text.strip() or None


def _refused(exc: Problem, *, typed: dict[str, str] | None = None) -> Response:
    """The page again, saying why the form was refused (with the add-person form as typed, when it was that)."""
    sent = typed if typed is not None else request.form
    error = say_why(page_lang(), exc, sent.get("name", ""), request_jurisdiction(), sent.get("grid", "").strip())
    return accounts_page(_view(error=error, typed=typed), status=exc.status)


@bp.post("/accounts")
def create_account() -> Response:
    typed = {k: request.form.get(k, "") for k in ("name", "display_name", "role", "grid")}
    try:
        account = account_admin.create(
            store(), state().settings.accounts, name=typed["name"], role=typed["role"], grid_code=_grid(typed["grid"]),
            password=_field("password"), actor=request_actor(), reach=request_jurisdiction(),
            display_name=typed["display_name"])
    except Problem as exc:
        return _refused(exc, typed=typed)
    return _back("created", account.name)


@bp.post("/accounts/change")
def change_account() -> Response:
    form = request.form
    change: dict[str, Any] = {
        "role": form.get("role", KEEP),
        "grid_code": _grid(form["grid"]) if "grid" in form else KEEP,
        "display_name": form.get("display_name", KEEP),
        "enabled": {"true": True, "false": False}.get(form["enabled"], form["enabled"]) if "enabled" in form else KEEP,
    }
    try:
        name = _field("name")
        account_admin.update(store(), name, actor=request_actor(), reach=request_jurisdiction(), by=acting_person(),
                             **change)
    except Problem as exc:
        return _refused(exc)
    done = "changed" if change["enabled"] is KEEP else ("enabled" if change["enabled"] else "disabled")
    return _back(done, name)


@bp.post("/accounts/password")
def reset_password() -> Response:
    try:
        name = _field("name")
        account_admin.set_password(store(), state().settings.accounts, name, _field("password"),
                                   actor=request_actor(), reach=request_jurisdiction())
    except Problem as exc:
        return _refused(exc)
    return _back("password", name)


@bp.post("/tokens")
def create_token() -> Response:
    secret = new_token()
    try:
        token = account_admin.create_token(store(), name=_field("name"), role=_field("role"),
                                           grid_code=_grid(request.form.get("grid", "")),
                                           token_hash=hash_token(secret), actor=request_actor(),
                                           reach=request_jurisdiction())
    except Problem as exc:
        return _refused(exc)
    # Shown on this answer only: a redirect would have to carry the token in a URL.
    return accounts_page(_view(secret=(token.name, secret)), status=201)


@bp.post("/tokens/revoke")
def revoke_token() -> Response:
    try:
        name = _field("name")
        account_admin.revoke_token(store(), name, actor=request_actor(), reach=request_jurisdiction())
    except Problem as exc:
        return _refused(exc)
    return _back("revoked", name)


def say_why(lang: str, exc: Problem, name: str, reach: Jurisdiction, grid: str) -> str:
    """The page's words for a refused form: what was wrong, in ``lang``."""
    token = request.endpoint in ("admin.create_token", "admin.revoke_token")
    if isinstance(exc, SelfLockout):
        return admin_word(lang, f"err_self_{exc.what}")
    if isinstance(exc, WeakPassword):
        return login_word(lang, f"pw_{exc.reason}", **exc.figures)
    if exc.param == "name":
        if exc.status == 404:
            return admin_word(lang, "err_token_not_found" if token else "err_not_found", name=name)
        if exc.status == 409:
            return admin_word(lang, "err_token_taken" if token else "err_name_taken", name=name)
        return admin_word(lang, "err_token_name" if token else "err_name")
    if exc.param == "role":
        return admin_word(lang, "err_role")
    if exc.param == "grid":
        if exc.status == 403:
            return admin_word(lang, "err_grid_outside", reach=f"{reach.code} {reach.name or ''}".strip())
        return admin_word(lang, "err_grid_unknown", grid=grid)
    if exc.param == "display_name":
        return admin_word(lang, "err_display_name")
    if exc.param == "password":
        return admin_word(lang, "err_password")
    return exc.detail
