"""The grid workers' assessment page (``/desk/assessment``): a server-written shell that
``static/assessment/assessment.js`` fills from ``/api/assessment``, zh-CN by default and English with ``?lang=en``.

The page holds no figures: every row arrives as JSON and is written as text by the script, so a person's name is
never read as markup. The table sorts by any column (worst first to begin with); a row opens that worker's month
day by day (Enter or a click). It shares the unit scorecards' style sheet and adds its own few rules. What the
shell carries (labels, the person's name, the jurisdiction's name) is escaped here. The policy allows this
server's own scripts, styles and fetches only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

from flask import Response, url_for

from mapserver.desk_shell import desk_page_policy, page_response
from mapserver.i18n import HTML_LANG, assessment_word, assessment_words

COLUMNS = (("name", "text"), ("grade", "grade"), ("score", "num"), ("reported", "num"), ("handled", "num"),
           ("reopened", "num"), ("satisfaction", "num"), ("distance", "num"), ("hours", "num"), ("in_grid", "num"),
           ("stops", "num"), ("reasons", None))
"""The table's columns and how each sorts (None: it does not)."""


@dataclass(frozen=True)
class AssessmentView:
    """What one assessment page shows around the table: language, who asks, their reach, the month it opens on."""

    lang: str
    person: str  # name (and role) as shown
    reach: str  # the jurisdiction's name
    month: str  # YYYY-MM: the current local month


def assessment_page(view: AssessmentView) -> Response:
    """The whole page for ``view``."""
    lang = view.lang
    say = lambda key: escape(assessment_word(lang, key))  # noqa: E731 - a local shorthand
    heads = "".join(
        f'<th scope="col" data-col="{c}"'
        + (f' data-sort="{how}" aria-sort="none"><button type="button" class="as-sort">{say(c)}</button>'
           if how else f'>{say(c)}') + "</th>" for c, how in COLUMNS)
    other = "en" if lang == "zh" else "zh"
    switch = url_for("assessment.page", **({"lang": "en"} if other == "en" else {}))
    desk = url_for("desk.page", **({"lang": "en"} if lang == "en" else {}))
    words_json = json.dumps(assessment_words(lang), ensure_ascii=False, separators=(",", ":"))
    html = (
        f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}" data-assessment="loading"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{say("title")} · {say("brand")}</title>'
        f'<link rel="stylesheet" href="{url_for("static", filename="scorecards/scorecards.css")}">'
        f'<link rel="stylesheet" href="{url_for("static", filename="assessment/assessment.css")}">'
        f'<link rel="icon" href="{url_for("static", filename="screen/icon.svg")}">'
        f'<script type="module" src="{url_for("static", filename="assessment/assessment.js")}"></script></head>'
        f'<body data-lang="{lang}" data-api="{escape(url_for("assessment.table"))}" '
        f'data-words="{escape(words_json)}">'
        f'<header class="ms-bar"><div class="ms-titles"><p class="ms-brand">{say("brand")}</p>'
        f'<h1>{say("title")}</h1></div><p class="ms-who"><span class="ms-person">{escape(view.person)}</span>'
        f'<span class="ms-reach">{escape(view.reach)}</span></p><nav class="ms-links">'
        f'<a href="{escape(desk)}">{say("to_desk")}</a>'
        f'<a href="{escape(switch)}" lang="{HTML_LANG[other]}">{say("other_lang")}</a></nav></header>'
        '<form class="ms-filters" id="period">'
        f'<label><span>{say("month")}</span><input id="f-month" name="month" type="month" required '
        f'value="{escape(view.month)}" max="{escape(view.month)}"></label>'
        f'<label><span>{say("grid")}</span><input id="f-grid" name="grid" type="text" maxlength="64" '
        'autocomplete="off"></label>'
        f'<button type="submit">{say("apply")}</button>'
        f'<a id="csv" class="ms-download" href="#" download>{say("download_csv")}</a>'
        f'<a id="xlsx" class="ms-download" href="#" download>{say("download_xlsx")}</a>'
        '<span id="status" class="ms-status" role="status"></span></form>'
        f'<main class="ms-board"><table class="ms-table" id="workers"><thead><tr>{heads}</tr></thead>'
        '<tbody></tbody></table>'
        f'<p class="ms-empty" id="empty" hidden>{say("none")}</p>'
        '<section id="person" class="as-person" hidden aria-live="polite"><header class="as-person-head">'
        f'<h2 id="person-title"></h2><button type="button" id="person-close">{say("close")}</button></header>'
        '<ul id="person-reasons" class="ms-reasons"></ul>'
        f'<table class="ms-table" id="days"><thead><tr><th scope="col">{say("day")}</th>'
        f'<th scope="col">{say("fixes")}</th><th scope="col">{say("distance")} (km)</th>'
        f'<th scope="col">{say("hours")} (h)</th><th scope="col">{say("in_grid")} (h)</th></tr></thead>'
        f'<tbody></tbody></table><p class="as-note">{say("today_note")}</p></section></main>'
        '</body></html>')
    return page_response(html, desk_page_policy())
