"""Per-process data derived from one store: the grid index, the address matcher, road networks, hotspot studies.

Each kind of value is declared by the module that owns it as a :class:`Kind`: the store layers it is built from
and how to build it. A :class:`DerivedData` keeps one value per kind and arguments, with the data versions of
those layers as they were when it was built. Before handing a kept value out it compares them with the store's,
at most once per ``Kind.check_every_s`` seconds: a write in any process bumps a layer's version, so every process
notices it on its next check and builds the value again, or brings it up to date in place when the kind can. Those
versions and the rows a value is built from are read from the primary, never from a standby (``store.read_url``).

Each worker process holds its own registry. A server builds the configured values in its master before forking
(:meth:`DerivedData.warm`), so workers share them copy-on-write, and has each worker call
:meth:`DerivedData.after_fork` once, which gives the worker locks of its own. Kept values are shared by threads:
a kind's values must not change once built, or change only through ``Kind.refresh`` (which runs one at a time).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from mapserver.store import Store

T = TypeVar("T")

log = logging.getLogger("mapserver")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a kind is one module-level value
class Kind(Generic[T]):
    """One kind of derived value.

    ``build(derived, *args)`` makes a value from ``derived.store``, and may take other kinds' values from
    ``derived`` (their layers must be among this kind's, so that a value is never older than what it was built
    from). ``refresh(value, store)``, when given, brings a kept value up to date in place instead; readers keep
    using the value meanwhile. ``keep`` bounds the values of this kind (the most recently used stay).
    """

    name: str
    layers: tuple[str, ...]
    build: Callable[..., T]
    refresh: Callable[[T, Store], object] | None = None
    check_every_s: float = 1.0
    keep: int | None = None


class _Entry:
    """One kept value and what it was built from; ``lock`` is held while it is built or refreshed."""

    __slots__ = ("built", "fresh_until", "lock", "value", "versions")

    def __init__(self) -> None:
        self.value: Any = None
        self.versions: tuple[int, ...] = ()
        self.built = 0  # how many times it was built: a caller that waited for a build takes its value
        self.fresh_until = float("-inf")  # monotonic seconds: handed out unchecked until then
        self.lock = threading.Lock()


class DerivedData:
    """The values derived from ``store`` that this process keeps, by kind and arguments (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._entries: OrderedDict[tuple[Kind[Any], tuple[Any, ...]], _Entry] = OrderedDict()
        self._lock = threading.Lock()  # guards _entries; never held while a value is built

    def get(self, kind: Kind[T], *args: Any) -> T:
        """The value of ``kind`` for ``args``, current to within ``kind.check_every_s`` seconds: kept, or built
        (once: callers arriving meanwhile wait for it and share it), or refreshed in place."""
        key = (kind, args)
        entry = self._entries.get(key)
        if entry is not None and monotonic() < entry.fresh_until:
            if kind.keep is not None:
                self._touch(key)
            return entry.value
        # From the primary, versions and rows alike, even in a request whose other reads a standby answers: a value
        # kept by version must hold that version's data, and the primary is where every process sees the same.
        with self.store.primary_reads():
            return self._current(kind, key)

    def warm(self, wanted: Iterable[tuple[Kind[Any], tuple[Any, ...]]]) -> None:
        """Build the ``(kind, args)`` in ``wanted`` now, e.g. in a server's master before it forks its workers.

        A value that cannot be built is logged and left to the first request that needs it, which builds it and
        reports what went wrong: a failure here is no reason to refuse health checks and the map.
        """
        for kind, args in wanted:
            try:
                self.get(kind, *args)
            except Exception:
                log.exception("%s not built before the fork; the first request that needs it builds it", kind.name)

    def after_fork(self) -> None:
        """In a process forked from the one that built the values: keep them, but take locks of its own (the
        parent's may have been held by a thread that does not exist here)."""
        self._lock = threading.Lock()
        for entry in self._entries.values():
            entry.lock = threading.Lock()

    def _touch(self, key: tuple[Kind[Any], tuple[Any, ...]]) -> None:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)

    def _current(self, kind: Kind[T], key: tuple[Kind[T], tuple[Any, ...]]) -> T:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
                if kind.keep is not None:
                    self._evict(kind, kind.keep)
            elif kind.keep is not None:
                self._entries.move_to_end(key)
        # Marked checked before the store is asked: should it be unreachable, one caller per interval finds out
        # and the others keep answering from the kept value.
        seen = entry.built
        if seen:
            entry.fresh_until = monotonic() + kind.check_every_s
        versions = tuple(self.store.layers.data_version(layer) for layer in kind.layers)
        if entry.built and entry.versions == versions:
            return entry.value
        if entry.built and kind.refresh is not None:
            if entry.lock.acquire(blocking=False):  # else another thread is refreshing it: use it as it is
                try:
                    kind.refresh(entry.value, self.store)
                    entry.versions = versions  # read before the refresh: a write since makes the next check refresh
                finally:
                    entry.lock.release()
            return entry.value
        with entry.lock:
            if entry.built == seen:  # nobody built it while this caller waited
                # Versions read before the build: a write landing while it reads makes the next check build again.
                entry.value = kind.build(self, *key[1])
                entry.versions = versions
                entry.built += 1
            entry.fresh_until = monotonic() + kind.check_every_s
            return entry.value

    def _evict(self, kind: Kind[Any], keep: int) -> None:
        """Drop the least recently used values of ``kind`` beyond ``keep``. Call with _lock held."""
        mine = [key for key in self._entries if key[0] is kind]
        for key in mine[:max(0, len(mine) - keep)]:
            del self._entries[key]
