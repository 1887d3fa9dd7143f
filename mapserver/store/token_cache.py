"""API tokens found by hash, kept in each process until PostgreSQL announces a change to the tokens table.

Every request checks its token. On PostGIS that check would be a round trip of its own (and a connection's
checkout), for an answer that changes only when a token is revoked. So each process keeps the tokens it has found,
and drops them all as soon as the database says the tokens table changed: a trigger sends ``NOTIFY
mapserver_tokens`` with every UPDATE, DELETE or TRUNCATE of ``tokens``, whoever makes it (the API, ``mapserver token
revoke``, a DBA's SQL), and PostgreSQL delivers it when that change commits. The process listens on a connection of
its own and, before every use of what it keeps, reads whatever notification has arrived: a non-blocking read of a
socket, no round trip.

What that promises: the process that revokes a token refuses it at once (it forgets what it kept when it revokes);
every other process refuses it as soon as the notification reaches it, which on one machine is within a millisecond
of the commit. Only tokens found are kept, so a new token is read from the table on first use. While the listening
connection is down (a database restart), nothing is kept and every check reads the table, as without this cache; the
connection is tried again at most once a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

import psycopg2
import psycopg2.extensions

from mapserver.store.postgis_connection import server_closed
from mapserver.store.tokens import Token

CHANNEL = "mapserver_tokens"
"""The channel the schema's trigger notifies on every change to ``tokens``."""
RETRY_AFTER_S = 1.0
"""Seconds between attempts to open the listening connection while it is down."""
MAX_KEPT = 10_000
"""Tokens kept at most; beyond, everything is forgotten and found again (a district has tens)."""

log = logging.getLogger(__name__)

# Listening connections inherited from a parent process: never closed or freed here, since closing a psycopg2
# connection tells the server to end the session, which is the parent's.
_INHERITED: list[Any] = []


class TokenCache:
    """Tokens by hash for one process, valid while the listening connection reports no change (thread-safe)."""

    def __init__(self, url: str, *, connect_timeout_s: int = 5) -> None:
        self.url, self.connect_timeout_s = url, connect_timeout_s
        self._lock = threading.Lock()
        self._kept: dict[str, Token] = {}
        self._listener: psycopg2.extensions.connection | None = None
        self._pid = os.getpid()
        self._generation = 0  # one more each time what was kept is dropped
        self._retry_at = 0.0

    def find(self, token_hash: str) -> tuple[Token | None, int | None]:
        """The token kept for this hash (None: not kept), and the generation to give :meth:`keep` with a token
        read from the table instead (None: nothing is kept now, the listening connection is down)."""
        with self._lock:
            if not self._listening():
                return None, None
            return self._kept.get(token_hash), self._generation

    def keep(self, token_hash: str, token: Token, generation: int | None) -> None:
        """Keep a token read from the table, unless the table changed since ``generation`` was taken (every
        drop, a lost listener's included, moves the generation on)."""
        with self._lock:
            if generation is None or generation != self._generation:
                return
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[token_hash] = token

    def forget(self) -> None:
        """Drop everything kept (this process is changing the tokens table)."""
        with self._lock:
            self._drop()

    def close(self) -> None:
        """Close the listening connection (if this process opened it)."""
        with self._lock:
            self._drop()
            self._disconnect()

    # -- with the lock held ---------------------------------------------------------

    def _drop(self) -> None:
        self._kept.clear()
        self._generation += 1

    def _listening(self) -> bool:
        """Whether what is kept may be used: the listening connection is up and has reported no change."""
        if self._pid != os.getpid():  # forked: the parent's socket is not ours
            if self._listener is not None:
                _INHERITED.append(self._listener)
            self._listener, self._pid = None, os.getpid()
            self._drop()
        if self._listener is None and not self._connect():
            return False
        if server_closed(self._listener):  # reads what has arrived, notifications included
            # The server went away (a restart, a terminated session): keep nothing until listening again.
            log.warning("token cache: the listening connection was closed by the server; tokens are read on every "
                        "request until it is open again")
            self._disconnect()
            self._drop()
            return False
        if self._listener.notifies:
            self._listener.notifies.clear()
            self._drop()
        return True

    def _connect(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        self._retry_at = time.monotonic() + RETRY_AFTER_S
        try:
            conn = psycopg2.connect(self.url, connect_timeout=self.connect_timeout_s,
                                    application_name="mapserver token cache")
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {CHANNEL}")
        except psycopg2.Error as exc:
            log.warning("token cache: cannot listen for token changes (%s); tokens are read on every request",
                        str(exc).strip())
            return False
        self._listener = conn
        self._drop()  # only tokens read from now on, with the notifications of later changes on their way
        return True

    def _disconnect(self) -> None:
        if self._listener is not None and self._pid == os.getpid():
            with contextlib.suppress(psycopg2.Error):  # closing a broken connection: nothing more to do
                self._listener.close()
        self._listener = None
