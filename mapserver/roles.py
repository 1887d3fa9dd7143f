"""Roles by what people do, and the one table of what each role may call.

Every account and token has one role. :data:`ROUTES` names, for every endpoint
of the server and each of its methods, the roles that may call it; an endpoint
missing from the table is refused to everyone (deny by default), and
``tests/test_roles.py`` walks the application's URL map against it. Incident
actions are one step finer: :data:`INCIDENT_ACTIONS` names who may take each
transition of the loop (:mod:`mapserver.incidents.lifecycle`).

The roles (the README prints this table):

============  =========================================================================================
``viewer``    the wall and every read (leaders, duty officers, unattended screens)
``operator``  intake: look up the responsible grid, report an incident, follow a closed one up (hotline operators)
``dispatcher`` works the loop: dispatch … close, whistle, report-in, follow-up; and what an operator does
``liaison``   police liaison: reads, plans and saves patrols
``field``     grid worker: reports, accepts and handles what is assigned to their grid
``admin``     data imports, grid edits, accounts, tokens, the audit trail; and everything above
============  =========================================================================================

Everyone reads: each role may call every read its jurisdiction covers (:mod:`mapserver.jurisdiction`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ROLES: tuple[str, ...] = ("viewer", "operator", "dispatcher", "liaison", "field", "admin")
"""Every role, in the order they are listed to people."""

ROLE_LABELS: Mapping[str, tuple[str, str]] = {
    "viewer": ("值班查看", "viewer"),
    "operator": ("热线受理", "operator"),
    "dispatcher": ("指挥调度", "dispatcher"),
    "liaison": ("警务联络", "police liaison"),
    "field": ("网格员", "grid worker"),
    "admin": ("系统管理", "administrator"),
}
"""Each role's name on screen, (zh-CN, English)."""


def role_label(role: str, lang: str) -> str:
    """A role's name on screen in ``lang`` ("zh" or "en"); the role itself when it is not one."""
    return ROLE_LABELS.get(role, (role, role))[0 if lang == "zh" else 1]


def _roles(*names: str) -> frozenset[str]:
    unknown = set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles in the role table: {sorted(unknown)}")
    return frozenset(names)


EVERYONE = _roles(*ROLES)
INTAKE = _roles("operator", "dispatcher", "field", "admin")
"""Who may report an incident, and attach photos to one (a report's, a handling's)."""
LOOP = _roles("operator", "dispatcher", "field", "admin")
"""Who may take some transition of an incident (which one: :data:`INCIDENT_ACTIONS`)."""
DESK = _roles("viewer", "operator", "dispatcher", "field", "admin")
"""Who works cases at the work desk (a viewer reads it)."""
INTAKE_DESK = _roles("operator", "dispatcher", "admin")
"""Who works the hotline intake desk (12345 热线受理): resolve a caller's place, find and link repeats."""
SCORECARDS = _roles("viewer", "dispatcher", "admin")
"""Who reads the unit scorecards (the assessment office holds a viewer or an admin account)."""
ASSESSMENT = _roles("viewer", "dispatcher", "admin", "field")
"""Who reads the grid workers' monthly assessment: the assessment office (as SCORECARDS) every worker of their
jurisdiction, a grid worker (``field``) their own row only (mapserver/api/assessment.py)."""
PATROL_PLANNERS = _roles("liaison", "dispatcher", "admin")
"""Who may plan and save a patrol route."""
PATROL_DESK = _roles("viewer", *PATROL_PLANNERS)
"""Who opens the patrol planner page: the planners, and a viewer who reads the saved plans without planning."""
MOBILE = _roles("field", "admin")
"""Who opens the grid worker's phone app (网格员移动端): reports, tasks, patrols."""
ON_PATROL = _roles("liaison", "field", "dispatcher", "admin")
"""Who walks patrols: sends their positions, starts and stops a patrol, checks in at its stops."""
LIVE_POSITIONS = _roles("viewer", "operator", "dispatcher", "liaison", "admin")
"""Who sees the live positions of the people on patrol in their jurisdiction (the wall and the desks)."""
ADMIN = _roles("admin")
VIDEO = _roles("viewer", "dispatcher", "liaison", "admin")
"""Who may watch the cameras' live video and see their stream and snapshot addresses (视频联动): the wall and the
leaders and duty officers who read it, the dispatchers who direct a case by what the cameras see, the police
liaisons, and administrators. Not the hotline operators, who take calls rather than watch streets, nor the grid
workers, whose phones work outside the command centre's network: video of public places is personal data, shown
to those whose work needs it."""
DEVICES = _roles("operator", "dispatcher", "admin")
"""Who may post camera heartbeats (the video platform's integration token is an operator)."""

