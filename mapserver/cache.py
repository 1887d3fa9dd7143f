"""Per-process caches rebuilt when the store's data changes (checked at most once per second).

Each worker process holds its own copy; a write in any process bumps the
store's data version, and every process notices it on its next check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from mapserver.store import Store

T = TypeVar("T")
CHECK_EVERY_S = 1.0


class VersionedCache(Generic[T]):
    """A value built from some layers of a store, rebuilt when any of their data versions changes."""

    def __init__(self, build: Callable[[Store], T], layers: tuple[str, ...], *,
                 check_every_s: float = CHECK_EVERY_S) -> None:
        self._build = build
        self._layers = layers
        self._check_every_s = check_every_s
        self._lock = threading.Lock()
        self._value: T | None = None
        self._version: tuple[int, ...] | None = None
        self._checked_at = float("-inf")

    def get(self, store: Store) -> T:
        """The current value, rebuilt first if the layers changed since it was built."""
        now = time.monotonic()
        if self._value is not None and now - self._checked_at < self._check_every_s:
            return self._value
        with self._lock:
            version = tuple(store.layers.data_version(layer) for layer in self._layers)
            if self._value is None or version != self._version:
                self._value = self._build(store)
                self._version = version
            self._checked_at = time.monotonic()
            return self._value
