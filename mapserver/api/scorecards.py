"""Unit scorecards (单位考评, 三色预警): the page at ``/desk/scorecards`` and the rows at ``/api/scorecards``.

``GET /api/scorecards?by=unit|street|community&since=&until=&format=json|csv|xlsx&lang=zh|en`` answers one row per
unit, street or community with cases reported in the window, inside the asker's jurisdiction, worst first
(:mod:`mapserver.incidents.scorecards`). The window is on the report time: ``since`` inclusive, ``until``
exclusive, except that a plain date as ``until`` takes in that whole day; dates and times without an offset are
local time in ``incidents.timezone``. Without them it is the last ``scorecards.window_days`` days up to now.

The JSON answer carries an ETag naming the incidents' and grids' data versions, the jurisdiction, the query and
the clock's minute ("open past due" and a window ending now move with the clock): asked again with
``If-None-Match`` while nothing changed, it is a 304. The CSV and Excel downloads are not cached.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from mapserver.api.desk_common import json_answer, login_on_401, page_lang
from mapserver.app_state import state, store
from mapserver.auth import current_principal, request_jurisdiction
from mapserver.errors import Problem
from mapserver.i18n import scorecard_word
from mapserver.incidents.scorecard_files import csv_bytes, xlsx_bytes
from mapserver.incidents.scorecards import Scorecard, as_json, scorecards
from mapserver.parsing import parse_choice, parse_time, reject_unknown
from mapserver.roles import role_label
from mapserver.scorecards_page import ScorecardView, scorecards_page
from mapserver.screen.access import no_store
from mapserver.screen.answers import AnswerCache
from mapserver.store.scorecards import GROUPINGS

bp = Blueprint("scorecards", __name__)
BY = tuple(GROUPINGS)
FORMATS = ("json", "csv", "xlsx")
LEVELS = {"street": 1, "community": 2}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSION = "mapserver.scorecards"
CLOCK_BUCKET_S = 60  # the figures are worked out once a minute: the answer's key names the minute


def _init(app: Flask) -> None:
    app.extensions[EXTENSION] = AnswerCache(max_bytes=4 * 1024 * 1024)


bp.record_once(lambda setup: _init(setup.app))


# A browser whose session ended goes to the login page, and comes back to the scorecards afterwards.
login_on_401(bp, is_page=lambda path: path.endswith("/desk/scorecards"))


@bp.get("/desk/scorecards")
def page() -> Response:
    reject_unknown(request.args, ("lang",))
    lang = page_lang()
    principal, within = current_principal(), request_jurisdiction()
    person = ""
    if principal is not None:
        person = f"{principal.display_name or principal.name} · {role_label(principal.role, lang)}"
    return scorecards_page(ScorecardView(lang=lang, person=person,
                                         reach=within.name or within.code or scorecard_word(lang, "whole"),
                                         window_days=state().settings.scorecards.window_days,
                                         timezone=state().settings.incidents.timezone))


def _window(now: datetime) -> tuple[datetime, datetime]:
    """[since, until) in UTC from the query, checked: in order and no longer than ``scorecards.max_days``."""
    args, settings = request.args, state().settings
    zone = settings.incidents.timezone
    since_text, until_text = args.get("since") or None, args.get("until") or None
    until = parse_time("until", until_text, zone=zone)
    if until is not None and until_text is not None and "T" not in until_text and " " not in until_text:
        until += timedelta(days=1)  # a plain date: that whole day
    until = until or now
    since = parse_time("since", since_text, zone=zone) or until - timedelta(days=settings.scorecards.window_days)
    if since >= until:
        raise Problem(400, "since must come before until", param="since")
    if until - since > timedelta(days=settings.scorecards.max_days):
        raise Problem(400, f"the window may be at most {settings.scorecards.max_days} days", param="since")
    return since, until


def _names(by: str) -> dict[str, str]:
    """Grid code → name for a street or community scorecard (within the asker's reach)."""
    if by not in LEVELS:
        return {}
    return {g.code: g.name or g.code for g in store().grids.of_level(LEVELS[by], within=request_jurisdiction())}


def _filename(by: str, since: datetime, until: datetime, ext: str) -> str:
    return f"scorecards-{by}-{since:%Y%m%d}-{until:%Y%m%d}.{ext}"


@bp.get("/api/scorecards")
def table() -> Response:
    args = request.args
    reject_unknown(args, ("by", "since", "until", "format", "lang"))
    by = parse_choice("by", args.get("by") or None, BY) or "unit"
    kind = parse_choice("format", args.get("format") or None, FORMATS) or "json"
    lang = page_lang()
    clock = int(datetime.now(UTC).timestamp()) // CLOCK_BUCKET_S * CLOCK_BUCKET_S
    now = datetime.fromtimestamp(clock, UTC)  # the answer is the same for everyone asking within the minute
    since, until = _window(now)
    if kind == "json":
        within = request_jurisdiction()
        # The jurisdiction is part of the key: one street never gets another's answer, nor its ETag.
        key = ("scorecards", store().layers.data_version("incidents"), store().layers.data_version("grids"),
               within.code or "", by, lang, since.isoformat(), until.isoformat(), clock)
        return json_answer(key, lambda: _json(by, since, until, now, lang), current_app.extensions[EXTENSION])
    cards = _cards(by, since, until, now)
    data = csv_bytes(cards, by=by, lang=lang) if kind == "csv" else xlsx_bytes(cards, by=by, lang=lang)
    resp = Response(data, content_type="text/csv; charset=utf-8" if kind == "csv" else XLSX)
    resp.headers["Content-Disposition"] = f'attachment; filename="{_filename(by, since, until, kind)}"'
    return no_store(resp)


def _cards(by: str, since: datetime, until: datetime, now: datetime) -> list[Scorecard]:
    """The scorecards of the window inside the asker's jurisdiction, worst first."""
    figures = store().scorecards.figures(by=by, since=since, until=until, now=now, within=request_jurisdiction())
    return scorecards(figures, state().settings.scorecards, _names(by))


def _json(by: str, since: datetime, until: datetime, now: datetime, lang: str) -> dict[str, Any]:
    settings = state().settings.scorecards
    return {"by": by, "since": since.isoformat(), "until": until.isoformat(), "now": now.isoformat(),
            "min_cases": settings.min_cases, "red": settings.red.model_dump(), "yellow": settings.yellow.model_dump(),
            "rows": [as_json(card, lang) for card in _cards(by, since, until, now)]}
