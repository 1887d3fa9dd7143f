"""Access control, deny by default: who is asking (a token or a logged-in person), and whether their role may.

Every request but those to a PUBLIC endpoint must name its principal: a bearer token (scripts, integrations),
the session cookie of a person who logged in (:mod:`mapserver.sessions`), or the video wall's viewer cookie
(reads only). Which roles may call which endpoint is the table in :mod:`mapserver.roles`; an endpoint the table
does not name is refused to everyone. The principal's jurisdiction (:mod:`mapserver.jurisdiction`) goes with
the request, for the views to hand to the store.
"""

from __future__ import annotations

from flask import g, request

from mapserver.audit import Actor
from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.principals import CHALLENGE, Principal, hash_token, new_token, token_principal
from mapserver.roles import PUBLIC, allowed_roles
from mapserver.screen.access import token_from_browser
from mapserver.sessions import session_principal

__all__ = ["Principal", "acting_person", "authorize", "current_principal", "hash_token", "identify", "new_token",
           "request_actor", "request_jurisdiction"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def identify(method: str) -> Principal | None:
    """The principal of the current request, or None when it names none; 401 for a token or session that is
    not (or no longer) valid, 403 for a cookie-authenticated write without its CSRF token."""
    token = _bearer_token()
    if token is not None:
        return token_principal(token)
    person = session_principal(method)
    if person is not None:
        return person
    if method in SAFE_METHODS:  # a cookie never authorises a write, so no other site can write through a wall's browser
        wall = token_from_browser()
        if wall is not None:
            return token_principal(wall)
    return None


def authorize() -> None:
    """``before_request`` hook: let the request through, or raise 401/403."""
    # The request is read through its proxy once: every proxied attribute costs a context lookup, on each request.
    req = request._get_current_object()  # type: ignore[attr-defined]
    endpoint, method = req.endpoint, req.method
    if req.routing_exception is not None or endpoint is None:
        return  # routing will answer 404/405 itself
    allowed = allowed_roles(endpoint, method)
    if allowed == PUBLIC:
        return
    if allowed is None:
        raise Problem(403, f"{method} {req.path} is not in the role table: nobody may call it")
    principal = identify(method)
    if principal is None:
        raise Problem(401, "this resource needs you to log in, or a token: send 'Authorization: Bearer <token>'",
                      headers=CHALLENGE)
    if principal.role not in allowed:
        raise Problem(403, f"{method} {req.path} is for the roles {', '.join(sorted(allowed))}; "
                           f"'{principal.name}' is {principal.role}")
    g.principal = principal


def current_principal() -> Principal | None:
    """The principal authorised for the current request (None on a public endpoint)."""
    return g.get("principal")


def acting_person() -> str | None:
    """The account name of the person making the current request; None for a token or a public endpoint."""
    principal = g.get("principal")
    return principal.name if principal is not None and principal.kind == "account" else None


def request_jurisdiction() -> Jurisdiction:
    """The jurisdiction the current request may see and change (the whole store on a public endpoint)."""
    principal = g.get("principal")
    return principal.jurisdiction if principal is not None else WHOLE


def request_actor() -> Actor:
    """Who is making the current request, for the audit trail: the token's or person's name and role, or
    ``anonymous``."""
    principal = g.get("principal")
    return Actor(name=principal.name if principal is not None else "anonymous",
                 role=principal.role if principal is not None else None,
                 remote_addr=request.remote_addr, request_id=g.get("request_id"))
