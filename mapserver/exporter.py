"""Export store layers to GeoJSON, GeoPackage or CSV, deterministically.

Geometries are written in WGS-84 (EPSG:4326) lon/lat degrees, at full precision, so an
export imports back unchanged. The format follows the extension: ``.geojson``/``.json``
(GeoJSON), ``.gpkg`` (GeoPackage, one table named after the layer) or ``.csv`` (a
``wkt`` column last). Columns are the record fields in :mod:`mapserver.model` order,
so the files import back with :func:`mapserver.importer.import_layer` and no mapping.
Times are ISO 8601 text in UTC (``2026-11-20T09:30:00+00:00``) and incident ``extra``
is JSON text with sorted keys, so every format carries them the same way.

Determinism: rows are sorted by key in Python (code points, not the database's
collation), columns come in a fixed order and nothing time-dependent is written, so the
same store content gives byte-identical GeoJSON and CSV. (A GeoPackage is an SQLite
file whose metadata carries a modification time, so it is equal in content, not bytes.)
Files are written to a temporary name beside the target and renamed into place, so a
failed export never leaves half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from mapserver.errors import Problem
from mapserver.importing.fields import field_kinds
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import RECORD_TYPES
from mapserver.store import LAYERS, Store
from mapserver.store.common import KEYS, check_layer

__all__ = ["FORMATS", "export_all", "export_layer", "layer_frame"]

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV"}
_OPTIONS: dict[str, dict[str, str]] = {
    "CSV": {"LINEFORMAT": "LF"},  # the same bytes on every platform
    "GeoJSON": {},
    "GPKG": {},
}


def export_layer(store: Store, layer: str, path: str | Path, *, within: Jurisdiction = WHOLE) -> int:
    """Write one layer's records in ``within`` to ``path`` (format from the extension, file replaced); return the
    number of rows."""
    check_layer(layer)
    path = Path(path)
    driver = _driver(path)
    frame = layer_frame(store, layer, within=within)
    _replace(path, lambda tmp: _write(frame, tmp, driver, layer))
    return len(frame)


def export_all(store: Store, target: str | Path) -> dict[str, int]:
    """Write every layer: to a ``.gpkg`` with one table per layer, or to a folder.

    A folder gets ``<layer>.geojson`` per spatial layer and ``grid_staff.csv`` (staff have no
    geometry); it is created if missing. Returns rows written per layer.
    """
    target = Path(target)
    if target.suffix.lower() == ".gpkg":
        frames = {layer: layer_frame(store, layer) for layer in LAYERS}

        def write_all(tmp: Path) -> None:
            for layer, frame in frames.items():
                _write(frame, tmp, "GPKG", layer)

        _replace(target, write_all)
        return {layer: len(frame) for layer, frame in frames.items()}
    if target.suffix:
        raise Problem(400, f"export all goes to a .gpkg file or a folder, not {target.name}", param="file")
    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        raise Problem(400, f"cannot create folder {target}: {exc.strerror}", param="file") from None
    return {layer: export_layer(store, layer, target / f"{layer}{_folder_extension(layer)}") for layer in LAYERS}


def layer_frame(store: Store, layer: str, *, within: Jurisdiction = WHOLE) -> pd.DataFrame:
    """The layer's records in ``within`` as a (Geo)DataFrame in the export's row and column order; plain
    DataFrame for grid_staff."""
    key = KEYS[check_layer(layer)]
    records = sorted(store.layers.query(layer, within=within), key=lambda r: getattr(r, key))
    kinds = field_kinds(layer)
    frame = pd.DataFrame({name: _column([getattr(r, name) for r in records], kind)
                          for name, kind in kinds.items() if kind != "geom"})
    if not RECORD_TYPES[layer].GEOM_TYPES:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([r.geom for r in records], crs="EPSG:4326"),
                            crs="EPSG:4326")


def _column(values: list[Any], kind: str) -> Any:
    """A column typed so that GDAL gives it the right field type, with nulls kept as nulls."""
    if kind == "int":
        return pd.array(values, dtype="Int64")
    if kind == "float":
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    if kind == "bool":
        return np.array(values, dtype=bool)
    if kind == "time":
        values = [None if v is None else v.isoformat() for v in values]
    elif kind == "json":
        values = [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in values]
    return np.array(values, dtype=object)


def _folder_extension(layer: str) -> str:
    return ".geojson" if RECORD_TYPES[layer].GEOM_TYPES else ".csv"


def _driver(path: Path) -> str:
    driver = FORMATS.get(path.suffix.lower())
    if driver is None:
        raise Problem(400, f"cannot export to {path.name}: use .geojson, .json, .gpkg or .csv", param="file")
    return driver


def _write(frame: pd.DataFrame, path: Path, driver: str, layer: str) -> None:
    if driver == "CSV" and isinstance(frame, gpd.GeoDataFrame):
        # Our own WKT at full precision (shortest round-trip form), as the last column.
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)).assign(
            wkt=shapely.to_wkt(np.asarray(frame.geometry.values, dtype=object), rounding_precision=-1))
    elif driver == "GeoJSON" and not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), crs="EPSG:4326"))
    pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, layer_options=_OPTIONS[driver])


def _replace(path: Path, write: Callable[[Path], None]) -> None:
    """Run ``write`` on a temporary file beside ``path``, then rename it over ``path``."""
    if not path.parent.is_dir():
        raise Problem(404, f"cannot export to {path}: folder {path.parent} does not exist", param="file")
    if path.is_dir():
        raise Problem(400, f"cannot export to {path}: it is a folder", param="file")
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise Problem(400, f"cannot write {path}: {exc}", param="file") from None
    finally:
        tmp.unlink(missing_ok=True)
