"""Mapbox Vector Tiles (MVT 2.1) of the stored layers, for the wall: every feature of a tile in detail, or, when a
tile holds more than its layer allows, clusters that count them.

A tile is asked for by its :class:`~mapserver.store.tile_grid.TileAddress` and one :class:`TileLayer` per MVT
layer it holds (a layer of the store, filters, the asker's jurisdiction). What lies in it is what
``store.layers.query(layer, bbox=tile.bounds(), within=…)`` returns: the rows whose geometry intersects the
tile's rectangle (WGS-84). Geometries are not clipped to the tile (a grid crossing four tiles is whole in each),
so the page can draw each feature once, by its ``id``. Coordinates are tile units, 0 … 4096 from the tile's
north-west corner, on Web Mercator (EPSG:3857) from the stored WGS-84; no GCJ-02 shift.

PostGIS writes detail tiles with ``ST_AsMVT``/``ST_AsMVTGeom``; SQLite reads the rows (R*Tree candidates, exact
test with shapely) and ``mapbox-vector-tile`` encodes them here. Both give the same features with the same
properties: the derived ones (a camera's status now, an incident's warning colour) are the same SQL ``CASE`` on
both, times are whole seconds since 1970 (UTC).

Clusters, grouped in SQL on both backends: the tile is cut into 4 × 4 cells (64 pixels of a 256-pixel tile, 128 of
the wall's 512-pixel ones: discs closer than that would overlap and hide their counts), each the tile two zooms
deeper; each non-empty cell is one point feature at the mean position of its members, with
``n`` (how many) and ``n_<class>`` per class of the layer (camera status; incident warning colour, else closed or
open). What a cluster counts:

* points: those in the tile whose Web Mercator position (from their exact stored coordinates, by the same SQL
  formula on both backends) falls in one of its cells, at that position; a point on the tile's east or south edge
  is the next tile's;
* areas and lines: those whose bounding box meets the tile, at the centre of their box, in the cell nearest to it.
  The box is the float32 one each backend keeps (PostGIS's cached box of the geometry, SQLite's R*Tree row), rounded
  outward alike, so no geometry is read whole and both backends count the same features;
* the wall's incidents of a time window (no other filter, the whole store) at zoom ≤ 11, where each cell is a block
  of zoom-13 tiles: their closed ones of the window's whole UTC days are summed from ``incident_tile_cells`` (per
  day and zoom-13 tile, kept by the schema's triggers), the open ones and the closed ones of the window's first,
  partial day read row by row. The same clusters as every row gives: the same cells and counts, positions within a
  tile unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store.common import POINT_LAYERS, Condition, check_layer, check_where, utc
from mapserver.store.database import Database
from mapserver.store.incident_summary import whole_days
from mapserver.store.scoping import scope_conditions
from mapserver.store.tile_grid import (
    CELL_ZOOM,
    EXTENT,
    TileAddress,
    column_sql,
    mercator_sql,
    row_sql,
    to_tile_units,
)

CELLS = 4
"""Clusters per tile side."""
CELL_LEVELS = 2
"""A cluster cell is the tile CELL_LEVELS zooms deeper (2^2 = CELLS)."""
CLUSTER_SUFFIX = "_clusters"
"""The MVT layer of a layer's clusters is its name and this."""
SECTOR_ZOOM = 14
"""Tiles from this zoom on give cameras their view sector (direction, field of view, range): the wall draws
sectors from map zoom 16, and below they would be a third of a camera's bytes."""
TIME_PROPERTIES = frozenset({"last_seen", "reported_at"})
"""Properties that are times: whole seconds since 1970-01-01 UTC in a tile."""
CLASSES: dict[str, tuple[str, ...]] = {
    "cameras": ("online", "offline", "fault", "unknown"),
    "incidents": ("purple", "red", "yellow", "green", "closed", "open"),
}
"""The classes a cluster counts, per layer (others: ``n`` alone)."""
TILE_WORK_MEM = "32MB"
"""PostGIS: the work_mem of a tile's transaction."""
WINDOW_COUNT_MAX = 200_000
"""SQLite: a time window is counted up to this many rows when choosing whether to read a tile from it."""

_CAMERA_STATUS = ("CASE WHEN t.status = 'online' AND t.last_seen IS NOT NULL AND t.last_seen < ? THEN 'offline' "
                  "ELSE t.status END")
