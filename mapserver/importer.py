"""Import a GeoJSON, GeoPackage, Shapefile (plain or zipped) or CSV file into one layer, all rows or none.

Coordinates in the file are in ``crs`` (wgs84, cgcs2000, gcj02, bd09 or EPSG:n; by
default the CRS the file declares, else WGS-84) and are stored in WGS-84 (EPSG:4326)
lon/lat degrees. Every row is checked before anything is written, and every problem is
collected: one bad row means nothing is written and a 422 :class:`Problem` lists each
finding as ``{"row", "id", "field", "reason"}`` (row numbers 1-based; ``id`` only when
the row has a code). The parts live in :mod:`mapserver.importing`.

Layer specifics: ``divisions`` (administrative divisions, no geometry) and ``street_divisions`` (the division
of streets already stored) are read and checked by :mod:`mapserver.importing.divisions`; a street grid may carry
``division_code``, which must name a stored division; roads given as MultiLineStrings become one road per part, coded
``<code>-1``, ``<code>-2``… (a one-part MultiLineString keeps its code); an incident
without an id gets a UUID5 of its content, so importing the same file twice is refused
as a duplicate instead of doubling the events; staff need their grid in the store; cameras
may carry their stream and snapshot addresses (:mod:`mapserver.importing.video`), checked
as http(s) URLs and written with them.

Incidents (a batch import holds hundreds of thousands) are read into columns
(:mod:`mapserver.importing.incident_columns`): points, field conversions, the rules of
:func:`~mapserver.model.check_record` and content ids are computed for whole columns, and
only the rows those vectorised checks do not vouch for go through the per-row path every
other layer takes, which words their problems; so a bad row is reported exactly as it
would be row by row. The ``prepare`` hook gets the columns when it offers a ``columns``
method (:class:`mapserver.incidents.enrich.IncidentPreparation` does), records otherwise.
The store writes the columns in one statement (:meth:`~mapserver.store.incidents.Incidents.add_columns`) while
the next part is named and prepared (:mod:`mapserver.importing.incident_stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.geo import parse_crs
from mapserver.importing import checks
from mapserver.importing.divisions import (
    division_findings,
    division_text,
    read_divisions,
    read_street_divisions,
)
from mapserver.importing.fields import Plan, build_fields, plan_fields
from mapserver.importing.geometry import Raw, check_geometries, from_columns, from_wkb_column, geometry_columns
from mapserver.importing.incident_columns import read_incidents
from mapserver.importing.incident_stream import duplicate_ids, write_incidents
from mapserver.importing.naming import INCIDENT_NAMESPACE, content_ids, incident_id
from mapserver.importing.source import Source, read_source
from mapserver.importing.video import row_video, split_mapping, video_columns
from mapserver.model import RECORD_TYPES, CameraVideo, Road, check_record
from mapserver.store import Store
from mapserver.store.common import KEYS, check_layer
from mapserver.store.incident_batch import IncidentBatch

__all__ = ["INCIDENT_NAMESPACE", "ImportReport", "Prepare", "Progress", "import_layer", "incident_id"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while checking and writing; a tqdm bar is accepted too."""

Prepare = Callable[[list[Any]], list[Any]]
"""``prepare(records) -> records``: a last step over every record that passed the checks, just before writing
(e.g. filling derived fields). It refuses records by raising a 422 :class:`Problem` whose ``errors`` carry
``"record"``, the 1-based position in ``records``; the import reports them by file row. The records it returns
are written without running :func:`~mapserver.model.check_record` again, so they must still pass it.
For incidents, a hook may also offer ``columns(batch) -> batch`` on an
:class:`~mapserver.store.incident_batch.IncidentBatch` (same contract, ``"record"`` the 1-based position in the
batch); the import then never builds a record per row."""

_WGS84_LIKE = {None, "EPSG:4326", "EPSG:4490", "OGC:CRS84"}


