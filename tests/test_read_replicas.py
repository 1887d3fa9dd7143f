"""Reads from a standby (``store.read_url``): a primary and a standby streaming from it, made by the test.

A standby whose replay is paused (``pg_wal_replay_pause()``) shows what it serves: the rows of before the pause. So
the tests pause it, write on the primary, and read through the app: the stale-tolerant routes answer from the
standby, a writer's own reads, a case page, tokens, versions behind per-process data come from the primary; a
standby lagging beyond ``store.max_replica_lag_s`` is skipped; one that goes away mid-read leaves no 5xx.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from shapely.geometry import box

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import Settings, StoreSettings
from mapserver.derived import DerivedData
from mapserver.gridindex import GRID_INDEX
from mapserver.model import Grid
from mapserver.read_routing import STALE_TOLERANT, WRITES
from mapserver.store import Store, open_store
from tests.pgcluster import Pair
from tests.test_gridindex import STAFF, make_grids

INSIDE = {"lon": 114.6005, "lat": 33.6005}
REPORT = {"category": "disputes", "severity": "general", "description": "占道经营", "point": INSIDE}
TOLERANT_LAG_S = 60.0  # a standby paused for the whole test stays usable
STRICT_LAG_S = 0.5


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    made = Pair(synchronous=False).create()
    try:
        store = open_store(made.url)
        store.migrate()
        store.layers.add("grids", make_grids())
        store.layers.add("grid_staff", STAFF)
        store.close()
        made.wait_replayed()
        yield made
    finally:
        made.destroy()


def app_over(pair: Pair, max_lag_s: float):
    settings = Settings(store=StoreSettings(url=pair.primary.url, read_url=[pair.standby.url],
                                            max_replica_lag_s=max_lag_s))
    store = open_store(pair.primary.url, read_urls=[pair.standby.url], max_replica_lag_s=max_lag_s)
    app = create_app(settings, store=store)
    app.config["TESTING"] = True
    return app, store


@pytest.fixture(scope="module")
def tolerant(pair):
    app, store = app_over(pair, TOLERANT_LAG_S)
    yield app, store
    store.close()


@pytest.fixture(scope="module")
def strict(pair):
    app, store = app_over(pair, STRICT_LAG_S)
    yield app, store
    store.close()


def bearer(store: Store, role: str) -> tuple[str, dict[str, str]]:
    name, secret = f"{role}-{new_token()[-6:]}", new_token()
    store.tokens.add(name=name, role=role, token_hash=hash_token(secret))
    return name, {"Authorization": f"Bearer {secret}"}


@contextmanager
def replay_paused(pair: Pair) -> Iterator[None]:
    """The standby keeps receiving WAL but applies none of it: it answers as of the pause."""
    pair.wait_replayed()
    pair.standby.sql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        pair.standby.sql("SELECT pg_wal_replay_resume()")
        pair.wait_replayed()


def total(client, headers: dict[str, str]) -> int:
    answer = client.get("/api/kpis", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["total"]


def test_stale_tolerant_reads_come_from_the_standby_and_a_writer_reads_their_own_from_the_primary(pair, tolerant):
    app, store = tolerant
    _, viewer = bearer(store, "viewer")
    _, operator = bearer(store, "operator")
    _, admin = bearer(store, "admin")
    viewer_name, doomed = bearer(store, "viewer")
    before = total(app.test_client(), viewer)
    with replay_paused(pair):
        writer = app.test_client()  # keeps its cookies, as a browser does
        made = writer.post("/api/incidents", json=REPORT, headers=operator)
        assert made.status_code == 201
        incident_id = made.get_json()["id"]

        assert total(app.test_client(), viewer) == before  # the standby's answer: as of the pause
        assert total(writer, operator) == before + 1  # the writer's own read: from the primary (the cookie)
        assert total(app.test_client(), operator) == before + 1  # without the cookie: this process remembers
        case = app.test_client().get(f"/api/incidents/{incident_id}", headers=viewer)
        assert case.status_code == 200  # a case page reads the primary

        # A token revoked on the primary is refused at once, though the standby still holds it.
        assert total(app.test_client(), doomed) == before
        assert app.test_client().delete(f"/api/tokens/{viewer_name}", headers=admin).status_code in (200, 204)
        assert app.test_client().get("/api/kpis", headers=doomed).status_code == 401
    assert total(app.test_client(), viewer) == before + 1  # replayed: the standby has it now


def test_a_standby_lagging_beyond_the_limit_is_skipped(pair, tolerant, strict):
    tolerant_app, store = tolerant
    strict_app, strict_store = strict
    _, viewer = bearer(store, "viewer")
    before = total(strict_app.test_client(), viewer)
    _, operator = bearer(store, "operator")
    with replay_paused(pair):
        assert tolerant_app.test_client().post("/api/incidents", json=REPORT, headers=operator).status_code == 201
        time.sleep(1.2 + STRICT_LAG_S)  # the standby is now further behind than the strict limit, and measured anew
        assert total(tolerant_app.test_client(), viewer) == before  # within 60 s: the standby answers
        assert total(strict_app.test_client(), viewer) == before + 1  # beyond 0.5 s: skipped, the primary answers
        (lag,) = strict_store.replica_lags().values()
        assert lag is not None and lag > STRICT_LAG_S
        health = strict_app.test_client().get("/healthz").get_json()
        assert health["replicas"] == {pair.standby.url: lag}  # what an operator sees


def test_reads_from_the_standby_answer_while_the_primary_is_locked(pair, tolerant):
    app, store = tolerant
    _, viewer = bearer(store, "viewer")
    with replay_paused(pair):  # the lock below is logged; a paused standby never takes it
        locker = psycopg2.connect(pair.primary.url)
        try:
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE incidents, incident_daily IN ACCESS EXCLUSIVE MODE")
            answers: list[int] = []
            reader = threading.Thread(target=lambda: answers.append(
                app.test_client().get("/api/kpis", headers=viewer).status_code))
            reader.start()
            reader.join(timeout=15)
            assert answers == [200], "the measures waited for the primary's lock"
        finally:
            locker.rollback()
            locker.close()


def test_data_kept_by_version_is_built_from_the_primary_inside_a_stale_block(pair, tolerant):
    _, store = tolerant
    new_street = Grid(code="411602009000000", name="新区街道", level=1, geom=box(114.70, 33.70, 114.72, 33.72))
    derived = DerivedData(store)
    with replay_paused(pair):
        store.layers.add("grids", [new_street])
        with store.stale_reads():
            on_standby = store.layers.count("grids")
            index = derived.get(GRID_INDEX, 50.0)
        assert on_standby == len(make_grids())  # the block's reads: the standby, as of the pause
        found = index.lookup(114.71, 33.71)
        assert found is not None and found.chain[0].code == new_street.code  # the index: from the primary


def test_a_standby_that_goes_away_under_reads_leaves_them_to_the_primary(pair, tolerant):
    app, store = tolerant
    _, viewer = bearer(store, "viewer")
    statuses: list[int] = []
    done = threading.Event()

    def read() -> None:
        client = app.test_client()
        while not done.is_set():
            for path in ("/api/kpis", "/api/heat?res=8", "/ogc/collections/incidents/items?limit=5"):
                statuses.append(client.get(path, headers=viewer).status_code)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    time.sleep(0.5)
    served_before = len(statuses)
    (lag,) = store.replica_lags().values()
    assert lag is not None and lag <= TOLERANT_LAG_S  # the standby is serving
    pair.standby.stop("immediate")
    try:
        time.sleep(1.5)
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=30)
        pair.standby.start()
    assert served_before > 0 and len(statuses) > served_before
    assert list(store.replica_lags().values()) == [None]  # found gone while reading, and left alone
    assert set(statuses) == {200}, sorted(set(statuses))


def test_every_stale_tolerant_route_is_a_read_of_the_app(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'routes.db'}")
    store.migrate()
    app = create_app(Settings(store=StoreSettings(url=store.url)), store=store)
    reads = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods and "GET" in rule.methods}
    writes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods and rule.methods & WRITES}
    assert reads >= STALE_TOLERANT and not STALE_TOLERANT & writes
    store.close()
