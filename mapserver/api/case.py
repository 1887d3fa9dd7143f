"""The work desk's case page (``GET /desk/cases/<id>``) and the cameras that see a case
(``GET /api/incidents/<id>/cameras``).

Both answer 404 for an id unknown or outside the asker's jurisdiction, as ``GET /api/incidents/<id>`` does. The
page is a shell: its script reads the case from ``/api/incidents/<id>`` (polled every 2 s with its ETag) and acts
through ``POST /api/incidents/<id>/transitions``. The grid card (chain, staff with phones, police liaison) and the
grid's outline travel in the page's configuration: a case's point does not move. Points are WGS-84.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request, url_for
from shapely.geometry import mapping

from mapserver.analysis.seeing import cameras_seeing
from mapserver.api.desk_common import basemap_config, login_on_401, page_lang, tile_origins
from mapserver.api.lookup import lookup_json
from mapserver.api.video_pages import page_video, sees_video, stream_origins
from mapserver.app_state import state, store
from mapserver.auth import current_principal, request_jurisdiction
from mapserver.case_page import case_page
from mapserver.desk_shell import MapView
from mapserver.errors import Problem
from mapserver.i18n import case_words, live_words
from mapserver.incidents.units import serves
from mapserver.model import Incident
from mapserver.parsing import reject_unknown
from mapserver.roles import LIVE_POSITIONS, ROLES, role_label
from mapserver.screen.page import LIVE_POLL_S
from mapserver.sessions import current_session

bp = Blueprint("case", __name__)


# A browser whose session ended goes to the login page, and comes back to the case afterwards.
login_on_401(bp, is_page=lambda path: path.startswith("/desk/"))


def _incident(incident_id: str) -> Incident:
    incident = store().incidents.get(incident_id, within=request_jurisdiction())
    if incident is None:
        raise Problem(404, f"no incident with id '{incident_id}'", param="id")
    return incident


def _card(incident: Incident) -> dict[str, Any] | None:
    """The grid card at the case's point (chain, staff, police liaison); None when no grid is loaded near it."""
    try:
        found = state().grid_index().lookup(incident.geom.x, incident.geom.y)
    except Problem:
        return None
    return None if found is None else lookup_json(found, incident.geom.x, incident.geom.y)


def _outline(incident: Incident) -> dict[str, Any] | None:
    """The case's finest grid as a GeoJSON geometry (WGS-84), when it is still there and in reach."""
    if not incident.grid_code:
        return None
    grid = store().layers.get("grids", incident.grid_code, within=request_jurisdiction())
    return None if grid is None else mapping(grid.geom)


def _units() -> list[str]:
    """The configured units this person may send a case to (those serving their jurisdiction); none: free text."""
    within = request_jurisdiction()
    return sorted(name for name, grids in state().settings.incidents.units.items()
                  if serves(grids, within, store().grids.ancestors))


@bp.get("/desk/cases/<incident_id>")
def page(incident_id: str) -> Response:
    reject_unknown(request.args, ("lang",))
    incident = _incident(incident_id)
    settings, lang = state().settings, page_lang()
    principal, session = current_principal(), current_session()
    role = principal.role if principal is not None else ""
    other = {} if lang == "en" else {"lang": "en"}
    here = {"lang": "en"} if lang == "en" else {}
    config = {
        "lang": lang, "root": request.script_root, "id": incident.id, "words": case_words(lang),
        "timezone": settings.incidents.timezone, "units": _units(),
        "point": [incident.geom.x, incident.geom.y], "outline": _outline(incident), "card": _card(incident),
        "map": {"zoom": max(settings.map.zoom, 16), "min_zoom": settings.map.min_zoom,
                "max_zoom": settings.map.max_zoom},
        "basemap": basemap_config(settings),
        "person": {"name": (principal.display_name or principal.name) if principal is not None else "",
                   "role": role, "role_label": role_label(role, lang)},
        "roles": {name: role_label(name, lang) for name in ROLES},  # to word a refusal naming roles
        # The people on patrol on the map, for those who may see them.
        "live": {"words": live_words(lang), "poll_s": LIVE_POLL_S} if role in LIVE_POSITIONS else None,
        "video": page_video(lang),  # the video panel, for those who may watch
        "links": {"desk": url_for("desk.page", **here), "screen": url_for("screen.page", **here),
                  "other_lang": url_for("case.page", incident_id=incident.id, **other)},
    }
    return case_page(MapView(lang=lang, csrf_token=session.csrf_token if session is not None else "",
                             config=config, tile_origins=tile_origins(settings),
                             stream_origins=stream_origins()))


@bp.get("/api/incidents/<incident_id>/cameras")
def cameras(incident_id: str) -> dict[str, Any]:
    reject_unknown(request.args, ())
    incident = _incident(incident_id)
    settings = state().settings
    return {"id": incident.id, **cameras_seeing(
        store(), incident.geom.x, incident.geom.y, now=datetime.now(UTC),
        offline_after_s=settings.cameras.offline_after_s, within=request_jurisdiction(),
        nearby_m=settings.video.nearby_m, nearby_limit=settings.video.nearby_limit,
        with_stream=store().camera_video.with_stream if sees_video() else None)}
