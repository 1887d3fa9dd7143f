"""A CQL2 expression (OGC API – Features Part 3), in its JSON form, as one SQL condition with bound values.

The expression comes parsed and checked for shape by :mod:`mapserver.ogc.filters` (the canonical JSON the
``cql2`` parser writes); here every property is looked up in the layer's :func:`queryable_columns`, every literal
is checked against its column's kind and bound as a ``?`` value, and the operators are written in portable SQL,
the backend writing only what differs (case-sensitive ``LIKE``, spatial predicates with their index:
:meth:`~mapserver.store.database.Database.like_condition`, :meth:`~mapserver.store.database.Database.relate_condition`).
No text of the request ever reaches the SQL itself.

Geometries are WGS-84 (CRS84, lon/lat degrees) GeoJSON; times are compared in UTC. An instant property meets a
temporal literal by Allen's interval relations, the instant taken as an interval that starts and ends at once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from mapserver.errors import Problem
from mapserver.model import RECORD_TYPES
from mapserver.store.common import Condition, check_layer
from mapserver.store.database import Database

GEOMETRY = "geometry"
"""The queryable that is a feature's geometry (the ``geom`` column)."""
MAX_IN_VALUES = 1000
"""Values an ``IN`` list may hold: a longer list is a different query (a join), not a filter."""
MAX_LITERALS = 2000
"""Literals a whole expression may bind."""
MAX_VERTICES = 10_000
"""Vertices a geometry literal may have."""
SPATIAL_OPS = ("s_intersects", "s_within", "s_contains", "s_disjoint", "s_equals", "s_touches", "s_crosses",
               "s_overlaps")
TEMPORAL_OPS = ("t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedby",
                "t_finishes", "t_intersects", "t_meets", "t_metby", "t_overlappedby", "t_overlaps", "t_startedby",
                "t_starts")
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
# The converse of each temporal relation, for a literal written before the property.
CONVERSE = {"t_after": "t_before", "t_before": "t_after", "t_contains": "t_during", "t_during": "t_contains",
            "t_finishedby": "t_finishes", "t_finishes": "t_finishedby", "t_meets": "t_metby", "t_metby": "t_meets",
            "t_overlappedby": "t_overlaps", "t_overlaps": "t_overlappedby", "t_startedby": "t_starts",
            "t_starts": "t_startedby", "t_disjoint": "t_disjoint", "t_equals": "t_equals",
            "t_intersects": "t_intersects"}
CONVERSE_SPATIAL = {"s_within": "s_contains", "s_contains": "s_within"}
_KINDS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "date-time"}


@functools.cache
def queryable_columns(layer: str) -> dict[str, str]:
    """The properties of a layer a filter may name, and their kinds: ``string``, ``integer``, ``number``,
    ``boolean``, ``date-time`` (UTC) and ``geometry`` (the ``geom`` column, named :data:`GEOMETRY`)."""
    from dataclasses import fields

    out: dict[str, str] = {}
    for item in fields(RECORD_TYPES[check_layer(layer)]):
        if item.name == "geom":
            out[GEOMETRY] = "geometry"
            continue
        base = str(item.type).replace(" | None", "").strip()
        if base in _KINDS:
            out[item.name] = _KINDS[base]
    return out


def _column(name: str) -> str:
    return "t.geom" if name == GEOMETRY else f"t.{name}"


