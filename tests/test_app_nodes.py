"""More than one app node: two ``mapserver serve`` processes (two workers each) over one PostGIS database, behind
Debian's nginx running deploy/nginx.conf as shipped (its ports changed). What one node changes, every node acts on:
a revoked token or an ended session is refused by the other node on the very next request, a grid edited through
one node is used by the other's lookups within 5 s, login lockouts and idempotency keys count across nodes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mapserver.auth import hash_token, new_token
from mapserver.passwords import PasswordHasher
from mapserver.store import open_store
from tests.conftest import create_database, drop_database
from tests.logins import CHEAP, PASSWORD
from tests.nodes import Node, node_config, ready, start, stop
from tests.test_cli import free_port, wait_for
from tests.test_gridindex import STAFF, make_grids

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
INSIDE = {"lon": 114.6005, "lat": 33.6005}
NEW_STREET = (114.70, 33.70, 114.72, 33.72)  # far from the test grids: no grid answers there before the edit
ACCOUNTS = ("accounts:\n  lockout_failures: 3\n  password_hash:\n    time_cost: 1\n    memory_kib: 8192\n"
            "    parallelism: 1\n")


class Cluster:
    """Two nodes, nginx in front of them, and the store's URL and config files."""

    def __init__(self, a: Node, b: Node, front: Node, url: str, configs: list[Path], admin: str) -> None:
        self.a, self.b, self.front, self.url, self.configs, self.admin = a, b, front, url, configs, admin


