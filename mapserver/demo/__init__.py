"""The demo city (issue 3): 川汇区, Zhoukou, as a grid-governance command centre would see it.

``build_city(seed=…, scale="district"|"city")`` makes every layer in memory
(deterministic for a seed); ``load_city(store, city)`` writes it in one
transaction; ``mapserver demo`` does both. Geometry is built in a local
transverse Mercator (metres, :data:`mapserver.demo.boundary.METRIC_CRS`) inside
the real district boundary shipped in ``data/`` (GCJ-02, converted to WGS-84),
and stored in WGS-84 degrees with 7 decimals.
"""

from mapserver.demo.build import AS_OF, DemoCity, build_city, load_city

__all__ = ["AS_OF", "DemoCity", "build_city", "load_city"]