_WARNING = ("CASE WHEN t.status = 'closed' THEN NULL WHEN t.escalation IS NOT NULL AND t.escalation <> '' "
            "THEN 'purple' WHEN t.due_at IS NULL OR t.warn_at IS NULL THEN NULL WHEN t.due_at < ? THEN 'red' "
            "WHEN t.warn_at <= ? THEN 'yellow' ELSE 'green' END")


@dataclass(frozen=True, kw_only=True)
class TileLayer:
    """One MVT layer of a tile: rows of the store layer ``layer`` in ``within`` whose columns equal ``where``,
    whose ``any_of`` columns hold one of the values given and ``none_of`` columns none of theirs, and
    (incidents) reported at or after ``since`` (UTC). With more than ``detail_max`` rows in the tile it holds
    clusters instead (None: always detail)."""

    layer: str
    name: str = ""
    where: Mapping[str, Any] = field(default_factory=dict)
    any_of: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    none_of: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    since: datetime | None = None
    within: Jurisdiction = WHOLE
    detail_max: int | None = None

    @property
    def mvt_name(self) -> str:
        """The MVT layer of its features in detail; clusters are in ``<mvt_name>_clusters``."""
        return self.name or self.layer


@dataclass(frozen=True)
class VectorTile:
    """An encoded tile, and for each of its MVT layers how many features it holds and whether they are clusters."""

    data: bytes
    features: dict[str, int]
    aggregated: dict[str, bool]


@dataclass(frozen=True)
class _Clock:
    now: datetime
    stale_before: datetime


def properties(layer: str, clock: _Clock, zoom: int) -> list[tuple[str, str, tuple[Any, ...]]]:
    """The properties a tile at ``zoom`` gives a layer's features: (name, SQL on the row ``t``, its parameters)."""
    if layer == "cameras":
        sector = [("direction_deg", "t.direction_deg", ()), ("fov_deg", "t.fov_deg", ()),
                  ("range_m", "t.range_m", ())] if zoom >= SECTOR_ZOOM else []
        return [("id", "t.code", ()), ("name", "t.name", ()), ("status", _CAMERA_STATUS, (clock.stale_before,)),
                ("last_seen", "t.last_seen", ()), *sector]
    if layer == "incidents":
        return [("id", "t.id", ()), ("category", "t.category", ()), ("severity", "t.severity", ()),
                ("status", "t.status", ()), ("warning", _WARNING, (clock.now, clock.now)),
                ("reported_at", "t.reported_at", ())]
    if layer == "grids":
        return [("id", "t.code", ()), ("name", "t.name", ()), ("level", "t.level", ()), ("kind", "t.kind", ()),
                ("subtype", "t.subtype", ())]
    if layer == "places":
        return [("id", "t.code", ()), ("name", "t.name", ()), ("kind", "t.kind", ())]
    if layer == "roads":
        return [("id", "t.code", ()), ("name", "t.name", ()), ("road_class", "t.road_class", ())]
    raise Problem(400, f"{layer} is not served as vector tiles (cameras, incidents, grids, places, roads)",
                  param="layer")


def _class_sql(layer: str, clock: _Clock) -> tuple[str, tuple[Any, ...]] | None:
    if layer == "cameras":
        return _CAMERA_STATUS, (clock.stale_before,)
    if layer == "incidents":
        return f"COALESCE({_WARNING}, CASE WHEN t.status = 'closed' THEN 'closed' ELSE 'open' END)", \
            (clock.now, clock.now)
    return None


