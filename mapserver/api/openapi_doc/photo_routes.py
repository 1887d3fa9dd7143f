"""The photo routes of the API described as data (see :mod:`mapserver.api.openapi_doc.routes`): upload a photo to a
case, list a case's photos, and read a photo or its thumbnail by SHA-256.

Kinds, media types and limits come from the modules that check them, so the description follows the code.
"""

from __future__ import annotations

from mapserver.api.openapi_doc.model import Answer, Operation, Param, Schema
from mapserver.api.openapi_doc.schemas import enum, integer, text
from mapserver.api.photos import MAX_KEY_CHARS
from mapserver.config import Settings
from mapserver.parsing import INT64_MAX
from mapserver.photos.checking import MIME_TYPES
from mapserver.store.photos import PHOTO_KINDS

JSON = "application/json"
INCIDENT_ID = Param("incident_id", text(64, minLength=1), where="path")
SHA256 = Param("sha256", text(64, pattern=r"^[0-9a-f]{64}$"), where="path",
               description="SHA-256 (hex) of the stored photo's bytes")
PHOTO: Schema = {"type": "object", "required": ["sha256", "kind", "event", "content_type", "url", "thumb_url"],
                 "properties": {"sha256": text(64), "kind": enum(PHOTO_KINDS),
                                "event": {**integer(1, INT64_MAX), "nullable": True,
                                          "description": "seq of the timeline entry it belongs to"},
                                "content_type": enum(tuple(MIME_TYPES.values())), "width": integer(1),
                                "height": integer(1), "bytes": integer(1), "uploaded_at": text(format="date-time"),
                                "uploaded_by": text(), "url": text(), "thumb_url": text()}}
IMAGES = {mime: {"type": "string", "format": "binary"} for mime in MIME_TYPES.values()}


def photo_routes(settings: Settings) -> list[Operation]:
    """Upload, list and read photos of cases."""
    limit = settings.photos
    upload: Schema = {
        "type": "object", "required": ["photo"], "additionalProperties": False,
        "properties": {
            "photo": {"type": "string", "format": "binary",
                      "description": f"a JPEG, PNG or WebP (by content), at most {limit.max_bytes:,} bytes and "
                                     f"{limit.max_pixels:,} pixels; stored upright without EXIF/GPS"},
            "kind": {**enum(PHOTO_KINDS), "description": "default other"},
            "event": {**integer(1, INT64_MAX), "description": "seq of a timeline entry of this case; default: a "
                      "report photo → the report entry, before/after → the latest handle entry"},
        },
    }
    return [
        Operation("post", "/api/incidents/{incident_id}/photos", "Attach a photo to a case (现场照片)", "photos",
                  (Answer(201, "stored", {JSON: PHOTO}, {"Location": text()}),
                   Answer(200, "the same photo again (same Idempotency-Key, or the same bytes on this case)",
                          {JSON: PHOTO})),
                  endpoint="photos.upload", params=(INCIDENT_ID, Param(
                      "Idempotency-Key", text(MAX_KEY_CHARS, minLength=1), where="header")),
                  body={"multipart/form-data": upload}, problems=(415, 422, 507)),
        Operation("get", "/api/incidents/{incident_id}/photos", "A case's photos, in the order attached", "photos",
                  (Answer(200, "the photos", {JSON: {"type": "object", "required": ["id", "photos"], "properties": {
                      "id": text(), "photos": {"type": "array", "items": PHOTO}}}}),),
                  endpoint="photos.list_photos", params=(INCIDENT_ID,)),
        Operation("get", "/api/photos/{sha256}", "A photo's bytes (cached for long: the name is their hash)",
                  "photos", (Answer(200, "the photo", IMAGES), Answer(304, "unchanged (If-None-Match)")),
                  endpoint="photos.image", params=(SHA256,)),
        Operation("get", "/api/photos/{sha256}/thumb", "A photo's thumbnail (longest side photos.thumb_px)", "photos",
                  (Answer(200, "the thumbnail", IMAGES), Answer(304, "unchanged (If-None-Match)")),
                  endpoint="photos.thumb", params=(SHA256,)),
    ]
