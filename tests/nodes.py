"""``mapserver serve`` processes over a PostgreSQL store for the tests of more than one machine: each a node with
its own config file and port, answering with status, headers and body (0 and the error for no answer at all)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.test_cli import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]


class Node:
    """A running ``mapserver serve``: its base URL, an operator token and its process."""

    def __init__(self, base: str, token: str, process: subprocess.Popen) -> None:
        self.base, self.token, self.process = base, token, process

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def request(self, path: str, *, method: str = "GET", body: object = None, headers: dict[str, str] | None = None,
                token: str | None = None, bearer: bool = True) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body, with this node's token (or ``token``; none without
        ``bearer``)."""
        sent = {"Authorization": f"Bearer {token or self.token}"} if bearer else {}
        sent.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
        except OSError as error:  # no answer at all (refused, reset, timed out): status 0, never taken for one
            return 0, {}, repr(error).encode()


def node_config(tmp: Path, store_url: str, *, workers: int = 2, server: str = "", sections: str = "") -> Path:
    """A config file: ``store_url``, two-second connection time-outs, ``workers`` gunicorn workers of one thread,
    more ``server`` keys (lines indented by two spaces) and more ``sections``."""
    config = tmp / f"config-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text(f"store:\n  url: '{store_url}'\n  connect_timeout_s: 2\n"
                      f"server:\n  workers: {workers}\n  threads: 1\n{server}{sections}", encoding="utf-8")
    return config


def start(config: Path) -> subprocess.Popen:
    """``mapserver serve`` with ``config`` on a free port (not yet answering); the process and its base URL."""
    port = free_port()
    exe = Path(sys.executable).parent / "mapserver"
    # Its output to a file: a pipe nobody reads until the end fills up with the request log and stops the server.
    log = config.with_suffix(".log")
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen([exe, "--config", config, "serve", "--port", str(port)], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, text=True)
    process.base = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    process.log = log  # type: ignore[attr-defined]
    return process


def ready(process: subprocess.Popen, token: str) -> Node:
    """The node of a started process once it answers /readyz."""
    base = process.base  # type: ignore[attr-defined]
    if wait_for(f"{base}/readyz", seconds=60) is None:
        process.kill()
        process.wait(timeout=10)
        raise AssertionError(f"the server did not answer: {process.log.read_text()[-3000:]}")  # type: ignore
    return Node(base, token, process)


def serve(tmp: Path, store_url: str, token: str, *, workers: int = 2) -> Node:
    """``mapserver serve`` (gunicorn) over ``store_url`` on a free port, once it answers /readyz."""
    return ready(start(node_config(tmp, store_url, workers=workers)), token)


def stop(node: Node) -> str:
    """SIGTERM and wait; the server's output."""
    if node.process.poll() is None:
        node.process.terminate()
    node.process.wait(timeout=60)
    return node.process.log.read_text(encoding="utf-8")  # type: ignore[attr-defined]
