"""The one door to stored data: :func:`open_store` picks the backend from the URL."""

from __future__ import annotations

from mapserver.store.base import LAYERS, Store, StoreUnavailable, mask_url

SCHEMES = ("sqlite:///", "postgresql://", "postgres://")

__all__ = ["LAYERS", "SCHEMES", "Store", "StoreUnavailable", "open_store"]


def open_store(url: str, *, pool_max: int = 8, connect_timeout_s: int = 5) -> Store:
    """Open the store at ``url``: ``sqlite:///path.db`` (embedded) or ``postgresql://…`` (PostGIS).

    Raises :class:`StoreUnavailable` for an unknown scheme (listing the supported
    ones) or a store that cannot be reached (with the password masked).
    """
    if url.startswith("sqlite:///"):
        from mapserver.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from mapserver.store.postgis import PostGISStore

        return PostGISStore(url, pool_max=pool_max, connect_timeout_s=connect_timeout_s)
    raise StoreUnavailable(
        f"unsupported store URL {mask_url(url)!r}; use one of: sqlite:///path.db, postgresql://user@host:port/db"
    )
