"""Who changed what: one audit record per write, taken where the write enters (a route or a command).

:func:`record` names the actor itself: inside a request, the token that was
authorised, its role, the client's address (after ProxyFix, so the one nginx
saw) and the request id of the log line; on the command line, ``cli:<os user>``
and no address. Call it inside the write's transaction (``with
store.transaction():``), so that a write that fails leaves no record and no
write lands without one. Times are UTC.

Actions, with their targets:

- ``import`` (the layer; a grids import is the grids' edit), ``demo.load`` (the scale),
- ``incident.report`` and ``incident.transition`` (the incident id),
- ``camera.heartbeats`` (a camera code for one, none for a batch; the count in detail),
- ``token.create`` and ``token.revoke`` (the token name),
- ``incidents.reassign`` (grid assignment of incidents after a grid edit).
- ``patrol.plan`` (the saved plan's id).
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context, request

from mapserver.store import Store
from mapserver.store.audit import AuditRecord

CLI_PREFIX = "cli:"


def cli_actor() -> str:
    """``cli:<os user>``: the account that ran the command (its uid when the system has no name for it)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's uid without a passwd entry
        user = f"uid{os.getuid()}"
    return CLI_PREFIX + user


def _who() -> dict[str, str | None]:
    if not has_request_context():
        return {"actor": cli_actor(), "role": None, "remote_addr": None, "request_id": None}
    token = g.get("token")
    return {"actor": token.name if token is not None else "anonymous", "role": token.role if token else None,
            "remote_addr": request.remote_addr, "request_id": g.get("request_id")}


def record(store: Store, *, action: str, target: str | None, detail: dict[str, Any]) -> None:
    """Append the audit record of a write that was just made, in the caller's transaction."""
    store.audit.append(AuditRecord(at=datetime.now(UTC), action=action, target=target, detail=detail, **_who()))
