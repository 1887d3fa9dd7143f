"""The unit scorecards' page (``/desk/scorecards``): a server-written shell that ``static/scorecards/scorecards.js``
fills from ``/api/scorecards``, zh-CN by default and English with ``?lang=en``.

The page holds no figures: every row arrives as JSON and is written as text by the script, so a unit's name is
never read as markup. Each row's name links to the work desk's queue filtered to that unit (or street or
community) and period. What the shell carries (labels, the person's name, the jurisdiction's name) is escaped here.
The policy allows this server's own scripts, styles and fetches only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from flask import Response, url_for

from mapserver.desk_shell import desk_page_policy, page_response
from mapserver.i18n import HTML_LANG, scorecard_word, scorecard_words

TABS = ("unit", "street", "community")
COLUMNS = ("name", "colour", "cases", "on_time_rate", "closure_rate", "satisfaction_rate", "returns",
           "reopen_count", "reasons")


@dataclass(frozen=True)
class ScorecardView:
    """What one scorecards page shows around the table: language, who asks, their reach, the default window."""

    lang: str
    person: str  # name (and role) as shown
    reach: str  # the jurisdiction's name
    window_days: int  # scorecards.window_days: the period the pickers open on, ending today
    timezone: str  # incidents.timezone: the pickers' dates are local there


def scorecards_page(view: ScorecardView) -> Response:
    """The whole page for ``view``."""
    lang = view.lang
    say = lambda key: escape(scorecard_word(lang, key))  # noqa: E731 - a local shorthand
    today = datetime.now(UTC).astimezone(ZoneInfo(view.timezone)).date()
    since = today - timedelta(days=view.window_days - 1)  # with today itself: window_days days
    tabs = "".join(
        f'<button type="button" role="tab" class="ms-tab" data-by="{t}" aria-selected="{str(n == 0).lower()}">'
        f'{say("by_" + t)}</button>' for n, t in enumerate(TABS))
    heads = "".join(f'<th scope="col" data-col="{c}">{say(c)}</th>' for c in COLUMNS)
    other = "en" if lang == "zh" else "zh"
    switch = url_for("scorecards.page", **({"lang": "en"} if other == "en" else {}))
    desk = url_for("desk.page", **({"lang": "en"} if lang == "en" else {}))
    words_json = json.dumps(scorecard_words(lang), ensure_ascii=False, separators=(",", ":"))
    html = (
        f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}" data-scorecards="loading"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{say("title")} · {say("brand")}</title>'
        f'<link rel="stylesheet" href="{url_for("static", filename="scorecards/scorecards.css")}">'
        f'<link rel="icon" href="{url_for("static", filename="screen/icon.svg")}">'
        f'<script type="module" src="{url_for("static", filename="scorecards/scorecards.js")}"></script></head>'
        f'<body data-lang="{lang}" data-api="{escape(url_for("scorecards.table"))}" data-desk="{escape(desk)}" '
        f'data-words="{escape(words_json)}">'
        f'<header class="ms-bar"><div class="ms-titles"><p class="ms-brand">{say("brand")}</p>'
        f'<h1>{say("title")}</h1></div><p class="ms-who"><span class="ms-person">{escape(view.person)}</span>'
        f'<span class="ms-reach">{escape(view.reach)}</span></p><nav class="ms-links">'
        f'<a href="{escape(desk)}">{say("to_desk")}</a>'
        f'<a href="{escape(switch)}" lang="{HTML_LANG[other]}">{say("other_lang")}</a></nav></header>'
        f'<nav class="ms-tabs" role="tablist">{tabs}</nav>'
        '<form class="ms-filters" id="period">'
        f'<label><span>{say("since")}</span><input id="f-since" name="since" type="date" required '
        f'value="{since.isoformat()}"></label>'
        f'<label><span>{say("until")}</span><input id="f-until" name="until" type="date" required '
        f'value="{today.isoformat()}"></label>'
        f'<button type="submit">{say("apply")}</button>'
        f'<a id="csv" class="ms-download" href="#" download>{say("download_csv")}</a>'
        f'<a id="xlsx" class="ms-download" href="#" download>{say("download_xlsx")}</a>'
        '<span id="status" class="ms-status" role="status"></span></form>'
        f'<main class="ms-board"><table class="ms-table" id="cards"><thead><tr>{heads}</tr></thead>'
        '<tbody></tbody></table>'
        f'<p class="ms-empty" id="empty" hidden>{say("none")}</p></main>'
        '</body></html>')
    return page_response(html, desk_page_policy())
