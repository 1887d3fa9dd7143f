"""What an administrator does to accounts, from the command line or the API: create a person; change their role,
jurisdiction, display name or password; disable or enable them.

Each change is checked in full before anything is written (a bad role, an unknown grid, a password the rules
refuse: nothing is written), then written together with its audit record in one transaction. Changing a role,
jurisdiction or password, or disabling, ends the person's sessions at once (:mod:`mapserver.store.accounts`).

An administrator acts within a *reach*, their own jurisdiction (the whole store on the command line). An
administrator bound to a grid sees and changes only the people bound to that grid or to one inside it, and may
bind people (and tokens) only there: never to the whole store nor to a grid outside, which is refused with 403.
People outside the reach are answered as unknown (404), so their names are not told either.

Nobody locks themselves out: an administrator changing their own account (``by``, the person acting, when a
person acts rather than the command line or a token) may not disable it, take away its admin role, nor narrow
its jurisdiction (:class:`SelfLockout`, 409). The command line, run by the server's OS user, may.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from mapserver import audit
from mapserver.config import AccountSettings
from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.passwords import PasswordHasher, check_new_password
from mapserver.roles import ROLES
from mapserver.store import Store
from mapserver.store.accounts import Account, check_display_name, check_name
from mapserver.store.tokens import Token


class _Keep:
    """The value of a field a change leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


class SelfLockout(Problem):
    """409: a change an administrator may not make to their own account; ``what`` is ``disable``, ``role`` or
    ``grid`` (for pages to say in their language)."""

    _WORDS: Final = {
        "disable": "you cannot disable your own account",
        "role": "you cannot take away your own admin role",
        "grid": "you cannot narrow your own jurisdiction",
    }

    def __init__(self, what: str) -> None:
        super().__init__(409, f"{self._WORDS[what]}: another administrator, or `mapserver user` on the server, "
                              "may", param={"disable": "enabled", "role": "role", "grid": "grid"}[what])
        self.what = what


def check_role(role: Any) -> str:
    """``role`` when it is one of the roles; 422 naming them otherwise."""
    if not isinstance(role, str) or role not in ROLES:
        raise Problem(422, f"role must be one of {', '.join(ROLES)}, got {role!r}", param="role")
    return role


def grant(store: Store, reach: Jurisdiction, grid_code: str | None, *, param: str = "grid") -> Jurisdiction:
    """The jurisdiction of ``grid_code`` (None: the whole store), when an administrator of ``reach`` may give it:
    422 for a code that is not a street, community or compound grid nor a division, 403 for one outside the
    reach."""
    if grid_code is not None and (not isinstance(grid_code, str) or not grid_code.isprintable()):
        raise Problem(422, f"no grid has the code {grid_code!r}", param=param)
    given = store.grids.jurisdiction(grid_code, param=param)
    if not reach.whole and not in_reach(store, reach, grid_code):
        what = "the whole store" if grid_code is None else f"grid '{grid_code}', which is outside it"
        kind = "division" if reach.is_division else "grid"
        raise Problem(403, f"you administer {kind} '{reach.code}' and what lies inside it; you cannot give {what}",
                      param=param)
    return given


def in_reach(store: Store, reach: Jurisdiction, grid_code: str | None) -> bool:
    """Whether a person or token bound to ``grid_code`` (None: the whole store) lies within ``reach``."""
    if reach.whole:
        return True
    return grid_code is not None and reach.covers_grid(grid_code, store.grids.ancestors(grid_code))


def reach_codes(store: Store, reach: Jurisdiction) -> tuple[str, ...] | None:
    """The grid codes a person or token may be bound to within ``reach``; None for the whole store (any)."""
    return None if reach.code is None else tuple(store.grids.descendants(reach.code))


def visible(store: Store, reach: Jurisdiction) -> list[Account]:
    """Every person within ``reach``, by name."""
    return store.accounts.list(grid_codes=reach_codes(store, reach))


def find(store: Store, name: str, reach: Jurisdiction) -> Account:
    """The person of this name within ``reach``; 404 for one not known or outside it."""
    account = store.accounts.get(name)
    if account is None or not in_reach(store, reach, account.grid_code):
        raise Problem(404, f"no account named '{name}'" + ("" if reach.whole else f" in grid '{reach.code}'"),
                      param="name")
    return account


def _new_hash(settings: AccountSettings, name: str, password: Any) -> str:
    if not isinstance(password, str):
        raise Problem(422, "the password must be text", param="password")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in password):  # a lone surrogate has no UTF-8 to hash
        raise Problem(422, "the password holds a character that is not Unicode text", param="password")
    check_new_password(password, name=name, min_length=settings.password_min_length)
    return PasswordHasher(settings.password_hash).hash(password)  # slow on purpose: before the transaction


def create(store: Store, settings: AccountSettings, *, name: str, role: str, grid_code: str | None, password: str,
           actor: audit.Actor, reach: Jurisdiction = WHOLE, display_name: str = "") -> Account:
    """Add a person who may log in now; 409 when the name is taken, 422 saying what else is wrong (name, role,
    grid, display name, password), 403 for a grid outside ``reach``."""
    check_name(name)
    check_role(role)
    check_display_name(display_name)
    grant(store, reach, grid_code)
    password_hash = _new_hash(settings, name, password)
    with store.transaction():
        account = store.accounts.add(name=name, role=role, grid_code=grid_code, password_hash=password_hash,
                                     now=datetime.now(UTC), display_name=display_name)
        audit.record(store, actor=actor, action="account.create", target=name,
                     detail={"role": role, "grid": grid_code, "display_name": display_name})
    return account


