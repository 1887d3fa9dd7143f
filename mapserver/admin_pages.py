"""The accounts page (``/admin/accounts``): the people and tokens of an administrator's jurisdiction, and the forms
that add, change, disable, enable and reset them, create and revoke tokens.

Server-written HTML with no script, in the login pages' look (``static/login/login.css`` and
``static/admin/admin.css``), zh-CN by default and English with ``?lang=en`` (labels in :mod:`mapserver.i18n`).
Every form posts the session's ``csrf_token``; every value the page shows (names, display names, grid names, what
was typed) is escaped. The policy is the login pages' (:func:`~mapserver.screen.csp.form_page_policy`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from flask import Response, url_for

from mapserver.i18n import HTML_LANG, admin_word, login_word
from mapserver.roles import ROLES, role_label
from mapserver.screen.access import no_store
from mapserver.screen.csp import form_page_policy
from mapserver.sessions import CSRF_FIELD
from mapserver.store.accounts import NAME_MAX, Account
from mapserver.store.tokens import Token


@dataclass(frozen=True)
class Place:
    """A jurisdiction as the page shows it: the grid code (None: the whole store) and its name."""

    code: str | None
    name: str


@dataclass(frozen=True)
class AccountsView:
    """What one accounts page shows: who asks, their reach, the people and tokens in it, and what just happened."""

    lang: str
    csrf_token: str
    me: str  # the administrator's account name
    reach: Place
    people: Sequence[tuple[Account, Place]]
    tokens: Sequence[tuple[Token, Place]]
    timezone: str
    done: str | None = None  # a message that something was done (plain text)
    error: str | None = None  # what was wrong with the last form (plain text)
    secret: tuple[str, str] | None = None  # (token name, token): a token just created, shown this once
    typed: Mapping[str, str] = field(default_factory=dict)  # the add-person form's fields as typed, after an error


def _say(lang: str, key: str, **figures: object) -> str:
    return escape(admin_word(lang, key, **figures))


def _url(endpoint: str, lang: str) -> str:
    return escape(url_for(endpoint, **({"lang": "en"} if lang == "en" else {})))


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'


def place_text(lang: str, place: Place) -> str:
    """A jurisdiction in words: 'code name', or the whole district."""
    return admin_word(lang, "whole") if place.code is None else f"{place.code} {place.name}"


def _form(view: AccountsView, endpoint: str, body: str, *, css: str = "") -> str:
    css_class = f' class="{css}"' if css else ""
    return (f'<form method="post" action="{_url(endpoint, view.lang)}"{css_class}>'
            f'{_hidden(CSRF_FIELD, view.csrf_token)}{body}</form>')


def _field(html: str) -> str:
    return f'<div class="ms-field">{html}</div>'


def _role_select(lang: str, selected: str, *, field_id: str) -> str:
    options = "".join(f'<option value="{r}"{" selected" if r == selected else ""}>{escape(role_label(r, lang))}'
                      f'</option>' for r in ROLES)
    return f'<select id="{field_id}" name="role" required>{options}</select>'


def _time(view: AccountsView, at: datetime) -> str:
    return at.astimezone(ZoneInfo(view.timezone)).strftime("%Y-%m-%d %H:%M")


def _person_actions(view: AccountsView, account: Account, row: int) -> str:
    lang, name = view.lang, _hidden("name", account.name)
    ids = f"p{row}"
    enable = ("false", "disable") if account.enabled else ("true", "enable")
    return (f'<details><summary>{_say(lang, "change")}</summary><div class="ms-actions">'
            + _form(view, "admin.change_account",
                    f'{name}<label for="{ids}-role">{_say(lang, "role")}</label>'
                    f'{_role_select(lang, account.role, field_id=f"{ids}-role")}'
                    f'<button type="submit">{_say(lang, "set_role")}</button>')
            + _form(view, "admin.change_account",
                    f'{name}<label for="{ids}-grid">{_say(lang, "grid")}</label>'
                    f'<input id="{ids}-grid" name="grid" value="{escape(account.grid_code or "")}">'
                    f'<button type="submit">{_say(lang, "set_grid")}</button>')
            + _form(view, "admin.change_account",
                    f'{name}<label for="{ids}-dn">{_say(lang, "display_name")}</label>'
                    f'<input id="{ids}-dn" name="display_name" value="{escape(account.display_name)}" maxlength="100">'
                    f'<button type="submit">{_say(lang, "set_display_name")}</button>')
            + _form(view, "admin.reset_password",
                    f'{name}<label for="{ids}-pw">{_say(lang, "new_password")}</label>'
                    f'<input id="{ids}-pw" name="password" type="password" autocomplete="new-password" required>'
                    f'<button type="submit">{_say(lang, "reset_password")}</button>')
            + _form(view, "admin.change_account",
                    f'{name}{_hidden("enabled", enable[0])}'
                    f'<button type="submit" class="ms-{enable[1]}">{_say(lang, enable[1])}</button>')
            + '</div></details>')


def _people(view: AccountsView) -> str:
    lang = view.lang
    heads = "".join(f"<th>{_say(lang, k)}</th>" for k in ("name", "display_name", "role", "jurisdiction", "status",
                                                          "created", "password_changed", "actions"))
    rows = []
    for row, (account, place) in enumerate(view.people):
        you = f'<span class="ms-you">{_say(lang, "you")}</span>' if account.name == view.me else ""
        status = "enabled" if account.enabled else "disabled"
        rows.append(
            f'<tr data-name="{escape(account.name)}" class="ms-{status}"><td class="ms-name">{escape(account.name)}'
            f'{you}</td><td class="ms-wrap">{escape(account.display_name)}</td>'
            f'<td>{escape(role_label(account.role, lang))}</td>'
            f'<td class="ms-wrap">{escape(place_text(lang, place))}</td><td class="ms-status">{_say(lang, status)}</td>'
            f'<td>{_time(view, account.created_at)}</td><td>{_time(view, account.password_changed_at)}</td>'
            f'<td>{_person_actions(view, account, row)}</td></tr>')
    empty = f'<tr><td colspan="8">{_say(lang, "none")}</td></tr>'
    return (f'<section id="people"><h2>{_say(lang, "people")}</h2><table class="ms-table"><thead><tr>{heads}</tr>'
            f'</thead><tbody>{"".join(rows) or empty}</tbody></table></section>')


def _add_person(view: AccountsView) -> str:
    lang, typed = view.lang, view.typed
    grid = typed.get("grid", view.reach.code or "")
    fields = (_field(f'<label for="new-name">{_say(lang, "name")}</label><input id="new-name" name="name" '
                     f'value="{escape(typed.get("name", ""))}" maxlength="{NAME_MAX}" autocapitalize="none" '
                     'spellcheck="false" autocomplete="off" required>')
              + _field(f'<label for="new-display-name">{_say(lang, "display_name")}</label><input '
                       f'id="new-display-name" name="display_name" value="{escape(typed.get("display_name", ""))}" '
                       'maxlength="100">')
              + _field(f'<label for="new-role">{_say(lang, "role")}</label>'
                       f'{_role_select(lang, typed.get("role", "viewer"), field_id="new-role")}')
              + _field(f'<label for="new-grid">{_say(lang, "grid")}</label><input id="new-grid" name="grid" '
                       f'value="{escape(grid)}" aria-describedby="grid-hint">')
              + _field(f'<label for="new-password">{_say(lang, "initial_password")}</label><input id="new-password" '
                       'name="password" type="password" autocomplete="new-password" required>')
              + f'<p class="ms-hint" id="grid-hint">{_say(lang, "grid_hint")}</p>'
              f'<button type="submit">{_say(lang, "add")}</button>')
    return (f'<section id="add-person"><h2>{_say(lang, "add_person")}</h2>'
            f'{_form(view, "admin.create_account", fields, css="ms-row-form")}</section>')


def _tokens(view: AccountsView) -> str:
    lang = view.lang
    heads = "".join(f"<th>{_say(lang, k)}</th>" for k in ("token_name", "role", "jurisdiction", "created", "actions"))
    rows = "".join(
        f'<tr data-token="{escape(token.name)}"><td class="ms-name">{escape(token.name)}</td>'
        f'<td>{escape(role_label(token.role, lang))}</td><td>{escape(place_text(lang, place))}</td>'
        f'<td>{_time(view, token.created_at)}</td><td>'
        + _form(view, "admin.revoke_token", f'{_hidden("name", token.name)}<button type="submit" class="ms-disable">'
                f'{_say(lang, "revoke")}</button>') + '</td></tr>'
        for token, place in view.tokens)
    empty = f'<tr><td colspan="5">{_say(lang, "none")}</td></tr>'
    secret = ""
    if view.secret is not None:
        secret = (f'<div class="ms-done ms-secret" role="status"><p>{_say(lang, "token_once", name=view.secret[0])}</p>'
                  f'<code id="new-token">{escape(view.secret[1])}</code></div>')
    fields = (_field(f'<label for="token-name">{_say(lang, "token_name")}</label><input id="token-name" name="name" '
                     'maxlength="100" autocomplete="off" required>')
              + _field(f'<label for="token-role">{_say(lang, "role")}</label>'
                       f'{_role_select(lang, "viewer", field_id="token-role")}')
              + _field(f'<label for="token-grid">{_say(lang, "grid")}</label><input id="token-grid" name="grid" '
                       f'value="{escape(view.reach.code or "")}">')
              + f'<button type="submit">{_say(lang, "create")}</button>')
    return (f'<section id="tokens"><h2>{_say(lang, "tokens")}</h2>{secret}<table class="ms-table"><thead><tr>{heads}'
            f'</tr></thead><tbody>{rows or empty}</tbody></table><h3>{_say(lang, "create_token")}</h3>'
            f'{_form(view, "admin.create_token", fields, css="ms-row-form")}</section>')


def accounts_page(view: AccountsView, *, status: int = 200) -> Response:
    """The whole page for ``view``."""
    lang = view.lang
    scope = (admin_word(lang, "scope_whole") if view.reach.code is None
             else admin_word(lang, "scope_grid", grid=place_text(lang, view.reach)))
    message = ""
    if view.error:
        message = f'<p class="ms-error" role="alert">{escape(view.error)}</p>'
    elif view.done:
        message = f'<p class="ms-done" role="status">{escape(view.done)}</p>'
    switch = url_for("admin.accounts", **({} if lang == "en" else {"lang": "en"}))
    nav = (f'<nav class="ms-links ms-top"><a href="{_url("screen.page", lang)}">{escape(login_word(lang, "to_screen"))}'
           f'</a><a href="{_url("login.password_form", lang)}">{escape(login_word(lang, "change_password"))}</a>'
           f'<a href="{escape(switch)}" lang="{"en" if lang == "zh" else "zh-CN"}">'
           f'{escape(login_word(lang, "other_lang"))}</a>'
           + _form(view, "login.logout", f'<button type="submit" class="ms-logout">'
                   f'{escape(login_word(lang, "logout"))}</button>') + '</nav>')
    title = admin_word(lang, "title")
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)} · {escape(login_word(lang, "brand"))}</title>'
            f'<link rel="stylesheet" href="{url_for("static", filename="login/login.css")}">'
            f'<link rel="stylesheet" href="{url_for("static", filename="admin/admin.css")}">'
            f'<link rel="icon" href="{url_for("static", filename="screen/icon.svg")}"></head>'
            f'<body class="ms-admin"><main class="ms-card ms-wide"><header class="ms-head"><div>'
            f'<p class="ms-brand">{escape(login_word(lang, "brand"))}</p><h1>{escape(title)}</h1></div>{nav}</header>'
            f'<p class="ms-scope">{escape(scope)}</p>{message}{_people(view)}{_add_person(view)}{_tokens(view)}'
            '</main></body></html>')
    resp = no_store(Response(html, status=status, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = form_page_policy()
    resp.headers["X-Frame-Options"] = "DENY"
    # Not no-referrer: with it, a browser posts these forms with "Origin: null", which the origin check refuses.
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp
