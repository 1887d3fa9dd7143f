"""The ``mapserver`` command: ``init``, ``serve``, ``token`` (and more as features land)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from mapserver.config import ConfigError, Settings, load_settings
from mapserver.errors import Problem
from mapserver.store import Store, StoreUnavailable, open_store


def _friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors an operator can act on into one clean line instead of a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from mapserver import StartupError

        try:
            return command(*args, **kwargs)
        except (ConfigError, StoreUnavailable, StartupError, Problem) as exc:
            raise click.ClickException(str(exc)) from None

    return run


def _settings(ctx: click.Context) -> Settings:
    return load_settings(ctx.obj.get("config"))


def _store(settings: Settings) -> Store:
    return open_store(settings.store.url, pool_max=settings.store.pool_max,
                      connect_timeout_s=settings.store.connect_timeout_s)


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="config file (default: $MAPSERVER_CONFIG or config.yaml)")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Map server for grid-governance command centres."""
    ctx.ensure_object(dict)["config"] = config


@main.command()
@click.pass_context
@_friendly
def init(ctx: click.Context) -> None:
    """Create the store's schema, or upgrade it in place."""
    settings = _settings(ctx)
    store = _store(settings)
    before = store.schema_version()
    after = store.migrate()
    word = "created" if before == 0 else ("upgraded" if after > before else "already current")
    click.echo(f"{store.display_url}: schema version {after} ({word})")
    store.close()


@main.command()
@click.option("--host", default=None, help="address to listen on (default: server.host)")
@click.option("--port", type=int, default=None, help="port (default: server.port)")
@click.option("--workers", type=int, default=None, help="worker processes (default: server.workers)")
@click.pass_context
@_friendly
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the map and the API with gunicorn."""
    from mapserver import create_app
    from mapserver.serving import run_gunicorn

    settings = _settings(ctx)
    app = create_app(settings)  # fails here, in the foreground, on a bad config or store
    host = host or settings.server.host
    port = port or settings.server.port
    click.echo(f"serving {app.extensions['mapserver'].store.display_url} on http://{host}:{port}/")
    run_gunicorn(app, bind=f"{host}:{port}", workers=workers or settings.server.workers)


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), required=True)
@click.option("--name", required=True, help="who or what holds it, e.g. wall-1")
@click.pass_context
@_friendly
def token_create(ctx: click.Context, role: str, name: str) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from mapserver.auth import hash_token, new_token

    store = _store(_settings(ctx))
    secret = new_token()
    store.add_token(name=name, role=role, token_hash=hash_token(secret))
    click.echo(secret)


@token.command("list")
@click.pass_context
@_friendly
def token_list(ctx: click.Context) -> None:
    """List live tokens (names and roles; never the tokens)."""
    for item in _store(_settings(ctx)).tokens():
        click.echo(f"{item.name}\t{item.role}\t{item.created_at.isoformat()}")


@token.command("revoke")
@click.argument("name")
@click.pass_context
@_friendly
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke a token by name."""
    if not _store(_settings(ctx)).revoke_token(name=name):
        raise click.ClickException(f"no live token named '{name}'")
    click.echo(f"revoked {name}")


# Commands kept in modules of their own; imported last because they use the helpers above.
from mapserver.cli_data import export_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(export_command)
