"""The city of tests/scoped_city.py as two counties of one city, plus a street in no division, for tests of
division jurisdictions (WGS-84 degrees).

Division codes are deliberately unrelated to the street codes (no prefix links them): the links are the streets'
``division_code`` and the divisions' ``parent_code``.

==========  ========  =========  =========================================================================
code        level     parent     holds
==========  ========  =========  =========================================================================
410000      province  —          city 419900
419900      city      410000     counties 411602 and 410302
411602      county    419900     street West (4101) and all below it
410302      county    419900     street East (4102) and all below it
418888      county    410000     no street (a county of the province outside the city)
==========  ========  =========  =========================================================================

Street North (4103, 114.60–114.68, 33.64–33.66) names no division: camera C-N-1 and incident I-N stand in it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import h3
from shapely.geometry import Point, box

from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Camera, Division, Grid
from mapserver.store import Store
from tests import scoped_city as city
from tests.scoped_city import EAST, NOW, WEST, _incident

PROVINCE, CITY, COUNTY_A, COUNTY_B, EMPTY_COUNTY = "410000", "419900", "411602", "410302", "418888"
DIVISIONS = [Division(PROVINCE, "河南省", "province"),
             Division(CITY, "周口市", "city", parent_code=PROVINCE),
             Division(COUNTY_A, "川汇区", "county", parent_code=CITY),
             Division(COUNTY_B, "淮阳区", "county", parent_code=CITY),
             Division(EMPTY_COUNTY, "空县", "county", parent_code=PROVINCE)]
NORTH = "4103"
NORTH_BOX = (114.60, 33.64, 114.68, 33.66)
STREET_OF = {WEST: COUNTY_A, EAST: COUNTY_B}
NORTH_CAMERA = Camera(code="C-N-1", name="北路口", geom=Point(114.62, 33.65), status="online", last_seen=NOW)
NORTH_INCIDENT = _incident(4, Point(114.63, 33.655), (NORTH, None, None))
RESOLUTION = IncidentSettings().h3_resolution
STREET_BOXES = {WEST: city.WEST_BOX, EAST: city.EAST_BOX, NORTH: NORTH_BOX}


def load(store: Store) -> None:
    """The divisions, then scoped_city's layers with West and East naming their counties, and street North; the
    online cameras last seen now, the incidents in their H3 cells (the heat's)."""
    store.divisions.put_many(DIVISIONS)
    seen = datetime.now(UTC).replace(microsecond=0)
    layers = {**city.LAYERS,
              "grids": [*(replace(g, division_code=STREET_OF.get(g.code)) for g in city.GRIDS),
                        Grid(code=NORTH, level=1, name="北街道", geom=box(*NORTH_BOX))],
              "cameras": [replace(c, last_seen=seen) if c.last_seen is not None else c
                          for c in (*city.CAMERAS, NORTH_CAMERA)],
              "incidents": [replace(i, h3_cell=h3.latlng_to_cell(i.geom.y, i.geom.x, RESOLUTION))
                            for i in (*city.INCIDENTS, NORTH_INCIDENT)]}
    for layer, records in layers.items():
        store.layers.add(layer, records)


def streets_of(division: str) -> set[str]:
    """The streets in ``division``, from the table above (not from the store)."""
    return {WEST} if division == COUNTY_A else {EAST} if division == COUNTY_B else \
        {WEST, EAST} if division in (CITY, PROVINCE) else set()
