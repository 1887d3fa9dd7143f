"""Point and address → responsible grid over HTTP, one at a time and in bulk, on both backends."""

from __future__ import annotations

import csv
import io

import pytest

from mapserver.geo import from_wgs84
from tests import samples
from tests.test_api import assert_problem


@pytest.fixture
def city(store):
    samples.load_all(store)
    return store


def test_point_lookup_gives_chain_staff_and_liaison(client, city, tokens):
    body = client.get("/api/lookup?lon=114.6005&lat=33.6005", headers=tokens["viewer"]).get_json()
    assert body["match"] == "within" and body["distance_m"] == 0
    assert [g["code"] for g in body["chain"]] == [samples.STREET.code, samples.COMMUNITY.code, samples.COMPOUND.code]
    assert body["grid"]["name"] == "人和小区"
    assert {p["role"] for p in body["staff"]} == {"grid_leader", "grid_worker", "police_liaison"}
    assert body["police_liaison"]["name"] == "王强"


def test_special_grids_come_after_the_chain(client, city, tokens):
    body = client.get("/api/lookup?lon=114.612&lat=33.612", headers=tokens["viewer"]).get_json()
    assert [g["code"] for g in body["special"]] == [samples.SCHOOL.code]
    assert body["grid"]["code"] == samples.COMPOUND.code


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "cgcs2000", "EPSG:4326"])
def test_any_of_the_chinese_systems(client, city, tokens, crs):
    lon, lat = from_wgs84(114.6005, 33.6005, crs)
    body = client.get(f"/api/lookup?lon={lon}&lat={lat}&crs={crs}", headers=tokens["viewer"]).get_json()
    assert body["grid"]["code"] == samples.COMPOUND.code


def test_snapping_and_too_far(client, city, tokens):
    near = client.get("/api/lookup?lon=114.7003&lat=33.65", headers=tokens["viewer"]).get_json()
    assert near["match"] == "nearest" and 20 < near["distance_m"] < 40
    far = assert_problem(client.get("/api/lookup?lon=114.71&lat=33.65", headers=tokens["viewer"]), 404)
    assert " m away" in far["detail"]


def test_address_lookup(client, city, tokens):
    body = client.get("/api/lookup?address=七一路18号人和小区3栋2单元501", headers=tokens["viewer"]).get_json()
    assert body["address"]["code"] == "A001" and body["address"]["score"] >= 80
    assert body["grid"]["code"] == samples.COMPOUND.code and body["candidates"]
    missing = assert_problem(client.get("/api/lookup?address=火星基地", headers=tokens["viewer"]), 404, "address")
    assert "errors" in missing  # the candidates, so the desk can pick one


@pytest.mark.parametrize("query, param", [
    ("lon=114.6", "lat"), ("lat=33.6", "lon"), ("lon=x&lat=1", "lon"), ("lon=nan&lat=33.6", "lon"),
    ("lon=114.6&lat=95", "lat"), ("lon=114.6&lat=33.6&crs=wgs85", "crs"), ("address=", "address"),
    ("address=a&lon=1&lat=1", "address"), ("lng=1", "lng"),
])
def test_bad_lookups(client, city, tokens, query, param):
    assert_problem(client.get(f"/api/lookup?{query}", headers=tokens["viewer"]), 400, param)


def test_bulk_csv_and_geojson(client, city, tokens):
    text = "id,lon,lat\na,114.6005,33.6005\n\"b,2\",114.66,33.66\nc,120.0,30.0\n"
    resp = client.post("/api/lookup/bulk", data=text, headers={**tokens["viewer"], "Content-Type": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["id"], r["grid_code"]) for r in rows] == [
        ("a", samples.COMPOUND.code), ("b,2", samples.STREET.code), ("c", "")]
    assert resp.headers["X-Unassigned"] == "1"
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 7, "geometry": {"type": "Point", "coordinates": [114.6005, 33.6005]}}]}
    resp = client.post("/api/lookup/bulk", json=collection, headers=tokens["viewer"])
    assert resp.get_data(as_text=True).splitlines()[1].endswith(samples.COMPOUND.code)


def test_bulk_bad_rows_are_listed(client, city, tokens):
    text = "lon,lat\n114.6,33.6\nx,33.6\n114.6,91\n"
    body = assert_problem(client.post("/api/lookup/bulk", data=text,
                                      headers={**tokens["viewer"], "Content-Type": "text/csv"}), 400, "body")
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "lon"), (3, "lat")]
    assert_problem(client.post("/api/lookup/bulk", data="a,b\n1,2\n",
                               headers={**tokens["viewer"], "Content-Type": "text/csv"}), 400, "body")
    assert_problem(client.post("/api/lookup/bulk", data="x", headers={**tokens["viewer"],
                                                                       "Content-Type": "text/plain"}), 415)
    assert_problem(client.post("/api/lookup/bulk", json={"type": "FeatureCollection", "crs": {}, "features": []},
                               headers=tokens["viewer"]), 400, "crs")
    quoted = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["114.6", "33.6"]}}]}
    assert_problem(client.post("/api/lookup/bulk", json=quoted, headers=tokens["viewer"]), 400, "body")


def test_cli_lookup_point_address_and_bulk(tmp_path, store):
    import json

    from click.testing import CliRunner

    from mapserver.cli import main

    samples.load_all(store)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    runner = CliRunner()
    point = runner.invoke(main, ["--config", str(config), "lookup", "--lon", "114.6005", "--lat", "33.6005"])
    assert point.exit_code == 0, point.output
    assert json.loads(point.output)["grid"]["code"] == samples.COMPOUND.code
    by_address = runner.invoke(main, ["--config", str(config), "lookup",
                                      "--address", "七一路18号人和小区3号楼2单元501室"])
    assert json.loads(by_address.output)["address"]["code"] == "A001"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("lon,lat\n114.6005,33.6005\n0,0\n", encoding="utf-8")
    bulk = runner.invoke(main, ["--config", str(config), "lookup", "--bulk", str(source), "--out", str(target)])
    assert bulk.exit_code == 0, bulk.output
    assert target.read_text().splitlines()[1:] == [f"1,,114.6005000,33.6005000,{samples.COMPOUND.code}",
                                                   "2,,0.0000000,0.0000000,"]
    both = runner.invoke(main, ["--config", str(config), "lookup", "--lon", "1", "--address", "x"])
    assert both.exit_code == 2
    far = runner.invoke(main, ["--config", str(config), "lookup", "--lon", "10", "--lat", "10"])
    assert far.exit_code == 1 and "m away" in far.output
