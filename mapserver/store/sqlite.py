"""The embedded store: stdlib ``sqlite3`` with R*Tree bounding-box indexes.

One connection per thread and process (SQLite connections must not cross
either), WAL journal so readers never wait for the writer. Bounding-box
queries use the R*Tree, then shapely decides exact intersection, so answers
match PostGIS ``ST_Intersects``. Every connection registers
``mapserver_intersects(wkb, wkb)`` (:class:`GeometryTest`), so that a statement
can keep rows whose geometry meets an area it reads (a jurisdiction's grid:
:meth:`SQLiteDatabase.in_grid_area`). The schema version is ``PRAGMA user_version``.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.model import RECORD_TYPES, field_names
from mapserver.store.common import (
    KEYS,
    POINT_LAYERS,
    BBox,
    Condition,
    box_around,
    order_sql,
    record_from_row,
    record_to_row,
    sphere_distance_m,
    utc,
)
from mapserver.store.database import Database, KeepNothing, StoreUnavailable, TokenMemo
from mapserver.store.incident_batch import NAT, TIME_FIELDS, IncidentBatch, json_column
from mapserver.store.incident_summary import bucket_of_seconds_sql
from mapserver.store.sqlite_schema import MIGRATIONS, SPATIAL_TABLES, stored_version, upgrade


def _columns(layer: str) -> tuple[str, ...]:
    return field_names(RECORD_TYPES[layer])


def _sql_value(value: Any) -> Any:
    # Times are kept as ISO 8601 UTC text, which sorts in time order.
    if hasattr(value, "isoformat") and hasattr(value, "tzinfo"):
        return utc(value).isoformat(timespec="microseconds")
    return value


def _incident_column(batch: IncidentBatch, name: str) -> list[Any]:
    """One column of a batch as _insert would write it."""
    if name == "geom":
        return shapely.to_wkb(batch.points(), output_dimension=2).tolist()
    if name in TIME_FIELDS:
        values = batch[name]
        text = np.char.add(np.datetime_as_string(values.astype("datetime64[us]"), unit="us"), "+00:00").tolist()
        return [None if t == NAT else s for t, s in zip(values.tolist(), text, strict=True)]
    if name == "extra":
        return json_column(batch[name])
    return batch[name].tolist()


class GeometryTest:
    """``mapserver_intersects(geom, area)``, an SQL function of two WKB blobs (WGS-84): 1 when they intersect, 0
    when not or when either is NULL, as PostGIS ``ST_Intersects``.

    The area is one value for a whole statement (a subquery's), so the last one is kept prepared and compared by
    its bytes: each row then costs one WKB decode and one prepared test. One per connection, so per thread.
    """

    def __init__(self) -> None:
        self._area_wkb: bytes | None = None
        self._area: BaseGeometry | None = None

    def __call__(self, geom: bytes | None, area: bytes | None) -> int:
        if geom is None or area is None:
            return 0
        if area != self._area_wkb:
            self._area = shapely.from_wkb(area)
            shapely.prepare(self._area)
            self._area_wkb = bytes(area)
        return int(self._area.intersects(shapely.from_wkb(geom)))


class GeometryRelate:
    """``mapserver_relate(relation, geom, area)``: 1 when WKB ``geom`` stands in ``relation`` (intersects, within,
    contains, disjoint, equals, touches, crosses, overlaps) to WKB ``area``, 0 when not or either is NULL, as
    PostGIS's ``ST_Intersects`` and its kin. The area is one literal for a whole statement: kept prepared, as in
    :class:`GeometryTest`."""

    def __init__(self) -> None:
        self._area_wkb: bytes | None = None
        self._area: BaseGeometry | None = None

    def __call__(self, relation: str, geom: bytes | None, area: bytes | None) -> int:
        if geom is None or area is None:
            return 0
        if area != self._area_wkb:
            self._area = shapely.from_wkb(area)
            shapely.prepare(self._area)
            self._area_wkb = bytes(area)
        row = shapely.from_wkb(geom)
        # The prepared area asks each question from its side: geom within area is area contains geom.
        if relation == "within":
            return int(self._area.contains(row))
        if relation == "contains":
            return int(self._area.within(row))
        return int(getattr(self._area, relation)(row))


RELATE_FUNCTION = "mapserver_relate"
RELATIONS = frozenset({"intersects", "within", "contains", "disjoint", "equals", "touches", "crosses", "overlaps"})
PROGRESS_STEPS = 10_000
"""SQLite virtual-machine steps between two looks at the clock while a read runs under a time limit."""
_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


def like_as_glob(pattern: str) -> str:
    """A CQL2 LIKE pattern (``%``, ``_``, ``\\`` escapes) as the SQLite GLOB pattern that matches the same texts,
    case-sensitively as CQL2's LIKE is (SQLite's own LIKE ignores the case of ASCII letters)."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(_GLOB_SPECIAL.get(char, char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_GLOB_SPECIAL.get(char, char))
    if escaped:  # a lone backslash at the end stands for itself
        out.append("\\")
    return "".join(out)


