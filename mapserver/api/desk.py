"""The work desk (工单台): its page at ``/desk`` and its queue at ``/api/desk/queue``.

The queue answers ``{counts, items, page, pages, tab}``: every tab's count and one page (50 cases) of the chosen
tab, all within the asker's jurisdiction and the filters in the query. Its ETag names the incidents' data
version, the jurisdiction, the query and the clock's minute (overdue and "closed today" move with the clock),
so the page's poll every 2 s costs a 304 while nothing changed. Times in a query without an offset are local
time in ``incidents.timezone``; times in answers are UTC ISO 8601.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from mapserver.api.desk_common import json_answer, login_on_401, page_lang
from mapserver.app_state import state, store
from mapserver.auth import current_principal, request_jurisdiction
from mapserver.desk_page import DeskView, desk_page
from mapserver.errors import Problem
from mapserver.i18n import desk_word
from mapserver.incidents.deadlines import WARNINGS
from mapserver.incidents.queue import BY_KEY, PAGE_SIZE, TAB_KEYS, TABS, pages, queue_item, today_start
from mapserver.model import INCIDENT_SOURCES, SEVERITIES
from mapserver.parsing import parse_choice, parse_int, parse_time, reject_unknown
from mapserver.roles import allowed_roles, role_label
from mapserver.screen.answers import AnswerCache
from mapserver.store.desk import DeskFilter
from mapserver.store.incidents import IncidentFilter

bp = Blueprint("desk", __name__)
EXTENSION = "mapserver.desk"
FILTER_PARAMS = ("category", "severity", "warning", "grid", "unit", "source", "since", "until", "q")
QUEUE_PARAMS = ("tab", *FILTER_PARAMS, "page")
PAGE_PARAMS = ("lang", "tab", *FILTER_PARAMS)
"""What the page's address may carry: the tab and filters it opens on (e.g. from a scorecard's row); the page's
script reads them into its fields, and the queue's API checks them as it does every filter."""
TEXT_LIMITS = {"grid": 64, "unit": 100, "q": 100}
CLOCK_BUCKET_S = 60  # overdue and "closed today" are worked out once a minute: the answer's key names the minute
MAX_PAGE = 1_000_000
OTHER_DESKS = (("intake_desk.page", "to_intake"), ("patrol_desk.page", "to_patrols"),
               ("scorecards.page", "to_scorecards"), ("assessment.page", "to_assessment"))
"""The other desk pages, linked from the queue's header for the roles the role table lets open them."""


def _init(app: Flask) -> None:
    app.extensions[EXTENSION] = AnswerCache(max_bytes=16 * 1024 * 1024)


bp.record_once(lambda setup: _init(setup.app))


# A browser whose session ended goes to the login page, and comes back to the desk afterwards.
login_on_401(bp, is_page=lambda path: path.endswith("/desk"))


@bp.get("/desk")
def page() -> Response:
    reject_unknown(request.args, PAGE_PARAMS)
    lang, settings = page_lang(), state().settings.incidents
    principal, within = current_principal(), request_jurisdiction()
    person = ""
    if principal is not None:
        person = f"{principal.display_name or principal.name} · {role_label(principal.role, lang)}"
    categories = dict(settings.categories) if lang == "zh" else {k: k.replace("_", " ") for k in settings.categories}
    role = principal.role if principal is not None else None
    desks = [(endpoint, key) for endpoint, key in OTHER_DESKS if role in (allowed_roles(endpoint, "GET") or ())]
    return desk_page(DeskView(lang=lang, person=person, reach=within.name or within.code or desk_word(lang, "whole"),
                              categories=categories, units=sorted(settings.units),
                              timezone=settings.timezone, desks=desks))


def _text(name: str) -> str | None:
    value = request.args.get(name)
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > TEXT_LIMITS[name] or any(ord(c) < 32 for c in value):
        raise Problem(400, f"{name} must be at most {TEXT_LIMITS[name]} characters, without control characters",
                      param=name)
    return value


def _query() -> tuple[str, DeskFilter, int]:
    """The tab, the filter (inside the asker's jurisdiction) and the page asked for."""
    args, settings = request.args, state().settings.incidents
    reject_unknown(args, QUEUE_PARAMS)
    tab = parse_choice("tab", args.get("tab") or None, TAB_KEYS) or TAB_KEYS[0]
    where = DeskFilter(
        incidents=IncidentFilter(
            since=parse_time("since", args.get("since") or None, zone=settings.timezone),
            until=parse_time("until", args.get("until") or None, zone=settings.timezone),
            category=parse_choice("category", args.get("category") or None, settings.categories),
            severity=parse_choice("severity", args.get("severity") or None, SEVERITIES),
            grid=_text("grid"),
            warning=parse_choice("warning", args.get("warning") or None, WARNINGS),
            within=request_jurisdiction()),
        unit=_text("unit"),
        source=parse_choice("source", args.get("source") or None, INCIDENT_SOURCES),
        search=_text("q"))
    number = parse_int("page", args.get("page") or None, default=1, low=1, high=MAX_PAGE)
    return tab, where, number


def _answer(tab: str, where: DeskFilter, number: int, now: datetime) -> dict[str, Any]:
    settings = state().settings.incidents
    today = today_start(now, settings.timezone)
    current = store()
    # The warning filter compares with the same "now" as the tabs.
    where = replace(where, incidents=replace(where.incidents, now=now))
    counts = current.desk.counts(TABS, where, now=now, today=today)
    total = counts[tab]
    found = current.desk.page(BY_KEY[tab], where, now=now, today=today, limit=PAGE_SIZE,
                              offset=(number - 1) * PAGE_SIZE)
    return {"tab": tab, "counts": counts, "total": total, "page": number, "pages": pages(total),
            "page_size": PAGE_SIZE, "now": now.isoformat(),
            "items": [queue_item(i, settings=settings, now=now) for i in found]}


@bp.get("/api/desk/queue")
def queue() -> Response:
    tab, where, number = _query()
    clock = int(datetime.now(UTC).timestamp()) // CLOCK_BUCKET_S * CLOCK_BUCKET_S
    now = datetime.fromtimestamp(clock, UTC)  # the answer is the same for everyone asking within the minute
    within = where.incidents.within
    inc = where.incidents
    query = (tab, inc.category or "", inc.severity or "", inc.warning or "", inc.grid or "", where.unit or "",
             where.source or "", inc.since.isoformat() if inc.since else "", inc.until.isoformat() if inc.until else "",
             where.search or "", number)
    # The jurisdiction is part of the key: one street never gets another's answer, nor its ETag.
    key = ("desk", store().layers.data_version("incidents"), within.code or "", query, clock)
    return json_answer(key, lambda: _answer(tab, where, number, now), current_app.extensions[EXTENSION])