class VectorTiles:
    """Vector tiles of the stored layers (cameras, incidents, grids, places, roads)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def tile(self, address: TileAddress, layers: Sequence[TileLayer], *, now: datetime,
             offline_after_s: float = 0.0) -> VectorTile:
        """The tile at ``address`` with one MVT layer per entry of ``layers`` (empty ones left out); ``now``
        (UTC) decides warning colours and, with ``offline_after_s``, which cameras' heartbeats went stale."""
        clock = _Clock(now=utc(now), stale_before=utc(now) - timedelta(seconds=offline_after_s))
        if not self._db.mvt_sql:
            return self._tile(address, layers, clock)
        # One snapshot for all layers; no JIT and no parallel workers: compiling and starting them cost more than a
        # tile's query, and a wall asks for its tiles in parallel already (BENCHMARKS.md). Memory enough for a
        # low zoom's clusters to be grouped in memory rather than sorted on disk.
        with self._db.transaction():
            self._db.read("SELECT set_config('jit', 'off', true), "
                          "set_config('max_parallel_workers_per_gather', '0', true), "
                          f"set_config('work_mem', '{TILE_WORK_MEM}', true)")
            return self._tile(address, layers, clock)

    def _tile(self, address: TileAddress, layers: Sequence[TileLayer], clock: _Clock) -> VectorTile:
        parts, counts, aggregated = [], {}, {}
        for spec in layers:
            conditions = self._conditions(spec)
            many = spec.detail_max is not None and self._more_than(spec, address, conditions, spec.detail_max)
            data, n = (self._clusters(spec, address, conditions, clock) if many
                       else self._detail(spec, address, conditions, clock))
            parts.append(data)
            counts[spec.mvt_name], aggregated[spec.mvt_name] = n, many
        return VectorTile(b"".join(parts), counts, aggregated)

    # -- what a layer's rows must meet ------------------------------------------------------------------------

    def _conditions(self, spec: TileLayer) -> list[Condition]:
        check_layer(spec.layer)
        where = check_where(spec.layer, dict(spec.where))
        check_where(spec.layer, dict.fromkeys([*spec.any_of, *spec.none_of], None))
        out: list[Condition] = [(f"t.{column} = ?", (value,)) for column, value in where.items()]
        for column, values in spec.any_of.items():
            out.append((f"t.{column} IN ({', '.join('?' * len(values))})", tuple(values)) if values else ("1 = 0", ()))
        out += [(f"t.{column} NOT IN ({', '.join('?' * len(values))})", tuple(values))
                for column, values in spec.none_of.items() if values]
        if spec.since is not None:
            if spec.layer != "incidents":
                raise Problem(400, f"{spec.layer} has no report time to start from", param="since")
            out.append(("t.reported_at >= ?", (utc(spec.since),)))
        return out + scope_conditions(self._db, spec.layer, spec.within)

    def _more_than(self, spec: TileLayer, address: TileAddress, conditions: list[Condition], limit: int) -> bool:
        source, params = self._source(spec, address, conditions)
        rows = self._db.read(f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} LIMIT {int(limit) + 1}) s", params)
        return int(rows[0][0]) > limit

    def _source(self, spec: TileLayer, address: TileAddress, conditions: list[Condition]) -> tuple[str, list[Any]]:
        """``FROM`` and ``WHERE`` of the layer's rows ``t`` that meet the tile's box (candidates for lines and
        areas on SQLite). SQLite joins the R*Tree ``r`` in the cheaper order: from the box, or, when the window
        holds fewer rows than the box (a low zoom's tile over the whole city), from the report time's index, each
        row's box looked up by its id (a low zoom's tile from seconds to a fraction of one: BENCHMARKS.md)."""
        if self._db.mvt_sql:
            box = self._db.box_condition(spec.layer, address.bounds())
            clause, params = _where([box, *conditions])
            return f"{spec.layer} t{clause}", params
        west, south, east, north = address.bounds()
        box = ("r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?", (west, east, south, north))
        clause, params = _where([box, *conditions])
        # CROSS JOIN: SQLite keeps the order written.
        if spec.since is not None and self._window_is_smaller(spec, box):
            return f"{spec.layer} t CROSS JOIN {spec.layer}_rtree r ON r.id = t.rowid{clause}", params
        return f"{spec.layer}_rtree r CROSS JOIN {spec.layer} t ON t.rowid = r.id{clause}", params

    def _window_is_smaller(self, spec: TileLayer, box: Condition) -> bool:
        # Both counted by their index only, the box's up to the window's count: a few ms each.
        since = utc(spec.since) if spec.since is not None else None
        window = int(self._db.read(f"SELECT COUNT(*) FROM (SELECT 1 FROM {spec.layer} WHERE reported_at >= ? "
                                   f"LIMIT {WINDOW_COUNT_MAX})", [since])[0][0])
        in_box = int(self._db.read(f"SELECT COUNT(*) FROM (SELECT 1 FROM {spec.layer}_rtree r WHERE {box[0]} "
                                   f"LIMIT {window + 1})", list(box[1]))[0][0])
        return in_box > window

    # -- detail ---------------------------------------------------------------------------------------------

    def _detail(self, spec: TileLayer, address: TileAddress, conditions: list[Condition],
                clock: _Clock) -> tuple[bytes, int]:
        props = properties(spec.layer, clock, address.z)
        if self._db.mvt_sql:
            return self._detail_sql(spec, address, conditions, props)
        source, params = self._source(spec, address, conditions)
        columns = ", ".join(expr for _, expr, _ in props)
        values = [v for _, _, args in props for v in args]
        rows = self._db.read(f"SELECT {columns}, {self._db.wkb_sql('t.geom')} FROM {source} "
                             f"ORDER BY t.{props[0][1].split('.', 1)[1]}", values + params)
        if not rows:
            return b"", 0
        geoms = shapely.from_wkb([bytes(r[-1]) for r in rows])
        if spec.layer not in POINT_LAYERS:  # the R*Tree gave boxes; keep what truly meets the tile
            keep = shapely.intersects(geoms, shapely.box(*address.bounds()))
            rows, geoms = [r for r, k in zip(rows, keep, strict=True) if k], geoms[keep]
        names = [name for name, _, _ in props]
        features = [{"geometry": _tile_geometry(address, g, simplify=spec.layer not in POINT_LAYERS),
                     "properties": {n: _value(n, v) for n, v in zip(names, row, strict=False) if v is not None}}
                    for row, g in zip(rows, geoms, strict=True)]
        return _encode(spec.mvt_name, features), len(features)

    def _detail_sql(self, spec: TileLayer, address: TileAddress, conditions: list[Condition],
                    props: list[tuple[str, str, tuple[Any, ...]]]) -> tuple[bytes, int]:
        box = self._db.box_condition(spec.layer, address.bounds())
        clause, params = _where([box, *conditions])
        columns = ", ".join(
            f"CAST(floor(EXTRACT(EPOCH FROM {expr})) AS bigint) AS {name}" if name in TIME_PROPERTIES
            else f"{expr} AS {name}" for name, expr, _ in props)
        values = [v for _, _, args in props for v in args]
        # Lines and areas simplified to one tile unit first (Python does the same on SQLite); before they are
        # projected, simplified in degrees to half a unit, so that a street's thousand vertices are not each
        # projected at a low zoom.
        mercator = "ST_Transform(t.geom, 3857)" if spec.layer in POINT_LAYERS \
            else "ST_Simplify(ST_Transform(ST_Simplify(t.geom, ?, true), 3857), ?, true)"
        unit = [] if spec.layer in POINT_LAYERS else [_half_unit_deg(address), address.size_m / EXTENT]
        query = (f"SELECT ST_AsMVT(q, ?, {EXTENT}, 'geom'), COUNT(*) FROM (SELECT {columns}, "
                 f"ST_AsMVTGeom({mercator}, ST_TileEnvelope(?, ?, ?), {EXTENT}, 0, false) AS geom "
                 f"FROM {spec.layer} t{clause}) q WHERE q.geom IS NOT NULL")
        data, n = self._db.read(query, [spec.mvt_name, *values, *unit, address.z, address.x, address.y, *params])[0]
        return (bytes(data) if n else b""), int(n)

    # -- clusters -------------------------------------------------------------------------------------------

    def _clusters(self, spec: TileLayer, address: TileAddress, conditions: list[Condition],
                  clock: _Clock) -> tuple[bytes, int]:
        if _from_stored_cells(spec, address):
            cells = self._incident_cells(spec, address, conditions, clock)
        elif spec.layer in POINT_LAYERS:
            cells = self._point_cells(spec, address, conditions, clock)
        else:
            cells = self._area_cells(spec, address, conditions)
        features = []
        for (_, _), (n, sx, sy, by_class) in sorted(cells.items()):
            props = {"n": n, **{f"n_{k}": c for k, c in sorted(by_class.items()) if k is not None}}
            features.append({"geometry": shapely.Point(round(sx / n), round(sy / n)), "properties": props})
        return _encode(spec.mvt_name + CLUSTER_SUFFIX, features), len(features)

    def _point_cells(self, spec: TileLayer, address: TileAddress, conditions: list[Condition], clock: _Clock,
                     parts: Sequence[Condition] = (("1 = 1", ()),)) -> dict[tuple[int, int], _Cell]:
        """The points meeting ``conditions`` and one of ``parts`` (each part read by a query of its own, so that
        each finds its index), grouped into the tile's cells by class."""
        kind = _class_sql(spec.layer, clock)
        class_sql, class_args = kind if kind is not None else ("NULL", ())
        lon, lat = self._db.point_sql("t.geom")
        queries, params = [], []
        for part in parts:
            source, part_params = self._source(spec, address, [*conditions, part])
            queries.append(f"SELECT {class_sql} AS k, {lon} AS lon, {lat} AS lat FROM {source}")
            params += [*class_args, *part_params]
        return self._cells_sql(address, " UNION ALL ".join(queries), params, points=True)

    def _area_cells(self, spec: TileLayer, address: TileAddress,
                    conditions: list[Condition]) -> dict[tuple[int, int], _Cell]:
        """The areas (lines) whose box meets the tile, each at the centre of its box: PostGIS's cached box of the
        geometry (float32, rounded outward) read once per row, SQLite's R*Tree box (the same float32 box); no
        geometry is read whole."""
        if self._db.mvt_sql:
            west, south, east, north = address.bounds()
            clause, params = _where([("t.geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)", (west, south, east, north)),
                                     *conditions])
            rows = (f"SELECT NULL AS k, (ST_XMin(b) + ST_XMax(b)) / 2 AS lon, (ST_YMin(b) + ST_YMax(b)) / 2 AS lat "
                    f"FROM (SELECT postgis_getbbox(t.geom) AS b FROM {spec.layer} t{clause}{self._apart()}) t")
            return self._cells_sql(address, rows, params, points=False)
        source, params = self._source(spec, address, conditions)
        return self._cells_sql(address, f"SELECT NULL AS k, (r.minx + r.maxx) / 2 AS lon, (r.miny + r.maxy) / 2 "
                                        f"AS lat FROM {source}", params, points=False)

    def _apart(self) -> str:
        # Keeps a subquery from being merged into the one reading it, so that each row's position is read once.
        return " OFFSET 0" if self._db.mvt_sql else " LIMIT -1"

    def _cells_sql(self, address: TileAddress, rows: str, params: list[Any], *,
                   points: bool) -> dict[tuple[int, int], _Cell]:
        """``rows`` (SQL giving ``k`` the class, ``lon`` and ``lat`` in degrees) grouped into the tile's cells, the
        same SQL on both backends. A row's cell is the tile at zoom z + 2 holding its Web Mercator position
        (computed by formula, no ST_Transform per row): points outside the tile's cells (on its east or south edge)
        are the next tile's, a box's centre outside them is put in the nearest one."""
        x, y = mercator_sql("lon", "lat")
        z = address.z + CELL_LEVELS
        minx, _, _, maxy = address.mercator_bounds()
        scale = EXTENT / address.size_m
        inside = f" WHERE i BETWEEN 0 AND {CELLS - 1} AND j BETWEEN 0 AND {CELLS - 1}" if points else ""
        query = (f"SELECT i, j, k, COUNT(*), SUM(u), SUM(v) FROM (SELECT k, "
                 f"{column_sql('x', z)} - {address.x * CELLS} AS i, {row_sql('y', z)} - {address.y * CELLS} AS j, "
                 f"(x - ?) * ? AS u, (? - y) * ? AS v FROM (SELECT k, {x} AS x, {y} AS y "
                 f"FROM ({rows}{self._apart()}) a) b) c{inside} GROUP BY 1, 2, 3")
        cells: dict[tuple[int, int], _Cell] = {}
        for i, j, k, n, su, sv in self._db.read(query, [minx, scale, maxy, scale, *params]):
            _add(cells, (_cell(i), _cell(j)), k, int(n), float(su), float(sv))
        return cells

    def _incident_cells(self, spec: TileLayer, address: TileAddress, conditions: list[Condition],
                        clock: _Clock) -> dict[tuple[int, int], _Cell]:
        """The wall's incidents of a window at a low zoom: the closed ones of the window's whole UTC days from their
        stored cells (``incident_tile_cells``: per day and zoom-13 tile, their count and the sums of their Web
        Mercator x and y, kept by the schema's triggers), the others (open ones; closed ones of the window's first,
        partial day) read row by row. The same clusters as from every row: the same cells and counts, positions
        within a tile unit."""
        days = whole_days(spec.since, None)
        first = days.first if days is not None else None
        live: list[Condition] = [("t.status <> 'closed'", ())]
        if first is not None and spec.since is not None and _midnight(first) > utc(spec.since):
            # Every row of the first, partial day, and the open ones after it: each part read by its own index.
            live = [("t.reported_at < ?", (_midnight(first),)),
                    ("t.status <> 'closed' AND t.reported_at >= ?", (_midnight(first),))]
        cells = self._point_cells(spec, address, conditions, clock, live)
        shift = 2 ** (CELL_ZOOM - CELL_LEVELS - address.z)
        first_column, first_row = address.x * CELLS * shift, address.y * CELLS * shift
        day = [("day >= ?", (first.isoformat(),))] if first is not None else []
        clause, params = _where([("tile_x BETWEEN ? AND ? AND tile_y BETWEEN ? AND ?",
                                  (first_column, first_column + CELLS * shift - 1, first_row,
                                   first_row + CELLS * shift - 1)), *day])
        minx, _, _, maxy = address.mercator_bounds()
        scale = EXTENT / address.size_m
        rows = self._db.read(f"SELECT tile_x / {shift} - {address.x * CELLS}, tile_y / {shift} - "
                             f"{address.y * CELLS}, SUM(incident_count), SUM(sum_x_mm), SUM(sum_y_mm) "
                             f"FROM incident_tile_cells{clause} GROUP BY 1, 2 HAVING SUM(incident_count) <> 0", params)
        for i, j, n, sx_mm, sy_mm in rows:
            n = int(n)
            _add(cells, (int(i), int(j)), "closed", n, (float(sx_mm) / 1000 - n * minx) * scale,
                 (n * maxy - float(sy_mm) / 1000) * scale)
        return cells


