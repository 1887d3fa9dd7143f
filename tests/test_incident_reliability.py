"""Reports survive a PostgreSQL restart, and one Idempotency-Key makes one incident however many race.

The restart test runs a PostgreSQL server of its own (``initdb`` into a temporary
folder, a free loopback port, PostGIS created by ``mapserver init``'s migration)
and restarts *that* one: restarting the machine's shared server would cut off
every other client of it, such as another test session running at the same
time. It needs the PostgreSQL server binaries (``$MAPSERVER_TEST_PG_BIN``, else
the newest ``/usr/lib/postgresql/*/bin``) and, when run as root, the ``postgres``
system user to run them as (initdb refuses root). Times are seconds.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from mapserver import create_app
from mapserver.config import Settings, StoreSettings
from mapserver.store import Store, open_store
from tests import samples
from tests.conftest import make_token

INSIDE = {"lon": 114.6005, "lat": 33.6005}  # in the compound grid of tests/samples.py
RECOVERY_S = 5.0  # the bound: after the restart, a report is acknowledged again within this
STREAM_AFTER_S = 2.0  # keep reporting this long after the first acknowledgement that follows the restart


def _server_bin() -> Path:
    given = os.environ.get("MAPSERVER_TEST_PG_BIN")
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if given:
        return Path(given)
    if not found:
        pytest.fail("no PostgreSQL server binaries: install postgresql (Debian) or set MAPSERVER_TEST_PG_BIN")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivateServer:
    """A throwaway PostgreSQL cluster in ``folder``, listening on 127.0.0.1:``port`` with trust authentication."""

    folder: Path
    port: int
    bin: Path

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # the server refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"), "-o", options,
                  "-w", "-t", "60", *args)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self._ctl("start")

    def restart(self) -> None:
        """Restart as ``pg_ctlcluster … restart`` does (fast shutdown: open sessions are cut off), wait till ready."""
        self._ctl("-m", "fast", "restart")
        self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-t", "30")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def private_server() -> Iterator[PrivateServer]:
    folder = Path(tempfile.mkdtemp(prefix="mapserver_pg_"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PrivateServer(folder, _free_port(), _server_bin())
    server.init()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def restartable_store(private_server: PrivateServer) -> Iterator[Store]:
    """A migrated store with the sample grids, on the private server."""
    name = f"mapserver_restart_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(private_server.url())
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    admin.close()
    store = open_store(private_server.url(name), pool_max=4, connect_timeout_s=2)
    store.migrate()
    store.layers.add("grids", samples.GRIDS)
    yield store
    store.close()


@dataclass
class Answer:
    started: float  # time.monotonic() when the request was sent
    finished: float  # ... and when its answer came
    status: int
    retry_after: str | None
    incident_id: str | None


def _report_stream(client, headers: dict[str, str], answers: list[Answer], stop: threading.Event) -> None:
    """POST reports one after another until told to stop; after a refusal, wait a little (a real client backs off)."""
    n = 0
    while not stop.is_set():
        n += 1
        started = time.monotonic()
        resp = client.post("/api/incidents", headers={**headers, "Idempotency-Key": f"stream-{n}"},
                           json={"category": "disputes", "severity": "general", "description": f"第{n}条",
                                 "point": INSIDE})
        body = resp.get_json(silent=True) or {}
        answers.append(Answer(started, time.monotonic(), resp.status_code, resp.headers.get("Retry-After"),
                              body.get("id") if resp.status_code == 201 else None))
        if resp.status_code != 201:
            time.sleep(0.05)


def test_a_restart_mid_stream_loses_no_acknowledged_report(private_server, restartable_store):
    store = restartable_store
    app = create_app(Settings(store=StoreSettings(url=store.url)), store=store)
    headers = {"Authorization": f"Bearer {make_token(store, 'operator')}"}
    answers: list[Answer] = []
    stop = threading.Event()
    stream = threading.Thread(target=_report_stream, args=(app.test_client(), headers, answers, stop), daemon=True)
    stream.start()
    try:
        time.sleep(1.0)
        restart_began = time.monotonic()
        private_server.restart()
        ready = time.monotonic()
        deadline = ready + RECOVERY_S + STREAM_AFTER_S
        while time.monotonic() < deadline and not any(a.status == 201 and a.started >= ready for a in answers):
            time.sleep(0.05)
        time.sleep(STREAM_AFTER_S)
    finally:
        stop.set()
        stream.join(timeout=30)
    assert any(a.started < ready and a.finished > restart_began for a in answers), "the restart missed the stream"
    statuses = {a.status for a in answers}
    assert statuses <= {201, 503}, sorted((a.status, a.started) for a in answers if a.status not in (201, 503))
    assert all(a.retry_after for a in answers if a.status == 503)
    before = [a for a in answers if a.finished < restart_began]
    assert before and all(a.status == 201 for a in before), "the stream was not healthy before the restart"
    acknowledged = {a.incident_id for a in answers if a.status == 201}
    stored = {i.id for i in store.layers.query("incidents")}
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged report(s) lost"
    recovered = min((a.started for a in answers if a.status == 201 and a.started >= ready), default=None)
    assert recovered is not None and recovered - ready <= RECOVERY_S, \
        f"no report acknowledged within {RECOVERY_S} s of the server being ready again"


def test_sixteen_concurrent_posts_with_one_key_create_one_incident(app, store, tokens):
    store.layers.add("grids", samples.GRIDS)
    barrier = threading.Barrier(16)
    answers: list[tuple[int, str | None]] = []
    headers = {**tokens["dispatcher"], "Idempotency-Key": "phone-7-report-1"}
    body = {"category": "fire_hazard", "severity": "urgent", "description": "楼道堆放杂物", "point": INSIDE}

    def post() -> None:
        client = app.test_client()  # one per thread: a test client keeps per-client state
        barrier.wait()
        resp = client.post("/api/incidents", headers=headers, json=body)
        answers.append((resp.status_code, (resp.get_json(silent=True) or {}).get("id")))

    threads = [threading.Thread(target=post) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] * 15 + [201]
    assert len({incident_id for _, incident_id in answers}) == 1
    assert store.layers.count("incidents") == 1
