"""The administrators' page of a camera's video addresses (``/admin/cameras/video``): find a camera by its code, see
its stream and snapshot addresses, change or clear them.

Server-written HTML with no script, in the accounts page's look (``static/login/login.css``,
``static/admin/admin.css``), zh-CN by default and English with ``?lang=en``. The form posts the session's
``csrf_token``; every value shown (codes, names, addresses, what was typed) is escaped. The policy is the login
pages' (:func:`~mapserver.screen.csp.form_page_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from flask import Response, url_for

from mapserver.i18n import HTML_LANG, login_word
from mapserver.screen.access import no_store
from mapserver.screen.csp import form_page_policy
from mapserver.sessions import CSRF_FIELD
from mapserver.video.addresses import MAX_URL

_WORDS = {
    "zh": {"title": "视频流地址", "code": "摄像机编码", "find": "查找", "name": "名称",
           "stream_url": "视频流地址（HLS .m3u8）", "snapshot_url": "抓图地址", "save": "保存",
           "hint": "http:// 或 https:// 地址；留空表示无。浏览器直接从视频平台播放，"
                   "其主机须列于 video.stream_origins。",
           "saved": "摄像机 {code} 的视频地址已保存。",
           "not_found": "找不到编码为 {code} 的摄像机（或不在您的辖区内）。",
           "accounts": "账号管理"},
    "en": {"title": "Video addresses", "code": "Camera code", "find": "Find", "name": "Name",
           "stream_url": "Stream address (HLS .m3u8)", "snapshot_url": "Snapshot address", "save": "Save",
           "hint": "An http:// or https:// address; empty for none. Browsers play it straight from the video "
                   "platform, whose host must be listed in video.stream_origins.",
           "saved": "The video addresses of camera {code} were saved.",
           "not_found": "No camera with code {code} (or not in your jurisdiction).", "accounts": "Accounts"},
}


def video_word(lang: str, key: str, **figures: object) -> str:
    """One of the page's labels in ``lang``, with its ``{figures}`` filled in."""
    return _WORDS["zh" if lang == "zh" else "en"][key].format(**figures)


@dataclass(frozen=True)
class VideoAdminView:
    """One page: the camera asked for (its code as typed, its name when found) and its addresses as stored or as
    typed after a refusal, and what just happened."""

    lang: str
    csrf_token: str
    code: str = ""
    name: str | None = None  # None: no camera found (yet)
    stream_url: str = ""
    snapshot_url: str = ""
    done: str | None = None
    error: str | None = None


def _say(lang: str, key: str, **figures: object) -> str:
    return escape(video_word(lang, key, **figures))


def _url(endpoint: str, lang: str) -> str:
    return escape(url_for(endpoint, **({"lang": "en"} if lang == "en" else {})))


def _address(view: VideoAdminView, field: str, value: str) -> str:
    return (f'<div class="ms-field"><label for="{field}">{_say(view.lang, field)}</label>'
            f'<input id="{field}" name="{field}" type="url" value="{escape(value)}" maxlength="{MAX_URL}" '
            'inputmode="url" spellcheck="false" autocomplete="off" aria-describedby="video-hint"></div>')


def video_admin_page(view: VideoAdminView, *, status: int = 200) -> Response:
    """The whole page for ``view``."""
    lang = view.lang
    message = (f'<p class="ms-error" role="alert">{escape(view.error)}</p>' if view.error
               else f'<p class="ms-done" role="status">{escape(view.done)}</p>' if view.done else "")
    find = (f'<form method="get" action="{_url("video_admin.page", lang)}" class="ms-row-form" id="find">'
            + ('<input type="hidden" name="lang" value="en">' if lang == "en" else "")
            + f'<div class="ms-field"><label for="code">{_say(lang, "code")}</label><input id="code" name="code" '
              f'value="{escape(view.code)}" maxlength="64" spellcheck="false" autocomplete="off" required></div>'
              f'<button type="submit">{_say(lang, "find")}</button></form>')
    edit = ""
    if view.name is not None:
        edit = (f'<section id="camera"><h2>{escape(view.name)} <code>{escape(view.code)}</code></h2>'
                f'<form method="post" action="{_url("video_admin.save", lang)}" id="edit">'
                f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(view.csrf_token)}">'
                f'<input type="hidden" name="code" value="{escape(view.code)}">'
                + _address(view, "stream_url", view.stream_url) + _address(view, "snapshot_url", view.snapshot_url)
                + f'<p class="ms-hint" id="video-hint">{_say(lang, "hint")}</p>'
                  f'<button type="submit">{_say(lang, "save")}</button></form></section>')
    title = video_word(lang, "title")
    nav = (f'<nav class="ms-links ms-top"><a href="{_url("screen.page", lang)}">'
           f'{escape(login_word(lang, "to_screen"))}</a><a href="{_url("admin.accounts", lang)}">'
           f'{_say(lang, "accounts")}</a></nav>')
    html = (f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)} · {escape(login_word(lang, "brand"))}</title>'
            f'<link rel="stylesheet" href="{url_for("static", filename="login/login.css")}">'
            f'<link rel="stylesheet" href="{url_for("static", filename="admin/admin.css")}">'
            f'<link rel="icon" href="{url_for("static", filename="screen/icon.svg")}"></head>'
            f'<body class="ms-admin"><main class="ms-card ms-wide"><header class="ms-head"><div>'
            f'<p class="ms-brand">{escape(login_word(lang, "brand"))}</p><h1>{escape(title)}</h1></div>{nav}'
            f'</header>{message}{find}{edit}</main></body></html>')
    resp = no_store(Response(html, status=status, mimetype="text/html"))
    resp.headers["Content-Security-Policy"] = form_page_policy()
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "same-origin"  # not no-referrer: the form's POST must carry its origin
    return resp