@dataclass
class ImportReport:
    """What an import did: rows read, records written, geometries repaired (with ``fix``), and notes."""

    layer: str
    path: str
    source_layer: str
    crs: str
    rows: int
    written: int
    repairs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: ``grids: 10 written from 10 rows of x.geojson (gcj02 → WGS-84)``."""
        repaired = f"; {len(self.repairs)} geometr{'y' if len(self.repairs) == 1 else 'ies'} repaired" \
            if self.repairs else ""
        return (f"{self.layer}: {self.written} written from {self.rows} rows of {Path(self.path).name} "
                f"({self.crs} → WGS-84){repaired}")


@dataclass
class _Row:
    number: int
    key: Any
    records: list[Any]
    problems: list[tuple[str, str]]
    repair: str | None = None
    unnamed: Any = None  # an incident read without an id, until _name_incidents gives it one


def import_layer(
    store: Store,
    layer: str,
    path: str | Path,
    *,
    crs: str | None = None,
    source_layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    fix: bool = False,
    timezone: str = "UTC",
    allow_overlaps: bool = False,
    progress: Progress | Any | None = None,
    prepare: Prepare | None = None,
) -> ImportReport:
    """Check every row of ``path`` and write them all to ``layer`` in one transaction, or write nothing.

    ``mapping`` maps record field → file column (``{"code": "adcode"}``; ``geom``, ``lon`` and
    ``lat`` name geometry columns of a CSV); ``values`` gives a field the same value in every
    row (``{"level": 1}``). ``fix`` repairs invalid polygons (polygonal part of
    :func:`shapely.make_valid`) and lists each repair in the report. ``timezone`` is where date-times written
    without an offset were recorded (the CLI passes ``incidents.timezone``). Grids: base grids of one level
    that overlap (in the file, or with the store's) are refused unless ``allow_overlaps``
    (:mod:`mapserver.importing.checks`). ``prepare`` (see :data:`Prepare`) runs after every check,
    before anything is written. Raises :class:`Problem`:
    404 unknown layer, file or ``source_layer``; 400 unreadable file, bad CRS or mapping;
    422 with every finding when any row is refused; 409 if a key appeared meanwhile.
    """
    if layer == "divisions":
        return _import_divisions(store, path, source_layer, mapping or {}, values or {})
    if layer == "street_divisions":
        return _import_street_divisions(store, path, source_layer, mapping or {})
    check_layer(layer)
    asked = parse_crs(crs) if crs is not None else None
    source = read_source(path, source_layer, layer)
    crs_used, notes = _choose_crs(asked, source)
    if source.rows == 0:  # an empty export has no columns to check against; it imports as nothing
        return ImportReport(layer=layer, path=str(source.path), source_layer=source.layer, crs=crs_used, rows=0,
                            written=0, notes=[*notes, "the file has no rows"])
    video_map, mapping = split_mapping(mapping or {}) if layer == "cameras" else ({}, dict(mapping or {}))
    _check_mapped(video_map, source)
    plan = plan_fields(layer, source.path.name, list(source.columns), mapping, dict(values or {}), timezone)
    where = _geometry_where(layer, source, mapping)
    video_where = video_columns(list(source.columns), video_map) if layer == "cameras" else {}
    notes += _unused_columns(source, plan, [*(where.values() if where else []), *video_where.values()])
    tick = _as_callback(progress)
    if layer == "incidents":
        written, rows = _import_incidents(store, source, plan, where, crs_used, fix, tick, prepare)
    else:
        rows = _check_rows(layer, source, plan, _raw_geometries(layer, source, where), crs_used, fix, tick)
        findings = _findings(store, layer, rows, allow_overlaps=allow_overlaps)
        videos, video_findings = _videos(rows, source, video_where)
        findings = sorted(findings + video_findings, key=lambda item: item["row"])
        if findings:
            raise checks.refusal(findings, source.path.name)
        records = [r for row in rows for r in row.records]
        if prepare is not None:
            records = _prepared(prepare, [row.number for row in rows for _ in row.records], records,
                                source.path.name)
        with store.transaction():  # the cameras and their stream addresses, together or not at all
            written = _write(store, layer, records, tick)
            if videos:
                store.camera_video.put_many(videos, at=datetime.now(UTC))
    repairs = [checks.finding(row.number, row.key, "geom", row.repair) for row in rows if row.repair]
    return ImportReport(layer=layer, path=str(source.path), source_layer=source.layer, crs=crs_used,
                        rows=source.rows, written=written, repairs=repairs, notes=notes)


def _import_divisions(store: Store, path: str | Path, source_layer: str | None, mapping: Mapping[str, str],
                      values: Mapping[str, Any]) -> ImportReport:
    """Administrative divisions (:mod:`mapserver.importing.divisions`): all rows or none."""
    source = read_source(path, source_layer, "divisions")
    if source.rows == 0:
        return ImportReport(layer="divisions", path=str(source.path), source_layer=source.layer, crs="wgs84",
                            rows=0, written=0, notes=["the file has no rows"])
    rows, findings, notes = read_divisions(source, mapping, values)
    codes_in_file = {str(c) for c in (_division_code(source, mapping, i) for i in range(source.rows)) if c}
    findings = sorted(findings + division_findings(store, rows, codes_in_file), key=lambda item: item["row"])
    if findings:
        raise checks.refusal(findings, source.path.name)
    written = store.divisions.put_many([d for _, d in rows])
    return ImportReport(layer="divisions", path=str(source.path), source_layer=source.layer, crs="wgs84",
                        rows=source.rows, written=written, notes=notes)


def _import_street_divisions(store: Store, path: str | Path, source_layer: str | None,
                             mapping: Mapping[str, str]) -> ImportReport:
    """The divisions of stored streets (:mod:`mapserver.importing.divisions`): all rows or none."""
    source = read_source(path, source_layer, "street_divisions")
    with store.transaction():  # the checks and the writes see the same streets and divisions
        pairs, findings = read_street_divisions(store, source, mapping) if source.rows else ([], [])
        if findings:
            raise checks.refusal(findings, source.path.name)
        written = store.divisions.name_streets(pairs)
    return ImportReport(layer="street_divisions", path=str(source.path), source_layer=source.layer, crs="wgs84",
                        rows=source.rows, written=written)


def _division_code(source: Source, mapping: Mapping[str, str], i: int) -> str | None:
    column = source.columns.get(mapping.get("code", "code"))
    return None if column is None else division_text(column[i])


def _choose_crs(asked: str | None, source: Source) -> tuple[str, list[str]]:
    """The CRS asked for, else the one the file declares, else WGS-84; with a note when they disagree."""
    if asked is not None:
        notes = []
        if source.crs not in _WGS84_LIKE and source.crs != asked:
            notes.append(f"the file declares {source.crs}; its coordinates were read as {asked}, as asked")
        return asked, notes
    if source.crs is None:
        return "wgs84", []
    try:
        return parse_crs(source.crs), []
    except Problem:
        raise Problem(400, f"cannot tell which CRS {source.path.name} is in (it declares {source.crs[:80]!r}); "
                           "give one with --crs", param="crs") from None


def _geometry_where(layer: str, source: Source, mapping: dict[str, str]) -> dict[str, str] | None:
    """Where the rows' geometry is: None for the file's own (or a layer without geometry), else the WKT or lon/lat
    columns; a 422 Problem when there is none."""
    if not RECORD_TYPES[layer].GEOM_TYPES:
        return None
    if source.wkb is not None and not (mapping.get("geom") or mapping.get("lon")):
        return None
    where = geometry_columns(list(source.columns), mapping)
    if not where:
        raise Problem(422, f"{source.path.name} has no geometry for {layer}: no geometry column, no WKT column "
                           "(wkt, geometry, geom) and no lon/lat columns (lon/lng/longitude/x, lat/latitude/y); "
                           "name them with --map geom=COLUMN or --map lon=COLUMN --map lat=COLUMN", param="geom")
    return where


def _raw_geometries(layer: str, source: Source, where: dict[str, str] | None,
                    indices: Sequence[int] | None = None) -> list[Raw] | None:
    """Raw geometries of the rows (all, or those at ``indices``), from the file's geometry or the ``where``
    columns; None for a layer without geometry."""
    if not RECORD_TYPES[layer].GEOM_TYPES:
        return None
    if where is None:
        wkb = source.wkb if indices is None else [source.wkb[i] for i in indices]
        return from_wkb_column(wkb)
    if indices is None:
        return from_columns(source.columns, where, source.rows)
    picked = np.asarray(indices, dtype=np.int64)
    return from_columns({c: source.columns[c][picked] for c in where.values()}, where, len(picked))


def _check_mapped(video_map: dict[str, str], source: Source) -> None:
    """A 400 problem for a ``--map`` of a video field naming a column the file does not have."""
    for key, column in video_map.items():
        if column not in source.columns:
            raise Problem(400, f"--map {key}={column}: {source.path.name} has no column '{column}'; "
                               f"columns: {', '.join(source.columns)}", param="map")


def _videos(rows: list[_Row], source: Source, where: dict[str, str]) -> tuple[list[CameraVideo], list[Any]]:
    """The cameras' stream and snapshot addresses read from the rows' ``where`` columns, and the findings against
    them (each naming its row and field)."""
    videos, findings = [], []
    if not where:
        return videos, findings
    for row in rows:
        video, problems = row_video(str(row.key or ""), source.columns, where, row.number - 1)
        findings += [checks.finding(row.number, row.key, f, r) for f, r in problems]
        if video is not None and row.key:
            videos.append(video)
    return videos, findings


def _unused_columns(source: Source, plan: Plan, geometry_from: list[str]) -> list[str]:
    used = set(plan.columns.values()) | set(geometry_from)
    notes = []
    if plan.layer == "grid_staff" and "id" in source.columns and "id" not in used:
        used.add("id")
        notes.append("column id not imported: the store numbers staff itself")
    unused = [c for c in source.columns if c not in used]
    return notes + ([f"columns not imported: {', '.join(unused)}"] if unused else [])


def _check_rows(layer: str, source: Source, plan: Plan, raws: list[Raw] | None, crs: str, fix: bool,
                tick: Progress, indices: Sequence[int] | None = None) -> list[_Row]:
    """Check the rows one by one: all of them, or those at ``indices`` (``raws`` holds their geometries)."""
    indices = range(source.rows) if indices is None else indices
    geoms = check_geometries(raws, layer, crs, fix=fix, tick=tick) if raws is not None else None
    rows = []
    for position, index in enumerate(indices):
        geom = None if geoms is None else (geoms.geoms[position], geoms.problems.get(position),
                                           geoms.repairs.get(position))
        rows.append(_check_row(layer, plan, source, geom, index))
        if (position + 1) % 2000 == 0 or position + 1 == len(indices):
            tick("checking rows", position + 1, len(indices))
    _name_incidents(rows)
    return rows


def _check_row(layer: str, plan: Plan, source: Source, geom: tuple[BaseGeometry | None, str | None, str | None]
               | None, index: int) -> _Row:
    """One row: its fields, its geometry (checked already: shape, problem, repair) and check_record."""
    kwargs, problems = build_fields(plan, source.columns, index)
    key = kwargs.get(KEYS[layer]) if layer != "grid_staff" else None
    repair = None
    if geom is not None:
        shape, problem, repair = geom
        if problem:
            problems.append(("geom", problem))
        kwargs["geom"] = shape
    if problems:
        return _Row(index + 1, key, [], problems)
    records = _records(layer, kwargs)
    problems = list(dict.fromkeys(p for record in records for p in check_record(record)))
    if layer == "incidents" and "id" not in kwargs:  # named by its content once every row is read
        return _Row(index + 1, None, [] if problems else records, problems, repair, unnamed=records[0])
    key = key if key is not None else getattr(records[0], KEYS[layer], None)
    return _Row(index + 1, key, [] if problems else records, problems, repair)


def _name_incidents(rows: list[_Row]) -> None:
    """Give each incident read without an id the UUID5 of its content (every point's WKT written in one call)."""
    waiting = [row for row in rows if row.unnamed is not None]
    if not waiting:
        return
    points = np.fromiter((row.unnamed.geom for row in waiting), dtype=object, count=len(waiting))
    for row, wkt in zip(waiting, shapely.to_wkt(points, rounding_precision=7).tolist(), strict=True):
        row.key = incident_id(row.unnamed, wkt=wkt)
        # The record was made by _records with an empty id and is held by this row alone: naming it in place
        # is safe, and spares dataclasses.replace building every record anew.
        object.__setattr__(row.unnamed, "id", row.key)


def _records(layer: str, kwargs: dict[str, Any]) -> list[Any]:
    """The row's record(s): roads split into one per line part, incidents given an id when they have none."""
    cls = RECORD_TYPES[layer]
    geom = kwargs.get("geom")
    if cls is Road and geom is not None and geom.geom_type == "MultiLineString":
        parts = list(geom.geoms)
        if len(parts) == 1:
            return [Road(**{**kwargs, "geom": parts[0]})]
        return [Road(**{**kwargs, "code": f"{kwargs['code']}-{n}", "geom": part}) for n, part in enumerate(parts, 1)]
    if layer == "incidents" and "id" not in kwargs:
        return [cls(**{**kwargs, "id": ""})]  # its id comes from its content: _name_incidents
    return [cls(**kwargs)]


def _findings(store: Store, layer: str, rows: list[_Row], *, allow_overlaps: bool = False) -> list[dict[str, Any]]:
    """Every per-row problem, then the rules across rows and against the store, ordered by row."""
    out = [checks.finding(row.number, row.key, f, r) for row in rows for f, r in row.problems]
    good = [(row.number, record) for row in rows for record in row.records]
    if layer == "grid_staff":
        out += checks.staff_findings(store, good)
    else:
        key = KEYS[layer]
        keyed = [(n, getattr(r, key)) for n, r in good] + [(row.number, row.key) for row in rows if not row.records]
        out += checks.duplicate_findings(store, layer, sorted(keyed, key=lambda item: item[0]))
    if layer == "grids":
        out += checks.grid_findings(store, good, {row.key for row in rows if row.key},
                                    allow_overlaps=allow_overlaps)
    return sorted(out, key=lambda item: item["row"])


def _import_incidents(store: Store, source: Source, plan: Plan, where: dict[str, str] | None, crs: str, fix: bool,
                      tick: Progress, prepare: Prepare | None) -> tuple[int, list[_Row]]:
    """Incidents through columns: checked, named and written as a batch; the rows the vectorised checks do not
    vouch for are checked one by one. Returns (written, the rows checked one by one)."""
    n = source.rows
    read = read_incidents(source, plan, where, crs, tick)
    unsure = np.flatnonzero(~read.vouched).tolist()
    slow = _check_rows("incidents", source, plan, _raw_geometries("incidents", source, where, unsure), crs, fix,
                       tick, unsure) if unsure else []
    tick("checking rows", n, n)
    findings = [checks.finding(row.number, row.key, f, r) for row in slow for f, r in row.problems]
    if findings or (prepare is not None and not hasattr(prepare, "columns")):
        # Refused rows (every finding is wanted, duplicate ids too), or a hook on records: every id now.
        ids = read.batch["id"].copy()
        fresh = read.vouched & ~read.named
        if fresh.any():
            ids[fresh] = content_ids(read.batch.take(fresh))
        for row in slow:
            ids[row.number - 1] = row.key
        findings += duplicate_ids(store, range(1, n + 1), ids.tolist())
        if findings:
            raise checks.refusal(sorted(findings, key=lambda item: item["row"]), source.path.name)
        batch = _good_rows(read.batch.replaced({"id": ids}), read.vouched, slow)
        records = _prepared(prepare, batch.rows.tolist(), batch.records(), source.path.name)  # type: ignore[arg-type]
        return _write(store, "incidents", records, tick), slow
    good = _good_rows(read.batch, read.vouched, slow)  # ids still None where a content id is due
    hook = getattr(prepare, "columns", None)
    written = write_incidents(store, good, hook, source.path.name)
    tick("writing", written, len(good))
    return written, slow


def _good_rows(batch: IncidentBatch, vouched: np.ndarray, slow: list[_Row]) -> IncidentBatch:
    """The rows to write, in file order: those vouched for, and those the per-row checks accepted."""
    accepted = [(row.number, record) for row in slow for record in row.records]
    if not accepted:
        return batch.take(vouched)
    extra = IncidentBatch.from_records([record for _, record in accepted], rows=[number for number, _ in accepted])
    merged = IncidentBatch.concat([batch.take(vouched), extra])
    return merged.take(np.argsort(merged.rows, kind="stable"))


def _prepared(prepare: Prepare, numbers: Sequence[int], records: list[Any], file_name: str) -> list[Any]:
    """Run the ``prepare`` hook; its findings name records by position, turned here into file rows."""
    try:
        return list(prepare(records))
    except Problem as problem:
        raise checks.by_row(problem, numbers, file_name) from None


def _write(store: Store, layer: str, records: list[Any], tick: Progress) -> int:
    # One call, so one statement on PostGIS (a COPY): the per-day incident summary's triggers then lock their
    # rows in one ordered pass, which a concurrent report or transition cannot deadlock with. Every record
    # passed check_record in _check_row, so the store does not run it again.
    written = store.layers.add(layer, records, checked=True)
    tick("writing", written, len(records))
    return written


def _as_callback(progress: Progress | Any | None) -> Progress:
    """A ``(stage, done, total)`` callable from a callable, a tqdm bar (restarted per stage), or None."""
    if progress is None:
        return lambda stage, done, total: None
    if not hasattr(progress, "update"):
        return progress
    bar, current = progress, {"stage": None}

    def tick(stage: str, done: int, total: int) -> None:
        if current["stage"] != stage:
            current["stage"] = stage
            bar.reset(total=total)
            bar.set_description_str(stage, refresh=False)
        bar.update(done - bar.n)

    return tick
