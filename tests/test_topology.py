"""Grid topology checks: overlaps, gaps, children outside parents, household warnings; API and CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from shapely.geometry import box

from mapserver.cli import main
from mapserver.model import Grid
from mapserver.topology import check_grids, is_clean

D = 0.01  # degrees; a 0.01° square near lat 33.6 is about 927 m × 1,113 m


def tiling() -> list[Grid]:
    """One street split into two communities, each split into two compounds."""
    street = Grid(code="S", level=1, name="街道", geom=box(114.6, 33.6, 114.6 + 2 * D, 33.6 + D))
    grids = [street]
    for c in range(2):
        x0 = 114.6 + c * D
        grids.append(Grid(code=f"C{c}", level=2, parent_code="S", name=f"社区{c}",
                          geom=box(x0, 33.6, x0 + D, 33.6 + D)))
        for k in range(2):
            grids.append(Grid(code=f"C{c}K{k}", level=3, parent_code=f"C{c}", name=f"小区{k}", households=400,
                              geom=box(x0, 33.6 + k * D / 2, x0 + D, 33.6 + (k + 1) * D / 2)))
    return grids


def test_a_clean_tiling_has_no_findings():
    report = check_grids(tiling())
    assert is_clean(report) and report["household_warnings"] == []
    assert {level: v["grids"] for level, v in report["levels"].items()} == {1: 1, 2: 2, 3: 4}


def test_overlap_gap_and_escape_are_found_with_area_and_place():
    grids = {g.code: g for g in tiling()}
    # C1K0 pushed 0.001° west: it overlaps C0K0, leaves a strip of C1 uncovered and pokes out of C1.
    moved = grids["C1K0"]
    grids["C1K0"] = Grid(**{**vars(moved), "geom": box(114.6 + D - 0.001, 33.6, 114.6 + 2 * D - 0.001, 33.6 + D / 2)})
    report = check_grids(list(grids.values()))
    [overlap] = report["levels"][3]["overlaps"]
    assert {overlap["a"], overlap["b"]} == {"C0K0", "C1K0"}
    assert overlap["area_m2"] == pytest.approx(0.001 * 92_800 * D / 2 * 110_900, rel=0.02)
    assert 114.609 < overlap["location"][0] < 114.61
    [gap] = report["levels"][3]["gaps"]
    assert gap["area_m2"] == pytest.approx(overlap["area_m2"], rel=0.01)
    [escape] = report["outside_parent"]
    assert escape["code"] == "C1K0" and escape["parent_code"] == "C1"
    assert not is_clean(report)


def test_special_grids_may_overlap_and_households_warn():
    grids = tiling()
    grids.append(Grid(code="X", level=3, parent_code="C0", name="学校", kind="special", subtype="school",
                      geom=box(114.601, 33.601, 114.602, 33.602)))
    grids[-2] = Grid(**{**vars(grids[-2]), "households": 900})
    report = check_grids(grids)
    assert is_clean(report)
    assert report["household_warnings"] == [{"code": grids[-2].code, "households": 900, "expected": [300, 500]}]


def test_api_and_cli(client, store, tokens, tmp_path):
    store.layers.add("grids", tiling())
    body = client.get("/api/grids/check", headers=tokens["viewer"]).get_json()
    assert body["clean"] is True and body["levels"]["3"]["grids"] == 4
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "check-grids", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["clean"] is True
    store.layers.add("grids", [Grid(code="C1K9", level=3, parent_code="C1", name="重叠",
                                    geom=box(114.611, 33.601, 114.612, 33.602))])
    result = CliRunner().invoke(main, ["--config", str(config), "check-grids"])
    assert result.exit_code == 1 and "overlap" in result.output and "C1K9" in result.output


def test_the_household_band_comes_from_the_config(store, tmp_path):
    grids = tiling()
    store.layers.add("grids", [Grid(**{**vars(g), "households": 180}) if g.level == 3 else g for g in grids])
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    standard = CliRunner().invoke(main, ["--config", str(config), "check-grids"])
    assert standard.exit_code == 0 and standard.output.count("households (expected 300–500)") == 4
    config.write_text(f"store:\n  url: {store.url}\ngrids:\n  households_per_base_grid: [100, 500]\n",
                      encoding="utf-8")
    banded = CliRunner().invoke(main, ["--config", str(config), "check-grids"])
    assert banded.exit_code == 0 and "warning" not in banded.output
    config.write_text(f"store:\n  url: {store.url}\ngrids:\n  households_per_base_grid: [500, 100]\n",
                      encoding="utf-8")
    refused = CliRunner().invoke(main, ["--config", str(config), "check-grids"])
    assert refused.exit_code != 0 and "households_per_base_grid" in refused.output
