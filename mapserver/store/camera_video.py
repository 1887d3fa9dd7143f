"""Where each camera's live stream and snapshot are (table ``camera_video``), read and written apart from the
cameras themselves: nothing that lists cameras reads this table, so no listing, export, layer or tile carries an
address. Reads and writes keep to ``within``, a jurisdiction (:mod:`mapserver.store.scoping`): a camera outside it is
answered as unknown. Addresses come checked (:func:`mapserver.video.addresses.url_problem`); times are UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import CameraVideo
from mapserver.store.common import iter_chunks, utc, where_sql
from mapserver.store.database import Database
from mapserver.store.scoping import scope_conditions

CHUNK = 500  # codes per statement: well under SQLite's limit on bound parameters
_UPSERT = ("INSERT INTO camera_video (code, stream_url, snapshot_url, updated_at) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (code) DO UPDATE SET stream_url = excluded.stream_url, "
           "snapshot_url = excluded.snapshot_url, updated_at = excluded.updated_at")


class CameraVideos:
    """The stream and snapshot addresses of cameras, by camera code."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, code: str, *, within: Jurisdiction = WHOLE) -> CameraVideo | None:
        """The camera's addresses (None in a field it has none of); None when there is no such camera in
        ``within``."""
        clause, params = where_sql([("t.code = ?", (code,)), *scope_conditions(self._db, "cameras", within)])
        rows = self._db.read("SELECT t.code, v.stream_url, v.snapshot_url FROM cameras t "
                             f"LEFT JOIN camera_video v ON v.code = t.code{clause}", params)
        return CameraVideo(*rows[0]) if rows else None

    def set(self, video: CameraVideo, *, at: datetime, within: Jurisdiction = WHOLE) -> bool:
        """Store the camera's addresses as given (both None: it has none); False, writing nothing, when there is
        no such camera in ``within``."""
        with self._db.transaction():
            clause, params = where_sql([("t.code = ?", (video.code,)),
                                        *scope_conditions(self._db, "cameras", within)])
            if not self._db.fetch(f"SELECT t.code FROM cameras t{clause}", params):
                return False
            if video.stream_url is None and video.snapshot_url is None:
                self._db.execute("DELETE FROM camera_video WHERE code = ?", (video.code,))
            else:
                self._db.execute(_UPSERT, (video.code, video.stream_url, video.snapshot_url, utc(at)))
        return True

    def put_many(self, videos: Sequence[CameraVideo], *, at: datetime) -> int:
        """Store the addresses of cameras already in the store (an import's, in its transaction); those without
        any are left out. Returns how many were stored."""
        written = 0
        with self._db.transaction():
            for video in videos:
                if video.stream_url is None and video.snapshot_url is None:
                    continue
                self._db.execute(_UPSERT, (video.code, video.stream_url, video.snapshot_url, utc(at)))
                written += 1
        return written

    def with_stream(self, codes: Sequence[str]) -> set[str]:
        """Which of ``codes`` have a stream address."""
        found: set[str] = set()
        for chunk in iter_chunks(sorted(set(codes)), CHUNK):
            marks = ", ".join("?" * len(chunk))
            found.update(row[0] for row in self._db.read(
                f"SELECT code FROM camera_video WHERE stream_url IS NOT NULL AND code IN ({marks})", chunk))
        return found
