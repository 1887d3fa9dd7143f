"""The contract every store backend honours, and the checks they share.

Public methods live here, with their whole keyword-only signatures; they check
their arguments, then call the backend's ``_``-prefixed primitives. A backend
therefore cannot drift from the contract, and both refuse bad input with the
same :class:`~mapserver.errors.Problem`.

Coordinates are WGS-84 (EPSG:4326) longitude/latitude degrees throughout.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.model import RECORD_TYPES, check_record, field_names, time_fields
from mapserver.store.analysis_store import AnalysisStore
from mapserver.store.audit_store import AuditStore
from mapserver.store.camera_store import CameraStore
from mapserver.store.incident_store import IncidentStore
from mapserver.store.patrol_store import PatrolStore

BBox = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat) in degrees, WGS-84."""

ROLES = ("viewer", "operator", "admin")
SCHEMA_VERSION = 1
"""The schema version this code reads and writes; each backend has as many migrations, the first its baseline."""

# The column each layer is keyed by; grid_staff ids are given by the store.
KEYS: dict[str, str] = {
    "grids": "code",
    "grid_staff": "id",
    "cameras": "code",
    "places": "code",
    "addresses": "code",
    "roads": "code",
    "incidents": "id",
}

# Columns a query may filter on by equality; anything else is refused (and never reaches SQL).
FILTERABLE: dict[str, tuple[str, ...]] = {
    "grids": ("code", "level", "parent_code", "kind", "subtype"),
    "grid_staff": ("grid_code", "role", "name"),
    "cameras": ("code", "status"),
    "places": ("code", "kind"),
    "addresses": ("code",),
    "roads": ("code", "road_class"),
    "incidents": ("id", "category", "severity", "status", "grid_code"),
}

LAYERS: tuple[str, ...] = tuple(KEYS)
POINT_LAYERS = frozenset({"cameras", "addresses", "incidents"})

# Orders a query may ask for besides the key ("-" for descending); the key always breaks ties.
ORDERABLE: dict[str, tuple[str, ...]] = {"incidents": ("reported_at", "due_at"), "cameras": ("last_seen",)}

Condition = tuple[str, tuple[Any, ...]]
"""A SQL condition written by this package (never from a request) with ``?`` placeholders, and its values."""
TABLES: tuple[str, ...] = (*LAYERS, "incident_events", "tokens", "audit_log", "patrol_plans")


class StoreUnavailable(Exception):
    """The store cannot be opened or reached; the message carries the URL with its password masked."""


