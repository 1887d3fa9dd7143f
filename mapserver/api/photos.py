"""Photos of cases over HTTP: upload one to a case (multipart, idempotent), list a case's, and serve a photo or its
thumbnail by SHA-256.

Every route answers 404 for a case, or a photo only on cases, outside the asker's jurisdiction, as for one that
does not exist. Photo bytes are served as what they are (the stored, re-encoded file), never sniffed, inline, and
cached privately for long: a photo's name is the hash of its bytes, so it never changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from mapserver.api.problems import drain_request_body
from mapserver.app_state import state, store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.model import Incident
from mapserver.parsing import parse_int, reject_unknown
from mapserver.photos.checking import MIME_TYPES
from mapserver.photos.files import SHA256, PhotoFiles
from mapserver.photos.processing import EXTENSIONS
from mapserver.photos.service import Upload, attach_photo, photo_folder
from mapserver.store.photos import Photo

bp = Blueprint("photos", __name__, url_prefix="/api")

MAX_KEY_CHARS = 200
FORM_ALLOWANCE = 64 * 1024
"""Bytes a multipart body may carry besides the photo itself (boundaries, part headers, the kind and event)."""
CACHE = "private, max-age=31536000, immutable"


def _files() -> PhotoFiles:
    settings = state().settings
    return photo_folder(settings.photos, settings.source)


def _incident(incident_id: str) -> Incident:
    incident = store().incidents.get(incident_id, within=request_jurisdiction())
    if incident is None:
        raise Problem(404, f"no incident with id '{incident_id}'", param="id")
    return incident


def photo_json(photo: Photo) -> dict[str, Any]:
    """A photo as the API lists it, with the URLs of its image and thumbnail."""
    return {"sha256": photo.sha256, "kind": photo.kind, "event": photo.event_seq,
            "content_type": MIME_TYPES[photo.format], "width": photo.width, "height": photo.height,
            "bytes": photo.bytes, "uploaded_at": photo.uploaded_at.isoformat(), "uploaded_by": photo.uploaded_by,
            "url": url_for("photos.image", sha256=photo.sha256),
            "thumb_url": url_for("photos.thumb", sha256=photo.sha256)}


def _refuse_large_body(max_bytes: int) -> None:
    """413 before reading a body larger than a photo and its form can be (a chunked body is cut off by the same
    limit while it is read)."""
    limit = max_bytes + FORM_ALLOWANCE
    if request.content_length is not None and request.content_length > limit:
        drain_request_body(request.environ)  # so the client reads the answer rather than a reset connection
        raise Problem(413, f"the request body is {request.content_length:,} bytes; a photo may be at most "
                           f"{max_bytes:,} bytes (photos.max_mb)", param="photo")
    request.max_content_length = limit


def _upload(max_bytes: int) -> Upload:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY_CHARS):
        raise Problem(400, f"Idempotency-Key must be 1–{MAX_KEY_CHARS} characters", param="Idempotency-Key")
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise Problem(415, "send the photo as multipart/form-data in the field 'photo'", param="photo")
    _refuse_large_body(max_bytes)
    reject_unknown(request.form, ("kind", "event"))
    unknown = sorted(set(request.files) - {"photo"})
    if unknown:
        raise Problem(400, f"unknown file field '{unknown[0]}'; the photo goes in 'photo'", param=unknown[0])
    parts = request.files.getlist("photo")
    if len(parts) != 1:
        raise Problem(400, "send exactly one file in the field 'photo'", param="photo")
    data = parts[0].stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Problem(413, f"a photo may be at most {max_bytes:,} bytes (photos.max_mb)", param="photo")
    event = parse_int("event", request.form.get("event"), low=1)
    return Upload(data=data, kind=request.form.get("kind") or "other", event=event, idempotency_key=key)


@bp.post("/incidents/<incident_id>/photos")
def upload(incident_id: str) -> tuple[Response, int]:
    reject_unknown(request.args, ())
    settings = state().settings.photos
    sent = _upload(settings.max_bytes)  # the body is read first: a refused case still lets the client read why
    photo, created = attach_photo(store(), _files(), settings, incident=_incident(incident_id), upload=sent,
                                  actor=request_actor(), now=datetime.now(UTC))
    response = jsonify(photo_json(photo))
    response.headers["Location"] = url_for("photos.image", sha256=photo.sha256)
    return response, 201 if created else 200


@bp.get("/incidents/<incident_id>/photos")
def list_photos(incident_id: str) -> dict[str, Any]:
    reject_unknown(request.args, ())
    incident = _incident(incident_id)
    return {"id": incident.id, "photos": [photo_json(p) for p in store().photos.for_incident(incident.id)]}


def _serve(sha256: str, *, thumb: bool) -> Response:
    reject_unknown(request.args, ())
    photo = store().photos.get(sha256, within=request_jurisdiction()) if SHA256.match(sha256) else None
    if photo is None:
        raise Problem(404, f"no photo '{sha256}'", param="sha256")
    extension = EXTENSIONS[photo.format]
    data = _files().read(photo.sha256, extension, thumb=thumb)
    if data is None:
        raise Problem(404, f"the file of photo '{sha256}' is missing from the photo folder", param="sha256")
    response = Response(data, mimetype=MIME_TYPES[photo.format])
    name = f"{photo.sha256[:16]}{'-thumb' if thumb else ''}.{extension}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = CACHE
    response.headers["Vary"] = "Cookie, Authorization"
    response.set_etag(f"{photo.sha256}{'-thumb' if thumb else ''}")
    return response.make_conditional(request)


@bp.get("/photos/<sha256>")
def image(sha256: str) -> Response:
    return _serve(sha256, thumb=False)


@bp.get("/photos/<sha256>/thumb")
def thumb(sha256: str) -> Response:
    return _serve(sha256, thumb=True)
