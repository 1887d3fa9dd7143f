"""Token administration (admin only): list, create (the token is shown once), revoke. An administrator bound to a
grid sees, creates and revokes only tokens bound within their jurisdiction (:mod:`mapserver.account_admin`)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mapserver import account_admin, audit
from mapserver.app_state import store
from mapserver.auth import hash_token, new_token, request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.parsing import json_object, parse_json, reject_unknown

bp = Blueprint("tokens", __name__, url_prefix="/api/tokens")


@bp.get("")
def list_tokens() -> dict:
    reject_unknown(request.args, ())
    codes = account_admin.reach_codes(store(), request_jurisdiction())
    return {"tokens": [{"name": t.name, "role": t.role, "grid": t.grid_code, "created_at": t.created_at.isoformat()}
                       for t in store().tokens.live(grid_codes=codes)]}


@bp.post("")
def create_token() -> tuple[dict, int]:
    body = json_object(parse_json(request.get_data()), ("name", "role", "grid"))
    name, role, grid = body.get("name"), body.get("role"), body.get("grid")
    for field, value in (("name", name), ("role", role)):
        if not isinstance(value, str):
            raise Problem(400, f"'{field}' must be a string", param=field)
    if grid is not None and not isinstance(grid, str):
        raise Problem(400, "'grid' must be a grid code or null", param="grid")
    account_admin.grant(store(), request_jurisdiction(), grid)
    token = new_token()
    with store().transaction():
        record = store().tokens.add(name=name, role=role, token_hash=hash_token(token), grid_code=grid)
        audit.record(store(), actor=request_actor(), action="token.create", target=record.name,
                     detail={"role": record.role, "grid": record.grid_code})
    return {"name": record.name, "role": record.role, "grid": record.grid_code, "token": token,
            "created_at": record.created_at.isoformat()}, 201


@bp.delete("/<name>")
def revoke_token(name: str) -> Response:
    with store().transaction():
        if not store().tokens.revoke(name=name, grid_codes=account_admin.reach_codes(store(), request_jurisdiction())):
            raise Problem(404, f"no live token named '{name}'", param="name")
        audit.record(store(), actor=request_actor(), action="token.revoke", target=name, detail={})
    return Response(status=204)
