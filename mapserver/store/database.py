"""The one interface a database backend implements: every primitive the repositories are built on.

A backend subclasses :class:`Database` and defines every primitive declared here. One that leaves a
primitive out is refused when its ``class`` statement runs (a ``TypeError`` naming what is missing), not on the
first request that needs it. The repositories (:mod:`mapserver.store`) call only these primitives, with SQL in
the portable form: ``?`` placeholders, column and table names written by this package, never taken from a
request. Where the dialects differ beyond what a primitive hides, a repository chooses by the facts the backend
states (:data:`DIALECT`).

Coordinates are WGS-84 (EPSG:4326) longitude/latitude degrees; times are UTC.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

from mapserver.store.common import BBox, Condition
from mapserver.store.incident_batch import IncidentBatch

SCHEMA_VERSION = 13
"""The schema version this code reads and writes; each backend has as many migrations, the first its baseline."""


class StoreUnavailable(Exception):
    """The store cannot be opened or reached; the message carries the URL with its password masked."""


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class TokenMemo(Protocol):
    """What one process keeps of the tokens it found by hash, dropped whenever the tokens table changes."""

    def find(self, token_hash: str) -> tuple[Any | None, int | None]:
        """The token kept for this hash (None: not kept), and the generation to give :meth:`keep` with a token
        read from the table instead (None: keep nothing now)."""

    def keep(self, token_hash: str, token: Any, generation: int | None) -> None:
        """Keep a token read from the table, unless the table changed since ``generation`` was taken."""

    def forget(self) -> None:
        """Drop everything kept (this process is changing the tokens table)."""


class KeepNothing:
    """The memo of a backend that cannot learn of another process's change to the tokens: it keeps nothing."""

    def find(self, token_hash: str) -> tuple[Any | None, int | None]:
        return None, None

    def keep(self, token_hash: str, token: Any, generation: int | None) -> None:
        return None

    def forget(self) -> None:
        return None


DIALECT: dict[str, type] = {"kind": str, "grouping_sets": bool, "percentile_aggregate": bool,
                             "array_parameters": bool, "month_partitions": bool, "lateral_json": bool,
                             "mvt_sql": bool}
"""The facts of its SQL dialect a backend states as class attributes, with their types: repositories choose their
SQL by these, never by the backend's name, so a new backend cannot silently take another's path."""


