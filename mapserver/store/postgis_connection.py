"""The PostGIS store's connections: checked before use without a round trip, BEGIN sent with the first statement.

A round trip for BEGIN alone (or for a check that the pooled connection still works) before a transaction's first
statement would keep a worker waiting behind busy PostgreSQL processes under a stream of reports. So:

* **Checked before use** by reading what the server has sent on the idle connection (:func:`server_closed`, a
  non-blocking read): a server that restarted or ended the session has sent its ``FATAL`` message and closed
  the socket, which that read sees; no request is sent.
* **BEGIN goes with the transaction's first statement** (``BEGIN; INSERT …``, one round trip), by the cursor
  (:class:`LazyBeginCursor`); a COPY, which cannot share its round trip, sends BEGIN alone first. A transaction
  whose writes all wait for the COMMIT (``execute_at_commit``) is then one round trip in all, and one that ran
  nothing costs none.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

_IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE


def server_closed(conn: psycopg2.extensions.connection) -> bool:
    """Whether the server has ended this idle connection (a restart, ``pg_terminate_backend``), read from what it
    sent; no round trip. The server sends ``FATAL`` and then closes: the first read takes the message, the
    second meets the end of the stream, and either says so."""
    if conn.closed:
        return True
    try:
        conn.poll()
        conn.poll()
    except psycopg2.Error:
        return True
    return bool(conn.closed) or any(notice.startswith("FATAL") for notice in conn.notices[-2:])


def _with_begin(query: Any) -> Any:
    if isinstance(query, sql.Composable):
        return sql.SQL("BEGIN; ") + query
    if isinstance(query, bytes):
        return b"BEGIN; " + query
    return "BEGIN; " + query


class LazyBeginConnection(psycopg2.extensions.connection):
    """A connection in autocommit mode whose transaction, once asked for, starts with its first statement."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.begin_pending = False
        self.cursor_factory = LazyBeginCursor
        self.prepared: set[str] = set()  # names of the statements PREPAREd in this session

    def begin_now(self) -> None:
        """Send the pending BEGIN on its own (before a COPY)."""
        if self.begin_pending:
            self.begin_pending = False
            with psycopg2.extensions.cursor(self) as cur:
                cur.execute("BEGIN")


class LazyBeginCursor(psycopg2.extensions.cursor):
    """Sends the connection's pending BEGIN in front of the first statement it executes."""

    def execute(self, query: Any, vars: Any = None) -> None:
        conn = self.connection
        if not conn.begin_pending:
            super().execute(query, vars)
            return
        conn.begin_pending = False
        try:
            super().execute(_with_begin(query), vars)
        except BaseException:
            # A statement the server could not parse fails before BEGIN runs: the transaction is still to start.
            if not conn.closed and conn.info.transaction_status == _IDLE:
                conn.begin_pending = True
            raise

    def executemany(self, query: Any, vars_list: Any) -> None:
        self.connection.begin_now()
        super().executemany(query, vars_list)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
        self.connection.begin_now()
        super().copy_expert(sql, file, size)
