"""A camera's live video addresses over HTTP (视频联动): read by the roles with video rights, set by administrators.

``GET /api/cameras/<code>/video`` answers the camera's HLS stream and snapshot addresses, and whether the pages
may load them (their host is one of ``video.stream_origins``, which the pages' CSP names). ``PUT`` sets them
(:mod:`mapserver.video.edits`). A camera outside the asker's jurisdiction is a 404, as an unknown one. No other
answer of the server carries these addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mapserver.app_state import state, store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.model import CameraVideo
from mapserver.parsing import parse_json, reject_unknown
from mapserver.video.addresses import origin
from mapserver.video.edits import change_video

bp = Blueprint("camera_video", __name__, url_prefix="/api/cameras")


def _answer(video: CameraVideo) -> Response:
    allowed = set(state().settings.video.stream_origins)

    def loadable(url: str | None) -> bool | None:
        return None if url is None else origin(url) in allowed

    body: dict[str, Any] = {"code": video.code, "stream_url": video.stream_url, "snapshot_url": video.snapshot_url,
                            "stream_allowed": loadable(video.stream_url),
                            "snapshot_allowed": loadable(video.snapshot_url)}
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"  # an address some roles may not see: kept out of every cache
    return resp


@bp.get("/<code>/video")
def get_video(code: str) -> Response:
    reject_unknown(request.args, ())
    video = store().camera_video.get(code, within=request_jurisdiction())
    if video is None:
        raise Problem(404, f"no camera with code '{code}'", param="code")
    return _answer(video)


@bp.put("/<code>/video")
def set_video(code: str) -> Response:
    reject_unknown(request.args, ())
    video = change_video(store(), code, parse_json(request.get_data()), actor=request_actor(),
                         within=request_jurisdiction(), now=datetime.now(UTC))
    return _answer(video)