def nginx_config(folder: Path, listen: int, nodes: list[int]) -> Path:
    """deploy/nginx.conf with its ports changed, inside a main config of the test's own (pid, logs, temp files)."""
    site = NGINX_CONF.read_text(encoding="utf-8")
    site, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", site)
    shipped = re.findall(r"server 127\.0\.0\.1:(\d+)", site)
    assert listens == 1 and shipped == ["8001", "8002"], "deploy/nginx.conf changed: update this test"
    for old, new in zip(shipped, nodes, strict=True):
        site = site.replace(f"server 127.0.0.1:{old} ", f"server 127.0.0.1:{new} ")
    (folder / "mapserver.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                        "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
                    f"events {{ worker_connections 256; }}\n"
                    f"http {{ access_log off; {temp} include {folder / 'mapserver.conf'}; }}\n", encoding="utf-8")
    return main


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("nodes")
    os.chmod(folder, 0o755)  # nginx's workers (nobody) read the config and write temp files there
    name = f"mapserver_nodes_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    store = open_store(url)
    store.migrate()
    store.layers.add("grids", make_grids())
    store.layers.add("grid_staff", STAFF)
    admin = new_token()
    store.tokens.add(name="admin", role="admin", token_hash=hash_token(admin))
    store.accounts.add(name="li.na", role="dispatcher", grid_code=None, password_hash=PasswordHasher(CHEAP).hash(
        PASSWORD), now=datetime.now(UTC), display_name="李娜")
    store.close()
    configs = [node_config(folder, url, server="  trusted_proxies: 1\n", sections=ACCOUNTS) for _ in range(2)]
    started = [start(config) for config in configs]  # both boot at once
    a, b = (ready(process, admin) for process in started)
    listen = free_port()
    main = nginx_config(folder, listen, [a.port, b.port])
    nginx = subprocess.Popen([NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main), "-g",
                              "daemon off;"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    front = Node(f"http://127.0.0.1:{listen}", admin, nginx)
    try:
        if wait_for(f"{front.base}/readyz", seconds=20) is None:
            nginx.kill()
            raise AssertionError(f"nginx did not answer: {nginx.communicate(timeout=10)[0]}"
                                 f"{(folder / 'error.log').read_text()}")
        yield Cluster(a, b, front, url, configs, admin)
    finally:
        if nginx.poll() is None:
            nginx.terminate()
            nginx.wait(timeout=30)
        for node in (a, b):
            stop(node)
        drop_database(name)


def processes_under(pid: int) -> set[int]:
    """Every process descending from ``pid``."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    children = {int(child) for child in found}
    return children.union(*(processes_under(child) for child in children))


def test_nginx_spreads_requests_over_both_nodes(nodes):
    answered = {json.loads(nodes.front.request("/readyz")[2])["pid"] for _ in range(8)}
    of_a, of_b = processes_under(nodes.a.process.pid), processes_under(nodes.b.process.pid)
    assert answered <= of_a | of_b and answered & of_a and answered & of_b


def test_a_token_revoked_through_one_node_is_refused_by_every_node_on_the_next_request(nodes):
    secret = new_token()
    store = open_store(nodes.url)
    try:
        store.tokens.add(name="wall-8", role="viewer", token_hash=hash_token(secret))
    finally:
        store.close()
    for node in (nodes.a, nodes.b, nodes.front, nodes.front, nodes.front, nodes.front):  # every worker keeps it
        assert node.request("/api/kpis", token=secret)[0] == 200
    status, _, body = nodes.a.request("/api/tokens/wall-8", method="DELETE")
    assert status in (200, 204), body
    assert nodes.b.request("/api/kpis", token=secret)[0] == 401  # the very next request, on the other node
    assert [nodes.front.request("/api/kpis", token=secret)[0] for _ in range(6)] == [401] * 6
    assert nodes.a.request("/api/kpis", token=secret)[0] == 401


def login(node: Node) -> dict[str, str]:
    status, headers, body = node.request("/login", method="POST", body={"name": "li.na", "password": PASSWORD},
                                         bearer=False)
    assert status == 200, body
    cookie = headers["set-cookie"].split(";", 1)[0]
    return {"Cookie": cookie}


def test_a_session_ended_through_one_node_is_refused_by_every_node_on_the_next_request(nodes):
    session = login(nodes.front)
    for node in (nodes.a, nodes.b, nodes.front, nodes.front):
        assert node.request("/api/kpis", headers=session, bearer=False)[0] == 200
    status, _, body = nodes.a.request("/api/accounts/li.na", method="PATCH", body={"enabled": False})
    assert status == 200, body
    assert nodes.b.request("/api/kpis", headers=session, bearer=False)[0] == 401
    assert [nodes.front.request("/api/kpis", headers=session, bearer=False)[0] for _ in range(4)] == [401] * 4
    nodes.a.request("/api/accounts/li.na", method="PATCH", body={"enabled": True})


def test_a_grid_edited_through_one_node_is_used_by_every_nodes_lookups_within_5_s(nodes, tmp_path):
    lon, lat = (NEW_STREET[0] + NEW_STREET[2]) / 2, (NEW_STREET[1] + NEW_STREET[3]) / 2
    where = f"/api/lookup?lon={lon}&lat={lat}"
    assert nodes.b.request(where)[0] == 404  # too far from every grid
    x0, y0, x1, y1 = NEW_STREET
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    grids = tmp_path / "street.geojson"
    grids.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": "411602009000000", "level": 1, "name": "新区街道"}}]}), encoding="utf-8")
    exe = Path(sys.executable).parent / "mapserver"
    # The edit, through node A (its machine's command with its config).
    subprocess.run([exe, "--config", nodes.configs[0], "import", "grids", grids], check=True, capture_output=True)
    edited = time.monotonic()
    seen = {}
    while time.monotonic() < edited + 5 and len(seen) < 3:
        for label, node in (("a", nodes.a), ("b", nodes.b), ("front", nodes.front)):
            status, _, body = node.request(where)
            if label not in seen and status == 200 and "411602009000000" in body.decode():
                seen[label] = time.monotonic() - edited
        time.sleep(0.1)
    assert set(seen) == {"a", "b", "front"}, f"after 5 s only these used the new grid: {seen}"
    # Every worker behind nginx, not just the first to answer.
    assert all(b"411602009000000" in nodes.front.request(where)[2] for _ in range(6))


def test_login_lockouts_and_idempotency_keys_count_across_nodes(nodes):
    for node in (nodes.a, nodes.b, nodes.a):  # lockout_failures: 3, spread over both nodes
        status, _, _ = node.request("/login", method="POST", body={"name": "wang.qiang", "password": "wrong-1234"},
                                    bearer=False)
        assert status == 401
    status, headers, _ = nodes.b.request("/login", method="POST", body={"name": "wang.qiang",
                                                                          "password": "wrong-1234"}, bearer=False)
    assert status == 429 and headers.get("retry-after")

    key = {"Idempotency-Key": uuid.uuid4().hex}
    report = {"category": "disputes", "severity": "general", "description": "噪音扰民", "point": INSIDE}
    first = nodes.a.request("/api/incidents", method="POST", body=report, headers=key)
    again = nodes.b.request("/api/incidents", method="POST", body=report, headers=key)
    assert first[0] == 201 and again[0] in (200, 201)
    assert json.loads(first[2])["id"] == json.loads(again[2])["id"]
