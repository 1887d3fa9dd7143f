"""Token administration (admin only): list, create (the token is shown once), revoke. An administrator bound to a
grid sees, creates and revokes only tokens bound within their jurisdiction (:mod:`mapserver.account_admin`)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mapserver import account_admin
from mapserver.app_state import store
from mapserver.auth import hash_token, new_token, request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.parsing import json_object, parse_json, reject_unknown

bp = Blueprint("tokens", __name__, url_prefix="/api/tokens")


@bp.get("")
def list_tokens() -> dict:
    reject_unknown(request.args, ())
    return {"tokens": [{"name": t.name, "role": t.role, "grid": t.grid_code, "created_at": t.created_at.isoformat()}
                       for t in account_admin.live_tokens(store(), request_jurisdiction())]}


@bp.post("")
def create_token() -> tuple[dict, int]:
    body = json_object(parse_json(request.get_data()), ("name", "role", "grid"))
    name, role, grid = body.get("name"), body.get("role"), body.get("grid")
    for field, value in (("name", name), ("role", role)):
        if not isinstance(value, str):
            raise Problem(400, f"'{field}' must be a string", param=field)
    if grid is not None and not isinstance(grid, str):
        raise Problem(400, "'grid' must be a grid code or null", param="grid")
    token = new_token()
    record = account_admin.create_token(store(), name=name, role=role, grid_code=grid, token_hash=hash_token(token),
                                        actor=request_actor(), reach=request_jurisdiction())
    return {"name": record.name, "role": record.role, "grid": record.grid_code, "token": token,
            "created_at": record.created_at.isoformat()}, 201


@bp.delete("/<name>")
def revoke_token(name: str) -> Response:
    account_admin.revoke_token(store(), name, actor=request_actor(), reach=request_jurisdiction())
    return Response(status=204)
