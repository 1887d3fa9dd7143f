"""One grid index per store and worker process, kept fresh: what a Flask view calls per request.

``current_index(store)`` builds the index on first use in a process (never at
import) and afterwards only calls :meth:`GridIndex.refresh_if_stale`, which looks
at the store's data versions at most once a second. So every worker process sees a
grid or staff change within a second of its next request.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from mapserver.gridindex.index import GridIndex

if TYPE_CHECKING:
    from mapserver.store import Store

_indexes: dict[str, GridIndex] = {}
_lock = threading.Lock()


def _forget_after_fork() -> None:
    # A forked worker must not share the parent's locks (one may be held) or R-tree handle: start clean.
    global _lock
    _indexes.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def current_index(store: Store, *, max_snap_m: float = 50.0) -> GridIndex:
    """The index of ``store``'s grids (a :class:`mapserver.store.Store`), refreshed if the store changed.

    Cached per process by store URL; ``max_snap_m`` (metres) applies when the index is first built.
    """
    index = _indexes.get(store.url)
    if index is None:
        with _lock:
            index = _indexes.get(store.url)
            if index is None:
                index = GridIndex.from_store(store, max_snap_m=max_snap_m)
                _indexes[store.url] = index
        return index
    index.refresh_if_stale(store)
    return index


def forget_indexes() -> None:
    """Drop every cached index of this process (the next call rebuilds)."""
    with _lock:
        _indexes.clear()
