"""Photos of cases: which stored file (by SHA-256) is on which case, on which timeline entry, of which kind, and
who uploaded it when. The files themselves are on disk (:mod:`mapserver.photos.files`); times are UTC.

A photo is on a case once: the same bytes uploaded again to the same case are the same row, and so is a retried
upload with the same Idempotency-Key. Reads by hash keep to a jurisdiction through the case the photo is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store.common import utc
from mapserver.store.database import Database
from mapserver.store.incidents import within_and

PHOTO_KINDS = ("report", "before", "after", "other")
"""What a photo shows: the scene as reported (上报), before and after handling (处置前/处置后), anything else."""
_COLUMNS = ("incident_id, sha256, event_seq, kind, format, width, height, bytes, upload_sha256, idempotency_key, "
            "uploaded_at, uploaded_by")


@dataclass(frozen=True)
class Photo:
    """A photo on a case: the stored file's SHA-256 (hex) and format (JPEG, PNG, WEBP), its size in pixels and
    bytes, the timeline entry it belongs to (``event_seq``, None for the case as a whole), and the upload's own
    SHA-256 with the Idempotency-Key it came with."""

    incident_id: str
    sha256: str
    kind: str
    format: str
    width: int
    height: int
    bytes: int
    upload_sha256: str
    uploaded_at: datetime
    uploaded_by: str
    event_seq: int | None = None
    idempotency_key: str | None = None


def _photo(row: tuple[Any, ...]) -> Photo:
    (incident_id, sha256, event_seq, kind, fmt, width, height, size, upload_sha256, key, at, by) = row
    return Photo(incident_id=incident_id, sha256=sha256, event_seq=None if event_seq is None else int(event_seq),
                 kind=kind, format=fmt, width=int(width), height=int(height), bytes=int(size),
                 upload_sha256=upload_sha256, idempotency_key=key, uploaded_at=utc(at), uploaded_by=by)


class Photos:
    """Photos attached to cases."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, photo: Photo, *, per_entry: int) -> tuple[Photo, bool]:
        """Attach ``photo`` to its case; return (the photo on the case, created).

        The same Idempotency-Key on the same case returns the photo first stored with it (created=False), or a 422
        when it came with another upload; the same bytes on the same case return that photo (created=False); a
        timeline entry with ``per_entry`` photos already takes no more (422). Concurrent repeats store one row.
        """
        with self._db.transaction():
            if photo.idempotency_key is not None:
                earlier = self._by_key(photo.incident_id, photo.idempotency_key)
                if earlier is not None:
                    if earlier.upload_sha256 != photo.upload_sha256:
                        raise Problem(422, "this Idempotency-Key was used with a different photo",
                                      param="Idempotency-Key")
                    return earlier, False
            same = self._on_case(photo.incident_id, photo.sha256)
            if same is not None:
                return same, False
            if photo.event_seq is not None and self._count_on_entry(photo.event_seq) >= per_entry:
                raise Problem(422, f"this timeline entry has {per_entry} photos already, the most it may have",
                              param="event")
            added = self._db.execute(
                f"INSERT INTO photos ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (photo.incident_id, photo.sha256, photo.event_seq, photo.kind, photo.format, photo.width,
                 photo.height, photo.bytes, photo.upload_sha256, photo.idempotency_key, photo.uploaded_at,
                 photo.uploaded_by))
        if added:
            return photo, True
        # A concurrent upload of the same photo or key won the insert: answer with what it stored.
        earlier = (self._by_key(photo.incident_id, photo.idempotency_key) if photo.idempotency_key is not None
                   else None) or self._on_case(photo.incident_id, photo.sha256)
        if earlier is None:
            raise Problem(409, "the photo was stored and removed meanwhile; upload it again", param="photo")
        return earlier, False

    def for_incident(self, incident_id: str) -> list[Photo]:
        """The case's photos, in the order they were attached; read them only for a case the asker may see."""
        rows = self._db.fetch(f"SELECT {_COLUMNS} FROM photos WHERE incident_id = ? ORDER BY id", (incident_id,))
        return [_photo(r) for r in rows]

    def version(self, incident_id: str) -> tuple[int, int]:
        """(photos on the case, the newest one's row id): changes whenever a photo is attached or removed."""
        count, newest = self._db.fetch("SELECT count(*), max(id) FROM photos WHERE incident_id = ?",
                                       (incident_id,))[0]
        return int(count), int(newest or 0)

    def get(self, sha256: str, *, within: Jurisdiction = WHOLE) -> Photo | None:
        """A photo with this SHA-256 on some case inside ``within`` (the condition is part of the query), else None:
        a photo only on cases outside the jurisdiction is as absent as one never stored."""
        scope_sql, scope_params = within_and(within)
        rows = self._db.fetch(
            f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))} FROM photos p "
            f"JOIN incidents ON incidents.id = p.incident_id WHERE p.sha256 = ?{scope_sql} ORDER BY p.id LIMIT 1",
            (sha256, *scope_params))
        return _photo(rows[0]) if rows else None

    def stored(self, sha256: str) -> bool:
        """Whether any case has the photo with this SHA-256 (its file is in use)."""
        return bool(self._db.fetch("SELECT 1 FROM photos WHERE sha256 = ? LIMIT 1", (sha256,)))

    def entry_action(self, incident_id: str, seq: int) -> str | None:
        """The action of the case's timeline entry ``seq`` (report, handle, …); None when the case has no such entry."""
        rows = self._db.fetch("SELECT action FROM incident_events WHERE incident_id = ? AND seq = ?",
                              (incident_id, seq))
        return rows[0][0] if rows else None

    def latest_entry(self, incident_id: str, action: str) -> int | None:
        """The seq of the case's latest timeline entry of ``action``; None when it has none."""
        rows = self._db.fetch("SELECT max(seq) FROM incident_events WHERE incident_id = ? AND action = ?",
                              (incident_id, action))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def _by_key(self, incident_id: str, key: str) -> Photo | None:
        rows = self._db.fetch(f"SELECT {_COLUMNS} FROM photos WHERE incident_id = ? AND idempotency_key = ?",
                              (incident_id, key))
        return _photo(rows[0]) if rows else None

    def _on_case(self, incident_id: str, sha256: str) -> Photo | None:
        rows = self._db.fetch(f"SELECT {_COLUMNS} FROM photos WHERE incident_id = ? AND sha256 = ?",
                              (incident_id, sha256))
        return _photo(rows[0]) if rows else None

    def _count_on_entry(self, event_seq: int) -> int:
        return int(self._db.fetch("SELECT count(*) FROM photos WHERE event_seq = ?", (event_seq,))[0][0])
