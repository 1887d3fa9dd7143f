"""The ``mapserver`` command: ``init``, ``serve``, ``token``, ``user``, ``roles`` (and more as features land)."""

from __future__ import annotations

import click

from mapserver.cli.accounts import user_command
from mapserver.cli.bulletin import bulletin_command
from mapserver.cli.common import configured_store, context_settings, friendly_errors
from mapserver.cli.data import export_command, import_command
from mapserver.cli.demo import demo_command
from mapserver.cli.lookup import check_grids_command, lookup_command, reassign_command
from mapserver.cli.patrol import patrol_command
from mapserver.cli.roles import roles_command
from mapserver.roles import ROLES


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="config file (default: $MAPSERVER_CONFIG or config.yaml)")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Map server for grid-governance command centres."""
    ctx.ensure_object(dict)["config"] = config


@main.command()
@click.pass_context
@friendly_errors
def init(ctx: click.Context) -> None:
    """Create the store's schema, or upgrade it in place."""
    settings = context_settings(ctx)
    store = configured_store(settings, check_schema=False)
    before = store.schema_version()
    after = store.migrate()
    word = "created" if before == 0 else ("upgraded" if after > before else "already current")
    click.echo(f"{store.display_url}: schema version {after} ({word})")
    store.close()


@main.command()
@click.option("--server", "kind", type=click.Choice(["gunicorn", "uwsgi"]), default=None,
              help="HTTP server (default: server.kind, gunicorn); uwsgi needs pip install 'mapserver[uwsgi]'")
@click.option("--host", default=None, help="address to listen on (default: server.host)")
@click.option("--port", type=int, default=None, help="port (default: server.port)")
@click.option("--workers", type=int, default=None, help="worker processes (default: server.workers)")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="request threads per worker (default: server.threads)")
@click.pass_context
@friendly_errors
def serve(ctx: click.Context, kind: str | None, host: str | None, port: int | None, workers: int | None,
          threads: int | None) -> None:
    """Serve the map and the API with gunicorn (or uWSGI)."""
    from mapserver import create_app
    from mapserver.serving import check_server, run_server

    settings = context_settings(ctx)
    kind = kind or settings.server.kind
    check_server(kind)  # before the app is made: a missing server is said at once
    app = create_app(settings)  # fails here, in the foreground, on a bad config or store
    host = host or settings.server.host
    port = port or settings.server.port
    click.echo(f"serving {app.extensions['mapserver'].store.display_url} on http://{host}:{port}/ with {kind}")
    run_server(app, kind=kind, bind=f"{host}:{port}", workers=workers or settings.server.workers,
               threads=threads or settings.server.threads)


@main.command()
@click.option("--ahead", type=click.IntRange(0, 24), default=2, show_default=True,
              help="months after this one whose partitions are made now")
@click.pass_context
@friendly_errors
def partitions(ctx: click.Context, ahead: int) -> None:
    """Upkeep of the incidents' monthly partitions (PostGIS; run it daily): make the coming months', move rows
    waiting in the default partition into theirs, and detach months older than store.incident_retention_months
    into the archive schema."""
    from datetime import UTC, datetime

    settings = context_settings(ctx)
    store = configured_store(settings)
    try:
        done = store.incidents.keep_months(now=datetime.now(UTC), ahead=ahead,
                                           retention_months=settings.store.incident_retention_months)
    finally:
        store.close()
    if store.kind != "postgis":
        click.echo(f"{store.display_url}: one table holds every month (partitions are PostGIS's); nothing to do")
        return
    click.echo(f"made: {', '.join(done.made) or 'none'}")
    click.echo("archived: " + (", ".join(f"{y:04d}-{m:02d}" for y, m in done.archived) or "none"))


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="who or what holds it, e.g. wall-1")
@click.option("--grid", "grid_code", default=None,
              help="its jurisdiction: a street, community or compound grid code (default: the whole store)")
@click.pass_context
@friendly_errors
def token_create(ctx: click.Context, role: str, name: str, grid_code: str | None) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from mapserver import audit
    from mapserver.account_admin import grant
    from mapserver.auth import hash_token, new_token
    from mapserver.jurisdiction import WHOLE

    store = configured_store(context_settings(ctx))
    grant(store, WHOLE, grid_code)
    secret = new_token()
    with store.transaction():
        store.tokens.add(name=name, role=role, token_hash=hash_token(secret), grid_code=grid_code)
        audit.record(store, actor=audit.cli_actor(), action="token.create", target=name,
                     detail={"role": role, "grid": grid_code})
    click.echo(secret)


@token.command("list")
@click.pass_context
@friendly_errors
def token_list(ctx: click.Context) -> None:
    """List live tokens: name, role, grid (- for the whole store), created; never the tokens."""
    for item in configured_store(context_settings(ctx)).tokens.live():
        click.echo(f"{item.name}\t{item.role}\t{item.grid_code or '-'}\t{item.created_at.isoformat()}")


@token.command("revoke")
@click.argument("name")
@click.pass_context
@friendly_errors
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke a token by name."""
    from mapserver import audit

    store = configured_store(context_settings(ctx))
    with store.transaction():
        if not store.tokens.revoke(name=name):
            raise click.ClickException(f"no live token named '{name}'")
        audit.record(store, actor=audit.cli_actor(), action="token.revoke", target=name, detail={})
    click.echo(f"revoked {name}")


main.add_command(import_command)
main.add_command(export_command)
main.add_command(demo_command)
main.add_command(lookup_command)
main.add_command(check_grids_command)
main.add_command(reassign_command)
main.add_command(patrol_command)
main.add_command(bulletin_command)
main.add_command(user_command)
main.add_command(roles_command)
