"""Whole-layer downloads: ``GET /api/export/{layer}.{geojson|csv|gpkg}`` for every layer (viewer token).

Geometries are WGS-84 (EPSG:4326 / CRS84) longitude/latitude degrees at full
precision; columns, times (ISO 8601, UTC) and JSON fields are written as
:mod:`mapserver.exporter` writes them, so a download imports back with
``mapserver import``. GeoJSON and CSV are streamed, written page by page from
the store (``PAGE_SIZE`` records in memory at a time), so a layer of a million
incidents never sits in memory; a GeoPackage (an SQLite file, not streamable)
is written to a temporary file by the exporter and sent from there.

Only the records in the asker's jurisdiction are written: the store's query
carries its condition (:mod:`mapserver.store.scoping`), for every format.

Pages are read by key order with offsets, so a download taken while the layer
is being written may miss or repeat the records written meanwhile; use
``mapserver export`` for a consistent snapshot.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import shapely
from flask import Blueprint, Response, request, send_file
from shapely.geometry import mapping

from mapserver.app_state import store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.exporter import export_layer
from mapserver.importing.fields import field_kinds
from mapserver.jurisdiction import Jurisdiction
from mapserver.model import RECORD_TYPES
from mapserver.parsing import reject_unknown
from mapserver.store import Store
from mapserver.store.common import KEYS, check_layer

bp = Blueprint("export", __name__, url_prefix="/api/export")

PAGE_SIZE = 5_000
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
               "gpkg": "application/geopackage+sqlite3"}


def _pages(current: Store, layer: str, within: Jurisdiction) -> Iterator[list[Any]]:
    """The layer's records in ``within``, in key order, PAGE_SIZE at a time."""
    offset = 0
    while True:
        page = current.layers.query(layer, limit=PAGE_SIZE, offset=offset, within=within)
        if not page:
            return
        yield page
        offset += len(page)


def _cell(value: Any, kind: str) -> Any:
    """A field value as the exporter writes it: times as ISO 8601 text, JSON objects as sorted JSON text."""
    if value is None:
        return None
    if kind == "time":
        return value.isoformat()
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _geojson(current: Store, layer: str, within: Jurisdiction) -> Iterator[str]:
    kinds = {name: kind for name, kind in field_kinds(layer).items() if kind != "geom"}
    key = KEYS[layer]
    yield '{"type": "FeatureCollection", "name": ' + json.dumps(layer) + ', "features": [\n'
    first = True
    for page in _pages(current, layer, within):
        chunk = []
        for record in page:
            geom = getattr(record, "geom", None)
            chunk.append(json.dumps({
                "type": "Feature", "id": getattr(record, key),
                "properties": {name: _cell(getattr(record, name), kind) for name, kind in kinds.items()},
                "geometry": mapping(geom) if geom is not None else None,  # floats as repr: full precision
            }, ensure_ascii=False))
        yield ("" if first else ",\n") + ",\n".join(chunk)
        first = False
    yield "\n]}\n"


def _csv(current: Store, layer: str, within: Jurisdiction) -> Iterator[str]:
    kinds = {name: kind for name, kind in field_kinds(layer).items() if kind != "geom"}
    spatial = bool(RECORD_TYPES[layer].GEOM_TYPES)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*kinds, "wkt"] if spatial else list(kinds))
    for page in _pages(current, layer, within):
        for record in page:
            row = [_cell(getattr(record, name), kind) for name, kind in kinds.items()]
            if spatial:
                row.append(shapely.to_wkt(record.geom, rounding_precision=-1))  # shortest exact form
            writer.writerow(["" if v is None else v for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _gpkg(current: Store, layer: str, within: Jurisdiction) -> Response:
    folder = Path(tempfile.mkdtemp(prefix="mapserver-export-"))
    try:
        path = folder / f"{layer}.gpkg"
        export_layer(current, layer, path, within=within)
        handle = path.open("rb")
    finally:
        # The open handle keeps the data readable until sent; the name goes now, so no request leaves a file.
        shutil.rmtree(folder, ignore_errors=True)
    return send_file(handle, mimetype=MEDIA_TYPES["gpkg"], as_attachment=True, download_name=f"{layer}.gpkg")


@bp.get("/<layer>.<fmt>")
def download(layer: str, fmt: str) -> Response:
    reject_unknown(request.args, ())
    check_layer(layer)
    if fmt not in MEDIA_TYPES:
        raise Problem(404, f"no export format '{fmt}'; formats: {', '.join(MEDIA_TYPES)}", param="format")
    # Captured here: the generators run after the view returns, outside the request.
    current, within = store(), request_jurisdiction()
    if fmt == "gpkg":
        return _gpkg(current, layer, within)
    body = _geojson(current, layer, within) if fmt == "geojson" else _csv(current, layer, within)
    return Response(body, content_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{layer}.{fmt}"'})