def _check_own_change(store: Store, before: Account, *, role: Any, grid_code: Any, enabled: Any) -> None:
    """:class:`SelfLockout` for a change that would lock the acting administrator (``before``) out."""
    if enabled is False and before.enabled:
        raise SelfLockout("disable")
    if role is not KEEP and before.role == "admin" and role != "admin":
        raise SelfLockout("role")
    if grid_code is not KEEP and grid_code != before.grid_code:
        # Wider is a grid that holds the present one; the whole store holds every grid.
        wider = grid_code is None or (before.grid_code is not None
                                      and grid_code in store.grids.ancestors(before.grid_code))
        if not wider:
            raise SelfLockout("grid")


def update(store: Store, name: str, *, actor: audit.Actor, reach: Jurisdiction = WHOLE, role: Any = KEEP,
           grid_code: Any = KEEP, display_name: Any = KEEP, enabled: Any = KEEP, by: str | None = None) -> Account:
    """Change what is given (KEEP leaves a field as it is; ``grid_code`` None binds to the whole store) and
    return the account after; a value equal to the present one writes nothing. ``by``: the name of the person
    making the change (None for the command line or a token), who may not lock themselves out. 404 for a person
    not known or outside ``reach``, 422 for a bad value, 403 for a grid outside ``reach``, 409
    (:class:`SelfLockout`) for a change that would lock ``by`` out."""
    if role is not KEEP:
        check_role(role)
    if display_name is not KEEP:
        check_display_name(display_name)
    if enabled is not KEEP and not isinstance(enabled, bool):
        raise Problem(422, "enabled must be true or false", param="enabled")
    if grid_code is not KEEP:
        grant(store, reach, grid_code)
    now = datetime.now(UTC)
    with store.transaction():
        before = find(store, name, reach)
        if by is not None and by == name:
            _check_own_change(store, before, role=role, grid_code=grid_code, enabled=enabled)
        changes: list[tuple[str, Mapping[str, Any]]] = []
        if role is not KEEP and role != before.role:
            store.accounts.set_role(name, role=role)
            changes.append(("account.role", {"role": role, "was": before.role}))
        if grid_code is not KEEP and grid_code != before.grid_code:
            store.accounts.set_grid(name, grid_code=grid_code)
            changes.append(("account.grid", {"grid": grid_code, "was": before.grid_code}))
        if display_name is not KEEP and display_name != before.display_name:
            store.accounts.set_display_name(name, display_name=display_name)
            changes.append(("account.display_name", {"display_name": display_name, "was": before.display_name}))
        if enabled is not KEEP and enabled != before.enabled:
            store.accounts.set_enabled(name, enabled=enabled, now=now)
            changes.append(("account.enable" if enabled else "account.disable", {}))
        for action, detail in changes:
            audit.record(store, actor=actor, action=action, target=name, detail=dict(detail))
        after = store.accounts.get(name)
    assert after is not None  # read in the transaction that found it
    return after


def set_password(store: Store, settings: AccountSettings, name: str, password: str, *, actor: audit.Actor,
                 reach: Jurisdiction = WHOLE) -> None:
    """Give the person a new password (ending their sessions); 404 for a person not known or outside ``reach``,
    422 saying why the rules refuse the password."""
    find(store, name, reach)  # before hashing: an unknown name costs no hash
    password_hash = _new_hash(settings, name, password)
    with store.transaction():
        find(store, name, reach)
        store.accounts.set_password(name, password_hash=password_hash, now=datetime.now(UTC))
        audit.record(store, actor=actor, action="account.password", target=name, detail={})


def create_token(store: Store, *, name: Any, role: Any, grid_code: Any, token_hash: str, actor: audit.Actor,
                 reach: Jurisdiction = WHOLE) -> Token:
    """Record a token (by the SHA-256 of its secret, which the caller makes and shows once) with its audit
    record; 422 for a bad name, role or grid, 403 for a grid outside ``reach``, 409 for a name taken."""
    if not isinstance(name, str) or not name.isprintable():
        raise Problem(422, "a token name is 1–100 printable characters", param="name")
    check_role(role)
    grant(store, reach, grid_code)
    with store.transaction():
        token = store.tokens.add(name=name, role=role, token_hash=token_hash, grid_code=grid_code)
        audit.record(store, actor=actor, action="token.create", target=token.name,
                     detail={"role": token.role, "grid": token.grid_code})
    return token


def revoke_token(store: Store, name: str, *, actor: audit.Actor, reach: Jurisdiction = WHOLE) -> None:
    """Revoke the live token ``name`` bound within ``reach``, with its audit record; 404 for none."""
    with store.transaction():
        if not store.tokens.revoke(name=name, grid_codes=reach_codes(store, reach)):
            raise Problem(404, f"no live token named '{name}'", param="name")
        audit.record(store, actor=actor, action="token.revoke", target=name, detail={})


def live_tokens(store: Store, reach: Jurisdiction) -> list[Token]:
    """Every live token bound within ``reach``, by name."""
    return store.tokens.live(grid_codes=reach_codes(store, reach))