@dataclass(frozen=True)
class Token:
    """An API token's public facts; the token itself is never stored, only its SHA-256."""

    name: str
    role: str
    created_at: datetime
    token_hash: str = ""


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def utc(value: datetime | str | None) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime or ISO 8601 text (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_layer(layer: str) -> str:
    """The layer name itself, or a 404 problem naming the layers there are."""
    if layer not in KEYS:
        raise Problem(404, f"unknown layer '{layer}'; layers: {', '.join(LAYERS)}", param="layer")
    return layer


def check_bbox(bbox: Sequence[float] | None) -> BBox | None:
    """A validated (minx, miny, maxx, maxy) in degrees, or a 400 problem saying what is wrong."""
    if bbox is None:
        return None
    if len(bbox) != 4:
        raise Problem(400, f"bbox needs 4 numbers (min lon, min lat, max lon, max lat), got {len(bbox)}", param="bbox")
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise Problem(400, "bbox values must be numbers", param="bbox") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise Problem(400, "bbox values must be finite numbers", param="bbox")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise Problem(400, "bbox must satisfy -180 ≤ min lon ≤ max lon ≤ 180 and -90 ≤ min lat ≤ max lat ≤ 90",
                      param="bbox")
    return (minx, miny, maxx, maxy)


def order_sql(layer: str, order_by: str | None, *, prefix: str = "") -> str:
    """ORDER BY text for a checked order (column names come from ORDERABLE and KEYS only)."""
    key = f"{prefix}{KEYS[layer]}"
    if order_by is None:
        return key
    column = order_by.removeprefix("-")
    if column not in ORDERABLE.get(layer, ()):
        raise Problem(400, f"cannot order {layer} by {column}", param="order")
    return f"{prefix}{column} {'DESC' if order_by.startswith('-') else 'ASC'}, {key}"


def _check_where(layer: str, where: Mapping[str, Any] | None) -> dict[str, Any]:
    where = dict(where or {})
    unknown = sorted(set(where) - set(FILTERABLE[layer]))
    if unknown:
        raise Problem(400, f"cannot filter {layer} on {', '.join(unknown)}; filters: {', '.join(FILTERABLE[layer])}",
                      param=unknown[0])
    return where


def _check_page(limit: int | None, offset: int) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise Problem(400, f"limit must be a whole number ≥ 0, got {limit!r}", param="limit")
    if not isinstance(offset, int) or offset < 0:
        raise Problem(400, f"offset must be a whole number ≥ 0, got {offset!r}", param="offset")


def normalise(record: Any) -> Any:
    """The record as stored: grid polygons become MultiPolygons, times UTC, so both backends return the same."""
    if isinstance(getattr(record, "geom", None), Polygon) and record.LAYER == "grids":
        record = replace(record, geom=MultiPolygon([record.geom]))
    # Only times not yet in UTC are rewritten: replace() is the dearest step of a batch import's write.
    times = {name: utc(value) for name in time_fields(type(record))
             if (value := getattr(record, name)) is not None
             and not (isinstance(value, datetime) and value.tzinfo is UTC)}
    return replace(record, **times) if times else record


def record_from_row(layer: str, row: Mapping[str, Any]) -> Any:
    """Build a layer's record from a column→value mapping (geometry as WKB bytes)."""
    cls = RECORD_TYPES[layer]
    values = {name: row[name] for name in field_names(cls) if name in row}
    if "geom" in values and values["geom"] is not None:
        values["geom"] = shapely.from_wkb(bytes(values["geom"]))
    for name in time_fields(cls):
        if name in values:
            values[name] = utc(values[name])
    if "extra" in values and isinstance(values["extra"], str):
        values["extra"] = json.loads(values["extra"])
    if "oneway" in values:
        values["oneway"] = bool(values["oneway"])
    return cls(**values)


def record_to_row(record: Any) -> dict[str, Any]:
    """Column→value for writing: geometry as WKB bytes, extra as JSON text, times as UTC datetimes."""
    row = {name: getattr(record, name) for name in field_names(type(record))}
    if isinstance(row.get("geom"), BaseGeometry):
        row["geom"] = shapely.to_wkb(row["geom"], output_dimension=2)
    if "extra" in row:
        row["extra"] = json.dumps(row["extra"], ensure_ascii=False, sort_keys=True)
    return row


class Store(IncidentStore, CameraStore, AnalysisStore, AuditStore, PatrolStore, ABC):
    """One door to the stored layers, tokens and schema, whatever the backend."""

    kind: ClassVar[str]

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def display_url(self) -> str:
        """The store URL with its password masked."""
        return mask_url(self.url)

    # -- schema ---------------------------------------------------------------

    @abstractmethod
    def migrate(self, *, target: int | None = None) -> int:
        """Create the schema or upgrade it in place to ``target`` (default: the newest); return the version."""

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version in the store; 0 when it has never been initialised."""

    @abstractmethod
    def close(self) -> None:
        """Release connections held by this process."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: everything inside commits together or not at all (nesting joins the outer one)."""

    # -- layers ---------------------------------------------------------------

    def add(self, layer: str, records: Iterable[Any], *, checked: bool = False) -> int:
        """Insert records into a layer, all or none; return how many were written.

        Raises a 422 problem listing every bad record (row number from 1, field,
        reason) and a 409 problem when a key already exists. Nothing is written
        when either is raised. ``checked``: the caller has already passed every
        record through :func:`~mapserver.model.check_record` (the importer does),
        so it is not run twice.
        """
        check_layer(layer)
        cls = RECORD_TYPES[layer]
        rows, errors = [], []
        for number, record in enumerate(records, start=1):
            if not isinstance(record, cls):
                errors.append({"row": number, "field": "", "reason": f"expected a {cls.__name__} record"})
                continue
            if not checked:
                errors += [{"row": number, "field": f, "reason": r} for f, r in check_record(record)]
            rows.append(normalise(record))
        if errors:
            raise Problem(422, f"{len(errors)} problem(s) in {layer}; nothing was written", errors=errors)
        if not rows:
            return 0
        with self.transaction():
            written = self._insert(layer, rows)
            self._bump_version(layer)
        return written

    def get(self, layer: str, key: str | int) -> Any | None:
        """The record with this key, or None."""
        check_layer(layer)
        found = self._select(layer, bbox=None, where={KEYS[layer]: key}, limit=1, offset=0)
        return found[0] if found else None

    def query(
        self,
        layer: str,
        *,
        bbox: Sequence[float] | None = None,
        where: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        """Records whose geometry intersects ``bbox`` and whose columns equal ``where``, ordered by key."""
        check_layer(layer)
        _check_page(limit, offset)
        return self._select(layer, bbox=check_bbox(bbox), where=_check_where(layer, where), limit=limit, offset=offset)

    def count(self, layer: str, *, bbox: Sequence[float] | None = None, where: Mapping[str, Any] | None = None) -> int:
        """How many records :meth:`query` would return without a limit."""
        check_layer(layer)
        return self._count(layer, bbox=check_bbox(bbox), where=_check_where(layer, where))

    def delete(self, layer: str, *, keys: Sequence[str | int]) -> int:
        """Delete the records with these keys; return how many went."""
        check_layer(layer)
        if not keys:
            return 0
        with self.transaction():
            gone = self._delete(layer, list(keys))
            if gone:
                self._bump_version(layer)
        return gone

    def extent(self, layer: str, *, where: Mapping[str, Any] | None = None) -> BBox | None:
        """The bounding box of the geometries whose columns equal ``where``, in degrees; None when none match.

        A SQLite store reads it from its R*Tree, whose 32-bit boxes are rounded outward: it may exceed
        the exact box by up to about 3e-5° (3 m), never fall short of it. 400 for a layer without geometry.
        """
        check_layer(layer)
        if not RECORD_TYPES[layer].GEOM_TYPES:
            raise Problem(400, f"{layer} has no geometry, so no extent", param="layer")
        return self._extent(layer, _check_where(layer, where))

    def time_extent(self, layer: str, *, column: str) -> tuple[datetime, datetime] | None:
        """The earliest and latest value (UTC) of one of the layer's time columns; None when no record has one."""
        check_layer(layer)
        if column not in time_fields(RECORD_TYPES[layer]):
            raise Problem(400, f"{column} is not a time of {layer}", param="column")
        first, last = self._fetch(f"SELECT MIN({column}), MAX({column}) FROM {layer}")[0]  # noqa: S608 - checked names
        if first is None:
            return None
        return utc(first), utc(last)

    def ping(self) -> tuple[int, int | None]:
        """The schema version, and the database server's process id of the connection that answered
        (None for an embedded store, which has no server)."""
        return self.schema_version(), None

    def counts(self) -> dict[str, int]:
        """Rows per table, for health checks."""
        return {table: self._count_table(table) for table in TABLES}

    def data_version(self, layer: str) -> int:
        """A number that grows with every write to ``layer``; caches compare it to notice changes."""
        return self._data_version(check_layer(layer))

    # -- tokens ---------------------------------------------------------------

    def add_token(self, *, name: str, role: str, token_hash: str) -> Token:
        """Record a new token by its hash; 409 if the name is taken, 422 for an unknown role."""
        if role not in ROLES:
            raise Problem(422, f"role must be one of {', '.join(ROLES)}, got {role!r}", param="role")
        if not name or len(name) > 100:
            raise Problem(422, "token name must be 1–100 characters", param="name")
        token = Token(name=name, role=role, created_at=datetime.now(UTC), token_hash=token_hash)
        with self.transaction():
            self._insert_token(token)
        return token

    @abstractmethod
    def token_by_hash(self, token_hash: str) -> Token | None:
        """The live (not revoked) token with this SHA-256 hex digest, or None."""

    @abstractmethod
    def tokens(self) -> list[Token]:
        """Live tokens, by name, without their hashes."""

    @abstractmethod
    def revoke_token(self, *, name: str) -> bool:
        """Revoke a token by name; False when there was no live token of that name."""

    # -- backend primitives ---------------------------------------------------

    @abstractmethod
    def _insert(self, layer: str, records: list[Any]) -> int: ...

    @abstractmethod
    def _select(self, layer: str, *, bbox: BBox | None, where: dict[str, Any], limit: int | None,
                offset: int, conditions: Sequence[Condition] = (), order_by: str | None = None) -> list[Any]: ...

    @abstractmethod
    def _count(self, layer: str, *, bbox: BBox | None, where: dict[str, Any],
               conditions: Sequence[Condition] = ()) -> int: ...

    @abstractmethod
    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a portable SQL query (``?`` placeholders) written by this package."""

    @abstractmethod
    def _exec(self, query: str, params: Sequence[Any] = ()) -> int:
        """Run a portable SQL statement; return the rows it touched."""

    def _exec_at_commit(self, query: str, params: Sequence[Any] = ()) -> None:
        """Run a portable SQL write whose outcome the caller does not read, at the latest when the current
        transaction commits (a backend may send it with the COMMIT); what it refuses refuses the whole
        transaction. Statements later in the same transaction may not see it."""
        self._exec(query, params)

    @abstractmethod
    def _wkb_sql(self, column: str) -> str:
        """SQL reading a geometry column as WKB."""

    @abstractmethod
    def _seconds_between(self, start: str, end: str) -> str:
        """SQL for the seconds from timestamp column ``start`` to ``end``."""

    @abstractmethod
    def _delete(self, layer: str, keys: list[Any]) -> int: ...

    @abstractmethod
    def _count_table(self, table: str) -> int: ...

    @abstractmethod
    def _extent(self, layer: str, where: dict[str, Any]) -> BBox | None: ...

    @abstractmethod
    def _data_version(self, layer: str) -> int: ...

    @abstractmethod
    def _bump_version(self, layer: str) -> None: ...

    @abstractmethod
    def _insert_token(self, token: Token) -> None: ...


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