INTERSECTS_FUNCTION = "mapserver_intersects"
DISTANCE_FUNCTION = "mapserver_distance_m"
POINT_X_FUNCTION = "mapserver_point_x"
POINT_Y_FUNCTION = "mapserver_point_y"


def point_x(geom: bytes | None) -> float | None:
    """``mapserver_point_x(geom)``: the longitude of a WKB point, exactly as stored (the double at byte 5 of the
    little-endian 2-D WKB this store writes, which the schema's triggers read with SQL alone)."""
    return _point_double(geom, 5)


def point_y(geom: bytes | None) -> float | None:
    """``mapserver_point_y(geom)``: the latitude of a WKB point, as :func:`point_x`."""
    return _point_double(geom, 13)


def _point_double(geom: bytes | None, offset: int) -> float | None:
    if geom is None:
        return None
    if len(geom) == 21 and geom[0] == 1:
        return struct.unpack_from("<d", geom, offset)[0]
    point = shapely.from_wkb(geom)  # another writer's WKB (big-endian, 3-D): read it whole
    return point.x if offset == 5 else point.y


def point_distance_m(geom: bytes | None, lon: float, lat: float) -> float | None:
    """``mapserver_distance_m(geom, lon, lat)``: metres on PostGIS's sphere from a WKB point to (lon, lat), as
    ``ST_DistanceSphere``; NULL for a NULL geometry."""
    if geom is None:
        return None
    point = shapely.from_wkb(geom)
    return sphere_distance_m(point.x, point.y, lon, lat)