class _Translator:
    """One expression of one layer: walks the JSON, collects values in the order their ``?`` appear."""

    def __init__(self, database: Database, layer: str) -> None:
        self.db, self.layer, self.columns = database, layer, queryable_columns(layer)
        self.values: list[Any] = []

    # -- operands ------------------------------------------------------------------------------------

    def prop(self, node: Any) -> str | None:
        """The property named by ``node`` (checked), or None when it is not a property."""
        if isinstance(node, Mapping) and "property" in node:
            name = node["property"]
            if name not in self.columns:
                raise Problem(400, f"'{str(name)[:60]}' is not a queryable of this collection; queryables: "
                                   f"{', '.join(self.columns)}", param="filter",
                              members={"property": str(name)[:60]})
            return name
        return None

    def bind(self, value: Any) -> str:
        if len(self.values) >= MAX_LITERALS:
            raise Problem(400, f"a filter may hold at most {MAX_LITERALS} values", param="filter")
        self.values.append(value)
        return "?"

    def scalar(self, name: str, node: Any) -> Any:
        """A literal compared with property ``name``, as the value to bind; 400 when its kind does not fit."""
        kind = self.columns[name]
        if kind == "string" and isinstance(node, str):
            return node
        if kind in ("integer", "number") and isinstance(node, int | float) and not isinstance(node, bool):
            if not math.isfinite(node):
                raise Problem(400, f"{name} is compared with a number that is not finite", param="filter")
            return node
        if kind == "boolean" and isinstance(node, bool):
            return node
        if kind == "date-time":
            moment = instant(node)
            if moment is not None:
                return moment
        raise Problem(400, f"{name} is a {kind}; it cannot be compared with {_describe(node)}", param="filter",
                      members={"property": name})

    # -- the walk ------------------------------------------------------------------------------------

    def sql(self, node: Any) -> str:
        if isinstance(node, bool):  # a bare true/false is a condition of its own
            return "1 = 1" if node else "1 = 0"
        if not isinstance(node, Mapping) or "op" not in node:
            raise Problem(400, f"expected a condition, got {_describe(node)}", param="filter")
        op, args = str(node["op"]).lower(), list(node.get("args") or [])
        if op in ("and", "or"):
            if not args:
                raise Problem(400, f"'{op}' needs conditions", param="filter")
            return "(" + f" {op.upper()} ".join(self.sql(a) for a in args) + ")"
        if op == "not":
            return f"NOT ({self.sql(args[0])})" if len(args) == 1 else self._arity(op, 1)
        if op in COMPARISONS:
            return self._compare(op, args)
        if op == "like":
            return self._like(args)
        if op == "between":
            return self._between(args)
        if op == "in":
            return self._in(args)
        if op == "isnull":
            name = self._one_property(op, args)
            return f"{_column(name)} IS NULL"
        if op in SPATIAL_OPS:
            return self._spatial(op, args)
        if op in TEMPORAL_OPS:
            return self._temporal(op, args)
        raise Problem(400, f"the operator '{op[:40]}' is not supported; supported: and, or, not, =, <>, <, <=, >, "
                           f">=, like, between, in, isNull, {', '.join(SPATIAL_OPS)}, {', '.join(TEMPORAL_OPS)}",
                      param="filter")

    @staticmethod
    def _arity(op: str, count: int) -> str:
        raise Problem(400, f"'{op}' takes {count} argument(s)", param="filter")

    def _one_property(self, op: str, args: Sequence[Any]) -> str:
        name = self.prop(args[0]) if len(args) == 1 else self._arity(op, 1)
        if name is None:
            raise Problem(400, f"'{op}' applies to a property, got {_describe(args[0])}", param="filter")
        return name

    def _property_and_literal(self, op: str, args: Sequence[Any]) -> tuple[str, Any, bool]:
        """(property, literal, flipped) for a binary operator: one side a property, the other a literal."""
        if len(args) != 2:
            self._arity(op, 2)
        for arg in args:
            if isinstance(arg, Mapping) and "op" in arg:  # casei, accenti, arithmetic, functions
                raise Problem(400, f"'{str(arg['op'])[:40]}' is not supported inside '{op}'; compare a property "
                                   "with a value", param="filter")
        left, right = self.prop(args[0]), self.prop(args[1])
        if left is not None and right is not None:
            raise Problem(400, f"'{op}' between two properties ({left}, {right}) is not supported; compare a "
                               "property with a value", param="filter")
        if left is None and right is None:
            raise Problem(400, f"'{op}' needs a property on one side, got {_describe(args[0])} and "
                               f"{_describe(args[1])}", param="filter")
        return (left, args[1], False) if left is not None else (right, args[0], True)  # type: ignore[return-value]

    def _compare(self, op: str, args: Sequence[Any]) -> str:
        name, literal, flipped = self._property_and_literal(op, args)
        if self.columns[name] == "geometry":
            raise Problem(400, f"compare the geometry with a spatial operator (s_intersects …), not '{op}'",
                          param="filter")
        value = self.scalar(name, literal)
        return f"{_column(name)} {FLIPPED[op] if flipped else op} {self.bind(value)}"

    def _like(self, args: Sequence[Any]) -> str:
        name, pattern, flipped = self._property_and_literal("like", args)
        if flipped or self.columns[name] != "string" or not isinstance(pattern, str):
            raise Problem(400, "like compares a text property with a pattern: property LIKE 'pattern'",
                          param="filter")
        text, values = self.db.like_condition(_column(name), pattern)
        for value in values:
            self.bind(value)
        return f"({text})"

    def _between(self, args: Sequence[Any]) -> str:
        if len(args) != 3:
            self._arity("between", 3)
        name = self.prop(args[0])
        if name is None or self.columns[name] not in ("integer", "number", "date-time"):
            raise Problem(400, "between applies to a number or time property: property BETWEEN low AND high",
                          param="filter")
        low, high = self.scalar(name, args[1]), self.scalar(name, args[2])
        return f"{_column(name)} BETWEEN {self.bind(low)} AND {self.bind(high)}"

    def _in(self, args: Sequence[Any]) -> str:
        if len(args) != 2 or not isinstance(args[1], list):
            raise Problem(400, "in takes a property and a list: property IN (value, …)", param="filter")
        name = self.prop(args[0])
        if name is None or self.columns[name] == "geometry":
            raise Problem(400, "in applies to a property that is not the geometry", param="filter")
        if not args[1]:
            return "1 = 0"
        if len(args[1]) > MAX_IN_VALUES:
            raise Problem(400, f"an IN list may hold at most {MAX_IN_VALUES} values, got {len(args[1])}",
                          param="filter")
        marks = ", ".join(self.bind(self.scalar(name, value)) for value in args[1])
        return f"{_column(name)} IN ({marks})"

    def _spatial(self, op: str, args: Sequence[Any]) -> str:
        name, literal, flipped = self._property_and_literal(op, args)
        if self.columns[name] != "geometry":
            raise Problem(400, f"'{op}' applies to the geometry, not to {name}", param="filter")
        area = geometry_literal(literal)
        relation = CONVERSE_SPATIAL.get(op, op) if flipped else op
        text, values = self.db.relate_condition(self.layer, relation.removeprefix("s_"), shapely.to_wkb(area))
        for value in values:
            self.bind(value)
        return f"({text})"

    def _temporal(self, op: str, args: Sequence[Any]) -> str:
        name, literal, flipped = self._property_and_literal(op, args)
        if self.columns[name] != "date-time":
            raise Problem(400, f"'{op}' applies to a time property, not to {name}", param="filter")
        start, end = interval(literal)
        return self._allen(_column(name), CONVERSE[op] if flipped else op, start, end)

    def _allen(self, column: str, op: str, b1: datetime | None, b2: datetime | None) -> str:
        """The instant ``column`` (a1 = a2) in relation ``op`` to the interval [b1, b2] (None: an open end, -∞ for
        b1 and +∞ for b2)."""
        def rel(sign: str, bound: datetime | None, when_open: bool) -> str:
            if bound is None:  # against ±∞: a bound that always holds or never does
                return "1 = 1" if when_open else "1 = 0"
            return f"{column} {sign} {self.bind(bound)}"

        def both(first: str, second: str) -> str:
            return f"({first} AND {second})"

        match op:
            case "t_before":
                return rel("<", b1, False)
            case "t_after":
                return rel(">", b2, False)
            case "t_meets":
                return rel("=", b1, False)
            case "t_metby":
                return rel("=", b2, False)
            case "t_starts":  # a1 = b1 and a2 < b2
                return both(rel("=", b1, False), rel("<", b2, True))
            case "t_finishes":  # a1 > b1 and a2 = b2
                return both(rel(">", b1, True), rel("=", b2, False))
            case "t_during":  # a1 > b1 and a2 < b2
                return both(rel(">", b1, True), rel("<", b2, True))
            case "t_equals":
                return both(rel("=", b1, False), rel("=", b2, False))
            case "t_disjoint":
                return f"({rel('<', b1, False)} OR {rel('>', b2, False)})"
            case "t_intersects":
                return both(rel(">=", b1, True), rel("<=", b2, True))
            case _:  # startedby, finishedby, contains, overlaps, overlappedby: an instant has no inside
                return "1 = 0"


