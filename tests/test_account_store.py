"""The store's side of jurisdictions for administration, on both backends: a grid's subtree and its ancestors
(in SQL), display names, and tokens listed and revoked within a set of grids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mapserver.errors import Problem
from tests.accounts_data import BUILDING, NORTH, NORTH_COMPOUND, SOUTH, SOUTH_COMPOUND, STREET, load_grids


def test_descendants_are_the_grid_and_the_street_community_and_compound_grids_below_it(store):
    load_grids(store)
    assert store.grids.descendants(STREET.code) == sorted([STREET.code, NORTH.code, SOUTH.code, NORTH_COMPOUND.code,
                                                           SOUTH_COMPOUND.code])
    assert store.grids.descendants(NORTH.code) == [NORTH.code, NORTH_COMPOUND.code]  # no building, no special grid
    assert store.grids.descendants(SOUTH_COMPOUND.code) == [SOUTH_COMPOUND.code]
    assert store.grids.descendants("nowhere") == []


def test_ancestors_are_the_grids_that_contain_it_nearest_first(store):
    load_grids(store)
    assert store.grids.ancestors(BUILDING.code) == [NORTH_COMPOUND.code, NORTH.code, STREET.code]
    assert store.grids.ancestors(SOUTH.code) == [STREET.code]
    assert store.grids.ancestors(STREET.code) == [] and store.grids.ancestors("nowhere") == []


def test_a_display_name_changes_without_ending_sessions(store):
    now = datetime.now(UTC)
    store.accounts.add(name="liming", role="field", grid_code=None, password_hash="h", now=now)
    store.sessions.begin(id_hash="s1", account="liming", csrf_token="c", now=now, remote_addr=None)
    store.accounts.set_display_name("liming", display_name="李明")
    assert store.accounts.get("liming").display_name == "李明" and store.sessions.count("liming") == 1
    with pytest.raises(Problem) as unknown:
        store.accounts.set_display_name("nobody", display_name="x")
    assert unknown.value.status == 404
    with pytest.raises(Problem) as bad:
        store.accounts.set_display_name("liming", display_name="a\nb")
    assert bad.value.status == 422 and store.accounts.get("liming").display_name == "李明"


def test_tokens_are_listed_and_revoked_within_grids(store):
    for name, grid in (("north", NORTH.code), ("south", SOUTH.code), ("district", None)):
        store.tokens.add(name=name, role="viewer", token_hash=name * 8, grid_code=grid)
    assert [t.name for t in store.tokens.live(grid_codes=(NORTH.code, NORTH_COMPOUND.code))] == ["north"]
    assert store.tokens.live(grid_codes=()) == []
    assert [t.grid_code for t in store.tokens.live()] == [None, NORTH.code, SOUTH.code]
    assert not store.tokens.revoke(name="south", grid_codes=(NORTH.code,))
    assert not store.tokens.revoke(name="district", grid_codes=(NORTH.code,))
    assert store.tokens.revoke(name="north", grid_codes=(NORTH.code,))
    assert [t.name for t in store.tokens.live()] == ["district", "south"]
