"""``GET /api/export/{layer}.{geojson|csv|gpkg}``: every layer, every format, read back with pyogrio, both backends.

Round trip: the download is read with pyogrio (GeoJSON, GeoPackage) or as CSV
with a WKT column, each cell converted with the importer's converters, and
the records must equal the store's (geometries exactly: full precision).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point

from mapserver.api import export as export_api
from mapserver.importing.fields import convert, field_kinds
from mapserver.model import RECORD_TYPES, Address
from mapserver.store.common import KEYS, LAYERS
from tests import samples

FORMATS = ("geojson", "csv", "gpkg")


def _records(layer: str, path) -> list:
    """The file's rows as records of the layer (cells converted as ``mapserver import`` converts them)."""
    kinds = field_kinds(layer)
    spatial = bool(RECORD_TYPES[layer].GEOM_TYPES)
    is_csv = path.suffix == ".csv"
    frame = pyogrio.read_dataframe(path, read_geometry=spatial and not is_csv)
    records = []
    for index in range(len(frame)):
        values = {}
        for name, kind in kinds.items():
            if kind == "geom":
                continue
            cell = frame[name].iloc[index]
            cell = None if cell is pd.NaT else cell  # pyogrio reads date-time fields as pandas times
            value, reason = convert(layer, name, kind, cell)
            assert reason is None, (layer, name, reason)
            if value is not None:  # blank cells take the field's default ("" for text), as the importer does
                values[name] = value
        if spatial:
            values["geom"] = shapely.from_wkt(frame["wkt"].iloc[index]) if is_csv else frame.geometry.iloc[index]
        records.append(RECORD_TYPES[layer](**values))
    return records


def _download(client, headers, layer: str, fmt: str, tmp_path):
    resp = client.get(f"/api/export/{layer}.{fmt}", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.headers["Content-Disposition"].startswith("attachment")
    path = tmp_path / f"{layer}.{fmt}"
    path.write_bytes(resp.get_data())
    return resp, path


def _same(layer: str, got: list, want: list) -> None:
    key = KEYS[layer]
    got, want = sorted(got, key=lambda r: getattr(r, key)), sorted(want, key=lambda r: getattr(r, key))
    if layer == "grids":  # the store returns grid polygons as MultiPolygons; files may carry either
        got = [replace(r, geom=shapely.MultiPolygon([r.geom]) if r.geom.geom_type == "Polygon" else r.geom)
               for r in got]
    for a, b in zip(got, want, strict=True):  # field by field first: a clearer message than two long reprs
        assert {n: v for n, v in vars(a).items() if v != getattr(b, n)} == {}, (layer, getattr(b, key))
    assert got == want


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_layer_round_trips(client, store, tokens, tmp_path, fmt):
    samples.load_all(store)
    for layer in LAYERS:
        resp, path = _download(client, tokens["viewer"], layer, fmt, tmp_path)
        assert resp.mimetype == export_api.MEDIA_TYPES[fmt].split(";")[0]
        _same(layer, _records(layer, path), store.layers.query(layer))


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_large_layers_are_streamed_in_pages(client, store, tokens, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(export_api, "PAGE_SIZE", 7)  # several pages from a small layer
    store.layers.add("addresses", [Address(code=f"B{i:03d}", text=f"七一路{i}号",
                                           geom=Point(114.6 + i / 997, 33.6 + i / 991)) for i in range(30)])
    resp = client.get(f"/api/export/addresses.{fmt}", headers=tokens["viewer"])
    assert resp.is_streamed
    path = tmp_path / f"addresses.{fmt}"
    path.write_bytes(resp.get_data())
    _same("addresses", _records("addresses", path), store.layers.query("addresses"))


def test_an_empty_layer_exports(client, store, tokens, tmp_path):
    for fmt in FORMATS:
        _, path = _download(client, tokens["viewer"], "roads", fmt, tmp_path)
        assert _records("roads", path) == []


def test_unknown_layers_and_formats_are_404_problems(client, store, tokens):
    for url in ("/api/export/nothing.geojson", "/api/export/grids.shp", "/api/export/grids.json.csv"):
        resp = client.get(url, headers=tokens["viewer"])
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json", url
    resp = client.get("/api/export/grids.csv?x=1", headers=tokens["viewer"])
    assert resp.status_code == 400 and resp.get_json()["param"] == "x"


def test_exports_need_a_token(client, store):
    assert client.get("/api/export/grids.csv").status_code == 401


def test_no_temporary_geopackage_is_left_behind(client, store, tokens, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"  # tmp_path itself holds the SQLite store
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    samples.load_all(store)
    resp = client.get("/api/export/grids.gpkg", headers=tokens["viewer"])
    assert resp.status_code == 200 and len(resp.get_data()) > 0
    resp.close()
    assert list(scratch.iterdir()) == []
