"""Production serving on PostGIS: ``mapserver serve --workers 4`` answers ``/readyz`` from 4 worker processes, each
through database connections of its own (pools are created after the fork, never shared with the master or a
sibling), so 4 workers show 4 different database server processes; under gunicorn (the default) and uWSGI (the
``mapserver[uwsgi]`` extra)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest

from tests.served import KINDS
from tests.test_cli import config_file, free_port, wait_for

WORKERS = 4
DEADLINE_S = 90.0  # a loaded 2-core CI box starts 4 workers slowly; a healthy server answers in seconds


def _readyz(url: str) -> dict | None:
    # A new connection per request (no keep-alive), so the kernel hands each to whichever worker accepts first.
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


def _backends_by_worker(url: str) -> dict[int, set[int]]:
    """Database server pids seen per worker pid, polling until every worker has answered (or the deadline)."""
    seen: dict[int, set[int]] = {}
    deadline = time.monotonic() + DEADLINE_S
    with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
        while len(seen) < WORKERS and time.monotonic() < deadline:
            for body in pool.map(_readyz, [url] * 4 * WORKERS):
                if body is not None:
                    assert body["ready"] is True and body["store"] == "postgis"
                    seen.setdefault(body["pid"], set()).add(body["backend_pid"])
    return seen


@pytest.mark.parametrize("kind", KINDS)
def test_four_workers_answer_readyz_through_four_database_backends(tmp_path: Path, fresh_database: str, kind: str):
    cfg = config_file(tmp_path, fresh_database)
    exe = Path(sys.executable).parent / "mapserver"
    subprocess.run([exe, "--config", cfg, "init"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([exe, "--config", cfg, "serve", "--server", kind, "--port", str(port),
                               "--workers", str(WORKERS)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/readyz"
        assert wait_for(url) is not None, "the server did not answer"
        seen = _backends_by_worker(url)
        assert len(seen) == WORKERS, f"only workers {sorted(seen)} answered within {DEADLINE_S} s"
        assert server.pid not in seen  # the master only forks; workers answer
        backends = [pid for pids in seen.values() for pid in pids]
        assert len(set(backends)) == len(backends) >= WORKERS  # no connection is shared between two workers
        with psycopg2.connect(fresh_database) as conn, conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name = 'mapserver'")
            live = {row[0] for row in cur.fetchall()}
        conn.close()
        assert set(backends) <= live  # real, live server processes of this database
    finally:
        server.terminate()
        server.wait(timeout=40)


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code


def _listeners(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'mapserver token cache'")
        count = cur.fetchone()[0]
    conn.close()
    return count


def test_a_token_revoked_by_the_command_is_refused_by_every_worker_that_kept_it(tmp_path: Path, fresh_database: str):
    """Each worker keeps the tokens it has checked; ``mapserver token revoke`` in another process must reach them
    all before it has even exited."""
    cfg = config_file(tmp_path, fresh_database)
    exe = Path(sys.executable).parent / "mapserver"
    subprocess.run([exe, "--config", cfg, "init"], check=True, capture_output=True)
    token = subprocess.run([exe, "--config", cfg, "token", "create", "--role", "viewer", "--name", "wall-4"],
                           check=True, capture_output=True, text=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen([exe, "--config", cfg, "serve", "--port", str(port), "--workers", str(WORKERS)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/readyz") is not None, "the server did not answer"
        _backends_by_worker(f"{base}/readyz")  # every worker up
        url = f"{base}/api/grids"
        deadline = time.monotonic() + DEADLINE_S
        while _listeners(fresh_database) < WORKERS and time.monotonic() < deadline:  # every worker keeps it
            with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
                assert set(pool.map(lambda _: _status(url, token), range(4 * WORKERS))) == {200}
        assert _listeners(fresh_database) == WORKERS
        subprocess.run([exe, "--config", cfg, "token", "revoke", "wall-4"], check=True, capture_output=True)
        with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
            assert set(pool.map(lambda _: _status(url, token), range(8 * WORKERS))) == {401}
    finally:
        server.terminate()
        server.wait(timeout=40)