INCIDENT_ACTIONS: Mapping[str, frozenset[str]] = {
    "dispatch": _roles("dispatcher", "admin"),
    "grab": _roles("dispatcher", "admin"),
    "accept": _roles("dispatcher", "field", "admin"),
    "return": _roles("dispatcher", "field", "admin"),
    "split": _roles("dispatcher", "admin"),
    "joint": _roles("dispatcher", "admin"),
    "handle": _roles("dispatcher", "field", "admin"),
    "verify": _roles("dispatcher", "admin"),
    "reject": _roles("dispatcher", "admin"),
    "close": _roles("dispatcher", "admin"),
    "whistle": _roles("dispatcher", "admin"),
    # The command centre records each called-out department as it reports in: departments hold no accounts here.
    "report_in": _roles("dispatcher", "admin"),
    # The hotline calls the reporter back (回访).
    "follow_up": _roles("operator", "dispatcher", "admin"),
}
"""Incident action → the roles that may take it (the state machine says when)."""

PUBLIC = frozenset[str]()
"""Marks an endpoint open without logging in (health checks, static files, the login page)."""

ROUTES: Mapping[str, Mapping[str, frozenset[str]]] = {
    # endpoint → method → roles. PUBLIC: no login needed.
    "static": {"GET": PUBLIC},
    "health.healthz": {"GET": PUBLIC},
    "health.readyz": {"GET": PUBLIC},
    "openapi.document": {"GET": EVERYONE},
    # the wall
    "screen.page": {"GET": EVERYONE},
    "screen.screen_measures": {"GET": EVERYONE},
    "screen.screen_panels": {"GET": EVERYONE},
    "screen.screen_layer": {"GET": EVERYONE},
    "screen.screen_grid": {"GET": EVERYONE},
    "screen.screen_locate": {"GET": EVERYONE},
    "screen.tile": {"GET": EVERYONE},
    "tiles.layer_tile": {"GET": EVERYONE},
    "tiles.ground_tile": {"GET": EVERYONE},
    # layers, cameras, lookups, grids
    "layers.list_features": {"GET": EVERYONE},
    "layers.get_feature": {"GET": EVERYONE},
    "cameras.list_cameras": {"GET": EVERYONE},
    "cameras.get_camera": {"GET": EVERYONE},
    "cameras.heartbeat": {"POST": DEVICES},
    "cameras.heartbeats": {"POST": DEVICES},
    "cameras.online_rate": {"GET": EVERYONE},
    "camera_video.get_video": {"GET": VIDEO},
    "camera_video.set_video": {"PUT": ADMIN},
    "lookup.lookup": {"GET": EVERYONE},
    "lookup.bulk": {"POST": EVERYONE},  # a query too long for a URL: reads only
    "grids.check": {"GET": EVERYONE},
    # incidents and their measures
    "incidents.report": {"POST": INTAKE},
    "incidents.list_incidents": {"GET": EVERYONE},
    "incidents.get_incident": {"GET": EVERYONE},
    "incidents.transition": {"POST": LOOP},
    "incidents.kpis": {"GET": EVERYONE},
    "reports.weekly": {"GET": EVERYONE},
    # the hotline intake desk
    "intake.resolve": {"GET": INTAKE_DESK},
    "intake.duplicates": {"GET": INTAKE_DESK},
    "intake.link": {"POST": INTAKE_DESK},
    "intake_desk.page": {"GET": INTAKE_DESK},
    # analysis
    "analysis.heat_cells": {"GET": EVERYONE},
    "analysis.hotspots": {"GET": EVERYONE},
    "analysis.hotspot_trend": {"GET": EVERYONE},
    "analysis.risk_colours": {"GET": EVERYONE},
    "analysis.camera_coverage": {"GET": EVERYONE},
    # patrols
    "patrols.plan": {"POST": PATROL_PLANNERS},
    "patrols.list_plans": {"GET": EVERYONE},
    "patrols.get_plan": {"GET": EVERYONE},
    "patrols.get_plan_gpx": {"GET": EVERYONE},
    "patrols.get_plan_geojson": {"GET": EVERYONE},
    "patrol_desk.page": {"GET": PATROL_DESK},
    # patrol tracks: everyone reads their own day; supervisors those of their jurisdiction's people (api/tracks.py)
    "tracks.post_positions": {"POST": ON_PATROL},
    "tracks.post_gpx": {"POST": ON_PATROL},
    "tracks.start_patrol": {"POST": ON_PATROL},
    "tracks.current_patrol": {"GET": ON_PATROL},
    "tracks.stop_patrol": {"POST": ON_PATROL},
    "tracks.check_in": {"POST": ON_PATROL},
    "tracks.person_day": {"GET": EVERYONE},
    "tracks.plan_actual": {"GET": EVERYONE},
    "tracks.live_positions": {"GET": LIVE_POSITIONS},
    # exports and the OGC API
    "export.download": {"GET": EVERYONE},
    "ogc.landing": {"GET": EVERYONE},
    "ogc.conformance": {"GET": EVERYONE},
    "ogc.collections": {"GET": EVERYONE},
    "ogc.collection": {"GET": EVERYONE},
    "ogc.queryables": {"GET": EVERYONE},
    "ogc.items": {"GET": EVERYONE},
    "ogc.item": {"GET": EVERYONE},
    # administration
    "tokens.list_tokens": {"GET": ADMIN},
    "tokens.create_token": {"POST": ADMIN},
    "tokens.revoke_token": {"DELETE": ADMIN},
    "audit.list_audit": {"GET": ADMIN},
    # accounts
    "accounts.list_accounts": {"GET": ADMIN},
    "accounts.create_account": {"POST": ADMIN},
    "accounts.get_account": {"GET": ADMIN},
    "accounts.update_account": {"PATCH": ADMIN},
    "accounts.set_password": {"PUT": ADMIN},
    # the accounts page (forms posted by a person logged in)
    "admin.accounts": {"GET": ADMIN},
    "admin.create_account": {"POST": ADMIN},
    "admin.change_account": {"POST": ADMIN},
    "admin.reset_password": {"POST": ADMIN},
    "admin.create_token": {"POST": ADMIN},
    "admin.revoke_token": {"POST": ADMIN},
    # the cameras' video addresses (a form posted by a person logged in)
    "video_admin.page": {"GET": ADMIN},
    "video_admin.save": {"POST": ADMIN},
    # the work desk
    "desk.page": {"GET": DESK},
    "desk.queue": {"GET": DESK},
    "case.page": {"GET": DESK},
    "case.cameras": {"GET": EVERYONE},
    # the grid worker's phone app: its manifest and service worker load before anyone logs in
    "mobile.tasks_page": {"GET": MOBILE},
    "mobile.report_page": {"GET": MOBILE},
    "mobile.patrol_page": {"GET": MOBILE},
    "mobile.task_page": {"GET": MOBILE},
    "mobile.manifest_file": {"GET": PUBLIC},
    "mobile.worker": {"GET": PUBLIC},
    "mobile.tasks": {"GET": MOBILE},
    "mobile.me": {"GET": MOBILE},
    # photos of cases (现场照片): attached by those who report or handle, read by everyone whose jurisdiction covers
    "photos.upload": {"POST": INTAKE},
    "photos.list_photos": {"GET": EVERYONE},
    "photos.image": {"GET": EVERYONE},
    "photos.thumb": {"GET": EVERYONE},
    # the unit scorecards (三色预警)
    "scorecards.page": {"GET": SCORECARDS},
    "scorecards.table": {"GET": SCORECARDS},
    # the grid workers' monthly assessment (网格员考核): a grid worker reads their own row only
    "assessment.page": {"GET": ASSESSMENT},
    "assessment.table": {"GET": ASSESSMENT},
    "assessment.person": {"GET": ASSESSMENT},
    # logging in
    "login.login_form": {"GET": PUBLIC},
    "login.login": {"POST": PUBLIC},
    "login.logout_form": {"GET": EVERYONE},
    "login.logout": {"POST": EVERYONE},
    "login.password_form": {"GET": EVERYONE},
    "login.change_password": {"POST": EVERYONE},
}
"""Endpoint → HTTP method → the roles that may call it. HEAD and OPTIONS follow GET."""


def allowed_roles(endpoint: str, method: str) -> frozenset[str] | None:
    """The roles that may call ``method`` on ``endpoint`` (PUBLIC: anyone, logged in or not); None when the
    table does not name it, which means nobody may."""
    methods = ROUTES.get(endpoint)
    if methods is None:
        return None
    return methods.get("GET" if method in ("HEAD", "OPTIONS") else method)


def may_act(role: str, action: str) -> bool:
    """Whether ``role`` may take the incident ``action``."""
    return role in INCIDENT_ACTIONS.get(action, frozenset())


def permitted_actions(role: str | None, actions: Iterable[str]) -> list[str]:
    """Of ``actions`` (those the state machine allows now), the ones ``role`` may take, in the same order."""
    return [a for a in actions if role is not None and may_act(role, a)]


def check_role(role: str) -> None:
    """Raise ValueError naming the roles when ``role`` is not one of them."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


def table_rows(endpoints: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, list[str]]]:
    """(method, rule, roles allowed) for each (endpoint, method, rule), for the README's table."""
    out = []
    for endpoint, method, rule in endpoints:
        roles = allowed_roles(endpoint, method)
        out.append((method, rule, ["anyone"] if roles == PUBLIC else sorted(roles or (), key=ROLES.index)))
    return out
