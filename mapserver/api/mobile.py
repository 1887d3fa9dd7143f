"""The grid worker's phone app (网格员移动端): its pages under ``/m/``, its manifest and service worker, the tasks
(``GET /api/m/tasks``) and who is using it (``GET /api/m/me``).

My tasks are the open cases waiting for a grid worker (dispatched or grabbed: to accept; accepted or handled
jointly: to handle) inside the person's jurisdiction, i.e. their grid; a person bound to no grid gets those whose
unit is their name. They come by due time, soonest first, with their warning colour as the desk shows it. Times
are UTC ISO 8601; points WGS-84.

The pages are shells (:mod:`mapserver.mobile_page`); their configuration names the endpoints the script uses: the
case API, photos of cases (:mod:`mapserver.api.photos`), saved patrol plans (:mod:`mapserver.api.patrols`) and the
person's patrols, positions and check-ins (:mod:`mapserver.api.tracks`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from mapserver.analysis.study import outline_for
from mapserver.api.desk_common import basemap_config, login_on_401, page_lang, tile_origins
from mapserver.api.incidents import incident_feature
from mapserver.app_state import state, store
from mapserver.auth import current_principal, request_jurisdiction
from mapserver.desk_shell import MapView
from mapserver.errors import Problem
from mapserver.i18n import mobile_words
from mapserver.incidents.queue import Tab, queue_item, today_start
from mapserver.mobile_page import SHELL_FILES, manifest, mobile_page, service_worker
from mapserver.model import SEVERITIES
from mapserver.parsing import reject_unknown
from mapserver.roles import permitted_actions, role_label
from mapserver.sessions import current_session
from mapserver.store.desk import DeskFilter
from mapserver.store.incidents import IncidentFilter

bp = Blueprint("mobile", __name__)

MY_TASKS = Tab("mine", ("dispatched", "grabbed", "accepted", "joint"))
"""What waits for a grid worker: cases to accept (签收) and cases to handle (处置)."""
TASKS_LIMIT = 200  # a grid holds tens of open cases; a phone lists no more than this
MAX_PHOTOS = 9
SCOPE = "/m/"


# A browser whose session ended goes to the login page, and comes back to the phone page afterwards.
login_on_401(bp, is_page=lambda path: path.startswith("/m/"))


def _templated(endpoint: str, **names: str) -> str:
    """The URL of ``endpoint`` with ``{name}`` left in place of each named part, for the script to fill in."""
    url = url_for(endpoint, **{key: f"__{key}__" for key in names})
    for key, placeholder in names.items():
        url = url.replace(f"__{key}__", placeholder)
    return url


def _endpoints() -> dict[str, str]:
    """The URLs the phone's script calls, each routed by its view's name; the script fills in ``{id}`` (a case, a
    plan or a patrol)."""
    return {"tasks": url_for("mobile.tasks"), "me": url_for("mobile.me"), "report": url_for("incidents.report"),
            "incident": _templated("incidents.get_incident", incident_id="{id}"),
            "transition": _templated("incidents.transition", incident_id="{id}"),
            "lookup": url_for("lookup.lookup"), "photos": _templated("photos.upload", incident_id="{id}"),
            "plans": url_for("patrols.list_plans"), "plan": _templated("patrols.get_plan", plan_id="{id}"),
            "positions": url_for("tracks.post_positions"), "patrol_start": url_for("tracks.start_patrol"),
            "patrol_current": url_for("tracks.current_patrol"),
            "patrol_stop": _templated("tracks.stop_patrol", patrol_id="{id}"),
            "checkin": _templated("tracks.check_in", patrol_id="{id}")}


def _centre() -> list[float]:
    """Where the map opens without a position from the phone: inside the jurisdiction's area (its grid's, or the
    union of its division's streets, as kept for the hotspots), else the wall's centre."""
    within = request_jurisdiction()
    area = outline_for(state().derived, within) if not within.whole else None
    if area is not None:
        point = area.representative_point()
        return [point.x, point.y]
    return list(state().settings.map.center)


def _config(screen: str, lang: str) -> dict[str, Any]:
    settings = state().settings
    principal, within = current_principal(), request_jurisdiction()
    role = principal.role if principal is not None else ""
    here = {"lang": "en"} if lang == "en" else {}
    other = {} if lang == "en" else {"lang": "en"}
    categories = (dict(settings.incidents.categories) if lang == "zh"
                  else {k: k.replace("_", " ") for k in settings.incidents.categories})
    return {
        "lang": lang, "root": request.script_root, "screen": screen, "words": mobile_words(lang),
        "timezone": settings.incidents.timezone, "categories": categories, "severities": list(SEVERITIES),
        "max_photos": MAX_PHOTOS, "endpoints": _endpoints(), "centre": _centre(),
        "person": {"name": (principal.display_name or principal.name) if principal is not None else "",
                   "account": principal.name if principal is not None else "", "role": role,
                   "role_label": role_label(role, lang), "grid": within.name or within.code or ""},
        "map": {"zoom": max(settings.map.zoom, 17), "min_zoom": settings.map.min_zoom,
                "max_zoom": settings.map.max_zoom},
        "basemap": basemap_config(settings),
        "sw": url_for("mobile.worker"), "scope": request.script_root + SCOPE,
        "links": {"tasks": url_for("mobile.tasks_page", **here), "report": url_for("mobile.report_page", **here),
                  "patrol": url_for("mobile.patrol_page", **here), "task": f"{request.script_root}/m/tasks/",
                  "logout": url_for("login.logout_form", **here),
                  "login": url_for("login.login_form", next=request.script_root + request.path, **here),
                  "other_lang": request.script_root + request.path + ("?lang=en" if other else "")},
    }


def _page(screen: str, **extra: Any) -> Response:
    reject_unknown(request.args, ("lang",))
    lang, session = page_lang(), current_session()
    config = {**_config(screen, lang), **extra}
    return mobile_page(MapView(lang=lang, csrf_token=session.csrf_token if session is not None else "",
                               config=config, tile_origins=tile_origins(state().settings)), screen=screen)


@bp.get("/m/")
def tasks_page() -> Response:
    return _page("tasks")


@bp.get("/m/report")
def report_page() -> Response:
    return _page("report")


@bp.get("/m/patrol")
def patrol_page() -> Response:
    return _page("patrol")


@bp.get("/m/tasks/<incident_id>")
def task_page(incident_id: str) -> Response:
    """One task, with the case as it stood when the page was made: the phone can act on it without signal."""
    incident = store().incidents.get(incident_id, within=request_jurisdiction())
    if incident is None:
        raise Problem(404, f"no incident with id '{incident_id[:64]}'", param="id")
    now, principal = datetime.now(UTC), current_principal()
    case = incident_feature(incident, now=now, assessment=store().incidents.assessment(incident.id))
    props = case["properties"]
    props["my_actions"] = permitted_actions(principal.role if principal is not None else None, props["next_actions"])
    return _page("task", id=incident.id, case=case)


@bp.get("/m/manifest.webmanifest")
def manifest_file() -> Response:
    reject_unknown(request.args, ("lang",))
    lang = page_lang()
    return manifest(lang, start=url_for("mobile.tasks_page", **({"lang": "en"} if lang == "en" else {})),
                    scope=request.script_root + SCOPE)


@bp.get("/m/sw.js")
def worker() -> Response:
    reject_unknown(request.args, ())
    static = Path(current_app.static_folder or "static")
    shell = [url_for("static", filename=name) for name in SHELL_FILES]
    pages = [url_for("mobile.tasks_page"), url_for("mobile.report_page"), url_for("mobile.patrol_page")]
    return service_worker(static, shell=shell, pages=pages, scope=request.script_root + SCOPE)


@bp.get("/api/m/tasks")
def tasks() -> dict[str, Any]:
    reject_unknown(request.args, ())
    settings, now = state().settings.incidents, datetime.now(UTC)
    principal, within = current_principal(), request_jurisdiction()
    # Bound to a grid: that grid's cases; bound to none (the whole district): those sent to the person by name.
    unit = None if not within.whole or principal is None else principal.name
    where = DeskFilter(incidents=IncidentFilter(within=within, now=now), unit=unit)
    found = store().desk.page(MY_TASKS, where, now=now, today=today_start(now, settings.timezone),
                              limit=TASKS_LIMIT + 1, offset=0)
    return {"now": now.isoformat(), "truncated": len(found) > TASKS_LIMIT,
            "items": [queue_item(i, settings=settings, now=now) for i in found[:TASKS_LIMIT]]}


@bp.get("/api/m/me")
def me() -> dict[str, Any]:
    """Who is using the phone, their grid and, for a logged-in person, the session's CSRF token: the outbox sends
    what was kept offline with the token of the session that is open when the connection returns."""
    reject_unknown(request.args, ())
    principal, within, session = current_principal(), request_jurisdiction(), current_session()
    return {"name": principal.name if principal is not None else "",
            "display_name": (principal.display_name or principal.name) if principal is not None else "",
            "role": principal.role if principal is not None else "",
            "grid": {"code": within.code, "name": within.name} if within.code else None,
            "csrf_token": session.csrf_token if session is not None else ""}
