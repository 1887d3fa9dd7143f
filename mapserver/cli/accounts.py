"""``mapserver user``: the people who log in — add, list, disable and enable, and change a password, role or
jurisdiction. Every change is written with its audit record (``cli:<os user>``) in one transaction; a bad role,
an unknown grid or a password the rules refuse stops the command with the reason, and nothing is written."""

from __future__ import annotations

import sys

import click

from mapserver import account_admin, audit
from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.jurisdiction import WHOLE
from mapserver.roles import ROLES
from mapserver.store import Store
from mapserver.store.accounts import Account, check_name

STDIN_HELP = "read the password from the first line of standard input instead of asking twice"


@click.group("user")
def user_command() -> None:
    """Manage the people who log in (accounts)."""


def _password(password_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a hidden prompt."""
    if password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("--password-stdin: standard input is empty; give the password on one line")
        return line.removesuffix("\n").removesuffix("\r")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _known(store: Store, name: str) -> Account:
    account = store.accounts.get(name)
    if account is None:
        raise click.ClickException(f"no account named '{name}' (see `mapserver user list`)")
    return account


@user_command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="what the person does")
@click.option("--grid", "grid_code", default=None,
              help="their jurisdiction: a street, community or compound grid code (default: the whole store)")
@click.option("--display-name", default="", help="the name shown on screen, e.g. 张三")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
@click.pass_context
@friendly_errors
def user_add(ctx: click.Context, name: str, role: str, grid_code: str | None, display_name: str,
             password_stdin: bool) -> None:
    """Add a person who logs in as NAME."""
    settings = context_settings(ctx)
    store = configured_store(settings)
    # Everything but the password is checked before it is asked for.
    check_name(name)
    account_admin.grant(store, WHOLE, grid_code)
    if store.accounts.get(name) is not None:
        raise click.ClickException(f"an account named '{name}' already exists (disabled names stay taken)")
    account_admin.create(store, settings.accounts, name=name, role=role, grid_code=grid_code,
                         password=_password(password_stdin), actor=audit.cli_actor(), display_name=display_name)
    click.echo(f"added {name} ({role}, {_grid_text(grid_code)})")


def _grid_text(grid_code: str | None) -> str:
    return "whole store" if grid_code is None else f"grid {grid_code}"


@user_command.command("list")
@click.pass_context
@friendly_errors
def user_list(ctx: click.Context) -> None:
    """List every person: name, role, jurisdiction, whether they may log in, display name."""
    accounts = configured_store(context_settings(ctx)).accounts.list()
    rows = [("NAME", "ROLE", "GRID", "ENABLED", "DISPLAY NAME")]
    rows += [(a.name, a.role, a.grid_code or "(whole store)", "yes" if a.enabled else "no", a.display_name)
             for a in accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    if not accounts:
        click.echo("(no accounts yet: `mapserver user add NAME --role admin`)")


def _update(ctx: click.Context, name: str, done: str, **change: object) -> None:
    store = configured_store(context_settings(ctx))
    account_admin.update(store, name, actor=audit.cli_actor(), **change)  # type: ignore[arg-type]
    click.echo(done)


@user_command.command("disable")
@click.argument("name")
@click.pass_context
@friendly_errors
def user_disable(ctx: click.Context, name: str) -> None:
    """Stop NAME from logging in, and end their sessions now."""
    _update(ctx, name, f"disabled {name}; their sessions are ended", enabled=False)


@user_command.command("enable")
@click.argument("name")
@click.pass_context
@friendly_errors
def user_enable(ctx: click.Context, name: str) -> None:
    """Let NAME log in again."""
    _update(ctx, name, f"enabled {name}", enabled=True)


@user_command.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
@friendly_errors
def user_set_role(ctx: click.Context, name: str, role: str) -> None:
    """Give NAME another ROLE (ends their sessions)."""
    _update(ctx, name, f"{name} is now {role}", role=role)


@user_command.command("set-grid")
@click.argument("name")
@click.argument("code", required=False)
@click.option("--whole", is_flag=True, help="the whole store instead of one grid")
@click.pass_context
@friendly_errors
def user_set_grid(ctx: click.Context, name: str, code: str | None, whole: bool) -> None:
    """Bind NAME to the grid CODE (a street, community or compound), or to the whole store with --whole
    (ends their sessions)."""
    if (code is not None) == whole:
        raise click.UsageError("give either a grid CODE or --whole")
    _update(ctx, name, f"{name}'s jurisdiction is now the {_grid_text(code)}", grid_code=code)


@user_command.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
@click.pass_context
@friendly_errors
def user_set_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Give NAME a new password (ends their sessions)."""
    settings = context_settings(ctx)
    store = configured_store(settings)
    _known(store, name)
    account_admin.set_password(store, settings.accounts, name, _password(password_stdin), actor=audit.cli_actor())
    click.echo(f"new password set for {name}; their sessions are ended")
