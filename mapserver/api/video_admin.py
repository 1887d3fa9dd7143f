"""The administrators' page of a camera's video addresses (``GET /admin/cameras/video?code=``) and its form
(``POST /admin/cameras/video``): the same rules, jurisdiction and audit trail as ``PUT /api/cameras/<code>/video``
(:mod:`mapserver.video.edits`). A saved form goes back to the page (303); a refused one shows the page again at once
with the reason and what was typed, and nothing written. Only a person who logged in has a session to post from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request, url_for

from mapserver.api.desk_common import login_on_401, page_lang
from mapserver.app_state import store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.sessions import current_session
from mapserver.video.addresses import VIDEO_FIELDS
from mapserver.video.edits import change_video
from mapserver.video_admin_page import VideoAdminView, video_admin_page, video_word

bp = Blueprint("video_admin", __name__, url_prefix="/admin/cameras")


login_on_401(bp)  # a browser whose session ended goes to the login page, and comes back here afterwards


def _csrf() -> str:
    session = current_session()
    if session is None:  # an admin token has no session to post the form from
        raise Problem(400, "this page is for a person who logged in; a token uses PUT /api/cameras/<code>/video")
    return session.csrf_token


@bp.get("/video")
def page() -> Response:
    lang, code = page_lang(), request.args.get("code", "").strip()
    view = VideoAdminView(lang=lang, csrf_token=_csrf(), code=code)
    if not code:
        return video_admin_page(view)
    found = store().camera_video.get(code, within=request_jurisdiction())
    camera = store().layers.get("cameras", code, within=request_jurisdiction())
    if found is None or camera is None:
        return video_admin_page(VideoAdminView(lang=lang, csrf_token=view.csrf_token, code=code,
                                               error=video_word(lang, "not_found", code=code)), status=404)
    done = video_word(lang, "saved", code=code) if request.args.get("done") == "saved" else None
    return video_admin_page(VideoAdminView(lang=lang, csrf_token=view.csrf_token, code=code, name=camera.name,
                                           stream_url=found.stream_url or "", snapshot_url=found.snapshot_url or "",
                                           done=done))


@bp.post("/video")
def save() -> Response:
    lang, code = page_lang(), request.form.get("code", "").strip()
    typed = {name: request.form.get(name, "").strip() for name in VIDEO_FIELDS}
    try:
        change_video(store(), code, {name: value or None for name, value in typed.items()}, actor=request_actor(),
                     within=request_jurisdiction(), now=datetime.now(UTC))
    except Problem as exc:
        camera = store().layers.get("cameras", code, within=request_jurisdiction()) if code else None
        error = (video_word(lang, "not_found", code=code) if exc.status == 404
                 else "; ".join(f"{video_word(lang, e['field'])}: {e['reason']}" for e in exc.errors or [])
                 or exc.detail)
        return video_admin_page(VideoAdminView(lang=lang, csrf_token=_csrf(), code=code,
                                               name=camera.name if camera is not None else None, error=error,
                                               **typed), status=exc.status)
    query = {"code": code, "done": "saved", **({"lang": "en"} if lang == "en" else {})}
    return redirect(url_for("video_admin.page") + "?" + urlencode(query), 303)
