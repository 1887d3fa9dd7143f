"""Browser sessions and failed logins. Times are UTC; durations seconds.

A session is kept by the SHA-256 of its cookie's value (the value itself is never stored), beside the
synchronizer token its forms carry against cross-site requests. A session is read joined with its account
(and the account's grid), so a disabled person's session is never found, and a role or grid changed since login
is the one that counts (those changes also delete the sessions: :mod:`mapserver.store.accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapserver.store.accounts import ACCOUNT_COLUMNS, Account, account_from_row
from mapserver.store.common import utc
from mapserver.store.database import Database

_SESSION_COLUMNS = ("s.csrf_token, s.created_at, s.seen_at, g.level, g.name, "
                    + ", ".join(f"a.{c.strip()}" for c in ACCOUNT_COLUMNS.split(",")))


@dataclass(frozen=True)
class Session:
    """A live session: whose it is, its CSRF token, when it began and when it was last used."""

    id_hash: str
    account: Account
    csrf_token: str
    created_at: datetime
    seen_at: datetime
    grid_level: int | None = None
    """The level of the account's jurisdiction grid, read with the session (None: no grid, or no longer one)."""
    grid_name: str | None = None


@dataclass(frozen=True)
class FailureCounts:
    """Failed logins in a window, for one name and for one client address, and the latest of each."""

    by_name: int
    by_addr: int
    latest_by_name: datetime | None
    latest_by_addr: datetime | None


class Sessions:
    """Sessions: begin, find, touch and end."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def begin(self, *, id_hash: str, account: str, csrf_token: str, now: datetime, remote_addr: str | None) -> None:
        """Record a new session for ``account``."""
        with self._db.transaction():
            self._db.execute("INSERT INTO sessions (id_hash, account, csrf_token, created_at, seen_at, remote_addr) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (id_hash, account, csrf_token, now, now, remote_addr))

    def find(self, id_hash: str, *, now: datetime, idle_s: float, absolute_s: float) -> Session | None:
        """The live session with this hash, of an enabled account, used within ``idle_s`` and begun within
        ``absolute_s`` of ``now``; None otherwise (an expired one is deleted on the way)."""
        # The jurisdiction's grid comes in the same round trip: every request of a logged-in person asks this.
        rows = self._db.read(f"SELECT {_SESSION_COLUMNS} FROM sessions s JOIN accounts a ON a.name = s.account "  # noqa: S608
                             "LEFT JOIN grids g ON g.code = a.grid_code AND g.kind = 'base' "
                             "WHERE s.id_hash = ? AND a.disabled_at IS NULL", (id_hash,))
        if not rows:
            return None
        row = rows[0]
        created, seen = utc(row[1]), utc(row[2])
        if now - seen > timedelta(seconds=idle_s) or now - created > timedelta(seconds=absolute_s):
            self.end(id_hash)
            return None
        return Session(id_hash=id_hash, account=account_from_row(row[5:]), csrf_token=row[0], created_at=created,
                       seen_at=seen, grid_level=row[3], grid_name=row[4])

    def touch(self, id_hash: str, *, now: datetime) -> None:
        """Mark the session used at ``now`` (for the idle time-out)."""
        with self._db.transaction():
            self._db.execute("UPDATE sessions SET seen_at = ? WHERE id_hash = ?", (now, id_hash))

    def end(self, id_hash: str) -> bool:
        """End one session (logout); False when it was not there."""
        with self._db.transaction():
            return self._db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,)) == 1

    def end_all(self, account: str, *, keep: str | None = None) -> int:
        """End every session of ``account`` but ``keep`` (a hash); how many ended."""
        with self._db.transaction():
            return self._db.execute("DELETE FROM sessions WHERE account = ? AND id_hash <> ?", (account, keep or ""))

    def count(self, account: str) -> int:
        """How many sessions ``account`` has open (expired ones included until they are next read)."""
        return int(self._db.fetch("SELECT count(*) FROM sessions WHERE account = ?", (account,))[0][0])

    def purge(self, *, before: datetime) -> int:
        """Delete sessions last used before ``before``; how many."""
        with self._db.transaction():
            return self._db.execute("DELETE FROM sessions WHERE seen_at < ?", (before,))


class LoginFailures:
    """Failed logins by name and client address, counted over a recent window."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, *, name: str, remote_addr: str, at: datetime) -> None:
        """Count one failed login (and forget those older than a day, which no window reaches)."""
        with self._db.transaction():
            self._db.execute("INSERT INTO login_failures (at, name, remote_addr) VALUES (?, ?, ?)",
                             (at, name, remote_addr))
            self._db.execute("DELETE FROM login_failures WHERE at < ?", (at - timedelta(days=1),))

    def since(self, *, name: str, remote_addr: str, since: datetime) -> FailureCounts:
        """Failures for ``name`` and for ``remote_addr`` at or after ``since``."""
        rows = self._db.read(
            "SELECT count(*), max(at) FROM login_failures WHERE name = ? AND at >= ? "
            "UNION ALL SELECT count(*), max(at) FROM login_failures WHERE remote_addr = ? AND at >= ?",
            (name, since, remote_addr, since))
        (n_name, t_name), (n_addr, t_addr) = rows
        return FailureCounts(by_name=int(n_name), by_addr=int(n_addr),
                             latest_by_name=utc(t_name) if t_name is not None else None,
                             latest_by_addr=utc(t_addr) if t_addr is not None else None)

    def clear(self, *, name: str) -> None:
        """Forget the failures of ``name`` (after a successful login)."""
        with self._db.transaction():
            self._db.execute("DELETE FROM login_failures WHERE name = ?", (name,))
