"""Writes survive the loss of the primary: ``mapserver serve`` (two gunicorn workers) over a primary and its
synchronous standby, named together by one libpq multi-host ``store.url``; a stream of reports while the primary is
stopped (as by a crash) and the standby promoted. Every acknowledged report is on the promoted standby; the
requests in between get 503 with Retry-After, never another error; reports are taken again within 10 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapserver.auth import hash_token, new_token
from mapserver.store import StoreUnavailable, open_store
from tests.nodes import Node, node_config, serve, stop
from tests.pgcluster import Pair
from tests.test_cli import free_port
from tests.test_gridindex import STAFF, make_grids

INSIDE = {"lon": 114.6005, "lat": 33.6005}  # in the building grid BD_SW of tests/test_gridindex.py
REPORTERS = 4  # client threads sending reports, each one at a time


@pytest.fixture(scope="module")
def pair_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pair, Node]]:
    """A primary with a synchronous standby, the test grids and an operator token, served by two workers."""
    pair = Pair(synchronous=True).create()
    try:
        store = open_store(pair.url)
        store.migrate()
        store.layers.add("grids", make_grids())
        store.layers.add("grid_staff", STAFF)
        token = new_token()
        store.tokens.add(name="hotline", role="operator", token_hash=hash_token(token))
        store.close()
        node = serve(tmp_path_factory.mktemp("failover"), pair.url, token)
        try:
            yield pair, node
        finally:
            stop(node)
    finally:
        pair.destroy()


def test_acknowledged_reports_survive_the_primary_and_the_gap_is_503_with_retry_after(pair_served):
    pair, node = pair_served
    lock = threading.Lock()
    answers: list[tuple[float, int, dict[str, str], bytes]] = []
    acknowledged: list[str] = []
    done = threading.Event()

    def report_stream() -> None:
        while not done.is_set():
            status, headers, body = node.request(
                "/api/incidents", method="POST", headers={"Idempotency-Key": uuid.uuid4().hex},
                body={"category": "disputes", "severity": "general", "description": "楼道堆物", "point": INSIDE})
            with lock:
                answers.append((time.monotonic(), status, headers, body))
                if status == 201:
                    acknowledged.append(json.loads(body)["id"])
            if status != 201:
                time.sleep(0.05)  # as a client would, rather than spin

    reporters = [threading.Thread(target=report_stream) for _ in range(REPORTERS)]
    for reporter in reporters:
        reporter.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acknowledged) >= 150, f"reports are not being taken: {answers[-3:]}"
        pair.primary.stop("immediate")  # as a crash: no shutdown checkpoint, connections cut
        stopped_at = time.monotonic()
        time.sleep(1.0)  # reports keep coming while no primary is there
        pair.standby.promote()
        promoted_at = time.monotonic()
        back_at = None
        while time.monotonic() < promoted_at + 15:
            with lock:
                back_at = next((t for t, status, _, _ in answers if t > promoted_at and status == 201), None)
            if back_at is not None:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # a few more after the return
    finally:
        done.set()
        for reporter in reporters:
            reporter.join(timeout=60)

    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {201, 503}, [(s, b[:300]) for _, s, _, b in answers if s not in (201, 503)][:5]
    gap = [(headers, body) for t, status, headers, body in answers if status == 503]
    assert gap, "no request met the missing primary"
    assert all(headers.get("retry-after") and headers.get("content-type", "").startswith("application/problem+json")
               for headers, _ in gap)
    assert not [t for t, status, _, _ in answers if status == 201 and stopped_at + 0.2 < t < promoted_at - 0.2], \
        "a report was acknowledged while no primary was there"
    assert back_at is not None and back_at - promoted_at < 10, "reports were not taken again within 10 s"

    stored = {row[0] for row in pair.standby.sql("SELECT id FROM incidents WHERE id = ANY(%s)", (acknowledged,))}
    lost = set(acknowledged) - stored
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged reports are not on the promoted standby"
    status, _, body = node.request("/readyz")
    assert status == 200, body


def test_a_store_url_whose_hosts_all_refuse_names_them_with_the_password_masked():
    first, second = free_port(), free_port()  # nothing listens on either
    url = (f"postgresql://mapserver:s3cret-pw@127.0.0.1:{first},127.0.0.1:{second}/mapserver"
           "?target_session_attrs=read-write")
    with pytest.raises(StoreUnavailable) as refused:
        open_store(url, connect_timeout_s=1)
    message = str(refused.value)
    assert f"port {first}" in message and f"port {second}" in message, message
    assert "s3cret-pw" not in message and "mapserver:***@" in message


def test_an_import_cut_off_by_the_loss_of_the_primary_writes_nothing_and_runs_again(pair_served, tmp_path):
    """After the failover above, the promoted standby is the primary: it is killed while an import's COPY runs, and
    started again. The import fails whole, saying the database went away; run again, it imports every row."""
    pair, _ = pair_served
    primary = pair.standby  # promoted by the test above
    rows = 25_000
    lines = ["lon,lat,category,severity,reported_at,description"]
    lines += [f"{114.6001 + (k % 97) * 0.00002:.6f},{33.6001 + (k % 89) * 0.00002:.6f},disputes,general,"
              f"2026-11-{1 + k % 28:02d}T09:00:00+08:00,批量导入{k}" for k in range(rows)]
    history = tmp_path / "history.csv"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = node_config(tmp_path, pair.url)
    command = [Path(sys.executable).parent / "mapserver", "--config", config, "import", "incidents", history]
    importing = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while importing.poll() is None and time.monotonic() < deadline:
        if primary.sql("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY%incidents%'")[0][0]:
            break
        time.sleep(0.02)
    assert importing.poll() is None, f"the import ended before its COPY was seen: {importing.communicate()[0]}"
    primary.stop("immediate")
    output = importing.communicate(timeout=60)[0]
    primary.start()
    assert importing.returncode != 0
    assert "Traceback" not in output and "the database is unavailable: server closed the connection" in output, output
    assert primary.sql("SELECT count(*) FROM incidents WHERE description LIKE '批量导入%'")[0][0] == 0

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert primary.sql("SELECT count(*) FROM incidents WHERE description LIKE '批量导入%'")[0][0] == rows
