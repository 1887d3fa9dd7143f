"""The work desk's page (``/desk``): a server-written shell that ``static/desk/desk.js`` fills from
``/api/desk/queue``, zh-CN by default and English with ``?lang=en``.

The page holds no case data: every case arrives as JSON and is written as text by the script. What the shell
carries (labels, the person's name, the jurisdiction's name) is escaped into attributes and elements here. The
policy allows this server's own scripts, styles and fetches only (:func:`mapserver.desk_shell.desk_page_policy`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from flask import Response, url_for

from mapserver.desk_shell import desk_page_policy, page_response
from mapserver.i18n import HTML_LANG, desk_word, desk_words, word
from mapserver.incidents.queue import TABS


@dataclass(frozen=True)
class DeskView:
    """What one desk page shows around the queue: language, who asks, their reach, the filters' choices."""

    lang: str
    person: str  # name (and role) as shown
    reach: str  # the jurisdiction's name
    categories: dict[str, str]  # code → label in the page's language
    units: Sequence[str]  # configured units (none: typed in)
    timezone: str  # incidents.timezone: times on the page are local there
    desks: Sequence[tuple[str, str]] = ()  # (endpoint, label key) of the other desk pages this person may open


def _select(name: str, label: str, options: dict[str, str], any_label: str) -> str:
    choices = "".join(f'<option value="{escape(k)}">{escape(v)}</option>' for k, v in options.items())
    return (f'<label class="ms-filter"><span>{escape(label)}</span><select id="f-{name}" name="{name}">'
            f'<option value="">{escape(any_label)}</option>{choices}</select></label>')


def _input(name: str, label: str, *, kind: str = "text", extra: str = "") -> str:
    return (f'<label class="ms-filter"><span>{escape(label)}</span><input id="f-{name}" name="{name}" '
            f'type="{kind}"{extra}></label>')


def desk_page(view: DeskView) -> Response:
    """The whole page for ``view``."""
    lang = view.lang
    say = lambda key: escape(desk_word(lang, key))  # noqa: E731 - a local shorthand
    labels = desk_words(lang)
    enums = labels["enums"]
    tabs = "".join(
        f'<button type="button" role="tab" class="ms-tab ms-tab-{t.key}" data-tab="{t.key}" aria-selected="false">'
        f'<span class="ms-tab-key">{n}</span><span class="ms-tab-name">{say("tab_" + t.key)}</span>'
        f'<span class="ms-count" data-count="{t.key}">–</span></button>'
        for n, t in enumerate(TABS, start=1))
    unit = (_select("unit", desk_word(lang, "unit"), {u: u for u in view.units}, desk_word(lang, "any"))
            if view.units else _input("unit", desk_word(lang, "unit"), extra=' maxlength="100"'))
    filters = (_select("category", desk_word(lang, "category"), view.categories, desk_word(lang, "any"))
               + _select("severity", desk_word(lang, "severity"), enums["severity"], desk_word(lang, "any"))
               + _select("warning", desk_word(lang, "warning"), enums["warning"], desk_word(lang, "any"))
               + _input("grid", desk_word(lang, "grid"), extra=' maxlength="64" autocomplete="off"')
               + unit
               + _select("source", desk_word(lang, "source"), labels["sources"], desk_word(lang, "any"))
               + _input("since", desk_word(lang, "since"), kind="date")
               + _input("until", desk_word(lang, "until"), kind="date")
               + f'<button type="button" id="f-clear">{say("clear")}</button>')
    heads = "".join(f'<th scope="col">{say(k)}</th>' for k in ("id", "reported_at", "category", "severity", "status",
                                                                 "what", "grid", "unit", "due_at", "warning"))
    other = "en" if lang == "zh" else "zh"
    switch = url_for("desk.page", **({"lang": "en"} if other == "en" else {}))
    screen = url_for("screen.page", **({"lang": "en"} if lang == "en" else {}))
    desks = "".join(f'<a href="{escape(url_for(endpoint, **({"lang": "en"} if lang == "en" else {})))}">'
                    f'{say(key)}</a>' for endpoint, key in view.desks)
    words_json = json.dumps({**labels, "categories": view.categories}, ensure_ascii=False, separators=(",", ":"))
    html = (
        f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}" data-desk="loading"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{say("title")} · {escape(word(lang, "page_title"))}</title>'
        f'<link rel="stylesheet" href="{url_for("static", filename="desk/desk.css")}">'
        f'<link rel="icon" href="{url_for("static", filename="screen/icon.svg")}">'
        f'<script type="module" src="{url_for("static", filename="desk/desk.js")}"></script></head>'
        f'<body data-lang="{lang}" data-timezone="{escape(view.timezone)}" data-api="{escape(url_for("desk.queue"))}" '
        f'data-cases="{escape(url_for("desk.page"))}/cases/" data-words="{escape(words_json)}">'
        f'<header class="ms-bar"><div class="ms-titles"><p class="ms-brand">{say("brand")}</p>'
        f'<h1>{say("title")}</h1></div><p class="ms-who"><span class="ms-person">{escape(view.person)}</span>'
        f'<span class="ms-reach">{escape(view.reach)}</span></p><nav class="ms-links">'
        f'<a href="{escape(screen)}">{say("to_screen")}</a>{desks}'
        f'<a href="{escape(switch)}" lang="{HTML_LANG[other]}">{say("other_lang")}</a></nav>'
        f'<p class="ms-status"><span id="updated"></span><span id="offline" hidden>{say("offline")}</span></p>'
        '</header>'
        f'<nav class="ms-tabs" role="tablist">{tabs}</nav>'
        f'<form class="ms-filters" id="filters" role="search"><label class="ms-search"><span>{say("search")}</span>'
        f'<input id="f-q" name="q" type="search" maxlength="100" autocomplete="off" '
        f'placeholder="{say("search_placeholder")}"></label>{filters}</form>'
        f'<main class="ms-queue"><table class="ms-table" id="queue"><thead><tr>{heads}</tr></thead>'
        '<tbody></tbody></table>'
        f'<p class="ms-empty" id="empty" hidden>{say("none")}</p></main>'
        f'<footer class="ms-pager"><button type="button" id="prev">{say("prev")}</button><span id="page-of"></span>'
        f'<button type="button" id="next">{say("next")}</button><span class="ms-keys">{say("keys")}</span></footer>'
        '</body></html>')
    return page_response(html, desk_page_policy())
