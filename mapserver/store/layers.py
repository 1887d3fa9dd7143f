"""The stored layers, any of them (grids, grid staff, cameras, places, addresses, roads, incidents): write, read,
count, delete, extents, data versions, and what the importer and the patrol network read in bulk.

Every method checks its layer and arguments before the database sees them, so both backends refuse bad input
with the same :class:`~mapserver.errors.Problem`. Reads take ``within``, a jurisdiction: its rule for the layer
(:mod:`mapserver.store.scoping`) joins the query's own conditions. Coordinates are WGS-84 (EPSG:4326) degrees;
times UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import RECORD_TYPES, check_record, time_fields
from mapserver.store.common import (
    KEYS,
    BBox,
    Condition,
    check_bbox,
    check_layer,
    check_page,
    check_where,
    iter_chunks,
    normalise,
    utc,
    where_sql,
)
from mapserver.store.cql2_sql import filter_condition
from mapserver.store.database import Database
from mapserver.store.month_partitions import INCIDENTS, MonthPartitions, month_key
from mapserver.store.scoping import scope_conditions

# Keys asked about per statement by stored_keys: one round trip each, an index probe per key, and under
# SQLite's limit of host parameters (32,766).
KEYS_PER_LOOKUP = 5000


class Layers:
    """Records of any layer, by key, box or column filters."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._incident_months = MonthPartitions(database, INCIDENTS)

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
        if layer == "incidents":  # their months' partitions first, in a transaction of their own
            self._incident_months.ensure({month_key(row.reported_at) for row in rows})
        with self._db.transaction():
            written = self._db.insert(layer, rows)
            self._db.bump_version(layer)
        return written

    def get(self, layer: str, key: str | int, *, within: Jurisdiction = WHOLE) -> Any | None:
        """The record with this key, or None (also when it lies outside ``within``)."""
        check_layer(layer)
        found = self._db.select(layer, bbox=None, where={KEYS[layer]: key}, limit=1, offset=0,
                                conditions=scope_conditions(self._db, layer, within))
        return found[0] if found else None

    def query(self, layer: str, *, bbox: Sequence[float] | None = None, where: Mapping[str, Any] | None = None,
              limit: int | None = None, offset: int = 0, within: Jurisdiction = WHOLE,
              matching: Mapping[str, Any] | None = None) -> list[Any]:
        """Records in ``within`` whose geometry intersects ``bbox``, whose columns equal ``where`` and that meet the
        CQL2 expression ``matching`` (JSON form, :mod:`~mapserver.store.cql2_sql`), ordered by key."""
        check_layer(layer)
        check_page(limit, offset)
        return self._db.select(layer, bbox=check_bbox(bbox), where=check_where(layer, where), limit=limit,
                               offset=offset, conditions=self._conditions(layer, within, matching))

    def count(self, layer: str, *, bbox: Sequence[float] | None = None, where: Mapping[str, Any] | None = None,
              within: Jurisdiction = WHOLE, matching: Mapping[str, Any] | None = None) -> int:
        """How many records :meth:`query` would return without a limit."""
        check_layer(layer)
        return self._db.count(layer, bbox=check_bbox(bbox), where=check_where(layer, where),
                              conditions=self._conditions(layer, within, matching))

    def time_limit(self, seconds: float) -> AbstractContextManager[None]:
        """Each read inside runs at most ``seconds``, else it is stopped and a 400 problem says so."""
        return self._db.time_limit(seconds)

    def _conditions(self, layer: str, within: Jurisdiction, matching: Mapping[str, Any] | None) -> list[Condition]:
        conditions = scope_conditions(self._db, layer, within)
        if matching is not None:
            conditions.append(filter_condition(self._db, layer, matching))
        return conditions

    def delete(self, layer: str, *, keys: Sequence[str | int]) -> int:
        """Delete the records with these keys; return how many went."""
        check_layer(layer)
        if not keys:
            return 0
        with self._db.transaction():
            gone = self._db.delete(layer, list(keys))
            if gone:
                self._db.bump_version(layer)
        return gone

    def extent(self, layer: str, *, where: Mapping[str, Any] | None = None,
               within: Jurisdiction = WHOLE) -> BBox | None:
        """The bounding box of the geometries in ``within`` whose columns equal ``where``, in degrees; None when
        none match.

        A SQLite store reads it from its R*Tree, whose 32-bit boxes are rounded outward: it may exceed
        the exact box by up to about 3e-5° (3 m), never fall short of it. 400 for a layer without geometry.
        """
        check_layer(layer)
        if not RECORD_TYPES[layer].GEOM_TYPES:
            raise Problem(400, f"{layer} has no geometry, so no extent", param="layer")
        return self._db.extent(layer, check_where(layer, where), scope_conditions(self._db, layer, within))

    def time_extent(self, layer: str, *, column: str,
                    within: Jurisdiction = WHOLE) -> tuple[datetime, datetime] | None:
        """The earliest and latest value (UTC) of one of the layer's time columns among the records in ``within``;
        None when no record has one."""
        check_layer(layer)
        if column not in time_fields(RECORD_TYPES[layer]):
            raise Problem(400, f"{column} is not a time of {layer}", param="column")
        clause, params = where_sql(scope_conditions(self._db, layer, within))
        # Checked names; the layer is named t, as the backends' own statements name it.
        first, last = self._db.fetch(f"SELECT MIN(t.{column}), MAX(t.{column}) FROM {layer} t{clause}", params)[0]
        if first is None:
            return None
        return utc(first), utc(last)

    def data_version(self, layer: str) -> int:
        """A number that grows with every write to ``layer``; caches compare it to notice changes."""
        return self._db.data_version(check_layer(layer))

    def stored_keys(self, layer: str, keys: Sequence[Any]) -> set[Any]:
        """Which of ``keys`` the layer already holds: the key column only, looked up in batches."""
        wanted = sorted(set(keys) - {None, ""})
        if not wanted:
            return set()
        column = KEYS[check_layer(layer)]
        if self._db.array_parameters and all(type(k) is str and "\n" not in k for k in wanted):
            # One statement with every key as one text parameter, split by the server: psycopg2 quotes one string,
            # not one placeholder per key.
            return {row[0] for row in self._db.fetch(
                f"SELECT t.{column} FROM {layer} t JOIN unnest(string_to_array(?, E'\\n')) AS k(key) "
                f"ON t.{column} = k.key", ["\n".join(wanted)])}
        found: set[Any] = set()
        for batch in iter_chunks(wanted, KEYS_PER_LOOKUP):
            marks = ", ".join("?" * len(batch))
            found.update(row[0] for row in self._db.fetch(
                f"SELECT {column} FROM {layer} WHERE {column} IN ({marks})", batch))
        return found

    def road_columns(self) -> tuple[list[str], list[bytes], list[bool]]:
        """Every road's code, WKB geometry (WGS-84) and one-way flag, by code: the patrol network's input, read
        as plain columns (no record per road: building records would cost more than the read)."""
        rows = self._db.fetch(f"SELECT code, {self._db.wkb_sql('geom')}, oneway FROM roads ORDER BY code")
        return [r[0] for r in rows], [bytes(r[1]) for r in rows], [bool(r[2]) for r in rows]
