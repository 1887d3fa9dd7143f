"""The demo's field accounts (网格员 who log in on the phone app): one for the grid worker of every compound
(level 3) and building (level 4) base grid, role ``field``, bound to that grid, shown by the worker's name.

Login names are ``wg`` and the grid's code (``wg411602001001001001``): unique, stable for a seed's grids, and
nothing a person would guess as a password. The accounts are made with no usable password (see
:mod:`mapserver.demo.field_load`): an administrator gives one with ``mapserver user set-password``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapserver.model import Grid, GridStaff

ACCOUNT_PREFIX = "wg"
FIELD_LEVELS = (3, 4)


@dataclass(frozen=True)
class FieldAccount:
    """A grid worker's account: login name, display name (the worker's name) and the grid it is bound to."""

    name: str
    display_name: str
    grid_code: str


def account_name(grid_code: str) -> str:
    """The login name of the worker of ``grid_code``."""
    return f"{ACCOUNT_PREFIX}{grid_code}"


def field_accounts(grids: list[Grid], staff: list[GridStaff]) -> list[FieldAccount]:
    """One account per grid worker of a level-3 or level-4 base grid, by grid code."""
    field_grids = {g.code for g in grids if g.kind == "base" and g.level in FIELD_LEVELS}
    return sorted((FieldAccount(name=account_name(s.grid_code), display_name=s.name, grid_code=s.grid_code)
                   for s in staff if s.role == "grid_worker" and s.grid_code in field_grids),
                  key=lambda a: a.grid_code)
