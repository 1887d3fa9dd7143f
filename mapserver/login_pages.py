"""The pages a person logs in, logs out and changes their password on; and the way to the login page.

Server-written HTML in the wall's colours (``static/login/login.css``), zh-CN by default and English with
``?lang=en`` (labels in :mod:`mapserver.i18n`). They run no script at all; their policy
(:func:`~mapserver.screen.csp.form_page_policy`) allows this server's style sheet and forms posted here only,
and no frame. Every value a page shows or carries (a name typed, the ``next`` path) is escaped.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from flask import Response, redirect, request, url_for

from mapserver.i18n import HTML_LANG, login_word
from mapserver.roles import ROLE_LABELS
from mapserver.screen.access import no_store
from mapserver.screen.csp import form_page_policy
from mapserver.sessions import CSRF_FIELD, SESSION_COOKIE, clear_session_cookie

LOGIN_FORM_FIELD = CSRF_FIELD
"""The login form's own CSRF field: the same name as a session's, so a page needs to know one name."""


def _say(lang: str, key: str, **figures: object) -> str:
    """A label, escaped for HTML."""
    return escape(login_word(lang, key, **figures))


def _url(endpoint: str, lang: str, **args: str) -> str:
    return url_for(endpoint, **({"lang": "en"} if lang == "en" else {}), **args)


def _page(lang: str, title: str, body: str, *, status: int, switch: str,
          headers: dict[str, str] | None = None) -> Response:
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)} · {_say(lang, "brand")}</title>'
            f'<link rel="stylesheet" href="{url_for("static", filename="login/login.css")}">'
            f'<link rel="icon" href="{url_for("static", filename="screen/icon.svg")}"></head>'
            f'<body><main class="ms-card"><p class="ms-brand">{_say(lang, "brand")}</p><h1>{escape(title)}</h1>{body}'
            f'<nav class="ms-links"><a href="{escape(switch)}" lang="{"en" if lang == "zh" else "zh-CN"}">'
            f'{_say(lang, "other_lang")}</a></nav></main></body></html>')
    resp = no_store(Response(html, status=status, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = form_page_policy()
    resp.headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers older than CSP 2
    # Not no-referrer: with it, a browser posts these forms with "Origin: null", which the origin check refuses.
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers.update(headers or {})
    return resp


def _message(text: str | None, *, kind: str = "error") -> str:
    if not text:
        return ""
    role = "alert" if kind == "error" else "status"
    return f'<p class="ms-{kind}" role="{role}">{escape(text)}</p>'


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'


def login_page(lang: str, *, next_path: str, form_token: str, name: str = "", error: str | None = None,
               status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The login form; ``next_path`` (already checked as local) is where a successful login goes."""
    body = (f'{_message(error)}<form method="post" action="{escape(_url("login.login", lang))}">'
            f'<label for="name">{_say(lang, "name")}</label>'
            f'<input id="name" name="name" value="{escape(name)}" autocomplete="username" autocapitalize="none" '
            f'spellcheck="false" maxlength="64" required{"" if name else " autofocus"}>'
            f'<label for="password">{_say(lang, "password")}</label>'
            f'<input id="password" name="password" type="password" autocomplete="current-password" required'
            f'{" autofocus" if name else ""}>'
            f'{_hidden("next", next_path)}{_hidden(LOGIN_FORM_FIELD, form_token)}'
            f'<button type="submit">{_say(lang, "login")}</button></form>')
    switch = url_for("login.login_form", **({} if lang == "en" else {"lang": "en"}), next=next_path)
    return _page(lang, login_word(lang, "login_title"), body, status=status, switch=switch, headers=headers)


def password_page(lang: str, *, csrf_token: str, min_length: int, error: str | None = None, done: bool = False,
                  status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The form to change one's own password, or, once ``done``, the word that it is changed."""
    back = f'<p class="ms-links"><a href="{escape(_url("screen.page", lang))}">{_say(lang, "to_screen")}</a></p>'
    if done:
        body = _message(login_word(lang, "password_changed"), kind="done") + back
    else:
        fields = "".join(
            f'<label for="{field}">{_say(lang, field)}</label><input id="{field}" name="{field}" type="password" '
            f'autocomplete="{auto}" required{" autofocus" if field == "current_password" else ""}'
            f'{f" minlength={min_length}" if auto == "new-password" else ""}>'
            for field, auto in (("current_password", "current-password"), ("new_password", "new-password"),
                                ("new_password_again", "new-password")))
        body = (f'{_message(error)}<form method="post" action="{escape(_url("login.change_password", lang))}">'
                f'{fields}<p class="ms-hint">{_say(lang, "password_rules", min=min_length)}</p>'
                f'{_hidden(CSRF_FIELD, csrf_token)}<button type="submit">{_say(lang, "save")}</button></form>{back}')
    switch = url_for("login.password_form", **({} if lang == "en" else {"lang": "en"}))
    return _page(lang, login_word(lang, "password_title"), body, status=status, switch=switch, headers=headers)


def logout_page(lang: str, *, csrf_token: str, name: str, role: str) -> Response:
    """Who is logged in, and the button that logs out (a GET never does: another site could link to it)."""
    role_label = ROLE_LABELS.get(role, (role, role))[0 if lang == "zh" else 1]
    body = (f'<p>{_say(lang, "logged_in_as", name=name, role=role_label)}</p>'
            f'<form method="post" action="{escape(_url("login.logout", lang))}">{_hidden(CSRF_FIELD, csrf_token)}'
            f'<button type="submit">{_say(lang, "logout")}</button></form>'
            f'<p class="ms-links"><a href="{escape(_url("login.password_form", lang))}">'
            f'{_say(lang, "change_password")}</a> · '
            f'<a href="{escape(_url("screen.page", lang))}">{_say(lang, "to_screen")}</a></p>')
    switch = url_for("login.logout_form", **({} if lang == "en" else {"lang": "en"}))
    return _page(lang, login_word(lang, "logout_title"), body, status=200, switch=switch)


def login_redirect(lang: str) -> Response:
    """303 to the login page, which returns the person to this request's page once they are in; a session
    cookie that no longer opens a session is cleared on the way."""
    here = request.script_root + request.path + (f"?{request.query_string.decode('latin-1')}"
                                                 if request.query_string else "")
    query = {"next": here, **({"lang": "en"} if lang == "en" else {})}
    resp = redirect(url_for("login.login_form") + "?" + urlencode(query), 303)
    no_store(resp)
    if SESSION_COOKIE in request.cookies:
        clear_session_cookie(resp)
    return resp
