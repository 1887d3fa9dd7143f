"""Access control, deny by default: bearer tokens with the roles viewer < operator < admin.

Every endpoint needs a token unless its view is marked :func:`public`. Reads
need ``viewer``, writes (any method but GET/HEAD/OPTIONS) ``operator``, and a
view may ask for more with :func:`requires_role`. Tokens are random 256-bit
strings; only their SHA-256 is stored (a slow hash adds nothing for secrets
with that much entropy, and would cost every request).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request

from mapserver.app_state import store
from mapserver.audit import Actor
from mapserver.errors import Problem
from mapserver.store.tokens import ROLES

F = TypeVar("F", bound=Callable[..., object])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"static"})  # vendored scripts, styles and fonts: nothing secret
TOKEN_PREFIX = "msk_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot, not a secret


def new_token() -> str:
    """A fresh token to hand out once; never stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token: what the store keeps and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def role_at_least(role: str, needed: str) -> bool:
    """Whether ``role`` carries every right of ``needed``."""
    return ROLES.index(role) >= ROLES.index(needed)


def public(view: F) -> F:
    """Mark a view as open to requests without a token (health checks only)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def reads_only(view: F) -> F:
    """Mark a POST view that changes nothing (a query too large for a URL): viewers may use it."""
    view.reads_only = True  # type: ignore[attr-defined]
    return view


def requires_role(role: str) -> Callable[[F], F]:
    """Mark a view as needing at least ``role`` (more than the method's default)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def mark(view: F) -> F:
        view.required_role = role  # type: ignore[attr-defined]
        return view

    return mark


def needed_role(endpoint: str, view: Callable[..., object], method: str) -> str | None:
    """The least role a request needs for this endpoint and method; None for public ones."""
    if endpoint in PUBLIC_ENDPOINTS or getattr(view, "public", False):
        return None
    default = "viewer" if method in SAFE_METHODS or getattr(view, "reads_only", False) else "operator"
    marked = getattr(view, "required_role", default)
    return marked if role_at_least(marked, default) else default


def _bearer_token(method: str) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if method not in SAFE_METHODS:
        return None  # a cookie never authorises a write, so no other site can write through a wall's browser
    from mapserver.screen.access import token_from_browser  # a video wall's browser cannot send a header

    return token_from_browser()


def authorize() -> None:
    """``before_request`` hook: let the request through, or raise 401/403."""
    # The request is read through its proxy once: every proxied attribute costs a context lookup, on each request.
    req = request._get_current_object()  # type: ignore[attr-defined]
    endpoint, method = req.endpoint, req.method
    if req.routing_exception is not None or endpoint is None:
        return  # routing will answer 404/405 itself
    needed = needed_role(endpoint, current_app.view_functions[endpoint], method)
    if needed is None:
        return
    challenge = {"WWW-Authenticate": 'Bearer realm="mapserver"'}
    token = _bearer_token(method)
    if token is None:
        raise Problem(401, "this resource needs a token: send 'Authorization: Bearer <token>'", headers=challenge)
    found = store().tokens.by_hash(hash_token(token))
    if found is None:
        raise Problem(401, "the token is not known or was revoked", headers=challenge)
    if not role_at_least(found.role, needed):
        raise Problem(403, f"{method} {req.path} needs the {needed} role; token '{found.name}' is {found.role}")
    g.token = found


def request_actor() -> Actor:
    """Who is making the current request, for the audit trail: the authorised token, or ``anonymous``."""
    token = g.get("token")
    return Actor(name=token.name if token is not None else "anonymous", role=token.role if token else None,
                 remote_addr=request.remote_addr, request_id=g.get("request_id"))
