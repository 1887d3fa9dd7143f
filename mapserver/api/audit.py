"""``GET /api/audit``: the audit trail, newest first, for admins only.

Read-only by construction: the blueprint has no other route, so any other
method is a 405, and the store refuses to change or delete a record anyway.
Times are ISO 8601 (``since`` inclusive, ``until`` exclusive; without an
offset, local time in ``incidents.timezone``); answers are in UTC. An
administrator bound to a grid reads the records of their jurisdiction only (the
rule: :mod:`mapserver.audit`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from mapserver.app_state import state, store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.parsing import parse_int, parse_time, reject_unknown
from mapserver.store.audit import MAX_ACTION_CHARS, MAX_ACTOR_CHARS, MAX_TARGET_CHARS, AuditRecord

bp = Blueprint("audit", __name__, url_prefix="/api/audit")

PARAMS = ("since", "until", "actor", "action", "target", "limit", "offset")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
TEXT_LIMITS = {"actor": MAX_ACTOR_CHARS, "action": MAX_ACTION_CHARS, "target": MAX_TARGET_CHARS}


def _text(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and not 0 < len(value) <= TEXT_LIMITS[name]:
        raise Problem(400, f"{name} must be 1–{TEXT_LIMITS[name]} characters", param=name)
    return value


def record_json(item: AuditRecord) -> dict[str, Any]:
    """One audit record as JSON."""
    return {"seq": item.seq, "at": item.at.isoformat(), "actor": item.actor, "role": item.role,
            "action": item.action, "target": item.target, "detail": item.detail,
            "remote_addr": item.remote_addr, "request_id": item.request_id}


@bp.get("")
def list_audit() -> dict[str, Any]:
    reject_unknown(request.args, PARAMS)
    zone = state().settings.incidents.timezone
    since = parse_time("since", request.args.get("since"), zone=zone)
    until = parse_time("until", request.args.get("until"), zone=zone)
    limit = parse_int("limit", request.args.get("limit"), default=DEFAULT_LIMIT, low=0, high=MAX_LIMIT)
    offset = parse_int("offset", request.args.get("offset"), default=0, low=0)
    found, total = store().audit.records(since=since, until=until, actor=_text("actor"), action=_text("action"),
                                         target=_text("target"), limit=limit, offset=offset,
                                         within=request_jurisdiction())
    return {"total": total, "returned": len(found), "records": [record_json(r) for r in found]}