_Cell = tuple[int, float, float, dict[str | None, int]]
"""A cluster cell: members, sums of their tile x and y, members per class."""


def _from_stored_cells(spec: TileLayer, address: TileAddress) -> bool:
    """Whether a tile's incident clusters come from the stored cells: the wall's layer of a time window (no other
    filter, the whole store) at a zoom whose cluster cells are whole stored cells."""
    return (spec.layer == "incidents" and address.z + CELL_LEVELS <= CELL_ZOOM and spec.within.whole
            and not (spec.where or spec.any_of or spec.none_of))


def _half_unit_deg(address: TileAddress) -> float:
    """Half a tile unit in degrees, at most, in both directions anywhere in the tile: a degree of longitude is
    stretched by Web Mercator the same everywhere, one of latitude by 1 / cos(latitude), never less."""
    west, south, east, north = address.bounds()
    return 0.5 * (east - west) / EXTENT * math.cos(math.radians(min(max(abs(south), abs(north)), 85.0511287798)))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _add(cells: dict[tuple[int, int], _Cell], key: tuple[int, int], k: str | None, n: int, su: float,
         sv: float) -> None:
    total, sx, sy, by_class = cells.get(key, (0, 0.0, 0.0, {}))
    by_class[k] = by_class.get(k, 0) + n
    cells[key] = (total + n, sx + su, sy + sv, by_class)


