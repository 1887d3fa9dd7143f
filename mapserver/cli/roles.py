"""``mapserver roles``: the role table (:mod:`mapserver.roles`) over every route the server serves, as the
Markdown table the README prints (``tests/test_readme_roles.py`` checks that they are the same)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import click

from mapserver.cli.common import context_settings, friendly_errors
from mapserver.roles import ROLES, table_rows

if TYPE_CHECKING:
    from flask import Flask

METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


def route_rows(app: Flask) -> list[tuple[str, str, list[str]]]:
    """(method, rule, roles) of every route of ``app`` but HEAD and OPTIONS (which follow GET), by rule."""
    endpoints = [(rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                 for method in rule.methods or () if method not in ("HEAD", "OPTIONS")]
    endpoints.sort(key=lambda e: (e[2], METHOD_ORDER.index(e[1]) if e[1] in METHOD_ORDER else len(METHOD_ORDER)))
    return table_rows(endpoints)


def _path(rule: str) -> str:
    """A URL rule as people read it: ``<int:id>`` → ``{id}``, ``<any("a", "b"):kind>`` → ``{a,b}``."""
    def variable(match: re.Match[str]) -> str:
        converter, arguments, name = match.groups()
        if converter == "any" and arguments:
            return "{" + ",".join(a.strip().strip("'\"") for a in arguments.split(",")) + "}"
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+)(?:\((.*?)\))?:)?(\w+)>", variable, rule)


def _roles_text(roles: list[str]) -> str:
    if roles == ["anyone"]:
        return "anyone, without logging in"
    if not roles:
        return "nobody (not in the role table)"
    return "every role" if set(roles) == set(ROLES) else ", ".join(roles)


def markdown_table(app: Flask) -> str:
    """The README's table of who may call what: method, path, roles; one line per route and method."""
    lines = ["| method | path | roles |", "|---|---|---|"]
    lines += [f"| {method} | `{_path(rule)}` | {_roles_text(roles)} |" for method, rule, roles in route_rows(app)]
    return "\n".join(lines) + "\n"


@click.command("roles")
@click.pass_context
@friendly_errors
def roles_command(ctx: click.Context) -> None:
    """Print who may call each route (method, path, roles) as a Markdown table, for the README."""
    from mapserver import create_app

    click.echo(markdown_table(create_app(context_settings(ctx))), nl=False)