class Database(ABC):
    """A store's database: transactions, portable SQL, layer rows, bulk writes, versions, schema and dialect."""

    kind: ClassVar[str]
    """The backend's name (``sqlite``, ``postgis``), for messages and for tests of one backend's internals."""
    grouping_sets: ClassVar[bool]
    """Whether ``GROUP BY GROUPING SETS`` is understood: the measures then count two groupings in one scan."""
    percentile_aggregate: ClassVar[bool]
    """Whether ``percentile_cont(…) WITHIN GROUP`` is understood: else the measures rank the rows themselves."""
    array_parameters: ClassVar[bool]
    """Whether one parameter may carry many keys (``unnest(?::text[])``, ``string_to_array``): else keys go in
    batches of placeholders."""
    lateral_json: ClassVar[bool]
    """Whether ``CROSS JOIN LATERAL`` and the JSON aggregates (``json_agg``, ``json_build_object``) are understood: a
    key's latest few rows found by an index probe each, and the answer written as JSON by the database; else a
    window over the rows ranks them and the JSON is written here."""
    month_partitions: ClassVar[bool]
    """Whether the positions and incidents tables are partitioned by month, each partition made before a write
    needs it (:mod:`~mapserver.store.month_partitions`): else one table holds every month."""
    mvt_sql: ClassVar[bool]
    """Whether ``ST_AsMVT``/``ST_AsMVTGeom`` and the Web Mercator functions are understood: the database then
    writes vector tiles and groups their clusters itself; else the rows are read and encoded in Python
    (:mod:`~mapserver.store.vector_tiles`)."""
    url: str
    """Where the database is, as given to :func:`~mapserver.store.open_store` (with its password)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = sorted(name for name in Database.__abstractmethods__
                         if getattr(getattr(cls, name), "__isabstractmethod__", False))
        missing[:0] = [name for name, kind in DIALECT.items() if not isinstance(getattr(cls, name, None), kind)]
        if missing:
            raise TypeError(f"database backend {cls.__name__} leaves out {', '.join(missing)}: a backend defines "
                            "every primitive of mapserver.store.database.Database")

    @property
    def display_url(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.url)

    # -- transactions and portable SQL ---------------------------------------------------------------------

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: everything inside commits together or not at all (nesting joins the outer one)."""

    @abstractmethod
    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a portable SQL query, in the current transaction or in one of its own."""

    @abstractmethod
    def read(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read-only portable SQL query: in the current transaction, else alone in the fewest round
        trips the backend can (a server backend may run it once more on a fresh connection when the server
        dropped the first: safe for a read only)."""

    @abstractmethod
    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        """Run a portable SQL statement; return the rows it touched."""

    @abstractmethod
    def execute_at_commit(self, query: str, params: Sequence[Any] = ()) -> None:
        """Run a portable SQL write whose outcome the caller does not read, at the latest when the current
        transaction commits (a backend may send it with the COMMIT); what it refuses refuses the whole
        transaction. Statements later in the same transaction may not see it."""

    # -- layer rows ---------------------------------------------------------------------------------------

    @abstractmethod
    def insert(self, layer: str, records: Sequence[Any]) -> int:
        """Write checked, normalised records of a layer (:func:`~mapserver.store.common.normalise`); return how
        many. A 409 problem when a key is stored already (then the transaction writes nothing)."""

    @abstractmethod
    def insert_at_commit(self, layer: str, record: Any) -> None:
        """Write one checked, normalised record at the latest when the current transaction commits, as
        :meth:`execute_at_commit` runs a statement (a report's incident, with its event and version bump)."""

    @abstractmethod
    def copy_incident_columns(self, batches: Iterator[IncidentBatch], rows: int) -> int:
        """Write incidents given as columns (``rows`` of them in ``batches``, consumed while the write runs) in the
        current transaction, the same rows :meth:`insert` writes for their records; return how many. What a
        batch raises, or a 409 for a stored id, is raised with nothing written, and the transaction can still
        be read in."""

    @abstractmethod
    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                  key: Sequence[str] = ()) -> int:
        """Append ``rows`` (values in ``columns`` order: text, numbers, UTC datetimes, None) to ``table`` in the
        current transaction by the backend's bulk path (COPY on PostGIS), consumed as they are written; return how
        many rows were written. With ``key`` (a unique key of the table), a row whose key is stored already is
        left out (on PostGIS the rows go through a temporary table first); without, such a row refuses the whole
        write. Table and column names are this package's own."""

    @abstractmethod
    def select(self, layer: str, *, bbox: BBox | None, where: dict[str, Any], limit: int | None, offset: int,
               conditions: Sequence[Condition] = (), order_by: str | None = None) -> list[Any]:
        """Records of a checked layer whose geometry intersects ``bbox`` (exactly), whose columns equal ``where``
        (checked against FILTERABLE) and that meet ``conditions``; in ``order_by`` (checked by
        :func:`~mapserver.store.common.order_sql`, default the key), paged by ``limit`` and ``offset``."""

    @abstractmethod
    def count(self, layer: str, *, bbox: BBox | None, where: dict[str, Any],
              conditions: Sequence[Condition] = ()) -> int:
        """How many records :meth:`select` would return without a limit."""

    @abstractmethod
    def delete(self, layer: str, keys: Sequence[Any]) -> int:
        """Delete the records of a checked layer with these keys; return how many went."""

    @abstractmethod
    def extent(self, layer: str, where: dict[str, Any], conditions: Sequence[Condition] = ()) -> BBox | None:
        """The bounding box of the geometries of a checked layer whose columns equal ``where`` and that meet
        ``conditions``; None when none match. A backend may round it outward (SQLite's R*Tree: up to about
        3e-5°), never inward."""

    @abstractmethod
    def count_table(self, table: str) -> int:
        """Rows in one of the store's tables (a name from :data:`~mapserver.store.common.TABLES`)."""

    # -- data versions ------------------------------------------------------------------------------------

    @abstractmethod
    def data_version(self, layer: str) -> int:
        """A number that grows with every committed write to ``layer`` (and this transaction's own bump)."""

    @abstractmethod
    def bump_version(self, layer: str) -> None:
        """Count a write to ``layer``: with the current transaction's commit, else at once."""

    # -- dialect -------------------------------------------------------------------------------------------

    @abstractmethod
    def in_grid_area(self, layer: str, code: str) -> Condition:
        """A condition for :meth:`select`, :meth:`count` and :meth:`extent` of a checked spatial layer: the row's
        geometry intersects the polygon of the grid ``code``, read from the grids table in the same statement
        (no row when there is no such grid)."""

    @abstractmethod
    def in_streets_area(self, layer: str, streets_sql: str, params: tuple[Any, ...]) -> Condition:
        """A condition as :meth:`in_grid_area` for the area of several grids: the row's geometry intersects the
        polygon of one of the grids whose codes ``streets_sql`` (a subquery written by this package, with
        ``params``) selects, which is to intersect their union; each grid's polygon finds its rows by the
        layer's spatial index."""

    @abstractmethod
    def box_condition(self, layer: str, bbox: BBox) -> Condition:
        """A condition for a statement over a checked spatial layer named ``t``: the row's geometry meets ``bbox``
        (west, south, east, north degrees), found by the spatial index. Exact for points and on PostGIS; on
        SQLite other geometries are candidates by their boxes, for an exact test after reading."""

    @abstractmethod
    def near_condition(self, layer: str, lon: float, lat: float, radius_m: float) -> Condition:
        """A condition for :meth:`select` and :meth:`count` of a point layer: the row's point lies within
        ``radius_m`` metres (great circle) of (lon, lat) WGS-84; its spatial index finds the candidates by box."""

    @abstractmethod
    def like_condition(self, column: str, pattern: str) -> Condition:
        """A condition: text ``column`` (``t.name``) matches the CQL2 ``LIKE`` ``pattern`` (``%`` any run, ``_``
        one character, ``\\`` makes the next one literal), case-sensitively; the pattern travels as a value."""

    @abstractmethod
    def relate_condition(self, layer: str, relation: str, wkb: bytes) -> Condition:
        """A condition for :meth:`select` and :meth:`count` of a checked spatial layer (named ``t``): the row's
        geometry stands in ``relation`` (``intersects``, ``within``, ``contains``, ``disjoint``, ``equals``,
        ``touches``, ``crosses``, ``overlaps``, as the OGC simple-features predicates) to the valid WGS-84
        geometry ``wkb``; the layer's spatial index finds the candidates wherever the relation allows."""

    @abstractmethod
    def time_limit(self, seconds: float) -> AbstractContextManager[None]:
        """Each read inside runs at most ``seconds`` (on a server backend all in one transaction, with its
        statement time-out); past that the statement is stopped and a 400 problem says so: no query runs away."""

    @abstractmethod
    def wkb_sql(self, column: str) -> str:
        """SQL reading a geometry column as WKB."""

    @abstractmethod
    def point_sql(self, column: str) -> tuple[str, str]:
        """SQL reading the longitude and latitude (WGS-84 degrees, exactly as stored) of a point column."""

    @abstractmethod
    def seconds_between(self, start: str, end: str) -> str:
        """SQL for the seconds from timestamp column ``start`` to ``end``."""

    @abstractmethod
    def duration_bucket_sql(self, end: str) -> str:
        """SQL for the summary's histogram bucket of the seconds from ``reported_at`` to column ``end``, as the
        schema's triggers compute it (:mod:`~mapserver.store.incident_summary`)."""

    @abstractmethod
    def token_memo(self) -> TokenMemo:
        """This process's memo of tokens found by hash (:class:`KeepNothing` when the backend cannot tell when
        another process changes the tokens table)."""

    # -- schema and connections ---------------------------------------------------------------------------

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version in the store; 0 when it has never been initialised."""

    @abstractmethod
    def migrate(self, *, target: int | None = None) -> int:
        """Create the schema or upgrade it in place to ``target`` (default: the newest); return the version."""

    @abstractmethod
    def ping(self) -> tuple[int, int | None]:
        """The schema version, and the database server's process id of the connection that answered (None for
        an embedded database, which has no server)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections held by this process."""

    # -- where reads go -------------------------------------------------------------------------------------

    def stale_reads(self) -> AbstractContextManager[None]:
        """Within this block, on this thread, reads outside a transaction may be answered by one standby (chosen
        once for the block, so a data version and the rows read after it come from the same copy), as far behind
        the primary as the backend allows; a backend without standbys reads as ever. Writes, reads inside a
        transaction and reads within :meth:`primary_reads` stay on the primary."""
        return nullcontext()

    def primary_reads(self) -> AbstractContextManager[None]:
        """Within this block, on this thread, every read goes to the primary, even inside :meth:`stale_reads`
        (what a process derives and keeps by data version must be built from the data of that version)."""
        return nullcontext()

    def replica_lags(self) -> dict[str, float | None]:
        """Each standby's last measured lag in seconds (None: unknown or unreachable), by its masked URL; empty
        without standbys."""
        return {}
