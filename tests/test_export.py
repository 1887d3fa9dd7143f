"""``export_layer`` / ``export_all`` and ``mapserver export``: round trips, determinism, file layout.

Each test runs on both backends (the ``store`` fixture), with the sample records of
``tests/samples.py`` (WGS-84, near Chuanhui).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pyogrio
import pytest
from click.testing import CliRunner

from mapserver.cli import main
from mapserver.cli.data import export_command, import_command
from mapserver.errors import Problem
from mapserver.exporter import export_all, export_layer
from mapserver.importer import import_layer
from mapserver.model import field_names
from mapserver.store.common import KEYS, LAYERS
from tests import samples


def empty(store) -> None:
    for layer in LAYERS:
        store.layers.delete(layer, keys=[getattr(r, KEYS[layer]) for r in store.layers.query(layer)])
    assert not any(store.layers.count(layer) for layer in LAYERS)


def contents(store) -> dict[str, list]:
    """Every layer's records, staff without their store-given ids."""
    out = {layer: store.layers.query(layer) for layer in LAYERS}
    out["grid_staff"] = sorted((replace(s, id=None) for s in out["grid_staff"]), key=lambda s: (s.role, s.name))
    return out


@pytest.mark.parametrize("extension", ["geojson", "gpkg", "csv"])
def test_every_layer_round_trips_through_each_format(store, tmp_path, extension):
    samples.load_all(store)
    before = contents(store)
    for layer in LAYERS:
        assert export_layer(store, layer, tmp_path / f"{layer}.{extension}") == len(samples.ALL[layer])
    empty(store)
    for layer in LAYERS:  # grids first: staff need their grid in the store
        report = import_layer(store, layer, tmp_path / f"{layer}.{extension}")
        assert report.written == len(samples.ALL[layer]) and report.repairs == []
    assert contents(store) == before  # geometries compare exactly: full precision both ways


def test_geojson_and_csv_are_byte_identical_for_the_same_content(store, tmp_path):
    samples.load_all(store)
    first, second = tmp_path / "first", tmp_path / "second"
    export_all(store, first)
    for layer in LAYERS:
        export_layer(store, layer, first / f"{layer}.csv")
    # Same content, written in the opposite order: the files must not change.
    for layer in ("incidents", "roads", "addresses", "places", "cameras"):
        store.layers.delete(layer, keys=[getattr(r, KEYS[layer]) for r in store.layers.query(layer)])
        store.layers.add(layer, list(reversed(samples.ALL[layer])))
    export_all(store, second)
    for layer in LAYERS:
        export_layer(store, layer, second / f"{layer}.csv")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) == 2 * len(LAYERS) - 1
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

    cameras = json.loads((first / "cameras.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["code"] for f in cameras["features"]] == sorted(c.code for c in samples.CAMERAS)
    assert list(cameras["features"][0]["properties"]) == [n for n in field_names(type(samples.CAMERAS[0]))
                                                          if n != "geom"]
    assert cameras["features"][0]["geometry"] == {"type": "Point", "coordinates": [114.61, 33.61]}
    header = (first / "grids.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "code,level,name,parent_code,kind,subtype,households,population,division_code,wkt"


def test_export_all_to_a_geopackage_has_one_table_per_layer_and_imports_back(store, tmp_path):
    samples.load_all(store)
    counts = export_all(store, tmp_path / "all.gpkg")
    assert counts == {layer: len(samples.ALL[layer]) for layer in LAYERS}
    tables = dict(pyogrio.list_layers(tmp_path / "all.gpkg"))
    assert set(tables) == set(LAYERS)
    assert tables["grid_staff"] is None and tables["grids"] == "MultiPolygon"  # staff: a table without geometry
    before = contents(store)
    empty(store)
    for layer in LAYERS:  # the table named like the layer is picked without --layer
        import_layer(store, layer, tmp_path / "all.gpkg")
    assert contents(store) == before


def test_an_empty_store_exports_files_that_import_as_nothing(store, tmp_path):
    assert set(export_all(store, tmp_path / "dir").values()) == {0}
    assert sorted(p.name for p in (tmp_path / "dir").iterdir()) == sorted(
        f"{layer}.csv" if layer == "grid_staff" else f"{layer}.geojson" for layer in LAYERS)
    export_layer(store, "grids", tmp_path / "grids.csv")
    for path in [*(tmp_path / "dir").iterdir(), tmp_path / "grids.csv"]:
        report = import_layer(store, path.stem, path)
        assert (report.rows, report.written, report.notes) == (0, 0, ["the file has no rows"])


def test_export_mistakes_are_clear(store, tmp_path):
    out, folder = tmp_path / "out", tmp_path / "folder.geojson"
    out.mkdir()
    folder.mkdir()
    cases = [
        (lambda: export_layer(store, "grids", out / "grids.shp"), 400, "use .geojson, .json, .gpkg or .csv"),
        (lambda: export_layer(store, "grids", out / "no" / "grids.csv"), 404, "does not exist"),
        (lambda: export_layer(store, "nolayer", out / "x.csv"), 404, "unknown layer"),
        (lambda: export_all(store, out / "all.csv"), 400, "a .gpkg file or a folder"),
        (lambda: export_layer(store, "grids", folder), 400, "it is a folder"),
    ]
    for call, status, words in cases:
        with pytest.raises(Problem) as caught:
            call()
        assert caught.value.status == status and words in caught.value.detail, caught.value.detail
    assert list(out.iterdir()) == []  # no half-written files left behind


def test_cli_export_one_layer_and_all(store, tmp_path):
    main.add_command(import_command)
    main.add_command(export_command)
    samples.load_all(store)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")

    def run(*args: str):
        return CliRunner().invoke(main, ["--config", str(config), *map(str, args)], env={"MAPSERVER_STORE": store.url})

    result = run("export", "grids", tmp_path / "grids.geojson")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"grids: 4 written to {tmp_path / 'grids.geojson'}\n"
    result = run("export", "all", tmp_path / "all.gpkg")
    assert result.exit_code == 0 and "exported 7 layers" in result.stdout and "grid_staff 3" in result.stdout
    result = run("export", "grids", tmp_path / "grids.kml")
    assert result.exit_code == 1 and "use .geojson, .json, .gpkg or .csv" in result.output
