"""Which file column feeds which record field, and converting cell values to the field's type.

A field is read from the column the mapping names (``--map field=column``), else from
the column with the field's own name (exact, then ignoring case). ``values``
(``--set field=value``) gives every row the same value instead. Types follow the
record dataclasses in :mod:`mapserver.model`: whole numbers, numbers, true/false,
date-times (ISO 8601; without a zone they are taken as UTC, as the store does), JSON
objects, and text. Codes read as numbers become text ("411602"), unless the number is
too long to have kept every digit. Chinese labels are accepted for enumerations
(网格长 → grid_leader, 重要紧急 → urgent, 在线 → online, 专属网格 → special, 社区 → level 2).

Units are those of :mod:`mapserver.model`: degrees for directions and fields of view,
metres for camera range.
"""

from __future__ import annotations

import functools
import json
import math
import types
import typing
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from mapserver.errors import Problem
from mapserver.model import RECORD_TYPES
from mapserver.store.common import utc

GEOMETRY_KEYS = ("geom", "lon", "lat")  # mapping keys naming geometry columns rather than fields
_EXACT = 2**53  # integers beyond this may have lost digits in a float

ALIASES: dict[tuple[str, str], dict[str, Any]] = {
    ("grids", "level"): {"街道": 1, "乡镇": 1, "镇": 1, "乡": 1, "社区": 2, "村": 2, "小区": 3, "自然村": 3,
                         "楼栋": 4, "小组": 4},
    ("grids", "kind"): {"基础网格": "base", "基础": "base", "专属网格": "special", "专属": "special"},
    ("grid_staff", "role"): {"网格长": "grid_leader", "网格员": "grid_worker", "专职网格员": "grid_worker",
                             "网格指导员": "instructor", "指导员": "instructor", "网格警务员": "police_liaison",
                             "警务员": "police_liaison", "网格调解员": "mediator", "调解员": "mediator",
                             "网格安全员": "safety_officer", "安全员": "safety_officer", "志愿者": "volunteer"},
    ("cameras", "status"): {"在线": "online", "离线": "offline", "故障": "fault", "未知": "unknown"},
    ("incidents", "severity"): {"一般": "general", "重要": "important", "重要紧急": "urgent", "紧急": "urgent"},
    ("incidents", "source"): {"网格员": "grid_worker", "网格员上报": "grid_worker", "群众": "public_app",
                              "扫码": "public_app", "视频巡查": "video_patrol", "热线": "hotline",
                              "部门": "department"},
    ("incidents", "escalation"): {"常规哨": "routine", "重点哨": "key"},
}
_TRUE = {"true", "t", "yes", "y", "1", "是", "单行"}
_FALSE = {"false", "f", "no", "n", "0", "否", "双行"}


@functools.cache
def field_kinds(layer: str) -> dict[str, str]:
    """Field name → "int", "float", "bool", "time", "json", "geom", "code" or "str", from the record's type hints.

    "code" is text that identifies something (code, parent_code, grid_code, id): surrounding blanks are dropped.
    """
    hints = typing.get_type_hints(RECORD_TYPES[layer])
    kinds = {}
    for item in fields(RECORD_TYPES[layer]):
        hint = hints[item.name]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):  # "X | None" → X
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        kind = hint
        kinds[item.name] = {int: "int", float: "float", bool: "bool", datetime: "time", str: "str"}.get(
            kind, "json" if typing.get_origin(kind) is dict else "geom")
        if kinds[item.name] == "str" and (item.name == "id" or item.name.endswith("code")):
            kinds[item.name] = "code"
    return kinds


@functools.cache
def importable(layer: str) -> tuple[str, ...]:
    """The fields a file can fill (geometry is handled apart; staff ids are given by the store)."""
    return tuple(n for n, k in field_kinds(layer).items() if k != "geom" and not (layer == "grid_staff" and n == "id"))


@functools.cache
def required(layer: str) -> tuple[str, ...]:
    """Fields without a default; an incident's id is generated when absent."""
    return tuple(f.name for f in fields(RECORD_TYPES[layer])
                 if f.default is MISSING and f.default_factory is MISSING and f.name != "geom"
                 and not (layer == "incidents" and f.name == "id"))


@dataclass
class Plan:
    """How each field of the layer is filled: from a column, or from a value given for every row."""

    layer: str
    columns: dict[str, str]
    values: dict[str, Any]
    timezone: str = "UTC"  # where date-times written without an offset were recorded


