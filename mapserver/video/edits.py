"""An administrator's edit of a camera's stream and snapshot addresses: the body checked, stored and audited.

The body is ``{"stream_url": URL or null, "snapshot_url": URL or null}``; a field left out keeps its address, null
clears it. Each address must be an http(s) URL (:func:`mapserver.video.addresses.url_problem`): anything else is a
422 naming the field, and nothing is written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from mapserver import audit
from mapserver.errors import Problem
from mapserver.jurisdiction import Jurisdiction
from mapserver.model import CameraVideo
from mapserver.store import Store
from mapserver.video.addresses import VIDEO_FIELDS, clean_url, url_problem


def checked_change(body: Any) -> dict[str, str | None]:
    """The addresses a body sets (field → URL or None), or a 400 (not an object, unknown field) or 422 (an
    address refused, every one named in ``errors``) problem."""
    if not isinstance(body, dict) or not body:
        raise Problem(400, "the body must be a JSON object with stream_url and/or snapshot_url", param="body")
    unknown = sorted(set(body) - set(VIDEO_FIELDS))
    if unknown:
        raise Problem(400, f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(VIDEO_FIELDS)}",
                      param=unknown[0])
    errors = [{"field": name, "reason": problem} for name in VIDEO_FIELDS if name in body
              if (problem := url_problem(body[name].strip() if isinstance(body[name], str) else body[name]))]
    if errors:
        raise Problem(422, "; ".join(f"{e['field']} {e['reason']}" for e in errors), param=errors[0]["field"],
                      errors=errors)
    return {name: clean_url(body[name]) for name in VIDEO_FIELDS if name in body}


def change_video(store: Store, code: str, body: Any, *, actor: audit.Actor, within: Jurisdiction,
                 now: datetime) -> CameraVideo:
    """Apply an administrator's body to camera ``code`` in their jurisdiction, with its audit record (``camera.video``:
    the addresses before and after); the addresses now. 404 for a camera unknown or outside ``within``."""
    change = checked_change(body)
    with store.transaction():
        before = store.camera_video.get(code, within=within)
        if before is None:
            raise Problem(404, f"no camera with code '{code}'", param="code")
        after = replace(before, **change)
        store.camera_video.set(after, at=now, within=within)
        audit.record(store, actor=actor, action="camera.video", target=code,
                     detail={"before": {n: getattr(before, n) for n in VIDEO_FIELDS},
                             "after": {n: getattr(after, n) for n in VIDEO_FIELDS}})
    return after
