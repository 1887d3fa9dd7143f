"""A scratch PostgreSQL database for one benchmark run, created and dropped around it.

The benchmarks take an admin URL (MAPSERVER_BENCH_PG, e.g.
postgresql://postgres@127.0.0.1:5432/postgres) and measure PostGIS in a database of their own,
so a run never touches data it did not write and leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` with its database replaced by ``name`` (user, host, port and query kept)."""
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new database named ``<prefix>_<random>`` on the admin URL's server; yields its URL.

    Dropped WITH (FORCE) afterwards, even after a failure, so connections a benchmark left open
    (a store, a server it started) do not keep it alive.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_url)
    try:
        admin.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield database_url(admin_url, name)
        finally:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()
