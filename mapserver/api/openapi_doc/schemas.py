"""Reusable JSON schemas (components.schemas) and small builders for parameter schemas.

Answer schemas name the members clients rely on and leave the rest open
(``additionalProperties`` is not closed), so a new member is not a breaking
change; request schemas are closed, as the server refuses unknown fields.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

BBOX_PATTERN = r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def text(max_length: int | None = None, **extra: Any) -> Schema:
    """A string, at most ``max_length`` characters."""
    out: Schema = {"type": "string", **extra}
    if max_length is not None:
        out["maxLength"] = max_length
    return out


def integer(low: int | None = None, high: int | None = None) -> Schema:
    """A whole number within [low, high]."""
    out: Schema = {"type": "integer"}
    if low is not None:
        out["minimum"] = low
    if high is not None:
        out["maximum"] = high
    return out


def number(low: float | None = None, high: float | None = None) -> Schema:
    """A (finite) number within [low, high]."""
    out: Schema = {"type": "number"}
    if low is not None:
        out["minimum"] = low
    if high is not None:
        out["maximum"] = high
    return out


def enum(values: Any) -> Schema:
    """A string that is one of ``values``."""
    return {"type": "string", "enum": list(values)}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


GEOMETRY: Schema = {
    "type": "object", "required": ["type"], "nullable": True,
    "properties": {"type": enum(("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                                 "GeometryCollection"))},
}

FEATURE: Schema = {
    "type": "object", "required": ["type", "geometry", "properties"],
    "properties": {"type": enum(("Feature",)), "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                   "geometry": ref("Geometry"), "properties": {"type": "object"}},
}

FEATURE_COLLECTION: Schema = {
    "type": "object", "required": ["type", "features"],
    "properties": {"type": enum(("FeatureCollection",)), "features": {"type": "array", "items": ref("Feature")},
                   "numberMatched": integer(0), "numberReturned": integer(0)},
}

PROBLEM: Schema = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details, plus the parameter that was wrong and per-row findings; some "
                   "refusals add a machine-readable `reason` and the facts behind it (e.g. a transition's 409 "
                   "`changed_meanwhile`: `current_status`, `current_version`, `last_action`, `acted_by`, "
                   "`acted_at`), from which a client words the refusal in its own language.",
    "properties": {
        "type": text(), "title": text(), "status": integer(400, 599), "detail": text(),
        "instance": _nullable(text()), "param": text(), "reason": text(),
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

GRID_REF: Schema = {
    "type": "object", "required": ["code", "name", "level", "kind"],
    "properties": {"code": text(), "name": text(), "level": integer(1, 4), "kind": text(),
                   "subtype": _nullable(text())},
}

STAFF: Schema = _nullable({
    "type": "object", "required": ["grid_code", "role", "name"],
    "properties": {"grid_code": text(), "role": text(), "name": text(), "phone": _nullable(text()),
                   "unit": _nullable(text())},
})

LOOKUP: Schema = {
    "type": "object", "required": ["point", "match", "distance_m", "grid", "chain", "special", "staff"],
    "properties": {
        "point": {"type": "object", "required": ["lon", "lat"], "properties": {"lon": number(), "lat": number()}},
        "match": text(), "distance_m": number(0), "grid": ref("GridRef"),
        "chain": {"type": "array", "items": ref("GridRef")}, "special": {"type": "array", "items": ref("GridRef")},
        "staff": {"type": "array", "items": ref("Staff")}, "police_liaison": ref("Staff"),
        "address": {"type": "object"}, "candidates": {"type": "array", "items": {"type": "object"}},
    },
}

TOKEN: Schema = {
    "type": "object", "required": ["name", "role", "grid", "created_at"],
    "properties": {"name": text(), "role": text(), "created_at": text(format="date-time"), "token": text(),
                   "grid": _nullable(text(description="its jurisdiction's grid code; null: the whole store"))},
}

ACCOUNT: Schema = {
    "type": "object",
    "required": ["name", "display_name", "role", "grid", "enabled", "created_at", "password_changed_at",
                 "disabled_at"],
    "description": "A person who logs in (never their password or its hash).",
    "properties": {"name": text(), "display_name": text(), "role": text(),
                   "grid": _nullable(text(description="their jurisdiction's grid code; null: the whole store")),
                   "enabled": {"type": "boolean"}, "created_at": text(format="date-time"),
                   "password_changed_at": text(format="date-time"),
                   "disabled_at": _nullable(text(format="date-time"))},
}


def components() -> dict[str, Schema]:
    """components.schemas of the document."""
    return {"Geometry": GEOMETRY, "Feature": FEATURE, "FeatureCollection": FEATURE_COLLECTION, "Problem": PROBLEM,
            "GridRef": GRID_REF, "Staff": STAFF, "Lookup": LOOKUP, "Token": TOKEN, "Account": ACCOUNT}
