"""The audit trail in the store: append a record, list records newest first. Times are UTC.

Shared by both backends in portable SQL (``?`` placeholders). The table is
append-only in the schema itself (triggers refuse UPDATE and DELETE), so this
repository offers no way to change or remove a record, and neither does anything
else. ``detail`` is a JSON object, stored as JSON text (SQLite) or ``jsonb``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store.common import Condition, check_page, utc
from mapserver.store.database import Database
from mapserver.store.incidents import within_condition as incidents_within
from mapserver.store.scoping import subtree_sql

MAX_ACTOR_CHARS = 200
MAX_ACTION_CHARS = 100
MAX_TARGET_CHARS = 500
_COLUMNS = "seq, at, actor, role, action, target, CAST(detail AS TEXT), remote_addr, request_id"


@dataclass(frozen=True)
class AuditRecord:
    """Who did what to which target, when, from which address, in which request.

    ``actor`` is a token's name for the API, ``cli:<os user>`` for the command
    line; ``seq`` is given by the store (None before the record is appended).
    """

    at: datetime
    actor: str
    action: str
    target: str | None = None
    role: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    remote_addr: str | None = None
    request_id: str | None = None
    seq: int | None = None


def _check(record: AuditRecord) -> str:
    """The record's detail as JSON text, or a 422 problem for a record that cannot be kept as given."""
    for name, value, limit in (("actor", record.actor, MAX_ACTOR_CHARS), ("action", record.action, MAX_ACTION_CHARS)):
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise Problem(422, f"audit {name} must be 1–{limit} characters", param=name)
    if record.target is not None and len(record.target) > MAX_TARGET_CHARS:
        raise Problem(422, f"audit target must be at most {MAX_TARGET_CHARS} characters", param="target")
    if not isinstance(record.detail, dict):
        raise Problem(422, "audit detail must be a JSON object", param="detail")
    try:
        text = json.dumps(record.detail, ensure_ascii=False, sort_keys=True, allow_nan=False, default=str)
    except ValueError:
        raise Problem(422, "audit detail must hold finite numbers only", param="detail") from None
    # PostgreSQL text and jsonb cannot hold NUL; no audited value needs one.
    if "\x00" in text or "\\u0000" in text or any("\x00" in (v or "") for v in (
            record.actor, record.action, record.target, record.role, record.remote_addr, record.request_id)):
        raise Problem(422, "audit records cannot hold a NUL character", param="detail")
    return text


def within_condition(within: Jurisdiction) -> list[Condition]:
    """Records of ``within`` (none for the whole store; the rule: :mod:`mapserver.audit`): made by a token or an
    account bound to a grid in it, or targeting an incident in it."""
    if within.whole:
        return []
    # Fixed SQL texts (the chain column is grid_l1 … grid_l3, from the jurisdiction's level); codes are parameters.
    subtree = subtree_sql(within)
    [(inside, inside_params)] = incidents_within(within)
    text = ("EXISTS (SELECT 1 FROM tokens k WHERE k.name = audit_log.actor "  # noqa: S608
            f"AND k.grid_code IN ({subtree})) "
            "OR EXISTS (SELECT 1 FROM accounts a WHERE a.name = audit_log.actor "
            f"AND a.grid_code IN ({subtree})) "
            "OR (audit_log.action LIKE 'incident.%' AND EXISTS (SELECT 1 FROM incidents i "
            f"WHERE i.id = audit_log.target AND i.{inside}))")
    return [(text, (within.code, within.code, *inside_params))]


class AuditTrail:
    """The append-only audit trail."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def append(self, record: AuditRecord) -> None:
        """Append one record (in the caller's transaction, when there is one, so it stands or falls with the write)."""
        detail = _check(record)
        # Nothing reads the record back in the write's transaction: PostGIS sends it with the COMMIT.
        self._db.execute_at_commit("INSERT INTO audit_log (at, actor, role, action, target, detail, remote_addr, "
                                   "request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                   (utc(record.at), record.actor, record.role, record.action, record.target, detail,
                                    record.remote_addr, record.request_id))

    def records(self, *, since: datetime | None = None, until: datetime | None = None, actor: str | None = None,
                action: str | None = None, target: str | None = None, limit: int = 100,
                offset: int = 0, within: Jurisdiction = WHOLE) -> tuple[list[AuditRecord], int]:
        """Records of ``within`` at or after ``since`` and before ``until`` whose actor, action and target equal
        those given, newest first (by append order); and how many match in all."""
        if limit is None:
            raise Problem(400, "limit must be a whole number ≥ 0", param="limit")
        check_page(limit, offset)
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("at >= ?", utc(since)), ("at < ?", utc(until)), ("actor = ?", actor),
                              ("action = ?", action), ("target = ?", target)):
            if value is not None:
                clauses.append(column)
                params.append(value)
        for text, values in within_condition(within):
            clauses.append(f"({text})")
            params.extend(values)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        rows = self._db.fetch(f"SELECT {_COLUMNS} FROM audit_log{where} "  # noqa: S608
                              "ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset])
        total = int(self._db.fetch(f"SELECT count(*) FROM audit_log{where}", params)[0][0])  # noqa: S608
        return [AuditRecord(seq=int(r[0]), at=utc(r[1]), actor=r[2], role=r[3], action=r[4], target=r[5],
                            detail=json.loads(r[6]), remote_addr=r[7], request_id=r[8]) for r in rows], total
