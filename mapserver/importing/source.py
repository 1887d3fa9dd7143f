"""Open an import file and read it into plain columns plus raw geometries.

Formats (by extension): GeoJSON (``.geojson``, ``.json``), GeoPackage (``.gpkg``),
Shapefile (``.shp``, or a ``.zip`` holding one or more), CSV (``.csv``). Reading goes
through pyogrio (GDAL). Geometries are kept raw (WKB bytes) rather than built into
shapely objects, because shapely refuses some broken shapes outright (an unclosed ring)
and a whole-file read would then fail without saying which row is at fault. CSV files
are read as text only; their geometry (a WKT column or lon/lat columns) is parsed by
:mod:`mapserver.importing.geometry`.

A plain ``.csv`` is read by pandas' C parser (much faster than GDAL's CSV driver) when
it reads the file as GDAL would: the same column names as GDAL finds (GDAL's header
rules, separator detection, ``field_N`` names and ``.csvt`` column types all show there),
no cell typed by GDAL, and none of the few things the two read differently (a NUL byte,
a line of blanks only, a carriage return inside a quoted cell, a malformed line).
Otherwise GDAL reads it.

Coordinates are left in the file's own CRS; :attr:`Source.crs` is what the file
declares (``EPSG:n``), if anything.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
from pyproj import CRS
from pyproj.exceptions import CRSError

from mapserver.errors import Problem

SUPPORTED = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".csv": "CSV",
}
_IN_ZIP = (".shp", ".gpkg", ".geojson", ".json", ".csv")
_READ_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
    OSError,
    UnicodeDecodeError,
    zipfile.BadZipFile,
)


@dataclass
class Source:
    """One layer of an import file, read into memory."""

    path: Path
    layer: str
    is_csv: bool
    columns: dict[str, np.ndarray]
    wkb: list[bytes | None] | None  # one per row; None for the whole file when it has no geometry
    crs: str | None
    rows: int


def read_source(path: str | Path, source_layer: str | None, target_layer: str) -> Source:
    """Read one layer of ``path``; Problem 404 for a missing file or layer, 400 for an unreadable one."""
    path = Path(path)
    if not path.is_file():
        raise Problem(404, f"no such file: {path}", param="file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        kinds = ", ".join(f"{ext} ({name})" for ext, name in SUPPORTED.items())
        raise Problem(400, f"cannot import {path.name}: unknown file type {suffix or '(none)'}; use {kinds}",
                      param="file")
    try:
        dataset, is_csv = _dataset(path, source_layer)
        layer = _pick_layer(path, dataset, source_layer, target_layer)
        return _read(path, dataset, layer, is_csv)
    except _READ_ERRORS as exc:
        raise Problem(400, f"cannot read {path.name}: {str(exc).strip()}", param="file") from None


def _dataset(path: Path, source_layer: str | None) -> tuple[str, bool]:
    """What GDAL should open: the file itself, or the chosen member of a zip through /vsizip/."""
    if path.suffix.lower() != ".zip":
        return str(path), path.suffix.lower() == ".csv"
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if n.lower().endswith(_IN_ZIP) and "__MACOSX" not in n]
    if not members:
        raise Problem(400, f"{path.name} holds no .shp, .gpkg, .geojson or .csv file", param="file")
    by_stem = {Path(m).stem: m for m in members}
    shapefiles = [m for m in members if m.lower().endswith(".shp")]
    if len(members) > 1 and source_layer is None and len(shapefiles) == 1:
        members = shapefiles  # one Shapefile beside, say, a CSV of metadata: the Shapefile is the data
    if len(members) > 1:
        if source_layer not in by_stem:
            choices = ", ".join(sorted(by_stem))
            raise Problem(404 if source_layer else 400,
                          f"{path.name} holds several data files; choose one with --layer: {choices}", param="layer")
        members = [by_stem[source_layer]]
    member = members[0]
    return f"/vsizip/{path.resolve()}/{member}", member.lower().endswith(".csv")


def _pick_layer(path: Path, dataset: str, source_layer: str | None, target_layer: str) -> str:
    """The asked-for layer; else the only one; else the one named like the target (as ``export all`` writes)."""
    names = [str(name) for name, _ in pyogrio.list_layers(dataset)]
    if source_layer is not None and source_layer in names:
        return source_layer
    if source_layer is not None:
        raise Problem(404, f"no layer '{source_layer}' in {path.name}; layers: {', '.join(names)}", param="layer")
    if len(names) == 1:
        return names[0]
    if target_layer in names:
        return target_layer
    raise Problem(400, f"{path.name} has {len(names)} layers; choose one with --layer: {', '.join(names)}",
                  param="layer")


_BLANK_LINE = re.compile(rb"(?:^|\n)[ \t\f\v]+\r?(?:\n|$)")  # a line of blanks: GDAL keeps it as a row, pandas not
_PANDAS_ENCODING = {"UTF-8": "utf-8-sig", "GB18030": "gb18030"}  # GDAL drops a UTF-8 BOM too


def _read(path: Path, dataset: str, layer: str, is_csv: bool) -> Source:
    encoding = _csv_encoding(path) if is_csv and path.suffix.lower() == ".csv" else None
    if encoding is not None:
        fast = _read_csv(path, dataset, layer, encoding)
        if fast is not None:
            return fast
    with warnings.catch_warnings():
        # GDAL warns about unclosed rings and the like; the geometry checks report them per row.
        warnings.simplefilter("ignore", RuntimeWarning)
        meta, _, geometry, values = pyogrio.raw.read(
            dataset, layer=layer, read_geometry=not is_csv, datetime_as_string=True, encoding=encoding)
    columns = {str(name): np.asarray(data) for name, data in zip(meta["fields"], values, strict=True)}
    rows = len(geometry) if geometry is not None else (len(values[0]) if values else 0)
    wkb = None if geometry is None or meta.get("geometry_type") is None else list(geometry)
    return Source(path=path, layer=layer, is_csv=is_csv, columns=columns, wkb=wkb, crs=_declared_crs(meta["crs"]),
                  rows=rows)


def _read_csv(path: Path, dataset: str, layer: str, encoding: str) -> Source | None:
    """A plain CSV read by pandas, as GDAL reads it (cells as text, empty cells as ""); None when pandas might
    read it otherwise, and GDAL should."""
    if any(path.with_suffix(suffix).exists() for suffix in (".csvt", ".CSVT")):
        return None  # GDAL types the columns by it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _, _, head = pyogrio.raw.read(dataset, layer=layer, read_geometry=False, datetime_as_string=True,
                                                encoding=encoding, max_features=1)
    except _READ_ERRORS:
        return None  # GDAL's whole read says what it says of this file
    names = [str(name) for name in meta["fields"]]
    if any(np.asarray(values).dtype != object for values in head):
        return None
    data = path.read_bytes()
    if b"\x00" in data or (_may_have_blank_line(data) and _BLANK_LINE.search(data)):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # e.g. a line with too many cells
            frame = pd.read_csv(io.BytesIO(data), dtype=object, keep_default_na=False, na_filter=False,
                                index_col=False, engine="c", encoding=_PANDAS_ENCODING[encoding])
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError):
        return None
    if list(frame.columns) != names:
        return None
    columns = {name: frame[name].to_numpy(dtype=object) for name in names}
    if b"\r" in data and any("\r" in " ".join(values.tolist()) for values in columns.values()):
        return None  # a quoted cell over several CRLF lines: GDAL reads its line breaks as "\n"
    return Source(path=path, layer=layer, is_csv=True, columns=columns, wkb=None, crs=_declared_crs(meta["crs"]),
                  rows=len(frame))


def _may_have_blank_line(data: bytes) -> bool:
    """Whether some line starts with a blank (a quick look before the slower exact search)."""
    blanks = (b" ", b"\t", b"\f", b"\v")
    return data[:1] in blanks or any(b"\n" + blank in data for blank in blanks)


def _csv_encoding(path: Path) -> str:
    """UTF-8 when the file's start decodes as UTF-8, else GB18030 (what Excel in China saves CSV as)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def _declared_crs(crs: Any) -> str | None:
    """``EPSG:n`` for the CRS a file declares, when it can be identified; None when it declares none."""
    if not crs:
        return None
    text = str(crs)
    if text.upper().startswith("EPSG:"):
        return text.upper()
    try:
        code = CRS.from_user_input(text).to_epsg(min_confidence=70)
    except CRSError:
        code = None
    return f"EPSG:{code}" if code else text
