"""The ``filter`` parameter of OGC API – Features Part 3: CQL2 text or JSON, parsed by the ``cql2`` package.

What comes out is the expression in CQL2's JSON form (a dict), which the store turns into SQL with bound values
(:mod:`mapserver.store.cql2_sql`). A filter that does not parse is a 400 problem naming where (line and column)
and what was expected there. Before the parser sees it, a filter is checked for length and nesting: the parser
recurses on the C stack, and a few thousand parentheses would take the whole worker down instead of being refused.
Geometries in the filter are in ``filter-crs`` (default CRS84) and are given back in CRS84.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import cql2

from mapserver.errors import Problem

LANGS = ("cql2-text", "cql2-json")
MAX_FILTER_CHARS = 8000
"""The longest filter read (as long as the longest URL the servers take: mapserver.request_limits)."""
MAX_NESTING = 32
"""The deepest nesting of parentheses, prefix operators (NOT, minus) or JSON objects a filter may have."""
MAX_JOINS = 500
"""How many AND / OR a text filter may have."""
_POSITION = re.compile(r"-->\s*(\d+):(\d+)")
_EXPECTED = re.compile(r"=\s*(expected .*)$", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_:.]*")


def parse_filter(text: str, lang: str | None = None) -> dict[str, Any] | bool:
    """``filter`` (in ``filter-lang``, default ``cql2-text``) → the expression in CQL2 JSON form; 400 problems
    naming the position and what was expected when it does not parse."""
    lang = lang or "cql2-text"
    if lang not in LANGS:
        raise Problem(400, f"filter-lang must be one of {', '.join(LANGS)}, got {lang[:40]!r}", param="filter-lang")
    if not text.strip():
        raise Problem(400, "filter is empty", param="filter")
    if len(text) > MAX_FILTER_CHARS:
        raise Problem(400, f"a filter may have at most {MAX_FILTER_CHARS} characters, got {len(text)}",
                      param="filter")
    if lang == "cql2-json":
        return _parse_json(text)
    _check_text_shape(text)
    try:
        expression = cql2.parse_text(text)
    except (cql2.ParseError, ValueError) as exc:
        raise _parse_problem(str(exc), lang) from None
    return expression.to_json()


def _parse_json(text: str) -> dict[str, Any] | bool:
    def refuse(constant: str) -> Any:
        raise Problem(400, f"filter: {constant} is not a JSON number", param="filter")

    try:
        tree = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise Problem(400, f"filter is not JSON: at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                      param="filter", members={"position": {"line": exc.lineno, "column": exc.colno},
                                               "expected": exc.msg}) from None
    except RecursionError:
        raise Problem(400, f"filter is nested deeper than {MAX_NESTING} levels", param="filter") from None
    if _depth(tree) > MAX_NESTING:
        raise Problem(400, f"filter is nested deeper than {MAX_NESTING} levels", param="filter")
    try:
        expression = cql2.parse_json(text)
    except (cql2.ParseError, ValueError) as exc:
        raise _parse_problem(str(exc), "cql2-json") from None
    return expression.to_json()


def _depth(tree: Any, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(tree, dict):
        return max((_depth(v, level + 1) for v in tree.values()), default=level + 1)
    if isinstance(tree, list):
        # A geometry's coordinates nest a few lists deep at most; they count as one level.
        return max((_depth(v, level) for v in tree), default=level)
    return level


def _check_text_shape(text: str) -> None:
    """400 when the text nests deeper than :data:`MAX_NESTING` or joins more than :data:`MAX_JOINS` conditions
    (string literals and quoted names are skipped)."""
    depth = deepest = prefixes = joins = 0
    at = 0
    while at < len(text):
        char = text[at]
        if char in "'\"":  # a literal ('' stands for ') or a quoted name: nothing inside counts
            end = at + 1
            while end < len(text):
                if text[end] == char:
                    if char == "'" and text[end + 1:end + 2] == "'":
                        end += 2
                        continue
                    break
                end += 1
            at = end + 1
            continue
        if char == "(":
            depth += 1
            deepest = max(deepest, depth + prefixes)
        elif char == ")":
            depth -= 1
            prefixes = 0
        elif char == "-":
            prefixes += 1
            deepest = max(deepest, depth + prefixes)
        elif char.isalpha() or char == "_":
            word = _WORD.match(text, at)
            keyword = word.group(0).upper() if word else char
            if keyword == "NOT":
                prefixes += 1
                deepest = max(deepest, depth + prefixes)
            elif keyword in ("AND", "OR"):
                joins += 1
                prefixes = 0
            else:
                prefixes = 0
            at += len(keyword)
            continue
        elif not char.isspace():
            prefixes = 0
        at += 1
    if deepest > MAX_NESTING:
        raise Problem(400, f"filter is nested deeper than {MAX_NESTING} levels (parentheses, NOT, minus signs)",
                      param="filter")
    if joins > MAX_JOINS:
        raise Problem(400, f"filter joins more than {MAX_JOINS} conditions with AND / OR", param="filter")


def _parse_problem(message: str, lang: str) -> Problem:
    """The parser's message as a 400 naming the position and what was expected there."""
    position, expected = _POSITION.search(message), _EXPECTED.search(message)
    if position is None:
        return Problem(400, f"filter is not {lang}: {message.strip()[:200]}", param="filter")
    line, column = int(position.group(1)), int(position.group(2))
    wanted = expected.group(1).strip() if expected else "something else"
    return Problem(400, f"filter is not {lang}: at line {line}, column {column}: {wanted}", param="filter",
                   members={"position": {"line": line, "column": column}, "expected": wanted})


def map_geometries(expression: Any, convert: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """The expression with every geometry literal (GeoJSON, or ``{"bbox": …}``) passed through ``convert``: the
    filter's geometries from ``filter-crs`` to CRS84."""
    if isinstance(expression, list):
        return [map_geometries(item, convert) for item in expression]
    if not isinstance(expression, dict):
        return expression
    if ("type" in expression and "coordinates" in expression) or "bbox" in expression:
        return convert(expression)
    return {key: map_geometries(value, convert) for key, value in expression.items()}
