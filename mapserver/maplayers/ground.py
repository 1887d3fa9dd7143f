"""The wall's ground when no intranet tile service is configured (``map.basemap.kind: none``): a basemap drawn from
the store's own data, as vector tiles, so the wall never floats on a blank background.

Its MVT layers, bottom to top: ``water`` and ``green`` (places of kind ``water`` / ``green``: rivers, lakes, parks,
imported as places), ``boundaries`` (street grids; community grids from zoom 12), ``roads`` (the main classes
first, every road from zoom 15; the page writes names from zoom 15) and ``labels`` (key places by name, from zoom
14). Only what lies in the asker's jurisdiction, as every read. Coordinates WGS-84, drawn on Web Mercator as the
wall's other layers (no GCJ-02 shift).
"""

from __future__ import annotations

from mapserver.jurisdiction import Jurisdiction
from mapserver.store.vector_tiles import TileLayer

GROUND_KINDS = ("water", "green")
"""Place kinds that are ground, not key places."""
ROAD_CLASSES_FROM_ZOOM: dict[str, int] = {"motorway": 8, "trunk": 9, "primary": 10, "secondary": 12,
                                          "tertiary": 14, "residential": 15}
"""The tile zoom from which a road class is drawn (a city's primary roads are thousands of edges: at zoom 8 they
alone would pass 100 KB); a class not listed is drawn from OTHER_ROADS_ZOOM."""
OTHER_ROADS_ZOOM = 15
COMMUNITY_ZOOM = 12
LABEL_ZOOM = 14
DETAIL_MAX = 4000
"""Features of one kind a ground tile holds before it is thinned to clusters (never at the default zooms)."""


def road_classes(zoom: int) -> list[str] | None:
    """The road classes drawn at ``zoom``; None for every class."""
    if zoom >= OTHER_ROADS_ZOOM:
        return None
    return sorted(name for name, start in ROAD_CLASSES_FROM_ZOOM.items() if start <= zoom)


def ground_layers(zoom: int, within: Jurisdiction) -> list[TileLayer]:
    """The MVT layers of a ground tile at ``zoom`` for an asker bound to ``within``."""
    out = [TileLayer(layer="places", name=kind, where={"kind": kind}, within=within, detail_max=DETAIL_MAX)
           for kind in GROUND_KINDS]
    out.append(TileLayer(layer="grids", name="boundaries", any_of={"level": [1, 2] if zoom >= COMMUNITY_ZOOM else [1]},
                         where={"kind": "base"}, within=within, detail_max=DETAIL_MAX))
    classes = road_classes(zoom)
    out.append(TileLayer(layer="roads", any_of={"road_class": classes} if classes is not None else {},
                         within=within, detail_max=DETAIL_MAX))
    if zoom >= LABEL_ZOOM:
        out.append(TileLayer(layer="places", name="labels", none_of={"kind": GROUND_KINDS}, within=within,
                             detail_max=DETAIL_MAX))
    return out
