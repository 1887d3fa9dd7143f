"""Reassigning stored incidents after grids change, on both backends."""

from __future__ import annotations

from click.testing import CliRunner

from mapserver.cli import main
from mapserver.gridindex import GridIndex
from mapserver.reassign import reassign_incidents
from tests import samples


def test_incidents_follow_their_grids(store, tmp_path):
    samples.load_all(store)
    index = GridIndex.from_store(store)
    first = reassign_incidents(store, index)
    assert (first.checked, first.moved, first.outside) == (1, 1, 0)  # the sample had no l1–l4 chain yet
    stored = store.layers.get("incidents", samples.INCIDENTS[0].id)
    assert (stored.grid_code, stored.grid_l1, stored.grid_l2, stored.grid_l3, stored.grid_l4) == (
        samples.COMPOUND.code, samples.STREET.code, samples.COMMUNITY.code, samples.COMPOUND.code, None)
    assert reassign_incidents(store, index).moved == 0

    store.layers.delete("grids", keys=[samples.COMPOUND.code])  # the compound is dissolved into its community
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "reassign"])
    assert result.exit_code == 0 and "1 incidents checked, 1 moved" in result.output
    moved = store.layers.get("incidents", samples.INCIDENTS[0].id)
    assert (moved.grid_code, moved.grid_l3) == (samples.COMMUNITY.code, None)
