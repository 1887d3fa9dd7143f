"""The grid workers' monthly assessment (网格员考核): the page at ``/desk/assessment`` and the rows at
``/api/assessment``.

``GET /api/assessment?month=YYYY-MM&grid=CODE&format=json|csv|xlsx&lang=zh|en`` answers one row per grid worker
(accounts of role ``field``) of the asker's jurisdiction (narrowed to the subtree of ``grid``) over the local month
(``incidents.timezone``; default the current one), worst first (:mod:`mapserver.assessment`). A grid worker asking
gets their own row only. ``GET /api/assessment/people/<person>?month=`` answers one worker's row and their
days. A month's patrol figures sum its finished days (kept per person and day, :mod:`mapserver.assessment.days`);
today's so far is listed among a worker's days (``"today": true``) but not counted.

The JSON answers carry an ETag naming the incidents' and grids' data versions, the asker's jurisdiction (and, for a
grid worker, their name), the query and the clock's minute (fixes, patrols and today's measures move with the
clock): asked again with ``If-None-Match`` while nothing changed, it is a 304. The CSV and Excel downloads are not
cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, request

from mapserver.api.desk_common import json_answer, login_on_401, page_lang
from mapserver.app_state import state, store
from mapserver.assessment.days import today_of
from mapserver.assessment.files import csv_bytes, xlsx_bytes
from mapserver.assessment.grading import as_json, day_json, settings_json
from mapserver.assessment.month import Month, parse_month
from mapserver.assessment.monthly import MonthAssessment, assess_month
from mapserver.assessment_page import AssessmentView, assessment_page
from mapserver.auth import current_principal, request_jurisdiction
from mapserver.errors import Problem
from mapserver.i18n import assessment_word
from mapserver.parsing import parse_choice, reject_unknown
from mapserver.roles import role_label
from mapserver.screen.access import no_store
from mapserver.screen.answers import AnswerCache
from mapserver.store.assessment import WORKER_ROLE, WorkerScope

bp = Blueprint("assessment", __name__)
FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSION = "mapserver.assessment"
CLOCK_BUCKET_S = 60  # the figures are worked out once a minute: the answer's key names the minute
MAX_NAME = 64


def _init(app: Flask) -> None:
    app.extensions[EXTENSION] = AnswerCache(max_bytes=8 * 1024 * 1024)


bp.record_once(lambda setup: _init(setup.app))


# A browser whose session ended goes to the login page, and comes back to the assessment afterwards.
login_on_401(bp, is_page=lambda path: path.endswith("/desk/assessment"))


def _zone() -> str:
    return state().settings.incidents.timezone


def _today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(_zone())).date()


def _own_only() -> str | None:
    """The asker's name when they are a grid worker (who reads their own row only), else None."""
    principal = current_principal()
    return principal.name if principal is not None and principal.role == WORKER_ROLE else None


def _grid() -> str | None:
    text = (request.args.get("grid") or "").strip()
    if not text:
        return None
    if len(text) > MAX_NAME or any(ord(c) < 32 for c in text):
        raise Problem(400, f"grid must be a grid code of at most {MAX_NAME} characters", param="grid")
    store().grids.jurisdiction(text)  # 422 for a code no grid has
    return text


@bp.get("/desk/assessment")
def page() -> Response:
    reject_unknown(request.args, ("lang", "month", "grid", "person"))
    lang = page_lang()
    principal, within = current_principal(), request_jurisdiction()
    person = ""
    if principal is not None:
        person = f"{principal.display_name or principal.name} · {role_label(principal.role, lang)}"
    today = _today(datetime.now(UTC))
    return assessment_page(AssessmentView(lang=lang, person=person,
                                          reach=within.name or within.code or assessment_word(lang, "whole"),
                                          month=f"{today:%Y-%m}"))


def _clock() -> datetime:
    clock = int(datetime.now(UTC).timestamp()) // CLOCK_BUCKET_S * CLOCK_BUCKET_S
    return datetime.fromtimestamp(clock, UTC)  # the answer is the same for everyone asking within the minute


def _assessed(scope: WorkerScope, month: Month, now: datetime) -> MonthAssessment:
    return assess_month(store(), state().settings.assessment, scope, month, zone=_zone(), today=_today(now))


def _key(*parts: Any) -> tuple[Any, ...]:
    # The jurisdiction (and a grid worker's name) is part of the key: nobody gets another's answer, nor its ETag.
    return ("assessment", store().layers.data_version("incidents"), store().layers.data_version("grids"),
            request_jurisdiction().code or "", _own_only() or "", *parts)


def _month_json(result: MonthAssessment, lang: str, now: datetime) -> dict[str, Any]:
    since, until = result.month.window(_zone())
    return {"month": result.month.key, "since": since.isoformat(), "until": until.isoformat(),
            "timezone": _zone(), "now": now.isoformat(), "rules": settings_json(state().settings.assessment)}


@bp.get("/api/assessment")
def table() -> Response:
    args = request.args
    reject_unknown(args, ("month", "grid", "format", "lang"))
    kind = parse_choice("format", args.get("format") or None, FORMATS) or "json"
    lang, now = page_lang(), _clock()
    month = parse_month(args.get("month") or None, _today(now))
    grid = _grid()
    scope = WorkerScope(within=request_jurisdiction(), grid=grid, person=_own_only())
    if kind == "json":
        def make() -> dict[str, Any]:
            result = _assessed(scope, month, now)
            return {**_month_json(result, lang, now), "grid": grid,
                    "rows": [as_json(row, lang) for row in result.rows]}

        return json_answer(_key(month.key, grid or "", lang, now), make, current_app.extensions[EXTENSION])
    rows = _assessed(scope, month, now).rows
    data = csv_bytes(rows, lang) if kind == "csv" else xlsx_bytes(rows, lang, month.key)
    resp = Response(data, content_type="text/csv; charset=utf-8" if kind == "csv" else XLSX)
    resp.headers["Content-Disposition"] = f'attachment; filename="assessment-{month.key}.{kind}"'
    return no_store(resp)


@bp.get("/api/assessment/people/<person>")
def person(person: str) -> Response:
    reject_unknown(request.args, ("month", "lang"))
    lang, now = page_lang(), _clock()
    month = parse_month(request.args.get("month") or None, _today(now))
    own = _own_only()
    missing = Problem(404, f"no grid worker '{person[:MAX_NAME]}' that you may read", param="person")
    if len(person) > MAX_NAME or (own is not None and own != person):
        raise missing
    scope = WorkerScope(within=request_jurisdiction(), person=person)
    workers = store().assessment.workers(scope)
    if not workers:
        raise missing

    def make() -> dict[str, Any]:
        result = _assessed(scope, month, now)
        days = [day_json(d) for d in result.days[person]]
        today = _today(now)
        if month.first <= today <= month.last:  # today so far: shown, not counted in the month, never kept
            days.append({**day_json(today_of(store(), workers[0], zone=_zone(), today=today)), "today": True})
        return {**_month_json(result, lang, now), "row": as_json(result.rows[0], lang), "days": days}

    return json_answer(_key("person", person, month.key, lang, now), make, current_app.extensions[EXTENSION])
