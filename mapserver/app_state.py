"""What one running app holds: its settings, its store, and caches derived from the store."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from mapserver.cache import VersionedCache
from mapserver.config import Settings
from mapserver.store import Store

if TYPE_CHECKING:
    from mapserver.addressing import AddressMatcher
    from mapserver.gridindex import GridIndex


def _build_address_matcher() -> VersionedCache[AddressMatcher]:
    from mapserver.addressing import AddressMatcher

    return VersionedCache(AddressMatcher.from_store, ("addresses",))


@dataclass
class AppState:
    settings: Settings
    store: Store
    _grid_index: GridIndex | None = field(default=None, repr=False)
    _addresses: VersionedCache[AddressMatcher] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def grid_index(self) -> GridIndex:
        """The grid index of this app in this process, current to within a second (edits applied in place)."""
        index = self._grid_index
        if index is None:
            from mapserver.gridindex import GridIndex

            with self._lock:
                if self._grid_index is None:
                    self._grid_index = GridIndex.from_store(self.store, max_snap_m=self.settings.lookup.max_snap_m)
                return self._grid_index
        index.refresh_if_stale(self.store)
        return index

    def address_matcher(self) -> AddressMatcher:
        """The standard-address matcher of this process, current to within a second."""
        if self._addresses is None:
            self._addresses = _build_address_matcher()
        return self._addresses.get(self.store)


def state() -> AppState:
    """The state of the app serving the current request."""
    return current_app.extensions["mapserver"]


def store() -> Store:
    """The store of the app serving the current request."""
    return state().store