def _cell(value: Any) -> int:
    return min(CELLS - 1, max(0, int(value)))


def _where(conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
    params: list[Any] = []
    for _, values in conditions:
        params += list(values)
    return " WHERE " + " AND ".join(f"({text})" for text, _ in conditions), params


def _value(name: str, value: Any) -> Any:
    if name in TIME_PROPERTIES:
        return math.floor(utc(value).timestamp())
    return value


def _tile_geometry(address: TileAddress, geom: shapely.Geometry, *, simplify: bool) -> shapely.Geometry:
    """The geometry in tile units; lines and areas simplified to one unit, as PostGIS's ``ST_Simplify`` does
    before ``ST_AsMVTGeom`` (a street's boundary at city zoom has a vertex every few metres, a unit is 40 m)."""
    def project(xy: np.ndarray) -> np.ndarray:
        u, v = to_tile_units(address, xy[:, 0], xy[:, 1])
        return np.column_stack([u, v])

    projected = shapely.transform(geom, project)
    if simplify:
        projected = shapely.simplify(projected, 1.0, preserve_topology=True)
    return shapely.remove_repeated_points(projected)


def _encode(name: str, features: list[dict[str, Any]]) -> bytes:
    if not features:
        return b""
    return mapbox_vector_tile.encode([{"name": name, "features": features}], default_options={
        "extents": EXTENT, "y_coord_down": True, "on_invalid_geometry": on_invalid_geometry_make_valid})
