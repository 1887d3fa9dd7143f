"""A small district of two streets for the jurisdiction tests: each street two communities, each community two
compounds, and incidents in every compound (more in some than others, so that the areas' figures differ).

Street A (陈州回族街道) is lon 114.60–114.70, street B (七一路街道) lon 114.70–114.80, both lat 33.60–33.70 (WGS-84).
A community is the west or east half of its street, a compound the south or north half of its community.
Incidents lie well inside their compound, reported over the ten days before the module was imported.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
from shapely.geometry import Point, box

from mapserver.auth import hash_token, new_token
from mapserver.model import Grid, Incident
from mapserver.store import Store

RES = 9
NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=10)
CATEGORIES = ("disputes", "public_security", "fire_hazard", "city_appearance")
SEVERITIES = ("general", "important", "urgent")

STREETS = {"A": ("411602001000000", "陈州回族街道", 114.60), "B": ("411602002000000", "七一路街道", 114.70)}


def _grids() -> list[Grid]:
    out = []
    for code, name, west in STREETS.values():
        out.append(Grid(code=code, level=1, name=name, geom=box(west, 33.60, west + 0.10, 33.70), households=9000))
        for c, half in enumerate(("西", "东"), start=1):
            community = f"{code[:9]}{c:03d}000"
            cwest = west + 0.05 * (c - 1)
            out.append(Grid(code=community, level=2, parent_code=code, name=f"{name[:2]}{half}社区",
                            geom=box(cwest, 33.60, cwest + 0.05, 33.70), households=4500))
            for k, part in enumerate(("南", "北"), start=1):
                south = 33.60 + 0.05 * (k - 1)
                out.append(Grid(code=f"{community[:12]}{k:03d}", level=3, parent_code=community,
                                name=f"{name[:2]}{half}{part}小区", geom=box(cwest, south, cwest + 0.05, south + 0.05),
                                households=400 + 100 * k))
    return out


GRIDS = _grids()
BY_CODE = {g.code: g for g in GRIDS}
STREET_A, STREET_B = (BY_CODE[code] for code, _, _ in STREETS.values())
COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, COMMUNITY_B2 = (g for g in GRIDS if g.level == 2)
COMPOUNDS = [g for g in GRIDS if g.level == 3]


def _chain(compound: Grid) -> tuple[str, str, str]:
    community = BY_CODE[str(compound.parent_code)]
    return str(community.parent_code), community.code, compound.code


def _incidents() -> list[Incident]:
    out = []
    for n_compound, compound in enumerate(COMPOUNDS):
        west, south, east, north = compound.geom.bounds
        l1, l2, l3 = _chain(compound)
        for i in range(3 + 2 * n_compound):  # 3, 5, … 17: every area's count differs
            # Points on a lattice inside the compound, 5 % from its edges.
            lon = west + (east - west) * (0.05 + 0.9 * ((i * 7) % 17) / 16)
            lat = south + (north - south) * (0.05 + 0.9 * ((i * 11) % 13) / 12)
            reported = START + timedelta(hours=5 * i + n_compound, minutes=7 * n_compound)
            closed = i % 3 == 0
            overdue = i % 4 == 1
            out.append(Incident(
                id=f"00000000-0000-4000-a000-{n_compound:04d}{i:08d}", geom=Point(round(lon, 7), round(lat, 7)),
                reported_at=reported, category=CATEGORIES[i % len(CATEGORIES)],
                severity=SEVERITIES[(i + n_compound) % len(SEVERITIES)],
                status="closed" if closed else "reported", grid_code=l3, grid_l1=l1, grid_l2=l2, grid_l3=l3,
                h3_cell=h3.latlng_to_cell(lat, lon, RES),
                warn_at=reported + timedelta(hours=20), due_at=reported + timedelta(hours=30 if overdue else 24 * 30),
                dispatched_at=reported + timedelta(minutes=20 + i) if closed else None,
                closed_at=reported + timedelta(hours=3 + i) if closed else None))
    return out


INCIDENTS = _incidents()


def load(store: Store) -> None:
    """Write the two streets' grids and incidents into ``store``."""
    store.layers.add("grids", GRIDS)
    store.layers.add("incidents", INCIDENTS)


def in_area(code: str) -> list[Incident]:
    """The incidents whose grid chain holds ``code``."""
    return [i for i in INCIDENTS if code in (i.grid_l1, i.grid_l2, i.grid_l3)]


def token(store: Store, role: str, grid: Grid | None, name: str) -> dict[str, str]:
    """Authorization headers of a new token of ``role`` bound to ``grid`` (None: the whole store)."""
    secret = new_token()
    store.tokens.add(name=name, role=role, token_hash=hash_token(secret),
                     grid_code=grid.code if grid is not None else None)
    return {"Authorization": f"Bearer {secret}"}
