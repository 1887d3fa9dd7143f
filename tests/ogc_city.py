"""A small city for the OGC filter and CRS tests: the sample records of tests/samples.py and a few hundred generated
incidents, addresses and roads (WGS-84, near Chuanhui), one store per backend shared by a whole test module."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shapely.geometry import LineString, Point

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.config import OgcSettings, Settings, StoreSettings
from mapserver.model import Address, Incident, Road
from mapserver.store import Store, open_store
from tests import samples
from tests.conftest import create_database, drop_database

CATEGORIES = ("disputes", "security", "sanitation", "Disputes", "traffic")
STATUSES = ("reported", "dispatched", "accepted", "handled", "closed")
SEVERITIES = ("general", "important", "urgent")
DESCRIPTIONS = ("噪音扰民", "占道经营 100%", "垃圾_堆放", "路灯不亮", "It's broken", "'; DROP TABLE incidents; --",
                "下水道堵塞\\")
START = datetime(2026, 10, 1, tzinfo=UTC)
EXTRA_EPSG = [4526]  # CGCS2000 / 3-degree Gauss-Krüger zone 38 (the zone number in its easting), as configured


def incidents(count: int = 400, seed: int = 22) -> list[Incident]:
    rng = random.Random(seed)
    out = []
    for k in range(count):
        reported = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        status = rng.choice(STATUSES)
        out.append(Incident(
            id=str(uuid.UUID(int=rng.getrandbits(128))), geom=Point(round(rng.uniform(114.60, 114.70), 6),
                                                                    round(rng.uniform(33.60, 33.70), 6)),
            reported_at=reported, category=rng.choice(CATEGORIES), severity=rng.choice(SEVERITIES), status=status,
            description=DESCRIPTIONS[k % len(DESCRIPTIONS)], source=rng.choice(("grid_worker", "hotline")),
            closed_at=reported + timedelta(hours=rng.randrange(1, 200)) if status == "closed" else None))
    return out


def addresses(count: int = 60, seed: int = 23) -> list[Address]:
    rng = random.Random(seed)
    return [Address(code=f"B{k:03d}", text=f"七一路{k}号{'东' if k % 3 else '西'}院",
                    geom=Point(round(rng.uniform(114.60, 114.70), 6), round(rng.uniform(33.60, 33.70), 6)))
            for k in range(count)]


def roads() -> list[Road]:
    return [Road(code="R101", name="八一路", road_class="secondary",
                 geom=LineString([(114.62, 33.59), (114.62, 33.71)])),
            Road(code="R102", name="交通路", road_class="residential",
                 geom=LineString([(114.60, 33.64), (114.64, 33.64)])),
            Road(code="R103", name="中州大道", road_class="primary",
                 geom=LineString([(114.66, 33.66), (114.69, 33.69)]))]


@dataclass
class City:
    """A loaded store, its app, and viewer tokens: the whole store and the community 北关社区."""

    store: Store
    app: object
    whole: dict[str, str]
    community: dict[str, str]


def _token(store: Store, grid: str | None) -> dict[str, str]:
    secret = new_token()
    store.tokens.add(name=f"viewer-{uuid.uuid4().hex[:6]}", role="viewer", token_hash=hash_token(secret),
                     grid_code=grid)
    return {"Authorization": f"Bearer {secret}"}


def open_city(backend: str, folder: Path) -> Iterator[City]:
    """A city in a new store of ``backend`` (a new SQLite file, or a PostGIS database of its own), with its app."""
    name = f"mapserver_ogc_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{folder / 'city.db'}" if backend == "sqlite" else create_database(name)
    store = open_store(url)
    try:
        store.migrate()
        samples.load_all(store)
        store.layers.add("incidents", incidents())
        store.layers.add("addresses", addresses())
        store.layers.add("roads", roads())
        settings = Settings(store=StoreSettings(url=url), ogc=OgcSettings(crs=EXTRA_EPSG))
        app = create_app(settings, store=store)
        app.config["TESTING"] = True
        yield City(store, app, _token(store, None), _token(store, samples.COMMUNITY.code))
    finally:
        store.close()
        if backend == "postgis":
            drop_database(name)
