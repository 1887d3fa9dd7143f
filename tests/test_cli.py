"""The `mapserver` command: init, token, serve, and clean errors instead of tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapserver.cli import main
from mapserver.serving import GRACEFUL_STOP_S
from mapserver.store import open_store
from mapserver.store.database import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent


def config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"store:\n  url: {url}\n  connect_timeout_s: 2\n", encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(params=["sqlite", "postgis"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    return request.getfixturevalue("fresh_database")


def test_init_creates_then_reports_current(tmp_path, store_url):
    cfg = str(config_file(tmp_path, store_url))
    first = run("--config", cfg, "init")
    assert first.exit_code == 0 and f"schema version {SCHEMA_VERSION} (created)" in first.output
    again = run("--config", cfg, "init")
    assert "already current" in again.output


@pytest.mark.parametrize("command", [
    ("token", "create", "--role", "viewer", "--name", "wall-1"),
    ("token", "list"),
    ("lookup", "--lon", "114.65", "--lat", "33.62"),
    ("check-grids",),
    ("reassign",),
    ("patrol", "list"),
])
def test_a_store_without_its_schema_is_refused_with_the_command_to_run(tmp_path, store_url, command):
    cfg = str(config_file(tmp_path, store_url))
    refused = CliRunner().invoke(main, ["--config", cfg, *command])
    assert refused.exit_code == 1 and refused.exception is not None and isinstance(refused.exception, SystemExit)
    assert "schema version 0" in refused.output and "run `mapserver init` first" in refused.output
    assert "Traceback" not in refused.output


def test_token_create_list_revoke(tmp_path, store_url):
    cfg = str(config_file(tmp_path, store_url))
    run("--config", cfg, "init")
    created = run("--config", cfg, "token", "create", "--role", "viewer", "--name", "wall-1")
    secret = created.output.strip()
    assert created.exit_code == 0 and secret.startswith("msk_") and len(secret) > 40
    store = open_store(store_url)
    from mapserver.auth import hash_token

    assert store.tokens.by_hash(hash_token(secret)).role == "viewer"
    store.close()
    assert "wall-1\tviewer" in run("--config", cfg, "token", "list").output
    assert secret not in run("--config", cfg, "token", "list").output
    duplicate = CliRunner().invoke(main, ["--config", cfg, "token", "create", "--role", "admin", "--name", "wall-1"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    assert run("--config", cfg, "token", "revoke", "wall-1").exit_code == 0
    assert CliRunner().invoke(main, ["--config", cfg, "token", "revoke", "wall-1"]).exit_code == 1


def test_bad_config_is_one_clean_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("store:\n  uri: x\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "init"])
    assert result.exit_code == 1
    assert "unknown key 'store.uri'" in result.output and str(path) in result.output
    assert "Traceback" not in result.output


def test_unknown_store_scheme_lists_the_supported_ones(tmp_path):
    result = CliRunner().invoke(main, ["--config", str(config_file(tmp_path, "mysql://x/y")), "init"])
    assert result.exit_code == 1 and "sqlite:///" in result.output and "postgresql://" in result.output


def test_unreachable_database_names_the_url_with_password_masked(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://grid:s3cret@127.0.0.1:{port}/grid"
    result = CliRunner().invoke(main, ["--config", str(config_file(tmp_path, url)), "init"])
    assert result.exit_code == 1
    assert f"postgresql://grid:***@127.0.0.1:{port}/grid" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_importing_the_package_builds_nothing(tmp_path):
    env = {**os.environ, "MAPSERVER_CONFIG": str(tmp_path / "missing.yaml")}
    code = "import mapserver, mapserver.cli, mapserver.store, mapserver.api, layers; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def wait_for(url: str, *, seconds: float = 60) -> str | None:
    """The body of the first successful GET of ``url`` within ``seconds`` (a loaded CI box starts slowly)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.read().decode()
        except OSError:
            time.sleep(0.2)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_healthz_through_gunicorn(tmp_path):
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'served.db'}")
    exe = Path(sys.executable).parent / "mapserver"
    subprocess.run([exe, "--config", cfg, "init"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([exe, "--config", cfg, "serve", "--port", str(port), "--workers", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = wait_for(f"http://127.0.0.1:{port}/healthz")
        assert body is not None, "server did not answer"
        assert '"store":"sqlite"' in body.replace(" ", "")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_gunicorn_with_the_shipped_configuration_answers_readyz(tmp_path):
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'g.db'}")
    exe = Path(sys.executable).parent
    subprocess.run([exe / "mapserver", "--config", cfg, "init"], check=True, capture_output=True)
    port = free_port()
    env = {**os.environ, "MAPSERVER_CONFIG": str(cfg), "MAPSERVER_BIND": f"127.0.0.1:{port}", "MAPSERVER_WORKERS": "2"}
    server = subprocess.Popen([exe / "gunicorn", "-c", "python:mapserver.gunicorn_conf", "wsgi:app"], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = wait_for(f"http://127.0.0.1:{port}/readyz")
        assert body is not None and '"ready":true' in body.replace(" ", "")
    finally:
        server.terminate()
        # A worker still starting when the stop comes may take up to the graceful stop to go.
        output, _ = server.communicate(timeout=GRACEFUL_STOP_S + 5)
    assert '"path": "/readyz", "status": 200' in output  # the JSON request line reached the log
    # One request per connection (a sync worker answering its own refusals as problems): no worker hoards keep-alive
    # clients.
    assert "Using worker: mapserver.gunicorn_workers.ProblemSyncWorker" in output
