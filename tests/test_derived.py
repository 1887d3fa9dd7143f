"""The registry of data derived from a store (mapserver/derived.py), on both backends: a value is built once and again
only when a layer it is built from changes, checked at most once per interval, refreshed in place when its kind can,
built once for callers arriving together, bounded per kind, warmed with its failures logged, and usable in a
process forked while another thread was building it."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from shapely.geometry import LineString, box

from mapserver.derived import DerivedData, Kind
from mapserver.model import Grid, Road
from mapserver.store import Store
from tests.forking import fork_while_building


def street(n: int) -> Grid:
    """A street grid (WGS-84 degrees), a different one for each ``n``."""
    return Grid(code=f"41160200{n}000000", level=1, name=f"街道{n}", geom=box(114.60 + n * 0.01, 33.60,
                                                                           114.61 + n * 0.01, 33.61))


def road(n: int) -> Road:
    return Road(code=f"R{n}", name=f"路{n}", road_class="residential",
                geom=LineString([(114.60, 33.60 + n * 0.001), (114.61, 33.60 + n * 0.001)]))


class Counted:
    """A build that counts its calls and returns a new object each time: (store's grid count, argument, call)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, derived: DerivedData, *args: Any) -> tuple[Any, ...]:
        self.calls.append(args)
        return (derived.store.layers.count("grids"), *args, len(self.calls))


def test_a_value_is_built_once_and_again_when_a_layer_it_is_built_from_changes(store):
    build = Counted()
    kind = Kind("grid count", layers=("grids",), build=build, check_every_s=0.0)
    derived = DerivedData(store)
    first = derived.get(kind)
    assert derived.get(kind) is first and build.calls == [()]
    store.layers.add("roads", [road(1)])  # not a layer it is built from
    assert derived.get(kind) is first
    store.layers.add("grids", [street(1)])
    second = derived.get(kind)
    assert second is not first and second[0] == 1 and len(build.calls) == 2
    assert derived.get(kind, "other") is not second and build.calls[-1] == ("other",)  # its own value
    assert DerivedData(store).get(kind) is not second  # a new registry keeps nothing


def test_a_value_is_checked_at_most_once_per_interval(store):
    build = Counted()
    kind = Kind("grid count", layers=("grids",), build=build, check_every_s=0.3)
    derived = DerivedData(store)
    first = derived.get(kind)
    store.layers.add("grids", [street(1)])
    assert derived.get(kind) is first  # checked less than the interval ago
    time.sleep(0.35)
    assert derived.get(kind)[0] == 1 and len(build.calls) == 2


def test_a_kind_that_can_refreshes_its_value_in_place(store):
    refreshed: list[list[str]] = []

    def read(derived: DerivedData) -> list[str]:
        return [g.code for g in derived.store.layers.query("grids")]

    def refresh(codes: list[str], source: Store) -> None:
        refreshed.append(codes)
        codes[:] = [g.code for g in source.layers.query("grids")]

    kind = Kind("grid codes", layers=("grids",), build=read, refresh=refresh, check_every_s=0.0)
    derived = DerivedData(store)
    codes = derived.get(kind)
    assert codes == [] and derived.get(kind) is codes and refreshed == []
    store.layers.add("grids", [street(1)])
    assert derived.get(kind) is codes and codes == [street(1).code] and refreshed == [codes]
    assert derived.get(kind) is codes and len(refreshed) == 1  # up to date now: not refreshed again


def test_callers_arriving_together_wait_for_one_build(store):
    started, release, calls = threading.Event(), threading.Event(), []

    def slow(derived: DerivedData) -> object:
        calls.append(1)
        started.set()
        release.wait(10)
        return object()

    kind = Kind("slow", layers=("grids",), build=slow, check_every_s=0.0)
    derived, got = DerivedData(store), []
    threads = [threading.Thread(target=lambda: got.append(derived.get(kind))) for _ in range(4)]
    threads[0].start()
    assert started.wait(10)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)  # the others are waiting for the build now
    release.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and len(got) == 4 and all(v is got[0] for v in got)


def test_a_failed_build_is_tried_again_by_the_next_caller(store):
    failures = [RuntimeError("grids unreadable")]

    def flaky(derived: DerivedData) -> str:
        if failures:
            raise failures.pop()
        return "built"

    kind = Kind("flaky", layers=("grids",), build=flaky)  # checked once a second: a failure is not kept as a value
    derived = DerivedData(store)
    with pytest.raises(RuntimeError):
        derived.get(kind)
    assert derived.get(kind) == "built"


def test_a_kind_keeps_its_most_recently_used_values(store):
    build = Counted()
    kind = Kind("per argument", layers=("grids",), build=build, check_every_s=0.0, keep=2)
    other = Kind("unbounded", layers=("grids",), build=Counted(), check_every_s=0.0)
    derived = DerivedData(store)
    one, _ = derived.get(kind, 1), derived.get(kind, 2)
    for n in range(5):
        derived.get(other, n)  # another kind's values do not count against this one's
    assert derived.get(kind, 1) is one  # used again: now the most recent
    derived.get(kind, 3)  # 2 goes
    assert derived.get(kind, 1) is one and build.calls == [(1,), (2,), (3,)]
    derived.get(kind, 2)
    assert build.calls == [(1,), (2,), (3,), (2,)]


def test_warming_builds_what_it_can_and_logs_the_rest(store, caplog):
    build = Counted()

    def broken(derived: DerivedData) -> None:
        raise RuntimeError("roads unreadable")

    good = Kind("grid count", layers=("grids",), build=build, check_every_s=0.0)
    bad = Kind("road network", layers=("roads",), build=broken, check_every_s=0.0)
    derived = DerivedData(store)
    derived.warm([(bad, ()), (good, ("a",)), (good, ("b",))])
    assert build.calls == [("a",), ("b",)]
    assert "road network not built before the fork" in caplog.text and "roads unreadable" in caplog.text
    derived.get(good, "a")
    assert len(build.calls) == 2


def test_a_forked_process_builds_what_a_thread_of_its_parent_was_building(tmp_path):
    """The parent's entry lock is held by a thread that the child does not have: after_fork gives the child its own."""
    from mapserver.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'fork.db'}")
    store.migrate()
    derived = DerivedData(store)
    code, built = fork_while_building(derived, in_child=derived.after_fork)
    assert code == 0 and built == f"built in {os.getpid()}"
    store.close()
