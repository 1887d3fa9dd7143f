"""Build the demo city in memory (:func:`build_city`) and write it to a store (:func:`load_city`).

``build_city`` is pure: the same seed, scale and settings give byte-identical
records (every random draw comes from ``numpy.random.default_rng([seed,
adcode, stream])``, nothing depends on the clock or on set/hash order, and the
data end at the fixed instant :data:`AS_OF`). Records are in WGS-84 degrees
with 7 decimals; see the modules of :mod:`mapserver.demo` for each layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from mapserver.demo.addresses import build_addresses
from mapserver.demo.cameras import build_cameras
from mapserver.demo.field import FieldAccount, field_accounts
from mapserver.demo.grids import build_grid_tree, grid_records
from mapserver.demo.hotspots import choose_hotspots
from mapserver.demo.incidents import Context, build_incidents
from mapserver.demo.pictures import DemoPhoto, build_photos
from mapserver.demo.places import build_places
from mapserver.demo.roads import build_network
from mapserver.demo.specs import DistrictSpec, specs_for
from mapserver.demo.staff import build_staff
from mapserver.demo.walks import Walk, build_walks
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Address, Camera, Division, Grid, GridStaff, Incident, Place, Road
from mapserver.store import Store
from mapserver.store.common import iter_chunks

PROVINCE = ("410000", "河南省")
CITY = ("411600", "周口市")
"""The divisions the demo's districts lie in (GB/T 2260 codes)."""
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
"""The demo's "now": incidents cover the year before it, cameras were last seen just before it."""
LOAD_ORDER = ("grids", "grid_staff", "places", "roads", "addresses", "cameras", "incidents")
CHUNK = 5000


@dataclass(frozen=True)
class DemoCity:
    """Every record of the demo, per layer, plus each district's outline (WGS-84, union of its streets), the
    administrative divisions (the province 河南省, the city 周口市 and each district, which its streets name), and its
    field side (:mod:`mapserver.demo.field_load` writes it): grid workers' accounts, a week of their patrols, and
    photos on some cases."""

    seed: int
    scale: str
    as_of: datetime
    outlines: dict[int, BaseGeometry]
    grids: list[Grid] = field(default_factory=list)
    grid_staff: list[GridStaff] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    roads: list[Road] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    divisions: list[Division] = field(default_factory=list)
    accounts: list[FieldAccount] = field(default_factory=list)
    walks: list[Walk] = field(default_factory=list)
    photos: list[DemoPhoto] = field(default_factory=list)

    def layers(self) -> dict[str, list[Any]]:
        """Records per layer, in the order they are loaded (grids first)."""
        return {layer: getattr(self, layer) for layer in LOAD_ORDER}

    def counts(self) -> dict[str, int]:
        """Records per layer."""
        return {layer: len(records) for layer, records in self.layers().items()}

    def digest(self) -> str:
        """SHA-256 over every field of every record (geometries as WKB), to compare two builds."""
        sha = hashlib.sha256()
        for layer, records in self.layers().items():
            sha.update(f"\x1d{layer}:{len(records)}".encode())
            if records:
                for f in fields(records[0]):
                    sha.update(column_bytes([getattr(r, f.name) for r in records]))
        for part in ("divisions", "accounts", "walks", "photos"):
            records = getattr(self, part)
            sha.update(f"\x1d{part}:{len(records)}".encode())
            for record in records:
                for f in fields(record):
                    value = getattr(record, f.name)
                    sha.update(value.tobytes() if isinstance(value, np.ndarray) else
                               value if isinstance(value, bytes) else repr(value).encode())
                    sha.update(b"\x1e")
        return sha.hexdigest()


def column_bytes(values: list[Any]) -> bytes:
    """One field of many records, serialised: WKB for geometries, ``repr`` for the rest.

    ``repr`` is exact for str, int, float, bool, None and datetimes (with their zone),
    and for dicts in their insertion order, which the builders fix.
    """
    if values and all(isinstance(v, BaseGeometry) for v in values):
        return b"\x1e".join(shapely.to_wkb(np.asarray(values, dtype=object)).tolist())
    return "\x1e".join(map(repr, values)).encode()


def build_city(*, seed: int, scale: str, settings: IncidentSettings | None = None,
               progress: bool = False, as_of: datetime = AS_OF) -> DemoCity:
    """The demo city: 川汇区 alone (``scale="district"``) or all ten Zhoukou districts (``"city"``).

    ``settings`` gives the incidents' time limits, calendar and H3 resolution
    (default: the built-in incident settings). The year of incidents ends at
    ``as_of`` (UTC); the same seed and ``as_of`` give the same city.
    """
    settings = settings or IncidentSettings()
    city = DemoCity(seed=seed, scale=scale, as_of=as_of, outlines={})
    phones: set[str] = set()  # mobile numbers stay unique across districts
    city.divisions.extend([Division(PROVINCE[0], PROVINCE[1], "province"),
                           Division(CITY[0], CITY[1], "city", parent_code=PROVINCE[0])])
    for spec in tqdm(specs_for(scale, seed), desc="building", unit="district", disable=not progress):
        _add_district(city, spec, seed, settings, phones)
    return city


def _add_district(city: DemoCity, spec: DistrictSpec, seed: int, settings: IncidentSettings,
                  phones: set[str]) -> None:
    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([seed, spec.adcode, stream])

    tree = build_grid_tree(spec, seed)
    network = build_network(tree, rng(2))
    places = build_places(tree, rng(3))
    specials = [p.grid for p in places if p.grid is not None]
    staff = build_staff(tree, specials, rng(4), phones)
    hotspots = choose_hotspots(places, rng(5))
    book = build_addresses(tree, network, rng(7))
    workers = {s.grid_code: s.name for s in staff if s.role == "grid_worker"}
    context = Context(tree=tree, book=book, workers=workers, settings=settings, as_of=city.as_of)
    city.outlines[spec.adcode] = tree.boundary
    city.divisions.append(Division(str(spec.adcode), tree.district.name, "county", parent_code=CITY[0]))
    city.grids.extend(grid_records(tree) + sorted(specials, key=lambda g: g.code))
    city.grid_staff.extend(staff)
    city.places.extend(p.place for p in places)
    city.roads.extend(network.records)
    city.addresses.extend(book.records)
    city.cameras.extend(build_cameras(tree, network, places, hotspots, rng(6), city.as_of))
    incidents = build_incidents(context, hotspots, rng(8))
    city.incidents.extend(incidents)
    accounts = field_accounts(city.grids, staff)
    city.accounts.extend(accounts)
    city.walks.extend(build_walks(accounts, city.grids, network.records, rng(9), city.as_of))
    city.photos.extend(build_photos(incidents, accounts, rng(10), city.as_of))


def load_city(store: Store, city: DemoCity, *, progress: bool = True,
              on_layer: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write every layer of ``city`` in one transaction (all or nothing); return records written per layer.

    A tqdm bar counts records when ``progress`` is true; ``on_layer(layer, n)``
    is called after each layer.
    """
    written: dict[str, int] = {}
    total = sum(city.counts().values())
    with store.transaction(), tqdm(total=total, unit="rec", desc="loading", disable=not progress) as bar:
        store.divisions.put_many(city.divisions)  # before the streets that name them
        for layer, records in city.layers().items():
            bar.set_postfix_str(layer)
            written[layer] = 0
            for chunk in iter_chunks(records, CHUNK):
                written[layer] += store.layers.add(layer, chunk)
                bar.update(len(chunk))
            if on_layer is not None:
                on_layer(layer, written[layer])
    return written
