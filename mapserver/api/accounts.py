"""Account administration (admin only): list, create, read, change and reset the password of the people who log
in. An administrator bound to a grid sees and changes only the people of their jurisdiction
(:mod:`mapserver.account_admin`); every write is audited under the caller's name."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request

from mapserver import account_admin
from mapserver.app_state import state, store
from mapserver.auth import acting_person, request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.parsing import json_object, parse_json, reject_unknown
from mapserver.store.accounts import Account

bp = Blueprint("accounts", __name__, url_prefix="/api/accounts")

CREATE_FIELDS = ("name", "role", "grid", "display_name", "password")
CHANGE_FIELDS = ("role", "grid", "display_name", "enabled")


def account_json(account: Account) -> dict[str, Any]:
    """An account as the API shows it: never its password hash."""
    return {"name": account.name, "display_name": account.display_name, "role": account.role,
            "grid": account.grid_code, "enabled": account.enabled, "created_at": account.created_at.isoformat(),
            "password_changed_at": account.password_changed_at.isoformat(),
            "disabled_at": account.disabled_at.isoformat() if account.disabled_at is not None else None}


def _typed(body: Any, field: str, kind: type, what: str) -> Any:
    value = body[field]
    if not isinstance(value, kind):
        raise Problem(400, f"'{field}' must be {what}", param=field)
    return value


def _body(fields: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object of the request, each present field of its type; 422 naming a missing required field."""
    body = json_object(parse_json(request.get_data()), fields)
    for field in required:
        if field not in body:
            raise Problem(422, f"'{field}' is required", param=field)
    out: dict[str, Any] = {}
    for field in body:
        if field == "grid":
            out[field] = None if body[field] is None else _typed(body, field, str, "a grid code or null")
        elif field == "enabled":
            out[field] = _typed(body, field, bool, "true or false")
        else:
            out[field] = _typed(body, field, str, "a string")
    return out


@bp.get("")
def list_accounts() -> dict:
    reject_unknown(request.args, ())
    return {"accounts": [account_json(a) for a in account_admin.visible(store(), request_jurisdiction())]}


@bp.post("")
def create_account() -> tuple[dict, int, dict[str, str]]:
    body = _body(CREATE_FIELDS, required=("name", "role", "password"))
    account = account_admin.create(store(), state().settings.accounts, name=body["name"], role=body["role"],
                                   grid_code=body.get("grid"), password=body["password"], actor=request_actor(),
                                   reach=request_jurisdiction(), display_name=body.get("display_name", ""))
    return account_json(account), 201, {"Location": f"/api/accounts/{quote(account.name, safe='')}"}


@bp.get("/<name>")
def get_account(name: str) -> dict:
    reject_unknown(request.args, ())
    return account_json(account_admin.find(store(), name, request_jurisdiction()))


@bp.patch("/<name>")
def update_account(name: str) -> dict:
    body = _body(CHANGE_FIELDS)
    change = {"grid_code" if field == "grid" else field: value for field, value in body.items()}
    account = account_admin.update(store(), name, actor=request_actor(), reach=request_jurisdiction(),
                                   by=acting_person(), **change)
    return account_json(account)


@bp.put("/<name>/password")
def set_password(name: str) -> Response:
    body = _body(("password",), required=("password",))
    account_admin.set_password(store(), state().settings.accounts, name, body["password"], actor=request_actor(),
                               reach=request_jurisdiction())
    return Response(status=204)
