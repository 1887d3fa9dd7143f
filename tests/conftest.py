"""Shared fixtures: a store of each backend (SQLite file, real PostGIS database), apps and tokens.

The PostGIS tests need a PostgreSQL server with the PostGIS extension at
``$MAPSERVER_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
a database of their own is created for the session and dropped after it.
A skipped test fails the run: a backend that was not tested is not a pass.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from playwright.sync_api import sync_playwright
from psycopg2 import sql

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import Settings, StoreSettings
from mapserver.roles import ROLES
from mapserver.store import Store, open_store
from mapserver.store.common import TABLES
from tests.browser.live import launch_chromium

ADMIN_URL = os.environ.get("MAPSERVER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgis")


def pg_url(database: str) -> str:
    """The admin URL pointed at another database."""
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def create_database(name: str) -> str:
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    return pg_url(name)


def drop_database(name: str) -> None:
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """A migrated PostGIS database for this test session."""
    name = f"mapserver_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    store = open_store(url)
    store.migrate()
    store.close()
    yield url
    drop_database(name)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database (no PostGIS yet), dropped after the test."""
    name = f"mapserver_fresh_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    yield url
    drop_database(name)


def empty_store(store: Store) -> None:
    """Delete every row of a PostGIS test store (SQLite test stores are new files), over a connection of the
    test's own: the store offers no way to wipe itself."""
    if store.kind == "postgis":
        conn = psycopg2.connect(store.url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in (*TABLES, "data_versions", "idempotency_keys"))))
        finally:
            conn.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store of each backend."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        opened.migrate()
    else:
        opened = open_store(request.getfixturevalue("postgis_url"))
        empty_store(opened)
    yield opened
    opened.close()


def settings_for(store: Store) -> Settings:
    return Settings(store=StoreSettings(url=store.url))


@pytest.fixture
def app(store: Store):
    flask_app = create_app(settings_for(store), store=store)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


def make_token(store: Store, role: str) -> str:
    secret = new_token()
    store.tokens.add(name=f"{role}-{uuid.uuid4().hex[:6]}", role=role, token_hash=hash_token(secret))
    return secret


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, one per test module that drives pages (tests/browser/live.py)."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def tokens(store: Store) -> dict[str, dict[str, str]]:
    """Authorization headers per role."""
    return {role: {"Authorization": f"Bearer {make_token(store, role)}"} for role in ROLES}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"FAIL: {skipped} test(s) skipped; every test must run (see tests/conftest.py)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
