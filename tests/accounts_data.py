"""Grids for the account tests: one street with two communities, a compound in each and a building in the first;
settings whose password hashes are cheap (the rules are the shipped ones)."""

from __future__ import annotations

from shapely.geometry import box

from mapserver.config import AccountSettings, PasswordHashSettings, Settings, StoreSettings
from mapserver.model import Grid
from mapserver.store import Store

STREET = Grid(code="S1", level=1, name="陈州回族街道", geom=box(114.60, 33.60, 114.70, 33.70))
NORTH = Grid(code="S1-C1", level=2, parent_code="S1", name="北关社区", geom=box(114.60, 33.60, 114.65, 33.70))
SOUTH = Grid(code="S1-C2", level=2, parent_code="S1", name="南关社区", geom=box(114.65, 33.60, 114.70, 33.70))
NORTH_COMPOUND = Grid(code="S1-C1-Y1", level=3, parent_code="S1-C1", name="人和小区",
                      geom=box(114.60, 33.60, 114.62, 33.62))
SOUTH_COMPOUND = Grid(code="S1-C2-Y1", level=3, parent_code="S1-C2", name="安居小区",
                      geom=box(114.66, 33.60, 114.68, 33.62))
BUILDING = Grid(code="S1-C1-Y1-B1", level=4, parent_code="S1-C1-Y1", name="3号楼",
                geom=box(114.60, 33.60, 114.601, 33.601))
SCHOOL = Grid(code="S1-C1-X1", level=3, parent_code="S1-C1", name="第一初级中学", kind="special", subtype="school",
              geom=box(114.61, 33.61, 114.615, 33.615))
GRIDS = [STREET, NORTH, SOUTH, NORTH_COMPOUND, SOUTH_COMPOUND, BUILDING, SCHOOL]

PASSWORD = "correct horse battery"  # a password the rules accept


def load_grids(store: Store) -> None:
    store.layers.add("grids", GRIDS)


def cheap_settings(store: Store) -> Settings:
    """Settings for ``store`` with the least argon2 cost config allows: tests hash many passwords."""
    return Settings(store=StoreSettings(url=store.url), accounts=AccountSettings(
        password_hash=PasswordHashSettings(time_cost=1, memory_kib=8192, parallelism=1)))
