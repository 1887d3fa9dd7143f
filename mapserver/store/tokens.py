"""API tokens, kept by their SHA-256 hex digest only (the token itself is never stored). Times are UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mapserver.errors import Problem
from mapserver.roles import ROLES
from mapserver.store.common import utc
from mapserver.store.database import Database


@dataclass(frozen=True)
class Token:
    """An API token's public facts; the token itself is never stored, only its SHA-256."""

    name: str
    role: str
    created_at: datetime
    token_hash: str = ""
    grid_code: str | None = None
    """The jurisdiction: a grid code, or None for the whole store."""


class Tokens:
    """Live and revoked tokens by name and by hash."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._memo = database.token_memo()

    def add(self, *, name: str, role: str, token_hash: str, grid_code: str | None = None) -> Token:
        """Record a new token by its hash; 409 if the name is taken, 422 for an unknown role. The grid code
        must have been checked by the caller (:meth:`mapserver.store.grids.Grids.jurisdiction`)."""
        if role not in ROLES:
            raise Problem(422, f"role must be one of {', '.join(ROLES)}, got {role!r}", param="role")
        if not name or len(name) > 100:
            raise Problem(422, "token name must be 1–100 characters", param="name")
        token = Token(name=name, role=role, created_at=datetime.now(UTC), token_hash=token_hash, grid_code=grid_code)
        with self._db.transaction():
            if self._db.fetch("SELECT 1 FROM tokens WHERE name = ?", (token.name,)):
                raise Problem(409, f"a token named '{token.name}' already exists (revoked names stay taken)",
                              param="name")
            self._db.execute("INSERT INTO tokens (name, role, grid_code, token_hash, created_at) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (token.name, token.role, token.grid_code, token.token_hash, token.created_at))
        return token

    def by_hash(self, token_hash: str) -> Token | None:
        """The live (not revoked) token with this SHA-256 hex digest, or None."""
        # Every request asks this: from what this process keeps (see Database.token_memo), else one round trip.
        kept, generation = self._memo.find(token_hash)
        if kept is not None:
            return kept
        rows = self._db.read("SELECT name, role, created_at, grid_code FROM tokens WHERE token_hash = ? "
                             "AND revoked_at IS NULL",
                             (token_hash,))
        if not rows:
            return None
        found = Token(name=rows[0][0], role=rows[0][1], created_at=utc(rows[0][2]), grid_code=rows[0][3])
        self._memo.keep(token_hash, found, generation)
        return found

    def live(self, *, grid_codes: tuple[str, ...] | None = None) -> list[Token]:
        """Live tokens, by name, without their hashes; with ``grid_codes``, only those bound to one of them."""
        scope, params = _within(grid_codes)
        rows = self._db.fetch(f"SELECT name, role, created_at, grid_code FROM tokens WHERE revoked_at IS NULL{scope} "  # noqa: S608 - marks written here
                              "ORDER BY name", params)
        return [Token(name=r[0], role=r[1], created_at=utc(r[2]), grid_code=r[3]) for r in rows]

    def revoke(self, *, name: str, grid_codes: tuple[str, ...] | None = None) -> bool:
        """Revoke a token by name; False when there was no live token of that name (bound to one of
        ``grid_codes``, when they are given)."""
        # This process forgets its tokens now; the others when the database tells them (Database.token_memo).
        self._memo.forget()
        scope, params = _within(grid_codes)
        with self._db.transaction():
            revoked = self._db.execute("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL"  # noqa: S608
                                       + scope, (datetime.now(UTC), name, *params))
        return revoked == 1


def _within(grid_codes: tuple[str, ...] | None) -> tuple[str, tuple[str, ...]]:
    """The condition (and its parameters) that keeps tokens bound to one of ``grid_codes``; none for None."""
    if grid_codes is None:
        return "", ()
    return f" AND grid_code IN ({', '.join('?' for _ in grid_codes) or 'NULL'})", tuple(grid_codes)
