"""Answers kept by what they depend on, so that a poll with nothing changed costs only the data-version reads.

A key names everything an answer depends on (data versions of the store
layers read, the window start, the bbox …); its hash is the HTTP ETag, so a
browser holding that answer gets 304 without the answer being built again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

GZIP_ABOVE = 1024  # bytes; smaller answers are not worth compressing


@dataclass(frozen=True)
class Encoded:
    """One answer as bytes (JSON, or a vector tile), plain and gzip-compressed (None when too small to bother), and
    what its headers say of it (``meta``)."""

    plain: bytes
    gzipped: bytes | None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Bytes held."""
        return len(self.plain) + len(self.gzipped or b"")


def etag_of(key: Hashable) -> str:
    """A short, stable tag for a cache key (its repr must be deterministic: tuples of str, int, float)."""
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:24]


def encode(value: Any) -> Encoded:
    """Compact JSON (UTF-8, Chinese unescaped) and its gzip form."""
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Encoded(plain, gzip.compress(plain, compresslevel=5) if len(plain) > GZIP_ABOVE else None)


class AnswerCache:
    """A thread-safe LRU of encoded answers by ETag, bounded by bytes (one answer may be a megabyte)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, Encoded] = OrderedDict()
        self._lock = threading.Lock()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._building: dict[str, threading.Lock] = {}  # one build per key: ten walls polling wait for one answer

    def _cached(self, etag: str) -> Encoded | None:
        with self._lock:
            found = self._items.get(etag)
            if found is not None:
                self._items.move_to_end(etag)
            return found

    def get_or_make(self, etag: str, make: Callable[[], Any],
                    encoder: Callable[[Any], Encoded] = encode) -> Encoded:
        """The cached answer for ``etag``, or ``make()`` encoded (by ``encoder``, JSON by default) and kept;
        concurrent callers share one build."""
        found = self._cached(etag)
        if found is not None:
            return found
        with self._lock:
            building = self._building.setdefault(etag, threading.Lock())
        try:
            with building:
                found = self._cached(etag)  # built by the caller this one waited for
                if found is None:
                    found = encoder(make())
                    self._keep(etag, found)
                return found
        finally:
            with self._lock:
                if self._building.get(etag) is building:
                    del self._building[etag]

    def _keep(self, etag: str, made: Encoded) -> None:
        with self._lock:
            if etag not in self._items:
                self._items[etag] = made
                self._bytes += made.size
            while self._bytes > self._max_bytes and len(self._items) > 1:
                self._bytes -= self._items.popitem(last=False)[1].size
