"""Accounts: named people with a password hash (argon2id, made by :mod:`mapserver.passwords`), a role and a
jurisdiction (a grid code, or NULL for the whole store). Times are UTC.

Changing a person's role, grid or password, or disabling them, ends their sessions in the same transaction
(the session table is :mod:`mapserver.store.sessions`): a session always acts with what the account says now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mapserver.errors import Problem
from mapserver.roles import ROLES
from mapserver.store.common import utc
from mapserver.store.database import Database

NAME_MAX = 64
DISPLAY_NAME_MAX = 100
ACCOUNT_COLUMNS = "name, display_name, role, grid_code, created_at, password_changed_at, disabled_at"


@dataclass(frozen=True)
class Account:
    """A person who logs in; ``password_hash`` is filled only where a password is checked."""

    name: str
    display_name: str
    role: str
    grid_code: str | None
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None = None
    password_hash: str = ""

    @property
    def enabled(self) -> bool:
        """Whether the person may log in."""
        return self.disabled_at is None


def account_from_row(row: tuple) -> Account:
    """An :class:`Account` from a row of :data:`ACCOUNT_COLUMNS` (and, optionally, the password hash after them)."""
    return Account(name=row[0], display_name=row[1], role=row[2], grid_code=row[3], created_at=utc(row[4]),
                   password_changed_at=utc(row[5]), disabled_at=utc(row[6]) if row[6] is not None else None,
                   password_hash=row[7] if len(row) > 7 else "")


def check_name(name: str) -> None:
    """422 unless ``name`` is a usable login name: 1–64 characters, no spaces or control characters."""
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        raise Problem(422, f"an account name is 1–{NAME_MAX} characters", param="name")
    if any(c.isspace() or not c.isprintable() for c in name):
        raise Problem(422, "an account name has no spaces or control characters", param="name")


def check_display_name(display_name: str) -> None:
    """422 unless ``display_name`` is at most 100 printable characters (spaces allowed, no line breaks)."""
    if not isinstance(display_name, str) or len(display_name) > DISPLAY_NAME_MAX:
        raise Problem(422, f"a display name is at most {DISPLAY_NAME_MAX} characters", param="display_name")
    if not display_name.isprintable():
        raise Problem(422, "a display name has no control characters or line breaks", param="display_name")


class Accounts:
    """People by name: add, read, list, and the changes an administrator makes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, *, name: str, role: str, grid_code: str | None, password_hash: str, now: datetime,
            display_name: str = "") -> Account:
        """Record a new person; 409 if the name is taken (disabled names stay taken), 422 for a bad name or role.
        The grid code must have been checked by the caller (:meth:`mapserver.store.grids.Grids.jurisdiction`)."""
        check_name(name)
        _check_role(role)
        check_display_name(display_name)
        with self._db.transaction():
            if self._db.fetch("SELECT 1 FROM accounts WHERE name = ?", (name,)):
                raise Problem(409, f"an account named '{name}' already exists (disabled names stay taken)",
                              param="name")
            self._db.execute("INSERT INTO accounts (name, display_name, role, grid_code, password_hash, created_at, "
                             "password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (name, display_name, role, grid_code, password_hash, now, now))
        return Account(name=name, display_name=display_name, role=role, grid_code=grid_code, created_at=now,
                       password_changed_at=now)

    def get(self, name: str, *, with_hash: bool = False) -> Account | None:
        """The person of this name (enabled or not), or None."""
        columns = ACCOUNT_COLUMNS + (", password_hash" if with_hash else "")
        rows = self._db.fetch(f"SELECT {columns} FROM accounts WHERE name = ?", (name,))  # noqa: S608 - columns written here
        return account_from_row(rows[0]) if rows else None

    def list(self, *, grid_codes: tuple[str, ...] | None = None) -> list[Account]:
        """Every person by name; with ``grid_codes``, only those whose jurisdiction is one of them."""
        if grid_codes is None:
            rows = self._db.fetch(f"SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name")  # noqa: S608 - columns written here
        else:
            marks = ", ".join("?" for _ in grid_codes) or "NULL"
            rows = self._db.fetch(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE grid_code IN ({marks}) "  # noqa: S608
                                  "ORDER BY name", grid_codes)
        return [account_from_row(r) for r in rows]

    def set_password(self, name: str, *, password_hash: str, now: datetime) -> None:
        """Give the person a new password hash and end their sessions; 404 for an unknown name."""
        self._update(name, "password_hash = ?, password_changed_at = ?", (password_hash, now))

    def rehash(self, name: str, *, password_hash: str) -> None:
        """Store a stronger hash of the same password (new argon2 parameters): sessions go on."""
        with self._db.transaction():
            self._db.execute("UPDATE accounts SET password_hash = ? WHERE name = ?", (password_hash, name))

    def set_role(self, name: str, *, role: str) -> None:
        """Give the person another role and end their sessions; 404 for an unknown name, 422 for a bad role."""
        _check_role(role)
        self._update(name, "role = ?", (role,))

    def set_grid(self, name: str, *, grid_code: str | None) -> None:
        """Bind the person to another jurisdiction (None: the whole store) and end their sessions."""
        self._update(name, "grid_code = ?", (grid_code,))

    def set_display_name(self, name: str, *, display_name: str) -> None:
        """Change the name shown for the person; sessions go on (it grants nothing). 404 for an unknown name."""
        check_display_name(display_name)
        with self._db.transaction():
            if self._db.execute("UPDATE accounts SET display_name = ? WHERE name = ?", (display_name, name)) != 1:
                raise Problem(404, f"no account named '{name}'", param="name")

    def set_enabled(self, name: str, *, enabled: bool, now: datetime) -> None:
        """Disable the person (ending their sessions at once) or enable them again; 404 for an unknown name."""
        self._update(name, "disabled_at = ?", (None if enabled else now,))

    def _update(self, name: str, assignments: str, values: tuple) -> None:
        with self._db.transaction():
            changed = self._db.execute(f"UPDATE accounts SET {assignments} WHERE name = ?",  # noqa: S608 - written here
                                       (*values, name))
            if changed != 1:
                raise Problem(404, f"no account named '{name}'", param="name")
            self._db.execute("DELETE FROM sessions WHERE account = ?", (name,))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Problem(422, f"role must be one of {', '.join(ROLES)}, got {role!r}", param="role")
