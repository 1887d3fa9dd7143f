"""The one door to stored data: :func:`open_store` picks the backend from the URL and gives a :class:`Store`.

A store is one repository per kind of data, each built only on the :class:`~mapserver.store.database.Database`
interface that a backend (:mod:`~mapserver.store.sqlite`, :mod:`~mapserver.store.postgis`) implements. All of
the project's SQL lives in this package. The whole public surface:

==================  =====================================================================================
``store.``          schema and transactions: ``kind``, ``url``, ``display_url``, ``transaction()``,
                    ``migrate()``, ``schema_version()``, ``ping()``, ``counts()``, ``close()``; where reads
                    go: ``stale_reads()``, ``primary_reads()``, ``replica_lags()``
``store.layers``    any layer (:mod:`~mapserver.store.layers`): ``add``, ``get``, ``query``, ``count``,
                    ``delete``, ``extent``, ``time_extent``, ``data_version``, ``stored_keys``,
                    ``road_columns``
``store.grids``     base grids (:mod:`~mapserver.store.grids`): ``of_level``, ``district_area``,
                    ``jurisdiction``, ``ancestors``, ``area``, ``descendants``
``store.incidents`` incidents (:mod:`~mapserver.store.incidents`): ``report``, ``add_columns``,
                    ``transition``, ``timeline``, ``query``, ``grid_rows``, ``set_grids``
``store.desk``      the work desk's queue (:mod:`~mapserver.store.desk`): ``counts``, ``page``
``store.measures``  incident measures (:mod:`~mapserver.store.measures`): ``kpis``, ``cell_counts``,
                    ``cell_period_counts``, ``grid_counts``, ``grid_risk_counts``, ``durations``
``store.panels``    the wall's panels (:mod:`~mapserver.store.panels`): ``latest``, ``grid_names``, ``day_counts``,
                    ``window``
``store.scorecards``  the unit scorecards' figures (:mod:`~mapserver.store.scorecards`): ``figures``
``store.assessment``  the grid workers' monthly assessment (:mod:`~mapserver.store.assessment`): ``workers``,
                    ``cases``, ``stops``, ``days``, ``keep_days``
``store.cameras``   camera liveness (:mod:`~mapserver.store.cameras`): ``query``, ``heartbeats``, ``all``,
                    ``max_range_m``
``store.camera_video``  cameras' stream and snapshot addresses (:mod:`~mapserver.store.camera_video`): ``get``,
                    ``set``, ``put_many``, ``with_stream``
``store.tokens``    API tokens (:mod:`~mapserver.store.tokens`): ``add``, ``by_hash``, ``live``, ``revoke``
``store.audit``     the audit trail (:mod:`~mapserver.store.audit`): ``append``, ``records``
``store.patrols``   saved patrol plans (:mod:`~mapserver.store.patrols`): ``save``, ``get``, ``list``,
                    ``version``
``store.tracks``    patrol tracks (:mod:`~mapserver.store.tracks`): ``add_fixes``, ``copy_fixes``, ``fix_before``,
                    ``fixes``, ``track``, ``live``, ``live_features``, ``person_within``, ``batch_answer``,
                    ``keep_batch_answer``,
                    ``start_patrol``, ``stop_patrol``, ``patrol``, ``open_patrol``, ``check_in``, ``check_ins``,
                    ``patrol_check_ins``
``store.accounts``  people who log in (:mod:`~mapserver.store.accounts`): ``add``, ``get``, ``list``,
                    ``set_password``, ``rehash``, ``set_role``, ``set_grid``, ``set_display_name``,
                    ``set_enabled``
``store.sessions``  browser sessions (:mod:`~mapserver.store.sessions`): ``begin``, ``find``, ``touch``,
                    ``end``, ``end_all``, ``count``, ``purge``
``store.login_failures``  failed logins (:mod:`~mapserver.store.sessions`): ``record``, ``since``, ``clear``
``store.divisions``  administrative divisions (:mod:`~mapserver.store.divisions`): ``get``, ``all``,
                    ``put_many``, ``streets``, ``below``
``store.tiles``     vector tiles of the stored layers for the wall (:mod:`~mapserver.store.vector_tiles`):
                    ``tile``
``store.photos``    photos of cases (:mod:`~mapserver.store.photos`): ``add``, ``for_incident``, ``version``,
                    ``get``, ``stored``, ``entry_action``, ``latest_entry``
==================  =====================================================================================

Coordinates are WGS-84 (EPSG:4326) longitude/latitude degrees; times are UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from mapserver.store.accounts import Accounts
from mapserver.store.assessment import AssessmentFigures
from mapserver.store.audit import AuditTrail
from mapserver.store.camera_video import CameraVideos
from mapserver.store.cameras import Cameras
from mapserver.store.common import LAYERS, TABLES
from mapserver.store.database import Database, StoreUnavailable, mask_url
from mapserver.store.desk import Desk
from mapserver.store.divisions import Divisions
from mapserver.store.grids import Grids
from mapserver.store.incidents import Incidents
from mapserver.store.layers import Layers
from mapserver.store.measures import IncidentMeasures
from mapserver.store.panels import PanelFigures
from mapserver.store.patrols import PatrolPlans
from mapserver.store.photos import Photos
from mapserver.store.scorecards import ScorecardFigures
from mapserver.store.sessions import LoginFailures, Sessions
from mapserver.store.tokens import Tokens
from mapserver.store.tracks import Tracks
from mapserver.store.vector_tiles import VectorTiles

SCHEMES = ("sqlite:///", "postgresql://", "postgres://")

__all__ = ["LAYERS", "SCHEMES", "Store", "StoreUnavailable", "open_store"]


class Store:
    """One door to the stored data, whatever the backend: the schema and transactions here, the data in one
    repository per kind (the table above)."""

    transaction: Callable[[], AbstractContextManager[None]]
    """Group writes of any repositories: everything inside commits together or not at all (nesting joins the
    outer one)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        """The backend under the repositories (SQL belongs in this package: elsewhere, use a repository)."""
        self.kind: str = database.kind
        self.url: str = database.url
        self.transaction = database.transaction  # the backend's own: one attribute hop on every write
        self.stale_reads = database.stale_reads
        """Within this block (on this thread) reads outside a transaction may come from one standby of
        ``store.read_url``, at most ``store.max_replica_lag_s`` behind; writes stay on the primary."""
        self.primary_reads = database.primary_reads
        """Within this block (on this thread) every read goes to the primary, even inside :attr:`stale_reads`."""
        self.replica_lags = database.replica_lags
        """Each standby's last measured lag in seconds (None: unknown or unreachable), by its masked URL."""
        self.layers = Layers(database)
        self.grids = Grids(database)
        self.divisions = Divisions(database)
        self.incidents = Incidents(database)
        self.measures = IncidentMeasures(database)
        self.panels = PanelFigures(database)
        self.desk = Desk(database)
        self.scorecards = ScorecardFigures(database)
        self.assessment = AssessmentFigures(database)
        self.cameras = Cameras(database)
        self.camera_video = CameraVideos(database)
        self.tokens = Tokens(database)
        self.audit = AuditTrail(database)
        self.patrols = PatrolPlans(database)
        self.tracks = Tracks(database)
        self.accounts = Accounts(database)
        self.sessions = Sessions(database)
        self.login_failures = LoginFailures(database)
        self.photos = Photos(database)
        self.tiles = VectorTiles(database)

    @property
    def display_url(self) -> str:
        """The store URL with its password masked."""
        return mask_url(self.url)

    def migrate(self, *, target: int | None = None) -> int:
        """Create the schema or upgrade it in place to ``target`` (default: the newest); return the version."""
        return self.database.migrate(target=target)

    def schema_version(self) -> int:
        """The schema version in the store; 0 when it has never been initialised. Raises StoreUnavailable for a
        store made before this program's baseline or by another program."""
        return self.database.schema_version()

    def ping(self) -> tuple[int, int | None]:
        """The schema version, and the database server's process id of the connection that answered
        (None for an embedded store, which has no server)."""
        return self.database.ping()

    def counts(self) -> dict[str, int]:
        """Rows per table, for health checks."""
        return {table: self.database.count_table(table) for table in TABLES}

    def close(self) -> None:
        """Release connections held by this process."""
        self.database.close()


