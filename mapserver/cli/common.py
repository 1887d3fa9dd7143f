"""Helpers shared by the ``mapserver`` subcommands: clean errors, settings and store from the context."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from mapserver.config import ConfigError, Settings, load_settings
from mapserver.errors import Problem
from mapserver.store import Store, StoreUnavailable, open_store


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors an operator can act on into one clean line instead of a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from mapserver import StartupError

        try:
            return command(*args, **kwargs)
        except (ConfigError, StoreUnavailable, StartupError, Problem) as exc:
            raise click.ClickException(str(exc)) from None

    return run


def context_settings(ctx: click.Context) -> Settings:
    """The settings named by the command's ``--config`` (or the default file)."""
    return load_settings(ctx.obj.get("config"))


def configured_store(settings: Settings, *, check_schema: bool = True) -> Store:
    """Open the store the settings name; unless ``check_schema`` is off (``mapserver init``), refuse one whose
    schema is not this program's, saying what to do (mostly: run ``mapserver init``), instead of failing on a missing
    table."""
    from mapserver.store.database import SCHEMA_VERSION
    from mapserver.store.migrations import schema_mismatch

    store = open_store(settings.store.url, pool_max=settings.store.pool_max,
                       connect_timeout_s=settings.store.connect_timeout_s)
    if check_schema and (mismatch := schema_mismatch(store.schema_version(), SCHEMA_VERSION, store.display_url)):
        store.close()
        raise click.ClickException(mismatch)
    return store
