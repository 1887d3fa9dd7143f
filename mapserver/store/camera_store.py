"""Camera heartbeats, shared by both backends in portable SQL (``?`` placeholders). Times are UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mapserver.errors import Problem
from mapserver.model import Camera

CHUNK = 500  # codes per statement: well under SQLite's limit on bound parameters


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class CameraStore:
    """Mixin of :class:`~mapserver.store.base.Store` for camera liveness."""

    def query_cameras(self, *, bbox: Sequence[float] | None = None, status: str | None = None, now: datetime,
                      offline_after_s: int, limit: int | None = None,
                      offset: int = 0) -> tuple[list[Camera], int]:
        """Cameras in ``bbox`` whose status at ``now`` is ``status`` (stale heartbeats count as offline), by code;
        and how many match in all."""
        from mapserver.cameras import status_condition
        from mapserver.store.base import check_bbox

        box = check_bbox(bbox)
        conditions = [status_condition(status, now=now, offline_after_s=offline_after_s)] if status else []
        found = self._select("cameras", bbox=box, where={}, limit=limit, offset=offset, conditions=conditions)
        return found, self._count("cameras", bbox=box, where={}, conditions=conditions)

    def camera_heartbeats(self, codes: Sequence[str], *, at: datetime) -> int:
        """Record a heartbeat at ``at`` for each camera: last seen then, online unless marked faulty.

        All or nothing: any unknown code is a 404 listing the unknown codes.
        """
        from mapserver.store.base import iter_chunks, utc

        unique = sorted(set(codes))
        known: set[str] = set()
        for chunk in iter_chunks(unique, CHUNK):
            known |= {row[0] for row in self._fetch(
                f"SELECT code FROM cameras WHERE code IN ({_marks(len(chunk))})", tuple(chunk))}
        missing = [code for code in unique if code not in known]
        if missing:
            raise Problem(404, f"{len(missing)} unknown camera code(s); nothing was recorded", param="code",
                          errors=[{"code": code, "reason": "no such camera"} for code in missing[:100]])
        if not unique:
            return 0
        with self.transaction():
            for chunk in iter_chunks(unique, CHUNK):
                self._exec("UPDATE cameras SET last_seen = ?, "
                           "status = CASE WHEN status = 'fault' THEN status ELSE 'online' END "
                           f"WHERE code IN ({_marks(len(chunk))})", (utc(at), *chunk))
            self._bump_version("cameras")
        return len(unique)