def open_store(url: str, *, pool_max: int = 8, connect_timeout_s: int = 5, read_urls: Sequence[str] = (),
               max_replica_lag_s: float = 5.0) -> Store:
    """Open the store at ``url``: ``sqlite:///path.db`` (embedded) or ``postgresql://…`` (PostGIS; libpq's
    multi-host form finds the primary among several hosts with ``?target_session_attrs=read-write``).

    ``read_urls``: PostGIS standbys (each URL may name several hosts) that serve the reads of
    :meth:`Store.stale_reads` blocks while at most ``max_replica_lag_s`` seconds behind.

    Raises :class:`StoreUnavailable` for an unknown scheme (listing the supported
    ones) or a store that cannot be reached (with the password masked).
    """
    # A backend (and its driver) is loaded when a store of its kind is opened, not with the package.
    if url.startswith("sqlite:///"):
        from mapserver.store.sqlite import SQLiteDatabase

        return Store(SQLiteDatabase(url))
    if url.startswith(("postgresql://", "postgres://")):
        from mapserver.store.postgis import PostGISDatabase

        return Store(PostGISDatabase(url, pool_max=pool_max, connect_timeout_s=connect_timeout_s,
                                     read_urls=read_urls, max_replica_lag_s=max_replica_lag_s))
    raise StoreUnavailable(
        f"unsupported store URL {mask_url(url)!r}; use one of: sqlite:///path.db, postgresql://user@host:port/db"
    )
