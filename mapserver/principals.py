"""Who a request acts as: a :class:`Principal` (a token or a person, their role and jurisdiction), and the hashes
by which tokens and session ids are found in the store.

Tokens and session ids are random 256-bit strings; only their SHA-256 is stored (a slow hash adds nothing for
secrets with that much entropy, and would cost every request).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from mapserver.app_state import store
from mapserver.errors import Problem
from mapserver.jurisdiction import JURISDICTION_LEVELS, WHOLE, Jurisdiction

TOKEN_PREFIX = "msk_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot, not a secret
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mapserver"'}


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a token or a person (``kind``), their role and jurisdiction."""

    name: str
    role: str
    kind: str  # "token" or "account"
    jurisdiction: Jurisdiction = WHOLE
    display_name: str = ""


def new_token() -> str:
    """A fresh token to hand out once; never stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token or session id: what the store keeps and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_principal(token: str) -> Principal:
    """The principal of a live token; 401 for one not known or revoked."""
    found = store().tokens.by_hash(hash_token(token))
    if found is None:
        raise Problem(401, "the token is not known or was revoked", headers=CHALLENGE)
    return Principal(name=found.name, role=found.role, kind="token", jurisdiction=jurisdiction_of(found.grid_code))


def jurisdiction_read(grid_code: str | None, level: int | None, name: str | None) -> Jurisdiction:
    """The jurisdiction of a principal bound to ``grid_code``, from the grid's level and name already read with
    the principal (level None: a division, or a grid gone since); 403 as :func:`jurisdiction_of` when it is no
    longer usable."""
    if grid_code is None:
        return WHOLE
    if level is None:  # not a grid: a division (read now), or gone
        return jurisdiction_of(grid_code)
    if level not in JURISDICTION_LEVELS:
        raise Problem(403, f"the jurisdiction '{grid_code}' is no longer a grid or division of this store; ask "
                           "to bind you to another")
    return Jurisdiction(code=grid_code, level=level, name=name)


def jurisdiction_of(grid_code: str | None) -> Jurisdiction:
    """The jurisdiction of a principal bound to ``grid_code``; a grid deleted since (a re-import without it)
    leaves the principal with nothing rather than everything: 403."""
    if grid_code is None:
        return WHOLE
    try:
        return store().grids.jurisdiction(grid_code)
    except Problem:
        raise Problem(403, f"the jurisdiction '{grid_code}' is no longer a grid or division of this store; ask "
                           "to bind you to another") from None