class SQLiteDatabase(Database):
    """One SQLite file (``sqlite:///path.db``)."""

    kind = "sqlite"
    grouping_sets = False
    percentile_aggregate = False
    array_parameters = False
    month_partitions = False
    lateral_json = False
    mvt_sql = False

    def __init__(self, url: str) -> None:
        self.url = url
        path = url.removeprefix("sqlite:///")
        self.path = path if path == ":memory:" else str(Path(path))
        if self.path != ":memory:":
            folder = Path(self.path).parent
            if not folder.is_dir():
                raise StoreUnavailable(f"cannot open {url}: folder {folder} does not exist")
        self._local = threading.local()
        self._tokens = KeepNothing()  # another process's revocation would go unnoticed: keep no token
        self._connection()  # fail now, with the path, rather than on the first request

    # -- connections ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.create_function(INTERSECTS_FUNCTION, 2, GeometryTest(), deterministic=True)
            conn.create_function(DISTANCE_FUNCTION, 3, point_distance_m, deterministic=True)
            conn.create_function(RELATE_FUNCTION, 3, GeometryRelate(), deterministic=True)
            conn.create_function(POINT_X_FUNCTION, 1, point_x, deterministic=True)
            conn.create_function(POINT_Y_FUNCTION, 1, point_y, deterministic=True)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {self.url}: {exc}") from None
        self._local.conn, self._local.pid, self._local.depth = conn, os.getpid(), 0
        return conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._connection()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        # BEGIN IMMEDIATE takes the write lock now, so two writers queue instead of failing mid-way.
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._connection().execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise Problem(409, f"conflicts with stored data: {exc}") from None

    # -- schema -----------------------------------------------------------------

    def ping(self) -> tuple[int, int | None]:
        return self.schema_version(), None

    def schema_version(self) -> int:
        return stored_version(self._connection(), self.display_url)

    def migrate(self, *, target: int | None = None) -> int:
        return upgrade(self.transaction, self._connection(), MIGRATIONS, target=target, where=self.display_url)

    # -- layers -----------------------------------------------------------------

    def insert(self, layer: str, records: Sequence[Any]) -> int:
        columns = [c for c in _columns(layer) if not (layer == "grid_staff" and c == "id")]
        sql = f"INSERT INTO {layer} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        spatial = layer in SPATIAL_TABLES
        rtree_sql = f"INSERT INTO {layer}_rtree (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)"
        conn = self._connection()
        for number, record in enumerate(records, start=1):
            row = record_to_row(record)
            try:
                cursor = conn.execute(sql, [_sql_value(row[c]) for c in columns])
            except sqlite3.IntegrityError as exc:
                key = KEYS[layer]
                raise Problem(409, f"{layer} row {number}: {key} {row.get(key)!r} already exists or breaks a rule "
                                   f"({exc}); nothing was written", param=key) from None
            if spatial:
                minx, miny, maxx, maxy = record.geom.bounds
                self._execute(rtree_sql, (cursor.lastrowid, minx, maxx, miny, maxy))
        return len(records)

    def copy_incident_columns(self, batches: Iterator[IncidentBatch], rows: int) -> int:
        # The same values _insert writes for records (times as ISO 8601 UTC text with microseconds, points as
        # WKB, extra as sorted JSON), made column by column; then each row's box in the R*Tree by its rowid.
        columns = _columns("incidents")
        insert = f"INSERT INTO incidents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        conn = self._connection()
        conn.execute("SAVEPOINT mapserver_copy")  # undone alone if a batch raises: the caller may read on
        try:
            written = self._insert_batches(conn, batches, insert, columns)
        except BaseException:
            conn.execute("ROLLBACK TO SAVEPOINT mapserver_copy")
            conn.execute("RELEASE SAVEPOINT mapserver_copy")
            raise
        conn.execute("RELEASE SAVEPOINT mapserver_copy")
        return written

    def _insert_batches(self, conn: sqlite3.Connection, batches: Iterator[IncidentBatch], insert: str,
                        columns: list[str]) -> int:
        written = 0
        for batch in batches:
            values = [_incident_column(batch, name) for name in columns]
            last = conn.execute("SELECT coalesce(max(rowid), 0) FROM incidents").fetchone()[0]
            try:
                conn.executemany(insert, zip(*values, strict=True))
            except sqlite3.IntegrityError as exc:
                raise Problem(409, f"incidents: an id already exists or a row breaks a rule ({exc}); nothing was "
                                   "written", param="id") from None
            position = {incident_id: k for k, incident_id in enumerate(batch["id"].tolist())}
            lon, lat = batch.lon.tolist(), batch.lat.tolist()
            boxes = []
            for rowid, incident_id in conn.execute("SELECT rowid, id FROM incidents WHERE rowid > ?", (last,)):
                k = position[incident_id]
                boxes.append((rowid, lon[k], lon[k], lat[k], lat[k]))
            conn.executemany("INSERT INTO incidents_rtree (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
                             boxes)
            written += len(batch)
        return written

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                  key: Sequence[str] = ()) -> int:
        skip = f" ON CONFLICT ({', '.join(key)}) DO NOTHING" if key else ""
        conn = self._connection()
        before = conn.total_changes
        try:
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                             f"{skip}", ([_sql_value(v) for v in row] for row in rows))
        except sqlite3.IntegrityError as exc:
            raise Problem(409, f"{table}: a row is stored already or breaks a rule ({exc}); nothing was written") \
                from None
        return conn.total_changes - before

    def _where_sql(self, layer: str, bbox: BBox | None, where: dict[str, Any],
                   conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for column, value in where.items():
            clauses.append(f"t.{column} = ?")
            params.append(value)
        for text, values in conditions:
            clauses.append(f"({text})")
            params += [_sql_value(v) for v in values]
        join = ""
        if bbox is not None:
            minx, miny, maxx, maxy = bbox
            join = f" JOIN {layer}_rtree r ON r.id = t.rowid"
            clauses.append("r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?")
            params += [minx, maxx, miny, maxy]
        return join + (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def select(self, layer: str, *, bbox: BBox | None, where: dict[str, Any], limit: int | None,
               offset: int, conditions: Sequence[Condition] = (), order_by: str | None = None) -> list[Any]:
        tail, params = self._where_sql(layer, bbox, where, conditions)
        order = order_sql(layer, order_by, prefix="t.")
        query = f"SELECT t.* FROM {layer} t{tail} ORDER BY {order}"
        # A point's bounding box is the point: the R*Tree answer is exact and paging can stay in SQL.
        exact_in_sql = bbox is None or layer in POINT_LAYERS
        if exact_in_sql and limit is not None:
            query += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        records = [record_from_row(layer, dict(row)) for row in self._execute(query, params)]
        if exact_in_sql:
            return records
        # The R*Tree gave candidates by bounding box; keep those that truly intersect.
        box = shapely.box(*bbox)
        records = [r for r in records if box.intersects(r.geom)]
        return records[offset:None if limit is None else offset + limit]

    def count(self, layer: str, *, bbox: BBox | None, where: dict[str, Any],
              conditions: Sequence[Condition] = ()) -> int:
        if bbox is not None and layer not in POINT_LAYERS:
            return len(self.select(layer, bbox=bbox, where=where, limit=None, offset=0, conditions=conditions))
        tail, params = self._where_sql(layer, bbox, where, conditions)
        return int(self._execute(f"SELECT count(*) FROM {layer} t{tail}", params).fetchone()[0])

    def delete(self, layer: str, keys: Sequence[Any]) -> int:
        marks = ", ".join("?" * len(keys))
        return self._execute(f"DELETE FROM {layer} WHERE {KEYS[layer]} IN ({marks})", list(keys)).rowcount

    def count_table(self, table: str) -> int:
        return int(self._execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def extent(self, layer: str, where: dict[str, Any], conditions: Sequence[Condition] = ()) -> BBox | None:
        # The R*Tree twin holds each row's box (32-bit floats rounded outward): no geometry is decoded.
        tail, params = self._where_sql(layer, None, where, conditions)
        row = self._execute(f"SELECT MIN(r.minx), MIN(r.miny), MAX(r.maxx), MAX(r.maxy) FROM {layer} t "
                            f"JOIN {layer}_rtree r ON r.id = t.rowid{tail}", params).fetchone()
        return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))

    def data_version(self, layer: str) -> int:
        row = self._execute("SELECT version FROM data_versions WHERE layer = ?", (layer,)).fetchone()
        return int(row[0]) if row else 0

    def bump_version(self, layer: str) -> None:
        self._execute(
            "INSERT INTO data_versions (layer, version) VALUES (?, 1) "
            "ON CONFLICT (layer) DO UPDATE SET version = version + 1",
            (layer,),
        )

    # -- portable SQL -----------------------------------------------------------

    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._execute(query, [_sql_value(p) for p in params])]

    def read(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.fetch(query, params)  # an embedded database: no round trip to save

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        return self._execute(query, [_sql_value(p) for p in params]).rowcount

    # SQLite sends nothing over a network: a write left for the commit is run now.
    def execute_at_commit(self, query: str, params: Sequence[Any] = ()) -> None:
        self.execute(query, params)

    def insert_at_commit(self, layer: str, record: Any) -> None:
        self.insert(layer, [record])

    def in_grid_area(self, layer: str, code: str) -> Condition:
        # Candidates first: rows whose R*Tree box meets the grid's (an index lookup); then the exact test on those.
        # Statements here name the layer's table t (select, count, extent).
        return (f"t.rowid IN (SELECT r.id FROM grids g JOIN grids_rtree gr ON gr.id = g.rowid "
                f"JOIN {layer}_rtree r ON r.maxx >= gr.minx AND r.minx <= gr.maxx AND r.maxy >= gr.miny "
                f"AND r.miny <= gr.maxy WHERE g.code = ?) "
                f"AND {INTERSECTS_FUNCTION}(t.geom, (SELECT a.geom FROM grids a WHERE a.code = ?))", (code, code))

    def box_condition(self, layer: str, bbox: BBox) -> Condition:
        # The R*Tree's boxes: exact for points (as select() takes them), candidates for other geometries.
        west, south, east, north = bbox
        return (f"t.rowid IN (SELECT id FROM {layer}_rtree WHERE maxx >= ? AND minx <= ? AND maxy >= ? "
                f"AND miny <= ?)", (west, east, south, north))

    def near_condition(self, layer: str, lon: float, lat: float, radius_m: float) -> Condition:
        # Candidates by the R*Tree (an index lookup), then the exact sphere distance on those. Statements here name
        # the layer's table t.
        west, south, east, north = box_around(lon, lat, radius_m)
        return (f"t.rowid IN (SELECT id FROM {layer}_rtree WHERE maxx >= ? AND minx <= ? AND maxy >= ? "
                f"AND miny <= ?) AND {DISTANCE_FUNCTION}(t.geom, ?, ?) <= ?",
                (west, east, south, north, lon, lat, radius_m))

    def like_condition(self, column: str, pattern: str) -> Condition:
        return f"{column} GLOB ?", (like_as_glob(pattern),)

    def relate_condition(self, layer: str, relation: str, wkb: bytes) -> Condition:
        if relation not in RELATIONS:
            raise ValueError(f"no spatial relation {relation}")
        exact = f"{RELATE_FUNCTION}(?, t.geom, ?)"
        if relation == "disjoint":  # the rows the area's box misses are answers too: no index to help
            return exact, (relation, wkb)
        # Every other relation needs the boxes to meet: the R*Tree finds those rows, the exact test decides.
        minx, miny, maxx, maxy = shapely.from_wkb(wkb).bounds
        return (f"t.rowid IN (SELECT id FROM {layer}_rtree WHERE maxx >= ? AND minx <= ? AND maxy >= ? "
                f"AND miny <= ?) AND {exact}", (minx, maxx, miny, maxy, relation, wkb))

    @contextmanager
    def time_limit(self, seconds: float) -> Iterator[None]:
        conn = self._connection()
        deadline = time.monotonic() + seconds
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            raise Problem(400, f"the query took longer than the {seconds:g} s a read may run and was stopped; "
                               "narrow it (a bbox, a time window, fewer conditions)", param="filter") from None
        finally:
            conn.set_progress_handler(None, 0)

    def wkb_sql(self, column: str) -> str:
        return column

    def point_sql(self, column: str) -> tuple[str, str]:
        return f"{POINT_X_FUNCTION}({column})", f"{POINT_Y_FUNCTION}({column})"

    def seconds_between(self, start: str, end: str) -> str:
        return f"((julianday({end}) - julianday({start})) * 86400.0)"

    def duration_bucket_sql(self, end: str) -> str:
        return bucket_of_seconds_sql(self.seconds_between("reported_at", end))

    def token_memo(self) -> TokenMemo:
        return self._tokens
