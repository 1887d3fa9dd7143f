"""Who is responsible for each grid (一长一员一团队): leader, worker, police liaison and more.

Every grid, base or special, gets a grid leader (网格长), a full-time grid worker
(网格员) and a police liaison (网格警务员). A community or village grid's police
liaison also serves every grid inside it (一格一警 / 一村一警); a street's liaison
is its police station chief. Building-grid leaders lead runs of 1–3 neighbouring
sibling grids ("a leader may hold 2–3 grids"). Community grids also get a
mediator and a safety officer (the "4+N" team). Names are invented; mobile
numbers are distinct 11-digit 13x/15x/18x numbers.
"""

from __future__ import annotations

import numpy as np

from mapserver.demo import names
from mapserver.demo.grids import Cell, GridTree
from mapserver.model import Grid, GridStaff

Person = tuple[str, str]  # name, phone
BATCH = 512
LEADER_RUN = ((1, 2, 3), (0.25, 0.5, 0.25))  # how many sibling building grids one leader holds


class People:
    """Draws new people (name, phone) in batches from one generator; phones never repeat."""

    def __init__(self, rng: np.random.Generator, phones_taken: set[str]) -> None:
        self.rng = rng
        self.taken = phones_taken
        self.queue: list[Person] = []

    def new(self) -> Person:
        """One more person."""
        if not self.queue:
            batch_names = names.person_names(self.rng, BATCH)
            phones = names.mobile_numbers(self.rng, BATCH, self.taken)
            self.queue = list(zip(batch_names, phones, strict=True))[::-1]
        return self.queue.pop()


def build_staff(tree: GridTree, specials: list[Grid], rng: np.random.Generator,
                phones_taken: set[str]) -> list[GridStaff]:
    """Staff records for every grid of the district, ordered by grid code then role."""
    people = People(rng, phones_taken)
    out: list[GridStaff] = []
    for cell in tree.levels[0]:
        # A street's liaison is its police station's chief.
        out += _core(cell.code, people.new(), people.new(), people.new(), _office(cell), _office(cell),
                     _station(cell.name))
    police: dict[int, Person] = {}
    for index, cell in enumerate(tree.levels[1]):
        police[index] = people.new()
        unit = _committee(cell)
        out += _core(cell.code, people.new(), people.new(), police[index], unit, unit, _station_of(tree, cell))
        out += [GridStaff(grid_code=cell.code, role=role, name=p[0], phone=p[1], unit=unit)
                for role, p in (("mediator", people.new()), ("safety_officer", people.new()))]
    for cell in tree.levels[2]:
        unit = _committee(tree.ancestor(cell, 2))
        out += _core(cell.code, people.new(), people.new(), police[cell.parent], unit, unit,
                     _station_of(tree, cell))
    out += _building_staff(tree, people, police, rng)
    out += _special_staff(tree, specials, people, police)
    rank = {role: i for i, role in enumerate(("grid_leader", "grid_worker", "police_liaison", "mediator",
                                              "safety_officer"))}
    return sorted(out, key=lambda s: (s.grid_code, rank[s.role], s.phone or ""))


def _building_staff(tree: GridTree, people: People, police: dict[int, Person],
                    rng: np.random.Generator) -> list[GridStaff]:
    out: list[GridStaff] = []
    for compound in tree.levels[2]:
        kids = [tree.levels[3][i] for i in compound.children]
        unit = _committee(tree.ancestor(compound, 2))
        start = 0
        while start < len(kids):
            run = int(rng.choice(LEADER_RUN[0], p=LEADER_RUN[1]))
            leader = people.new()
            for cell in kids[start:start + run]:
                out += _core(cell.code, leader, people.new(), police[compound.parent], unit, unit,
                             _station_of(tree, cell))
            start += run
    return out


def _special_staff(tree: GridTree, specials: list[Grid], people: People,
                   police: dict[int, Person]) -> list[GridStaff]:
    by_code = {c.code: (i, c) for i, c in enumerate(tree.levels[1])}
    out: list[GridStaff] = []
    for grid in specials:
        index, community = by_code[grid.code[:12] + "000"]
        out += _core(grid.code, people.new(), people.new(), police[index], grid.name, grid.name,
                     _station_of(tree, community))
    return out


def _core(code: str, leader: Person, worker: Person, liaison: Person, leader_unit: str, worker_unit: str,
          station: str) -> list[GridStaff]:
    return [
        GridStaff(grid_code=code, role="grid_leader", name=leader[0], phone=leader[1], unit=leader_unit),
        GridStaff(grid_code=code, role="grid_worker", name=worker[0], phone=worker[1], unit=worker_unit),
        GridStaff(grid_code=code, role="police_liaison", name=liaison[0], phone=liaison[1], unit=station),
    ]


def _office(cell: Cell) -> str:
    """The level-1 unit's office: 〇〇街道办事处, 〇〇镇人民政府, 〇〇乡人民政府."""
    return f"{cell.name}办事处" if cell.unit == "street" else f"{cell.name}人民政府"


def _committee(cell: Cell) -> str:
    """A community's residents' committee or a village's villagers' committee."""
    return f"{cell.name}村民委员会" if cell.rural else f"{cell.name}居民委员会"


def _station(level1_name: str) -> str:
    """The police station named after a street office or town (七一路街道 → 七一路派出所)."""
    for suffix in ("街道", "镇", "乡"):
        if level1_name.endswith(suffix):
            return level1_name.removesuffix(suffix) + "派出所"
    return level1_name + "派出所"


def _station_of(tree: GridTree, cell: Cell) -> str:
    return _station(tree.ancestor(cell, 1).name)
