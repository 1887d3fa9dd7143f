"""``GET /openapi.json``: the OpenAPI document of the ``/api`` routes (viewer token, like every read)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from mapserver.api.health import package_version
from mapserver.api.openapi_doc import build_document
from mapserver.app_state import state
from mapserver.parsing import reject_unknown
from mapserver.screen.screen_state import screen_state

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def document() -> dict[str, Any]:
    reject_unknown(request.args, ())
    # Analysis routes are described only when this server registered them.
    with_analysis = "analysis" in current_app.blueprints
    return build_document(state().settings, version=package_version(),
                          layer_keys=[layer.key for layer in screen_state().layers], with_analysis=with_analysis)
