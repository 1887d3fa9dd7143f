"""How big each demo district is: grid counts per level, people, cameras, addresses, incidents.

川汇区 (adcode 411602) uses its published figures (DOMAIN.md): 12 street offices,
138 community grids (83 residents' committees, 55 villages), 358 compound grids,
1,663 building grids, 758,000 residents, 1,200 cameras, about 120,000 events a
year. The other nine Zhoukou districts (``--scale city``) are counties whose
figures are not published here; they get about 1,700 building grids each (so
the city has about 17,000), mostly villages, with the other counts in
川汇区's proportions. Counts are plain numbers; areas come from the boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mapserver.demo.boundary import CHUANHUI, all_adcodes

SCALES = ("district", "city")
CITY_BUILDING_GRIDS = 17_000


@dataclass(frozen=True)
class DistrictSpec:
    """The numbers one demo district is built to."""

    adcode: int
    levels: tuple[int, int, int, int]  # grids at levels 1..4
    villages: int  # how many level-2 grids are village committees (the rest are communities)
    level1_kinds: tuple[int, int, int]  # level-1 units that are (street offices, towns, townships)
    population: int
    cameras: int
    addresses: int
    incidents: int
    urban_share: float  # share of the people living in the town cores
    core_sigma_m: float  # size of the main urban core, metres


CHUANHUI_SPEC = DistrictSpec(
    adcode=CHUANHUI, levels=(12, 138, 358, 1663), villages=55, level1_kinds=(12, 0, 0), population=758_000,
    cameras=1200, addresses=50_000, incidents=120_000, urban_share=0.6, core_sigma_m=2500.0,
)


def _county_spec(adcode: int, buildings: int, rng: np.random.Generator) -> DistrictSpec:
    """A county in 川汇区's proportions, with mostly villages and towns."""
    ratio = buildings / CHUANHUI_SPEC.levels[3]
    level1 = int(rng.integers(14, 21))
    level2 = round(CHUANHUI_SPEC.levels[1] * ratio)
    streets = int(rng.integers(2, 5))
    towns = (level1 - streets) * 2 // 3
    return DistrictSpec(
        adcode=adcode, levels=(level1, level2, round(CHUANHUI_SPEC.levels[2] * ratio), buildings),
        villages=round(level2 * 0.8), level1_kinds=(streets, towns, level1 - streets - towns),
        population=round(CHUANHUI_SPEC.population * ratio), cameras=round(CHUANHUI_SPEC.cameras * ratio),
        addresses=round(CHUANHUI_SPEC.addresses * ratio),
        # Rural counties report fewer events per grid than the city district.
        incidents=round(CHUANHUI_SPEC.incidents * ratio * 0.8), urban_share=0.3, core_sigma_m=1800.0,
    )


def specs_for(scale: str, seed: int) -> list[DistrictSpec]:
    """The districts a scale covers: 川汇区 alone, or all ten Zhoukou districts (adcode order)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if scale == "district":
        return [CHUANHUI_SPEC]
    rng = np.random.default_rng([seed, 0xC17])
    others = [a for a in all_adcodes() if a != CHUANHUI]
    share = rng.uniform(0.9, 1.1, size=len(others))
    buildings = np.round(share / share.sum() * (CITY_BUILDING_GRIDS - CHUANHUI_SPEC.levels[3])).astype(int)
    specs = [CHUANHUI_SPEC] + [_county_spec(a, int(b), rng) for a, b in zip(others, buildings, strict=True)]
    return sorted(specs, key=lambda s: s.adcode)
