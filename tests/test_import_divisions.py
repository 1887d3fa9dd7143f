"""Importing administrative divisions and the streets' divisions (``mapserver import divisions FILE``,
``import_layer``), on both backends: every bad row is refused naming its row and field and nothing is written;
good rows are written, a code already stored takes the new name, level and parent; a street's ``division_code``
must name a stored division."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from shapely.geometry import box, mapping

from mapserver.cli import main
from mapserver.cli.data import import_command
from mapserver.errors import Problem
from mapserver.importer import import_layer
from mapserver.model import Division
from tests.test_import import ZHOUKOU

GOOD = """code,name,level,parent_code
410000,河南省,province,
411600,周口市,city,410000
411602,川汇区,county,411600
411621,扶沟县,county,411600
"""


@pytest.fixture
def cli(store, tmp_path):
    """Run ``mapserver …`` against the test's store."""
    main.add_command(import_command)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["--config", str(config), *map(str, args)],
                                       env={"MAPSERVER_STORE": store.url})


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_of_divisions_is_written_and_read_back(cli, store, tmp_path):
    result = cli("import", "divisions", write(tmp_path, "divisions.csv", GOOD))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("divisions: 4 written from 4 rows of divisions.csv")
    assert store.divisions.all() == [Division("410000", "河南省", "province"),
                                     Division("411600", "周口市", "city", "410000"),
                                     Division("411602", "川汇区", "county", "411600"),
                                     Division("411621", "扶沟县", "county", "411600")]
    assert store.divisions.below("410000") == ["410000", "411600", "411602", "411621"]
    again = write(tmp_path, "again.csv", "code,name,level,parent_code\n411621,扶沟,county,410000\n")
    assert cli("import", "divisions", again).exit_code == 0
    assert store.divisions.get("411621") == Division("411621", "扶沟", "county", "410000")


def test_geojson_districts_import_as_counties_with_a_mapping(store, tmp_path):
    import_layer(store, "divisions", write(tmp_path, "top.csv", GOOD.splitlines()[0] + "\n411600,周口市,city,\n"))
    report = import_layer(store, "divisions", ZHOUKOU, mapping={"code": "adcode"},
                          values={"level": "county", "parent_code": "411600"})
    assert report.written == 10 and any("center" in note for note in report.notes)
    counties = [d for d in store.divisions.all() if d.level == "county"]
    assert len(counties) == 10 and {d.parent_code for d in counties} == {"411600"}
    assert store.divisions.get("411602").name == "川汇区"


BAD = """code,name,level,parent_code
410000,河南省,province,
411600,周口市,town,410000
411602,川汇区,county,419999
411700,驻马店市,city,411800
411800,信阳市,city,411700
,无码县,county,410000
411602,川汇区,county,411600
411603,鹿邑县,county,411603
"""


def test_bad_rows_are_refused_naming_row_and_field_and_nothing_is_written(cli, store, tmp_path):
    with pytest.raises(Problem) as caught:
        import_layer(store, "divisions", write(tmp_path, "bad.csv", BAD))
    assert caught.value.status == 422
    found = [(e["row"], e["field"]) for e in caught.value.errors]
    assert found == [(2, "level"), (3, "parent_code"), (4, "parent_code"), (4, "parent_code"), (5, "parent_code"),
                     (5, "parent_code"), (6, "code"), (7, "code"), (8, "parent_code")]
    reasons = {(e["row"], e["field"]): e["reason"] for e in caught.value.errors}
    assert "town" in reasons[(2, "level")] and "419999" in reasons[(3, "parent_code")]
    assert any("cycle" in e["reason"] for e in caught.value.errors if e["row"] == 4)
    assert any("cycle" in e["reason"] for e in caught.value.errors if e["row"] == 5)
    assert "row 3" in reasons[(7, "code")] and "own parent" in reasons[(8, "parent_code")]
    assert store.divisions.all() == [] and store.counts()["divisions"] == 0
    result = cli("import", "divisions", tmp_path / "bad.csv")
    assert result.exit_code == 1 and "row 2 (411600) level" in result.stderr
    assert store.divisions.all() == []


def _streets(tmp_path, rows: list[dict]) -> str:
    """Grids side by side, 0.04° apart (a row with ``at`` lies where that row would: a community in its street)."""
    features = [{"type": "Feature", "geometry": mapping(box(114.60 + 0.04 * at, 33.60, 114.64 + 0.04 * at, 33.64)),
                 "properties": row} for i, row in enumerate(rows) for at in [row.pop("at", i)]]
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return str(path)


def test_streets_name_a_stored_division_and_only_streets_do(store, tmp_path):
    import_layer(store, "divisions", write(tmp_path, "divisions.csv", GOOD))
    bad = _streets(tmp_path, [{"code": "S1", "level": 1, "name": "一街道", "division_code": "419999"},
                              {"code": "S2", "level": 1, "name": "二街道", "division_code": "411602"},
                              {"code": "C1", "level": 2, "name": "一社区", "parent_code": "S2",
                               "division_code": "411602", "at": 1}])
    with pytest.raises(Problem) as caught:
        import_layer(store, "grids", bad)
    assert [(e["row"], e["id"], e["field"]) for e in caught.value.errors] == [(1, "S1", "division_code"),
                                                                              (3, "C1", "division_code")]
    assert store.layers.count("grids") == 0
    good = _streets(tmp_path, [{"code": "S1", "level": 1, "name": "一街道", "division_code": "411621"},
                               {"code": "S2", "level": 1, "name": "二街道", "division_code": "411602"},
                               {"code": "S3", "level": 1, "name": "三街道"}])
    assert import_layer(store, "grids", good).written == 3
    assert store.grids.jurisdiction("411600").streets == {"S1", "S2"}
    assert store.grids.jurisdiction("411602").streets == {"S2"}
    assert store.layers.get("grids", "S3").division_code is None


def test_stored_streets_are_named_their_division_all_or_nothing(cli, store, tmp_path):
    import_layer(store, "divisions", write(tmp_path, "divisions.csv", GOOD))
    import_layer(store, "grids", _streets(tmp_path, [{"code": "S1", "level": 1, "name": "一街道"},
                                                     {"code": "S2", "level": 1, "name": "二街道"},
                                                     {"code": "C1", "level": 2, "name": "一社区", "parent_code": "S2",
                                                      "at": 1}]))
    version = store.layers.data_version("grids")
    bad = write(tmp_path, "bad.csv", "code,division_code\nS1,411602\nC1,411602\nS9,411602\nS2,419999\nS1,411621\n")
    result = cli("import", "street_divisions", bad)
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stderr.splitlines()[:4]] == [
        "  row 2 (C1) code", "  row 3 (S9) code", "  row 4 (S2) division_code", "  row 5 (S1) code"]
    assert store.grids.jurisdiction("411600").streets == frozenset()
    assert store.layers.data_version("grids") == version
    good = write(tmp_path, "good.csv", "code,division_code\nS1,411602\nS2,411621\n")
    assert cli("import", "street_divisions", good).exit_code == 0
    assert store.grids.jurisdiction("411602").streets == {"S1"}
    assert store.grids.jurisdiction("411600").streets == {"S1", "S2"}
    assert {g.code for g in store.layers.query("grids", within=store.grids.jurisdiction("411621"))} == {"S2", "C1"}
    assert store.layers.data_version("grids") > version  # the kept areas and answers are built again
