"""``import_layer`` and ``mapserver import``: real boundary files, every kind of bad row, every format.

Each test runs on both backends (the ``store`` fixture). Fixture files are written into
``tmp_path`` by the tests themselves (GeoJSON by hand, so broken shapes survive; the
other formats with geopandas). Coordinates near Chuanhui, lon ≈ 114.6, lat ≈ 33.6.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiLineString, Point, box
from tqdm import tqdm

from mapserver import geo
from mapserver.cli import main
from mapserver.cli.data import export_command, import_command
from mapserver.errors import Problem
from mapserver.importer import import_layer
from mapserver.topology import area_m2
from tests import samples

BOUNDARIES = Path(__file__).resolve().parents[1] / "data/boundaries"  # the real files, shipped with the project
ZHOUKOU = BOUNDARIES / "411600_zhoukou_districts_gcj02.geojson"
HENAN = BOUNDARIES / "410000_henan_cities_gcj02.geojson"
AS_STREETS = {"mapping": {"code": "adcode"}, "values": {"level": 1}}
GEOD = Geod(ellps="WGS84")


# --- helpers --------------------------------------------------------------------------


def ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def polygon(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


STREET_RING = ring(114.60, 33.60, 114.70, 33.70)


def street(code: str = "411602001000000", geom: dict | None = None, **props) -> dict:
    return {"type": "Feature", "geometry": polygon(STREET_RING) if geom is None else geom,
            "properties": {"code": code, "level": 1, "name": "陈州回族街道", **props}}


def community(code: str, parent: str = "411602001000000", geom: dict | None = None, **props) -> dict:
    shape = polygon(ring(114.60, 33.60, 114.65, 33.65)) if geom is None else geom
    return {"type": "Feature", "geometry": shape,
            "properties": {"code": code, "level": 2, "parent_code": parent, "name": "北关社区", **props}}


def write_geojson(path: Path, features: list[dict]) -> Path:
    # json.dumps writes NaN and Infinity as bare tokens, which GDAL reads: that is how such files look.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def refused(store, layer: str, path: Path, **options) -> list[dict]:
    """Import expecting a 422; check that nothing was written; return the findings."""
    before = (store.layers.count(layer), store.layers.data_version(layer))
    with pytest.raises(Problem) as caught:
        import_layer(store, layer, path, **options)
    assert caught.value.status == 422, caught.value
    assert (store.layers.count(layer), store.layers.data_version(layer)) == before
    assert caught.value.detail.endswith("nothing was written")
    return caught.value.errors


def only(findings: list[dict]) -> dict:
    assert len(findings) == 1, findings
    return findings[0]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


# --- the real boundary files --------------------------------------------------------------


def test_zhoukou_districts_land_where_the_gcj02_conversion_puts_them(store):
    calls = []
    report = import_layer(store, "grids", ZHOUKOU, crs="gcj02", progress=lambda *a: calls.append(a), **AS_STREETS)
    assert (report.rows, report.written, report.repairs) == (10, 10, [])
    assert calls == [("checking geometries", 10, 10), ("checking rows", 10, 10), ("writing", 10, 10)]
    assert store.layers.count("grids", where={"level": 1}) == 10
    chuanhui = store.layers.get("grids", "411602")
    assert chuanhui.name == "川汇区" and chuanhui.parent_code is None
    source = gpd.read_file(ZHOUKOU).set_index("adcode").geometry[411602]

    # Every vertex is exactly where geo.gcj02_to_wgs84 puts it (well within 1 m).
    gx, gy = shapely.get_coordinates(source).T
    wx, wy = geo.gcj02_to_wgs84(gx, gy)
    stored = shapely.get_coordinates(chuanhui.geom)
    assert max(metres(a, b) for a, b in zip(stored, zip(wx, wy, strict=True), strict=True)) < 1.0

    # The centroid too. Not to 1 m: the GCJ-02 offset varies by ~15 m across a 30 km district, so the centroid
    # of the converted shape and the converted centroid differ by ~11 m; the shift itself is ~530 m.
    c_gcj = source.centroid
    expected = geo.gcj02_to_wgs84(c_gcj.x, c_gcj.y)
    c_wgs = chuanhui.geom.centroid
    assert metres((c_wgs.x, c_wgs.y), expected) < 20
    assert 300 < metres((c_wgs.x, c_wgs.y), (c_gcj.x, c_gcj.y)) < 1000


def test_henan_cities_are_refused_without_fix_naming_the_three_self_intersections(store):
    before = store.counts()
    findings = refused(store, "grids", HENAN, crs="gcj02", **AS_STREETS)
    assert store.counts() == before
    assert [(f["row"], f["id"], f["field"]) for f in findings] == [
        (10, "411000", "geom"), (12, "411200", "geom"), (15, "411500", "geom")]
    assert all(f["reason"].startswith("invalid polygon: Self-intersection at ") for f in findings)
    assert "113.818009 33.88663" in findings[0]["reason"]  # the location, in the file's own coordinates


def test_henan_cities_import_with_fix_and_report_the_repairs(store):
    bar = tqdm(file=io.StringIO())  # a tqdm bar is accepted as progress too
    report = import_layer(store, "grids", HENAN, crs="gcj02", fix=True, progress=bar, **AS_STREETS)
    assert (report.rows, report.written, bar.n, bar.total) == (18, 18, 18, 18)
    assert [(r["row"], r["id"]) for r in report.repairs] == [(10, "411000"), (12, "411200"), (15, "411500")]
    assert all("Self-intersection" in r["reason"] for r in report.repairs)
    assert "3 geometries repaired" in report.summary()
    xuchang = store.layers.get("grids", "411000")
    assert xuchang.geom.is_valid and xuchang.geom.geom_type == "MultiPolygon"


# --- one kind of bad row at a time ------------------------------------------------------------


BAD_GEOMETRIES = {
    "invalid polygon": {
        "self-intersection": (polygon([[114.6, 33.6], [114.7, 33.7], [114.7, 33.6], [114.6, 33.7], [114.6, 33.6]]),
                              "invalid polygon: Self-intersection at 114.65 33.65"),
        # shapely refuses to build these two; the reason comes from the raw coordinates.
        "unclosed ring": (polygon([[114.6, 33.6], [114.7, 33.6], [114.7, 33.7], [114.6, 33.7]]),
                          "invalid polygon: ring 1 is not closed: it starts at 114.6 33.6 and ends at 114.6 33.7"),
        "two-point ring": (polygon([[114.6, 33.6], [114.7, 33.6]]), "ring 1 is not closed"),
        "three-point ring": (polygon([[114.6, 33.6], [114.7, 33.6], [114.6, 33.6]]),
                             "invalid polygon: Too few points in geometry component at 114.6 33.6"),
    },
    "empty, missing or wrong type": {
        "empty": ({"type": "Polygon", "coordinates": []}, "geometry is empty"),
        "missing": (None, "geometry missing"),
        "wrong type": ({"type": "Point", "coordinates": [114.6, 33.6]},
                       "geometry type Point not allowed in grids; expected Polygon or MultiPolygon"),
    },
    "NaN or infinite": {
        "NaN": (polygon([[114.6, 33.6], [114.7, math.nan], [114.7, 33.7], [114.6, 33.6]]),
                "coordinate is NaN or infinite (vertex 2: 114.7 nan)"),
        "infinite": (polygon([[114.6, 33.6], [math.inf, 33.6], [114.7, 33.7], [114.6, 33.6]]),
                     "coordinate is NaN or infinite (vertex 2: inf 33.6)"),
    },
    "out of range": {
        "longitude": (polygon(ring(190.0, 33.6, 190.1, 33.7)), "longitude 190 outside -180..180"),
        "latitude": (polygon(ring(114.6, 90.5, 114.7, 90.6)), "latitude 90.5 outside -90..90"),
    },
}
BOWTIE = BAD_GEOMETRIES["invalid polygon"]["self-intersection"][0]
UNCLOSED = BAD_GEOMETRIES["invalid polygon"]["unclosed ring"][0]


@pytest.mark.parametrize("group", BAD_GEOMETRIES)
def test_each_kind_of_bad_geometry_is_refused_with_row_field_and_reason(store, tmp_path, group):
    for kind, (geom, reason) in BAD_GEOMETRIES[group].items():
        bad = {**street("411602002000000"), "geometry": geom}
        path = write_geojson(tmp_path / f"{kind}.geojson", [street("411602001000000"), bad])
        finding = only(refused(store, "grids", path))
        assert (finding["row"], finding["id"], finding["field"]) == (2, "411602002000000", "geom"), kind
        assert reason in finding["reason"], kind


def test_fix_repairs_an_unclosed_ring_and_a_bowtie_but_not_a_missing_geometry(store, tmp_path):
    path = write_geojson(tmp_path / "s.geojson", [street("A", geom=BOWTIE), street("B", geom=UNCLOSED)])
    report = import_layer(store, "grids", path, fix=True, allow_overlaps=True)  # A's triangles lie in B
    assert [(r["row"], r["id"]) for r in report.repairs] == [(1, "A"), (2, "B")]
    assert "not closed" in report.repairs[1]["reason"]
    assert store.layers.get("grids", "A").geom.area == pytest.approx(0.005)  # two triangles, nothing lost
    assert store.layers.get("grids", "B").geom.equals(box(114.6, 33.6, 114.7, 33.7))
    missing = {**street("C"), "geometry": None}
    assert "geometry missing" in only(refused(store, "grids", write_geojson(tmp_path / "m.geojson", [missing]),
                                              fix=True))["reason"]


def test_duplicate_code_in_the_file(store, tmp_path):
    path = write_geojson(tmp_path / "s.geojson", [street("X"), street("Y"), street("X")])
    finding = only(refused(store, "grids", path, allow_overlaps=True))  # one ring for all: overlaps tested apart
    assert (finding["row"], finding["id"], finding["field"]) == (3, "X", "code")
    assert "appears twice in the file (first at row 1)" in finding["reason"]


def test_duplicate_code_already_in_the_store(store, tmp_path):
    store.layers.add("grids", [samples.STREET])
    path = write_geojson(tmp_path / "s.geojson", [street("NEW"), street(samples.STREET.code)])
    finding = only(refused(store, "grids", path, allow_overlaps=True))
    assert (finding["row"], finding["field"]) == (2, "code")
    assert "already in the store" in finding["reason"]


def test_parent_neither_in_the_file_nor_in_the_store(store, tmp_path):
    path = write_geojson(tmp_path / "c.geojson", [community("C1", parent="NOPE")])
    finding = only(refused(store, "grids", path))
    assert (finding["row"], finding["field"]) == (1, "parent_code")
    assert finding["reason"] == "parent grid 'NOPE' is neither in this file nor in the store"


def test_parent_in_the_store_or_earlier_or_later_in_the_file_is_fine(store, tmp_path):
    store.layers.add("grids", [samples.STREET])
    path = write_geojson(tmp_path / "c.geojson", [community("C1", parent=samples.STREET.code)])
    assert import_layer(store, "grids", path).written == 1
    # Children may come before their parent in a file.
    path = write_geojson(tmp_path / "both.geojson", [community("C2", parent="S2"), street("S2")])
    assert import_layer(store, "grids", path, allow_overlaps=True).written == 2  # S2 lies on the stored street


def test_child_outside_its_parent_is_refused_beyond_the_tolerance(store, tmp_path):
    # 0.001° of longitude at 33.6° N is ~93 m: a 93 m × 5.5 km strip, ~1.9% of the child, lies outside.
    sticking_out = polygon(ring(114.599, 33.60, 114.65, 33.65))
    path = write_geojson(tmp_path / "c.geojson", [street("S"), community("C", parent="S", geom=sticking_out)])
    finding = only(refused(store, "grids", path))
    assert (finding["row"], finding["id"], finding["field"]) == (2, "C", "geom")
    assert "not inside its parent grid 'S'" in finding["reason"] and "% of the grid" in finding["reason"]


def test_child_overhanging_its_parent_by_a_hair_is_accepted(store, tmp_path):
    # 1e-7° (~1 cm) over a 5.5 km edge: ~50 m², far under 0.1% of the child's ~26 km².
    hair = polygon(ring(114.5999999, 33.60, 114.65, 33.65))
    path = write_geojson(tmp_path / "c.geojson", [street("S"), community("C", parent="S", geom=hair)])
    assert import_layer(store, "grids", path).written == 2


def test_parent_one_level_up_only(store, tmp_path):
    compound = {"type": "Feature", "geometry": polygon(ring(114.60, 33.60, 114.61, 33.61)),
                "properties": {"code": "K", "level": 3, "parent_code": "S", "name": "人和小区"}}
    finding = only(refused(store, "grids", write_geojson(tmp_path / "k.geojson", [street("S"), compound])))
    assert finding["field"] == "parent_code"
    assert "is level 1; a level-3 grid needs a level-2 parent" in finding["reason"]


def test_missing_required_value_and_missing_required_column(store, tmp_path):
    finding = only(refused(store, "grids", write_geojson(tmp_path / "s.geojson", [street("S", name="  ")])))
    assert (finding["row"], finding["field"], finding["reason"]) == (1, "name", "required but empty")
    nameless = {"type": "Feature", "geometry": polygon(STREET_RING), "properties": {"code": "S", "level": 1}}
    with pytest.raises(Problem) as caught:
        import_layer(store, "grids", write_geojson(tmp_path / "n.geojson", [nameless]))
    assert caught.value.status == 422
    assert "no column for required field(s) name" in caught.value.detail and "--map" in caught.value.detail


def test_values_of_the_wrong_type(store, tmp_path):
    path = write_geojson(tmp_path / "s.geojson", [street("S", households="many", population=2.5, level="one")])
    findings = refused(store, "grids", path)
    assert {f["field"]: f["reason"] for f in findings} == {
        "level": "expected a whole number, got 'one'",
        "households": "expected a whole number, got 'many'",
        "population": "expected a whole number, got 2.5",
    }


def test_a_mixed_file_lists_every_bad_row(store, tmp_path):
    store.layers.add("grids", [samples.STREET])
    features = [
        street("OK1"),
        street("BAD-GEOM", geom=BOWTIE),
        street(samples.STREET.code),
        community("ORPHAN", parent="NOPE"),
        street("BAD-TYPE", households=-5, kind="huge"),
        street("OK1"),
        {**street("NO-GEOM"), "geometry": None},
    ]
    findings = refused(store, "grids", write_geojson(tmp_path / "mixed.geojson", features), allow_overlaps=True)
    assert [(f["row"], f["field"]) for f in findings] == [
        (2, "geom"), (3, "code"), (4, "parent_code"), (5, "kind"), (5, "households"), (6, "code"), (7, "geom")]


def test_camera_codes_of_20_digits_must_be_text(store, tmp_path):
    def camera(code: object) -> dict:
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.61, 33.61]},
                "properties": {"code": code, "name": "七一路口", "status": "在线", "direction_deg": 90}}

    finding = only(refused(store, "cameras", write_geojson(tmp_path / "n.geojson", [camera(41160200001320000001)])))
    assert finding["field"] == "code" and "lost digits" in finding["reason"]
    report = import_layer(store, "cameras", write_geojson(tmp_path / "t.geojson", [camera("41160200001320000001")]))
    assert report.written == 1
    stored = store.layers.get("cameras", "41160200001320000001")
    assert (stored.status, stored.direction_deg) == ("online", 90.0)


def test_staff_need_their_grid_in_the_store_and_are_not_doubled(store, tmp_path):
    frame = pd.DataFrame({"grid_code": [samples.COMPOUND.code, "NOPE", samples.COMPOUND.code],
                          "role": ["网格长", "grid_worker", "网格员"], "name": ["张伟", "李娜", "王强"],
                          "phone": ["13800000001", "", "13800000003"]})
    frame.to_csv(tmp_path / "staff.csv", index=False)
    findings = refused(store, "grid_staff", tmp_path / "staff.csv")
    assert [(f["row"], f["field"]) for f in findings] == [(1, "grid_code"), (2, "grid_code"), (3, "grid_code")]
    store.layers.add("grids", samples.GRIDS)
    frame.loc[1, "grid_code"] = samples.COMPOUND.code
    frame.to_csv(tmp_path / "staff.csv", index=False)
    assert import_layer(store, "grid_staff", tmp_path / "staff.csv").written == 3
    assert {s.role for s in store.layers.query("grid_staff")} == {"grid_leader", "grid_worker"}
    again = refused(store, "grid_staff", tmp_path / "staff.csv")
    assert [(f["row"], f["field"]) for f in again] == [(1, "name"), (2, "name"), (3, "name")]
    assert again[0]["reason"] == f"张伟 is already grid_leader of grid {samples.COMPOUND.code} in the store"


def test_multilinestring_roads_are_split_into_numbered_parts(store, tmp_path):
    roads = gpd.GeoDataFrame(
        {"code": ["R1", "R2"], "name": ["七一路", "人和街"], "road_class": ["primary", "residential"],
         "oneway": [False, True]},
        geometry=[MultiLineString([[(114.60, 33.61), (114.65, 33.61)], [(114.66, 33.61), (114.70, 33.61)]]),
                  MultiLineString([[(114.61, 33.60), (114.61, 33.65)]])], crs=4326)
    roads.to_file(tmp_path / "roads.gpkg", layer="roads")
    report = import_layer(store, "roads", tmp_path / "roads.gpkg")
    assert (report.rows, report.written) == (2, 3)
    assert [r.code for r in store.layers.query("roads")] == ["R1-1", "R1-2", "R2"]
    assert store.layers.get("roads", "R1-2").geom.equals(LineString([(114.66, 33.61), (114.70, 33.61)]))
    assert store.layers.get("roads", "R2").oneway is True


def test_incidents_without_an_id_get_a_stable_one_so_a_second_import_is_refused(store, tmp_path):
    frame = pd.DataFrame({"lon": [114.612, 114.613], "lat": [33.612, 33.613], "category": ["disputes"] * 2,
                          "reported_at": ["2026-11-20T09:30:00+08:00", "2026-11-20 10:00"],
                          "severity": ["重要", "一般"], "description": ["邻里噪音纠纷", "占道经营"]})
    frame.to_csv(tmp_path / "events.csv", index=False)
    report = import_layer(store, "incidents", tmp_path / "events.csv")
    assert report.written == 2
    stored = store.layers.query("incidents")
    ids = sorted(i.id for i in stored)
    assert all(len(i) == 36 for i in ids)
    first = next(i for i in stored if i.description == "邻里噪音纠纷")
    assert (first.severity, first.reported_at.isoformat()) == ("important", "2026-11-20T01:30:00+00:00")
    findings = refused(store, "incidents", tmp_path / "events.csv")
    assert [(f["row"], f["field"]) for f in findings] == [(1, "id"), (2, "id")]
    assert findings[0]["id"] == first.id and {f["id"] for f in findings} == set(ids)


# --- formats, mappings and CRSs ---------------------------------------------------------------


def sample_grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["S", "C"], "level": [1, 2], "parent_code": [None, "S"],
                             "name": ["陈州回族街道", "北关社区"], "households": [12000, None]},
                            geometry=[box(114.60, 33.60, 114.70, 33.70), box(114.60, 33.60, 114.65, 33.65)],
                            crs=4326)


def assert_sample_grids(store) -> None:
    assert [g.code for g in store.layers.query("grids")] == ["C", "S"]
    top, child = store.layers.get("grids", "S"), store.layers.get("grids", "C")
    assert (child.level, child.parent_code, top.parent_code) == (2, "S", None)
    assert child.geom.equals(box(114.60, 33.60, 114.65, 33.65))
    assert (top.name, top.households, child.households) == ("陈州回族街道", 12000, None)


@pytest.mark.filterwarnings("ignore:.*(truncated|laundered)")  # parent_code → parent_cod in a .dbf, on purpose
@pytest.mark.parametrize("name", ["grids.geojson", "grids.json", "grids.gpkg", "grids.shp"])
def test_geojson_geopackage_and_shapefile(store, tmp_path, name):
    sample_grids().to_file(tmp_path / name)
    assert import_layer(store, "grids", tmp_path / name).written == 2
    assert_sample_grids(store)


@pytest.mark.filterwarnings("ignore:.*(truncated|laundered)")
def test_zipped_shapefile_in_a_folder_and_a_geopackage_with_several_layers(store, tmp_path):
    sample_grids().to_file(tmp_path / "grids.shp")
    with zipfile.ZipFile(tmp_path / "grids.zip", "w") as archive:
        for part in tmp_path.glob("grids.*"):
            if part.suffix != ".zip":
                archive.write(part, f"边界/{part.name}")
    assert import_layer(store, "grids", tmp_path / "grids.zip").written == 2
    assert_sample_grids(store)

    gpkg = tmp_path / "many.gpkg"
    sample_grids().assign(code=["S2", "C2"], parent_code=[None, "S2"]).to_file(gpkg, layer="街道")
    sample_grids().to_file(gpkg, layer="other")
    with pytest.raises(Problem) as caught:
        import_layer(store, "grids", gpkg)
    assert caught.value.status == 400 and "choose one with --layer" in caught.value.detail
    assert import_layer(store, "grids", gpkg, source_layer="街道", allow_overlaps=True).written == 2  # S2 on S


def test_csv_with_lon_lat_columns_and_with_a_wkt_column(store, tmp_path):
    (tmp_path / "cams.csv").write_text("Code,名称,LNG,Lat,status\n41160200001320000001,七一路口,114.61,33.61,online\n"
                                       "41160200001320000002,东门,114.63,33.605,\n", encoding="utf-8-sig")
    report = import_layer(store, "cameras", tmp_path / "cams.csv", mapping={"name": "名称"})
    assert report.written == 2 and report.crs == "wgs84"
    assert store.layers.get("cameras", "41160200001320000002").geom.equals(Point(114.63, 33.605))
    assert store.layers.get("cameras", "41160200001320000002").status == "unknown"  # empty → the default

    sample_grids().to_wkt().to_csv(tmp_path / "grids.csv", index=False)
    assert import_layer(store, "grids", tmp_path / "grids.csv").written == 2
    assert_sample_grids(store)


def test_csv_in_gb18030_and_bad_lon_lat_cells(store, tmp_path):
    (tmp_path / "a.csv").write_bytes("code,text,经度,纬度\nA1,川汇区七一路18号,114.611,33.611\nA2,人和街,abc,33.6\n"
                                     "A3,八一路,114.6,\n".encode("gb18030"))
    findings = refused(store, "addresses", tmp_path / "a.csv")
    assert [(f["row"], f["reason"]) for f in findings] == [(2, "经度 'abc' is not a number"), (3, "纬度 is empty")]


def test_map_renames_columns_and_set_gives_every_row_a_value(store, tmp_path):
    frame = sample_grids().rename(columns={"code": "网格编码", "name": "网格名称", "parent_code": "上级"})
    frame.drop(columns="level").iloc[:1].to_file(tmp_path / "g.geojson")
    report = import_layer(store, "grids", tmp_path / "g.geojson",
                          mapping={"code": "网格编码", "name": "网格名称", "parent_code": ""}, values={"level": "街道"})
    assert report.written == 1
    assert store.layers.get("grids", "S").level == 1
    assert report.notes == ["columns not imported: 上级"]
    with pytest.raises(Problem) as caught:
        import_layer(store, "grids", tmp_path / "g.geojson", mapping={"code": "编码"})
    assert caught.value.status == 400 and "has no column '编码'" in caught.value.detail


def test_crs_bd09(store, tmp_path):
    wgs = np.array([[114.61, 33.61], [114.63, 33.605]])
    bx, by = geo.wgs84_to_bd09(wgs[:, 0], wgs[:, 1])
    pd.DataFrame({"code": ["A1", "A2"], "text": ["七一路18号", "人和街"], "lng": bx, "lat": by}).to_csv(
        tmp_path / "baidu.csv", index=False)
    import_layer(store, "addresses", tmp_path / "baidu.csv", crs="bd09")
    got = np.array([[a.geom.x, a.geom.y] for a in store.layers.query("addresses")])
    assert np.abs(got - wgs).max() < 1e-7  # ~1 cm
    assert metres(tuple(wgs[0]), (bx[0], by[0])) > 500  # and the BD-09 shift was real


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # a file that does not say its CRS, on purpose
def test_crs_epsg_4547_given_or_declared_by_the_file(store, tmp_path):
    to_4547 = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    x, y = to_4547.transform([114.61, 114.63], [33.61, 33.605])
    assert 400_000 < x[0] < 600_000  # metres, CGCS2000 Gauss-Krüger zone with central meridian 114° E
    points = [Point(x[0], y[0]), Point(x[1], y[1])]
    frame = gpd.GeoDataFrame({"code": ["A1", "A2"], "text": ["七一路18号", "人和街"]}, geometry=points)
    frame.to_file(tmp_path / "no_crs.geojson")
    import_layer(store, "addresses", tmp_path / "no_crs.geojson", crs="EPSG:4547")
    assert store.layers.get("addresses", "A1").geom.distance(Point(114.61, 33.61)) < 1e-7
    frame.set_crs(4547).assign(code=["B1", "B2"]).to_file(tmp_path / "declared.shp")
    report = import_layer(store, "addresses", tmp_path / "declared.shp")
    assert report.crs == "EPSG:4547"
    assert store.layers.get("addresses", "B2").geom.distance(Point(114.63, 33.605)) < 1e-7


def test_file_layer_and_crs_mistakes_are_clear(store, tmp_path):
    cases = [
        (("grids", tmp_path / "nope.geojson"), {}, 404, "no such file"),
        (("grids", write_geojson(tmp_path / "a.txt", [])), {}, 400, "unknown file type .txt"),
        (("nolayer", write_geojson(tmp_path / "a.geojson", [])), {}, 404, "unknown layer 'nolayer'"),
        (("grids", tmp_path / "a.geojson"), {"crs": "mars2000"}, 400, "unknown CRS"),
        (("grids", tmp_path / "a.geojson"), {"source_layer": "x"}, 404, "no layer 'x' in a.geojson"),
    ]
    (tmp_path / "broken.geojson").write_text("{not json", encoding="utf-8")
    cases.append((("grids", tmp_path / "broken.geojson"), {}, 400, "cannot read broken.geojson"))
    for args, options, status, words in cases:
        with pytest.raises(Problem) as caught:
            import_layer(store, *args, **options)
        assert (caught.value.status, words in caught.value.detail) == (status, True), caught.value.detail


# --- the command ------------------------------------------------------------------------


@pytest.fixture
def cli(store, tmp_path):
    """Run ``mapserver …`` against the test's store."""
    main.add_command(import_command)
    main.add_command(export_command)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["--config", str(config), *map(str, args)], env={"MAPSERVER_STORE": store.url})

    return run