def filter_condition(database: Database, layer: str, expression: Mapping[str, Any] | bool) -> Condition:
    """The CQL2 ``expression`` (JSON form) as one condition on ``layer``'s rows (named ``t``), with its values; a
    400 problem naming what is wrong (a property that is not queryable, a literal of the wrong kind, …)."""
    translator = _Translator(database, check_layer(layer))
    text = translator.sql(expression)
    return text, tuple(translator.values)


def instant(node: Any) -> datetime | None:
    """A ``{"timestamp": …}`` or ``{"date": …}`` literal as a UTC datetime (a date: its midnight, UTC); None when
    ``node`` is neither. A 400 problem when the text is not a time."""
    if isinstance(node, Mapping) and isinstance(node.get("timestamp"), str):
        text = node["timestamp"]
        try:
            value = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise Problem(400, f"'{text[:40]}' is not an RFC 3339 timestamp", param="filter") from None
        if value.tzinfo is None:
            raise Problem(400, f"timestamp '{text[:40]}' needs a zone (Z or ±hh:mm)", param="filter")
        return value.astimezone(UTC)
    if isinstance(node, Mapping) and isinstance(node.get("date"), str):
        try:
            return datetime.combine(date.fromisoformat(node["date"]), time(), tzinfo=UTC)
        except ValueError:
            raise Problem(400, f"'{node['date'][:40]}' is not a date (YYYY-MM-DD)", param="filter") from None
    return None


