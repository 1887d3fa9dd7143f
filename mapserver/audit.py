"""Who changed what: one audit record per write, taken where the write enters (a route or a command).

:func:`record` is told who acted, as an :class:`Actor`: inside a request, the web
side resolves it once (the token that was authorised, its role, the client's
address after ProxyFix, so the one nginx saw, and the request id of the log
line); on the command line, :func:`cli_actor` gives ``cli:<os user>`` and no
address. Call it inside the write's transaction (``with store.transaction():``),
so that a write that fails leaves no record and no write lands without one.
Times are UTC.

Who reads which records: an administrator of the whole store reads them all; one
bound to a grid J reads a record when its actor is a token or an account bound
now to J or a grid below it, or when its target is an incident whose grid chain
lies in J (``incident.*`` actions). The store applies the rule in the trail's
own query (:meth:`~mapserver.store.audit.AuditTrail.records`, ``within``); a
command-line record (``cli:…``) is read only through an incident it targets.

Actions, with their targets:

- ``import`` (the layer; a grids import is the grids' edit), ``demo.load`` (the scale),
- ``incident.report`` and ``incident.transition`` (the incident id),
- ``incident.photo`` (the incident id; the photo's sha256, kind and timeline entry in detail),
- ``camera.heartbeats`` (a camera code for one, none for a batch; the count in detail),
- ``camera.video`` (the camera code; its stream and snapshot addresses before and after in detail),
- ``token.create`` and ``token.revoke`` (the token name; its role and grid in detail),
- ``account.create``, ``account.role``, ``account.grid``, ``account.display_name``, ``account.disable``,
  ``account.enable`` and ``account.password`` (the account name; the new value and the one before in detail,
  never a password or its hash),
- ``incidents.reassign`` (grid assignment of incidents after a grid edit).
- ``patrol.plan`` (the saved plan's id).
- ``login`` (the account; detail ``rehashed`` when a stronger hash was stored), ``login.failure`` (the name
  tried, which is also the actor: not authenticated, detail ``{"authenticated": false, "reason": …}``; a wrong
  current password on the password form is one too, by the logged-in person), ``login.lockout`` (the name
  whose failure locked the name or the address; detail ``locked``, ``until``), ``logout`` (the account),
  ``password.change`` (the account; detail ``sessions_ended``). Never a password (:mod:`mapserver.logins`).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mapserver.store import Store
from mapserver.store.audit import AuditRecord

CLI_PREFIX = "cli:"


@dataclass(frozen=True)
class Actor:
    """Who made a write: a token or account name, its role, the client's address and the request's log id."""

    name: str
    role: str | None = None
    remote_addr: str | None = None
    request_id: str | None = None


def cli_actor() -> Actor:
    """``cli:<os user>``: the account that ran the command (its uid when the system has no name for it)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's uid without a passwd entry
        user = f"uid{os.getuid()}"
    return Actor(name=CLI_PREFIX + user)


def record(store: Store, *, actor: Actor, action: str, target: str | None, detail: dict[str, Any]) -> None:
    """Append the audit record of a write that ``actor`` just made, in the caller's transaction."""
    store.audit.append(AuditRecord(at=datetime.now(UTC), action=action, target=target, detail=detail,
                                   actor=actor.name, role=actor.role, remote_addr=actor.remote_addr,
                                   request_id=actor.request_id))