def test_cli_import_prints_the_summary(cli, store):
    result = cli("import", "grids", ZHOUKOU, "--crs", "gcj02", "--map", "code=adcode", "--set", "level=1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("grids: 10 written from 10 rows of 411600_zhoukou_districts_gcj02.geojson "
                                    "(gcj02 → WGS-84)")
    assert "note: columns not imported: center, centroid" in result.stdout
    assert store.layers.count("grids") == 10


def test_cli_import_refusal_lists_every_bad_row_and_exits_non_zero(cli, store):
    result = cli("import", "grids", HENAN, "--crs", "gcj02", "--map", "code=adcode", "--set", "level=1")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        "  row 10 (411000) geom: invalid polygon: Self-intersection at 113.818009 33.88663",
        "  row 12 (411200) geom: invalid polygon: Self-intersection at 112.031992 34.782965",
        "  row 15 (411500) geom: invalid polygon: Self-intersection at 113.768182 32.28406",
    ]
    assert "3 problems in 410000_henan_cities_gcj02.geojson; nothing was written" in lines[3]
    assert store.layers.count("grids") == 0
    fixed = cli("import", "grids", HENAN, "--crs", "gcj02", "--map", "code=adcode", "--set", "level=1", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "3 geometries repaired" in fixed.stdout and "repaired row 10 (411000)" in fixed.stdout


def test_cli_usage_mistakes(cli):
    result = cli("import", "grids", ZHOUKOU, "--map", "code")
    assert result.exit_code == 2 and "expected FIELD=VALUE" in result.output
    result = cli("import", "grids", ZHOUKOU, "--crs", "wgs-85")
    assert result.exit_code == 1 and "unknown CRS 'wgs-85'" in result.output


# --- overlaps within a level ------------------------------------------------------------------

OVERLAP = re.compile(r"overlaps level-(\d) grid '([^']+)'(?: \(row (\d+)\)|, already in the store,) by ([\d,.]+) m² "
                     r"around lon ([\d.]+), lat ([\d.]+); ")


def overlap_of(finding: dict) -> tuple[str, float, Point]:
    """(the other grid's code, the area in m², the location) that an overlap finding states."""
    match = OVERLAP.match(finding["reason"])
    assert match, finding["reason"]
    return match[2], float(match[4].replace(",", "")), Point(float(match[5]), float(match[6]))


def geodesic_m2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def special(code: str, geom: dict, level: int = 2, parent: str = "411602001000000") -> dict:
    return {"type": "Feature", "geometry": geom,
            "properties": {"code": code, "level": level, "parent_code": parent, "name": "第一初级中学",
                           "kind": "special", "subtype": "school"}}


def test_overlap_within_the_file_is_refused_naming_both_grids_the_area_and_a_location(store, tmp_path):
    east = polygon(ring(114.70, 33.60, 114.80, 33.70))  # shares the edge lon 114.70 with the street: touching is fine
    across = box(114.68, 33.60, 114.72, 33.61)  # straddles that edge: overlaps both
    path = write_geojson(tmp_path / "s.geojson", [street("A"), street("B", geom=east),
                                                  street("C", geom=shapely.geometry.mapping(across))])
    findings = refused(store, "grids", path)
    assert [(f["row"], f["id"], f["field"]) for f in findings] == [(3, "C", "geom"), (3, "C", "geom")]
    assert all("(row " in f["reason"] and "--allow-overlaps" in f["reason"] for f in findings)
    stated = sorted(overlap_of(f) for f in findings)
    assert [code for code, _, _ in stated] == ["A", "B"]
    for (code, area, where), other in zip(stated, [box(114.60, 33.60, 114.70, 33.70), shapely.from_geojson(
            json.dumps(east))], strict=True):
        shared = across.intersection(other)
        assert area == pytest.approx(geodesic_m2(shared), rel=1e-3), code  # ~1.86 km² each
        assert shared.buffer(1e-6).covers(where), code


def test_overlap_with_a_grid_already_in_the_store_is_refused(store, tmp_path):
    store.layers.add("grids", samples.GRIDS)  # street 114.60–114.70; community 114.60–114.65; a compound; a school
    east = polygon(ring(114.695, 33.60, 114.80, 33.70))  # 0.005° (~460 m) over the stored street's east edge
    corner = community("C9", parent=samples.STREET.code, geom=polygon(ring(114.65, 33.65, 114.70, 33.70)))
    path = write_geojson(tmp_path / "s.geojson", [street("E", geom=east), corner])  # C9 only touches at a corner
    finding = only(refused(store, "grids", path))
    assert (finding["row"], finding["id"], finding["field"]) == (1, "E", "geom")
    assert ", already in the store, by " in finding["reason"]
    code, area, where = overlap_of(finding)
    assert code == samples.STREET.code
    assert area == pytest.approx(geodesic_m2(box(114.695, 33.60, 114.70, 33.70)), rel=1e-3)  # ~5.1 km²
    assert box(114.695, 33.60, 114.70, 33.70).covers(where)


def test_allow_overlaps_imports_them(store, tmp_path):
    store.layers.add("grids", [samples.STREET])
    path = write_geojson(tmp_path / "s.geojson", [street("A"), street("B")])  # both on the stored street too
    assert len(refused(store, "grids", path)) == 3  # A on the stored street; B on it and on A
    assert import_layer(store, "grids", path, allow_overlaps=True).written == 2
    assert store.layers.count("grids", where={"level": 1}) == 3


def test_special_grids_are_never_refused_for_overlapping(store, tmp_path):
    store.layers.add("grids", samples.GRIDS)  # includes a special school at level 3 over the compound
    school = polygon(ring(114.60, 33.60, 114.66, 33.66))  # over the stored community and beyond it
    clinic = polygon(ring(114.62, 33.62, 114.64, 33.64))  # inside the school
    campus = special("411602001001902", polygon(ring(114.605, 33.605, 114.62, 33.62)), level=3,
                     parent=samples.COMMUNITY.code)  # over the stored compound and the stored school
    path = write_geojson(tmp_path / "s.geojson", [special("411602001901000", school),
                                                  special("411602001902000", clinic), campus])
    assert import_layer(store, "grids", path).written == 3


def test_an_overlap_under_1_m2_is_a_sliver_and_passes_but_1_m2_is_refused(store, tmp_path):
    # 0.001° squares at lat 33.6 (~93 m × 111 m); shifting the second one by w degrees of longitude
    # leaves an overlap of w × 0.001 degrees², ~w × 1.03e7 m²: 5e-8° → ~0.5 m², 2e-7° → ~2 m².
    def pair(x0: float, w: float, codes: tuple[str, str]) -> list[dict]:
        return [street(codes[0], geom=polygon(ring(x0, 33.600, x0 + 0.001, 33.601))),
                street(codes[1], geom=polygon(ring(x0 + 0.001 - w, 33.600, x0 + 0.002 - w, 33.601)))]

    assert area_m2(box(114.6, 33.6, 114.6 + 5e-8, 33.601)) == pytest.approx(0.52, abs=0.01)
    sliver = write_geojson(tmp_path / "sliver.geojson", pair(114.600, 5e-8, ("S1", "S2")))
    assert import_layer(store, "grids", sliver).written == 2
    overlap = write_geojson(tmp_path / "overlap.geojson", pair(114.610, 2e-7, ("O1", "O2")))
    finding = only(refused(store, "grids", overlap))
    code, area, _ = overlap_of(finding)
    assert (finding["row"], code) == (2, "O1")
    assert area == pytest.approx(geodesic_m2(box(114.611 - 2e-7, 33.600, 114.611, 33.601)), abs=0.05)  # 0.1 m²


def test_zhoukou_districts_touch_but_do_not_overlap_and_a_second_copy_is_refused(store):
    assert import_layer(store, "grids", ZHOUKOU, crs="gcj02", **AS_STREETS).written == 10
    districts = store.layers.query("grids")
    shapes = [d.geom for d in districts]
    left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    touching = [(i, j) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j]
    assert len(touching) == 19  # neighbours share their boundaries exactly, after the GCJ-02 conversion too
    assert max(area_m2(shapes[i].intersection(shapes[j])) for i, j in touching) == 0.0

    # The same boundaries under other codes (their names) land on the stored districts: one finding per row.
    findings = refused(store, "grids", ZHOUKOU, crs="gcj02", mapping={"code": "name"}, values={"level": 1})
    by_name = {d.name: d for d in districts}
    assert len(findings) == 10
    for found in findings:
        code, area, where = overlap_of(found)
        twin = by_name[found["id"]]
        assert code == twin.code
        assert area == pytest.approx(geodesic_m2(twin.geom), rel=1e-3)  # ~300–1,800 km², scaled at one latitude
        assert twin.geom.covers(where)


def test_cli_refuses_overlaps_unless_allow_overlaps(cli, store, tmp_path):
    path = write_geojson(tmp_path / "s.geojson", [street("A"), street("B")])
    result = cli("import", "grids", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("  row 2 (B) geom: overlaps level-1 grid 'A' (row 1) by ")
    assert "1 problem in s.geojson; nothing was written" in result.stderr
    result = cli("import", "grids", path, "--allow-overlaps")
    assert result.exit_code == 0, result.output
    assert store.layers.count("grids") == 2


@pytest.mark.parametrize("text, zone, expected", [
    ("2026-11-20 10:00", "Asia/Shanghai", datetime(2026, 11, 20, 2, 0, tzinfo=UTC)),   # local wall-clock time
    ("2026/11/20 10:00:00", "Asia/Shanghai", datetime(2026, 11, 20, 2, 0, tzinfo=UTC)),
    ("2026-11-20T10:00:00+00:00", "Asia/Shanghai", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),  # offset wins
    ("2026-11-20 10:00", "UTC", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
])
def test_times_without_an_offset_are_local_time_where_recorded(text, zone, expected):
    from mapserver.importing.fields import convert

    assert convert("incidents", "reported_at", "time", text, timezone=zone) == (expected, None)


# --- CSV read by pandas, as GDAL reads it ------------------------------------------------------------------

TRICKY_CSV = {
    "plain": "code,text,lon,lat\nA1,七一路,114.6,33.6\n",
    "blanks kept": "code,text,lon,lat\n A1 ,\" 七一路 \",114.6 , 33.6\n",
    "quotes and breaks": 'code,text,lon,lat\nA1,"他说""好"", 一\n二",114.6,33.6\n\nA2,,114.7,33.7\n',
    "crlf": "code,text,lon,lat\r\nA1,x,114.6,33.6\r\n\r\nA2,y,114.7,33.7\r\n",
    "crlf inside quotes": 'code,text,lon,lat\r\nA1,"x\r\ny",114.6,33.6\r\n',
    "short and long lines": "code,text,lon,lat\nA1,x,114.6\nA2,y,114.7,33.7,extra\n",
    "semicolons": "code;text;lon;lat\nA1;x;114.6;33.6\n",
    "a line of blanks": "code,text,lon,lat\nA1,x,114.6,33.6\n   \nA2,y,114.7,33.7\n",
    "numbers as header": "1,2,3,4\n5,6,7,8\n",
    "duplicate and empty names": "code,code,,lat\nA1,x,114.6,33.6\n",
    "header only": "code,text,lon,lat\n",
    "unbalanced quote": 'code,text,lon,lat\nA1,"x,114.6,33.6\n',
}


@pytest.mark.parametrize("name", list(TRICKY_CSV))
def test_a_csv_reads_as_gdal_reads_it(tmp_path, name):
    import pyogrio

    from mapserver.importing import source as source_module
    from mapserver.importing.source import read_source

    path = tmp_path / "a.csv"
    path.write_bytes(TRICKY_CSV[name].encode("utf-8"))
    try:
        meta, _, _, values = pyogrio.raw.read(str(path), read_geometry=False, encoding="UTF-8")
    except source_module._READ_ERRORS as exc:  # GDAL refuses the file: the import must refuse it too
        with pytest.raises(Problem) as caught:
            read_source(path, None, "addresses")
        assert caught.value.status == 400 and str(exc).strip()[:40] in caught.value.detail
        return
    gdal = {str(f): ["" if v is None else v for v in column] for f, column in zip(meta["fields"], values, strict=True)}
    source = read_source(path, None, "addresses")
    assert {c: ["" if v is None else v for v in column] for c, column in source.columns.items()} == gdal
    assert source.rows == len(values[0]) if values else source.rows == 0


def test_a_plain_csv_is_read_by_pandas_and_a_typed_one_by_gdal(tmp_path):
    from mapserver.importing import source

    path = tmp_path / "a.csv"
    path.write_text(TRICKY_CSV["quotes and breaks"], encoding="utf-8")
    assert source._read_csv(path, str(path), "a", "UTF-8") is not None
    (tmp_path / "a.csvt").write_text('"String","String","Real","Real"\n', encoding="utf-8")  # GDAL's column types
    assert source._read_csv(path, str(path), "a", "UTF-8") is None
    assert source.read_source(path, None, "addresses").columns["lon"].dtype == np.float64