def plan_fields(layer: str, file_name: str, columns: list[str], mapping: dict[str, str],
                values: dict[str, Any], timezone: str = "UTC") -> Plan:
    """Resolve the mapping against the file's columns; Problem 400 for a bad mapping, 422 for a missing column."""
    names = importable(layer)
    for key in mapping:
        if key not in names and key not in GEOMETRY_KEYS:
            raise Problem(400, f"--map {key}=…: {layer} has no field '{key}'; fields: {', '.join(names)}",
                          param="map")
    for key, column in mapping.items():
        if column and column not in columns:
            raise Problem(400, f"--map {key}={column}: {file_name} has no column '{column}'; "
                               f"columns: {', '.join(columns)}", param="map")
    plan = Plan(layer=layer, columns={}, values=_convert_values(layer, values, timezone), timezone=timezone)
    for name in names:
        if name in plan.values:
            continue
        column = mapping[name] if name in mapping else _find_column(name, columns)
        if column:
            plan.columns[name] = column
    missing = [n for n in required(layer) if n not in plan.columns and n not in plan.values]
    if missing:
        raise Problem(422, f"{file_name} has no column for required field(s) {', '.join(missing)} of {layer}; "
                           f"columns: {', '.join(columns)}; map one with --map FIELD=COLUMN or give a value "
                           f"with --set FIELD=VALUE", param=missing[0])
    return plan


def _find_column(name: str, columns: list[str]) -> str | None:
    """The column named like the field: exactly, ignoring case, or cut to 10 characters (a Shapefile limit)."""
    lowered = {c.lower(): c for c in columns}
    return name if name in columns else lowered.get(name.lower()) or lowered.get(name.lower()[:10])


def _convert_values(layer: str, values: dict[str, Any], timezone: str) -> dict[str, Any]:
    names, kinds = importable(layer), field_kinds(layer)
    out = {}
    for key, raw in values.items():
        if key not in names:
            raise Problem(400, f"--set {key}=…: {layer} has no field '{key}'; fields: {', '.join(names)}",
                          param="set")
        value, problem = convert(layer, key, kinds[key], raw, timezone=timezone)
        if problem:
            raise Problem(400, f"--set {key}={raw}: {problem}", param="set")
        out[key] = value
    return out


def build_fields(plan: Plan, columns: dict[str, np.ndarray], index: int
                 ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The record's keyword arguments for one row (geometry apart), and every (field, reason) against it."""
    kinds, needed = field_kinds(plan.layer), required(plan.layer)
    kwargs, problems = dict(plan.values), []
    for name, column in plan.columns.items():
        value, problem = convert(plan.layer, name, kinds[name], columns[column][index], timezone=plan.timezone)
        where = "" if column == name else f" (column '{column}')"
        if problem:
            problems.append((name, problem + where))
        elif value is None and name in needed:
            problems.append((name, "required but empty" + where))
        elif value is not None:
            kwargs[name] = value
    return kwargs, problems


# --- conversions -------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """No value: None, NaN, NaT or blank text."""
    if value is None:
        return True
    if type(value) is str:  # most cells of a CSV: answered before the slower checks
        return not value.strip()
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return isinstance(value, str) and not value.strip()


def convert(layer: str, name: str, kind: str, value: Any, *, timezone: str = "UTC") -> tuple[Any, str | None]:
    """(value converted to the field's type or None when blank, None) or (None, reason); a date-time without
    an offset is taken as wall-clock time in ``timezone``."""
    if is_blank(value):
        return None, None
    if isinstance(value, np.generic):
        value = value.item()
    aliases = ALIASES.get((layer, name))
    if aliases and isinstance(value, str):
        text = value.strip()
        value = aliases.get(text, text.lower())
    try:
        return (_to_time(value, timezone) if kind == "time" else _CONVERTERS[kind](value)), None
    except (ValueError, TypeError, OverflowError) as exc:
        return None, str(exc)


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer():
            return repr(value)
        if abs(value) >= _EXACT:
            raise ValueError(f"{value!r} was read as a number and may have lost digits; write it as text "
                             "(quoted) in the file")
        return str(int(value))
    raise ValueError(f"expected text, got {type(value).__name__} {value!r}")


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    number = value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"expected a whole number, got {value!r}") from None
    if not float(number).is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"expected true or false (also yes/no, 1/0, 是/否), got {value!r}")


def _to_time(value: Any, timezone: str = "UTC") -> datetime:
    if not isinstance(value, datetime):
        try:
            # GDAL writes Shapefile and some GeoJSON times as 2026/11/20 09:30:00+00.
            value = datetime.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            raise ValueError(f"expected a date and time such as 2026-11-20T09:30:00+08:00, got {value!r}") from None
    if value.tzinfo is None:  # written without an offset: wall-clock time where the data was recorded
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return utc(value)


def _to_json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object such as {{\"source\": \"hotline\"}}, got {str(value)[:60]!r}")
    return parsed


def _to_code(value: Any) -> str:
    return _to_str(value).strip()


_CONVERTERS = {"str": _to_str, "code": _to_code, "int": _to_int, "float": _to_float, "bool": _to_bool,
               "time": _to_time, "json": _to_json}
