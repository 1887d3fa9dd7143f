"""Token administration (admin only): list, create (the token is shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mapserver import audit
from mapserver.app_state import store
from mapserver.auth import hash_token, new_token, request_actor
from mapserver.errors import Problem
from mapserver.parsing import json_object, parse_json, reject_unknown

bp = Blueprint("tokens", __name__, url_prefix="/api/tokens")


@bp.get("")
def list_tokens() -> dict:
    reject_unknown(request.args, ())
    return {"tokens": [{"name": t.name, "role": t.role, "created_at": t.created_at.isoformat()}
                       for t in store().tokens.live()]}


@bp.post("")
def create_token() -> tuple[dict, int]:
    body = json_object(parse_json(request.get_data()), ("name", "role"))
    name, role = body.get("name"), body.get("role")
    for field, value in (("name", name), ("role", role)):
        if not isinstance(value, str):
            raise Problem(400, f"'{field}' must be a string", param=field)
    token = new_token()
    with store().transaction():
        record = store().tokens.add(name=name, role=role, token_hash=hash_token(token))
        audit.record(store(), actor=request_actor(), action="token.create", target=record.name,
                     detail={"role": record.role})
    return {"name": record.name, "role": record.role, "token": token,
            "created_at": record.created_at.isoformat()}, 201


@bp.delete("/<name>")
def revoke_token(name: str) -> Response:
    with store().transaction():
        if not store().tokens.revoke(name=name):
            raise Problem(404, f"no live token named '{name}'", param="name")
        audit.record(store(), actor=request_actor(), action="token.revoke", target=name, detail={})
    return Response(status=204)
