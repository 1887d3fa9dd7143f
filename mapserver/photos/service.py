"""Attaching a photo to a case: check the upload, make it fit to keep, write its files, then its row and audit
record, so that a refused upload stores nothing and a failed one leaves no file of its own behind.

Which timeline entry a photo belongs to: the one named (``event``, an entry's seq on this case); else, for a report
photo, the case's report; for a before or after photo, the case's latest handling (处置) when there is one; else
none (the case as a whole). Times are UTC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mapserver import audit
from mapserver.errors import Problem
from mapserver.model import Incident
from mapserver.photos.checking import CheckLimits, check_photo
from mapserver.photos.files import DiskFull, PhotoFiles
from mapserver.photos.processing import EXTENSIONS, PreparedPhoto, prepare_photo
from mapserver.photos.settings import PhotoSettings
from mapserver.store import Store
from mapserver.store.photos import PHOTO_KINDS, Photo

_DEFAULT_ENTRY = {"report": "report", "before": "handle", "after": "handle"}
"""The timeline entry a photo of each kind belongs to when the upload names none."""


@dataclass(frozen=True)
class Upload:
    """One photo as it came: its bytes, kind, the timeline entry it names (None: by its kind), the retry key."""

    data: bytes
    kind: str = "other"
    event: int | None = None
    idempotency_key: str | None = None


def limits(settings: PhotoSettings) -> CheckLimits:
    """The checks' limits from the ``photos:`` settings."""
    return CheckLimits(max_bytes=settings.max_bytes, max_pixels=settings.max_pixels,
                       max_metadata_bytes=settings.max_metadata_kb * 1024)


def prepare(data: bytes, settings: PhotoSettings) -> PreparedPhoto:
    """The upload checked by its content and made fit to keep (upright, no metadata, with its thumbnail); a 413,
    415 or 422 :class:`Problem` saying why it is refused."""
    image = check_photo(data, limits(settings))
    try:
        return prepare_photo(image, image.format if image.format in EXTENSIONS else "JPEG",
                             thumb_px=settings.thumb_px)
    finally:
        image.close()


def attach_photo(store: Store, files: PhotoFiles, settings: PhotoSettings, *, incident: Incident, upload: Upload,
                 actor: audit.Actor, now: datetime) -> tuple[Photo, bool]:
    """Attach ``upload`` to ``incident`` (found already in the uploader's jurisdiction); return (photo, created).

    A retry (same Idempotency-Key, or the same photo on the same case) returns the photo stored first
    (created=False). 422 for an unknown kind or entry, 413/415/422 for a refused file (nothing written), 507 when
    the disk is full (no file of this upload left, no row).
    """
    if upload.kind not in PHOTO_KINDS:
        raise Problem(422, f"kind must be one of {', '.join(PHOTO_KINDS)}", param="kind")
    prepared = prepare(upload.data, settings)
    event_seq = _entry(store, incident.id, upload)
    photo = Photo(incident_id=incident.id, sha256=prepared.sha256, kind=upload.kind, format=prepared.format,
                  width=prepared.width, height=prepared.height, bytes=len(prepared.data),
                  upload_sha256=hashlib.sha256(upload.data).hexdigest(), uploaded_at=now, uploaded_by=actor.name,
                  event_seq=event_seq, idempotency_key=upload.idempotency_key)
    written = _write(files, prepared)
    try:
        with store.transaction():
            stored, created = store.photos.add(photo, per_entry=settings.per_entry)
            if created:
                audit.record(store, actor=actor, action="incident.photo", target=incident.id,
                             detail={"sha256": stored.sha256, "kind": stored.kind, "event": stored.event_seq})
    except BaseException:
        # Files this upload wrote and no case uses (another may have come with the same bytes meanwhile).
        if not store.photos.stored(prepared.sha256):
            for path in written:
                files.remove(path)
        raise
    return stored, created


def _entry(store: Store, incident_id: str, upload: Upload) -> int | None:
    if upload.event is not None:
        if store.photos.entry_action(incident_id, upload.event) is None:
            raise Problem(422, f"case {incident_id} has no timeline entry {upload.event}", param="event")
        return upload.event
    action = _DEFAULT_ENTRY.get(upload.kind)
    return None if action is None else store.photos.latest_entry(incident_id, action)


def _write(files: PhotoFiles, prepared: PreparedPhoto) -> list[Path]:
    """Write the photo and its thumbnail; the paths this call created. 507 when the disk is full, after removing
    what it created."""
    written: list[Path] = []
    try:
        for thumb, data in ((False, prepared.data), (True, prepared.thumb)):
            target = files.path(prepared.sha256, prepared.extension, thumb=thumb)
            if files.write(target, data):
                written.append(target)
    except DiskFull:
        for path in written:
            files.remove(path)
        raise Problem(507, "the photo could not be stored: the server's photo disk is full; nothing was kept, "
                           "try again later", param="photo") from None
    except BaseException:
        for path in written:
            files.remove(path)
        raise
    return written


def photo_folder(settings: PhotoSettings, source: str) -> PhotoFiles:
    """The photo files of a configuration read from ``source``."""
    return PhotoFiles(settings.folder(source))
