"""The JSON documents of OGC API – Features Part 1: landing page, conformance, collections and their links.

Links are absolute URLs built by the caller's ``url`` function (so they follow the
host the client used). Extents are CRS84 degrees and RFC 3339 UTC times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mapserver.ogc.collections import Collection
from mapserver.ogc.crs import CRS84
from mapserver.store.common import BBox

GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONF_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
CONF_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CONF_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
FILTER_CLASSES = ("queryables", "queryables-query-parameters", "filter", "features-filter")
CQL2_CLASSES = ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators", "basic-spatial-functions",
                "basic-spatial-functions-plus", "spatial-functions", "temporal-functions")
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

Url = Callable[..., str]
"""``url(endpoint, **values)`` → an absolute URL (``flask.url_for`` with ``_external=True``)."""


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """One link object."""
    out = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


def landing(url: Url, openapi_href: str | None) -> dict[str, Any]:
    """The landing page; ``service-desc`` only when an OpenAPI document is served."""
    links = [link(url("ogc.landing"), "self", JSON, "this document")]
    if openapi_href:
        links.append(link(openapi_href, "service-desc", OPENAPI, "the API definition"))
    links += [link(url("ogc.conformance"), "conformance", JSON, "conformance classes implemented"),
              link(url("ogc.collections"), "data", JSON, "the collections")]
    return {"title": "mapserver — grid governance layers",
            "description": "Grids, cameras, key places, addresses, roads and incidents (CRS84)", "links": links}


def conformance(has_openapi: bool) -> dict[str, Any]:
    """The conformance classes: Part 1 Core and GeoJSON (and OpenAPI 3.0 when that document is served), Part 2's
    CRS by reference, Part 3's queryables and filters, and the CQL2 classes the filters implement."""
    classes = [CONF + "core", CONF + "geojson"]
    if has_openapi:
        classes.append(CONF + "oas30")
    classes.append(CONF_CRS)
    classes += [CONF_FILTER + name for name in FILTER_CLASSES]
    classes += [CONF_CQL2 + name for name in CQL2_CLASSES]
    return {"conformsTo": classes}


def collection_doc(url: Url, item: Collection, bbox: BBox | None,
                   interval: tuple[datetime, datetime] | None, crs: list[str] | None = None) -> dict[str, Any]:
    """One collection's description with its extent (omitted parts when it is empty)."""
    extent: dict[str, Any] = {}
    if bbox is not None:
        extent["spatial"] = {"bbox": [list(bbox)], "crs": CRS84}
    if item.temporal:
        ends = [None, None] if interval is None else [_rfc3339(interval[0]), _rfc3339(interval[1])]
        extent["temporal"] = {"interval": [ends], "trs": GREGORIAN}
    doc: dict[str, Any] = {"id": item.id, "title": item.title, "description": item.description,
                           "itemType": "feature", "crs": crs or [CRS84], "storageCrs": CRS84}
    if extent:
        doc["extent"] = extent
    doc["links"] = [link(url("ogc.collection", collection_id=item.id), "self", JSON, item.title),
                    link(url("ogc.items", collection_id=item.id), "items", GEOJSON, f"{item.title} (GeoJSON)"),
                    link(url("ogc.queryables", collection_id=item.id), QUERYABLES_REL, SCHEMA_JSON,
                         f"what {item.title} may be filtered on")]
    return doc


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def now_stamp(value: datetime) -> str:
    """``timeStamp`` of a response: UTC, RFC 3339, whole seconds."""
    return _rfc3339(value.replace(microsecond=0))
