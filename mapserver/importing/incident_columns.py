"""An incident file read into columns at once: points, fields and the checks of a record, vectorised.

:func:`read_incidents` turns a :class:`~mapserver.importing.source.Source` into an
:class:`~mapserver.store.incident_batch.IncidentBatch` with one entry per file row,
and says which rows it *vouches for*: rows whose point, every field and every rule
of :func:`~mapserver.model.check_record` passed the vectorised checks, so the
per-row path would accept them and make exactly these values of them. The
other rows are left to that per-row path (:mod:`mapserver.importer`), which
words each problem, or accepts a row the vectorised checks were only unsure of
(a one-point MultiPoint, a time past year 9999 in UTC, …).

Points: from the file's geometry (WKB), a WKT column or lon/lat columns, in the
file's CRS, converted to WGS-84 (EPSG:4326) degrees with the same vectorised
conversion the per-row path uses (:func:`mapserver.geo.to_wgs84`, element by
element, so the same numbers). A point is vouched for when it is a non-empty 2-D
or 3-D Point (Z dropped) with finite coordinates inside ±180° / ±90° after
conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from mapserver.geo import is_identity_crs, to_wgs84
from mapserver.importing.columns import Converted, constant_column, convert_column
from mapserver.importing.fields import Plan, field_kinds, importable, required
from mapserver.importing.source import Source
from mapserver.model import ESCALATIONS, INCIDENT_SOURCES, INCIDENT_STATUSES, MAX_TEXT, MAX_VERSION, SEVERITIES
from mapserver.store.incident_batch import COLUMNS, TEXT_FIELDS, IncidentBatch, default

LAYER = "incidents"
# check_record's enumerations: (field, allowed, None allowed).
_ENUMS = (("severity", SEVERITIES, False), ("source", INCIDENT_SOURCES, False),
          ("status", INCIDENT_STATUSES, False), ("escalation", ESCALATIONS, True))


@dataclass
class IncidentRows:
    """Every row of the file as columns; ``vouched`` marks the rows the vectorised checks accept, whose values
    are final; ``named`` the rows whose id came from the file (the others get a content id)."""

    batch: IncidentBatch
    vouched: np.ndarray
    named: np.ndarray


def read_incidents(source: Source, plan: Plan, where: dict[str, str] | None, crs: str,
                   tick: Callable[[str, int, int], None] | None = None) -> IncidentRows:
    """The rows of ``source`` as columns. ``where`` names the WKT or lon/lat columns
    (:func:`~mapserver.importing.geometry.geometry_columns`), None for the file's own geometry; ``tick`` is
    told ``(stage, done, total)`` as the points, then the fields, are read."""
    n = source.rows
    tick = tick or (lambda stage, done, total: None)
    tick("checking geometries", 0, n)
    lon, lat, vouched = _points(source, where, crs)
    tick("checking rows", 0, n)
    kinds, needed = field_kinds(LAYER), required(LAYER)
    columns = {}
    for name in importable(LAYER):
        if name in plan.values:
            columns[name] = constant_column(kinds[name], plan.values[name], n)
        elif name in plan.columns:
            converted = convert_column(LAYER, name, kinds[name], source.columns[plan.columns[name]],
                                       timezone=plan.timezone)
            columns[name], unsure = _field_values(name, kinds[name], converted)
            vouched &= ~(converted.bad | unsure)
            if name in needed:
                vouched &= ~converted.blank
        else:
            columns[name] = constant_column(kinds[name], default(name), n)
    named = np.zeros(n, dtype=bool)
    if "id" in plan.columns:
        named = np.fromiter((v is not None for v in columns["id"].tolist()), dtype=bool, count=n)
    elif "id" in plan.values:
        named[:] = plan.values["id"] is not None
    vouched &= _record_rules(columns)
    batch = IncidentBatch(lon=lon, lat=lat, columns={name: columns[name] for name in COLUMNS},
                          rows=np.arange(1, n + 1, dtype=np.int64))
    return IncidentRows(batch=batch, vouched=vouched, named=named)


def _field_values(name: str, kind: str, converted: Converted) -> tuple[np.ndarray, np.ndarray]:
    """The column as the records would hold it (a blank cell leaves the field at Incident's default, as
    build_fields sets only the values it has), and the cells that cannot be held in the column's type."""
    values, blank = converted.values, converted.blank
    unsure = np.zeros(len(values), dtype=bool)
    if kind == "time":
        return values, unsure
    fallback = default(name)
    if fallback is not None and blank.any():
        values = values.copy()
        values[blank] = constant_column(kind, fallback, int(blank.sum()))
    if kind == "int":  # version: a cell refused, or outside 1..MAX_VERSION, goes the per-row way (which words it)
        fits = [isinstance(v, int) and 1 <= v <= MAX_VERSION for v in values.tolist()]
        unsure = ~np.array(fits, dtype=bool) & ~converted.bad
        return np.fromiter((v if ok else 1 for v, ok in zip(values.tolist(), fits, strict=True)), dtype=np.int64,
                           count=len(values)), unsure
    return values, unsure