def interval(node: Any) -> tuple[datetime | None, datetime | None]:
    """A temporal literal as [start, end] in UTC (an instant: both the same; ``..``: None, an open end)."""
    moment = instant(node)
    if moment is not None:
        return moment, moment
    if isinstance(node, Mapping) and isinstance(node.get("interval"), list) and len(node["interval"]) == 2:
        ends: list[datetime | None] = []
        for end in node["interval"]:
            if end == "..":
                ends.append(None)
                continue
            text = end.get("timestamp", end.get("date")) if isinstance(end, Mapping) else end
            if not isinstance(text, str):
                raise Problem(400, f"an interval end must be a time or '..', got {_describe(end)}", param="filter")
            ends.append(instant({"timestamp": text} if "T" in text.upper() else {"date": text}))
        if ends[0] is not None and ends[1] is not None and ends[0] > ends[1]:
            raise Problem(400, "the interval ends before it starts", param="filter")
        return ends[0], ends[1]
    raise Problem(400, f"expected a time (TIMESTAMP, DATE or INTERVAL), got {_describe(node)}", param="filter")


def geometry_literal(node: Any) -> Any:
    """A GeoJSON geometry or ``{"bbox": […]}`` literal (CRS84) as a valid shapely geometry; a 400 problem
    saying what is wrong with it (not finite, a ring not closed, too many vertices, invalid and why)."""
    if isinstance(node, Mapping) and isinstance(node.get("bbox"), list):
        box = node["bbox"]
        if len(box) not in (4, 6) or not all(_finite(v) for v in box):
            raise Problem(400, "a bbox literal needs 4 finite numbers", param="filter")
        west, south, east, north = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        if west > east or south > north:
            raise Problem(400, "a bbox literal runs west, south, east, north", param="filter")
        return shapely.box(west, south, east, north)
    if not isinstance(node, Mapping) or "type" not in node:
        raise Problem(400, f"expected a geometry, got {_describe(node)}", param="filter")
    coordinates = node.get("coordinates")
    if node.get("type") != "GeometryCollection":
        points = list(_positions(coordinates))
        if len(points) > MAX_VERTICES:
            raise Problem(400, f"a geometry may have at most {MAX_VERTICES} vertices", param="filter")
        if not all(len(p) >= 2 and all(_finite(v) for v in p) for p in points):
            raise Problem(400, "a geometry's coordinates must be finite numbers", param="filter")
        for ring in _rings(node):
            if len(ring) < 4 or list(ring[0]) != list(ring[-1]):
                raise Problem(400, "a polygon's ring must be closed (its last position its first) and have at "
                                   "least 4 positions", param="filter")
    try:
        geom = shape(node)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        raise Problem(400, f"not a geometry: {str(exc)[:100]}", param="filter") from None
    if geom.is_empty:
        raise Problem(400, "the geometry is empty", param="filter")
    if not geom.is_valid:
        raise Problem(400, f"the geometry is not valid: {explain_validity(geom)}", param="filter")
    return geom


def _positions(coordinates: Any) -> Any:
    if isinstance(coordinates, list | tuple) and coordinates and not isinstance(coordinates[0], list | tuple):
        yield coordinates
        return
    if not isinstance(coordinates, list | tuple):
        raise Problem(400, "a geometry needs coordinates", param="filter")
    for item in coordinates:
        yield from _positions(item)


def _rings(node: Mapping[str, Any]) -> list[Any]:
    if node.get("type") == "Polygon":
        return list(node.get("coordinates") or [])
    if node.get("type") == "MultiPolygon":
        return [ring for polygon in node.get("coordinates") or [] for ring in polygon]
    return []


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _describe(node: Any) -> str:
    if isinstance(node, Mapping):
        keys = ", ".join(list(map(str, node))[:3])
        return f"an object with {keys}"
    if isinstance(node, list):
        return "a list"
    if isinstance(node, str):
        return f"the text '{node[:40]}'"
    if isinstance(node, bool):
        return f"the boolean {str(node).lower()}"
    return f"the value {str(node)[:40]}"
