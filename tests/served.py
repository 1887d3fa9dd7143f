"""``mapserver serve`` in a subprocess for the serving tests: a SQLite store with the hand-made nested grids of
tests/test_gridindex.py (WGS-84 degrees) and their staff, an operator token, and the server of one kind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from mapserver.auth import hash_token, new_token
from mapserver.store import open_store
from tests.test_cli import free_port, wait_for
from tests.test_gridindex import STAFF, make_grids

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("gunicorn", "uwsgi")  # the default of `mapserver serve`, and the mapserver[uwsgi] extra
THREADS = {"gunicorn": 1, "uwsgi": 2}  # each as its tests run it: gunicorn's sync workers; uWSGI's threads too


class Served:
    """A running server: its base URL, an operator token, its process (the master) and its store's URL."""

    def __init__(self, base: str, token: str, process: subprocess.Popen, db: str) -> None:
        self.base, self.token, self.process, self.db = base, token, process, db

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def request(self, path: str, *, method: str = "GET", data: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body; error statuses are answers too."""
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def sigterm(self, *, every_process: bool = False) -> None:
        """SIGTERM to the master, or to every process of the server at once (as systemd stops a service by
        default, KillMode=control-group); ``every_process`` needs a server started with ``own_group``."""
        if every_process:
            os.killpg(self.process.pid, signal.SIGTERM)
        else:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> str:
        """SIGTERM and wait; the server's output."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.communicate(timeout=60)[0]


def start_server(tmp: Path, kind: str, *, workers: int = 2, own_group: bool = False,
                 server_config: str = "") -> Served:
    """``mapserver serve`` with ``server.kind: KIND`` on a free port over a new store in ``tmp``, once it answers
    /healthz.

    ``server_config``: more lines of the config file's ``server:`` section (each indented by two spaces).
    """
    db = tmp / "served.db"
    store = open_store(f"sqlite:///{db}")
    store.migrate()
    store.layers.add("grids", make_grids())
    store.layers.add("grid_staff", STAFF)
    token = new_token()
    store.tokens.add(name="desk", role="dispatcher", token_hash=hash_token(token))
    store.close()
    config = tmp / "config.yaml"
    config.write_text(f"store:\n  url: sqlite:///{db}\nserver:\n  kind: {kind}\n  workers: {workers}\n"
                      f"  threads: {THREADS[kind]}\n{server_config}", encoding="utf-8")
    port = free_port()
    exe = Path(sys.executable).parent / "mapserver"
    process = subprocess.Popen([exe, "--config", config, "serve", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=own_group)
    base = f"http://127.0.0.1:{port}"
    if wait_for(f"{base}/healthz", seconds=60) is None:
        process.kill()
        raise AssertionError(f"the server did not answer: {process.communicate(timeout=10)[0][-3000:]}")
    return Served(base, token, process, f"sqlite:///{db}")