def _record_rules(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The rows check_record accepts (geometry apart): texts up to MAX_TEXT characters without NUL, known enumerations.
    Each distinct value is looked at once."""
    n = len(columns["id"])
    ok = np.ones(n, dtype=bool)
    enums = {name: set(allowed) | ({None} if optional else set()) for name, allowed, optional in _ENUMS}
    for name in TEXT_FIELDS:
        codes, uniques = pd.factorize(columns[name], use_na_sentinel=True)  # None → -1
        accepted = enums.get(name)
        good = np.array([(v is None or (len(v) <= MAX_TEXT and "\x00" not in v)) and (accepted is None or v in accepted)
                         for v in [*uniques.tolist(), None]], dtype=bool)  # the last: None, for code -1
        if not good.all():
            ok &= good[codes]
    return ok


# --- points ---------------------------------------------------------------------------------------------


def _points(source: Source, where: dict[str, str] | None, crs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, vouched) per row, in WGS-84 degrees; lon/lat are NaN where not vouched for."""
    if where is None:
        geoms = shapely.from_wkb(_objects(source.wkb), on_invalid="ignore")
        x, y, ok = _point_coordinates(geoms)
    elif "wkt" in where:
        texts = [v.strip() if type(v) is str and v.strip() else None for v in source.columns[where["wkt"]].tolist()]
        x, y, ok = _point_coordinates(shapely.from_wkt(_objects(texts), on_invalid="ignore"))
    else:
        x, ok_x = _numbers(source.columns[where["lon"]])
        y, ok_y = _numbers(source.columns[where["lat"]])
        ok = ok_x & ok_y
    ok &= np.isfinite(x) & np.isfinite(y)
    if not is_identity_crs(crs) and ok.any():
        x, y = x.copy(), y.copy()
        x[ok], y[ok] = (np.asarray(v, dtype=np.float64) for v in to_wgs84(x[ok], y[ok], crs))
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    return np.where(ok, x, np.nan), np.where(ok, y, np.nan), ok


def _objects(values: list | None) -> np.ndarray:
    out = np.empty(len(values or ()), dtype=object)
    out[:] = values or []
    return out


def _point_coordinates(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y of the non-empty Points (Z dropped, as the per-row path's force_2d does); others not vouched for."""
    ok = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    with np.errstate(invalid="ignore"):
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    return np.where(ok, x, np.nan), np.where(ok, y, np.nan), ok


def _numbers(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lon or lat column as floats (``float(cell)``, as the per-row path reads it); blank or not a number: not
    vouched for."""
    cells = np.asarray(cells)
    if cells.dtype.kind in "fiu":
        values = cells.astype(np.float64)
        return values, np.isfinite(values)
    try:
        values = cells.astype(np.float64)  # float() of each cell; raises at the first that is not a number
    except (TypeError, ValueError):
        values = np.array([_number(v) for v in cells.tolist()], dtype=np.float64)
    return values, np.isfinite(values)


def _number(cell: object) -> float:
    try:
        return float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
