"""Serving: the grid index, the road network and the hotspot study areas are built in the master before the fork,
and the heap frozen; ``mapserver serve`` answers from the workers under gunicorn (the default) and uWSGI (the
``mapserver[uwsgi]`` extra), and says which extra to install when uWSGI is asked for and missing.

Grids are the hand-made nested ones of tests/test_gridindex.py (WGS-84 degrees).
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mapserver import create_app, serving
from mapserver.auth import hash_token, new_token
from mapserver.cli import main
from mapserver.gridindex import GridIndex
from mapserver.store import open_store
from tests.conftest import settings_for
from tests.forking import fork_while_building
from tests.served import KINDS, start_server
from tests.test_gridindex import BD_SW, ST_B, STAFF, make_grids

STAFF_NAME = next(person.name for person in STAFF if person.grid_code == BD_SW)


@pytest.fixture
def unfrozen():
    """Whatever a test freezes is handed back to the collector afterwards."""
    yield
    gc.unfreeze()


@pytest.fixture
def index_builds(monkeypatch) -> list[GridIndex]:
    """Every grid index built from a store from here on."""
    built: list[GridIndex] = []
    from_store = GridIndex.from_store

    def counted(store, **kwargs):
        built.append(from_store(store, **kwargs))
        return built[-1]

    monkeypatch.setattr(GridIndex, "from_store", counted)
    return built


def test_prepare_builds_the_index_once_and_freezes_the_heap(store, unfrozen, index_builds):
    store.layers.add("grids", make_grids())
    app = create_app(settings_for(store), store=store)
    state = app.extensions["mapserver"]
    assert index_builds == []  # nothing built by create_app itself
    serving.prepare_for_workers(app)
    assert len(index_builds) == 1 and len(index_builds[0]) == len(make_grids())
    assert gc.get_freeze_count() > 0
    with app.app_context():
        assert state.grid_index() is index_builds[0]  # requests use the index built before the fork, not a new one
        assert state.grid_index().lookup(114.601, 33.601).finest.code == BD_SW
    assert len(index_builds) == 1


def test_an_index_that_cannot_be_built_before_the_fork_does_not_stop_the_server(store, unfrozen, monkeypatch,
                                                                                 caplog):
    store.layers.add("grids", make_grids())
    app = create_app(settings_for(store), store=store)

    def broken(*args, **kwargs):
        raise RuntimeError("grids unreadable")

    with monkeypatch.context() as patched:
        patched.setattr(GridIndex, "from_store", broken)
        serving.prepare_for_workers(app)
    assert "grid index not built before the fork" in caplog.text and "grids unreadable" in caplog.text
    with app.app_context():  # the first lookup in a worker builds it
        assert app.extensions["mapserver"].grid_index().lookup(114.601, 33.601).finest.code == BD_SW


def _gridded_store(path: Path) -> tuple[Any, str]:
    """A SQLite store with the hand-made grids and a viewer token; the store and the token."""
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    store.layers.add("grids", make_grids())
    secret = new_token()
    store.tokens.add(name="wall", role="viewer", token_hash=hash_token(secret))
    return store, secret


def test_a_forked_worker_answers_from_the_inherited_index_and_its_own_connection(tmp_path, unfrozen, index_builds):
    store, secret = _gridded_store(tmp_path / "fork.db")
    app = create_app(settings_for(store), store=store)
    serving.prepare_for_workers(app)
    assert len(index_builds) == 1
    pid = os.fork()
    if pid == 0:  # the worker: exit status 0 only if it answered right from the master's index
        code = 1
        try:
            resp = app.test_client().get("/api/lookup?lon=114.601&lat=33.601",
                                         headers={"Authorization": f"Bearer {secret}"})
            same = len(index_builds) == 1 and app.extensions["mapserver"].grid_index() is index_builds[0]
            code = 0 if resp.status_code == 200 and resp.get_json()["grid"]["code"] == BD_SW and same else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.close()


def test_prepare_builds_the_configured_hotspot_studies_and_a_worker_answers_from_them(tmp_path, unfrozen,
                                                                                        monkeypatch):
    from mapserver.analysis import study

    made: list[int] = []
    build_study = study.build_study
    monkeypatch.setattr(study, "build_study", lambda area, res: made.append(res) or build_study(area, res))
    store, secret = _gridded_store(tmp_path / "study.db")
    settings = settings_for(store)
    app = create_app(settings, store=store)
    assert serving.study_resolutions(settings) == [settings.patrol.hotspot_res] == [9]  # the shipped layers too
    serving.prepare_for_workers(app)
    derived = app.extensions["mapserver"].derived
    assert made == [9]
    built = derived.get(study.STUDY, 9)
    assert made == [9] and len(built.cells) > 0
    pid = os.fork()
    if pid == 0:  # the worker: exit status 0 only if it answered from the master's study, then rebuilt it on a write
        code = 1
        try:
            resp = app.test_client().get("/api/hotspots?res=9", headers={"Authorization": f"Bearer {secret}"})
            same = made == [9]
            store.layers.delete("grids", keys=[ST_B])
            after = app.test_client().get("/api/hotspots?res=9", headers={"Authorization": f"Bearer {secret}"})
            rebuilt = derived.get(study.STUDY, 9)
            code = 0 if (resp.status_code == 200 and resp.get_json()["units"] == len(built.cells) and same
                         and made == [9, 9] and rebuilt is not built
                         and after.get_json()["units"] == len(rebuilt.cells) < len(built.cells)) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.close()


def test_a_worker_forked_while_the_master_builds_builds_for_itself(tmp_path, unfrozen):
    """prepare_for_workers has each forked worker take locks of its own: one held by a master's thread is not its."""
    store, _ = _gridded_store(tmp_path / "locks.db")
    app = create_app(settings_for(store), store=store)
    serving.prepare_for_workers(app)
    code, _ = fork_while_building(app.extensions["mapserver"].derived)  # the worker does nothing itself
    assert code == 0
    store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_mapserver_serve_answers_from_the_index_the_master_built(tmp_path, kind):
    server = start_server(tmp_path, kind)
    try:
        # Renamed behind the store's back (no data version bump): an index built before the rename still has
        # the old name, so any worker that built its own after the fork would answer with the new one.
        with sqlite3.connect(tmp_path / "served.db") as db:
            db.execute("UPDATE grid_staff SET name = 'renamed' WHERE grid_code = ?", (BD_SW,))
        db.close()
        with ThreadPoolExecutor(max_workers=4) as pool:  # concurrent, so both workers answer some
            answers = list(pool.map(lambda _: server.request("/api/lookup?lon=114.601&lat=33.601"), range(20)))
        assert [status for status, _, _ in answers] == [200] * 20
        names = [{person["name"] for person in json.loads(body)["staff"]} for _, _, body in answers]
        assert all(STAFF_NAME in found and "renamed" not in found for found in names), names
    finally:
        output = server.stop()
    assert '"path": "/api/lookup", "status": 200' in output  # the JSON request lines reached the log
    # gunicorn's sync worker (one request per connection), with problem answers past the request limits
    assert ("Using worker: mapserver.gunicorn_workers.ProblemSyncWorker" in output) == (kind == "gunicorn")


def test_serve_with_uwsgi_missing_names_the_extra(tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: sqlite:///{tmp_path / 'never-opened.db'}\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "pyuwsgi", None)  # as if the extra were not installed: import fails
    result = CliRunner().invoke(main, ["--config", str(config), "serve", "--server", "uwsgi"])
    assert result.exit_code == 1 and "pip install 'mapserver[uwsgi]'" in result.output
    assert not (tmp_path / "never-opened.db").exists()  # said before the store was opened


def test_the_gunicorn_configuration_file_carries_every_option():
    from mapserver import gunicorn_conf

    assert {name: getattr(gunicorn_conf, name) for name in serving.GUNICORN_OPTIONS} == serving.GUNICORN_OPTIONS
