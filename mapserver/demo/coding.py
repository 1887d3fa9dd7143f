"""Codes and Chinese names for a district's grid tree (see :mod:`mapserver.demo.grids` for the code rules).

Serials follow each parent's children in map reading order (north-west first).
Names: level 1 川汇区's real street offices (the densest first) or invented
街道/镇/乡; level 2 〇〇社区 or 〇〇村; level 3 a compound (〇〇小区, 〇〇花园 …) or a
natural village (前王庄 …); level 4 the buildings it covers (人和小区1-4号楼) or a
villagers' group (前王庄三组).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mapserver.demo import names
from mapserver.demo.boundary import CHUANHUI
from mapserver.demo.specs import DistrictSpec

if TYPE_CHECKING:
    from mapserver.demo.grids import Cell

LEVEL1_FIRST = {"street": 1, "town": 101, "township": 201}
LEVEL2_FIRST = {False: 1, True: 201}  # residents' committee, village committee


def name_and_code(levels: list[list[Cell]], spec: DistrictSpec, rng: np.random.Generator) -> None:
    """Give every cell of the tree its code and name, top-down."""
    taken: set[str] = set()
    _level1(levels[0], spec, rng)
    _level2(levels, rng, taken)
    _level3(levels, rng, taken)
    _level4(levels, rng)


def _level1(cells: list[Cell], spec: DistrictSpec, rng: np.random.Generator) -> None:
    serial = dict(LEVEL1_FIRST)
    for cell in cells:
        cell.code = f"{spec.adcode}{serial[cell.unit]:03d}000000"
        serial[cell.unit] += 1
    by_density = sorted(range(len(cells)), key=lambda i: -cells[i].density)
    kinds = [cells[i].unit for i in by_density]
    for i, name in zip(by_density, names.level1_names(rng, len(cells), chuanhui=spec.adcode == CHUANHUI,
                                                      kinds=kinds), strict=True):
        cells[i].name = name


def _level2(levels: list[list[Cell]], rng: np.random.Generator, taken: set[str]) -> None:
    cells = levels[1]
    urban = [c for c in cells if not c.rural]
    words = names.unique_words(rng, names.PLACE_WORDS, len(urban), ("东", "西", "南", "北", "新"))
    for cell, word in zip(urban, words, strict=True):
        cell.name = word + "社区"
    rural = [c for c in cells if c.rural]
    for cell, word in zip(rural, names.village_names(rng, len(rural), taken), strict=True):
        cell.name = word + "村"
    for parent in levels[0]:
        serial = dict(LEVEL2_FIRST)
        for i in parent.children:
            cell = cells[i]
            cell.code = f"{parent.code[:9]}{serial[cell.rural]:03d}000"
            serial[cell.rural] += 1


def _level3(levels: list[list[Cell]], rng: np.random.Generator, taken: set[str]) -> None:
    cells = levels[2]
    urban = [c for c in cells if not c.rural]
    for cell, name in zip(urban, names.compound_names(rng, len(urban)), strict=True):
        cell.name = name
    rural = [c for c in cells if c.rural]
    for cell, name in zip(rural, names.village_names(rng, len(rural), taken), strict=True):
        cell.name = name
    for parent in levels[1]:
        for serial, i in enumerate(parent.children, start=1):
            cells[i].code = f"{parent.code[:12]}{serial:03d}"


def _level4(levels: list[list[Cell]], rng: np.random.Generator) -> None:
    cells = levels[3]
    for parent in levels[2]:
        next_building = 1
        for serial, i in enumerate(parent.children, start=1):
            cell = cells[i]
            cell.code = f"{parent.code}{serial:03d}"
            if cell.rural:
                cell.name = f"{parent.name}{names.cn_number(serial)}组"
                continue
            # A six-storey block holds about 36 households, a high-rise 120: a grid of ~170 spans 1–5 buildings.
            cell.first_building = next_building
            cell.buildings = max(1, round(cell.households / rng.integers(36, 121)))
            next_building += cell.buildings
            last = cell.first_building + cell.buildings - 1
            span = f"{cell.first_building}" if last == cell.first_building else f"{cell.first_building}-{last}"
            cell.name = f"{parent.name}{span}号楼"
